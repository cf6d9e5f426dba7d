/* test_fixture.c — how the suites' fixture judges a cell: its thresholds,
 * relative ones against the like cell of $FLOWGATE_BASELINE, and the cases
 * that must fail — a cell the baseline lacks, a baseline cell of another
 * identity, an interrupted entry. Entries are built here; no run. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fixture.h"
#include "flowgate/results.h"

/* An entry of cell exp_input0.1mb_conc2_ours (smoke) with p95 = p95_ms. */
static cJSON *entry(double p95_ms, int repeat, int inline_data, int interrupted)
{
    char text[1024];
    snprintf(text, sizeof text,
             "{\"experiment_id\":\"exp_input0.1mb_conc2_ours\",\"category\":\"smoke\","
             "\"mode\":\"closed\",\"variant\":\"clean\",\"scheduler\":\"ours\",\"concurrency\":2,"
             "\"workflow\":\"recognizer\",\"inline_data\":%s,\"repeat\":%d,%s"
             "\"requests\":{\"sent\":30,\"ok\":30,\"failed\":0,\"timed_out\":0},"
             "\"success_rate\":1,\"latency_ms\":{\"count\":30,\"min\":1,\"mean\":%g,"
             "\"p50\":%g,\"p95\":%g,\"max\":%g}}",
             inline_data ? "true" : "false", repeat, interrupted ? "\"interrupted\":true," : "",
             p95_ms / 2, p95_ms / 2, p95_ms, p95_ms);
    cJSON *e = cJSON_Parse(text);
    assert_non_null(e);
    return e;
}

/* A results document holding the given entries (taken over). */
static cJSON *results_of(cJSON *a, cJSON *b)
{
    cJSON *root = cJSON_Parse("{\"schema\":\"flowgate-results/1\",\"run\":{\"id\":\"base\"},"
                              "\"experiments\":[]}");
    cJSON *x = cJSON_GetObjectItemCaseSensitive(root, "experiments");
    if (a) cJSON_AddItemToArray(x, a);
    if (b) cJSON_AddItemToArray(x, b);
    return root;
}

static void init_fixture(fixture *fx, cJSON *baseline)
{
    memset(fx, 0, sizeof *fx);
    snprintf(fx->category, sizeof fx->category, "smoke");
    snprintf(fx->thresholds_path, sizeof fx->thresholds_path, "test-thresholds.json");
    fx->thresholds = cJSON_Parse("{\"default\":[\"success_rate > 0.9\","
                                 "\"p95_ms < 1.25 * base.p95_ms\"]}");
    assert_non_null(fx->thresholds);
    fx->baseline = baseline;
    snprintf(fx->baseline_path, sizeof fx->baseline_path, "base.json");
}

static void free_fixture(fixture *fx)
{
    cJSON_Delete(fx->thresholds);
    cJSON_Delete(fx->baseline);
}

static int judge(fixture *fx, cJSON *e, fixture_verdict *v)
{
    memset(v, 0, sizeof *v);
    fg_err err = {{0}};
    int rc = fixture_judge_entry(fx, e, v, &err);
    if (rc != 0) fail_msg("judge: %s", err.msg);
    cJSON_Delete(e);
    return v->failed;
}

static void test_relative_thresholds_against_baseline(void **state)
{
    (void)state;
    static fixture fx;
    static fixture_verdict v;
    init_fixture(&fx, results_of(entry(100, 0, 0, 0), entry(60, 1, 0, 0)));
    /* 110 < 1.25 * 100: pass */
    assert_int_equal(judge(&fx, entry(110, 0, 0, 0), &v), 0);
    /* 130 >= 125: the relative threshold fails, with its figures */
    assert_int_equal(judge(&fx, entry(130, 0, 0, 0), &v), 1);
    assert_non_null(strstr(v.message, "FAIL exp_input0.1mb_conc2_ours: p95_ms = 130"));
    /* repeat 1 is judged against the baseline's repeat 1 (60: limit 75) */
    assert_int_equal(judge(&fx, entry(80, 1, 0, 0), &v), 1);
    /* a repeat the baseline lacks: its first repeat */
    assert_int_equal(judge(&fx, entry(110, 7, 0, 0), &v), 0);
    free_fixture(&fx);
}

static void test_baseline_cell_missing_or_unlike_fails(void **state)
{
    (void)state;
    static fixture fx;
    static fixture_verdict v;
    /* The baseline holds another cell only. */
    cJSON *other = entry(100, 0, 0, 0);
    cJSON_ReplaceItemInObjectCaseSensitive(other, "experiment_id",
                                           cJSON_CreateString("exp_input1.0mb_conc2_ours"));
    init_fixture(&fx, results_of(other, NULL));
    assert_true(judge(&fx, entry(100, 0, 0, 0), &v) >= 1);
    assert_non_null(strstr(v.message, "the baseline has no cell exp_input0.1mb_conc2_ours in "
                                      "category smoke (base.json)"));
    free_fixture(&fx);

    /* Same id, other identity (inline data): an error, never a comparison. */
    init_fixture(&fx, results_of(entry(100, 0, 1, 0), NULL));
    assert_true(judge(&fx, entry(100, 0, 0, 0), &v) >= 1);
    assert_non_null(strstr(v.message, "is unlike this one: inline_data true there, false here"));
    free_fixture(&fx);
}

static void test_interrupted_entry_fails(void **state)
{
    (void)state;
    static fixture fx;
    static fixture_verdict v;
    init_fixture(&fx, NULL);
    /* No baseline: the relative threshold is skipped, the absolute passes... */
    assert_int_equal(judge(&fx, entry(100, 0, 0, 0), &v), 0);
    /* ... but a cut-short cell never passes. */
    assert_int_equal(judge(&fx, entry(100, 0, 0, 1), &v), 1);
    assert_non_null(strstr(v.message, "interrupted before it finished"));
    free_fixture(&fx);
}

static void test_no_thresholds_apply_is_an_error(void **state)
{
    (void)state;
    static fixture fx;
    static fixture_verdict v;
    init_fixture(&fx, NULL);
    cJSON_Delete(fx.thresholds);
    fx.thresholds = cJSON_Parse("{\"categories\":{\"standard\":[\"success_rate > 0.9\"]}}");
    fg_err err = {{0}};
    cJSON *e = entry(100, 0, 0, 0);
    memset(&v, 0, sizeof v);
    assert_int_equal(fixture_judge_entry(&fx, e, &v, &err), -1);
    assert_non_null(strstr(err.msg, "no thresholds apply to exp_input0.1mb_conc2_ours"));
    cJSON_Delete(e);
    free_fixture(&fx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_relative_thresholds_against_baseline),
        cmocka_unit_test(test_baseline_cell_missing_or_unlike_fails),
        cmocka_unit_test(test_interrupted_entry_fails),
        cmocka_unit_test(test_no_thresholds_apply_is_an_error),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
