/* attribution.h — where a request's time went, along its critical path:
 * exec, transfer, queue and driver shares that add up to its latency.
 * Internal to the driver (src/driver): the engine records each function's
 * answered span, metrics.c writes the per-cell totals, timeline.c the
 * per-request split. */
#ifndef FLOWGATE_ATTRIBUTION_H
#define FLOWGATE_ATTRIBUTION_H
#include <cjson/cJSON.h>
#include "flowgate/workflow.h"
#include "server_report.h"

typedef enum fg_attr_part {
    FG_ATTR_EXEC,       /* the function's own work (server exec_ms) */
    FG_ATTR_TRANSFER,   /* data moving: blob fetches (transfer_ms), request and
                           reply on the wire, the node's egress link */
    FG_ATTR_QUEUE,      /* waiting for a worker of the node (queue_ms), or,
                           in an open loop that holds arrivals while C
                           workflows are in flight, for one of those C */
    FG_ATTR_DRIVER,     /* the load generator and scheduling: late starts,
                           the gap between an answer and the next send,
                           retries and Retry-After waits */
    FG_ATTR_PARTS
} fg_attr_part;

extern const char *const fg_attr_part_names[FG_ATTR_PARTS];

typedef struct fg_attr_span {
    double queued, sent, received;            /* monotonic ms (client) */
    double exec_ms, queue_ms, transfer_ms;    /* server-reported; 0 when not */
    int done;
} fg_attr_span;

/* One request: the answered span of each step of the workflow. */
typedef struct fg_attr_request { fg_attr_span step[FG_WF_MAX_STEPS]; } fg_attr_request;

/* Step `step` answered successfully; report: what its server said (may
 * be NULL). */
void fg_attr_record(fg_attr_request *r, int step, double queued, double sent, double received,
                    const fg_server_report *report);

/* The request's critical path from intended (its intended send) to end
 * (its last answer handled): the function that finished last, then the
 * one whose answer made it ready (latest answer before it was queued),
 * back to an entry function. out[part] in ms, summing to end - intended.
 * held_until: when the request got an in-flight slot (intended when it
 * never waited for one); intended to held_until is queue, the rest of the
 * gap before its first send is the driver's.
 * Server-reported parts larger than the round trip they sit in (another
 * clock's rounding) are scaled down to fit it; what the server did not
 * report stays in transfer. Returns the number of functions on the path
 * (0: nothing answered, out all driver). */
int fg_attr_critical_path(const fg_attr_request *r, int n_steps, double intended,
                          double held_until, double end, double out[FG_ATTR_PARTS]);

/* The part of queue that was the wait for an in-flight slot (what
 * fg_attr_critical_path put there from held_until), in ms. */
double fg_attr_held_ms(double intended, double held_until, double end);

/* Per cell: the sums over its measured successful requests. */
typedef struct fg_attr_totals {
    double sum[FG_ATTR_PARTS], latency, held;
    long requests;
} fg_attr_totals;

/* held_ms: the slot wait inside part[FG_ATTR_QUEUE]. */
void fg_attr_add(fg_attr_totals *t, const double part[FG_ATTR_PARTS], double held_ms);

/* The part with the largest share; -1 when no request was attributed.
 * fg_attr_service_dominant leaves the wait for an in-flight slot out: when
 * arrivals outrun the service, that wait grows with whatever part makes
 * the service slow, so the cause is the largest part of the service. */
int fg_attr_dominant(const fg_attr_totals *t);
int fg_attr_service_dominant(const fg_attr_totals *t);

/* {"requests": n, "mean_ms": {part: ms}, "share": {part: fraction of the
 * summed latency}, "dominant": part, "slot_wait_ms": mean wait for an
 * in-flight slot (inside queue), "service_dominant": part}; NULL when no
 * request was attributed
 * (the entry then has no "bottleneck", never a made-up one). */
cJSON *fg_attr_json(const fg_attr_totals *t);

/* {part: ms} of one request, for its timeline entry. */
cJSON *fg_attr_parts_json(const double part[FG_ATTR_PARTS]);

#endif
