/* runner.h — a whole run: config, cluster (started or found), the images,
 * the matrix of cells. The one code path behind `flowgate run`, `flowgate
 * ab` and the cmocka suites, so they all produce the same JSON (runner.c). */
#ifndef FLOWGATE_RUNNER_H
#define FLOWGATE_RUNNER_H
#include <cjson/cJSON.h>
#include "flowgate/cluster.h"
#include "flowgate/config.h"

typedef struct fg_runner fg_runner;

/* Loads the workflow, resolves or starts the cluster, health-checks it. */
fg_runner *fg_runner_open(const fg_run_config *cfg, fg_err *err);
/* Runs one cell (ensures its image) and appends the entry to the run's
 * results, rewriting the results file atomically. *entry is borrowed. */
int fg_runner_cell(fg_runner *r, double input_mb, int concurrency,
                   const char *scheduler, const cJSON **entry, fg_err *err);
/* 1 when the workflow's input follows the size axis (the test image);
 * 0 for a fixed input (JSON, a file): callers run one cell per
 * concurrency and scheduler, and fg_runner_cell ignores input_mb. */
int fg_runner_input_sized(const fg_runner *r);
const char *fg_runner_results_path(const fg_runner *r);
/* The cluster the runner found or started (already health-checked). */
const fg_cluster *fg_runner_cluster(const fg_runner *r);
/* Category recorded in the following cells' entries (a `scale` run goes
 * through several categories into one results file). */
void fg_runner_set_category(fg_runner *r, const char *category);
/* The repeat index recorded by the following fg_runner_cell calls starts at
 * first_repeat (A/B runs run one repeat per call and set the pair index). */
void fg_runner_set_repeat(fg_runner *r, int first_repeat);
const cJSON *fg_runner_results(const fg_runner *r);
/* Writes the final results file, stops what open started. */
int fg_runner_close(fg_runner *r, fg_err *err);

#endif
