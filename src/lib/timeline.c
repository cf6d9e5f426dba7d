/* timeline.c — per request, the spans of its function invocations
 * (queued, sent, server exec start/end, received), in ms from the start of
 * the experiment, for the first requests of an experiment. Server
 * timestamps are unix ms; they are placed on the same axis through the
 * wall-clock time taken together with the monotonic start. Each request
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

static void add_server_time(const fg_timeline *t, cJSON *span, const char *name,
                            const cJSON *stamps, const char *field)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(stamps, field);
    if (cJSON_IsNumber(v)) cJSON_AddNumberToObject(span, name, r3(v->valuedouble - t->t0_unix));
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
