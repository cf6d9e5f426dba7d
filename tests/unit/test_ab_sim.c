/* test_ab_sim.c — the A/B gate's error rates, shown by simulation of the
 * shipped procedure: fg_ab_run (src/run/ab.c) with its looks, spending and
 * compare.c's rule, fed synthetic results entries instead of servers.
 *
 * The model of one cell's repeat, per side s and pair i:
 *   drift D_i ~ N(0, 0.10)  shared by both sides of the pair (the machine's
 *                           state: it must cancel);
 *   noise e_si ~ N(0, sigma_cell) per side and repeat (what is left after
 *                           pairing: 1-4 % here, as measured on the smoke
 *                           and standard cells of the reference machine);
 *   samples: median * effect * exp(D_i + e_si + 0.15 Z), Z ~ N(0, 1)
 *            (log-normal), and 1 in 50 an outlier 1.5-3x as long;
 *   throughput: concurrency / mean latency, the closed loop's law.
 * Every run is a whole matrix (3 cells, as the CI gate's subset; or 1, as
 * smoke). Targets (ab.h, compare.h): false red (A/A) <= 1 % per run; a
 * change of exactly +margin on the centre passed as "no regression" <= 5 %.
 * Max 30 pairs (the default). The figures are printed with 95 % Wilson
 * intervals. Deterministic: fixed
 * seeds, a simulated clock. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "flowgate/ab.h"
#include "flowgate/common.h"
#include "../sim_rng.h"
#include "flowgate/spending.h"

/* ---- deterministic noise ------------------------------------------------- */

/* ---- the synthetic systems ---------------------------------------------- */

#define SIM_MAX_CELLS 3
#define SIM_SAMPLES 20

typedef struct sim_cell {
    double median_ms, sigma;      /* per-repeat noise left after pairing */
    int concurrency;
    double effect[2];             /* latency factor of A and B */
} sim_cell;

typedef struct sim {
    rng g;
    const sim_cell *cells;
    int n_cells;
    cJSON *root[2];
    double drift[1024];           /* per pair, drawn when the pair starts */
    int drift_pairs;
    double clock_ms;
    double tail_every;            /* 0: no tail change */
} sim;

static cJSON *empty_results(void)
{
    cJSON *root = cJSON_CreateObject();
    cJSON_AddArrayToObject(root, "experiments");
    return root;
}

static int sim_run_cell(void *ctx, int side, int cell, int pair, const cJSON **entry, fg_err *err)
{
    (void)err;
    sim *s = ctx;
    const sim_cell *c = &s->cells[cell];
    while (s->drift_pairs <= pair && s->drift_pairs < 1024)
        s->drift[s->drift_pairs++] = 0.10 * normal(&s->g);
    double centre = log(c->median_ms * c->effect[side]) + s->drift[pair] + c->sigma * normal(&s->g);
    double lat[SIM_SAMPLES], sum = 0;
    for (int k = 0; k < SIM_SAMPLES; k++) {
        lat[k] = exp(centre + 0.15 * normal(&s->g));
        if (uniform(&s->g) < 1.0 / 50) lat[k] *= 1.5 + 1.5 * uniform(&s->g);
        sum += lat[k];
    }
    cJSON *e = cJSON_CreateObject();
    char id[64];
    snprintf(id, sizeof id, "exp_sim_cell%d", cell);
    cJSON_AddStringToObject(e, "experiment_id", id);
    cJSON_AddStringToObject(e, "category", "sim");
    cJSON_AddNumberToObject(e, "repeat", pair);
    cJSON_AddItemToObject(e, "latency_samples_ms", cJSON_CreateDoubleArray(lat, SIM_SAMPLES));
    cJSON_AddNumberToObject(e, "throughput_rps", c->concurrency * 1000.0 / (sum / SIM_SAMPLES));
    cJSON *req = cJSON_AddObjectToObject(e, "requests");
    cJSON_AddNumberToObject(req, "sent", SIM_SAMPLES);
    cJSON_AddNumberToObject(req, "ok", SIM_SAMPLES);
    cJSON_AddItemToArray(cJSON_GetObjectItemCaseSensitive(s->root[side], "experiments"), e);
    s->clock_ms += sum / c->concurrency;   /* the cell's wall time */
    *entry = e;
    return 0;
}

static const cJSON *sim_results(void *ctx, int side)
{
    return ((sim *)ctx)->root[side];
}

static int sim_stop_requested(void *ctx)
{
    (void)ctx;
    return 0;
}

static double sim_now_ms(void *ctx)
{
    return ((sim *)ctx)->clock_ms;
}

/* One whole A/B run of the shipped procedure on fresh synthetic systems. */
static fg_outcome sim_run(const fg_ab_plan *plan, const sim_cell *cells, int n_cells,
                          uint64_t seed, int *pairs)
{
    sim s;
    memset(&s, 0, sizeof s);
    s.g.s = seed;
    s.cells = cells;
    s.n_cells = n_cells;
    s.root[0] = empty_results();
    s.root[1] = empty_results();
    fg_ab_systems sys = {sim_run_cell, sim_results, sim_stop_requested, sim_now_ms, NULL, NULL, &s};
    fg_ab_plan p = *plan;
    p.n_cells = n_cells;
    fg_ab_result r;
    fg_err err;
    if (fg_ab_run(&p, &sys, &r, &err) != 0) fail_msg("fg_ab_run: %s", err.msg);
    fg_outcome o = r.outcome;
    if (getenv("SIM_DEBUG") && o == FG_OUTCOME_FAIL)
        for (int i = 0; i < r.rep.n; i++)
            if (r.rep.cells[i].verdict == FG_VERDICT_REGRESSION) printf("  red: %s\n", r.rep.cells[i].reason);
    if (pairs) *pairs = r.pairs;
    fg_ab_result_free(&r);
    cJSON_Delete(s.root[0]);
    cJSON_Delete(s.root[1]);
    return o;
}

/* ---- the figures --------------------------------------------------------- */

typedef struct tally {
    int runs, fail, pass, inconclusive;
    long pairs;
} tally;

static void wilson(int k, int n, double *lo, double *hi)
{
    double z = 1.959964, p = (double)k / n, d = 1 + z * z / n;
    double c = (p + z * z / (2.0 * n)) / d, h = z * sqrt(p * (1 - p) / n + z * z / (4.0 * n * n)) / d;
    *lo = c - h < 0 ? 0 : c - h;
    *hi = c + h > 1 ? 1 : c + h;
}

static tally simulate(const char *name, const fg_ab_plan *plan, const sim_cell *cells,
                      int n_cells, int runs, uint64_t seed)
{
    tally t = {0};
    for (int i = 0; i < runs; i++) {
        int pairs = 0;
        fg_outcome o = sim_run(plan, cells, n_cells, fg_mix64(seed + (uint64_t)i), &pairs);
        t.runs++;
        t.pairs += pairs;
        if (o == FG_OUTCOME_FAIL) t.fail++;
        else if (o == FG_OUTCOME_PASS) t.pass++;
        else t.inconclusive++;
    }
    double flo, fhi, plo, phi;
    wilson(t.fail, t.runs, &flo, &fhi);
    wilson(t.pass, t.runs, &plo, &phi);
    printf("ab sim %-34s %6d runs: regression %6.2f %% [%.2f, %.2f], no regression %6.2f %% "
           "[%.2f, %.2f], inconclusive %6.2f %%; mean pairs %.1f\n", name, t.runs,
           100.0 * t.fail / t.runs, 100 * flo, 100 * fhi, 100.0 * t.pass / t.runs, 100 * plo,
           100 * phi, 100.0 * t.inconclusive / t.runs, (double)t.pairs / t.runs);
    fflush(stdout);
    return t;
}

/* The standard subset of the CI gate: 0.1 MB c1, 1 MB c5, 2 MB c10. */
static void subset(sim_cell *cells, double effect_b)
{
    const sim_cell base[3] = {{60, 0.02, 1, {1, 1}}, {900, 0.03, 5, {1, 1}},
                              {3000, 0.04, 10, {1, 1}}};
    for (int i = 0; i < 3; i++) {
        cells[i] = base[i];
        cells[i].effect[1] = effect_b;
    }
}

/* The defaults with no time budget: the simulated clock never stops a run. */
static fg_ab_plan unbounded_plan(void)
{
    fg_ab_plan plan;
    fg_ab_plan_defaults(&plan);
    plan.budget_s = 1e9;
    return plan;
}

static int sim_runs(void)
{
    const char *v = getenv("FLOWGATE_SIM_RUNS");
    return v && atoi(v) > 0 ? atoi(v) : 10000;
}

/* ---- tests --------------------------------------------------------------- */

/* The looks' levels add up to the total whatever the stop: the union bound
 * behind both error rates. */
static void test_spending_adds_up(void **state)
{
    (void)state;
    const double levels[] = {0.01 / 9, 0.05};
    for (int l = 0; l < 2; l++) {
        double L = levels[l], sum = 0, prev = 0;
        const int looks[] = {3, 5, 8, 12};
        for (int k = 0; k < 4; k++) {
            double t = looks[k] / 12.0;
            double a = fg_look_level(L, prev, t, looks[k] == 12);
            assert_true(a >= 0);
            sum += a;
            prev = t;
        }
        assert_true(fabs(sum - L) < 1e-12 * L + 1e-18);
        /* Stopped by the budget after pair 5: the final look spends the rest. */
        sum = fg_look_level(L, 0, 0.25, 0) + fg_look_level(L, 0.25, 5 / 12.0, 0);
        sum += fg_look_level(L, 5 / 12.0, 5 / 12.0, 1);
        assert_true(fabs(sum - L) < 1e-12 * L + 1e-18);
        /* O'Brien–Fleming: the first look spends a sliver. */
        assert_true(fg_obf_spent(L, 0.25) < L / 100);
    }
    assert_true(fabs(fg_norm_quantile(0.975) - 1.959964) < 1e-6);
    assert_true(fabs(fg_norm_cdf(1.959964) - 0.975) < 1e-6);
}

static void test_schedule(void **state)
{
    (void)state;
    int want[31] = {0};
    want[3] = want[5] = want[8] = want[12] = want[18] = want[27] = want[30] = 1;
    for (int p = 1; p <= 30; p++) assert_int_equal(fg_ab_is_look(p, 3, 30), want[p]);
    assert_int_equal(fg_ab_is_look(31, 3, 30), 0);
    assert_int_equal(fg_ab_is_look(10, 3, 10), 1);
    assert_int_equal(fg_ab_is_look(2, 2, 2), 1);
}

/* A/A over the 3-cell subset: false red <= 1 %. */
static void test_aa_false_red(void **state)
{
    (void)state;
    fg_ab_plan plan = unbounded_plan();
    sim_cell cells[3];
    subset(cells, 1.0);
    tally t = simulate("A/A, 3 cells", &plan, cells, 3, sim_runs(), 0xa11ce);
    double lo, hi;
    wilson(t.fail, t.runs, &lo, &hi);
    /* The target, with room for the simulation's own error: the point
     * estimate at most 1 % (the bound is conservative, so it sits far
     * below), and most runs show no regression. */
    assert_true((double)t.fail / t.runs <= 0.01);
    assert_true(t.pass > t.runs / 2);
}

/* A change of exactly +margin on the centre (latency x1.10 on every cell):
 * passed as "no regression" in at most 5 % of runs. */
static void test_margin_change_rarely_passes(void **state)
{
    (void)state;
    fg_ab_plan plan = unbounded_plan();
    sim_cell cells[3];
    subset(cells, 1.0 + plan.opts.p50_margin);
    tally t = simulate("+margin (x1.10), 3 cells", &plan, cells, 3, sim_runs(), 0xb0b);
    assert_true((double)t.pass / t.runs <= 0.05);
}

/* The same with the change on one cell only: still at most beta. */
static void test_margin_change_on_one_cell(void **state)
{
    (void)state;
    fg_ab_plan plan = unbounded_plan();
    sim_cell cells[3];
    subset(cells, 1.0);
    cells[1].effect[1] = 1.0 + plan.opts.p50_margin;
    tally t = simulate("+margin on 1 of 3 cells", &plan, cells, 3, sim_runs() / 4, 0xc0ffee);
    assert_true((double)t.pass / t.runs <= 0.05);
}

/* Power: a +25 % change is caught nearly always, +50 % always; smoke (one
 * cell) with its own noise too. */
static void test_power(void **state)
{
    (void)state;
    fg_ab_plan plan = unbounded_plan();
    sim_cell cells[3];
    subset(cells, 1.25);
    tally t = simulate("+25 %, 3 cells", &plan, cells, 3, sim_runs() / 10, 0xd00d);
    assert_true((double)t.fail / t.runs >= 0.95);
    subset(cells, 1.10);
    simulate("+10 %, 3 cells", &plan, cells, 3, sim_runs() / 10, 0xd11d);
    sim_cell smoke = {40, 0.03, 2, {1, 1.10}};
    t = simulate("+10 %, smoke", &plan, &smoke, 1, sim_runs() / 10, 0xe0e);
    assert_true((double)t.fail / t.runs >= 0.90);
    smoke.effect[1] = 1.0;
    t = simulate("A/A, smoke", &plan, &smoke, 1, sim_runs(), 0xf00);
    assert_true((double)t.fail / t.runs <= 0.01);
}

/* Too much noise for the margin in the pairs allowed: mostly inconclusive,
 * rarely a red (a "no regression" is right here: nothing changed). */
static void test_noise_is_inconclusive(void **state)
{
    (void)state;
    fg_ab_plan plan = unbounded_plan();
    sim_cell noisy = {40, 0.30, 2, {1, 1}};
    tally t = simulate("A/A, 30 % noise, smoke", &plan, &noisy, 1, sim_runs() / 2, 0x5eed);
    assert_true(t.inconclusive > t.runs / 2);
    assert_true((double)t.fail / t.runs <= 0.01);
}

/* The verdict's three forms agree with the result: a regressed cell is a
 * FAIL line, a "regression" in the JSON and a <failure> in JUnit; an
 * undecided one INCONCLUSIVE, "inconclusive" and <skipped>. */
static void test_verdict_forms(void **state)
{
    (void)state;
    fg_ab_plan plan = unbounded_plan();
    plan.max_pairs = 5;
    sim_cell cells[2] = {{60, 0.01, 1, {1, 2.0}}, {60, 0.60, 1, {1, 1}}};
    sim s;
    memset(&s, 0, sizeof s);
    s.g.s = 42;
    s.cells = cells;
    s.n_cells = 2;
    s.root[0] = empty_results();
    s.root[1] = empty_results();
    fg_ab_systems sys = {sim_run_cell, sim_results, sim_stop_requested, sim_now_ms, NULL, NULL, &s};
    plan.n_cells = 2;
    fg_ab_result r;
    fg_err err;
    assert_int_equal(fg_ab_run(&plan, &sys, &r, &err), 0);
    assert_int_equal(r.outcome, FG_OUTCOME_FAIL);
    assert_int_equal(r.rep.cells[0].verdict, FG_VERDICT_REGRESSION);
    assert_int_equal(r.rep.cells[1].verdict, FG_VERDICT_INCONCLUSIVE);
    char *text = fg_ab_format(&plan, &r), *junit = fg_ab_junit("ab", &r);
    cJSON *json = fg_ab_to_json(&plan, &r);
    assert_non_null(strstr(text, "ab: FAIL: 2 cells (1 regression, 1 inconclusive)"));
    assert_non_null(strstr(junit, "tests=\"2\" failures=\"1\" skipped=\"1\""));
    assert_non_null(strstr(junit, "<failure type=\"regression\""));
    assert_non_null(strstr(junit, "<skipped message=\"inconclusive: "));
    assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(json, "outcome")), "FAIL");
    const cJSON *c1 = cJSON_GetArrayItem(cJSON_GetObjectItem(json, "cells"), 1);
    assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(c1, "verdict")), "inconclusive");
    free(text);
    free(junit);
    cJSON_Delete(json);
    fg_ab_result_free(&r);
    cJSON_Delete(s.root[0]);
    cJSON_Delete(s.root[1]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_spending_adds_up),
        cmocka_unit_test(test_schedule),
        cmocka_unit_test(test_verdict_forms),
        cmocka_unit_test(test_aa_false_red),
        cmocka_unit_test(test_margin_change_rarely_passes),
        cmocka_unit_test(test_margin_change_on_one_cell),
        cmocka_unit_test(test_power),
        cmocka_unit_test(test_noise_is_inconclusive),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
