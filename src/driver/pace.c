/* pace.c — schedule accuracy of the open loop, as wrk2 and k6 report it.
 *
 * Latency counts from the intended send time, so a driver that falls
 * behind its schedule charges its own delay to the system it measures.
 * Hence every measured slot's lateness (sent − due: the time from its due
 * time to the moment the driver started its instance, whose first request
 * goes out then: sent on the driver's own HTTP/1.1, or handed to libcurl) goes
 * into a histogram, and the rates are compared: the target is the
 * schedule's (slots − 1 over the span of their due times, which for a
 * Poisson schedule is the realised rate, not the nominal one), the
 * achieved one is the same over the actual send times. Dropped slots (the
 * in-flight cap) are the system's doing, not the driver's: keeping up is
 * judged on the slots that were sent, their own schedule against their
 * actual times. */
#include "pace.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

int fg_pace_init(fg_pace *p)
{
    memset(p, 0, sizeof *p);
    p->lateness = fg_hist_new();
    return p->lateness ? 0 : -1;
}

void fg_pace_free(fg_pace *p)
{
    fg_hist_free(p->lateness);
    memset(p, 0, sizeof *p);
}

void fg_pace_due(fg_pace *p, double due_ms)
{
    if (p->due++ == 0) p->first_due = due_ms;
    p->last_due = due_ms;
}

void fg_pace_sent(fg_pace *p, double due_ms, double sent_ms)
{
    double late = sent_ms - due_ms;
    fg_hist_record(p->lateness, late > 0 ? late : 0);
    if (p->sent++ == 0) {
        p->first_sent_due = due_ms;
        p->first_sent = sent_ms;
    }
    p->last_sent_due = due_ms;
    p->last_sent = sent_ms;
}

/* n events over a span of ms: per second, or NAN when no span was measured. */
static double rate_of(uint64_t n, double first, double last)
{
    return n >= 2 && last > first ? (double)(n - 1) * 1000.0 / (last - first) : NAN;
}

cJSON *fg_pace_json(const fg_pace *p, int queued_at_cap, double latency_p50_ms)
{
    if (p->due == 0) return NULL;
    cJSON *s = cJSON_CreateObject();
    if (!s) return NULL;
    cJSON_AddNumberToObject(s, "slots_due", (double)p->due);
    cJSON_AddNumberToObject(s, "slots_sent", (double)p->sent);
    double target = rate_of(p->due, p->first_due, p->last_due);
    double achieved = rate_of(p->sent, p->first_sent, p->last_sent);
    double sent_target = rate_of(p->sent, p->first_sent_due, p->last_sent_due);
    /* A rate is written only when it was measured over some time. */
    if (isfinite(target)) cJSON_AddNumberToObject(s, "target_rps", round(target * 100) / 100);
    if (isfinite(achieved)) cJSON_AddNumberToObject(s, "achieved_rps", round(achieved * 100) / 100);
    cJSON_AddItemToObject(s, "lateness_ms", fg_hist_json(p->lateness));
    cJSON_AddItemToObject(s, "lateness_hist", fg_hist_to_json(p->lateness));
    if (queued_at_cap || p->sent == 0) return s;   /* nothing the driver could be judged on */

    /* p99 once 100 slots resolve it; before, the maximum stands in. */
    int resolved = fg_percentile_resolvable(p->sent, 99);
    double p99 = resolved ? fg_hist_percentile(p->lateness, 99) : fg_hist_max(p->lateness);
    char behind[200] = "";
    size_t used = 0;
    if (isfinite(achieved) && isfinite(sent_target) && achieved < FG_PACE_MIN_RATE_SHARE * sent_target)
        used += (size_t)snprintf(behind, sizeof behind, "sent %.0f/s of %.0f/s", achieved, sent_target);
    int late = p99 > FG_PACE_LATE_P99_MS &&
               !(isfinite(latency_p50_ms) && p99 < FG_PACE_LATE_SHARE * latency_p50_ms);
    if (late && used < sizeof behind)
        snprintf(behind + used, sizeof behind - used, "%slateness %s %.2f ms", used ? ", " : "",
                 resolved ? "p99" : "max", p99);
    cJSON_AddBoolToObject(s, "keeps_up", !behind[0]);
    if (behind[0]) cJSON_AddStringToObject(s, "behind", behind);
    return s;
}
