/* pace.h — how well the driver kept to an open-loop schedule: for each
 * measured slot, when it was due and when it was sent; internal to the
 * driver (src/driver). */
#ifndef FLOWGATE_PACE_H
#define FLOWGATE_PACE_H
#include <cjson/cJSON.h>
#include <stdint.h>
#include "flowgate/hist.h"

/* The driver keeps up when what it sent went out at the schedule's rate
 * (at least FG_PACE_MIN_RATE_SHARE of it) and late by at most
 * FG_PACE_LATE_P99_MS at p99, or by less than FG_PACE_LATE_SHARE of the
 * latency p50 it measured (a 2 ms delay does not matter beside 500 ms
 * answers; beside 0.2 ms ones it is the whole figure). */
#define FG_PACE_MIN_RATE_SHARE 0.99
#define FG_PACE_LATE_P99_MS 1.0
#define FG_PACE_LATE_SHARE 0.10

typedef struct fg_pace {
    fg_hist *lateness;                   /* ms from due to sent, of the slots sent */
    uint64_t due, sent;
    double first_due, last_due;          /* monotonic ms, every slot that came due */
    double first_sent_due, last_sent_due, first_sent, last_sent;   /* the slots sent */
} fg_pace;

int  fg_pace_init(fg_pace *p);
void fg_pace_free(fg_pace *p);
/* A measured slot came due (sent or dropped). */
void fg_pace_due(fg_pace *p, double due_ms);
/* A measured slot due at due_ms went out at sent_ms. */
void fg_pace_sent(fg_pace *p, double due_ms, double sent_ms);
/* The "schedule" object of a results entry: target and achieved rates,
 * lateness statistics and histogram, keeps_up and, when not, "behind" in
 * words. queued_at_cap: late slots waited for the in-flight cap by design,
 * so nothing is judged. latency_p50_ms: the cell's (NAN unknown). NULL
 * when no slot came due. */
cJSON *fg_pace_json(const fg_pace *p, int queued_at_cap, double latency_p50_ms);

#endif
