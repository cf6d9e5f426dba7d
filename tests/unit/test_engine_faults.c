/* test_engine_faults.c — the engine against a function server that
 * misbehaves on purpose: a raw-socket server on 127.0.0.1 (one thread, one
 * request per connection, "Connection: close") whose replies each test
 * sets. It answers the recognizer's functions with canned replies, so the
 * outcomes below depend on what was sent back, never on timing:
 *
 *   - warm-up by state: cold starts keep it going until K replies in a row
 *     are warm ("warm"); a server that is always cold hits the time cap;
 *     one that never says "cold_start" stops at the count; warmup 0 skips it;
 *   - the closed-loop window: the measured instances are the first N after
 *     the warm-up, drain instances are counted apart, the timeline says so;
 *   - the open loop: the in-flight cap drops (and counts) what it cannot
 *     send; a stop between sends or during the warm-up counts the unsent;
 *   - failure classes: a truncated body is malformed, a 413 while the body
 *     is still being sent is http 413, a wrong-typed output is charged to
 *     the function that produced it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include "../entry_check.h"

#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "flowgate/engine.h"
#include "flowgate/image.h"
#include "flowgate/stop.h"

#define assert_near(a, b, eps) assert_true(fabs((double)(a) - (double)(b)) <= (eps))

static fg_workflow wf;

/* ---- the misbehaving server ------------------------------------------- */

typedef struct fake_cfg {
    int cold_first;          /* the first n extract replies report a cold start */
    int cold_always;         /* every extract reply does */
    int no_cold_field;       /* no reply carries "cold_start" */
    int extract_text_number; /* extract replies "text": 42 */
    int upload_ref_string;   /* upload replies "ref": "k1" (by reference) */
    int truncate_upload;     /* upload: Content-Length says 100 bytes more than sent */
    int early_413;           /* upload: 413 once the headers are in, then a reset */
    int delay_ms;            /* before every reply */
    int stop_at;             /* the n-th request (1-based) asks the engine to stop */
} fake_cfg;

static struct {
    int fd, port;
    pthread_t thread;
    volatile int quit;
    fake_cfg cfg;
    int requests, extracts;
} srv;

static int send_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static void send_reply(int fd, int status, const char *body, size_t claimed)
{
    char head[256];
    int n = snprintf(head, sizeof head,
                     "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\n"
                     "Content-Length: %zu\r\nConnection: close\r\n\r\n",
                     status, status == 200 ? "OK" : "Payload Too Large", claimed);
    if (send_all(fd, head, (size_t)n) == 0) send_all(fd, body, strlen(body));
}

static const char *reply_for(const char *fn, char *buf, size_t size)
{
    const fake_cfg *c = &srv.cfg;
    int cold = 0;
    if (!strcmp(fn, "recognizer__extract"))
        cold = c->cold_always || srv.extracts++ < c->cold_first;
    const char *fields = "";
    if (!strcmp(fn, "recognizer__upload"))
        fields = c->upload_ref_string ? "\"ref\":\"k1\""
                                      : "\"ref\":{\"node\":\"node0\",\"key\":\"k1\",\"bytes\":100}";
    else if (!strcmp(fn, "recognizer__adult")) fields = "\"is_adult\":false,\"confidence\":0.1";
    else if (!strcmp(fn, "recognizer__violence")) fields = "\"illegal\":false,\"confidence\":0.1";
    else if (!strcmp(fn, "recognizer__extract"))
        fields = c->extract_text_number ? "\"text\":42" : "\"text\":\"HOLA MUNDO\"";
    else if (!strcmp(fn, "recognizer__translate")) fields = "\"translated_text\":\"hello world\"";
    else if (!strcmp(fn, "recognizer__censor"))
        fields = "\"illegal\":false,\"filtered_text\":\"hello world\"";
    else if (!strcmp(fn, "recognizer__mosaic"))
        fields = "\"ref\":{\"node\":\"node0\",\"key\":\"m1\",\"bytes\":10}";
    char cold_field[32] = "";
    if (!c->no_cold_field)
        snprintf(cold_field, sizeof cold_field, ",\"cold_start\":%s", cold ? "true" : "false");
    snprintf(buf, size, "{\"status\":\"success\",\"exec_ms\":1.0%s,%s}", cold_field, fields);
    return buf;
}

static void serve_one(int fd)
{
    char buf[65536];
    size_t n = 0;
    char *end = NULL;
    while (!end && n < sizeof buf - 1) {
        ssize_t r = recv(fd, buf + n, sizeof buf - 1 - n, 0);
        if (r <= 0) return;
        n += (size_t)r;
        buf[n] = 0;
        end = strstr(buf, "\r\n\r\n");
    }
    if (!end) return;
    size_t head_len = (size_t)(end + 4 - buf);
    char path[256] = "";
    sscanf(buf, "POST %255s", path);
    size_t length = 0;
    for (char *h = buf; h && h < end; h = strstr(h, "\r\n"), h = h ? h + 2 : NULL)
        if (!strncasecmp(h, "Content-Length:", 15)) length = strtoull(h + 15, NULL, 10);
    const char *fn = strncmp(path, "/invoke/", 8) ? "" : path + 8;
    if (++srv.requests == srv.cfg.stop_at) fg_stop_request();

    if (srv.cfg.early_413 && !strcmp(fn, "recognizer__upload")) {
        /* Refuse from the headers, as a server with a body limit does,
         * with "Connection: close" (so curl keeps sending); the answer's
         * body is cut short, and the socket is closed with the request
         * body unread: a reset, which breaks curl's sending or reading
         * after it has the status. */
        static const char msg[] = "{\"status\":\"error\",\"message\":\"body too large\"}";
        char part[sizeof msg];
        snprintf(part, sizeof part, "%.20s", msg);
        send_reply(fd, 413, part, sizeof msg - 1);
        usleep(300 * 1000);
        return;
    }
    size_t have = n - head_len;
    while (have < length) {
        ssize_t r = recv(fd, buf, sizeof buf, 0);
        if (r <= 0) return;
        have += (size_t)r;
    }
    if (srv.cfg.delay_ms) usleep((useconds_t)srv.cfg.delay_ms * 1000);
    char reply[512];
    reply_for(fn, reply, sizeof reply);
    size_t claimed = strlen(reply);
    if (srv.cfg.truncate_upload && !strcmp(fn, "recognizer__upload")) claimed += 100;
    send_reply(fd, 200, reply, claimed);
}

static void *serve(void *arg)
{
    (void)arg;
    while (!srv.quit) {
        struct pollfd pfd = {srv.fd, POLLIN, 0};
        if (poll(&pfd, 1, 50) <= 0) continue;
        int fd = accept(srv.fd, NULL, NULL);
        if (fd < 0) continue;
        serve_one(fd);
        close(fd);
    }
    return NULL;
}

static void fake_start(const fake_cfg *cfg)
{
    memset(&srv, 0, sizeof srv);
    srv.cfg = *cfg;
    srv.fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(srv.fd >= 0);
    int one = 1;
    setsockopt(srv.fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(bind(srv.fd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(srv.fd, 128), 0);
    socklen_t len = sizeof a;
    getsockname(srv.fd, (struct sockaddr *)&a, &len);
    srv.port = ntohs(a.sin_port);
    assert_int_equal(pthread_create(&srv.thread, NULL, serve, NULL), 0);
}

static void fake_stop(void)
{
    srv.quit = 1;
    pthread_join(srv.thread, NULL);
    close(srv.fd);
}

/* One node at the fake server; workers sets the warm-up's K (with C). */
static void fake_cluster(fg_cluster *c, int workers)
{
    memset(c, 0, sizeof *c);
    c->mode = FG_CLUSTER_NODES;
    c->n_nodes = 1;
    snprintf(c->nodes[0].name, sizeof c->nodes[0].name, "node0");
    snprintf(c->nodes[0].url, sizeof c->nodes[0].url, "http://127.0.0.1:%d", srv.port);
    c->nodes[0].workers = workers;
    c->nodes[0].bandwidth_mbit = 1000;
    c->nodes[0].latency_ms = 0.1;
}

/* ---- fixtures --------------------------------------------------------- */

static int load_workflow(void **state)
{
    (void)state;
    return recognizer_workflow_load(&wf);
}

static int free_workflow(void **state)
{
    (void)state;
    fg_workflow_free(&wf);
    return 0;
}

/* A small real PNG (by reference), loaded the normal way. */
static void small_payload(fg_payload *p)
{
    fg_image img;
    assert_int_equal(fg_image_alloc(&img, 16, 16), 0);
    memset(img.rgb, 200, 16 * 16 * 3);
    fg_buf png;
    assert_int_equal(fg_png_encode(&img, 6, &png, NULL), 0);
    fg_image_free(&img);
    char path[256];
    snprintf(path, sizeof path, "test_engine_faults_%d.png", (int)getpid());
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(png.data, 1, png.len, f), png.len);
    fclose(f);
    fg_buf_free(&png);
    fg_err err = {""};
    assert_int_equal(fg_payload_load(&wf, path, 0, p, &err), 0);
    unlink(path);
}

/* An upload body of mb megabytes: larger than the socket buffers, so the
 * client is still sending when the server answers. Only the engine reads
 * it (the fake server never decodes it). */
static void big_payload(fg_payload *p, size_t mb)
{
    memset(p, 0, sizeof *p);
    static const char head[] = "{\"img_b64\":\"", tail[] = "\",\"by_ref\":true}";
    size_t n = mb << 20;
    p->body_len[0] = sizeof head - 1 + n + sizeof tail - 1;
    p->body[0] = malloc(p->body_len[0] + 1);
    assert_non_null(p->body[0]);
    memcpy(p->body[0], head, sizeof head - 1);
    memset(p->body[0] + sizeof head - 1, 'A', n);
    memcpy(p->body[0] + sizeof head - 1 + n, tail, sizeof tail);
    p->input_len = n;
    p->by_ref = 1;
    p->mb = (double)n / FG_MB;
}

static void experiment(fg_experiment *x, int concurrency, int requests, int warmup)
{
    memset(x, 0, sizeof *x);
    snprintf(x->id, sizeof x->id, "exp_input0.1mb_conc%d_round_robin", concurrency);
    snprintf(x->category, sizeof x->category, "faults");
    snprintf(x->scheduler, sizeof x->scheduler, "round_robin");
    x->input_mb = 0.1;
    x->concurrency = concurrency;
    x->requests = requests;
    x->warmup = warmup;
    x->timeout_s = 20;
}

static cJSON *run(const fg_experiment *x, const fg_cluster *c, const fg_payload *p)
{
    return run_entry(x, &wf, c, p);
}

/* ---- warm-up by state ------------------------------------------------- */

static void test_warmup_runs_until_warm(void **state)
{
    (void)state;
    fake_cfg cfg = {.cold_first = 3};
    fake_start(&cfg);
    fg_cluster c;
    fake_cluster(&c, 2);   /* K = max(C 2, workers 2) = 2 */
    fg_payload p;
    small_payload(&p);
    fg_experiment x;
    experiment(&x, 2, 6, 1);
    cJSON *e = run(&x, &c, &p);
    fake_stop();
    check_accounting(e);
    assert_string_equal(str(e, "warmup/stop_reason"), "warm");
    /* Three cold extracts, then two warm ones in a row at least: five
     * warm-up instances completed, though the count asked for one. */
    assert_int_equal(num(e, "warmup/cold_starts"), 3);
    assert_true(num(e, "warmup/sent") >= 5);
    assert_true(num(e, "warmup/duration_s") >= 0);
    /* None of it reaches the measured data. */
    assert_int_equal(num(e, "cold_starts"), 0);
    assert_int_equal(num(e, "requests/sent"), 6);
    assert_int_equal(num(e, "requests/ok"), 6);
    assert_int_equal(num(e, "functions/recognizer__extract/cold_starts"), 0);
    assert_string_equal(str(e, "workflow"), "recognizer");
    assert_true(cJSON_IsFalse(at(e, "inline_data")));
    assert_int_equal(strlen(str(e, "payload_sha256")), 64);
    cJSON_Delete(e);
    fg_payload_free(&p);
}

static void test_warmup_time_cap(void **state)
{
    (void)state;
    fake_cfg cfg = {.cold_always = 1};
    fake_start(&cfg);
    fg_cluster c;
    fake_cluster(&c, 2);
    fg_payload p;
    small_payload(&p);
    fg_experiment x;
    experiment(&x, 2, 4, 1);
    x.warmup_s = 0.3;
    cJSON *e = run(&x, &c, &p);
    fake_stop();
    check_accounting(e);
    /* Never warm: the cap ends the warm-up, and the measured data carry
     * (and report) a cold start per instance. */
    assert_string_equal(str(e, "warmup/stop_reason"), "time_cap");
    assert_true(num(e, "warmup/duration_s") >= 0.3 - 1e-3);
    assert_int_equal(num(e, "requests/ok"), 4);
    assert_int_equal(num(e, "cold_starts"), 4);
    assert_int_equal(num(e, "functions/recognizer__extract/cold_starts"), 4);
    cJSON_Delete(e);
    fg_payload_free(&p);
}

static void test_warmup_count_without_cold_field(void **state)
{
    (void)state;
    fake_cfg cfg = {.no_cold_field = 1};
    fake_start(&cfg);
    fg_cluster c;
    fake_cluster(&c, 8);
    fg_payload p;
    small_payload(&p);
    fg_experiment x;
    experiment(&x, 2, 4, 3);
    cJSON *e = run(&x, &c, &p);
    fake_stop();
    check_accounting(e);
    assert_string_equal(str(e, "warmup/stop_reason"), "count");
    assert_true(num(e, "warmup/sent") >= 3);
    assert_int_equal(num(e, "warmup/cold_starts"), 0);
    /* The server never sends cold_start: unknown, so absent, not 0. */
    assert_null(at(e, "cold_starts"));
    assert_int_equal(num(e, "requests/ok"), 4);
    cJSON_Delete(e);
    fg_payload_free(&p);
}

static void test_no_warmup(void **state)
{
    (void)state;
    fake_cfg cfg = {.cold_first = 1};
    fake_start(&cfg);
    fg_cluster c;
    fake_cluster(&c, 2);
    fg_payload p;
    small_payload(&p);
    fg_experiment x;
    experiment(&x, 1, 3, 0);
    cJSON *e = run(&x, &c, &p);
    fake_stop();
    check_accounting(e);
    assert_string_equal(str(e, "warmup/stop_reason"), "count");
    assert_int_equal(num(e, "warmup/sent"), 0);
    assert_near(num(e, "warmup/duration_s"), 0, 1e-9);
    /* The one cold start is measured, and said. */
    assert_int_equal(num(e, "cold_starts"), 1);
    cJSON_Delete(e);
    fg_payload_free(&p);
}

/* ---- the closed-loop window ------------------------------------------- */

static void test_closed_window_and_drain(void **state)
{
    (void)state;
    fake_cfg cfg = {.cold_first = 2};
    fake_start(&cfg);
    fg_cluster c;
    fake_cluster(&c, 3);
    fg_payload p;
    small_payload(&p);
    fg_experiment x;
    experiment(&x, 3, 7, 2);
    snprintf(x.timeline_path, sizeof x.timeline_path, "timelines-faults-%d.json", (int)getpid());
    cJSON *e = run(&x, &c, &p);
    fake_stop();
    check_accounting(e);
    assert_int_equal(num(e, "requests/sent"), 7);
    assert_int_equal(num(e, "requests/ok"), 7);
    double start = num(e, "window/start_s"), end = num(e, "window/end_s");
    assert_true(start >= num(e, "warmup/duration_s") - 1e-3);
    assert_true(end >= start);
    assert_near(num(e, "wall_s"), end - start, 2e-3);
    /* throughput = 7 / the window; wall_s is rounded to the ms. */
    double wall = num(e, "wall_s");
    assert_true(wall > 0);
    assert_near(num(e, "throughput_rps") * wall, 7, 7 * 0.0006 / wall + 1e-9);
    /* 7 samples: a median, no tail percentiles. */
    assert_true(cJSON_IsNumber(at(e, "latency_ms/p50")));
    assert_null(at(e, "latency_ms/p90"));
    assert_null(at(e, "latency_ms/p95"));
    assert_null(at(e, "latency_ms/p99"));
    assert_true(cJSON_IsNumber(at(e, "latency_ms/max")));

    /* The timeline: warm-up instances first, then exactly the 7 measured
     * ones, then the drain ones the entry counts. */
    fg_buf text;
    fg_err err = {""};
    assert_int_equal(fg_read_file(x.timeline_path, 0, &text, &err), 0);
    unlink(x.timeline_path);
    cJSON *tl = cJSON_ParseWithLength((const char *)text.data, text.len);
    fg_buf_free(&text);
    assert_non_null(tl);
    int warm = 0, measured = 0, drain = 0, last_phase = 0;
    const cJSON *r;
    cJSON_ArrayForEach(r, at(tl, "requests")) {
        const char *phase = str(r, "phase");
        int k = !strcmp(phase, "warmup") ? 0 : !strcmp(phase, "measured") ? 1 : 2;
        assert_true(k >= last_phase);   /* the phases never interleave */
        last_phase = k;
        warm += k == 0;
        measured += k == 1;
        drain += k == 2;
        assert_true(cJSON_IsBool(at(r, "warmup")));
        assert_int_equal(cJSON_IsTrue(at(r, "warmup")), k == 0);
    }
    assert_int_equal(warm, num(e, "warmup/sent"));
    assert_int_equal(measured, 7);
    assert_int_equal(drain, num(e, "drain"));
    cJSON_Delete(tl);
    cJSON_Delete(e);
    fg_payload_free(&p);
}

/* ---- the open loop ---------------------------------------------------- */

static void test_open_loop_cap_drops(void **state)
{
    (void)state;
    /* Every reply takes 200 ms; 20 slots are due within 100 ms; one
     * instance may be in flight: the others cannot be sent. */
    fake_cfg cfg = {.delay_ms = 200};
    fake_start(&cfg);
    fg_cluster c;
    fake_cluster(&c, 2);
    fg_payload p;
    small_payload(&p);
    fg_experiment x;
    experiment(&x, 1, 0, 0);
    x.rate_rps = 200;
    x.duration_s = 0.1;
    x.max_inflight = 1;
    cJSON *e = run(&x, &c, &p);
    fake_stop();
    check_accounting(e);
    assert_int_equal(num(e, "requests/scheduled"), 20);
    assert_true(num(e, "requests/dropped") >= 1);
    assert_true(num(e, "requests/sent") >= 1);
    assert_int_equal(num(e, "requests/unsent"), 0);
    assert_null(at(e, "interrupted"));
    cJSON_Delete(e);
    fg_payload_free(&p);
}

/* A stop request cannot be taken back (fg_stop_request only sets
 * a flag), so the interrupted experiments run in a child process, which
 * starts its own server and writes the entry to a file. */
static cJSON *run_interrupted(const fake_cfg *cfg, const fg_experiment *x)
{
    char path[256];
    snprintf(path, sizeof path, "test_engine_faults_entry_%d.json", (int)getpid());
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        fake_start(cfg);
        fg_cluster c;
        fake_cluster(&c, 2);
        fg_payload p;
        small_payload(&p);
        cJSON *entry = NULL;
        fg_err err = {""};
        int rc = fg_experiment_run(x, &wf, &c, &p, NULL, &entry, &err);
        fake_stop();
        if (rc != 0) {
            fprintf(stderr, "%s\n", err.msg);
            _exit(3);
        }
        char *text = cJSON_Print(entry);
        FILE *f = fopen(path, "w");
        if (!f || fputs(text, f) < 0) _exit(4);
        fclose(f);
        free(text);
        cJSON_Delete(entry);
        fg_payload_free(&p);
        _exit(0);
    }
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    fg_buf text;
    fg_err err = {""};
    assert_int_equal(fg_read_file(path, 0, &text, &err), 0);
    unlink(path);
    cJSON *e = cJSON_ParseWithLength((const char *)text.data, text.len);
    fg_buf_free(&text);
    assert_non_null(e);
    return e;
}

static void test_open_loop_interrupted_between_sends(void **state)
{
    (void)state;
    fake_cfg cfg = {.stop_at = 3};   /* the third request stops the run */
    fg_experiment x;
    experiment(&x, 1, 0, 0);
    x.rate_rps = 20;
    x.duration_s = 2;   /* 40 slots, one every 50 ms */
    cJSON *e = run_interrupted(&cfg, &x);
    check_accounting(e);
    assert_true(cJSON_IsTrue(at(e, "interrupted")));
    assert_int_equal(num(e, "requests/scheduled"), 40);
    /* The stop came within the first few slots: most were never sent. */
    assert_true(num(e, "requests/unsent") >= 30);
    cJSON_Delete(e);
}

static void test_open_loop_interrupted_in_warmup(void **state)
{
    (void)state;
    fake_cfg cfg = {.stop_at = 1};
    fg_experiment x;
    experiment(&x, 1, 0, 5);
    x.rate_rps = 20;
    x.duration_s = 1;
    cJSON *e = run_interrupted(&cfg, &x);
    check_accounting(e);
    assert_true(cJSON_IsTrue(at(e, "interrupted")));
    assert_null(at(e, "warmup/stop_reason"));
    assert_int_equal(num(e, "requests/sent"), 0);
    assert_int_equal(num(e, "requests/scheduled"), 20);
    assert_int_equal(num(e, "requests/unsent"), 20);
    cJSON_Delete(e);
}

static void test_closed_loop_interrupted_in_warmup(void **state)
{
    (void)state;
    fake_cfg cfg = {.stop_at = 1};
    fg_experiment x;
    experiment(&x, 2, 5, 3);
    cJSON *e = run_interrupted(&cfg, &x);
    check_accounting(e);
    assert_true(cJSON_IsTrue(at(e, "interrupted")));
    assert_int_equal(num(e, "requests/sent"), 0);
    assert_null(at(e, "requests/scheduled"));   /* closed loop: N is the plan */
    assert_null(at(e, "wall_s"));
    assert_null(at(e, "throughput_rps"));
    cJSON_Delete(e);
}

/* ---- failure classes -------------------------------------------------- */

static int errors_of(const cJSON *e, const char *cls)
{
    int n = 0;
    const cJSON *f;
    char path[64];
    snprintf(path, sizeof path, "errors/%s", cls);
    cJSON_ArrayForEach(f, at(e, "functions")) n += (int)num(f, path);
    return n;
}

static void test_truncated_body_is_malformed(void **state)
{
    (void)state;
    fake_cfg cfg = {.truncate_upload = 1};
    fake_start(&cfg);
    fg_cluster c;
    fake_cluster(&c, 2);
    fg_payload p;
    small_payload(&p);
    fg_experiment x;
    experiment(&x, 2, 3, 0);
    cJSON *e = run(&x, &c, &p);
    fake_stop();
    check_accounting(e);
    assert_int_equal(num(e, "requests/failed"), 3);
    assert_int_equal(num(e, "functions/recognizer__upload/errors/malformed"), 3);
    assert_int_equal(errors_of(e, "connect"), 0);
    const cJSON *first = cJSON_GetArrayItem(at(e, "errors"), 0);
    assert_string_equal(str(first, "class"), "malformed");
    assert_non_null(strstr(str(first, "message"), "truncated"));
    cJSON_Delete(e);
    fg_payload_free(&p);
}

static void test_413_while_sending_is_http(void **state)
{
    (void)state;
    fake_cfg cfg = {.early_413 = 1};
    fake_start(&cfg);
    fg_cluster c;
    fake_cluster(&c, 2);
    fg_payload p;
    big_payload(&p, 32);
    fg_experiment x;
    experiment(&x, 1, 2, 0);
    cJSON *e = run(&x, &c, &p);
    fake_stop();
    check_accounting(e);
    assert_int_equal(num(e, "requests/failed"), 2);
    assert_int_equal(num(e, "functions/recognizer__upload/errors/http"), 2);
    assert_int_equal(errors_of(e, "connect"), 0);
    const cJSON *first = cJSON_GetArrayItem(at(e, "errors"), 0);
    assert_string_equal(str(first, "class"), "http");
    assert_non_null(strstr(str(first, "message"), "413"));
    cJSON_Delete(e);
    fg_payload_free(&p);
}

static void test_wrong_typed_output_charged_to_producer(void **state)
{
    (void)state;
    fake_cfg cfg = {.extract_text_number = 1};
    fake_start(&cfg);
    fg_cluster c;
    fake_cluster(&c, 2);
    fg_payload p;
    small_payload(&p);
    fg_experiment x;
    experiment(&x, 2, 3, 0);
    x.retries = 1;
    cJSON *e = run(&x, &c, &p);
    fake_stop();
    check_accounting(e);
    assert_int_equal(num(e, "requests/failed"), 3);
    /* extract answered "text": 42; translate (which needs a string) was
     * never sent: the fault is extract's, each try of it. */
    assert_int_equal(num(e, "functions/recognizer__extract/errors/malformed"), 6);
    assert_int_equal(num(e, "functions/recognizer__translate/invocations"), 0);
    const cJSON *first = cJSON_GetArrayItem(at(e, "errors"), 0);
    assert_string_equal(str(first, "function"), "recognizer__extract");
    assert_non_null(strstr(str(first, "message"), "must be a string"));
    cJSON_Delete(e);
    fg_payload_free(&p);
}

static void test_wrong_typed_ref_charged_to_upload(void **state)
{
    (void)state;
    fake_cfg cfg = {.upload_ref_string = 1};
    fake_start(&cfg);
    fg_cluster c;
    fake_cluster(&c, 2);
    fg_payload p;
    small_payload(&p);
    fg_experiment x;
    experiment(&x, 1, 2, 0);
    cJSON *e = run(&x, &c, &p);
    fake_stop();
    check_accounting(e);
    assert_int_equal(num(e, "functions/recognizer__upload/errors/malformed"), 2);
    assert_int_equal(num(e, "functions/recognizer__adult/invocations"), 0);
    const cJSON *first = cJSON_GetArrayItem(at(e, "errors"), 0);
    assert_string_equal(str(first, "function"), "recognizer__upload");
    assert_non_null(strstr(str(first, "message"), "blob reference"));
    cJSON_Delete(e);
    fg_payload_free(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_warmup_runs_until_warm),
        cmocka_unit_test(test_warmup_time_cap),
        cmocka_unit_test(test_warmup_count_without_cold_field),
        cmocka_unit_test(test_no_warmup),
        cmocka_unit_test(test_closed_window_and_drain),
        cmocka_unit_test(test_open_loop_cap_drops),
        cmocka_unit_test(test_open_loop_interrupted_between_sends),
        cmocka_unit_test(test_open_loop_interrupted_in_warmup),
        cmocka_unit_test(test_closed_loop_interrupted_in_warmup),
        cmocka_unit_test(test_truncated_body_is_malformed),
        cmocka_unit_test(test_413_while_sending_is_http),
        cmocka_unit_test(test_wrong_typed_output_charged_to_producer),
        cmocka_unit_test(test_wrong_typed_ref_charged_to_upload),
    };
    return cmocka_run_group_tests(tests, load_workflow, free_workflow);
}
