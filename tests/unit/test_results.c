/* test_results.c — results JSON: save/load round trip, exclusive creation
 * (never over an existing run, never visible half written), refusal of
 * files that are not flowgate results, lookup by id + repeat (in one
 * category or any), and metrics by threshold name and by dotted path.
 * And what an entry leaves out: a field no reply carried (transfer_bytes,
 * cold_starts of a function) and the throughput of a cell where nothing
 * completed are absent, not 0. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "flowgate/results.h"
#include "flowgate/workflow.h"
#include "driver/metrics.h"

static char dir[256];

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "test_results_tmp.%ld", (long)getpid());
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd);
}

static const char *EXPERIMENT =
    "{\"experiment_id\":\"exp_input1.0mb_conc5_ours\",\"repeat\":1,\"concurrency\":5,"
    "\"requests\":{\"sent\":20,\"ok\":18,\"failed\":1,\"timed_out\":1},"
    "\"success_rate\":0.9,\"wall_s\":4.5,\"throughput_rps\":4.0,"
    "\"latency_ms\":{\"count\":18,\"min\":100.5,\"mean\":150,\"p50\":140,\"p90\":190,"
    "\"p95\":200,\"p99\":210,\"max\":220},"
    "\"functions\":{\"recognizer__extract\":{\"invocations\":18,\"exec_ms\":{\"count\":18,\"p50\":42.5},"
    "\"queue_ms\":{\"count\":0},\"cold_start\":true}},"
    "\"errors\":[{\"class\":\"timeout\",\"function\":\"recognizer__ocr\"}],"
    "\"scheduler\":\"ours\"}";

static cJSON *make_root(void)
{
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "schema", FG_RESULTS_SCHEMA);
    cJSON *run = cJSON_AddObjectToObject(root, "run");
    cJSON_AddStringToObject(run, "id", "20261127-021500");
    cJSON *xs = cJSON_AddArrayToObject(root, "experiments");
    cJSON *a = cJSON_Parse(EXPERIMENT);
    cJSON_AddItemToArray(xs, a);
    /* Same id, repeat missing (= 0). */
    cJSON *b = cJSON_Parse("{\"experiment_id\":\"exp_input1.0mb_conc5_ours\",\"success_rate\":1}");
    cJSON_AddItemToArray(xs, b);
    return root;
}

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void test_round_trip(void **state)
{
    (void)state;
    char path[512];
    snprintf(path, sizeof path, "%s/sub/run.json", dir);   /* directories are created */
    cJSON *root = make_root();
    fg_err err = {""};
    assert_int_equal(fg_results_save(path, root, &err), 0);
    cJSON *back = fg_results_load(path, &err);
    if (!back) print_error("%s\n", err.msg);
    assert_non_null(back);
    assert_true(cJSON_Compare(root, back, 1));
    assert_int_equal(cJSON_GetArraySize(fg_results_experiments(back)), 2);
    /* No temporary file is left behind. */
    char tmp[600];
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
    assert_int_equal(access(tmp, F_OK), -1);
    cJSON_Delete(root);
    cJSON_Delete(back);
}

static void test_create_exclusive(void **state)
{
    (void)state;
    char path[512];
    snprintf(path, sizeof path, "%s/create/experiment_results_x.json", dir);
    cJSON *root = make_root();
    fg_err err = {""};
    assert_int_equal(fg_results_create(path, root, &err), 0);   /* parent made too */
    cJSON *loaded = fg_results_load(path, &err);
    assert_non_null(loaded);
    assert_int_equal(cJSON_GetArraySize(fg_results_experiments(loaded)), 2);
    cJSON_Delete(loaded);
    /* The name is taken: 1, and the first file is untouched. */
    cJSON *other = cJSON_Parse("{\"schema\":\"flowgate-results/1\",\"run\":{},\"experiments\":[]}");
    assert_int_equal(fg_results_create(path, other, &err), 1);
    loaded = fg_results_load(path, &err);
    assert_int_equal(cJSON_GetArraySize(fg_results_experiments(loaded)), 2);
    cJSON_Delete(loaded);
    /* No temporary file is left beside it. */
    char sub[512];
    snprintf(sub, sizeof sub, "%s/create", dir);
    DIR *d = opendir(sub);
    assert_non_null(d);
    int files = 0;
    for (struct dirent *e; (e = readdir(d));)
        if (e->d_name[0] != '.') files++;
    closedir(d);
    assert_int_equal(files, 1);
    /* An unwritable place: one line naming the path. */
    assert_int_equal(fg_results_create("/proc/flowgate-test/x.json", other, &err), -1);
    assert_non_null(strstr(err.msg, "/proc/flowgate-test"));
    cJSON_Delete(other);
    cJSON_Delete(root);
}

static void expect_load_error(const char *text, const char *needle)
{
    char path[512];
    snprintf(path, sizeof path, "%s/bad.json", dir);
    write_text(path, text);
    fg_err err = {""};
    cJSON *root = fg_results_load(path, &err);
    if (root || !strstr(err.msg, needle) || !strstr(err.msg, path)) {
        print_error("'%s': want error containing \"%s\", got '%s'\n", text, needle, err.msg);
        cJSON_Delete(root);
        fail();
    }
}

/* Only a finished file's name: a finder polling a directory while a run
 * writes must never take the writer's temporary for the results. */
static void test_file_name(void **state)
{
    (void)state;
    assert_true(fg_results_is_file_name("experiment_results_20250101-120000.json"));
    assert_true(fg_results_is_file_name("experiment_results_20250101-120000-2.json"));
    assert_true(fg_results_is_file_name("scale_experiment_results_20250101-120000.json"));
    assert_false(fg_results_is_file_name("experiment_results_20250101-120000.json.new.123"));
    assert_false(fg_results_is_file_name("experiment_results_20250101-120000.json.tmp.123"));
    assert_false(fg_results_is_file_name("experiment_results_.json"));
    assert_false(fg_results_is_file_name("experiment_results_x.json"));
    assert_false(fg_results_is_file_name("baseline.json"));
    assert_false(fg_results_is_file_name("my_experiment_results_1.json"));
}

static void test_bad_files(void **state)
{
    (void)state;
    fg_err err = {""};
    assert_int_equal(fg_mkdirs(dir, &err), 0);
    expect_load_error("{\"schema\":\"flowgate-results/2\",\"run\":{},\"experiments\":[]}",
                      "schema 'flowgate-results/2', expected 'flowgate-results/1'");
    expect_load_error("{\"run\":{},\"experiments\":[]}", "no \"schema\"");
    expect_load_error("{\"schema\":1,\"run\":{},\"experiments\":[]}", "schema '(not a string)'");
    expect_load_error("{\"schema\":\"flowgate-results/1\",\"experiments\":[]}", "missing \"run\"");
    expect_load_error("{\"schema\":\"flowgate-results/1\",\"run\":{}}", "missing \"experiments\"");
    expect_load_error("{\"schema\":\"flowgate-results/1\",\"run\":{},\"experiments\":{}}",
                      "missing \"experiments\" array");
    expect_load_error("{\"schema\":", "invalid JSON");
    expect_load_error("[]", "not a JSON object");
    assert_null(fg_results_load("/nonexistent/results.json", &err));
    assert_non_null(strstr(err.msg, "/nonexistent/results.json"));
    assert_int_equal(fg_results_save("/nonexistent-dir-for-test/x.json", NULL, &err), -1);
}

static void test_find(void **state)
{
    (void)state;
    cJSON *root = make_root();
    const cJSON *x1 = fg_results_find(root, "exp_input1.0mb_conc5_ours", 1);
    const cJSON *x0 = fg_results_find(root, "exp_input1.0mb_conc5_ours", 0);
    assert_non_null(x1);
    assert_non_null(x0);
    assert_ptr_not_equal(x0, x1);
    double v;
    assert_int_equal(fg_results_metric(x0, "success_rate", &v), 0);
    assert_true(v == 1);
    assert_null(fg_results_find(root, "exp_input1.0mb_conc5_ours", 2));
    assert_null(fg_results_find(root, "exp_input2.0mb_conc5_ours", 0));
    assert_null(fg_results_experiments(NULL));
    cJSON_Delete(root);
}

/* A scale file holds the same id + repeat under two categories. */
static void test_find_in_category(void **state)
{
    (void)state;
    cJSON *root = make_root();      /* its entries carry no category */
    cJSON *xs = cJSON_GetObjectItemCaseSensitive(root, "experiments");
    const char *id = "exp_input5.0mb_conc10_ours";
    cJSON *large = cJSON_CreateObject(), *extreme = cJSON_CreateObject();
    cJSON_AddStringToObject(large, "experiment_id", id);
    cJSON_AddStringToObject(large, "category", "large_input");
    cJSON_AddNumberToObject(large, "repeat", 0);
    cJSON_AddStringToObject(extreme, "experiment_id", id);
    cJSON_AddStringToObject(extreme, "category", "extreme");
    cJSON_AddNumberToObject(extreme, "repeat", 0);
    cJSON_AddItemToArray(xs, large);
    cJSON_AddItemToArray(xs, extreme);

    assert_ptr_equal(fg_results_find_in(root, "large_input", id, 0), large);
    assert_ptr_equal(fg_results_find_in(root, "extreme", id, 0), extreme);
    assert_null(fg_results_find_in(root, "extreme", id, 1));
    assert_null(fg_results_find_in(root, "standard", id, 0));
    assert_null(fg_results_find_in(root, "", id, 0));
    /* NULL = any category: the first match, as fg_results_find. */
    assert_ptr_equal(fg_results_find_in(root, NULL, id, 0), large);
    assert_ptr_equal(fg_results_find(root, id, 0), large);
    /* Entries without "category" are category "". */
    const cJSON *old = fg_results_find(root, "exp_input1.0mb_conc5_ours", 1);
    assert_non_null(old);
    assert_ptr_equal(fg_results_find_in(root, "", "exp_input1.0mb_conc5_ours", 1), old);
    assert_null(fg_results_find_in(root, "standard", "exp_input1.0mb_conc5_ours", 1));
    assert_string_equal(fg_results_category(old), "");
    assert_string_equal(fg_results_category(extreme), "extreme");
    /* A category that is not a string matches no category, only NULL. */
    cJSON_ReplaceItemInObjectCaseSensitive(extreme, "category", cJSON_CreateNumber(3));
    assert_null(fg_results_category(extreme));
    assert_null(fg_results_find_in(root, "extreme", id, 0));
    assert_null(fg_results_find_in(root, "", id, 0));
    cJSON_Delete(root);
}

static void expect_metric(const cJSON *x, const char *name, double want)
{
    double v = -12345;
    int rc = fg_results_metric(x, name, &v);
    if (rc != 0 || v != want) {
        print_error("%s: want %g, got rc=%d %g\n", name, want, rc, v);
        fail();
    }
}

static void test_metrics(void **state)
{
    (void)state;
    cJSON *x = cJSON_Parse(EXPERIMENT);
    expect_metric(x, "success_rate", 0.9);
    expect_metric(x, "timeouts", 1);
    expect_metric(x, "failed", 1);
    expect_metric(x, "sent", 20);
    expect_metric(x, "ok", 18);
    expect_metric(x, "p50_ms", 140);
    expect_metric(x, "p90_ms", 190);
    expect_metric(x, "p95_ms", 200);
    expect_metric(x, "p99_ms", 210);
    expect_metric(x, "max_ms", 220);
    expect_metric(x, "min_ms", 100.5);
    expect_metric(x, "mean_ms", 150);
    expect_metric(x, "throughput_rps", 4.0);
    expect_metric(x, "wall_s", 4.5);
    expect_metric(x, "latency_ms.p99", 210);
    expect_metric(x, "requests.timed_out", 1);
    expect_metric(x, "functions.recognizer__extract.exec_ms.p50", 42.5);
    expect_metric(x, "functions.recognizer__extract.cold_start", 1);
    expect_metric(x, "concurrency", 5);

    double v = 7;
    /* Missing: a stats object with count 0 has no percentiles. */
    assert_int_equal(fg_results_metric(x, "functions.recognizer__extract.queue_ms.p95", &v), -1);
    assert_int_equal(fg_results_metric(x, "functions.recognizer__nope.exec_ms.p50", &v), -1);
    assert_int_equal(fg_results_metric(x, "p42_ms", &v), -1);
    /* Not numbers. */
    assert_int_equal(fg_results_metric(x, "scheduler", &v), -1);
    assert_int_equal(fg_results_metric(x, "latency_ms", &v), -1);
    assert_int_equal(fg_results_metric(x, "errors.0.class", &v), -1);
    /* Malformed paths. */
    assert_int_equal(fg_results_metric(x, "latency_ms.", &v), -1);
    assert_int_equal(fg_results_metric(x, ".p50", &v), -1);
    assert_int_equal(fg_results_metric(x, "", &v), -1);
    assert_int_equal(fg_results_metric(NULL, "p50_ms", &v), -1);
    assert_true(v == 7);   /* untouched on failure */
    cJSON_Delete(x);
}

/* An entry from hand-fed metrics: the engine's records, no network. */
typedef struct fed {
    fg_workflow wf;
    fg_cluster cluster;
    fg_metrics m;
    fg_experiment x;
    fg_payload p;
} fed;

static void fed_init(fed *f)
{
    memset(f, 0, sizeof *f);
    char path[1024];
    fg_err err;
    snprintf(path, sizeof path, "%s/workflows/recognizer.json", fg_data_dir());
    if (fg_workflow_load(path, &f->wf, &err) != 0) fail_msg("%s", err.msg);
    f->cluster.mode = FG_CLUSTER_FUNCTIONS;
    assert_int_equal(fg_metrics_init(&f->m, &f->wf, &f->cluster, 1, &err), 0);
    snprintf(f->x.id, sizeof f->x.id, "exp_input1.0mb_conc1_ours");
    f->x.concurrency = 1;
    f->m.t0 = 0;
}

static void fed_free(fed *f)
{
    fg_metrics_free(&f->m);
    fg_workflow_free(&f->wf);
}

static const cJSON *fn_entry(const cJSON *e, const char *fn)
{
    return cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(e, "functions"), fn);
}

static void test_unreported_fields_absent(void **state)
{
    (void)state;
    fed f;
    fed_init(&f);
    /* upload (step 0): a reference-style reply, neither cold_start nor
     * transfer_bytes; adult (step 1): both. */
    const fg_server_report bare = {.exec_ms = 3, .queue_ms = NAN, .transfer_ms = NAN,
                                   .transfer_bytes = NAN, .cold_start = -1};
    const fg_server_report full = {.exec_ms = 3, .queue_ms = NAN, .transfer_ms = 1,
                                   .transfer_bytes = 500, .cold_start = 0};
    int up = -1, adult = -1;
    for (int i = 0; i < f.wf.n_steps; i++) {
        if (!strcmp(f.wf.steps[i].id, "recognizer__upload")) up = i;
        if (!strcmp(f.wf.steps[i].id, "recognizer__adult")) adult = i;
    }
    assert_true(up >= 0 && adult >= 0);
    fg_metrics_invocation(&f.m, up, 0, 1, FG_FAIL_TIMEOUT, 10, &bare);
    fg_metrics_invocation(&f.m, adult, 0, 1, FG_FAIL_TIMEOUT, 10, &full);
    fg_metrics_invocation(&f.m, adult, 0, 1, FG_FAIL_TIMEOUT, 10, &full);
    fg_metrics_sent(&f.m, 0);
    fg_metrics_workflow(&f.m, 0, 1, FG_FAIL_TIMEOUT, 20, 20);
    f.m.scheduled = 1;
    f.m.window_start = 0;
    cJSON *e = fg_metrics_entry(&f.m, &f.x, &f.p, NULL, NULL);
    assert_non_null(e);
    const cJSON *u = fn_entry(e, "recognizer__upload"), *a = fn_entry(e, "recognizer__adult");
    assert_null(cJSON_GetObjectItemCaseSensitive(u, "transfer_bytes"));
    assert_null(cJSON_GetObjectItemCaseSensitive(u, "cold_starts"));
    /* Reported, even as false or a sum: present with the true figure. */
    double v;
    assert_int_equal(fg_results_metric(e, "functions.recognizer__adult.transfer_bytes", &v), 0);
    assert_true(v == 1000);
    assert_int_equal(fg_results_metric(e, "functions.recognizer__adult.cold_starts", &v), 0);
    assert_true(v == 0);
    assert_non_null(a);
    /* One completed in a 20 ms window: 50 per second. */
    assert_int_equal(fg_results_metric(e, "throughput_rps", &v), 0);
    assert_true(v > 49.99 && v < 50.01);
    cJSON_Delete(e);
    fed_free(&f);
}

static void test_cold_start_counted_once_seen(void **state)
{
    (void)state;
    fed f;
    fed_init(&f);
    fg_server_report cold = FG_SERVER_REPORT_NONE, warm = FG_SERVER_REPORT_NONE;
    cold.cold_start = 1;
    warm.cold_start = 0;
    fg_metrics_invocation(&f.m, 0, 0, 1, FG_FAIL_TIMEOUT, 10, &cold);
    fg_metrics_invocation(&f.m, 0, 0, 1, FG_FAIL_TIMEOUT, 10, &warm);
    fg_metrics_invocation(&f.m, 0, 0, 1, FG_FAIL_TIMEOUT, 10, &cold);
    cJSON *e = fg_metrics_entry(&f.m, &f.x, &f.p, NULL, NULL);
    double v;
    char path[128];
    snprintf(path, sizeof path, "functions.%s.cold_starts", f.wf.steps[0].id);
    assert_int_equal(fg_results_metric(e, path, &v), 0);
    assert_true(v == 2);
    assert_int_equal(fg_results_metric(e, "cold_starts", &v), 0);
    assert_true(v == 2);
    cJSON_Delete(e);
    fed_free(&f);
}

static void test_no_completion_no_throughput(void **state)
{
    (void)state;
    fed f;
    fed_init(&f);
    /* Three sent over a 900 ms window, none completed. */
    f.m.window_start = 100;
    for (int i = 0; i < 3; i++) {
        fg_metrics_sent(&f.m, 0);
        fg_metrics_workflow(&f.m, 0, 0, FG_FAIL_HTTP, 300, 1000);
    }
    f.m.scheduled = 3;
    cJSON *e = fg_metrics_entry(&f.m, &f.x, &f.p, NULL, NULL);
    double v;
    assert_int_equal(fg_results_metric(e, "sent", &v), 0);
    assert_true(v == 3);
    assert_int_equal(fg_results_metric(e, "wall_s", &v), 0);   /* the window was measured */
    assert_true(v > 0.89 && v < 0.91);
    assert_null(cJSON_GetObjectItemCaseSensitive(e, "throughput_rps"));
    assert_int_equal(fg_results_metric(e, "throughput_rps", &v), -1);
    cJSON_Delete(e);
    fed_free(&f);
}

/* The identities, term by term: each violation is named with its numbers;
 * an entry built from violating counts says so (accounting_error) where
 * assertions are off, and aborts where they are on. */
static void test_accounting_identities(void **state)
{
    (void)state;
    fed f;
    fed_init(&f);
    char why[256];
    /* Closed loop, N = 4: two ok, one failed, one cut off; warm-up: one
     * ok, one cut off, one slot dropped. */
    f.m.scheduled = 4;
    for (int i = 0; i < 4; i++) fg_metrics_sent(&f.m, 0);
    fg_metrics_workflow(&f.m, 0, 1, FG_FAIL_HTTP, 10, 10);
    fg_metrics_workflow(&f.m, 0, 1, FG_FAIL_HTTP, 10, 10);
    fg_metrics_workflow(&f.m, 0, 0, FG_FAIL_HTTP, 10, 10);
    fg_metrics_interrupted(&f.m, 0);
    fg_metrics_sent(&f.m, 1);
    fg_metrics_sent(&f.m, 1);
    fg_metrics_workflow(&f.m, 1, 1, FG_FAIL_HTTP, 10, 10);
    fg_metrics_interrupted(&f.m, 1);
    fg_metrics_dropped(&f.m, 1);
    assert_int_equal(fg_metrics_check(&f.m, why, sizeof why), 0);
    cJSON *e = fg_metrics_entry(&f.m, &f.x, &f.p, NULL, NULL);
    double v;
    assert_int_equal(fg_results_metric(e, "requests.sent", &v), 0);
    assert_true(v == 4);
    assert_int_equal(fg_results_metric(e, "requests.interrupted", &v), 0);
    assert_true(v == 1);
    assert_int_equal(fg_results_metric(e, "requests.unsent", &v), 0);
    assert_true(v == 0);
    assert_int_equal(fg_results_metric(e, "warmup.interrupted", &v), 0);
    assert_true(v == 1);
    assert_int_equal(fg_results_metric(e, "warmup.dropped", &v), 0);
    assert_true(v == 1);
    /* Success over the requests that completed: 2 of 3, not 2 of 4. */
    assert_int_equal(fg_results_metric(e, "success_rate", &v), 0);
    assert_true(fabs(v - 2.0 / 3.0) < 1e-9);
    assert_true(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(e, "interrupted")));
    assert_null(cJSON_GetObjectItemCaseSensitive(e, "accounting_error"));
    cJSON_Delete(e);

    /* Each identity broken in turn. */
    f.m.measured.interrupted = 0;
    assert_int_equal(fg_metrics_check(&f.m, why, sizeof why), -1);
    assert_non_null(strstr(why, "requests: sent 4 != ok 2 + failed 1 + timed_out 0 + interrupted 0"));
    f.m.measured.interrupted = 1;
    f.m.warmup.interrupted = 0;
    assert_int_equal(fg_metrics_check(&f.m, why, sizeof why), -1);
    assert_non_null(strstr(why, "warmup: sent 2"));
    f.m.warmup.interrupted = 1;
    f.m.scheduled = 5;
    assert_int_equal(fg_metrics_check(&f.m, why, sizeof why), -1);
    assert_non_null(strstr(why, "scheduled 5 != sent 4 + dropped 0 + unsent 0"));
    f.m.unsent = 1;
    assert_int_equal(fg_metrics_check(&f.m, why, sizeof why), 0);
    f.m.measured.ok = 3;
    f.m.measured.failed = 0;
    assert_int_equal(fg_metrics_check(&f.m, why, sizeof why), -1);
    assert_non_null(strstr(why, "2 samples for 3 ok"));
#ifdef NDEBUG
    e = fg_metrics_entry(&f.m, &f.x, &f.p, NULL, NULL);
    const cJSON *bad = cJSON_GetObjectItemCaseSensitive(e, "accounting_error");
    assert_true(cJSON_IsString(bad));
    assert_non_null(strstr(bad->valuestring, "2 samples for 3 ok"));
    cJSON_Delete(e);
#endif
    fed_free(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_create_exclusive),
        cmocka_unit_test(test_file_name),
        cmocka_unit_test(test_bad_files),
        cmocka_unit_test(test_find),
        cmocka_unit_test(test_find_in_category),
        cmocka_unit_test(test_metrics),
        cmocka_unit_test(test_accounting_identities),
        cmocka_unit_test(test_unreported_fields_absent),
        cmocka_unit_test(test_cold_start_counted_once_seen),
        cmocka_unit_test(test_no_completion_no_throughput),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
