/* sim_rng.h — the simulations' random numbers (test_ab_sim, test_changepoint):
 * fg_mix64 over a counter, so a seed gives the same series on every machine
 * and build, and a failing case can be replayed. */
#ifndef FLOWGATE_TESTS_SIM_RNG_H
#define FLOWGATE_TESTS_SIM_RNG_H
#include <math.h>
#include <stdint.h>
#include "flowgate/common.h"

typedef struct rng { uint64_t s; } rng;

/* Uniform on (0, 1): never 0, so log() of it is finite. */
static inline double uniform(rng *r)
{
    r->s = fg_mix64(r->s);
    return ((r->s >> 11) + 0.5) / 9007199254740992.0;
}

/* Standard normal (Box-Muller). */
static inline double normal(rng *r)
{
    return sqrt(-2.0 * log(uniform(r))) * cos(2 * M_PI * uniform(r));
}

#endif
