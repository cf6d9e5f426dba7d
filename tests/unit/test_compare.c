/* test_compare.c — the regression gate: Mann–Whitney against hand-computed
 * values and scipy's documented example, Hodges–Lehmann and percentiles,
 * bootstrap determinism, the verdicts (ok, regression, improvement,
 * insufficient data, missing) on constructed results, cells told apart by
 * category when a scale file repeats an id, the throughput rule,
 * and the `flowgate compare` / `flowgate baseline` exit codes. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "flowgate/compare.h"
#include "flowgate/results.h"

#define assert_close(a, b, tol) do { \
    double a_ = (a), b_ = (b); \
    if (!(fabs(a_ - b_) <= (tol))) fail_msg("%s = %.17g, expected %.17g", #a, a_, b_); \
} while (0)

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* ---- statistics ---------------------------------------------------------- */

static void test_mann_whitney_hand_computed(void **state)
{
    (void)state;
    fg_mwu r;
    /* No overlap: U = 3*3 = 9, mean 4.5, var = 9/12 * 7 = 5.25.
     * p_greater = Q((9 - 4.5 - 0.5)/sqrt(5.25)) = Q(1.7457) = 0.040428 */
    const double x1[] = {1, 2, 3}, y1[] = {4, 5, 6};
    assert_int_equal(fg_mann_whitney(x1, 3, y1, 3, &r), 0);
    assert_close(r.u, 9, 0);
    assert_close(r.p_greater, 0.04042779918502615, 1e-12);
    assert_close(r.p_less, 0.9854518341293739, 1e-12);

    /* Ties: ranks 1 | 3 3 3 | 5.5 5.5 | 7, y holds 2,3,4 → R = 15.5,
     * U = 15.5 - 6 = 9.5; tie term (27-3)+(8-2) = 30,
     * var = 12/12 * (8 - 30/42) = 7.285714; sd = 2.699206;
     * p_greater = Q((9.5 - 6 - 0.5)/2.699206) = Q(1.11144) = 0.133190 */
    const double x2[] = {1, 2, 2, 3}, y2[] = {2, 3, 4};
    assert_int_equal(fg_mann_whitney(x2, 4, y2, 3, &r), 0);
    assert_close(r.u, 9.5, 0);
    assert_close(r.p_greater, 0.1331899616712413, 1e-12);
    assert_close(r.p_less, 0.9308188290598747, 1e-12);
}

/* scipy.stats.mannwhitneyu docs: males = [19, 22, 16, 29, 24],
 * females = [20, 11, 17, 12] give U1 = 17 and, with method="asymptotic",
 * the two-sided p = 0.11134688653314041; one-sided is half of it. */
static void test_mann_whitney_scipy_example(void **state)
{
    (void)state;
    const double males[] = {19, 22, 16, 29, 24}, females[] = {20, 11, 17, 12};
    fg_mwu r;
    assert_int_equal(fg_mann_whitney(females, 4, males, 5, &r), 0);
    assert_close(r.u, 17, 0);
    assert_close(2 * r.p_greater, 0.11134688653314041, 1e-12);
    assert_int_equal(fg_mann_whitney(males, 5, females, 4, &r), 0);
    assert_close(r.u, 3, 0);
    assert_close(2 * r.p_less, 0.11134688653314041, 1e-12);
}

static void test_mann_whitney_degenerate(void **state)
{
    (void)state;
    const double same[] = {5, 5, 5, 5};
    fg_mwu r;
    assert_int_equal(fg_mann_whitney(same, 4, same, 4, &r), 0);
    assert_close(r.p_greater, 1, 0);
    assert_close(r.p_less, 1, 0);
    assert_int_equal(fg_mann_whitney(same, 0, same, 4, &r), -1);
}

static void test_hodges_lehmann_and_percentiles(void **state)
{
    (void)state;
    /* y - x: 1 3 5 0 2 4 -1 1 3 → sorted -1 0 1 1 2 3 3 4 5, median 2 */
    const double x[] = {1, 2, 3}, y[] = {2, 4, 6};
    assert_close(fg_hodges_lehmann(x, 3, y, 3), 2, 0);
    /* Even count: {10, 20} - {0} → median of 10, 20 = 15 */
    const double x2[] = {0}, y2[] = {10, 20};
    assert_close(fg_hodges_lehmann(x2, 1, y2, 2), 15, 0);
    const double s[] = {1, 2, 3, 4};
    assert_close(fg_percentile_sorted(s, 4, 50), 2.5, 1e-12);
    assert_close(fg_percentile_sorted(s, 4, 95), 3.85, 1e-12);
    assert_close(fg_percentile_sorted(s, 4, 0), 1, 0);
    assert_close(fg_percentile_sorted(s, 4, 100), 4, 0);
    assert_true(isnan(fg_percentile_sorted(s, 0, 50)));

    /* Harrell–Davis: reference values from mpmath's regularized incomplete
     * beta (weights I_{i/n}(p(n+1), (1-p)(n+1)) - I_{(i-1)/n}(...)). */
    const double five[] = {1, 2, 3, 4, 5};
    assert_close(fg_hd_quantile(five, 5, 50), 3, 1e-12);
    assert_close(fg_hd_quantile(five, 5, 95), 4.92679658443038248, 1e-10);
    const double tens[] = {10, 20, 30, 40, 50, 60, 70, 80, 90, 100};
    assert_close(fg_hd_quantile(tens, 10, 95), 97.9205724574050362, 1e-9);
    double pi[] = {3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5, 8, 9, 7, 9, 3, 2, 3, 8, 4};
    qsort(pi, 20, sizeof *pi, cmp_double);
    assert_close(fg_hd_quantile(pi, 20, 95), 8.95232993148437450, 1e-10);
    assert_true(isnan(fg_hd_quantile(five, 0, 95)));
}

/* ---- synthetic results ---------------------------------------------------- */

/* Deterministic noise in [0, 1). */
static double uniform(uint32_t *s)
{
    *s = *s * 1664525u + 1013904223u;
    return (*s >> 8) / 16777216.0;
}

/* Latencies around median_ms: +-15 % jitter and a 5 % tail up to +40 %,
 * like a loaded shared machine. */
static void latencies(double *out, int n, double median_ms, uint32_t seed)
{
    uint32_t s = seed;
    for (int i = 0; i < n; i++) {
        double v = median_ms * (0.85 + 0.30 * uniform(&s));
        if (uniform(&s) < 0.05) v *= 1.1 + 0.3 * uniform(&s);
        out[i] = v;
    }
}

static cJSON *results_root(void)
{
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "schema", "flowgate-results/1");
    cJSON *run = cJSON_AddObjectToObject(root, "run");
    cJSON_AddStringToObject(run, "id", "20261127-021500");
    cJSON_AddStringToObject(run, "category", "standard");
    cJSON_AddArrayToObject(root, "experiments");
    return root;
}

/* One repeat of a cell: n latencies around median_ms, and throughput;
 * category NULL leaves the field out, as older files do. */
static void add_repeat_in(cJSON *root, const char *category, const char *id, int repeat, int n,
                          double median_ms, uint32_t seed, double throughput)
{
    double *lat = malloc((size_t)(n ? n : 1) * sizeof *lat);
    latencies(lat, n, median_ms, seed);
    cJSON *e = cJSON_CreateObject();
    cJSON_AddStringToObject(e, "experiment_id", id);
    if (category) cJSON_AddStringToObject(e, "category", category);
    cJSON_AddNumberToObject(e, "repeat", repeat);
    cJSON_AddNumberToObject(e, "success_rate", 1.0);
    cJSON *req = cJSON_AddObjectToObject(e, "requests");
    cJSON_AddNumberToObject(req, "sent", n);
    cJSON_AddNumberToObject(req, "ok", n);
    if (throughput >= 0) cJSON_AddNumberToObject(e, "throughput_rps", throughput);
    cJSON_AddItemToObject(e, "latency_samples_ms", cJSON_CreateDoubleArray(lat, n));
    cJSON_AddItemToArray(cJSON_GetObjectItemCaseSensitive(root, "experiments"), e);
    free(lat);
}

static void add_repeat(cJSON *root, const char *id, int repeat, int n, double median_ms,
                       uint32_t seed, double throughput)
{
    add_repeat_in(root, "standard", id, repeat, n, median_ms, seed, throughput);
}

/* A cell with 3 repeats of n samples; seed_base varies the noise. */
static void add_cell(cJSON *root, const char *id, int n, double median_ms, uint32_t seed_base,
                     const double tp[3])
{
    for (int r = 0; r < 3; r++)
        add_repeat(root, id, r, n, median_ms, seed_base * 7919u + (uint32_t)r * 104729u + 1u, tp[r]);
}

static const double tp_steady[3] = {2.0, 2.1, 1.95};

static fg_cell_compare compare_one(cJSON *base, cJSON *new_, const fg_compare_opts *o)
{
    fg_compare_report rep;
    fg_err err = {{0}};
    if (fg_compare_results(base, NULL, new_, NULL, o, &rep, &err) != 0) fail_msg("%s", err.msg);
    assert_int_equal(rep.n, 1);
    fg_cell_compare c = rep.cells[0];
    fg_compare_report_free(&rep);
    return c;
}

static void test_identical_is_ok(void **state)
{
    (void)state;
    fg_compare_opts o;
    fg_compare_opts_defaults(&o);
    cJSON *base = results_root(), *new_ = results_root();
    add_cell(base, "exp_a", 20, 1000, 1, tp_steady);
    add_cell(new_, "exp_a", 20, 1000, 1, tp_steady);
    fg_cell_compare c = compare_one(base, new_, &o);
    assert_int_equal(c.verdict, FG_VERDICT_OK);
    assert_int_equal(c.n_base, 60);
    assert_int_equal(c.n_new, 60);
    assert_int_equal(c.repeats_base, 3);
    assert_close(c.p95_ratio, 1, 1e-12);
    assert_close(c.cliffs_delta, 0, 1e-12);
    assert_close(c.hl_shift_ms, 0, 1e-9);
    assert_true(c.p_slower > 0.4);
    assert_true(c.ratio_lo <= 1 && c.ratio_hi >= 1);
    assert_close(c.tp_change, 0, 1e-12);
    cJSON_Delete(base);
    cJSON_Delete(new_);

    /* Independent draws from the same distribution are no regression either. */
    base = results_root();
    new_ = results_root();
    add_cell(base, "exp_a", 20, 1000, 2, tp_steady);
    add_cell(new_, "exp_a", 20, 1000, 3, tp_steady);
    c = compare_one(base, new_, &o);
    assert_int_equal(c.verdict, FG_VERDICT_OK);
    cJSON_Delete(base);
    cJSON_Delete(new_);
}

static void test_slower_is_regression(void **state)
{
    (void)state;
    fg_compare_opts o;
    fg_compare_opts_defaults(&o);
    cJSON *base = results_root(), *new_ = results_root();
    add_cell(base, "exp_input0.1mb_conc2_ours", 20, 1000, 4, tp_steady);
    add_cell(new_, "exp_input0.1mb_conc2_ours", 20, 1500, 5, tp_steady);
    fg_cell_compare c = compare_one(base, new_, &o);
    assert_int_equal(c.verdict, FG_VERDICT_REGRESSION);
    assert_int_equal(c.latency, FG_VERDICT_REGRESSION);
    assert_true(c.p_slower < 1e-6);
    assert_true(c.ratio_lo > 1.2);
    assert_true(c.p95_ratio > 1.3 && c.p95_ratio < 1.7);
    assert_true(c.cliffs_delta > 0.8);
    assert_true(c.hl_shift_ms > 350 && c.hl_shift_ms < 650);
    char line[1024];
    fg_compare_format(&c, line, sizeof line);
    assert_int_equal(strncmp(line, "regression", 10), 0);
    assert_non_null(strstr(line, "exp_input0.1mb_conc2_ours"));
    assert_non_null(strstr(line, "CI ["));
    assert_non_null(strstr(line, "HL shift +"));
    cJSON_Delete(base);
    cJSON_Delete(new_);
}

/* Over 50 independent noisy draws: a 2x slowdown is always caught, +50 %
 * nearly always (the p95 of 60 samples is itself noisy), and no draw of an
 * unchanged system is flagged either way. */
static void test_power_and_false_alarms(void **state)
{
    (void)state;
    fg_compare_opts o;
    fg_compare_opts_defaults(&o);
    static const struct { double factor; int min_flagged, max_flagged; fg_verdict flag; } cases[] = {
        {2.0, 50, 50, FG_VERDICT_REGRESSION},
        {1.5, 40, 50, FG_VERDICT_REGRESSION},
        {1.0, 0, 0, FG_VERDICT_REGRESSION},
        {1.0, 0, 0, FG_VERDICT_IMPROVEMENT},
        {0.5, 50, 50, FG_VERDICT_IMPROVEMENT},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int flagged = 0;
        for (uint32_t seed = 1; seed <= 50; seed++) {
            cJSON *base = results_root(), *new_ = results_root();
            add_cell(base, "exp_a", 20, 1000, 1000 + seed, tp_steady);
            add_cell(new_, "exp_a", 20, 1000 * cases[i].factor, 2000 + seed, tp_steady);
            fg_cell_compare c = compare_one(base, new_, &o);
            flagged += c.verdict == cases[i].flag;
            cJSON_Delete(base);
            cJSON_Delete(new_);
        }
        if (flagged < cases[i].min_flagged || flagged > cases[i].max_flagged)
            fail_msg("x%.1f: %s in %d of 50 draws, expected %d..%d", cases[i].factor,
                     fg_verdict_name(cases[i].flag), flagged, cases[i].min_flagged,
                     cases[i].max_flagged);
    }
}

/* Many samples make a small slowdown significant, but the CI stays inside
 * the tolerance: the gate needs both. */
static void test_small_slowdown_within_tolerance(void **state)
{
    (void)state;
    fg_compare_opts o;
    fg_compare_opts_defaults(&o);
    cJSON *base = results_root(), *new_ = results_root();
    add_cell(base, "exp_a", 100, 1000, 6, tp_steady);
    add_cell(new_, "exp_a", 100, 1080, 7, tp_steady);
    fg_cell_compare c = compare_one(base, new_, &o);
    assert_true(c.p_slower < o.alpha);
    assert_true(c.ratio_lo < 1.2);
    assert_int_equal(c.verdict, FG_VERDICT_OK);
    /* A tighter per-cell tolerance turns it red. */
    cJSON *cells = cJSON_Parse("{\"exp_a\": {\"p95_ms\": 0.01}}");
    o.cells = cells;
    c = compare_one(base, new_, &o);
    assert_int_equal(c.verdict, FG_VERDICT_REGRESSION);
    cJSON_Delete(cells);
    cJSON_Delete(base);
    cJSON_Delete(new_);
}

static void test_faster_is_improvement(void **state)
{
    (void)state;
    fg_compare_opts o;
    fg_compare_opts_defaults(&o);
    cJSON *base = results_root(), *new_ = results_root();
    add_cell(base, "exp_a", 20, 1000, 8, tp_steady);
    add_cell(new_, "exp_a", 20, 600, 9, tp_steady);
    fg_cell_compare c = compare_one(base, new_, &o);
    assert_int_equal(c.verdict, FG_VERDICT_IMPROVEMENT);
    assert_true(c.p_faster < 1e-6);
    assert_true(c.ratio_hi < 1 / 1.2);
    assert_true(c.cliffs_delta < -0.8);
    assert_true(c.hl_shift_ms < 0);
    cJSON_Delete(base);
    cJSON_Delete(new_);
}

static void test_few_samples_insufficient(void **state)
{
    (void)state;
    fg_compare_opts o;
    fg_compare_opts_defaults(&o);
    cJSON *base = results_root(), *new_ = results_root();
    add_repeat(base, "exp_a", 0, 4, 1000, 10, 2.0);
    add_repeat(new_, "exp_a", 0, 4, 2000, 11, 1.9);
    fg_cell_compare c = compare_one(base, new_, &o);
    assert_int_equal(c.verdict, FG_VERDICT_INSUFFICIENT);
    assert_true(c.p95_ratio > 1.5);        /* measured, shown, but not judged */
    assert_true(isnan(c.ratio_lo));
    char line[1024];
    fg_compare_format(&c, line, sizeof line);
    assert_int_equal(strncmp(line, "insufficient data", 17), 0);
    cJSON_Delete(base);
    cJSON_Delete(new_);

    /* No samples at all (e.g. every request failed). */
    base = results_root();
    new_ = results_root();
    add_repeat(base, "exp_a", 0, 20, 1000, 12, 2.0);
    add_repeat(new_, "exp_a", 0, 0, 1000, 13, -1);
    c = compare_one(base, new_, &o);
    assert_int_equal(c.verdict, FG_VERDICT_INSUFFICIENT);
    fg_compare_format(&c, line, sizeof line);
    assert_non_null(strstr(line, "p95(HD) n/a"));
    assert_non_null(strstr(line, "throughput n/a"));
    assert_null(strstr(line, "nan"));
    cJSON_Delete(base);
    cJSON_Delete(new_);
}

static void test_missing_cells_listed(void **state)
{
    (void)state;
    fg_compare_opts o;
    fg_compare_opts_defaults(&o);
    cJSON *base = results_root(), *new_ = results_root();
    add_cell(base, "exp_only_base", 10, 1000, 14, tp_steady);
    add_cell(base, "exp_both", 10, 1000, 15, tp_steady);
    add_cell(new_, "exp_both", 10, 1000, 16, tp_steady);
    add_repeat(new_, "exp_only_new", 0, 10, 1000, 17, 2.0);
    fg_compare_report rep;
    fg_err err = {{0}};
    assert_int_equal(fg_compare_results(base, NULL, new_, NULL, &o, &rep, &err), 0);
    assert_int_equal(rep.n, 3);
    assert_string_equal(rep.cells[0].experiment_id, "exp_only_base");
    assert_int_equal(rep.cells[0].verdict, FG_VERDICT_MISSING);
    assert_string_equal(rep.cells[0].only_in, "BASE");
    assert_string_equal(rep.cells[1].experiment_id, "exp_both");
    assert_int_equal(rep.cells[1].verdict, FG_VERDICT_OK);
    assert_string_equal(rep.cells[2].experiment_id, "exp_only_new");
    assert_int_equal(rep.cells[2].verdict, FG_VERDICT_MISSING);
    assert_string_equal(rep.cells[2].only_in, "NEW");
    assert_int_equal(rep.count[FG_VERDICT_MISSING], 2);
    assert_int_equal(rep.count[FG_VERDICT_OK], 1);
    char line[512];
    fg_compare_format(&rep.cells[0], line, sizeof line);
    assert_string_equal(line, "missing           exp_only_base: only in BASE (3 repeats)");
    assert_false(rep.cells[0].id_shared);     /* one category per id: no category shown */
    fg_compare_report_free(&rep);
    cJSON_Delete(base);
    cJSON_Delete(new_);
}

/* A scale file: one id under large_input and extreme, the repeats of the
 * two interleaved. Only extreme got slower; pooled together, the cell
 * would be half slow and the two experiments indistinguishable. */
static void test_same_id_two_categories(void **state)
{
    (void)state;
    fg_compare_opts o;
    fg_compare_opts_defaults(&o);
    const char *id = "exp_input5.0mb_conc10_ours";
    cJSON *base = results_root(), *new_ = results_root();
    for (int r = 0; r < 3; r++) {
        add_repeat_in(base, "large_input", id, r, 20, 1000, 500 + (uint32_t)r, tp_steady[r]);
        add_repeat_in(base, "extreme", id, r, 20, 1000, 510 + (uint32_t)r, tp_steady[r]);
        add_repeat_in(new_, "large_input", id, r, 20, 1000, 520 + (uint32_t)r, tp_steady[r]);
        add_repeat_in(new_, "extreme", id, r, 20, 2000, 530 + (uint32_t)r, tp_steady[r]);
    }
    fg_compare_report rep;
    fg_err err = {{0}};
    if (fg_compare_results(base, NULL, new_, NULL, &o, &rep, &err) != 0) fail_msg("%s", err.msg);
    assert_int_equal(rep.n, 2);
    const fg_cell_compare *large = &rep.cells[0], *extreme = &rep.cells[1];
    assert_string_equal(large->experiment_id, id);
    assert_string_equal(large->category, "large_input");
    assert_string_equal(extreme->experiment_id, id);
    assert_string_equal(extreme->category, "extreme");
    assert_true(large->id_shared && extreme->id_shared);
    /* Each cell pools its own 3 repeats only. */
    assert_int_equal(large->repeats_base, 3);
    assert_int_equal(large->repeats_new, 3);
    assert_int_equal(large->n_base, 60);
    assert_int_equal(large->n_new, 60);
    assert_int_equal(extreme->repeats_base, 3);
    assert_int_equal(extreme->n_new, 60);
    assert_int_equal(large->verdict, FG_VERDICT_OK);
    assert_true(large->p95_ratio > 0.8 && large->p95_ratio < 1.25);
    assert_int_equal(extreme->verdict, FG_VERDICT_REGRESSION);
    assert_int_equal(extreme->latency, FG_VERDICT_REGRESSION);
    assert_true(extreme->p95_ratio > 1.7 && extreme->p95_ratio < 2.3);
    assert_true(extreme->cliffs_delta > 0.95);
    assert_int_equal(rep.count[FG_VERDICT_REGRESSION], 1);
    assert_int_equal(rep.count[FG_VERDICT_OK], 1);
    /* The line starts "<verdict> <id>" (what the gate scripts grep), then the category. */
    char line[1024];
    fg_compare_format(extreme, line, sizeof line);
    const char *want = "regression        exp_input5.0mb_conc10_ours [extreme]: p95(HD) x";
    assert_int_equal(strncmp(line, want, strlen(want)), 0);
    fg_compare_format(large, line, sizeof line);
    want = "ok                exp_input5.0mb_conc10_ours [large_input]: p95(HD) x";
    assert_int_equal(strncmp(line, want, strlen(want)), 0);
    fg_compare_report_free(&rep);

    /* A bad sample names the file, the id and the category. */
    cJSON *e = cJSON_GetArrayItem(fg_results_experiments(new_), 3);   /* extreme, repeat 0 */
    cJSON_ReplaceItemInArray(cJSON_GetObjectItemCaseSensitive(e, "latency_samples_ms"), 2,
                             cJSON_CreateString("slow"));
    assert_int_equal(fg_compare_results(base, "base.json", new_, "new.json", &o, &rep, &err), -1);
    assert_string_equal(err.msg, "new.json: exp_input5.0mb_conc10_ours [extreme]: "
                                 "latency_samples_ms[2] is not a latency");
    cJSON_ReplaceItemInObjectCaseSensitive(e, "category", cJSON_CreateNumber(4));
    assert_int_equal(fg_compare_results(base, "base.json", new_, "new.json", &o, &rep, &err), -1);
    assert_string_equal(err.msg, "new.json: experiments[3]: category is not a string");
    cJSON_Delete(base);
    cJSON_Delete(new_);

    /* The same id in different categories is not the same cell: both are
     * missing. Entries without a category form the category "" cell. */
    base = results_root();
    new_ = results_root();
    add_repeat_in(base, "large_input", id, 0, 10, 1000, 540, 2.0);
    add_repeat_in(new_, "extreme", id, 0, 10, 1000, 541, 2.0);
    add_repeat_in(new_, NULL, id, 0, 10, 1000, 542, 2.0);
    add_repeat_in(new_, NULL, id, 1, 10, 1000, 543, 2.0);
    assert_int_equal(fg_compare_results(base, NULL, new_, NULL, &o, &rep, &err), 0);
    assert_int_equal(rep.n, 3);
    assert_int_equal(rep.count[FG_VERDICT_MISSING], 3);
    assert_string_equal(rep.cells[0].category, "large_input");
    assert_string_equal(rep.cells[0].only_in, "BASE");
    assert_string_equal(rep.cells[1].category, "extreme");
    assert_string_equal(rep.cells[1].only_in, "NEW");
    assert_string_equal(rep.cells[2].category, "");
    assert_int_equal(rep.cells[2].repeats_new, 2);
    fg_compare_format(&rep.cells[2], line, sizeof line);
    assert_string_equal(line, "missing           exp_input5.0mb_conc10_ours [no category]: "
                              "only in NEW (2 repeats)");
    fg_compare_report_free(&rep);
    cJSON_Delete(base);
    cJSON_Delete(new_);
}

/* Failed requests leave no latency samples: a run whose survivors are as
 * fast as before but that fails more must still be red. */
static void test_success_drop_is_regression(void **state)
{
    (void)state;
    fg_compare_opts o;
    fg_compare_opts_defaults(&o);
    cJSON *base = results_root(), *new_ = results_root();
    add_cell(base, "exp_a", 20, 1000, 1, tp_steady);
    add_cell(new_, "exp_a", 20, 1000, 2, tp_steady);
    /* Same latencies and throughput, but 20 of every 60 requests failed. */
    const cJSON *e;
    cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(new_, "experiments")) {
        cJSON *req = cJSON_GetObjectItemCaseSensitive(e, "requests");
        cJSON_SetNumberValue(cJSON_GetObjectItemCaseSensitive(req, "sent"), 30);
    }
    fg_cell_compare c = compare_one(base, new_, &o);
    assert_int_equal(c.latency, FG_VERDICT_OK);
    assert_int_equal(c.success, FG_VERDICT_REGRESSION);
    assert_int_equal(c.verdict, FG_VERDICT_REGRESSION);
    assert_close(c.success_base, 1.0, 1e-12);
    assert_close(c.success_new, 20.0 / 30.0, 1e-12);
    char line[1024];
    fg_compare_format(&c, line, sizeof line);
    assert_non_null(strstr(line, "success 100.0% -> 66.7%"));
    /* Within the tolerance (5 points) it is not. */
    cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(new_, "experiments")) {
        cJSON *req = cJSON_GetObjectItemCaseSensitive(e, "requests");
        cJSON_SetNumberValue(cJSON_GetObjectItemCaseSensitive(req, "sent"), 21);
    }
    c = compare_one(base, new_, &o);
    assert_int_equal(c.success, FG_VERDICT_OK);
    assert_int_equal(c.verdict, FG_VERDICT_OK);
    cJSON_Delete(base);
    cJSON_Delete(new_);
}

static void test_throughput_rule(void **state)
{
    (void)state;
    fg_compare_opts o;
    fg_compare_opts_defaults(&o);
    static const struct { double base[3], new_[3]; int repeats; fg_verdict expect; } cases[] = {
        /* 3 repeats: -30 % and every NEW repeat below the BASE minimum. */
        {{2.0, 2.1, 1.9}, {1.40, 1.45, 1.35}, 3, FG_VERDICT_REGRESSION},
        /* -22 % on the mean, but BASE's slowest repeat overlaps NEW: noise. */
        {{2.0, 2.1, 1.3}, {1.40, 1.45, 1.35}, 3, FG_VERDICT_OK},
        /* Separated but only -10 %: within tolerance. */
        {{2.0, 2.05, 1.98}, {1.80, 1.85, 1.82}, 3, FG_VERDICT_OK},
        /* Faster beyond 1/(1-0.2) and separated. */
        {{2.0, 2.1, 1.9}, {2.8, 2.9, 2.7}, 3, FG_VERDICT_IMPROVEMENT},
        /* 2 repeats: -30 % is not enough, -45 % (beyond 2x tolerance) is. */
        {{2.0, 2.0, 0}, {1.4, 1.4, 0}, 2, FG_VERDICT_OK},
        {{2.0, 2.0, 0}, {1.1, 1.1, 0}, 2, FG_VERDICT_REGRESSION},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        cJSON *base = results_root(), *new_ = results_root();
        for (int r = 0; r < cases[i].repeats; r++) {
            /* Same latency distribution on both sides: only throughput differs. */
            add_repeat(base, "exp_a", r, 20, 1000, 100 + (uint32_t)r, cases[i].base[r]);
            add_repeat(new_, "exp_a", r, 20, 1000, 100 + (uint32_t)r, cases[i].new_[r]);
        }
        fg_cell_compare c = compare_one(base, new_, &o);
        assert_int_equal(c.latency, FG_VERDICT_OK);
        if (c.throughput != cases[i].expect || c.verdict != cases[i].expect)
            fail_msg("case %zu: throughput %s, cell %s, expected %s", i,
                     fg_verdict_name(c.throughput), fg_verdict_name(c.verdict),
                     fg_verdict_name(cases[i].expect));
        cJSON_Delete(base);
        cJSON_Delete(new_);
    }
}

static void test_bootstrap_deterministic(void **state)
{
    (void)state;
    double x[80], y[80];
    latencies(x, 80, 1000, 21);
    latencies(y, 80, 1100, 22);
    double lo1, hi1, lo2, hi2, lo3, hi3;
    assert_int_equal(fg_bootstrap_p95_ratio(x, 80, y, 80, 2000, 42, 0.01, &lo1, &hi1), 0);
    assert_int_equal(fg_bootstrap_p95_ratio(x, 80, y, 80, 2000, 42, 0.01, &lo2, &hi2), 0);
    assert_true(lo1 == lo2 && hi1 == hi2);
    assert_int_equal(fg_bootstrap_p95_ratio(x, 80, y, 80, 2000, 43, 0.01, &lo3, &hi3), 0);
    assert_true(lo3 != lo1 || hi3 != hi1);
    assert_true(lo1 < hi1);
    /* The interval brackets the point estimate (the Harrell–Davis ratio it resamples). */
    double sx[80], sy[80];
    memcpy(sx, x, sizeof x);
    memcpy(sy, y, sizeof y);
    qsort(sx, 80, sizeof *sx, cmp_double);
    qsort(sy, 80, sizeof *sy, cmp_double);
    double ratio = fg_hd_quantile(sy, 80, 95) / fg_hd_quantile(sx, 80, 95);
    assert_true(lo1 <= ratio && ratio <= hi1);
    /* y = 2x exactly: every resample pair is still two independent draws,
     * so the interval is not a point, but it must hold 2 and stay near it. */
    double y2[80];
    for (int i = 0; i < 80; i++) y2[i] = 2 * x[i];
    assert_int_equal(fg_bootstrap_p95_ratio(x, 80, y2, 80, 2000, 42, 0.025, &lo2, &hi2), 0);
    assert_true(lo2 < 2 && 2 < hi2);
    assert_true(lo2 > 1.6 && hi2 < 2.5);
    /* A wider confidence level gives a wider interval from the same draws. */
    double lo99, hi99, lo80, hi80;
    assert_int_equal(fg_bootstrap_p95_ratio(x, 80, y, 80, 2000, 42, 0.005, &lo99, &hi99), 0);
    assert_int_equal(fg_bootstrap_p95_ratio(x, 80, y, 80, 2000, 42, 0.10, &lo80, &hi80), 0);
    assert_true(lo99 < lo80 && hi80 < hi99);
    /* All zeros on both sides: equal, not an infinite slowdown. */
    const double zeros[6] = {0, 0, 0, 0, 0, 0};
    assert_int_equal(fg_bootstrap_p95_ratio(zeros, 6, zeros, 6, 200, 1, 0.025, &lo3, &hi3), 0);
    assert_close(lo3, 1, 0);
    assert_close(hi3, 1, 0);
    /* The whole comparison is deterministic too. */
    fg_compare_opts o;
    fg_compare_opts_defaults(&o);
    cJSON *base = results_root(), *new_ = results_root();
    add_cell(base, "exp_a", 20, 1000, 23, tp_steady);
    add_cell(new_, "exp_a", 20, 1100, 24, tp_steady);
    fg_cell_compare a = compare_one(base, new_, &o), b = compare_one(base, new_, &o);
    assert_true(a.ratio_lo == b.ratio_lo && a.ratio_hi == b.ratio_hi && a.p_slower == b.p_slower);
    cJSON_Delete(base);
    cJSON_Delete(new_);
}

static void test_bad_samples_named(void **state)
{
    (void)state;
    fg_compare_opts o;
    fg_compare_opts_defaults(&o);
    cJSON *base = results_root(), *new_ = results_root();
    add_cell(base, "exp_a", 10, 1000, 30, tp_steady);
    add_cell(new_, "exp_a", 10, 1000, 31, tp_steady);
    cJSON *e = cJSON_GetArrayItem(fg_results_experiments(new_), 1);
    cJSON_ReplaceItemInArray(cJSON_GetObjectItemCaseSensitive(e, "latency_samples_ms"), 3,
                             cJSON_CreateString("fast"));
    fg_compare_report rep;
    fg_err err = {{0}};
    assert_int_equal(fg_compare_results(base, "base.json", new_, "new.json", &o, &rep, &err), -1);
    assert_string_equal(err.msg, "new.json: exp_a: latency_samples_ms[3] is not a latency");
    cJSON_Delete(base);
    cJSON_Delete(new_);
}

static void test_opts_file(void **state)
{
    (void)state;
    const char *path = "test_compare_tolerances.json";
    const char *text = "{\"p95_ms\": 0.5, \"throughput_rps\": 0.1, \"alpha\": 0.05,"
                       " \"resamples\": 500, \"confidence\": 0.9,"
                       " \"cells\": {\"exp_a\": {\"p95_ms\": 1.0}}}";
    fg_err err = {{0}};
    assert_int_equal(fg_write_file_atomic(path, text, strlen(text), &err), 0);
    fg_compare_opts o;
    fg_compare_opts_defaults(&o);
    cJSON *doc;
    assert_int_equal(fg_compare_opts_load(path, &o, &doc, &err), 0);
    assert_close(o.p95_tolerance, 0.5, 0);
    assert_close(o.throughput_tolerance, 0.1, 0);
    assert_close(o.alpha, 0.05, 0);
    assert_int_equal(o.resamples, 500);
    assert_close(o.confidence, 0.9, 0);
    assert_int_equal(o.min_samples, 5);
    assert_non_null(cJSON_GetObjectItemCaseSensitive(o.cells, "exp_a"));
    cJSON_Delete(doc);

    const char *bad = "{\"p95_ms\": \"twenty\"}";
    assert_int_equal(fg_write_file_atomic(path, bad, strlen(bad), &err), 0);
    assert_int_equal(fg_compare_opts_load(path, &o, &doc, &err), -1);
    assert_non_null(strstr(err.msg, path));
    assert_non_null(strstr(err.msg, "p95_ms"));
    assert_int_equal(fg_write_file_atomic(path, "{", 1, &err), 0);
    assert_int_equal(fg_compare_opts_load(path, &o, &doc, &err), -1);
    assert_non_null(strstr(err.msg, "invalid JSON"));
    remove(path);
}

/* ---- the commands -------------------------------------------------------- */

/* Runs `flowgate <args>`, returns the exit code; output goes to out_path. */
static int run_cli(const char *args, const char *out_path)
{
    const char *bin = getenv("FLOWGATE_BIN");
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "'%s/flowgate' %s >'%s' 2>&1", bin, args, out_path);
    int status = system(cmd);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static char *slurp(const char *path)
{
    fg_buf b;
    if (fg_read_file(path, 0, &b, NULL) != 0) return strdup("");
    return (char *)b.data;
}

static void save(const char *path, const cJSON *root)
{
    fg_err err;
    if (fg_results_save(path, root, &err) != 0) fail_msg("%s", err.msg);
}

static void test_cli_compare_and_baseline(void **state)
{
    (void)state;
    if (!getenv("FLOWGATE_BIN")) {
        skip();     /* ctest sets it; a bare run of this binary cannot find the CLI */
    }
    char dir[] = "/tmp/flowgate-compare-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char base_p[256], same_p[256], slow_p[256], bad_p[256], out_p[256], args[1200];
    snprintf(base_p, sizeof base_p, "%s/base.json", dir);
    snprintf(same_p, sizeof same_p, "%s/same.json", dir);
    snprintf(slow_p, sizeof slow_p, "%s/slow.json", dir);
    snprintf(bad_p, sizeof bad_p, "%s/bad.json", dir);
    snprintf(out_p, sizeof out_p, "%s/out.txt", dir);
    cJSON *base = results_root(), *same = results_root(), *slow = results_root();
    add_cell(base, "exp_input0.1mb_conc2_ours", 20, 1000, 40, tp_steady);
    add_cell(same, "exp_input0.1mb_conc2_ours", 20, 1000, 41, tp_steady);
    add_cell(slow, "exp_input0.1mb_conc2_ours", 20, 2000, 42, tp_steady);
    save(base_p, base);
    save(same_p, same);
    save(slow_p, slow);
    assert_int_equal(fg_write_file_atomic(bad_p, "{\"schema\": ", 11, NULL), 0);

    snprintf(args, sizeof args, "compare '%s' '%s'", base_p, same_p);
    assert_int_equal(run_cli(args, out_p), 0);
    char *out = slurp(out_p);
    assert_non_null(strstr(out, "ok                exp_input0.1mb_conc2_ours: p95(HD) x"));
    assert_non_null(strstr(out, "0 regression"));
    free(out);

    snprintf(args, sizeof args, "compare '%s' '%s'", base_p, slow_p);
    assert_int_equal(run_cli(args, out_p), 1);
    out = slurp(out_p);
    assert_non_null(strstr(out, "regression        exp_input0.1mb_conc2_ours: p95(HD) x"));
    assert_non_null(strstr(out, "1 regression"));
    free(out);

    /* A looser alpha does not rescue it; a huge tolerance does. */
    char tol_p[256];
    snprintf(tol_p, sizeof tol_p, "%s/tol.json", dir);
    assert_int_equal(fg_write_file_atomic(tol_p, "{\"p95_ms\": 3.0}", 15, NULL), 0);
    snprintf(args, sizeof args, "compare '%s' '%s' --alpha 0.05 --tolerances '%s'", base_p, slow_p,
             tol_p);
    assert_int_equal(run_cli(args, out_p), 0);

    snprintf(args, sizeof args, "compare '%s' '%s'", base_p, bad_p);
    assert_int_equal(run_cli(args, out_p), 2);
    out = slurp(out_p);
    assert_non_null(strstr(out, bad_p));
    assert_non_null(strstr(out, "invalid JSON"));
    assert_null(strchr(strchr(out, '\n') + 1, '\n'));    /* one line */
    free(out);

    snprintf(args, sizeof args, "compare '%s' '%s/nonexistent.json'", base_p, dir);
    assert_int_equal(run_cli(args, out_p), 2);
    snprintf(args, sizeof args, "compare '%s'", base_p);
    assert_int_equal(run_cli(args, out_p), 2);
    snprintf(args, sizeof args, "compare '%s' '%s' --alpha 2", base_p, same_p);
    assert_int_equal(run_cli(args, out_p), 2);

    /* baseline: validated, then an exact copy. */
    char dst[300];
    snprintf(dst, sizeof dst, "%s/sub/baseline.json", dir);
    snprintf(args, sizeof args, "baseline '%s' --to '%s'", slow_p, dst);
    assert_int_equal(run_cli(args, out_p), 0);
    char *a = slurp(slow_p), *b = slurp(dst);
    assert_string_equal(a, b);
    free(a);
    free(b);
    out = slurp(out_p);
    assert_non_null(strstr(out, dst));
    free(out);
    snprintf(args, sizeof args, "baseline '%s' --to '%s'", bad_p, dst);
    assert_int_equal(run_cli(args, out_p), 2);
    a = slurp(slow_p);
    b = slurp(dst);
    assert_string_equal(a, b);       /* the old baseline is untouched */
    free(a);
    free(b);

    /* Without --to: baseline.json in $FLOWGATE_RESULTS_DIR. */
    char rdir[300], rfile[340];
    snprintf(rdir, sizeof rdir, "%s/rd", dir);
    snprintf(rfile, sizeof rfile, "%s/baseline.json", rdir);
    setenv("FLOWGATE_RESULTS_DIR", rdir, 1);
    snprintf(args, sizeof args, "baseline '%s'", base_p);
    assert_int_equal(run_cli(args, out_p), 0);
    unsetenv("FLOWGATE_RESULTS_DIR");
    a = slurp(base_p);
    b = slurp(rfile);
    assert_string_equal(a, b);
    free(a);
    free(b);

    char cleanup[600];
    snprintf(cleanup, sizeof cleanup, "rm -rf '%s'", dir);
    assert_int_equal(system(cleanup), 0);
    cJSON_Delete(base);
    cJSON_Delete(same);
    cJSON_Delete(slow);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mann_whitney_hand_computed),
        cmocka_unit_test(test_mann_whitney_scipy_example),
        cmocka_unit_test(test_mann_whitney_degenerate),
        cmocka_unit_test(test_hodges_lehmann_and_percentiles),
        cmocka_unit_test(test_identical_is_ok),
        cmocka_unit_test(test_slower_is_regression),
        cmocka_unit_test(test_small_slowdown_within_tolerance),
        cmocka_unit_test(test_power_and_false_alarms),
        cmocka_unit_test(test_faster_is_improvement),
        cmocka_unit_test(test_few_samples_insufficient),
        cmocka_unit_test(test_missing_cells_listed),
        cmocka_unit_test(test_same_id_two_categories),
        cmocka_unit_test(test_success_drop_is_regression),
        cmocka_unit_test(test_throughput_rule),
        cmocka_unit_test(test_bootstrap_deterministic),
        cmocka_unit_test(test_bad_samples_named),
        cmocka_unit_test(test_opts_file),
        cmocka_unit_test(test_cli_compare_and_baseline),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
