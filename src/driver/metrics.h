/* metrics.h — what one experiment measured, and its timeline; internal to
 * the driver (src/driver). The engine records, metrics.c turns the records
 * into the results entry, timeline.c into the timeline file. */
#ifndef FLOWGATE_METRICS_H
#define FLOWGATE_METRICS_H
#include <cjson/cJSON.h>
#include "flowgate/cluster.h"
#include "flowgate/engine.h"
#include "flowgate/hist.h"
#include "flowgate/reservoir.h"
#include "flowgate/results.h"   /* fg_fail_class */
#include "flowgate/workflow.h"
#include "attribution.h"
#include "pace.h"
#include "server_report.h"


/* Where every request of a phase ended (README "Results"): each one sent is
 * exactly one of ok, failed, timed_out, interrupted (cut off by a stop
 * request); a slot the open loop could not send for its in-flight cap is
 * dropped. */
typedef struct fg_counts { int sent, ok, failed, timed_out, interrupted, dropped; } fg_counts;

typedef struct fg_fn_metrics {
    uint64_t invocations, errors[FG_FAIL_CLASSES], cold_starts;
    uint64_t retries_429_503;          /* throttled answers waited out (Retry-After) */
    double transfer_bytes;
    int saw_transfer_bytes, saw_cold_start;   /* a reply carried the field: else absent */
    fg_hist *latency, *exec, *queue, *transfer;
} fg_fn_metrics;

typedef struct fg_metrics {
    const fg_workflow *wf;
    fg_counts measured, warmup;
    int stopped;                       /* a stop request ended the experiment early */
    int drain;                         /* instances started only to hold concurrency at C */
    int open;                          /* open loop */
    const char *sends;                 /* "batched", "mixed" or "direct" (fg_h1_sends); NULL: direct */
    /* Measured: the slots planned (N closed, rate x duration or the stages
     * open) and those never sent (never came due before a stop, or, closed
     * loop, never started). scheduled = sent + dropped + unsent. */
    long long scheduled, unsent;
    uint64_t warmup_cold_starts;
    const char *warmup_stop_reason;    /* "warm", "time_cap", "count"; NULL: never stopped */
    double warmup_duration_s;
    fg_hist *e2e, *warmup_e2e;
    /* The measured ok latencies: a uniform sample of at most
     * FG_MAX_LATENCY_SAMPLES (its total: every one recorded). */
    fg_reservoir samples;
    fg_fn_metrics fn[FG_WF_MAX_STEPS];   /* per step, by its function: "functions.<id>" */
    uint64_t node_invocations[FG_MAX_NODES];
    char node_names[FG_MAX_NODES][32];
    int n_nodes;
    int (*branches)[2];                /* per edge: [else, then] */
    cJSON *errors;                     /* first 20 */
    double t0;                         /* monotonic ms: the experiment's start */
    double t0_unix;                    /* unix ms at t0: windows of drivers on one clock */
    double window_start, window_end;   /* monotonic ms; NAN until set */
    fg_attr_totals attr;               /* measured ok requests' critical paths */
    fg_pace pace;                      /* open loop: due vs sent of the measured slots */
} fg_metrics;

/* sample_seed: the latency reservoir's generator (reproducible samples). */
int  fg_metrics_init(fg_metrics *m, const fg_workflow *wf, const fg_cluster *c,
                     uint64_t sample_seed, fg_err *err);
void fg_metrics_free(fg_metrics *m);

/* One answered (or failed) measured invocation; report: what its server
 * said (read when ok; may be NULL). */
void fg_metrics_invocation(fg_metrics *m, int step, int node, int ok, fg_fail_class cls,
                           double latency_ms, const fg_server_report *report);
/* One measured invocation answered 429/503 with Retry-After and resent. */
void fg_metrics_retry(fg_metrics *m, int step);
void fg_metrics_error(fg_metrics *m, fg_fail_class cls, const char *function, const char *msg);
/* One instance sent (started), of the warm-up or measured; and one slot
 * dropped at the in-flight cap instead. */
void fg_metrics_sent(fg_metrics *m, int warmup);
void fg_metrics_dropped(fg_metrics *m, int warmup);
/* One finished instance: ok, or failed with class cls (timeouts count apart).
 * A measured one extends the window to end_ms. */
void fg_metrics_workflow(fg_metrics *m, int warmup, int ok, fg_fail_class cls,
                         double latency_ms, double end_ms);
/* One sent instance cut off by a stop request. */
void fg_metrics_interrupted(fg_metrics *m, int warmup);

/* The accounting identities (README "Results"), measured and warm-up:
 *   sent = ok + failed + timed_out + interrupted
 *   scheduled = sent + dropped + unsent            (measured)
 *   latency histogram count = ok                   (measured)
 * 0 when they hold; else -1 with the first one violated, in numbers, in why. */
int fg_metrics_check(const fg_metrics *m, char *why, size_t why_size);

typedef struct fg_server_usage { int known; double cpu_s; long peak_rss_kb; } fg_server_usage;

cJSON *fg_metrics_entry(const fg_metrics *m, const fg_experiment *x, const fg_payload *p,
                        const fg_server_usage *server, const char *timeline_path);

/* Timeline: per request its function spans, times in ms from t0. */
typedef struct fg_timeline {
    cJSON *root, *requests;
    int max_requests;
    double t0_mono, t0_unix;
} fg_timeline;

int    fg_timeline_init(fg_timeline *t, const char *experiment_id, int repeat, int max_requests,
                        double t0_mono, double t0_unix);
/* The request's object (NULL past max_requests); spans are added to it.
 * phase: "warmup", "measured" or "drain". */
cJSON *fg_timeline_request(fg_timeline *t, uint64_t index, const char *phase,
                           double intended_mono);
void   fg_timeline_span(const fg_timeline *t, cJSON *request, const char *function,
                        const char *node, double queued_mono, double sent_mono,
                        double received_mono, const cJSON *response, const char *outcome);
void   fg_timeline_outcome(const fg_timeline *t, cJSON *request, const char *outcome,
                           double end_mono);
int    fg_timeline_write(fg_timeline *t, const char *path, fg_err *err);
void   fg_timeline_free(fg_timeline *t);

#endif
