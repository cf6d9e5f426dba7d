/* matrix_run.h — `flowgate run <category>` as one call (matrix_run.c):
 * one or more categories' matrices (size x concurrency x scheduler; `scale`
 * is three) through one runner into one results file, one summary line
 * per experiment, then the end of the run (finish.h). */
#ifndef FLOWGATE_MATRIX_RUN_H
#define FLOWGATE_MATRIX_RUN_H
#include <cjson/cJSON.h>
#include "flowgate/config.h"
#include "flowgate/finish.h"

/* The whole run: the runner opened with run_cfg, each of the n_parts
 * categories' cells, and fg_run_finish against thresholds (NULL: none).
 * The caller installed the stop catcher first (fg_run_catch_stop): a stop
 * before the runner has its results file still leaves one
 * (fg_run_stopped_early). Returns the exit status (finish.h): 1 for any
 * stop, 2 for a failure to open or a setup error. */
int fg_matrix_run(const fg_run_config *run_cfg, const fg_run_config *parts, int n_parts,
                  const cJSON *thresholds, const fg_run_output *o);

#endif
