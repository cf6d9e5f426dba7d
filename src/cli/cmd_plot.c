/* cmd_plot.c — `flowgate plot`: charts of one run, or of the newest run, or
 * of every run written since a stamp file (what the perf ctest fixture
 * uses to plot exactly the runs of one ctest session). The work is in
 * src/charts; this file only picks the results files. Ctrl-C (SIGTERM):
 * gnuplot is stopped, the temporaries removed (charts.h), exit 1 with one
 * line; a second one kills. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "commands.h"
#include "flowgate/charts.h"
#include "flowgate/config.h"
#include "flowgate/finish.h"
#include "flowgate/latest_results.h"
#include "flowgate/report_trends.h"
#include "flowgate/results.h"
#include "flowgate/stop.h"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: flowgate plot [RESULTS.json | --latest [--category C] | --since STAMP] [--out DIR]\n"
            "                     [--history]\n"
            "  RESULTS.json     a results file written by `flowgate run` or a suite\n"
            "  --latest         the newest results file in the results directory\n"
            "  --category C     with --latest: the newest of that category\n"
            "  --since STAMP    every results file modified after the file STAMP\n"
            "  --out DIR        charts go to DIR/<run-id>/ (default plots)\n"
            "  --results DIR    results directory (default $FLOWGATE_RESULTS_DIR or results)\n"
            "  --history        also the trend charts of the run's cells from the history,\n"
            "                   change points and A/B verdicts marked, in DIR/trends/\n"
            "Needs gnuplot (Debian: gnuplot-nox). A chart appears only whole; Ctrl-C keeps\n"
            "the finished ones, removes the rest and exits 1.\n");
}

/* A stop (Ctrl-C, SIGTERM): one line, exit 1. */
static int interrupted(const char *path, const char *dir)
{
    if (dir && *dir)
        fprintf(stderr, "flowgate plot: interrupted during plots of %s; the charts finished "
                "before it are in %s, no partial file left\n", path, dir);
    else
        fprintf(stderr, "flowgate plot: interrupted during plots, before %s\n", path);
    return FG_EXIT_FAIL;
}

/* The trend charts of the run's cells, beside its charts (<plots>/trends). */
static int plot_history(const char *path, const char *run_dir)
{
    fg_err err = {{0}};
    cJSON *results = fg_results_load(path, &err);
    if (!results) {
        fprintf(stderr, "flowgate plot: %s\n", err.msg);
        return 2;
    }
    char trends[1200];
    const char *slash = strrchr(run_dir, '/');
    snprintf(trends, sizeof trends, "%.*s/trends", slash ? (int)(slash - run_dir) : 1,
             slash ? run_dir : ".");
    fg_report_history rh;
    int have = 0, rc = fg_report_history_of_run(path, results, trends, &rh, &have, &err);
    cJSON_Delete(results);
    if (rc != 0) {
        fprintf(stderr, "flowgate plot: history: %s\n", err.msg);
        return 2;
    }
    if (!have)
        printf("trend charts: no history of %s (FLOWGATE_HISTORY off, or no run appended yet)\n",
               path);
    else
        printf("trend charts of %d cell%s in %s (%zu change point%s)\n", rh.charts,
               rh.charts == 1 ? "" : "s", trends, rh.n_changes, rh.n_changes == 1 ? "" : "s");
    fg_report_history_free(&rh);
    return 0;
}

static int plot_one(const char *path, const char *out, int with_history)
{
    fg_plot_summary s;
    memset(&s, 0, sizeof s);
    fg_err err = {{0}};
    if (fg_stop_requested()) return interrupted(path, NULL);
    if (fg_plot_results(path, out, &s, &err) != 0) {
        if (fg_stop_requested()) return interrupted(path, s.dir);
        fprintf(stderr, "flowgate plot: %s\n", err.msg);
        return 2;
    }
    printf("plots of %s (%d cells) in %s\n", path, s.cells, s.dir);
    return with_history ? plot_history(path, s.dir) : 0;
}

static int newer_than(const struct stat *st, const struct stat *stamp)
{
    if (st->st_mtim.tv_sec != stamp->st_mtim.tv_sec) return st->st_mtim.tv_sec > stamp->st_mtim.tv_sec;
    return st->st_mtim.tv_nsec > stamp->st_mtim.tv_nsec;
}

static int plot_since(const char *results_dir, const char *stamp_path, const char *out)
{
    struct stat stamp;
    if (stat(stamp_path, &stamp) != 0) {
        fprintf(stderr, "flowgate plot: %s: no such stamp file\n", stamp_path);
        return 2;
    }
    DIR *d = opendir(results_dir);
    if (!d) {
        fprintf(stderr, "flowgate plot: %s: cannot open the results directory\n", results_dir);
        return 2;
    }
    int rc = 0, plotted = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        size_t len = strlen(de->d_name);
        if (len < 6 || strcmp(de->d_name + len - 5, ".json") || !strcmp(de->d_name, "baseline.json"))
            continue;
        char path[1024];
        struct stat st;
        snprintf(path, sizeof path, "%s/%s", results_dir, de->d_name);
        if (stat(path, &st) != 0 || !S_ISREG(st.st_mode) || !newer_than(&st, &stamp)) continue;
        int one = plot_one(path, out, 0);
        plotted++;
        if (one == FG_EXIT_FAIL) {   /* stopped: that file's line said so */
            rc = one;
            break;
        }
        if (one != 0) rc = 2;
    }
    closedir(d);
    if (!plotted) printf("flowgate plot: no results written since %s: nothing to plot\n", stamp_path);
    return rc;
}

int cmd_plot(int argc, char **argv)
{
    /* First: a stop at any moment ends as a stop, its temporaries removed. */
    fg_run_catch_stop();
    const char *path = NULL, *out = "plots", *since = NULL, *category = NULL, *results_dir = NULL;
    int latest = 0, with_history = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int has_value = i + 1 < argc;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(a, "--latest")) {
            latest = 1;
        } else if (!strcmp(a, "--history")) {
            with_history = 1;
        } else if ((!strcmp(a, "--out") || !strcmp(a, "--since") || !strcmp(a, "--category") ||
                    !strcmp(a, "--results")) && has_value) {
            const char **slot = !strcmp(a, "--out") ? &out : !strcmp(a, "--since") ? &since
                              : !strcmp(a, "--category") ? &category : &results_dir;
            *slot = argv[++i];
        } else if (a[0] == '-') {
            fprintf(stderr, "flowgate plot: unknown option or missing value: %s\n", a);
            usage(stderr);
            return 2;
        } else if (!path) {
            path = a;
        } else {
            fprintf(stderr, "flowgate plot: one results file at a time (got %s and %s)\n", path, a);
            return 2;
        }
    }
    if (!!path + latest + !!since != 1) {
        fprintf(stderr, "flowgate plot: give exactly one of RESULTS.json, --latest, --since STAMP\n");
        usage(stderr);
        return 2;
    }
    if (path) return plot_one(path, out, with_history);

    fg_run_config cfg;
    fg_err err = {{0}};
    fg_config_defaults(&cfg);
    if (fg_config_apply_env(&cfg, &err) != 0) {
        fprintf(stderr, "flowgate plot: %s\n", err.msg);
        return 2;
    }
    if (!results_dir) results_dir = cfg.results_dir[0] ? cfg.results_dir : "results";
    if (since) return plot_since(results_dir, since, out);

    char found[1024];
    if (fg_plot_latest_results(results_dir, category, found, sizeof found, &err) != 0) {
        fprintf(stderr, "flowgate plot: %s\n", err.msg);
        return 2;
    }
    return plot_one(found, out, with_history);
}
