/* matrix_run.h — `flowgate run <category>` as one call (matrix_run.c):
 * one or more categories' matrices (size x concurrency x scheduler; `scale`
 * is three) through one runner into one results file, one summary line
 * per experiment, then the end of the run (finish.h). */
#ifndef FLOWGATE_MATRIX_RUN_H
#define FLOWGATE_MATRIX_RUN_H
#include <cjson/cJSON.h>
#include "flowgate/config.h"
#include "flowgate/finish.h"

/* The whole run: the stop catcher, the runner opened with run_cfg, each
 * of the n_parts categories' cells, and fg_run_finish against thresholds
 * (NULL: none). Returns the exit status (finish.h); a stop while the
 * cluster comes up is 1, any other failure to open 2. */
int fg_matrix_run(const fg_run_config *run_cfg, const fg_run_config *parts, int n_parts,
                  const cJSON *thresholds, const fg_run_output *o);

#endif
