/* test_engine_run.c — small experiments against real function nodes (the
 * ctest fixture server, found through FLOWGATE_ENDPOINTS): each image
 * variant drives the workflow down its own branches, every request is
 * accounted as exactly one of ok / failed / timed_out, a dead node's
 * failures are classed "connect", a soft file descriptor limit too low
 * for the load is raised before anything is sent, a tiny timeout is
 * counted as timed_out, inline data and the open loop work, the warm-up
 * stops by state, proxy variables are ignored, and the runner writes a
 * results file that the results reader accepts. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include "../entry_check.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <liburing.h>
#include <math.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "flowgate/imagegen.h"
#include "flowgate/engine.h"
#include "flowgate/runner.h"
#include "flowgate/results.h"

static fg_workflow wf;
static fg_cluster cluster;
static char images[512];

static int setup(void **state)
{
    (void)state;
    const char *endpoints = getenv("FLOWGATE_ENDPOINTS");
    fg_err err = {""};
    char path[4096];
    snprintf(path, sizeof path, "%s/workflows/recognizer.json", fg_data_dir());
    if (!endpoints || fg_workflow_load(path, &wf, &err) != 0 ||
        fg_cluster_load_endpoints(endpoints, &cluster, &err) != 0 ||
        fg_cluster_health(&cluster, 20, &err) != 0) {
        fprintf(stderr, "setup: %s\n", endpoints ? err.msg : "FLOWGATE_ENDPOINTS is not set");
        return -1;
    }
    snprintf(images, sizeof images, "test-images");
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    fg_workflow_free(&wf);
    return 0;
}

static void load_payload(fg_variant v, int inline_data, fg_payload *p)
{
    char path[1024];
    int created;
    fg_err err = {""};
    int rc = fg_imagegen_ensure(images, 0.1, v, path, sizeof path, &created, &err);
    if (rc) fprintf(stderr, "%s\n", err.msg);
    assert_int_equal(rc, 0);
    assert_int_equal(fg_payload_load(&wf, path, inline_data, p, &err), 0);
    p->variant = v;
}

static void experiment(fg_experiment *x, fg_variant v, const char *scheduler)
{
    memset(x, 0, sizeof *x);
    snprintf(x->id, sizeof x->id, "exp_input0.1mb_conc2_%s", scheduler);
    snprintf(x->category, sizeof x->category, "http_test");
    snprintf(x->scheduler, sizeof x->scheduler, "%s", scheduler);
    x->input_mb = 0.1;
    x->variant = v;
    x->concurrency = 2;
    x->requests = 4;
    x->warmup = 1;
    x->timeout_s = 30;
}

static cJSON *run(const fg_experiment *x, const fg_cluster *c, const fg_payload *p)
{
    return run_entry(x, &wf, c, p);
}

#define SWITCH1 "recognizer__adult.is_adult OR recognizer__violence.illegal"
#define SWITCH2 "recognizer__censor.illegal_text"

static void test_clean_runs_text_chain(void **state)
{
    (void)state;
    fg_payload p;
    load_payload(FG_VARIANT_CLEAN, 0, &p);
    fg_experiment x;
    experiment(&x, FG_VARIANT_CLEAN, "round_robin");
    snprintf(x.timeline_path, sizeof x.timeline_path, "timelines-test/clean.json");
    cJSON *e = run(&x, &cluster, &p);
    check_accounting(e);
    assert_int_equal(num(e, "requests/sent"), 4);
    assert_int_equal(num(e, "requests/ok"), 4);
    /* Warm-up by state: at least the one asked for, until warm. */
    assert_true(num(e, "warmup/sent") >= 1);
    assert_string_equal(at(e, "warmup/stop_reason")->valuestring, "warm");
    assert_int_equal(num(e, "functions/recognizer__upload/invocations"), 4);
    assert_int_equal(num(e, "functions/recognizer__extract/invocations"), 4);
    assert_int_equal(num(e, "functions/recognizer__translate/invocations"), 4);
    assert_int_equal(num(e, "functions/recognizer__censor/invocations"), 4);
    assert_int_equal(num(e, "functions/recognizer__mosaic/invocations"), 0);
    assert_int_equal(num(e, "functions/recognizer__extract/exec_ms/count"), 4);
    assert_int_equal(num(e, "branches/" SWITCH1 "/else"), 4);
    assert_int_equal(num(e, "branches/" SWITCH1 "/then"), 0);
    assert_int_equal(num(e, "branches/" SWITCH2 "/else"), 4);
    assert_true(at(e, "throughput_rps")->valuedouble > 0);
    assert_true(at(e, "latency_ms/p50")->valuedouble > 0);
    /* 4 samples resolve a median, not a p95. */
    assert_null(at(e, "latency_ms/p95"));
    assert_string_equal(at(e, "workflow")->valuestring, "recognizer");
    assert_true(cJSON_IsString(at(e, "payload_sha256")));
    /* Kept-alive connections: the steps' sends went out a turn at a time,
     * where the kernel allows io_uring. */
    struct io_uring probe;
    int uring = io_uring_queue_init(4, &probe, 0) == 0;
    if (uring) io_uring_queue_exit(&probe);
    assert_string_equal(at(e, "sends")->valuestring, uring ? "batched" : "direct");
    /* Every measured request was attributed along its critical path; the
     * shares cover the whole latency, and the chart of a 0.1 MB chain on
     * loopback is the functions' work (OCR above all). */
    assert_int_equal(num(e, "bottleneck/requests"), 4);
    double share = 0;
    const cJSON *part;
    cJSON_ArrayForEach(part, at(e, "bottleneck/share")) share += part->valuedouble;
    assert_true(fabs(share - 1.0) < 0.002);
    assert_string_equal(at(e, "bottleneck/dominant")->valuestring, "exec");
    /* The per-node series: sampled from the start (no CPU % yet for the
     * first sample, it needs an interval), memory of the shared process. */
    const cJSON *series;
    int n_series = 0;
    cJSON_ArrayForEach(series, at(e, "resources/nodes")) {
        int n = cJSON_GetArraySize(at(series, "t_s"));
        assert_true(n >= 1);
        assert_int_equal(cJSON_GetArraySize(at(series, "cpu_pct")), n);
        assert_int_equal(cJSON_GetArraySize(at(series, "rss_kb")), n);
        assert_true(cJSON_IsNull(cJSON_GetArrayItem(at(series, "cpu_pct"), 0)));
        assert_true(cJSON_GetArrayItem(at(series, "rss_kb"), 0)->valuedouble > 1000);
        for (int i = 1; i < n; i++) {
            assert_true(cJSON_GetArrayItem(at(series, "t_s"), i)->valuedouble >
                        cJSON_GetArrayItem(at(series, "t_s"), i - 1)->valuedouble);
            assert_true(cJSON_GetArrayItem(at(series, "cpu_pct"), i)->valuedouble >= 0);
        }
        n_series++;
    }
    assert_int_equal(n_series, cluster.n_nodes);
    /* The function server reports cold starts: the warm-up ran until the
     * last replies were warm (or hit its cap), never by count alone. */
    const char *why = at(e, "warmup/stop_reason")->valuestring;
    assert_true(!strcmp(why, "warm") || !strcmp(why, "time_cap"));
    assert_true(num(e, "warmup/sent") >= 1);
    /* Round robin spreads the 24 invocations over the 4 nodes. */
    const cJSON *n;
    cJSON_ArrayForEach(n, at(e, "nodes")) assert_true(num(n, "invocations") > 0);
    /* The timeline holds every request (warm-up and drain included) with
     * their spans, up to its 200. */
    assert_string_equal(at(e, "timeline")->valuestring, "timelines-test/clean.json");
    fg_buf text;
    fg_err err = {""};
    assert_int_equal(fg_read_file("timelines-test/clean.json", 0, &text, &err), 0);
    cJSON *tl = cJSON_Parse((const char *)text.data);
    fg_buf_free(&text);
    int expect = num(e, "warmup/sent") + 4 + num(e, "drain");
    assert_int_equal(cJSON_GetArraySize(at(tl, "requests")), expect < 200 ? expect : 200);
    const cJSON *first = cJSON_GetArrayItem(at(tl, "requests"), 0);
    assert_true(cJSON_IsNumber(at(first, "critical_path_ms/exec")));
    assert_int_equal(cJSON_GetArraySize(at(first, "spans")), 6);
    const cJSON *span = cJSON_GetArrayItem(at(first, "spans"), 0);
    assert_string_equal(at(span, "function")->valuestring, "recognizer__upload");
    assert_true(at(span, "received")->valuedouble >= at(span, "sent")->valuedouble);
    cJSON_Delete(tl);
    cJSON_Delete(e);
    fg_payload_free(&p);
}

static void test_adult_takes_mosaic(void **state)
{
    (void)state;
    fg_payload p;
    load_payload(FG_VARIANT_ADULT, 0, &p);
    fg_experiment x;
    experiment(&x, FG_VARIANT_ADULT, "ours");
    cJSON *e = run(&x, &cluster, &p);
    check_accounting(e);
    assert_int_equal(num(e, "requests/ok"), 4);
    assert_int_equal(num(e, "branches/" SWITCH1 "/then"), 4);
    assert_int_equal(num(e, "branches/" SWITCH2 "/then") + num(e, "branches/" SWITCH2 "/else"), 0);
    assert_int_equal(num(e, "functions/recognizer__mosaic/invocations"), 4);
    assert_int_equal(num(e, "functions/recognizer__extract/invocations"), 0);
    cJSON_Delete(e);
    fg_payload_free(&p);
}

static void test_illegal_text_takes_second_switch(void **state)
{
    (void)state;
    fg_payload p;
    load_payload(FG_VARIANT_ILLEGAL_TEXT, 0, &p);
    fg_experiment x;
    experiment(&x, FG_VARIANT_ILLEGAL_TEXT, "faaspr");
    cJSON *e = run(&x, &cluster, &p);
    check_accounting(e);
    assert_int_equal(num(e, "requests/ok"), 4);
    assert_int_equal(num(e, "branches/" SWITCH1 "/else"), 4);
    assert_int_equal(num(e, "branches/" SWITCH2 "/then"), 4);
    assert_int_equal(num(e, "functions/recognizer__censor/invocations"), 4);
    assert_int_equal(num(e, "functions/recognizer__mosaic/invocations"), 4);
    cJSON_Delete(e);
    fg_payload_free(&p);
}

static void test_inline_data(void **state)
{
    (void)state;
    fg_payload p;
    load_payload(FG_VARIANT_ADULT, 1, &p);
    fg_experiment x;
    experiment(&x, FG_VARIANT_ADULT, "palette");
    x.inline_data = 1;
    cJSON *e = run(&x, &cluster, &p);
    check_accounting(e);
    assert_int_equal(num(e, "requests/ok"), 4);
    assert_int_equal(num(e, "functions/recognizer__mosaic/invocations"), 4);
    /* Nothing was read by reference. */
    assert_int_equal(num(e, "functions/recognizer__adult/transfer_ms/count"), 0);
    cJSON_Delete(e);
    fg_payload_free(&p);
}

static int closed_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    bind(fd, (struct sockaddr *)&a, sizeof a);
    socklen_t len = sizeof a;
    getsockname(fd, (struct sockaddr *)&a, &len);
    close(fd);
    return ntohs(a.sin_port);
}

static void test_dead_node_is_connect_failure(void **state)
{
    (void)state;
    fg_cluster c = cluster;
    snprintf(c.nodes[0].url, sizeof c.nodes[0].url, "http://127.0.0.1:%d", closed_port());
    fg_payload p;
    load_payload(FG_VARIANT_CLEAN, 0, &p);
    fg_experiment x;
    experiment(&x, FG_VARIANT_CLEAN, "round_robin");
    x.warmup = 0;
    cJSON *e = run(&x, &c, &p);
    check_accounting(e);
    assert_int_equal(num(e, "requests/sent"), 4);
    assert_true(num(e, "requests/failed") >= 1);
    int connect = 0;
    const cJSON *f;
    cJSON_ArrayForEach(f, at(e, "functions")) connect += num(f, "errors/connect");
    assert_true(connect >= 1);
    assert_string_equal(at(cJSON_GetArrayItem(at(e, "errors"), 0), "class")->valuestring, "connect");
    cJSON_Delete(e);
    fg_payload_free(&p);
}

/* The highest open descriptor, so a limit can leave exactly a few free. */
static int highest_fd(void)
{
    DIR *d = opendir("/proc/self/fd");
    assert_non_null(d);
    int top = -1;
    struct dirent *de;
    while ((de = readdir(d)))
        if (de->d_name[0] != '.' && atoi(de->d_name) > top) top = atoi(de->d_name);
    closedir(d);
    return top;
}

/* The reported case (`ulimit -Sn 40`, concurrency 30: failures classed
 * client, then a timeline lost to "Too many open files") against the real
 * nodes: a soft limit that leaves three descriptors free, with the hard
 * limit to spare, is raised before anything is sent, so every request
 * succeeds and none fails in the driver. (Descriptors running out during a
 * run anyway are still the client's: test_engine_faults.) */
static void test_low_soft_fd_limit_is_raised(void **state)
{
    (void)state;
    fg_payload p;
    load_payload(FG_VARIANT_CLEAN, 0, &p);
    fg_experiment x;
    experiment(&x, FG_VARIANT_CLEAN, "round_robin");
    x.concurrency = 8;
    x.requests = 16;
    x.warmup = 0;
    struct rlimit old, low;
    assert_int_equal(getrlimit(RLIMIT_NOFILE, &old), 0);
    int top = highest_fd();
    if (old.rlim_max != RLIM_INFINITY && old.rlim_max < (rlim_t)top + 200) skip();
    low = old;
    low.rlim_cur = (rlim_t)top + 1 + 3;
    assert_int_equal(setrlimit(RLIMIT_NOFILE, &low), 0);
    /* Fill the holes below the highest descriptor, so exactly three are free. */
    int fillers[1024], n_fillers = 0;
    for (;;) {
        int fd = open("/dev/null", O_RDONLY);
        assert_true(fd >= 0);
        if (fd > top || n_fillers == 1024) { close(fd); break; }
        fillers[n_fillers++] = fd;
    }
    cJSON *e = NULL;
    fg_err err = {""};
    int rc = fg_experiment_run(&x, &wf, &cluster, &p, NULL, &e, &err);
    struct rlimit after;
    getrlimit(RLIMIT_NOFILE, &after);
    for (int i = 0; i < n_fillers; i++) close(fillers[i]);
    assert_int_equal(setrlimit(RLIMIT_NOFILE, &old), 0);
    if (rc) fprintf(stderr, "%s\n", err.msg);
    assert_int_equal(rc, 0);
    check_accounting(e);
    /* 8 instances x 2 steps at once, the descriptors open and the margin. */
    assert_true(after.rlim_cur >= (rlim_t)top + 16 + 32);
    assert_int_equal(num(e, "requests/sent"), 16);
    assert_int_equal(num(e, "requests/ok"), 16);
    const cJSON *f;
    cJSON_ArrayForEach(f, at(e, "functions")) assert_int_equal(num(f, "errors/client"), 0);
    cJSON_Delete(e);
    fg_payload_free(&p);
}

static void test_tiny_timeout_is_timed_out(void **state)
{
    (void)state;
    fg_payload p;
    load_payload(FG_VARIANT_CLEAN, 0, &p);
    fg_experiment x;
    experiment(&x, FG_VARIANT_CLEAN, "round_robin");
    x.timeout_s = 0.001;
    cJSON *e = run(&x, &cluster, &p);
    check_accounting(e);
    assert_int_equal(num(e, "requests/sent"), 4);
    assert_int_equal(num(e, "requests/timed_out"), 4);
    assert_int_equal(num(e, "functions/recognizer__upload/errors/timeout"), 4);
    assert_true(cJSON_IsNull(at(e, "success_rate")) == 0);
    assert_int_equal(num(e, "latency_ms/count"), 0);
    cJSON_Delete(e);
    fg_payload_free(&p);
}

/* A proxy in the environment must not capture the load: requests go to the
 * loopback nodes directly (the proxy here is a closed port, so any request
 * sent through it would fail with "connect"). */
static void test_proxy_variables_ignored(void **state)
{
    (void)state;
    char proxy[64];
    snprintf(proxy, sizeof proxy, "http://127.0.0.1:%d", closed_port());
    setenv("http_proxy", proxy, 1);
    setenv("ALL_PROXY", proxy, 1);
    fg_payload p;
    load_payload(FG_VARIANT_CLEAN, 0, &p);
    fg_experiment x;
    experiment(&x, FG_VARIANT_CLEAN, "palette");
    x.requests = 2;
    cJSON *e = run(&x, &cluster, &p);
    unsetenv("http_proxy");
    unsetenv("ALL_PROXY");
    check_accounting(e);
    assert_int_equal(num(e, "requests/sent"), 2);
    assert_int_equal(num(e, "requests/ok"), 2);
    cJSON_Delete(e);
    fg_payload_free(&p);
}

static void test_open_loop(void **state)
{
    (void)state;
    fg_payload p;
    load_payload(FG_VARIANT_CLEAN, 0, &p);
    fg_experiment x;
    experiment(&x, FG_VARIANT_CLEAN, "ours");
    x.rate_rps = 8;
    x.duration_s = 0.5;
    cJSON *e = run(&x, &cluster, &p);
    check_accounting(e);
    assert_string_equal(at(e, "mode")->valuestring, "open");
    assert_int_equal(num(e, "requests/sent"), 4);
    assert_int_equal(num(e, "requests/ok"), 4);
    cJSON_Delete(e);
    fg_payload_free(&p);
}

/* A staged Poisson schedule: a burst of 6 at 50/s into a cap of 1. Queued
 * at the cap, every slot is sent and the later ones' latency carries the
 * wait (from their due time); dropped at the cap, the burst loses slots. */
static void test_staged_queue_or_drop(void **state)
{
    (void)state;
    fg_payload p;
    load_payload(FG_VARIANT_CLEAN, 0, &p);
    fg_experiment x;
    experiment(&x, FG_VARIANT_CLEAN, "ours");
    x.stages[0] = (fg_stage){6, 50, 1};
    x.n_stages = 1;
    x.arrival = FG_ARRIVAL_POISSON;
    x.seed = 7;
    x.queue_at_cap = 1;
    x.warmup = 0;   /* no warm-up instance for the first slot to wait behind */
    cJSON *e = run(&x, &cluster, &p);
    check_accounting(e);
    assert_int_equal(num(e, "requests/scheduled"), 6);
    assert_int_equal(num(e, "requests/sent"), 6);
    assert_int_equal(num(e, "requests/dropped"), 0);
    assert_string_equal(at(e, "arrival/process")->valuestring, "poisson");
    assert_int_equal(num(e, "arrival/seed"), 7);
    assert_string_equal(at(e, "arrival/at_cap")->valuestring, "queue");
    /* One at a time: the last waited for the five before it (slot 0 took
     * one workflow's time, slot 5 about six less the 0.1 s of arrivals). */
    assert_true(num(e, "latency_ms/max") > 2 * num(e, "latency_ms/min"));
    cJSON_Delete(e);

    x.queue_at_cap = 0;
    e = run(&x, &cluster, &p);
    check_accounting(e);
    assert_int_equal(num(e, "requests/scheduled"), 6);
    assert_true(num(e, "requests/dropped") >= 1);
    assert_int_equal(num(e, "requests/sent") + num(e, "requests/dropped"), 6);
    cJSON_Delete(e);
    fg_payload_free(&p);
}

static void test_runner_writes_results(void **state)
{
    (void)state;
    fg_run_config cfg;
    fg_err err = {""};
    fg_config_defaults(&cfg);
    assert_int_equal(fg_config_apply_env(&cfg, &err), 0);
    assert_int_equal(fg_config_apply_category(&cfg, "smoke", &err), 0);
    snprintf(cfg.endpoints, sizeof cfg.endpoints, "%s", getenv("FLOWGATE_ENDPOINTS"));
    snprintf(cfg.results_dir, sizeof cfg.results_dir, "results-test");
    snprintf(cfg.images_dir, sizeof cfg.images_dir, "%s", images);
    cfg.requests = 3;
    cfg.warmup = 1;
    cfg.request_scale = 1;
    fg_runner *r = fg_runner_open(&cfg, &err);
    if (!r) fprintf(stderr, "%s\n", err.msg);
    assert_non_null(r);
    const cJSON *entry = NULL;
    int rc = fg_runner_cell(r, 0.1, 2, "round_robin", &entry, &err);
    if (rc) fprintf(stderr, "%s\n", err.msg);
    assert_int_equal(rc, 0);
    assert_non_null(entry);
    assert_string_equal(at(entry, "experiment_id")->valuestring, "exp_input0.1mb_conc2_round_robin");
    assert_int_equal(num(entry, "requests/sent"), 3);
    char path[1024];
    snprintf(path, sizeof path, "%s", fg_runner_results_path(r));
    assert_non_null(strstr(path, "results-test/experiment_results_"));
    assert_int_equal(fg_runner_close(r, &err), 0);
    cJSON *doc = fg_results_load(path, &err);
    if (!doc) fprintf(stderr, "%s\n", err.msg);
    assert_non_null(doc);
    assert_non_null(fg_results_find(doc, "exp_input0.1mb_conc2_round_robin", 0));
    assert_string_equal(at(doc, "run/endpoints/mode")->valuestring, "nodes");
    assert_true(cJSON_IsString(at(doc, "run/finished")));
    cJSON_Delete(doc);
    unlink(path);
}

/* Runs opened in the same second get distinct results files. */
static void test_runner_ids_are_unique(void **state)
{
    (void)state;
    fg_run_config cfg;
    fg_err err = {""};
    fg_config_defaults(&cfg);
    assert_int_equal(fg_config_apply_category(&cfg, "smoke", &err), 0);
    snprintf(cfg.endpoints, sizeof cfg.endpoints, "%s", getenv("FLOWGATE_ENDPOINTS"));
    snprintf(cfg.results_dir, sizeof cfg.results_dir, "results-test-ids");
    fg_runner *a = fg_runner_open(&cfg, &err);
    fg_runner *b = fg_runner_open(&cfg, &err);
    assert_non_null(a);
    assert_non_null(b);
    char pa[1024], pb[1024];
    snprintf(pa, sizeof pa, "%s", fg_runner_results_path(a));
    snprintf(pb, sizeof pb, "%s", fg_runner_results_path(b));
    assert_string_not_equal(pa, pb);
    assert_int_equal(fg_runner_close(a, &err), 0);
    assert_int_equal(fg_runner_close(b, &err), 0);
    unlink(pa);
    unlink(pb);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_clean_runs_text_chain),
        cmocka_unit_test(test_adult_takes_mosaic),
        cmocka_unit_test(test_illegal_text_takes_second_switch),
        cmocka_unit_test(test_inline_data),
        cmocka_unit_test(test_dead_node_is_connect_failure),
        cmocka_unit_test(test_low_soft_fd_limit_is_raised),
        cmocka_unit_test(test_tiny_timeout_is_timed_out),
        cmocka_unit_test(test_proxy_variables_ignored),
        cmocka_unit_test(test_open_loop),
        cmocka_unit_test(test_staged_queue_or_drop),
        cmocka_unit_test(test_runner_writes_results),
        cmocka_unit_test(test_runner_ids_are_unique),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
