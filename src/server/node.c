/* node.c — node profiles and the per-node runtime.
 *
 * Worker capacity is a LIFO stack of idle slots under a mutex and condvar:
 * a request blocks for a slot (its queue time), and the most recently
 * released slot is handed out first, so warm OCR engines get reused and
 * cold starts happen only when concurrency grows.
 *
 * Egress is emulated in the connection thread before a response is
 * queued (slots are released before that, as the link is not the worker):
 * first the node's latency, then the bytes pass one token bucket per node
 * — rate bandwidth_mbit, a small burst — drawn in chunks of at most the
 * burst, so two concurrent transfers interleave and each takes about
 * twice as long as alone, as on a shared link. A waiter reserves its chunk
 * (the bucket goes negative) and sleeps until the tokens exist, so
 * waiters are served in order and the link never exceeds its rate.
 * PUT /link changes rate and latency at run time (a scenario's network on
 * a running cluster); a transfer already under way keeps the rate it began
 * with, the bucket is shared.
 *
 * The tail knob's counter (slowdown.h) is one per node, under the node's
 * lock, so which invocation is delayed depends only on their order.
 * The memory budget's keys and the faults block are read by their own
 * files (budget.c, faults.c); a node starts with its own state of each. */
#include "node.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cjson/cJSON.h>

#include "jsonnum.h"
#include "slowdown.h"

/* --- profile --- */

int fg_site_profile_parse(const char *json, size_t len, fg_site_profile *p, fg_err *err)
{
    memset(p, 0, sizeof *p);
    cJSON *root = cJSON_ParseWithLength(json, len);
    if (!cJSON_IsObject(root)) {
        cJSON_Delete(root);
        return fg_err_set(err, "nodes file: invalid JSON");
    }
    int rc = -1;
    double max_body_mb = 0, max_pixels = 0, ttl = 0;
    fg_slowdown_spec top;
    double top_factors[FG_MAX_FUNCTIONS];
    fg_budget_defaults limits;
    p->tail.function = -1;
    const char *top_where = "nodes file";
    if (fg_json_get_number(root, "max_body_mb", 64, 1, 4096, &max_body_mb, top_where, err) ||
        fg_json_get_number(root, "max_pixels", (double)FG_DEFAULT_MAX_PIXELS, 1, 1e10,
                           &max_pixels, top_where, err) ||
        fg_json_get_number(root, "blob_ttl_s", 300, 0.001, 1e7, &ttl, top_where, err) ||
        fg_slowdown_spec_parse(cJSON_GetObjectItemCaseSensitive(root, "slowdown"),
                               "nodes file", &top, err) ||
        fg_tail_delay_parse(cJSON_GetObjectItemCaseSensitive(root, "tail_delay"),
                            "nodes file", &p->tail, err) ||
        fg_fault_spec_parse(cJSON_GetObjectItemCaseSensitive(root, "faults"),
                            "nodes file: \"faults\"", &p->faults, err) ||
        fg_budget_defaults_parse(root, &limits, err))
        goto out;
    p->max_body_bytes = (size_t)(max_body_mb * FG_MB);
    p->max_pixels = (uint64_t)max_pixels;
    p->blob_ttl_s = ttl;
    p->slowdown = fg_slowdown_resolve(NULL, &top, top_factors);

    const cJSON *nodes = cJSON_GetObjectItemCaseSensitive(root, "nodes");
    if (!cJSON_IsArray(nodes) || cJSON_GetArraySize(nodes) == 0) {
        fg_err_set(err, "nodes file: \"nodes\" must be a non-empty array");
        goto out;
    }
    if (cJSON_GetArraySize(nodes) > FG_MAX_NODES) {
        fg_err_set(err, "nodes file: %d nodes, at most %d", cJSON_GetArraySize(nodes),
                   FG_MAX_NODES);
        goto out;
    }
    const cJSON *n;
    cJSON_ArrayForEach(n, nodes) {
        fg_node_profile *np = &p->nodes[p->n_nodes];
        char where[64], faults_where[80];
        snprintf(where, sizeof where, "nodes file: nodes[%d]", p->n_nodes);
        snprintf(faults_where, sizeof faults_where, "%s: \"faults\"", where);
        const cJSON *name = cJSON_GetObjectItemCaseSensitive(n, "name");
        if (!cJSON_IsObject(n) || !cJSON_IsString(name) || !name->valuestring[0] ||
            strlen(name->valuestring) >= sizeof np->name) {
            fg_err_set(err, "%s: \"name\" must be a string of 1..31 characters", where);
            goto out;
        }
        for (int i = 0; i < p->n_nodes; i++)
            if (!strcmp(p->nodes[i].name, name->valuestring)) {
                fg_err_set(err, "%s: duplicate name \"%s\"", where, name->valuestring);
                goto out;
            }
        strcpy(np->name, name->valuestring);
        double port = 0, workers = 0, bw = 0, lat = 0, store_mb = 0;
        fg_slowdown_spec own;
        np->tail = p->tail;
        np->faults = p->faults;
        if (fg_json_get_number(n, "port", 0, 0, 65535, &port, where, err) ||
            fg_json_get_number(n, "workers", NAN, 1, 256, &workers, where, err) ||
            fg_json_get_number(n, "bandwidth_mbit", 0, 0, 1e7, &bw, where, err) ||
            fg_json_get_number(n, "latency_ms", 0, 0, 60000, &lat, where, err) ||
            fg_json_get_number(n, "blob_store_mb", 512, 1, 1 << 20, &store_mb, where, err) ||
            fg_slowdown_spec_parse(cJSON_GetObjectItemCaseSensitive(n, "slowdown"), where,
                                   &own, err) ||
            fg_tail_delay_parse(cJSON_GetObjectItemCaseSensitive(n, "tail_delay"), where,
                                &np->tail, err) ||
            fg_fault_spec_parse(cJSON_GetObjectItemCaseSensitive(n, "faults"), faults_where,
                                &np->faults, err) ||
            fg_budget_profile_parse(n, &limits, p->max_body_bytes, where, &np->limits, err))
            goto out;
        np->port = (int)port;
        np->workers = (int)workers;
        np->bandwidth_mbit = bw;
        np->latency_ms = lat;
        np->blob_store_bytes = (size_t)(store_mb * FG_MB);
        np->slowdown = fg_slowdown_resolve(&own, &top, np->fn_slowdown);
        p->n_nodes++;
    }
    rc = 0;
out:
    cJSON_Delete(root);
    return rc;
}

int fg_site_profile_load(const char *path, fg_site_profile *p, fg_err *err)
{
    fg_buf text;
    if (fg_read_file(path, 1 << 20, &text, err) != 0) return -1;
    fg_err inner;
    int rc = fg_site_profile_parse((const char *)text.data, text.len, p, &inner);
    if (rc != 0) fg_err_set(err, "%s: %s", path, inner.msg);
    fg_buf_free(&text);
    return rc;
}

void fg_node_profile_set_slowdown(fg_node_profile *np, double f)
{
    np->slowdown = f;
    for (int i = 0; i < FG_MAX_FUNCTIONS; i++) np->fn_slowdown[i] = f;
}

/* --- runtime --- */

int fg_node_init(fg_node *n, const fg_node_profile *prof, fg_site *site, fg_err *err)
{
    memset(n, 0, sizeof *n);
    n->prof = *prof;
    n->site = site;
    if (fg_faults_init(&n->faults, &prof->faults, prof->name, err) != 0) return -1;
    fg_budget_init(&n->budget, &prof->limits);
    pthread_mutex_init(&n->mu, NULL);
    pthread_cond_init(&n->slot_free, NULL);
    pthread_mutex_init(&n->link_mu, NULL);
    n->link_last_ms = fg_now_mono_ms();
    n->link_tokens = FG_LINK_MIN_BURST_BYTES;
    n->blobs = fg_blobstore_new(prof->blob_store_bytes, site->profile.blob_ttl_s);
    n->workers = calloc((size_t)prof->workers, sizeof *n->workers);
    n->idle = calloc((size_t)prof->workers, sizeof *n->idle);
    if (!n->blobs || !n->workers || !n->idle) {
        fg_node_destroy(n);
        return fg_err_set(err, "%s: out of memory", prof->name);
    }
    /* Pushed in reverse so slot 0 is handed out first. */
    for (int i = prof->workers - 1; i >= 0; i--) {
        n->workers[i].index = i;
        n->idle[n->n_idle++] = &n->workers[i];
    }
    return 0;
}

void fg_node_destroy(fg_node *n)
{
    if (n->workers)
        for (int i = 0; i < n->prof.workers; i++)
            if (n->workers[i].ocr) fg_ocr_free(n->workers[i].ocr);
    pthread_mutex_destroy(&n->mu);
    pthread_cond_destroy(&n->slot_free);
    pthread_mutex_destroy(&n->link_mu);
    fg_budget_destroy(&n->budget);
    fg_faults_destroy(&n->faults);
    free(n->workers);
    free(n->idle);
    fg_blobstore_free(n->blobs);
    n->workers = NULL;
    n->idle = NULL;
    n->blobs = NULL;
}

fg_worker *fg_node_acquire(fg_node *n, double *queue_ms)
{
    double t0 = fg_now_mono_ms();
    pthread_mutex_lock(&n->mu);
    n->queued++;
    while (n->n_idle == 0) pthread_cond_wait(&n->slot_free, &n->mu);
    n->queued--;
    fg_worker *w = n->idle[--n->n_idle];
    n->inflight++;
    pthread_mutex_unlock(&n->mu);
    *queue_ms = fg_now_mono_ms() - t0;
    return w;
}

void fg_node_release(fg_node *n, fg_worker *w)
{
    pthread_mutex_lock(&n->mu);
    n->idle[n->n_idle++] = w;
    n->inflight--;
    pthread_cond_signal(&n->slot_free);
    pthread_mutex_unlock(&n->mu);
}

double fg_node_tail(fg_node *n, int fn)
{
    const fg_tail_delay *t = &n->prof.tail;
    if (!t->every || (t->function >= 0 && t->function != fn)) return 0;
    pthread_mutex_lock(&n->mu);
    uint64_t seen = ++n->tail_seen;
    pthread_mutex_unlock(&n->mu);
    if (seen % (uint64_t)t->every != 0) return 0;
    fg_sleep_ms(t->add_ms);
    return t->add_ms;
}

/* Takes `chunk` bytes from the bucket; returns how long to wait for them. */
static double link_reserve(fg_node *n, double chunk, double per_ms, double burst)
{
    pthread_mutex_lock(&n->link_mu);
    double now = fg_now_mono_ms();
    n->link_tokens = fmin(burst, n->link_tokens + (now - n->link_last_ms) * per_ms);
    n->link_last_ms = now;
    n->link_tokens -= chunk;
    double wait = n->link_tokens < 0 ? -n->link_tokens / per_ms : 0;
    pthread_mutex_unlock(&n->link_mu);
    return wait;
}

void fg_node_link_get(fg_node *n, double *bandwidth_mbit, double *latency_ms)
{
    pthread_mutex_lock(&n->link_mu);
    *bandwidth_mbit = n->prof.bandwidth_mbit;
    *latency_ms = n->prof.latency_ms;
    pthread_mutex_unlock(&n->link_mu);
}

int fg_node_link_set_json(fg_node *n, const char *json, size_t len, fg_err *err)
{
    cJSON *o = cJSON_ParseWithLength(json, len);
    int rc = -1;
    double bw, lat;
    if (!cJSON_IsObject(o)) {
        fg_err_set(err, "link: the body is not a JSON object");
        goto out;
    }
    for (const cJSON *k = o->child; k; k = k->next)
        if (strcmp(k->string, "bandwidth_mbit") && strcmp(k->string, "latency_ms")) {
            fg_err_set(err, "link: unknown key \"%.32s\" (bandwidth_mbit, latency_ms)",
                       k->string);
            goto out;
        }
    fg_node_link_get(n, &bw, &lat);
    if (fg_json_get_number(o, "bandwidth_mbit", bw, 0, 1e7, &bw, "link", err) ||
        fg_json_get_number(o, "latency_ms", lat, 0, 60000, &lat, "link", err))
        goto out;
    /* A new rate starts from a full (small) bucket, as after an idle link. */
    pthread_mutex_lock(&n->link_mu);
    n->prof.bandwidth_mbit = bw;
    n->prof.latency_ms = lat;
    n->link_tokens = FG_LINK_MIN_BURST_BYTES;
    n->link_last_ms = fg_now_mono_ms();
    pthread_mutex_unlock(&n->link_mu);
    rc = 0;
out:
    cJSON_Delete(o);
    return rc;
}

void fg_node_egress(fg_node *n, size_t bytes)
{
    pthread_mutex_lock(&n->mu);
    n->responses++;
    n->bytes_out += bytes;
    pthread_mutex_unlock(&n->mu);
    double bandwidth_mbit, latency_ms;
    fg_node_link_get(n, &bandwidth_mbit, &latency_ms);
    fg_sleep_ms(latency_ms);
    if (!(bandwidth_mbit > 0)) return;
    double per_ms = bandwidth_mbit * 1e6 / 8.0 / 1000.0;   /* bytes per ms */
    double burst = fmax(FG_LINK_MIN_BURST_BYTES, per_ms * FG_LINK_BURST_MS);
    for (double left = (double)bytes; left > 0;) {
        double chunk = fmin(left, burst);
        fg_sleep_ms(link_reserve(n, chunk, per_ms, burst));
        left -= chunk;
    }
}

void fg_node_count(fg_node *n, int fn, int ok, int cold_start, double cpu_ms)
{
    pthread_mutex_lock(&n->mu);
    n->invocations++;
    if (cpu_ms > 0) n->cpu_ms += cpu_ms;
    if (!ok) n->errors++;
    if (cold_start) n->cold_starts++;
    if (fn >= 0 && fn < FG_MAX_FUNCTIONS) n->per_function[fn]++;
    pthread_mutex_unlock(&n->mu);
}

fg_node *fg_site_find_node(fg_site *site, const char *name)
{
    for (int i = 0; i < site->n_nodes; i++)
        if (!strcmp(site->nodes[i].prof.name, name)) return &site->nodes[i];
    return NULL;
}

const fg_peer *fg_site_find_peer(const fg_site *site, const char *name)
{
    for (int i = 0; i < site->n_peers; i++)
        if (!strcmp(site->peers[i].name, name)) return &site->peers[i];
    return NULL;
}

void fg_node_counters_get(fg_node *n, fg_node_counters *out)
{
    pthread_mutex_lock(&n->mu);
    out->inflight = n->inflight;
    out->queued = n->queued;
    out->invocations = n->invocations;
    out->errors = n->errors;
    out->cold_starts = n->cold_starts;
    out->responses = n->responses;
    out->bytes_out = n->bytes_out;
    memcpy(out->per_function, n->per_function, sizeof out->per_function);
    out->cpu_ms = n->cpu_ms;
    pthread_mutex_unlock(&n->mu);
}
