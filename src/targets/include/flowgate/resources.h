/* resources.h — per-node CPU and memory over an experiment, sampled once a
 * second from each endpoint's GET /stats (flowgate-functions serves it:
 * cumulative invocation CPU and the serving process's RSS). The engine
 * (src/driver) starts it with each experiment and puts its series in the
 * results entry. */
#ifndef FLOWGATE_RESOURCES_H
#define FLOWGATE_RESOURCES_H
#include <cjson/cJSON.h>
#include "flowgate/cluster.h"

typedef struct fg_resources fg_resources;

/* Samples every endpoint of c (each node, or each function's URL) every
 * interval_s on a thread of its own, times in s since t0_mono (monotonic
 * ms). NULL (logged) when the thread cannot start: the run goes on
 * without series. */
fg_resources *fg_resources_start(const fg_cluster *c, double t0_mono, double interval_s);

/* Stops and joins the sampler and returns
 *   {"interval_s": 1, "source": "GET /stats",
 *    "nodes": {NAME: {"t_s": [...], "cpu_pct": [...], "rss_kb": [...],
 *                     "rss_scope": "node" | "process of N nodes"}}}
 * cpu_pct[i] is the CPU the endpoint's invocations used between samples
 * i-1 and i, in % of one core (the first sample has none: null). An
 * endpoint that never answered with "cpu_s" (not a flowgate node) has no
 * series; NULL when none had one. Frees r. */
cJSON *fg_resources_stop(fg_resources *r);

#endif
