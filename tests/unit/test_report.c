/* test_report.c — the threshold table: every cell x threshold appears with
 * its actual value and PASS/FAIL, in Markdown and in text, rows name their
 * entry (category when an id is in two, repeat when a cell has several),
 * and the file lands at <dir>/thresholds_<run-id>.md. A run with no cell
 * or marked interrupted never says PASS; relative thresholds use a base run
 * or are SKIP; an unresolvable percentile fails with a note. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "flowgate/report.h"

static cJSON *entry(const char *id, int repeat, double p95, double success_rate, int timed_out)
{
    cJSON *e = cJSON_CreateObject();
    cJSON_AddStringToObject(e, "experiment_id", id);
    cJSON_AddStringToObject(e, "category", "standard");
    cJSON_AddNumberToObject(e, "repeat", repeat);
    cJSON *req = cJSON_AddObjectToObject(e, "requests");
    cJSON_AddNumberToObject(req, "sent", 10);
    cJSON_AddNumberToObject(req, "ok", 10 - timed_out);
    cJSON_AddNumberToObject(req, "failed", 0);
    cJSON_AddNumberToObject(req, "timed_out", timed_out);
    cJSON_AddNumberToObject(e, "success_rate", success_rate);
    cJSON_AddNumberToObject(e, "throughput_rps", 2.5);
    cJSON *lat = cJSON_AddObjectToObject(e, "latency_ms");
    cJSON_AddNumberToObject(lat, "count", 10 - timed_out);
    cJSON_AddNumberToObject(lat, "p50", p95 / 2);
    cJSON_AddNumberToObject(lat, "p95", p95);
    return e;
}

static cJSON *results(const char *run_id)
{
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "schema", "flowgate-results/1");
    cJSON *run = cJSON_AddObjectToObject(root, "run");
    cJSON_AddStringToObject(run, "id", run_id);
    cJSON_AddStringToObject(run, "category", "standard");
    cJSON *exps = cJSON_AddArrayToObject(root, "experiments");
    cJSON_AddItemToArray(exps, entry("exp_input0.1mb_conc1_ours", 0, 850, 1.0, 0));
    cJSON_AddItemToArray(exps, entry("exp_input1.0mb_conc5_ours", 0, 6200, 0.8, 2));
    cJSON_AddItemToArray(exps, entry("exp_input2.0mb_conc10_ours", 0, 4100.5, 1.0, 0));
    cJSON_AddItemToArray(exps, entry("exp_input2.0mb_conc10_ours", 1, 3900.26, 1.0, 0));
    /* Two repeats of a cell in a category that doc_text has no list for. */
    for (int i = 2; i < 4; i++)
        cJSON_ReplaceItemInObjectCaseSensitive(cJSON_GetArrayItem(exps, i), "category",
                                               cJSON_CreateString("large_input"));
    return root;
}

/* No default: a large_input cell has no thresholds at all. */
static const char *doc_text =
    "{\"categories\": {\"standard\": [\"success_rate > 0.90\", \"timeouts == 0\", \"p95_ms < 5000\","
    "                                \"cold_starts < 1\"]},"
    " \"cells\": {\"exp_input0.1mb_conc1_ours\": [\"p95_ms < 500\"]}}";

static void assert_has(const char *haystack, const char *needle)
{
    if (!haystack) fail_msg("no text to look for '%s' in", needle);
    else if (!strstr(haystack, needle)) fail_msg("missing '%s' in:\n%s", needle, haystack);
}

static void test_every_cell_and_threshold(void **state)
{
    (void)state;
    cJSON *root = results("20261127-021500");
    cJSON *doc = cJSON_Parse(doc_text);
    fg_threshold_table t;
    fg_err err = {{0}};
    if (fg_report_thresholds(root, doc, &t, &err) != 0) fail_msg("%s", err.msg);

    assert_int_equal(t.cells, 4);
    assert_int_equal(t.checks, 1 + 4);          /* cell override; category; two without a list */
    assert_int_equal(t.failed, 1 + 4);          /* 850 >= 500; all four of the bad cell */

    const char *md = t.markdown;
    assert_has(md, "| exp_input0.1mb_conc1_ours | p95_ms < 500 | 850 | **FAIL** | |");
    assert_has(md, "| exp_input1.0mb_conc5_ours | success_rate > 0.9 | 0.8 | **FAIL** | |");
    assert_has(md, "| exp_input1.0mb_conc5_ours | timeouts == 0 | 2 | **FAIL** | |");
    assert_has(md, "| exp_input1.0mb_conc5_ours | p95_ms < 5000 | 6200 | **FAIL** | |");
    assert_has(md, "| exp_input1.0mb_conc5_ours | cold_starts < 1 | n/a | **FAIL** | "
                   "cold_starts = n/a (not in the results) |");
    assert_has(md, "| exp_input2.0mb_conc10_ours (repeat 0) | (none) | - | - | |");
    assert_has(md, "| exp_input2.0mb_conc10_ours (repeat 1) | (none) | - | - | |");
    assert_has(md, "| Cell | Threshold | Actual | Result | Note |");
    assert_has(md, "5 of 5 checks failed over 4 cells");
    assert_null(strstr(md, "PASS |"));

    /* The text version has the same rows, one per line. */
    const char *rows[][4] = {
        {"exp_input0.1mb_conc1_ours", "p95_ms < 500", "850", "FAIL"},
        {"exp_input1.0mb_conc5_ours", "success_rate > 0.9", "0.8", "FAIL"},
        {"exp_input1.0mb_conc5_ours", "timeouts == 0", "2", "FAIL"},
        {"exp_input1.0mb_conc5_ours", "cold_starts < 1", "n/a", "FAIL"},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        const char *line = t.text;
        int found = 0;
        while (line && *line && !found) {
            const char *end = strchr(line, '\n');
            size_t len = end ? (size_t)(end - line) : strlen(line);
            char buf[512];
            snprintf(buf, sizeof buf, "%.*s", (int)len, line);
            const char *p = buf;
            found = 1;
            for (int k = 0; k < 4 && found; k++) {
                p = strstr(p, rows[i][k]);
                if (p) p += strlen(rows[i][k]); else found = 0;
            }
            line = end ? end + 1 : NULL;
        }
        if (!found) fail_msg("text table lacks row %s | %s | %s | %s:\n%s", rows[i][0], rows[i][1],
                             rows[i][2], rows[i][3], t.text);
    }
    assert_has(t.text, "5 of 5 checks failed over 4 cells");
    fg_threshold_table_free(&t);
    cJSON_Delete(doc);
    cJSON_Delete(root);
}

static void test_passing_rows(void **state)
{
    (void)state;
    cJSON *root = results("20261127-021501");
    cJSON *doc = cJSON_Parse("{\"default\": [\"p95_ms < 10000\", \"success_rate >= 0.8\"]}");
    fg_threshold_table t;
    fg_err err = {{0}};
    assert_int_equal(fg_report_thresholds(root, doc, &t, &err), 0);
    assert_int_equal(t.checks, 8);
    assert_int_equal(t.failed, 0);
    assert_has(t.markdown, "| exp_input2.0mb_conc10_ours (repeat 0) | p95_ms < 10000 | 4100.5 | PASS | |");
    assert_has(t.markdown, "| exp_input2.0mb_conc10_ours (repeat 1) | p95_ms < 10000 | 3900.3 | PASS | |");
    assert_has(t.markdown, "| exp_input1.0mb_conc5_ours | success_rate >= 0.8 | 0.8 | PASS | |");
    assert_null(strstr(t.markdown, "FAIL"));
    fg_threshold_table_free(&t);
    cJSON_Delete(doc);
    cJSON_Delete(root);
}

/* A scale file holds one id under two categories: each row names its own. */
static void test_id_in_two_categories(void **state)
{
    (void)state;
    cJSON *root = results("20261127-021504");
    cJSON *exps = cJSON_GetObjectItemCaseSensitive(root, "experiments");
    cJSON *extreme = entry("exp_input2.0mb_conc10_ours", 0, 9000, 1.0, 0);
    cJSON_ReplaceItemInObjectCaseSensitive(extreme, "category", cJSON_CreateString("extreme"));
    cJSON_AddItemToArray(exps, extreme);
    cJSON *doc = cJSON_Parse("{\"default\": [\"p95_ms < 5000\"]}");
    fg_threshold_table t;
    fg_err err = {{0}};
    assert_int_equal(fg_report_thresholds(root, doc, &t, &err), 0);
    assert_has(t.markdown, "| exp_input2.0mb_conc10_ours [large_input] (repeat 0) | p95_ms < 5000 | 4100.5 | PASS | |");
    assert_has(t.markdown, "| exp_input2.0mb_conc10_ours [large_input] (repeat 1) | p95_ms < 5000 | 3900.3 | PASS | |");
    assert_has(t.markdown, "| exp_input2.0mb_conc10_ours [extreme] | p95_ms < 5000 | 9000 | **FAIL** | |");
    assert_has(t.markdown, "| exp_input1.0mb_conc5_ours | p95_ms < 5000 | 6200 | **FAIL** | |");
    fg_threshold_table_free(&t);
    cJSON_Delete(doc);
    cJSON_Delete(root);
}

static void test_write_file(void **state)
{
    (void)state;
    cJSON *root = results("20261127-021502");
    cJSON *doc = cJSON_Parse(doc_text);
    fg_threshold_table t;
    fg_err err = {{0}};
    assert_int_equal(fg_report_thresholds(root, doc, &t, &err), 0);
    char dir[] = "/tmp/flowgate-report-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char sub[256], path[512];
    snprintf(sub, sizeof sub, "%s/results", dir);
    if (fg_report_write_thresholds(&t, root, sub, path, sizeof path, &err) != 0)
        fail_msg("%s", err.msg);
    char expect[512];
    snprintf(expect, sizeof expect, "%s/thresholds_20261127-021502.md", sub);
    assert_string_equal(path, expect);
    fg_buf b;
    assert_int_equal(fg_read_file(path, 0, &b, &err), 0);
    assert_int_equal(b.len, strlen(t.markdown));
    assert_memory_equal(b.data, t.markdown, b.len);
    fg_buf_free(&b);
    remove(path);
    rmdir(sub);

    /* A run id that would escape the directory is refused. */
    cJSON *run = cJSON_GetObjectItemCaseSensitive(root, "run");
    cJSON_ReplaceItemInObject(run, "id", cJSON_CreateString("../evil"));
    assert_int_equal(fg_report_write_thresholds(&t, root, sub, NULL, 0, &err), -1);
    assert_has(err.msg, "run.id");
    rmdir(sub);
    rmdir(dir);
    fg_threshold_table_free(&t);
    cJSON_Delete(doc);
    cJSON_Delete(root);
}

static void test_bad_inputs(void **state)
{
    (void)state;
    cJSON *root = results("20261127-021503");
    cJSON *doc = cJSON_Parse("{\"default\": [\"p95_ms <\"]}");
    fg_threshold_table t;
    fg_err err = {{0}};
    assert_int_equal(fg_report_thresholds(root, doc, &t, &err), -1);
    assert_has(err.msg, "default[0]");
    assert_has(err.msg, "missing limit");
    cJSON_Delete(doc);
    cJSON *no_exps = cJSON_Parse("{\"schema\": \"flowgate-results/1\", \"run\": {\"id\": \"x\"}}");
    doc = cJSON_Parse("{}");
    assert_int_equal(fg_report_thresholds(no_exps, doc, &t, &err), -1);
    cJSON_Delete(no_exps);
    cJSON_Delete(doc);
    cJSON_Delete(root);
}

/* Interrupted before any cell finished: a valid file with no experiments.
 * The table must not say PASS about nothing. */
static void test_no_cells_and_interrupted(void **state)
{
    (void)state;
    cJSON *doc = cJSON_Parse("{\"default\": [\"p95_ms < 10000\"]}");
    cJSON *root = cJSON_Parse("{\"schema\": \"flowgate-results/1\", \"run\": {\"id\": \"r1\","
                              " \"category\": \"smoke\", \"interrupted\": true}, \"experiments\": []}");
    fg_threshold_table t;
    fg_err err = {{0}};
    assert_int_equal(fg_report_thresholds(root, doc, &t, &err), 0);
    assert_int_equal(t.cells, 0);
    assert_true(t.failed > 0);
    assert_has(t.markdown, "| (run) | interrupted before any cell finished: no verdict | - | **FAIL** | |");
    assert_has(t.markdown, "**FAIL** (interrupted before any cell finished: no verdict)");
    assert_has(t.text, "FAIL (interrupted before any cell finished: no verdict)");
    assert_null(strstr(t.markdown, "PASS"));
    assert_null(strstr(t.text, "PASS"));
    fg_threshold_table_free(&t);

    /* Not interrupted, still empty: no verdict either. */
    cJSON_DeleteItemFromObjectCaseSensitive(cJSON_GetObjectItemCaseSensitive(root, "run"),
                                            "interrupted");
    assert_int_equal(fg_report_thresholds(root, doc, &t, &err), 0);
    assert_true(t.failed > 0);
    assert_has(t.text, "no experiments in the results: no verdict");
    assert_null(strstr(t.text, "PASS"));
    fg_threshold_table_free(&t);
    cJSON_Delete(root);

    /* Interrupted after some cells: their rows pass, the run does not. */
    root = results("20261127-021505");
    cJSON_AddTrueToObject(cJSON_GetObjectItemCaseSensitive(root, "run"), "interrupted");
    assert_int_equal(fg_report_thresholds(root, doc, &t, &err), 0);
    assert_int_equal(t.failed, 1);
    assert_has(t.markdown, "| exp_input0.1mb_conc1_ours | p95_ms < 10000 | 850 | PASS | |");
    assert_has(t.markdown, "| (run) | interrupted: cells not run have no verdict | - | **FAIL** | |");
    fg_threshold_table_free(&t);
    cJSON_DeleteItemFromObjectCaseSensitive(cJSON_GetObjectItemCaseSensitive(root, "run"),
                                            "interrupted");
    /* One entry cut short: its thresholds judged partial data. */
    cJSON_AddTrueToObject(cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(root, "experiments"), 0),
                          "interrupted");
    assert_int_equal(fg_report_thresholds(root, doc, &t, &err), 0);
    assert_int_equal(t.failed, 1);
    assert_has(t.markdown, "| exp_input0.1mb_conc1_ours | (interrupted: partial data, no verdict) | - "
                           "| **FAIL** | |");
    fg_threshold_table_free(&t);
    cJSON_Delete(root);
    cJSON_Delete(doc);
}

/* An entry whose counts break an accounting identity (the driver recorded
 * accounting_error) is no data: its cell fails, naming the identity. */
static void test_accounting_error_fails_the_cell(void **state)
{
    (void)state;
    cJSON *doc = cJSON_Parse("{\"default\": [\"p95_ms < 10000\"]}");
    cJSON *root = results("20261127-021507");
    cJSON *first = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(root, "experiments"), 0);
    cJSON_AddStringToObject(first, "accounting_error",
                            "requests: sent 10 != ok 9 + failed 0 + timed_out 0 + interrupted 0");
    fg_threshold_table t;
    fg_err err = {{0}};
    assert_int_equal(fg_report_thresholds(root, doc, &t, &err), 0);
    assert_int_equal(t.failed, 1);
    assert_has(t.markdown, "| exp_input0.1mb_conc1_ours | accounting error: requests: sent 10 != "
                           "ok 9 + failed 0 + timed_out 0 + interrupted 0 | - | **FAIL** | |");
    assert_has(t.markdown, "| exp_input1.0mb_conc5_ours | p95_ms < 10000 | 6200 | PASS | |");
    fg_threshold_table_free(&t);
    cJSON_Delete(root);
    cJSON_Delete(doc);
}

/* "p95_ms < 1.25 * base.p95_ms" against the same cell of a base run. */
static void test_relative_thresholds(void **state)
{
    (void)state;
    cJSON *doc = cJSON_Parse("{\"default\": [\"p95_ms < 1.25 * base.p95_ms\", \"success_rate > 0.5\"]}");
    cJSON *root = results("20261127-021506"), *base = results("20261127-021400");
    /* The base's first cell was faster: 850 against 600 * 1.25 = 750 fails. */
    cJSON *lat = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(base, "experiments"), 0), "latency_ms");
    cJSON_ReplaceItemInObjectCaseSensitive(lat, "p95", cJSON_CreateNumber(600));
    fg_threshold_table t;
    fg_err err = {{0}};
    assert_int_equal(fg_report_thresholds_base(root, base, doc, &t, &err), 0);
    assert_int_equal(t.checks, 8);
    assert_int_equal(t.skipped, 0);
    assert_int_equal(t.failed, 1);
    assert_has(t.markdown, "| exp_input0.1mb_conc1_ours | p95_ms < 1.25 * base.p95_ms | 850 | **FAIL** "
                           "| limit 750 = 1.25 x base 600 |");
    assert_has(t.markdown, "| exp_input1.0mb_conc5_ours | p95_ms < 1.25 * base.p95_ms | 6200 | PASS "
                           "| limit 7750 = 1.25 x base 6200 |");
    fg_threshold_table_free(&t);

    /* No base: skipped, counted apart, not a failure. */
    assert_int_equal(fg_report_thresholds(root, doc, &t, &err), 0);
    assert_int_equal(t.skipped, 4);
    assert_int_equal(t.checks, 4);
    assert_int_equal(t.failed, 0);
    assert_has(t.markdown, "| exp_input0.1mb_conc1_ours | p95_ms < 1.25 * base.p95_ms | 850 | SKIP "
                           "| skipped: no base |");
    assert_has(t.markdown, "0 of 4 checks failed over 4 cells (4 skipped: no base): PASS");
    assert_has(t.text, "skipped: no base");
    fg_threshold_table_free(&t);

    /* A base run without the cell cannot vouch for it. */
    cJSON_DeleteItemFromArray(cJSON_GetObjectItemCaseSensitive(base, "experiments"), 0);
    assert_int_equal(fg_report_thresholds_base(root, base, doc, &t, &err), 0);
    assert_int_equal(t.failed, 1);
    assert_has(t.markdown, "| exp_input0.1mb_conc1_ours | p95_ms < 1.25 * base.p95_ms | 850 | **FAIL** "
                           "| the base run has no such cell |");
    fg_threshold_table_free(&t);
    cJSON_Delete(base);
    cJSON_Delete(root);
    cJSON_Delete(doc);
}

/* A p99 the writer left out (12 samples cannot resolve it): n/a, failed, said why. */
static void test_unresolved_percentile(void **state)
{
    (void)state;
    cJSON *doc = cJSON_Parse("{\"default\": [\"p99_ms < 10000\"]}");
    cJSON *root = results("20261127-021507");
    fg_threshold_table t;
    fg_err err = {{0}};
    assert_int_equal(fg_report_thresholds(root, doc, &t, &err), 0);
    assert_int_equal(t.failed, 4);
    assert_has(t.markdown, "| exp_input0.1mb_conc1_ours | p99_ms < 10000 | n/a | **FAIL** "
                           "| p99_ms = n/a (10 samples; p99 needs >= 100) |");
    assert_has(t.text, "p99_ms = n/a (8 samples; p99 needs >= 100)");
    fg_threshold_table_free(&t);
    cJSON_Delete(root);
    cJSON_Delete(doc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_cell_and_threshold),
        cmocka_unit_test(test_passing_rows),
        cmocka_unit_test(test_id_in_two_categories),
        cmocka_unit_test(test_write_file),
        cmocka_unit_test(test_bad_inputs),
        cmocka_unit_test(test_no_cells_and_interrupted),
        cmocka_unit_test(test_accounting_error_fails_the_cell),
        cmocka_unit_test(test_relative_thresholds),
        cmocka_unit_test(test_unresolved_percentile),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
