/* engine.c — the load generator: one experiment, one thread, one event
 * loop carrying two transports.
 *
 * Workflow instances are started by the load model — closed loop (keep
 * `concurrency` instances in flight) or open loop (instances due on an
 * arrival schedule, arrival.h: a fixed rate, Poisson gaps, or stages;
 * latency counts from the intended time, so a slow server cannot
 * hide its queue: coordinated omission corrected as in wrk2). Each instance
 * is a state machine (instance.c); whenever one of its steps becomes
 * ready the engine asks the scheduler for a node, builds the request and
 * sends it: plain http:// through the driver's own HTTP/1.1 (h1.c: head
 * built once per URL, one send, http_parser; half libcurl's CPU a
 * request), anything else (https, a proxy, signing, or --transport
 * libcurl) as an easy handle on the multi handle. Both finish into one
 * account (transfer: what either says of a request, then classify). The
 * event loop (evloop.c: epoll under curl's socket interface, h1's sockets
 * beside curl's) sleeps until a socket is ready, a timer (curl's, h1's
 * earliest deadline) fires or the next open-loop send is due, to the
 * microsecond.
 *
 * Phases. Warm-up instances run at the cell's load until the system is
 * warm, judged by state rather than by a count: at least `warmup` of them
 * completed and the last K = max(C, total workers) replies of every kind —
 * and the last K of each function that cold-started during the warm-up —
 * reported no cold start (K covers every worker slot once); or, for
 * endpoints that never report cold_start, the count alone; or the time cap
 * (`warmup_s`, default 30 s). Measured instances then take the slots the
 * warm-up ones free as they finish (no synchronized burst). Closed loop:
 * the measured instances are the first N started after the warm-up; after
 * the N-th, "drain" instances keep C in flight until the last measured one
 * completes, and are then aborted, never measured — so every measured
 * instance ran at concurrency C, and the window (first measured start to
 * last measured completion) has no ramp-up or ramp-down. Open loop: the
 * measured instances are the `rate × duration` slots after the warm-up; a
 * slot that finds `max_inflight` instances in flight is not sent and is
 * counted "dropped", never silently skipped; the window runs from the first
 * measured due time to the last measured completion. With queue_at_cap
 * (the scenarios' concurrency) a slot that finds the cap full is not
 * dropped but waits, in order, for an instance to end; its latency still
 * counts from its due time, so the client-side queue is measured.
 *
 * Connections stay alive across invocations: h1 keeps them per host,
 * libcurl's easy handles are pooled per endpoint (node, or function URL)
 * and reused; each is set up once with
 * its endpoint's settings (fg_http_endpoint: http or https, TLS, headers,
 * no proxy unless the endpoints file names one). The body of a step
 * reading the workflow inputs is the payload's shared buffer
 * (CURLOPT_POSTFIELDS, or h1's sendmsg: never copied); other
 * bodies are small JSON objects. Response bodies are bounded
 * (FG_MAX_RESPONSE_BYTES); a larger one is a malformed answer.
 *
 * Failure classes: the driver's own failures — no socket (EMFILE, ENFILE:
 * the socket-open callback records socket()'s errno), no memory — are
 * "client" and say nothing about the node: they never mark it down. A
 * response cut short is "malformed" (truncated); a status that arrived
 * before the upload broke off (a 413 while sending) is "http" with that
 * code; only a transport failure with no answer at all is "connect".
 * Success is the endpoint's rule ("status":"success" by default, or any
 * 2xx). A 2xx reply is read by events (answer.c): the outputs the workflow
 * reads and the server's accounting numbers are taken, nothing else is
 * built; an error reply, rare, is parsed whole for its message.
 *
 * Throttling: a 429 or 503 with Retry-After is not a failure yet. The
 * invocation waits (at most FG_RETRY_AFTER_CAP_MS a time, never past the
 * cell timeout counted from its first send) in a list the loop resends
 * from when due, and each such retry is counted per function
 * ("retries_429_503"). Its latency runs from the first send, and the
 * instance's from its intended start, so the waits are never hidden. Out
 * of budget, the answer is an "http" failure like any other.
 *
 * Accounting (metrics.h, README "Results"): an instance is "sent" when it
 * starts, and ends as exactly one of ok, failed, timed_out (a failed
 * instance counts as timed_out when its failure was a timeout) or, cut off
 * by a stop request (Ctrl-C aborts what is in flight), interrupted:
 * sent = ok + failed + timed_out + interrupted. Of the measured slots
 * ("scheduled": N closed, the arrival schedule open), each is sent, dropped
 * at the in-flight cap, or unsent (never came due, or never started,
 * before a stop): scheduled = sent + dropped + unsent. The warm-up keeps
 * the same counts apart (its schedule is open-ended: no unsent); drain
 * instances are counted only as "drain". The identities are checked where
 * the entry is built (fg_metrics_entry). */
#include "flowgate/engine.h"

#include <curl/curl.h>
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "answer.h"
#include "instance.h"
#include "metrics.h"
#include "flowgate/resources.h"
#include "flowgate/stop.h"
#include "flowgate/http_client.h"
#include "flowgate/log.h"
#include "flowgate/embedded.h"
#include "flowgate/evloop.h"
#include "fdlimit.h"
#include "h1.h"

#define TIMELINE_MAX_REQUESTS 200
#define POLL_MAX_MS 100
#define PROGRESS_EVERY_MS 500.0
#define RESOURCE_INTERVAL_S 1.0   /* the per-node CPU/RSS series (resources.h) */
#define DEFAULT_WARMUP_CAP_S 30.0
#define DEFAULT_MAX_INFLIGHT 1024

typedef enum instance_kind { KIND_WARMUP, KIND_MEASURED, KIND_DRAIN } instance_kind;
static const char *const kind_names[] = {"warmup", "measured", "drain"};

typedef struct run_instance {
    struct run_instance *prev, *next;   /* live list */
    fg_instance sm;
    uint64_t index;
    instance_kind kind;
    double intended;                    /* monotonic ms: latency counts from here */
    double started;                     /* monotonic ms: when it got its in-flight slot */
    int prev_node;
    int fail_class;                     /* first failure's class, -1 none */
    cJSON *timeline;                    /* this request in the timeline, or NULL */
    char request_id[160];
    fg_attr_request attr;               /* answered spans, for the critical path (last:
                                         * a recycled instance clears only its steps) */
} run_instance;

typedef struct invocation {
    struct invocation *prev, *next;     /* live list, or the throttled list */
    run_instance *ri;
    int step, node, slot, attempt;      /* slot: the endpoint (handle pool, settings) */
    double first_sent;                  /* the first send of a throttled chain */
    double due;                         /* throttled: resend at this time */
    CURL *easy;                         /* the libcurl transfer, or NULL: */
    fg_h1_req h1;                       /* the plain HTTP/1.1 one (h1.h) */
    int via_h1;
    char *body;                         /* owned; NULL: the shared payload body */
    double queued, sent;
    int socket_errno;                   /* socket() failed with this; 0 none */
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
    fg_resources *sampler;              /* per-node CPU/RSS sampler, or NULL */
    cJSON *resources;                   /* its series once stopped, until the entry takes them */
    CURLM *multi;
    fg_evloop loop;
    fg_h1 h1;
    int h1_allowed;                     /* not --transport libcurl */
    /* Per endpoint and step, the h1 target (NULL: libcurl), once known. */
    fg_h1_target *route[FG_MAX_ENDPOINTS][FG_WF_MAX_STEPS];
    unsigned char routed[FG_MAX_ENDPOINTS][FG_WF_MAX_STEPS];
    fg_answer_plan answer[FG_WF_MAX_STEPS];   /* per step: the reply keys its outputs come from */
    int function_slot[FG_WF_MAX_STEPS];       /* per step, one URL per function: its endpoint */
    fg_answer_reader *reader;           /* reads every 2xx reply (answer.h) */
    struct curl_slist *headers[FG_MAX_ENDPOINTS];   /* per endpoint */
    fg_node_state nodes[FG_MAX_NODES];
    int n_nodes;
    handle_pool pool[FG_MAX_ENDPOINTS];
    invocation *live_inv;
    invocation *spare;                  /* recycled (new_invocation) */
    run_instance *spare_ri;             /* recycled (new_run_instance) */
    int n_spare_ri;
    char rid_prefix[160];               /* request ids: "<experiment>-<repeat>-" */
    size_t rid_prefix_len;
    int n_spare;
    invocation *throttled;              /* waiting out a Retry-After */
    run_instance *live;
    int live_instances;
    int open;                           /* open loop */
    fg_arrival warm_arr, arr;           /* open loop: warm-up and measured due times */
    int max_inflight;                   /* open loop cap */
    uint64_t started;                   /* instances of every kind: the index */
    /* Warm-up: when it stops, what it saw. */
    int measuring;                      /* the warm-up is over */
    uint64_t warm_need, warm_k;         /* at least; replies without a cold start */
    double warm_cap_ms;
    uint64_t warm_finished;
    int saw_cold_field;                 /* some reply carried "cold_start" */
    uint64_t streak;                    /* replies since the last cold start */
    uint64_t step_streak[FG_WF_MAX_STEPS];
    unsigned char step_cold[FG_WF_MAX_STEPS];   /* cold-started during the warm-up */
    /* Measured instances. */
    uint64_t target;                    /* N (closed) or scheduled slots (open) */
    uint64_t measured_started, measured_finished;
    uint64_t measured_due;              /* open loop: slots that came due */
    int finishing;                      /* the measured ones are done: draining */
    int failed_total;
    double t0, next_progress;
    fg_metrics m;
    fg_timeline tl;
} engine;

int fg_transport_parse(const char *name, fg_transport *out)
{
    if (!strcmp(name, "auto")) *out = FG_TRANSPORT_AUTO;
    else if (!strcmp(name, "direct")) *out = FG_TRANSPORT_DIRECT;
    else if (!strcmp(name, "libcurl")) *out = FG_TRANSPORT_LIBCURL;
    else return -1;
    return 0;
}

const char *fg_transport_name(fg_transport t)
{
    return t == FG_TRANSPORT_LIBCURL ? "libcurl" : t == FG_TRANSPORT_DIRECT ? "direct" : "auto";
}

/* ---- easy handles ---------------------------------------------------- */

/* curl opens every connection's socket here, so a failure of socket()
 * itself (EMFILE: the driver ran out of descriptors) is known for what it
 * is; curl only says it could not connect. */
static curl_socket_t open_socket(void *userp, curlsocktype purpose, struct curl_sockaddr *a)
{
    (void)purpose;
    curl_socket_t fd = socket(a->family, a->socktype, a->protocol);
    invocation *inv = userp;
    if (fd == CURL_SOCKET_BAD && inv) inv->socket_errno = errno ? errno : EMFILE;
    return fd;
}

static CURL *handle_get(engine *e, int slot)
{
    handle_pool *hp = &e->pool[slot];
    if (hp->n > 0) return hp->handles[--hp->n];
    CURL *h = curl_easy_init();
    if (!h) return NULL;
    /* an http_proxy in the environment must not apply; TLS as configured */
    fg_http_endpoint(h, fg_cluster_endpoint(e->c, slot));
    curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(h, CURLOPT_TCP_NODELAY, 1L);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, e->headers[slot]);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, fg_http_body_write);
    curl_easy_setopt(h, CURLOPT_OPENSOCKETFUNCTION, open_socket);
    curl_easy_setopt(h, CURLOPT_POST, 1L);
    return h;
}

static void handle_put(engine *e, int slot, CURL *h)
{
    handle_pool *hp = &e->pool[slot];
    /* the invocation that owned these buffers is about to be freed */
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, NULL);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, NULL);
    curl_easy_setopt(h, CURLOPT_OPENSOCKETDATA, NULL);
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

/* Invocations are recycled with their response buffer (one malloc of a
 * few KiB less per request); a buffer grown past SPARE_RESP_MAX for a big
 * answer is given back, so the spares hold little. */
#define SPARE_MAX 4096
#define SPARE_RESP_MAX (64 * 1024)

static invocation *new_invocation(engine *e)
{
    invocation *inv = e->spare;
    if (!inv) return calloc(1, sizeof *inv);
    e->spare = inv->next;
    e->n_spare--;
    fg_http_body resp = inv->resp;
    memset(inv, 0, offsetof(invocation, curl_error));
    inv->curl_error[0] = 0;
    inv->resp = resp;
    return inv;
}

static void free_invocation(engine *e, invocation *inv)
{
    free(inv->body);
    inv->body = NULL;
    if (e->n_spare >= SPARE_MAX || inv->resp.cap > SPARE_RESP_MAX) fg_http_body_free(&inv->resp);
    if (e->n_spare >= SPARE_MAX) {
        free(inv);
        return;
    }
    inv->resp.len = 0;
    inv->resp.overflow = 0;
    if (inv->resp.data) inv->resp.data[0] = 0;
    inv->next = e->spare;
    e->spare = inv;
    e->n_spare++;
}

static invocation *track_invocation(engine *e, invocation *inv)
{
    e->nodes[inv->node].inflight++;
    inv->next = e->live_inv;
    if (e->live_inv) e->live_inv->prev = inv;
    e->live_inv = inv;
    return inv;
}

/* Failure before anything was sent (no node, no URL, no input): the
 * instance fails with this class. */
static void give_up(engine *e, run_instance *ri, int step, fg_fail_class cls, const char *msg)
{
    fg_instance_fail(&ri->sm, step);
    if (ri->fail_class < 0) ri->fail_class = (int)cls;
    if (ri->kind == KIND_MEASURED) fg_metrics_error(&e->m, cls, e->wf->steps[step].id, msg);
}

/* The invocation sent, or NULL when it could not be (the instance was
 * failed with the reason). */
static invocation *send_invocation(engine *e, run_instance *ri, int step, int attempt, double queued)
{
    const char *function = e->wf->steps[step].id;
    fg_err err;   /* not zeroed: 512 bytes a request showed in the profile */
    err.msg[0] = 0;
    cJSON *body_json = NULL;
    int uses_payload = 0, n_inputs = 0;
    fg_instance_input inputs[FG_WF_MAX_FANIN];
    if (fg_instance_request(&ri->sm, step, ri->request_id, &body_json, &uses_payload, inputs,
                            &n_inputs, &err) != 0) {
        give_up(e, ri, step, FG_FAIL_MALFORMED, err.msg);
        return NULL;
    }
    fg_sched_request sr = {.request_id = ri->index, .step = step, .function = function,
                           .n_inputs = n_inputs, .prev_node = ri->prev_node};
    for (int i = 0; i < n_inputs; i++) {
        sr.inputs[i].node = node_by_name(e->c, inputs[i].node_name);
        sr.inputs[i].mb = inputs[i].mb < 0 ? e->p->mb : inputs[i].mb;
    }
    /* With one node (or one URL per function) there is nothing to choose. */
    int node = e->n_nodes == 1 ? 0 : fg_sched_pick(e->sched, &sr, e->nodes, e->n_nodes);
    char url[512];
    if (node < 0 || node >= e->n_nodes) {
        cJSON_Delete(body_json);
        give_up(e, ri, step, FG_FAIL_CONNECT, "the scheduler found no node");
        return NULL;
    }
    /* Looked up by name once per step (a strcmp per request showed in the profile). */
    int slot = e->c->mode == FG_CLUSTER_FUNCTIONS ? e->function_slot[step]
                                                  : fg_cluster_endpoint_index(e->c, node, NULL);
    const fg_h1_target *target = slot >= 0 ? e->route[slot][step] : NULL;
    /* The URL: libcurl's every time, h1's once (its request head). */
    if (!target && (slot < 0 || fg_cluster_invoke_url(e->c, node, function, url, sizeof url) != 0)) {
        cJSON_Delete(body_json);
        give_up(e, ri, step, FG_FAIL_CONNECT, "no URL for this function in the endpoints");
        return NULL;
    }
    if (!e->routed[slot][step]) {
        e->routed[slot][step] = 1;
        if (e->h1_allowed)
            target = e->route[slot][step] =
                fg_h1_target_new(&e->h1, url, fg_cluster_endpoint(e->c, slot));
    }
    invocation *inv = new_invocation(e);
    char *body = body_json ? cJSON_PrintUnformatted(body_json) : NULL;
    cJSON_Delete(body_json);
    CURL *h = inv && !target ? handle_get(e, slot) : NULL;
    if (!inv || (!target && !h) || (!uses_payload && !body)) {
        free(body);
        if (inv) free_invocation(e, inv);
        if (h) handle_put(e, slot, h);
        give_up(e, ri, step, FG_FAIL_CLIENT, "out of memory for a request");
        return NULL;
    }
    inv->ri = ri;
    inv->step = step;
    inv->node = node;
    inv->slot = slot;
    inv->attempt = attempt;
    inv->easy = h;
    inv->body = body;
    inv->queued = queued;
    inv->resp.limit = FG_MAX_RESPONSE_BYTES;
    const char *data = uses_payload ? e->p->body[step] : body;
    size_t len = uses_payload ? e->p->body_len[step] : strlen(body);
    double timeout_ms = e->x->timeout_s * 1000.0;
    if (target) {
        inv->via_h1 = 1;
        inv->sent = inv->first_sent = fg_now_mono_ms();
        fg_h1_send(&e->h1, target, &inv->h1, data, len, &inv->resp, inv->sent, timeout_ms);
        return track_invocation(e, inv);
    }
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, data);
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)(timeout_ms + 0.5));
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &inv->resp);
    curl_easy_setopt(h, CURLOPT_OPENSOCKETDATA, inv);
    curl_easy_setopt(h, CURLOPT_PRIVATE, inv);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, inv->curl_error);
    inv->sent = inv->first_sent = fg_now_mono_ms();
    if (curl_multi_add_handle(e->multi, h) != CURLM_OK) {
        handle_put(e, slot, h);
        free_invocation(e, inv);
        give_up(e, ri, step, FG_FAIL_CLIENT, "libcurl refused the transfer");
        return NULL;
    }
    return track_invocation(e, inv);
}

/* Instances are recycled too: a run_instance is a few KiB (a span per
 * possible step), past malloc's fast bins, and zeroing all of it per
 * instance showed in the profile; a recycled one clears only its
 * workflow's steps. */
#define SPARE_INSTANCES_MAX 1024

static run_instance *new_run_instance(engine *e)
{
    run_instance *ri = e->spare_ri;
    if (!ri) return calloc(1, sizeof *ri);
    e->spare_ri = ri->next;
    e->n_spare_ri--;
    memset(ri, 0, offsetof(run_instance, attr));
    memset(ri->attr.step, 0, (size_t)e->wf->n_steps * sizeof ri->attr.step[0]);
    return ri;
}

static void free_run_instance(engine *e, run_instance *ri)
{
    fg_instance_free(&ri->sm);
    if (e->n_spare_ri >= SPARE_INSTANCES_MAX) {
        free(ri);
        return;
    }
    ri->next = e->spare_ri;
    e->spare_ri = ri;
    e->n_spare_ri++;
}

static void unlink_instance(engine *e, run_instance *ri)
{
    if (ri->prev) ri->prev->next = ri->next;
    else e->live = ri->next;
    if (ri->next) ri->next->prev = ri->prev;
    e->live_instances--;
    free_run_instance(e, ri);
}

/* end: when its last answer arrived (or it was given up). */
static void finish_instance(engine *e, run_instance *ri, double end)
{
    int ok = !ri->sm.failed;
    fg_fail_class cls = ri->fail_class >= 0 ? (fg_fail_class)ri->fail_class : FG_FAIL_MALFORMED;
    if (ri->kind != KIND_DRAIN)
        fg_metrics_workflow(&e->m, ri->kind == KIND_WARMUP, ok, cls, end - ri->intended, end);
    if (ri->kind == KIND_WARMUP) e->warm_finished++;
    if (ok) {
        double parts[FG_ATTR_PARTS];
        /* Held at the cap (queue_at_cap), the wait for a slot is queueing;
         * otherwise a late start is the driver's. */
        double held_until = e->x->queue_at_cap ? ri->started : ri->intended;
        fg_attr_critical_path(&ri->attr, e->wf->n_steps, ri->intended, held_until, end, parts);
        if (ri->kind == KIND_MEASURED)
            fg_attr_add(&e->m.attr, parts, fg_attr_held_ms(ri->intended, held_until, end));
        if (ri->timeline)
            cJSON_AddItemToObject(ri->timeline, "critical_path_ms", fg_attr_parts_json(parts));
    }
    if (ri->kind == KIND_MEASURED) {
        e->measured_finished++;
        for (int i = 0; i < e->wf->n_edges; i++) {
            int b = fg_instance_branch(&ri->sm, i);
            if (b >= 0) e->m.branches[i][b]++;
        }
        if (!ok) e->failed_total++;
    }
    fg_timeline_outcome(&e->tl, ri->timeline,
                        ok ? "ok" : cls == FG_FAIL_TIMEOUT ? "timed_out" : "failed", end);
    unlink_instance(e, ri);
}

/* Sends whatever became ready; ends the instance when nothing is left.
 * now: when that became so — the caller's reading of the clock (an
 * answer's arrival, an instance's start), which is the ready steps'
 * queue time and, if nothing is left, the instance's end. */
static void pump(engine *e, run_instance *ri, double now)
{
    int step;
    while ((step = fg_instance_next_ready(&ri->sm)) >= 0) send_invocation(e, ri, step, 0, now);
    if (fg_instance_finished(&ri->sm)) finish_instance(e, ri, now);
}

/* "<experiment>-<repeat>-<index>": the prefix is made once, the index
 * written here (a printf per instance showed in the profile). */
static void request_id(const engine *e, run_instance *ri)
{
    char digits[24];
    int n = 0;
    uint64_t v = ri->index;
    do digits[n++] = (char)('0' + v % 10); while ((v /= 10) && n < (int)sizeof digits);
    size_t at = e->rid_prefix_len;
    memcpy(ri->request_id, e->rid_prefix, at);
    while (n > 0 && at + 1 < sizeof ri->request_id) ri->request_id[at++] = digits[--n];
    ri->request_id[at] = 0;
}

/* now: the clock as the caller read it just before (closed loop: also
 * the intended time). */
static int start_instance(engine *e, instance_kind kind, double intended, double now,
                          fg_err *err)
{
    run_instance *ri = new_run_instance(e);
    if (!ri) return fg_err_set(err, "out of memory for a workflow instance");
    if (fg_instance_init(&ri->sm, e->wf, !e->x->inline_data, err) != 0) {
        free(ri);
        return -1;
    }
    ri->index = e->started++;
    ri->kind = kind;
    if (kind != KIND_DRAIN) fg_metrics_sent(&e->m, kind == KIND_WARMUP);
    if (kind == KIND_MEASURED) {
        /* Closed loop: the window opens at the first measured start. */
        if (e->measured_started++ == 0 && !e->open) e->m.window_start = intended;
    } else if (kind == KIND_DRAIN) {
        e->m.drain++;
    }
    ri->intended = intended;
    ri->started = now;
    if (kind == KIND_MEASURED && e->open) fg_pace_sent(&e->m.pace, intended, ri->started);
    ri->prev_node = -1;
    ri->fail_class = -1;
    request_id(e, ri);
    ri->timeline = fg_timeline_request(&e->tl, ri->index, kind_names[kind], intended);
    ri->next = e->live;
    if (e->live) e->live->prev = ri;
    e->live = ri;
    e->live_instances++;
    pump(e, ri, now);
    return 0;
}

/* ---- warm-up ---------------------------------------------------------- */

/* A warm-up reply: does it report a cold start? */
static void warm_observe(engine *e, int step, const fg_server_report *report)
{
    if (report->cold_start < 0) return;   /* this endpoint does not say */
    e->saw_cold_field = 1;
    if (report->cold_start) {
        e->m.warmup_cold_starts++;
        e->streak = 0;
        e->step_streak[step] = 0;
        e->step_cold[step] = 1;
    } else {
        e->streak++;
        e->step_streak[step]++;
    }
}

static int warm_enough(const engine *e)
{
    if (e->streak < e->warm_k) return 0;
    for (int i = 0; i < e->wf->n_steps; i++)
        if (e->step_cold[i] && e->step_streak[i] < e->warm_k) return 0;
    return 1;
}

static void warm_stop(engine *e, const char *reason, double now)
{
    e->measuring = 1;
    e->m.warmup_stop_reason = reason;
    e->m.warmup_duration_s = (now - e->t0) / 1000.0;
    /* Open loop: the measured schedule starts at the next warm-up slot. */
    if (e->open) {
        e->m.window_start = fg_arrival_peek(&e->warm_arr, NULL);
        fg_arrival_restart(&e->arr, e->m.window_start);
    }
}

static void warm_check(engine *e, double now)
{
    if (e->measuring) return;
    if (now - e->t0 >= e->warm_cap_ms) warm_stop(e, "time_cap", now);
    else if (e->warm_finished >= e->warm_need && !e->saw_cold_field) warm_stop(e, "count", now);
    else if (e->warm_finished >= e->warm_need && warm_enough(e)) warm_stop(e, "warm", now);
}

/* ---- completions ------------------------------------------------------ */

/* The server's "message" from a (possibly partial) error body. */
static const char *server_message(const invocation *inv, cJSON **parsed)
{
    *parsed = inv->resp.data ? cJSON_ParseWithLength(inv->resp.data, inv->resp.len) : NULL;
    const cJSON *message = cJSON_GetObjectItemCaseSensitive(*parsed, "message");
    return cJSON_IsString(message) ? message->valuestring : NULL;
}

/* A finished request as either transport tells it. */
typedef enum transfer_kind {
    TR_ANSWERED, TR_TIMEOUT, TR_NO_CONNECT, TR_BROKEN, TR_BAD_REPLY, TR_OVERFLOW, TR_CLIENT
} transfer_kind;

typedef struct transfer {
    transfer_kind kind;
    long code;               /* the status; 0: none arrived */
    int partial;             /* some of the answer arrived */
    int sys_errno;           /* the driver's own failure: what the system said */
    double retry_after_ms;   /* an answered 429/503's Retry-After; -1 none */
    char what[400];          /* the transport's words */
} transfer;

static void transfer_from_curl(const invocation *inv, CURLcode rc, transfer *t)
{
    t->code = 0;
    t->sys_errno = 0;
    t->retry_after_ms = -1;
    curl_easy_getinfo(inv->easy, CURLINFO_RESPONSE_CODE, &t->code);
    snprintf(t->what, sizeof t->what, "%s%s%s", curl_easy_strerror(rc),
             inv->curl_error[0] ? ": " : "", inv->curl_error);
    long os_errno = 0;
    curl_easy_getinfo(inv->easy, CURLINFO_OS_ERRNO, &os_errno);
    t->partial = rc == CURLE_PARTIAL_FILE || t->code;
    if (rc == CURLE_OK) {
        t->kind = TR_ANSWERED;
        t->retry_after_ms = fg_http_retry_after_ms(inv->easy);
    } else if (rc == CURLE_OPERATION_TIMEDOUT) {
        t->kind = TR_TIMEOUT;
    } else if (inv->resp.overflow) {
        t->kind = TR_OVERFLOW;
    } else if (inv->socket_errno || os_errno == EMFILE || os_errno == ENFILE ||
               rc == CURLE_OUT_OF_MEMORY || rc == CURLE_FAILED_INIT || rc == CURLE_WRITE_ERROR) {
        t->kind = TR_CLIENT;
        t->sys_errno = inv->socket_errno ? inv->socket_errno : (int)os_errno;
    } else if (rc == CURLE_COULDNT_CONNECT || rc == CURLE_COULDNT_RESOLVE_HOST) {
        t->kind = TR_NO_CONNECT;
    } else if (rc == CURLE_WEIRD_SERVER_REPLY) {
        t->kind = TR_BAD_REPLY;   /* not HTTP: malformed, as the own transport says */
    } else {
        t->kind = TR_BROKEN;
    }
}

static void transfer_from_h1(const fg_h1_req *r, transfer *t)
{
    static const transfer_kind kinds[] = {
        [FG_H1_COMPLETE] = TR_ANSWERED, [FG_H1_TIMEOUT] = TR_TIMEOUT,
        [FG_H1_NO_CONNECT] = TR_NO_CONNECT, [FG_H1_BROKEN] = TR_BROKEN,
        [FG_H1_BAD_REPLY] = TR_BAD_REPLY, [FG_H1_OVERFLOW] = TR_OVERFLOW,
        [FG_H1_CLIENT] = TR_CLIENT};
    t->kind = kinds[r->outcome];
    t->code = r->status;
    t->partial = r->partial;
    t->sys_errno = r->outcome == FG_H1_CLIENT ? r->sys_errno : 0;
    t->retry_after_ms = r->retry_after_ms;
    t->what[0] = 0;
    if (r->outcome == FG_H1_COMPLETE) return;   /* no words needed (a printf a request, in the profile) */
    const char *why = r->why ? r->why : r->sys_errno ? strerror(r->sys_errno) : "";
    switch (r->outcome) {
    case FG_H1_NO_CONNECT: snprintf(t->what, sizeof t->what, "could not connect: %s", why); break;
    case FG_H1_BAD_REPLY: snprintf(t->what, sizeof t->what, "not an HTTP response: %s", why); break;
    case FG_H1_CLIENT:
        snprintf(t->what, sizeof t->what, "%s", r->sys_errno == ENOMEM ? "out of memory"
                                                : "no connection could be opened or watched");
        break;
    default: snprintf(t->what, sizeof t->what, "%s", *why ? why : "the connection failed");
    }
}

/* A transfer with no whole answer: whose fault, and what it was. */
static fg_fail_class classify_transport(engine *e, invocation *inv, const transfer *t, char *msg,
                                        size_t msg_size)
{
    if (t->kind == TR_OVERFLOW) {
        snprintf(msg, msg_size, "response larger than %zu bytes", FG_MAX_RESPONSE_BYTES);
        return FG_FAIL_MALFORMED;
    }
    if (t->kind == TR_CLIENT) {
        int en = t->sys_errno;
        snprintf(msg, msg_size, "the driver could not make the request%s%s (%s)",
                 en ? ": " : "", en ? strerror(en) : "", t->what);
        return FG_FAIL_CLIENT;
    }
    if (t->kind == TR_BAD_REPLY) {
        snprintf(msg, msg_size, "malformed response: %.400s", t->what);
        return FG_FAIL_MALFORMED;
    }
    long code = t->code;
    if (code >= 100 && (code < 200 || code > 299)) {
        /* A status arrived before the transfer broke: typically a 413 for
         * a body the server will not read, sent with "Connection: close"
         * while the driver keeps sending until the reset ("Broken pipe").
         * The status is the answer. */
        cJSON *parsed;
        const char *text = server_message(inv, &parsed);
        snprintf(msg, msg_size, "HTTP %ld: %.160s (then the connection broke: %.300s)", code,
                 text ? text : inv->resp.data ? inv->resp.data : "(no body)", t->what);
        cJSON_Delete(parsed);
        return FG_FAIL_HTTP;
    }
    if (t->partial) {
        /* Part of the answer came; the connection ended first. */
        if (code) snprintf(msg, msg_size, "truncated response (HTTP %ld): %.400s", code, t->what);
        else snprintf(msg, msg_size, "truncated response: %.400s", t->what);
        return FG_FAIL_MALFORMED;
    }
    snprintf(msg, msg_size, "%s", t->what);
    if (t->kind == TR_NO_CONNECT) e->nodes[inv->node].up = 0;
    return FG_FAIL_CONNECT;
}

/* What the answer means; when ok, *resp holds what the workflow reads of
 * it and *report what its server said (answer.h). */
static fg_fail_class classify(engine *e, invocation *inv, const transfer *t, cJSON **resp,
                              fg_server_report *report, int *ok, char *msg, size_t msg_size)
{
    const char *function = e->wf->steps[inv->step].id;
    *ok = 0;
    *resp = NULL;
    *report = (fg_server_report)FG_SERVER_REPORT_NONE;
    if (t->kind == TR_TIMEOUT) {
        snprintf(msg, msg_size, "no answer within %.0f ms", e->x->timeout_s * 1000.0);
        return FG_FAIL_TIMEOUT;
    }
    if (t->kind != TR_ANSWERED) return classify_transport(e, inv, t, msg, msg_size);
    e->nodes[inv->node].up = 1;
    long code = t->code;
    if (code < 200 || code > 299) {
        /* Rare: the whole error body is read, its timestamps too. */
        const char *text = server_message(inv, resp);
        snprintf(msg, msg_size, "HTTP %ld: %.200s", code,
                 text ? text : inv->resp.data ? inv->resp.data : "(empty body)");
        return FG_FAIL_HTTP;
    }
    /* A 2xx: only what the driver reads of it is built (answer.h). */
    const fg_endpoint_opts *o = fg_cluster_endpoint(e->c, inv->slot);
    const char *field = fg_endpoint_success_field(o);
    fg_answer a;
    int read = fg_answer_read(e->reader, &e->answer[inv->step], field,
                              fg_endpoint_success_equals(o), inv->ri->timeline != NULL,
                              inv->resp.data ? inv->resp.data : "", inv->resp.len, &a);
    *resp = a.tree;
    *report = a.report;
    if (read == -2) {
        snprintf(msg, msg_size, "out of memory for a response");
        return FG_FAIL_CLIENT;
    }
    if (o->success == FG_SUCCESS_HTTP2XX) {
        /* Success by the status alone; the workflow still reads its
         * outputs from a JSON object, so a body that is none is empty. */
        if (!*resp) *resp = cJSON_CreateObject();
        *ok = *resp != NULL;
        if (!*ok) snprintf(msg, msg_size, "out of memory for a response");
        return FG_FAIL_CLIENT;   /* unused when ok */
    }
    if (read != 0) {
        snprintf(msg, msg_size, "response is not a JSON object: %.80s",
                 inv->resp.data ? inv->resp.data : "(empty body)");
        return FG_FAIL_MALFORMED;
    }
    if (a.status == FG_ANSWER_STATUS_ERROR) {
        snprintf(msg, msg_size, "%s", a.has_message ? a.message : "status error without a message");
        return FG_FAIL_FUNCTION;
    }
    if (a.status != FG_ANSWER_STATUS_SUCCESS) {
        snprintf(msg, msg_size, "%s: response has no \"%.60s\":\"%.60s\"", function, field,
                 fg_endpoint_success_equals(o));
        return FG_FAIL_MALFORMED;
    }
    *ok = 1;
    return FG_FAIL_MALFORMED;   /* unused when ok */
}

/* A 429/503 with Retry-After: park the invocation until the wait is over,
 * if the cell timeout (from its first send) allows. 1 parked, 0 not (it is
 * then an ordinary failure). */
static int throttle(engine *e, invocation *inv, double wait_ms, double received)
{
    if (wait_ms < 0 || fg_stop_requested()) return 0;
    if (wait_ms > FG_RETRY_AFTER_CAP_MS) wait_ms = FG_RETRY_AFTER_CAP_MS;
    if (received + wait_ms - inv->first_sent >= e->x->timeout_s * 1000.0) return 0;
    run_instance *ri = inv->ri;
    if (ri->kind == KIND_MEASURED) fg_metrics_retry(&e->m, inv->step);
    const char *node_name = e->c->mode == FG_CLUSTER_NODES ? e->c->nodes[inv->node].name
                                                          : "functions";
    fg_timeline_span(&e->tl, ri->timeline, e->wf->steps[inv->step].id, node_name, inv->queued,
                     inv->sent, received, NULL, "throttled");
    free(inv->body);
    inv->body = NULL;
    fg_http_body_free(&inv->resp);
    inv->due = received + wait_ms;
    inv->prev = NULL;
    inv->next = e->throttled;
    if (e->throttled) e->throttled->prev = inv;
    e->throttled = inv;
    return 1;
}

static void unlink_throttled(engine *e, invocation *inv)
{
    if (inv->prev) inv->prev->next = inv->next;
    else e->throttled = inv->next;
    if (inv->next) inv->next->prev = inv->prev;
}

/* Resends the throttled invocations that are due; returns the earliest
 * due time left (INFINITY: none). */
static double resend_throttled(engine *e, double now)
{
    double next_due = INFINITY;
    for (invocation *inv = e->throttled, *next; inv; inv = next) {
        next = inv->next;
        if (inv->due > now) {
            next_due = fmin(next_due, inv->due);
            continue;
        }
        unlink_throttled(e, inv);
        run_instance *ri = inv->ri;
        invocation *again = send_invocation(e, ri, inv->step, inv->attempt, inv->due);
        if (again) again->first_sent = inv->first_sent;   /* latency from the first send */
        free_invocation(e, inv);
        pump(e, ri, fg_now_mono_ms());
    }
    return next_due;
}

static void on_done(engine *e, invocation *inv, const transfer *t)
{
    unlink_invocation(e, inv);
    e->nodes[inv->node].inflight--;
    double received = fg_now_mono_ms();
    run_instance *ri = inv->ri;
    const char *function = e->wf->steps[inv->step].id;

    char msg[600];
    int ok;
    cJSON *resp;
    fg_server_report report;
    fg_fail_class cls = classify(e, inv, t, &resp, &report, &ok, msg, sizeof msg);
    double wait_ms = !ok && cls == FG_FAIL_HTTP && t->kind == TR_ANSWERED ? t->retry_after_ms : -1;
    if (wait_ms >= 0 && throttle(e, inv, wait_ms, received)) {
        cJSON_Delete(resp);
        return;
    }
    if (ok && ri->kind == KIND_WARMUP) warm_observe(e, inv->step, &report);
    int lost_instance = 0;   /* a switch could not be evaluated: no retry helps */
    if (ok) {
        fg_err err;
        err.msg[0] = 0;
        int r = fg_instance_complete(&ri->sm, inv->step, resp, &err);
        if (r != 0) {
            ok = 0;
            cls = FG_FAIL_MALFORMED;
            snprintf(msg, sizeof msg, "%s", err.msg);
            lost_instance = r == -2;
        }
    }
    if (ri->kind == KIND_MEASURED) {
        fg_metrics_invocation(&e->m, inv->step, inv->node, ok, cls, received - inv->first_sent,
                              &report);
        if (!ok) fg_metrics_error(&e->m, cls, function, msg);
    }
    const char *node_name = e->c->mode == FG_CLUSTER_NODES ? e->c->nodes[inv->node].name
                                                          : "functions";
    fg_timeline_span(&e->tl, ri->timeline, function, node_name, inv->queued, inv->sent,
                     received, resp, ok ? "ok" : fg_fail_class_names[cls]);
    if (ok) fg_attr_record(&ri->attr, inv->step, inv->queued, inv->sent, received, &report);
    cJSON_Delete(resp);

    if (ok) {
        ri->prev_node = inv->node;
    } else if (lost_instance) {
        if (ri->fail_class < 0) ri->fail_class = (int)cls;
    } else if (inv->attempt < e->x->retries && !fg_stop_requested()) {
        send_invocation(e, ri, inv->step, inv->attempt + 1, received);
    } else {
        fg_instance_fail(&ri->sm, inv->step);
        if (ri->fail_class < 0) ri->fail_class = (int)cls;
    }
    free_invocation(e, inv);
    pump(e, ri, received);
}

static void on_curl_done(engine *e, CURL *easy, CURLcode rc)
{
    invocation *inv = NULL;
    curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&inv);
    curl_multi_remove_handle(e->multi, easy);
    transfer t;
    transfer_from_curl(inv, rc, &t);
    handle_put(e, inv->slot, easy);
    inv->easy = NULL;
    on_done(e, inv, &t);
}

static void on_h1_done(engine *e, fg_h1_req *r)
{
    invocation *inv = (invocation *)((char *)r - offsetof(invocation, h1));
    /* Batched, the bytes left at the turn's flush, after the send call. */
    if (r->sent_at > inv->sent) {
        if (inv->first_sent == inv->sent) inv->first_sent = r->sent_at;
        inv->sent = r->sent_at;
    }
    transfer t;
    transfer_from_h1(r, &t);
    on_done(e, inv, &t);
}

/* Aborts the transfers of the instances that match (all when all is set,
 * else the drain ones) and drops those instances; measured and warm-up ones
 * cut short are counted as interrupted. */
static void abort_instances(engine *e, int all)
{
    for (invocation *inv = e->live_inv, *next; inv; inv = next) {
        next = inv->next;
        if (!all && inv->ri->kind != KIND_DRAIN) continue;
        if (inv->via_h1) {
            fg_h1_cancel(&e->h1, &inv->h1);
        } else {
            curl_multi_remove_handle(e->multi, inv->easy);
            handle_put(e, inv->slot, inv->easy);
        }
        e->nodes[inv->node].inflight--;
        unlink_invocation(e, inv);
        free_invocation(e, inv);
    }
    for (invocation *inv = e->throttled, *next; inv; inv = next) {
        next = inv->next;
        if (!all && inv->ri->kind != KIND_DRAIN) continue;
        unlink_throttled(e, inv);
        free_invocation(e, inv);
    }
    double now = fg_now_mono_ms();
    for (run_instance *ri = e->live, *next; ri; ri = next) {
        next = ri->next;
        if (!all && ri->kind != KIND_DRAIN) continue;
        if (ri->kind != KIND_DRAIN) fg_metrics_interrupted(&e->m, ri->kind == KIND_WARMUP);
        fg_timeline_outcome(&e->tl, ri->timeline, all ? "interrupted" : "aborted", now);
        unlink_instance(e, ri);
    }
}

static void progress(engine *e, int final)
{
    if (!e->x->progress) return;
    double now = fg_now_mono_ms();
    if (!final && now < e->next_progress) return;
    e->next_progress = now + PROGRESS_EVERY_MS;
    if (!e->measuring)
        fprintf(stderr, "\r  %s warm-up: %llu done, %.1f s%s", e->x->id,
                (unsigned long long)e->warm_finished, (now - e->t0) / 1000.0,
                final ? "\n" : "");
    else
        fprintf(stderr, "\r  %s %llu/%llu done, %d failed, %.1f s%s", e->x->id,
                (unsigned long long)e->measured_finished, (unsigned long long)e->target,
                e->failed_total, (now - e->t0) / 1000.0, final ? "\n" : "");
    fflush(stderr);
}

/* ---- the loop --------------------------------------------------------- */

/* Closed loop: warm-up instances until warm, then the N measured ones,
 * then drain instances until the last measured one is done. now: the
 * loop's reading of the clock, the intended start of all it starts (a
 * later one's wait for the earlier sends is then counted, not hidden). */
static int start_closed(engine *e, double now, fg_err *err)
{
    int c = e->x->concurrency;
    while (e->live_instances < c) {
        instance_kind kind;
        if (!e->measuring) kind = KIND_WARMUP;
        else if (e->measured_started < e->target) kind = KIND_MEASURED;
        else if (e->measured_finished < e->measured_started) kind = KIND_DRAIN;
        else break;
        if (start_instance(e, kind, now, now, err) != 0) return -1;
    }
    return 0;
}

/* Open loop: every slot due by now; one that finds the cap (its stage's
 * concurrency, else max_inflight) reached is dropped (a measured one is
 * counted). */
static int start_open(engine *e, double now, fg_err *err)
{
    for (;;) {
        if (e->measuring && e->measured_due >= e->target) break;
        fg_arrival *a = e->measuring ? &e->arr : &e->warm_arr;
        int cap;
        double due = fg_arrival_peek(a, &cap);
        if (due > now) break;
        /* Queued at the cap: sent when an instance ends, late but timed from due. */
        if (e->x->queue_at_cap && e->live_instances >= (cap > 0 ? cap : e->max_inflight)) break;
        fg_arrival_take(a);
        instance_kind kind = e->measuring ? KIND_MEASURED : KIND_WARMUP;
        if (kind == KIND_MEASURED) {
            e->measured_due++;
            fg_pace_due(&e->m.pace, due);
        }
        if (e->live_instances >= (cap > 0 ? cap : e->max_inflight)) {
            fg_metrics_dropped(&e->m, kind == KIND_WARMUP);
            continue;
        }
        /* Read again for each: its lateness is measured from it. */
        if (start_instance(e, kind, due, fg_now_mono_ms(), err) != 0) return -1;
    }
    return 0;
}

static int measured_done(const engine *e)
{
    uint64_t due = e->open ? e->measured_due : e->measured_started;
    return e->measuring && due >= e->target && e->measured_finished == e->measured_started;
}

static int run_loop(engine *e, fg_err *err)
{
    for (;;) {
        if (fg_stop_requested()) {
            e->m.stopped = 1;
            abort_instances(e, 1);
            break;
        }
        double now = fg_now_mono_ms();
        warm_check(e, now);
        if (!e->finishing && measured_done(e)) {
            /* The last measured instance is done: drain ones go. */
            e->finishing = 1;
            abort_instances(e, 0);
        }
        if (e->finishing) {
            if (e->live_instances == 0) break;
        } else if ((e->open ? start_open(e, now, err) : start_closed(e, now, err)) != 0) {
            return -1;
        }
        /* Open loop: the slots' requests leave now, not after this turn's
         * answers are handled, so the schedule's lateness (read as each
         * instance starts) is its send's, within the flush's microseconds. */
        if (e->open && e->h1.queued) fg_h1_flush(&e->h1, fg_now_mono_ms());
        double next_due = e->throttled ? resend_throttled(e, now) : INFINITY;

        fg_evloop_run_due(&e->loop);   /* starts the transfers just added */
        int handled = 0, left;
        CURLMsg *msg;
        /* After a stop request nothing more is recorded: a Ctrl-C from the
         * terminal also reaches the embedded server, whose dying
         * connections must not be counted as failures. */
        while (!fg_stop_requested() && (msg = curl_multi_info_read(e->multi, &left))) {
            if (msg->msg != CURLMSG_DONE) continue;
            on_curl_done(e, msg->easy_handle, msg->data.result);
            handled++;
        }
        fg_h1_expire(&e->h1, now);   /* deadlines are milliseconds: the loop's reading will do */
        fg_h1_req *answered;
        while (!fg_stop_requested() && (answered = fg_h1_next_done(&e->h1))) {
            on_h1_done(e, answered);
            handled++;
        }
        progress(e, 0);
        if (handled) continue;   /* new work may be ready: start it first (the flush below sends) */

        now = fg_now_mono_ms();
        double until = now + POLL_MAX_MS, slot_due = INFINITY;
        if (!e->measuring) until = fmin(until, e->t0 + e->warm_cap_ms);
        if (e->open && !e->finishing && !(e->measuring && e->measured_due >= e->target)) {
            int cap;
            double due = fg_arrival_peek(e->measuring ? &e->arr : &e->warm_arr, &cap);
            /* A slot queued at the cap waits for a completion, not for its time. */
            if (!(e->x->queue_at_cap && e->live_instances >= (cap > 0 ? cap : e->max_inflight)))
                slot_due = due;
        }
        /* --spin-us: a slot due this soon is not left to a wake-up, which
         * on a machine whose cores the server keeps busy can come
         * milliseconds late; the loop polls instead (a core's worth of
         * CPU at high rates: a choice, not the default). */
        if (slot_due - now < e->x->spin_us / 1000.0) until = 0;
        until = fmin(fmin(fmin(until, slot_due), next_due), fg_h1_next_deadline(&e->h1));
        fg_h1_flush(&e->h1, now);   /* the turn's requests, in one system call (h1.h) */
        fg_evloop_wait(&e->loop, until);
    }
    /* What never went out: open loop, the slots that never came due;
     * closed loop, the instances never started. */
    e->m.unsent = (long long)(e->target - (e->open ? e->measured_due : e->measured_started));
    progress(e, 1);
    return 0;
}

static void engine_cleanup(engine *e)
{
    abort_instances(e, 1);
    for (int i = 0; i < FG_MAX_ENDPOINTS; i++) {
        for (int k = 0; k < e->pool[i].n; k++) curl_easy_cleanup(e->pool[i].handles[k]);
        free(e->pool[i].handles);
        curl_slist_free_all(e->headers[i]);
    }
    fg_h1_free(&e->h1);
    while (e->spare) {
        invocation *inv = e->spare;
        e->spare = inv->next;
        fg_http_body_free(&inv->resp);
        free(inv);
    }
    fg_answer_reader_free(e->reader);
    while (e->spare_ri) {
        run_instance *ri = e->spare_ri;
        e->spare_ri = ri->next;
        free(ri);
    }
    if (e->multi) curl_multi_cleanup(e->multi);
    fg_evloop_close(&e->loop);   /* after: the cleanup's last callbacks use it */
    fg_sched_free(e->sched);
    cJSON_Delete(fg_resources_stop(e->sampler));   /* a failed run keeps no series */
    cJSON_Delete(e->resources);
    fg_metrics_free(&e->m);
    fg_timeline_free(&e->tl);
}

/* Returns the total worker count (the warm-up's K before the max with C). */
static int init_nodes(engine *e)
{
    const fg_cluster *c = e->c;
    int workers = 0;
    if (c->mode == FG_CLUSTER_NODES) {
        e->n_nodes = c->n_nodes;
        for (int i = 0; i < c->n_nodes; i++) {
            e->nodes[i] = (fg_node_state){0, c->nodes[i].workers, c->nodes[i].bandwidth_mbit,
                                          c->nodes[i].latency_ms, 1};
            workers += c->nodes[i].workers > 0 ? c->nodes[i].workers : 0;
        }
    } else {
        /* One URL per function: a single "node" whose capacity is unknown. */
        e->n_nodes = 1;
        e->nodes[0] = (fg_node_state){0, e->x->concurrency > 0 ? e->x->concurrency : 1, 0, 0, 1};
    }
    return workers;
}

/* The open loop's schedules: the experiment's stages (or one stage of
 * rate x duration slots), and for the warm-up the first stage's rate and
 * cap, open-ended, from a generator seeded apart from the measured one. */
static int open_schedule(engine *e, fg_err *err)
{
    const fg_experiment *x = e->x;
    fg_stage one = {0, x->rate_rps, 0};
    if (x->n_stages == 0) {
        double n = ceil(x->rate_rps * x->duration_s - 1e-9);
        one.requests = n >= 1 ? (n < FG_MAX_REQUESTS ? (int)n : FG_MAX_REQUESTS) : 1;
    }
    const fg_stage *stages = x->n_stages ? x->stages : &one;
    int n = x->n_stages ? x->n_stages : 1;
    fg_stage warm = {1, stages[0].rate_rps, stages[0].concurrency};
    fg_err why;
    if (fg_arrival_init(&e->arr, x->arrival, x->seed, stages, n, 0, &why) != 0 ||
        fg_arrival_init(&e->warm_arr, x->arrival, x->seed ^ 0x5bd1e995ULL, &warm, 1, 0, &why) != 0)
        return fg_err_set(err, "%s: %s", x->id, why.msg);
    /* A segment sends its share of the warm-up too, so N drivers together
     * warm up at the schedule's rate, not N times it. */
    if (x->segment_count > 0 &&
        (fg_arrival_set_segment(&e->arr, x->segment_index, x->segment_count, &why) != 0 ||
         fg_arrival_set_segment(&e->warm_arr, x->segment_index, x->segment_count, &why) != 0))
        return fg_err_set(err, "%s: %s", x->id, why.msg);
    if (fg_arrival_total(&e->arr) == 0) {
        long long slots = 0;
        for (int i = 0; i < n; i++) slots += stages[i].requests;
        return fg_err_set(err, "%s: segment %d/%d gets no slot of the schedule's %lld: use "
                          "fewer segments or a longer schedule", x->id, x->segment_index,
                          x->segment_count, slots);
    }
    return 0;
}

/* Requests the driver itself could not make (class client: no descriptor,
 * no memory) say nothing of the system, so the terminal says why, in one
 * line with the first such error, beside the summary's failed count. */
static void client_failures_said(const engine *e)
{
    uint64_t n = 0;
    for (int i = 0; i < e->wf->n_steps; i++) n += e->m.fn[i].errors[FG_FAIL_CLIENT];
    if (n == 0) return;
    const char *first = "";
    const cJSON *err;
    cJSON_ArrayForEach(err, e->m.errors) {
        const cJSON *cls = cJSON_GetObjectItemCaseSensitive(err, "class");
        const cJSON *msg = cJSON_GetObjectItemCaseSensitive(err, "message");
        if (cJSON_IsString(cls) && !strcmp(cls->valuestring, "client") && cJSON_IsString(msg)) {
            first = msg->valuestring;
            break;
        }
    }
    fg_log(FG_LOG_WARN, "%s: %llu invocations failed in the driver itself (client)%s%s",
           e->x->id, (unsigned long long)n, *first ? ": " : "", first);
}

/* The connection cache this experiment may keep, after holding its load
 * against the descriptor limit (fdlimit.h); -1 (err set) when it cannot run. */
static long fd_budget(const engine *e, int n_endpoints, fg_err *err)
{
    const fg_experiment *x = e->x;
    long instances = x->concurrency;
    char load[64];
    snprintf(load, sizeof load, "concurrency %d", x->concurrency);
    if (e->open) {
        instances = 0;
        for (int i = 0; i < (x->n_stages ? x->n_stages : 1); i++) {
            long cap = x->n_stages && x->stages[i].concurrency > 0 ? x->stages[i].concurrency
                                                                  : e->max_inflight;
            if (cap > instances) instances = cap;
        }
        snprintf(load, sizeof load, "%ld in flight", instances);
    }
    /* The closed loop keeps 4 connections an instance alive (idle ones to
     * every node), the open loop 2: fewer only where the limit says so. */
    fg_fd_plan plan = {instances,
                       e->wf->max_parallel > 0 ? e->wf->max_parallel : e->wf->n_steps,
                       (e->open ? 2L * e->max_inflight : 4L * x->concurrency) + 16,
                       n_endpoints + FG_FD_FILES, load,
                       e->open ? "--max-inflight (or the stages' concurrency)" : "the concurrency"};
    return fg_fd_fit(&plan, fg_fd_open_count(), x->id, err);
}

/* N drivers given one start instant begin their schedules together, so
 * their windows line up when merged. A stop request ends the wait; an
 * instant already past is said (the drivers are not aligned), not hidden. */
static int wait_for_start(const fg_experiment *x, fg_err *err)
{
    if (!(x->start_at_unix_ms > 0)) return 0;
    double left = x->start_at_unix_ms - fg_now_unix_ms();
    if (left < -1000.0)
        fg_log(FG_LOG_WARN, "%s: the start instant passed %.1f s ago: starting now, not "
               "aligned with the other drivers", x->id, -left / 1000.0);
    while ((left = x->start_at_unix_ms - fg_now_unix_ms()) > 0) {
        if (fg_stop_requested()) return fg_err_set(err, "%s: stopped before its start instant", x->id);
        fg_sleep_ms(left < 100 ? left : 100);
    }
    return 0;
}

int fg_experiment_run(const fg_experiment *x, const fg_workflow *wf, const fg_cluster *c,
                      const fg_payload *p, const fg_profile *profile, cJSON **entry,
                      fg_err *err)
{
    *entry = NULL;
    if (x->rate_rps <= 0 && x->n_stages == 0 && x->concurrency < 1)
        return fg_err_set(err, "%s: concurrency must be at least 1", x->id);
    if (x->rate_rps > 0 && x->n_stages == 0 && !(x->duration_s > 0))
        return fg_err_set(err, "%s: open loop needs a duration > 0", x->id);
    if (!(x->timeout_s > 0)) return fg_err_set(err, "%s: timeout must be > 0", x->id);
    if (x->warmup_s < 0 || !isfinite(x->warmup_s))
        return fg_err_set(err, "%s: warmup_s must be >= 0 (0: the default %g s)", x->id,
                          DEFAULT_WARMUP_CAP_S);
    if (x->max_inflight < 0)
        return fg_err_set(err, "%s: max_inflight must be >= 0 (0: the default %d)", x->id,
                          DEFAULT_MAX_INFLIGHT);
    if (c->mode == FG_CLUSTER_NODES && (c->n_nodes < 1 || c->n_nodes > FG_MAX_NODES))
        return fg_err_set(err, "cluster has %d nodes", c->n_nodes);
    if (!fg_payload_max_body(p)) return fg_err_set(err, "%s: no payload loaded", x->id);
    /* The shared bodies carry the by_ref choice: it must match. */
    if (p->by_ref != !x->inline_data)
        return fg_err_set(err, "%s: the payload was loaded for %s data, the experiment sends "
                          "%s data", x->id, x->inline_data ? "by-reference" : "inline",
                          x->inline_data ? "inline" : "by-reference");
    if (fg_instance_check_workflow(wf, err) != 0) return -1;
    for (int i = 0; i < wf->n_steps; i++)
        if (wf->steps[i].n_in > 0 && wf->steps[i].in[0].src_step == FG_WF_INPUTS && !p->body[i])
            return fg_err_set(err, "%s: the payload has no body for %s: it was loaded for "
                              "another workflow", x->id, wf->steps[i].id);
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return fg_err_set(err, "libcurl initialisation failed");

    engine e;
    memset(&e, 0, sizeof e);
    e.loop.epfd = -1;
    e.x = x;
    e.wf = wf;
    e.c = c;
    e.p = p;
    e.open = x->rate_rps > 0 || x->n_stages > 0;
    e.max_inflight = x->max_inflight > 0 ? x->max_inflight : DEFAULT_MAX_INFLIGHT;
    int rc = -1;
    for (int i = 0; i < wf->n_steps; i++) {
        if (fg_answer_plan_step(&e.answer[i], wf, i, p->by_ref, err) != 0) goto out;
        e.function_slot[i] = fg_cluster_endpoint_index(c, -1, wf->steps[i].id);
    }
    e.reader = fg_answer_reader_new();
    if (!e.reader) {
        fg_err_set(err, "out of memory for the reply reader");
        goto out;
    }
    e.sched = fg_sched_new(x->scheduler, wf, c, profile, err);
    if (!e.sched) goto out;
    if (fg_metrics_init(&e.m, wf, c, fg_mix64(x->seed ^ 0x7e5e7401ULL), err) != 0) goto out;
    e.m.open = e.open;
    int workers = init_nodes(&e);
    e.warm_need = (uint64_t)(x->warmup > 0 ? x->warmup : 0);
    e.warm_k = (uint64_t)(x->concurrency > workers ? x->concurrency : workers);
    if (e.warm_k < 1) e.warm_k = 1;
    e.warm_cap_ms = 1000.0 * (x->warmup_s > 0 ? x->warmup_s : DEFAULT_WARMUP_CAP_S);
    e.multi = curl_multi_init();
    int n_slots = c->mode == FG_CLUSTER_NODES ? c->n_nodes : c->n_functions, headers_ok = 1;
    for (int i = 0; i < n_slots && i < FG_MAX_ENDPOINTS; i++)
        headers_ok &= (e.headers[i] = fg_http_endpoint_headers(fg_cluster_endpoint(c, i))) != NULL;
    if (!e.multi || !headers_ok) {
        fg_err_set(err, "libcurl: out of memory");
        goto out;
    }

    /* Every in-flight request has its own connection (the server runs one
     * thread per connection); keep them all alive in the cache, as far as
     * the descriptor limit allows (fdlimit.h: raised if it can be, the
     * experiment refused if even the load's connections do not fit). */
    long cache = fd_budget(&e, n_slots, err);
    if (cache < 0) goto out;
    /* The cache is shared by the transports: halved between them when
     * some endpoints take each (the own for plain http://, libcurl for
     * the rest), whole for the one that takes them all. */
    int n_own = 0;
    for (int i = 0; i < n_slots && i < FG_MAX_ENDPOINTS && x->transport != FG_TRANSPORT_LIBCURL; i++)
        n_own += fg_h1_eligible(c->mode == FG_CLUSTER_NODES ? c->nodes[i].url : c->function_urls[i],
                                fg_cluster_endpoint(c, i));
    long own_cache = n_own == 0 ? 0 : n_own == n_slots ? cache : cache / 2;
    long curl_cache = n_own == n_slots ? cache : cache - own_cache;
    curl_multi_setopt(e.multi, CURLMOPT_MAX_HOST_CONNECTIONS, 0L);
    curl_multi_setopt(e.multi, CURLMOPT_MAXCONNECTS, curl_cache);
    if (fg_evloop_init(&e.loop, e.multi) != 0) {
        fg_err_set(err, "epoll: %s", strerror(errno));
        goto out;
    }
    fg_h1_init(&e.h1, &e.loop, own_cache);
    if (x->transport == FG_TRANSPORT_AUTO && n_own > 0) fg_h1_batch_sends(&e.h1);
    snprintf(e.rid_prefix, sizeof e.rid_prefix, "%s-%d-", x->id, x->repeat);
    e.rid_prefix_len = strlen(e.rid_prefix);
    e.h1_allowed = x->transport != FG_TRANSPORT_LIBCURL;

    if (e.open && open_schedule(&e, err) != 0) goto out;
    e.target = e.open ? fg_arrival_total(&e.arr) : (uint64_t)(x->requests > 0 ? x->requests : 0);
    e.m.scheduled = (long long)e.target;
    /* Server usage of this experiment alone: CPU as a difference, the peak
     * RSS since a reset (kept as the whole-life peak if the kernel refuses). */
    fg_proc_sample before, after;
    /* The wait is not the experiment's: the server's usage starts after it. */
    if (wait_for_start(x, err) != 0) goto out;
    fg_cluster_reset_peak_rss(c);
    int sampled = fg_cluster_proc_sample(c, &before) == 0;
    e.t0 = fg_now_mono_ms();
    e.m.t0 = e.t0;
    if (e.open) fg_arrival_restart(&e.warm_arr, e.t0);
    double t0_unix = fg_now_unix_ms();
    e.m.t0_unix = t0_unix;
    e.next_progress = e.t0 + PROGRESS_EVERY_MS;
    if (fg_timeline_init(&e.tl, x->id, x->repeat,
                         x->timeline_path[0] ? TIMELINE_MAX_REQUESTS : 0, e.t0, t0_unix) != 0) {
        fg_err_set(err, "out of memory for the timeline");
        goto out;
    }
    if (e.warm_need == 0) warm_stop(&e, "count", e.t0);   /* no warm-up asked for */
    e.sampler = fg_resources_start(c, e.t0, RESOURCE_INTERVAL_S);
    if (run_loop(&e, err) != 0) goto out;
    e.m.sends = fg_h1_sends(&e.h1);
    e.resources = fg_resources_stop(e.sampler);
    e.sampler = NULL;

    fg_server_usage usage = {0};
    if (sampled && fg_cluster_proc_sample(c, &after) == 0)
        usage = (fg_server_usage){1, after.cpu_s - before.cpu_s, after.peak_rss_kb};

    /* A timeline that could not be written is said, on the terminal and in
     * the entry, never lost. */
    const char *timeline = NULL;
    fg_err terr = {{0}};
    if (x->timeline_path[0]) {
        if (fg_timeline_write(&e.tl, x->timeline_path, &terr) == 0) timeline = x->timeline_path;
        else fg_log(FG_LOG_WARN, "%s: timeline not written: %s", x->id, terr.msg);
    }
    client_failures_said(&e);
    *entry = fg_metrics_entry(&e.m, x, p, &usage, timeline);
    if (*entry && terr.msg[0]) cJSON_AddStringToObject(*entry, "timeline_error", terr.msg);
    if (*entry && e.resources) {
        cJSON_AddItemToObject(*entry, "resources", e.resources);
        e.resources = NULL;
    }
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
