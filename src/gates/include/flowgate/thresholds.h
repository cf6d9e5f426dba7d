/* thresholds.h — k6-style pass/fail expressions over an experiment's
 * metrics: "success_rate > 0.90", "timeouts == 0", "p95_ms < 5000", and
 * relative ones against a base (the A side of an A/B run or a baseline):
 * "p95_ms < 1.25 * base.p95_ms", "throughput_rps > 0.8 * base.throughput_rps".
 * data/thresholds.json: {"default": [...], "categories": {"standard": [...]},
 * "cells": {"exp_input10.0mb_conc50_ours": [...]}} — a cell's list
 * overrides its category's, which overrides the default.
 *
 * Absolute bounds are machine-bound: a cell measured at 50 ms on one
 * machine runs at 35 ms on a faster one, where "p50_ms < 85" would no
 * longer catch a 2x slowdown. So the document may say which machine its
 * numbers are in — "machine": {"probe_ms": P} (machine.h's probe there) —
 * and on load the probe runs here: factor = here / P multiplies the
 * absolute bounds of time metrics and divides those of rate metrics.
 * Relative bounds and unit-less ones (success_rate, timeouts) are never
 * scaled. FLOWGATE_MACHINE_SCALE=off applies the numbers as written.
 *
 * The machine's load during the cell scales them too (noise.h): an entry's
 * noise.foreign_cpu_share s (other processes' CPU over the measurement
 * window / (wall x cores)) widens an absolute time bound that contention
 * pushes against ("p50_ms < X") to X / (1 - min(s, 0.25)) and narrows a
 * rate bound ("throughput_rps > Y") to Y x (1 - min(s, 0.25)); when s is
 * beyond FG_NOISE_LIMIT such a check that still fails is inconclusive, not
 * failed: the machine was too busy to tell — unless it misses by more than
 * the contention can explain (limit / (1 - share), share at most 0.9),
 * which fails. A check that passes under
 * contention passes (contention only slows). Unit-less checks
 * (success_rate, timeouts, errors) and relative ones (their base ran under
 * its own conditions, an A/B pair under the same) are judged as before. */
#ifndef FLOWGATE_THRESHOLDS_H
#define FLOWGATE_THRESHOLDS_H
#include <cjson/cJSON.h>
#include "flowgate/common.h"
#include "flowgate/outcome.h"

typedef enum fg_cmp { FG_CMP_LT, FG_CMP_LE, FG_CMP_GT, FG_CMP_GE, FG_CMP_EQ, FG_CMP_NE } fg_cmp;

typedef struct fg_threshold {
    char text[128];     /* as written */
    char metric[96];
    fg_cmp cmp;
    double limit;       /* absolute: the limit; relative: the factor */
    int relative;       /* 1: limit * base.<base_metric> */
    char base_metric[96];
} fg_threshold;

/* "p95_ms < 5000" → t; bad expressions get a message naming the problem. */
int fg_threshold_parse(const char *text, fg_threshold *t, fg_err *err);

typedef struct fg_threshold_verdict {
    fg_threshold t;
    double actual;      /* NAN when the metric is missing (a failure) */
    double limit;       /* the limit applied (relative: factor * base value); NAN if none */
    int pass;
    int skipped;        /* relative threshold without a base: neither pass nor fail */
    int inconclusive;   /* failed while the machine was busier than the bounds
                           allow: neither pass nor fail (pass is 0) */
    double noise_share; /* the entry's noise.foreign_cpu_share; NAN when absent */
    char note[160];     /* why it failed, was skipped, inconclusive or widened
                           ("" otherwise), e.g. "p99_ms = n/a (12 samples; p99
                           needs >= 100)" */
} fg_threshold_verdict;

/* A cell's outcome (outcome.h): fail if any verdict failed, else
 * inconclusive if any is, else pass. */
fg_outcome fg_thresholds_outcome(const fg_threshold_verdict *v, int n);

/* Thresholds for a cell (category + experiment id) from a loaded
 * thresholds document; returns the count (<= max) or -1 on a bad document. */
int fg_thresholds_for(const cJSON *doc, const char *category, const char *experiment_id,
                      fg_threshold *out, int max, fg_err *err);
/* Evaluates all; returns the number that failed (inconclusive ones are not
 * counted: see fg_thresholds_outcome). Relative thresholds are skipped
 * ("skipped: no base"), not failed. */
int fg_thresholds_eval(const fg_threshold *ts, int n, const cJSON *experiment,
                       fg_threshold_verdict *out);
/* As fg_thresholds_eval, relative thresholds against base_experiment (the
 * same cell of the base run; NULL: skipped). A percentile absent because
 * the sample count cannot resolve it fails with a note saying so. */
int fg_thresholds_eval_base(const fg_threshold *ts, int n, const cJSON *experiment,
                            const cJSON *base_experiment, fg_threshold_verdict *out);

typedef enum fg_metric_unit { FG_UNIT_OTHER, FG_UNIT_TIME, FG_UNIT_RATE } fg_metric_unit;
/* Time: a path segment ends "_ms" or "_s"; rate: "_rps". */
fg_metric_unit fg_metric_unit_of(const char *metric);

typedef struct fg_machine_scale {
    double factor;        /* applied to time bounds (1: none) */
    double probe_ms;      /* this machine's probe (0: not run) */
    double reference_ms;  /* the document's machine.probe_ms (0: none) */
    int applied;
} fg_machine_scale;
/* Runs the probe when doc has "machine" (and FLOWGATE_MACHINE_SCALE is not
 * "off") and stores the factor in doc as machine.factor, which
 * fg_thresholds_for applies from then on. fg_thresholds_load calls it. */
int fg_thresholds_scale_to_machine(cJSON *doc, fg_machine_scale *out, fg_err *err);

/* "<", "<=", ... for printing. */
const char *fg_cmp_symbol(fg_cmp cmp);
/* Checks the whole document (every list, unknown keys; "_"-keys are
 * comments) so a typo fails every run, and every metric name against the
 * results grammar (a misspelt metric is an error at load naming the key
 * path and the metric); the error names the key path. */
int fg_thresholds_check(const cJSON *doc, fg_err *err);
/* Reads and checks a thresholds file; NULL and a message naming the file. */
cJSON *fg_thresholds_load(const char *path, fg_err *err);

#endif
