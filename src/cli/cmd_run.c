/* cmd_run.c — `flowgate run`: builds the run configuration (defaults <
 * environment < category < --config file < flags), runs the matrix of
 * cells (size × concurrency × scheduler) through the runner, prints one
 * line per experiment, then checks the thresholds.
 *
 * `scale` runs large_input, high_concurrency and extreme in sequence into
 * one scale_experiment_results_<id>.json; `test` is smoke. Ctrl-C (or
 * SIGTERM) ends the current experiment early (its unfinished requests are
 * reported as interrupted), keeps every finished one and stops the embedded
 * server; a second one kills.
 * The results file exists (valid JSON, run.interrupted) from the moment
 * the endpoints are healthy, so even a run stopped before its first cell
 * leaves one; an interrupted run never prints "all thresholds pass".
 * Exit: 0 all thresholds pass, 1 a threshold failed or the run was
 * interrupted (also during the health wait), 2 bad input or setup, 3 no
 * check failed but some were inconclusive because other processes took
 * more of the machine than the bounds allow (thresholds.h);
 * --inconclusive=pass (config "inconclusive", FLOWGATE_INCONCLUSIVE) makes
 * that 0. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "run_flags.h"
#include "flowgate/config.h"
#include "flowgate/engine.h"
#include "flowgate/runner.h"
#include "flowgate/sched.h"
#include "flowgate/report.h"
#include "flowgate/thresholds.h"
#include "flowgate/stop.h"


/* The shared flags (run_flags.h) and the one of run alone. */
typedef struct cmd_flags {
    run_flags run;
    int no_thresholds;
    int override;              /* scenarios: rerun cells an earlier run holds */
    int ci;                    /* scenarios: the file's scaled-down "ci" settings */
    const char *scenario;      /* scenarios: only this one */
} cmd_flags;

static void usage(FILE *out)
{
    fprintf(out,
        "usage: flowgate run [standard|large_input|high_concurrency|extreme|scale|smoke|test|single]\n"
        "       flowgate run scenarios [NAME] [--override] [--ci] [flags]\n"
        "                    [--config F] [--endpoints F] [--schedulers a,b] [--sizes 0.1,1]\n"
        "                    [--concurrency 1,5] [--requests N] [--warmup N] [--warmup-s S]\n"
        "                    [--rate R --duration S [--max-inflight N]\n"
        "                     [--arrival constant|poisson] [--seed N]] [--timeout S]\n"
        "                    [--bandwidth-mbit X] [--latency-ms Y]\n"
        "                    [--retries N] [--inline] [--repeats N]\n"
        "                    [--variant %s]\n"
        "                    [--results-dir D] [--nodes F] [--server-bin F] [--profile F]\n"
        "                    [--workflow F] [--data-dir D] [--no-thresholds]\n"
        "                    [--inconclusive=fail|pass]\n"
        "\n"
        "Runs the category's matrix (default standard) against the endpoints, or against\n"
        "embedded nodes started from data/nodes.json. Precedence: defaults < environment <\n"
        "category < --config file < flags. `scale` runs large_input, high_concurrency and\n"
        "extreme into one scale_experiment_results_<id>.json; `test` is smoke; `single`\n"
        "is one cell at $DEFAULT_INPUT_SIZE (1.0) x $DEFAULT_CONCURRENCY (5).\n"
        "`scenarios` runs data/scenarios.json (or one scenario by NAME): each cell R times\n"
        "(--repeats, $FLOWGATE_REPLICATES), mean, sd and 95 %% CI per cell; cells the latest\n"
        "scenarios results already hold (same identity) are kept, --override reruns them;\n"
        "--ci: the file's scaled-down \"ci\" settings (the ctest run).\n"
        "--workflow picks the workflow file (default data/workflows/recognizer.json); one\n"
        "whose payload is JSON or a file has no size axis: one cell per concurrency.\n"
        "--data-dir D: the system's data files come from D (nodes file, workflow and\n"
        "thresholds unless given, the embedded server's dictionary and censor list); the\n"
        "matrix and the generated images stay this data directory's.\n"
        "--rate/--duration switch to an open loop (latency from the intended send time);\n"
        "--max-inflight caps its instances in flight (default 1024); --arrival poisson draws\n"
        "exponential gaps from --seed (default %llu, recorded in the results).\n"
        "--bandwidth-mbit/--latency-ms set every node's egress link (one shared token bucket\n"
        "per node) and added latency: the embedded server's, or by PUT /link those of\n"
        "flowgate-functions nodes named by --endpoints (restored after). Without --requests a\n"
        "cell measures at least 20 requests (p95 needs 20 samples) and at least C.\n"
"Time and rate bounds are widened by the contention measured during each cell\n"
        "(other processes' share of the cores, x 1/(1 - share), share capped at 0.25);\n"
        "beyond 0.25 a failing time or rate check is inconclusive, not failed.\n"
        "Exit: 0 thresholds pass, 1 a threshold failed or the run was interrupted, 2 bad\n"
        "input or setup, 3 inconclusive (machine busy; --inconclusive=pass makes it 0).\n", fg_variant_list("|", (char[96]){""}, 96), (unsigned long long)FG_ARRIVAL_DEFAULT_SEED);
}

static int build_config(const char *category, const cmd_flags *f, fg_run_config *c, fg_err *err)
{
    if (run_flags_apply(&f->run, category, c, err) != 0) return -1;
    return fg_config_check(c, err);
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

void run_print_summary(const cJSON *e)
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
    /* The critical path's largest part (attribution.h): where time went. */
    const cJSON *b = cJSON_GetObjectItemCaseSensitive(e, "bottleneck");
    const cJSON *dom = cJSON_GetObjectItemCaseSensitive(b, "dominant");
    const cJSON *share = cJSON_IsString(dom)
        ? cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(b, "share"),
                                           dom->valuestring) : NULL;
    if (cJSON_IsNumber(share))
        printf("  bound by %s (%.0f %%)", dom->valuestring, share->valuedouble * 100);
    /* Saturated: the slot wait hides the cause, which is the service's. */
    const cJSON *service = cJSON_GetObjectItemCaseSensitive(b, "service_dominant");
    if (cJSON_IsNumber(share) && cJSON_IsString(service) && strcmp(service->valuestring, dom->valuestring))
        printf(", service bound by %s", service->valuestring);
    /* Measured contention (noise.h): what the time bounds are widened by. */
    const cJSON *busy = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(e, "noise"), "foreign_cpu_share");
    if (cJSON_IsNumber(busy)) printf("  other processes %.0f %%", busy->valuedouble * 100);
    printf("\n");
    fflush(stdout);
}

/* The threshold table — the same report the suites write: printed, and
 * saved as results/thresholds_<run-id>.md. Returns the number of failed
 * checks, -1 on a bad document. */
int run_report_thresholds(const cJSON *doc, cJSON *results, const char *dir, fg_outcome *outcome,
                          fg_err *err)
{
    fg_threshold_table t;
    memset(&t, 0, sizeof t);
    char path[1024];
    *outcome = FG_OUTCOME_FAIL;
    int rc = fg_report_thresholds(results, doc, &t, err);
    if (rc == 0) rc = fg_report_write_thresholds(&t, results, dir, path, sizeof path, err);
    if (rc == 0) {
        fputs(t.text, stdout);
        printf("threshold table: %s\n", path);
        fg_report_mark_outcomes(&t, results);
        *outcome = t.outcome;
        rc = t.failed;
    }
    fg_threshold_table_free(&t);
    return rc;
}

static void on_stop_signal(int sig)
{
    (void)sig;
    fg_stop_request();
}

void run_catch_stop(struct sigaction *old_int, struct sigaction *old_term)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop_signal;
    sa.sa_flags = SA_RESETHAND;   /* a second Ctrl-C kills */
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, old_int);
    sigaction(SIGTERM, &sa, old_term);
}

/* The end of a run: the threshold table of what ran, the interrupted
 * verdict, the results file closed. Returns the exit status. */
int run_finish(fg_runner *r, const cJSON *thresholds, const char *results_dir, int interrupted,
               int status, int inconclusive_pass)
{
    fg_err err = {{0}};
    /* run.interrupted is set in the document the table is made from, so
     * the table of an interrupted run does not read as a pass. The
     * outcomes are written into it (the runner saves it on close). */
    cJSON *results = (cJSON *)fg_runner_results(r);
    int n_exps = cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(results, "experiments"));
    if (status == 0 && thresholds && n_exps > 0) {
        fg_outcome outcome;
        int failed = run_report_thresholds(thresholds, results, results_dir, &outcome, &err);
        if (failed < 0) {
            fprintf(stderr, "flowgate run: thresholds: %s\n", err.msg);
            status = 2;
        } else if (failed > 0) {
            printf("%d threshold%s failed\n", failed, failed == 1 ? "" : "s");
            status = 1;
        } else if (outcome == FG_OUTCOME_INCONCLUSIVE) {
            status = fg_outcome_exit(outcome, inconclusive_pass);
            printf("inconclusive: the machine was too busy to judge some time bounds (no "
                   "check failed); %s\n", inconclusive_pass ? "--inconclusive=pass: exit 0"
                                                          : "exit 3 (--inconclusive=pass: 0)");
        } else if (!interrupted) {
            printf("all thresholds pass\n");
        }
    }
    if (interrupted && status != 2) {
        if (n_exps == 0)
            printf("interrupted before the first cell finished: no threshold verdict\n");
        else
            printf("interrupted: no verdict for the cells not run; unfinished requests are "
                   "reported as interrupted\n");
        status = 1;
    }
    char path[1024];
    snprintf(path, sizeof path, "%s", fg_runner_results_path(r));
    if (fg_runner_close(r, &err) != 0) {
        fprintf(stderr, "flowgate run: %s\n", err.msg);
        status = 2;
    } else {
        printf("results: %s\n", path);
    }
    return status;
}

static int parse_args(int argc, char **argv, const char **category, cmd_flags *f, fg_err *err)
{
    memset(f, 0, sizeof *f);
    run_flags_init(&f->run);
    *category = "standard";
    int have_category = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int taken = run_flags_take(&f->run, argc, argv, &i, err);
        if (taken < 0) return -1;
        if (taken) continue;
        if (!strcmp(a, "--no-thresholds")) { f->no_thresholds = 1; continue; }
        if (!strcmp(a, "--override")) { f->override = 1; continue; }
        if (!strcmp(a, "--ci")) { f->ci = 1; continue; }
        if (a[0] == '-') return fg_err_set(err, "unknown option '%s' (flowgate run --help)", a);
        if (have_category && !strcmp(*category, "scenarios") && !f->scenario) {
            f->scenario = a;
            continue;
        }
        if (have_category) return fg_err_set(err, "more than one category ('%s')", a);
        *category = a;
        have_category = 1;
    }
    if (!strcmp(*category, "test")) *category = "smoke";
    if ((f->override || f->ci) && strcmp(*category, "scenarios"))
        return fg_err_set(err, "%s is for scenarios; it needs the scenarios category",
                          f->override ? "--override" : "--ci");
    return 0;
}

/* Runs every cell of one category's matrix; -1 on a setup error. */
static int run_matrix(fg_runner *r, const fg_run_config *c, fg_err *err)
{
    fg_runner_set_category(r, c->category);
    /* The category's cells (an explicit list or sizes x concurrency); a
     * fixed input (JSON, a file) has no size axis: one cell per concurrency. */
    fg_cell cells[FG_MAX_CELLS_AXIS * FG_MAX_CELLS_AXIS];
    int n = 0;
    if (fg_runner_input_sized(r))
        n = fg_config_cells(c, cells, (int)(sizeof cells / sizeof cells[0]));
    else
        for (int k = 0; k < c->n_concurrency; k++) cells[n++] = (fg_cell){c->sizes_mb[0], c->concurrency[k]};
    for (int i = 0; i < n; i++)
        for (int j = 0; j < c->n_schedulers; j++) {
            if (fg_stop_requested()) return 0;
            const cJSON *results = fg_runner_results(r);
            int before = cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(results, "experiments"));
            const cJSON *entry;
            int rc = fg_runner_cell(r, cells[i].size_mb, cells[i].concurrency, c->schedulers[j],
                                    &entry, err);
            const cJSON *exps = cJSON_GetObjectItemCaseSensitive(results, "experiments");
            for (int e = before; e < cJSON_GetArraySize(exps); e++)
                run_print_summary(cJSON_GetArrayItem(exps, e));
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
    cmd_flags flags;
    if (parse_args(argc, argv, &category, &flags, &err) != 0) {
        fprintf(stderr, "flowgate run: %s\n", err.msg);
        return 2;
    }
    if (!strcmp(category, "scenarios"))
        return cmd_run_scenarios(&flags.run, flags.scenario, flags.override, flags.ci,
                                 flags.no_thresholds);
    static const char *const scale_parts[] = {"large_input", "high_concurrency", "extreme"};
    int scale = !strcmp(category, "scale");
    int n_parts = scale ? 3 : 1;
    fg_run_config parts[3];
    for (int i = 0; i < n_parts; i++)
        if (build_config(scale ? scale_parts[i] : category, &flags, &parts[i], &err) != 0) {
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

    /* Installed before the cluster starts: SIGTERM (e.g. from `timeout`)
     * ends the run like Ctrl-C, so the embedded server is always stopped
     * and finished results kept; dying on it would leave the server behind. */
    struct sigaction old_int, old_term;
    run_catch_stop(&old_int, &old_term);

    fg_runner *r = fg_runner_open(&run_cfg, &err);
    if (!r) {
        sigaction(SIGINT, &old_int, NULL);
        sigaction(SIGTERM, &old_term, NULL);
        fprintf(stderr, "flowgate run: %s\n", err.msg);
        cJSON_Delete(thresholds);
        return fg_stop_requested() ? 1 : 2;   /* Ctrl-C while waiting: interrupted */
    }

    int status = 0;
    for (int i = 0; i < n_parts && status == 0; i++)
        if (run_matrix(r, &parts[i], &err) != 0) {
            fprintf(stderr, "flowgate run: %s\n", err.msg);
            status = 2;
        }
    int interrupted = fg_stop_requested();
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);

    status = run_finish(r, thresholds, run_cfg.results_dir, interrupted, status,
                        run_cfg.inconclusive_pass);
    cJSON_Delete(thresholds);
    return status;
}
