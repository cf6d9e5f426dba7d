/* test_history_store.c — the history store (flowgate/history.h) on SQLite,
 * and, when FLOWGATE_TEST_HISTORY_URL_FILE names the file the ctest fixture
 * postgres_server writes its URL into (tests/pg_ctl.sh), on PostgreSQL: the
 * same cases, the same assertions.
 *   - open creates the history (file, directory, schema at the latest
 *     version); a history at version 1 migrates with its data kept; a
 *     history from a newer flowgate is refused;
 *   - an import gives the rows expected (runs, cells, every numeric leaf);
 *     the same run again, or from a copy of its file, is one run;
 *   - bad JSON, another schema, a document that fails half-way: -1, a
 *     message naming the file, nothing written;
 *   - a series: its values (the mean of the repeats) in order of started,
 *     the metric aliases, interrupted runs and inconclusive cells left out;
 *   - an A/B run directory: its verdict, culprit and B's commit;
 *   - the writers' call: off, on, and a history that cannot be opened;
 *   - 8 processes importing overlapping sets of 20 runs at once: 20 runs,
 *     every cell and metric, no process failed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "flowgate/history.h"
#include "flowgate/results.h"
#include "history/schema.h"

enum { EXPS = 3, METRICS_PER_CELL = 12, PARALLEL_RUNS = 20, PARALLEL_PROCS = 8 };

/* A call that must succeed; else its message (err in scope) is the failure. */
#define OK(call)                                   \
    do {                                           \
        if ((call) != 0) fail_msg("%s", err.msg);  \
    } while (0)

static char dir[256];           /* this process's scratch directory */
static char pg_url[512];        /* "" = SQLite */
static int case_no;

/* ---- targets ----------------------------------------------------------------- */

static void run_sql(const char *target, const char *sql)
{
    fg_err err = {{0}};
    fg_db *db = fg_db_open(target, &err);
    if (!db) fail_msg("%s", err.msg);
    if (fg_db_exec(db, sql, &err) != 0) fail_msg("%s", err.msg);
    fg_db_close(db);
}

/* A history no case has used: a new SQLite file, or the PostgreSQL
 * database emptied. */
static const char *fresh_target(char *buf, size_t size)
{
    if (!pg_url[0]) {
        snprintf(buf, size, "%s/case%d/history.sqlite", dir, ++case_no);
        return buf;
    }
    snprintf(buf, size, "%s", pg_url);
    run_sql(buf, "DROP SCHEMA public CASCADE; CREATE SCHEMA public");
    return buf;
}

static void counts(fg_history *h, long runs, long cells, long metrics)
{
    fg_err err = {{0}};
    long r = -1, c = -1, m = -1;
    if (fg_history_counts(h, &r, &c, &m, &err) != 0) fail_msg("%s", err.msg);
    assert_int_equal(r, runs);
    assert_int_equal(c, cells);
    assert_int_equal(m, metrics);
}

static fg_history *open_ok(const char *target)
{
    fg_err err = {{0}};
    fg_history *h = fg_history_open(target, &err);
    if (!h) fail_msg("%s", err.msg);
    return h;
}

/* ---- results documents --------------------------------------------------------- */

typedef struct run_spec {
    const char *id, *started, *commit, *host;
    int repeats, interrupted;
    double base;                        /* latency_ms.p50 of the first cell, repeat 0 */
    const char *inconclusive_exp;       /* this experiment's cells are inconclusive */
} run_spec;

/* A flowgate-results/1 document: EXPS cells x repeats, each with exactly
 * METRICS_PER_CELL numeric leaves outside the parts left out. */
static cJSON *make_results(const run_spec *s)
{
    cJSON *root = cJSON_CreateObject(), *run = cJSON_AddObjectToObject(root, "run");
    cJSON_AddStringToObject(root, "schema", FG_RESULTS_SCHEMA);
    cJSON_AddStringToObject(run, "id", s->id);
    cJSON_AddStringToObject(run, "category", "standard");
    cJSON_AddStringToObject(run, "workflow", "recognizer");
    cJSON_AddStringToObject(run, "started", s->started);
    cJSON_AddStringToObject(run, "finished", s->started);
    cJSON_AddStringToObject(run, "host", s->host ? s->host : "vm");
    cJSON_AddNumberToObject(run, "cores", 2);
    cJSON_AddStringToObject(run, "git_commit", s->commit);
    cJSON_AddNumberToObject(cJSON_AddObjectToObject(run, "config"), "request_scale", 1);
    cJSON_AddStringToObject(cJSON_AddObjectToObject(run, "endpoints"), "mode", "embedded");
    cJSON *noise = cJSON_AddObjectToObject(run, "noise");
    cJSON_AddNumberToObject(noise, "before", 0.1);
    cJSON_AddNumberToObject(noise, "max_during", 0.2);
    cJSON_AddNumberToObject(noise, "after", 0.1);
    cJSON_AddStringToObject(run, "outcome", "pass");
    cJSON_AddBoolToObject(run, "interrupted", s->interrupted);
    cJSON *exps = cJSON_AddArrayToObject(root, "experiments");
    for (int e = 0; e < EXPS; e++) {
        for (int r = 0; r < s->repeats; r++) {
            char id[64];
            snprintf(id, sizeof id, "exp_input%d.0mb_conc1_ours", e + 1);
            cJSON *x = cJSON_CreateObject();
            cJSON_AddItemToArray(exps, x);
            cJSON_AddStringToObject(x, "experiment_id", id);
            cJSON_AddStringToObject(x, "category", "standard");
            cJSON_AddNumberToObject(x, "repeat", r);                    /* 1 */
            cJSON_AddStringToObject(x, "scheduler", "ours");
            cJSON_AddNumberToObject(x, "input_mb", e + 1);              /* 2 */
            cJSON_AddNumberToObject(x, "concurrency", 1);               /* 3 */
            cJSON_AddStringToObject(x, "mode", "closed");
            cJSON_AddBoolToObject(x, "inline_data", 0);
            cJSON_AddNumberToObject(x, "success_rate", 1);              /* 4 */
            cJSON_AddNumberToObject(x, "throughput_rps", 10.5);         /* 5 */
            cJSON *lat = cJSON_AddObjectToObject(x, "latency_ms");
            double p50 = s->base + 100 * e + r;
            cJSON_AddNumberToObject(lat, "p50", p50);                   /* 6 */
            cJSON_AddNumberToObject(lat, "p95", p50 * 2);               /* 7 */
            cJSON_AddNumberToObject(lat, "p99", p50 * 3);               /* 8 */
            cJSON *req = cJSON_AddObjectToObject(x, "requests");
            cJSON_AddNumberToObject(req, "sent", 20);                   /* 9 */
            cJSON_AddNumberToObject(req, "ok", 20);                     /* 10 */
            cJSON *exec = cJSON_AddObjectToObject(
                cJSON_AddObjectToObject(cJSON_AddObjectToObject(x, "functions"),
                                        "recognizer__extract"), "exec_ms");
            cJSON_AddNumberToObject(exec, "p50", p50 / 2);              /* 11 */
            cJSON_AddNumberToObject(exec, "p95", p50);                  /* 12 */
            cJSON_AddArrayToObject(x, "errors");
            cJSON_AddNumberToObject(cJSON_AddObjectToObject(x, "resources"), "cpu_s", 1);
            cJSON *samples = cJSON_AddArrayToObject(x, "latency_samples_ms");
            cJSON_AddItemToArray(samples, cJSON_CreateNumber(p50));
            cJSON_AddArrayToObject(x, "timeline");
            int open = s->inconclusive_exp && !strcmp(id, s->inconclusive_exp);
            cJSON_AddStringToObject(x, "outcome", open ? "inconclusive" : "pass");
        }
    }
    return root;
}

static void save(const char *path, const cJSON *root)
{
    fg_err err = {{0}};
    if (fg_results_save(path, root, &err) != 0) fail_msg("%s", err.msg);
}

static void write_run(const char *path, const run_spec *s)
{
    cJSON *root = make_results(s);
    save(path, root);
    cJSON_Delete(root);
}

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

/* ---- cases ------------------------------------------------------------------ */

static void test_open_creates(void **state)
{
    (void)state;
    char target[600];
    fresh_target(target, sizeof target);
    fg_history *h = open_ok(target);
    if (!pg_url[0]) assert_int_equal(access(target, F_OK), 0);   /* its directory made too */
    int version = -1;
    fg_err err = {{0}};
    OK(fg_history_schema_version(fg_history_db(h), &version, &err));
    assert_int_equal(version, fg_history_schema_latest());
    assert_true(version >= 2);
    counts(h, 0, 0, 0);
    fg_history_close(h);
    /* Opening again migrates nothing and keeps the version. */
    h = open_ok(target);
    OK(fg_history_schema_version(fg_history_db(h), &version, &err));
    assert_int_equal(version, fg_history_schema_latest());
    fg_history_close(h);
}

static void test_migration_keeps_data(void **state)
{
    (void)state;
    char target[600];
    fresh_target(target, sizeof target);
    fg_err err = {{0}};
    fg_history *h = fg_history_open_at_version(target, 1, &err);
    if (!h) fail_msg("%s", err.msg);
    int version = -1;
    OK(fg_history_schema_version(fg_history_db(h), &version, &err));
    assert_int_equal(version, 1);
    /* A run as version 1 stored it: no machine_key column yet. */
    fg_db *db = fg_history_db(h);
    assert_int_equal(fg_db_exec(db,
        "INSERT INTO runs (id, run_key, kind, run_id, category, workflow, git_commit, started,"
        " host, cores, endpoint_mode, request_scale, outcome, interrupted, imported_at)"
        " VALUES (7, 'vm|r1|2026-01-01T00:00:00+0000|standard', 'run', 'r1', 'standard',"
        " 'recognizer', 'abc', '2026-01-01T00:00:00+0000', 'vm', 2, 'embedded', 1, 'pass', 0, 'now');"
        "INSERT INTO cells (id, run, category, experiment_id, repeat, outcome)"
        " VALUES (9, 7, 'standard', 'exp_a', 0, 'pass');"
        "INSERT INTO metrics (cell, name, value) VALUES (9, 'latency_ms.p95', 42.5)", &err), 0);
    fg_history_close(h);

    h = open_ok(target);
    OK(fg_history_schema_version(fg_history_db(h), &version, &err));
    assert_int_equal(version, fg_history_schema_latest());
    counts(h, 1, 1, 1);
    fg_history_key *keys;
    int n;
    OK(fg_history_series_list(h, "exp_a", &keys, &n, &err));
    assert_int_equal(n, 1);
    assert_string_equal(keys[0].machine_key, "2c vm");         /* filled in by step 2 */
    fg_history_point *p;
    OK(fg_history_series(h, &keys[0], "p95_ms", NULL, &p, &n, &err));
    assert_int_equal(n, 1);
    assert_true(fabs(p[0].value - 42.5) < 1e-9);
    free(p);
    free(keys);
    /* A history a newer flowgate wrote is refused, not misread. */
    char sql[200];
    snprintf(sql, sizeof sql, "INSERT INTO schema_version (version, applied_at) VALUES (%d, 'x')",
             fg_history_schema_latest() + 1);
    OK(fg_db_exec(fg_history_db(h), sql, &err));
    fg_history_close(h);
    assert_null(fg_history_open(target, &err));
    assert_non_null(strstr(err.msg, "newer flowgate"));
}

static void test_import_counts_and_twice(void **state)
{
    (void)state;
    char target[600], path[600], copy[600];
    fresh_target(target, sizeof target);
    snprintf(path, sizeof path, "%s/experiment_results_20260101-000000.json", dir);
    snprintf(copy, sizeof copy, "%s/copy-of-run.json", dir);
    run_spec s = {"20260101-000000", "2026-01-01T00:00:00+0000", "c1", NULL, 2, 0, 10, NULL};
    write_run(path, &s);
    write_run(copy, &s);
    fg_history *h = open_ok(target);
    fg_err err = {{0}};
    if (fg_history_import_file(h, path, &err) != 0) fail_msg("%s", err.msg);
    counts(h, 1, EXPS * 2, EXPS * 2 * METRICS_PER_CELL);
    assert_int_equal(fg_history_import_file(h, path, &err), FG_HISTORY_ALREADY);
    assert_int_equal(fg_history_import_file(h, copy, &err), FG_HISTORY_ALREADY);
    counts(h, 1, EXPS * 2, EXPS * 2 * METRICS_PER_CELL);
    fg_history_run *runs;
    int n;
    OK(fg_history_runs(h, &runs, &n, &err));
    assert_int_equal(n, 1);
    assert_string_equal(runs[0].run_id, "20260101-000000");
    assert_string_equal(runs[0].kind, "run");
    assert_string_equal(runs[0].git_commit, "c1");
    assert_int_equal(runs[0].cells, EXPS * 2);
    free(runs);
    fg_history_close(h);
}

static void test_bad_input(void **state)
{
    (void)state;
    char target[600], bad[600], other[600], half[600];
    fresh_target(target, sizeof target);
    snprintf(bad, sizeof bad, "%s/bad.json", dir);
    snprintf(other, sizeof other, "%s/other.json", dir);
    snprintf(half, sizeof half, "%s/half.json", dir);
    write_text(bad, "{\"schema\": \"flowgate-results/1\", \"run\": {");
    write_text(other, "{\"schema\": \"something-else/2\", \"run\": {}, \"experiments\": []}");
    /* A repeat that is no whole number: refused before anything is written. */
    run_spec s = {"20260101-000001", "2026-01-01T00:00:01+0000", "c1", NULL, 1, 0, 10, NULL};
    cJSON *root = make_results(&s);
    cJSON_ReplaceItemInObject(cJSON_GetArrayItem(fg_results_experiments(root), 1), "repeat",
                              cJSON_CreateNumber(0.5));
    save(half, root);
    cJSON_Delete(root);

    fg_history *h = open_ok(target);
    const char *files[] = {bad, other, half};
    for (int i = 0; i < 3; i++) {
        fg_err err = {{0}};
        assert_int_equal(fg_history_import_file(h, files[i], &err), -1);
        assert_non_null(strstr(err.msg, files[i]));
        assert_null(strchr(err.msg, '\n'));
    }
    counts(h, 0, 0, 0);
    /* A failure half-way (after the run and two cells went in) leaves
     * nothing: the import is one transaction. */
    char good[600];
    snprintf(good, sizeof good, "%s/good.json", dir);
    s.repeats = 2;
    write_run(good, &s);
    fg_history_test_fail_after_cells(2);
    fg_err injected = {{0}};
    assert_int_equal(fg_history_import_file(h, good, &injected), -1);
    fg_history_test_fail_after_cells(-1);
    assert_non_null(strstr(injected.msg, good));
    counts(h, 0, 0, 0);
    assert_int_equal(fg_history_import_file(h, good, &injected), FG_HISTORY_IMPORTED);
    counts(h, 1, EXPS * 2, EXPS * 2 * METRICS_PER_CELL);
    /* Not a results document at all, given already loaded. */
    cJSON *arr = cJSON_CreateArray();
    fg_err err = {{0}};
    assert_int_equal(fg_history_import_results(h, arr, "mem.json", "run", &err), -1);
    assert_non_null(strstr(err.msg, "mem.json"));
    cJSON_Delete(arr);
    fg_history_close(h);
}

static void import_spec(fg_history *h, const char *name, const run_spec *s)
{
    char path[600];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    write_run(path, s);
    fg_err err = {{0}};
    if (fg_history_import_file(h, path, &err) != 0) fail_msg("%s", err.msg);
}

static void test_series(void **state)
{
    (void)state;
    char target[600];
    fresh_target(target, sizeof target);
    fg_history *h = open_ok(target);
    /* Imported out of order: the series is in order of started. */
    run_spec late = {"r3", "2026-01-03T00:00:00+0000", "c3", NULL, 2, 0, 30, NULL};
    run_spec early = {"r1", "2026-01-01T00:00:00+0000", "c1", NULL, 2, 0, 10, NULL};
    run_spec mid = {"r2", "2026-01-02T00:00:00+0000", "c2", NULL, 2, 0, 20, NULL};
    run_spec cut = {"r4", "2026-01-04T00:00:00+0000", "c4", NULL, 2, 1, 40, NULL};
    run_spec busy = {"r5", "2026-01-05T00:00:00+0000", "c5", NULL, 2, 0, 50,
                     "exp_input1.0mb_conc1_ours"};
    run_spec elsewhere = {"r6", "2026-01-06T00:00:00+0000", "c6", "other-host", 2, 0, 60, NULL};
    import_spec(h, "s3.json", &late);
    import_spec(h, "s1.json", &early);
    import_spec(h, "s2.json", &mid);
    import_spec(h, "s4.json", &cut);
    import_spec(h, "s5.json", &busy);
    import_spec(h, "s6.json", &elsewhere);

    fg_err err = {{0}};
    fg_history_key *keys;
    int n_keys;
    OK(fg_history_series_list(h, NULL, &keys, &n_keys, &err));
    assert_int_equal(n_keys, EXPS * 2);                 /* two machines */
    free(keys);
    OK(fg_history_series_list(h, "exp_input1.0mb_conc1_ours", &keys, &n_keys, &err));
    assert_int_equal(n_keys, 2);
    assert_string_equal(keys[0].machine_key, "2c other-host");
    assert_string_equal(keys[1].machine_key, "2c vm");
    const fg_history_key *k = &keys[1];
    assert_string_equal(k->workflow, "recognizer");
    assert_string_equal(k->category, "standard");
    assert_string_equal(k->endpoint_mode, "embedded");
    assert_true(k->request_scale == 1);

    fg_history_point *p;
    int n;
    OK(fg_history_series(h, k, "p50_ms", NULL, &p, &n, &err));
    /* r4 was interrupted, r5's cell inconclusive, r6 another machine. */
    assert_int_equal(n, 3);
    const char *commits[] = {"c1", "c2", "c3"};
    for (int i = 0; i < 3; i++) {
        assert_string_equal(p[i].git_commit, commits[i]);
        assert_int_equal(p[i].repeats, 2);
        assert_true(fabs(p[i].value - (10.0 * (i + 1) + 0.5)) < 1e-9);  /* mean of base, base+1 */
    }
    assert_string_equal(p[0].run_id, "r1");
    assert_string_equal(p[0].started, "2026-01-01T00:00:00+0000");
    assert_string_equal(p[0].run_key, "vm|r1|2026-01-01T00:00:00+0000|standard");
    free(p);
    /* An alias and its dotted path are one metric; other paths work too. */
    OK(fg_history_series(h, k, "latency_ms.p95", NULL, &p, &n, &err));
    assert_int_equal(n, 3);
    assert_true(fabs(p[2].value - 61) < 1e-9);
    free(p);
    OK(fg_history_series(h, k, "p95_ms", "c2", &p, &n, &err));
    assert_int_equal(n, 2);
    assert_string_equal(p[0].git_commit, "c2");
    free(p);
    OK(fg_history_series(h, k, "functions.recognizer__extract.exec_ms.p50", NULL,
                                       &p, &n, &err));
    assert_int_equal(n, 3);
    assert_true(fabs(p[0].value - 5.25) < 1e-9);
    free(p);
    OK(fg_history_series(h, k, "no.such.metric", NULL, &p, &n, &err));
    assert_int_equal(n, 0);
    free(p);
    /* r4's and r5's other cells are in series of their own experiments. */
    fg_history_key other = *k;
    snprintf(other.experiment_id, sizeof other.experiment_id, "exp_input2.0mb_conc1_ours");
    OK(fg_history_series(h, &other, "p50_ms", NULL, &p, &n, &err));
    assert_int_equal(n, 4);                             /* r1 r2 r3 r5 */
    assert_string_equal(p[3].run_id, "r5");
    free(p);
    assert_int_equal(fg_history_series(h, k, "p50_ms", "deadbeef", &p, &n, &err),
                     FG_HISTORY_NO_SUCH_COMMIT);
    assert_non_null(strstr(err.msg, "deadbeef"));
    free(keys);
    fg_history_close(h);
}

/* An A/B run directory as ab_sides.c leaves it. */
static void write_ab_dir(const char *ab)
{
    char path[700];
    mkdir(ab, 0777);
    const char *sides[] = {"A", "B"}, *commits[] = {"aaaa1111", "bbbb2222"};
    for (int s = 0; s < 2; s++) {
        snprintf(path, sizeof path, "%s/%s", ab, sides[s]);
        mkdir(path, 0777);
        snprintf(path, sizeof path, "%s/%s/experiment_results_20260201-000000.json", ab, sides[s]);
        run_spec spec = {"20260201-000000", "2026-02-01T00:00:00+0000", commits[s], NULL, 1, 0,
                         10 + s, NULL};
        write_run(path, &spec);
    }
    snprintf(path, sizeof path, "%s/verdict.json", ab);
    write_text(path,
        "{\"outcome\": \"FAIL\", \"stopped\": \"decided\", \"pairs\": 5, \"cells\": ["
        " {\"experiment_id\": \"exp_input1.0mb_conc1_ours\", \"verdict\": \"regression\","
        "  \"metrics\": {\"centre\": {\"ratio\": 1.25, \"ci\": [1.1, 1.4]}},"
        "  \"functions\": [{\"function\": \"recognizer__extract\", \"part\": \"exec\","
        "                  \"added_ms\": 12.5},"
        "                 {\"function\": \"recognizer__upload\", \"part\": \"exec\", \"added_ms\": 0.1}]},"
        " {\"experiment_id\": \"exp_input2.0mb_conc1_ours\", \"verdict\": \"no regression\","
        "  \"metrics\": {\"centre\": {\"ratio\": 0.99, \"ci\": [0.95, 1.02]}},"
        "  \"functions\": [{\"function\": \"recognizer__upload\", \"part\": \"exec\","
        "                  \"added_ms\": 0.2}]}]}\n");
}

static void test_ab_import(void **state)
{
    (void)state;
    char target[600], ab[600];
    fresh_target(target, sizeof target);
    snprintf(ab, sizeof ab, "%s/ab-20260201-000000", dir);
    write_ab_dir(ab);
    fg_history *h = open_ok(target);
    fg_err err = {{0}};
    if (fg_history_import_ab(h, ab, &err) != 0) fail_msg("%s", err.msg);
    /* The sides are two runs (one host, id and start: the side tells them
     * apart), of kind ab. */
    counts(h, 2, 2 * EXPS, 2 * EXPS * METRICS_PER_CELL);
    assert_int_equal(fg_history_import_ab(h, ab, &err), FG_HISTORY_ALREADY);
    counts(h, 2, 2 * EXPS, 2 * EXPS * METRICS_PER_CELL);

    fg_history_ab_mark *m;
    int n;
    OK(fg_history_ab_list(h, NULL, &m, &n, &err));
    assert_int_equal(n, 2);
    free(m);
    OK(fg_history_ab_list(h, "exp_input1.0mb_conc1_ours", &m, &n, &err));
    assert_int_equal(n, 1);
    assert_string_equal(m[0].ab_id, "ab-20260201-000000");
    assert_string_equal(m[0].commit_a, "aaaa1111");
    assert_string_equal(m[0].commit_b, "bbbb2222");
    assert_string_equal(m[0].outcome, "FAIL");
    assert_string_equal(m[0].verdict, "regression");
    assert_true(fabs(m[0].centre_ratio - 1.25) < 1e-12);
    assert_true(fabs(m[0].centre_ci_lo - 1.1) < 1e-12 && fabs(m[0].centre_ci_hi - 1.4) < 1e-12);
    assert_string_equal(m[0].culprit_function, "recognizer__extract");
    assert_string_equal(m[0].culprit_part, "exec");
    assert_true(fabs(m[0].culprit_added_ms - 12.5) < 1e-12);
    free(m);
    OK(fg_history_ab_list(h, "exp_input2.0mb_conc1_ours", &m, &n, &err));
    assert_int_equal(n, 1);
    assert_string_equal(m[0].culprit_function, "");     /* no regression: no culprit */
    assert_true(isnan(m[0].culprit_added_ms));
    free(m);
    /* The sides stay out of the series (B may be a slowed system). */
    fg_history_key *keys;
    OK(fg_history_series_list(h, NULL, &keys, &n, &err));
    assert_int_equal(n, 0);
    free(keys);
    /* A directory without a verdict: one line naming it. */
    char empty[700];
    snprintf(empty, sizeof empty, "%s/not-an-ab", dir);
    mkdir(empty, 0777);
    assert_int_equal(fg_history_import_ab(h, empty, &err), -1);
    assert_non_null(strstr(err.msg, "not-an-ab/verdict.json"));
    fg_history_close(h);
}

static void test_append(void **state)
{
    (void)state;
    char target[600], path[600], results_dir[600];
    fresh_target(target, sizeof target);
    snprintf(path, sizeof path, "%s/experiment_results_20260301-000000.json", dir);
    run_spec s = {"20260301-000000", "2026-03-01T00:00:00+0000", "c1", NULL, 1, 0, 10, NULL};
    write_run(path, &s);
    char *saved = getenv("FLOWGATE_HISTORY") ? strdup(getenv("FLOWGATE_HISTORY")) : NULL;
    char *text = NULL;
    size_t len = 0;
    FILE *errs = open_memstream(&text, &len);

    setenv("FLOWGATE_HISTORY", "off", 1);
    assert_int_equal(fg_history_append_run(dir, path, "suite", errs), 0);
    setenv("FLOWGATE_HISTORY", target, 1);
    assert_int_equal(fg_history_append_run(dir, path, "suite", errs), 0);
    assert_int_equal(fg_history_append_run(dir, path, "suite", errs), 0);  /* there already */
    fflush(errs);
    assert_int_equal(len, 0);
    /* The default: beside the results. */
    unsetenv("FLOWGATE_HISTORY");
    snprintf(results_dir, sizeof results_dir, "%s/append-default", dir);
    assert_int_equal(fg_history_append_run(results_dir, path, "run", errs), 0);
    char def[700];
    snprintf(def, sizeof def, "%s/history.sqlite", results_dir);
    assert_int_equal(access(def, F_OK), 0);
    /* A history that cannot be opened: one line, -1. */
    setenv("FLOWGATE_HISTORY", "/dev/null/history.sqlite", 1);
    assert_int_equal(fg_history_append_run(dir, path, "run", errs), -1);
    fclose(errs);
    assert_non_null(text);
    assert_int_equal(strncmp(text, "history: ", 9), 0);
    assert_non_null(strchr(text, '\n'));
    assert_int_equal(strchr(text, '\n')[1], 0);                 /* one line */
    free(text);
    if (saved) setenv("FLOWGATE_HISTORY", saved, 1);
    else unsetenv("FLOWGATE_HISTORY");
    free(saved);

    fg_history *h = open_ok(target);
    fg_history_run *runs;
    int n;
    fg_err err = {{0}};
    OK(fg_history_runs(h, &runs, &n, &err));
    assert_int_equal(n, 1);
    assert_string_equal(runs[0].kind, "suite");
    free(runs);
    fg_history_close(h);
}

/* One importer: every file of the set, starting at its own offset. */
static int import_all(const char *target, const char (*paths)[600], int first, int count)
{
    fg_err err = {{0}};
    fg_history *h = fg_history_open(target, &err);
    if (!h) {
        fprintf(stderr, "importer %d: %s\n", first, err.msg);
        return 1;
    }
    int failed = 0;
    for (int i = 0; i < count; i++) {
        int rc = fg_history_import_file(h, paths[(first + i) % PARALLEL_RUNS], &err);
        if (rc < 0) {
            fprintf(stderr, "importer %d: %s\n", first, err.msg);
            failed = 1;
        }
    }
    fg_history_close(h);
    return failed;
}

static void test_parallel_importers(void **state)
{
    (void)state;
    char target[600];
    static char paths[PARALLEL_RUNS][600];
    fresh_target(target, sizeof target);
    for (int i = 0; i < PARALLEL_RUNS; i++) {
        snprintf(paths[i], sizeof paths[i], "%s/experiment_results_20260401-%06d.json", dir, i);
        char id[32], started[40], commit[16];
        snprintf(id, sizeof id, "20260401-%06d", i);
        snprintf(started, sizeof started, "2026-04-01T00:%02d:%02d+0000", i / 60, i % 60);
        snprintf(commit, sizeof commit, "c%d", i);
        run_spec s = {id, started, commit, NULL, 2, 0, 10 + i, NULL};
        write_run(paths[i], &s);
    }
    /* No history yet: the processes also race to create and migrate it. */
    pid_t pids[PARALLEL_PROCS];
    for (int p = 0; p < PARALLEL_PROCS; p++) {
        pids[p] = fork();
        assert_true(pids[p] >= 0);
        if (pids[p] == 0) _exit(import_all(target, (const char (*)[600])paths, p * 3, 12));
    }
    int failed = 0;
    for (int p = 0; p < PARALLEL_PROCS; p++) {
        int status;
        assert_int_equal(waitpid(pids[p], &status, 0), pids[p]);
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) failed++;
    }
    assert_int_equal(failed, 0);
    fg_history *h = open_ok(target);
    counts(h, PARALLEL_RUNS, PARALLEL_RUNS * EXPS * 2, PARALLEL_RUNS * EXPS * 2 * METRICS_PER_CELL);
    fg_history_close(h);
}

/* ---- setup --------------------------------------------------------------------- */

static int read_pg_url(void)
{
    const char *file = getenv("FLOWGATE_TEST_HISTORY_URL_FILE");
    if (!file || !*file) return 0;
    FILE *f = fopen(file, "r");
    if (!f || !fgets(pg_url, sizeof pg_url, f)) {
        fprintf(stderr, "test_history_store: %s: no PostgreSQL URL (did the postgres_server "
                "fixture start?)\n", file);
        if (f) fclose(f);
        return -1;
    }
    fclose(f);
    pg_url[strcspn(pg_url, "\r\n")] = 0;
    return 0;
}

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "test_history_store_tmp.%ld", (long)getpid());
    return mkdir(dir, 0777) == 0 ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd);
}

int main(void)
{
    if (read_pg_url() != 0) return 1;
    if (pg_url[0]) printf("history target: PostgreSQL (%s)\n", pg_url);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_open_creates),
        cmocka_unit_test(test_migration_keeps_data),
        cmocka_unit_test(test_import_counts_and_twice),
        cmocka_unit_test(test_bad_input),
        cmocka_unit_test(test_series),
        cmocka_unit_test(test_ab_import),
        cmocka_unit_test(test_append),
        cmocka_unit_test(test_parallel_importers),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
