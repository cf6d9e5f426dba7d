/* cmd_ab.c — `flowgate ab`: an A/B run. The same matrix runs against two
 * systems A and B on this machine in interleaved repeats, and the gate
 * compares B with A pair by pair, so slow drift of the machine (other
 * load, thermal state, caches) lands on both sides and cancels. It is how
 * a change is gated without a stored baseline: A is the previous build,
 * B the new one.
 *
 * Systems: each side is an embedded server (its own flowgate-functions
 * process, --x-server BIN, started from the nodes profile --x-nodes) or an
 * already running deployment (--x-endpoints). --b-slowdown F makes B the
 * A profile with every node F times as slow (the server's known-effect
 * knob), written to results/ab-<id>/B-nodes.json. Without system flags A
 * and B are two separate servers of the same binary and profile: an A/A
 * run, which must pass. FLOWGATE_ENDPOINTS and a config file's endpoints
 * are not used: one deployment cannot be both sides.
 *
 * Pairs: each runner runs one repeat per cell call, and the repeat index
 * of both sides is the pair index, so repeat i of A and of B ran back to
 * back. Within pair i every cell runs on both sides, A then B for even i,
 * B then A for odd i (ABBA), so a trend within a pair does not favour one
 * side either.
 *
 * Sequential stopping: the comparison (compare.h, paired) is looked at
 * after pair m = --min-pairs (default 3) and then at pairs
 * m, ceil(1.5 m), ... (3, 5, 8, 12, 18, 27, 41, ...), and once more when
 * the run stops between those looks. Each look tests at alpha / L, where L
 * is the most looks the run can make (Bonferroni over looks): however often
 * it looks, the chance of a false alarm stays at most alpha. A cell that is
 * decided at a look (a regression shown, or equivalence: B's ratio bounded
 * below 1 + tolerance) is not run again while it stays decided; the run
 * stops when every cell is decided, when the next pair would go past
 * --budget seconds (estimated from each cell's last pair), at --max-pairs,
 * or on Ctrl-C (the running cell ends, marked interrupted; no other starts).
 * The final comparison is printed one line per cell and written to
 * results/ab-<id>/verdict.txt beside A/ and B/ (each side's results file).
 * Exit: 0 the comparison passes, 1 it fails (a regression, insufficient
 * data, a missing, failed or interrupted cell), 2 bad input or setup. */
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
#include "flowgate/compare.h"
#include "flowgate/config.h"
#include "flowgate/engine.h"
#include "flowgate/runner.h"
#include "flowgate/http_client.h"
#include "flowgate/report.h"
#include "flowgate/thresholds.h"

#define AB_DEFAULT_BUDGET_S 300.0
#define AB_DEFAULT_MIN_PAIRS 3
#define AB_DEFAULT_MAX_PAIRS 30
#define AB_MAX_PAIRS 1000
#define AB_MAX_BUDGET_S 604800.0   /* a week */

typedef struct ab_side {
    const char *nodes, *server, *endpoints;   /* NULL: not given */
} ab_side;

typedef struct ab_flags {
    run_flags run;                                 /* what both sides share, as in `flowgate run` */
    /* The two systems. */
    ab_side a, b;
    double b_slowdown;                             /* 0: not given */
    /* Sequential stopping and the comparison. */
    double budget_s, alpha;                        /* alpha < 0: not given */
    int min_pairs, max_pairs;
    const char *tolerances;
    const char *thresholds;                        /* NULL: no threshold table */
} ab_flags;

/* One cell of the matrix and its state across pairs. */
typedef struct ab_cell {
    double mb;
    int concurrency;
    const char *scheduler;
    char id[128];          /* experiment_id, from its first entry */
    int decided;           /* at the latest look */
    double last_pair_ms;   /* both sides, the latest pair it ran in */
} ab_cell;

static void usage(FILE *out)
{
    fprintf(out,
        "usage: flowgate ab [smoke|standard|large_input|high_concurrency|extreme|single]\n"
        "                   [--a-nodes F] [--a-server BIN] [--a-endpoints F]\n"
        "                   [--b-nodes F] [--b-server BIN] [--b-endpoints F] [--b-slowdown F]\n"
        "                   [--budget S] [--min-pairs N] [--max-pairs N]\n"
        "                   [--alpha A] [--tolerances F] [--thresholds F]\n"
        "                   [--config F] [--schedulers a,b] [--sizes 0.1,1] [--concurrency 1,5]\n"
        "                   [--requests N] [--warmup N] [--warmup-s S] [--rate R --duration S]\n"
        "                   [--max-inflight N] [--timeout S] [--retries N] [--inline]\n"
        "                   [--variant V] [--profile F] [--results-dir D]\n"
        "\n"
        "Runs the category's matrix (default smoke) against system A and system B in\n"
        "interleaved pairs (cell by cell: A,B in even pairs, B,A in odd ones) and gates B\n"
        "against A with the paired comparison of `flowgate compare`.\n"
        "  --a-/--b-nodes F      nodes profile of that side's embedded server\n"
        "  --a-/--b-server BIN   flowgate-functions binary of that side (e.g. the previous\n"
        "                        commit's build)\n"
        "  --a-/--b-endpoints F  an already running deployment instead\n"
        "  --b-slowdown F        B = A's profile with every function F times as slow\n"
        "                        (the server's \"slowdown\" knob; to measure the gate's power)\n"
        "  Without system flags both sides are the default embedded server: an A/A run.\n"
        "  --budget S            stop before a pair that would end after S s (default 300)\n"
        "  --min-pairs N         first look at the comparison after N pairs (default 3),\n"
        "                        then at N, ceil(1.5N), ... (3, 5, 8, 12, 18, 27, ...)\n"
        "  --max-pairs N         at most N pairs (default 30)\n"
        "  --alpha A             false-alarm rate of the whole run (default: compare's,\n"
        "                        0.01); each look tests at A / (most looks possible)\n"
        "  --tolerances F        compare's tolerances file (flowgate compare --help)\n"
        "  --thresholds F        also gate B's entries on a thresholds file; its relative\n"
        "                        thresholds (p95_ms < 1.25 * base.p95_ms) use A's entry of\n"
        "                        the same pair as the base; any failing check fails the run\n"
        "The run stops when every cell is decided (regression or equivalence shown),\n"
        "before the budget or max pairs would be exceeded, or on Ctrl-C.\n"
        "Writes results/ab-<id>/{A,B}/experiment_results_*.json and verdict.txt.\n"
        "Exit: 0 pass, 1 the comparison failed (regression, insufficient data, missing,\n"
        "failed or interrupted cells), 2 bad input or setup.\n");
}

/* ---- flags -------------------------------------------------------------- */

static int parse_args(int argc, char **argv, const char **category, ab_flags *f, fg_err *err)
{
    memset(f, 0, sizeof *f);
    run_flags_init(&f->run);
    f->alpha = -1;
    f->budget_s = AB_DEFAULT_BUDGET_S;
    f->min_pairs = AB_DEFAULT_MIN_PAIRS;
    f->max_pairs = AB_DEFAULT_MAX_PAIRS;
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
        STR_FLAG("--tolerances", tolerances)
        STR_FLAG("--thresholds", thresholds)
        INT_FLAG("--min-pairs", min_pairs, 1, AB_MAX_PAIRS)
        INT_FLAG("--max-pairs", max_pairs, 1, AB_MAX_PAIRS)
        NUM_FLAG("--b-slowdown", b_slowdown, 1, 100)
        NUM_FLAG("--budget", budget_s, 1, AB_MAX_BUDGET_S)
        NUM_FLAG("--alpha", alpha, 1e-6, 0.5)
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
    if (s->endpoints)
        return run_flags_copy_path(out->endpoints, sizeof out->endpoints, "endpoints", s->endpoints, err);
    if (s->nodes && run_flags_copy_path(out->nodes_profile, sizeof out->nodes_profile, "nodes", s->nodes, err))
        return -1;
    if (s->server && run_flags_copy_path(out->server_bin, sizeof out->server_bin, "server", s->server, err))
        return -1;
    if (!out->nodes_profile[0])
        snprintf(out->nodes_profile, sizeof out->nodes_profile, "%s/nodes.json", fg_data_dir());
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
                 : "flowgate-functions", c->nodes_profile);
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

/* ---- looks -------------------------------------------------------------- */

/* The look after `pairs` pairs: m, ceil(1.5 m), ceil(1.5 * that), ... */
static int is_look(int pairs, int min_pairs)
{
    int l = min_pairs;
    while (l < pairs) l = (int)ceil(l * 1.5);
    return l == pairs;
}

/* The most looks a run can make: the scheduled ones up to max_pairs, plus
 * the final one when the run stops off the schedule. */
static int max_looks(int min_pairs, int max_pairs)
{
    int n = 0, l = min_pairs;
    for (; l <= max_pairs; l = (int)ceil(l * 1.5)) n++;
    return n + !is_look(max_pairs, min_pairs);
}

/* ---- running ------------------------------------------------------------ */

static void on_stop_signal(int sig)
{
    (void)sig;
    fg_engine_request_stop();
}

static void print_entry(int pair, char side, const cJSON *e)
{
    const cJSON *req = cJSON_GetObjectItemCaseSensitive(e, "requests");
    const cJSON *lat = cJSON_GetObjectItemCaseSensitive(e, "latency_ms");
    const cJSON *p95 = cJSON_GetObjectItemCaseSensitive(lat, "p95");
    const cJSON *p50 = cJSON_GetObjectItemCaseSensitive(lat, "p50");
    const char *id = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "experiment_id"));
    char a[32] = "n/a", b[32] = "n/a";
    if (cJSON_IsNumber(p50)) snprintf(a, sizeof a, "%.1f ms", p50->valuedouble);
    if (cJSON_IsNumber(p95)) snprintf(b, sizeof b, "%.1f ms", p95->valuedouble);
    printf("pair %d %c %s  ok %.0f/%.0f  p50 %s  p95 %s%s\n", pair, side, id ? id : "?",
           number_or(req, "ok", 0), number_or(req, "sent", 0), a, b,
           cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(e, "interrupted")) ? "  interrupted" : "");
    fflush(stdout);
}

/* One cell on one side as repeat `pair`; -1 on a setup error. */
static int run_side(fg_runner *r, char side, int pair, ab_cell *cell, fg_err *err)
{
    fg_runner_set_repeat(r, pair);
    const cJSON *entry = NULL;
    if (fg_runner_cell(r, cell->mb, cell->concurrency, cell->scheduler, &entry, err) != 0)
        return -1;
    if (entry) {
        const char *id = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(entry, "experiment_id"));
        if (id && !cell->id[0]) snprintf(cell->id, sizeof cell->id, "%s", id);
        print_entry(pair, side, entry);
    }
    return 0;
}

/* A run in progress: the two runners, the cells and the latest look. */
typedef struct ab_run {
    const ab_flags *f;
    fg_runner *r[2];
    ab_cell *cells;
    int n_cells;
    fg_compare_opts opts;          /* paired, alpha already split over the looks */
    fg_compare_report rep;         /* the latest look's, when have_rep */
    int have_rep;
    int pairs, looked_at;          /* pairs run (a cut one included); last look's */
    const char *stop;              /* why the run stopped */
    double t0;
} ab_run;

static int look(ab_run *run, fg_err *err)
{
    if (run->have_rep) fg_compare_report_free(&run->rep);
    run->have_rep = 0;
    if (fg_compare_results(fg_runner_results(run->r[0]), "A", fg_runner_results(run->r[1]), "B",
                           &run->opts, &run->rep, err) != 0)
        return -1;
    run->have_rep = 1;
    run->looked_at = run->pairs;
    return 0;
}

/* Marks each cell decided or not by the latest look; returns the undecided count. */
static int mark_decided(ab_run *run)
{
    int open = 0;
    for (int i = 0; i < run->n_cells; i++) {
        ab_cell *c = &run->cells[i];
        c->decided = 0;
        for (int k = 0; k < run->rep.n; k++)
            if (!strcmp(run->rep.cells[k].experiment_id, c->id)) {
                c->decided = run->rep.cells[k].decided;
                break;
            }
        open += !c->decided;
    }
    return open;
}

/* Pairs until a stop; ends with a look at everything run. -1 on a setup
 * error (a cell that could not run at all, a malformed comparison). */
static int run_pairs(ab_run *run, fg_err *err)
{
    const ab_flags *f = run->f;
    run->stop = "max pairs";
    while (run->pairs < f->max_pairs) {
        /* Each undecided cell's latest pair estimates the next one. */
        double next_ms = 0;
        for (int c = 0; c < run->n_cells; c++)
            if (!run->cells[c].decided) next_ms += run->cells[c].last_pair_ms;
        if (fg_now_mono_ms() - run->t0 + next_ms > f->budget_s * 1000.0) {
            run->stop = "budget";
            break;
        }
        int pair = run->pairs, first = pair % 2;   /* ABBA: B first in odd pairs */
        for (int c = 0; c < run->n_cells && !fg_engine_stop_requested(); c++) {
            ab_cell *cell = &run->cells[c];
            if (cell->decided) continue;
            double c0 = fg_now_mono_ms();
            for (int k = 0; k < 2 && !fg_engine_stop_requested(); k++) {
                int s = k ? !first : first;
                if (run_side(run->r[s], "AB"[s], pair, cell, err) != 0) return -1;
            }
            cell->last_pair_ms = fg_now_mono_ms() - c0;
        }
        run->pairs++;   /* a cut pair too: its entries are in the results */
        if (fg_engine_stop_requested()) {
            run->stop = "interrupted";
            break;
        }
        if (run->pairs >= f->min_pairs && is_look(run->pairs, f->min_pairs)) {
            if (look(run, err) != 0) return -1;
            int open = mark_decided(run);
            printf("look after pair %d: %d of %d cell%s decided (%.0f s)\n", run->pairs,
                   run->n_cells - open, run->n_cells, run->n_cells == 1 ? "" : "s",
                   (fg_now_mono_ms() - run->t0) / 1000.0);
            fflush(stdout);
            /* Decided: every cell is, or a regression is shown (the gate
             * fails whatever the other cells do), or the comparison failed
             * for a reason more pairs cannot cure. */
            if (open == 0 || run->rep.decided) {
                run->stop = run->rep.count[FG_VERDICT_REGRESSION] ||
                                    run->rep.matrix_verdict == FG_VERDICT_REGRESSION
                              ? "a regression is shown"
                          : open == 0 ? "every cell decided"
                          : "more pairs cannot change the verdict";
                break;
            }
        }
    }
    /* The final look, when the run stopped off the schedule. */
    if (!run->have_rep || run->looked_at != run->pairs) return look(run, err);
    return 0;
}

/* "1 regression, 2 ok" from the report's counts. */
static void format_counts(const fg_compare_report *rep, char *out, size_t size)
{
    size_t len = 0;
    out[0] = 0;
    for (int v = 0; v < (int)(sizeof rep->count / sizeof rep->count[0]); v++)
        if (rep->count[v] && len < size)
            len += (size_t)snprintf(out + len, size - len, "%s%d %s", len ? ", " : "",
                                    rep->count[v], fg_verdict_name((fg_verdict)v));
}

/* B's entries against a thresholds document, A's entry of the same pair
 * as the base of relative thresholds; the table is printed and written
 * beside the verdict. Returns the failed checks, -1 on error. Per pair, so
 * a relative bound must hold in every pair: a statistical verdict is the
 * comparison's job, this is the user's fixed rule on top. */
static int threshold_table(ab_run *run, const cJSON *doc, const char *dir, fg_err *err)
{
    fg_threshold_table t;
    memset(&t, 0, sizeof t);
    char path[1024];
    const cJSON *b = fg_runner_results(run->r[1]), *a = fg_runner_results(run->r[0]);
    int rc = fg_report_thresholds_base(b, a, doc, &t, err);
    if (rc == 0) rc = fg_report_write_thresholds(&t, b, dir, path, sizeof path, err);
    if (rc == 0) {
        fputs(t.text, stdout);
        printf("threshold table (B against A): %s\n", path);
        rc = t.failed;
    }
    fg_threshold_table_free(&t);
    return rc;
}

/* Prints the verdict and writes it to path; returns 1 failed, 0 passed, -1
 * when the file could not be written. */
static int verdict(ab_run *run, const char *id, char desc[2][1200], double alpha, int looks,
                   const char *path, fg_err *err)
{
    char *text = NULL;
    size_t text_len = 0;
    FILE *vf = open_memstream(&text, &text_len);
    if (!vf) return fg_err_set(err, "out of memory");
    const fg_compare_report *rep = &run->rep;
    fprintf(vf, "ab %s: A = %s\nab %s: B = %s\n", id, desc[0], id, desc[1]);
    char line[1024], counts[512];
    for (int i = 0; i < rep->n; i++) {
        fg_compare_format(&rep->cells[i], line, sizeof line);
        fprintf(vf, "%s\n", line);
    }
    /* The matrix as a whole can regress with no cell shown alone. */
    fg_compare_format_matrix(rep, line, sizeof line);
    if (line[0]) fprintf(vf, "%s\n", line);
    if (rep->reason[0]) fprintf(vf, "ab: %s\n", rep->reason);
    format_counts(rep, counts, sizeof counts);
    if (rep->matrix_verdict == FG_VERDICT_REGRESSION)
        snprintf(counts + strlen(counts), sizeof counts - strlen(counts), "; the matrix regressed");
    int interrupted = fg_engine_stop_requested();
    int failed = rep->failed || interrupted;
    fprintf(vf, "ab: %s: %d cell%s (%s); %d pair%s in %.0f s; stopped: %s; alpha %g over %d "
            "looks\n", failed ? "FAIL" : "PASS", rep->n, rep->n == 1 ? "" : "s", counts,
            run->pairs, run->pairs == 1 ? "" : "s", (fg_now_mono_ms() - run->t0) / 1000.0,
            run->stop, alpha, looks);
    if (run->pairs < run->f->min_pairs && !interrupted)
        fprintf(vf, "ab: only %d of --min-pairs %d pairs fit in the budget of %.0f s: raise "
                "--budget or make the cells cheaper\n", run->pairs, run->f->min_pairs,
                run->f->budget_s);
    fclose(vf);
    fputs(text, stdout);
    int rc = fg_write_file_atomic(path, text, text_len, err);
    free(text);
    if (rc != 0) return -1;
    printf("verdict: %s\n", path);
    return failed;
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

    ab_run run;
    memset(&run, 0, sizeof run);
    run.f = &f;
    fg_compare_opts_defaults(&run.opts);
    cJSON *tol_doc = NULL, *thresholds_doc = NULL;
    if (f.tolerances && fg_compare_opts_load(f.tolerances, &run.opts, &tol_doc, &err) != 0) {
        fprintf(stderr, "flowgate ab: %s\n", err.msg);
        return 2;
    }
    if (f.thresholds && !(thresholds_doc = fg_thresholds_load(f.thresholds, &err))) {
        fprintf(stderr, "flowgate ab: %s\n", err.msg);
        cJSON_Delete(tol_doc);
        cJSON_Delete(thresholds_doc);
        return 2;
    }
    if (f.alpha > 0) run.opts.alpha = f.alpha;
    const double alpha = run.opts.alpha;
    const int looks = max_looks(f.min_pairs, f.max_pairs);
    run.opts.paired = 1;
    run.opts.alpha = alpha / looks;

    /* Cells: size, concurrency, scheduler, as `flowgate run` orders them. */
    run.n_cells = base.n_sizes * base.n_concurrency * base.n_schedulers;
    int status = 2;
    if (run.n_cells == 0) {
        fprintf(stderr, "flowgate ab: the %s matrix has no cells\n", category);
        cJSON_Delete(tol_doc);
        cJSON_Delete(thresholds_doc);
        return 2;
    }
    run.cells = calloc((size_t)run.n_cells, sizeof *run.cells);
    if (!run.cells) {
        fprintf(stderr, "flowgate ab: out of memory\n");
        cJSON_Delete(tol_doc);
        cJSON_Delete(thresholds_doc);
        return 2;
    }
    for (int s = 0, i = 0; s < base.n_sizes; s++)
        for (int k = 0; k < base.n_concurrency; k++)
            for (int j = 0; j < base.n_schedulers; j++, i++)
                run.cells[i] = (ab_cell){base.sizes_mb[s], base.concurrency[k],
                                         base.schedulers[j], "", 0, 0};

    char id[32], dir[700], sub[2][800], slow_profile[800], verdict_path[800];
    struct sigaction sa, old_int, old_term;
    int signals_set = 0;
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
    snprintf(verdict_path, sizeof verdict_path, "%s/verdict.txt", dir);
    if (side_config(&base, &f.a, sub[0], &cfg[0], &err) != 0 ||
        side_config(&base, &f.b, sub[1], &cfg[1], &err) != 0)
        goto out;
    if (f.b_slowdown > 0) {
        /* B's own profile if given, else A's: "B is A, F times as slow". */
        const char *from = f.b.nodes ? cfg[1].nodes_profile
                         : cfg[0].endpoints[0] ? NULL : cfg[0].nodes_profile;
        if (!from) {
            fg_err_set(&err, "--b-slowdown needs a nodes profile to slow down: A is a running "
                       "deployment, so give B one with --b-nodes");
            goto out;
        }
        snprintf(slow_profile, sizeof slow_profile, "%s/B-nodes.json", dir);
        if (write_slowdown_profile(from, f.b_slowdown, slow_profile, &err) != 0 ||
            run_flags_copy_path(cfg[1].nodes_profile, sizeof cfg[1].nodes_profile, "B's nodes profile",
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

    run.t0 = fg_now_mono_ms();
    for (int s = 0; s < 2; s++)
        if (!(run.r[s] = fg_runner_open(&cfg[s], &err))) {
            char inner[sizeof err.msg];
            snprintf(inner, sizeof inner, "%s", err.msg);
            fg_err_set(&err, "side %c: %s", "AB"[s], inner);
            goto out;
        }
    if (f.b_slowdown > 0 && check_slowdown(fg_runner_cluster(run.r[1]), f.b_slowdown, &err) != 0)
        goto out;
    /* A fixed input (JSON, a file) has no size axis: the first size's
     * cells (sizes are the outer loop) are all there is. */
    if (!fg_runner_input_sized(run.r[0])) run.n_cells = base.n_concurrency * base.n_schedulers;

    char desc[2][1200];
    describe(&cfg[0], desc[0], sizeof desc[0]);
    describe(&cfg[1], desc[1], sizeof desc[1]);
    printf("ab %s: A = %s\n", id, desc[0]);
    printf("ab %s: B = %s%s\n", id, desc[1],
           strcmp(desc[0], desc[1]) ? "" : " (the same system: an A/A run)");
    int l2 = (int)ceil(f.min_pairs * 1.5);
    printf("ab %s: %s, %d cell%s; looks after pairs %d, %d, %d, ... (at most %d pairs, "
           "budget %.0f s); alpha %g / %d looks = %.2g a look\n", id, category, run.n_cells,
           run.n_cells == 1 ? "" : "s", f.min_pairs, l2, (int)ceil(l2 * 1.5), f.max_pairs,
           f.budget_s, alpha, looks, run.opts.alpha);
    fflush(stdout);

    if (run_pairs(&run, &err) != 0) goto out;
    int rc = verdict(&run, id, desc, alpha, looks, verdict_path, &err);
    if (rc >= 0 && thresholds_doc) {
        int failed = threshold_table(&run, thresholds_doc, dir, &err);
        rc = failed < 0 ? -1 : rc || failed > 0;
    }
    if (rc >= 0) status = rc;

out:
    if (signals_set) {
        sigaction(SIGINT, &old_int, NULL);
        sigaction(SIGTERM, &old_term, NULL);
    }
    if (status == 2) fprintf(stderr, "flowgate ab: %s\n", err.msg);
    for (int s = 0; s < 2; s++) {
        fg_err close_err;
        if (run.r[s] && fg_runner_close(run.r[s], &close_err) != 0) {
            fprintf(stderr, "flowgate ab: side %c: %s\n", "AB"[s], close_err.msg);
            status = 2;
        }
    }
    if (run.have_rep) fg_compare_report_free(&run.rep);
    free(run.cells);
    cJSON_Delete(tol_doc);
    cJSON_Delete(thresholds_doc);
    return status;
}
