/* stats.c — the statistics the regression gate (compare.c) rests on: pure
 * functions of sample arrays, so each can be tested on its own.
 *
 * The gate's decision is a t-test on per-repeat statistics (Welch for two
 * independent sets of repeats, one-sample on paired differences for an A/B
 * run) with Benjamini–Hochberg across the comparison. Student's t CDF is
 * the regularized incomplete beta, P(|T| > t) = I_{df/(df+t^2)}(df/2, 1/2);
 * its quantile is found by bisection on the CDF (monotone, so it cannot
 * miss, and 200 halvings reach double precision from any bracket).
 *
 * Mann–Whitney U uses the normal approximation with tie correction; Cliff's
 * delta follows from U. Hodges–Lehmann takes the median of all pair
 * differences, from quantile-thinned samples past 2e6 pairs so its memory
 * stays bounded.
 *
 * Quantiles are Harrell–Davis estimates: the plain p95 of 50 samples is the
 * 3rd largest one, so one stray sample swings it; HD weighs every order
 * statistic. (Mann–Whitney, Hodges–Lehmann and Cliff's delta are reported
 * effect sizes, no longer the decision.) */
#include "flowgate/stats.h"
#include "flowgate/common.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

int fg_cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double fg_percentile_sorted(const double *sorted, int n, double p)
{
    if (n <= 0) return NAN;
    double h = (n - 1) * p / 100.0;
    int lo = (int)floor(h);
    if (lo >= n - 1) return sorted[n - 1];
    return sorted[lo] + (h - lo) * (sorted[lo + 1] - sorted[lo]);
}

/* Moves the k-th smallest into a[k], smaller before, larger after. */
static double select_kth(double *a, int n, int k)
{
    int lo = 0, hi = n - 1;
    while (lo < hi) {
        double pivot = a[lo + (hi - lo) / 2];
        int i = lo, j = hi;
        while (i <= j) {
            while (a[i] < pivot) i++;
            while (a[j] > pivot) j--;
            if (i <= j) {
                double t = a[i]; a[i] = a[j]; a[j] = t;
                i++; j--;
            }
        }
        if (k <= j) hi = j;
        else if (k >= i) lo = i;
        else break;
    }
    return a[k];
}

/* Same definition as fg_percentile_sorted, without sorting (reorders a). */
static double percentile_unsorted(double *a, int n, double p)
{
    if (n <= 0) return NAN;
    double h = (n - 1) * p / 100.0;
    int lo = (int)floor(h);
    if (lo < 0) lo = 0;
    double v = select_kth(a, n, lo);
    if (lo >= n - 1 || h == lo) return v;
    double next = a[lo + 1];
    for (int i = lo + 2; i < n; i++)
        if (a[i] < next) next = a[i];
    return v + (h - lo) * (next - v);
}

typedef struct ranked { double v; int from_y; } ranked;

static int cmp_ranked(const void *a, const void *b)
{
    return fg_cmp_double(&((const ranked *)a)->v, &((const ranked *)b)->v);
}

int fg_mann_whitney(const double *x, int nx, const double *y, int ny, fg_mwu *out)
{
    if (nx <= 0 || ny <= 0) return -1;
    int n = nx + ny;
    ranked *all = malloc((size_t)n * sizeof *all);
    if (!all) return -1;
    for (int i = 0; i < nx; i++) all[i] = (ranked){x[i], 0};
    for (int i = 0; i < ny; i++) all[nx + i] = (ranked){y[i], 1};
    qsort(all, (size_t)n, sizeof *all, cmp_ranked);

    double rank_sum_y = 0, tie_term = 0;
    for (int i = 0; i < n;) {
        int j = i;
        while (j + 1 < n && all[j + 1].v == all[i].v) j++;
        double t = j - i + 1;
        double avg_rank = (i + j) / 2.0 + 1.0;   /* ranks are 1-based */
        for (int k = i; k <= j; k++)
            if (all[k].from_y) rank_sum_y += avg_rank;
        tie_term += t * t * t - t;
        i = j + 1;
    }
    free(all);

    double u = rank_sum_y - ny * (ny + 1.0) / 2.0;
    double mean = (double)nx * ny / 2.0;
    double var = (double)nx * ny / 12.0 * ((n + 1.0) - tie_term / ((double)n * (n - 1.0)));
    out->u = u;
    if (var <= 0) {        /* every value tied: no evidence either way */
        out->z = 0;
        out->p_greater = out->p_less = 1.0;
        return 0;
    }
    double sd = sqrt(var);
    out->z = (u - mean) / sd;
    out->p_greater = 0.5 * erfc((u - mean - 0.5) / sd / M_SQRT2);
    out->p_less = 0.5 * erfc((mean - u - 0.5) / sd / M_SQRT2);
    if (out->p_greater > 1) out->p_greater = 1;
    if (out->p_less > 1) out->p_less = 1;
    return 0;
}

double fg_cliffs_delta(double u, int nx, int ny)
{
    return 2.0 * u / ((double)nx * ny) - 1.0;
}

/* At most m evenly spaced quantiles of sorted a (all of a when it is small). */
static double *thin(const double *sorted, int n, int m, int *out_n)
{
    int k = n < m ? n : m;
    double *t = malloc((size_t)k * sizeof *t);
    if (!t) return NULL;
    for (int i = 0; i < k; i++)
        t[i] = k == n ? sorted[i] : fg_percentile_sorted(sorted, n, 100.0 * (i + 0.5) / k);
    *out_n = k;
    return t;
}

double fg_hodges_lehmann(const double *x, int nx, const double *y, int ny)
{
    if (nx <= 0 || ny <= 0) return NAN;
    enum { MAX_SIDE = 1414 };   /* 1414^2 ~ 2e6 pair differences */
    double *sx = malloc((size_t)nx * sizeof *sx), *sy = malloc((size_t)ny * sizeof *sy);
    double *tx = NULL, *ty = NULL, *d = NULL, hl = NAN;
    int mx = 0, my = 0;
    if (!sx || !sy) goto out;
    memcpy(sx, x, (size_t)nx * sizeof *sx);
    memcpy(sy, y, (size_t)ny * sizeof *sy);
    qsort(sx, (size_t)nx, sizeof *sx, fg_cmp_double);
    qsort(sy, (size_t)ny, sizeof *sy, fg_cmp_double);
    int limit = (double)nx * ny > (double)MAX_SIDE * MAX_SIDE ? MAX_SIDE : (nx > ny ? nx : ny);
    tx = thin(sx, nx, limit, &mx);
    ty = thin(sy, ny, limit, &my);
    d = malloc((size_t)mx * (size_t)my * sizeof *d);
    if (!tx || !ty || !d) goto out;
    int nd = 0;
    for (int i = 0; i < mx; i++)
        for (int j = 0; j < my; j++) d[nd++] = ty[j] - tx[i];
    hl = percentile_unsorted(d, nd, 50.0);
out:
    free(sx); free(sy); free(tx); free(ty); free(d);
    return hl;
}

/* Regularized incomplete beta I_x(a, b): the continued fraction of
 * Numerical Recipes (modified Lentz), evaluated where it converges fast
 * (x below the mean (a+1)/(a+b+2)), by symmetry I_x(a,b) = 1 - I_{1-x}(b,a)
 * elsewhere. */
static double beta_cf(double a, double b, double x)
{
    const double tiny = 1e-300;
    double c = 1, d = 1 - (a + b) * x / (a + 1);
    if (fabs(d) < tiny) d = tiny;
    d = 1 / d;
    double h = d;
    for (int m = 1; m <= 100000; m++) {
        double aa = m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m));
        d = 1 + aa * d; if (fabs(d) < tiny) d = tiny;
        c = 1 + aa / c; if (fabs(c) < tiny) c = tiny;
        d = 1 / d;
        h *= d * c;
        aa = -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1));
        d = 1 + aa * d; if (fabs(d) < tiny) d = tiny;
        c = 1 + aa / c; if (fabs(c) < tiny) c = tiny;
        d = 1 / d;
        double step = d * c;
        h *= step;
        if (fabs(step - 1) < 1e-15) break;
    }
    return h;
}

double fg_beta_inc(double a, double b, double x)
{
    if (x <= 0) return 0;
    if (x >= 1) return 1;
    double front = exp(lgamma(a + b) - lgamma(a) - lgamma(b) + a * log(x) + b * log1p(-x));
    if (x < (a + 1) / (a + b + 2)) return front * beta_cf(a, b, x) / a;
    return 1 - front * beta_cf(b, a, 1 - x) / b;
}

/* cdf[j] = I_{j/n}(p(n+1), (1-p)(n+1)) for j = 0..n: order statistic j
 * (1-based) weighs cdf[j] - cdf[j-1] in the Harrell–Davis estimate. */
static double *hd_cdf(int n, double p)
{
    double *cdf = malloc((size_t)(n + 1) * sizeof *cdf);
    if (!cdf) return NULL;
    double a = p * (n + 1), b = (1 - p) * (n + 1);
    for (int j = 0; j <= n; j++) cdf[j] = fg_beta_inc(a, b, (double)j / n);
    return cdf;
}

double *fg_hd_weights(int n, double p)
{
    if (n <= 0 || !(p > 0 && p < 100)) return NULL;
    double *cdf = hd_cdf(n, p / 100.0);
    if (!cdf) return NULL;
    for (int i = 0; i < n; i++) cdf[i] = cdf[i + 1] - cdf[i];
    return cdf;     /* n + 1 slots; the first n are the weights */
}

double fg_hd_quantile(const double *sorted, int n, double p)
{
    double *w = fg_hd_weights(n, p);
    if (!w) return NAN;
    double q = 0;
    for (int i = 0; i < n; i++) q += sorted[i] * w[i];
    free(w);
    return q;
}

/* ---- Student's t ---------------------------------------------------------- */

double fg_t_cdf(double t, double df)
{
    if (isnan(t) || !(df > 0)) return NAN;
    if (isinf(t)) return t > 0 ? 1.0 : 0.0;
    /* tail = P(T > |t|) = I_x(df/2, 1/2) / 2 with x = df / (df + t^2). */
    double tail = 0.5 * fg_beta_inc(df / 2, 0.5, df / (df + t * t));
    return t > 0 ? 1.0 - tail : tail;
}

double fg_t_quantile(double p, double df)
{
    if (!(p > 0 && p < 1) || !(df > 0)) return NAN;
    if (p == 0.5) return 0;
    /* Bracket, then bisect: the CDF is monotone, so this always converges. */
    double lo = -1, hi = 1;
    while (fg_t_cdf(lo, df) > p) lo *= 2;
    while (fg_t_cdf(hi, df) < p) hi *= 2;
    for (int i = 0; i < 200 && hi - lo > 1e-13 * (1 + fabs(lo) + fabs(hi)); i++) {
        double mid = 0.5 * (lo + hi);
        if (fg_t_cdf(mid, df) < p) lo = mid;
        else hi = mid;
    }
    return 0.5 * (lo + hi);
}

static void mean_var(const double *v, int n, double *mean, double *var)
{
    double m = 0, ss = 0;
    for (int i = 0; i < n; i++) m += v[i];
    m /= n;
    for (int i = 0; i < n; i++) ss += (v[i] - m) * (v[i] - m);
    *mean = m;
    *var = n > 1 ? ss / (n - 1) : 0;
}

/* p-values from diff, se, df (se may be 0: a difference with no spread is
 * certain in its direction; no difference and no spread is no evidence). */
static void t_finish(fg_ttest *r)
{
    if (r->se > 0)
        r->t = r->diff / r->se;
    else
        r->t = r->diff > 0 ? INFINITY : r->diff < 0 ? -INFINITY : 0;
    if (r->t == 0 && r->se == 0) {
        r->p_greater = r->p_less = 1.0;
        return;
    }
    r->p_greater = 1.0 - fg_t_cdf(r->t, r->df);
    r->p_less = fg_t_cdf(r->t, r->df);
    /* 1 - cdf loses precision in the far upper tail: use the symmetry. */
    if (r->t > 0) r->p_greater = fg_t_cdf(-r->t, r->df);
}

int fg_welch_t(const double *x, int nx, const double *y, int ny, fg_ttest *out)
{
    memset(out, 0, sizeof *out);
    if (nx < 2 || ny < 2) return -1;
    double mx, vx, my, vy;
    mean_var(x, nx, &mx, &vx);
    mean_var(y, ny, &my, &vy);
    double ax = vx / nx, ay = vy / ny;
    out->diff = my - mx;
    out->se = sqrt(ax + ay);
    /* Welch–Satterthwaite; with no spread on either side, the pooled df. */
    double den = (nx > 1 ? ax * ax / (nx - 1) : 0) + (ny > 1 ? ay * ay / (ny - 1) : 0);
    out->df = den > 0 ? (ax + ay) * (ax + ay) / den : nx + ny - 2;
    t_finish(out);
    return 0;
}

int fg_paired_t(const double *d, int n, fg_ttest *out)
{
    memset(out, 0, sizeof *out);
    if (n < 2) return -1;
    double m, v;
    mean_var(d, n, &m, &v);
    out->diff = m;
    out->se = sqrt(v / n);
    out->df = n - 1;
    t_finish(out);
    return 0;
}

double fg_ttest_bound(const fg_ttest *t, double level)
{
    if (t->se == 0) return t->diff;
    return t->diff + fg_t_quantile(level, t->df) * t->se;
}

/* ---- Benjamini–Hochberg -------------------------------------------------- */

typedef struct indexed { double p; int i; } indexed;

static int cmp_indexed(const void *a, const void *b)
{
    return fg_cmp_double(&((const indexed *)a)->p, &((const indexed *)b)->p);
}

int fg_bh_adjust(const double *p, int n, double *q)
{
    indexed *v = malloc((size_t)(n > 0 ? n : 1) * sizeof *v);
    if (!v) return -1;
    int m = 0;
    for (int i = 0; i < n; i++) {
        q[i] = NAN;
        if (!isnan(p[i])) v[m++] = (indexed){p[i], i};
    }
    qsort(v, (size_t)m, sizeof *v, cmp_indexed);
    /* Step-up: from the largest p down, the running minimum of m p_(k) / k. */
    double running = 1.0;
    for (int k = m; k >= 1; k--) {
        double adj = v[k - 1].p * m / k;
        if (adj < running) running = adj;
        q[v[k - 1].i] = running;
    }
    free(v);
    return m;
}
