/* test_trend.c — a cell's trend chart from plain arrays: a synthetic
 * history with a step (a change point) and an A/B verdict renders to PNG,
 * SVG and its data file under trend_<cell>; the SVG is a whole SVG document
 * carrying the commits, the change's and the verdict's texts; quotes in a
 * text cannot break the data file; a missing value is '?'. Bad input (no
 * points, a mark past the end, nothing measured, a quote in the cell) is
 * one line and leaves no file behind. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "flowgate/common.h"
#include "flowgate/trend.h"

static char work[64];

static int setup(void **state)
{
    (void)state;
    snprintf(work, sizeof work, "/tmp/fg-trend-XXXXXX");
    return mkdtemp(work) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[256];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", work);
    return system(cmd) == 0 ? 0 : -1;
}

static char *slurp(const char *path)
{
    fg_buf b = {0};
    if (fg_read_file(path, 0, &b, NULL) != 0) return NULL;
    char *s = malloc(b.len + 1);
    memcpy(s, b.data, b.len);
    s[b.len] = 0;
    fg_buf_free(&b);
    return s;
}

#define N 30
static const char *commits[N];
static char hashes[N][41];

static void history(fg_trend_point *pts)
{
    for (int i = 0; i < N; i++) {
        snprintf(hashes[i], sizeof hashes[i], "%07x%033d", 0xa000000 + i * 4097, 0);
        commits[i] = hashes[i];
        double level = i < 18 ? 100 : 112.3;   /* +12.3 % from run 18 on */
        pts[i] = (fg_trend_point){commits[i], "run", level + (i % 3), 1.6 * level + (i % 5),
                                  20.0 - (i >= 18) * 2};
    }
    pts[5].p95_ms = NAN;   /* a run that lacks a percentile */
}

static void renders_change_and_ab(void **state)
{
    (void)state;
    fg_trend_point pts[N];
    history(pts);
    fg_trend_mark marks[] = {
        {18, "+12.3 % p50", FG_TREND_CHANGE},
        {20, "ab: regression, culprit recognizer__extract exec \"quoted\"", FG_TREND_AB},
    };
    fg_err err = {{0}};
    int rc = fg_trend_chart(work, "standard/exp_input1.0mb_conc5_ours", pts, N, marks, 2, &err);
    if (rc != 0) fail_msg("%s", err.msg);
    char path[256];
    snprintf(path, sizeof path, "%s/trend_standard_exp_input1.0mb_conc5_ours.png", work);
    assert_int_equal(access(path, R_OK), 0);
    snprintf(path, sizeof path, "%s/trend_standard_exp_input1.0mb_conc5_ours.dat", work);
    char *dat = slurp(path);
    assert_non_null(dat);
    assert_non_null(strstr(dat, "5 \"a005005\" 102 ? 20\n"));
    assert_non_null(strstr(dat, "18 \"+12.3 % p50\""));
    assert_non_null(strstr(dat, "exec 'quoted'\""));   /* the quote cannot end the field */
    free(dat);

    snprintf(path, sizeof path, "%s/trend_standard_exp_input1.0mb_conc5_ours.svg", work);
    char *svg = slurp(path);
    assert_non_null(svg);
    char *open = strstr(svg, "<svg"), *close = strstr(svg, "</svg>");
    assert_non_null(open);
    assert_non_null(close);
    assert_true(open < close);
    assert_null(strstr(close + 6, "<"));              /* nothing after the document */
    assert_null(strstr(svg, "<script"));
    assert_non_null(strstr(svg, "+12.3 % p50"));
    assert_non_null(strstr(svg, "ab: regression, culprit recognizer__extract exec"));
    assert_non_null(strstr(svg, "standard/exp_input1.0mb_conc5_ours"));
    assert_non_null(strstr(svg, "a000000"));           /* the first tick */
    assert_non_null(strstr(svg, "p95 (ms)"));
    assert_non_null(strstr(svg, "throughput (wf/s, right axis)"));
    /* 30 runs: every second commit labelled, so a017017 (run 1) is not. */
    assert_null(strstr(svg, ">a001001<"));
    free(svg);
    /* The staging folder is gone. */
    snprintf(path, sizeof path, "ls -a '%s' | grep -q partial", work);
    assert_int_not_equal(system(path), 0);
}

static void single_run_without_marks(void **state)
{
    (void)state;
    fg_trend_point pt = {NULL, NULL, 50, NAN, NAN};
    fg_err err = {{0}};
    if (fg_trend_chart(work, "one", &pt, 1, NULL, 0, &err) != 0) fail_msg("%s", err.msg);
    char path[256];
    snprintf(path, sizeof path, "%s/trend_one.svg", work);
    assert_int_equal(access(path, R_OK), 0);
}

static void bad_input_is_one_line(void **state)
{
    (void)state;
    fg_trend_point pts[2] = {{"abc", NULL, 1, 2, 3}, {"def", NULL, 1, 2, 3}};
    fg_trend_point none[1] = {{"abc", NULL, NAN, NAN, NAN}};
    fg_trend_mark past = {2, "x", FG_TREND_CHANGE}, odd = {0, "x", 7};
    fg_err err = {{0}};
    assert_int_equal(fg_trend_chart(work, "c", pts, 0, NULL, 0, &err), -1);
    assert_non_null(strstr(err.msg, "no runs"));
    assert_int_equal(fg_trend_chart(work, "c", pts, 2, &past, 1, &err), -1);
    assert_non_null(strstr(err.msg, "past the last"));
    assert_int_equal(fg_trend_chart(work, "c", pts, 2, &odd, 1, &err), -1);
    assert_non_null(strstr(err.msg, "unknown kind"));
    assert_int_equal(fg_trend_chart(work, "c", none, 1, NULL, 0, &err), -1);
    assert_non_null(strstr(err.msg, "no measured value"));
    assert_int_equal(fg_trend_chart(work, "it's", pts, 2, NULL, 0, &err), -1);
    assert_non_null(strstr(err.msg, "quote or newline"));
    assert_null(strchr(err.msg, '\n'));
    char path[256];
    snprintf(path, sizeof path, "%s/trend_c.svg", work);
    assert_int_not_equal(access(path, F_OK), 0);
}

static void stem_keeps_safe_bytes(void **state)
{
    (void)state;
    char stem[64];
    fg_trend_stem("a/b <c>.d-e_f", stem, sizeof stem);
    assert_string_equal(stem, "trend_a_b__c_.d-e_f");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(renders_change_and_ab),
        cmocka_unit_test(single_run_without_marks),
        cmocka_unit_test(bad_input_is_one_line),
        cmocka_unit_test(stem_keeps_safe_bytes),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
