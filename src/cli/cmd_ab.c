/* cmd_ab.c — `flowgate ab`: the A/B regression gate from the command line.
 * The run is the library's: the procedure (pairs, looks, spending,
 * verdict) in ab.h, the two systems, their results and the verdict files
 * in ab_sides.h. This file parses the flags (those of `flowgate run` that
 * apply to both sides, run_flags.h, and the sides' own) and makes that one
 * call, which prints to stdout.
 *
 * Without system flags A and B are two separate servers of the same binary
 * and profile: an A/A run, which must not fail. --b-slowdown F makes B the
 * A nodes file with every node F times as slow. Ctrl-C (or SIGTERM) at any
 * moment (the catcher is installed first): the running cell ends, marked
 * interrupted; no other starts; the run fails with one line saying where
 * (ab_sides.h), both sides' results files marked interrupted.
 * Exit: 0 no regression, 1 a regression (or a missing, failed or
 * interrupted cell), 2 bad input or setup, 3 inconclusive (0 with
 * --inconclusive=pass). */
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "run_flags.h"
#include "flowgate/ab_sides.h"
#include "flowgate/config.h"

#define AB_MAX_PAIRS 1000
#define AB_MAX_BUDGET_S 604800.0   /* a week */

typedef struct ab_flags {
    run_flags run;                 /* what both sides share, as in `flowgate run` */
    fg_ab_sides_opts ab;           /* the systems, sequential stopping, the comparison */
} ab_flags;

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
        "Ctrl-C (SIGTERM) at any moment: exit 1, one line on stderr saying where it\n"
        "stopped, both sides' results files marked interrupted.\n"
        "Exit: 0 no regression, 1 a regression (or missing, failed or interrupted cells),\n"
        "2 bad input or setup, 3 inconclusive.\n");
}

/* ---- flags -------------------------------------------------------------- */

static int parse_args(int argc, char **argv, const char **category, ab_flags *f, fg_err *err)
{
    memset(f, 0, sizeof *f);
    run_flags_init(&f->run);
    fg_ab_sides_opts *o = &f->ab;
    o->server = &run_flags_server_checks;
    o->alpha = o->beta = -1;
    o->budget_s = FG_AB_DEFAULT_BUDGET_S;
    o->min_pairs = FG_AB_DEFAULT_MIN_PAIRS;
    o->max_pairs = FG_AB_DEFAULT_MAX_PAIRS;
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
        if (!strcmp(a, name)) { NEED_VALUE(); o->field = v; continue; }
#define INT_FLAG(name, field, lo, hi) \
        if (!strcmp(a, name)) { \
            NEED_VALUE(); \
            if (fg_parse_int(a, v, lo, hi, &o->field, err)) return -1; \
            continue; \
        }
#define NUM_FLAG(name, field, lo, hi) \
        if (!strcmp(a, name)) { \
            NEED_VALUE(); \
            if (fg_parse_double(a, v, lo, hi, &o->field, err)) return -1; \
            continue; \
        }
        STR_FLAG("--a-nodes", side[0].nodes)
        STR_FLAG("--a-server", side[0].server)
        STR_FLAG("--a-endpoints", side[0].endpoints)
        STR_FLAG("--b-nodes", side[1].nodes)
        STR_FLAG("--b-server", side[1].server)
        STR_FLAG("--b-endpoints", side[1].endpoints)
        STR_FLAG("--a-data", side[0].data)
        STR_FLAG("--b-data", side[1].data)
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
    if (o->min_pairs > o->max_pairs)
        return fg_err_set(err, "--min-pairs %d is more than --max-pairs %d", o->min_pairs,
                          o->max_pairs);
    for (int s = 0; s < 2; s++)
        if (o->side[s].endpoints && (o->side[s].nodes || o->side[s].server))
            return fg_err_set(err, "--%c-endpoints is a running deployment: it excludes "
                              "--%c-nodes and --%c-server", "ab"[s], "ab"[s], "ab"[s]);
    if (o->b_slowdown > 0 && o->side[1].endpoints)
        return fg_err_set(err, "--b-slowdown changes the profile of B's embedded server: it "
                          "cannot apply to --b-endpoints");
    return 0;
}

int cmd_ab(int argc, char **argv)
{
    /* First: a stop at any moment from here ends as a stop (finish.h). */
    fg_run_catch_stop();
    for (int i = 1; i < argc; i++)
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            usage(stdout);
            return 0;
        }
    fg_err err = {{0}};
    const char *category;
    ab_flags f;
    fg_run_config base;
    if (parse_args(argc, argv, &category, &f, &err) != 0 ||
        run_flags_apply(&f.run, category, &base, &err) != 0) {
        fprintf(stderr, "flowgate ab: %s\n", err.msg);
        return 2;
    }
    fg_log_threshold = base.log_level;
    f.ab.category = category;
    f.ab.base = &base;
    const fg_run_output o = {stdout, stderr, "flowgate ab"};
    return fg_ab_sides_run(&f.ab, &o);
}
