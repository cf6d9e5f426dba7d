/* test_hist.c — the latency histogram against the exact answer: 100 000
 * samples per distribution from a fixed-seed PRNG, percentiles compared
 * with the nearest-rank percentiles of the sorted samples (relative error
 * at most 1 %), min/max/mean exact, merge equal to recording both; and the
 * sample count each percentile needs before results report it; the JSON
 * form (fg_hist_to_json / fg_hist_from_json) round-trips exactly — counts,
 * min, max, sum and every percentile identical — and refuses another
 * scheme or inconsistent bins in one line. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "flowgate/hist.h"
#include "flowgate/reservoir.h"

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

/* Through the text, as a results file carries it. */
static fg_hist *round_trip(const fg_hist *h, fg_err *err)
{
    cJSON *o = fg_hist_to_json(h);
    char *text = cJSON_PrintUnformatted(o);
    cJSON *back = cJSON_Parse(text);
    fg_hist *r = fg_hist_from_json(back, "t", err);
    cJSON_Delete(o);
    cJSON_Delete(back);
    free(text);
    return r;
}

static void test_json_round_trip(void **state)
{
    (void)state;
    fg_hist *h = fg_hist_new();
    fg_err err;
    fg_hist *r = round_trip(h, &err);   /* empty */
    assert_non_null(r);
    assert_int_equal(fg_hist_count(r), 0);
    fg_hist_free(r);
    rng_state = 11;
    for (int i = 0; i < N; i++) fg_hist_record(h, i % 2 ? d_lognormal() : d_bimodal());
    fg_hist_record(h, 1e12);
    fg_hist_record(h, NAN);
    r = round_trip(h, &err);
    assert_non_null(r);
    assert_int_equal(fg_hist_count(r), fg_hist_count(h));
    assert_int_equal(fg_hist_out_of_range(r), fg_hist_out_of_range(h));
    assert_true(fg_hist_min(r) == fg_hist_min(h));
    assert_true(fg_hist_max(r) == fg_hist_max(h));
    assert_true(fg_hist_mean(r) == fg_hist_mean(h));
    for (double p = 0; p <= 100; p += 0.25)
        assert_true(fg_hist_percentile(r, p) == fg_hist_percentile(h, p));
    /* Sparse: far fewer pairs than buckets. */
    cJSON *o = fg_hist_to_json(h);
    assert_true(cJSON_GetArraySize(cJSON_GetObjectItem(o, "bins")) < 2000);
    cJSON_Delete(o);
    fg_hist_free(r);
    fg_hist_free(h);
}

static void test_json_refused(void **state)
{
    (void)state;
    fg_hist *h = fg_hist_new();
    fg_hist_record(h, 1.5);
    fg_hist_record(h, 2.5);
    fg_err err;
    static const struct { const char *key, *json, *says; } bad[] = {
        {"scheme", "\"log-linear/ns/sub64/exp44/v1\"", "scheme"},
        {"count", "3", "add up"},
        {"bins", "[[5000000, 2]]", "bin 0"},
        {"bins", "[[900, 1], [800, 1]]", "ascending"},
        {"bins", "[[900, 0], [901, 2]]", "count >= 1"},
        {"min", "\"x\"", "min"},
    };
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        cJSON *o = fg_hist_to_json(h);
        cJSON_ReplaceItemInObject(o, bad[k].key, cJSON_Parse(bad[k].json));
        fg_hist *r = fg_hist_from_json(o, "cell: latency_hist", &err);
        if (r) fail_msg("case %zu accepted", k);
        assert_non_null(strstr(err.msg, "cell: latency_hist"));
        if (!strstr(err.msg, bad[k].says)) fail_msg("case %zu: %s", k, err.msg);
        cJSON_Delete(o);
    }
    cJSON *o = fg_hist_to_json(h);
    cJSON_DeleteItemFromObject(o, "scheme");
    assert_null(fg_hist_from_json(o, "x", &err));
    assert_null(fg_hist_from_json(NULL, "x", &err));
    cJSON_Delete(o);
    fg_hist_free(h);
}

/* The raw samples: at most cap kept, each value with the same chance. */
static void test_reservoir(void **state)
{
    (void)state;
    enum { CAP = 1000, STREAM = 200000 };
    fg_reservoir r;
    fg_reservoir_init(&r, CAP, 42);
    for (int i = 0; i < 500; i++) fg_reservoir_add(&r, i);
    assert_int_equal(r.n, 500);            /* below the cap: everything */
    for (int i = 500; i < STREAM; i++) fg_reservoir_add(&r, i);
    assert_int_equal(r.n, CAP);
    assert_int_equal(r.total, STREAM);
    assert_true(r.alloc <= CAP);           /* memory bounded by the cap */
    /* Uniform over the stream: the kept indices' mean is n/2 within 4
     * standard errors (sd of U(0,n) / sqrt(cap)), and each tenth of the
     * stream holds a tenth of the sample (100 ± 40). */
    double sum = 0;
    int tenth[10] = {0};
    for (size_t i = 0; i < r.n; i++) {
        sum += r.v[i];
        tenth[(int)(r.v[i] * 10 / STREAM)]++;
    }
    double se = STREAM / sqrt(12.0) / sqrt((double)CAP);
    assert_true(fabs(sum / CAP - STREAM / 2.0) < 4 * se);
    for (int k = 0; k < 10; k++) assert_true(tenth[k] > 60 && tenth[k] < 140);
    /* Deterministic: the same seed keeps the same values. */
    fg_reservoir r2;
    fg_reservoir_init(&r2, CAP, 42);
    for (int i = 0; i < STREAM; i++) fg_reservoir_add(&r2, i);
    assert_memory_equal(r.v, r2.v, CAP * sizeof *r.v);

    /* Merged: two streams of 3:1, each sampled; the union's sample takes
     * them 3:1 (750 ± 60 from the first) and holds the summed total. */
    fg_reservoir a, b, m;
    fg_reservoir_init(&a, CAP, 1);
    fg_reservoir_init(&b, CAP, 2);
    for (int i = 0; i < 30000; i++) fg_reservoir_add(&a, 1.0);
    for (int i = 0; i < 10000; i++) fg_reservoir_add(&b, 2.0);
    fg_reservoir_init(&m, CAP, 3);
    const double *vals[] = {a.v, b.v};
    size_t lens[] = {a.n, b.n};
    uint64_t totals[] = {a.total, b.total};
    fg_err err;
    assert_int_equal(fg_reservoir_merge(&m, vals, lens, totals, 2, &err), 0);
    assert_int_equal(m.n, CAP);
    assert_int_equal(m.total, 40000);
    int from_a = 0;
    for (size_t i = 0; i < m.n; i++) from_a += m.v[i] == 1.0;
    assert_true(from_a > 690 && from_a < 810);
    /* A sample smaller than its stream allows is refused. */
    fg_reservoir bad;
    fg_reservoir_init(&bad, CAP, 4);
    lens[1] = 10;
    assert_int_equal(fg_reservoir_merge(&bad, vals, lens, totals, 2, &err), -1);
    fg_reservoir_free(&bad);
    fg_reservoir_free(&m);
    fg_reservoir_free(&a);
    fg_reservoir_free(&b);
    fg_reservoir_free(&r);
    fg_reservoir_free(&r2);
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
        cmocka_unit_test(test_json_round_trip),
        cmocka_unit_test(test_json_refused),
        cmocka_unit_test(test_reservoir),
        cmocka_unit_test(test_empty_and_reset),
        cmocka_unit_test(test_out_of_range),
        cmocka_unit_test(test_percentile_resolvable),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
