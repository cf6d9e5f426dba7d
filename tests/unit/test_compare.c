/* test_compare.c — the regression gate on constructed results files:
 * per-repeat statistics (a repeat whose samples are all equal has exactly
 * that centre and tail, so expected p-values can be computed by hand),
 * unpaired and paired tests, Benjamini–Hochberg across the cells of one
 * comparison, identity mismatches (an error, not a regression), missing /
 * extra / failed / interrupted cells and interrupted runs failing the
 * comparison, too few repeats failing unless allowed, the "decided" flag,
 * a deterministic simulation of false alarms and power (fixed seed, no
 * timing), the tolerances file, and the `flowgate compare` / `flowgate
 * baseline` exit codes. The statistics themselves are in test_stats.c. */
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

static void assert_has(const char *haystack, const char *needle)
{
    if (!haystack) fail_msg("no text to look for '%s' in", needle);
    else if (!strstr(haystack, needle)) fail_msg("missing '%s' in:\n%s", needle, haystack);
}

/* ---- deterministic noise ------------------------------------------------- */

typedef struct rng { uint64_t s; } rng;

static uint64_t next64(rng *r)    /* splitmix64 */
{
    uint64_t z = (r->s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static double uniform(rng *r) { return ((next64(r) >> 11) + 0.5) / 9007199254740992.0; }

static double normal(rng *r)      /* Box–Muller */
{
    return sqrt(-2 * log(uniform(r))) * cos(2 * M_PI * uniform(r));
}

/* ---- synthetic results ---------------------------------------------------- */

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

/* One repeat of a cell from its samples; category NULL leaves the field
 * out, as older files do; throughput < 0 leaves it out. */
static cJSON *add_entry(cJSON *root, const char *category, const char *id, int repeat,
                        const double *lat, int n, double throughput)
{
    cJSON *e = cJSON_CreateObject();
    cJSON_AddStringToObject(e, "experiment_id", id);
    if (category) cJSON_AddStringToObject(e, "category", category);
    cJSON_AddNumberToObject(e, "repeat", repeat);
    cJSON_AddStringToObject(e, "mode", "closed");
    cJSON_AddNumberToObject(e, "concurrency", 2);
    if (n > 0) cJSON_AddNumberToObject(e, "success_rate", 1.0);
    else cJSON_AddNullToObject(e, "success_rate");
    cJSON *req = cJSON_AddObjectToObject(e, "requests");
    cJSON_AddNumberToObject(req, "sent", n > 0 ? n : 20);
    cJSON_AddNumberToObject(req, "ok", n);
    if (throughput >= 0) cJSON_AddNumberToObject(e, "throughput_rps", throughput);
    cJSON_AddItemToObject(e, "latency_samples_ms",
                          n > 0 ? cJSON_CreateDoubleArray(lat, n) : cJSON_CreateArray());
    cJSON_AddItemToArray(cJSON_GetObjectItemCaseSensitive(root, "experiments"), e);
    return e;
}

/* A repeat whose n samples all equal v: its centre and tail are exactly v. */
static cJSON *add_flat(cJSON *root, const char *id, int repeat, double v, double throughput)
{
    double lat[20];
    for (int i = 0; i < 20; i++) lat[i] = v;
    return add_entry(root, "standard", id, repeat, lat, 20, throughput);
}

/* A cell of flat repeats with these medians (ms) and throughputs. */
static void add_flat_cell(cJSON *root, const char *id, const double *v, const double *tp, int n)
{
    for (int r = 0; r < n; r++) add_flat(root, id, r, v[r], tp ? tp[r] : 2.0 + 0.05 * r);
}

/* A noisy repeat: n lognormal samples (sigma 0.25) around median_ms. */
static cJSON *add_noisy(cJSON *root, const char *category, const char *id, int repeat, int n,
                        double median_ms, rng *g)
{
    double lat[200], sum = 0;
    for (int i = 0; i < n; i++) {
        lat[i] = median_ms * exp(0.25 * normal(g));
        sum += lat[i];
    }
    /* Closed loop at concurrency 2: completions per second follow latency. */
    return add_entry(root, category, id, repeat, lat, n, 2 * 1000.0 / (sum / n));
}

static const double base5[5] = {100, 104, 96, 102, 98};
static const double tp5[5] = {2.0, 2.1, 1.9, 2.05, 1.95};

static void compare_ok(cJSON *base, cJSON *new_, const fg_compare_opts *o, fg_compare_report *rep)
{
    fg_err err = {{0}};
    if (fg_compare_results(base, NULL, new_, NULL, o, rep, &err) != 0) fail_msg("%s", err.msg);
}

static fg_cell_compare compare_one(cJSON *base, cJSON *new_, const fg_compare_opts *o)
{
    fg_compare_report rep;
    compare_ok(base, new_, o, &rep);
    assert_int_equal(rep.n, 1);
    fg_cell_compare c = rep.cells[0];
    fg_compare_report_free(&rep);
    return c;
}

/* ---- per-repeat statistics ----------------------------------------------- */

/* Same repeats on both sides: ratio 1, p 0.5, no verdict beyond ok. */
static void test_identical_is_ok(void **state)
{
    (void)state;
    fg_compare_opts o;
    fg_compare_opts_defaults(&o);
    cJSON *base = results_root(), *new_ = results_root();
    add_flat_cell(base, "exp_a", base5, tp5, 5);
    add_flat_cell(new_, "exp_a", base5, tp5, 5);
    fg_cell_compare c = compare_one(base, new_, &o);
    assert_int_equal(c.verdict, FG_VERDICT_OK);
    assert_int_equal(c.repeats_base, 5);
    assert_int_equal(c.n_base, 100);
    for (int k = 0; k < FG_METRIC_COUNT; k++) {
        assert_close(c.metric[k].ratio, 1, 1e-12);
        assert_close(c.metric[k].p_worse, 0.5, 1e-12);
        assert_int_equal(c.metric[k].n_base, 5);
        assert_true(c.metric[k].ci_lo < 1 && c.metric[k].ci_hi > 1);
    }
    assert_close(c.metric[FG_METRIC_CENTRE].base, exp((log(100) + log(104) + log(96) + log(102) +
                                                       log(98)) / 5), 1e-9);
    assert_close(c.p95_ratio, 1, 1e-12);
    assert_close(c.cliffs_delta, 0, 1e-12);
    cJSON_Delete(base);
    cJSON_Delete(new_);
}

/* The per-repeat values are exactly the flat medians, so the Welch test is
 * known: NEW {110,115,104,112,108} vs BASE {100,104,96,102,98} on logs gives
 * one-sided p = 0.0015560859759 (mpmath), ratio 1.0978094494. */
static void test_welch_on_repeats(void **state)
{
    (void)state;
    fg_compare_opts o;
    fg_compare_opts_defaults(&o);
    const double slow[5] = {110, 115, 104, 112, 108};
    cJSON *base = results_root(), *new_ = results_root();
    add_flat_cell(base, "exp_a", base5, tp5, 5);
    add_flat_cell(new_, "exp_a", slow, tp5, 5);
    fg_cell_compare c = compare_one(base, new_, &o);
    const fg_metric_compare *m = &c.metric[FG_METRIC_CENTRE];
    assert_close(m->p_worse, 0.0015560859759247373, 1e-10);
    assert_close(m->ratio, 1.0978094493532786, 1e-10);
    assert_close(m->df, 7.750619613536231, 1e-9);
    assert_close(c.metric[FG_METRIC_TAIL].p_worse, m->p_worse, 1e-15);
    /* Three tests (centre, tail, throughput p 0.5): BH q = p * 3 / 2. */
    assert_close(m->q_worse, 0.0015560859759247373 * 3 / 2, 1e-10);
    assert_int_equal(c.verdict, FG_VERDICT_REGRESSION);
    assert_int_equal(c.latency, FG_VERDICT_REGRESSION);
    assert_int_equal(c.throughput, FG_VERDICT_OK);
    assert_true(c.decided);
    assert_true(m->ci_lo > 1 && m->ci_hi > m->ratio);
    char line[2048];
    fg_compare_format(&c, line, sizeof line);
    assert_int_equal(strncmp(line, "regression        exp_a: centre x1.098 CI [", 43), 0);
    assert_has(line, "; latency regression, throughput ok, success ok; decided");
    assert_has(line, "centre x1.098 beyond the +5% tolerance");
    /* A tolerance above the ratio keeps it green: significant but small. */
    cJSON *cells = cJSON_Parse("{\"exp_a\": {\"p50_ms\": 0.15, \"p95_ms\": 0.15}}");
    o.cells = cells;
    c = compare_one(base, new_, &o);
    assert_int_equal(c.verdict, FG_VERDICT_OK);
    assert_true(c.metric[FG_METRIC_CENTRE].q_worse < o.alpha);
    cJSON_Delete(cells);
    /* The mirror image is an improvement, not a regression. */
    fg_compare_opts_defaults(&o);
    c = compare_one(new_, base, &o);
    assert_int_equal(c.verdict, FG_VERDICT_IMPROVEMENT);
    assert_close(c.metric[FG_METRIC_CENTRE].p_better, 0.0015560859759247373, 1e-10);
    cJSON_Delete(base);
    cJSON_Delete(new_);
}

/* Benjamini–Hochberg over the whole comparison: the same cell that
 * regresses alone (q = 0.0023) does not among nine unchanged cells
 * (30 tests: q = p * 30 / 2 = 0.023 > 0.01). */
static void test_bh_across_cells(void **state)
{
    (void)state;
    fg_compare_opts o;
    fg_compare_opts_defaults(&o);
    const double slow[5] = {110, 115, 104, 112, 108};
    cJSON *base = results_root(), *new_ = results_root();
    add_flat_cell(base, "exp_slow", base5, tp5, 5);
    add_flat_cell(new_, "exp_slow", slow, tp5, 5);
    o.matrix = 0;       /* the cells alone here; test_matrix below */
    fg_compare_report rep;
    compare_ok(base, new_, &o, &rep);
    assert_int_equal(rep.tests, 3);
    assert_int_equal(rep.cells[0].verdict, FG_VERDICT_REGRESSION);
    assert_true(rep.failed);
    fg_compare_report_free(&rep);
    for (int i = 0; i < 9; i++) {
        char id[32];
        snprintf(id, sizeof id, "exp_same%d", i);
        add_flat_cell(base, id, base5, tp5, 5);
        add_flat_cell(new_, id, base5, tp5, 5);
    }
    compare_ok(base, new_, &o, &rep);
    assert_int_equal(rep.n, 10);
    assert_int_equal(rep.tests, 30);
    const fg_metric_compare *m = &rep.cells[0].metric[FG_METRIC_CENTRE];
    assert_close(m->q_worse, 0.0015560859759247373 * 30 / 2, 1e-10);
    assert_int_equal(rep.cells[0].verdict, FG_VERDICT_OK);
    assert_int_equal(rep.count[FG_VERDICT_OK], 10);
    assert_false(rep.failed);
    /* The q-values are BH of the p-values, whatever the order of cells. */
    double p[30], q[30];
    for (int i = 0; i < 10; i++)
        for (int k = 0; k < 3; k++) p[i * 3 + k] = rep.cells[i].metric[k].p_worse;
    assert_int_equal(fg_bh_adjust(p, 30, q), 30);
    for (int i = 0; i < 30; i++) assert_close(rep.cells[i / 3].metric[i % 3].q_worse, q[i], 0);
    fg_compare_report_free(&rep);
    /* A looser alpha (e.g. the whole family at 5 %) finds it again. */
    o.alpha = 0.05;
    compare_ok(base, new_, &o, &rep);
    assert_int_equal(rep.cells[0].verdict, FG_VERDICT_REGRESSION);
    fg_compare_report_free(&rep);
    cJSON_Delete(base);
    cJSON_Delete(new_);
}

/* A slowdown of every cell that no cell shows on its own (+8 % against a
 * per-repeat spread of ~7 %) is clear in the per-repeat means over nine
 * cells, whose repeat-to-repeat noise averages out. */
static void test_matrix(void **state)
{
    (void)state;
    fg_compare_opts o;
    fg_compare_opts_defaults(&o);
    const double spread[5] = {100, 110, 92, 105, 95};
    cJSON *base = results_root(), *new_ = results_root();
    for (int c = 0; c < 9; c++) {
        char id[32];
        double b[5], n[5];
        for (int r = 0; r < 5; r++) {
            b[r] = spread[(r + c) % 5];
            n[r] = 1.08 * spread[(r + 2 * c + 1) % 5];
        }
        snprintf(id, sizeof id, "exp_cell%d", c);
        add_flat_cell(base, id, b, tp5, 5);
        add_flat_cell(new_, id, n, tp5, 5);
    }
    fg_compare_report rep;
    compare_ok(base, new_, &o, &rep);
    assert_int_equal(rep.tests, 30);
    for (int c = 0; c < 9; c++) {
        assert_int_equal(rep.cells[c].verdict, FG_VERDICT_OK);
        assert_true(rep.cells[c].metric[FG_METRIC_CENTRE].p_worse > 0.01);
    }
    assert_int_equal(rep.matrix_cells[FG_METRIC_CENTRE], 9);
    assert_close(rep.matrix[FG_METRIC_CENTRE].ratio, 1.08, 1e-9);
    assert_true(rep.matrix[FG_METRIC_CENTRE].q_worse < o.alpha);
    assert_int_equal(rep.matrix[FG_METRIC_CENTRE].verdict, FG_VERDICT_REGRESSION);
    assert_int_equal(rep.matrix_verdict, FG_VERDICT_REGRESSION);
    assert_true(rep.failed);
    assert_true(rep.decided);
    char line[2048];
    fg_compare_format_matrix(&rep, line, sizeof line);
    assert_int_equal(strncmp(line, "regression        (matrix of 9 cells): centre x1.080 CI [", 57), 0);
    assert_has(line, "centre x1.080 beyond the +5% tolerance");
    fg_compare_report_free(&rep);
    /* Paired the same way (repeat r with repeat r) it is found too. */
    o.paired = 1;
    compare_ok(base, new_, &o, &rep);
    assert_int_equal(rep.matrix_verdict, FG_VERDICT_REGRESSION);
    fg_compare_report_free(&rep);
    /* Without the matrix test the comparison passes: the cells alone cannot see it. */
    o.matrix = 0;
    o.paired = 0;
    compare_ok(base, new_, &o, &rep);
    assert_false(rep.failed);
    assert_int_equal(rep.matrix_cells[FG_METRIC_CENTRE], 0);
    fg_compare_format_matrix(&rep, line, sizeof line);
    assert_string_equal(line, "");
    fg_compare_report_free(&rep);
    /* A cell with its own tolerance is judged alone, not in the matrix. */
    fg_compare_opts_defaults(&o);
    cJSON *cells = cJSON_Parse("{\"exp_cell0\": {\"p50_ms\": 0.5}}");
    o.cells = cells;
    compare_ok(base, new_, &o, &rep);
    assert_int_equal(rep.matrix_cells[FG_METRIC_CENTRE], 8);
    assert_int_equal(rep.matrix_cells[FG_METRIC_TAIL], 9);
    fg_compare_report_free(&rep);
    cJSON_Delete(cells);
    cJSON_Delete(base);
    cJSON_Delete(new_);
}

/* An A/B run: each pair shares the machine's drift (here +-30 %), so the
 * sides differ by much more between repeats than the effect (+15 %). The
 * unpaired test cannot see it; the paired test on differences can. */
static void test_paired_sees_through_drift(void **state)
{
    (void)state;
    fg_compare_opts o;
    fg_compare_opts_defaults(&o);
    const double drift[6] = {1.0, 1.3, 0.75, 1.15, 0.85, 1.25};
    const double jitter[6] = {1.01, 0.99, 1.02, 0.985, 1.0, 1.005};
    cJSON *base = results_root(), *new_ = results_root();
    for (int r = 0; r < 6; r++) {
        add_flat(base, "exp_a", r, 100 * drift[r], 2.0 / drift[r]);
        add_flat(new_, "exp_a", r, 115 * drift[r] * jitter[r], 2.0 / (1.15 * drift[r] * jitter[r]));
    }
    fg_cell_compare c = compare_one(base, new_, &o);
    assert_int_equal(c.verdict, FG_VERDICT_OK);        /* unpaired: lost in the drift */
    assert_true(c.metric[FG_METRIC_CENTRE].p_worse > 0.05);
    o.paired = 1;
    c = compare_one(base, new_, &o);
    assert_int_equal(c.verdict, FG_VERDICT_REGRESSION);
    assert_int_equal(c.pairs, 6);
    assert_close(c.metric[FG_METRIC_CENTRE].df, 5, 0);
    assert_true(c.metric[FG_METRIC_CENTRE].p_worse < 1e-5);
    assert_close(c.metric[FG_METRIC_CENTRE].ratio, 1.15 * exp((log(1.01) + log(0.99) + log(1.02) +
                 log(0.985) + log(1.0) + log(1.005)) / 6), 1e-9);
    assert_int_equal(c.throughput, FG_VERDICT_REGRESSION);
    char line[2048];
    fg_compare_format(&c, line, sizeof line);
    assert_has(line, "6/6 repeats (6 pairs)");

    /* A repeat on one side only is not paired, and says so. */
    add_flat(new_, "exp_a", 9, 500, 0.4);
    c = compare_one(base, new_, &o);
    assert_int_equal(c.pairs, 6);
    assert_int_equal(c.metric[FG_METRIC_CENTRE].n_new, 6);
    assert_int_equal(c.verdict, FG_VERDICT_REGRESSION);
    assert_has(c.reason, "unpaired (not used): NEW repeat 9");
    cJSON_Delete(base);
    cJSON_Delete(new_);
}

/* ---- verdicts that fail the comparison -------------------------------------- */

static void test_insufficient_fails_unless_allowed(void **state)
{
    (void)state;
    fg_compare_opts o;
    fg_compare_opts_defaults(&o);
    const double slow[5] = {200, 208, 192, 204, 196};
    cJSON *base = results_root(), *new_ = results_root();
    add_flat_cell(base, "exp_a", base5, tp5, 2);
    add_flat_cell(new_, "exp_a", slow, tp5, 5);
    fg_compare_report rep;
    compare_ok(base, new_, &o, &rep);
    const fg_cell_compare *c = &rep.cells[0];
    assert_int_equal(c->verdict, FG_VERDICT_INSUFFICIENT);
    assert_close(c->metric[FG_METRIC_CENTRE].ratio, 2, 0.05);   /* shown, not judged */
    assert_true(isnan(c->metric[FG_METRIC_CENTRE].p_worse));
    assert_int_equal(rep.tests, 0);                            /* no p-value from it */
    assert_true(rep.failed);
    assert_false(c->decided);
    assert_false(rep.decided);
    assert_has(c->reason, "insufficient data: centre in 2 BASE / 5 NEW repeats");
    char line[2048];
    fg_compare_format(c, line, sizeof line);
    assert_int_equal(strncmp(line, "insufficient data exp_a:", 24), 0);
    fg_compare_report_free(&rep);
    o.allow_insufficient = 1;
    compare_ok(base, new_, &o, &rep);
    assert_int_equal(rep.cells[0].verdict, FG_VERDICT_INSUFFICIENT);
    assert_false(rep.failed);
    fg_compare_report_free(&rep);
    cJSON_Delete(base);
    cJSON_Delete(new_);

    /* Paired: 3 repeats a side but only 2 complete pairs. */
    fg_compare_opts_defaults(&o);
    o.paired = 1;
    base = results_root();
    new_ = results_root();
    add_flat_cell(base, "exp_a", base5, tp5, 3);
    add_flat(new_, "exp_a", 0, 100, 2.0);
    add_flat(new_, "exp_a", 1, 104, 2.1);
    add_flat(new_, "exp_a", 5, 96, 1.9);
    compare_ok(base, new_, &o, &rep);
    assert_int_equal(rep.cells[0].verdict, FG_VERDICT_INSUFFICIENT);
    assert_int_equal(rep.cells[0].pairs, 2);
    assert_has(rep.cells[0].reason, "centre in 2 complete pairs");
    assert_has(rep.cells[0].reason, "unpaired (not used): BASE repeat 2, NEW repeat 5");
    assert_true(rep.failed);
    fg_compare_report_free(&rep);
    cJSON_Delete(base);
    cJSON_Delete(new_);
}

static void test_missing_extra_failed_interrupted(void **state)
{
    (void)state;
    fg_compare_opts o;
    fg_compare_opts_defaults(&o);
    cJSON *base = results_root(), *new_ = results_root();
    add_flat_cell(base, "exp_both", base5, tp5, 3);
    add_flat_cell(new_, "exp_both", base5, tp5, 3);
    fg_compare_report rep;
    compare_ok(base, new_, &o, &rep);
    assert_false(rep.failed);
    assert_int_equal(rep.cells[0].verdict, FG_VERDICT_OK);
    fg_compare_report_free(&rep);

    add_flat_cell(base, "exp_only_base", base5, tp5, 3);
    compare_ok(base, new_, &o, &rep);
    assert_true(rep.failed);
    assert_int_equal(rep.cells[1].verdict, FG_VERDICT_MISSING);
    assert_string_equal(rep.cells[1].only_in, "BASE");
    char line[2048];
    fg_compare_format(&rep.cells[1], line, sizeof line);
    assert_string_equal(line, "missing           exp_only_base: only in BASE (3 repeats)");
    fg_compare_report_free(&rep);
    cJSON_Delete(base);
    base = results_root();
    add_flat_cell(base, "exp_both", base5, tp5, 3);

    add_flat(new_, "exp_only_new", 0, 100, 2.0);
    compare_ok(base, new_, &o, &rep);
    assert_true(rep.failed);
    assert_int_equal(rep.cells[1].verdict, FG_VERDICT_EXTRA);
    assert_int_equal(rep.count[FG_VERDICT_EXTRA], 1);
    fg_compare_format(&rep.cells[1], line, sizeof line);
    assert_string_equal(line, "extra             exp_only_new: only in NEW (1 repeat)");
    fg_compare_report_free(&rep);
    cJSON_Delete(new_);
    new_ = results_root();
    add_flat_cell(new_, "exp_both", base5, tp5, 3);

    /* A repeat where every request failed: no samples. */
    add_flat_cell(base, "exp_dead", base5, tp5, 3);
    add_flat_cell(new_, "exp_dead", base5, tp5, 2);
    add_entry(new_, "standard", "exp_dead", 2, NULL, 0, -1);
    compare_ok(base, new_, &o, &rep);
    assert_true(rep.failed);
    assert_int_equal(rep.cells[1].verdict, FG_VERDICT_FAILED);
    fg_compare_format(&rep.cells[1], line, sizeof line);
    assert_string_equal(line, "failed            exp_dead: NEW repeat 2: no successful request "
                              "(0 of 20 ok)");
    assert_true(rep.decided);       /* more repeats cannot cure it */
    fg_compare_report_free(&rep);

    /* An entry marked interrupted, on either side. */
    cJSON *e = cJSON_GetArrayItem(fg_results_experiments(base), 3);     /* exp_dead, repeat 0 */
    cJSON_AddTrueToObject(e, "interrupted");
    compare_ok(base, new_, &o, &rep);
    assert_int_equal(rep.cells[1].verdict, FG_VERDICT_INTERRUPTED);
    assert_true(rep.failed);
    fg_compare_format(&rep.cells[1], line, sizeof line);
    assert_string_equal(line, "interrupted       exp_dead: BASE repeat 0 was interrupted before "
                              "it finished");
    fg_compare_report_free(&rep);
    cJSON_Delete(base);
    cJSON_Delete(new_);

    /* A run marked interrupted fails even when its cells compare fine. */
    base = results_root();
    new_ = results_root();
    add_flat_cell(base, "exp_both", base5, tp5, 3);
    add_flat_cell(new_, "exp_both", base5, tp5, 3);
    cJSON_AddTrueToObject(cJSON_GetObjectItemCaseSensitive(new_, "run"), "interrupted");
    compare_ok(base, new_, &o, &rep);
    assert_int_equal(rep.cells[0].verdict, FG_VERDICT_OK);
    assert_true(rep.new_interrupted);
    assert_true(rep.failed);
    assert_has(rep.reason, "the NEW run was interrupted");
    fg_compare_report_free(&rep);
    cJSON_Delete(base);
    cJSON_Delete(new_);

    /* Nothing at all to compare is no pass. */
    base = results_root();
    new_ = results_root();
    compare_ok(base, new_, &o, &rep);
    assert_int_equal(rep.n, 0);
    assert_true(rep.failed);
    assert_has(rep.reason, "nothing was compared");
    fg_compare_report_free(&rep);
    cJSON_Delete(base);
    cJSON_Delete(new_);
}

/* Like ids, unlike workloads: bad input, never a ×31.7 "regression". */
static void test_unlike_cells(void **state)
{
    (void)state;
    fg_compare_opts o;
    fg_compare_opts_defaults(&o);
    const double slow[5] = {3100, 3200, 3000, 3150, 3050};
    cJSON *base = results_root(), *new_ = results_root();
    add_flat_cell(base, "exp_a", base5, tp5, 5);
    add_flat_cell(new_, "exp_a", slow, tp5, 5);
    const cJSON *e;
    cJSON_ArrayForEach(e, fg_results_experiments(new_)) {
        cJSON_ReplaceItemInObjectCaseSensitive((cJSON *)e, "mode", cJSON_CreateString("open"));
        cJSON_AddNumberToObject((cJSON *)e, "rate_rps", 5);     /* BASE has none: not compared */
    }
    fg_compare_report rep;
    compare_ok(base, new_, &o, &rep);
    assert_int_equal(rep.cells[0].verdict, FG_VERDICT_UNLIKE);
    assert_int_equal(rep.unlike, 1);
    assert_true(rep.failed);
    assert_int_equal(rep.count[FG_VERDICT_REGRESSION], 0);
    assert_string_equal(rep.cells[0].reason, "mode closed (BASE) vs open (NEW)");
    char line[2048];
    fg_compare_format(&rep.cells[0], line, sizeof line);
    assert_string_equal(line, "unlike            exp_a: mode closed (BASE) vs open (NEW)");
    fg_compare_report_free(&rep);

    /* Each identity field counts; a field only one file has does not. */
    static const char *const fields[] = {"variant", "scheduler", "workflow", "payload_sha256"};
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
        cJSON *b = results_root(), *n = results_root();
        add_flat_cell(b, "exp_a", base5, tp5, 3);
        add_flat_cell(n, "exp_a", base5, tp5, 3);
        cJSON_ArrayForEach(e, fg_results_experiments(b))
            cJSON_AddStringToObject((cJSON *)e, fields[i], "one");
        compare_ok(b, n, &o, &rep);
        assert_int_equal(rep.cells[0].verdict, FG_VERDICT_OK);     /* only in BASE */
        fg_compare_report_free(&rep);
        cJSON_ArrayForEach(e, fg_results_experiments(n))
            cJSON_AddStringToObject((cJSON *)e, fields[i], "two");
        compare_ok(b, n, &o, &rep);
        assert_int_equal(rep.cells[0].verdict, FG_VERDICT_UNLIKE);
        assert_has(rep.cells[0].reason, fields[i]);
        fg_compare_report_free(&rep);
        cJSON_Delete(b);
        cJSON_Delete(n);
    }
    /* Numbers and booleans: concurrency, inline_data, input_bytes. */
    cJSON *b = results_root(), *n = results_root();
    add_flat_cell(b, "exp_a", base5, tp5, 3);
    add_flat_cell(n, "exp_a", base5, tp5, 3);
    cJSON_ArrayForEach(e, fg_results_experiments(b)) cJSON_AddTrueToObject((cJSON *)e, "inline_data");
    cJSON_ArrayForEach(e, fg_results_experiments(n)) cJSON_AddFalseToObject((cJSON *)e, "inline_data");
    compare_ok(b, n, &o, &rep);
    assert_string_equal(rep.cells[0].reason, "inline_data true (BASE) vs false (NEW)");
    fg_compare_report_free(&rep);
    cJSON_Delete(b);
    cJSON_Delete(n);
    /* Within one file: a cell that ran at two concurrencies. */
    cJSON_ReplaceItemInObjectCaseSensitive(cJSON_GetArrayItem(fg_results_experiments(base), 2),
                                           "concurrency", cJSON_CreateNumber(5));
    cJSON_Delete(new_);
    new_ = results_root();
    add_flat_cell(new_, "exp_a", base5, tp5, 5);
    compare_ok(base, new_, &o, &rep);
    assert_string_equal(rep.cells[0].reason, "concurrency 2 vs 5 (both in BASE)");
    fg_compare_report_free(&rep);
    cJSON_Delete(base);
    cJSON_Delete(new_);
}

/* decided: a regression shown, or every gated ratio's upper bound below
 * 1 + margin; noisy equal repeats are neither. */
static void test_decided(void **state)
{
    (void)state;
    fg_compare_opts o;
    fg_compare_opts_defaults(&o);
    const double tight[5] = {100, 101, 99, 100.5, 99.5};
    const double noisy_b[5] = {100, 140, 70, 120, 85}, noisy_n[5] = {90, 150, 75, 110, 95};
    cJSON *base = results_root(), *new_ = results_root();
    add_flat_cell(base, "exp_tight", tight, tp5, 5);
    add_flat_cell(new_, "exp_tight", tight, tp5, 5);
    fg_compare_report rep;
    compare_ok(base, new_, &o, &rep);
    assert_true(rep.cells[0].decided);
    assert_true(rep.cells[0].metric[FG_METRIC_CENTRE].worse_bound < 1.1);
    assert_true(rep.decided);
    fg_compare_report_free(&rep);
    add_flat_cell(base, "exp_noisy", noisy_b, tp5, 5);
    add_flat_cell(new_, "exp_noisy", noisy_n, tp5, 5);
    compare_ok(base, new_, &o, &rep);
    assert_int_equal(rep.cells[1].verdict, FG_VERDICT_OK);
    assert_false(rep.cells[1].decided);
    assert_true(rep.cells[1].metric[FG_METRIC_CENTRE].worse_bound > 1.1);
    assert_false(rep.decided);
    char line[2048];
    fg_compare_format(&rep.cells[1], line, sizeof line);
    assert_null(strstr(line, "decided"));
    fg_compare_report_free(&rep);
    /* A wider margin decides it. */
    o.equivalence_margin = 1.0;
    compare_ok(base, new_, &o, &rep);
    assert_true(rep.decided);
    fg_compare_report_free(&rep);
    /* A regression anywhere decides the comparison. */
    fg_compare_opts_defaults(&o);
    const double slow[5] = {200, 202, 198, 201, 199};
    add_flat_cell(base, "exp_slow", tight, tp5, 5);
    add_flat_cell(new_, "exp_slow", slow, tp5, 5);
    compare_ok(base, new_, &o, &rep);
    assert_int_equal(rep.cells[2].verdict, FG_VERDICT_REGRESSION);
    assert_true(rep.cells[2].decided);
    assert_false(rep.cells[1].decided);
    assert_true(rep.decided);
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
    add_flat_cell(base, "exp_a", base5, tp5, 3);
    add_flat_cell(new_, "exp_a", base5, tp5, 3);
    /* Same latencies and throughput, but 10 of every 30 requests failed. */
    const cJSON *e;
    cJSON_ArrayForEach(e, fg_results_experiments(new_)) {
        cJSON *req = cJSON_GetObjectItemCaseSensitive(e, "requests");
        cJSON_SetNumberValue(cJSON_GetObjectItemCaseSensitive(req, "sent"), 30);
    }
    fg_cell_compare c = compare_one(base, new_, &o);
    assert_int_equal(c.latency, FG_VERDICT_OK);
    assert_int_equal(c.success, FG_VERDICT_REGRESSION);
    assert_int_equal(c.verdict, FG_VERDICT_REGRESSION);
    assert_true(c.decided);
    assert_close(c.success_new, 20.0 / 30.0, 1e-12);
    char line[2048];
    fg_compare_format(&c, line, sizeof line);
    assert_has(line, "success 100.0% -> 66.7%");
    assert_has(line, "more than 5 points lower");
    /* Within the tolerance (5 points) it is not. */
    cJSON_ArrayForEach(e, fg_results_experiments(new_)) {
        cJSON *req = cJSON_GetObjectItemCaseSensitive(e, "requests");
        cJSON_SetNumberValue(cJSON_GetObjectItemCaseSensitive(req, "sent"), 21);
    }
    c = compare_one(base, new_, &o);
    assert_int_equal(c.success, FG_VERDICT_OK);
    assert_int_equal(c.verdict, FG_VERDICT_OK);
    cJSON_Delete(base);
    cJSON_Delete(new_);
}

static void test_throughput(void **state)
{
    (void)state;
    fg_compare_opts o;
    fg_compare_opts_defaults(&o);
    /* Same latency, throughput -30 % in every repeat: a regression. */
    const double tp_low[5] = {1.4, 1.47, 1.33, 1.435, 1.365};
    cJSON *base = results_root(), *new_ = results_root();
    add_flat_cell(base, "exp_a", base5, tp5, 5);
    add_flat_cell(new_, "exp_a", base5, tp_low, 5);
    fg_cell_compare c = compare_one(base, new_, &o);
    assert_int_equal(c.latency, FG_VERDICT_OK);
    assert_int_equal(c.throughput, FG_VERDICT_REGRESSION);
    assert_int_equal(c.verdict, FG_VERDICT_REGRESSION);
    assert_close(c.metric[FG_METRIC_THROUGHPUT].ratio, 0.7, 1e-9);
    assert_true(c.metric[FG_METRIC_THROUGHPUT].worse_bound < 0.7);   /* a lower bound */
    cJSON_Delete(new_);
    cJSON_Delete(base);
    /* -3 % in steady repeats: significant, but within the tolerance. */
    const double tp_steady[5] = {2.0, 2.01, 1.99, 2.005, 1.995};
    double tp_bit[5];
    for (int r = 0; r < 5; r++) tp_bit[r] = 0.97 * tp_steady[(r + 2) % 5];
    base = results_root();
    new_ = results_root();
    add_flat_cell(base, "exp_a", base5, tp_steady, 5);
    add_flat_cell(new_, "exp_a", base5, tp_bit, 5);
    c = compare_one(base, new_, &o);
    assert_int_equal(c.throughput, FG_VERDICT_OK);
    assert_true(c.metric[FG_METRIC_THROUGHPUT].q_worse < o.alpha);
    cJSON_Delete(base);
    cJSON_Delete(new_);
    /* No throughput in either file: not gated, printed n/a. */
    base = results_root();
    new_ = results_root();
    for (int r = 0; r < 3; r++) {
        add_flat(base, "exp_a", r, base5[r], -1);
        add_flat(new_, "exp_a", r, base5[r], -1);
    }
    c = compare_one(base, new_, &o);
    assert_int_equal(c.verdict, FG_VERDICT_OK);
    char line[2048];
    fg_compare_format(&c, line, sizeof line);
    assert_has(line, "throughput n/a");
    assert_null(strstr(line, "nan"));
    /* In only 2 of 3 NEW repeats: too few to judge. */
    cJSON_AddNumberToObject(cJSON_GetArrayItem(fg_results_experiments(new_), 0), "throughput_rps", 2);
    cJSON_AddNumberToObject(cJSON_GetArrayItem(fg_results_experiments(new_), 1), "throughput_rps", 2);
    for (int r = 0; r < 3; r++)
        cJSON_AddNumberToObject(cJSON_GetArrayItem(fg_results_experiments(base), r),
                                "throughput_rps", 2);
    c = compare_one(base, new_, &o);
    assert_int_equal(c.throughput, FG_VERDICT_INSUFFICIENT);
    assert_int_equal(c.verdict, FG_VERDICT_INSUFFICIENT);
    assert_has(c.reason, "throughput in 3 BASE / 2 NEW repeats");
    cJSON_Delete(base);
    cJSON_Delete(new_);
}

/* A scale file: one id under large_input and extreme, the repeats of the
 * two interleaved. Only extreme got slower. */
static void test_same_id_two_categories(void **state)
{
    (void)state;
    fg_compare_opts o;
    fg_compare_opts_defaults(&o);
    const char *id = "exp_input5.0mb_conc10_ours";
    rng g = {7};
    cJSON *base = results_root(), *new_ = results_root();
    for (int r = 0; r < 4; r++) {
        add_noisy(base, "large_input", id, r, 40, 1000, &g);
        add_noisy(base, "extreme", id, r, 40, 1000, &g);
        add_noisy(new_, "large_input", id, r, 40, 1000, &g);
        add_noisy(new_, "extreme", id, r, 40, 2000, &g);
    }
    fg_compare_report rep;
    compare_ok(base, new_, &o, &rep);
    assert_int_equal(rep.n, 2);
    const fg_cell_compare *large = &rep.cells[0], *extreme = &rep.cells[1];
    assert_string_equal(large->category, "large_input");
    assert_string_equal(extreme->category, "extreme");
    assert_true(large->id_shared && extreme->id_shared);
    assert_int_equal(large->repeats_base, 4);
    assert_int_equal(large->n_new, 160);
    assert_int_equal(large->verdict, FG_VERDICT_OK);
    assert_int_equal(extreme->verdict, FG_VERDICT_REGRESSION);
    assert_true(extreme->metric[FG_METRIC_CENTRE].ratio > 1.7);
    char line[2048];
    fg_compare_format(extreme, line, sizeof line);
    const char *want = "regression        exp_input5.0mb_conc10_ours [extreme]: centre x";
    assert_int_equal(strncmp(line, want, strlen(want)), 0);
    fg_compare_report_free(&rep);

    /* A bad sample names the file, the id and the category. */
    cJSON *e = cJSON_GetArrayItem(fg_results_experiments(new_), 1);   /* extreme, repeat 0 */
    cJSON_ReplaceItemInArray(cJSON_GetObjectItemCaseSensitive(e, "latency_samples_ms"), 2,
                             cJSON_CreateString("slow"));
    fg_err err = {{0}};
    assert_int_equal(fg_compare_results(base, "base.json", new_, "new.json", &o, &rep, &err), -1);
    assert_string_equal(err.msg, "new.json: exp_input5.0mb_conc10_ours [extreme]: "
                                 "latency_samples_ms[2] is not a latency");
    cJSON_ReplaceItemInObjectCaseSensitive(e, "category", cJSON_CreateNumber(4));
    assert_int_equal(fg_compare_results(base, "base.json", new_, "new.json", &o, &rep, &err), -1);
    assert_string_equal(err.msg, "new.json: experiments[1]: category is not a string");
    cJSON_Delete(base);
    cJSON_Delete(new_);

    /* The same id in different categories is not the same cell. */
    base = results_root();
    new_ = results_root();
    add_flat(base, id, 0, 100, 2);
    cJSON_ReplaceItemInObjectCaseSensitive(cJSON_GetArrayItem(fg_results_experiments(base), 0),
                                           "category", cJSON_CreateString("large_input"));
    add_flat(new_, id, 0, 100, 2);
    cJSON_ReplaceItemInObjectCaseSensitive(cJSON_GetArrayItem(fg_results_experiments(new_), 0),
                                           "category", cJSON_CreateString("extreme"));
    compare_ok(base, new_, &o, &rep);
    assert_int_equal(rep.n, 2);
    assert_int_equal(rep.cells[0].verdict, FG_VERDICT_MISSING);
    assert_int_equal(rep.cells[1].verdict, FG_VERDICT_EXTRA);
    fg_compare_format(&rep.cells[1], line, sizeof line);
    assert_string_equal(line, "extra             exp_input5.0mb_conc10_ours [extreme]: "
                              "only in NEW (1 repeat)");
    fg_compare_report_free(&rep);
    cJSON_Delete(base);
    cJSON_Delete(new_);
}

static void test_bad_samples_named(void **state)
{
    (void)state;
    fg_compare_opts o;
    fg_compare_opts_defaults(&o);
    cJSON *base = results_root(), *new_ = results_root();
    add_flat_cell(base, "exp_a", base5, tp5, 3);
    add_flat_cell(new_, "exp_a", base5, tp5, 3);
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
    const char *text = "{\"p95_ms\": 0.5, \"p50_ms\": 0.07, \"throughput_rps\": 0.1, \"alpha\": 0.05,"
                       " \"confidence\": 0.9, \"equivalence\": 0.2, \"min_repeats\": 4,"
                       " \"_note\": \"comments are fine\","
                       " \"cells\": {\"exp_a\": {\"p95_ms\": 1.0}}}";
    fg_err err = {{0}};
    assert_int_equal(fg_write_file_atomic(path, text, strlen(text), &err), 0);
    fg_compare_opts o;
    fg_compare_opts_defaults(&o);
    assert_close(o.p95_tolerance, 0.05, 0);
    assert_close(o.equivalence_margin, 0.10, 0);
    assert_int_equal(o.min_repeats, 3);
    cJSON *doc;
    assert_int_equal(fg_compare_opts_load(path, &o, &doc, &err), 0);
    assert_close(o.p95_tolerance, 0.5, 0);
    assert_close(o.p50_tolerance, 0.07, 0);
    assert_close(o.throughput_tolerance, 0.1, 0);
    assert_close(o.alpha, 0.05, 0);
    assert_close(o.confidence, 0.9, 0);
    assert_close(o.equivalence_margin, 0.2, 0);
    assert_int_equal(o.min_repeats, 4);
    assert_non_null(cJSON_GetObjectItemCaseSensitive(o.cells, "exp_a"));
    cJSON_Delete(doc);

    static const struct { const char *text, *want; } bad[] = {
        {"{\"p95_ms\": \"twenty\"}", "p95_ms: must be a number"},
        {"{\"p59_ms\": 0.1}", "unknown key 'p59_ms'"},
        {"{\"resamples\": 2000}", "resamples: no longer used"},
        {"{\"min_repeats\": 3.5}", "min_repeats: must be a whole number"},
        {"{\"cells\": {\"exp_a\": {\"p95\": 0.1}}}", "cells.exp_a.unknown key 'p95'"},
        {"{", "invalid JSON"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(fg_write_file_atomic(path, bad[i].text, strlen(bad[i].text), &err), 0);
        assert_int_equal(fg_compare_opts_load(path, &o, &doc, &err), -1);
        assert_has(err.msg, path);
        assert_has(err.msg, bad[i].want);
    }
    remove(path);
}

/* ---- simulation: false alarms and power ----------------------------------- */

/* One side of a 9-cell matrix, 5 repeats: each repeat's samples lognormal
 * (sigma 0.25, 20 samples like the smoke cell) around a median that drifts
 * by exp(N(0, 0.15)) per repeat; factor is the true slowdown. */
static void sim_side(cJSON *root, double factor, rng *g)
{
    static const double medians[9] = {150, 180, 220, 400, 450, 520, 1500, 1800, 2600};
    for (int cell = 0; cell < 9; cell++) {
        char id[32];
        snprintf(id, sizeof id, "exp_cell%d", cell);
        for (int r = 0; r < 5; r++) {
            double m = medians[cell] * factor * exp(0.15 * normal(g));
            add_noisy(root, "standard", id, r, 20, m, g);
        }
    }
}

/* Comparisons (paired, 5 pairs) that fail, of trials. */
static int sim_failures(double factor, int trials, uint64_t seed)
{
    fg_compare_opts o;
    fg_compare_opts_defaults(&o);
    o.paired = 1;
    rng g = {seed};
    int failed = 0;
    for (int t = 0; t < trials; t++) {
        cJSON *base = results_root(), *new_ = results_root();
        sim_side(base, 1.0, &g);
        sim_side(new_, factor, &g);
        fg_compare_report rep;
        compare_ok(base, new_, &o, &rep);
        failed += rep.failed;
        fg_compare_report_free(&rep);
        cJSON_Delete(base);
        cJSON_Delete(new_);
    }
    return failed;
}

static void test_simulated_false_alarms_and_power(void **state)
{
    (void)state;
    int aa = sim_failures(1.0, 300, 1), slow50 = sim_failures(1.5, 100, 2),
        slow25 = sim_failures(1.25, 100, 3);
    printf("simulation (9 cells, 5 pairs, drift sigma 0.15): A/A false alarms %d/300 (%.1f %%), "
           "+50 %% detected %d/100, +25 %% detected %d/100\n", aa, aa / 3.0, slow50, slow25);
    assert_true(aa <= 6);              /* <= 2 % (BH's bound under the complete null: 1 %) */
    assert_true(slow50 >= 95);
    /* +25 % is 1.5 drift sigmas per pair: detected often, never less than
     * the false-alarm rate, never more than +50 %. */
    assert_true(slow25 >= 30 && slow25 <= slow50);
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

static int count_lines(const char *s)
{
    int n = 0;
    for (; *s; s++) n += *s == '\n';
    return n;
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
    char base_p[256], same_p[256], slow_p[256], bad_p[256], miss_p[256], unlike_p[256],
         intr_p[256], out_p[256], args[1400];
    snprintf(base_p, sizeof base_p, "%s/base.json", dir);
    snprintf(same_p, sizeof same_p, "%s/same.json", dir);
    snprintf(slow_p, sizeof slow_p, "%s/slow.json", dir);
    snprintf(bad_p, sizeof bad_p, "%s/bad.json", dir);
    snprintf(miss_p, sizeof miss_p, "%s/missing.json", dir);
    snprintf(unlike_p, sizeof unlike_p, "%s/unlike.json", dir);
    snprintf(intr_p, sizeof intr_p, "%s/interrupted.json", dir);
    snprintf(out_p, sizeof out_p, "%s/out.txt", dir);
    const char *id = "exp_input0.1mb_conc2_ours";
    const double slow5[5] = {200, 208, 192, 204, 196};
    cJSON *base = results_root(), *same = results_root(), *slow = results_root(),
          *miss = results_root(), *unl = results_root();
    add_flat_cell(base, id, base5, tp5, 5);
    add_flat_cell(base, "exp_other", base5, tp5, 5);
    add_flat_cell(same, id, base5, tp5, 5);
    add_flat_cell(same, "exp_other", base5, tp5, 5);
    add_flat_cell(slow, id, slow5, tp5, 5);
    add_flat_cell(slow, "exp_other", base5, tp5, 5);
    add_flat_cell(miss, id, base5, tp5, 5);
    add_flat_cell(unl, id, base5, tp5, 5);
    add_flat_cell(unl, "exp_other", base5, tp5, 5);
    const cJSON *e;
    cJSON_ArrayForEach(e, fg_results_experiments(unl))
        cJSON_ReplaceItemInObjectCaseSensitive((cJSON *)e, "mode", cJSON_CreateString("open"));
    save(base_p, base);
    save(same_p, same);
    save(slow_p, slow);
    save(miss_p, miss);
    save(unlike_p, unl);
    assert_int_equal(fg_write_file_atomic(bad_p, "{\"schema\": ", 11, NULL), 0);

    snprintf(args, sizeof args, "compare '%s' '%s'", base_p, same_p);
    assert_int_equal(run_cli(args, out_p), 0);
    char *out = slurp(out_p);
    assert_has(out, "ok                exp_input0.1mb_conc2_ours: centre x1.000");
    assert_has(out, "0 regression");
    assert_has(out, ": PASS\n");
    free(out);

    snprintf(args, sizeof args, "compare '%s' '%s'", base_p, slow_p);
    assert_int_equal(run_cli(args, out_p), 1);
    out = slurp(out_p);
    assert_has(out, "regression        exp_input0.1mb_conc2_ours: centre x2.000");
    assert_has(out, "; latency regression,");
    assert_has(out, "1 regression");
    assert_has(out, ": FAIL\n");
    free(out);
    /* --paired reads the same files as pairs: still red. */
    snprintf(args, sizeof args, "compare '%s' '%s' --paired", base_p, slow_p);
    assert_int_equal(run_cli(args, out_p), 1);

    /* A huge tolerance rescues it. */
    char tol_p[256];
    snprintf(tol_p, sizeof tol_p, "%s/tol.json", dir);
    const char *tol = "{\"p50_ms\": 3.0, \"p95_ms\": 3.0}";
    assert_int_equal(fg_write_file_atomic(tol_p, tol, strlen(tol), NULL), 0);
    snprintf(args, sizeof args, "compare '%s' '%s' --alpha 0.05 --tolerances '%s'", base_p, slow_p,
             tol_p);
    assert_int_equal(run_cli(args, out_p), 0);

    /* A cell missing from NEW fails the gate (it used to pass). */
    snprintf(args, sizeof args, "compare '%s' '%s'", base_p, miss_p);
    assert_int_equal(run_cli(args, out_p), 1);
    out = slurp(out_p);
    assert_has(out, "missing           exp_other: only in BASE (5 repeats)");
    assert_has(out, "1 missing");
    free(out);

    /* Unlike cells are bad input: exit 2, an error line naming cell and field. */
    snprintf(args, sizeof args, "compare '%s' '%s'", base_p, unlike_p);
    assert_int_equal(run_cli(args, out_p), 2);
    out = slurp(out_p);
    assert_has(out, "flowgate compare: unlike cells: exp_input0.1mb_conc2_ours mode closed (BASE) "
                    "vs open (NEW)\n");
    assert_null(strstr(out, "regression        "));
    free(out);

    /* Too few repeats: fails unless allowed. */
    cJSON *few = results_root();
    add_flat_cell(few, id, base5, tp5, 2);
    add_flat_cell(few, "exp_other", base5, tp5, 2);
    char few_p[256];
    snprintf(few_p, sizeof few_p, "%s/few.json", dir);
    save(few_p, few);
    cJSON_Delete(few);
    snprintf(args, sizeof args, "compare '%s' '%s'", base_p, few_p);
    assert_int_equal(run_cli(args, out_p), 1);
    snprintf(args, sizeof args, "compare '%s' '%s' --allow-insufficient", base_p, few_p);
    assert_int_equal(run_cli(args, out_p), 0);
    out = slurp(out_p);
    assert_has(out, "2 insufficient data (allowed)");
    free(out);

    snprintf(args, sizeof args, "compare '%s' '%s'", base_p, bad_p);
    assert_int_equal(run_cli(args, out_p), 2);
    out = slurp(out_p);
    assert_has(out, bad_p);
    assert_has(out, "invalid JSON");
    assert_int_equal(count_lines(out), 1);
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
    snprintf(args, sizeof args, "baseline '%s' --to '%s'", bad_p, dst);
    assert_int_equal(run_cli(args, out_p), 2);
    /* An interrupted run (the run, or one entry) is refused in one line. */
    cJSON *intr = results_root();
    add_flat_cell(intr, id, base5, tp5, 3);
    cJSON_AddTrueToObject(cJSON_GetObjectItemCaseSensitive(intr, "run"), "interrupted");
    save(intr_p, intr);
    snprintf(args, sizeof args, "baseline '%s' --to '%s'", intr_p, dst);
    assert_int_equal(run_cli(args, out_p), 2);
    out = slurp(out_p);
    assert_has(out, "the run was interrupted");
    assert_null(strchr(out, '\n') + 1 < out + strlen(out) ? strchr(strchr(out, '\n') + 1, '\n')
                                                          : NULL);
    free(out);
    cJSON_DeleteItemFromObjectCaseSensitive(cJSON_GetObjectItemCaseSensitive(intr, "run"),
                                            "interrupted");
    cJSON_AddTrueToObject(cJSON_GetArrayItem(fg_results_experiments(intr), 2), "interrupted");
    save(intr_p, intr);
    assert_int_equal(run_cli(args, out_p), 2);
    out = slurp(out_p);
    assert_has(out, "exp_input0.1mb_conc2_ours repeat 2 was interrupted");
    free(out);
    cJSON_Delete(intr);
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
    cJSON_Delete(miss);
    cJSON_Delete(unl);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_identical_is_ok),
        cmocka_unit_test(test_welch_on_repeats),
        cmocka_unit_test(test_bh_across_cells),
        cmocka_unit_test(test_matrix),
        cmocka_unit_test(test_paired_sees_through_drift),
        cmocka_unit_test(test_insufficient_fails_unless_allowed),
        cmocka_unit_test(test_missing_extra_failed_interrupted),
        cmocka_unit_test(test_unlike_cells),
        cmocka_unit_test(test_decided),
        cmocka_unit_test(test_success_drop_is_regression),
        cmocka_unit_test(test_throughput),
        cmocka_unit_test(test_same_id_two_categories),
        cmocka_unit_test(test_bad_samples_named),
        cmocka_unit_test(test_opts_file),
        cmocka_unit_test(test_simulated_false_alarms_and_power),
        cmocka_unit_test(test_cli_compare_and_baseline),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
