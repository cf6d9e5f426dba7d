/* scenario_run.c — the scenario cells of a plan, one after the other
 * (design in scenario_run.h). One runner for the whole plan: a cell's
 * network is set on the running server, so only a change of it restarts
 * anything, and the first cell's network is the one the server starts
 * with. Finding the earlier run to resume from is the caller's (it picks
 * a results file; this only compares identities). */
#include "flowgate/scenario_run.h"

#include <stdio.h>

#include "flowgate/engine.h"
#include "flowgate/log.h"
#include "flowgate/results.h"
#include "flowgate/stop.h"

/* "p50 812.3 ± 40.1 ms [CI 712.7, 911.9]" from a cell summary. */
static void print_cell(FILE *out, const char *id, const cJSON *summary, int resumed)
{
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(summary, "metrics");
    fprintf(out, "%s%s:", id, resumed ? " (kept from the earlier run)" : "");
    static const char *const show[] = {"p50_ms", "p95_ms", "throughput_rps"};
    for (int i = 0; i < 3; i++) {
        const cJSON *s = cJSON_GetObjectItemCaseSensitive(m, show[i]);
        const cJSON *mean = cJSON_GetObjectItemCaseSensitive(s, "mean");
        const cJSON *sd = cJSON_GetObjectItemCaseSensitive(s, "sd");
        const cJSON *ci = cJSON_GetObjectItemCaseSensitive(s, "ci95");
        if (!cJSON_IsNumber(mean)) {
            fprintf(out, "  %s n/a", show[i]);
            continue;
        }
        fprintf(out, "  %s %.4g", show[i], mean->valuedouble);
        if (cJSON_IsNumber(sd))
            fprintf(out, " ± %.3g [CI %.4g, %.4g]", sd->valuedouble,
                    cJSON_GetArrayItem(ci, 0)->valuedouble, cJSON_GetArrayItem(ci, 1)->valuedouble);
    }
    fprintf(out, "\n");
    fflush(out);
}

int fg_scenarios_run(const fg_run_config *cfg, const fg_scenario_plan *plan, const cJSON *prior,
                     int override, const cJSON *thresholds, const fg_run_output *o)
{
    fg_err err = {{0}};
    /* The first cell's network from the start: no restart for it. */
    fg_run_config c = *cfg;
    c.bandwidth_mbit = plan->cells[0].bandwidth_mbit;
    c.latency_ms = plan->cells[0].latency_ms;
    int status = 0, i = 0;
    /* The caller's catcher is in place: a stop before the runner has its
     * results file still leaves one. */
    fg_runner *r = fg_stop_requested() ? NULL : fg_runner_open(&c, &err);
    if (!r) {
        if (fg_stop_requested()) {
            if (err.msg[0]) fg_log(FG_LOG_DEBUG, "after the stop: %s", err.msg);
            return fg_run_stopped_early(&c, o);
        }
        fprintf(o->errs, "%s: %s\n", o->who, err.msg);
        return FG_EXIT_BAD_INPUT;
    }
    fg_stop_set_phase(FG_RUN_PHASE_CELLS);
    for (; i < plan->n_cells && !fg_stop_requested(); i++) {
        int resumed, first, count;
        if (fg_scenario_run_cell(r, plan, &plan->cells[i], prior, override, &resumed, &first,
                                 &count, &err) != 0) {
            /* A failure after a stop is the stop's: the run ends as interrupted. */
            if (fg_stop_requested()) {
                fg_log(FG_LOG_DEBUG, "after the stop: %s", err.msg);
                break;
            }
            fprintf(o->errs, "%s: %s\n", o->who, err.msg);
            status = FG_EXIT_BAD_INPUT;
            break;
        }
        const cJSON *exps = fg_results_experiments(fg_runner_results(r));
        if (!resumed)
            for (int k = first; k < first + count; k++)
                fg_run_print_summary(o->out, cJSON_GetArrayItem(exps, k));
        const cJSON *cells = cJSON_GetObjectItemCaseSensitive(fg_runner_results(r),
                                                              "scenario_cells");
        print_cell(o->out, plan->cells[i].id,
                   cJSON_GetArrayItem(cells, cJSON_GetArraySize(cells) - 1), resumed);
    }
    return fg_run_finish(r, thresholds, c.results_dir, i == plan->n_cells, status,
                         c.inconclusive_pass, o);
}
