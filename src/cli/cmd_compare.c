/* cmd_compare.c — `flowgate compare BASE.json NEW.json [--tolerances F]
 * [--alpha A]`: one verdict line per cell (an experiment_id within its
 * category; compare.h has the rules) and a summary. A line starts with the
 * verdict and the id, then "[category]" when the id is in two categories.
 * Exit 1 when any cell regressed, 2 on bad input (one line naming the file
 * and the problem), 0 otherwise; missing cells are listed but do not fail
 * the gate. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "flowgate/compare.h"
#include "flowgate/results.h"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: flowgate compare BASE.json NEW.json [--tolerances F] [--alpha A]\n"
            "  per cell (an experiment_id within its category): Mann-Whitney U on the\n"
            "  latency samples (one-sided, NEW slower) and a bootstrap CI of the p95\n"
            "  ratio NEW/BASE; throughput across repeats.\n"
            "  --tolerances F  JSON {\"p95_ms\":0.20,\"throughput_rps\":0.20,\"alpha\":0.01,\n"
            "                  \"confidence\":0.95,\"resamples\":2000,\"min_samples\":5,\n"
            "                  \"cells\":{\"<id>\":{\"p95_ms\":0.5}}}  (all optional)\n"
            "  --alpha A       significance level, default 0.01 (overrides the file)\n"
            "exit: 0 no regression, 1 a cell regressed, 2 bad input\n");
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
    int npaths = 0;
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
    if (!(base = load(paths[0])) || !(new_ = load(paths[1]))) goto out;

    fg_compare_report report;
    if (fg_compare_results(base, paths[0], new_, paths[1], &opts, &report, &err) != 0) {
        fprintf(stderr, "flowgate compare: %s\n", err.msg);
        goto out;
    }
    printf("compare %s (BASE) vs %s (NEW): alpha %g, %g%% CI, tolerance p95 +%.0f%%, "
           "throughput -%.0f%%\n", paths[0], paths[1], opts.alpha, 100 * opts.confidence,
           100 * opts.p95_tolerance, 100 * opts.throughput_tolerance);
    char line[1024];
    for (int i = 0; i < report.n; i++) {
        fg_compare_format(&report.cells[i], line, sizeof line);
        printf("%s\n", line);
    }
    printf("compare: %d cells: %d regression, %d improvement, %d ok, %d insufficient data, "
           "%d missing\n", report.n, report.count[FG_VERDICT_REGRESSION],
           report.count[FG_VERDICT_IMPROVEMENT], report.count[FG_VERDICT_OK],
           report.count[FG_VERDICT_INSUFFICIENT], report.count[FG_VERDICT_MISSING]);
    rc = report.count[FG_VERDICT_REGRESSION] ? 1 : 0;
    fg_compare_report_free(&report);
out:
    cJSON_Delete(base);
    cJSON_Delete(new_);
    cJSON_Delete(tol_doc);
    return rc;
}
