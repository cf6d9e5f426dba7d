/* engine.c — the load generator: one experiment, one thread, one libcurl
 * multi handle.
 *
 * Workflow instances are started by the load model — closed loop (keep
 * `concurrency` instances in flight until warmup + requests have run) or
 * open loop (instance i is due at t0 + i/rate; its latency counts from that
 * intended time, so a slow server cannot hide its queue: coordinated
 * omission corrected as in wrk2). Each instance is a state machine
 * (instance.c); whenever one of its functions becomes ready the engine asks
 * the scheduler for a node, builds the request and adds an easy handle to
 * the multi handle. curl_multi_poll sleeps until a socket is ready, curl's
 * own timer fires or the next open-loop send is due.
 *
 * Easy handles are pooled per node and reused, so connections stay alive
 * across invocations; like every flowgate transfer they speak plain http
 * and ignore proxy variables (fg_http_loopback_only), so requests go to the
 * loopback URLs the cluster validated and nowhere else. The upload body is
 * the payload's shared buffer (CURLOPT_POSTFIELDS, never copied); other
 * bodies are small JSON objects. Response bodies are bounded
 * (FG_MAX_RESPONSE_BYTES); a larger one is a malformed answer.
 *
 * Accounting: each finished instance is exactly one of ok, failed or
 * timed_out (a failed instance counts as timed_out when its failure was a
 * timeout). A stop request (Ctrl-C) aborts what is in flight; those
 * instances are counted as "interrupted", apart from the three. */
#include "flowgate/engine.h"

#include <curl/curl.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "instance.h"
#include "metrics.h"

#define TIMELINE_MAX_REQUESTS 200
#define POLL_MAX_MS 100
#define PROGRESS_EVERY_MS 500.0

static volatile sig_atomic_t stop_requested;

void fg_engine_request_stop(void) { stop_requested = 1; }
int fg_engine_stop_requested(void) { return stop_requested != 0; }

typedef struct run_instance {
    struct run_instance *prev, *next;   /* live list */
    fg_instance sm;
    uint64_t index;
    int warmup;
    double intended;                    /* monotonic ms: latency counts from here */
    int prev_node;
    int fail_class;                     /* first failure's class, -1 none */
    cJSON *timeline;                    /* this request in the timeline, or NULL */
    char request_id[160];
} run_instance;

typedef struct invocation {
    struct invocation *prev, *next;     /* live list */
    run_instance *ri;
    int fn, node, attempt;
    CURL *easy;
    char *body;                         /* owned; NULL: the shared payload body */
    double queued, sent;
    fg_http_body resp;                  /* bounded by FG_MAX_RESPONSE_BYTES */
    char curl_error[CURL_ERROR_SIZE];
} invocation;

typedef struct handle_pool { CURL **handles; int n, cap; } handle_pool;

typedef struct engine {
    const fg_experiment *x;
    const fg_workflow *wf;
    const fg_cluster *c;
    const fg_payload *p;
    fg_scheduler *sched;
    CURLM *multi;
    struct curl_slist *headers;
    fg_node_state nodes[FG_MAX_NODES];
    int n_nodes;
    handle_pool pool[FG_MAX_NODES];
    invocation *live_inv;
    run_instance *live;
    int live_instances;
    uint64_t total, started, completed;
    uint64_t measured_started;
    int failed_total;
    double t0, next_progress;
    fg_metrics m;
    fg_timeline tl;
} engine;

/* ---- easy handles ---------------------------------------------------- */

static CURL *handle_get(engine *e, int node)
{
    handle_pool *hp = &e->pool[node];
    if (hp->n > 0) return hp->handles[--hp->n];
    CURL *h = curl_easy_init();
    if (!h) return NULL;
    fg_http_loopback_only(h);   /* an http_proxy in the environment must not apply */
    curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(h, CURLOPT_TCP_NODELAY, 1L);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, e->headers);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, fg_http_body_write);
    curl_easy_setopt(h, CURLOPT_POST, 1L);
    return h;
}

static void handle_put(engine *e, int node, CURL *h)
{
    handle_pool *hp = &e->pool[node];
    /* the invocation that owned these buffers is about to be freed */
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, NULL);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, NULL);
    curl_easy_setopt(h, CURLOPT_PRIVATE, NULL);
    if (hp->n == hp->cap) {
        int cap = hp->cap ? 2 * hp->cap : 8;
        CURL **grown = realloc(hp->handles, (size_t)cap * sizeof *grown);
        if (!grown) {
            curl_easy_cleanup(h);
            return;
        }
        hp->handles = grown;
        hp->cap = cap;
    }
    hp->handles[hp->n++] = h;
}

/* ---- instances -------------------------------------------------------- */

static int node_by_name(const fg_cluster *c, const char *name)
{
    if (!name || c->mode != FG_CLUSTER_NODES) return -1;
    for (int i = 0; i < c->n_nodes; i++)
        if (!strcmp(c->nodes[i].name, name)) return i;
    return -1;
}

static void unlink_invocation(engine *e, invocation *inv)
{
    if (inv->prev) inv->prev->next = inv->next;
    else e->live_inv = inv->next;
    if (inv->next) inv->next->prev = inv->prev;
}

static void free_invocation(invocation *inv)
{
    free(inv->body);
    fg_http_body_free(&inv->resp);
    free(inv);
}

/* Failure before anything was sent (no node, no URL, no input): the
 * instance fails with this class. */
static void give_up(engine *e, run_instance *ri, int fn, fg_fail_class cls, const char *msg)
{
    fg_instance_fail(&ri->sm, fn);
    if (ri->fail_class < 0) ri->fail_class = (int)cls;
    if (!ri->warmup) fg_metrics_error(&e->m, cls, e->wf->nodes[fn].id, msg);
}

static void send_invocation(engine *e, run_instance *ri, int fn, int attempt, double queued)
{
    const char *function = e->wf->nodes[fn].id;
    fg_err err = {{0}};
    cJSON *body_json = NULL;
    int uses_payload = 0, n_inputs = 0;
    fg_instance_input inputs[FG_WF_MAX_FANIN];
    if (fg_instance_request(&ri->sm, fn, ri->request_id, &body_json, &uses_payload, inputs,
                            &n_inputs, &err) != 0) {
        give_up(e, ri, fn, FG_FAIL_MALFORMED, err.msg);
        return;
    }
    fg_sched_request sr = {.request_id = ri->index, .fn = fn, .function = function,
                           .n_inputs = n_inputs, .prev_node = ri->prev_node};
    for (int i = 0; i < n_inputs; i++) {
        sr.inputs[i].node = node_by_name(e->c, inputs[i].node_name);
        sr.inputs[i].mb = inputs[i].mb < 0 ? (double)e->p->png_len / FG_MB : inputs[i].mb;
    }
    /* With one node (or one URL per function) there is nothing to choose. */
    int node = e->n_nodes == 1 ? 0 : fg_sched_pick(e->sched, &sr, e->nodes, e->n_nodes);
    char url[512];
    if (node < 0 || node >= e->n_nodes) {
        cJSON_Delete(body_json);
        give_up(e, ri, fn, FG_FAIL_CONNECT, "the scheduler found no node");
        return;
    }
    if (fg_cluster_invoke_url(e->c, node, function, url, sizeof url) != 0) {
        cJSON_Delete(body_json);
        give_up(e, ri, fn, FG_FAIL_CONNECT, "no URL for this function in the endpoints");
        return;
    }
    invocation *inv = calloc(1, sizeof *inv);
    char *body = body_json ? cJSON_PrintUnformatted(body_json) : NULL;
    cJSON_Delete(body_json);
    CURL *h = inv ? handle_get(e, node) : NULL;
    if (!inv || !h || (!uses_payload && !body)) {
        free(body);
        free(inv);
        if (h) handle_put(e, node, h);
        give_up(e, ri, fn, FG_FAIL_CONNECT, "out of memory for a request");
        return;
    }
    inv->ri = ri;
    inv->fn = fn;
    inv->node = node;
    inv->attempt = attempt;
    inv->easy = h;
    inv->body = body;
    inv->queued = queued;
    inv->resp.limit = FG_MAX_RESPONSE_BYTES;
    const char *data = uses_payload ? e->p->body : body;
    size_t len = uses_payload ? e->p->body_len : strlen(body);
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, data);
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)(e->x->timeout_s * 1000.0 + 0.5));
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &inv->resp);
    curl_easy_setopt(h, CURLOPT_PRIVATE, inv);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, inv->curl_error);
    inv->sent = fg_now_mono_ms();
    if (curl_multi_add_handle(e->multi, h) != CURLM_OK) {
        handle_put(e, node, h);
        free_invocation(inv);
        give_up(e, ri, fn, FG_FAIL_CONNECT, "libcurl refused the transfer");
        return;
    }
    e->nodes[node].inflight++;
    inv->next = e->live_inv;
    if (e->live_inv) e->live_inv->prev = inv;
    e->live_inv = inv;
}

static void finish_instance(engine *e, run_instance *ri)
{
    double end = fg_now_mono_ms();
    int ok = !ri->sm.failed;
    fg_fail_class cls = ri->fail_class >= 0 ? (fg_fail_class)ri->fail_class : FG_FAIL_MALFORMED;
    fg_metrics_workflow(&e->m, ri->warmup, ok, cls, end - ri->intended, ri->intended, end);
    if (!ri->warmup)
        for (int i = 0; i < e->wf->n_edges; i++) {
            int b = fg_instance_branch(&ri->sm, i);
            if (b >= 0) e->m.branches[i][b]++;
        }
    fg_timeline_outcome(&e->tl, ri->timeline,
                        ok ? "ok" : cls == FG_FAIL_TIMEOUT ? "timed_out" : "failed", end);
    e->completed++;
    if (!ok) e->failed_total++;
    if (ri->prev) ri->prev->next = ri->next;
    else e->live = ri->next;
    if (ri->next) ri->next->prev = ri->prev;
    e->live_instances--;
    fg_instance_free(&ri->sm);
    free(ri);
}

/* Sends whatever became ready; ends the instance when nothing is left. */
static void pump(engine *e, run_instance *ri)
{
    int fn;
    double now = fg_now_mono_ms();
    while ((fn = fg_instance_next_ready(&ri->sm)) >= 0) send_invocation(e, ri, fn, 0, now);
    if (fg_instance_finished(&ri->sm)) finish_instance(e, ri);
}

static int start_instance(engine *e, double intended, fg_err *err)
{
    run_instance *ri = calloc(1, sizeof *ri);
    if (!ri) return fg_err_set(err, "out of memory for a workflow instance");
    if (fg_instance_init(&ri->sm, e->wf, !e->x->inline_data, err) != 0) {
        free(ri);
        return -1;
    }
    ri->index = e->started++;
    ri->warmup = ri->index < (uint64_t)(e->x->warmup > 0 ? e->x->warmup : 0);
    if (!ri->warmup) e->measured_started++;
    ri->intended = intended;
    ri->prev_node = -1;
    ri->fail_class = -1;
    snprintf(ri->request_id, sizeof ri->request_id, "%s-%d-%llu", e->x->id, e->x->repeat,
             (unsigned long long)ri->index);
    ri->timeline = fg_timeline_request(&e->tl, ri->index, ri->warmup, intended);
    ri->next = e->live;
    if (e->live) e->live->prev = ri;
    e->live = ri;
    e->live_instances++;
    pump(e, ri);
    return 0;
}

/* ---- completions ------------------------------------------------------ */

static fg_fail_class classify(engine *e, invocation *inv, CURLcode rc, cJSON **resp,
                              int *ok, char *msg, size_t msg_size)
{
    const char *function = e->wf->nodes[inv->fn].id;
    *ok = 0;
    *resp = NULL;
    if (rc == CURLE_OPERATION_TIMEDOUT) {
        snprintf(msg, msg_size, "no answer within %.0f ms", e->x->timeout_s * 1000.0);
        return FG_FAIL_TIMEOUT;
    }
    if (rc != CURLE_OK) {
        if (inv->resp.overflow) {
            snprintf(msg, msg_size, "response larger than %zu bytes", FG_MAX_RESPONSE_BYTES);
            return FG_FAIL_MALFORMED;
        }
        snprintf(msg, msg_size, "%s%s%s", curl_easy_strerror(rc),
                 inv->curl_error[0] ? ": " : "", inv->curl_error);
        if (rc == CURLE_COULDNT_CONNECT || rc == CURLE_COULDNT_RESOLVE_HOST)
            e->nodes[inv->node].up = 0;
        return FG_FAIL_CONNECT;
    }
    e->nodes[inv->node].up = 1;
    long code = 0;
    curl_easy_getinfo(inv->easy, CURLINFO_RESPONSE_CODE, &code);
    *resp = inv->resp.data ? cJSON_ParseWithLength(inv->resp.data, inv->resp.len) : NULL;
    const cJSON *message = cJSON_GetObjectItemCaseSensitive(*resp, "message");
    const char *text = cJSON_IsString(message) ? message->valuestring : NULL;
    if (code < 200 || code > 299) {
        snprintf(msg, msg_size, "HTTP %ld: %.200s", code,
                 text ? text : inv->resp.data ? inv->resp.data : "(empty body)");
        return FG_FAIL_HTTP;
    }
    if (!cJSON_IsObject(*resp)) {
        snprintf(msg, msg_size, "response is not a JSON object: %.80s",
                 inv->resp.data ? inv->resp.data : "(empty body)");
        return FG_FAIL_MALFORMED;
    }
    const cJSON *status = cJSON_GetObjectItemCaseSensitive(*resp, "status");
    if (cJSON_IsString(status) && !strcmp(status->valuestring, "error")) {
        snprintf(msg, msg_size, "%s", text ? text : "status error without a message");
        return FG_FAIL_FUNCTION;
    }
    if (!cJSON_IsString(status) || strcmp(status->valuestring, "success")) {
        snprintf(msg, msg_size, "%s: response has no \"status\":\"success\"", function);
        return FG_FAIL_MALFORMED;
    }
    *ok = 1;
    return FG_FAIL_MALFORMED;   /* unused when ok */
}

static void on_done(engine *e, CURL *easy, CURLcode rc)
{
    invocation *inv = NULL;
    curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&inv);
    curl_multi_remove_handle(e->multi, easy);
    unlink_invocation(e, inv);
    e->nodes[inv->node].inflight--;
    double received = fg_now_mono_ms();
    run_instance *ri = inv->ri;
    const char *function = e->wf->nodes[inv->fn].id;

    char msg[600];
    int ok;
    cJSON *resp;
    fg_fail_class cls = classify(e, inv, rc, &resp, &ok, msg, sizeof msg);
    handle_put(e, inv->node, easy);
    inv->easy = NULL;
    int lost_instance = 0;   /* a switch could not be evaluated: no retry helps */
    if (ok) {
        fg_err err = {{0}};
        int r = fg_instance_complete(&ri->sm, inv->fn, resp, &err);
        if (r != 0) {
            ok = 0;
            cls = FG_FAIL_MALFORMED;
            snprintf(msg, sizeof msg, "%s", err.msg);
            lost_instance = r == -2;
        }
    }
    if (!ri->warmup) {
        fg_metrics_invocation(&e->m, inv->fn, inv->node, ok, cls, received - inv->sent, resp);
        if (!ok) fg_metrics_error(&e->m, cls, function, msg);
    }
    const char *node_name = e->c->mode == FG_CLUSTER_NODES ? e->c->nodes[inv->node].name
                                                          : "functions";
    fg_timeline_span(&e->tl, ri->timeline, function, node_name, inv->queued, inv->sent,
                     received, resp, ok ? "ok" : fg_fail_class_names[cls]);
    cJSON_Delete(resp);

    if (ok) {
        ri->prev_node = inv->node;
    } else if (lost_instance) {
        if (ri->fail_class < 0) ri->fail_class = (int)cls;
    } else if (inv->attempt < e->x->retries && !stop_requested) {
        send_invocation(e, ri, inv->fn, inv->attempt + 1, received);
    } else {
        fg_instance_fail(&ri->sm, inv->fn);
        if (ri->fail_class < 0) ri->fail_class = (int)cls;
    }
    free_invocation(inv);
    pump(e, ri);
}

/* Ctrl-C: abort the transfers, count the unfinished measured instances. */
static void abort_all(engine *e)
{
    while (e->live_inv) {
        invocation *inv = e->live_inv;
        curl_multi_remove_handle(e->multi, inv->easy);
        e->nodes[inv->node].inflight--;
        handle_put(e, inv->node, inv->easy);
        unlink_invocation(e, inv);
        free_invocation(inv);
    }
    double now = fg_now_mono_ms();
    while (e->live) {
        run_instance *ri = e->live;
        if (!ri->warmup) e->m.interrupted++;
        fg_timeline_outcome(&e->tl, ri->timeline, "interrupted", now);
        e->live = ri->next;
        e->live_instances--;
        fg_instance_free(&ri->sm);
        free(ri);
    }
}

static void progress(engine *e, int final)
{
    if (!e->x->progress) return;
    double now = fg_now_mono_ms();
    if (!final && now < e->next_progress) return;
    e->next_progress = now + PROGRESS_EVERY_MS;
    fprintf(stderr, "\r  %s %llu/%llu done, %d failed, %.1f s%s", e->x->id,
            (unsigned long long)e->completed, (unsigned long long)e->total, e->failed_total,
            (now - e->t0) / 1000.0, final ? "\n" : "");
    fflush(stderr);
}

/* ---- the loop --------------------------------------------------------- */

static int run_loop(engine *e, fg_err *err)
{
    const fg_experiment *x = e->x;
    int open = x->rate_rps > 0;
    double interval_ms = open ? 1000.0 / x->rate_rps : 0;
    for (;;) {
        if (stop_requested) {
            abort_all(e);
            break;
        }
        double now = fg_now_mono_ms();
        if (open) {
            while (e->started < e->total && e->t0 + (double)e->started * interval_ms <= now)
                if (start_instance(e, e->t0 + (double)e->started * interval_ms, err) != 0)
                    return -1;
        } else {
            while (e->started < e->total && e->live_instances < x->concurrency)
                if (start_instance(e, fg_now_mono_ms(), err) != 0) return -1;
        }
        if (e->started == e->total && e->live_instances == 0) break;

        int running = 0;
        curl_multi_perform(e->multi, &running);
        int handled = 0, left;
        CURLMsg *msg;
        /* After a stop request nothing more is recorded: a Ctrl-C from the
         * terminal also reaches the embedded server, whose dying
         * connections must not be counted as failures. */
        while (!stop_requested && (msg = curl_multi_info_read(e->multi, &left))) {
            if (msg->msg != CURLMSG_DONE) continue;
            on_done(e, msg->easy_handle, msg->data.result);
            handled++;
        }
        progress(e, 0);
        if (handled) continue;   /* new work may be ready: send it first */

        int wait_ms = POLL_MAX_MS;
        if (open && e->started < e->total) {
            double due = e->t0 + (double)e->started * interval_ms - fg_now_mono_ms();
            if (due < wait_ms) wait_ms = due > 0 ? (int)ceil(due) : 0;
        }
        curl_multi_poll(e->multi, NULL, 0, wait_ms, NULL);
    }
    progress(e, 1);
    return 0;
}

static void engine_cleanup(engine *e)
{
    abort_all(e);
    for (int i = 0; i < FG_MAX_NODES; i++) {
        for (int k = 0; k < e->pool[i].n; k++) curl_easy_cleanup(e->pool[i].handles[k]);
        free(e->pool[i].handles);
    }
    if (e->multi) curl_multi_cleanup(e->multi);
    curl_slist_free_all(e->headers);
    fg_sched_free(e->sched);
    fg_metrics_free(&e->m);
    fg_timeline_free(&e->tl);
}

static void init_nodes(engine *e)
{
    const fg_cluster *c = e->c;
    if (c->mode == FG_CLUSTER_NODES) {
        e->n_nodes = c->n_nodes;
        for (int i = 0; i < c->n_nodes; i++)
            e->nodes[i] = (fg_node_state){0, c->nodes[i].workers, c->nodes[i].bandwidth_mbit,
                                          c->nodes[i].latency_ms, 1};
    } else {
        /* One URL per function: a single "node" whose capacity is unknown. */
        e->n_nodes = 1;
        e->nodes[0] = (fg_node_state){0, e->x->concurrency > 0 ? e->x->concurrency : 1, 0, 0, 1};
    }
}

int fg_experiment_run(const fg_experiment *x, const fg_workflow *wf, const fg_cluster *c,
                      const fg_payload *p, const fg_profile *profile, cJSON **entry,
                      fg_err *err)
{
    *entry = NULL;
    if (x->rate_rps <= 0 && x->concurrency < 1)
        return fg_err_set(err, "%s: concurrency must be at least 1", x->id);
    if (x->rate_rps > 0 && !(x->duration_s > 0))
        return fg_err_set(err, "%s: open loop needs a duration > 0", x->id);
    if (!(x->timeout_s > 0)) return fg_err_set(err, "%s: timeout must be > 0", x->id);
    if (c->mode == FG_CLUSTER_NODES && (c->n_nodes < 1 || c->n_nodes > FG_MAX_NODES))
        return fg_err_set(err, "cluster has %d nodes", c->n_nodes);
    if (!p->body) return fg_err_set(err, "%s: no payload loaded", x->id);
    /* The shared upload body carries the by_ref choice: it must match. */
    const char *tail = x->inline_data ? "\"by_ref\":false}" : "\"by_ref\":true}";
    size_t tail_len = strlen(tail);
    if (p->body_len < tail_len || memcmp(p->body + p->body_len - tail_len, tail, tail_len))
        return fg_err_set(err, "%s: the payload was loaded for %s data, the experiment sends "
                          "%s data", x->id, x->inline_data ? "by-reference" : "inline",
                          x->inline_data ? "inline" : "by-reference");
    if (fg_instance_check_workflow(wf, err) != 0) return -1;
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return fg_err_set(err, "libcurl initialisation failed");

    engine e;
    memset(&e, 0, sizeof e);
    e.x = x;
    e.wf = wf;
    e.c = c;
    e.p = p;
    int rc = -1;
    e.sched = fg_sched_new(x->scheduler, wf, c, profile, err);
    if (!e.sched) goto out;
    if (fg_metrics_init(&e.m, wf, c, err) != 0) goto out;
    init_nodes(&e);
    e.multi = curl_multi_init();
    e.headers = curl_slist_append(NULL, "Content-Type: application/json");
    if (e.headers) e.headers = curl_slist_append(e.headers, "Expect:");
    if (!e.multi || !e.headers) {
        fg_err_set(err, "libcurl: out of memory");
        goto out;
    }
    /* Every in-flight request has its own connection (the server runs one
     * thread per connection); keep them all alive in the cache. */
    long in_flight = x->rate_rps > 0 ? 1024 : (long)x->concurrency * 4;
    curl_multi_setopt(e.multi, CURLMOPT_MAX_HOST_CONNECTIONS, 0L);
    curl_multi_setopt(e.multi, CURLMOPT_MAXCONNECTS, in_flight + 16);

    if (x->rate_rps > 0) {
        double n = ceil(x->rate_rps * x->duration_s - 1e-9);
        e.total = (uint64_t)(x->warmup > 0 ? x->warmup : 0) + (uint64_t)(n > 0 ? n : 0);
    } else {
        e.total = (uint64_t)(x->warmup > 0 ? x->warmup : 0) +
                  (uint64_t)(x->requests > 0 ? x->requests : 0);
    }
    /* Server usage of this experiment alone: CPU as a difference, the peak
     * RSS since a reset (kept as the whole-life peak if the kernel refuses). */
    fg_proc_sample before, after;
    fg_cluster_reset_peak_rss(c);
    int sampled = fg_cluster_proc_sample(c, &before) == 0;
    e.t0 = fg_now_mono_ms();
    double t0_unix = fg_now_unix_ms();
    e.next_progress = e.t0 + PROGRESS_EVERY_MS;
    if (fg_timeline_init(&e.tl, x->id, x->repeat,
                         x->timeline_path[0] ? TIMELINE_MAX_REQUESTS : 0, e.t0, t0_unix) != 0) {
        fg_err_set(err, "out of memory for the timeline");
        goto out;
    }
    if (run_loop(&e, err) != 0) goto out;

    fg_server_usage usage = {0};
    if (sampled && fg_cluster_proc_sample(c, &after) == 0)
        usage = (fg_server_usage){1, after.cpu_s - before.cpu_s, after.peak_rss_kb};

    /* The invariant every report relies on. */
    const fg_counts *mc = &e.m.measured;
    if (mc->sent != mc->ok + mc->failed + mc->timed_out ||
        (uint64_t)mc->sent + (uint64_t)e.m.interrupted != e.measured_started) {
        fg_err_set(err, "%s: accounting error: sent %d = ok %d + failed %d + timed_out %d, "
                   "interrupted %d, started %llu", x->id, mc->sent, mc->ok, mc->failed,
                   mc->timed_out, e.m.interrupted, (unsigned long long)e.measured_started);
        goto out;
    }
    const char *timeline = NULL;
    if (x->timeline_path[0]) {
        fg_err terr = {{0}};
        if (fg_timeline_write(&e.tl, x->timeline_path, &terr) == 0) timeline = x->timeline_path;
        else fg_log(FG_LOG_WARN, "timeline not written: %s", terr.msg);
    }
    *entry = fg_metrics_entry(&e.m, x, p, &usage, timeline);
    if (!*entry) {
        fg_err_set(err, "out of memory for the results entry");
        goto out;
    }
    rc = 0;
out:
    engine_cleanup(&e);
    curl_global_cleanup();
    return rc;
}
