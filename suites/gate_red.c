/* gate_red.c — proof that the threshold gate can go red. Against the
 * embedded nodes, the smoke cell is judged three ways: with lenient
 * thresholds it passes; with an impossible one ("p95_ms < 0.001") the
 * fixture's verdict fails with the exact FAIL line; and the whole
 * flowgate-suite binary, given the impossible thresholds through
 * FLOWGATE_CONFIG, exits non-zero, prints the FAIL line and records the
 * failure in its JUnit XML. A gate that never fails would pass none of
 * these. On a busy machine the bound is widened (at most 1/0.75) and the
 * line says by how much; an impossible bound still fails (thresholds.h). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "fixture.h"

static fixture fx;
static char cell_id[128];

static cJSON *thresholds(const char *json)
{
    cJSON *doc = cJSON_Parse(json);
    assert_non_null(doc);
    return doc;
}

static int group_setup(void **state)
{
    (void)state;
    fg_err err = {{0}};
    if (fixture_open(&fx, "smoke", &err) != 0) {
        fprintf(stderr, "gate_goes_red: setup failed: %s\n", err.msg);
        return -1;
    }
    fixture_experiment_id(fx.cfg.sizes_mb[0], fx.cfg.concurrency[0], fx.cfg.schedulers[0],
                          cell_id, sizeof cell_id);
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    fg_err err = {{0}};
    if (fixture_close(&fx, &err) != 0) {
        fprintf(stderr, "gate_goes_red: teardown failed: %s\n", err.msg);
        return -1;
    }
    return 0;
}

static void eval_with(const char *doc, fixture_verdict *v)
{
    fg_err err = {{0}};
    cJSON_Delete(fx.thresholds);
    fx.thresholds = thresholds(doc);
    int rc = fixture_eval_cell(&fx, fx.cfg.sizes_mb[0], fx.cfg.concurrency[0], fx.cfg.schedulers[0],
                               v, &err);
    if (rc != 0) fail_msg("the smoke cell could not run: %s", err.msg);
    assert_string_equal(v->experiment_id, cell_id);
}

static void test_lenient_thresholds_pass(void **state)
{
    (void)state;
    fixture_verdict v;
    eval_with("{\"default\": [\"success_rate > 0.5\", \"p95_ms < 1000000\", \"throughput_rps > 0\"]}", &v);
    assert_int_equal(v.n, 3);
    assert_int_equal(v.failed, 0);
    assert_string_equal(v.message, "");
}

static void assert_matches(const char *text, const char *pattern)
{
    regex_t re;
    assert_int_equal(regcomp(&re, pattern, REG_EXTENDED | REG_NEWLINE | REG_NOSUB), 0);
    int rc = regexec(&re, text, 0, NULL, 0);
    regfree(&re);
    if (rc != 0) fail_msg("no line matches /%s/ in:\n%s", pattern, text);
}

static void test_impossible_threshold_fails(void **state)
{
    (void)state;
    fixture_verdict v;
    eval_with("{\"default\": [\"success_rate > 0.5\", \"p95_ms < 0.001\"]}", &v);
    assert_int_equal(v.n, 2);
    assert_int_equal(v.failed, 1);
    assert_true(v.v[0].pass);
    assert_false(v.v[1].pass);
    assert_true(v.v[1].actual > 0.001);
    char pattern[256];
    snprintf(pattern, sizeof pattern, "^FAIL %s: p95_ms = [0-9.e+]+, limit < 0\\.001[0-9]*(: .*)?$", cell_id);
    assert_matches(v.message, pattern);
    /* Exactly one line: the passing threshold is not reported. */
    assert_int_equal(strchr(v.message, '\n') - v.message + 1, (long)strlen(v.message));
}

/* The suite binary end to end: exit status, console and JUnit XML. */
static void test_suite_binary_goes_red(void **state)
{
    (void)state;
    const char *suite = getenv("FLOWGATE_SUITE");
    const char *results = getenv("FLOWGATE_RESULTS_DIR");
    if (!suite || !results) fail_msg("FLOWGATE_SUITE and FLOWGATE_RESULTS_DIR must be set (ctest does)");
    char dir[1024], thr[1100], cfg[1100], xml[1100], cmd[4096];
    snprintf(dir, sizeof dir, "%s/suite-red", results);
    fg_err err = {{0}};
    assert_int_equal(fg_mkdirs(dir, &err), 0);
    snprintf(thr, sizeof thr, "%s/thresholds.json", dir);
    snprintf(cfg, sizeof cfg, "%s/config.json", dir);
    snprintf(xml, sizeof xml, "%s/junit/smoke.xml", dir);
    const char *doc = "{\"default\": [\"p95_ms < 0.001\"]}\n";
    assert_int_equal(fg_write_file_atomic(thr, doc, strlen(doc), &err), 0);
    char cfg_text[1300];
    snprintf(cfg_text, sizeof cfg_text, "{\"thresholds\": \"%s\"}\n", thr);
    assert_int_equal(fg_write_file_atomic(cfg, cfg_text, strlen(cfg_text), &err), 0);

    snprintf(cmd, sizeof cmd,
             "FLOWGATE_CONFIG='%s' FLOWGATE_RESULTS_DIR='%s' CMOCKA_MESSAGE_OUTPUT=xml "
             "CMOCKA_XML_FILE='%s' '%s' smoke 2>&1",
             cfg, dir, xml, suite);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    static char out[1 << 16];
    size_t len = fread(out, 1, sizeof out - 1, p);
    out[len] = 0;
    int status = pclose(p);
    printf("%s", out);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 1);
    char pattern[256];
    snprintf(pattern, sizeof pattern, "^FAIL %s: p95_ms = [0-9.e+]+, limit < 0\\.001[0-9]*(: .*)?$", cell_id);
    assert_matches(out, pattern);

    /* The XML: one failed test, the cell's, whose failure text is the FAIL line. */
    fg_buf junit;
    assert_int_equal(fg_read_file(xml, 0, &junit, &err), 0);
    const char *text = (const char *)junit.data;
    char testcase[256];
    snprintf(testcase, sizeof testcase, "<testcase name=\"%s\"", cell_id);
    const char *tc = strstr(text, testcase);
    const char *failure = tc ? strstr(tc, "<failure") : NULL;
    int red = strstr(text, "failures=\"1\"") && failure && strstr(failure, "p95_ms = ") &&
              strstr(failure, "limit < 0.001");
    if (!red) fail_msg("%s does not record the failure of %s:\n%s", xml, cell_id, text);
    fg_buf_free(&junit);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lenient_thresholds_pass),
        cmocka_unit_test(test_impossible_threshold_fails),
        cmocka_unit_test(test_suite_binary_goes_red),
    };
    return cmocka_run_group_tests_name("gate_goes_red", tests, group_setup, group_teardown);
}
