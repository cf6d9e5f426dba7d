/* hist.h — log-linear latency histogram (HdrHistogram-style): buckets are
 * linear inside each power of two, with enough sub-buckets that any
 * recorded value is off by at most 1 % when read back. Values are
 * milliseconds from 1 µs to about 3 hours; out-of-range values clamp and
 * are counted. min, max and mean are exact. */
#ifndef FLOWGATE_HIST_H
#define FLOWGATE_HIST_H
#include <stdint.h>
#include <cjson/cJSON.h>
#include "flowgate/common.h"

typedef struct fg_hist fg_hist;

fg_hist *fg_hist_new(void);
void fg_hist_free(fg_hist *h);
void fg_hist_reset(fg_hist *h);
void fg_hist_record(fg_hist *h, double ms);
void fg_hist_merge(fg_hist *dst, const fg_hist *src);

uint64_t fg_hist_count(const fg_hist *h);
/* Values recorded outside the range (clamped to its edge) or NaN (dropped). */
uint64_t fg_hist_out_of_range(const fg_hist *h);
double fg_hist_min(const fg_hist *h);     /* NAN when empty */
double fg_hist_max(const fg_hist *h);
double fg_hist_mean(const fg_hist *h);
/* p in [0,100]; the value at or below which p % of samples fall; NAN when empty. */
double fg_hist_percentile(const fg_hist *h, double p);

/* Whether n samples can resolve the p-th percentile: n >= 1/(1 - p/100)
 * (p50: 2, p90: 10, p95: 20, p99: 100). Below that the nearest-rank
 * percentile is just the maximum, so results leave it out (n/a). */
int fg_percentile_resolvable(uint64_t n, double p);

/* Statistics object of a histogram, as results carry it: count, min, mean,
 * max, and each percentile the count can resolve (fg_percentile_resolvable);
 * {"count":0} when empty. */
cJSON *fg_hist_json(const fg_hist *h);

/* The histogram itself, so results can be merged exactly (a statistics
 * object cannot: percentiles do not add):
 *   {"scheme": FG_HIST_SCHEME, "count": n, "bins": [[index, count], ...],
 *    "min": ms, "max": ms, "sum": ms, "out_of_range": k}
 * Sparse: only non-empty buckets, ascending. min, max and sum are the
 * doubles recorded (JSON numbers round-trip them exactly), so a histogram
 * read back gives the same percentiles, bit for bit. The scheme names the
 * bucket layout; a reader refuses any other, since the same index means
 * another value under another layout. An empty histogram is
 * {"scheme": …, "count": 0, "bins": []}. */
#define FG_HIST_SCHEME "log-linear/ns/sub128/exp44/v1"
cJSON *fg_hist_to_json(const fg_hist *h);
/* A new histogram from fg_hist_to_json's object; NULL with one line in err
 * (what: the caller's name for it, e.g. "exp_a: latency_hist") on another
 * scheme, a bin out of range or out of order, counts that do not add up. */
fg_hist *fg_hist_from_json(const cJSON *o, const char *what, fg_err *err);

#endif
