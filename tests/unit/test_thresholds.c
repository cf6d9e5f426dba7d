/* test_thresholds.c — the threshold parser (every operator, whitespace,
 * number forms, relative limits, every bad form), document resolution
 * (cell > category > default, bad documents, misspelt metrics at load),
 * evaluation against a constructed experiment entry (with and without a
 * base, percentiles the sample count cannot resolve), and the gate turning
 * red when the real data/thresholds.json is tightened. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "flowgate/thresholds.h"

/* An experiment entry shaped like the runner's (README "Results"). */
static cJSON *make_experiment(const char *id, double p95, double success_rate, int timed_out,
                              double throughput)
{
    cJSON *e = cJSON_CreateObject();
    cJSON_AddStringToObject(e, "experiment_id", id);
    cJSON_AddStringToObject(e, "category", "standard");
    cJSON_AddNumberToObject(e, "input_mb", 1.0);
    cJSON_AddNumberToObject(e, "concurrency", 5);
    cJSON_AddStringToObject(e, "scheduler", "ours");
    cJSON_AddStringToObject(e, "mode", "closed");
    cJSON_AddNumberToObject(e, "repeat", 0);
    cJSON *req = cJSON_AddObjectToObject(e, "requests");
    int sent = 20, ok = (int)lround(success_rate * sent);
    cJSON_AddNumberToObject(req, "sent", sent);
    cJSON_AddNumberToObject(req, "ok", ok);
    cJSON_AddNumberToObject(req, "failed", sent - ok - timed_out);
    cJSON_AddNumberToObject(req, "timed_out", timed_out);
    cJSON_AddNumberToObject(e, "success_rate", success_rate);
    cJSON_AddNumberToObject(e, "wall_s", 12.5);
    cJSON_AddNumberToObject(e, "throughput_rps", throughput);
    cJSON *lat = cJSON_AddObjectToObject(e, "latency_ms");
    cJSON_AddNumberToObject(lat, "count", ok);
    cJSON_AddNumberToObject(lat, "min", p95 * 0.5);
    cJSON_AddNumberToObject(lat, "mean", p95 * 0.7);
    cJSON_AddNumberToObject(lat, "p50", p95 * 0.65);
    cJSON_AddNumberToObject(lat, "p90", p95 * 0.9);
    cJSON_AddNumberToObject(lat, "p95", p95);
    cJSON_AddNumberToObject(lat, "p99", p95 * 1.1);
    cJSON_AddNumberToObject(lat, "max", p95 * 1.2);
    cJSON *fns = cJSON_AddObjectToObject(e, "functions");
    cJSON *ex = cJSON_AddObjectToObject(fns, "recognizer__extract");
    cJSON *exec = cJSON_AddObjectToObject(ex, "exec_ms");
    cJSON_AddNumberToObject(exec, "count", ok);
    cJSON_AddNumberToObject(exec, "p95", 640.0);
    return e;
}

/* ---- parser -------------------------------------------------------------- */

static void test_parse_each_operator(void **state)
{
    (void)state;
    static const struct { const char *text; const char *metric; fg_cmp cmp; double limit; } cases[] = {
        {"p95_ms < 5000", "p95_ms", FG_CMP_LT, 5000},
        {"p95_ms <= 5000", "p95_ms", FG_CMP_LE, 5000},
        {"success_rate > 0.90", "success_rate", FG_CMP_GT, 0.90},
        {"success_rate >= 0.9", "success_rate", FG_CMP_GE, 0.9},
        {"timeouts == 0", "timeouts", FG_CMP_EQ, 0},
        {"failed != 3", "failed", FG_CMP_NE, 3},
        {"functions.recognizer__extract.exec_ms.p95 <= 2.5", "functions.recognizer__extract.exec_ms.p95",
         FG_CMP_LE, 2.5},
        {"_private>1", "_private", FG_CMP_GT, 1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        fg_threshold t;
        fg_err err = {{0}};
        assert_int_equal(fg_threshold_parse(cases[i].text, &t, &err), 0);
        assert_string_equal(t.text, cases[i].text);
        assert_string_equal(t.metric, cases[i].metric);
        assert_int_equal(t.cmp, cases[i].cmp);
        assert_true(t.limit == cases[i].limit);
    }
}

static void test_parse_whitespace_and_numbers(void **state)
{
    (void)state;
    static const struct { const char *text; fg_cmp cmp; double limit; } cases[] = {
        {"p95_ms<5000", FG_CMP_LT, 5000},
        {"  p95_ms   <   5000  ", FG_CMP_LT, 5000},
        {"\tp95_ms\t>=\t.5\n", FG_CMP_GE, 0.5},
        {"p95_ms < 1.", FG_CMP_LT, 1.0},
        {"p95_ms < 1e-3", FG_CMP_LT, 1e-3},
        {"p95_ms < 2.5E+2", FG_CMP_LT, 250},
        {"p95_ms > -0.25", FG_CMP_GT, -0.25},
        {"p95_ms > +2", FG_CMP_GT, 2},
        {"p95_ms==-1.5e3", FG_CMP_EQ, -1500},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        fg_threshold t;
        fg_err err = {{0}};
        assert_int_equal(fg_threshold_parse(cases[i].text, &t, &err), 0);
        assert_string_equal(t.metric, "p95_ms");
        assert_int_equal(t.cmp, cases[i].cmp);
        assert_true(fabs(t.limit - cases[i].limit) <= 1e-12 * fabs(cases[i].limit));
    }
}

static void test_parse_bad_forms(void **state)
{
    (void)state;
    static const struct { const char *text; const char *problem; } cases[] = {
        {"", "empty expression"},
        {"   \t ", "empty expression"},
        {"p95_ms", "missing operator"},
        {"p95_ms 5000", "missing operator"},
        {"p95_ms <", "missing limit"},
        {"p95_ms <=   ", "missing limit"},
        {"p95_ms = 5", "unknown operator"},
        {"p95_ms => 5", "unknown operator"},
        {"p95_ms <> 5", "unknown operator"},
        {"p95_ms === 5", "unknown operator"},
        {"p95_ms <=> 5", "unknown operator"},
        {"p95_ms !== 5", "unknown operator"},
        {"p95_ms < 5000 ms", "unexpected text after the limit"},
        {"p95_ms < 5000x", "unexpected text after the limit"},
        {"p95_ms < 1e", "unexpected text after the limit"},
        {"p95_ms < 5 5", "unexpected text after the limit"},
        {"p95_ms < abc", "limit is not a number"},
        {"p95_ms < nan", "limit is not a number"},
        {"p95_ms < inf", "limit is not a number"},
        {"p95_ms < 0x10", "limit is not a decimal number"},
        {"p95_ms < 1e999", "limit out of range"},
        {"p95_ms < 1.25 *", "expected 'base.<metric>' after '*'"},
        {"p95_ms < 1.25 * p95_ms", "expected 'base.<metric>' after '*'"},
        {"p95_ms < 1.25 * base.", "bad metric name"},
        {"p95_ms < base.p95_ms * x", "limit is not a number"},
        {"p95_ms < 2 * base.p95_ms extra", "unexpected text after the limit"},
        {"p95_ms * 2 < 5", "missing operator"},
        {"< 5000", "missing metric"},
        {"9p95 < 5", "bad metric name"},
        {"p95-ms < 5", "bad metric name"},
        {"latency_ms..p95 < 5", "bad metric name"},
        {"latency_ms. < 5", "bad metric name"},
        {"\"p95_ms\" < 5", "bad metric name"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        fg_threshold t;
        fg_err err = {{0}};
        assert_int_equal(fg_threshold_parse(cases[i].text, &t, &err), -1);
        char prefix[160];
        snprintf(prefix, sizeof prefix, "bad threshold '%s': ", cases[i].text);
        if (strncmp(err.msg, prefix, strlen(prefix)) || !strstr(err.msg, cases[i].problem))
            fail_msg("'%s' gave '%s', expected the problem '%s'", cases[i].text, err.msg,
                     cases[i].problem);
    }
    fg_threshold t;
    fg_err err;
    assert_int_equal(fg_threshold_parse("p95_ms <", &t, &err), -1);
    assert_string_equal(err.msg, "bad threshold 'p95_ms <': missing limit");
    assert_int_equal(fg_threshold_parse(NULL, &t, &err), -1);
    char long_text[300];
    memset(long_text, 'a', sizeof long_text - 1);
    long_text[sizeof long_text - 1] = 0;
    assert_int_equal(fg_threshold_parse(long_text, &t, &err), -1);
    assert_non_null(strstr(err.msg, "too long"));
}

/* ---- documents ----------------------------------------------------------- */

static const char *doc_text =
    "{\"_comment\": \"test\","
    " \"default\": [\"success_rate > 0.5\"],"
    " \"categories\": {\"standard\": [\"p95_ms < 5000\", \"timeouts == 0\"], \"_note\": \"x\"},"
    " \"cells\": {\"exp_input1.0mb_conc5_ours\": [\"p95_ms < 100\"]}}";

static void test_document_precedence(void **state)
{
    (void)state;
    cJSON *doc = cJSON_Parse(doc_text);
    fg_threshold ts[8];
    fg_err err = {{0}};
    assert_int_equal(fg_thresholds_for(doc, "standard", "exp_input1.0mb_conc5_ours", ts, 8, &err), 1);
    assert_string_equal(ts[0].text, "p95_ms < 100");
    assert_int_equal(fg_thresholds_for(doc, "standard", "exp_input2.0mb_conc5_ours", ts, 8, &err), 2);
    assert_string_equal(ts[0].text, "p95_ms < 5000");
    assert_string_equal(ts[1].text, "timeouts == 0");
    assert_int_equal(fg_thresholds_for(doc, "extreme", "exp_input10.0mb_conc50_ours", ts, 8, &err), 1);
    assert_string_equal(ts[0].text, "success_rate > 0.5");
    assert_int_equal(fg_thresholds_for(doc, NULL, NULL, ts, 8, &err), 1);
    assert_string_equal(ts[0].text, "success_rate > 0.5");
    /* The cell's list applies even when its category has none. */
    assert_int_equal(fg_thresholds_for(doc, "extreme", "exp_input1.0mb_conc5_ours", ts, 8, &err), 1);
    assert_string_equal(ts[0].text, "p95_ms < 100");
    /* More thresholds than room is an error, not a silent cut. */
    assert_int_equal(fg_thresholds_for(doc, "standard", "x", ts, 1, &err), -1);
    assert_non_null(strstr(err.msg, "categories.standard"));
    cJSON_Delete(doc);

    cJSON *empty = cJSON_Parse("{}");
    assert_int_equal(fg_thresholds_for(empty, "standard", "x", ts, 8, &err), 0);
    cJSON_Delete(empty);
}

static void test_document_errors(void **state)
{
    (void)state;
    static const struct { const char *doc; const char *expect[2]; } cases[] = {
        {"[1]", {"not a JSON object", NULL}},
        {"{\"default\": \"p95_ms < 1\"}", {"default", "not an array"}},
        {"{\"default\": [\"p95_ms < 1\", 5]}", {"default[1]", "not a string"}},
        {"{\"categories\": {\"standard\": [\"success_rate > 0.9\", \"p95_ms <\"]}}",
         {"categories.standard[1]: bad threshold 'p95_ms <': missing limit", NULL}},
        {"{\"categories\": [\"p95_ms < 1\"]}", {"categories", "not an object"}},
        /* A bad list is found even when the cell asked for is elsewhere. */
        {"{\"cells\": {\"exp_other\": [\"p95 ms < 1\"]}}", {"cells.exp_other[0]", "missing operator"}},
        {"{\"defaults\": []}", {"unknown key 'defaults'", NULL}},
        /* An empty list would make its cells pass whatever they measure. */
        {"{\"default\": []}", {"default: empty list", "cannot fail"}},
        {"{\"default\": [\"p95_ms < 1\"], \"cells\": {\"exp_x\": []}}",
         {"cells.exp_x: empty list", NULL}},
        /* A misspelt metric: caught at load, naming the key path and the metric. */
        {"{\"categories\": {\"smoke\": [\"success_rate > 0.9\", \"p95ms < 5000\"]}}",
         {"categories.smoke[1]: unknown metric 'p95ms'", NULL}},
        {"{\"default\": [\"p95_ms < 1.25 * base.p59_ms\"]}",
         {"default[0]: unknown metric 'base.p59_ms'", NULL}},
        {"{\"default\": [\"functions.ocr.exec_ms.p96 < 1\"]}",
         {"unknown metric 'functions.ocr.exec_ms.p96'", NULL}},
        {"{\"default\": [\"functions.ocr.exec.p95 < 1\"]}", {"unknown metric", NULL}},
        {"{\"default\": [\"functions.ocr.errors.conect == 0\"]}", {"unknown metric", NULL}},
        {"{\"default\": [\"requests.timeouts == 0\"]}",
         {"unknown metric 'requests.timeouts'", NULL}},
        {"{\"default\": [\"latency_ms.p95.x < 1\"]}", {"unknown metric", NULL}},
        {"{\"default\": [\"nodes.n1.calls > 0\"]}", {"unknown metric", NULL}},
        {"{\"default\": [\"throughput > 0\"]}", {"unknown metric 'throughput'", NULL}},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        cJSON *doc = cJSON_Parse(cases[i].doc);
        assert_non_null(doc);
        fg_threshold ts[8];
        fg_err err = {{0}};
        assert_int_equal(fg_thresholds_for(doc, "standard", "exp_input1.0mb_conc5_ours", ts, 8, &err), -1);
        for (int k = 0; k < 2 && cases[i].expect[k]; k++)
            if (!strstr(err.msg, cases[i].expect[k]))
                fail_msg("doc %s: error '%s' lacks '%s'", cases[i].doc, err.msg, cases[i].expect[k]);
        assert_int_equal(fg_thresholds_check(doc, &err), -1);
        cJSON_Delete(doc);
    }
}

/* Every form of the metric grammar is accepted. */
static void test_known_metrics(void **state)
{
    (void)state;
    static const char *const ok[] = {
        "success_rate", "timeouts", "failed", "sent", "ok", "p50_ms", "p90_ms", "p95_ms",
        "p99_ms", "min_ms", "max_ms", "mean_ms", "throughput_rps", "wall_s", "cold_starts",
        "dropped", "latency_ms.p99", "latency_ms.count",
        "functions.recognizer__extract.exec_ms.p95", "functions.x.latency_ms.max",
        "functions.x.queue_ms.p50", "functions.x.transfer_ms.mean", "functions.x.invocations",
        "functions.x.cold_starts", "functions.x.transfer_bytes", "functions.x.errors.timeout",
        "functions.x.errors.client", "requests.sent", "requests.timed_out", "requests.scheduled",
        "requests.dropped", "requests.unsent", "warmup.ok", "warmup.cold_starts",
        "warmup.duration_s", "warmup.interrupted", "warmup.dropped", "warmup.latency_ms.p95",
        "window.start_s", "window.end_s",
        "nodes.node1.invocations", "server.cpu_s", "server.peak_rss_kb",
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        char text[256];
        snprintf(text, sizeof text, "{\"default\": [\"%s >= 0\", \"%s < 2 * base.%s\"]}", ok[i],
                 ok[i], ok[i]);
        cJSON *doc = cJSON_Parse(text);
        fg_err err = {{0}};
        if (fg_thresholds_check(doc, &err) != 0) fail_msg("%s: %s", ok[i], err.msg);
        cJSON_Delete(doc);
    }
}

static void test_load_names_file(void **state)
{
    (void)state;
    const char *path = "test_thresholds_bad.json";
    fg_err err = {{0}};
    assert_int_equal(fg_write_file_atomic(path, "{\"default\": [", 13, &err), 0);
    assert_null(fg_thresholds_load(path, &err));
    assert_non_null(strstr(err.msg, path));
    assert_non_null(strstr(err.msg, "invalid JSON"));
    const char *bad = "{\"default\": [\"p95_ms << 3\"]}";
    assert_int_equal(fg_write_file_atomic(path, bad, strlen(bad), &err), 0);
    assert_null(fg_thresholds_load(path, &err));
    assert_non_null(strstr(err.msg, path));
    assert_non_null(strstr(err.msg, "default[0]"));
    /* A misspelt metric fails at load, before any run. */
    const char *typo = "{\"default\": [\"success_rate > 0.9\", \"p95_mss < 5000\"]}";
    assert_int_equal(fg_write_file_atomic(path, typo, strlen(typo), &err), 0);
    assert_null(fg_thresholds_load(path, &err));
    assert_non_null(strstr(err.msg, path));
    assert_non_null(strstr(err.msg, "default[1]: unknown metric 'p95_mss'"));
    assert_null(strchr(err.msg, '\n'));
    remove(path);
    assert_null(fg_thresholds_load("no/such/thresholds.json", &err));
    assert_non_null(strstr(err.msg, "no/such/thresholds.json"));
}

/* ---- evaluation ---------------------------------------------------------- */

static void test_eval_pass_fail_missing(void **state)
{
    (void)state;
    cJSON *e = make_experiment("exp_input1.0mb_conc5_ours", 1200, 0.95, 0, 3.5);
    static const struct { const char *text; int pass; double actual; } cases[] = {
        {"p95_ms < 5000", 1, 1200},
        {"p95_ms < 1000", 0, 1200},
        {"p95_ms < 1200", 0, 1200},
        {"p95_ms <= 1200", 1, 1200},
        {"p95_ms > 1200", 0, 1200},
        {"p95_ms >= 1200", 1, 1200},
        {"p95_ms == 1200", 1, 1200},
        {"p95_ms != 1200", 0, 1200},
        {"success_rate > 0.90", 1, 0.95},
        {"timeouts == 0", 1, 0},
        {"timeouts != 0", 0, 0},
        {"throughput_rps > 0", 1, 3.5},
        {"functions.recognizer__extract.exec_ms.p95 <= 800", 1, 640},
        {"functions.recognizer__extract.exec_ms.p95 < 600", 0, 640},
        {"no_such_metric > 0", 0, NAN},
        {"functions.recognizer__nope.exec_ms.p95 < 1", 0, NAN},
    };
    enum { N = sizeof cases / sizeof cases[0] };
    fg_threshold ts[N];
    fg_threshold_verdict vs[N];
    int expected_failures = 0;
    for (int i = 0; i < N; i++) {
        assert_int_equal(fg_threshold_parse(cases[i].text, &ts[i], NULL), 0);
        expected_failures += !cases[i].pass;
    }
    assert_int_equal(fg_thresholds_eval(ts, N, e, vs), expected_failures);
    for (int i = 0; i < N; i++) {
        if (vs[i].pass != cases[i].pass)
            fail_msg("'%s': pass=%d, expected %d (actual %g)", cases[i].text, vs[i].pass,
                     cases[i].pass, vs[i].actual);
        assert_string_equal(vs[i].t.text, cases[i].text);
        if (isnan(cases[i].actual))
            assert_true(isnan(vs[i].actual));
        else
            assert_true(fabs(vs[i].actual - cases[i].actual) < 1e-9);
    }
    cJSON_Delete(e);
}

static void test_parse_relative(void **state)
{
    (void)state;
    static const struct { const char *text, *metric, *base; fg_cmp cmp; double factor; } cases[] = {
        {"p95_ms < 1.25 * base.p95_ms", "p95_ms", "p95_ms", FG_CMP_LT, 1.25},
        {"throughput_rps > 0.8 * base.throughput_rps", "throughput_rps", "throughput_rps",
         FG_CMP_GT, 0.8},
        {"p50_ms <= base.p50_ms", "p50_ms", "p50_ms", FG_CMP_LE, 1.0},
        {"p95_ms<base.p95_ms*1.1", "p95_ms", "p95_ms", FG_CMP_LT, 1.1},
        {"  functions.x.exec_ms.p95 <  2e0 *  base.functions.x.exec_ms.p50 ",
         "functions.x.exec_ms.p95", "functions.x.exec_ms.p50", FG_CMP_LT, 2},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        fg_threshold t;
        fg_err err = {{0}};
        if (fg_threshold_parse(cases[i].text, &t, &err) != 0) fail_msg("%s", err.msg);
        assert_true(t.relative);
        assert_string_equal(t.metric, cases[i].metric);
        assert_string_equal(t.base_metric, cases[i].base);
        assert_int_equal(t.cmp, cases[i].cmp);
        assert_true(fabs(t.limit - cases[i].factor) < 1e-12);
    }
    fg_threshold t;
    assert_int_equal(fg_threshold_parse("p95_ms < 5000", &t, NULL), 0);
    assert_false(t.relative);
}

/* Relative thresholds against a base entry; skipped without one. */
static void test_eval_base(void **state)
{
    (void)state;
    cJSON *e = make_experiment("exp_a", 1200, 0.95, 0, 3.5);
    cJSON *b = make_experiment("exp_a", 1000, 1.0, 0, 5.0);
    static const char *const texts[] = {
        "p95_ms < 1.25 * base.p95_ms",            /* 1200 < 1250: pass */
        "p95_ms < 1.1 * base.p95_ms",             /* 1200 >= 1100: fail */
        "throughput_rps > 0.8 * base.throughput_rps",  /* 3.5 <= 4.0: fail */
        "success_rate > 0.9",                     /* absolute: pass */
        "p95_ms < 2 * base.functions.nope.exec_ms.p95",  /* base lacks it: fail */
    };
    enum { N = sizeof texts / sizeof texts[0] };
    fg_threshold ts[N];
    fg_threshold_verdict vs[N];
    for (int i = 0; i < N; i++) assert_int_equal(fg_threshold_parse(texts[i], &ts[i], NULL), 0);
    assert_int_equal(fg_thresholds_eval_base(ts, N, e, b, vs), 3);
    assert_true(vs[0].pass && !vs[0].skipped);
    assert_true(fabs(vs[0].limit - 1250) < 1e-9);
    assert_string_equal(vs[0].note, "limit 1250 = 1.25 x base 1000");
    assert_false(vs[1].pass);
    assert_false(vs[2].pass);
    assert_true(fabs(vs[2].limit - 4.0) < 1e-9);
    assert_true(vs[3].pass);
    assert_false(vs[4].pass);
    assert_false(vs[4].skipped);
    assert_string_equal(vs[4].note, "base.functions.nope.exec_ms.p95 = n/a (not in the results)");
    /* No base: the relative ones are skipped, not failed; the absolute one still counts. */
    assert_int_equal(fg_thresholds_eval_base(ts, N, e, NULL, vs), 0);
    for (int i = 0; i < N; i++) {
        assert_int_equal(vs[i].skipped, i != 3);
        if (i != 3) assert_string_equal(vs[i].note, "skipped: no base");
    }
    assert_true(vs[3].pass);
    assert_int_equal(fg_thresholds_eval(ts, N, e, vs), 0);
    assert_true(vs[0].skipped);
    cJSON_Delete(e);
    cJSON_Delete(b);
}

/* metrics.c writes pXX only when n >= 1/(1-q): an absent percentile of a
 * small sample fails, saying so, instead of passing on the maximum. */
static void test_eval_unresolved_percentile(void **state)
{
    (void)state;
    cJSON *e = make_experiment("exp_a", 1200, 0.6, 0, 3.5);   /* 12 of 20 ok: count 12 */
    cJSON *lat = cJSON_GetObjectItemCaseSensitive(e, "latency_ms");
    cJSON_DeleteItemFromObjectCaseSensitive(lat, "p99");
    cJSON_DeleteItemFromObjectCaseSensitive(lat, "p95");
    cJSON *exec = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(e, "functions"),
                                         "recognizer__extract"), "exec_ms");
    cJSON_DeleteItemFromObjectCaseSensitive(exec, "p95");
    cJSON_AddNumberToObject(cJSON_GetObjectItemCaseSensitive(e, "requests"), "dropped", 3);
    static const char *const texts[] = {"p99_ms < 100000", "p95_ms < 100000", "p90_ms < 100000",
                                        "functions.recognizer__extract.exec_ms.p95 < 100000",
                                        "dropped == 3"};
    enum { N = sizeof texts / sizeof texts[0] };
    fg_threshold ts[N];
    fg_threshold_verdict vs[N];
    for (int i = 0; i < N; i++) assert_int_equal(fg_threshold_parse(texts[i], &ts[i], NULL), 0);
    assert_int_equal(fg_thresholds_eval(ts, N, e, vs), 3);
    assert_false(vs[0].pass);
    assert_true(isnan(vs[0].actual));
    assert_string_equal(vs[0].note, "p99_ms = n/a (12 samples; p99 needs >= 100)");
    /* p95 of 12 is not resolvable either (needs 20); p90 of 12 is, and is there. */
    assert_string_equal(vs[1].note, "p95_ms = n/a (12 samples; p95 needs >= 20)");
    assert_true(vs[2].pass);
    assert_string_equal(vs[3].note, "functions.recognizer__extract.exec_ms.p95 = n/a (12 samples; "
                                    "p95 needs >= 20)");
    assert_true(vs[4].pass);      /* dropped: requests.dropped */
    assert_true(fabs(vs[4].actual - 3) < 1e-12);
    cJSON_Delete(e);
}

/* data/thresholds.json, the gates the suites use. */
static cJSON *load_real_thresholds(void)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/thresholds.json", fg_data_dir());
    fg_err err = {{0}};
    /* As written: the cells' numbers are the reference machine's. */
    setenv("FLOWGATE_MACHINE_SCALE", "off", 1);
    cJSON *doc = fg_thresholds_load(path, &err);
    unsetenv("FLOWGATE_MACHINE_SCALE");
    if (!doc) fail_msg("%s", err.msg);
    return doc;
}

static double limit_of(const fg_threshold *ts, int n, const char *metric)
{
    for (int i = 0; i < n; i++)
        if (!strcmp(ts[i].metric, metric)) return ts[i].limit;
    fail_msg("no %s threshold", metric);
    return NAN;
}

/* Time and rate metrics by their unit suffix; the rest has none. */
static void test_metric_units(void **state)
{
    (void)state;
    assert_int_equal(fg_metric_unit_of("p95_ms"), FG_UNIT_TIME);
    assert_int_equal(fg_metric_unit_of("latency_ms.p99"), FG_UNIT_TIME);
    assert_int_equal(fg_metric_unit_of("functions.f.exec_ms.p50"), FG_UNIT_TIME);
    assert_int_equal(fg_metric_unit_of("wall_s"), FG_UNIT_TIME);
    assert_int_equal(fg_metric_unit_of("throughput_rps"), FG_UNIT_RATE);
    assert_int_equal(fg_metric_unit_of("success_rate"), FG_UNIT_OTHER);
    assert_int_equal(fg_metric_unit_of("timeouts"), FG_UNIT_OTHER);
    assert_int_equal(fg_metric_unit_of("functions.f.invocations"), FG_UNIT_OTHER);
}

/* A machine twice as fast (factor 0.5) halves time bounds and doubles rate
 * bounds; unit-less and relative bounds stay as written; a bad "machine"
 * is an error at load. */
static void test_machine_scale(void **state)
{
    (void)state;
    fg_err err = {{0}};
    cJSON *doc = cJSON_Parse("{\"machine\":{\"probe_ms\":10,\"factor\":0.5},"
                             "\"default\":[\"p50_ms < 80\",\"throughput_rps > 20\","
                             "\"success_rate > 0.9\",\"p95_ms < 1.25 * base.p95_ms\"]}");
    assert_non_null(doc);
    fg_threshold ts[8];
    int n = fg_thresholds_for(doc, "standard", "exp_x", ts, 8, &err);
    assert_int_equal(n, 4);
    assert_true(limit_of(ts, n, "p50_ms") == 40);
    assert_true(limit_of(ts, n, "throughput_rps") == 40);
    assert_true(limit_of(ts, n, "success_rate") == 0.9);
    assert_true(limit_of(ts, n, "p95_ms") == 1.25);
    /* 2x slower than the reference's 50 ms fails here; as fast passes */
    cJSON *e = make_experiment("exp_x", 60, 1.0, 0, 45);
    cJSON_ReplaceItemInObject(cJSON_GetObjectItemCaseSensitive(e, "latency_ms"), "p50",
                              cJSON_CreateNumber(35));
    fg_threshold_verdict vs[8];
    assert_int_equal(fg_thresholds_eval(ts, 3, e, vs), 0);
    cJSON_ReplaceItemInObject(cJSON_GetObjectItemCaseSensitive(e, "latency_ms"), "p50",
                              cJSON_CreateNumber(50));
    assert_int_equal(fg_thresholds_eval(ts, 3, e, vs), 1);
    cJSON_Delete(e);

    /* The probe's factor is here / reference, stored for fg_thresholds_for. */
    fg_machine_scale ms;
    assert_int_equal(fg_thresholds_scale_to_machine(doc, &ms, &err), 0);
    assert_true(ms.applied && ms.probe_ms > 0 && ms.reference_ms == 10);
    assert_true(ms.factor == ms.probe_ms / 10);
    n = fg_thresholds_for(doc, "standard", "exp_x", ts, 8, &err);
    assert_true(fabs(limit_of(ts, n, "p50_ms") - 80 * ms.factor) < 1e-9);
    setenv("FLOWGATE_MACHINE_SCALE", "off", 1);
    assert_int_equal(fg_thresholds_scale_to_machine(doc, &ms, &err), 0);
    unsetenv("FLOWGATE_MACHINE_SCALE");
    assert_false(ms.applied);
    assert_true(ms.factor == 1);
    cJSON_Delete(doc);

    const char *bad[] = {
        "{\"machine\":{\"factor\":0.5},\"default\":[\"p50_ms < 1\"]}",
        "{\"machine\":{\"probe_ms\":-3},\"default\":[\"p50_ms < 1\"]}",
        "{\"machine\":{\"probe_ms\":\"fast\"},\"default\":[\"p50_ms < 1\"]}",
        "{\"machine\":{\"probe_ms\":5,\"speed\":2},\"default\":[\"p50_ms < 1\"]}",
        "{\"machine\":[5],\"default\":[\"p50_ms < 1\"]}",
    };
    const char *why[] = {"probe_ms missing", "not a positive number", "not a positive number",
                         "unknown key 'speed'", "machine: not an object"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        cJSON *d = cJSON_Parse(bad[i]);
        assert_int_equal(fg_thresholds_check(d, &err), -1);
        if (!strstr(err.msg, why[i])) fail_msg("'%s': %s", bad[i], err.msg);
        cJSON_Delete(d);
    }
}

/* The real gates pass a healthy standard cell and go red when tightened. */
static void test_gate_goes_red(void **state)
{
    (void)state;
    fg_err err = {{0}};
    cJSON *doc = load_real_thresholds();

    /* The cell as the reference machine measures it (p95 ~380 ms, ~13 wf/s). */
    const char *id = "exp_input1.0mb_conc5_ours";
    cJSON *e = make_experiment(id, 380, 1.0, 0, 13.0);
    fg_threshold ts[32];
    fg_threshold_verdict vs[32];
    int n = fg_thresholds_for(doc, "standard", id, ts, 32, &err);
    assert_true(n >= 4);
    int has_p95 = 0, has_success = 0, has_timeouts = 0;
    for (int i = 0; i < n; i++) {
        has_p95 |= !strcmp(ts[i].metric, "p95_ms");
        has_success |= !strcmp(ts[i].metric, "success_rate");
        has_timeouts |= !strcmp(ts[i].metric, "timeouts");
    }
    assert_true(has_p95 && has_success && has_timeouts);
    assert_int_equal(fg_thresholds_eval(ts, n, e, vs), 0);
    /* The same cell twice as slow (latency doubled, throughput halved) fails them. */
    cJSON *slow = make_experiment(id, 760, 1.0, 0, 6.5);
    assert_true(fg_thresholds_eval(ts, n, slow, vs) >= 1);
    cJSON_Delete(slow);

    /* Tighten the p95 gate for this cell only, keeping the others. */
    cJSON *tight = cJSON_Duplicate(doc, 1);
    cJSON *cells = cJSON_GetObjectItemCaseSensitive(tight, "cells");
    cJSON_DeleteItemFromObjectCaseSensitive(cells, id);
    cJSON *list = cJSON_AddArrayToObject(cells, id);
    for (int i = 0; i < n; i++)
        cJSON_AddItemToArray(list, cJSON_CreateString(strcmp(ts[i].metric, "p95_ms") ? ts[i].text
                                                                               : "p95_ms < 0.001"));
    int m = fg_thresholds_for(tight, "standard", id, ts, 32, &err);
    assert_int_equal(m, n);
    assert_int_equal(fg_thresholds_eval(ts, m, e, vs), 1);
    int seen = 0;
    for (int i = 0; i < m; i++) {
        if (!strcmp(vs[i].t.metric, "p95_ms")) {
            seen = 1;
            assert_false(vs[i].pass);
            assert_true(vs[i].actual == 380);
            assert_true(vs[i].t.limit == 0.001);
            assert_int_equal(vs[i].t.cmp, FG_CMP_LT);
        } else {
            assert_true(vs[i].pass);
        }
    }
    assert_true(seen);
    /* Other cells of the category keep the standard gate. */
    cJSON *other = make_experiment("exp_input2.0mb_conc5_ours", 580, 1.0, 0, 8.3);
    m = fg_thresholds_for(tight, "standard", "exp_input2.0mb_conc5_ours", ts, 32, &err);
    assert_int_equal(fg_thresholds_eval(ts, m, other, vs), 0);

    cJSON_Delete(other);
    cJSON_Delete(tight);
    cJSON_Delete(e);
    cJSON_Delete(doc);
}

/* Every category of data/categories.json has its own gates with a p95 bound. */
static void test_real_thresholds_cover_categories(void **state)
{
    (void)state;
    fg_err err = {{0}};
    cJSON *doc = load_real_thresholds();
    const char *cats[] = {"smoke", "standard", "large_input", "high_concurrency", "extreme"};
    double prev_standard = 0;
    for (size_t c = 0; c < sizeof cats / sizeof cats[0]; c++) {
        const cJSON *list = cJSON_GetObjectItemCaseSensitive(
            cJSON_GetObjectItemCaseSensitive(doc, "categories"), cats[c]);
        assert_non_null(list);
        fg_threshold ts[32];
        int n = fg_thresholds_for(doc, cats[c], "exp_x", ts, 32, &err);
        double p95 = 0;
        for (int i = 0; i < n; i++)
            if (!strcmp(ts[i].metric, "p95_ms")) p95 = ts[i].limit;
        assert_true(p95 > 0);
        if (!strcmp(cats[c], "standard")) prev_standard = p95;
        if (!strcmp(cats[c], "extreme")) assert_true(p95 > prev_standard);
    }
    cJSON_Delete(doc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_each_operator),
        cmocka_unit_test(test_parse_whitespace_and_numbers),
        cmocka_unit_test(test_parse_bad_forms),
        cmocka_unit_test(test_document_precedence),
        cmocka_unit_test(test_document_errors),
        cmocka_unit_test(test_known_metrics),
        cmocka_unit_test(test_load_names_file),
        cmocka_unit_test(test_parse_relative),
        cmocka_unit_test(test_eval_base),
        cmocka_unit_test(test_eval_unresolved_percentile),
        cmocka_unit_test(test_eval_pass_fail_missing),
        cmocka_unit_test(test_gate_goes_red),
        cmocka_unit_test(test_real_thresholds_cover_categories),
        cmocka_unit_test(test_metric_units),
        cmocka_unit_test(test_machine_scale),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
