/* results.h — the one reader and writer of results JSON; plots, compare and
 * reports all go through it. Schema "flowgate-results/1" (README). */
#ifndef FLOWGATE_RESULTS_H
#define FLOWGATE_RESULTS_H
#include <cjson/cJSON.h>
#include "flowgate/common.h"

#define FG_RESULTS_SCHEMA "flowgate-results/1"

/* Why an invocation failed: the keys of a function's "errors" object.
 * "client": the driver itself could not make the request (no file
 * descriptor, no memory); it says nothing about the node. */
typedef enum fg_fail_class {
    FG_FAIL_TIMEOUT, FG_FAIL_CONNECT, FG_FAIL_HTTP, FG_FAIL_MALFORMED, FG_FAIL_FUNCTION,
    FG_FAIL_CLIENT, FG_FAIL_CLASSES
} fg_fail_class;
extern const char *const fg_fail_class_names[FG_FAIL_CLASSES];

/* Loads and checks the schema tag and the required fields. */
cJSON *fg_results_load(const char *path, fg_err *err);
int    fg_results_save(const char *path, const cJSON *root, fg_err *err);  /* atomic */
/* The text fg_results_save writes (ends in a newline; caller frees), for
 * a command that writes results to stdout. */
char  *fg_results_text(const cJSON *root, size_t *len, fg_err *err);
/* Creates a new results file: complete or not at all (never seen empty or
 * half written), and never over an existing file: 1 when path exists
 * already (the caller picks another name), 0 created, -1 error. */
int    fg_results_create(const char *path, const cJSON *root, fg_err *err);
/* Creates a new run's file in dir (made if missing) with fg_results_create:
 * [scale_]experiment_results_<id>.json, <id> the local time's
 * YYYYmmdd-HHMMSS, then -2, -3 ... while the name is taken (two runs in one
 * second). run.id in root is set to the id taken, before the file is
 * written; *path gets the file's name. 0, or -1 on an error. */
int    fg_results_create_run(const char *dir, int scale_prefix, cJSON *root, char *path,
                             size_t path_size, fg_err *err);
/* 1 when name (a file name, no directory) is a finished run's results
 * file, [scale_]experiment_results_<id>.json with <id> digits and '-'
 * (runner.c's stamp): never the writers' temporaries (<name>.new.<pid>,
 * <name>.tmp.<pid>), which exist only while a file is written. */
int fg_results_is_file_name(const char *name);
/* Experiments array of a loaded root, and lookup by id (+ repeat). */
const cJSON *fg_results_experiments(const cJSON *root);
const cJSON *fg_results_find(const cJSON *root, const char *experiment_id, int repeat);
/* An experiment's "category": "" when absent (older files), NULL when not a
 * string. A scale file holds the same experiment_id + repeat under several
 * categories, so (category, experiment_id) names a cell. */
const char *fg_results_category(const cJSON *experiment);
/* fg_results_find within one category ("" = entries without one); NULL = any. */
const cJSON *fg_results_find_in(const cJSON *root, const char *category,
                                const char *experiment_id, int repeat);
/* A metric by threshold name or dotted path: "p95_ms", "success_rate",
 * "timeouts", "throughput_rps", "latency_ms.p99", "functions.recognizer__extract.exec_ms.p50".
 * Returns 0 and *out on success, -1 when the metric does not exist. */
int fg_results_metric(const cJSON *experiment, const char *name, double *out);

#endif
