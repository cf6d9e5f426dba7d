/* matrix_run.c — `flowgate run <category>` (design in matrix_run.h). The
 * cells run in the order a category lists them (sizes the outer loop),
 * each for every scheduler; the summary of each entry is printed as it
 * lands, so a long run shows progress and an interrupted one what it had. */
#include "flowgate/matrix_run.h"

#include <stdio.h>

#include "flowgate/engine.h"
#include "flowgate/log.h"
#include "flowgate/stop.h"

/* Every cell of one category's matrix, the category recorded in its
 * entries; -1 on a setup error, 1 when a stop ended it before its last
 * cell, 0 when every cell ran. A failure after a stop is the stop's (an
 * aborted transfer, a cut wait): the run ends as interrupted, the error
 * only logged. */
static int run_cells(fg_runner *r, const fg_run_config *c, FILE *out, fg_err *err)
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
            if (fg_stop_requested()) return 1;
            const cJSON *results = fg_runner_results(r);
            int before = cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(results, "experiments"));
            const cJSON *entry;
            int rc = fg_runner_cell(r, cells[i].size_mb, cells[i].concurrency, c->schedulers[j],
                                    &entry, err);
            const cJSON *exps = cJSON_GetObjectItemCaseSensitive(results, "experiments");
            for (int e = before; e < cJSON_GetArraySize(exps); e++)
                fg_run_print_summary(out, cJSON_GetArrayItem(exps, e));
            if (rc != 0 && fg_stop_requested()) {
                fg_log(FG_LOG_DEBUG, "after the stop: %s", err->msg);
                return 1;
            }
            if (rc != 0) return -1;
        }
    return 0;
}

int fg_matrix_run(const fg_run_config *run_cfg, const fg_run_config *parts, int n_parts,
                  const cJSON *thresholds, const fg_run_output *o)
{
    fg_err err = {{0}};
    /* The caller's catcher is in place (fg_run_catch_stop): a stop before
     * the runner has a results file still leaves one. */
    fg_runner *r = fg_stop_requested() ? NULL : fg_runner_open(run_cfg, &err);
    if (!r) {
        if (fg_stop_requested()) {
            if (err.msg[0]) fg_log(FG_LOG_DEBUG, "after the stop: %s", err.msg);
            return fg_run_stopped_early(run_cfg, o);
        }
        fprintf(o->errs, "%s: %s\n", o->who, err.msg);
        return FG_EXIT_BAD_INPUT;
    }

    fg_stop_set_phase(FG_RUN_PHASE_CELLS);
    int status = 0, rc = 0;
    for (int i = 0; i < n_parts && rc == 0; i++)
        if ((rc = run_cells(r, &parts[i], o->out, &err)) < 0) {
            fprintf(o->errs, "%s: %s\n", o->who, err.msg);
            status = FG_EXIT_BAD_INPUT;
        }
    return fg_run_finish(r, thresholds, run_cfg->results_dir, rc == 0, status,
                         run_cfg->inconclusive_pass, o);
}
