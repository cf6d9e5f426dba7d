/* test_hist.c — the latency histogram against the exact answer: 100 000
 * samples per distribution from a fixed-seed PRNG, percentiles compared
 * with the nearest-rank percentiles of the sorted samples (relative error
 * at most 1 %), min/max/mean exact, merge equal to recording both; and the
 * sample count each percentile needs before results report it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "flowgate/hist.h"

#define N 100000

static uint64_t rng_state;

static double uniform01(void)    /* xorshift64*, (0, 1) */
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return ((double)((rng_state * 2685821657736338717ull) >> 11) + 0.5) / 9007199254740992.0;
}

static double normal(double mean, double sd)
{
    return mean + sd * sqrt(-2 * log(uniform01())) * cos(2 * M_PI * uniform01());
}

typedef double (*dist_fn)(void);
static double d_uniform(void) { return 1 + 999 * uniform01(); }
static double d_exponential(void) { return 0.01 - 50 * log(uniform01()); }
static double d_bimodal(void)
{
    return uniform01() < 0.8 ? fabs(normal(12, 2)) + 0.01 : normal(800, 100);
}
static double d_constant(void) { return 42.0; }
static double d_lognormal(void) { return exp(normal(3, 1.5)); }     /* heavy tail */
static double d_micro(void) { return 0.001 + 0.2 * uniform01(); }   /* 1 µs .. 0.2 ms */

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double exact_percentile(const double *sorted, size_t n, double p)
{
    size_t rank = (size_t)ceil(p * (double)n / 100.0);
    if (rank < 1) rank = 1;
    return sorted[rank - 1];
}

static void check_distribution(const char *name, dist_fn fn, uint64_t seed)
{
    rng_state = seed;
    double *xs = malloc(N * sizeof *xs);
    assert_non_null(xs);
    fg_hist *h = fg_hist_new();
    double sum = 0;
    for (size_t i = 0; i < N; i++) {
        xs[i] = fn();
        sum += xs[i];
        fg_hist_record(h, xs[i]);
    }
    qsort(xs, N, sizeof *xs, cmp_double);
    assert_int_equal(fg_hist_count(h), N);
    assert_int_equal(fg_hist_out_of_range(h), 0);
    assert_true(fg_hist_min(h) == xs[0]);
    assert_true(fg_hist_max(h) == xs[N - 1]);
    assert_true(fg_hist_mean(h) == sum / N);

    static const double ps[] = {0, 1, 10, 50, 90, 95, 99, 99.9, 99.99, 100};
    for (size_t i = 0; i < sizeof ps / sizeof ps[0]; i++) {
        double want = exact_percentile(xs, N, ps[i]);
        double got = fg_hist_percentile(h, ps[i]);
        double rel = fabs(got - want) / want;
        if (!(rel <= 0.01)) {
            print_error("%s p%g: exact %.6f, histogram %.6f, error %.3f %%\n",
                        name, ps[i], want, got, rel * 100);
            fail();
        }
    }
    /* The ends are exact. */
    assert_true(fg_hist_percentile(h, 0) == xs[0]);
    assert_true(fg_hist_percentile(h, 100) == xs[N - 1]);
    fg_hist_free(h);
    free(xs);
}

static void test_uniform(void **s) { (void)s; check_distribution("uniform", d_uniform, 1); }
static void test_exponential(void **s) { (void)s; check_distribution("exponential", d_exponential, 2); }
static void test_bimodal(void **s) { (void)s; check_distribution("bimodal", d_bimodal, 3); }
static void test_constant(void **s) { (void)s; check_distribution("constant", d_constant, 4); }
static void test_lognormal(void **s) { (void)s; check_distribution("lognormal", d_lognormal, 5); }
static void test_microseconds(void **s) { (void)s; check_distribution("micro", d_micro, 6); }

/* Every value read back alone is within 1 %, across the whole range. */
static void test_single_values_across_range(void **state)
{
    (void)state;
    fg_hist *h = fg_hist_new();
    double worst = 0;
    for (double v = 0.001; v < 3 * 3600e3; v *= 1.0137) {
        fg_hist_reset(h);
        fg_hist_record(h, v);
        fg_hist_record(h, v * 2);     /* keeps the answer from being clamped to min/max */
        fg_hist_record(h, v / 2);
        double rel = fabs(fg_hist_percentile(h, 50) - v) / v;
        if (rel > worst) worst = rel;
    }
    assert_true(worst <= 0.01);
    assert_true(worst > 0);          /* the bucketing is really in use */
    fg_hist_free(h);
}

static void test_merge(void **state)
{
    (void)state;
    fg_hist *all = fg_hist_new(), *a = fg_hist_new(), *b = fg_hist_new();
    rng_state = 7;
    for (int i = 0; i < N; i++) {
        double v = i % 3 ? d_exponential() : d_bimodal();
        fg_hist_record(all, v);
        fg_hist_record(i % 2 ? a : b, v);
    }
    fg_hist_record(b, 1e12);      /* out of range: clamps, counted */
    fg_hist_record(all, 1e12);
    fg_hist_merge(a, b);
    assert_int_equal(fg_hist_count(a), fg_hist_count(all));
    assert_int_equal(fg_hist_out_of_range(a), 1);
    assert_true(fg_hist_min(a) == fg_hist_min(all));
    assert_true(fg_hist_max(a) == fg_hist_max(all));
    assert_true(fabs(fg_hist_mean(a) - fg_hist_mean(all)) <= 1e-9 * fg_hist_mean(all));
    for (double p = 0; p <= 100; p += 0.5)
        assert_true(fg_hist_percentile(a, p) == fg_hist_percentile(all, p));
    /* Merging an empty histogram changes nothing. */
    fg_hist *empty = fg_hist_new();
    double p99 = fg_hist_percentile(a, 99);
    fg_hist_merge(a, empty);
    assert_true(fg_hist_percentile(a, 99) == p99);
    fg_hist_merge(empty, a);
    assert_true(fg_hist_min(empty) == fg_hist_min(a));
    fg_hist_free(empty);
    fg_hist_free(all);
    fg_hist_free(a);
    fg_hist_free(b);
}

static void test_empty_and_reset(void **state)
{
    (void)state;
    fg_hist *h = fg_hist_new();
    assert_int_equal(fg_hist_count(h), 0);
    assert_true(isnan(fg_hist_min(h)));
    assert_true(isnan(fg_hist_max(h)));
    assert_true(isnan(fg_hist_mean(h)));
    assert_true(isnan(fg_hist_percentile(h, 50)));
    fg_hist_record(h, 5);
    assert_true(fg_hist_percentile(h, 50) == 5);
    fg_hist_reset(h);
    assert_int_equal(fg_hist_count(h), 0);
    assert_true(isnan(fg_hist_percentile(h, 99)));
    fg_hist_free(h);
}

static void test_out_of_range(void **state)
{
    (void)state;
    fg_hist *h = fg_hist_new();
    fg_hist_record(h, 0.0000001);   /* below 1 µs */
    fg_hist_record(h, 2e7);         /* 5.5 hours */
    fg_hist_record(h, 10);
    fg_hist_record(h, NAN);         /* dropped, counted */
    assert_int_equal(fg_hist_count(h), 3);
    assert_int_equal(fg_hist_out_of_range(h), 3);
    assert_true(fg_hist_min(h) == 0.0000001);
    assert_true(fg_hist_max(h) == 2e7);
    assert_true(fabs(fg_hist_percentile(h, 50) - 10) <= 0.1);
    assert_true(isnan(fg_hist_percentile(h, NAN)));
    fg_hist_free(h);
}

/* The sample count a percentile needs: n >= 1/(1 - p/100), exactly at the
 * thresholds results use (and for a fraction such as 99.9). */
static void test_percentile_resolvable(void **state)
{
    (void)state;
    static const struct { double p; uint64_t need; } cases[] = {
        {50, 2}, {90, 10}, {95, 20}, {99, 100}, {99.9, 1000}, {0, 1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        assert_false(fg_percentile_resolvable(cases[i].need - 1, cases[i].p));
        assert_true(fg_percentile_resolvable(cases[i].need, cases[i].p));
        assert_true(fg_percentile_resolvable(cases[i].need * 3, cases[i].p));
    }
    /* p100 (the max) is not a percentile any count resolves; nor is nonsense. */
    assert_false(fg_percentile_resolvable(1000000, 100));
    assert_false(fg_percentile_resolvable(1000000, NAN));
    assert_false(fg_percentile_resolvable(1000000, -1));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_uniform),
        cmocka_unit_test(test_exponential),
        cmocka_unit_test(test_bimodal),
        cmocka_unit_test(test_constant),
        cmocka_unit_test(test_lognormal),
        cmocka_unit_test(test_microseconds),
        cmocka_unit_test(test_single_values_across_range),
        cmocka_unit_test(test_merge),
        cmocka_unit_test(test_empty_and_reset),
        cmocka_unit_test(test_out_of_range),
        cmocka_unit_test(test_percentile_resolvable),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
