/* limits.h — bounds that more than one layer checks: the driver's config
 * and arrival schedules, the endpoints file, and the function server (a
 * nodes file, a link setting). Kept at the bottom so the server and the
 * driver agree on them without including each other. */
#ifndef FLOWGATE_LIMITS_H
#define FLOWGATE_LIMITS_H

/* A cluster: nodes (hosts) and the functions of one workflow. */
#define FG_MAX_NODES 16
#define FG_MAX_FUNCTIONS 16
#define FG_MAX_ENDPOINTS (FG_MAX_NODES > FG_MAX_FUNCTIONS ? FG_MAX_NODES : FG_MAX_FUNCTIONS)

/* A run's knobs, wherever they are set (environment, config file, flags). */
#define FG_MAX_CONCURRENCY 10000
#define FG_MAX_INFLIGHT 1000000
#define FG_MAX_WARMUP_S 3600.0
#define FG_MAX_REQUESTS 10000000
#define FG_MAX_INPUT_MB 1024.0
#define FG_MAX_SEED 9007199254740991.0   /* 2^53 - 1: exact in JSON numbers */
#define FG_MAX_BANDWIDTH_MBIT 1e7
#define FG_MAX_LATENCY_MS 60000.0
#define FG_MAX_SPIN_US 10000.0        /* --spin-us: awake at most 10 ms before a slot */
/* Raw end-to-end latencies a results entry keeps per cell: a uniform
 * sample (reservoir.h) of this many at most, beside the count recorded
 * ("latency_samples_total"). 10 000 resolve a median to about 1 % and
 * cost 80 KB of memory and ~90 KB of results per cell, however long the run. */
#define FG_MAX_LATENCY_SAMPLES 10000
#define FG_MIN_POSITIVE 0.001   /* smallest size, rate, duration, timeout or scale */

#endif
