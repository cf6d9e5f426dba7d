/* h1.h — the driver's plain HTTP/1.1 transport (h1.c), beside libcurl.
 *
 * For http:// endpoints with nothing libcurl must do per request (no
 * proxy, no TLS, no request signing), the engine sends through this: the
 * request head is built once per URL, a send is one sendmsg of head and
 * the shared body, the answer is parsed by http_parser. Anything else
 * (https, a proxy, AWS SigV4) goes through libcurl as before. Every
 * failure is a completion with its outcome, never a return code, so the
 * engine accounts for both transports in one place. */
#ifndef FLOWGATE_DRIVER_H1_H
#define FLOWGATE_DRIVER_H1_H
#include <stddef.h>

#include "flowgate/cluster.h"
#include "flowgate/evloop.h"
#include "flowgate/http_client.h"

typedef enum fg_h1_outcome {
    FG_H1_COMPLETE,     /* a whole response, whatever its status */
    FG_H1_TIMEOUT,      /* the deadline passed first */
    FG_H1_NO_CONNECT,   /* connect() failed: nothing reached the server */
    FG_H1_BROKEN,       /* the connection failed or closed before the answer was whole */
    FG_H1_BAD_REPLY,    /* not an HTTP response (why: the parser's reason) */
    FG_H1_OVERFLOW,     /* the body passed its limit (fg_http_body.limit) */
    FG_H1_CLIENT,       /* the driver's own failure: socket() (sys_errno), no memory */
} fg_h1_outcome;

typedef struct fg_h1_target fg_h1_target;   /* one URL: its host's pool, its request head */
typedef struct fg_h1_conn fg_h1_conn;
typedef struct fg_h1_host fg_h1_host;

typedef struct fg_h1_req {
    struct fg_h1_req *prev, *next;   /* in flight (by deadline), or done */
    fg_h1_conn *conn;
    const fg_h1_target *target;
    const char *body;                /* not owned: the caller's until done */
    size_t body_len;
    fg_http_body *resp;
    double deadline;                 /* monotonic ms */
    double sent_at;                  /* when its bytes went out (monotonic ms): the send
                                        call's time, or its batch's flush */
    int list;                        /* 0 none, 1 in flight, 2 done */
    int resent;                      /* sent again on a fresh connection once */
    int addr_tries;                  /* the host's other addresses tried */
    /* The result, once done. */
    fg_h1_outcome outcome;
    int status;                      /* 0: no status line arrived */
    int partial;                     /* some of the answer arrived */
    int sys_errno;
    double retry_after_ms;           /* a 429/503's Retry-After; -1 none */
    const char *why;                 /* BAD_REPLY, BROKEN: static text, or NULL */
} fg_h1_req;

struct io_uring;

typedef struct fg_h1 {
    fg_evloop *loop;
    fg_h1_host *hosts;
    fg_h1_target *targets;
    fg_h1_req *inflight, *inflight_tail, *done, *done_tail;
    long idle, max_idle;             /* kept-alive connections: now, at most */
    fg_h1_conn *closed;              /* freed outside the loop's dispatch (fg_h1_expire) */
    struct io_uring *ring;           /* batched sends (fg_h1_batch_sends); NULL: direct */
    fg_h1_conn *queued, *queued_tail;   /* sends waiting for fg_h1_flush */
    unsigned long long ring_sends;   /* sends that went through the ring */
} fg_h1;

void fg_h1_init(fg_h1 *h, fg_evloop *loop, long max_idle);
/* Batched sends from now on: a send then waits in a queue, and
 * fg_h1_flush puts the whole queue on the wire in one system call
 * (io_uring). Returns whether batching is on: 0 when the kernel (before
 * 5.1, or a seccomp profile such as Docker's default) refuses io_uring,
 * and sends stay direct. Off is the default; nothing turns it off again. Why batch: a send wakes the
 * server's thread, which on a busy machine takes the driver's core at
 * once; with a sendmsg per request the driver sits preempted with the
 * rest of the turn's requests unsent (README, "The driver as a load
 * generator"). */
int fg_h1_batch_sends(fg_h1 *h);
/* Sends what is queued; the engine calls it before it waits. now: the
 * clock (monotonic ms), each request's sent_at. */
void fg_h1_flush(fg_h1 *h, double now);
/* How the sends went: "batched" (some through the ring, which lasted;
 * a fresh connection's first request always goes direct), "mixed" (the
 * ring failed mid-run: direct after), "direct" (none through a ring:
 * batching off or refused, or every request on a fresh connection). */
const char *fg_h1_sends(const fg_h1 *h);
/* Can this transport carry url (plain http://, no proxy, no signing)? */
int fg_h1_eligible(const char *url, const fg_endpoint_opts *o);
/* The target for url, or NULL when libcurl must carry it (not http://, a
 * proxy or signing configured, a host that does not resolve: libcurl then
 * says why in its own words). The client owns it. */
fg_h1_target *fg_h1_target_new(fg_h1 *h, const char *url, const fg_endpoint_opts *o);
/* Sends body (len bytes, kept by the caller until done) as a POST, at
 * once or, batching, at the next fg_h1_flush; the answer's body goes to
 * resp. now: the send time the caller read (monotonic ms), the deadline
 * counts from it. Always accepted: a failure is a completion. */
void fg_h1_send(fg_h1 *h, const fg_h1_target *t, fg_h1_req *r, const char *body, size_t len,
                fg_http_body *resp, double now, double timeout_ms);
/* The next finished request, or NULL. */
fg_h1_req *fg_h1_next_done(fg_h1 *h);
/* The earliest deadline in flight (monotonic ms), INFINITY: none. */
double fg_h1_next_deadline(const fg_h1 *h);
/* Finishes what passed its deadline by now as FG_H1_TIMEOUT; frees the
 * connections closed since the last call. Not from inside a dispatch. */
void fg_h1_expire(fg_h1 *h, double now);
/* Forgets r wherever it is; its connection, if any, is closed. */
void fg_h1_cancel(fg_h1 *h, fg_h1_req *r);
/* Closes every connection and frees the targets (requests in flight are
 * the caller's to cancel first). */
void fg_h1_free(fg_h1 *h);

#endif
