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
 * kept as the doubles recorded. 4864 buckets × 8 bytes ≈ 38 KiB.
 *
 * In results a histogram is its non-empty buckets as [index, count] pairs
 * (a cell's few hundred, not 4864) with min, max and sum, under a scheme
 * tag naming this layout: merging segment files adds them bucket by
 * bucket, which is exact, where averaging percentiles is not. */
#include "flowgate/hist.h"
#include "flowgate/json.h"

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

static double round3(double v) { return round(v * 1000.0) / 1000.0; }

cJSON *fg_hist_json(const fg_hist *h)
{
    cJSON *o = cJSON_CreateObject();
    uint64_t n = fg_hist_count(h);
    cJSON_AddNumberToObject(o, "count", (double)n);
    if (n == 0) return o;
    cJSON_AddNumberToObject(o, "min", round3(fg_hist_min(h)));
    cJSON_AddNumberToObject(o, "mean", round3(fg_hist_mean(h)));
    static const double ps[] = {50, 90, 95, 99};
    static const char *const names[] = {"p50", "p90", "p95", "p99"};
    for (int i = 0; i < 4; i++)
        if (fg_percentile_resolvable(n, ps[i]))
            cJSON_AddNumberToObject(o, names[i], round3(fg_hist_percentile(h, ps[i])));
    cJSON_AddNumberToObject(o, "max", round3(fg_hist_max(h)));
    return o;
}

cJSON *fg_hist_to_json(const fg_hist *h)
{
    cJSON *o = cJSON_CreateObject();
    if (!o) return NULL;
    cJSON_AddStringToObject(o, "scheme", FG_HIST_SCHEME);
    cJSON_AddNumberToObject(o, "count", (double)h->count);
    cJSON *bins = cJSON_AddArrayToObject(o, "bins");
    for (unsigned b = 0; bins && b < N_BUCKETS; b++) {
        if (!h->buckets[b]) continue;
        cJSON *pair = cJSON_CreateArray();
        cJSON_AddItemToArray(pair, cJSON_CreateNumber(b));
        cJSON_AddItemToArray(pair, cJSON_CreateNumber((double)h->buckets[b]));
        cJSON_AddItemToArray(bins, pair);
    }
    if (h->count) {
        cJSON_AddNumberToObject(o, "min", h->min);
        cJSON_AddNumberToObject(o, "max", h->max);
        cJSON_AddNumberToObject(o, "sum", h->sum);
    }
    if (h->out_of_range) cJSON_AddNumberToObject(o, "out_of_range", (double)h->out_of_range);
    return o;
}

/* A JSON number that is a whole count (exact below 2^53). */
static int whole(const cJSON *v, double lo, double hi)
{
    return cJSON_IsNumber(v) && v->valuedouble >= lo && v->valuedouble <= hi &&
           v->valuedouble == floor(v->valuedouble);
}

fg_hist *fg_hist_from_json(const cJSON *o, const char *what, fg_err *err)
{
    const cJSON *scheme = cJSON_GetObjectItemCaseSensitive(o, "scheme");
    const cJSON *count = cJSON_GetObjectItemCaseSensitive(o, "count");
    const cJSON *bins = cJSON_GetObjectItemCaseSensitive(o, "bins");
    const cJSON *oor = cJSON_GetObjectItemCaseSensitive(o, "out_of_range");
    if (!cJSON_IsObject(o)) {
        fg_err_set(err, "%s: not a histogram object", what);
        return NULL;
    }
    if (!cJSON_IsString(scheme) || strcmp(scheme->valuestring, FG_HIST_SCHEME)) {
        fg_err_set(err, "%s: histogram scheme '%.60s', this flowgate reads '%s'", what,
                   cJSON_IsString(scheme) ? scheme->valuestring : "(none)", FG_HIST_SCHEME);
        return NULL;
    }
    if (!whole(count, 0, 9007199254740991.0) || !cJSON_IsArray(bins) ||
        (oor && !whole(oor, 0, 9007199254740991.0))) {
        fg_err_set(err, "%s: histogram needs a whole \"count\", a \"bins\" array and a whole "
                   "\"out_of_range\" (if any)", what);
        return NULL;
    }
    fg_hist *h = fg_hist_new();
    if (!h) {
        fg_err_set(err, "%s: out of memory", what);
        return NULL;
    }
    long prev = -1;
    const cJSON *pair;
    cJSON_ArrayForEach(pair, bins) {
        const cJSON *idx = cJSON_GetArrayItem(pair, 0), *n = cJSON_GetArrayItem(pair, 1);
        if (!cJSON_IsArray(pair) || cJSON_GetArraySize(pair) != 2 || !whole(idx, 0, N_BUCKETS - 1) ||
            !whole(n, 1, 9007199254740991.0) || (long)idx->valuedouble <= prev) {
            fg_err_set(err, "%s: bin %ld: expected [index, count], index ascending in 0..%u, "
                       "count >= 1", what, prev + 1, N_BUCKETS - 1);
            fg_hist_free(h);
            return NULL;
        }
        prev = (long)idx->valuedouble;
        h->buckets[prev] = (uint64_t)n->valuedouble;
        h->count += h->buckets[prev];
    }
    if ((double)h->count != count->valuedouble) {
        fg_err_set(err, "%s: bins add up to %llu, \"count\" says %.0f", what,
                   (unsigned long long)h->count, count->valuedouble);
        fg_hist_free(h);
        return NULL;
    }
    if (h->count) {
        double min = fg_json_number(o, "min"), max = fg_json_number(o, "max");
        double sum = fg_json_number(o, "sum");
        if (!isfinite(min) || !isfinite(max) || !isfinite(sum) || min > max) {
            fg_err_set(err, "%s: a non-empty histogram needs numbers \"min\" <= \"max\" and "
                       "\"sum\"", what);
            fg_hist_free(h);
            return NULL;
        }
        h->min = min;
        h->max = max;
        h->sum = sum;
    }
    h->out_of_range = oor ? (uint64_t)oor->valuedouble : 0;
    return h;
}
