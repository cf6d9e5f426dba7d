/* test_scenario_report.c — the scenario report from a constructed results
 * file: the varied factor is found from the cells (input size here, none
 * for a one-cell scenario), the table prints mean ± sd [95 % interval] or
 * says a figure is from one replicate or missing, the curves hold one
 * block per scheduler in factor order, the CDF pools every replicate's
 * samples of the heaviest cell, the critical-path rows average the
 * replicates, the charts render when gnuplot is there, and a malformed
 * cell is refused with one line. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "flowgate/charts.h"
#include "flowgate/results.h"
#include "flowgate/scenario_report.h"

#define WORK "scenario-report-test"

static cJSON *metric(double mean, double sd, int n)
{
    cJSON *m = cJSON_CreateObject();
    cJSON_AddNumberToObject(m, "n", n);
    cJSON_AddNumberToObject(m, "mean", mean);
    if (n >= 2) {
        cJSON_AddNumberToObject(m, "sd", sd);
        cJSON *ci = cJSON_AddArrayToObject(m, "ci95");
        cJSON_AddItemToArray(ci, cJSON_CreateNumber(mean - 2 * sd));
        cJSON_AddItemToArray(ci, cJSON_CreateNumber(mean + 2 * sd));
    }
    return m;
}

static void add_cell(cJSON *root, const char *name, double mb, double rate, int stages,
                     const char *sched, double p50, int replicates)
{
    char id[128];
    snprintf(id, sizeof id, "sc_%s_input%gmb_%s", name, mb, sched);
    cJSON *c = cJSON_CreateObject();
    cJSON_AddStringToObject(c, "experiment_id", id);
    cJSON_AddNumberToObject(c, "replicates", replicates);
    cJSON *ident = cJSON_AddObjectToObject(c, "scenario");
    cJSON_AddStringToObject(ident, "name", name);
    cJSON_AddNumberToObject(ident, "input_mb", mb);
    cJSON_AddNumberToObject(ident, "concurrency", 1);
    cJSON *st = cJSON_AddArrayToObject(ident, "stages");
    for (int i = 0; i < stages; i++) {
        cJSON *s = cJSON_CreateObject();
        cJSON_AddNumberToObject(s, "requests", 10);
        cJSON_AddNumberToObject(s, "rate_rps", rate * (i + 1));
        cJSON_AddItemToArray(st, s);
    }
    cJSON_AddStringToObject(ident, "scheduler", sched);
    cJSON *m = cJSON_AddObjectToObject(c, "metrics");
    cJSON_AddItemToObject(m, "p50_ms", metric(p50, p50 / 10, replicates));
    cJSON_AddItemToObject(m, "p95_ms", metric(p50 * 2, p50 / 5, replicates));
    cJSON_AddItemToObject(m, "throughput_rps", metric(1.0, 0.1, replicates));
    cJSON_AddItemToObject(m, "success_rate", metric(1.0, 0, replicates));
    cJSON_AddItemToArray(cJSON_GetObjectItem(root, "scenario_cells"), c);
    /* The replicates' entries: 3 samples each, transfer-heavy. */
    for (int r = 0; r < replicates; r++) {
        cJSON *e = cJSON_CreateObject();
        cJSON_AddStringToObject(e, "experiment_id", id);
        cJSON_AddNumberToObject(e, "repeat", r);
        cJSON *s = cJSON_AddArrayToObject(e, "latency_samples_ms");
        for (int k = 0; k < 3; k++) cJSON_AddItemToArray(s, cJSON_CreateNumber(p50 + 10 * k + r));
        cJSON *mean = cJSON_AddObjectToObject(cJSON_AddObjectToObject(e, "bottleneck"), "mean_ms");
        cJSON_AddNumberToObject(mean, "exec", 10 + r);
        cJSON_AddNumberToObject(mean, "transfer", p50 - 20);
        cJSON_AddNumberToObject(mean, "queue", 5);
        cJSON_AddNumberToObject(mean, "driver", 5 - r);
        cJSON_AddItemToArray(cJSON_GetObjectItem(root, "experiments"), e);
    }
}

static cJSON *doc(void)
{
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "schema", FG_RESULTS_SCHEMA);
    cJSON *run = cJSON_AddObjectToObject(root, "run");
    cJSON_AddStringToObject(run, "id", "20261202-140000");
    cJSON_AddStringToObject(run, "category", "scenarios");
    cJSON_AddArrayToObject(root, "experiments");
    cJSON_AddArrayToObject(root, "scenario_cells");
    /* Vary-Input: 5 MB listed before 1 MB, to show the sort. */
    add_cell(root, "Vary-Input", 5, 1, 1, "ours", 500, 3);
    add_cell(root, "Vary-Input", 1, 1, 1, "ours", 100, 3);
    add_cell(root, "Vary-Input", 5, 1, 1, "round_robin", 700, 3);
    add_cell(root, "Vary-Input", 1, 1, 1, "round_robin", 150, 1);
    add_cell(root, "Burst-Spike", 2, 2, 2, "ours", 300, 3);
    return root;
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) fail_msg("%s missing", path);
    static char buf[1 << 16];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    return buf;
}

static int lines_with(const char *text, const char *needle)
{
    int n = 0;
    for (const char *p = text; (p = strstr(p, needle)); p++) n++;
    return n;
}

static void test_table_and_data(void **state)
{
    (void)state;
    cJSON *root = doc();
    fg_err err = {{0}};
    int scenarios = 0;
    assert_int_equal(fg_scenario_report_applies(root), 1);
    if (fg_scenario_report(root, WORK "/data", 0, &scenarios, &err) != 0) fail_msg("%s", err.msg);
    assert_int_equal(scenarios, 2);

    char *md = slurp(WORK "/data/scenarios.md");
    /* Size is the varied factor, sorted; mean ± sd [interval]. */
    assert_non_null(strstr(md, "| Vary-Input | 1 | ours | 3 | 100 ± 10 [80, 120] | 200 ± 20 [160, 240] |"));
    assert_non_null(strstr(md, "| Vary-Input | 1 | round_robin | 1 | 150 (1 replicate) |"));
    assert_non_null(strstr(md, "| Burst-Spike | — | ours |"));
    assert_non_null(strstr(md, "transfer (80 %)"));   /* 80 of 100 ms at 1 MB, ours */
    assert_true(strstr(md, "| Vary-Input | 1 | ours") < strstr(md, "| Vary-Input | 5 | ours"));

    char *curve = slurp(WORK "/data/Vary-Input/curve.dat");
    assert_non_null(strstr(curve, "\"ours\"\n1 100 80 120 200 160 240 1 0.8 1.2\n5 500 400 600"));
    assert_non_null(strstr(curve, "\"round_robin\"\n1 150 150 150 300 300 300"));   /* one replicate: no interval */

    char *cdf = slurp(WORK "/data/Vary-Input/cdf.dat");
    /* The heaviest cell (5 MB): 3 replicates x 3 samples per scheduler. */
    assert_non_null(strstr(cdf, "\"ours\"\n500.000 0.111111\n"));
    assert_non_null(strstr(cdf, "522.000 1.000000"));
    assert_int_equal(lines_with(cdf, " 1.000000"), 2);

    char *bn = slurp(WORK "/data/Vary-Input/bottleneck.dat");
    assert_non_null(strstr(bn, "\"5 ours\" 11 480 5 4 \"transfer\""));   /* replicates averaged */
    assert_int_equal(lines_with(bn, "\"transfer\""), 4);
    cJSON_Delete(root);
}

static void test_charts_rendered(void **state)
{
    (void)state;
    if (system("command -v gnuplot >/dev/null 2>&1") != 0) skip();
    cJSON *root = doc();
    fg_err err = {{0}};
    assert_int_equal(fg_results_save(WORK "/results.json", root, &err), 0);
    cJSON_Delete(root);
    fg_plot_summary s;
    if (fg_plot_results(WORK "/results.json", WORK "/plots", &s, &err) != 0) fail_msg("%s", err.msg);
    assert_int_equal(s.cells, 2);
    const char *files[] = {"Vary-Input/curve.png", "Vary-Input/cdf.svg", "Vary-Input/bottleneck.png",
                           "Burst-Spike/curve.png", "scenarios.md"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        char path[1200];
        struct stat st;
        snprintf(path, sizeof path, "%s/%s", s.dir, files[i]);
        if (stat(path, &st) != 0 || st.st_size == 0) fail_msg("%s missing or empty", path);
    }
}

/* A short run: no cell has a p95 (fewer than 20 requests a replicate), as
 * a CI-scale or scaled-down run gives. The curve keeps its p50 and
 * throughput panels instead of gnuplot failing on an empty one, which
 * took every other chart of the run with it. */
static void test_charts_without_p95(void **state)
{
    (void)state;
    if (system("command -v gnuplot >/dev/null 2>&1") != 0) skip();
    cJSON *root = doc();
    cJSON *c;
    cJSON_ArrayForEach(c, cJSON_GetObjectItem(root, "scenario_cells"))
        cJSON_DeleteItemFromObject(cJSON_GetObjectItem(c, "metrics"), "p95_ms");
    fg_err err = {{0}};
    assert_int_equal(fg_results_save(WORK "/nop95.json", root, &err), 0);
    cJSON_Delete(root);
    fg_plot_summary s;
    if (fg_plot_results(WORK "/nop95.json", WORK "/nop95", &s, &err) != 0) fail_msg("%s", err.msg);
    const char *files[] = {"Vary-Input/curve.png", "Burst-Spike/curve.png", "Burst-Spike/cdf.png"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        char path[1200];
        struct stat st;
        snprintf(path, sizeof path, "%s/%s", s.dir, files[i]);
        if (stat(path, &st) != 0 || st.st_size == 0) fail_msg("%s missing or empty", path);
    }
    char path[1200];
    snprintf(path, sizeof path, "%s/Vary-Input/curve.dat", s.dir);
    char *dat = slurp(path);
    assert_non_null(strstr(dat, "1 100 80 120 ? ? ?"));
}

static void test_malformed_cell(void **state)
{
    (void)state;
    cJSON *root = doc();
    cJSON *first = cJSON_GetArrayItem(cJSON_GetObjectItem(root, "scenario_cells"), 0);
    cJSON_DeleteItemFromObject(cJSON_GetObjectItem(first, "scenario"), "name");
    fg_err err = {{0}};
    int n;
    assert_int_equal(fg_scenario_report(root, WORK "/bad", 0, &n, &err), -1);
    assert_string_equal(err.msg, "scenario_cells: an item without experiment_id, name or scheduler");
    cJSON_Delete(root);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table_and_data),
        cmocka_unit_test(test_charts_rendered),
        cmocka_unit_test(test_charts_without_p95),
        cmocka_unit_test(test_malformed_cell),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
