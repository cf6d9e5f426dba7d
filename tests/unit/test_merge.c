/* test_merge.c — joining segment results (src/run/merge.c) on synthetic
 * files: two segments' counts add, the merged statistics are those of one
 * histogram fed every sample (not averages of the segments' percentiles),
 * per-function figures, branches, nodes and bottleneck means join by
 * weight, the window is the union on the wall clock, the samples are a
 * sample of the union; and every bad set is refused in one line naming
 * its file: a segment missing or given twice, an interrupted run or cell,
 * a cell's accounting error, cells or settings that differ, no segment. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flowgate/common.h"
#include "flowgate/hist.h"
#include "flowgate/json.h"
#include "flowgate/merge.h"
#include "flowgate/results.h"

#define PER_SEGMENT 300

/* Latency of request i of segment s: two different distributions, so an
 * average of percentiles would differ from the joined one. */
static double latency(int s, int i)
{
    return s == 0 ? 10.0 + (double)(i % 97) : 50.0 + 3.0 * (double)(i % 41);
}

static cJSON *function_obj(const fg_hist *h, double invocations, double http_errors)
{
    cJSON *f = cJSON_CreateObject();
    cJSON_AddNumberToObject(f, "invocations", invocations);
    cJSON *errs = cJSON_AddObjectToObject(f, "errors");
    cJSON_AddNumberToObject(errs, "timeout", 0);
    cJSON_AddNumberToObject(errs, "http", http_errors);
    cJSON_AddItemToObject(f, "latency_ms", fg_hist_json(h));
    cJSON_AddItemToObject(f, "latency_hist", fg_hist_to_json(h));
    cJSON_AddNumberToObject(f, "retries_429_503", 1);
    return f;
}

static double lateness(int s, int i) { return 0.01 * (i % 37) + (s ? 2.0 : 0.0) * (i % 50 == 0); }

/* Segment s of 2, one cell: PER_SEGMENT ok and 2 failed requests. */
static cJSON *segment(int s, int count)
{
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "schema", FG_RESULTS_SCHEMA);
    cJSON *run = cJSON_AddObjectToObject(root, "run");
    cJSON_AddStringToObject(run, "id", s ? "20260101-000001" : "20260101-000000");
    cJSON_AddStringToObject(run, "category", "single");
    cJSON_AddStringToObject(run, "workflow", "recognizer");
    cJSON_AddStringToObject(run, "started", s ? "2026-01-01T00:00:01+0000" : "2026-01-01T00:00:00+0000");
    cJSON_AddStringToObject(run, "finished", "2026-01-01T00:00:09+0000");
    cJSON *cfg = cJSON_AddObjectToObject(run, "config");
    cJSON_AddNumberToObject(cfg, "rate_rps", 100);
    cJSON_AddStringToObject(cfg, "results_dir", s ? "r1" : "r0");   /* may differ */
    cJSON *seg = cJSON_AddObjectToObject(run, "segment");
    cJSON_AddNumberToObject(seg, "index", s);
    cJSON_AddNumberToObject(seg, "count", count);

    cJSON *e = cJSON_CreateObject();
    cJSON_AddStringToObject(e, "experiment_id", "exp_input1.0mb_conc5_ours");
    cJSON_AddStringToObject(e, "category", "single");
    cJSON_AddStringToObject(e, "mode", "open");
    cJSON_AddNumberToObject(e, "rate_rps", 100);
    cJSON_AddNumberToObject(e, "repeat", 0);
    cJSON *eseg = cJSON_AddObjectToObject(e, "segment");
    cJSON_AddNumberToObject(eseg, "index", s);
    cJSON_AddNumberToObject(eseg, "count", count);
    cJSON *req = cJSON_AddObjectToObject(e, "requests");
    cJSON_AddNumberToObject(req, "sent", PER_SEGMENT + 2);
    cJSON_AddNumberToObject(req, "ok", PER_SEGMENT);
    cJSON_AddNumberToObject(req, "failed", 2);
    cJSON_AddNumberToObject(req, "timed_out", 0);
    cJSON_AddNumberToObject(req, "interrupted", 0);
    cJSON_AddNumberToObject(req, "dropped", 1);
    cJSON_AddNumberToObject(req, "scheduled", PER_SEGMENT + 3);
    cJSON_AddNumberToObject(req, "unsent", 0);
    cJSON *warm = cJSON_AddObjectToObject(e, "warmup");
    cJSON_AddNumberToObject(warm, "sent", 4);
    cJSON_AddNumberToObject(warm, "ok", 4);
    fg_hist *h = fg_hist_new();
    cJSON *samples = cJSON_AddArrayToObject(e, "latency_samples_ms");
    for (int i = 0; i < PER_SEGMENT; i++) {
        fg_hist_record(h, latency(s, i));
        cJSON_AddItemToArray(samples, cJSON_CreateNumber(latency(s, i)));
    }
    cJSON_AddNumberToObject(e, "latency_samples_total", PER_SEGMENT);
    cJSON_AddItemToObject(e, "latency_ms", fg_hist_json(h));
    cJSON_AddItemToObject(e, "latency_hist", fg_hist_to_json(h));
    cJSON *w = cJSON_AddObjectToObject(e, "window");
    /* Segment 1 started 1 s later and ran 4 s; segment 0 ran 3 s. */
    cJSON_AddNumberToObject(w, "start_s", 0.5);
    cJSON_AddNumberToObject(w, "end_s", s ? 4.5 : 3.5);
    cJSON_AddNumberToObject(w, "start_unix_ms", 1e12 + 500 + s * 1000);
    cJSON_AddNumberToObject(w, "end_unix_ms", 1e12 + (s ? 5500 : 3500));
    cJSON *fns = cJSON_AddObjectToObject(e, "functions");
    cJSON_AddItemToObject(fns, "f", function_obj(h, PER_SEGMENT + 2, 2));
    cJSON *br = cJSON_AddObjectToObject(cJSON_AddObjectToObject(e, "branches"), "f.flag");
    cJSON_AddNumberToObject(br, "then", 1 + s);
    cJSON_AddNumberToObject(br, "else", 10);
    cJSON *nodes = cJSON_AddObjectToObject(e, "nodes");
    cJSON_AddNumberToObject(cJSON_AddObjectToObject(nodes, "node0"), "invocations", PER_SEGMENT + 2);
    cJSON *b = cJSON_AddObjectToObject(e, "bottleneck");
    cJSON_AddNumberToObject(b, "requests", s ? 100 : 300);
    cJSON *mean = cJSON_AddObjectToObject(b, "mean_ms");
    cJSON_AddNumberToObject(mean, "exec", s ? 40 : 10);
    cJSON_AddNumberToObject(mean, "transfer", 5);
    cJSON_AddNumberToObject(mean, "queue", 0);
    cJSON_AddNumberToObject(mean, "driver", 1);
    cJSON_AddNumberToObject(b, "slot_wait_ms", 0);
    /* The schedule (the driver's pace.h): segment 1 fell behind. */
    cJSON *sc = cJSON_AddObjectToObject(e, "schedule");
    cJSON_AddNumberToObject(sc, "slots_due", PER_SEGMENT + 3);
    cJSON_AddNumberToObject(sc, "slots_sent", PER_SEGMENT + 2);
    cJSON_AddNumberToObject(sc, "target_rps", 50);
    cJSON_AddNumberToObject(sc, "achieved_rps", s ? 45 : 50);
    fg_hist *late = fg_hist_new();
    for (int i = 0; i < PER_SEGMENT + 2; i++) fg_hist_record(late, lateness(s, i));
    cJSON_AddItemToObject(sc, "lateness_ms", fg_hist_json(late));
    cJSON_AddItemToObject(sc, "lateness_hist", fg_hist_to_json(late));
    fg_hist_free(late);
    cJSON_AddBoolToObject(sc, "keeps_up", !s);
    if (s) cJSON_AddStringToObject(sc, "behind", "sent 45/s of 50/s");
    cJSON_AddStringToObject(e, "sends", s ? "direct" : "batched");   /* a kernel without io_uring */
    cJSON_AddStringToObject(e, "outcome", "pass");
    cJSON_AddItemToArray(cJSON_AddArrayToObject(root, "experiments"), e);
    fg_hist_free(h);
    return root;
}

static double at(const cJSON *o, const char *path)
{
    char buf[200];
    snprintf(buf, sizeof buf, "%s", path);
    const cJSON *v = o;
    for (char *save, *k = strtok_r(buf, "/", &save); k; k = strtok_r(NULL, "/", &save))
        v = cJSON_GetObjectItemCaseSensitive(v, k);
    if (!cJSON_IsNumber(v)) fail_msg("%s: not a number", path);
    return v->valuedouble;
}

static cJSON *merge2(cJSON *a, cJSON *b, fg_err *err)
{
    const cJSON *roots[] = {a, b};
    const char *names[] = {"seg0.json", "seg1.json"};
    return fg_merge_results(roots, names, 2, err);
}

static void test_merged_figures(void **state)
{
    (void)state;
    cJSON *a = segment(0, 2), *b = segment(1, 2);
    fg_err err = {{0}};
    /* Given in either order: segments are put in order by index. */
    cJSON *m = merge2(b, a, &err);
    if (!m) fail_msg("%s", err.msg);
    const cJSON *e = cJSON_GetArrayItem(fg_results_experiments(m), 0);
    assert_int_equal(at(e, "requests/ok"), 2 * PER_SEGMENT);
    assert_int_equal(at(e, "requests/sent"), 2 * (PER_SEGMENT + 2));
    assert_int_equal(at(e, "requests/scheduled"), 2 * (PER_SEGMENT + 3));
    assert_int_equal(at(e, "requests/dropped"), 2);
    assert_int_equal(at(e, "warmup/ok"), 8);
    /* One histogram fed every sample gives exactly the merged statistics. */
    fg_hist *all = fg_hist_new();
    for (int s = 0; s < 2; s++)
        for (int i = 0; i < PER_SEGMENT; i++) fg_hist_record(all, latency(s, i));
    cJSON *expect = fg_hist_json(all);
    assert_true(cJSON_Compare(expect, cJSON_GetObjectItem(e, "latency_ms"), 1));
    assert_true(cJSON_Compare(expect, cJSON_GetObjectItem(cJSON_GetObjectItem(
                                  cJSON_GetObjectItem(e, "functions"), "f"), "latency_ms"), 1));
    cJSON_Delete(expect);
    fg_hist_free(all);
    assert_int_equal(at(e, "functions/f/invocations"), 2 * (PER_SEGMENT + 2));
    assert_int_equal(at(e, "functions/f/errors/http"), 4);
    assert_int_equal(at(e, "functions/f/retries_429_503"), 2);
    assert_int_equal(at(e, "branches/f.flag/then"), 3);
    assert_int_equal(at(e, "nodes/node0/invocations"), 2 * (PER_SEGMENT + 2));
    /* Bottleneck: exec mean weighted 300:100 = (300·10 + 100·40) / 400. */
    assert_true(fabs(at(e, "bottleneck/mean_ms/exec") - 17.5) < 1e-9);
    assert_int_equal(at(e, "bottleneck/requests"), 400);
    assert_true(fabs(at(e, "bottleneck/share/exec") - 17.5 / 23.5) < 1e-4);
    /* Window: the union, 0.5 s to 5.5 s after the earliest start. */
    assert_true(fabs(at(e, "wall_s") - 5.0) < 1e-9);
    assert_true(fabs(at(e, "throughput_rps") - 2 * PER_SEGMENT / 5.0) < 1e-9);
    assert_true(fabs(at(e, "success_rate") - 600.0 / 604.0) < 1e-12);
    assert_int_equal(at(e, "latency_samples_total"), 2 * PER_SEGMENT);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(e, "latency_samples_ms")), 2 * PER_SEGMENT);
    /* Schedule: slots and rates add, lateness by bucket, segment 1 named. */
    assert_int_equal(at(e, "schedule/slots_due"), 2 * (PER_SEGMENT + 3));
    assert_int_equal(at(e, "schedule/slots_sent"), 2 * (PER_SEGMENT + 2));
    assert_int_equal(at(e, "schedule/target_rps"), 100);
    assert_int_equal(at(e, "schedule/achieved_rps"), 95);
    fg_hist *late = fg_hist_new();
    for (int s = 0; s < 2; s++)
        for (int i = 0; i < PER_SEGMENT + 2; i++) fg_hist_record(late, lateness(s, i));
    expect = fg_hist_json(late);
    assert_true(cJSON_Compare(expect, cJSON_GetObjectItem(cJSON_GetObjectItem(e, "schedule"),
                                                          "lateness_ms"), 1));
    cJSON_Delete(expect);
    fg_hist_free(late);
    const cJSON *sched = cJSON_GetObjectItem(e, "schedule");
    assert_true(cJSON_IsFalse(cJSON_GetObjectItem(sched, "keeps_up")));
    assert_string_equal(fg_json_string(sched, "behind"), "seg0.json: sent 45/s of 50/s");
    assert_string_equal(fg_json_string(e, "sends"), "mixed");
    assert_int_equal(at(e, "merged_segments"), 2);
    assert_null(cJSON_GetObjectItem(e, "segment"));
    assert_null(cJSON_GetObjectItem(e, "outcome"));
    const cJSON *run = cJSON_GetObjectItem(m, "run");
    assert_int_equal(at(run, "merge/segments"), 2);
    assert_string_equal(cJSON_GetArrayItem(cJSON_GetObjectItem(cJSON_GetObjectItem(run, "merge"),
                                                               "sources"), 0)->valuestring,
                        "seg1.json");   /* segment 0's file first */
    assert_string_equal(fg_json_string(run, "id"), "20260101-000000-merge2");
    assert_null(cJSON_GetObjectItem(run, "segment"));
    /* The merged document is a results file: saved and loaded back. */
    char path[] = "/tmp/flowgate-merge-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(fg_results_save(path, m, &err), 0);
    cJSON *back = fg_results_load(path, &err);
    assert_non_null(back);
    cJSON_Delete(back);
    remove(path);
    cJSON_Delete(m);
    cJSON_Delete(a);
    cJSON_Delete(b);
}

/* Each broken set: NULL, and the line names the file (or segment). */
static void expect_refused(cJSON *a, cJSON *b, const char *names_it, const char *says)
{
    fg_err err = {{0}};
    cJSON *m = merge2(a, b, &err);
    if (m) fail_msg("merged, expected a refusal naming %s", names_it);
    if (!strstr(err.msg, names_it) || !strstr(err.msg, says))
        fail_msg("'%s' should name %s and say %s", err.msg, names_it, says);
    assert_null(strchr(err.msg, '\n'));
    cJSON_Delete(a);
    cJSON_Delete(b);
}

static cJSON *cell(cJSON *root)
{
    return cJSON_GetArrayItem(cJSON_GetObjectItem(root, "experiments"), 0);
}

static void test_refusals(void **state)
{
    (void)state;
    /* Segment 1 of 2 missing: both files are segment 0. */
    expect_refused(segment(0, 2), segment(0, 2), "seg1.json", "again");
    /* Three segments, two files. */
    expect_refused(segment(0, 3), segment(1, 3), "segment 2/3", "missing");
    /* Counts that disagree. */
    expect_refused(segment(0, 2), segment(1, 3), "seg1.json", "one of 2");
    /* An interrupted run. */
    cJSON *b = segment(1, 2);
    cJSON_AddTrueToObject(cJSON_GetObjectItem(b, "run"), "interrupted");
    expect_refused(segment(0, 2), b, "seg1.json", "interrupted");
    /* A cell cut short. */
    b = segment(1, 2);
    cJSON_AddTrueToObject(cell(b), "interrupted");
    expect_refused(segment(0, 2), b, "seg1.json", "interrupted");
    /* A cell that failed its accounting. */
    cJSON *a = segment(0, 2);
    cJSON_AddStringToObject(cell(a), "accounting_error", "requests: sent 3 != ok 1 + ...");
    expect_refused(a, segment(1, 2), "seg0.json", "accounting");
    /* Mismatched cells: another cell id. */
    b = segment(1, 2);
    cJSON_ReplaceItemInObject(cell(b), "experiment_id", cJSON_CreateString("exp_other"));
    expect_refused(segment(0, 2), b, "seg1.json", "missing");
    /* The same cell with another schedule. */
    b = segment(1, 2);
    cJSON_ReplaceItemInObject(cell(b), "rate_rps", cJSON_CreateNumber(50));
    expect_refused(segment(0, 2), b, "seg1.json", "rate_rps");
    /* Another run's settings. */
    b = segment(1, 2);
    cJSON_AddNumberToObject(cJSON_GetObjectItem(cJSON_GetObjectItem(b, "run"), "config"), "seed", 7);
    expect_refused(segment(0, 2), b, "seg1.json", "config.seed");
    /* Not a segment at all (a plain run, or a merged file). */
    b = segment(1, 2);
    cJSON_DeleteItemFromObject(cJSON_GetObjectItem(b, "run"), "segment");
    expect_refused(segment(0, 2), b, "seg1.json", "--segment");
    /* A file without histograms (an older flowgate). */
    b = segment(1, 2);
    cJSON_DeleteItemFromObject(cell(b), "latency_hist");
    expect_refused(segment(0, 2), b, "seg1.json", "latency_hist");
    /* A histogram of another layout. */
    b = segment(1, 2);
    cJSON_ReplaceItemInObject(cJSON_GetObjectItem(cell(b), "latency_hist"), "scheme",
                              cJSON_CreateString("hdr/v9"));
    expect_refused(segment(0, 2), b, "seg1.json", "scheme");
}

static void test_files(void **state)
{
    (void)state;
    char p0[] = "/tmp/flowgate-seg0-XXXXXX", p1[] = "/tmp/flowgate-seg1-XXXXXX";
    assert_true(mkstemp(p0) >= 0 && mkstemp(p1) >= 0);
    fg_err err = {{0}};
    cJSON *a = segment(0, 2), *b = segment(1, 2);
    assert_int_equal(fg_results_save(p0, a, &err), 0);
    assert_int_equal(fg_results_save(p1, b, &err), 0);
    const char *paths[] = {p0, p1};
    cJSON *m = fg_merge_files(paths, 2, &err);
    assert_non_null(m);
    cJSON_Delete(m);
    const char *missing[] = {p0, "/tmp/flowgate-no-such-segment.json"};
    assert_null(fg_merge_files(missing, 2, &err));
    assert_non_null(strstr(err.msg, "flowgate-no-such-segment.json"));
    remove(p0);
    remove(p1);
    cJSON_Delete(a);
    cJSON_Delete(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_merged_figures),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_files),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
