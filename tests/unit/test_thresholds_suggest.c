/* test_thresholds_suggest.c — per-cell bounds from measured runs: the
 * median over entries times the factor, rounded outward; interrupted and
 * sample-less entries ignored; the bounds load as a thresholds document;
 * and they decide: the measured cell passes them, the same cell 2x slower
 * fails them. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "flowgate/thresholds.h"
#include "flowgate/thresholds_suggest.h"

static cJSON *entry(const char *id, double p50, double p95, double rps, int interrupted)
{
    cJSON *e = cJSON_CreateObject();
    cJSON_AddStringToObject(e, "experiment_id", id);
    cJSON_AddStringToObject(e, "category", "standard");
    cJSON *req = cJSON_AddObjectToObject(e, "requests");
    cJSON_AddNumberToObject(req, "sent", 20);
    cJSON_AddNumberToObject(req, "ok", 20);
    cJSON_AddNumberToObject(req, "failed", 0);
    cJSON_AddNumberToObject(req, "timed_out", 0);
    cJSON_AddNumberToObject(e, "success_rate", 1.0);
    if (rps > 0) cJSON_AddNumberToObject(e, "throughput_rps", rps);
    cJSON *lat = cJSON_AddObjectToObject(e, "latency_ms");
    cJSON_AddNumberToObject(lat, "count", p50 > 0 ? 20 : 0);
    if (p50 > 0) cJSON_AddNumberToObject(lat, "p50", p50);
    if (p95 > 0) cJSON_AddNumberToObject(lat, "p95", p95);
    if (interrupted) cJSON_AddTrueToObject(e, "interrupted");
    return e;
}

static cJSON *run(cJSON *const *entries, int n)
{
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "schema", "flowgate-results/1");
    cJSON *exps = cJSON_AddArrayToObject(root, "experiments");
    for (int i = 0; i < n; i++) cJSON_AddItemToArray(exps, entries[i]);
    return root;
}

static const char *item(const cJSON *list, int i)
{
    const cJSON *s = cJSON_GetArrayItem(list, i);
    assert_true(cJSON_IsString(s));
    return s->valuestring;
}

static void test_rounding(void **state)
{
    (void)state;
    assert_true(fabs(fg_suggest_round(76.5568, 1) - 77) < 1e-9);
    assert_true(fabs(fg_suggest_round(76.5568, 0) - 76) < 1e-9);
    assert_true(fabs(fg_suggest_round(77.0, 1) - 77) < 1e-9);
    assert_true(fabs(fg_suggest_round(1234, 1) - 1300) < 1e-9);
    assert_true(fabs(fg_suggest_round(0.4567, 0) - 0.45) < 1e-12);
}

static void test_median_over_files_and_repeats(void **state)
{
    (void)state;
    /* p50 medians: cell a {40, 50, 60, 1000 (interrupted)} -> 50; b one entry. */
    cJSON *f1[] = {entry("exp_a", 40, 50, 20, 0), entry("exp_a", 60, 70, 10, 0),
                   entry("exp_b", 100, 0, 5, 0)};
    cJSON *f2[] = {entry("exp_a", 50, 55, 15, 0), entry("exp_a", 1000, 2000, 1, 1),
                   entry("exp_c", 0, 0, 0, 0)};
    const cJSON *runs[2] = {run(f1, 3), run(f2, 3)};
    fg_suggest_factors f;
    fg_suggest_factors_defaults(&f);
    cJSON *cells = cJSON_CreateObject();
    fg_err err = {""};
    assert_int_equal(fg_thresholds_suggest(runs, 2, &f, cells, &err), 2);
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(cells, "exp_a");
    assert_int_equal(cJSON_GetArraySize(a), 5);
    assert_string_equal(item(a, 0), "success_rate > 0.90");
    assert_string_equal(item(a, 1), "timeouts == 0");
    assert_string_equal(item(a, 2), "p50_ms < 80");            /* 1.6 x 50 */
    assert_string_equal(item(a, 3), "p95_ms < 140");           /* 2.5 x 55 = 137.5 */
    assert_string_equal(item(a, 4), "throughput_rps > 9");     /* 0.6 x 15 */
    /* No p95 measured (fewer than 20 samples): no p95 bound invented. */
    const cJSON *b = cJSON_GetObjectItemCaseSensitive(cells, "exp_b");
    assert_int_equal(cJSON_GetArraySize(b), 4);
    assert_string_equal(item(b, 2), "p50_ms < 160");
    assert_string_equal(item(b, 3), "throughput_rps > 3");
    /* Never measured: no entry at all. */
    assert_null(cJSON_GetObjectItemCaseSensitive(cells, "exp_c"));
    cJSON_Delete(cells);
    cJSON_Delete((cJSON *)runs[0]);
    cJSON_Delete((cJSON *)runs[1]);
}

static void test_bounds_decide(void **state)
{
    (void)state;
    cJSON *f1[] = {entry("exp_a", 200, 260, 10, 0), entry("exp_a", 220, 300, 9, 0),
                   entry("exp_a", 180, 240, 11, 0)};
    const cJSON *runs[1] = {run(f1, 3)};
    fg_suggest_factors f;
    fg_suggest_factors_defaults(&f);
    cJSON *doc = cJSON_CreateObject();
    cJSON_AddItemToObject(doc, "default", cJSON_CreateStringArray((const char *[]){"success_rate > 0.9"}, 1));
    cJSON *cells = cJSON_AddObjectToObject(doc, "cells");
    fg_err err = {""};
    assert_int_equal(fg_thresholds_suggest(runs, 1, &f, cells, &err), 1);
    assert_int_equal(fg_thresholds_check(doc, &err), 0);
    fg_threshold ts[8];
    int n = fg_thresholds_for(doc, "standard", "exp_a", ts, 8, &err);
    assert_int_equal(n, 5);
    fg_threshold_verdict v[8];
    /* The cell as measured, and 20 % slower: passes. */
    cJSON *same = entry("exp_a", 240, 330, 8, 0);
    assert_int_equal(fg_thresholds_eval(ts, n, same, v), 0);
    /* The same cell twice as slow: the p50 bound and the throughput bound fail. */
    cJSON *slow = entry("exp_a", 400, 520, 5, 0);
    assert_int_equal(fg_thresholds_eval(ts, n, slow, v), 2);
    assert_false(v[2].pass);
    assert_true(v[3].pass);
    assert_false(v[4].pass);
    cJSON_Delete(same);
    cJSON_Delete(slow);
    cJSON_Delete(doc);
    cJSON_Delete((cJSON *)runs[0]);
}

static void test_bad_factors(void **state)
{
    (void)state;
    cJSON *f1[] = {entry("exp_a", 200, 260, 10, 0)};
    const cJSON *runs[1] = {run(f1, 1)};
    fg_suggest_factors f;
    fg_suggest_factors_defaults(&f);
    f.p50 = 0.5;
    cJSON *cells = cJSON_CreateObject();
    fg_err err = {""};
    assert_int_equal(fg_thresholds_suggest(runs, 1, &f, cells, &err), -1);
    assert_non_null(strstr(err.msg, "factors"));
    fg_suggest_factors_defaults(&f);
    f.throughput = 1.5;
    assert_int_equal(fg_thresholds_suggest(runs, 1, &f, cells, &err), -1);
    assert_null(cells->child);
    cJSON_Delete(cells);
    cJSON_Delete((cJSON *)runs[0]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rounding),
        cmocka_unit_test(test_median_over_files_and_repeats),
        cmocka_unit_test(test_bounds_decide),
        cmocka_unit_test(test_bad_factors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
