/* compare.h — the regression gate: like cells of a BASE and a NEW results
 * file judged on their repeats, the repeat being the unit of evidence.
 *
 * Why repeats: on a shared machine the samples of one repeat share its
 * drift (CPU frequency, neighbours, cache state), so pooling the samples of
 * all repeats and testing them as independent makes every small drift
 * "significant" (the old gate fired on no change in 3–19 % of cells). The
 * spread between repeats is the noise a verdict must beat.
 *
 * A cell is (category, experiment_id); its identity also covers mode,
 * rate_rps, variant, inline_data, scheduler, concurrency, input_bytes,
 * workflow and payload_sha256, each compared when present on both sides
 * (older files lack some). Like ids with unlike identity are an error
 * (FG_VERDICT_UNLIKE: bad input), never a regression.
 *
 * Per repeat r of a cell, from its latency_samples_ms:
 *   centre = log(Harrell–Davis median), tail = log(Harrell–Davis p95),
 *   throughput = log(throughput_rps) (absent: that repeat gives none).
 * Logs make ratios differences and the per-repeat spread near-symmetric.
 *   unpaired (a stored baseline): Welch's t-test on the per-repeat values of
 *     BASE vs NEW;
 *   paired (o->paired, an A/B run whose repeat i of both sides ran back to
 *     back): one-sample t-test on the per-pair differences (paired by the
 *     entries' "repeat"; a repeat on one side only is unpaired, named in the
 *     cell's reason and not used).
 * Each metric gives a one-sided p for "NEW worse" (latency up, throughput
 * down) and one for "NEW better", a ratio NEW/BASE = exp(mean difference)
 * and its t-based confidence interval.
 *
 * Multiple testing: Benjamini–Hochberg at q = alpha over every "worse"
 * p-value of the comparison (all cells × {centre, tail, throughput}). Under
 * the complete null (an A/A comparison: no cell changed) every rejection is
 * false, and BH then controls the family-wise false-alarm rate at alpha —
 * the "<= 1 % false alarms per comparison" target. Unlike Holm it keeps its
 * power when a slowdown hits every cell (then many p-values are small and
 * BH's thresholds k·alpha/m grow with them). "Better" p-values form their
 * own BH family.
 *
 * The matrix as a whole (o->matrix, on by default): a slower build usually
 * slows every cell, and with 5 repeats a cell's own test has only 4 degrees
 * of freedom. So each metric is also tested on the per-repeat means over
 * the cells (paired: the mean over cells of pair i's differences; a repeat
 * index is used when every included cell has it): averaging 9 cells cuts
 * the noise by ~3 while the repeat stays the unit of evidence, so the test
 * stays valid however the cells correlate. Included: cells with that metric
 * tested and no per-cell tolerance override, at least 2 of them. These 3
 * tests join the same BH family (under the complete null BH still bounds
 * the family-wise false-alarm rate at alpha). Simulated (9 cells, 5 pairs,
 * drift sigma 0.15 per repeat): +50 % on every cell is caught in ~83 % of
 * comparisons by the cell tests alone, ~98 % with the matrix tests.
 *
 * A metric regressed when its BH test rejects AND its ratio is beyond the
 * tolerance (latency ratio > 1 + tol, throughput ratio < 1 - tol): a real
 * but negligible change does not fail the gate. Improvements mirror that.
 * Success rate (ok/sent pooled over repeats) dropping by more than
 * success_tolerance is a regression on its own: failed requests have no
 * latency.
 *
 * A verdict needs min_repeats (3) repeats per side (paired: complete
 * pairs) with a value for every gated metric; fewer is "insufficient data",
 * which fails the comparison unless o->allow_insufficient.
 *
 * Missing (only in BASE), extra (only in NEW), failed (a repeat with no
 * latency sample or success rate 0) and interrupted cells (an entry marked
 * "interrupted") fail the comparison, one reason line each; so does a run
 * marked interrupted.
 *
 * decided (per cell): a regression is shown, or every gated ratio's
 * one-sided upper confidence bound (at o->confidence, in the "worse"
 * direction) is below 1 + o->equivalence_margin — more repeats would not
 * change the verdict. The A/B command stops adding repeats once every cell
 * is decided (report.decided).
 *
 * Sequential looks: run the comparison at a per-look alpha by setting
 * o->alpha (e.g. alpha / looks: Bonferroni over looks keeps the overall
 * false-alarm rate at alpha however many looks the budget allows); the
 * confidence bounds behind "decided" use o->confidence.
 *
 * Reported, not judged (effect sizes over the pooled samples): Mann–Whitney
 * p, pooled Harrell–Davis p95 ratio, Hodges–Lehmann shift, Cliff's delta. */
#ifndef FLOWGATE_COMPARE_H
#define FLOWGATE_COMPARE_H
#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdint.h>
#include "flowgate/common.h"
#include "flowgate/stats.h"

typedef struct fg_compare_opts {
    double alpha;                 /* 0.01: BH level per family (per look) */
    double p50_tolerance;         /* 0.05: latency centre may rise 5 % unflagged */
    double p95_tolerance;         /* 0.05: latency tail */
    double throughput_tolerance;  /* 0.05: NEW throughput may be up to 5 % lower */
    double success_tolerance;     /* 0.05: NEW success rate may be up to 5 points lower */
    double confidence;            /* 0.95: of the reported CI and the "decided" bound */
    double equivalence_margin;    /* 0.10: "decided equal" when every upper bound < 1.10 */
    int min_repeats;              /* 3 per side (paired: complete pairs) */
    int paired;                   /* 1: repeat i of BASE and NEW ran back to back (A/B) */
    int allow_insufficient;       /* 1: insufficient data does not fail the comparison */
    int matrix;                   /* 1 (default): also test the matrix as a whole */
    const cJSON *cells;           /* optional per-cell overrides {"<id>": {"p95_ms": 0.5,
                                     "p50_ms": 0.1, "throughput_rps": 0.3}} (for the id in
                                     every category), borrowed */
} fg_compare_opts;

void fg_compare_opts_defaults(fg_compare_opts *o);
/* Tolerances file: {"p50_ms": 0.05, "p95_ms": 0.05, "throughput_rps": 0.05, "success_rate": 0.05,
 * "alpha": 0.01, "confidence": 0.95, "equivalence": 0.10, "min_repeats": 3, "matrix": true,
 * "cells": {...}} —
 * every key optional; "_"-keys are comments; an unknown key is an error. *doc keeps the
 * overrides alive; cJSON_Delete it after use. */
int fg_compare_opts_load(const char *path, fg_compare_opts *o, cJSON **doc, fg_err *err);

typedef enum fg_verdict {
    FG_VERDICT_OK,
    FG_VERDICT_REGRESSION,
    FG_VERDICT_IMPROVEMENT,
    FG_VERDICT_INSUFFICIENT,
    FG_VERDICT_MISSING,       /* only in BASE */
    FG_VERDICT_EXTRA,         /* only in NEW */
    FG_VERDICT_FAILED,        /* a repeat with no latency sample / success rate 0 */
    FG_VERDICT_INTERRUPTED,   /* an entry marked interrupted */
    FG_VERDICT_UNLIKE,        /* same id, different workload: bad input */
    FG_VERDICT_COUNT
} fg_verdict;

const char *fg_verdict_name(fg_verdict v);   /* "ok", "regression", ... */

typedef enum fg_metric_kind { FG_METRIC_CENTRE, FG_METRIC_TAIL, FG_METRIC_THROUGHPUT,
                              FG_METRIC_COUNT } fg_metric_kind;

/* One gated metric of a cell, over per-repeat values (see the top). */
typedef struct fg_metric_compare {
    fg_verdict verdict;           /* ok / regression / improvement / insufficient */
    int n_base, n_new;            /* per-repeat values used (paired: both = pairs) */
    double base, new_;            /* geometric means of the per-repeat values (ms or rps) */
    double ratio;                 /* NEW/BASE = exp(mean log difference); NAN: not computed */
    double ci_lo, ci_hi;          /* two-sided CI of the ratio at o->confidence */
    double worse_bound;           /* one-sided bound in the "worse" direction at o->confidence
                                     (latency: upper, throughput: lower) */
    double df;                    /* t degrees of freedom */
    double p_worse, p_better;     /* one-sided t-test p-values */
    double q_worse, q_better;     /* Benjamini–Hochberg adjusted over the comparison */
    double tolerance;
} fg_metric_compare;

typedef struct fg_cell_compare {
    char experiment_id[128];
    char category[64];            /* "" when the entries carry none */
    int id_shared;                /* another cell has this id: the line names the category */
    fg_verdict verdict;           /* the cell's (worst of its metrics, or a failing state) */
    fg_verdict latency, throughput, success;   /* latency: worst of centre and tail */
    fg_metric_compare metric[FG_METRIC_COUNT];
    int decided;                  /* regression shown, or equivalence shown (see the top) */
    const char *only_in;          /* "BASE" or "NEW" when missing / extra */
    char reason[384];             /* one line: why the cell fails / notes (unpaired repeats) */
    int n_base, n_new;            /* pooled latency samples */
    int repeats_base, repeats_new;
    int pairs;                    /* paired: complete pairs */
    /* Reported effect sizes over the pooled samples; NAN when not computed. */
    double p_slower, p_faster;    /* one-sided Mann–Whitney p-values (not judged) */
    double cliffs_delta;          /* P(NEW > BASE) - P(NEW < BASE), -1..1 */
    double hl_shift_ms;           /* Hodges–Lehmann shift NEW - BASE */
    double p95_base, p95_new, p95_ratio;   /* pooled Harrell–Davis p95 */
    /* Success rate ok/sent pooled over repeats; NAN when nothing was sent. */
    double success_base, success_new;
} fg_cell_compare;

typedef struct fg_compare_report {
    fg_cell_compare *cells;
    int n;
    int count[FG_VERDICT_COUNT];  /* cells per verdict */
    int tests;                    /* p-values in the "worse" BH family */
    int base_interrupted, new_interrupted;   /* run.interrupted of either file */
    int failed;                   /* the comparison fails: any regression (a cell's or the
                                     matrix's), insufficient (unless
                                     allowed), missing, extra, unlike, failed or interrupted
                                     cell, or an interrupted run */
    int unlike;                   /* cells with unlike identity: bad input (exit 2) */
    int decided;                  /* a regression is shown or every cell is decided (or
                                     failed for a reason more repeats cannot cure) */
    char reason[256];             /* one line for a failure that is no cell's ("" if none) */
    /* The matrix as a whole (see the top); matrix_cells[k] == 0: metric k not tested. */
    fg_metric_compare matrix[FG_METRIC_COUNT];
    int matrix_cells[FG_METRIC_COUNT];
    fg_verdict matrix_verdict;    /* ok / regression / improvement (worst of the tested) */
} fg_compare_report;

/* Compares every cell; fails (-1) only on malformed input (no experiments
 * array, a sample that is not a number), naming the file (label, e.g. its
 * path; NULL: "BASE"/"NEW") and the cell. */
int fg_compare_results(const cJSON *base, const char *base_label, const cJSON *new_,
                       const char *new_label, const fg_compare_opts *o,
                       fg_compare_report *out, fg_err *err);
void fg_compare_report_free(fg_compare_report *r);
/* One line: verdict, cell, per-metric ratios with CI and adjusted p,
 * throughput, success, reason. The cell is its id, then " [category]"
 * when id_shared, so a line still starts "<verdict> <experiment_id>". */
void fg_compare_format(const fg_cell_compare *c, char *line, size_t size);
/* One line for the matrix test, "<verdict> (matrix of N cells): centre
 * x1.234 CI [...] q=..., ..."; "" when no metric was tested. */
void fg_compare_format_matrix(const fg_compare_report *r, char *line, size_t size);

#endif
