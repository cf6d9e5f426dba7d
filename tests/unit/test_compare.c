/* test_compare.c — the regression gate on constructed results files:
 * per-repeat statistics (a repeat whose samples are all equal has exactly
 * that centre and tail, so expected p-values can be computed by hand:
 * mpmath), unpaired and paired tests, the three-outcome rule per metric
 * (regression when "worse ratio <= 1" is rejected at alpha / tests at the
 * look's level, no regression when "worse ratio >= 1 + margin" is rejected
 * at beta, else inconclusive; the regression test wins when both reject;
 * the tail, watched by default (margin 0), only needs not to be worse),
 * the Bonferroni family across the cells of one comparison and opts.tests,
 * the levels of an early look (spending.h), too few repeats (inconclusive),
 * identity mismatches (an error, not a regression), missing / extra /
 * failed / interrupted cells and interrupted runs failing the comparison,
 * the report's outcome, the culprit of a paired comparison (critical-path
 * parts and functions ranked by added ms), a deterministic simulation of
 * false reds, false passes and power (fixed seed, no timing), the
 * tolerances file, and the `flowgate compare` / `flowgate baseline` exit
 * codes. The statistics themselves are in test_stats.c. */
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
#include "flowgate/spending.h"

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

/* A noisy repeat: n lognormal samples (sigma) around median_ms. */
static cJSON *add_noisy_sigma(cJSON *root, const char *category, const char *id, int repeat, int n,
                              double median_ms, double sigma, rng *g)
{
    double lat[200], sum = 0;
    for (int i = 0; i < n; i++) {
        lat[i] = median_ms * exp(sigma * normal(g));
        sum += lat[i];
    }
    /* Closed loop at concurrency 2: completions per second follow latency. */
    return add_entry(root, category, id, repeat, lat, n, 2 * 1000.0 / (sum / n));
}

static cJSON *add_noisy(cJSON *root, const char *category, const char *id, int repeat, int n,
                        double median_ms, rng *g)
{
    return add_noisy_sigma(root, category, id, repeat, n, median_ms, 0.25, g);
}

/* A cell of `repeats` noisy repeats (20 samples, sigma) whose medians drift
 * by exp(N(0, drift)) from repeat to repeat. */
static void add_noisy_cell(cJSON *root, const char *id, int repeats, double median_ms,
                           double sigma, double drift, rng *g)
{
    for (int r = 0; r < repeats; r++)
        add_noisy_sigma(root, "standard", id, r, 20, median_ms * exp(drift * normal(g)), sigma, g);
}

/* The profile of one repeat for the culprit: the critical path's mean
 * parts and three functions' mean exec / queue / transfer, each called
 * once per request (so a function's per-workflow value is its mean). */
enum { PROF_EXEC, PROF_QUEUE, PROF_TRANSFER, PROF_DRIVER };
static const char *const prof_fn[3] = {"loader__fetch", "recognizer__extract", "writer__store"};
typedef struct profile {
    double path[4];               /* exec, queue, transfer, driver (ms) */
    double fn[3][3];              /* [function][exec, queue, transfer] (ms) */
} profile;

/* A flat repeat whose latency is the profile's critical path, with the
 * profile in the entry as a run writes it. */
static cJSON *add_profiled(cJSON *root, const char *id, int repeat, const profile *p)
{
    double mean = p->path[0] + p->path[1] + p->path[2] + p->path[3];
    cJSON *e = add_flat(root, id, repeat, mean, 2 * 1000.0 / mean);
    cJSON *lat = cJSON_AddObjectToObject(e, "latency_ms");
    cJSON_AddNumberToObject(lat, "mean", mean);
    cJSON_AddNumberToObject(lat, "count", 20);
    cJSON *mean_ms = cJSON_AddObjectToObject(cJSON_AddObjectToObject(e, "bottleneck"), "mean_ms");
    static const char *const path_names[4] = {"exec", "queue", "transfer", "driver"};
    for (int k = 0; k < 4; k++) cJSON_AddNumberToObject(mean_ms, path_names[k], p->path[k]);
    cJSON *fns = cJSON_AddObjectToObject(e, "functions");
    static const char *const fn_parts[3] = {"exec_ms", "queue_ms", "transfer_ms"};
    for (int f = 0; f < 3; f++) {
        cJSON *fj = cJSON_AddObjectToObject(fns, prof_fn[f]);
        cJSON_AddNumberToObject(fj, "invocations", 20);
        for (int k = 0; k < 3; k++)
            cJSON_AddNumberToObject(cJSON_AddObjectToObject(fj, fn_parts[k]), "mean",
                                    p->fn[f][k]);
    }
    return e;
}

/* A profile around fetch exec 20, extract exec 40, store exec 10 (queue
 * 2, transfer 3 each): path exec 70, queue 6, transfer 9, driver 5; every
 * value with N(0, 0.5 ms) noise. add_exec is added to extract's exec,
 * add_transfer to store's transfer, and both to the critical path. */
static profile make_profile(double add_exec, double add_transfer, rng *g)
{
    static const double fn_base[3][3] = {{20, 2, 3}, {40, 2, 3}, {10, 2, 3}};
    profile p;
    for (int f = 0; f < 3; f++)
        for (int k = 0; k < 3; k++) p.fn[f][k] = fn_base[f][k] + 0.5 * normal(g);
    p.fn[1][0] += add_exec;
    p.fn[2][2] += add_transfer;
    p.path[PROF_EXEC] = p.fn[0][0] + p.fn[1][0] + p.fn[2][0];
    p.path[PROF_QUEUE] = p.fn[0][1] + p.fn[1][1] + p.fn[2][1];
    p.path[PROF_TRANSFER] = p.fn[0][2] + p.fn[1][2] + p.fn[2][2];
    p.path[PROF_DRIVER] = 5 + 0.5 * normal(g);
    return p;
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

/* The outcome of comparing base with new_ (all cells). */
static fg_outcome outcome_of(cJSON *base, cJSON *new_, const fg_compare_opts *o)
{
    fg_compare_report rep;
    compare_ok(base, new_, o, &rep);
    fg_outcome out = rep.outcome;
    fg_compare_report_free(&rep);
    return out;
}

/* ---- per-repeat statistics and the rule ------------------------------------ */

/* Same repeats on both sides: ratio 1, p_regression 0.5, the centre and
 * throughput shown inside their margins and the tail (watched, margin 0)
 * not worse. With equal per-repeat logs on both sides the Welch test has
 * df 8 and p_no_regression is T_8(-log(1 + margin) / se): centre
 * 0.000710646421500, throughput 0.00258393558933, and the tail at a 20 %
 * margin 8.46428692e-6 (mpmath). */
static void test_identical_is_no_regression(void **state)
{
    (void)state;
    fg_compare_opts o;
    fg_compare_opts_defaults(&o);
    cJSON *base = results_root(), *new_ = results_root();
    add_flat_cell(base, "exp_a", base5, tp5, 5);
    add_flat_cell(new_, "exp_a", base5, tp5, 5);
    fg_compare_report rep;
    compare_ok(base, new_, &o, &rep);
    assert_int_equal(rep.n, 1);
    assert_int_equal(rep.tests, 3);
    assert_int_equal(rep.outcome, FG_OUTCOME_PASS);
    assert_int_equal(rep.count[FG_VERDICT_NO_REGRESSION], 1);
    assert_string_equal(rep.reason, "");
    const fg_cell_compare *c = &rep.cells[0];
    assert_int_equal(c->verdict, FG_VERDICT_NO_REGRESSION);
    assert_int_equal(c->latency, FG_VERDICT_NO_REGRESSION);
    assert_int_equal(c->throughput, FG_VERDICT_NO_REGRESSION);
    assert_int_equal(c->success, FG_VERDICT_NO_REGRESSION);
    assert_int_equal(c->repeats_base, 5);
    assert_int_equal(c->n_base, 100);
    assert_true(isnan(c->added_ms));             /* no culprit unpaired */
    static const double p_no[FG_METRIC_COUNT] = {0.000710646421500307515,
                                                  0.00000846428692200139149,
                                                  0.00258393558932631238};
    static const double margin[FG_METRIC_COUNT] = {0.10, 0, 0.10};
    for (int k = 0; k < FG_METRIC_COUNT; k++) {
        const fg_metric_compare *m = &c->metric[k];
        assert_int_equal(m->verdict, FG_VERDICT_NO_REGRESSION);
        assert_close(m->ratio, 1, 1e-12);
        assert_close(m->p_regression, 0.5, 1e-12);
        assert_close(m->p_better, 0.5, 1e-12);
        if (k == FG_METRIC_TAIL) assert_true(isnan(m->p_no_regression));   /* watched */
        else assert_close(m->p_no_regression, p_no[k], 1e-10 + 1e-8 * p_no[k]);
        assert_close(m->margin, margin[k], 0);
        assert_close(m->alpha_level, 0.01 / 3, 1e-15);
        assert_close(m->beta_level, 0.05, 1e-15);
        assert_close(m->df, 8, 1e-9);
        assert_false(m->improved);
        assert_int_equal(m->n_base, 5);
        assert_true(m->ci_lo < 1 && m->ci_hi > 1);
    }
    assert_close(c->metric[FG_METRIC_CENTRE].base, exp((log(100) + log(104) + log(96) + log(102) +
                                                        log(98)) / 5), 1e-9);
    assert_close(c->p95_ratio, 1, 1e-12);
    assert_close(c->cliffs_delta, 0, 1e-12);
    char line[2048];
    fg_compare_format(c, line, sizeof line);
    assert_int_equal(strncmp(line, "no regression     exp_a: centre x1.000 CI [", 43), 0);
    assert_has(line, "inside p=0.5/0.00071");
    assert_has(line, "; success 100.0% -> 100.0%; 5/5 repeats, 100/100 samples");
    assert_null(strstr(line, "(better)"));
    assert_has(line, ", tail x1.000 CI [");
    assert_has(line, "] not worse p=0.5, throughput x1.000");   /* watched: no second p */
    char text[4096];
    fg_compare_format_culprit(c, text, sizeof text);
    assert_string_equal(text, "");
    fg_compare_report_free(&rep);
    /* A tail margin (per cell, or p95_ms in the tolerances file) gates it
     * like the others. */
    cJSON *cells = cJSON_Parse("{\"exp_a\": {\"p95_ms\": 0.2}}");
    o.cells = cells;
    fg_cell_compare one = compare_one(base, new_, &o);
    assert_close(one.metric[FG_METRIC_TAIL].margin, 0.2, 0);
    assert_close(one.metric[FG_METRIC_TAIL].p_no_regression, p_no[FG_METRIC_TAIL],
                 1e-10 + 1e-8 * p_no[FG_METRIC_TAIL]);
    assert_int_equal(one.metric[FG_METRIC_TAIL].verdict, FG_VERDICT_NO_REGRESSION);
    cJSON_Delete(cells);
    cJSON_Delete(base);
    cJSON_Delete(new_);
}

/* The per-repeat values are exactly the flat medians, so the Welch test is
 * known: NEW {110,115,104,112,108} vs BASE {100,104,96,102,98} on logs gives
 * p_regression 0.0015560859759 <= 0.01 / 3 (a regression), p_no_regression
 * 0.46519167 at the 10 % margin and 0.03488402 at 15 % (mpmath). */
static void test_welch_on_repeats(void **state)
{
    (void)state;
    fg_compare_opts o;
    fg_compare_opts_defaults(&o);
    const double slow[5] = {110, 115, 104, 112, 108};
    cJSON *base = results_root(), *new_ = results_root();
    add_flat_cell(base, "exp_a", base5, tp5, 5);
    add_flat_cell(new_, "exp_a", slow, tp5, 5);
    fg_compare_report rep;
    compare_ok(base, new_, &o, &rep);
    assert_int_equal(rep.outcome, FG_OUTCOME_FAIL);
    fg_cell_compare c = rep.cells[0];
    fg_compare_report_free(&rep);
    const fg_metric_compare *m = &c.metric[FG_METRIC_CENTRE];
    assert_close(m->p_regression, 0.0015560859759247373, 1e-10);
    assert_close(m->p_no_regression, 0.46519167362586015, 1e-9);
    assert_close(m->ratio, 1.0978094493532786, 1e-10);
    assert_close(m->df, 7.750619613536231, 1e-9);
    assert_close(m->p_better, 1 - 0.0015560859759247373, 1e-10);
    assert_close(c.metric[FG_METRIC_TAIL].p_regression, m->p_regression, 1e-15);
    assert_int_equal(m->verdict, FG_VERDICT_REGRESSION);
    assert_int_equal(c.verdict, FG_VERDICT_REGRESSION);
    assert_int_equal(c.latency, FG_VERDICT_REGRESSION);
    assert_int_equal(c.throughput, FG_VERDICT_NO_REGRESSION);
    assert_true(m->ci_lo > 1 && m->ci_hi > m->ratio);
    char line[2048];
    fg_compare_format(&c, line, sizeof line);
    assert_int_equal(strncmp(line, "regression        exp_a: centre x1.098 CI [", 43), 0);
    assert_has(line, "worse p=0.0016/0.47");
    assert_has(line, "; centre x1.098: worse (p=0.0016 <= 0.0033); tail x1.098: worse");

    /* A wider margin (15 %) now also shows the change inside it
     * (p_no_regression 0.035 <= beta): both tests reject, and the
     * regression wins. There is no tolerance on the point estimate. */
    cJSON *cells = cJSON_Parse("{\"exp_a\": {\"p50_ms\": 0.15, \"p95_ms\": 0.15}}");
    o.cells = cells;
    c = compare_one(base, new_, &o);
    m = &c.metric[FG_METRIC_CENTRE];
    assert_close(m->margin, 0.15, 0);
    assert_close(m->p_no_regression, 0.034884017425362151, 1e-9);
    assert_true(m->p_no_regression <= m->beta_level);
    assert_true(m->p_regression <= m->alpha_level);
    assert_int_equal(m->verdict, FG_VERDICT_REGRESSION);
    assert_int_equal(c.verdict, FG_VERDICT_REGRESSION);
    cJSON_Delete(cells);

    /* A stricter alpha (0.001 / 3 < p) cannot call it a regression, nor is
     * it inside the 10 % margin: inconclusive. */
    fg_compare_opts_defaults(&o);
    o.alpha = 0.001;
    c = compare_one(base, new_, &o);
    assert_close(c.metric[FG_METRIC_CENTRE].alpha_level, 0.001 / 3, 1e-15);
    assert_int_equal(c.metric[FG_METRIC_CENTRE].verdict, FG_VERDICT_INCONCLUSIVE);
    assert_int_equal(c.verdict, FG_VERDICT_INCONCLUSIVE);
    assert_has(c.reason, "1 metric neither worse nor shown inside the margin yet");
    assert_int_equal(c.metric[FG_METRIC_TAIL].verdict, FG_VERDICT_NO_REGRESSION);
    assert_int_equal(outcome_of(base, new_, &o), FG_OUTCOME_INCONCLUSIVE);

    /* The mirror image is an improvement: no regression, marked better
     * (p_no_regression 1.64795648e-5, mpmath). */
    fg_compare_opts_defaults(&o);
    c = compare_one(new_, base, &o);
    m = &c.metric[FG_METRIC_CENTRE];
    assert_int_equal(c.verdict, FG_VERDICT_NO_REGRESSION);
    assert_int_equal(m->verdict, FG_VERDICT_NO_REGRESSION);
    assert_true(m->improved);
    assert_close(m->p_better, 0.0015560859759247373, 1e-10);
    assert_close(m->p_no_regression, 1.64795647757810870e-5, 1e-12);
    assert_false(c.metric[FG_METRIC_THROUGHPUT].improved);
    fg_compare_format(&c, line, sizeof line);
    assert_int_equal(strncmp(line, "no regression     exp_a: centre x0.911 CI [", 43), 0);
    assert_has(line, "(better)");
    assert_int_equal(outcome_of(new_, base, &o), FG_OUTCOME_PASS);
    cJSON_Delete(base);
    cJSON_Delete(new_);
}

/* The alpha family is every gated (cell, metric) test of the comparison,
 * Bonferroni-split: the same cell that regresses alone (alpha / 3) is
 * inconclusive among nine unchanged cells (alpha / 30 < p = 0.00156);
 * a fixed family size (opts.tests, as an A/B run passes) overrides it. */
static void test_bonferroni_across_cells(void **state)
{
    (void)state;
    fg_compare_opts o;
    fg_compare_opts_defaults(&o);
    const double slow[5] = {110, 115, 104, 112, 108};
    cJSON *base = results_root(), *new_ = results_root();
    add_flat_cell(base, "exp_slow", base5, tp5, 5);
    add_flat_cell(new_, "exp_slow", slow, tp5, 5);
    fg_compare_report rep;
    compare_ok(base, new_, &o, &rep);
    assert_int_equal(rep.tests, 3);
    assert_int_equal(rep.cells[0].verdict, FG_VERDICT_REGRESSION);
    assert_int_equal(rep.outcome, FG_OUTCOME_FAIL);
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
    for (int i = 0; i < 10; i++)
        for (int k = 0; k < FG_METRIC_COUNT; k++)
            assert_close(rep.cells[i].metric[k].alpha_level, 0.01 / 30, 1e-15);
    assert_close(rep.cells[0].metric[FG_METRIC_CENTRE].p_regression, 0.0015560859759247373, 1e-10);
    assert_int_equal(rep.cells[0].verdict, FG_VERDICT_INCONCLUSIVE);
    assert_int_equal(rep.count[FG_VERDICT_NO_REGRESSION], 9);
    assert_int_equal(rep.count[FG_VERDICT_INCONCLUSIVE], 1);
    assert_int_equal(rep.outcome, FG_OUTCOME_INCONCLUSIVE);
    fg_compare_report_free(&rep);
    /* The family's size as given. */
    o.tests = 3;
    compare_ok(base, new_, &o, &rep);
    assert_int_equal(rep.tests, 3);
    assert_int_equal(rep.cells[0].verdict, FG_VERDICT_REGRESSION);
    assert_int_equal(rep.outcome, FG_OUTCOME_FAIL);
    fg_compare_report_free(&rep);
    cJSON_Delete(base);
    cJSON_Delete(new_);
}

/* The three outcomes on noisy repeats (fixed seeds): a clear slowdown is a
 * regression, an unchanged cell with small noise and enough repeats shows
 * no regression, and large noise over few repeats is inconclusive. */
static void test_three_outcomes(void **state)
{
    (void)state;
    fg_compare_opts o;
    fg_compare_opts_defaults(&o);
    /* +50 %, samples sigma 0.05, repeats drifting 2 %, 5 repeats. */
    rng g = {11};
    cJSON *base = results_root(), *new_ = results_root();
    add_noisy_cell(base, "exp_a", 5, 200, 0.05, 0.02, &g);
    add_noisy_cell(new_, "exp_a", 5, 300, 0.05, 0.02, &g);
    fg_compare_report rep;
    compare_ok(base, new_, &o, &rep);
    fg_cell_compare *c = &rep.cells[0];
    assert_int_equal(c->verdict, FG_VERDICT_REGRESSION);
    for (int k = 0; k < FG_METRIC_COUNT; k++) {
        assert_int_equal(c->metric[k].verdict, FG_VERDICT_REGRESSION);
        assert_true(c->metric[k].p_regression < 1e-4);
    }
    assert_close(c->metric[FG_METRIC_CENTRE].ratio, 1.5, 0.05);
    assert_close(c->metric[FG_METRIC_THROUGHPUT].ratio, 1 / 1.5, 0.05);
    assert_int_equal(rep.outcome, FG_OUTCOME_FAIL);
    fg_compare_report_free(&rep);
    cJSON_Delete(base);
    cJSON_Delete(new_);

    /* The same distribution on both sides, 10 repeats: every metric shown
     * inside its margin. */
    g.s = 12;
    base = results_root();
    new_ = results_root();
    add_noisy_cell(base, "exp_a", 10, 200, 0.05, 0.02, &g);
    add_noisy_cell(new_, "exp_a", 10, 200, 0.05, 0.02, &g);
    compare_ok(base, new_, &o, &rep);
    c = &rep.cells[0];
    assert_int_equal(c->verdict, FG_VERDICT_NO_REGRESSION);
    for (int k = 0; k < FG_METRIC_COUNT; k++) {
        assert_int_equal(c->metric[k].verdict, FG_VERDICT_NO_REGRESSION);
        if (k != FG_METRIC_TAIL) assert_true(c->metric[k].p_no_regression < 1e-4);
        assert_true(c->metric[k].p_regression > c->metric[k].alpha_level);
    }
    assert_int_equal(rep.outcome, FG_OUTCOME_PASS);
    fg_compare_report_free(&rep);
    cJSON_Delete(base);
    cJSON_Delete(new_);

    /* +5 % with tiny noise (0.3 % between repeats): inside the 10 % margin
     * (p_no_regression tiny) and also clearly worse (p_regression tiny).
     * Either outcome would respect the error rates; the rule gives the
     * regression. */
    const double steady[5] = {100, 100.3, 99.7, 100.1, 99.9};
    double bit[5];
    for (int r = 0; r < 5; r++) bit[r] = 1.05 * steady[(r + 2) % 5];
    base = results_root();
    new_ = results_root();
    add_flat_cell(base, "exp_a", steady, tp5, 5);
    add_flat_cell(new_, "exp_a", bit, tp5, 5);
    fg_cell_compare one = compare_one(base, new_, &o);
    const fg_metric_compare *m = &one.metric[FG_METRIC_CENTRE];
    assert_close(m->ratio, 1.05, 1e-9);
    assert_true(m->p_regression < 1e-6 && m->p_regression <= m->alpha_level);
    assert_true(m->p_no_regression < 1e-6 && m->p_no_regression <= m->beta_level);
    assert_int_equal(m->verdict, FG_VERDICT_REGRESSION);
    assert_int_equal(one.metric[FG_METRIC_TAIL].verdict, FG_VERDICT_REGRESSION);
    assert_int_equal(one.verdict, FG_VERDICT_REGRESSION);
    assert_int_equal(outcome_of(base, new_, &o), FG_OUTCOME_FAIL);
    cJSON_Delete(base);
    cJSON_Delete(new_);

    /* Large noise (repeats drift 30 %), 3 repeats, no change: neither. */
    g.s = 13;
    base = results_root();
    new_ = results_root();
    add_noisy_cell(base, "exp_a", 3, 200, 0.25, 0.3, &g);
    add_noisy_cell(new_, "exp_a", 3, 200, 0.25, 0.3, &g);
    compare_ok(base, new_, &o, &rep);
    c = &rep.cells[0];
    assert_int_equal(c->verdict, FG_VERDICT_INCONCLUSIVE);
    assert_int_equal(c->metric[FG_METRIC_CENTRE].verdict, FG_VERDICT_INCONCLUSIVE);
    assert_true(c->metric[FG_METRIC_CENTRE].p_regression > c->metric[FG_METRIC_CENTRE].alpha_level);
    assert_true(c->metric[FG_METRIC_CENTRE].p_no_regression > 0.05);
    assert_has(c->reason, "neither worse nor shown inside the margin yet");
    assert_int_equal(rep.outcome, FG_OUTCOME_INCONCLUSIVE);
    char line[2048];
    fg_compare_format(c, line, sizeof line);
    assert_int_equal(strncmp(line, "inconclusive      exp_a: centre x", 33), 0);
    assert_has(line, " open p=");
    fg_compare_report_free(&rep);
    cJSON_Delete(base);
    cJSON_Delete(new_);
}

/* Noisy equal flat repeats: the centre is neither worse nor inside its
 * 10 % margin (p_no_regression 0.316), the watched tail is not worse, and
 * a tail margin of 20 % would hold it open too (0.170); a margin of 100 %
 * shows them inside it (p_no_regression 0.00188, mpmath). */
static void test_margin_decides_noisy_cell(void **state)
{
    (void)state;
    fg_compare_opts o;
    fg_compare_opts_defaults(&o);
    const double noisy_b[5] = {100, 140, 70, 120, 85}, noisy_n[5] = {90, 150, 75, 110, 95};
    cJSON *base = results_root(), *new_ = results_root();
    add_flat_cell(base, "exp_noisy", noisy_b, tp5, 5);
    add_flat_cell(new_, "exp_noisy", noisy_n, tp5, 5);
    fg_cell_compare c = compare_one(base, new_, &o);
    assert_int_equal(c.verdict, FG_VERDICT_INCONCLUSIVE);
    assert_close(c.metric[FG_METRIC_CENTRE].p_regression, 0.47397199797321429, 1e-9);
    assert_close(c.metric[FG_METRIC_CENTRE].p_no_regression, 0.31613553036925033, 1e-9);
    assert_true(isnan(c.metric[FG_METRIC_TAIL].p_no_regression));
    assert_int_equal(c.metric[FG_METRIC_TAIL].verdict, FG_VERDICT_NO_REGRESSION);
    assert_int_equal(c.throughput, FG_VERDICT_NO_REGRESSION);
    assert_int_equal(c.latency, FG_VERDICT_INCONCLUSIVE);
    assert_has(c.reason, "1 metric neither worse nor shown inside the margin yet");
    o.p95_margin = 0.2;
    c = compare_one(base, new_, &o);
    assert_close(c.metric[FG_METRIC_TAIL].p_no_regression, 0.17036457500208229, 1e-9);
    assert_int_equal(c.metric[FG_METRIC_TAIL].verdict, FG_VERDICT_INCONCLUSIVE);
    assert_has(c.reason, "2 metrics neither worse nor shown inside the margin yet");
    fg_compare_opts_defaults(&o);
    cJSON *cells = cJSON_Parse("{\"exp_noisy\": {\"p50_ms\": 1.0, \"p95_ms\": 1.0}}");
    o.cells = cells;
    c = compare_one(base, new_, &o);
    assert_close(c.metric[FG_METRIC_CENTRE].p_no_regression, 0.0018777655555623990, 1e-10);
    assert_int_equal(c.verdict, FG_VERDICT_NO_REGRESSION);
    assert_int_equal(outcome_of(base, new_, &o), FG_OUTCOME_PASS);
    /* Per cell: another id keeps the defaults. */
    cJSON_Delete(cells);
    cells = cJSON_Parse("{\"exp_other\": {\"p50_ms\": 1.0, \"p95_ms\": 1.0}}");
    o.cells = cells;
    c = compare_one(base, new_, &o);
    assert_close(c.metric[FG_METRIC_CENTRE].margin, 0.10, 0);
    assert_int_equal(c.verdict, FG_VERDICT_INCONCLUSIVE);
    cJSON_Delete(cells);
    cJSON_Delete(base);
    cJSON_Delete(new_);
}

/* An A/B run looks repeatedly: each look tests at the increment of the
 * O'Brien–Fleming spending of alpha / tests (and of beta). At a quarter of
 * the information almost nothing is spent, so the data that regress at the
 * final look are inconclusive there. */
static void test_look_levels(void **state)
{
    (void)state;
    fg_compare_opts o;
    fg_compare_opts_defaults(&o);
    const double slow[5] = {110, 115, 104, 112, 108};
    cJSON *base = results_root(), *new_ = results_root();
    add_flat_cell(base, "exp_a", base5, tp5, 5);
    add_flat_cell(new_, "exp_a", slow, tp5, 5);
    fg_cell_compare c = compare_one(base, new_, &o);
    assert_int_equal(c.verdict, FG_VERDICT_REGRESSION);
    assert_close(c.metric[FG_METRIC_CENTRE].alpha_level, fg_look_level(0.01 / 3, 0, 1, 1), 1e-15);

    o.look = (fg_compare_look){0, 0.25, 0};
    c = compare_one(base, new_, &o);
    const fg_metric_compare *m = &c.metric[FG_METRIC_CENTRE];
    double a = fg_look_level(0.01 / 3, 0, 0.25, 0), b = fg_look_level(0.05, 0, 0.25, 0);
    assert_close(m->alpha_level, a, 1e-15 * a);
    assert_close(m->beta_level, b, 1e-15 * b);
    assert_true(a > 0 && a < 0.01 / 3 / 1000);     /* O'Brien–Fleming: ~4e-9 */
    assert_true(b > 0 && b < 0.001);
    assert_close(m->p_regression, 0.0015560859759247373, 1e-10);   /* same data, same p */
    assert_int_equal(m->verdict, FG_VERDICT_INCONCLUSIVE);
    assert_int_equal(c.verdict, FG_VERDICT_INCONCLUSIVE);
    assert_int_equal(outcome_of(base, new_, &o), FG_OUTCOME_INCONCLUSIVE);

    /* The final look after it spends what is left: just under alpha / 3. */
    o.look = (fg_compare_look){0.25, 1, 1};
    c = compare_one(base, new_, &o);
    m = &c.metric[FG_METRIC_CENTRE];
    assert_close(m->alpha_level, 0.01 / 3 - a, 1e-15);
    assert_true(m->alpha_level < 0.01 / 3);
    assert_int_equal(c.verdict, FG_VERDICT_REGRESSION);
    /* A run stopped early (final at t = 0.5) also spends all that is left. */
    o.look = (fg_compare_look){0.25, 0.5, 1};
    c = compare_one(base, new_, &o);
    assert_close(c.metric[FG_METRIC_CENTRE].alpha_level, 0.01 / 3 - a, 1e-15);
    assert_int_equal(c.verdict, FG_VERDICT_REGRESSION);
    /* A clear slowdown is found even at the early look. */
    const double twice[5] = {200, 208, 192, 204, 196};
    cJSON_Delete(new_);
    new_ = results_root();
    add_flat_cell(new_, "exp_a", twice, tp5, 5);
    o.look = (fg_compare_look){0, 0.25, 0};
    c = compare_one(base, new_, &o);
    assert_true(c.metric[FG_METRIC_CENTRE].p_regression <= a);
    assert_int_equal(c.verdict, FG_VERDICT_REGRESSION);
    cJSON_Delete(base);
    cJSON_Delete(new_);
}

/* An A/B run: each pair shares the machine's drift (here +-30 %), so the
 * sides differ by much more between repeats than the effect (+15 %). The
 * unpaired test cannot tell; the paired test on differences can. */
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
    assert_int_equal(c.verdict, FG_VERDICT_INCONCLUSIVE);   /* unpaired: lost in the drift */
    assert_true(c.metric[FG_METRIC_CENTRE].p_regression > 0.05);
    assert_true(c.metric[FG_METRIC_CENTRE].p_no_regression > 0.05);
    assert_int_equal(c.pairs, 0);
    o.paired = 1;
    c = compare_one(base, new_, &o);
    assert_int_equal(c.verdict, FG_VERDICT_REGRESSION);
    assert_int_equal(c.pairs, 6);
    assert_close(c.metric[FG_METRIC_CENTRE].df, 5, 0);
    assert_true(c.metric[FG_METRIC_CENTRE].p_regression < 1e-5);
    assert_close(c.metric[FG_METRIC_CENTRE].ratio, 1.15 * exp((log(1.01) + log(0.99) + log(1.02) +
                 log(0.985) + log(1.0) + log(1.005)) / 6), 1e-9);
    assert_int_equal(c.throughput, FG_VERDICT_REGRESSION);
    /* No profile in the entries: no culprit parts, nothing printed. */
    assert_true(isnan(c.added_ms));
    assert_int_equal(c.n_path + c.n_fn, 0);
    char line[2048], text[4096];
    fg_compare_format_culprit(&c, text, sizeof text);
    assert_string_equal(text, "");
    fg_compare_format(&c, line, sizeof line);
    assert_has(line, "6/6 repeats (6 pairs)");

    /* A repeat on one side only is not paired, and says so. */
    add_flat(new_, "exp_a", 9, 500, 0.4);
    c = compare_one(base, new_, &o);
    assert_int_equal(c.pairs, 6);
    assert_int_equal(c.metric[FG_METRIC_CENTRE].n_new, 6);
    assert_int_equal(c.verdict, FG_VERDICT_REGRESSION);
    assert_has(c.reason, "unpaired (not used): NEW repeat 9");
    /* Also on a cell that shows no regression. */
    c = compare_one(base, base, &o);
    assert_int_equal(c.verdict, FG_VERDICT_NO_REGRESSION);
    assert_string_equal(c.reason, "");
    cJSON_Delete(new_);
    new_ = results_root();
    for (int r = 0; r < 6; r++) add_flat(new_, "exp_a", r, 100 * drift[r] * jitter[r], 2.0 / drift[r]);
    add_flat(base, "exp_a", 7, 100, 2.0);
    c = compare_one(base, new_, &o);
    assert_int_equal(c.verdict, FG_VERDICT_NO_REGRESSION);
    assert_string_equal(c.reason, "unpaired (not used): BASE repeat 7");
    cJSON_Delete(base);
    cJSON_Delete(new_);
}

/* ---- too few repeats: inconclusive ------------------------------------------ */

static void test_insufficient_is_inconclusive(void **state)
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
    assert_int_equal(c->verdict, FG_VERDICT_INCONCLUSIVE);
    for (int k = 0; k < FG_METRIC_COUNT; k++) {
        assert_int_equal(c->metric[k].verdict, FG_VERDICT_INCONCLUSIVE);
        assert_true(isnan(c->metric[k].p_regression));
        assert_true(isnan(c->metric[k].p_no_regression));
    }
    assert_close(c->metric[FG_METRIC_CENTRE].ratio, 2, 0.05);   /* shown, not judged */
    const char *want = "insufficient data: centre in 2 BASE / 5 NEW repeats";
    assert_int_equal(strncmp(c->reason, want, strlen(want)), 0);
    assert_has(c->reason, "tail in 2 BASE / 5 NEW repeats");
    assert_has(c->reason, "throughput in 2 BASE / 5 NEW repeats");
    assert_int_equal(rep.outcome, FG_OUTCOME_INCONCLUSIVE);
    assert_int_equal(rep.count[FG_VERDICT_INCONCLUSIVE], 1);
    char line[2048];
    fg_compare_format(c, line, sizeof line);
    assert_int_equal(strncmp(line, "inconclusive      exp_a: centre x", 33), 0);
    assert_null(strstr(line, "nan"));
    fg_compare_report_free(&rep);
    /* min_repeats raised above what there is: 5 of 6 is too few too. */
    add_flat_cell(base, "exp_b", base5, tp5, 5);
    add_flat_cell(new_, "exp_b", base5, tp5, 5);
    compare_ok(base, new_, &o, &rep);
    assert_int_equal(rep.cells[1].verdict, FG_VERDICT_NO_REGRESSION);
    fg_compare_report_free(&rep);
    o.min_repeats = 6;
    compare_ok(base, new_, &o, &rep);
    assert_int_equal(rep.cells[1].verdict, FG_VERDICT_INCONCLUSIVE);
    assert_has(rep.cells[1].reason, "insufficient data: centre in 5 BASE / 5 NEW repeats");
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
    assert_int_equal(rep.cells[0].verdict, FG_VERDICT_INCONCLUSIVE);
    assert_int_equal(rep.cells[0].pairs, 2);
    assert_has(rep.cells[0].reason, "insufficient data: centre in 2 complete pairs");
    assert_has(rep.cells[0].reason, "unpaired (not used): BASE repeat 2, NEW repeat 5");
    assert_int_equal(rep.outcome, FG_OUTCOME_INCONCLUSIVE);
    fg_compare_report_free(&rep);
    cJSON_Delete(base);
    cJSON_Delete(new_);

    /* A regression elsewhere in the cell still fails it: throughput in
     * only 2 NEW repeats is insufficient, the latency doubled is not. */
    fg_compare_opts_defaults(&o);
    base = results_root();
    new_ = results_root();
    add_flat_cell(base, "exp_a", base5, tp5, 5);
    for (int r = 0; r < 5; r++) add_flat(new_, "exp_a", r, slow[r], r < 2 ? tp5[r] : -1);
    compare_ok(base, new_, &o, &rep);
    assert_int_equal(rep.cells[0].throughput, FG_VERDICT_INCONCLUSIVE);
    assert_int_equal(rep.cells[0].latency, FG_VERDICT_REGRESSION);
    assert_int_equal(rep.cells[0].verdict, FG_VERDICT_REGRESSION);
    assert_has(rep.cells[0].reason, "throughput in 5 BASE / 2 NEW repeats");
    assert_int_equal(rep.outcome, FG_OUTCOME_FAIL);
    fg_compare_report_free(&rep);
    cJSON_Delete(base);
    cJSON_Delete(new_);
}

/* ---- verdicts that fail the comparison -------------------------------------- */

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
    assert_int_equal(rep.outcome, FG_OUTCOME_PASS);
    assert_int_equal(rep.cells[0].verdict, FG_VERDICT_NO_REGRESSION);
    fg_compare_report_free(&rep);

    add_flat_cell(base, "exp_only_base", base5, tp5, 3);
    compare_ok(base, new_, &o, &rep);
    assert_int_equal(rep.outcome, FG_OUTCOME_FAIL);
    assert_int_equal(rep.cells[1].verdict, FG_VERDICT_MISSING);
    assert_string_equal(rep.cells[1].only_in, "BASE");
    assert_int_equal(rep.tests, 3);                  /* a missing cell is no test */
    char line[2048];
    fg_compare_format(&rep.cells[1], line, sizeof line);
    assert_string_equal(line, "missing           exp_only_base: only in BASE (3 repeats)");
    fg_compare_report_free(&rep);
    cJSON_Delete(base);
    base = results_root();
    add_flat_cell(base, "exp_both", base5, tp5, 3);

    add_flat(new_, "exp_only_new", 0, 100, 2.0);
    compare_ok(base, new_, &o, &rep);
    assert_int_equal(rep.outcome, FG_OUTCOME_FAIL);
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
    assert_int_equal(rep.outcome, FG_OUTCOME_FAIL);
    assert_int_equal(rep.cells[1].verdict, FG_VERDICT_FAILED);
    fg_compare_format(&rep.cells[1], line, sizeof line);
    assert_string_equal(line, "failed            exp_dead: NEW repeat 2: no successful request "
                              "(0 of 20 ok)");
    fg_compare_report_free(&rep);

    /* A failing cell outweighs an inconclusive one. */
    add_flat_cell(base, "exp_few", base5, tp5, 2);
    add_flat_cell(new_, "exp_few", base5, tp5, 2);
    compare_ok(base, new_, &o, &rep);
    assert_int_equal(rep.cells[2].verdict, FG_VERDICT_INCONCLUSIVE);
    assert_int_equal(rep.outcome, FG_OUTCOME_FAIL);
    fg_compare_report_free(&rep);

    /* An entry marked interrupted, on either side. */
    cJSON *e = cJSON_GetArrayItem(fg_results_experiments(base), 3);     /* exp_dead, repeat 0 */
    cJSON_AddTrueToObject(e, "interrupted");
    compare_ok(base, new_, &o, &rep);
    assert_int_equal(rep.cells[1].verdict, FG_VERDICT_INTERRUPTED);
    assert_int_equal(rep.outcome, FG_OUTCOME_FAIL);
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
    assert_int_equal(rep.cells[0].verdict, FG_VERDICT_NO_REGRESSION);
    assert_true(rep.new_interrupted);
    assert_false(rep.base_interrupted);
    assert_int_equal(rep.outcome, FG_OUTCOME_FAIL);
    assert_string_equal(rep.reason, "the NEW run was interrupted: its cells are incomplete");
    fg_compare_report_free(&rep);
    cJSON_Delete(base);
    cJSON_Delete(new_);

    /* Nothing at all to compare is no pass. */
    base = results_root();
    new_ = results_root();
    compare_ok(base, new_, &o, &rep);
    assert_int_equal(rep.n, 0);
    assert_int_equal(rep.outcome, FG_OUTCOME_FAIL);
    assert_has(rep.reason, "nothing was compared");
    fg_compare_report_free(&rep);
    cJSON_Delete(base);
    cJSON_Delete(new_);
}

/* recount: a caller that replaced cells (the A/B run) gets counts and the
 * outcome back from them. */
static void test_recount(void **state)
{
    (void)state;
    fg_compare_opts o;
    fg_compare_opts_defaults(&o);
    cJSON *base = results_root(), *new_ = results_root();
    add_flat_cell(base, "exp_a", base5, tp5, 3);
    add_flat_cell(new_, "exp_a", base5, tp5, 3);
    add_flat_cell(base, "exp_b", base5, tp5, 3);
    add_flat_cell(new_, "exp_b", base5, tp5, 3);
    fg_compare_report rep;
    compare_ok(base, new_, &o, &rep);
    assert_int_equal(rep.outcome, FG_OUTCOME_PASS);
    assert_int_equal(rep.count[FG_VERDICT_NO_REGRESSION], 2);
    rep.cells[1].verdict = FG_VERDICT_INCONCLUSIVE;
    fg_compare_report_recount(&rep);
    assert_int_equal(rep.count[FG_VERDICT_NO_REGRESSION], 1);
    assert_int_equal(rep.count[FG_VERDICT_INCONCLUSIVE], 1);
    assert_int_equal(rep.outcome, FG_OUTCOME_INCONCLUSIVE);
    rep.cells[0].verdict = FG_VERDICT_REGRESSION;
    fg_compare_report_recount(&rep);
    assert_int_equal(rep.outcome, FG_OUTCOME_FAIL);
    rep.cells[0].verdict = FG_VERDICT_UNLIKE;
    fg_compare_report_recount(&rep);
    assert_int_equal(rep.unlike, 1);
    assert_int_equal(rep.outcome, FG_OUTCOME_FAIL);
    fg_compare_report_free(&rep);
    assert_string_equal(fg_outcome_label(FG_OUTCOME_PASS), "PASS");
    assert_string_equal(fg_outcome_label(FG_OUTCOME_FAIL), "FAIL");
    assert_string_equal(fg_outcome_label(FG_OUTCOME_INCONCLUSIVE), "INCONCLUSIVE");
    assert_string_equal(fg_verdict_name(FG_VERDICT_NO_REGRESSION), "no regression");
    assert_string_equal(fg_verdict_name(FG_VERDICT_INCONCLUSIVE), "inconclusive");
    assert_string_equal(fg_verdict_name(FG_VERDICT_UNLIKE), "unlike");
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
    assert_int_equal(rep.outcome, FG_OUTCOME_FAIL);
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
        assert_int_equal(rep.cells[0].verdict, FG_VERDICT_NO_REGRESSION);     /* only in BASE */
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
    assert_int_equal(c.latency, FG_VERDICT_NO_REGRESSION);
    assert_int_equal(c.success, FG_VERDICT_REGRESSION);
    assert_int_equal(c.verdict, FG_VERDICT_REGRESSION);
    assert_close(c.success_new, 20.0 / 30.0, 1e-12);
    assert_int_equal(outcome_of(base, new_, &o), FG_OUTCOME_FAIL);
    char line[2048];
    fg_compare_format(&c, line, sizeof line);
    assert_has(line, "success 100.0% -> 66.7%");
    assert_has(line, "success 100.0% -> 66.7%, more than 5 points lower");
    /* Within the tolerance (5 points) it is not. */
    cJSON_ArrayForEach(e, fg_results_experiments(new_)) {
        cJSON *req = cJSON_GetObjectItemCaseSensitive(e, "requests");
        cJSON_SetNumberValue(cJSON_GetObjectItemCaseSensitive(req, "sent"), 21);
    }
    c = compare_one(base, new_, &o);
    assert_int_equal(c.success, FG_VERDICT_NO_REGRESSION);
    assert_int_equal(c.verdict, FG_VERDICT_NO_REGRESSION);
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
    assert_int_equal(c.latency, FG_VERDICT_NO_REGRESSION);
    assert_int_equal(c.throughput, FG_VERDICT_REGRESSION);
    assert_int_equal(c.verdict, FG_VERDICT_REGRESSION);
    const fg_metric_compare *m = &c.metric[FG_METRIC_THROUGHPUT];
    assert_close(m->ratio, 0.7, 1e-9);
    assert_true(m->ci_lo < 0.7 && m->ci_hi > 0.7 && m->ci_hi < 1);
    assert_true(m->p_regression < 1e-6);
    assert_true(m->p_no_regression > 0.5);        /* BASE/NEW 1.43, far past 1.10 */
    assert_has(c.reason, "throughput x0.700: worse");
    /* The mirror image (+43 %) is better, not worse. */
    c = compare_one(new_, base, &o);
    assert_int_equal(c.throughput, FG_VERDICT_NO_REGRESSION);
    assert_true(c.metric[FG_METRIC_THROUGHPUT].improved);
    cJSON_Delete(new_);
    cJSON_Delete(base);
    /* -3 % in steady repeats: inside the 10 % margin and clearly worse;
     * the regression wins (there is no tolerance on the estimate). */
    const double tp_steady[5] = {2.0, 2.01, 1.99, 2.005, 1.995};
    double tp_bit[5];
    for (int r = 0; r < 5; r++) tp_bit[r] = 0.97 * tp_steady[(r + 2) % 5];
    base = results_root();
    new_ = results_root();
    add_flat_cell(base, "exp_a", base5, tp_steady, 5);
    add_flat_cell(new_, "exp_a", base5, tp_bit, 5);
    c = compare_one(base, new_, &o);
    m = &c.metric[FG_METRIC_THROUGHPUT];
    assert_true(m->p_no_regression <= m->beta_level);
    assert_true(m->p_regression <= m->alpha_level);
    assert_int_equal(c.throughput, FG_VERDICT_REGRESSION);
    /* Unchanged steady throughput is inside the margin. */
    c = compare_one(base, base, &o);
    assert_int_equal(c.throughput, FG_VERDICT_NO_REGRESSION);
    cJSON_Delete(base);
    cJSON_Delete(new_);
    /* No throughput in either file: not gated (no test), printed n/a. */
    base = results_root();
    new_ = results_root();
    for (int r = 0; r < 3; r++) {
        add_flat(base, "exp_a", r, base5[r], -1);
        add_flat(new_, "exp_a", r, base5[r], -1);
    }
    fg_compare_report rep;
    compare_ok(base, new_, &o, &rep);
    assert_int_equal(rep.tests, 2);
    assert_int_equal(rep.cells[0].verdict, FG_VERDICT_NO_REGRESSION);
    assert_int_equal(rep.cells[0].throughput, FG_VERDICT_NO_REGRESSION);
    assert_close(rep.cells[0].metric[FG_METRIC_CENTRE].alpha_level, 0.01 / 2, 1e-15);
    char line[2048];
    fg_compare_format(&rep.cells[0], line, sizeof line);
    assert_has(line, "throughput n/a");
    assert_null(strstr(line, "nan"));
    fg_compare_report_free(&rep);
    /* In only 2 of 3 NEW repeats: too few to judge. */
    cJSON_AddNumberToObject(cJSON_GetArrayItem(fg_results_experiments(new_), 0), "throughput_rps", 2);
    cJSON_AddNumberToObject(cJSON_GetArrayItem(fg_results_experiments(new_), 1), "throughput_rps", 2);
    for (int r = 0; r < 3; r++)
        cJSON_AddNumberToObject(cJSON_GetArrayItem(fg_results_experiments(base), r),
                                "throughput_rps", 2);
    c = compare_one(base, new_, &o);
    assert_int_equal(c.throughput, FG_VERDICT_INCONCLUSIVE);
    assert_int_equal(c.latency, FG_VERDICT_NO_REGRESSION);
    assert_int_equal(c.verdict, FG_VERDICT_INCONCLUSIVE);
    assert_has(c.reason, "insufficient data: throughput in 3 BASE / 2 NEW repeats");
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
    assert_int_equal(large->verdict, FG_VERDICT_NO_REGRESSION);
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

/* ---- the culprit -------------------------------------------------------------- */

/* Five pairs in which recognizer__extract's exec grows by 30 ms (and with
 * it the critical path's exec and the mean latency), everything else
 * unchanged up to 0.5 ms noise: it is named first, with about all of the
 * added latency; the critical path's first part is exec. */
static void test_culprit(void **state)
{
    (void)state;
    fg_compare_opts o;
    fg_compare_opts_defaults(&o);
    o.paired = 1;
    rng g = {21};
    cJSON *base = results_root(), *new_ = results_root();
    for (int r = 0; r < 5; r++) {
        profile pb = make_profile(0, 0, &g), pn = make_profile(30, 0, &g);
        add_profiled(base, "exp_a", r, &pb);
        add_profiled(new_, "exp_a", r, &pn);
    }
    fg_cell_compare c = compare_one(base, new_, &o);
    assert_int_equal(c.verdict, FG_VERDICT_REGRESSION);
    assert_int_equal(c.pairs, 5);
    assert_close(c.added_ms, 30, 3);
    assert_int_equal(c.n_path, 4);
    assert_int_equal(c.n_fn, 9);
    assert_string_equal(c.fn[0].function, "recognizer__extract");
    assert_string_equal(c.fn[0].part, "exec");
    assert_close(c.fn[0].added_ms, 30, 2);
    assert_true(c.fn[0].added_lo > 20 && c.fn[0].added_hi < 40);
    assert_true(c.fn[0].share >= 0.7 && c.fn[0].share <= 1.3);
    assert_close(c.fn[0].ratio, 70.0 / 40.0, 0.1);
    assert_true(c.fn[0].ci_lo > 1);
    for (int i = 1; i < c.n_fn; i++) {
        assert_true(c.fn[i].added_ms <= c.fn[i - 1].added_ms);      /* ranked */
        assert_true(fabs(c.fn[i].added_ms) < 2);                    /* noise only */
        assert_true(fabs(c.fn[i].share) < 0.1);
    }
    assert_string_equal(c.path[0].function, "");
    assert_string_equal(c.path[0].part, "exec");
    assert_close(c.path[0].added_ms, 30, 3);
    assert_true(c.path[0].share >= 0.7 && c.path[0].share <= 1.3);
    for (int i = 1; i < c.n_path; i++) assert_true(fabs(c.path[i].added_ms) < 2);
    char text[4096];
    fg_compare_format_culprit(&c, text, sizeof text);
    assert_int_equal(strncmp(text, "  culprit of exp_a (+", 21), 0);
    assert_has(text, "\n    recognizer__extract exec x1.7");
    assert_has(text, "\n    critical path exec x1.4");
    assert_has(text, "% of the added latency\n");
    assert_null(strstr(text, "loader__fetch"));            /* added nothing measurable */

    /* The same files unpaired: no culprit. */
    o.paired = 0;
    c = compare_one(base, new_, &o);
    assert_int_equal(c.verdict, FG_VERDICT_REGRESSION);
    assert_true(isnan(c.added_ms));
    assert_int_equal(c.n_path + c.n_fn, 0);
    fg_compare_format_culprit(&c, text, sizeof text);
    assert_string_equal(text, "");
    cJSON_Delete(base);
    cJSON_Delete(new_);

    /* writer__store's transfer grows by 30 ms: the critical path's first
     * part is transfer, and the function's transfer leads the functions. */
    o.paired = 1;
    base = results_root();
    new_ = results_root();
    for (int r = 0; r < 5; r++) {
        profile pb = make_profile(0, 0, &g), pn = make_profile(0, 30, &g);
        add_profiled(base, "exp_a", r, &pb);
        add_profiled(new_, "exp_a", r, &pn);
    }
    c = compare_one(base, new_, &o);
    assert_int_equal(c.verdict, FG_VERDICT_REGRESSION);
    assert_string_equal(c.path[0].part, "transfer");
    assert_close(c.path[0].added_ms, 30, 3);
    assert_string_equal(c.fn[0].function, "writer__store");
    assert_string_equal(c.fn[0].part, "transfer");
    assert_true(c.fn[0].share >= 0.7 && c.fn[0].share <= 1.3);
    fg_compare_format_culprit(&c, text, sizeof text);
    assert_has(text, "\n    writer__store transfer x");
    assert_has(text, "\n    critical path transfer x");
    cJSON_Delete(base);
    cJSON_Delete(new_);

    /* A function called three times a request adds three times its mean
     * per workflow. */
    base = results_root();
    new_ = results_root();
    for (int r = 0; r < 5; r++) {
        profile pb = make_profile(0, 0, &g), pn = make_profile(30, 0, &g);
        add_profiled(base, "exp_a", r, &pb);
        cJSON *e = add_profiled(new_, "exp_a", r, &pn);
        cJSON *fn = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(e, "functions"),
                                                     "recognizer__extract");
        cJSON_SetNumberValue(cJSON_GetObjectItemCaseSensitive(fn, "invocations"), 60);
    }
    c = compare_one(base, new_, &o);
    assert_string_equal(c.fn[0].function, "recognizer__extract");
    assert_close(c.fn[0].added_ms, 3 * 70 - 40, 6);     /* 3 calls a request at ~70 ms */
    cJSON_Delete(base);
    cJSON_Delete(new_);
}

static void test_opts_file(void **state)
{
    (void)state;
    const char *path = "test_compare_tolerances.json";
    const char *text = "{\"p95_ms\": 0.5, \"p50_ms\": 0.07, \"throughput_rps\": 0.15, \"alpha\": 0.05,"
                       " \"beta\": 0.1, \"confidence\": 0.9, \"success_rate\": 0.02,"
                       " \"min_repeats\": 4, \"_note\": \"comments are fine\","
                       " \"cells\": {\"exp_a\": {\"p95_ms\": 1.0, \"_why\": \"noisy\"}}}";
    fg_err err = {{0}};
    assert_int_equal(fg_write_file_atomic(path, text, strlen(text), &err), 0);
    fg_compare_opts o;
    fg_compare_opts_defaults(&o);
    assert_close(o.alpha, 0.01, 0);
    assert_close(o.beta, 0.05, 0);
    assert_close(o.p50_margin, 0.10, 0);
    assert_close(o.p95_margin, 0, 0);              /* the tail is watched */
    assert_close(o.throughput_margin, 0.10, 0);
    assert_close(o.success_tolerance, 0.05, 0);
    assert_close(o.confidence, 0.95, 0);
    assert_int_equal(o.min_repeats, 3);
    assert_int_equal(o.paired, 0);
    assert_int_equal(o.tests, 0);
    assert_close(o.look.t_prev, 0, 0);
    assert_close(o.look.t, 1, 0);
    assert_int_equal(o.look.final, 1);
    assert_null(o.cells);
    cJSON *doc;
    assert_int_equal(fg_compare_opts_load(path, &o, &doc, &err), 0);
    assert_close(o.p95_margin, 0.5, 0);
    assert_close(o.p50_margin, 0.07, 0);
    assert_close(o.throughput_margin, 0.15, 0);
    assert_close(o.alpha, 0.05, 0);
    assert_close(o.beta, 0.1, 0);
    assert_close(o.confidence, 0.9, 0);
    assert_close(o.success_tolerance, 0.02, 0);
    assert_int_equal(o.min_repeats, 4);
    assert_non_null(cJSON_GetObjectItemCaseSensitive(o.cells, "exp_a"));
    /* The loaded margins are the ones the comparison uses. */
    cJSON *base = results_root(), *new_ = results_root();
    add_flat_cell(base, "exp_a", base5, tp5, 4);
    add_flat_cell(new_, "exp_a", base5, tp5, 4);
    add_flat_cell(base, "exp_b", base5, tp5, 4);
    add_flat_cell(new_, "exp_b", base5, tp5, 4);
    fg_compare_report rep;
    compare_ok(base, new_, &o, &rep);
    assert_close(rep.cells[0].metric[FG_METRIC_TAIL].margin, 1.0, 0);
    assert_close(rep.cells[1].metric[FG_METRIC_TAIL].margin, 0.5, 0);
    assert_close(rep.cells[1].metric[FG_METRIC_CENTRE].margin, 0.07, 0);
    assert_close(rep.cells[1].metric[FG_METRIC_THROUGHPUT].margin, 0.15, 0);
    assert_close(rep.cells[1].metric[FG_METRIC_CENTRE].alpha_level, 0.05 / 6, 1e-15);
    assert_close(rep.cells[1].metric[FG_METRIC_CENTRE].beta_level, 0.1, 1e-15);
    fg_compare_report_free(&rep);
    cJSON_Delete(base);
    cJSON_Delete(new_);
    cJSON_Delete(doc);

    static const struct { const char *text, *want; } bad[] = {
        {"{\"p95_ms\": \"twenty\"}", "p95_ms: must be a number"},
        {"{\"p95_ms\": -0.1}", "p95_ms: must be a number in"},
        {"{\"p50_ms\": 0}", "p50_ms: must be a number in"},
        {"{\"beta\": 0.7}", "beta: must be a number in"},
        {"{\"alpha\": 0}", "alpha: must be a number in"},
        {"{\"p59_ms\": 0.1}", "unknown key 'p59_ms'"},
        {"{\"equivalence\": 0.2}", "unknown key 'equivalence'"},
        {"{\"matrix\": true}", "unknown key 'matrix'"},
        {"{\"resamples\": 2000}", "resamples: no longer used"},
        {"{\"min_repeats\": 3.5}", "min_repeats: must be a whole number"},
        {"{\"min_repeats\": 1}", "min_repeats: must be a number in"},
        {"{\"cells\": {\"exp_a\": {\"p95\": 0.1}}}", "cells.exp_a.unknown key 'p95'"},
        {"{\"cells\": {\"exp_a\": {\"success_rate\": 0.1}}}", "cells.exp_a.unknown key 'success_rate'"},
        {"{\"cells\": {\"exp_a\": {\"p50_ms\": -1}}}", "cells.exp_a.p50_ms: must be a number in"},
        {"{\"cells\": [1]}", "cells: not an object"},
        {"{", "invalid JSON"},
        {"[1]", "invalid JSON"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(fg_write_file_atomic(path, bad[i].text, strlen(bad[i].text), &err), 0);
        fg_compare_opts_defaults(&o);
        doc = (cJSON *)1;
        assert_int_equal(fg_compare_opts_load(path, &o, &doc, &err), -1);
        assert_null(doc);
        assert_has(err.msg, path);
        assert_has(err.msg, bad[i].want);
    }
    remove(path);
}

/* ---- simulation: false reds, false passes and power ------------------------- */

/* One side of a 9-cell matrix of paired repeats: each repeat's samples
 * lognormal (sigma 0.25, 20 samples like the smoke cell) around a median
 * that drifts by drift[cell][r] (shared by the pair: the machine's state)
 * and by exp(N(0, 0.03)) of its own; factor is the true slowdown. */
#define SIM_CELLS 9
#define SIM_PAIRS 15
static void sim_side(cJSON *root, double factor, const double drift[SIM_CELLS][SIM_PAIRS], rng *g)
{
    static const double medians[SIM_CELLS] = {150, 180, 220, 400, 450, 520, 1500, 1800, 2600};
    for (int cell = 0; cell < SIM_CELLS; cell++) {
        char id[32];
        snprintf(id, sizeof id, "exp_cell%d", cell);
        for (int r = 0; r < SIM_PAIRS; r++) {
            double m = medians[cell] * factor * drift[cell][r] * exp(0.03 * normal(g));
            add_noisy(root, "standard", id, r, 20, m, g);
        }
    }
}

/* Paired comparisons (15 pairs, drift sigma 0.15) by outcome, of trials. */
static void sim_outcomes(double factor, int trials, uint64_t seed, int count[3])
{
    fg_compare_opts o;
    fg_compare_opts_defaults(&o);
    o.paired = 1;
    rng g = {seed};
    count[0] = count[1] = count[2] = 0;
    for (int t = 0; t < trials; t++) {
        double drift[SIM_CELLS][SIM_PAIRS];
        for (int c = 0; c < SIM_CELLS; c++)
            for (int r = 0; r < SIM_PAIRS; r++) drift[c][r] = exp(0.15 * normal(&g));
        cJSON *base = results_root(), *new_ = results_root();
        sim_side(base, 1.0, drift, &g);
        sim_side(new_, factor, drift, &g);
        fg_compare_report rep;
        compare_ok(base, new_, &o, &rep);
        assert_int_equal(rep.tests, 3 * SIM_CELLS);
        count[rep.outcome]++;
        fg_compare_report_free(&rep);
        cJSON_Delete(base);
        cJSON_Delete(new_);
    }
}

static void test_simulated_error_rates_and_power(void **state)
{
    (void)state;
    int aa[3], slow50[3], slow25[3], at_margin[3];
    sim_outcomes(1.0, 200, 1, aa);
    sim_outcomes(1.5, 50, 2, slow50);
    sim_outcomes(1.25, 100, 3, slow25);
    sim_outcomes(1.1, 100, 4, at_margin);
    printf("simulation (9 cells, 15 pairs, shared drift sigma 0.15), PASS/FAIL/INCONCLUSIVE: "
           "A/A %d/%d/%d of 200, +50 %% %d/%d/%d of 50, +25 %% %d/%d/%d of 100, "
           "+10 %% %d/%d/%d of 100\n", aa[0], aa[1], aa[2], slow50[0], slow50[1], slow50[2],
           slow25[0], slow25[1], slow25[2], at_margin[0], at_margin[1], at_margin[2]);
    /* alpha bounds the false reds: 1 % of 200 is 2; allow some chance. */
    assert_true(aa[FG_OUTCOME_FAIL] <= 5);
    /* With the drift paired away, an unchanged matrix mostly passes. */
    assert_true(aa[FG_OUTCOME_PASS] >= 100);
    /* A slowdown beyond every margin is found, and never passed: beta
     * bounds a pass at +margin per metric, much less past it. */
    assert_true(slow50[FG_OUTCOME_FAIL] >= 48);
    assert_int_equal(slow50[FG_OUTCOME_PASS], 0);
    assert_true(slow25[FG_OUTCOME_FAIL] >= 90);
    assert_int_equal(slow25[FG_OUTCOME_PASS], 0);
    /* Exactly at the centre's and throughput's margins: a pass needs all
     * nine centres shown inside it, each at most beta (5 %) likely. */
    assert_true(at_margin[FG_OUTCOME_PASS] <= 5);
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
    assert_has(out, "no regression     exp_input0.1mb_conc2_ours: centre x1.000");
    assert_has(out, "alpha 0.01 over 6 tests, beta 0.05; margins centre 10 %, throughput 10 %, "
                    "tail watched, success -5 points\n");
    assert_has(out, "2 cells: 0 regression, 2 no regression, 0 inconclusive");
    assert_has(out, ": PASS\n");
    free(out);

    snprintf(args, sizeof args, "compare '%s' '%s'", base_p, slow_p);
    assert_int_equal(run_cli(args, out_p), 1);
    out = slurp(out_p);
    assert_has(out, "regression        exp_input0.1mb_conc2_ours: centre x2.000");
    assert_has(out, "1 regression");
    assert_has(out, ": FAIL\n");
    free(out);
    /* --paired reads the same files as pairs: still red. */
    snprintf(args, sizeof args, "compare '%s' '%s' --paired", base_p, slow_p);
    assert_int_equal(run_cli(args, out_p), 1);

    /* A huge margin does not rescue it: a margin is where "no regression"
     * can be shown, not a tolerance on the estimate. */
    char tol_p[256];
    snprintf(tol_p, sizeof tol_p, "%s/tol.json", dir);
    const char *tol = "{\"p50_ms\": 3.0, \"p95_ms\": 3.0}";
    assert_int_equal(fg_write_file_atomic(tol_p, tol, strlen(tol), NULL), 0);
    snprintf(args, sizeof args, "compare '%s' '%s' --alpha 0.05 --tolerances '%s'", base_p, slow_p,
             tol_p);
    assert_int_equal(run_cli(args, out_p), 1);
    out = slurp(out_p);
    assert_has(out, "margins centre 300 %, throughput 10 %, tail 300 %");
    free(out);
    /* Keys of the old rule are errors. */
    tol = "{\"equivalence\": 0.1}";
    assert_int_equal(fg_write_file_atomic(tol_p, tol, strlen(tol), NULL), 0);
    assert_int_equal(run_cli(args, out_p), 2);
    out = slurp(out_p);
    assert_has(out, "unknown key 'equivalence'");
    free(out);

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

    /* Too few repeats: inconclusive (exit 3) unless passed as asked. */
    cJSON *few = results_root();
    add_flat_cell(few, id, base5, tp5, 2);
    add_flat_cell(few, "exp_other", base5, tp5, 2);
    char few_p[256];
    snprintf(few_p, sizeof few_p, "%s/few.json", dir);
    save(few_p, few);
    cJSON_Delete(few);
    snprintf(args, sizeof args, "compare '%s' '%s'", base_p, few_p);
    assert_int_equal(run_cli(args, out_p), 3);
    out = slurp(out_p);
    assert_has(out, "inconclusive      exp_input0.1mb_conc2_ours: centre x1.020, tail");
    assert_has(out, "insufficient data: centre in 5 BASE / 2 NEW repeats");
    assert_has(out, "2 cells: 0 regression, 0 no regression, 2 inconclusive");
    assert_has(out, ": INCONCLUSIVE\n");
    free(out);
    snprintf(args, sizeof args, "compare '%s' '%s' --inconclusive=pass", base_p, few_p);
    assert_int_equal(run_cli(args, out_p), 0);
    out = slurp(out_p);
    assert_has(out, "INCONCLUSIVE (passed as asked: --inconclusive=pass)\n");
    free(out);
    /* A failure is not passed with it. */
    snprintf(args, sizeof args, "compare '%s' '%s' --inconclusive=pass", base_p, miss_p);
    assert_int_equal(run_cli(args, out_p), 1);
    snprintf(args, sizeof args, "compare '%s' '%s' --allow-insufficient", base_p, few_p);
    assert_int_equal(run_cli(args, out_p), 2);

    /* --paired on profiled pairs prints the culprit of a regression. */
    cJSON *pb = results_root(), *pn = results_root();
    rng g = {31};
    for (int r = 0; r < 5; r++) {
        profile a = make_profile(0, 0, &g), b = make_profile(30, 0, &g);
        add_profiled(pb, id, r, &a);
        add_profiled(pn, id, r, &b);
    }
    char pb_p[256], pn_p[256];
    snprintf(pb_p, sizeof pb_p, "%s/prof-base.json", dir);
    snprintf(pn_p, sizeof pn_p, "%s/prof-new.json", dir);
    save(pb_p, pb);
    save(pn_p, pn);
    cJSON_Delete(pb);
    cJSON_Delete(pn);
    snprintf(args, sizeof args, "compare '%s' '%s' --paired", pb_p, pn_p);
    assert_int_equal(run_cli(args, out_p), 1);
    out = slurp(out_p);
    assert_has(out, "paired repeats");
    assert_has(out, "\n  culprit of exp_input0.1mb_conc2_ours (+");
    assert_has(out, "\n    recognizer__extract exec x1.7");
    assert_has(out, "\n    critical path exec x1.4");
    free(out);
    snprintf(args, sizeof args, "compare '%s' '%s'", pb_p, pn_p);
    assert_int_equal(run_cli(args, out_p), 1);
    out = slurp(out_p);
    assert_null(strstr(out, "culprit"));             /* unpaired: none */
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
    snprintf(args, sizeof args, "compare '%s' '%s' --beta 0.5", base_p, same_p);
    assert_int_equal(run_cli(args, out_p), 2);
    snprintf(args, sizeof args, "compare '%s' '%s' --beta 0.2", base_p, same_p);
    assert_int_equal(run_cli(args, out_p), 0);

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
        cmocka_unit_test(test_identical_is_no_regression),
        cmocka_unit_test(test_welch_on_repeats),
        cmocka_unit_test(test_bonferroni_across_cells),
        cmocka_unit_test(test_three_outcomes),
        cmocka_unit_test(test_margin_decides_noisy_cell),
        cmocka_unit_test(test_look_levels),
        cmocka_unit_test(test_paired_sees_through_drift),
        cmocka_unit_test(test_insufficient_is_inconclusive),
        cmocka_unit_test(test_missing_extra_failed_interrupted),
        cmocka_unit_test(test_recount),
        cmocka_unit_test(test_unlike_cells),
        cmocka_unit_test(test_success_drop_is_regression),
        cmocka_unit_test(test_throughput),
        cmocka_unit_test(test_same_id_two_categories),
        cmocka_unit_test(test_bad_samples_named),
        cmocka_unit_test(test_culprit),
        cmocka_unit_test(test_opts_file),
        cmocka_unit_test(test_simulated_error_rates_and_power),
        cmocka_unit_test(test_cli_compare_and_baseline),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
