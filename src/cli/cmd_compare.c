/* cmd_compare.c — `flowgate compare BASE.json NEW.json [--tolerances F]
 * [--alpha A] [--paired] [--allow-insufficient]`: one verdict line per cell
 * (an experiment_id within its category; compare.h has the rules) and a
 * summary. A line starts with the verdict and the id, then "[category]"
 * when the id is in two categories.
 * Exit 0 when the comparison passes; 1 when it fails (a regression, or any
 * missing, extra, failed, interrupted or insufficient cell, or an
 * interrupted run: a gate that cannot see a cell must not pass it); 2 on bad
 * input: an unreadable file, or cells with the same id but a different
 * workload (one line each naming the cell and the field). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "flowgate/compare.h"
#include "flowgate/results.h"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: flowgate compare BASE.json NEW.json [--tolerances F] [--alpha A] [--paired]\n"
            "                        [--allow-insufficient]\n"
            "  per cell (an experiment_id within its category), over its repeats: the\n"
            "  Harrell-Davis median and p95 and the throughput of each repeat, compared by a\n"
            "  t-test on their logs (Welch; --paired: on the differences of repeat i of both\n"
            "  files), Benjamini-Hochberg at alpha across all cells and metrics; a metric\n"
            "  regressed when the test rejects and the ratio is beyond the tolerance.\n"
            "  The same tests on the per-repeat means over the cells judge the matrix as a\n"
            "  whole (a slowdown of every cell).\n"
            "  A verdict needs 3 repeats per side (--paired: 3 complete pairs).\n"
            "  --tolerances F  JSON {\"p50_ms\":0.05,\"p95_ms\":0.05,\"throughput_rps\":0.05,\n"
            "                  \"success_rate\":0.05,\"alpha\":0.01,\"confidence\":0.95,\n"
            "                  \"equivalence\":0.10,\"min_repeats\":3,\"matrix\":true,\n"
            "                  \"cells\":{\"<id>\":{\"p95_ms\":0.5}}}  (all optional)\n"
            "  --alpha A       false-alarm level of the whole comparison, default 0.01\n"
            "                  (overrides the file)\n"
            "  --paired        repeat i of BASE and NEW ran back to back (an A/B run)\n"
            "  --allow-insufficient  cells with too few repeats do not fail the comparison\n"
            "exit: 0 pass; 1 a regression, or a missing, extra, failed, interrupted or\n"
            "insufficient cell; 2 bad input (unreadable file, unlike cells)\n");
}

/* Loads a results file; the error line always names the file. */
static cJSON *load(const char *path)
{
    fg_err err;
    cJSON *root = fg_results_load(path, &err);
    if (!root) {
        if (strstr(err.msg, path))
            fprintf(stderr, "flowgate compare: %s\n", err.msg);
        else
            fprintf(stderr, "flowgate compare: %s: %s\n", path, err.msg);
    }
    return root;
}

int cmd_compare(int argc, char **argv)
{
    const char *paths[2] = {NULL, NULL}, *tolerances = NULL, *alpha_arg = NULL;
    int npaths = 0, paired = 0, allow_insufficient = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(argv[i], "--tolerances") || !strcmp(argv[i], "--alpha")) {
            if (i + 1 >= argc) {
                fprintf(stderr, "flowgate compare: %s needs a value\n", argv[i]);
                return 2;
            }
            if (!strcmp(argv[i], "--tolerances"))
                tolerances = argv[++i];
            else
                alpha_arg = argv[++i];
        } else if (!strcmp(argv[i], "--paired")) {
            paired = 1;
        } else if (!strcmp(argv[i], "--allow-insufficient")) {
            allow_insufficient = 1;
        } else if (argv[i][0] == '-' && argv[i][1]) {
            fprintf(stderr, "flowgate compare: unknown option '%s' (--help lists them)\n", argv[i]);
            return 2;
        } else if (npaths < 2) {
            paths[npaths++] = argv[i];
        } else {
            fprintf(stderr, "flowgate compare: unexpected argument '%s'\n", argv[i]);
            return 2;
        }
    }
    if (npaths != 2) {
        usage(stderr);
        return 2;
    }

    fg_compare_opts opts;
    fg_compare_opts_defaults(&opts);
    fg_err err;
    cJSON *tol_doc = NULL, *base = NULL, *new_ = NULL;
    int rc = 2;
    if (tolerances && fg_compare_opts_load(tolerances, &opts, &tol_doc, &err) != 0) {
        fprintf(stderr, "flowgate compare: %s\n", err.msg);
        return 2;
    }
    if (alpha_arg) {
        char *end;
        double a = strtod(alpha_arg, &end);
        if (end == alpha_arg || *end || !(a > 0 && a < 0.5)) {
            fprintf(stderr, "flowgate compare: --alpha '%s': expected a number in (0, 0.5)\n",
                    alpha_arg);
            goto out;
        }
        opts.alpha = a;
    }
    opts.paired = paired;
    opts.allow_insufficient = allow_insufficient;
    if (!(base = load(paths[0])) || !(new_ = load(paths[1]))) goto out;

    fg_compare_report report;
    if (fg_compare_results(base, paths[0], new_, paths[1], &opts, &report, &err) != 0) {
        fprintf(stderr, "flowgate compare: %s\n", err.msg);
        goto out;
    }
    printf("compare %s (BASE) vs %s (NEW): %s, BH alpha %g over %d tests, tolerance p50 +%.0f%%, "
           "p95 +%.0f%%, throughput -%.0f%%, success -%.0f points\n", paths[0], paths[1],
           opts.paired ? "paired repeats" : "unpaired repeats", opts.alpha, report.tests,
           100 * opts.p50_tolerance, 100 * opts.p95_tolerance, 100 * opts.throughput_tolerance,
           100 * opts.success_tolerance);
    char line[2048];
    for (int i = 0; i < report.n; i++) {
        const fg_cell_compare *c = &report.cells[i];
        fg_compare_format(c, line, sizeof line);
        printf("%s\n", line);
        if (c->verdict == FG_VERDICT_UNLIKE) {
            if (c->id_shared)
                fprintf(stderr, "flowgate compare: unlike cells: %s [%s] %s\n", c->experiment_id,
                        c->category[0] ? c->category : "no category", c->reason);
            else
                fprintf(stderr, "flowgate compare: unlike cells: %s %s\n", c->experiment_id,
                        c->reason);
        }
    }
    fg_compare_format_matrix(&report, line, sizeof line);
    if (line[0]) printf("%s\n", line);
    if (report.reason[0]) printf("compare: %s\n", report.reason);
    printf("compare: %d cells: %d regression, %d improvement, %d ok, %d insufficient data%s, "
           "%d missing, %d extra, %d failed, %d interrupted, %d unlike%s: %s\n", report.n,
           report.count[FG_VERDICT_REGRESSION], report.count[FG_VERDICT_IMPROVEMENT],
           report.count[FG_VERDICT_OK], report.count[FG_VERDICT_INSUFFICIENT],
           opts.allow_insufficient && report.count[FG_VERDICT_INSUFFICIENT] ? " (allowed)" : "",
           report.count[FG_VERDICT_MISSING], report.count[FG_VERDICT_EXTRA],
           report.count[FG_VERDICT_FAILED], report.count[FG_VERDICT_INTERRUPTED], report.unlike,
           report.matrix_verdict == FG_VERDICT_REGRESSION ? "; the matrix regressed" : "",
           report.unlike ? "BAD INPUT" : report.failed ? "FAIL" : "PASS");
    rc = report.unlike ? 2 : report.failed ? 1 : 0;
    fg_compare_report_free(&report);
out:
    cJSON_Delete(base);
    cJSON_Delete(new_);
    cJSON_Delete(tol_doc);
    return rc;
}
