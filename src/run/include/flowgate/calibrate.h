/* calibrate.h — the `ours` scheduler's cost model measured (calibrate.c):
 * the exec time of every function of a workflow on every node at several
 * input sizes, fitted as t = alpha * size_mb ^ eta (profile.c) per function
 * and node.
 *
 * The requests are those of a run (probe.c): the payload (for the image
 * kind the test image of each size) into the functions reading the inputs,
 * each later function fed the real outputs of those it reads, by reference
 * on the same node. The size of a point is the function's own input size,
 * as the scheduler counts it when it places the function. Each point is
 * the median of `reps` invocations of the server's own exec_ms (queueing
 * and network excluded: the scheduler models those separately). Requests
 * are sent one at a time so a measurement never competes with another.
 * Answers marked cold_start (a worker's first use, e.g. loading the OCR
 * engine) are discarded and repeated, since the model is for warm workers,
 * and so is the first warm answer per function and node (a worker's first
 * real use still loads lazily). The server hands sequential requests to
 * the same idle worker, so that worker is the one measured. A function
 * whose input does not grow with the workflow's (its sizes span less than
 * 1.5x, e.g. the recognizer's text steps, or any function of a fixed JSON
 * input) has no slope to fit: eta = 0 and alpha = the median of its points
 * (R² does not apply: NAN, null in the file). */
#ifndef FLOWGATE_CALIBRATE_H
#define FLOWGATE_CALIBRATE_H
#include <stdio.h>
#include "flowgate/cluster.h"
#include "flowgate/common.h"
#include "flowgate/sched.h"
#include "flowgate/workflow.h"

#define FG_CALIBRATE_MAX_SIZES 12
#define FG_CALIBRATE_MAX_REPS 50
#define FG_CALIBRATE_MIN_MB 0.05      /* the image generator's limits */
#define FG_CALIBRATE_MAX_MB 64.0

typedef struct fg_calibrate_opts {
    const char *name;            /* the profile's */
    const char *endpoints;       /* NULL: FLOWGATE_ENDPOINTS or the embedded nodes */
    const fg_workflow *wf;
    const double *sizes_mb;      /* the image sizes (any order); a fixed input has one pass */
    int n_sizes;                 /* 1 .. FG_CALIBRATE_MAX_SIZES */
    int reps;                    /* invocations per point, 1 .. FG_CALIBRATE_MAX_REPS */
} fg_calibrate_opts;

typedef struct fg_calibration {
    fg_profile profile;          /* alpha, eta, R² per function and node (NAN: not measured) */
    /* Per function and node: the points in size order, or why there is none. */
    int n_points[FG_MAX_FUNCTIONS][FG_MAX_NODES];
    double size_mb[FG_MAX_FUNCTIONS][FG_MAX_NODES][FG_CALIBRATE_MAX_SIZES];
    double exec_ms[FG_MAX_FUNCTIONS][FG_MAX_NODES][FG_CALIBRATE_MAX_SIZES];
    char error[FG_MAX_FUNCTIONS][FG_MAX_NODES][200];
    int missing;                 /* function x node pairs not measured (the fallback model's) */
    double started_ms;           /* fg_now_mono_ms when measuring began */
} fg_calibration;

/* Measures and fits; one progress line per size to progress (NULL:
 * none). The cluster is resolved (or started) and stopped here. NULL and
 * err when nothing could be measured; free() the result. */
fg_calibration *fg_calibrate(const fg_calibrate_opts *o, FILE *progress, fg_err *err);

#endif
