/* cmd_ab.c — `flowgate ab`: the A/B regression gate from the command line.
 * The procedure (pairs, looks, spending, verdict) is the run library's
 * (ab.h); this file parses flags, sets up the two systems as runners and
 * prints.
 *
 * Systems: each side is an embedded server (its own flowgate-functions
 * process, --x-server BIN, started from the nodes profile --x-nodes) or an
 * already running deployment (--x-endpoints). --b-slowdown F makes B the
 * A profile with every node F times as slow (the server's known-effect
 * knob), written to results/ab-<id>/B-nodes.json. Without system flags A
 * and B are two separate servers of the same binary and profile: an A/A
 * run, which must not fail. FLOWGATE_ENDPOINTS and a config file's
 * endpoints are not used: one deployment cannot be both sides.
 *
 * Ctrl-C (or SIGTERM): the running cell ends, marked interrupted; no other
 * starts; the run fails. The verdict goes to stdout and to
 * results/ab-<id>/verdict.txt, verdict.json and junit.xml beside A/ and B/
 * (each side's results file).
 * Exit: 0 no regression, 1 a regression (or a missing, failed or
 * interrupted cell), 2 bad input or setup, 3 inconclusive (0 with
 * --inconclusive=pass). */
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <cjson/cJSON.h>
#include <curl/curl.h>

#include "commands.h"
#include "run_flags.h"
#include "flowgate/ab.h"
#include "flowgate/compare.h"
#include "flowgate/config.h"
#include "flowgate/engine.h"
#include "flowgate/runner.h"
#include "flowgate/http_client.h"
#include "flowgate/report.h"
#include "flowgate/thresholds.h"
#include "flowgate/stop.h"

#define AB_MAX_PAIRS 1000
#define AB_MAX_BUDGET_S 604800.0   /* a week */

typedef struct ab_side {
    const char *nodes, *server, *endpoints, *data;   /* NULL: not given */
} ab_side;

typedef struct ab_flags {
    run_flags run;                                 /* what both sides share, as in `flowgate run` */
    /* The two systems. */
    ab_side a, b;
    double b_slowdown;                             /* 0: not given */
    /* Sequential stopping and the comparison. */
    double budget_s, alpha, beta;                  /* alpha, beta < 0: not given */
    int min_pairs, max_pairs;
    const char *tolerances;
    const char *thresholds;                        /* NULL: no threshold table */
} ab_flags;

/* One cell of the matrix. */
typedef struct ab_cell {
    double mb;
    int concurrency;
    const char *scheduler;
} ab_cell;

static void usage(FILE *out)
{
    fprintf(out,
        "usage: flowgate ab [smoke|standard|large_input|high_concurrency|extreme|single]\n"
        "                   [--a-nodes F] [--a-server BIN] [--a-endpoints F]\n"
        "                   [--b-nodes F] [--b-server BIN] [--b-endpoints F] [--b-slowdown F]\n"
        "                   [--a-data D] [--b-data D]\n"
        "                   [--budget S] [--min-pairs N] [--max-pairs N]\n"
        "                   [--alpha A] [--beta B] [--tolerances F] [--thresholds F]\n"
        "                   [--inconclusive=fail|pass]\n"
        "                   [--config F] [--schedulers a,b] [--sizes 0.1,1] [--concurrency 1,5]\n"
        "                   [--requests N] [--warmup N] [--warmup-s S] [--rate R --duration S]\n"
        "                   [--max-inflight N] [--timeout S] [--retries N] [--inline]\n"
        "                   [--variant V] [--profile F] [--results-dir D]\n"
        "\n"
        "Runs the category's matrix (default smoke) against system A and system B in\n"
        "interleaved pairs (cell by cell: A,B in even pairs, B,A in odd ones) and gates B\n"
        "against A with the paired comparison of `flowgate compare`.\n"
        "  --a-/--b-nodes F      nodes file of that side's embedded server\n"
        "  --a-/--b-server BIN   flowgate-functions binary of that side (e.g. the previous\n"
        "                        commit's build)\n"
        "  --a-/--b-endpoints F  an already running deployment instead\n"
        "  --a-/--b-data D       that side's data files (dictionary, nodes file, workflow,\n"
        "                        e.g. the previous commit's data/); the matrix and the\n"
        "                        generated images are the same for both sides\n"
        "  --b-slowdown F        B = A's nodes file with every function F times as slow\n"
        "                        (the server's \"slowdown\" knob; to measure the gate's power)\n"
        "  Without system flags both sides are the default embedded server: an A/A run.\n"
        "  --budget S            stop before a pair that would end after S s (default 300)\n"
        "  --min-pairs N         first look after N pairs (default 3), then at\n"
        "                        ceil(1.5 N), ... and --max-pairs (3, 5, 8, 12, 18, 27, 30)\n"
        "  --max-pairs N         at most N pairs (default 30)\n"
        "  --alpha A             chance of a false regression per run, over every cell,\n"
        "                        metric and look (default 0.01)\n"
        "  --beta B              chance that a change of exactly +margin passes as \"no\n"
        "                        regression\" (default 0.05)\n"
        "  --tolerances F        margins per metric and cell, alpha, beta (flowgate compare\n"
        "                        --help); default margins: centre 10 %%, throughput\n"
        "                        10 %%, tail 0 (watched: a regression fails, no margin\n"
        "                        need be shown)\n"
        "  --thresholds F        also gate B's entries on a thresholds file; its relative\n"
        "                        thresholds (p95_ms < 1.25 * base.p95_ms) use A's entry of\n"
        "                        the same pair as the base; any failing check fails the run\n"
        "  --inconclusive=pass   an inconclusive run exits 0 instead of 3 (a decision:\n"
        "                        \"can't tell here\" then lets the change through)\n"
        "Per cell: regression (B worse than A, shown at alpha), no regression (B shown\n"
        "within the margin of A, at beta) or inconclusive. A regressed cell names its\n"
        "culprit: the functions and critical-path parts that account for the added time.\n"
        "Writes results/ab-<id>/{A,B}/experiment_results_*.json, verdict.txt, verdict.json\n"
        "and junit.xml (a regression is a failure, inconclusive a skipped testcase).\n"
        "Exit: 0 no regression, 1 a regression (or missing, failed or interrupted cells),\n"
        "2 bad input or setup, 3 inconclusive.\n");
}

/* ---- flags -------------------------------------------------------------- */

static int parse_args(int argc, char **argv, const char **category, ab_flags *f, fg_err *err)
{
    memset(f, 0, sizeof *f);
    run_flags_init(&f->run);
    f->alpha = f->beta = -1;
    f->budget_s = FG_AB_DEFAULT_BUDGET_S;
    f->min_pairs = FG_AB_DEFAULT_MIN_PAIRS;
    f->max_pairs = FG_AB_DEFAULT_MAX_PAIRS;
    *category = "smoke";
    int have_category = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        int taken = run_flags_take(&f->run, argc, argv, &i, err);
        if (taken < 0) return -1;
        if (taken) continue;
#define NEED_VALUE() do { if (!v) return fg_err_set(err, "%s needs a value", a); i++; } while (0)
#define STR_FLAG(name, field) \
        if (!strcmp(a, name)) { NEED_VALUE(); f->field = v; continue; }
#define INT_FLAG(name, field, lo, hi) \
        if (!strcmp(a, name)) { \
            NEED_VALUE(); \
            if (fg_parse_int(a, v, lo, hi, &f->field, err)) return -1; \
            continue; \
        }
#define NUM_FLAG(name, field, lo, hi) \
        if (!strcmp(a, name)) { \
            NEED_VALUE(); \
            if (fg_parse_double(a, v, lo, hi, &f->field, err)) return -1; \
            continue; \
        }
        STR_FLAG("--a-nodes", a.nodes)
        STR_FLAG("--a-server", a.server)
        STR_FLAG("--a-endpoints", a.endpoints)
        STR_FLAG("--b-nodes", b.nodes)
        STR_FLAG("--b-server", b.server)
        STR_FLAG("--b-endpoints", b.endpoints)
        STR_FLAG("--a-data", a.data)
        STR_FLAG("--b-data", b.data)
        STR_FLAG("--tolerances", tolerances)
        STR_FLAG("--thresholds", thresholds)
        INT_FLAG("--min-pairs", min_pairs, 2, AB_MAX_PAIRS)
        INT_FLAG("--max-pairs", max_pairs, 1, AB_MAX_PAIRS)
        NUM_FLAG("--b-slowdown", b_slowdown, 1, 100)
        NUM_FLAG("--budget", budget_s, 1, AB_MAX_BUDGET_S)
        NUM_FLAG("--alpha", alpha, 1e-6, 0.5)
        NUM_FLAG("--beta", beta, 1e-6, 0.5)
#undef STR_FLAG
#undef INT_FLAG
#undef NUM_FLAG
#undef NEED_VALUE
        if (a[0] == '-') return fg_err_set(err, "unknown option '%s' (flowgate ab --help)", a);
        if (have_category) return fg_err_set(err, "more than one category ('%s')", a);
        *category = a;
        have_category = 1;
    }
    /* Shared flags that name one system, or repeats, do not apply here. */
    if (f->run.repeats >= 0)
        return fg_err_set(err, "--repeats does not apply to an A/B run: pairs are the repeats "
                          "(--min-pairs, --max-pairs, --budget)");
    const char *one_system = f->run.endpoints ? "--endpoints" : f->run.nodes ? "--nodes"
                           : f->run.server_bin ? "--server-bin" : NULL;
    if (one_system)
        return fg_err_set(err, "%s does not apply to an A/B run: give each side's system with "
                          "--a-... and --b-...", one_system);
    if (!strcmp(*category, "test")) *category = "smoke";
    if (!strcmp(*category, "scale"))
        return fg_err_set(err, "scale is three categories: run `flowgate ab` on large_input, "
                          "high_concurrency or extreme");
    if (f->min_pairs > f->max_pairs)
        return fg_err_set(err, "--min-pairs %d is more than --max-pairs %d", f->min_pairs,
                          f->max_pairs);
    const ab_side *sides[2] = {&f->a, &f->b};
    for (int s = 0; s < 2; s++)
        if (sides[s]->endpoints && (sides[s]->nodes || sides[s]->server))
            return fg_err_set(err, "--%c-endpoints is a running deployment: it excludes "
                              "--%c-nodes and --%c-server", "ab"[s], "ab"[s], "ab"[s]);
    if (f->b_slowdown > 0 && f->b.endpoints)
        return fg_err_set(err, "--b-slowdown changes the profile of B's embedded server: it "
                          "cannot apply to --b-endpoints");
    return 0;
}

/* The shared configuration; pairs are the repeats: every runner call is one. */
static int build_config(const char *category, const ab_flags *f, fg_run_config *c, fg_err *err)
{
    if (run_flags_apply(&f->run, category, c, err) != 0) return -1;
    c->repeats = 1;
    return 0;
}

/* ---- the two systems ---------------------------------------------------- */

/* A side's configuration: the shared one, its own results directory and
 * its system. */
static int side_config(const fg_run_config *base, const ab_side *s, const char *dir,
                       fg_run_config *out, fg_err *err)
{
    *out = *base;
    out->endpoints[0] = 0;
    if (run_flags_copy_path(out->results_dir, sizeof out->results_dir, "results directory", dir, err))
        return -1;
    /* The side's data first: a profile given explicitly still wins. */
    if (s->data && fg_config_set_data_dir(out, "data directory", s->data, err) != 0)
        return -1;
    if (s->endpoints)
        return run_flags_copy_path(out->endpoints, sizeof out->endpoints, "endpoints", s->endpoints, err);
    if (s->nodes && run_flags_copy_path(out->nodes_file, sizeof out->nodes_file, "nodes", s->nodes, err))
        return -1;
    if (s->server && run_flags_copy_path(out->server_bin, sizeof out->server_bin, "server", s->server, err))
        return -1;
    if (!out->nodes_file[0])
        snprintf(out->nodes_file, sizeof out->nodes_file, "%s/nodes.json",
                 fg_config_data_dir(out));
    return 0;
}

/* fg_config_check, its message prefixed with the side. */
static int check_side(const fg_run_config *c, int side, fg_err *err)
{
    if (fg_config_check(c, err) == 0) return 0;
    char inner[sizeof err->msg];
    snprintf(inner, sizeof inner, "%s", err->msg);
    return fg_err_set(err, "side %c: %s", "AB"[side], inner);
}

static double number_or(const cJSON *o, const char *key, double dflt)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsNumber(v) ? v->valuedouble : dflt;
}

static void set_number(cJSON *o, const char *key, double value)
{
    if (cJSON_GetObjectItemCaseSensitive(o, key))
        cJSON_ReplaceItemInObjectCaseSensitive(o, key, cJSON_CreateNumber(value));
    else
        cJSON_AddNumberToObject(o, key, value);
}

/* Writes `from` with every node's slowdown multiplied by factor (a node
 * without its own takes the profile's, default 1) into `to`, so B's
 * functions are factor times as slow as A's whatever A's profile says. */
static int write_slowdown_profile(const char *from, double factor, const char *to, fg_err *err)
{
    fg_buf text;
    if (fg_read_file(from, 1 << 20, &text, err) != 0) return -1;
    cJSON *root = cJSON_ParseWithLength((const char *)text.data, text.len);
    fg_buf_free(&text);
    cJSON *nodes = cJSON_GetObjectItemCaseSensitive(root, "nodes");
    if (!cJSON_IsObject(root) || !cJSON_IsArray(nodes)) {
        cJSON_Delete(root);
        return fg_err_set(err, "%s: not a nodes profile (an object with a \"nodes\" array)", from);
    }
    double top = number_or(root, "slowdown", 1);
    cJSON *n;
    cJSON_ArrayForEach(n, nodes)
        if (cJSON_IsObject(n)) set_number(n, "slowdown", number_or(n, "slowdown", top) * factor);
    set_number(root, "slowdown", top * factor);
    char *out = cJSON_Print(root);
    cJSON_Delete(root);
    if (!out) return fg_err_set(err, "%s: out of memory", to);
    int rc = fg_write_file_atomic(to, out, strlen(out), err);
    free(out);
    return rc;
}

/* GET / of every node of B must report at least the slowdown asked for: a
 * server that predates the knob ignores the profile key and would make
 * an A/A run of what is meant to be a known slowdown. */
static int check_slowdown(const fg_cluster *c, double factor, fg_err *err)
{
    for (int i = 0; i < c->n_nodes; i++) {
        char url[300];
        snprintf(url, sizeof url, "%s/", c->nodes[i].url);
        fg_http_body body = {.limit = 1 << 20};
        CURL *h = curl_easy_init();
        if (!h) return fg_err_set(err, "out of memory");
        curl_easy_setopt(h, CURLOPT_URL, url);
        fg_http_loopback_only(h);
        curl_easy_setopt(h, CURLOPT_TIMEOUT, 10L);
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, fg_http_body_write);
        curl_easy_setopt(h, CURLOPT_WRITEDATA, &body);
        CURLcode rc = curl_easy_perform(h);
        curl_easy_cleanup(h);
        cJSON *o = rc == CURLE_OK && body.data ? cJSON_Parse(body.data) : NULL;
        fg_http_body_free(&body);
        const cJSON *f = cJSON_GetObjectItemCaseSensitive(o, "slowdown");
        double got = cJSON_IsNumber(f) ? f->valuedouble : NAN;
        cJSON_Delete(o);
        if (rc != CURLE_OK)
            return fg_err_set(err, "B node %s: GET %s: %s", c->nodes[i].name, url,
                              curl_easy_strerror(rc));
        if (isnan(got))
            return fg_err_set(err, "B node %s does not report a slowdown: its server predates "
                              "the knob, so --b-slowdown would change nothing", c->nodes[i].name);
        if (got < factor - 1e-9)
            return fg_err_set(err, "B node %s reports slowdown %g, expected at least %g",
                              c->nodes[i].name, got, factor);
    }
    return 0;
}

static void describe(const fg_run_config *c, char *out, size_t size)
{
    if (c->endpoints[0])
        snprintf(out, size, "endpoints %s", c->endpoints);
    else
        snprintf(out, size, "embedded %s, nodes %s", c->server_bin[0] ? c->server_bin
                 : "flowgate-functions", c->nodes_file);
}

/* results/ab-<stamp>[-n], claimed with mkdir so two runs never share it. */
static int make_ab_dir(const char *results_dir, char *id, size_t id_size, char *dir,
                       size_t dir_size, fg_err *err)
{
    if (fg_mkdirs(results_dir, err) != 0) return -1;
    char stamp[24];
    time_t now = time(NULL);
    struct tm tm;
    localtime_r(&now, &tm);
    strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", &tm);
    for (int n = 1; n < 1000; n++) {
        if (n == 1) snprintf(id, id_size, "%s", stamp);
        else snprintf(id, id_size, "%s-%d", stamp, n);
        if ((size_t)snprintf(dir, dir_size, "%s/ab-%s", results_dir, id) >= dir_size)
            return fg_err_set(err, "%s: path too long", results_dir);
        if (mkdir(dir, 0755) == 0) return 0;
        if (errno != EEXIST) return fg_err_set(err, "%s: cannot create: %s", dir, strerror(errno));
    }
    return fg_err_set(err, "%s/ab-%s: taken 1000 times over", results_dir, stamp);
}

/* ---- running ------------------------------------------------------------ */

static void on_stop_signal(int sig)
{
    (void)sig;
    fg_stop_request();
}

/* The two systems as fg_ab_systems: one runner per side. */
typedef struct ab_sides {
    fg_runner *r[2];
    const ab_cell *cells;
} ab_sides;

static int sides_run_cell(void *ctx, int side, int cell, int pair, const cJSON **entry,
                          fg_err *err)
{
    ab_sides *s = ctx;
    const ab_cell *c = &s->cells[cell];
    fg_runner_set_repeat(s->r[side], pair);
    *entry = NULL;
    return fg_runner_cell(s->r[side], c->mb, c->concurrency, c->scheduler, entry, err);
}

static const cJSON *sides_results(void *ctx, int side)
{
    return fg_runner_results(((ab_sides *)ctx)->r[side]);
}

static int sides_stop_requested(void *ctx)
{
    (void)ctx;
    return fg_stop_requested();
}

static double sides_now_ms(void *ctx)
{
    (void)ctx;
    return fg_now_mono_ms();
}

static void print_entry(void *ctx, int pair, int side, const cJSON *e)
{
    (void)ctx;
    const cJSON *req = cJSON_GetObjectItemCaseSensitive(e, "requests");
    const cJSON *lat = cJSON_GetObjectItemCaseSensitive(e, "latency_ms");
    const cJSON *p95 = cJSON_GetObjectItemCaseSensitive(lat, "p95");
    const cJSON *p50 = cJSON_GetObjectItemCaseSensitive(lat, "p50");
    const char *id = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "experiment_id"));
    char a[32] = "n/a", b[32] = "n/a";
    if (cJSON_IsNumber(p50)) snprintf(a, sizeof a, "%.1f ms", p50->valuedouble);
    if (cJSON_IsNumber(p95)) snprintf(b, sizeof b, "%.1f ms", p95->valuedouble);
    printf("pair %d %c %s  ok %.0f/%.0f  p50 %s  p95 %s%s\n", pair, "AB"[side], id ? id : "?",
           number_or(req, "ok", 0), number_or(req, "sent", 0), a, b,
           cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(e, "interrupted")) ? "  interrupted" : "");
    fflush(stdout);
}

static void print_look(void *ctx, int pairs, int decided, int cells, double elapsed_s)
{
    (void)ctx;
    printf("look after pair %d: %d of %d cell%s decided (%.0f s)\n", pairs, decided, cells,
           cells == 1 ? "" : "s", elapsed_s);
    fflush(stdout);
}

/* B's entries against a thresholds document, A's entry of the same pair
 * as the base of relative thresholds; the table is printed and written
 * beside the verdict. Returns the failed checks, -1 on error, and the
 * table's outcome in *outcome (an absolute bound a busy machine left open
 * makes the run inconclusive, not green). Per pair, so
 * a relative bound must hold in every pair: a statistical verdict is the
 * comparison's job, this is the user's fixed rule on top. */
static int threshold_table(ab_sides *sides, const cJSON *doc, const char *dir,
                           fg_outcome *outcome, fg_err *err)
{
    fg_threshold_table t;
    memset(&t, 0, sizeof t);
    char path[1024];
    const cJSON *b = fg_runner_results(sides->r[1]), *a = fg_runner_results(sides->r[0]);
    int rc = fg_report_thresholds_base(b, a, doc, &t, err);
    if (rc == 0) rc = fg_report_write_thresholds(&t, b, dir, path, sizeof path, err);
    if (rc == 0) {
        fputs(t.text, stdout);
        printf("threshold table (B against A): %s\n", path);
        rc = t.failed;
        *outcome = t.outcome;
    }
    fg_threshold_table_free(&t);
    return rc;
}

/* Prints the verdict and writes verdict.txt and verdict.json into dir. */
static int write_verdict(const fg_ab_plan *plan, const fg_ab_result *res, const char *id,
                         char desc[2][1200], const char *dir, fg_err *err)
{
    char *body = fg_ab_format(plan, res);
    cJSON *json = fg_ab_to_json(plan, res);
    char *json_text = json ? cJSON_Print(json) : NULL;
    cJSON_Delete(json);
    char *text = NULL;
    size_t text_len = 0;
    FILE *tf = body && json_text ? open_memstream(&text, &text_len) : NULL;
    if (!tf) {
        free(body);
        free(json_text);
        return fg_err_set(err, "out of memory");
    }
    fprintf(tf, "ab %s: A = %s\nab %s: B = %s\n%s", id, desc[0], id, desc[1], body);
    fclose(tf);
    free(body);
    fputs(text, stdout);
    char path[1024];
    snprintf(path, sizeof path, "%s/verdict.txt", dir);
    int rc = fg_write_file_atomic(path, text, strlen(text), err);
    snprintf(path, sizeof path, "%s/verdict.json", dir);
    if (rc == 0) rc = fg_write_file_atomic(path, json_text, strlen(json_text), err);
    char *junit = fg_ab_junit("ab", res);
    snprintf(path, sizeof path, "%s/junit.xml", dir);
    if (rc == 0 && !junit) rc = fg_err_set(err, "out of memory");
    if (rc == 0) rc = fg_write_file_atomic(path, junit, strlen(junit), err);
    free(junit);
    free(text);
    free(json_text);
    if (rc == 0) printf("verdict: %s/verdict.txt\n", dir);
    return rc;
}

int cmd_ab(int argc, char **argv)
{
    for (int i = 1; i < argc; i++)
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            usage(stdout);
            return 0;
        }
    fg_err err = {{0}};
    const char *category;
    ab_flags f;
    fg_run_config base, cfg[2];
    if (parse_args(argc, argv, &category, &f, &err) != 0 ||
        build_config(category, &f, &base, &err) != 0) {
        fprintf(stderr, "flowgate ab: %s\n", err.msg);
        return 2;
    }
    fg_log_threshold = base.log_level;
    if (base.endpoints[0])
        fprintf(stderr, "flowgate ab: note: not using endpoints %s (FLOWGATE_ENDPOINTS or the "
                "config): each side's system comes from its --a-/--b- flags\n", base.endpoints);

    fg_ab_plan plan;
    fg_ab_plan_defaults(&plan);
    plan.min_pairs = f.min_pairs;
    plan.max_pairs = f.max_pairs;
    plan.budget_s = f.budget_s;
    cJSON *tol_doc = NULL, *thresholds_doc = NULL;
    ab_sides sides;
    memset(&sides, 0, sizeof sides);
    ab_cell *cells = NULL;
    fg_ab_result res;
    memset(&res, 0, sizeof res);
    int status = FG_EXIT_BAD_INPUT, have_res = 0, signals_set = 0;
    struct sigaction sa, old_int, old_term;
    if (f.tolerances && fg_compare_opts_load(f.tolerances, &plan.opts, &tol_doc, &err) != 0)
        goto out;
    if (f.thresholds && !(thresholds_doc = fg_thresholds_load(f.thresholds, &err))) goto out;
    if (f.alpha > 0) plan.opts.alpha = f.alpha;
    if (f.beta > 0) plan.opts.beta = f.beta;

    /* Cells: (size, concurrency) as `flowgate run` orders them (a
     * category's explicit list, or the axes), each for every scheduler. */
    fg_cell grid[FG_MAX_CELLS * 4];
    int n_grid = fg_config_cells(&base, grid, (int)(sizeof grid / sizeof grid[0]));
    plan.n_cells = n_grid * base.n_schedulers;
    if (plan.n_cells == 0) {
        fg_err_set(&err, "the %s matrix has no cells", category);
        goto out;
    }
    if (!(cells = calloc((size_t)plan.n_cells, sizeof *cells))) {
        fg_err_set(&err, "out of memory");
        goto out;
    }
    for (int g = 0, i = 0; g < n_grid; g++)
        for (int j = 0; j < base.n_schedulers; j++, i++)
            cells[i] = (ab_cell){grid[g].size_mb, grid[g].concurrency, base.schedulers[j]};
    sides.cells = cells;

    char id[32], dir[700], sub[2][800], slow_profile[800];
    /* Each side's configuration is checked before anything is created, so
     * bad input leaves no empty results/ab-<id> behind; the check repeats
     * below with the real results directories. */
    for (int s = 0; s < 2; s++)
        if (side_config(&base, s ? &f.b : &f.a, base.results_dir, &cfg[s], &err) != 0 ||
            check_side(&cfg[s], s, &err) != 0)
            goto out;
    if (make_ab_dir(base.results_dir, id, sizeof id, dir, sizeof dir, &err) != 0) goto out;
    snprintf(sub[0], sizeof sub[0], "%s/A", dir);
    snprintf(sub[1], sizeof sub[1], "%s/B", dir);
    if (side_config(&base, &f.a, sub[0], &cfg[0], &err) != 0 ||
        side_config(&base, &f.b, sub[1], &cfg[1], &err) != 0)
        goto out;
    if (f.b_slowdown > 0) {
        /* B's own profile if given, else A's: "B is A, F times as slow". */
        const char *from = f.b.nodes ? cfg[1].nodes_file
                         : cfg[0].endpoints[0] ? NULL : cfg[0].nodes_file;
        if (!from) {
            fg_err_set(&err, "--b-slowdown needs a nodes profile to slow down: A is a running "
                       "deployment, so give B one with --b-nodes");
            goto out;
        }
        snprintf(slow_profile, sizeof slow_profile, "%s/B-nodes.json", dir);
        if (write_slowdown_profile(from, f.b_slowdown, slow_profile, &err) != 0 ||
            run_flags_copy_path(cfg[1].nodes_file, sizeof cfg[1].nodes_file, "B's nodes file",
                      slow_profile, &err) != 0)
            goto out;
    }
    for (int s = 0; s < 2; s++)
        if (check_side(&cfg[s], s, &err) != 0) goto out;

    /* Installed before the servers start, so Ctrl-C (or SIGTERM) always
     * ends in fg_runner_close, which stops them. */
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop_signal;
    sa.sa_flags = SA_RESETHAND;   /* a second Ctrl-C kills */
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
    signals_set = 1;

    for (int s = 0; s < 2; s++)
        if (!(sides.r[s] = fg_runner_open(&cfg[s], &err))) {
            char inner[sizeof err.msg];
            snprintf(inner, sizeof inner, "%s", err.msg);
            fg_err_set(&err, "side %c: %s", "AB"[s], inner);
            goto out;
        }
    if (f.b_slowdown > 0 && check_slowdown(fg_runner_cluster(sides.r[1]), f.b_slowdown, &err) != 0)
        goto out;
    /* A fixed input (JSON, a file) has no size axis: the first size's
     * cells (sizes are the outer loop) are all there is. */
    if (!fg_runner_input_sized(sides.r[0])) plan.n_cells = base.n_concurrency * base.n_schedulers;

    char desc[2][1200];
    describe(&cfg[0], desc[0], sizeof desc[0]);
    describe(&cfg[1], desc[1], sizeof desc[1]);
    printf("ab %s: A = %s\n", id, desc[0]);
    printf("ab %s: B = %s%s\n", id, desc[1],
           strcmp(desc[0], desc[1]) ? "" : " (the same system: an A/A run)");
    printf("ab %s: %s, %d cell%s; looks after pairs", id, category, plan.n_cells,
           plan.n_cells == 1 ? "" : "s");
    for (int p = plan.min_pairs; p <= plan.max_pairs; p++)
        if (fg_ab_is_look(p, plan.min_pairs, plan.max_pairs)) printf(" %d", p);
    printf(" (budget %.0f s); alpha %g over %d tests, beta %g\n", plan.budget_s, plan.opts.alpha,
           plan.n_cells * FG_METRIC_COUNT, plan.opts.beta);
    fflush(stdout);

    fg_ab_systems sys = {sides_run_cell, sides_results, sides_stop_requested, sides_now_ms,
                         print_entry, print_look, &sides};
    if (fg_ab_run(&plan, &sys, &res, &err) != 0) goto out;
    have_res = 1;
    if (write_verdict(&plan, &res, id, desc, dir, &err) != 0) goto out;
    fg_outcome outcome = res.outcome;
    if (thresholds_doc) {
        fg_outcome table = FG_OUTCOME_PASS;
        int bad = threshold_table(&sides, thresholds_doc, dir, &table, &err);
        if (bad < 0) goto out;
        outcome = fg_outcome_combine(outcome, bad > 0 ? FG_OUTCOME_FAIL : table);
    }
    /* --inconclusive=pass, its config key or FLOWGATE_INCONCLUSIVE=pass. */
    status = fg_outcome_exit(outcome, base.inconclusive_pass);
    if (outcome == FG_OUTCOME_INCONCLUSIVE && base.inconclusive_pass)
        printf("ab: inconclusive, passed as asked (--inconclusive=pass)\n");

out:
    if (signals_set) {
        sigaction(SIGINT, &old_int, NULL);
        sigaction(SIGTERM, &old_term, NULL);
    }
    if (status == FG_EXIT_BAD_INPUT) fprintf(stderr, "flowgate ab: %s\n", err.msg);
    for (int s = 0; s < 2; s++) {
        fg_err close_err;
        if (sides.r[s] && fg_runner_close(sides.r[s], &close_err) != 0) {
            fprintf(stderr, "flowgate ab: side %c: %s\n", "AB"[s], close_err.msg);
            status = FG_EXIT_BAD_INPUT;
        }
    }
    if (have_res) fg_ab_result_free(&res);
    free(cells);
    cJSON_Delete(tol_doc);
    cJSON_Delete(thresholds_doc);
    return status;
}
