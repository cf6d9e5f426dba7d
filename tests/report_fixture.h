/* report_fixture.h — a small, complete run for the report page's tests
 * (test_report_page.c, test_report_browser.c): a results file whose one
 * cell is named with a <script> tag, its threshold table, an A/B dir of the
 * same commit that names a culprit, and charts drawn by gnuplot (trend
 * charts, real SVGs) in <work>/plots/<run-id>/ and <work>/plots/trends/.
 * Static functions: each test includes it once. */
#ifndef FLOWGATE_TESTS_REPORT_FIXTURE_H
#define FLOWGATE_TESTS_REPORT_FIXTURE_H
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "flowgate/common.h"
#include "flowgate/trend.h"

#define FX_RUN_ID "20261206-120000"
#define FX_COMMIT "0123456789abcdef0123456789abcdef01234567"
#define FX_EVIL_CELL "exp_<script>alert(1)</script>_ours"

static int fx_write(const char *work, const char *rel, const char *text)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", work, rel);
    char dir[512];
    snprintf(dir, sizeof dir, "%s", path);
    *strrchr(dir, '/') = 0;
    if (fg_mkdirs(dir, NULL) != 0) return -1;
    return fg_write_file_atomic(path, text, strlen(text), NULL);
}

static const char fx_results[] =
    "{\"schema\":\"flowgate-results/1\",\"run\":{\"id\":\"" FX_RUN_ID "\",\"category\":\"smoke\","
    "\"workflow\":\"recognizer\",\"host\":\"testhost\",\"cores\":4,\"git_commit\":\"" FX_COMMIT "\","
    "\"started\":\"2026-12-06T12:00:00+0000\",\"finished\":\"2026-12-06T12:00:30+0000\","
    "\"noise\":{\"before\":0.05,\"max_during\":0.3,\"after\":0.1,\"limit\":0.25,\"cells\":2,"
    "\"cells_beyond_limit\":1},\"outcome\":\"fail\",\"interrupted\":false},"
    "\"experiments\":[{\"experiment_id\":\"" FX_EVIL_CELL "\",\"category\":\"smoke\",\"repeat\":0,"
    "\"outcome\":\"fail\"},{\"experiment_id\":\"exp_input0.1mb_conc1_ours\",\"category\":\"smoke\","
    "\"repeat\":0,\"outcome\":\"pass\"}]}";

static const char fx_thresholds[] =
    "# Thresholds: run " FX_RUN_ID " (smoke)\n\n1 of 2 checks failed over 2 cells: **FAIL**.\n\n"
    "cells: 1 pass, 1 fail, 0 inconclusive.\n\n"
    "| Cell | Threshold | Actual | Result | Note |\n|---|---|---:|---|---|\n"
    "| " FX_EVIL_CELL " | p95_ms < 100 | 250.5 | **FAIL** | a \\| pipe |\n"
    "| exp_input0.1mb_conc1_ours | success_rate > 0.9 | 1 | PASS | |\n";

static const char fx_verdict[] =
    "{\"outcome\":\"FAIL\",\"stopped\":\"decided\",\"pairs\":9,\"looks\":3,\"elapsed_s\":80,"
    "\"alpha\":0.01,\"beta\":0.05,\"tests\":6,\"cells\":[{\"experiment_id\":\"" FX_EVIL_CELL "\","
    "\"verdict\":\"regression\",\"metrics\":{\"centre\":{\"ratio\":1.18,\"ci\":[1.1,1.26]},"
    "\"tail\":{\"ratio\":1.2,\"ci\":[1.05,1.4]},\"throughput\":{\"ratio\":0.85,\"ci\":[0.8,0.9]}},"
    "\"functions\":[{\"function\":\"recognizer__extract\",\"part\":\"exec\",\"added_ms\":30,"
    "\"added_ci_ms\":[20,40]}]},{\"experiment_id\":\"exp_input0.1mb_conc1_ours\",\"verdict\":"
    "\"no regression\",\"metrics\":{\"centre\":{\"ratio\":0.99,\"ci\":[0.97,1.01]}}}]}";

static const char fx_verdict_txt[] =
    "regression        " FX_EVIL_CELL ": centre x1.180\n"
    "  culprit of " FX_EVIL_CELL " (+30.0 ms added to the mean):\n"
    "    recognizer__extract exec +30.0 ms [20.0, 40.0]\n"
    "no regression     exp_input0.1mb_conc1_ours: centre x0.990\n"
    "ab: FAIL: 2 cells (1 regression, 1 no regression)\n";

/* The B side's results: the same commit as the run, so the report finds
 * this A/B dir by itself. */
static const char fx_b_results[] =
    "{\"schema\":\"flowgate-results/1\",\"run\":{\"id\":\"20261206-110000\",\"git_commit\":\""
    FX_COMMIT "\"},\"experiments\":[]}";

/* Two gnuplot trend charts: one as the run's chart, one as a trend. */
static int fx_charts(const char *work)
{
    fg_trend_point pts[12];
    static char commits[12][16];
    for (int i = 0; i < 12; i++) {
        snprintf(commits[i], sizeof commits[i], "c0ffee%d", i % 10);
        double level = i < 7 ? 100 : 120;
        pts[i] = (fg_trend_point){commits[i], NULL, level + i % 3, level * 1.5, 25 - (i >= 7) * 3};
    }
    fg_trend_mark marks[] = {{7, "+20.0 % p50", FG_TREND_CHANGE},
                             {9, "ab: regression, culprit recognizer__extract exec", FG_TREND_AB}};
    char dir[512];
    fg_err err = {{0}};
    snprintf(dir, sizeof dir, "%s/plots/" FX_RUN_ID, work);
    if (fg_trend_chart(dir, "smoke/exp_input0.1mb_conc1_ours", pts, 12, marks, 2, &err) != 0 ||
        fg_trend_chart(dir, "smoke/exp_input1.0mb_conc5_ours", pts, 12, NULL, 0, &err) != 0) {
        fprintf(stderr, "fixture: %s\n", err.msg);
        return -1;
    }
    snprintf(dir, sizeof dir, "%s/plots/trends", work);
    if (fg_trend_chart(dir, "smoke/exp_input0.1mb_conc1_ours", pts, 12, marks, 2, &err) != 0) {
        fprintf(stderr, "fixture: %s\n", err.msg);
        return -1;
    }
    return 0;
}

/* The whole run in work; 0 or -1. charts 0: no plots folder. */
static int fx_run(const char *work, int charts)
{
    if (fx_write(work, "results/experiment_results_" FX_RUN_ID ".json", fx_results) != 0 ||
        fx_write(work, "results/thresholds_" FX_RUN_ID ".md", fx_thresholds) != 0 ||
        fx_write(work, "results/ab-20261206-110000/verdict.json", fx_verdict) != 0 ||
        fx_write(work, "results/ab-20261206-110000/verdict.txt", fx_verdict_txt) != 0 ||
        fx_write(work, "results/ab-20261206-110000/B/experiment_results_20261206-110000.json",
                 fx_b_results) != 0)
        return -1;
    return charts ? fx_charts(work) : 0;
}

static char *fx_slurp(const char *path)
{
    fg_buf b = {0};
    if (fg_read_file(path, 0, &b, NULL) != 0) return NULL;
    char *s = malloc(b.len + 1);
    memcpy(s, b.data, b.len);
    s[b.len] = 0;
    fg_buf_free(&b);
    return s;
}

static int fx_rm(const char *work)
{
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", work);
    return system(cmd) == 0 ? 0 : -1;
}

#endif
