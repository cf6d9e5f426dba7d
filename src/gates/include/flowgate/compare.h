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
 * Per repeat r of a cell, from its latency_samples_ms (every measured
 * latency up to FG_MAX_LATENCY_SAMPLES, past it a uniform sample of that
 * many, latency_samples_total saying how many there were): a uniform
 * sample has the distribution of the whole, so its Harrell–Davis
 * quantiles and rank statistics estimate the same quantities, with the
 * spread of 10 000 values — far below the repeat-to-repeat spread that
 * decides here.
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
 * One decision rule, three outcomes. Per gated metric, on the per-repeat
 * log values turned into the "worse" direction (latency: log NEW/BASE;
 * throughput: log BASE/NEW), with a margin delta (per metric, per cell):
 *   regression:    the one-sided t-test of "worse ratio <= 1" rejects at
 *                  the look's alpha level;
 *   no regression: the one-sided t-test of "worse ratio >= 1 + delta"
 *                  rejects at the look's beta level (the change is shown
 *                  inside the margin);
 *   inconclusive:  neither (more pairs would be needed, or the noise is too
 *                  large to tell at this margin).
 * Between 1 and 1 + delta either outcome is acceptable. A metric with
 * margin 0 is watched: a regression fails it, but it need not be shown
 * inside a margin. The tail is watched by default: the p95 of one repeat's
 * 20-odd samples is its one or two largest, so its repeat-to-repeat spread
 * (measured: a 95 % interval of x0.75-x1.29 after 12 A/A pairs on a busy
 * machine, against x0.93-x1.09 for the median) would hold nearly every
 * verdict open at any margin a team would accept. A cell regresses
 * when any of its metrics does (or its success rate drops by more than
 * success_tolerance); it shows no regression when every gated metric does
 * at the same look; otherwise it is inconclusive. Improvements (the "better"
 * test rejecting at the alpha level) are reported, not gated.
 *
 * Error rates. alpha is the chance of a false red per comparison, over the
 * whole matrix and every look: the alpha family is every (cell, metric)
 * test, Bonferroni-split (alpha / tests), and each test's share is spent
 * over the looks (spending.h: o->look). beta is the chance that a change of
 * exactly +delta on a metric passes as "no regression", per metric over
 * every look; no multiplicity split is needed there, since a run passes
 * only if every cell shows no regression (an intersection-union test). One
 * comparison (flowgate compare) is one final look: levels alpha / tests and
 * beta. The A/B run (ab.h) looks repeatedly, passing each look's fraction.
 *
 * A verdict needs min_repeats (3) repeats per side (paired: complete
 * pairs); fewer is inconclusive ("insufficient data").
 *
 * Missing (only in BASE), extra (only in NEW), failed (a repeat with no
 * latency sample or success rate 0) and interrupted cells (an entry marked
 * "interrupted") fail the comparison, one reason line each; so does a run
 * marked interrupted.
 *
 * The culprit (paired comparisons): per repeat, the critical path's mean
 * parts (bottleneck.mean_ms: exec, queue, transfer, driver) and each
 * function's mean exec, queue and transfer per workflow (the mean times its
 * invocations per measured request) are compared pair by pair like the
 * metrics: added ms (mean difference, t interval) and ratio (geometric,
 * when every value is positive). They are ranked by added ms, and a share
 * of the added end-to-end mean latency is given, so a regressed cell says
 * "recognizer__extract exec x1.31 [1.22, 1.40]: 84 % of the added latency".
 *
 * Reported, not judged (effect sizes over the pooled samples): Mann–Whitney
 * p, pooled Harrell–Davis p95 ratio, Hodges–Lehmann shift, Cliff's delta. */
#ifndef FLOWGATE_COMPARE_H
#define FLOWGATE_COMPARE_H
#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdint.h>
#include "flowgate/common.h"
#include "flowgate/outcome.h"
#include "flowgate/stats.h"

typedef struct fg_compare_look {
    double t_prev, t;             /* information fractions of the previous look and this */
    int final;                    /* spend what is left of alpha and beta */
} fg_compare_look;

typedef struct fg_compare_opts {
    double alpha;                 /* 0.01: false red per comparison, every look together */
    double beta;                  /* 0.05: a +margin change passed as "no regression" */
    double p50_margin;            /* 0.10: latency centre (Harrell–Davis median) */
    double p95_margin;            /* 0: the tail is watched (see the top) */
    double throughput_margin;     /* 0.10: as a worse ratio, BASE/NEW */
    double success_tolerance;     /* 0.05: NEW success rate may be up to 5 points lower */
    double confidence;            /* 0.95: of the reported two-sided intervals */
    int min_repeats;              /* 3 per side (paired: complete pairs) */
    int paired;                   /* 1: repeat i of BASE and NEW ran back to back (A/B) */
    int tests;                    /* alpha family size; 0: cells x metrics of this comparison */
    int effect_sizes;             /* 1 (default): the pooled effect sizes too (reported only;
                                     the A/B run's intermediate looks skip them: they cost
                                     O(n^2) in pooled samples) */
    fg_compare_look look;         /* {0, 1, 1}: one final look */
    const cJSON *cells;           /* optional per-cell margins {"<id>": {"p95_ms": 0.5,
                                     "p50_ms": 0.1, "throughput_rps": 0.3}} (for the id in
                                     every category), borrowed */
} fg_compare_opts;

void fg_compare_opts_defaults(fg_compare_opts *o);
/* Tolerances file: {"p50_ms": 0.10, "p95_ms": 0 (watched), "throughput_rps": 0.10 (margins),
 * "success_rate": 0.05, "alpha": 0.01, "beta": 0.05, "confidence": 0.95, "min_repeats": 3,
 * "cells": {...}} — every key optional; "_"-keys are comments; an unknown key is an error.
 * *doc keeps the overrides alive; cJSON_Delete it after use. */
int fg_compare_opts_load(const char *path, fg_compare_opts *o, cJSON **doc, fg_err *err);

typedef enum fg_verdict {
    FG_VERDICT_NO_REGRESSION,
    FG_VERDICT_REGRESSION,
    FG_VERDICT_INCONCLUSIVE,
    FG_VERDICT_MISSING,       /* only in BASE */
    FG_VERDICT_EXTRA,         /* only in NEW */
    FG_VERDICT_FAILED,        /* a repeat with no latency sample / success rate 0 */
    FG_VERDICT_INTERRUPTED,   /* an entry marked interrupted */
    FG_VERDICT_UNLIKE,        /* same id, different workload: bad input */
    FG_VERDICT_COUNT
} fg_verdict;

const char *fg_verdict_name(fg_verdict v);   /* "no regression", "regression", ... */

typedef enum fg_metric_kind { FG_METRIC_CENTRE, FG_METRIC_TAIL, FG_METRIC_THROUGHPUT,
                              FG_METRIC_COUNT } fg_metric_kind;
extern const char *const fg_metric_names[FG_METRIC_COUNT];   /* "centre", "tail", "throughput" */

/* One gated metric of a cell, over per-repeat values (see the top). */
typedef struct fg_metric_compare {
    fg_verdict verdict;           /* no regression / regression / inconclusive */
    int improved;                 /* the "better" test rejected at the alpha level */
    int n_base, n_new;            /* per-repeat values used (paired: both = pairs) */
    double base, new_;            /* geometric means of the per-repeat values (ms or rps) */
    double ratio;                 /* NEW/BASE = exp(mean log difference); NAN: not computed */
    double ci_lo, ci_hi;          /* two-sided CI of the ratio at o->confidence */
    double df;                    /* t degrees of freedom */
    double p_regression;          /* one-sided p of "worse ratio <= 1" */
    double p_no_regression;       /* one-sided p of "worse ratio >= 1 + margin" */
    double p_better;              /* one-sided p of "worse ratio >= 1" */
    double alpha_level, beta_level;   /* the levels this look tested at */
    double margin;
} fg_metric_compare;

/* One part of the added latency (the culprit's candidates). */
typedef struct fg_culprit {
    char function[96];            /* "" for a critical-path part */
    char part[16];                /* exec, queue, transfer, driver */
    double added_ms;              /* mean over pairs of NEW - BASE, per workflow */
    double added_lo, added_hi;    /* its t interval at o->confidence */
    double ratio, ci_lo, ci_hi;   /* NEW/BASE (geometric); NAN when a value is 0 */
    double share;                 /* added_ms / the added end-to-end mean latency */
} fg_culprit;

#define FG_CULPRIT_MAX 48

typedef struct fg_cell_compare {
    char experiment_id[128];
    char category[64];            /* "" when the entries carry none */
    int id_shared;                /* another cell has this id: the line names the category */
    fg_verdict verdict;           /* the cell's outcome, or a failing state */
    fg_verdict latency, throughput, success;   /* latency: worst of centre and tail */
    fg_metric_compare metric[FG_METRIC_COUNT];
    const char *only_in;          /* "BASE" or "NEW" when missing / extra */
    char reason[384];             /* one line: why the cell fails / notes (unpaired repeats) */
    int n_base, n_new;            /* pooled latency samples */
    int repeats_base, repeats_new;
    int pairs;                    /* paired: complete pairs */
    /* The culprit (paired only): the critical path's parts, then the
     * functions' parts, each ranked by added ms, largest first. */
    double added_ms;              /* added end-to-end mean latency (NAN: not paired) */
    fg_culprit path[4], fn[FG_CULPRIT_MAX];
    int n_path, n_fn;
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
    int tests;                    /* the alpha family's size */
    int base_interrupted, new_interrupted;   /* run.interrupted of either file */
    fg_outcome outcome;           /* FAIL: a regression, a missing, extra, failed, unlike or
                                     interrupted cell, or an interrupted run; else
                                     INCONCLUSIVE: a cell is; else PASS */
    int unlike;                   /* cells with unlike identity: bad input (exit 2) */
    char reason[256];             /* one line for a failure that is no cell's ("" if none) */
} fg_compare_report;

/* Compares every cell; fails (-1) only on malformed input (no experiments
 * array, a sample that is not a number), naming the file (label, e.g. its
 * path; NULL: "BASE"/"NEW") and the cell. */
int fg_compare_results(const cJSON *base, const char *base_label, const cJSON *new_,
                       const char *new_label, const fg_compare_opts *o,
                       fg_compare_report *out, fg_err *err);
void fg_compare_report_free(fg_compare_report *r);
/* Recounts r->count and r->outcome from the cells (after a caller replaced
 * some, as the A/B run does with cells decided at earlier looks). */
void fg_compare_report_recount(fg_compare_report *r);
/* One line: verdict, cell, per-metric ratios with CI and p-values,
 * throughput, success, reason. The cell is its id, then " [category]"
 * when id_shared, so a line still starts "<verdict> <experiment_id>". */
void fg_compare_format(const fg_cell_compare *c, char *line, size_t size);
/* The culprit of a regressed cell, one line per part worth naming (the
 * largest critical-path parts and functions), "" when there is none. */
void fg_compare_format_culprit(const fg_cell_compare *c, char *text, size_t size);

#endif
