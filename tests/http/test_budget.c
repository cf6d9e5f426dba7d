/* test_budget.c — a node's memory budget (src/server/budget.h) over real
 * HTTP, on servers the test starts itself (own_server.h):
 *   - bodies: node m0 has memory_mb 512, so a body budget of 128 MiB (a
 *     quarter). 20 clients send 60 MiB bodies at once (Expect:
 *     100-continue, as curl does for large bodies). Each accepted one
 *     pauses after its first MiB until every other has had its verdict,
 *     so what the node admits does not depend on timing: exactly 2 (2 x
 *     60 MiB fit in 128, 3 do not), the 18 others get 503 with
 *     Retry-After and a JSON error naming body_budget_mb. While the 2
 *     hold the budget, a client that sends its body without asking (no
 *     Expect) gets its 503 after the node has read and dropped the body,
 *     not a reset, and so does a chunked body that outgrows what is left.
 *     Then the 2 finish with 200. The server's peak RSS (VmHWM of its
 *     process) stays under memory_mb (Release; under ASan its shadow and
 *     quarantine are not the server's, so it is only printed);
 *   - connections: about 1 100 idle connections (the test raises its own
 *     open-file limit to the hard one and skips when that is too low):
 *     on a node with the defaults a normal request still succeeds; on a
 *     node with max_connections 1000 a new client gets 503 with
 *     Retry-After (never a reset) until the idle ones go, then 200; on a
 *     node with idle_timeout_s 1 the node closes them all itself and then
 *     serves. Figures (RSS per idle connection) are printed. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "flowgate/common.h"
#include "own_server.h"

#define CLIENTS 20
#define BODY_MB 60
#define MEMORY_MB 512
#define FIRST_BYTES ((curl_off_t)1 << 20)   /* sent before an accepted client pauses */
#define IDLE 1100
#define CAP 1000

#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ASAN 1
#else
#define UNDER_ASAN 0
#endif

static struct {
    own_server mem, conns;
    char mem_url[128];
    char conn_url[3][128];  /* wide (defaults), narrow (cap 1000), brief (idle 1 s) */
    char *body;             /* 60 MiB: a small PNG and padding */
    size_t len;
} g;

static int setup(void **state)
{
    (void)state;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    /* The servers inherit it (and raise their own to the hard limit). */
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    char profile[256];
    snprintf(profile, sizeof profile, "{\"max_body_mb\": 64, \"nodes\": [{\"name\": \"m0\", "
             "\"workers\": 2, \"memory_mb\": %d}]}\n", MEMORY_MB);
    if (own_server_start(&g.mem, "budget-mem", profile) != 0 ||
        own_server_start(&g.conns, "budget-conns",
                         "{\"nodes\": [{\"name\": \"wide\", \"workers\": 1},\n"
                         " {\"name\": \"narrow\", \"workers\": 1, \"max_connections\": 1000},\n"
                         " {\"name\": \"brief\", \"workers\": 1, \"max_connections\": 1000, "
                         "\"idle_timeout_s\": 1}]}\n") != 0)
        return -1;
    own_server_url(&g.mem, 0, g.mem_url, sizeof g.mem_url);
    for (int i = 0; i < 3; i++) own_server_url(&g.conns, i, g.conn_url[i], sizeof g.conn_url[i]);

    char *b64 = own_png_b64(3);
    if (!b64) return -1;
    g.len = (size_t)BODY_MB << 20;
    g.body = malloc(g.len + 1);
    int head = snprintf(g.body, g.len, "{\"img_b64\":\"%s\",\"pad\":\"", b64);
    free(b64);
    memset(g.body + head, 'a', g.len - (size_t)head - 2);
    memcpy(g.body + g.len - 2, "\"}", 3);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    int a = own_server_stop(&g.mem), b = own_server_stop(&g.conns);
    free(g.body);
    curl_global_cleanup();
    return a == 0 && b == 0 ? 0 : -1;
}

static double num(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!cJSON_IsNumber(v)) fprintf(stderr, "no number \"%s\"\n", key);
    assert_true(cJSON_IsNumber(v));
    return v->valuedouble;
}

static double stat_of(const char *url, const char *key)
{
    cJSON *s = own_get_json(url, "/stats");
    assert_non_null(s);
    double v = num(s, key);
    cJSON_Delete(s);
    return v;
}

/* A 503 of the budget: Retry-After, and a one-line JSON error naming it. */
static void assert_busy(const own_reply *o, const char *budget)
{
    assert_int_equal(o->r.curl_rc, CURLE_OK);
    assert_int_equal(o->r.status, 503);
    assert_string_equal(o->retry_after, "1");
    cJSON *res = o->r.body ? cJSON_Parse(o->r.body) : NULL;
    assert_non_null(res);
    assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(res, "status")), "error");
    const char *msg = cJSON_GetStringValue(cJSON_GetObjectItem(res, "message"));
    assert_non_null(msg);
    assert_non_null(strstr(msg, budget));
    assert_null(strchr(msg, '\n'));
    cJSON_Delete(res);
}

/* --- bodies --- */

typedef struct client {
    CURL *h;
    own_reply o;
    struct curl_slist *hdrs;
    curl_off_t sent;
    int hold;               /* pause after FIRST_BYTES until the gate opens */
    int paused, done;
} client;

static int gate_open;

static size_t read_body(char *buf, size_t size, size_t n, void *ud)
{
    client *c = ud;
    if (c->hold && !gate_open && c->sent >= FIRST_BYTES) {
        c->paused = 1;
        return CURL_READFUNC_PAUSE;
    }
    size_t want = size * n, left = g.len - (size_t)c->sent;
    if (want > left) want = left;
    memcpy(buf, g.body + c->sent, want);
    c->sent += (curl_off_t)want;
    return want;
}

static void client_start(CURLM *m, client *c, const char *url)
{
    memset(c, 0, sizeof *c);
    c->hold = 1;
    c->h = http_handle("POST", url, &c->o.r);
    curl_easy_setopt(c->h, CURLOPT_HEADERFUNCTION, own_header_cb);
    curl_easy_setopt(c->h, CURLOPT_HEADERDATA, &c->o);
    curl_easy_setopt(c->h, CURLOPT_POST, 1L);
    curl_easy_setopt(c->h, CURLOPT_READFUNCTION, read_body);
    curl_easy_setopt(c->h, CURLOPT_READDATA, c);
    curl_easy_setopt(c->h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)g.len);
    /* Wait for the node's verdict however busy the host is. */
    curl_easy_setopt(c->h, CURLOPT_EXPECT_100_TIMEOUT_MS, 120000L);
    curl_easy_setopt(c->h, CURLOPT_TIMEOUT, 300L);
    curl_easy_setopt(c->h, CURLOPT_PRIVATE, c);
    c->hdrs = curl_slist_append(NULL, "Content-Type: application/json");
    c->hdrs = curl_slist_append(c->hdrs, "Expect: 100-continue");
    curl_easy_setopt(c->h, CURLOPT_HTTPHEADER, c->hdrs);
    curl_multi_add_handle(m, c->h);
}

/* Runs the multi until every client is done or paused. */
static void run_until_settled(CURLM *m, client *cs, int n)
{
    for (;;) {
        int running, left;
        curl_multi_perform(m, &running);
        CURLMsg *msg;
        while ((msg = curl_multi_info_read(m, &left)))
            if (msg->msg == CURLMSG_DONE) {
                client *c;
                curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&c);
                c->o.r.curl_rc = msg->data.result;
                curl_easy_getinfo(c->h, CURLINFO_RESPONSE_CODE, &c->o.r.status);
                c->done = 1;
            }
        int settled = 0;
        for (int i = 0; i < n; i++) settled += cs[i].done || cs[i].paused;
        if (settled == n) return;
        curl_multi_poll(m, NULL, 0, 100, NULL);
    }
}

static void client_end(CURLM *m, client *c)
{
    curl_multi_remove_handle(m, c->h);
    curl_easy_cleanup(c->h);
    curl_slist_free_all(c->hdrs);
    http_resp_free(&c->o.r);
}

/* Posts len bytes of the body chunked (no Content-Length, no Expect). */
static void post_chunked(const char *url, size_t len, own_reply *o)
{
    client c;
    memset(&c, 0, sizeof c);
    c.sent = (curl_off_t)(g.len - len);     /* read_body sends the tail */
    memset(o, 0, sizeof *o);
    CURL *h = http_handle("POST", url, &o->r);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, own_header_cb);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, o);
    curl_easy_setopt(h, CURLOPT_POST, 1L);
    curl_easy_setopt(h, CURLOPT_READFUNCTION, read_body);
    curl_easy_setopt(h, CURLOPT_READDATA, &c);
    struct curl_slist *hdrs = curl_slist_append(NULL, "Transfer-Encoding: chunked");
    hdrs = curl_slist_append(hdrs, "Expect:");
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
    http_perform(h, &o->r);
    curl_slist_free_all(hdrs);
}

static void test_bodies_over_budget(void **state)
{
    (void)state;
    char url[256];
    snprintf(url, sizeof url, "%s/invoke/adult", g.mem_url);
    long hwm0 = own_server_status_kb(&g.mem, "VmHWM");
    assert_true(stat_of(g.mem_url, "body_budget_bytes") == (MEMORY_MB / 4) * 1048576.0);

    CURLM *m = curl_multi_init();
    static client cs[CLIENTS];
    gate_open = 0;
    for (int i = 0; i < CLIENTS; i++) client_start(m, &cs[i], url);
    run_until_settled(m, cs, CLIENTS);
    int accepted = 0, busy = 0;
    for (int i = 0; i < CLIENTS; i++) {
        if (cs[i].paused && !cs[i].done) {
            accepted++;
            continue;
        }
        assert_busy(&cs[i].o, "over body_budget_mb");
        assert_true(cs[i].sent == 0);       /* refused before a byte was sent */
        busy++;
    }
    printf("%d x %d MiB at once: %d admitted, %d got 503 + Retry-After\n", CLIENTS, BODY_MB,
           accepted, busy);
    assert_int_equal(accepted, 2);
    assert_int_equal(busy, CLIENTS - 2);
    assert_true(stat_of(g.mem_url, "body_bytes_held") == 2.0 * (double)g.len);

    /* While the 2 hold the budget: a client that does not ask first gets
     * its 503 after its body was drained, and so does a chunked body. */
    own_reply o;
    own_request("POST", g.mem_url, "/invoke/adult", g.body, 0, &o);   /* no Expect */
    assert_busy(&o, "over body_budget_mb");
    http_resp_free(&o.r);
    post_chunked(url, (size_t)20 << 20, &o);
    assert_busy(&o, "a chunked body of 20971520 bytes did not fit");
    http_resp_free(&o.r);

    /* Then the 2 send the rest and are served. */
    gate_open = 1;
    for (int i = 0; i < CLIENTS; i++)
        if (!cs[i].done) curl_easy_pause(cs[i].h, CURLPAUSE_CONT);
    for (int i = 0; i < CLIENTS; i++) cs[i].paused = 0;
    run_until_settled(m, cs, CLIENTS);
    int ok = 0;
    for (int i = 0; i < CLIENTS; i++) {
        if (cs[i].o.r.status == 200) {
            cJSON *res = cJSON_Parse(cs[i].o.r.body);
            assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(res, "status")),
                                "success");
            cJSON_Delete(res);
            ok++;
        }
        client_end(m, &cs[i]);
    }
    curl_multi_cleanup(m);
    assert_int_equal(ok, 2);

    /* Given back once MHD is done with each request, which may be a
     * moment after the client has its answer (30 s: room, not a claim). */
    double held = 1;
    for (int i = 0; i < 300 && held > 0; i++) {
        held = stat_of(g.mem_url, "body_bytes_held");
        if (held > 0) usleep(100 * 1000);
    }
    assert_true(held == 0);
    cJSON *s = own_get_json(g.mem_url, "/stats");
    assert_non_null(s);
    assert_true(num(s, "body_bytes_peak") <= num(s, "body_budget_bytes"));
    assert_true(num(s, "bodies_refused") == CLIENTS - 2 + 2);
    cJSON_Delete(s);
    long hwm = own_server_status_kb(&g.mem, "VmHWM");
    printf("server VmHWM: %ld kB before, %ld kB after %d x %d MiB (memory_mb %d)%s\n", hwm0, hwm,
           CLIENTS, BODY_MB, MEMORY_MB, UNDER_ASAN ? " (ASan: not checked)" : "");
    assert_true(hwm > 0);
    if (!UNDER_ASAN) assert_true(hwm < MEMORY_MB * 1024L);
}

/* --- connections --- */

/* Opens n idle TCP connections to url's port; the fds. */
static int *open_idle(const char *url, int n)
{
    const char *colon = strrchr(url, ':');
    assert_non_null(colon);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(colon + 1))};
    inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
    int *fds = calloc((size_t)n, sizeof *fds);
    for (int i = 0; i < n; i++) {
        fds[i] = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fds[i] < 0) fail_msg("socket %d: %s", i, strerror(errno));
        if (connect(fds[i], (struct sockaddr *)&sa, sizeof sa) != 0)
            fail_msg("connect %d: %s", i, strerror(errno));
    }
    return fds;
}

static void close_all(int *fds, int n)
{
    for (int i = 0; i < n; i++) close(fds[i]);
    free(fds);
}

/* Waits (up to 120 s: room for a busy machine starting 1 100 threads)
 * until node url counts at least `least` (or, least < 0, at most -least)
 * open connections; returns the count. */
static double await_connections(const char *url, double least)
{
    double open = 0;
    for (int i = 0; i < 1200; i++) {
        open = stat_of(url, "connections");
        if (least >= 0 ? open >= least : open <= -least) break;
        usleep(100 * 1000);
    }
    return open;
}

static int enough_files(void)
{
    struct rlimit rl;
    getrlimit(RLIMIT_NOFILE, &rl);
    if (rl.rlim_cur >= 4096) return 1;
    printf("skipped: the open-file limit is %llu (hard); %d idle connections need about 4096\n",
           (unsigned long long)rl.rlim_cur, IDLE);
    return 0;
}

static void test_idle_connections_default(void **state)
{
    (void)state;
    if (!enough_files()) skip();
    const char *url = g.conn_url[0];
    long rss0 = own_server_status_kb(&g.conns, "VmRSS");
    int *fds = open_idle(url, IDLE);
    double open = await_connections(url, IDLE);
    long rss = own_server_status_kb(&g.conns, "VmRSS");
    printf("%d idle connections: node counts %.0f open (max_connections %.0f); server VmRSS "
           "%ld -> %ld kB (%.1f KiB each)\n", IDLE, open, stat_of(url, "max_connections"), rss0,
           rss, (double)(rss - rss0) / IDLE);
    assert_true(open >= IDLE);
    own_reply o;
    own_request("POST", url, "/invoke/translate", "{\"text\":\"hola\"}", 0, &o);
    assert_int_equal(o.r.status, 200);
    http_resp_free(&o.r);
    close_all(fds, IDLE);
    assert_true(await_connections(url, -1) <= 1);
}

/* GET / on url until it answers `status` (up to 120 s: room for a busy
 * machine accepting 1 100 connections); the answers before it that were
 * 503s of the connection cap are added to *refused. */
static void await_status(const char *url, long status, int *refused, own_reply *o)
{
    for (int i = 0; i < 1200; i++) {
        own_request("GET", url, "/", NULL, 0, o);
        if (o->r.status == status) return;
        if (o->r.status == 503) (*refused)++;
        http_resp_free(&o->r);
        usleep(100 * 1000);
    }
    fail_msg("%s never answered %ld", url, status);
}

static void test_idle_connections_over_cap(void **state)
{
    (void)state;
    if (!enough_files()) skip();
    const char *url = g.conn_url[1];
    int refused = 0;
    int *fds = open_idle(url, IDLE);
    /* Once the idle ones fill the cap, a new client is told, not reset;
     * with or without a body. */
    own_reply o;
    await_status(url, 503, &refused, &o);
    refused++;
    assert_busy(&o, "over max_connections: more than 1000 connections are open");
    http_resp_free(&o.r);
    own_request("POST", url, "/invoke/translate", "{\"text\":\"hola\"}", 0, &o);
    assert_busy(&o, "over max_connections");
    refused++;
    http_resp_free(&o.r);
    close_all(fds, IDLE);
    await_status(url, 200, &refused, &o);
    http_resp_free(&o.r);
    own_request("POST", url, "/invoke/translate", "{\"text\":\"hola\"}", 0, &o);
    assert_int_equal(o.r.status, 200);
    http_resp_free(&o.r);
    cJSON *s = own_get_json(url, "/stats");
    assert_non_null(s);
    printf("narrow: connections_peak %.0f, connections_refused %.0f\n",
           num(s, "connections_peak"), num(s, "connections_refused"));
    assert_true(num(s, "connections_refused") == refused);
    assert_true(num(s, "connections_peak") > CAP);
    assert_true(num(s, "max_connections") == CAP);
    cJSON_Delete(s);
}

/* 1 once the peer of every fd has closed (recv gives 0 or an error). */
static int all_closed(const int *fds, int n, int *closed)
{
    for (int i = 0; i < n; i++) {
        if (closed[i]) continue;
        char c;
        ssize_t r = recv(fds[i], &c, 1, MSG_DONTWAIT);
        if (r == 0 || (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK)) closed[i] = 1;
        else return 0;
    }
    return 1;
}

static void test_idle_connections_time_out(void **state)
{
    (void)state;
    if (!enough_files()) skip();
    const char *url = g.conn_url[2];
    int *fds = open_idle(url, IDLE);
    int *closed = calloc(IDLE, sizeof *closed);
    /* idle_timeout_s is 1: the node closes every one of them itself (up
     * to 120 s: room for a busy machine, not a claim on the timeout). */
    int done = 0;
    for (int i = 0; i < 1200 && !(done = all_closed(fds, IDLE, closed)); i++)
        usleep(100 * 1000);
    assert_true(done);
    own_reply o;
    own_request("POST", url, "/invoke/translate", "{\"text\":\"hola\"}", 0, &o);
    assert_int_equal(o.r.status, 200);
    http_resp_free(&o.r);
    free(closed);
    close_all(fds, IDLE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bodies_over_budget),
        cmocka_unit_test(test_idle_connections_default),
        cmocka_unit_test(test_idle_connections_over_cap),
        cmocka_unit_test(test_idle_connections_time_out),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
