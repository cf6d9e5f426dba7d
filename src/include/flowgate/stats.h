/* stats.h — the statistics of the regression gate (src/lib/stats.c), pure
 * functions of sample arrays, public so tests can check each one directly.
 * compare.h includes this header. */
#ifndef FLOWGATE_STATS_H
#define FLOWGATE_STATS_H
#include <stdint.h>

/* qsort comparator: doubles in ascending order. */
int fg_cmp_double(const void *a, const void *b);

typedef struct fg_mwu {
    double u;           /* U of y: pairs with y > x, ties count 1/2 */
    double z;           /* (u - mean) / sd, no continuity correction */
    double p_greater;   /* one-sided p for "y tends to be larger" (continuity-corrected) */
    double p_less;      /* one-sided p for "y tends to be smaller" */
} fg_mwu;
/* Normal approximation with tie correction; -1 when a side is empty. */
int fg_mann_whitney(const double *x, int nx, const double *y, int ny, fg_mwu *out);
/* Cliff's delta of y against x from Mann–Whitney's U of y (nx, ny > 0):
 * P(y > x) - P(y < x), -1..1. */
double fg_cliffs_delta(double u, int nx, int ny);
/* Median of all y_j - x_i (exact up to 2e6 pairs, from quantile-thinned
 * samples above that). */
double fg_hodges_lehmann(const double *x, int nx, const double *y, int ny);
/* Percentile p in [0,100] of sorted values, linear interpolation. */
double fg_percentile_sorted(const double *sorted, int n, double p);
/* Harrell–Davis estimate of percentile p in (0,100): a Beta-weighted mean
 * of all order statistics, far steadier than one or two of them when the
 * tail is thin (the p95 of 60 samples). NAN when n == 0. */
double fg_hd_quantile(const double *sorted, int n, double p);
/* Bootstrap of the Harrell–Davis p95(y)/p95(x): *lo and *hi the lo_q and 1-lo_q quantiles of
 * the resampled ratio; deterministic for a given seed. */
int fg_bootstrap_p95_ratio(const double *x, int nx, const double *y, int ny, int resamples,
                           uint64_t seed, double lo_q, double *lo, double *hi);

#endif
