/* cmd_compare.c — `flowgate compare BASE.json NEW.json [--tolerances F]
 * [--alpha A] [--beta B] [--paired] [--inconclusive=fail|pass]`: one verdict
 * line per cell (an experiment_id within its category; compare.h has the
 * rule) and a summary. A line starts with the verdict and the id, then
 * "[category]" when the id is in two categories.
 * Exit 0 when every cell shows no regression; 1 when the comparison fails
 * (a regression, or any missing, extra, failed or interrupted cell, or an
 * interrupted run: a gate that cannot see a cell must not pass it); 3 when
 * a cell is inconclusive (0 with --inconclusive=pass); 2 on bad input: an
 * unreadable file, or cells with the same id but a different workload
 * (one line each naming the cell and the field). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "flowgate/compare.h"
#include "flowgate/results.h"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: flowgate compare BASE.json NEW.json [--tolerances F] [--alpha A] [--beta B]\n"
            "                        [--paired] [--inconclusive=fail|pass]\n"
            "  per cell (an experiment_id within its category), over its repeats: the\n"
            "  Harrell-Davis median and p95 and the throughput of each repeat, compared on\n"
            "  their logs (Welch; --paired: the differences of repeat i of both files).\n"
            "  Per metric: regression when \"NEW no worse than BASE\" is rejected at\n"
            "  alpha / (cells x metrics); no regression when \"NEW worse by the margin or\n"
            "  more\" is rejected at beta; else inconclusive. A cell regresses when any\n"
            "  metric does, and shows no regression when every metric does.\n"
            "  A verdict needs 3 repeats per side (--paired: 3 complete pairs).\n"
            "  --tolerances F  JSON {\"p50_ms\":0.10,\"p95_ms\":0,\"throughput_rps\":0.10 (margins),\n"
            "                  \"success_rate\":0.05,\"alpha\":0.01,\"beta\":0.05,\"confidence\":0.95,\n"
            "                  \"min_repeats\":3,\"cells\":{\"<id>\":{\"p95_ms\":0.5}}}  (all optional)\n"
            "  --alpha A       false-regression rate of the whole comparison (default 0.01)\n"
            "  --beta B        chance a +margin change passes as no regression (default 0.05)\n"
            "  --paired        repeat i of BASE and NEW ran back to back (an A/B run)\n"
            "  --inconclusive=pass  inconclusive cells exit 0 instead of 3\n"
            "exit: 0 no regression; 1 a regression, or a missing, extra, failed or\n"
            "interrupted cell; 2 bad input (unreadable file, unlike cells); 3 inconclusive\n");
}

/* "--alpha 0.01": a level in (0, 0.5), or -1 with the message printed. */
static double level_arg(const char *flag, const char *text)
{
    char *end;
    double a = strtod(text, &end);
    if (end == text || *end || !(a > 0 && a < 0.5)) {
        fprintf(stderr, "flowgate compare: %s '%s': expected a number in (0, 0.5)\n", flag, text);
        return -1;
    }
    return a;
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

/* The verdict per cell (a regression with its culprit), then the tally. */
static void print_report(const char *const paths[2], const fg_compare_opts *opts,
                         const fg_compare_report *report, int inconclusive_pass)
{
    char tail[32] = "watched";
    if (opts->p95_margin > 0) snprintf(tail, sizeof tail, "%.0f %%", 100 * opts->p95_margin);
    printf("compare %s (BASE) vs %s (NEW): %s, alpha %g over %d tests, beta %g; margins centre "
           "%.0f %%, throughput %.0f %%, tail %s, success -%.0f points\n", paths[0], paths[1],
           opts->paired ? "paired repeats" : "unpaired repeats", opts->alpha, report->tests,
           opts->beta, 100 * opts->p50_margin, 100 * opts->throughput_margin, tail,
           100 * opts->success_tolerance);
    char line[2048], culprit[4096];
    for (int i = 0; i < report->n; i++) {
        const fg_cell_compare *c = &report->cells[i];
        fg_compare_format(c, line, sizeof line);
        printf("%s\n", line);
        if (c->verdict == FG_VERDICT_REGRESSION) {
            fg_compare_format_culprit(c, culprit, sizeof culprit);
            fputs(culprit, stdout);
        }
        if (c->verdict == FG_VERDICT_UNLIKE) {
            if (c->id_shared)
                fprintf(stderr, "flowgate compare: unlike cells: %s [%s] %s\n", c->experiment_id,
                        c->category[0] ? c->category : "no category", c->reason);
            else
                fprintf(stderr, "flowgate compare: unlike cells: %s %s\n", c->experiment_id,
                        c->reason);
        }
    }
    if (report->reason[0]) printf("compare: %s\n", report->reason);
    printf("compare: %d cells: %d regression, %d no regression, %d inconclusive, %d missing, "
           "%d extra, %d failed, %d interrupted, %d unlike: %s%s\n", report->n,
           report->count[FG_VERDICT_REGRESSION], report->count[FG_VERDICT_NO_REGRESSION],
           report->count[FG_VERDICT_INCONCLUSIVE], report->count[FG_VERDICT_MISSING],
           report->count[FG_VERDICT_EXTRA], report->count[FG_VERDICT_FAILED],
           report->count[FG_VERDICT_INTERRUPTED], report->unlike,
           report->unlike ? "BAD INPUT" : fg_outcome_label(report->outcome),
           report->outcome == FG_OUTCOME_INCONCLUSIVE && inconclusive_pass
               ? " (passed as asked: --inconclusive=pass)" : "");
}

int cmd_compare(int argc, char **argv)
{
    const char *paths[2] = {NULL, NULL}, *tolerances = NULL, *alpha_arg = NULL, *beta_arg = NULL;
    int npaths = 0, paired = 0, inconclusive_pass = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(argv[i], "--tolerances") || !strcmp(argv[i], "--alpha") ||
                   !strcmp(argv[i], "--beta")) {
            if (i + 1 >= argc) {
                fprintf(stderr, "flowgate compare: %s needs a value\n", argv[i]);
                return 2;
            }
            const char **to = !strcmp(argv[i], "--tolerances") ? &tolerances
                            : !strcmp(argv[i], "--alpha") ? &alpha_arg : &beta_arg;
            *to = argv[++i];
        } else if (!strcmp(argv[i], "--paired")) {
            paired = 1;
        } else if (!strcmp(argv[i], "--inconclusive=pass") ||
                   !strcmp(argv[i], "--inconclusive=fail")) {
            inconclusive_pass = !strcmp(argv[i], "--inconclusive=pass");
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
    if (alpha_arg && (opts.alpha = level_arg("--alpha", alpha_arg)) < 0) goto out;
    if (beta_arg && (opts.beta = level_arg("--beta", beta_arg)) < 0) goto out;
    opts.paired = paired;
    if (!(base = load(paths[0])) || !(new_ = load(paths[1]))) goto out;

    fg_compare_report report;
    if (fg_compare_results(base, paths[0], new_, paths[1], &opts, &report, &err) != 0) {
        fprintf(stderr, "flowgate compare: %s\n", err.msg);
        goto out;
    }
    print_report(paths, &opts, &report, inconclusive_pass);
    rc = report.unlike ? FG_EXIT_BAD_INPUT
       : report.outcome == FG_OUTCOME_FAIL ? FG_EXIT_FAIL
       : report.outcome == FG_OUTCOME_INCONCLUSIVE && !inconclusive_pass ? FG_EXIT_INCONCLUSIVE
       : FG_EXIT_PASS;
    fg_compare_report_free(&report);
out:
    cJSON_Delete(base);
    cJSON_Delete(new_);
    cJSON_Delete(tol_doc);
    return rc;
}
