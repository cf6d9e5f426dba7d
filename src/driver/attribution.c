/* attribution.c — bottleneck attribution along each request's critical
 * path (see attribution.h). The engine's loop is single-threaded and sends
 * what became ready right after handling an answer, so the answer that
 * released a function is the latest one received at or before the moment
 * that function was queued: no DAG walk is needed to find it, and switches
 * need no special case. Each span on the path splits its round trip into
 * the server's exec, queue and transfer reports plus the rest (wire and
 * egress link: transfer); the gaps between spans, and before the first and
 * after the last, are the driver's. Per cell, shares are time-weighted
 * (summed part / summed latency), so long requests weigh as much as the
 * time they took. */
#include "attribution.h"
#include "flowgate/critical_path.h"
#include "flowgate/json.h"

#include <math.h>
#include <string.h>

const char *const fg_attr_part_names[FG_ATTR_PARTS] = {"exec", "transfer", "queue", "driver"};

static double reported_ms(double v)
{
    return isfinite(v) && v > 0 ? v : 0.0;
}

void fg_attr_record(fg_attr_request *r, int step, double queued, double sent, double received,
                    const fg_server_report *report)
{
    if (step < 0 || step >= FG_WF_MAX_STEPS) return;
    fg_attr_span *s = &r->step[step];
    s->queued = queued;
    s->sent = sent;
    s->received = received;
    s->exec_ms = report ? reported_ms(report->exec_ms) : 0.0;
    s->queue_ms = report ? reported_ms(report->queue_ms) : 0.0;
    s->transfer_ms = report ? reported_ms(report->transfer_ms) : 0.0;
    s->done = 1;
}

/* The latest answer at or before t, other than skip; -1 when none. */
static int released_by(const fg_attr_request *r, int n_steps, int skip, double t)
{
    int best = -1;
    for (int i = 0; i < n_steps; i++) {
        const fg_attr_span *s = &r->step[i];
        if (i == skip || !s->done || s->received > t) continue;
        if (best < 0 || s->received > r->step[best].received) best = i;
    }
    return best;
}

static void split_span(const fg_attr_span *s, double out[FG_ATTR_PARTS])
{
    double round_trip = fmax(0.0, s->received - s->sent);
    double server = s->exec_ms + s->queue_ms + s->transfer_ms;
    double fit = server > round_trip && server > 0 ? round_trip / server : 1.0;
    out[FG_ATTR_EXEC] += s->exec_ms * fit;
    out[FG_ATTR_QUEUE] += s->queue_ms * fit;
    out[FG_ATTR_TRANSFER] += s->transfer_ms * fit + (round_trip - server * fit);
    out[FG_ATTR_DRIVER] += fmax(0.0, s->sent - s->queued);
}

int fg_attr_critical_path(const fg_attr_request *r, int n_steps, double intended,
                          double held_until, double end, double out[FG_ATTR_PARTS])
{
    memset(out, 0, sizeof(double) * FG_ATTR_PARTS);
    /* The wait for an in-flight slot is queueing; the driver's own
     * lateness starts after it. */
    double held = fg_attr_held_ms(intended, held_until, end);
    out[FG_ATTR_QUEUE] = held;
    intended += held;
    if (n_steps > FG_WF_MAX_STEPS) n_steps = FG_WF_MAX_STEPS;
    int cur = released_by(r, n_steps, -1, INFINITY);
    if (cur < 0) {
        out[FG_ATTR_DRIVER] = fmax(0.0, end - intended);
        return 0;
    }
    double tail = end - r->step[cur].received;
    int on_path = 0;
    /* Each step goes strictly back in time (a released function was queued
     * after its releaser answered), so the walk ends; n_steps bounds it too. */
    while (cur >= 0 && on_path < n_steps) {
        const fg_attr_span *s = &r->step[cur];
        split_span(s, out);
        on_path++;
        int prev = released_by(r, n_steps, cur, s->queued);
        if (prev >= 0 && r->step[prev].received >= s->received) prev = -1;
        double from = prev >= 0 ? r->step[prev].received : intended;
        out[FG_ATTR_DRIVER] += fmax(0.0, s->queued - from);
        cur = prev;
    }
    out[FG_ATTR_DRIVER] += fmax(0.0, tail);
    /* The parts cover [intended, end] exactly: any clamping above shows up
     * as a difference, which is given to the driver (it can only be the
     * loop's own rounding). */
    double sum = 0;
    for (int k = 0; k < FG_ATTR_PARTS; k++) sum += out[k];
    double total = fmax(0.0, end - intended) + held;
    if (sum < total) out[FG_ATTR_DRIVER] += total - sum;
    else if (sum > total && sum > 0)
        for (int k = 0; k < FG_ATTR_PARTS; k++) out[k] *= total / sum;
    return on_path;
}

double fg_attr_held_ms(double intended, double held_until, double end)
{
    return fmin(fmax(0.0, held_until - intended), fmax(0.0, end - intended));
}

void fg_attr_add(fg_attr_totals *t, const double part[FG_ATTR_PARTS], double held_ms)
{
    t->held += fmin(held_ms, part[FG_ATTR_QUEUE]);
    for (int k = 0; k < FG_ATTR_PARTS; k++) {
        t->sum[k] += part[k];
        t->latency += part[k];
    }
    t->requests++;
}

int fg_attr_dominant(const fg_attr_totals *t)
{
    if (t->requests == 0 || !(t->latency > 0)) return -1;
    int best = 0;
    for (int k = 1; k < FG_ATTR_PARTS; k++)
        if (t->sum[k] > t->sum[best]) best = k;
    return best;
}

int fg_attr_service_dominant(const fg_attr_totals *t)
{
    if (t->requests == 0 || !(t->latency > t->held)) return -1;
    int best = -1;
    double best_ms = -1;
    for (int k = 0; k < FG_ATTR_PARTS; k++) {
        double ms = t->sum[k] - (k == FG_ATTR_QUEUE ? t->held : 0);
        if (ms > best_ms) best = k, best_ms = ms;
    }
    return best;
}

static double r3(double v) { return round(v * 1000.0) / 1000.0; }

cJSON *fg_attr_parts_json(const double part[FG_ATTR_PARTS])
{
    cJSON *o = cJSON_CreateObject();
    for (int k = 0; o && k < FG_ATTR_PARTS; k++)
        cJSON_AddNumberToObject(o, fg_attr_part_names[k], r3(part[k]));
    return o;
}

cJSON *fg_attr_json(const fg_attr_totals *t)
{
    int dominant = fg_attr_dominant(t);
    if (dominant < 0) return NULL;
    cJSON *o = cJSON_CreateObject();
    if (!o) return NULL;
    cJSON_AddNumberToObject(o, "requests", (double)t->requests);
    cJSON *mean = cJSON_AddObjectToObject(o, "mean_ms");
    cJSON *share = cJSON_AddObjectToObject(o, "share");
    for (int k = 0; k < FG_ATTR_PARTS; k++) {
        cJSON_AddNumberToObject(mean, fg_attr_part_names[k], r3(t->sum[k] / (double)t->requests));
        cJSON_AddNumberToObject(share, fg_attr_part_names[k],
                                round(t->sum[k] / t->latency * 10000.0) / 10000.0);
    }
    cJSON_AddStringToObject(o, "dominant", fg_attr_part_names[dominant]);
    cJSON_AddNumberToObject(o, "slot_wait_ms", r3(t->held / (double)t->requests));
    int service = fg_attr_service_dominant(t);
    if (service >= 0) cJSON_AddStringToObject(o, "service_dominant", fg_attr_part_names[service]);
    return o;
}

cJSON *fg_bottleneck_merge(const cJSON *const *objs, int n)
{
    fg_attr_totals t = {0};
    for (int i = 0; i < n; i++) {
        double req = fg_json_number(objs[i], "requests");
        const cJSON *mean = cJSON_GetObjectItemCaseSensitive(objs[i], "mean_ms");
        if (!(req > 0) || !cJSON_IsObject(mean)) continue;
        for (int k = 0; k < FG_ATTR_PARTS; k++) {
            double ms = fg_json_number(mean, fg_attr_part_names[k]);
            if (isfinite(ms)) {
                t.sum[k] += ms * req;
                t.latency += ms * req;   /* the parts add up to the latency */
            }
        }
        double held = fg_json_number(objs[i], "slot_wait_ms");
        if (isfinite(held)) t.held += held * req;
        t.requests += (long)req;
    }
    return fg_attr_json(&t);
}
