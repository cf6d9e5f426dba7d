/* scenario_run.h — `flowgate run scenarios` as one call (scenario_run.c):
 * the cells of a scenario plan (scenarios.h) through one runner, so one
 * results file holds them all (experiment entries plus "scenario_cells":
 * mean, sd and 95 % CI per cell), then the end of the run (finish.h). */
#ifndef FLOWGATE_SCENARIO_RUN_H
#define FLOWGATE_SCENARIO_RUN_H
#include <cjson/cJSON.h>
#include "flowgate/config.h"
#include "flowgate/finish.h"
#include "flowgate/scenarios.h"

/* Runs every cell of plan with cfg (its network replaced by each cell's;
 * cfg must name no endpoints: the network changes restart the embedded
 * server). A cell prior (an earlier results document, NULL: none) holds
 * complete with the same identity is copied, not rerun, unless override.
 * Prints one line per replicate run and one per cell (mean ± sd [CI]),
 * then ends the run against thresholds (NULL: none). The caller installed
 * the stop catcher first (fg_run_catch_stop), as for fg_matrix_run.
 * Returns the exit status (finish.h). */
int fg_scenarios_run(const fg_run_config *cfg, const fg_scenario_plan *plan, const cJSON *prior,
                     int override, const cJSON *thresholds, const fg_run_output *o);

#endif
