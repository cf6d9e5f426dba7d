/* changepoint.h — where a metric's level changed in its history (one value
 * per run, runs in commit order), and whether the newest runs began a worse
 * level: the decision of `flowgate history check`.
 *
 * The method is Hunter's / Apache Otava's: E-Divisive means (Matteson &
 * James 2014, the energy statistic with alpha = 1) proposes where each
 * stretch of the series splits best, a t-test between the two sides decides
 * whether the split is real (no permutations: deterministic), and a merge
 * pass drops the least significant change point and re-tests its neighbours
 * until every one left has p <= max_p and |change| >= min_magnitude.
 * changepoint.c says where it differs from Otava and why.
 *
 * Defaults (a zero field, or o == NULL, takes them), tuned on the
 * simulations of tests/unit/test_changepoint.c (2 % Gaussian noise a run):
 *   max_p         0.005  not Otava's 0.001: after 5 runs of a +5 % step
 *                        (40 runs before), 0.001 finds it within 3 runs of
 *                        the step in ~93 % of series (the t-test alone
 *                        reaches 0.001 in ~95 %), 0.005 in ~96 %, for ~0.3
 *                        false change points per 200 flat runs instead of
 *                        0.04. Proposals are tested at 10 x max_p, as in
 *                        Otava.
 *   min_segment   3      a level needs 3 runs: one slow run is not a level,
 *                        and 5 runs after a step leave room for the split to
 *                        land a run or two late.
 *   min_magnitude 0.01   changes under 1 % are not reported: below what
 *                        anyone acts on, though a quiet metric proves them.
 * Values are expected positive (latency, throughput): changes are relative
 * to the level before. */
#ifndef FLOWGATE_CHANGEPOINT_H
#define FLOWGATE_CHANGEPOINT_H
#include <stddef.h>

#include "flowgate/common.h"

typedef struct fg_cp_opts {
    double max_p;           /* significance a change point must reach */
    size_t min_segment;     /* fewest runs in a level */
    double min_magnitude;   /* smallest |change| reported */
} fg_cp_opts;

typedef struct fg_change_point {
    size_t index;                   /* first run of the new level */
    double mean_before, mean_after; /* the levels either side, up to the neighbouring change
                                     * points: means after clipping runs beyond 4 MADs of the
                                     * level's median (changepoint.c) */
    double change;                  /* mean_after / mean_before - 1 */
    double ci_lo, ci_hi;            /* 95 % interval of change */
    double p;                       /* two-sided p of Student's t between the two levels */
} fg_change_point;

/* The change points of x[0..n), in index order, into *out (malloc'd, the
 * caller frees it; NULL when *n_out is 0). n below 2 * min_segment has none.
 * Fails (-1, err names the index) on a NaN or infinite value, or when out of
 * memory. */
int fg_changepoints(const double *x, size_t n, const fg_cp_opts *o, fg_change_point **out,
                    size_t *n_out, fg_err *err);

typedef struct fg_cp_verdict {
    int worse;              /* 1: red, the newest level is worse by more than the margin */
    double change;          /* newest level / reference - 1; 0 when no change point is recent */
    double ci_lo, ci_hi;    /* its 95 % interval */
    size_t level_from;      /* first index of the newest level */
    size_t reference_from, reference_to; /* the reference level [from, to); empty when no
                                          * change point is recent */
} fg_cp_verdict;

/* Did the newest runs begin a worse level? The change points of x whose new
 * level begins within the last `window` runs (0: 10) are the recent ones;
 * the reference is the level before the earliest of them, the newest level
 * the one after the last change point. Red when the newest level is worse
 * than the reference by more than `margin` (relative, 0.05 = 5 %): higher
 * when higher_is_worse (latency), lower otherwise (throughput). Comparing
 * with the level before the recent change points, not with the previous
 * level, is what catches a creep: +1 % a commit for 10 commits splits into
 * steps each inside the margin that add up to +10 %. No recent change point,
 * or n too small for any, is not red. Errors as fg_changepoints. */
int fg_changepoints_check(const double *x, size_t n, int higher_is_worse, double margin,
                          size_t window, const fg_cp_opts *o, fg_cp_verdict *v, fg_err *err);

#endif
