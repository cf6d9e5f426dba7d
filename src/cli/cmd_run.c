/* cmd_run.c — `flowgate run`: builds the run configuration (defaults <
 * environment < category < --config file < flags), runs the matrix of
 * cells (size × concurrency × scheduler) through the runner, prints one
 * line per experiment, then checks the thresholds.
 *
 * `scale` runs large_input, high_concurrency and extreme in sequence into
 * one scale_experiment_results_<id>.json; `test` is smoke. Ctrl-C ends the
 * current experiment early (its unfinished requests are reported as
 * interrupted) and keeps every finished one; a second Ctrl-C kills.
 * Exit: 0 all thresholds pass, 1 a threshold failed (or interrupted),
 * 2 bad input or setup. */
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "flowgate/config.h"
#include "flowgate/engine.h"
#include "flowgate/sched.h"
#include "flowgate/thresholds.h"

#define MAX_THRESHOLDS 64

typedef struct run_flags {
    const char *config, *endpoints, *schedulers, *sizes, *concurrency, *variant;
    const char *results_dir, *nodes, *profile;
    int requests, warmup, repeats, retries;   /* -1: not given */
    double rate, duration, timeout;           /* < 0: not given */
    int inline_data, no_thresholds;
} run_flags;

static void usage(FILE *out)
{
    fprintf(out,
        "usage: flowgate run [standard|large_input|high_concurrency|extreme|scale|smoke|test]\n"
        "                    [--config F] [--endpoints F] [--schedulers a,b] [--sizes 0.1,1]\n"
        "                    [--concurrency 1,5] [--requests N] [--warmup N]\n"
        "                    [--rate R --duration S] [--timeout S] [--retries N] [--inline]\n"
        "                    [--variant clean|adult|violence|illegal_text] [--repeats N]\n"
        "                    [--results-dir D] [--nodes F] [--profile F] [--no-thresholds]\n"
        "\n"
        "Runs the category's matrix (default standard) against the endpoints, or against\n"
        "embedded nodes started from data/nodes.json. Precedence: defaults < environment <\n"
        "category < --config file < flags. `scale` runs large_input, high_concurrency and\n"
        "extreme into one scale_experiment_results_<id>.json; `test` is smoke.\n"
        "--rate/--duration switch to an open loop (latency from the intended send time).\n"
        "Exit: 0 thresholds pass, 1 a threshold failed or the run was interrupted, 2 bad\n"
        "input or setup.\n");
}

static int parse_int(const char *flag, const char *s, int min, int *out, fg_err *err)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < min || v > 1000000000L)
        return fg_err_set(err, "%s: '%s' is not an integer >= %d", flag, s, min);
    *out = (int)v;
    return 0;
}

static int parse_double(const char *flag, const char *s, double *out, fg_err *err)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !isfinite(v) || v <= 0)
        return fg_err_set(err, "%s: '%s' is not a number > 0", flag, s);
    *out = v;
    return 0;
}

/* Comma-separated list; each item goes to `one`. */
static int each_item(const char *flag, const char *list, int max,
                     int (*one)(const char *flag, const char *item, int i, void *ctx),
                     void *ctx, int *count, fg_err *err)
{
    char buf[512];
    if (snprintf(buf, sizeof buf, "%s", list) >= (int)sizeof buf)
        return fg_err_set(err, "%s: list too long", flag);
    int n = 0;
    for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok;
         tok = strtok_r(NULL, ",", &save)) {
        if (n == max) return fg_err_set(err, "%s: more than %d items", flag, max);
        if (one(flag, tok, n, ctx) != 0) return -1;
        n++;
    }
    if (n == 0) return fg_err_set(err, "%s: empty list", flag);
    *count = n;
    return 0;
}

static fg_err *item_err;   /* the error of the list being parsed */

static int size_item(const char *flag, const char *item, int i, void *ctx)
{
    return parse_double(flag, item, &((fg_run_config *)ctx)->sizes_mb[i], item_err);
}

static int conc_item(const char *flag, const char *item, int i, void *ctx)
{
    return parse_int(flag, item, 1, &((fg_run_config *)ctx)->concurrency[i], item_err);
}

static int sched_item(const char *flag, const char *item, int i, void *ctx)
{
    fg_run_config *c = ctx;
    if (snprintf(c->schedulers[i], sizeof c->schedulers[i], "%s", item) >=
        (int)sizeof c->schedulers[i])
        return fg_err_set(item_err, "%s: '%s' is too long", flag, item);
    return 0;
}

static int copy_path(char *dst, size_t size, const char *flag, const char *src, fg_err *err)
{
    if ((size_t)snprintf(dst, size, "%s", src) >= size)
        return fg_err_set(err, "%s: path too long", flag);
    return 0;
}

static int apply_flags(fg_run_config *c, const run_flags *f, fg_err *err)
{
    item_err = err;
    if (f->sizes && each_item("--sizes", f->sizes, FG_MAX_CELLS_AXIS, size_item, c,
                              &c->n_sizes, err) != 0)
        return -1;
    if (f->concurrency && each_item("--concurrency", f->concurrency, FG_MAX_CELLS_AXIS,
                                    conc_item, c, &c->n_concurrency, err) != 0)
        return -1;
    if (f->schedulers && each_item("--schedulers", f->schedulers, FG_MAX_SCHEDULERS,
                                   sched_item, c, &c->n_schedulers, err) != 0)
        return -1;
    if (f->endpoints && copy_path(c->endpoints, sizeof c->endpoints, "--endpoints", f->endpoints, err)) return -1;
    if (f->results_dir && copy_path(c->results_dir, sizeof c->results_dir, "--results-dir", f->results_dir, err)) return -1;
    if (f->nodes && copy_path(c->nodes_profile, sizeof c->nodes_profile, "--nodes", f->nodes, err)) return -1;
    if (f->profile && copy_path(c->profile, sizeof c->profile, "--profile", f->profile, err)) return -1;
    if (f->variant && fg_variant_parse(f->variant, &c->variant) != 0)
        return fg_err_set(err, "--variant: unknown variant '%s' (known: clean, adult, violence, "
                          "illegal_text)", f->variant);
    if (f->requests >= 0) c->requests = f->requests;
    if (f->warmup >= 0) c->warmup = f->warmup;
    if (f->repeats >= 0) c->repeats = f->repeats;
    if (f->retries >= 0) c->retries = f->retries;
    if (f->timeout > 0) c->timeout_s = f->timeout;
    if (f->rate > 0) c->rate_rps = f->rate;
    if (f->duration > 0) c->duration_s = f->duration;
    if (f->inline_data) c->inline_data = 1;
    if (c->rate_rps > 0 && !(c->duration_s > 0))
        return fg_err_set(err, "--rate needs --duration (seconds of open-loop load)");
    return 0;
}

static int build_config(const char *category, const run_flags *f, fg_run_config *c, fg_err *err)
{
    fg_config_defaults(c);
    if (fg_config_apply_env(c, err) != 0) return -1;
    if (fg_config_apply_category(c, category, err) != 0) return -1;
    if (f->config && fg_config_apply_file(c, f->config, err) != 0) return -1;
    return apply_flags(c, f, err);
}

static int check_schedulers(const fg_run_config *c, fg_err *err)
{
    for (int i = 0; i < c->n_schedulers; i++) {
        int known = 0;
        for (int k = 0; fg_sched_names[k]; k++)
            if (!strcmp(fg_sched_names[k], c->schedulers[i])) known = 1;
        if (!known) {
            char names[256] = "";
            for (int k = 0; fg_sched_names[k]; k++) {
                size_t len = strlen(names);
                snprintf(names + len, sizeof names - len, "%s%s", k ? ", " : "", fg_sched_names[k]);
            }
            return fg_err_set(err, "unknown scheduler '%s' (known: %s)", c->schedulers[i], names);
        }
    }
    if (c->n_schedulers == 0) return fg_err_set(err, "no scheduler configured");
    return 0;
}

static void fmt_ms(char *out, size_t size, const cJSON *stats, const char *field)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(stats, field);
    if (cJSON_IsNumber(v)) snprintf(out, size, "%.1f ms", v->valuedouble);
    else snprintf(out, size, "n/a");
}

static int count_of(const cJSON *obj, const char *field)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, field);
    return cJSON_IsNumber(v) ? v->valueint : 0;
}

static void print_summary(const cJSON *e)
{
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(e, "experiment_id");
    const cJSON *req = cJSON_GetObjectItemCaseSensitive(e, "requests");
    const cJSON *lat = cJSON_GetObjectItemCaseSensitive(e, "latency_ms");
    const cJSON *rate = cJSON_GetObjectItemCaseSensitive(e, "success_rate");
    const cJSON *tput = cJSON_GetObjectItemCaseSensitive(e, "throughput_rps");
    int repeat = count_of(e, "repeat");
    char pct[32], p50[32], p95[32], thr[32], rep[16] = "";
    if (cJSON_IsNumber(rate)) snprintf(pct, sizeof pct, "%.1f %%", rate->valuedouble * 100);
    else snprintf(pct, sizeof pct, "n/a");
    fmt_ms(p50, sizeof p50, lat, "p50");
    fmt_ms(p95, sizeof p95, lat, "p95");
    if (cJSON_IsNumber(tput)) snprintf(thr, sizeof thr, "%.2f wf/s", tput->valuedouble);
    else snprintf(thr, sizeof thr, "n/a");
    if (repeat > 0) snprintf(rep, sizeof rep, " #%d", repeat);
    printf("%s%s  ok %d/%d (%s)  p50 %s  p95 %s  throughput %s",
           cJSON_IsString(id) ? id->valuestring : "?", rep, count_of(req, "ok"),
           count_of(req, "sent"), pct, p50, p95, thr);
    if (count_of(req, "failed")) printf("  failed %d", count_of(req, "failed"));
    if (count_of(req, "timed_out")) printf("  timed out %d", count_of(req, "timed_out"));
    if (count_of(req, "interrupted")) printf("  interrupted %d", count_of(req, "interrupted"));
    printf("\n");
    fflush(stdout);
}

/* Prints each failed threshold; returns how many failed, -1 on a bad document. */
static int check_thresholds(const cJSON *doc, const cJSON *results, fg_err *err)
{
    int failed = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(results, "experiments")) {
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(e, "experiment_id");
        const cJSON *cat = cJSON_GetObjectItemCaseSensitive(e, "category");
        if (!cJSON_IsString(id) || !cJSON_IsString(cat)) continue;
        fg_threshold ts[MAX_THRESHOLDS];
        fg_threshold_verdict vs[MAX_THRESHOLDS];
        int n = fg_thresholds_for(doc, cat->valuestring, id->valuestring, ts, MAX_THRESHOLDS, err);
        if (n < 0) return -1;
        fg_thresholds_eval(ts, n, e, vs);
        for (int i = 0; i < n; i++) {
            if (vs[i].pass) continue;
            failed++;
            char actual[32];
            if (isnan(vs[i].actual)) snprintf(actual, sizeof actual, "missing");
            else snprintf(actual, sizeof actual, "%.1f", vs[i].actual);
            printf("FAIL %s %s = %s, limit %s %g\n", id->valuestring, vs[i].t.metric, actual,
                   fg_cmp_symbol(vs[i].t.cmp), vs[i].t.limit);
        }
    }
    return failed;
}

static void on_sigint(int sig)
{
    (void)sig;
    fg_engine_request_stop();
}

static int parse_args(int argc, char **argv, const char **category, run_flags *f, fg_err *err)
{
    memset(f, 0, sizeof *f);
    f->requests = f->warmup = f->repeats = f->retries = -1;
    f->rate = f->duration = f->timeout = -1;
    *category = "standard";
    int have_category = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
#define NEED_VALUE() do { if (!v) return fg_err_set(err, "%s needs a value", a); i++; } while (0)
#define STR_FLAG(name, field) \
        if (!strcmp(a, name)) { \
            NEED_VALUE(); \
            f->field = v; \
            continue; \
        }
#define INT_FLAG(name, field, min) \
        if (!strcmp(a, name)) { \
            NEED_VALUE(); \
            if (parse_int(a, v, min, &f->field, err)) return -1; \
            continue; \
        }
#define NUM_FLAG(name, field) \
        if (!strcmp(a, name)) { \
            NEED_VALUE(); \
            if (parse_double(a, v, &f->field, err)) return -1; \
            continue; \
        }
        STR_FLAG("--config", config)
        STR_FLAG("--endpoints", endpoints)
        STR_FLAG("--schedulers", schedulers)
        STR_FLAG("--sizes", sizes)
        STR_FLAG("--concurrency", concurrency)
        STR_FLAG("--variant", variant)
        STR_FLAG("--results-dir", results_dir)
        STR_FLAG("--nodes", nodes)
        STR_FLAG("--profile", profile)
        INT_FLAG("--requests", requests, 1)
        INT_FLAG("--warmup", warmup, 0)
        INT_FLAG("--repeats", repeats, 1)
        INT_FLAG("--retries", retries, 0)
        NUM_FLAG("--rate", rate)
        NUM_FLAG("--duration", duration)
        NUM_FLAG("--timeout", timeout)
#undef STR_FLAG
#undef INT_FLAG
#undef NUM_FLAG
#undef NEED_VALUE
        if (!strcmp(a, "--inline")) { f->inline_data = 1; continue; }
        if (!strcmp(a, "--no-thresholds")) { f->no_thresholds = 1; continue; }
        if (a[0] == '-') return fg_err_set(err, "unknown option '%s' (flowgate run --help)", a);
        if (have_category) return fg_err_set(err, "more than one category ('%s')", a);
        *category = a;
        have_category = 1;
    }
    if (!strcmp(*category, "test")) *category = "smoke";
    return 0;
}

/* Runs every cell of one category's matrix; -1 on a setup error. */
static int run_matrix(fg_runner *r, const fg_run_config *c, fg_err *err)
{
    fg_runner_set_category(r, c->category);
    for (int s = 0; s < c->n_sizes; s++)
        for (int k = 0; k < c->n_concurrency; k++)
            for (int j = 0; j < c->n_schedulers; j++) {
                if (fg_engine_stop_requested()) return 0;
                const cJSON *results = fg_runner_results(r);
                int before = cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(results, "experiments"));
                const cJSON *entry;
                int rc = fg_runner_cell(r, c->sizes_mb[s], c->concurrency[k], c->schedulers[j],
                                        &entry, err);
                const cJSON *exps = cJSON_GetObjectItemCaseSensitive(results, "experiments");
                for (int i = before; i < cJSON_GetArraySize(exps); i++)
                    print_summary(cJSON_GetArrayItem(exps, i));
                if (rc != 0) return -1;
            }
    return 0;
}

int cmd_run(int argc, char **argv)
{
    for (int i = 1; i < argc; i++)
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            usage(stdout);
            return 0;
        }
    fg_err err = {{0}};
    const char *category;
    run_flags flags;
    if (parse_args(argc, argv, &category, &flags, &err) != 0) {
        fprintf(stderr, "flowgate run: %s\n", err.msg);
        return 2;
    }
    static const char *const scale_parts[] = {"large_input", "high_concurrency", "extreme"};
    int scale = !strcmp(category, "scale");
    int n_parts = scale ? 3 : 1;
    fg_run_config parts[3];
    for (int i = 0; i < n_parts; i++)
        if (build_config(scale ? scale_parts[i] : category, &flags, &parts[i], &err) != 0 ||
            check_schedulers(&parts[i], &err) != 0) {
            fprintf(stderr, "flowgate run: %s\n", err.msg);
            return 2;
        }
    fg_run_config run_cfg = parts[0];
    if (scale) {
        snprintf(run_cfg.category, sizeof run_cfg.category, "scale");
        run_cfg.scale_prefix = 1;
    }
    fg_log_threshold = run_cfg.log_level;

    cJSON *thresholds = NULL;
    if (!flags.no_thresholds && run_cfg.thresholds[0]) {
        /* Checked before the run, so a typo costs nothing. */
        thresholds = fg_thresholds_load(run_cfg.thresholds, &err);
        if (!thresholds) {
            fprintf(stderr, "flowgate run: thresholds: %s\n", err.msg);
            return 2;
        }
    }

    fg_runner *r = fg_runner_open(&run_cfg, &err);
    if (!r) {
        fprintf(stderr, "flowgate run: %s\n", err.msg);
        cJSON_Delete(thresholds);
        return 2;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigint;
    sa.sa_flags = SA_RESETHAND;   /* a second Ctrl-C kills */
    sigemptyset(&sa.sa_mask);
    struct sigaction old;
    sigaction(SIGINT, &sa, &old);

    int status = 0;
    for (int i = 0; i < n_parts && status == 0; i++)
        if (run_matrix(r, &parts[i], &err) != 0) {
            fprintf(stderr, "flowgate run: %s\n", err.msg);
            status = 2;
        }
    int interrupted = fg_engine_stop_requested();
    sigaction(SIGINT, &old, NULL);

    const cJSON *results = fg_runner_results(r);
    int n_exps = cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(results, "experiments"));
    if (status == 0 && thresholds) {
        int failed = check_thresholds(thresholds, results, &err);
        if (failed < 0) {
            fprintf(stderr, "flowgate run: thresholds: %s\n", err.msg);
            status = 2;
        } else if (failed > 0) {
            printf("%d threshold%s failed\n", failed, failed == 1 ? "" : "s");
            status = 1;
        } else if (n_exps > 0) {
            printf("all thresholds pass\n");
        }
    }
    if (interrupted && status == 0) {
        printf("interrupted: unfinished requests are reported as interrupted\n");
        status = 1;
    }
    char path[1024];
    snprintf(path, sizeof path, "%s", fg_runner_results_path(r));
    if (fg_runner_close(r, &err) != 0) {
        fprintf(stderr, "flowgate run: %s\n", err.msg);
        status = 2;
    } else if (n_exps > 0) {
        printf("results: %s\n", path);
    }
    cJSON_Delete(thresholds);
    return status;
}
