/* test_h1.c — the driver's own HTTP/1.1 transport (src/driver/h1.c)
 * against a scripted raw-socket server on 127.0.0.1: one thread, which
 * answers the n-th request with the n-th canned reply (or holds it), and
 * records what it was sent. The outcomes depend on the bytes, never on
 * timing (the one timeout case asserts a lower bound only):
 *
 *   - the request's bytes (line, Host, Content-Type unless the endpoint
 *     sets one, the endpoint's headers, length, body) and keep-alive reuse;
 *   - a kept-alive connection the server closed is resent on a fresh one;
 *   - chunked bodies, bodies that end with the connection, garbage,
 *     truncation, a body past its limit, Retry-After in both forms;
 *   - refused connections, timeouts, cancelling, and the URLs left to
 *     libcurl (https, a proxy, signing);
 *   - every case both with a send per request and batched (io_uring), and
 *     batched, a send that waits for the flush, cancelled or expired
 *     while it waits. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "flowgate/common.h"
#include "driver/h1.h"
#include "../loopback.h"

#define MAX_REPLIES 8

/* ---- the scripted server ------------------------------------------------ */

typedef struct script {
    const char *reply[MAX_REPLIES];   /* NULL: hold the request unanswered */
    int close_after[MAX_REPLIES];     /* close the connection after this reply */
} script;

static struct {
    int listen_fd, port;
    pthread_t thread;
    script sc;
    int accepts, requests;
    char last[8192];
    size_t last_len;
    volatile int stop;
} srv;

/* One request from fd into srv.last: headers, then Content-Length bytes. 0
 * read, -1 the connection ended. */
static int read_request(int fd)
{
    size_t len = 0;
    char *end = NULL;
    while (!end) {
        struct pollfd p = {fd, POLLIN, 0};
        if (srv.stop) return -1;
        if (poll(&p, 1, 50) <= 0) continue;
        ssize_t n = read(fd, srv.last + len, sizeof srv.last - 1 - len);
        if (n <= 0) return -1;
        len += (size_t)n;
        srv.last[len] = 0;
        end = strstr(srv.last, "\r\n\r\n");
    }
    const char *cl = strstr(srv.last, "Content-Length: ");
    size_t want = (size_t)(end + 4 - srv.last) + (cl ? strtoul(cl + 16, NULL, 10) : 0);
    while (len < want) {
        ssize_t n = read(fd, srv.last + len, sizeof srv.last - 1 - len);
        if (n <= 0) return -1;
        len += (size_t)n;
    }
    srv.last[len] = 0;
    srv.last_len = len;
    return 0;
}

static void *serve(void *arg)
{
    (void)arg;
    while (!srv.stop) {
        struct pollfd p = {srv.listen_fd, POLLIN, 0};
        if (poll(&p, 1, 50) <= 0) continue;
        int fd = accept(srv.listen_fd, NULL, NULL);
        if (fd < 0) continue;
        srv.accepts++;
        while (read_request(fd) == 0) {
            int i = srv.requests++;
            const char *reply = i < MAX_REPLIES ? srv.sc.reply[i] : NULL;
            if (!reply) {   /* hold it until the test ends */
                while (!srv.stop) usleep(10000);
                break;
            }
            /* replies are small: one write (cmocka's asserts are the main thread's) */
            if (write(fd, reply, strlen(reply)) != (ssize_t)strlen(reply)) break;
            if (srv.sc.close_after[i]) break;
        }
        close(fd);
    }
    return NULL;
}

static void server_start(const script *sc)
{
    memset(&srv, 0, sizeof srv);
    srv.sc = *sc;
    srv.listen_fd = loopback_listen(16, &srv.port);
    assert_true(srv.listen_fd >= 0);
    assert_int_equal(pthread_create(&srv.thread, NULL, serve, NULL), 0);
}

static void server_stop(void)
{
    srv.stop = 1;
    pthread_join(srv.thread, NULL);
    close(srv.listen_fd);
}

/* ---- the client side ----------------------------------------------------- */

typedef struct client {
    CURLM *multi;
    fg_evloop loop;
    fg_h1 h1;
    fg_http_body resp;
    fg_h1_req req;
} client;

/* The group under way sends batched (fg_h1_batch_sends) or directly. */
static int batching;

static void client_open(client *c)
{
    memset(c, 0, sizeof *c);
    c->multi = curl_multi_init();
    assert_non_null(c->multi);
    assert_int_equal(fg_evloop_init(&c->loop, c->multi), 0);
    fg_h1_init(&c->h1, &c->loop, 16);
    if (batching) assert_true(fg_h1_batch_sends(&c->h1));
}

static void client_close(client *c)
{
    fg_h1_free(&c->h1);
    curl_multi_cleanup(c->multi);
    fg_evloop_close(&c->loop);
    fg_http_body_free(&c->resp);
}

static fg_h1_target *target(client *c, const char *path, const fg_endpoint_opts *o)
{
    char url[256];
    snprintf(url, sizeof url, "http://127.0.0.1:%d%s", srv.port, path);
    fg_h1_target *t = fg_h1_target_new(&c->h1, url, o);
    assert_non_null(t);
    return t;
}

static fg_h1_req *wait_done(client *c);

/* Sends body and runs the loop until the request is done (or 10 s). */
static fg_h1_req *exchange(client *c, const fg_h1_target *t, const char *body, size_t limit,
                           double timeout_ms)
{
    fg_http_body_free(&c->resp);
    c->resp.limit = limit;
    fg_h1_send(&c->h1, t, &c->req, body, strlen(body), &c->resp, fg_now_mono_ms(), timeout_ms);
    return wait_done(c);
}

/* Runs the loop until the request is done (or 10 s). */
static fg_h1_req *wait_done(client *c)
{
    double give_up = fg_now_mono_ms() + 10000;
    fg_h1_req *done;
    while (!(done = fg_h1_next_done(&c->h1))) {
        double now = fg_now_mono_ms();
        assert_true(now < give_up);
        fg_h1_expire(&c->h1, now);
        if ((done = fg_h1_next_done(&c->h1))) break;
        fg_h1_flush(&c->h1, now);   /* as the engine does before it waits */
        fg_evloop_wait(&c->loop, fmin(now + 50, fg_h1_next_deadline(&c->h1)));
    }
    assert_ptr_equal(done, &c->req);
    return done;
}

static const char OK_REPLY[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";

/* The endpoint's headers, "Name: value\0" each, from a NULL-ended list. */
static void opts_with_headers(fg_endpoint_opts *o, const char *const *headers)
{
    memset(o, 0, sizeof *o);
    size_t at = 0;
    for (; headers[o->n_headers]; o->n_headers++) {
        size_t n = strlen(headers[o->n_headers]) + 1;
        memcpy(o->headers + at, headers[o->n_headers], n);
        at += n;
    }
}

static void opts_with_header(fg_endpoint_opts *o, const char *header)
{
    opts_with_headers(o, (const char *const[]){header, NULL});
}

/* ---- the cases ------------------------------------------------------------ */

static void test_request_bytes_and_keepalive(void **state)
{
    (void)state;
    script sc = {{OK_REPLY, OK_REPLY, OK_REPLY}, {0}};
    server_start(&sc);
    client c;
    client_open(&c);
    fg_endpoint_opts o;
    opts_with_header(&o, "X-Key: secret");
    const fg_h1_target *t = target(&c, "/invoke/fn?a=1", &o);
    for (int i = 0; i < 3; i++) {
        fg_h1_req *r = exchange(&c, t, "{\"a\":1}", 0, 5000);
        assert_int_equal(r->outcome, FG_H1_COMPLETE);
        assert_int_equal(r->status, 200);
        assert_string_equal(c.resp.data, "ok");
        assert_true(r->retry_after_ms < 0);
    }
    /* Three requests, one connection. */
    assert_int_equal(srv.requests, 3);
    assert_int_equal(srv.accepts, 1);
    char host[64];
    snprintf(host, sizeof host, "\r\nHost: 127.0.0.1:%d\r\n", srv.port);
    assert_true(!strncmp(srv.last, "POST /invoke/fn?a=1 HTTP/1.1\r\n", 30));
    assert_non_null(strstr(srv.last, host));
    assert_non_null(strstr(srv.last, "\r\nContent-Type: application/json\r\n"));
    assert_non_null(strstr(srv.last, "\r\nX-Key: secret\r\n"));
    assert_non_null(strstr(srv.last, "\r\nContent-Length: 7\r\n\r\n{\"a\":1}"));
    assert_int_equal(srv.last_len, strlen(srv.last));
    client_close(&c);
    server_stop();
}

/* One request with the endpoint's headers; srv.last keeps what was sent. */
static void request_with_headers(const char *const *headers)
{
    script sc = {{OK_REPLY}, {1}};
    server_start(&sc);
    client c;
    client_open(&c);
    fg_endpoint_opts o;
    opts_with_headers(&o, headers);
    assert_int_equal(exchange(&c, target(&c, "/", &o), "{}", 0, 5000)->outcome, FG_H1_COMPLETE);
    client_close(&c);
    server_stop();
}

static void test_endpoint_content_type_wins(void **state)
{
    (void)state;
    request_with_headers((const char *const[]){"Content-Type: application/vnd.x+json", NULL});
    assert_null(strstr(srv.last, "application/json"));
    assert_non_null(strstr(srv.last, "\r\nContent-Type: application/vnd.x+json\r\n"));
}

/* libcurl's conventions for the endpoint's headers hold on this path too:
 * "Name;" is sent empty, "Name:" removes a header (the default
 * Content-Type here), and the endpoint's Host replaces the URL's. */
static void test_header_conventions(void **state)
{
    (void)state;
    request_with_headers((const char *const[]){"X-Empty;", "Content-Type:",
                                               "Host: api.example.test", "X-Kept: 1", NULL});
    assert_non_null(strstr(srv.last, "\r\nX-Empty:\r\n"));
    assert_null(strstr(srv.last, "Content-Type"));
    assert_non_null(strstr(srv.last, "\r\nHost: api.example.test\r\n"));
    assert_null(strstr(srv.last, "Host: 127.0.0.1"));
    assert_non_null(strstr(srv.last, "\r\nX-Kept: 1\r\n"));
}

/* An interim 100 is not the answer; a Retry-After with trailing blanks
 * still reads; a URL naming localhost reaches a server listening on
 * 127.0.0.1 only (where the resolver gives ::1 first, as many do, the
 * fallback to the next address is what makes it pass; where it gives
 * 127.0.0.1 alone, the name is resolved once and used). */
static void test_interim_blanks_and_addresses(void **state)
{
    (void)state;
    script sc = {{"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
                  "HTTP/1.1 429 Slow Down\r\nRetry-After: 3 \r\nContent-Length: 0\r\n\r\n"},
                 {0}};
    server_start(&sc);
    client c;
    client_open(&c);
    char url[128];
    snprintf(url, sizeof url, "http://localhost:%d/", srv.port);
    fg_h1_target *t = fg_h1_target_new(&c.h1, url, NULL);
    assert_non_null(t);
    fg_h1_req *r = exchange(&c, t, "{}", 0, 5000);
    assert_int_equal(r->outcome, FG_H1_COMPLETE);
    assert_int_equal(r->status, 200);
    assert_string_equal(c.resp.data, "ok");
    r = exchange(&c, t, "{}", 0, 5000);
    assert_int_equal(r->status, 429);
    assert_true(fabs(r->retry_after_ms - 3000) < 1e-9);
    client_close(&c);
    server_stop();
}

/* The server answers with keep-alive, then closes: the next request finds
 * the connection dead and goes again on a fresh one, not as a failure. */
static void test_dead_keepalive_is_resent(void **state)
{
    (void)state;
    script sc = {{OK_REPLY, OK_REPLY}, {1, 1}};
    server_start(&sc);
    client c;
    client_open(&c);
    const fg_h1_target *t = target(&c, "/", NULL);
    assert_int_equal(exchange(&c, t, "{}", 0, 5000)->outcome, FG_H1_COMPLETE);
    usleep(50000);   /* the close has reached the client's socket */
    fg_h1_req *r = exchange(&c, t, "{}", 0, 5000);
    assert_int_equal(r->outcome, FG_H1_COMPLETE);
    assert_int_equal(r->status, 200);
    assert_int_equal(srv.accepts, 2);
    assert_int_equal(srv.requests, 2);
    client_close(&c);
    server_stop();
}

static void test_chunked_and_until_close(void **state)
{
    (void)state;
    script sc = {{"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n",
                  "HTTP/1.0 200 OK\r\n\r\nhello"},
                 {0, 1}};
    server_start(&sc);
    client c;
    client_open(&c);
    const fg_h1_target *t = target(&c, "/", NULL);
    fg_h1_req *r = exchange(&c, t, "{}", 0, 5000);
    assert_int_equal(r->outcome, FG_H1_COMPLETE);
    assert_string_equal(c.resp.data, "abcde");
    r = exchange(&c, t, "{}", 0, 5000);
    assert_int_equal(r->outcome, FG_H1_COMPLETE);
    assert_string_equal(c.resp.data, "hello");
    client_close(&c);
    server_stop();
}

static void test_garbage_truncation_overflow(void **state)
{
    (void)state;
    script sc = {{"garbage, not http\r\n\r\n",
                  "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort",
                  "HTTP/1.1 200 OK\r\nContent-Length: 20\r\n\r\n01234567890123456789"},
                 {1, 1, 1}};
    server_start(&sc);
    client c;
    client_open(&c);
    const fg_h1_target *t = target(&c, "/", NULL);
    fg_h1_req *r = exchange(&c, t, "{}", 0, 5000);
    assert_int_equal(r->outcome, FG_H1_BAD_REPLY);
    assert_non_null(r->why);
    r = exchange(&c, t, "{}", 0, 5000);
    assert_int_equal(r->outcome, FG_H1_BROKEN);
    assert_int_equal(r->status, 200);
    assert_true(r->partial);
    r = exchange(&c, t, "{}", 10, 5000);
    assert_int_equal(r->outcome, FG_H1_OVERFLOW);
    assert_true(c.resp.overflow);
    assert_int_equal(srv.requests, 3);
    client_close(&c);
    server_stop();
}

static void test_retry_after(void **state)
{
    (void)state;
    script sc = {{"HTTP/1.1 429 Too Many Requests\r\nretry-after: 2\r\nContent-Length: 0\r\n\r\n",
                  "HTTP/1.1 503 Unavailable\r\nRetry-After: Wed, 21 Oct 2015 07:28:00 GMT\r\n"
                  "Content-Length: 0\r\n\r\n",
                  "HTTP/1.1 200 OK\r\nRetry-After: 5\r\nContent-Length: 0\r\n\r\n",
                  "HTTP/1.1 503 Unavailable\r\nContent-Length: 0\r\n\r\n"},
                 {0}};
    server_start(&sc);
    client c;
    client_open(&c);
    const fg_h1_target *t = target(&c, "/", NULL);
    fg_h1_req *r = exchange(&c, t, "{}", 0, 5000);
    assert_int_equal(r->status, 429);
    assert_true(fabs(r->retry_after_ms - 2000) < 1e-9);
    r = exchange(&c, t, "{}", 0, 5000);   /* a date already past: now */
    assert_int_equal(r->status, 503);
    assert_true(fabs(r->retry_after_ms) < 1e-9);
    r = exchange(&c, t, "{}", 0, 5000);   /* only a 429 or 503 asks to wait */
    assert_int_equal(r->status, 200);
    assert_true(r->retry_after_ms < 0);
    r = exchange(&c, t, "{}", 0, 5000);   /* no header: no wait given */
    assert_int_equal(r->status, 503);
    assert_true(r->retry_after_ms < 0);
    client_close(&c);
    server_stop();
}

static void test_timeout_and_cancel(void **state)
{
    (void)state;
    script sc = {{NULL}, {0}};
    server_start(&sc);
    client c;
    client_open(&c);
    const fg_h1_target *t = target(&c, "/", NULL);
    double t0 = fg_now_mono_ms();
    fg_h1_req *r = exchange(&c, t, "{}", 0, 200);
    assert_int_equal(r->outcome, FG_H1_TIMEOUT);
    assert_true(fg_now_mono_ms() - t0 >= 200);
    /* A request cancelled in flight is forgotten: nothing is done later. */
    fg_h1_send(&c.h1, t, &c.req, "{}", 2, &c.resp, fg_now_mono_ms(), 5000);
    fg_h1_cancel(&c.h1, &c.req);
    assert_true(isinf(fg_h1_next_deadline(&c.h1)));
    fg_evloop_wait(&c.loop, fg_now_mono_ms() + 20);
    assert_null(fg_h1_next_done(&c.h1));
    client_close(&c);
    server_stop();
}

/* Batched, a send on a kept-alive connection waits for the flush, which
 * stamps it; one cancelled or expired while it waits never goes out. (A
 * fresh connection's first request goes when connect() completes.) */
static void test_batched_send_waits_for_the_flush(void **state)
{
    (void)state;
    if (!batching) skip();
    script sc = {{OK_REPLY, OK_REPLY, OK_REPLY, OK_REPLY}, {0}};
    server_start(&sc);
    client c;
    client_open(&c);
    const fg_h1_target *t = target(&c, "/", NULL);
    assert_int_equal(exchange(&c, t, "{}", 0, 5000)->outcome, FG_H1_COMPLETE);
    /* Cancelled while queued. */
    fg_h1_send(&c.h1, t, &c.req, "{}", 2, &c.resp, fg_now_mono_ms(), 5000);
    fg_h1_cancel(&c.h1, &c.req);
    fg_h1_flush(&c.h1, fg_now_mono_ms());
    assert_null(fg_h1_next_done(&c.h1));
    assert_int_equal(exchange(&c, t, "{}", 0, 5000)->outcome, FG_H1_COMPLETE);
    /* Expired while queued: a timeout. */
    double now = fg_now_mono_ms();
    fg_h1_send(&c.h1, t, &c.req, "{}", 2, &c.resp, now, 1);
    fg_h1_expire(&c.h1, now + 2);
    fg_h1_req *r = fg_h1_next_done(&c.h1);
    assert_ptr_equal(r, &c.req);
    assert_int_equal(r->outcome, FG_H1_TIMEOUT);
    fg_h1_flush(&c.h1, now + 3);
    assert_int_equal(exchange(&c, t, "{}", 0, 5000)->outcome, FG_H1_COMPLETE);
    /* Queued on the kept connection, out at the flush, stamped by it (the
     * send call said a second earlier). */
    fg_http_body_free(&c.resp);
    now = fg_now_mono_ms();
    fg_h1_send(&c.h1, t, &c.req, "{}", 2, &c.resp, now - 1000, 6000);
    fg_h1_flush(&c.h1, now);
    r = wait_done(&c);
    assert_int_equal(r->outcome, FG_H1_COMPLETE);
    assert_true(r->sent_at == now);
    /* The server saw the four exchanged, neither of the two that waited. */
    assert_int_equal(srv.requests, 4);
    assert_int_equal(srv.accepts, 3);
    client_close(&c);
    server_stop();
}

/* An answer that is whole only when the loop reads it after its deadline
 * (the server answered; the driver was late to look) is a timeout, as
 * libcurl counts it. */
static void test_answer_read_after_the_deadline(void **state)
{
    (void)state;
    script sc = {{OK_REPLY, OK_REPLY}, {0}};
    server_start(&sc);
    client c;
    client_open(&c);
    const fg_h1_target *t = target(&c, "/", NULL);
    assert_int_equal(exchange(&c, t, "{}", 0, 5000)->outcome, FG_H1_COMPLETE);   /* kept alive */
    fg_http_body_free(&c.resp);
    double now = fg_now_mono_ms();
    fg_h1_send(&c.h1, t, &c.req, "{}", 2, &c.resp, now, 5);
    fg_h1_flush(&c.h1, now);
    usleep(50000);   /* the answer arrives; the deadline passes */
    fg_evloop_wait(&c.loop, fg_now_mono_ms() + 1000);   /* reads it */
    fg_h1_req *r = fg_h1_next_done(&c.h1);
    assert_ptr_equal(r, &c.req);
    assert_int_equal(r->outcome, FG_H1_TIMEOUT);
    assert_int_equal(srv.requests, 2);
    client_close(&c);
    server_stop();
}

static void test_refused(void **state)
{
    (void)state;
    script sc = {{NULL}, {0}};
    server_start(&sc);
    int port = srv.port;
    server_stop();   /* nothing listens there now */
    client c;
    client_open(&c);
    char url[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/", port);
    fg_h1_target *t = fg_h1_target_new(&c.h1, url, NULL);
    assert_non_null(t);
    fg_h1_req *r = exchange(&c, t, "{}", 0, 5000);
    assert_int_equal(r->outcome, FG_H1_NO_CONNECT);
    assert_int_equal(r->sys_errno, ECONNREFUSED);
    assert_false(r->partial);
    client_close(&c);
}

static void test_left_to_libcurl(void **state)
{
    (void)state;
    client c;
    client_open(&c);
    fg_endpoint_opts o;
    memset(&o, 0, sizeof o);
    assert_null(fg_h1_target_new(&c.h1, "https://127.0.0.1:1/", &o));
    assert_null(fg_h1_target_new(&c.h1, "not a url", &o));
    snprintf(o.proxy, sizeof o.proxy, "http://127.0.0.1:3128");
    assert_null(fg_h1_target_new(&c.h1, "http://127.0.0.1:1/", &o));
    memset(&o, 0, sizeof o);
    snprintf(o.aws_sigv4, sizeof o.aws_sigv4, "aws:amz:eu-west-1:lambda");
    assert_null(fg_h1_target_new(&c.h1, "http://127.0.0.1:1/", &o));
    memset(&o, 0, sizeof o);
    assert_non_null(fg_h1_target_new(&c.h1, "http://127.0.0.1:1/", &o));
    client_close(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_request_bytes_and_keepalive),
        cmocka_unit_test(test_endpoint_content_type_wins),
        cmocka_unit_test(test_header_conventions),
        cmocka_unit_test(test_interim_blanks_and_addresses),
        cmocka_unit_test(test_dead_keepalive_is_resent),
        cmocka_unit_test(test_chunked_and_until_close),
        cmocka_unit_test(test_garbage_truncation_overflow),
        cmocka_unit_test(test_retry_after),
        cmocka_unit_test(test_timeout_and_cancel),
        cmocka_unit_test(test_batched_send_waits_for_the_flush),
        cmocka_unit_test(test_answer_read_after_the_deadline),
        cmocka_unit_test(test_refused),
        cmocka_unit_test(test_left_to_libcurl),
    };
    batching = 0;
    int failed = cmocka_run_group_tests_name("h1, a send per request", tests, NULL, NULL);
    /* Batched where the kernel allows io_uring (not under a seccomp
     * profile that refuses it): said, not failed, when it does not. */
    fg_h1 probe;
    fg_h1_init(&probe, NULL, 0);
    batching = fg_h1_batch_sends(&probe);
    fg_h1_free(&probe);
    if (!batching) {
        printf("h1, batched sends: io_uring refused by this kernel, not run\n");
        return failed;
    }
    return failed + cmocka_run_group_tests_name("h1, batched sends", tests, NULL, NULL);
}
