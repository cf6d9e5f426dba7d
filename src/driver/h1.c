/* h1.c — plain HTTP/1.1 requests on the engine's event loop, as wrk sends
 * them: the request head is built once per URL, a send is one sendmsg of
 * head, length and the shared payload (never copied), and the answer is
 * read into one buffer and handed to http_parser (the parser wrk and
 * Node's old core use). libcurl stays for everything this does not do
 * (TLS, proxies, signing); it costs twice as much CPU per request (two
 * polls, a URL parse and header formatting every time; README, "The
 * driver as a load generator").
 *
 * A target's host is resolved once, when the target is made (the first
 * send to that URL, in the warm-up as a rule), as wrk resolves at start;
 * a name that does not resolve is left to libcurl, which says why.
 *
 * Connections are kept alive per host (address) and reused by any URL on
 * it; at most max_idle wait idle, watched for input so a server's close
 * is seen and the connection dropped. A request sent on a reused
 * connection that the server closed before answering anything is sent
 * once more on a fresh one, as libcurl does: a keep-alive race, not the
 * server's failure. Requests in flight are kept in deadline order (the
 * engine's timeout is one per run), so the earliest deadline is the list's
 * head and expiry costs nothing while nothing expires.
 *
 * Watching a connection costs an epoll_ctl only when what it waits for
 * changes: a body that fits the socket buffer goes out in the send call
 * and the connection waits for input, as it did idle.
 *
 * Batched sends (fg_h1_batch_sends, the engine's default): a request on
 * a kept-alive connection waits in a queue until the loop is about to
 * sleep, and the turn's sends go out in one io_uring_enter. On a machine
 * whose cores the server keeps busy, every sendmsg wakes a server thread
 * that takes the driver's core on the way back to user space, leaving
 * the turn's other requests unsent while it runs; inside one system call
 * that preemption waits until all are out (the README's load-generator
 * figures: 0.90× wrk with a sendmsg each, 0.97× batched). Where io_uring
 * is refused (an old kernel, Docker's default seccomp profile) sends
 * stay direct. */
#define _GNU_SOURCE
#include "h1.h"

#include <curl/curl.h>
#include <errno.h>
#include <http_parser.h>
#include <liburing.h>
#include <math.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "flowgate/common.h"

#define READ_BUF 65536
/* Waiting for an answer and idle alike, so that a request costs no
 * epoll_ctl when its body goes out in one send. */
#define WAIT_INPUT (EPOLLIN | EPOLLRDHUP)

#define MAX_ADDRS 4

struct fg_h1_host {
    fg_h1_host *next;
    struct sockaddr_storage addr[MAX_ADDRS];   /* the name's addresses, in the resolver's order */
    socklen_t addr_len[MAX_ADDRS];
    int n_addrs, cur;                  /* cur: the one that last connected (or is tried next) */
    fg_h1_conn *idle;                  /* kept-alive connections, doubly linked */
};

struct fg_h1_target {
    fg_h1_target *next;
    fg_h1_host *host;
    char *head;                        /* "POST /path HTTP/1.1\r\n...Content-Length: " */
    size_t head_len;
};

struct fg_h1_conn {
    fg_evloop_handler handler;         /* epoll hands this back */
    fg_h1 *client;
    fg_h1_host *host;
    fg_h1_conn *idle_prev, *idle_next;
    int fd;
    int connecting;
    uint32_t watching;                 /* the events epoll waits for */
    int reused;                        /* answered a request before */
    fg_h1_req *req;                    /* NULL: idle */
    char length[40];                   /* "<n>\r\n\r\n" */
    size_t length_len, written;        /* of head + length + body */
    http_parser parser;
    size_t got;                        /* bytes of this answer */
    int message_done, body_failed;
    int spent;                         /* bytes came after the answer: not reusable */
    int in_value, is_retry_after;      /* the header being parsed */
    char field[16], retry_after[48];
    size_t field_len, retry_after_len;
    /* Batching: the place in the client's queue, and the message the
     * ring reads when it is flushed. */
    fg_h1_conn *queue_prev, *queue_next;
    struct iovec iov[3];
    struct msghdr msg;
};

/* Sends per io_uring_enter at most; a longer queue takes more. */
#define RING_ENTRIES 256

static char read_buf[READ_BUF];        /* one thread per engine, one read at a time */

static void on_ready(fg_evloop_handler *handler, uint32_t events);

static int is_queued(const fg_h1_conn *c)
{
    return c->queue_prev || c->client->queued == c;
}

static void enqueue(fg_h1_conn *c)
{
    fg_h1 *h = c->client;
    c->queue_next = NULL;
    c->queue_prev = h->queued_tail;
    if (h->queued_tail) h->queued_tail->queue_next = c;
    else h->queued = c;
    h->queued_tail = c;
}

static void dequeue(fg_h1_conn *c)
{
    fg_h1 *h = c->client;
    if (c->queue_prev) c->queue_prev->queue_next = c->queue_next;
    else h->queued = c->queue_next;
    if (c->queue_next) c->queue_next->queue_prev = c->queue_prev;
    else h->queued_tail = c->queue_prev;
    c->queue_prev = c->queue_next = NULL;
}

/* The memory waits (h->closed): handling one connection's event can close
 * another (a request resent from a dead keep-alive connection to an idle
 * one that is dead too) whose own event is still in the batch the loop is
 * dispatching; that event then finds it closed (fd -1). */
static void conn_close(fg_h1_conn *c)
{
    if (is_queued(c)) dequeue(c);
    if (c->fd >= 0) {
        fg_evloop_unwatch(c->client->loop, c->fd);
        close(c->fd);
    }
    c->fd = -1;
    c->req = NULL;
    c->idle_next = c->client->closed;
    c->client->closed = c;
}

static void free_closed(fg_h1 *h)
{
    while (h->closed) {
        fg_h1_conn *c = h->closed;
        h->closed = c->idle_next;
        free(c);
    }
}

static void idle_unlink(fg_h1_conn *c)
{
    if (c->idle_prev) c->idle_prev->idle_next = c->idle_next;
    else c->host->idle = c->idle_next;
    if (c->idle_next) c->idle_next->idle_prev = c->idle_prev;
    c->idle_prev = c->idle_next = NULL;
    c->client->idle--;
}

static int watch(fg_h1_conn *c, uint32_t events)
{
    if (c->watching == events) return 0;
    c->watching = events;
    return fg_evloop_watch(c->client->loop, c->fd, events, &c->handler);
}

/* ---- the request lists ------------------------------------------------ */

static void list_unlink(fg_h1 *h, fg_h1_req *r)
{
    fg_h1_req **head = r->list == 1 ? &h->inflight : &h->done;
    fg_h1_req **tail = r->list == 1 ? &h->inflight_tail : &h->done_tail;
    if (r->prev) r->prev->next = r->next;
    else *head = r->next;
    if (r->next) r->next->prev = r->prev;
    else *tail = r->prev;
    r->prev = r->next = NULL;
    r->list = 0;
}

static void inflight_insert(fg_h1 *h, fg_h1_req *r)
{
    fg_h1_req *after = h->inflight_tail;   /* usually the tail: deadlines come in order */
    while (after && after->deadline > r->deadline) after = after->prev;
    r->prev = after;
    r->next = after ? after->next : h->inflight;
    if (r->next) r->next->prev = r;
    else h->inflight_tail = r;
    if (after) after->next = r;
    else h->inflight = r;
    r->list = 1;
}

static void done_append(fg_h1 *h, fg_h1_req *r)
{
    r->prev = h->done_tail;
    r->next = NULL;
    if (h->done_tail) h->done_tail->next = r;
    else h->done = r;
    h->done_tail = r;
    r->list = 2;
}

/* ---- parsing the answer ------------------------------------------------ */

/* Only a 429 or 503 has a header the driver reads (Retry-After); the
 * status line comes first, so every other answer's headers are passed
 * over unlooked at. */
static int headers_read(const http_parser *p)
{
    return p->status_code == 429 || p->status_code == 503;
}

static int on_header_field(http_parser *p, const char *at, size_t len)
{
    fg_h1_conn *c = p->data;
    if (!headers_read(p)) return 0;
    if (c->in_value) {
        c->in_value = 0;
        c->field_len = 0;
    }
    for (size_t i = 0; i < len && c->field_len < sizeof c->field; i++) c->field[c->field_len++] = at[i];
    return 0;
}

static int on_header_value(http_parser *p, const char *at, size_t len)
{
    fg_h1_conn *c = p->data;
    if (!headers_read(p)) return 0;
    if (!c->in_value) {
        c->in_value = 1;
        c->is_retry_after = c->field_len == 11 && !strncasecmp(c->field, "Retry-After", 11);
        if (c->is_retry_after) c->retry_after_len = 0;
    }
    for (size_t i = 0; c->is_retry_after && i < len &&
                       c->retry_after_len + 1 < sizeof c->retry_after; i++)
        c->retry_after[c->retry_after_len++] = at[i];
    c->retry_after[c->retry_after_len] = 0;
    return 0;
}

static int on_body(http_parser *p, const char *at, size_t len)
{
    fg_h1_conn *c = p->data;
    if (fg_http_body_write((char *)at, 1, len, c->req->resp) == len) return 0;
    c->body_failed = 1;   /* past the limit (resp->overflow) or no memory */
    return -1;
}

static int on_message_complete(http_parser *p)
{
    fg_h1_conn *c = p->data;
    if (p->status_code / 100 == 1 && p->status_code != 101) {
        /* An interim answer (100, 103): the parser goes on to the final one. */
        c->in_value = 1;
        c->retry_after_len = 0;
        return 0;
    }
    c->message_done = 1;
    http_parser_pause(p, 1);   /* the answer is whole: bytes after it are not its */
    return 0;
}

static const http_parser_settings parse_answer = {
    .on_header_field = on_header_field,
    .on_header_value = on_header_value,
    .on_body = on_body,
    .on_message_complete = on_message_complete,
};

/* Seconds, or an HTTP date (libcurl's parser; 0 when past or unreadable,
 * as libcurl reports it on its own path). */
static double retry_after_ms(const fg_h1_conn *c)
{
    if (c->parser.status_code != 429 && c->parser.status_code != 503) return -1;
    if (!c->retry_after_len) return -1;
    char v[sizeof c->retry_after];
    size_t n = c->retry_after_len;
    while (n > 0 && (c->retry_after[n - 1] == ' ' || c->retry_after[n - 1] == '\t')) n--;
    memcpy(v, c->retry_after, n);
    v[n] = 0;
    char *end;
    long long s = strtoll(v, &end, 10);
    if (end != v && *end == 0) return s > 0 ? (double)s * 1000.0 : 0;
    time_t when = curl_getdate(v, NULL);
    double left = when < 0 ? 0 : difftime(when, time(NULL));
    return left > 0 ? left * 1000.0 : 0;
}

/* ---- finishing --------------------------------------------------------- */

static void conn_park(fg_h1_conn *c)
{
    fg_h1 *h = c->client;
    c->req = NULL;
    c->reused = 1;
    if (h->idle >= h->max_idle || watch(c, WAIT_INPUT) != 0) {
        conn_close(c);
        return;
    }
    c->idle_prev = NULL;
    c->idle_next = c->host->idle;
    if (c->idle_next) c->idle_next->idle_prev = c;
    c->host->idle = c;
    h->idle++;
}

/* The request ends: its connection is kept when the answer was whole and
 * the server keeps it alive, else closed. */
static void finish(fg_h1_conn *c, fg_h1_outcome outcome, int sys_errno, const char *why)
{
    fg_h1 *h = c->client;
    fg_h1_req *r = c->req;
    size_t total = r->target->head_len + c->length_len + r->body_len;
    /* An answer read after the deadline, in the wake-up the deadline also
     * passed in, is a timeout, as libcurl judges its own before reading:
     * the two transports count alike, and no "ok" has a latency past the
     * timeout. */
    if (outcome == FG_H1_COMPLETE && fg_now_mono_ms() > r->deadline) outcome = FG_H1_TIMEOUT;
    r->outcome = outcome;
    r->sys_errno = sys_errno;
    r->why = why;
    r->partial = c->parser.status_code != 0;   /* as libcurl: a status line came */
    r->status = c->parser.status_code ? (int)c->parser.status_code : 0;
    r->retry_after_ms = outcome == FG_H1_COMPLETE ? retry_after_ms(c) : -1;
    r->conn = NULL;
    list_unlink(h, r);
    done_append(h, r);
    if (outcome == FG_H1_COMPLETE && c->written == total && !c->spent &&
        http_should_keep_alive(&c->parser))
        conn_park(c);
    else
        conn_close(c);
}

/* ---- sending ------------------------------------------------------------ */

static void start(fg_h1 *h, fg_h1_req *r);

/* The server closed a reused connection before answering: send again on
 * a fresh one, once. */
static int resend_fresh(fg_h1_conn *c)
{
    fg_h1_req *r = c->req;
    if (!c->reused || c->got > 0 || r->resent) return 0;
    fg_h1 *h = c->client;
    r->resent = 1;
    r->conn = NULL;
    conn_close(c);
    start(h, r);
    return 1;
}

static void broken(fg_h1_conn *c, int sys_errno, const char *why)
{
    if (!resend_fresh(c)) finish(c, FG_H1_BROKEN, sys_errno, why);
}

static int read_answer(fg_h1_conn *c);

/* What is left to send of head, length and body, as iovecs; their count. */
static int unsent_iov(const fg_h1_conn *c, struct iovec iov[3])
{
    const fg_h1_req *r = c->req;
    const fg_h1_target *t = r->target;
    const char *parts[3] = {t->head, c->length, r->body};
    size_t lens[3] = {t->head_len, c->length_len, r->body_len};
    size_t at = c->written;
    int n = 0;
    for (int i = 0; i < 3; i++) {
        if (at >= lens[i]) {
            at -= lens[i];
            continue;
        }
        iov[n].iov_base = (char *)parts[i] + at;
        iov[n++].iov_len = lens[i] - at;
        at = 0;
    }
    return n;
}

static void write_request(fg_h1_conn *c)
{
    const fg_h1_req *r = c->req;
    size_t total = r->target->head_len + c->length_len + r->body_len;
    while (c->written < total) {
        struct iovec iov[3];
        struct msghdr msg = {.msg_iov = iov, .msg_iovlen = (size_t)unsent_iov(c, iov)};
        ssize_t sent = sendmsg(c->fd, &msg, MSG_NOSIGNAL);
        if (sent > 0) {
            c->written += (size_t)sent;
            continue;
        }
        if (sent < 0 && errno == EINTR) continue;
        if (sent < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            if (watch(c, WAIT_INPUT | EPOLLOUT) != 0) finish(c, FG_H1_CLIENT, errno, NULL);
            return;
        }
        /* The server stopped reading: an answer it sent first (a 413 for
         * a body it will not take) is the result, if it is here. */
        int en = sent < 0 ? errno : EPIPE;
        if (read_answer(c)) broken(c, en, NULL);
        return;
    }
    if (watch(c, WAIT_INPUT) != 0) finish(c, FG_H1_CLIENT, errno, NULL);
}

/* "<len>\r\n\r\n", the head's end (a printf per request showed in the profile). */
static size_t length_field(char *out, size_t len)
{
    char digits[24];
    int n = 0;
    do digits[n++] = (char)('0' + len % 10); while ((len /= 10) > 0);
    size_t at = 0;
    while (n > 0) out[at++] = digits[--n];
    memcpy(out + at, "\r\n\r\n", 4);
    return at + 4;
}

/* The request ends before any connection carried it. */
static void fail_unsent(fg_h1 *h, fg_h1_req *r, fg_h1_outcome outcome, int sys_errno)
{
    r->outcome = outcome;
    r->sys_errno = sys_errno;
    list_unlink(h, r);
    done_append(h, r);
}

/* connect() failed: the name's next address, if it has one not tried yet
 * for this request (localhost: ::1, then 127.0.0.1, as libcurl tries
 * them), else the request ends. */
static void connect_failed(fg_h1_conn *c, int err)
{
    fg_h1_req *r = c->req;
    fg_h1_host *host = c->host;
    fg_h1 *h = c->client;
    if (r->addr_tries + 1 >= host->n_addrs) {
        finish(c, FG_H1_NO_CONNECT, err, NULL);
        return;
    }
    host->cur = (host->cur + 1) % host->n_addrs;
    r->addr_tries++;
    r->conn = NULL;
    conn_close(c);
    start(h, r);
}

static void start(fg_h1 *h, fg_h1_req *r)
{
    fg_h1_host *host = r->target->host;
    /* A resend takes a new connection: an idle one may be as dead as the
     * one that failed (a server closing its idle connections at once). */
    fg_h1_conn *c = r->resent ? NULL : host->idle;
    int connect_err = 0;
    if (c) {
        idle_unlink(c);
    } else {
        c = calloc(1, sizeof *c);
        if (!c) {
            fail_unsent(h, r, FG_H1_CLIENT, ENOMEM);
            return;
        }
        c->client = h;
        c->host = host;
        c->handler.on_ready = on_ready;
        const struct sockaddr_storage *addr = &host->addr[host->cur];
        c->fd = socket(addr->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (c->fd < 0) {
            int en = errno ? errno : EMFILE;
            free(c);
            fail_unsent(h, r, FG_H1_CLIENT, en);
            return;
        }
        int one = 1;
        setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        setsockopt(c->fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof one);
        if (connect(c->fd, (const struct sockaddr *)addr, host->addr_len[host->cur]) != 0) {
            if (errno == EINPROGRESS) c->connecting = 1;
            else connect_err = errno;
        }
    }
    c->req = r;
    r->conn = c;
    c->written = 0;
    c->got = 0;
    c->message_done = c->body_failed = c->spent = 0;
    c->in_value = 1;   /* the first field starts a new name */
    c->retry_after_len = 0;
    c->length_len = length_field(c->length, r->body_len);
    http_parser_init(&c->parser, HTTP_RESPONSE);
    c->parser.data = c;
    if (connect_err) {
        connect_failed(c, connect_err);
        return;
    }
    if (c->connecting) {
        if (watch(c, WAIT_INPUT | EPOLLOUT) != 0) finish(c, FG_H1_CLIENT, errno, NULL);
        return;
    }
    if (h->ring) enqueue(c);   /* out at the next fg_h1_flush */
    else write_request(c);
}

static void drop_ring(fg_h1 *h)
{
    io_uring_queue_exit(h->ring);
    free(h->ring);
    h->ring = NULL;
}

/* One io_uring_enter for up to RING_ENTRIES queued sends. MSG_DONTWAIT:
 * a socket that takes nothing now answers -EAGAIN at once, so every send
 * completes inside the call, and write_request then finishes each the
 * usual way (the rest of a partial one, EPOLLOUT, an error and the answer
 * before it). A ring that fails is dropped, and what it did not take is
 * sent directly: never twice, never lost. */
static void flush_some(fg_h1 *h, double now)
{
    fg_h1_conn *batch[RING_ENTRIES];
    int result[RING_ENTRIES];
    unsigned char reported[RING_ENTRIES];
    unsigned n = 0;
    struct io_uring_sqe *sqe;
    while (h->queued && n < RING_ENTRIES && (sqe = io_uring_get_sqe(h->ring))) {
        fg_h1_conn *c = h->queued;
        dequeue(c);
        c->msg = (struct msghdr){.msg_iov = c->iov, .msg_iovlen = (size_t)unsent_iov(c, c->iov)};
        io_uring_prep_sendmsg(sqe, c->fd, &c->msg, MSG_NOSIGNAL | MSG_DONTWAIT);
        io_uring_sqe_set_data64(sqe, n);
        c->req->sent_at = now;
        h->ring_sends++;
        reported[n] = 0;
        batch[n++] = c;
    }
    unsigned submitted = 0, reaped = 0;
    while (submitted < n) {
        int ret = io_uring_submit(h->ring);
        if (ret == -EINTR) continue;
        if (ret <= 0) break;
        submitted += (unsigned)ret;
    }
    while (reaped < submitted) {
        struct io_uring_cqe *cqe;
        int ret = io_uring_wait_cqe(h->ring, &cqe);
        if (ret == -EINTR) continue;
        if (ret < 0) break;
        uint64_t i = io_uring_cqe_get_data64(cqe);
        if (i < n && !reported[i]) {
            result[i] = cqe->res;
            reported[i] = 1;
        }
        io_uring_cqe_seen(h->ring, cqe);
        reaped++;
    }
    if (n == 0 || submitted < n || reaped < submitted) drop_ring(h);
    for (unsigned i = 0; i < n; i++) {
        fg_h1_conn *c = batch[i];
        if (reported[i]) {
            if (result[i] > 0) c->written += (size_t)result[i];
            write_request(c);
        } else if (i >= submitted) {
            write_request(c);   /* the ring never took it: sent directly */
        } else {
            /* Taken and never reported: it may be out, so it is not sent
             * again; the request fails now rather than at its deadline. */
            finish(c, FG_H1_BROKEN, EIO, "the send's outcome was lost (io_uring)");
        }
    }
}

void fg_h1_flush(fg_h1 *h, double now)
{
    while (h->queued) {
        if (!h->ring) {   /* dropped: the rest go directly */
            fg_h1_conn *c = h->queued;
            dequeue(c);
            c->req->sent_at = now;
            write_request(c);
            continue;
        }
        flush_some(h, now);
    }
}

const char *fg_h1_sends(const fg_h1 *h)
{
    return !h->ring_sends ? "direct" : h->ring ? "batched" : "mixed";
}

int fg_h1_batch_sends(fg_h1 *h)
{
    if (h->ring) return 1;
    struct io_uring *ring = malloc(sizeof *ring);
    if (!ring || io_uring_queue_init(RING_ENTRIES, ring, 0) != 0) {
        free(ring);
        return 0;
    }
    h->ring = ring;
    return 1;
}

void fg_h1_send(fg_h1 *h, const fg_h1_target *t, fg_h1_req *r, const char *body, size_t len,
                fg_http_body *resp, double now, double timeout_ms)
{
    r->target = t;
    r->body = body;
    r->body_len = len;
    r->resp = resp;
    r->deadline = now + timeout_ms;
    r->sent_at = now;
    r->resent = 0;
    r->addr_tries = 0;
    r->outcome = FG_H1_COMPLETE;
    r->status = r->partial = r->sys_errno = 0;
    r->retry_after_ms = -1;
    r->why = NULL;
    r->conn = NULL;
    inflight_insert(h, r);
    start(h, r);
}

/* ---- reading ------------------------------------------------------------ */

/* After the parser ran: 1 the answer goes on, 0 the request finished (c
 * may be gone). */
static int parsed(fg_h1_conn *c, size_t n, size_t used)
{
    if (c->message_done) {
        c->spent = used < n;
        finish(c, FG_H1_COMPLETE, 0, NULL);
    } else if (c->body_failed) {
        int overflow = c->req->resp->overflow;
        finish(c, overflow ? FG_H1_OVERFLOW : FG_H1_CLIENT, overflow ? 0 : ENOMEM, NULL);
    } else if (HTTP_PARSER_ERRNO(&c->parser) != HPE_OK) {
        finish(c, FG_H1_BAD_REPLY, 0, http_errno_description(HTTP_PARSER_ERRNO(&c->parser)));
    } else {
        return 1;
    }
    return 0;
}

/* Reads what is there: 1 the answer goes on, 0 the request finished (c
 * may be gone). */
static int read_answer(fg_h1_conn *c)
{
    for (;;) {
        ssize_t n = read(c->fd, read_buf, sizeof read_buf);
        if (n > 0) {
            c->got += (size_t)n;
            size_t used = http_parser_execute(&c->parser, &parse_answer, read_buf, (size_t)n);
            if (!parsed(c, (size_t)n, used)) return 0;
            if (n < (ssize_t)sizeof read_buf) return 1;   /* level-triggered: the rest is said */
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return 1;
        int en = n < 0 ? errno : 0;
        if (c->got > 0) {
            /* The end of the stream ends an answer without a length. */
            http_parser_execute(&c->parser, &parse_answer, NULL, 0);
            if (c->message_done) {
                finish(c, FG_H1_COMPLETE, 0, NULL);
                return 0;
            }
        }
        broken(c, en, en ? NULL : "the server closed the connection");
        return 0;
    }
}

static void on_ready(fg_evloop_handler *handler, uint32_t events)
{
    fg_h1_conn *c = (fg_h1_conn *)handler;
    if (c->fd < 0) return;   /* closed earlier in this batch */
    if (!c->req) {           /* idle: the server closed it, or sent what nobody asked */
        idle_unlink(c);
        conn_close(c);
        return;
    }
    if (c->connecting) {
        int err = 0;
        socklen_t len = sizeof err;
        if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) err = errno;
        if (err) {
            connect_failed(c, err);
            return;
        }
        if (!(events & (EPOLLOUT | EPOLLERR | EPOLLHUP))) return;
        c->connecting = 0;
        write_request(c);
        return;
    }
    if ((events & (EPOLLIN | EPOLLHUP | EPOLLERR | EPOLLRDHUP)) && !read_answer(c)) return;
    if (events & EPOLLOUT) write_request(c);
}

/* ---- the rest of the interface ------------------------------------------ */

void fg_h1_init(fg_h1 *h, fg_evloop *loop, long max_idle)
{
    memset(h, 0, sizeof *h);
    h->loop = loop;
    h->max_idle = max_idle;
}

static fg_h1_host *host_for(fg_h1 *h, const char *name, const char *port)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *list = NULL;
    if (getaddrinfo(name, port, &hints, &list) != 0 || !list) return NULL;
    fg_h1_host found = {0};
    for (const struct addrinfo *ai = list; ai && found.n_addrs < MAX_ADDRS; ai = ai->ai_next) {
        if (ai->ai_addrlen > sizeof found.addr[0]) continue;
        memcpy(&found.addr[found.n_addrs], ai->ai_addr, ai->ai_addrlen);
        found.addr_len[found.n_addrs++] = ai->ai_addrlen;
    }
    freeaddrinfo(list);
    if (!found.n_addrs) return NULL;
    /* One host per address list: URLs naming it alike share its connections. */
    fg_h1_host *host = h->hosts;
    while (host && !(host->n_addrs == found.n_addrs &&
                     !memcmp(host->addr, found.addr, sizeof found.addr) &&
                     !memcmp(host->addr_len, found.addr_len, sizeof found.addr_len)))
        host = host->next;
    if (host || !(host = malloc(sizeof *host))) return host;
    *host = found;
    host->next = h->hosts;
    h->hosts = host;
    return host;
}

/* "Name:" or "Name;" opens the header hd? */
static int header_is(const char *hd, const char *name)
{
    size_t n = strlen(name);
    return !strncasecmp(hd, name, n) && (hd[n] == ':' || hd[n] == ';');
}

/* The head every request to this URL starts with, up to the length. The
 * endpoint's headers follow libcurl's conventions, as they do on its
 * path: "Name;" sends the header empty, "Name:" with nothing after it
 * removes it (the default Content-Type included), and a Host given there
 * replaces the URL's. */
static char *build_head(const char *path, const char *host_header, const fg_endpoint_opts *o,
                        size_t *len)
{
    int own_type = 0, own_host = 0;
    size_t need = strlen(path) + strlen(host_header) + 128;
    const char *hd = o ? o->headers : "";
    for (int i = 0; o && i < o->n_headers; i++, hd += strlen(hd) + 1) {
        own_type |= header_is(hd, "Content-Type");
        own_host |= header_is(hd, "Host");
        need += strlen(hd) + 3;
    }
    char *head = malloc(need);
    if (!head) return NULL;
    size_t n = (size_t)snprintf(head, need, "POST %s HTTP/1.1\r\n", path);
    if (!own_host) n += (size_t)snprintf(head + n, need - n, "Host: %s\r\n", host_header);
    if (!own_type) n += (size_t)snprintf(head + n, need - n, "Content-Type: application/json\r\n");
    hd = o ? o->headers : "";
    for (int i = 0; o && i < o->n_headers; i++, hd += strlen(hd) + 1) {
        const char *colon = strchr(hd, ':');
        size_t hl = strlen(hd);
        if (!colon && hl > 1 && hd[hl - 1] == ';')
            n += (size_t)snprintf(head + n, need - n, "%.*s:\r\n", (int)(hl - 1), hd);
        else if (colon && !colon[1 + strspn(colon + 1, " \t")])
            continue;   /* removed */
        else
            n += (size_t)snprintf(head + n, need - n, "%s\r\n", hd);
    }
    n += (size_t)snprintf(head + n, need - n, "Content-Length: ");
    *len = n;
    return head;
}

int fg_h1_eligible(const char *url, const fg_endpoint_opts *o)
{
    return !strncasecmp(url, "http://", 7) && !(o && (o->proxy[0] || o->aws_sigv4[0]));
}

fg_h1_target *fg_h1_target_new(fg_h1 *h, const char *url, const fg_endpoint_opts *o)
{
    if (!fg_h1_eligible(url, o)) return NULL;
    CURLU *u = curl_url();
    char *scheme = NULL, *host = NULL, *port = NULL, *path = NULL, *query = NULL;
    fg_h1_target *t = NULL;
    if (!u || curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK || strcmp(scheme, "http") ||
        curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_PATH, &path, 0) != CURLUE_OK)
        goto out;
    curl_url_get(u, CURLUPART_QUERY, &query, 0);
    /* "[::1]" in a URL; the resolver wants it bare. */
    char name[256];
    size_t hl = strlen(host);
    if (host[0] == '[' && hl >= 2 && hl - 2 < sizeof name) snprintf(name, sizeof name, "%.*s", (int)(hl - 2), host + 1);
    else snprintf(name, sizeof name, "%s", host);
    fg_h1_host *hp = host_for(h, name, port);
    if (!hp) goto out;
    char host_header[300], target[1200];
    if (!strcmp(port, "80")) snprintf(host_header, sizeof host_header, "%s", host);
    else snprintf(host_header, sizeof host_header, "%s:%s", host, port);
    snprintf(target, sizeof target, "%s%s%s", path, query ? "?" : "", query ? query : "");
    if (!(t = calloc(1, sizeof *t))) goto out;
    t->host = hp;
    if (!(t->head = build_head(target, host_header, o, &t->head_len))) {
        free(t);
        t = NULL;
        goto out;
    }
    t->next = h->targets;
    h->targets = t;
out:
    curl_free(scheme);
    curl_free(host);
    curl_free(port);
    curl_free(path);
    curl_free(query);
    curl_url_cleanup(u);
    return t;
}

fg_h1_req *fg_h1_next_done(fg_h1 *h)
{
    fg_h1_req *r = h->done;
    if (r) list_unlink(h, r);
    return r;
}

double fg_h1_next_deadline(const fg_h1 *h)
{
    return h->inflight ? h->inflight->deadline : INFINITY;
}

void fg_h1_expire(fg_h1 *h, double now)
{
    free_closed(h);
    while (h->inflight && h->inflight->deadline <= now) {
        fg_h1_req *r = h->inflight;
        if (r->conn) {
            finish(r->conn, FG_H1_TIMEOUT, 0, NULL);
        } else {
            list_unlink(h, r);
            r->outcome = FG_H1_TIMEOUT;
            done_append(h, r);
        }
    }
}

void fg_h1_cancel(fg_h1 *h, fg_h1_req *r)
{
    if (r->list) list_unlink(h, r);
    if (r->conn) {
        r->conn->req = NULL;
        conn_close(r->conn);
        r->conn = NULL;
    }
}

void fg_h1_free(fg_h1 *h)
{
    for (fg_h1_host *host = h->hosts, *next; host; host = next) {
        next = host->next;
        while (host->idle) {
            fg_h1_conn *c = host->idle;
            idle_unlink(c);
            conn_close(c);
        }
        free(host);
    }
    for (fg_h1_target *t = h->targets, *next; t; t = next) {
        next = t->next;
        free(t->head);
        free(t);
    }
    free_closed(h);
    h->hosts = NULL;
    h->targets = NULL;
    if (h->ring) drop_ring(h);   /* nothing queued: the caller cancelled what was in flight */
}
