/* compare.h — the baseline regression gate: like cells (same category and
 * experiment_id; no category counts as "") of a BASE and a NEW results
 * file, the repeats of each cell pooled, judged by tests that hold up on a
 * noisy shared machine. A scale file holds one id under two categories
 * (exp_input5.0mb_conc10_ours is in large_input and extreme): two cells.
 *
 * Latency (end-to-end "latency_samples_ms", pooled over repeats; p95 is the
 * Harrell–Davis estimate, a weighted mean of all order statistics, far
 * steadier than the one or two samples the plain p95 rests on):
 *   regression  when Mann–Whitney's one-sided p ("NEW slower") < alpha AND
 *               the lower bound of the bootstrap CI of p95(NEW)/p95(BASE)
 *               exceeds 1 + p95 tolerance;
 *   improvement when p ("NEW faster") < alpha AND the CI's upper bound is
 *               below 1 / (1 + p95 tolerance).
 *   The CI is the two-sided percentile interval of the resampled ratio at
 *   the confidence level (95 % by default; the rank test carries alpha).
 * Throughput ("throughput_rps", one value per repeat):
 *   with >= 3 repeats on both sides: regression when the mean drops by more
 *   than the tolerance AND every NEW repeat is below the BASE minimum
 *   (improvement: gain beyond tolerance and every NEW repeat above the BASE
 *   maximum); with fewer repeats only a change beyond 2x the tolerance counts.
 * A cell regressed when either metric did; otherwise it is "insufficient
 * data" when either side has fewer than min_samples latency samples, an
 * improvement when either metric improved, else ok. Cells found in only
 * one file are "missing", listed, never dropped. Effect sizes (Cliff's
 * delta, Hodges–Lehmann shift) are reported, not judged. */
#ifndef FLOWGATE_COMPARE_H
#define FLOWGATE_COMPARE_H
#include <cjson/cJSON.h>
#include <stdint.h>
#include "flowgate/common.h"
#include "flowgate/stats.h"

typedef struct fg_compare_opts {
    double alpha;            /* 0.01 */
    double p95_tolerance;    /* 0.20: NEW p95 may be up to 20 % higher */
    double throughput_tolerance;  /* 0.20: NEW throughput may be up to 20 % lower */
    double success_tolerance;     /* 0.05: NEW success rate may be up to 5 points
                                     lower (pooled sent/ok over repeats); beyond
                                     that the cell regressed, whatever latency says,
                                     since failed requests have no latency samples */
    int resamples;           /* bootstrap resamples, 2000 */
    double confidence;       /* of the bootstrap CI, 0.95 */
    uint64_t seed;           /* bootstrap PRNG seed (fixed: same input, same CI) */
    int min_samples;         /* latency samples per side, 5 (the fewest with
                                which the test can reach p < 0.01) */
    const cJSON *cells;      /* optional per-cell overrides {"<id>": {"p95_ms": 0.5,
                                "throughput_rps": 0.3}} (for the id in every
                                category), borrowed */
} fg_compare_opts;

void fg_compare_opts_defaults(fg_compare_opts *o);
/* Tolerances file: {"p95_ms": 0.20, "throughput_rps": 0.20, "success_rate": 0.05, "alpha": 0.01,
 * "confidence": 0.95, "resamples": 2000, "seed": 1, "min_samples": 5,
 * "cells": {...}} — every key optional. *doc keeps the overrides alive; cJSON_Delete it after use. */
int fg_compare_opts_load(const char *path, fg_compare_opts *o, cJSON **doc, fg_err *err);

typedef enum fg_verdict {
    FG_VERDICT_OK,
    FG_VERDICT_REGRESSION,
    FG_VERDICT_IMPROVEMENT,
    FG_VERDICT_INSUFFICIENT,
    FG_VERDICT_MISSING,
} fg_verdict;

const char *fg_verdict_name(fg_verdict v);   /* "ok", "regression", ... */

typedef struct fg_cell_compare {
    char experiment_id[128];
    char category[64];            /* "" when the entries carry none */
    int id_shared;                /* another cell has this id: the line names the category */
    fg_verdict verdict;           /* the cell's: worst of latency and throughput */
    fg_verdict latency, throughput, success;
    const char *only_in;          /* "BASE" or "NEW" when missing */
    int n_base, n_new;            /* pooled latency samples */
    int repeats_base, repeats_new;
    /* Latency; NAN when not computed. */
    double p_slower, p_faster;    /* one-sided Mann–Whitney p-values */
    double cliffs_delta;          /* P(NEW > BASE) - P(NEW < BASE), -1..1 */
    double hl_shift_ms;           /* Hodges–Lehmann shift NEW - BASE */
    double p95_base, p95_new, p95_ratio, ratio_lo, ratio_hi;   /* Harrell–Davis p95 */
    /* Throughput; NAN when a side has no value. */
    double tp_base_mean, tp_new_mean, tp_change;   /* change: NEW/BASE - 1 */
    double tp_base_min, tp_base_max, tp_new_min, tp_new_max;
    /* Success rate ok/sent pooled over repeats; NAN when nothing was sent. */
    double success_base, success_new;
} fg_cell_compare;

typedef struct fg_compare_report {
    fg_cell_compare *cells;
    int n;
    int count[FG_VERDICT_MISSING + 1];   /* cells per verdict */
} fg_compare_report;

/* Compares every cell; fails only on malformed input (no experiments
 * array, a sample that is not a number), naming the file (label, e.g. its
 * path; NULL: "BASE"/"NEW") and the cell. */
int fg_compare_results(const cJSON *base, const char *base_label, const cJSON *new_,
                       const char *new_label, const fg_compare_opts *o,
                       fg_compare_report *out, fg_err *err);
void fg_compare_report_free(fg_compare_report *r);
/* One line: verdict, cell, p95 ratio with CI, shift, delta, p, throughput.
 * The cell is its id, then " [category]" when id_shared, so a line still
 * starts "<verdict> <experiment_id>". */
void fg_compare_format(const fg_cell_compare *c, char *line, size_t size);

#endif
