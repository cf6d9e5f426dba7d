/* charts.c — `flowgate plot RESULTS.json` (charts.h): the one place that
 * looks at a results file and picks its charts. The run's charts (plot.c)
 * and the scenario report (scenario_report.c) know nothing of each other;
 * deciding here keeps the calls one way, from this file down. */
#include "flowgate/charts.h"

#include <stdio.h>
#include <string.h>

#include "flowgate/json.h"
#include "flowgate/results.h"
#include "flowgate/scenario_report.h"
#include "flowgate/stop.h"
#include "gnuplot.h"

static int usable_as_dir(const char *name)
{
    return name && *name && !strchr(name, '/') && strcmp(name, ".") && strcmp(name, "..");
}

/* The run's charts (plot.h) of a results document; none drawn when no
 * cell was measured (the caller says so). */
static int run_charts(const cJSON *results, const char *results_path, const char *dir,
                      fg_plot_summary *s, fg_err *err)
{
    int rc = fg_plot_write_data(results, results_path, dir, s, err);
    if (rc == 0 && s->cells > 0) rc = fg_plot_render(s, err);
    return rc;
}

/* The charts of one category of a results root: a view holding the run and
 * references to that category's experiments (nothing is copied). */
static int plot_category(cJSON *root, const char *category, const char *results_path,
                         const char *dir, fg_plot_summary *s, fg_err *err)
{
    cJSON *view = cJSON_CreateObject();
    cJSON *run = cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(root, "run"), 1);
    cJSON *exps = cJSON_CreateArray();
    if (!view || !run || !exps) {
        cJSON_Delete(view); cJSON_Delete(run); cJSON_Delete(exps);
        return fg_err_set(err, "out of memory");
    }
    cJSON_DeleteItemFromObjectCaseSensitive(run, "category");
    cJSON_AddStringToObject(run, "category", category);
    cJSON_AddItemToObject(view, "run", run);
    cJSON_AddItemToObject(view, "experiments", exps);
    cJSON *e;
    cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(root, "experiments")) {
        const char *c = fg_results_category(e);
        if (c && !strcmp(c, category)) cJSON_AddItemReferenceToArray(exps, e);
    }
    int rc = run_charts(view, results_path, dir, s, err);
    cJSON_Delete(view);
    return rc;
}

/* The charts of root into dir (the staging folder): a scenario report, one
 * set of run charts, or a set per category. */
static int plot_into(cJSON *root, const char *results_path, const char *dir, fg_plot_summary *s,
                     fg_err *err)
{
    /* Scenario runs vary rate and network as well as size and concurrency:
     * they get their own per-scenario charts and table. */
    if (fg_scenario_report_applies(root)) {
        memset(s, 0, sizeof *s);
        snprintf(s->category, sizeof s->category, "scenarios");
        return fg_scenario_report(root, dir, 1, &s->cells, err);
    }

    /* A scale file holds several categories whose cells can share an id
     * (5 MB conc 10 is in large_input and in extreme): each category gets
     * its own charts in <dir>/<category>/, so no point mixes two experiments. */
    const char *cats[16];
    int n_cats = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, fg_results_experiments(root)) {
        /* Entries without a category (older files) go with a single-category
         * file; a multi-category file charts only what it can place. */
        const char *c = fg_results_category(e);
        if (!c || !*c) continue;
        int seen = 0;
        for (int i = 0; i < n_cats; i++) seen |= !strcmp(cats[i], c);
        if (!seen && n_cats < 16) cats[n_cats++] = c;
    }
    if (n_cats <= 1) return run_charts(root, results_path, dir, s, err);
    int cells = 0, rc = 0;
    for (int i = 0; i < n_cats && rc == 0; i++) {
        char sub[1400];
        if (!usable_as_dir(cats[i]))
            return fg_err_set(err, "%s: category '%s' not usable as a directory name",
                              results_path, cats[i]);
        snprintf(sub, sizeof sub, "%s/%s", dir, cats[i]);
        rc = plot_category(root, cats[i], results_path, sub, s, err);
        cells += s->cells;
    }
    s->cells = cells;
    return rc;
}

int fg_plot_results(const char *results_path, const char *out_root, fg_plot_summary *s, fg_err *err)
{
    cJSON *root = fg_results_load(results_path, err);
    if (!root) return -1;
    const char *id = fg_json_string(cJSON_GetObjectItemCaseSensitive(root, "run"), "id");
    char dir[1024];
    if (!usable_as_dir(id)) {
        cJSON_Delete(root);
        return fg_err_set(err, "%s: run.id missing or not usable as a directory name", results_path);
    }
    snprintf(dir, sizeof dir, "%s/%s", out_root, id);
    /* Everything is drawn in a staging folder and moved into dir whole
     * (gnuplot.h): a stop or a failure leaves no partial file. */
    fg_plot_stage st;
    int rc = fg_plot_stage_open(&st, dir, err);
    if (rc == 0) {
        rc = plot_into(root, results_path, st.tmp, s, err);
        if (rc == 0 && fg_stop_requested()) rc = fg_err_set(err, "%s", FG_PLOT_INTERRUPTED);
        fg_err close_err;
        if (fg_plot_stage_close(&st, rc == 0, &close_err) != 0 && rc == 0) {
            *err = close_err;
            rc = -1;
        }
    }
    snprintf(s->dir, sizeof s->dir, "%s", dir);
    snprintf(s->run_id, sizeof s->run_id, "%s", id);
    cJSON_Delete(root);
    if (rc != 0) return -1;
    if (s->cells == 0) return fg_err_set(err, "%s: no measured cells to plot", results_path);
    return 0;
}
