/* http.c — routing and body handling on libmicrohttpd.
 *
 * The access handler is called once when the headers are in (route, method
 * and the Content-Length limit are checked there, so an oversized body is
 * refused with 413 before a byte of it is read), then once per body chunk
 * (appended into one buffer, dropped once past the limit), then once at
 * the end, when the invocation runs in this connection's thread. The
 * buffer is reserved from Content-Length but at most 16 MiB up front (see
 * growbuf.h): idle connections that declare 64 MiB bodies cannot pin
 * 64 MiB each, while an honest large body still grows in a few mremaps.
 * Every path queues exactly one response, after the node's egress
 * emulation; a connection that closes early just frees its state in
 * `completed`. Blobs are served from the store's own bytes; the response
 * holds a blob reference until MHD is done with it.
 *
 * The node's memory budget (budget.h) is kept here, where bodies arrive:
 * an invocation's declared length is taken from it with the first checks
 * (503 and Retry-After when it does not fit, before a byte is read), a
 * chunked body's bytes as they come, and it is all given back in
 * `completed`, once the answer is sent. Connections are counted as MHD
 * opens and closes them; requests on one opened over max_connections get
 * 503 and the connection is closed. A 503 is sent at once only when no
 * body is coming or the client asked first (Expect: 100-continue): any
 * other client is still sending, and a connection closed on unread bytes
 * is reset, losing the answer; so its body is read and dropped (at most
 * max_body_mb, the 413 comes first) and the 503 follows.
 *
 * Injected faults (faults.h) are decided once a whole invocation body is
 * in, so the client has sent its request as it would to a failing
 * function; a down node is checked before anything else, on every route
 * but /faults. PUT /link and PUT /faults set the node's emulated link and
 * faults while it runs; they are a test bench's controls, like its
 * slowdown knob, not for a server facing strangers. */
#include "http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <microhttpd.h>

#include "functions.h"
#include "growbuf.h"
#include "inject.h"
#include "reply.h"
#include "status.h"

#define FG_LINK_BODY_LIMIT 4096
#define FG_FAULTS_BODY_LIMIT 65536

typedef struct request {
    double recv_ms;
    const fg_function *fn;      /* set once the body is to be accepted */
    int link, faults;           /* a PUT /link or /faults body is to be accepted */
    fg_growbuf body;
    int too_large, out_of_memory, over_budget;   /* the body was dropped */
    int chunked;                /* no Content-Length: budget taken as bytes come */
    size_t seen;                /* body bytes received, kept or not */
    size_t held;                /* bytes of the node's body budget held */
    int busy;                   /* a 503 to send once the body is drained: 1, or 2
                                 * closing the connection */
    const char *busy_function;
    char busy_message[200];
    int answered;
} request;

static const char oom_body[] = "{\"status\":\"error\",\"message\":\"out of memory\"}";

/* The socket context of a connection opened over max_connections. */
static const char over_cap_mark;

/* Queues rep (taking its body) with the node's egress delay. headers:
 * name, value, ..., NULL (or NULL for none). bytes_per_s > 0: dripped at
 * that rate (the drip fault). */
static enum MHD_Result queue_reply(fg_node *n, struct MHD_Connection *conn, request *r,
                                   fg_reply *rep, const char *const *headers,
                                   double bytes_per_s)
{
    r->answered = 1;
    struct MHD_Response *resp;
    size_t len;
    if (rep->body && bytes_per_s > 0) {
        len = rep->len;
        resp = fg_inject_drip(n, rep->body, len, bytes_per_s);
        rep->body = NULL;
    } else if (rep->body) {
        len = rep->len;
        resp = MHD_create_response_from_buffer(len, rep->body, MHD_RESPMEM_MUST_FREE);
        if (resp) rep->body = NULL;
        else fg_reply_free(rep);
    } else {
        len = sizeof oom_body - 1;
        resp = MHD_create_response_from_buffer(len, (void *)oom_body, MHD_RESPMEM_PERSISTENT);
    }
    if (!resp) return MHD_NO;
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
    for (; headers && headers[0]; headers += 2)
        MHD_add_response_header(resp, headers[0], headers[1]);
    fg_node_egress(n, len);
    enum MHD_Result ok = MHD_queue_response(conn, (unsigned)rep->status, resp);
    MHD_destroy_response(resp);
    return ok;
}

static enum MHD_Result send_reply(fg_node *n, struct MHD_Connection *conn, request *r,
                                  fg_reply *rep, const char *const *headers)
{
    return queue_reply(n, conn, r, rep, headers, 0);
}

static enum MHD_Result send_error(fg_node *n, struct MHD_Connection *conn, request *r,
                                  int status, const char *function,
                                  const char *const *headers, const char *message)
{
    fg_reply rep = {0};
    fg_reply_error(&rep, status, function, n->prof.name, "%s", message);
    return send_reply(n, conn, r, &rep, headers);
}

/* 503 for a budget: the client may come back (Retry-After); close_it
 * closes the connection after (it is one too many). */
static enum MHD_Result send_busy(fg_node *n, struct MHD_Connection *conn, request *r,
                                 const char *function, int close_it, const char *message)
{
    char retry[16];
    snprintf(retry, sizeof retry, "%d", FG_BUDGET_RETRY_AFTER_S);
    const char *headers[] = {MHD_HTTP_HEADER_RETRY_AFTER, retry,
                             close_it ? MHD_HTTP_HEADER_CONNECTION : NULL, "close", NULL};
    return send_error(n, conn, r, 503, function, headers, message);
}

/* 1 when a body follows the headers without the client waiting for a
 * verdict (no "Expect: 100-continue"). */
static int body_coming(struct MHD_Connection *conn)
{
    const char *expect = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
                                                     MHD_HTTP_HEADER_EXPECT);
    if (expect && !strcasecmp(expect, "100-continue")) return 0;
    const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
                                                 MHD_HTTP_HEADER_CONTENT_LENGTH);
    if (cl) return strtoull(cl, NULL, 10) > 0;
    return MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
                                       MHD_HTTP_HEADER_TRANSFER_ENCODING) != NULL;
}

/* send_busy now, or once the body that is coming has been drained. */
static enum MHD_Result refuse_busy(fg_node *n, struct MHD_Connection *conn, request *r,
                                   const char *function, int close_it, const char *message)
{
    if (!body_coming(conn)) return send_busy(n, conn, r, function, close_it, message);
    r->busy = close_it ? 2 : 1;
    r->busy_function = function;
    snprintf(r->busy_message, sizeof r->busy_message, "%s", message);
    return MHD_YES;
}

static enum MHD_Result send_text(fg_node *n, struct MHD_Connection *conn, request *r,
                                 char *json)
{
    fg_reply rep = {200, json, json ? strlen(json) : 0};
    if (!json) rep.status = 500;
    return send_reply(n, conn, r, &rep, NULL);
}

static void release_blob(void *cls) { fg_blob_unref(cls); }

static enum MHD_Result send_blob(fg_node *n, struct MHD_Connection *conn, request *r,
                                 const char *key)
{
    fg_blob *b = fg_blobstore_get(n->blobs, key);
    if (!b) {
        char msg[128];
        snprintf(msg, sizeof msg, "blob %.64s not found on %s", key, n->prof.name);
        return send_error(n, conn, r, 404, NULL, NULL, msg);
    }
    r->answered = 1;
    size_t len = fg_blob_len(b);
    struct MHD_Response *resp = MHD_create_response_from_buffer_with_free_callback_cls(
        len, (void *)fg_blob_data(b), release_blob, b);
    if (!resp) {
        fg_blob_unref(b);
        return MHD_NO;
    }
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/octet-stream");
    fg_node_egress(n, len);
    enum MHD_Result ok = MHD_queue_response(conn, MHD_HTTP_OK, resp);
    MHD_destroy_response(resp);
    return ok;
}

static int is_get(const char *method)
{
    return !strcmp(method, MHD_HTTP_METHOD_GET) || !strcmp(method, MHD_HTTP_METHOD_HEAD);
}

static enum MHD_Result send_bad_method(fg_node *n, struct MHD_Connection *conn, request *r,
                                       const char *method, const char *url,
                                       const char *function, const char *allow)
{
    char msg[128];
    snprintf(msg, sizeof msg, "method %.16s not allowed on %.64s", method, url);
    const char *headers[] = {MHD_HTTP_HEADER_ALLOW, allow, NULL};
    return send_error(n, conn, r, 405, function, headers, msg);
}

/* GET or PUT of a control (/link, /faults): answers a GET now, or sets
 * *flag so a PUT's body (at most limit bytes) is accepted. Node mode only
 * takes a PUT. */
static enum MHD_Result control(fg_node *n, struct MHD_Connection *conn, request *r,
                               const char *url, const char *method, char *(*get)(fg_node *),
                               int *flag, size_t limit)
{
    if (is_get(method)) return send_text(n, conn, r, get(n));
    if (strcmp(method, MHD_HTTP_METHOD_PUT) != 0 || n->site->only)
        return send_bad_method(n, conn, r, method, url, NULL,
                               n->site->only ? "GET, HEAD" : "GET, HEAD, PUT");
    r->body.limit = limit;
    *flag = 1;
    return MHD_YES;
}

/* The catalog index of the function url invokes on this node, or -1. */
static int invoked(const fg_node *n, const char *url)
{
    const fg_function *fn = NULL;
    if (!strncmp(url, "/invoke/", 8)) fn = fg_function_find(url + 8);
    else if (!strcmp(url, "/invoke")) fn = n->site->only;
    if (!fn || (n->site->only && fn != n->site->only)) return -1;
    return fg_function_index(fn);
}

static int over_cap(struct MHD_Connection *conn)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    return ci && ci->socket_context == &over_cap_mark;
}

/* First call: a down node, the connection cap, route, method,
 * Content-Length and the body budget. Either answers now (or drops the
 * connection, down) or sets r->fn so the body is accepted. */
static enum MHD_Result begin(fg_node *n, struct MHD_Connection *conn, request *r,
                             const char *url, const char *method)
{
    char msg[256];
    if (strcmp(url, "/faults") != 0 && fg_faults_refuse_down(&n->faults, invoked(n, url)))
        return MHD_NO;
    if (over_cap(conn)) {
        fg_budget_count_refused_connection(&n->budget);
        snprintf(msg, sizeof msg, "%s: over max_connections: more than %d connections are "
                 "open; retry later", n->prof.name, n->budget.max_connections);
        return refuse_busy(n, conn, r, NULL, 1, msg);
    }
    if (!strcmp(url, "/") || !strcmp(url, "/stats") || !strncmp(url, "/blob/", 6)) {
        if (!is_get(method)) return send_bad_method(n, conn, r, method, url, NULL, "GET, HEAD");
        if (!strcmp(url, "/")) return send_text(n, conn, r, fg_status_health_json(n));
        if (!strcmp(url, "/stats")) return send_text(n, conn, r, fg_status_stats_json(n));
        return send_blob(n, conn, r, url + 6);
    }
    if (!strcmp(url, "/link"))
        return control(n, conn, r, url, method, fg_status_link_json, &r->link,
                       FG_LINK_BODY_LIMIT);
    if (!strcmp(url, "/faults"))
        return control(n, conn, r, url, method, fg_status_faults_json, &r->faults,
                       FG_FAULTS_BODY_LIMIT);

    const fg_function *fn = NULL;
    if (!strncmp(url, "/invoke/", 8)) {
        fn = fg_function_find(url + 8);
        if (!fn || (n->site->only && fn != n->site->only)) {
            snprintf(msg, sizeof msg, "unknown function \"%.64s\"", url + 8);
            return send_error(n, conn, r, 404, NULL, NULL, msg);
        }
    } else if (!strcmp(url, "/invoke") && n->site->only) {
        fn = n->site->only;
    } else {
        snprintf(msg, sizeof msg, "no route for %.16s %.64s", method, url);
        return send_error(n, conn, r, 404, NULL, NULL, msg);
    }
    const char *name = fg_function_name(fn);
    if (strcmp(method, MHD_HTTP_METHOD_POST) != 0)
        return send_bad_method(n, conn, r, method, url, name, "POST");
    size_t limit = n->site->profile.max_body_bytes;
    r->body.limit = limit;
    const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
                                                 MHD_HTTP_HEADER_CONTENT_LENGTH);
    if (cl) {
        errno = 0;
        unsigned long long declared = strtoull(cl, NULL, 10);
        if (errno == ERANGE || declared > limit) {
            snprintf(msg, sizeof msg, "body of %.20s bytes is over the limit of %zu", cl, limit);
            return send_error(n, conn, r, 413, name, NULL, msg);
        }
        size_t held;
        if (fg_budget_take(&n->budget, (size_t)declared, &held) != 0) {
            snprintf(msg, sizeof msg, "%s: over body_budget_mb: bodies in flight hold %zu of "
                     "its %zu bytes, this one needs %llu more; retry later", n->prof.name, held,
                     n->budget.cap, declared);
            return refuse_busy(n, conn, r, name, 0, msg);
        }
        r->held = (size_t)declared;
        if (fg_growbuf_reserve(&r->body, (size_t)declared) != 0)
            return send_error(n, conn, r, 500, name, NULL, "out of memory");
    } else {
        r->chunked = 1;
    }
    r->fn = fn;
    return MHD_YES;
}

/* Frees the body and gives its budget back (an answer without it). */
static void drop_body(fg_node *n, request *r)
{
    fg_buf_free(&r->body.buf);
    r->body.cap = 0;
    fg_budget_give(&n->budget, r->held);
    r->held = 0;
}

/* Keeps the chunk, or drops the whole body (still draining the rest of
 * it) once it is over the limit, over the budget or cannot be held. */
static void append(fg_node *n, request *r, const char *data, size_t size)
{
    r->seen += size;
    if (r->too_large || r->out_of_memory || r->over_budget) return;
    if (r->chunked && r->fn) {
        if (fg_budget_take(&n->budget, size, NULL) != 0) {
            r->over_budget = 1;
            drop_body(n, r);
            return;
        }
        r->held += size;
    }
    int rc = fg_growbuf_append(&r->body, data, size);
    if (rc == 0) return;
    if (rc > 0) r->too_large = 1;
    else r->out_of_memory = 1;
    drop_body(n, r);
}

static enum MHD_Result finish_link(fg_node *n, struct MHD_Connection *conn, request *r)
{
    fg_err err;
    if (r->too_large || r->out_of_memory)
        return send_error(n, conn, r, 413, NULL, NULL, "link: body over 4 KiB");
    if (fg_node_link_set_json(n, (const char *)r->body.buf.data, r->body.buf.len, &err) != 0)
        return send_error(n, conn, r, 400, NULL, NULL, err.msg);
    return send_text(n, conn, r, fg_status_link_json(n));
}

static enum MHD_Result finish_faults(fg_node *n, struct MHD_Connection *conn, request *r)
{
    fg_err err;
    if (r->too_large || r->out_of_memory)
        return send_error(n, conn, r, 413, NULL, NULL, "faults: body over 64 KiB");
    if (fg_faults_set_json(&n->faults, (const char *)r->body.buf.data, r->body.buf.len,
                           n->prof.name, &err) != 0)
        return send_error(n, conn, r, 400, NULL, NULL, err.msg);
    return send_text(n, conn, r, fg_status_faults_json(n));
}

/* A whole body is in: the fault to inject, if any, else the invocation. */
static enum MHD_Result finish_invoke(fg_node *n, struct MHD_Connection *conn, request *r)
{
    int fn = fg_function_index(r->fn);
    const char *name = fg_function_name(r->fn);
    fg_fault f = fg_faults_pick(&n->faults, fn);
    fg_reply rep = {0};
    char msg[64];
    snprintf(msg, sizeof msg, "injected fault: %s", fg_fault_kind_name(f.kind));
    switch (f.kind) {
    case FG_FAULT_ERROR_500:
    case FG_FAULT_ERROR_STATUS:
        fg_faults_count(&n->faults, fn, f.kind);
        drop_body(n, r);
        return send_error(n, conn, r, f.kind == FG_FAULT_ERROR_500 ? 500 : 200, name, NULL, msg);
    case FG_FAULT_HANG:
    case FG_FAULT_RESET:
        fg_faults_count(&n->faults, fn, f.kind);
        drop_body(n, r);
        return f.kind == FG_FAULT_HANG ? fg_inject_hold(n, conn, f.hang_ms) : MHD_NO;
    case FG_FAULT_WRONG_TYPE:
        /* Counted only when there was a field to spoil (an error passes). */
        if (fg_invoke_wrong_type(n, r->fn, &r->body.buf, r->recv_ms, &rep))
            fg_faults_count(&n->faults, fn, f.kind);
        return send_reply(n, conn, r, &rep, NULL);
    case FG_FAULT_DRIP:
        fg_invoke(n, r->fn, &r->body.buf, r->recv_ms, &rep);
        fg_faults_count(&n->faults, fn, f.kind);
        return queue_reply(n, conn, r, &rep, NULL, f.bytes_per_s);
    default:
        fg_invoke(n, r->fn, &r->body.buf, r->recv_ms, &rep);
        return send_reply(n, conn, r, &rep, NULL);
    }
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *conn, const char *url,
                              const char *method, const char *version,
                              const char *upload_data, size_t *upload_data_size,
                              void **con_cls)
{
    (void)version;
    fg_node *n = cls;
    request *r = *con_cls;
    if (!r) {
        r = calloc(1, sizeof *r);
        if (!r) return MHD_NO;
        *con_cls = r;
        r->recv_ms = fg_now_unix_ms();
        return begin(n, conn, r, url, method);
    }
    if (*upload_data_size) {
        if (!r->answered && (r->fn || r->link || r->faults))
            append(n, r, upload_data, *upload_data_size);
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (r->answered) return MHD_YES;
    if (r->busy) return send_busy(n, conn, r, r->busy_function, r->busy == 2, r->busy_message);
    if (r->link) return finish_link(n, conn, r);
    if (r->faults) return finish_faults(n, conn, r);
    const char *name = fg_function_name(r->fn);
    char msg[200];
    if (r->too_large || r->out_of_memory) {
        if (r->too_large)
            snprintf(msg, sizeof msg, "body of %zu bytes is over the limit of %zu", r->seen,
                     r->body.limit);
        else
            snprintf(msg, sizeof msg, "out of memory for a body of %zu bytes", r->seen);
        return send_error(n, conn, r, r->too_large ? 413 : 500, name, NULL, msg);
    }
    if (r->over_budget) {
        snprintf(msg, sizeof msg, "%s: over body_budget_mb: a chunked body of %zu bytes did not "
                 "fit in its %zu bytes; retry later", n->prof.name, r->seen, n->budget.cap);
        return send_busy(n, conn, r, name, 0, msg);
    }
    return finish_invoke(n, conn, r);
}

static void completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                      enum MHD_RequestTerminationCode toe)
{
    (void)conn; (void)toe;
    request *r = *con_cls;
    if (!r) return;
    drop_body(cls, r);
    free(r);
    *con_cls = NULL;
}

static void connection_event(void *cls, struct MHD_Connection *conn, void **socket_context,
                             enum MHD_ConnectionNotificationCode code)
{
    (void)conn;
    fg_node *n = cls;
    if (code == MHD_CONNECTION_NOTIFY_STARTED)
        *socket_context = fg_budget_connect(&n->budget, NULL) ? NULL : (void *)&over_cap_mark;
    else
        fg_budget_disconnect(&n->budget);
}

int fg_http_listen(fg_node *n, const char *bind_addr, fg_err *err)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)n->prof.port)};
    if (inet_pton(AF_INET, bind_addr, &sa.sin_addr) != 1)
        return fg_err_set(err, "bind address \"%s\" is not an IPv4 address", bind_addr);
    n->daemon = MHD_start_daemon(
        MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL |
            MHD_USE_ERROR_LOG,
        0, NULL, NULL, handle, n,
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
        MHD_OPTION_NOTIFY_COMPLETED, completed, n,
        MHD_OPTION_NOTIFY_CONNECTION, connection_event, n,
        MHD_OPTION_CONNECTION_LIMIT, fg_budget_accept_limit(&n->prof.limits),
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)n->prof.limits.idle_timeout_s,
        MHD_OPTION_LISTEN_BACKLOG_SIZE, (unsigned)256,
        MHD_OPTION_END);
    if (!n->daemon)
        return fg_err_set(err, "%s: cannot listen on %s:%d", n->prof.name, bind_addr,
                          n->prof.port);
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(n->daemon, MHD_DAEMON_INFO_BIND_PORT);
    n->port = info ? info->port : n->prof.port;
    const char *host = strcmp(bind_addr, "0.0.0.0") ? bind_addr : "127.0.0.1";
    snprintf(n->url, sizeof n->url, "http://%s:%d", host, n->port);
    return 0;
}

void fg_http_stop(fg_node *n)
{
    /* Held and dripping requests end now, or the stop would wait for them. */
    fg_faults_stop(&n->faults);
    if (n->daemon) MHD_stop_daemon(n->daemon);
    n->daemon = NULL;
}
