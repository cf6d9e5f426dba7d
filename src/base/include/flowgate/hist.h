/* hist.h — log-linear latency histogram (HdrHistogram-style): buckets are
 * linear inside each power of two, with enough sub-buckets that any
 * recorded value is off by at most 1 % when read back. Values are
 * milliseconds from 1 µs to about 3 hours; out-of-range values clamp and
 * are counted. min, max and mean are exact. */
#ifndef FLOWGATE_HIST_H
#define FLOWGATE_HIST_H
#include <stdint.h>

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

#endif
