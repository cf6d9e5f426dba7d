/* runner.h — a whole run: config, cluster (started or found), the images,
 * the matrix of cells. The one code path behind `flowgate run`, `flowgate
 * ab` and the cmocka suites, so they all produce the same JSON (runner.c). */
#ifndef FLOWGATE_RUNNER_H
#define FLOWGATE_RUNNER_H
#include <cjson/cJSON.h>
#include "flowgate/cluster.h"
#include "flowgate/config.h"
#include "flowgate/engine.h"

typedef struct fg_runner fg_runner;

/* Where a run is (stop.h's phase), so the line a stopped run ends with can
 * say where the stop came (finish.h puts it in words). The stop catcher
 * sets SETUP, fg_runner_open HEALTH while the nodes start and answer (and
 * back to what it found), the commands the rest. */
typedef enum fg_run_phase {
    FG_RUN_PHASE_SETUP = 1,   /* configuration, thresholds, workflow: before any request */
    FG_RUN_PHASE_HEALTH,      /* the nodes starting, the health wait */
    FG_RUN_PHASE_CELLS,       /* the cells, and the second after the last one */
    FG_RUN_PHASE_TABLE,       /* the threshold table; an A/B run's verdict */
    FG_RUN_PHASE_SAVE,        /* the final save of the results */
} fg_run_phase;

/* Loads the workflow, resolves or starts the cluster, health-checks it. */
fg_runner *fg_runner_open(const fg_run_config *cfg, fg_err *err);
/* Runs one cell (ensures its image) and appends the entry to the run's
 * results, rewriting the results file atomically. *entry is borrowed. */
int fg_runner_cell(fg_runner *r, double input_mb, int concurrency,
                   const char *scheduler, const cJSON **entry, fg_err *err);
/* A cell's experiment as fg_runner_cell builds it from the run's config
 * (its input loaded),
 * for a caller to adjust (id, open-loop stages...) and run with
 * fg_runner_experiment: `repeats` times, each appended and saved; repeat
 * k uses seed + its repeat index. */
int fg_runner_experiment_init(fg_runner *r, fg_experiment *x, double input_mb, int concurrency,
                              const char *scheduler, fg_err *err);
int fg_runner_experiment(fg_runner *r, const fg_experiment *x, int repeats,
                         const cJSON **entry, fg_err *err);
/* Sets every node's egress bandwidth and latency (a value < 0: the one it
 * had) on the running cluster, embedded or not (PUT /link); nothing when
 * they are already in force. A cluster flowgate did not start gets its
 * links back when the runner closes. An error for endpoints that are not
 * flowgate's node server. */
int fg_runner_set_network(fg_runner *r, double bandwidth_mbit, double latency_ms, fg_err *err);
/* Sends the data of the next experiments inline (1) or by reference (0);
 * a deployment that needs inline data keeps it whatever is asked. */
void fg_runner_set_inline(fg_runner *r, int inline_data);
/* The results' experiments array, for a caller that annotates or copies
 * entries; then fg_runner_save (with an optional top-level key = item,
 * taken, replacing one there) writes the file. */
cJSON *fg_runner_experiments(fg_runner *r);
int fg_runner_save(fg_runner *r, const char *key, cJSON *item, fg_err *err);
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
/* The cells are over: measures the machine in the second after the last
 * one (run.noise.after; waits for it; a stop cuts the wait short).
 * fg_runner_close does it if it was not done. */
void fg_runner_end_cells(fg_runner *r);
/* Writes the final results file, stops what open started. */
int fg_runner_close(fg_runner *r, fg_err *err);

#endif
