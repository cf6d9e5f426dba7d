/* hist.c — log-linear histogram of milliseconds (HdrHistogram layout).
 *
 * Values are kept as integer nanoseconds. The first 256 ns are one bucket
 * each; above that every power of two [2^e, 2^(e+1)) is cut into 128 equal
 * sub-buckets of width 2^(e-7). A bucket is thus at most 1/128 of its
 * lower bound wide, and reading back its midpoint is off by at most 1/256
 * (0.4 %) of any value in it; clamping the answer into [min, max] keeps
 * the bound and makes single-valued data exact. Range: 1 µs (1000 ns, far
 * above the rounding to 1 ns) to 2^44 ns (~4.9 hours); values outside clamp
 * to the edge and are counted. min, max and the sum (for the mean) are
 * kept as the doubles recorded. 4864 buckets × 8 bytes ≈ 38 KiB. */
#include "flowgate/hist.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define SUB_BITS 7                          /* 128 sub-buckets per power of two */
#define SUB_COUNT (1u << SUB_BITS)
#define LINEAR_LIMIT (2u * SUB_COUNT)       /* values below are exact buckets */
#define MAX_EXP 44                          /* values < 2^44 ns */
#define N_BUCKETS (LINEAR_LIMIT + (MAX_EXP - SUB_BITS - 1) * SUB_COUNT)
#define MIN_NS 1000.0                       /* 1 µs */
#define MAX_NS ((double)((1ull << MAX_EXP) - 1))

struct fg_hist {
    uint64_t count;
    uint64_t out_of_range;
    double min, max, sum;
    uint64_t buckets[N_BUCKETS];
};

fg_hist *fg_hist_new(void)
{
    fg_hist *h = malloc(sizeof *h);
    if (h) fg_hist_reset(h);
    return h;
}

void fg_hist_free(fg_hist *h) { free(h); }

void fg_hist_reset(fg_hist *h)
{
    memset(h, 0, sizeof *h);
    h->min = INFINITY;
    h->max = -INFINITY;
}

static unsigned bucket_of(uint64_t ns)
{
    if (ns < LINEAR_LIMIT) return (unsigned)ns;
    unsigned e = 63u - (unsigned)__builtin_clzll(ns);        /* >= 8 */
    unsigned shift = e - SUB_BITS;
    unsigned sub = (unsigned)(ns >> shift) - SUB_COUNT;      /* 0..127 */
    return LINEAR_LIMIT + (e - SUB_BITS - 1) * SUB_COUNT + sub;
}

/* Midpoint of a bucket, in nanoseconds. */
static double bucket_mid(unsigned b)
{
    if (b < LINEAR_LIMIT) return b;
    unsigned k = b - LINEAR_LIMIT;
    unsigned shift = k / SUB_COUNT + 1;
    uint64_t lower = (uint64_t)(SUB_COUNT + k % SUB_COUNT) << shift;
    return (double)lower + ((double)(1ull << shift) - 1) / 2.0;
}

void fg_hist_record(fg_hist *h, double ms)
{
    if (isnan(ms)) {     /* nothing to place; counted so it is not lost */
        h->out_of_range++;
        return;
    }
    double ns = ms * 1e6;
    if (ns < MIN_NS || ns > MAX_NS) {
        h->out_of_range++;
        ns = ns < MIN_NS ? MIN_NS : MAX_NS;
    }
    h->buckets[bucket_of((uint64_t)llround(ns))]++;
    h->count++;
    h->sum += ms;
    if (ms < h->min) h->min = ms;
    if (ms > h->max) h->max = ms;
}

void fg_hist_merge(fg_hist *dst, const fg_hist *src)
{
    for (unsigned b = 0; b < N_BUCKETS; b++) dst->buckets[b] += src->buckets[b];
    dst->count += src->count;
    dst->out_of_range += src->out_of_range;
    dst->sum += src->sum;
    if (src->min < dst->min) dst->min = src->min;
    if (src->max > dst->max) dst->max = src->max;
}

uint64_t fg_hist_count(const fg_hist *h) { return h->count; }
uint64_t fg_hist_out_of_range(const fg_hist *h) { return h->out_of_range; }
double fg_hist_min(const fg_hist *h) { return h->count ? h->min : NAN; }
double fg_hist_max(const fg_hist *h) { return h->count ? h->max : NAN; }
double fg_hist_mean(const fg_hist *h) { return h->count ? h->sum / (double)h->count : NAN; }

double fg_hist_percentile(const fg_hist *h, double p)
{
    if (!h->count || isnan(p)) return NAN;
    if (p < 0) p = 0;
    if (p > 100) p = 100;
    /* Nearest rank: the smallest sample with at least p % at or below it. */
    uint64_t rank = (uint64_t)ceil(p * (double)h->count / 100.0);
    if (rank < 1) rank = 1;
    if (rank == 1) return h->min;
    if (rank >= h->count) return h->max;
    uint64_t seen = 0;
    for (unsigned b = 0; b < N_BUCKETS; b++) {
        seen += h->buckets[b];
        if (seen >= rank) {
            double v = bucket_mid(b) / 1e6;
            return v < h->min ? h->min : v > h->max ? h->max : v;
        }
    }
    return h->max;
}

int fg_percentile_resolvable(uint64_t n, double p)
{
    if (!(p >= 0 && p < 100)) return 0;
    /* n·(1 - p/100) >= 1, in percent so 90, 95, 99 stay exact; the slack
     * absorbs the rounding of fractions such as 99.9. */
    return (double)n * (100.0 - p) >= 100.0 - 1e-9;
}
