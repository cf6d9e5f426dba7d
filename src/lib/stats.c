/* stats.c — the statistics the regression gate (compare.c) rests on: pure
 * functions of sample arrays, so each can be tested on its own.
 *
 * Mann–Whitney U uses the normal approximation with tie correction; Cliff's
 * delta follows from U. Hodges–Lehmann takes the median of all pair
 * differences, from quantile-thinned samples past 2e6 pairs so its memory
 * stays bounded.
 *
 * p95 is the Harrell–Davis estimate: the plain p95 of 50 samples is the
 * 3rd largest one, so one stray sample swings it and the CI with it.
 * A resample is drawn as multiplicities over the sorted samples, which
 * gives the sorted resample in O(n) without sorting it.
 *
 * The bootstrap PRNG (xoshiro256** seeded by splitmix64) starts from the
 * caller's seed on every call: the same input and seed give the same CI. */
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

typedef struct rng { uint64_t s[4]; } rng;

/* splitmix64 as a stream: the state advances by the golden gamma that
 * fg_mix64 adds itself. */
static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = fg_mix64(*x);
    *x += 0x9e3779b97f4a7c15ULL;
    return z;
}

static void rng_seed(rng *r, uint64_t seed)
{
    for (int i = 0; i < 4; i++) r->s[i] = splitmix64(&seed);
}

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

static uint64_t rng_next(rng *r)   /* xoshiro256** */
{
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
    s[2] ^= s[0]; s[3] ^= s[1]; s[1] ^= s[2]; s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

/* Uniform index below n (multiply-shift; the bias is below 2^-40 here). */
static int rng_below(rng *r, int n)
{
    return (int)(((unsigned __int128)rng_next(r) * (unsigned)n) >> 64);
}

/* Regularized incomplete beta I_x(a, b), continued fraction (Lentz). */
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

static double beta_inc(double a, double b, double x)
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
    for (int j = 0; j <= n; j++) cdf[j] = beta_inc(a, b, (double)j / n);
    return cdf;
}

double fg_hd_quantile(const double *sorted, int n, double p)
{
    if (n <= 0 || !(p > 0 && p < 100)) return NAN;
    double *cdf = hd_cdf(n, p / 100.0);
    if (!cdf) return NAN;
    double q = 0;
    for (int i = 0; i < n; i++) q += sorted[i] * (cdf[i + 1] - cdf[i]);
    free(cdf);
    return q;
}

/* The Harrell–Davis quantile of a resample of sorted v, in O(n): draw the
 * multiplicity of each value; walking v in order then yields the sorted
 * resample without sorting it. */
static double resampled_hd(rng *r, const double *v, int n, const double *cdf, int *counts)
{
    memset(counts, 0, (size_t)n * sizeof *counts);
    for (int i = 0; i < n; i++) counts[rng_below(r, n)]++;
    double q = 0;
    int k = 0;
    for (int i = 0; i < n; i++) {
        if (!counts[i]) continue;
        q += v[i] * (cdf[k + counts[i]] - cdf[k]);
        k += counts[i];
    }
    return q;
}

int fg_bootstrap_p95_ratio(const double *x, int nx, const double *y, int ny, int resamples,
                           uint64_t seed, double lo_q, double *lo, double *hi)
{
    *lo = *hi = NAN;
    if (nx <= 0 || ny <= 0 || resamples <= 0) return -1;
    double *sx = malloc((size_t)nx * sizeof *sx), *sy = malloc((size_t)ny * sizeof *sy);
    double *ratios = malloc((size_t)resamples * sizeof *ratios);
    double *cx = hd_cdf(nx, 0.95), *cy = hd_cdf(ny, 0.95);
    int *counts = malloc((size_t)(nx > ny ? nx : ny) * sizeof *counts);
    int rc = -1;
    if (!sx || !sy || !ratios || !cx || !cy || !counts) goto out;
    memcpy(sx, x, (size_t)nx * sizeof *sx);
    memcpy(sy, y, (size_t)ny * sizeof *sy);
    qsort(sx, (size_t)nx, sizeof *sx, fg_cmp_double);
    qsort(sy, (size_t)ny, sizeof *sy, fg_cmp_double);
    rng r;
    rng_seed(&r, seed);
    for (int b = 0; b < resamples; b++) {
        double px = resampled_hd(&r, sx, nx, cx, counts);
        double py = resampled_hd(&r, sy, ny, cy, counts);
        /* All-zero resamples (a mocked or instant endpoint): equal is x1. */
        ratios[b] = px > 0 ? py / px : py > 0 ? HUGE_VAL : 1.0;
    }
    qsort(ratios, (size_t)resamples, sizeof *ratios, fg_cmp_double);
    *lo = fg_percentile_sorted(ratios, resamples, 100.0 * lo_q);
    *hi = fg_percentile_sorted(ratios, resamples, 100.0 * (1.0 - lo_q));
    rc = 0;
out:
    free(sx); free(sy); free(ratios); free(cx); free(cy); free(counts);
    return rc;
}
