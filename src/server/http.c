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
 * holds a blob reference until MHD is done with it. PUT /link sets the
 * node's emulated link (node.h) while it runs; it is a test bench's
 * control, like its slowdown knob, not for a server facing strangers. */
#include "http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <microhttpd.h>

#include "functions.h"
#include "growbuf.h"
#include "reply.h"
#include "status.h"

#define FG_LINK_BODY_LIMIT 4096

typedef struct request {
    double recv_ms;
    const fg_function *fn;      /* set once the body is to be accepted */
    int link;                   /* a PUT /link body is to be accepted */
    fg_growbuf body;
    int too_large, out_of_memory;   /* the body was dropped */
    size_t seen;                /* body bytes received, kept or not */
    int answered;
} request;

static const char oom_body[] = "{\"status\":\"error\",\"message\":\"out of memory\"}";

/* Queues rep (taking its body) with the node's egress delay. */
static enum MHD_Result send_reply(fg_node *n, struct MHD_Connection *conn, request *r,
                                  fg_reply *rep, const char *allow)
{
    r->answered = 1;
    struct MHD_Response *resp;
    size_t len;
    if (rep->body) {
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
    if (allow) MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, allow);
    fg_node_egress(n, len);
    enum MHD_Result ok = MHD_queue_response(conn, (unsigned)rep->status, resp);
    MHD_destroy_response(resp);
    return ok;
}

static enum MHD_Result send_error(fg_node *n, struct MHD_Connection *conn, request *r,
                                  int status, const char *function, const char *allow,
                                  const char *message)
{
    fg_reply rep = {0};
    fg_reply_error(&rep, status, function, n->prof.name, "%s", message);
    return send_reply(n, conn, r, &rep, allow);
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
    return send_error(n, conn, r, 405, function, allow, msg);
}

/* First call: route, method, Content-Length. Either answers now or sets
 * r->fn so the body is accepted. */
static enum MHD_Result begin(fg_node *n, struct MHD_Connection *conn, request *r,
                             const char *url, const char *method)
{
    char msg[256];
    if (!strcmp(url, "/") || !strcmp(url, "/stats") || !strncmp(url, "/blob/", 6)) {
        if (!is_get(method)) return send_bad_method(n, conn, r, method, url, NULL, "GET, HEAD");
        if (!strcmp(url, "/")) return send_text(n, conn, r, fg_status_health_json(n));
        if (!strcmp(url, "/stats")) return send_text(n, conn, r, fg_status_stats_json(n));
        return send_blob(n, conn, r, url + 6);
    }

    if (!strcmp(url, "/link")) {
        if (is_get(method)) return send_text(n, conn, r, fg_status_link_json(n));
        if (strcmp(method, MHD_HTTP_METHOD_PUT) != 0 || n->site->only)
            return send_bad_method(n, conn, r, method, url, NULL,
                                   n->site->only ? "GET, HEAD" : "GET, HEAD, PUT");
        r->body.limit = FG_LINK_BODY_LIMIT;
        r->link = 1;
        return MHD_YES;
    }

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
        if (fg_growbuf_reserve(&r->body, (size_t)declared) != 0)
            return send_error(n, conn, r, 500, name, NULL, "out of memory");
    }
    r->fn = fn;
    return MHD_YES;
}

/* Keeps the chunk, or drops the whole body (still draining the rest of
 * it) once it is over the limit or cannot be held. */
static void append(request *r, const char *data, size_t size)
{
    r->seen += size;
    if (r->too_large || r->out_of_memory) return;
    int rc = fg_growbuf_append(&r->body, data, size);
    if (rc == 0) return;
    if (rc > 0) r->too_large = 1;
    else r->out_of_memory = 1;
    fg_buf_free(&r->body.buf);
    r->body.cap = 0;
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
        if (!r->answered && (r->fn || r->link)) append(r, upload_data, *upload_data_size);
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (r->answered) return MHD_YES;
    if (r->link) return finish_link(n, conn, r);
    const char *name = fg_function_name(r->fn);
    if (r->too_large || r->out_of_memory) {
        char msg[128];
        if (r->too_large)
            snprintf(msg, sizeof msg, "body of %zu bytes is over the limit of %zu", r->seen,
                     r->body.limit);
        else
            snprintf(msg, sizeof msg, "out of memory for a body of %zu bytes", r->seen);
        return send_error(n, conn, r, r->too_large ? 413 : 500, name, NULL, msg);
    }
    fg_reply rep = {0};
    fg_invoke(n, r->fn, &r->body.buf, r->recv_ms, &rep);
    return send_reply(n, conn, r, &rep, NULL);
}

static void completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                      enum MHD_RequestTerminationCode toe)
{
    (void)cls; (void)conn; (void)toe;
    request *r = *con_cls;
    if (!r) return;
    fg_buf_free(&r->body.buf);
    free(r);
    *con_cls = NULL;
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
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)300,
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
    if (n->daemon) MHD_stop_daemon(n->daemon);
    n->daemon = NULL;
}
