/* cmd_report.c — `flowgate report`: the report page of a run (the newest
 * when none is named). The page is built in src/report; this file reads
 * the flags and picks the results file; the trend charts and change
 * points come from the history the run was appended to (report_trends.h). */
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "flowgate/config.h"
#include "flowgate/latest_results.h"
#include "flowgate/report_page.h"
#include "flowgate/report_trends.h"
#include "flowgate/results.h"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: flowgate report [RESULTS.json] [--ab DIR] [--out FILE] [--plots DIR]\n"
            "  RESULTS.json   the run (default: the newest results file in the results directory)\n"
            "  --ab DIR       an A/B verdict dir (default: the newest ab-* beside the results\n"
            "                 whose B side ran the same commit)\n"
            "  --out FILE     the page (default <results dir>/report_<run-id>.html)\n"
            "  --plots DIR    where the charts are: DIR/<run-id>/, DIR/trends/ (default plots)\n"
            "  --results DIR  results directory (default $FLOWGATE_RESULTS_DIR or results)\n"
            "One self-contained HTML file: no script, nothing fetched, the charts inlined.\n");
}

int cmd_report(int argc, char **argv)
{
    fg_report_opts o = {0};
    const char *results_dir = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            return 0;
        } else if ((!strcmp(a, "--ab") || !strcmp(a, "--out") || !strcmp(a, "--plots") ||
                    !strcmp(a, "--results")) && i + 1 < argc) {
            const char **slot = !strcmp(a, "--ab") ? &o.ab_dir : !strcmp(a, "--out") ? &o.out_path
                              : !strcmp(a, "--plots") ? &o.plots_dir : &results_dir;
            *slot = argv[++i];
        } else if (a[0] == '-') {
            fprintf(stderr, "flowgate report: unknown option or missing value: %s\n", a);
            usage(stderr);
            return 2;
        } else if (!o.results_path) {
            o.results_path = a;
        } else {
            fprintf(stderr, "flowgate report: one run at a time (got %s and %s)\n", o.results_path, a);
            return 2;
        }
    }
    fg_err err = {{0}};
    char found[1024];
    if (!o.results_path) {
        fg_run_config cfg;
        fg_config_defaults(&cfg);
        if (fg_config_apply_env(&cfg, &err) != 0) {
            fprintf(stderr, "flowgate report: %s\n", err.msg);
            return 2;
        }
        if (!results_dir) results_dir = cfg.results_dir[0] ? cfg.results_dir : "results";
        if (fg_plot_latest_results(results_dir, NULL, found, sizeof found, &err) != 0) {
            fprintf(stderr, "flowgate report: %s\n", err.msg);
            return 2;
        }
        o.results_path = found;
    }
    cJSON *results = fg_results_load(o.results_path, &err);
    if (!results) {
        fprintf(stderr, "flowgate report: %s\n", err.msg);
        return 2;
    }
    /* The trends sit beside the run's charts; a history that fails is said
     * and the page made without it. */
    char trends[1100];
    snprintf(trends, sizeof trends, "%s/trends", o.plots_dir ? o.plots_dir : "plots");
    fg_report_history rh;
    if (fg_report_history_of_run(o.results_path, results, trends, &rh, &o.have_history, &err) != 0)
        fprintf(stderr, "flowgate report: history: %s\n", err.msg);
    o.results = results;
    o.changes = rh.changes;
    o.n_changes = rh.n_changes;
    fg_report_summary s;
    int rc = fg_report_page(&o, &s, &err);
    fg_report_history_free(&rh);
    cJSON_Delete(results);
    if (rc != 0) {
        fprintf(stderr, "flowgate report: %s\n", err.msg);
        return 2;
    }
    printf("report of run %s: %s (%d charts, %d trend charts, %s%s%s%s)\n", s.run_id, s.path,
           s.charts, s.trend_charts, o.have_history ? "" : "no history",
           o.have_history ? (o.n_changes ? "change points listed" : "no change points") : "",
           s.ab_dir[0] ? ", A/B " : "", s.ab_dir);
    if (s.charts_refused) printf("report: %d charts refused (see the page)\n", s.charts_refused);
    return 0;
}
