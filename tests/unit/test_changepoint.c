/* test_changepoint.c — change points of a performance history
 * (src/history/changepoint.c): exact answers on clean series and bad
 * input, then the method's power and false alarms by simulation of
 * histories, one value per run:
 *   level 1 (flat), a step, or a creep of +1 % a commit;
 *   noise: Gaussian 2 % (the targets are asserted on it), log-normal 2 %,
 *          and Gaussian 2 % with 1 % of runs an outlier x1.5 (printed, with
 *          a looser sanity bound).
 * FLOWGATE_SIM_SERIES sets the number of series a case (default 2000; the
 * Release tree's `changepoint_sim`, label gate, runs more). Deterministic:
 * fixed seeds through fg_mix64. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "flowgate/changepoint.h"
#include "flowgate/common.h"
#include "../sim_rng.h"

/* ---- deterministic histories --------------------------------------------- */

typedef enum noise_model { NOISE_GAUSSIAN, NOISE_LOGNORMAL, NOISE_OUTLIERS } noise_model;

static const char *const noise_names[] = {"2% noise", "2% log-normal noise",
                                          "2% noise + 1% outliers x1.5"};

#define NOISE 0.02
#define MAX_RUNS 256

/* Run i's value around level[i]. */
static void draw(rng *r, noise_model model, const double *level, size_t n, double *x)
{
    for (size_t i = 0; i < n; i++) {
        if (model == NOISE_LOGNORMAL) {
            x[i] = level[i] * exp(NOISE * normal(r));
            continue;
        }
        x[i] = level[i] * (1 + NOISE * normal(r));
        if (model == NOISE_OUTLIERS && uniform(r) < 0.01) x[i] *= 1.5;
    }
}

/* flat runs at 1, then `after` runs at 1 + step. */
static size_t step_levels(double *level, size_t flat, size_t after, double step)
{
    for (size_t i = 0; i < flat + after; i++) level[i] = i < flat ? 1 : 1 + step;
    return flat + after;
}

/* flat runs at 1, then `commits` runs each 1 % above the one before. */
static size_t creep_levels(double *level, size_t flat, size_t commits)
{
    for (size_t i = 0; i < flat + commits; i++) level[i] = i < flat ? 1 : 1 + 0.01 * (double)(i - flat + 1);
    return flat + commits;
}

static int sim_series(void)
{
    const char *v = getenv("FLOWGATE_SIM_SERIES");
    return v && atoi(v) > 0 ? atoi(v) : 2000;
}

static size_t find_or_fail(const double *x, size_t n, fg_change_point **cps)
{
    size_t k;
    fg_err err;
    if (fg_changepoints(x, n, NULL, cps, &k, &err) != 0) fail_msg("fg_changepoints: %s", err.msg);
    return k;
}

static fg_cp_verdict check_or_fail(const double *x, size_t n, int higher_is_worse)
{
    fg_cp_verdict v;
    fg_err err;
    if (fg_changepoints_check(x, n, higher_is_worse, 0.05, 0, NULL, &v, &err) != 0)
        fail_msg("fg_changepoints_check: %s", err.msg);
    return v;
}

/* ---- exact cases ----------------------------------------------------------- */

static void test_clean_steps_exact(void **state)
{
    (void)state;
    double x[30];
    for (int i = 0; i < 30; i++) x[i] = i < 10 ? 100 : i < 22 ? 120 : 90;
    fg_change_point *cps;
    size_t k = find_or_fail(x, 30, &cps);
    assert_int_equal(k, 2);
    assert_int_equal(cps[0].index, 10);
    assert_int_equal(cps[1].index, 22);
    assert_true(cps[0].mean_before == 100 && cps[0].mean_after == 120);
    assert_true(fabs(cps[0].change - 0.2) < 1e-12 && fabs(cps[1].change + 0.25) < 1e-12);
    assert_true(cps[0].p == 0 && fabs(cps[0].ci_lo - 0.2) < 1e-12 && fabs(cps[0].ci_hi - 0.2) < 1e-12);
    free(cps);

    /* With a little noise the interval has width and holds the change. */
    rng r = {7};
    for (int i = 0; i < 30; i++) x[i] = (i < 15 ? 100 : 110) * (1 + 0.01 * normal(&r));
    k = find_or_fail(x, 30, &cps);
    assert_int_equal(k, 1);
    assert_int_equal(cps[0].index, 15);
    assert_true(cps[0].ci_lo < cps[0].change && cps[0].change < cps[0].ci_hi);
    assert_true(cps[0].ci_lo < 0.10 && 0.10 < cps[0].ci_hi && cps[0].p < 1e-6);
    free(cps);
}

static void test_rejects_nonfinite(void **state)
{
    (void)state;
    double x[20];
    for (int i = 0; i < 20; i++) x[i] = 1;
    x[13] = NAN;
    fg_change_point *cps;
    size_t k;
    fg_err err;
    assert_int_equal(fg_changepoints(x, 20, NULL, &cps, &k, &err), -1);
    assert_non_null(strstr(err.msg, "value 13 "));
    x[13] = -INFINITY;
    fg_cp_verdict v;
    assert_int_equal(fg_changepoints_check(x, 20, 1, 0.05, 0, NULL, &v, &err), -1);
    assert_non_null(strstr(err.msg, "value 13 is -inf"));
}

static void test_tiny_and_constant(void **state)
{
    (void)state;
    fg_change_point *cps;
    assert_int_equal(find_or_fail(NULL, 0, &cps), 0);
    assert_null(cps);
    const double few[5] = {1, 1, 1, 9, 9};   /* below 2 x min_segment */
    assert_int_equal(find_or_fail(few, 5, &cps), 0);
    fg_cp_verdict v = check_or_fail(few, 5, 1);
    assert_int_equal(v.worse, 0);
    v = check_or_fail(NULL, 0, 1);
    assert_int_equal(v.worse, 0);

    /* No spread: no division by zero, no change point; a step between
     * two constant levels is certain. */
    double x[100];
    for (int i = 0; i < 100; i++) x[i] = 5;
    assert_int_equal(find_or_fail(x, 100, &cps), 0);
    for (int i = 0; i < 100; i++) x[i] = 0;
    assert_int_equal(find_or_fail(x, 100, &cps), 0);
    for (int i = 95; i < 100; i++) x[i] = 1;
    for (int i = 0; i < 95; i++) x[i] = 2;
    assert_int_equal(find_or_fail(x, 100, &cps), 1);
    assert_int_equal(cps[0].index, 95);
    assert_true(cps[0].p == 0 && fabs(cps[0].change + 0.5) < 1e-12);
    free(cps);

    /* A smaller min_segment is honoured, a 2-run level then counts. */
    fg_cp_opts o = {0, 2, 0};
    size_t k;
    fg_err err;
    const double tail[8] = {1, 1, 1, 1, 1, 1, 3, 3};
    assert_int_equal(fg_changepoints(tail, 8, &o, &cps, &k, &err), 0);
    assert_int_equal(k, 1);
    assert_int_equal(cps[0].index, 6);
    free(cps);
}

/* The verdict's direction: latency up is red, down is not; throughput the
 * other way round. */
static void test_check_directions(void **state)
{
    (void)state;
    double level[MAX_RUNS], x[MAX_RUNS];
    rng r = {0x5ca1ab1e};
    size_t n = step_levels(level, 40, 5, 0.20);
    draw(&r, NOISE_GAUSSIAN, level, n, x);
    fg_cp_verdict v = check_or_fail(x, n, 1);
    assert_int_equal(v.worse, 1);
    assert_int_equal(v.level_from, 40);
    assert_int_equal(v.reference_from, 0);
    assert_int_equal(v.reference_to, 40);
    assert_true(v.ci_lo < v.change && v.change < v.ci_hi && fabs(v.change - 0.2) < 0.05);
    assert_int_equal(check_or_fail(x, n, 0).worse, 0);

    n = step_levels(level, 40, 5, -0.20);
    draw(&r, NOISE_GAUSSIAN, level, n, x);
    v = check_or_fail(x, n, 1);
    assert_int_equal(v.worse, 0);
    assert_true(v.change < -0.15);              /* found, but better */
    assert_int_equal(check_or_fail(x, n, 0).worse, 1);

    /* A step older than the window is not the newest runs' doing. */
    n = step_levels(level, 30, 20, 0.20);
    draw(&r, NOISE_GAUSSIAN, level, n, x);
    v = check_or_fail(x, n, 1);
    assert_int_equal(v.worse, 0);
    assert_int_equal(v.level_from, 30);
    assert_int_equal(v.reference_from, v.reference_to);
}

/* ---- simulations ----------------------------------------------------------- */

/* Where the step is most likely to be when both levels and the noise are
 * known (the largest log-likelihood ratio of "level 1 + step from tau on"):
 * no method places it better, so its hit rate is the ceiling of ours. */
static size_t oracle_position(const double *x, size_t n, double step)
{
    double llr = 0, best_llr = -INFINITY;
    size_t best = n;
    for (size_t tau = n - 3; tau >= 3; tau--) {   /* the same 3-run levels */
        double below = x[tau] - 1, above = x[tau] - (1 + step);
        llr += below * below - above * above;
        if (llr > best_llr) {
            best_llr = llr;
            best = tau;
        }
        if (tau == 3) break;
    }
    return best;
}

/* A step of `step` after 40 flat runs, `after` runs at the new level: the
 * share of series with a change point within `tolerance` runs of the step,
 * its location and the oracle's. 5 runs of +5 % through 2 % noise locate
 * the step to +-1 in ~95 % of series at best (the oracle): the asserted
 * "found" is a change point within 3 runs of the step. (The oracle's
 * likelihood is Gaussian: under outliers it is no ceiling.) */
static double sim_step(noise_model model, double step, size_t after, uint64_t seed)
{
    enum { STEP_AT = 40, TOLERANCE = 3 };
    double level[MAX_RUNS], x[MAX_RUNS];
    size_t n = step_levels(level, STEP_AT, after, step), runs = sim_series();
    size_t within[TOLERANCE + 1] = {0}, oracle_within_1 = 0;
    rng r = {seed};
    for (size_t s = 0; s < runs; s++) {
        draw(&r, model, level, n, x);
        fg_change_point *cps;
        size_t k = find_or_fail(x, n, &cps), off = SIZE_MAX;
        for (size_t i = 0; i < k; i++) {
            size_t d = cps[i].index > STEP_AT ? cps[i].index - STEP_AT : STEP_AT - cps[i].index;
            if (d < off) off = d;
        }
        for (size_t t = 0; t <= TOLERANCE; t++) within[t] += off <= t;
        size_t o = oracle_position(x, n, step);
        oracle_within_1 += o + 1 >= STEP_AT && o <= STEP_AT + 1;
        free(cps);
    }
    double share = (double)within[TOLERANCE] / (double)runs;
    printf("changepoint: %+.0f%% step, %s, %2zu runs after: found within %d runs of the step in "
           "%5.1f%% of %zu series; within 2 %5.1f%%, 1 %5.1f%% (oracle %5.1f%%), exactly %5.1f%%\n",
           100 * step, noise_names[model], after, TOLERANCE, 100 * share, runs,
           100.0 * (double)within[2] / (double)runs, 100.0 * (double)within[1] / (double)runs,
           100.0 * (double)oracle_within_1 / (double)runs, 100.0 * (double)within[0] / (double)runs);
    return share;
}

/* Flat 200-run series: false change points per series, and the check's
 * false reds. */
static void sim_flat(noise_model model, uint64_t seed, double *false_per_series, double *red_share)
{
    double level[MAX_RUNS], x[MAX_RUNS];
    size_t n = step_levels(level, 200, 0, 0), found = 0, red = 0, runs = sim_series();
    rng r = {seed};
    for (size_t s = 0; s < runs; s++) {
        draw(&r, model, level, n, x);
        fg_change_point *cps;
        found += find_or_fail(x, n, &cps);
        free(cps);
        red += check_or_fail(x, n, 1).worse;
    }
    *false_per_series = (double)found / (double)runs;
    *red_share = (double)red / (double)runs;
    printf("changepoint: flat 200 runs, %s: %.3f false change points per series, check red in "
           "%.2f%% of %zu series\n", noise_names[model], *false_per_series, 100 * *red_share, runs);
}

/* +1 % a commit for 10 commits after 40 flat runs: a change point inside
 * the creep, and the check red at a 5 % margin. */
static void sim_creep(noise_model model, uint64_t seed, double *found_share, double *red_share)
{
    double level[MAX_RUNS], x[MAX_RUNS];
    size_t n = creep_levels(level, 40, 10), found = 0, red = 0, runs = sim_series();
    double change = 0;
    rng r = {seed};
    for (size_t s = 0; s < runs; s++) {
        draw(&r, model, level, n, x);
        fg_change_point *cps;
        size_t k = find_or_fail(x, n, &cps), in_creep = 0;
        for (size_t i = 0; i < k; i++) in_creep += cps[i].index >= 40;
        found += in_creep > 0;
        free(cps);
        fg_cp_verdict v = check_or_fail(x, n, 1);
        red += v.worse;
        change += v.change;
    }
    *found_share = (double)found / (double)runs;
    *red_share = (double)red / (double)runs;
    printf("changepoint: creep +1%%/commit x10, %s: change point in the creep in %5.1f%%, check "
           "red (margin 5%%) in %5.1f%% of %zu series, mean change %+.1f%%\n", noise_names[model],
           100 * *found_share, 100 * *red_share, runs, 100 * change / (double)runs);
}

static void test_sim_step(void **state)
{
    (void)state;
    assert_true(sim_step(NOISE_GAUSSIAN, 0.05, 5, 0x51e9) >= 0.95);
    assert_true(sim_step(NOISE_GAUSSIAN, 0.05, 20, 0x51ea) >= 0.95);
    assert_true(sim_step(NOISE_LOGNORMAL, 0.05, 5, 0x51eb) >= 0.90);
    assert_true(sim_step(NOISE_OUTLIERS, 0.05, 5, 0x51ec) >= 0.80);
    assert_true(sim_step(NOISE_OUTLIERS, 0.05, 20, 0x51ed) >= 0.80);
}

static void test_sim_flat(void **state)
{
    (void)state;
    double false_cps, red;
    sim_flat(NOISE_GAUSSIAN, 0xf1a7, &false_cps, &red);
    assert_true(false_cps <= 0.5);
    assert_true(red <= 0.01);
    sim_flat(NOISE_LOGNORMAL, 0xf1a8, &false_cps, &red);
    assert_true(false_cps <= 1 && red <= 0.01);
    sim_flat(NOISE_OUTLIERS, 0xf1a9, &false_cps, &red);
    assert_true(false_cps <= 1 && red <= 0.02);
}

static void test_sim_creep(void **state)
{
    (void)state;
    double found, red;
    sim_creep(NOISE_GAUSSIAN, 0xc7ee9, &found, &red);
    assert_true(found >= 0.95 && red >= 0.95);
    sim_creep(NOISE_LOGNORMAL, 0xc7eea, &found, &red);
    assert_true(found >= 0.90 && red >= 0.90);
    sim_creep(NOISE_OUTLIERS, 0xc7eeb, &found, &red);
    assert_true(found >= 0.80 && red >= 0.80);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_clean_steps_exact),
        cmocka_unit_test(test_rejects_nonfinite),
        cmocka_unit_test(test_tiny_and_constant),
        cmocka_unit_test(test_check_directions),
        cmocka_unit_test(test_sim_step),
        cmocka_unit_test(test_sim_flat),
        cmocka_unit_test(test_sim_creep),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
