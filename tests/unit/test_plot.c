/* test_plot.c — the plot module from a constructed results file: the data
 * files hold exactly the measured rows (an unmeasured cell has none, an
 * unmeasured stage is "?"), repeats are averaged, the charts exist as PNG
 * and SVG when gnuplot is there, a PATH without gnuplot gives the one
 * clear error (library and CLI), and --latest picks the newest run of a
 * category. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "flowgate/charts.h"
#include "flowgate/latest_results.h"
#include "flowgate/plot.h"
#include "flowgate/results.h"

#define WORK "plot-test"
#define RUN_ID "20260101-120000"

static const char *const functions[] = {"recognizer__upload", "recognizer__adult", "recognizer__extract"};

static cJSON *stats(double count, double mean)
{
    cJSON *s = cJSON_CreateObject();
    cJSON_AddNumberToObject(s, "count", count);
    if (count > 0) {
        cJSON_AddNumberToObject(s, "mean", mean);
        cJSON_AddNumberToObject(s, "p50", mean);
        cJSON_AddNumberToObject(s, "p95", mean * 1.5);
        cJSON_AddNumberToObject(s, "p99", mean * 2);
    }
    return s;
}

/* A measured experiment: p50 = base, p95 = 1.5 base, p99 = 2 base. */
static cJSON *experiment(const char *sched, double mb, int conc, int repeat, double base, double rps,
                         const char *timeline)
{
    char id[128];
    snprintf(id, sizeof id, "exp_input%.1fmb_conc%d_%s", mb, conc, sched);
    cJSON *e = cJSON_CreateObject();
    cJSON_AddStringToObject(e, "experiment_id", id);
    cJSON_AddStringToObject(e, "category", "standard");
    cJSON_AddNumberToObject(e, "input_mb", mb);
    cJSON_AddNumberToObject(e, "concurrency", conc);
    cJSON_AddStringToObject(e, "scheduler", sched);
    cJSON_AddStringToObject(e, "mode", "closed");
    cJSON_AddNumberToObject(e, "repeat", repeat);
    cJSON *r = cJSON_AddObjectToObject(e, "requests");
    cJSON_AddNumberToObject(r, "sent", 10);
    cJSON_AddNumberToObject(r, "ok", 10);
    cJSON_AddNumberToObject(r, "failed", 0);
    cJSON_AddNumberToObject(r, "timed_out", 0);
    cJSON_AddNumberToObject(e, "success_rate", 1.0);
    cJSON_AddNumberToObject(e, "wall_s", 10 / rps);
    cJSON_AddNumberToObject(e, "throughput_rps", rps);
    cJSON *l = stats(10, base);
    cJSON_AddItemToObject(e, "latency_ms", l);
    cJSON *fns = cJSON_AddObjectToObject(e, "functions");
    for (int i = 0; i < 3; i++) {
        cJSON *f = cJSON_AddObjectToObject(fns, functions[i]);
        cJSON_AddNumberToObject(f, "invocations", 10);
        cJSON_AddItemToObject(f, "exec_ms", stats(10, 10.0 * (i + 1)));
        cJSON_AddItemToObject(f, "queue_ms", stats(10, 2.0));
        /* upload reads no reference: its transfer was never measured. */
        cJSON_AddItemToObject(f, "transfer_ms", stats(i == 0 ? 0 : 10, 4.0 * mb));
    }
    if (timeline) cJSON_AddStringToObject(e, "timeline", timeline);
    /* Per-node series on the busiest cell only (2 MB c5): two nodes, the
     * first sample without CPU. */
    if (!strcmp(sched, "ours") && mb > 1.5 && conc == 5) {
        cJSON *w = cJSON_AddObjectToObject(e, "window");
        cJSON_AddNumberToObject(w, "start_s", 0.5);
        cJSON_AddNumberToObject(w, "end_s", 2.5);
        cJSON *nodes = cJSON_AddObjectToObject(cJSON_AddObjectToObject(e, "resources"), "nodes");
        /* node2 was sampled once (the run ended within the interval). */
        cJSON *once = cJSON_AddObjectToObject(nodes, "node2");
        cJSON_AddItemToArray(cJSON_AddArrayToObject(once, "t_s"), cJSON_CreateNumber(0));
        cJSON_AddItemToArray(cJSON_AddArrayToObject(once, "cpu_pct"), cJSON_CreateNull());
        cJSON_AddItemToArray(cJSON_AddArrayToObject(once, "rss_kb"), cJSON_CreateNumber(1024));
        for (int n = 0; n < 2; n++) {
            cJSON *s = cJSON_AddObjectToObject(nodes, n ? "node1" : "node0");
            cJSON *t = cJSON_AddArrayToObject(s, "t_s"), *c = cJSON_AddArrayToObject(s, "cpu_pct");
            cJSON *r = cJSON_AddArrayToObject(s, "rss_kb");
            for (int i = 0; i < 3; i++) {
                cJSON_AddItemToArray(t, cJSON_CreateNumber(i));
                cJSON_AddItemToArray(c, i ? cJSON_CreateNumber(50.0 * (n + 1)) : cJSON_CreateNull());
                cJSON_AddItemToArray(r, cJSON_CreateNumber(2048.0 * (i + 1)));
            }
        }
    }
    /* The critical path of ours: exec-bound at 1 MB, transfer-bound at 2. */
    if (!strcmp(sched, "ours")) {
        double share[4] = {0.6, 0.3, 0.1, 0.0};
        if (mb > 1.5) share[0] = 0.2, share[1] = 0.7;
        cJSON *mean = cJSON_AddObjectToObject(cJSON_AddObjectToObject(e, "bottleneck"), "mean_ms");
        const char *parts[4] = {"exec", "transfer", "queue", "driver"};
        for (int p = 0; p < 4; p++) cJSON_AddNumberToObject(mean, parts[p], share[p] * base);
    }
    return e;
}

/* Every request failed: nothing but counts was measured. */
static cJSON *unmeasured(const char *sched, double mb, int conc)
{
    char id[128];
    snprintf(id, sizeof id, "exp_input%.1fmb_conc%d_%s", mb, conc, sched);
    cJSON *e = cJSON_CreateObject();
    cJSON_AddStringToObject(e, "experiment_id", id);
    cJSON_AddNumberToObject(e, "input_mb", mb);
    cJSON_AddNumberToObject(e, "concurrency", conc);
    cJSON_AddStringToObject(e, "scheduler", sched);
    cJSON_AddNumberToObject(e, "repeat", 0);
    cJSON_AddItemToObject(e, "latency_ms", stats(0, 0));
    cJSON_AddObjectToObject(e, "functions");
    return e;
}

static void write_timeline(const char *path)
{
    cJSON *t = cJSON_CreateObject();
    cJSON_AddStringToObject(t, "experiment_id", "exp_input2.0mb_conc5_ours");
    cJSON *reqs = cJSON_AddArrayToObject(t, "requests");
    for (int r = 0; r < 25; r++) {
        cJSON *q = cJSON_CreateObject();
        cJSON_AddNumberToObject(q, "request", r);
        cJSON_AddBoolToObject(q, "warmup", r < 2);
        cJSON *spans = cJSON_AddArrayToObject(q, "spans");
        for (int i = 0; i < 3; i++) {
            double t0 = 100.0 + r * 40 + i * 10;
            cJSON *s = cJSON_CreateObject();
            cJSON_AddStringToObject(s, "function", functions[i]);
            cJSON_AddStringToObject(s, "node", "node0");
            cJSON_AddNumberToObject(s, "queued", t0 - 1);
            cJSON_AddNumberToObject(s, "sent", t0);
            if (i != 1) {   /* adult: no server timestamps reported */
                cJSON_AddNumberToObject(s, "exec_start", t0 + 1);
                cJSON_AddNumberToObject(s, "exec_end", t0 + 6);
            }
            cJSON_AddNumberToObject(s, "received", t0 + 8);
            cJSON_AddItemToArray(spans, s);
        }
        cJSON_AddItemToArray(reqs, q);
    }
    char *text = cJSON_Print(t);
    fg_err err;
    assert_int_equal(fg_write_file_atomic(path, text, strlen(text), &err), 0);
    free(text);
    cJSON_Delete(t);
}

static cJSON *results_doc(const char *run_id, const char *category, int with_timeline)
{
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "schema", FG_RESULTS_SCHEMA);
    cJSON *run = cJSON_AddObjectToObject(root, "run");
    cJSON_AddStringToObject(run, "id", run_id);
    cJSON_AddStringToObject(run, "category", category);
    cJSON *exps = cJSON_AddArrayToObject(root, "experiments");
    const char *tl = with_timeline ? WORK "/timeline.json" : NULL;
    /* ours: 1.0 MB c1/c5 and 2.0 MB c1/c5; c5 at 1.0 MB repeated twice. */
    cJSON_AddItemToArray(exps, experiment("ours", 1.0, 1, 0, 100, 8, NULL));
    cJSON_AddItemToArray(exps, experiment("ours", 1.0, 5, 0, 200, 20, NULL));
    cJSON_AddItemToArray(exps, experiment("ours", 1.0, 5, 1, 300, 30, NULL));
    cJSON_AddItemToArray(exps, experiment("ours", 2.0, 1, 0, 150, 6, NULL));
    cJSON_AddItemToArray(exps, experiment("ours", 2.0, 5, 0, 250, 18, tl));
    /* faaspr: one measured cell and one where nothing completed. */
    cJSON_AddItemToArray(exps, experiment("faaspr", 1.0, 1, 0, 120, 7, NULL));
    cJSON_AddItemToArray(exps, unmeasured("faaspr", 2.0, 5));
    return root;
}

static char *slurp(const char *path)
{
    fg_buf b;
    fg_err err;
    if (fg_read_file(path, 0, &b, &err) != 0) fail_msg("%s", err.msg);
    return (char *)b.data;
}

/* Data rows: neither comments nor block headers nor blank lines. */
static int data_rows(const char *text)
{
    int n = 0;
    for (const char *line = text; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL)
        if (*line != '#' && *line != '"' && *line != '\n') n++;
    return n;
}

static int contains_line(const char *text, const char *line)
{
    size_t n = strlen(line);
    for (const char *p = text; (p = strstr(p, line)); p++)
        if ((p == text || p[-1] == '\n') && (p[n] == '\n' || p[n] == 0)) return 1;
    return 0;
}

static int setup(void **state)
{
    (void)state;
    fg_err err;
    if (system("rm -rf " WORK) != 0) return -1;
    if (fg_mkdirs(WORK, &err) != 0) return -1;
    write_timeline(WORK "/timeline.json");
    cJSON *root = results_doc(RUN_ID, "standard", 1);
    int rc = fg_results_save(WORK "/results.json", root, &err);
    cJSON_Delete(root);
    return rc;
}

static void test_data_files(void **state)
{
    (void)state;
    cJSON *root = fg_results_load(WORK "/results.json", NULL);
    assert_non_null(root);
    fg_plot_summary s;
    fg_err err = {{0}};
    assert_int_equal(fg_plot_write_data(root, WORK "/results.json", WORK "/data", &s, &err), 0);
    cJSON_Delete(root);
    assert_string_equal(s.run_id, RUN_ID);
    assert_int_equal(s.cells, 5);          /* the unmeasured cell is not one */
    assert_int_equal(s.n_schedulers, 2);

    char *tp = slurp(WORK "/data/throughput.dat");
    assert_int_equal(s.throughput_blocks, 3);   /* ours 1.0, ours 2.0, faaspr 1.0 */
    assert_int_equal(data_rows(tp), 5);
    assert_true(contains_line(tp, "\"ours 1.0 MB\" \"rps\""));
    assert_true(contains_line(tp, "5 25"));     /* mean of the repeats 20 and 30 */
    assert_true(contains_line(tp, "1 7"));
    assert_null(strstr(tp, "faaspr 2.0"));
    free(tp);

    char *lat = slurp(WORK "/data/latency.dat");
    assert_int_equal(s.latency_blocks, 3);      /* ours c1, ours c5, faaspr c1 */
    assert_int_equal(s.latency_p95_points, 5);
    assert_int_equal(s.latency_p99_points, 5);
    assert_true(contains_line(lat, "1 250 375 500"));   /* ours c5 at 1 MB, repeats averaged */
    assert_true(contains_line(lat, "2 250 375 500"));
    assert_int_equal(data_rows(lat), 5);
    free(lat);

    char *ok = slurp(WORK "/data/success.dat");
    assert_int_equal(s.success_rows, 5);
    assert_true(contains_line(ok, "1 \"1.0MB c5 ours\" 1 20"));   /* sent summed over repeats */
    free(ok);

    char *fn = slurp(WORK "/data/functions.dat");
    assert_int_equal(s.function_rows, 6);       /* 3 functions x 2 sizes */
    assert_true(contains_line(fn, "\"upload 1.0MB\" ? 2 10"));
    assert_true(contains_line(fn, "\"extract 2.0MB\" 8 2 30"));
    free(fn);

    char *sc = slurp(WORK "/data/schedulers.dat");
    assert_true(contains_line(sc, "\"cell\" \"ours\" \"faaspr\" \"ours\" \"faaspr\""));
    assert_true(contains_line(sc, "\"1.0MB c1\" 150 180 8 7"));
    assert_true(contains_line(sc, "\"2.0MB c5\" 375 ? 18 ?"));
    assert_int_equal(s.scheduler_rows, 4);
    free(sc);

    char *bn = slurp(WORK "/data/bottleneck.dat");
    assert_int_equal(s.bottleneck_rows, 4);     /* faaspr's cells have no attribution */
    assert_true(contains_line(bn, "\"1.0MB c5 ours\" 150 75 25 0 \"exec\""));   /* repeats averaged */
    assert_true(contains_line(bn, "\"2.0MB c1 ours\" 30 105 15 0 \"transfer\""));
    free(bn);

    char *rs = slurp(WORK "/data/resources.dat");
    assert_int_equal(s.resources_blocks, 2);   /* node2's single sample is no series */
    assert_null(strstr(rs, "node2"));
    assert_string_equal(s.resources_cell, "exp_input2.0mb_conc5_ours");
    assert_true(contains_line(rs, "\"node0\" \"cpu\" \"rss\""));
    assert_true(contains_line(rs, "0.000 ? 2.000"));        /* no CPU before an interval */
    assert_true(contains_line(rs, "2.000 100.000 6.000"));  /* node1, MB */
    assert_float_equal(s.window_start_s, 0.5, 1e-9);
    free(rs);

    char *tl = slurp(WORK "/data/timeline.dat");
    assert_string_equal(s.timeline_cell, "exp_input2.0mb_conc5_ours");
    assert_int_equal(s.timeline_requests, FG_PLOT_TIMELINE_REQUESTS);
    assert_int_equal(s.timeline_blocks, 3);
    assert_int_equal(s.timeline_rows, 3 * FG_PLOT_TIMELINE_REQUESTS);
    /* Warmup requests 0 and 1 are skipped: sample row 0 is request 2, whose
     * upload was sent at 180 ms, the earliest send of the sample. */
    assert_true(contains_line(tl, "0 0.000 8.000 1.000 6.000 \"node0\""));
    assert_true(contains_line(tl, "0 10.000 18.000 ? ? \"node0\""));
    free(tl);
}

static int have_gnuplot(void)
{
    return system("command -v gnuplot >/dev/null 2>&1") == 0;
}

static void assert_nonempty_file(const char *dir, const char *name)
{
    char path[1024];
    struct stat st;
    /* A truncated path would stat some other file: fail instead. */
    int n = snprintf(path, sizeof path, "%s/%s", dir, name);
    if (n < 0 || (size_t)n >= sizeof path) fail_msg("path too long: %s/%s", dir, name);
    if (stat(path, &st) != 0 || st.st_size == 0) fail_msg("%s missing or empty", path);
}

static void test_charts_rendered(void **state)
{
    (void)state;
    if (!have_gnuplot()) skip();
    fg_plot_summary s;
    fg_err err = {{0}};
    if (fg_plot_results(WORK "/results.json", WORK "/plots", &s, &err) != 0) fail_msg("%s", err.msg);
    assert_string_equal(s.dir, WORK "/plots/" RUN_ID);
    const char *charts[] = {"throughput", "latency", "success", "functions", "schedulers",
                            "timeline", "bottleneck", "resources"};
    for (size_t i = 0; i < sizeof charts / sizeof charts[0]; i++) {
        char name[64];
        snprintf(name, sizeof name, "%s.png", charts[i]);
        assert_nonempty_file(s.dir, name);
        snprintf(name, sizeof name, "%s.svg", charts[i]);
        assert_nonempty_file(s.dir, name);
    }
    char *png = slurp(WORK "/plots/" RUN_ID "/latency.png");
    assert_memory_equal(png, "\x89PNG", 4);
    free(png);
    char *svg = slurp(WORK "/plots/" RUN_ID "/throughput.svg");
    assert_non_null(strstr(svg, "<svg"));
    assert_non_null(strstr(svg, RUN_ID));     /* the title names the run */
    free(svg);
}

/* A small run (10 samples a cell) has no p95: the scheduler chart draws
 * its throughput panel alone instead of failing on an empty one. */
static void test_schedulers_without_p95(void **state)
{
    (void)state;
    cJSON *root = results_doc("20260101-130000", "single", 0);
    cJSON *e;
    cJSON_ArrayForEach(e, cJSON_GetObjectItem(root, "experiments")) {
        cJSON *lat = cJSON_GetObjectItem(e, "latency_ms");
        cJSON_DeleteItemFromObject(lat, "p95");
        cJSON_DeleteItemFromObject(lat, "p99");
    }
    fg_err err = {{0}};
    assert_int_equal(fg_results_save(WORK "/nop95/results.json", root, &err), 0);
    cJSON_Delete(root);
    fg_plot_summary s;
    root = fg_results_load(WORK "/nop95/results.json", &err);
    assert_int_equal(fg_plot_write_data(root, NULL, WORK "/nop95/data", &s, &err), 0);
    cJSON_Delete(root);
    assert_int_equal(s.scheduler_rows, 4);
    assert_int_equal(s.scheduler_p95_rows, 0);
    /* The latency chart keeps every cell's median, the rest "?". */
    assert_true(s.latency_blocks > 0);
    char *lat = slurp(WORK "/nop95/data/latency.dat");
    assert_true(contains_line(lat, "1 100 ? ?"));
    free(lat);
    /* No p95/p99 at all: the chart leaves those series out of the plot. */
    assert_int_equal(s.latency_p95_points, 0);
    assert_int_equal(s.latency_p99_points, 0);
    assert_int_equal(s.scheduler_tp_rows, 4);
    if (!have_gnuplot()) return;
    if (fg_plot_results(WORK "/nop95/results.json", WORK "/nop95/plots", &s, &err) != 0)
        fail_msg("%s", err.msg);
    assert_nonempty_file(WORK "/nop95/plots/20260101-130000", "schedulers.png");
    assert_nonempty_file(WORK "/nop95/plots/20260101-130000", "latency.png");
}

/* A scale run holds categories whose cells share ids: each category is
 * charted on its own, so no point mixes two experiments. */
static void test_categories_charted_apart(void **state)
{
    (void)state;
    if (!have_gnuplot()) skip();
    cJSON *root = results_doc("20260101-140000", "scale", 0);
    cJSON *e;
    int i = 0;
    cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(root, "experiments")) {
        cJSON_DeleteItemFromObjectCaseSensitive(e, "category");
        cJSON_AddStringToObject(e, "category", i++ % 2 ? "extreme" : "large_input");
    }
    FILE *f = fopen(WORK "/scale.json", "w");
    assert_non_null(f);
    char *text = cJSON_Print(root);
    fputs(text, f);
    fclose(f);
    free(text);
    cJSON_Delete(root);
    fg_plot_summary s;
    fg_err err = {{0}};
    if (fg_plot_results(WORK "/scale.json", WORK "/scaleplots", &s, &err) != 0) fail_msg("%s", err.msg);
    assert_string_equal(s.dir, WORK "/scaleplots/20260101-140000");
    assert_nonempty_file(WORK "/scaleplots/20260101-140000/large_input", "throughput.png");
    assert_nonempty_file(WORK "/scaleplots/20260101-140000/extreme", "throughput.png");
    /* The two repeats of 1.0 MB conc 5 (20 and 30 wf/s) fall in different
     * categories: each chart holds its own value, not their mean (25). */
    char *large = slurp(WORK "/scaleplots/20260101-140000/large_input/throughput.dat");
    char *extreme = slurp(WORK "/scaleplots/20260101-140000/extreme/throughput.dat");
    assert_true(contains_line(large, "5 30"));
    assert_true(contains_line(extreme, "5 20"));
    assert_false(contains_line(large, "5 25") || contains_line(extreme, "5 25"));
    free(large);
    free(extreme);
}

static void test_no_timeline_no_chart(void **state)
{
    (void)state;
    cJSON *root = results_doc("20260101-130000", "standard", 0);
    fg_plot_summary s;
    fg_err err = {{0}};
    assert_int_equal(fg_plot_write_data(root, NULL, WORK "/notl", &s, &err), 0);
    cJSON_Delete(root);
    assert_int_equal(s.timeline_rows, 0);
    assert_string_equal(s.timeline_cell, "");
}

/* A results file moved with its timelines/ directory, its timeline paths
 * relative to the directory the run was started in: found next to it. */
static void test_timeline_next_to_results(void **state)
{
    (void)state;
    fg_err err = {{0}};
    assert_int_equal(fg_mkdirs(WORK "/moved/timelines/" RUN_ID, &err), 0);
    write_timeline(WORK "/moved/timelines/" RUN_ID "/exp_input2.0mb_conc5_ours.json");
    cJSON *root = results_doc(RUN_ID, "standard", 0);
    cJSON *e;
    cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(root, "experiments"))
        cJSON_AddStringToObject(e, "timeline", "elsewhere/timelines/" RUN_ID "/exp_input2.0mb_conc5_ours.json");
    assert_int_equal(fg_results_save(WORK "/moved/results.json", root, &err), 0);
    fg_plot_summary s;
    assert_int_equal(fg_plot_write_data(root, WORK "/moved/results.json", WORK "/moved/data", &s, &err), 0);
    assert_int_equal(s.timeline_rows, 3 * FG_PLOT_TIMELINE_REQUESTS);
    assert_int_equal(fg_plot_write_data(root, NULL, WORK "/moved/data", &s, &err), 0);
    assert_int_equal(s.timeline_rows, 0);     /* nowhere to look: no chart, no error */
    cJSON_Delete(root);
}

/* A timeline with a negative call, a server execution from unix seconds
 * read as ms (some 1.7e12 ms before the call), and one that ends before it
 * starts: none is drawn, each is counted, the good spans stay. */
static void test_negative_spans_not_drawn(void **state)
{
    (void)state;
    fg_err err = {{0}};
    assert_int_equal(fg_mkdirs(WORK "/neg", &err), 0);
    cJSON *t = cJSON_CreateObject();
    cJSON *reqs = cJSON_AddArrayToObject(t, "requests");
    for (int r = 0; r < 3; r++) {
        cJSON *q = cJSON_CreateObject();
        cJSON_AddNumberToObject(q, "request", r);
        cJSON_AddBoolToObject(q, "warmup", 0);
        cJSON *spans = cJSON_AddArrayToObject(q, "spans");
        double t0 = 100.0 + r * 50;
        cJSON *sp = cJSON_CreateObject();
        cJSON_AddStringToObject(sp, "function", "recognizer__upload");
        cJSON_AddStringToObject(sp, "node", "functions");
        cJSON_AddNumberToObject(sp, "sent", t0);
        cJSON_AddNumberToObject(sp, "received", r == 1 ? t0 - 5 : t0 + 20);   /* r1: negative */
        if (r == 0) {   /* seconds taken for ms, as before the unit was detected */
            cJSON_AddNumberToObject(sp, "exec_start", 1767225600.0 - 1767225600000.0);
            cJSON_AddNumberToObject(sp, "exec_end", 1767225600.01 - 1767225600000.0);
        } else {        /* r2: ends before it starts */
            cJSON_AddNumberToObject(sp, "exec_start", t0 + 15);
            cJSON_AddNumberToObject(sp, "exec_end", t0 + 5);
        }
        cJSON_AddItemToArray(spans, sp);
        /* and one good span per request */
        sp = cJSON_CreateObject();
        cJSON_AddStringToObject(sp, "function", "recognizer__adult");
        cJSON_AddStringToObject(sp, "node", "functions");
        cJSON_AddNumberToObject(sp, "sent", t0 + 20);
        cJSON_AddNumberToObject(sp, "received", t0 + 40);
        cJSON_AddNumberToObject(sp, "exec_start", t0 + 22);
        cJSON_AddNumberToObject(sp, "exec_end", t0 + 38);
        cJSON_AddItemToArray(spans, sp);
        cJSON_AddItemToArray(reqs, q);
    }
    char *text = cJSON_Print(t);
    assert_int_equal(fg_write_file_atomic(WORK "/neg/tl.json", text, strlen(text), &err), 0);
    free(text);
    cJSON_Delete(t);
    cJSON *root = results_doc(RUN_ID, "standard", 0);
    cJSON *e;
    cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(root, "experiments"))
        cJSON_AddStringToObject(e, "timeline", WORK "/neg/tl.json");
    fg_plot_summary s;
    assert_int_equal(fg_plot_write_data(root, NULL, WORK "/neg/data", &s, &err), 0);
    cJSON_Delete(root);
    assert_int_equal(s.timeline_dropped, 3);     /* r1's call, r0's and r2's executions */
    assert_int_equal(s.timeline_rows, 2 + 3);    /* upload r0, r2; adult r0..r2 */
    char *tl = slurp(WORK "/neg/data/timeline.dat");
    /* Every number on a data row is >= 0, and the rows of r0 and r2 keep
     * the call but not the execution. */
    for (const char *line = tl; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
        if (*line == '#' || *line == '"' || *line == '\n') continue;
        assert_null(memchr(line, '-', strcspn(line, "\n")));
    }
    assert_true(contains_line(tl, "0 0.000 20.000 ? ? \"functions\""));
    assert_true(contains_line(tl, "2 100.000 120.000 ? ? \"functions\""));   /* r2 */
    assert_true(contains_line(tl, "0 20.000 40.000 22.000 38.000 \"functions\""));
    free(tl);
}

static void test_gnuplot_missing(void **state)
{
    (void)state;
    char *old = strdup(getenv("PATH") ? getenv("PATH") : "");
    setenv("PATH", "/nonexistent", 1);
    fg_plot_summary s;
    fg_err err = {{0}};
    int rc = fg_plot_results(WORK "/results.json", WORK "/nognuplot", &s, &err);
    setenv("PATH", old, 1);
    free(old);
    assert_int_equal(rc, -1);
    assert_string_equal(err.msg, "gnuplot not found: install gnuplot-nox");

    /* The CLI: exit 2 and the same single line. */
    const char *bin = getenv("FLOWGATE_BIN");
    if (!bin) skip();
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "PATH=/nonexistent '%s/flowgate' plot %s/results.json --out %s/cli 2>&1",
             bin, WORK, WORK);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    char out[4096];
    size_t n = fread(out, 1, sizeof out - 1, p);
    out[n] = 0;
    int status = pclose(p);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 2);
    assert_string_equal(out, "flowgate plot: gnuplot not found: install gnuplot-nox\n");
}

static void test_bad_input(void **state)
{
    (void)state;
    fg_plot_summary s;
    fg_err err = {{0}};
    assert_int_equal(fg_plot_results(WORK "/absent.json", WORK "/bad", &s, &err), -1);
    assert_non_null(strstr(err.msg, "absent.json"));
    assert_int_equal(fg_write_file_atomic(WORK "/other.json", "{\"a\":1}", 7, &err), 0);
    assert_int_equal(fg_plot_results(WORK "/other.json", WORK "/bad", &s, &err), -1);
    assert_non_null(strstr(err.msg, "schema"));
}

static void save_at(const char *path, const char *run_id, const char *category, time_t mtime)
{
    fg_err err;
    cJSON *root = results_doc(run_id, category, 0);
    assert_int_equal(fg_results_save(path, root, &err), 0);
    cJSON_Delete(root);
    struct timespec times[2] = {{mtime, 0}, {mtime, 0}};
    assert_int_equal(utimensat(AT_FDCWD, path, times, 0), 0);
}

static void test_latest(void **state)
{
    (void)state;
    fg_err err = {{0}};
    assert_int_equal(fg_mkdirs(WORK "/latest", &err), 0);
    time_t now = time(NULL);
    save_at(WORK "/latest/a.json", "run-a", "standard", now - 300);
    save_at(WORK "/latest/b.json", "run-b", "standard", now - 200);
    save_at(WORK "/latest/c.json", "run-c", "smoke", now - 100);
    save_at(WORK "/latest/baseline.json", "run-base", "standard", now);   /* never picked */
    assert_int_equal(fg_write_file_atomic(WORK "/latest/z.json", "not json", 8, &err), 0);
    char path[1024];
    assert_int_equal(fg_plot_latest_results(WORK "/latest", NULL, path, sizeof path, &err), 0);
    assert_string_equal(path, WORK "/latest/c.json");
    assert_int_equal(fg_plot_latest_results(WORK "/latest", "standard", path, sizeof path, &err), 0);
    assert_string_equal(path, WORK "/latest/b.json");
    assert_int_equal(fg_plot_latest_results(WORK "/latest", "extreme", path, sizeof path, &err), -1);
    assert_non_null(strstr(err.msg, "extreme"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_data_files),
        cmocka_unit_test(test_charts_rendered),
        cmocka_unit_test(test_categories_charted_apart),
        cmocka_unit_test(test_schedulers_without_p95),
        cmocka_unit_test(test_no_timeline_no_chart),
        cmocka_unit_test(test_timeline_next_to_results),
        cmocka_unit_test(test_negative_spans_not_drawn),
        cmocka_unit_test(test_gnuplot_missing),
        cmocka_unit_test(test_bad_input),
        cmocka_unit_test(test_latest),
    };
    return cmocka_run_group_tests_name("plot", tests, setup, NULL);
}
