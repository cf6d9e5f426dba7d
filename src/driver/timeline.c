/* timeline.c — per request, the spans of its function invocations
 * (queued, sent, server exec start/end, received), in ms from the start of
 * the experiment, for the first requests of an experiment. Server
 * timestamps are unix time in a unit the server chooses: flowgate's nodes
 * send ms, the reference Python containers send seconds (time.time()).
 * The unit is inferred per stamp as the one (s, ms, us) that lands it
 * nearest the experiment's wall-clock start, which sits decades away from
 * either wrong reading; the root records which unit was seen. The stamps
 * are then placed on the same axis through the wall-clock time taken
 * together with the monotonic start. Each request
 * says its phase: warm-up, measured, or drain (started only to hold the
 * concurrency while the last measured ones finish). */
#include "metrics.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static double r3(double v) { return round(v * 1000.0) / 1000.0; }

int fg_timeline_init(fg_timeline *t, const char *experiment_id, int repeat, int max_requests,
                     double t0_mono, double t0_unix)
{
    memset(t, 0, sizeof *t);
    t->root = cJSON_CreateObject();
    if (!t->root) return -1;
    cJSON_AddStringToObject(t->root, "experiment_id", experiment_id);
    cJSON_AddNumberToObject(t->root, "repeat", repeat);
    cJSON_AddNumberToObject(t->root, "started_unix_ms", r3(t0_unix));
    cJSON_AddStringToObject(t->root, "time_unit", "ms since started_unix_ms");
    t->requests = cJSON_AddArrayToObject(t->root, "requests");
    t->max_requests = max_requests;
    t->t0_mono = t0_mono;
    t->t0_unix = t0_unix;
    return t->requests ? 0 : -1;
}

cJSON *fg_timeline_request(fg_timeline *t, uint64_t index, const char *phase,
                           double intended_mono)
{
    if (!t->root || index >= (uint64_t)t->max_requests) return NULL;
    cJSON *r = cJSON_CreateObject();
    cJSON_AddNumberToObject(r, "request", (double)index);
    /* "warmup" stays for readers that skip warm-up requests; "phase" also
     * tells the drain instances (not measured either) apart. */
    cJSON_AddBoolToObject(r, "warmup", !strcmp(phase, "warmup"));
    cJSON_AddStringToObject(r, "phase", phase);
    cJSON_AddNumberToObject(r, "intended", r3(intended_mono - t->t0_mono));
    cJSON_AddArrayToObject(r, "spans");
    cJSON_AddItemToArray(t->requests, r);
    return r;
}

static const struct { const char *name; double to_ms; } stamp_units[] = {
    {"s", 1e3}, {"ms", 1.0}, {"us", 1e-3},
};
#define N_STAMP_UNITS ((int)(sizeof stamp_units / sizeof stamp_units[0]))

static int stamp_unit(double stamp, double ref_unix_ms)
{
    if (!isfinite(stamp) || stamp <= 0 || !isfinite(ref_unix_ms) || ref_unix_ms <= 0) return -1;
    /* Compared as ratios: each wrong unit is off by a factor of 1000. */
    int best = -1;
    double best_dist = INFINITY;
    for (int i = 0; i < N_STAMP_UNITS; i++) {
        double d = fabs(log10(stamp * stamp_units[i].to_ms / ref_unix_ms));
        if (d < best_dist) {
            best_dist = d;
            best = i;
        }
    }
    /* Within a factor of ~30 of the reference: anything further is not a
     * unix time in any of these units (a duration, a counter). */
    return best_dist < 1.5 ? best : -1;
}

static const char *unit_name(int unit)
{
    return unit >= 0 && unit < N_STAMP_UNITS ? stamp_units[unit].name : "unknown";
}

/* Records the unit on the root: "server_time_unit" is the one seen, or
 * "mixed" when servers disagree (both are converted all the same). */
static void note_unit(const fg_timeline *t, int unit)
{
    const char *name = unit_name(unit);
    cJSON *cur = cJSON_GetObjectItemCaseSensitive(t->root, "server_time_unit");
    if (!cur) cJSON_AddStringToObject(t->root, "server_time_unit", name);
    else if (cJSON_IsString(cur) && strcmp(cur->valuestring, name) && strcmp(cur->valuestring, "mixed"))
        cJSON_ReplaceItemInObjectCaseSensitive(t->root, "server_time_unit",
                                               cJSON_CreateString("mixed"));
}

static void add_server_time(const fg_timeline *t, cJSON *span, const char *name,
                            const cJSON *stamps, const char *field)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(stamps, field);
    if (!cJSON_IsNumber(v)) return;
    int unit = stamp_unit(v->valuedouble, t->t0_unix);
    /* Not a unix time: left out rather than drawn at a made-up place. */
    if (unit < 0) return;
    note_unit(t, unit);
    double ms = v->valuedouble * stamp_units[unit].to_ms;
    cJSON_AddNumberToObject(span, name, r3(ms - t->t0_unix));
}

void fg_timeline_span(const fg_timeline *t, cJSON *request, const char *function,
                      const char *node, double queued_mono, double sent_mono,
                      double received_mono, const cJSON *response, const char *outcome)
{
    if (!request) return;
    cJSON *s = cJSON_CreateObject();
    cJSON_AddStringToObject(s, "function", function);
    cJSON_AddStringToObject(s, "node", node);
    cJSON_AddNumberToObject(s, "queued", r3(queued_mono - t->t0_mono));
    cJSON_AddNumberToObject(s, "sent", r3(sent_mono - t->t0_mono));
    const cJSON *stamps = cJSON_GetObjectItemCaseSensitive(response, "server_timestamps");
    if (cJSON_IsObject(stamps)) {
        add_server_time(t, s, "exec_start", stamps, "exec_start");
        add_server_time(t, s, "exec_end", stamps, "exec_end");
    }
    cJSON_AddNumberToObject(s, "received", r3(received_mono - t->t0_mono));
    cJSON_AddStringToObject(s, "outcome", outcome);
    cJSON_AddItemToArray(cJSON_GetObjectItemCaseSensitive(request, "spans"), s);
}

void fg_timeline_outcome(const fg_timeline *t, cJSON *request, const char *outcome,
                         double end_mono)
{
    if (!request) return;
    cJSON_AddStringToObject(request, "outcome", outcome);
    cJSON_AddNumberToObject(request, "end", r3(end_mono - t->t0_mono));
}

int fg_timeline_write(fg_timeline *t, const char *path, fg_err *err)
{
    char dir[512];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash && slash != dir) {
        *slash = 0;
        if (fg_mkdirs(dir, err) != 0) return -1;
    }
    char *text = cJSON_PrintUnformatted(t->root);
    if (!text) return fg_err_set(err, "%s: out of memory", path);
    int rc = fg_write_file_atomic(path, text, strlen(text), err);
    free(text);
    return rc;
}

void fg_timeline_free(fg_timeline *t)
{
    cJSON_Delete(t->root);
    memset(t, 0, sizeof *t);
}
