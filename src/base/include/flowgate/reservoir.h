/* reservoir.h — a bounded uniform sample of a stream of latencies
 * (reservoir.c): the raw samples a results entry carries for the compare
 * gate and the CDF charts, without growing with the run. Every value of
 * the stream has the same chance, cap / total, to be in it, so statistics
 * of the sample (quantile estimates, rank tests) estimate those of the
 * stream; the percentiles in results come from the histogram, which sees
 * every value. Deterministic: the same seed and stream keep the same
 * values, on every platform. */
#ifndef FLOWGATE_RESERVOIR_H
#define FLOWGATE_RESERVOIR_H
#include <stddef.h>
#include <stdint.h>
#include "flowgate/common.h"

typedef struct fg_reservoir {
    double *v;
    size_t n;          /* values held: min(total, cap) */
    size_t alloc;      /* allocated slots, never above cap */
    size_t cap;
    uint64_t total;    /* values offered */
    uint64_t rng;      /* splitmix64 state */
} fg_reservoir;

/* Empty, holding at most cap values (cap >= 1), drawing from seed. */
void fg_reservoir_init(fg_reservoir *r, size_t cap, uint64_t seed);
void fg_reservoir_free(fg_reservoir *r);
/* Offers one value (Algorithm R). -1 only when memory for the first cap
 * values cannot be had (the value is then counted but not kept). */
int fg_reservoir_add(fg_reservoir *r, double v);

/* A uniform sample of the union of k streams, from each stream's uniform
 * sample: out (initialised and empty, cap >= 1) gets min(cap, sum of totals) values
 * and total = the sum of totals. How many come from stream j is drawn as
 * sampling without replacement from the union would (multivariate
 * hypergeometric, weighted by totals[j]), then that many are picked
 * uniformly from sample j. Needs n[j] = min(totals[j], m) with m >= cap for
 * each (a reservoir of cap >= out's cap, or the whole stream): -1 and a
 * line in err otherwise. */
int fg_reservoir_merge(fg_reservoir *out, const double *const *samples, const size_t *n,
                       const uint64_t *totals, int k, fg_err *err);

#endif
