/* stats.h — the statistics of the regression gate (src/base/stats.c), pure
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
/* The Harrell–Davis weights of the n order statistics for percentile p in
 * (0,100) (malloc'd, n values summing to 1; NULL when n <= 0 or out of
 * memory): fg_hd_quantile is sum(sorted[i] * w[i]). They depend only on n
 * and p, so a caller with many samples of one size computes them once. */
double *fg_hd_weights(int n, double p);
/* Regularized incomplete beta I_x(a, b) (a, b > 0; x clamped to [0, 1]). */
double fg_beta_inc(double a, double b, double x);
/* Student's t with df > 0 degrees of freedom: P(T <= t), and the t with
 * P(T <= t) = p for p in (0, 1) (NAN outside). Infinite t is allowed. */
double fg_t_cdf(double t, double df);
double fg_t_quantile(double p, double df);

/* A t-test on a difference in means. */
typedef struct fg_ttest {
    double diff;        /* mean(y) - mean(x), or mean(d) for the paired test */
    double se;          /* its standard error */
    double df;          /* degrees of freedom (Welch–Satterthwaite for two samples) */
    double t;           /* diff / se; 0 when diff == se == 0, +-inf when only se == 0 */
    double p_greater;   /* one-sided p for "y larger" (the difference > 0) */
    double p_less;      /* one-sided p for "y smaller" */
} fg_ttest;
/* Welch's two-sample test of y against x; -1 unless nx, ny >= 2. */
int fg_welch_t(const double *x, int nx, const double *y, int ny, fg_ttest *out);
/* One-sample test of the mean of d (paired differences) against 0; -1 unless n >= 2. */
int fg_paired_t(const double *d, int n, fg_ttest *out);
/* diff + t_{level}(df) * se: the one-sided upper confidence bound at level
 * (e.g. 0.95); level < 0.5 gives a lower bound. */
double fg_ttest_bound(const fg_ttest *t, double level);
/* Benjamini–Hochberg adjusted p-values: q[i] = min over p_(j) >= p[i] of
 * m p_(j) / j, capped at 1; rejecting q <= alpha is BH's step-up procedure
 * at level alpha. NAN entries are not tests (q NAN, not counted in m).
 * Returns m, or -1 when out of memory. */
int fg_bh_adjust(const double *p, int n, double *q);

#endif
