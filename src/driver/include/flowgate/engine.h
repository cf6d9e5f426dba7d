/* engine.h — running experiments. One experiment drives many instances of
 * the workflow through a libcurl multi event loop (no thread per request):
 * closed loop (C instances in flight, N in all) or open loop (R/s for D s,
 * or a staged schedule, constant or Poisson arrivals: arrival.h; latency
 * from the intended send time). It returns the experiment's entry
 * of the results JSON (schema in README "Results"). */
#ifndef FLOWGATE_ENGINE_H
#define FLOWGATE_ENGINE_H
#include <cjson/cJSON.h>
#include "flowgate/arrival.h"
#include "flowgate/payload.h"
#include "flowgate/cluster.h"
#include "flowgate/sched.h"
#include "flowgate/workflow.h"

/* How requests go out. AUTO: plain http:// endpoints through the driver's
 * own HTTP/1.1 (half libcurl's CPU per request, README "The driver as a
 * load generator"), a turn's sends batched in one system call where the
 * kernel allows io_uring (h1.h), everything else (https, a proxy,
 * signing) through libcurl; DIRECT: the same with a sendmsg per request;
 * LIBCURL: everything through libcurl. */
typedef enum fg_transport { FG_TRANSPORT_AUTO, FG_TRANSPORT_DIRECT, FG_TRANSPORT_LIBCURL } fg_transport;
/* "auto", "direct" or "libcurl": 0, or -1 for another name. */
int fg_transport_parse(const char *name, fg_transport *out);
const char *fg_transport_name(fg_transport t);

typedef struct fg_experiment {
    char id[128];          /* exp_input<size>mb_conc<c>_<scheduler> */
    char category[32];
    double input_mb;
    fg_variant variant;
    int concurrency;
    int requests;          /* measured requests (closed loop) */
    int warmup;            /* at least this many warm-up instances */
    double warmup_s;       /* warm-up time cap in seconds; 0: default 30 s */
    int max_inflight;      /* open loop: most instances in flight; 0: default 1024 */
    double rate_rps, duration_s;   /* open loop when rate_rps > 0 ... */
    fg_stage stages[FG_MAX_STAGES];  /* ... or when n_stages > 0: this schedule */
    int n_stages;
    fg_arrival_kind arrival;       /* open loop: constant or Poisson gaps */
    uint64_t seed;                 /* Poisson: the generator's seed (recorded) */
    int queue_at_cap;              /* open loop: a slot finding the cap full waits for a
                                    * free one (latency still from its due time)
                                    * instead of being dropped */
    int segment_index, segment_count;   /* open loop: send only this segment of the
                                         * schedule (arrival.h); count 0: no segment */
    double spin_us;            /* open loop: stay awake (poll, no sleep) when the next
                                * slot is due within this many µs; 0: always sleep */
    double start_at_unix_ms;   /* > 0: wait until this wall-clock instant before the
                                * experiment starts (N drivers started together) */
    char scheduler[32];
    double timeout_s;
    fg_transport transport;
    int retries;
    int inline_data;
    int repeat;            /* 0-based repeat index */
    int progress;          /* print a progress line to stderr */
    char timeline_path[512];   /* empty: no timeline written */
} fg_experiment;

/* Runs one experiment; *entry receives the results JSON entry (caller
 * frees). Fails only when the experiment could not run at all (e.g.
 * unknown scheduler, or a file descriptor limit too low for its load even
 * after raising the soft limit to the hard one: the message names the
 * numbers and `ulimit -n`); failed requests are results, not errors. */
int fg_experiment_run(const fg_experiment *x, const fg_workflow *wf,
                      const fg_cluster *c, const fg_payload *p,
                      const fg_profile *profile, cJSON **entry, fg_err *err);

/* A stop request (stop.h, Ctrl-C) aborts the experiment's in-flight
 * requests; they are reported as "requests.interrupted" (warm-up ones as
 * "warmup.interrupted"), one of the terms of sent = ok + failed +
 * timed_out + interrupted, and the slots never sent as "unsent" (scheduled
 * = sent + dropped + unsent), with "interrupted": true. No new experiment
 * should start after it. */

#endif
