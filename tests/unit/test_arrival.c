/* test_arrival.c — the open loop's arrival schedules (arrival.c): the
 * generator against splitmix64's published vector (seed 1234567), the
 * exact Poisson due times of a seed (reference computed independently in
 * Python from the same definition), the mean and spread of exponential
 * gaps, constant-rate and staged timing with each stage's cap, and the
 * "stages" JSON with every bad case refused in one line. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "flowgate/arrival.h"

#define assert_close(a, b, tol) do { \
    double a_ = (a), b_ = (b); \
    if (!(fabs(a_ - b_) <= (tol))) fail_msg("%s = %.17g, expected %.17g", #a, a_, b_); \
} while (0)

static void test_generator_vector(void **state)
{
    (void)state;
    /* splitmix64.c (Vigna), seed 1234567: its first three outputs. */
    static const uint64_t vec[] = {6457827717110365317ULL, 3203168211198807973ULL,
                                   9817491932198370423ULL};
    fg_stage st = {10, 1, 0};
    fg_arrival a;
    fg_err err;
    assert_int_equal(fg_arrival_init(&a, FG_ARRIVAL_POISSON, 1234567, &st, 1, 0, &err), 0);
    for (int i = 0; i < 3; i++)
        assert_true(fg_arrival_uniform(&a) == (double)(vec[i] >> 11) * 0x1.0p-53);
}

static void test_poisson_exact_sequence(void **state)
{
    (void)state;
    static const double expect[] = {0, 135.31105982440144, 152.73573159316572,
                                    185.39203931979239, 227.58056519130707};
    fg_stage st = {5, 10, 0};
    fg_arrival a;
    fg_err err;
    assert_int_equal(fg_arrival_init(&a, FG_ARRIVAL_POISSON, 42, &st, 1, 0, &err), 0);
    for (int i = 0; i < 5; i++) {
        assert_close(fg_arrival_peek(&a, NULL), expect[i], 1e-9);
        fg_arrival_take(&a);
    }
    /* Restart replays the same sequence; another seed does not. */
    fg_arrival_restart(&a, 1000);
    fg_arrival_take(&a);
    assert_close(fg_arrival_peek(&a, NULL), 1000 + expect[1], 1e-9);
    assert_int_equal(fg_arrival_init(&a, FG_ARRIVAL_POISSON, 43, &st, 1, 0, &err), 0);
    fg_arrival_take(&a);
    assert_true(fabs(fg_arrival_peek(&a, NULL) - expect[1]) > 1e-6);
}

static void test_poisson_mean(void **state)
{
    (void)state;
    const int n = 20000;
    const double rate = 20;   /* mean gap 50 ms, sd 50 ms */
    fg_stage st = {n, rate, 0};
    fg_arrival a;
    fg_err err;
    assert_int_equal(fg_arrival_init(&a, FG_ARRIVAL_POISSON, FG_ARRIVAL_DEFAULT_SEED, &st, 1, 0,
                                     &err), 0);
    double prev = fg_arrival_peek(&a, NULL), sum = 0, sum2 = 0;
    for (int i = 0; i < n; i++) {
        fg_arrival_take(&a);
        double t = fg_arrival_peek(&a, NULL), gap = t - prev;
        assert_true(gap >= 0);
        sum += gap;
        sum2 += gap * gap;
        prev = t;
    }
    double mean = sum / n, sd = sqrt(sum2 / n - mean * mean);
    /* The mean's standard error is 50/sqrt(20000) = 0.35 ms: 2 ms is > 5 SE. */
    assert_close(mean, 1000.0 / rate, 2.0);
    assert_close(sd, 1000.0 / rate, 3.0);   /* exponential: sd = mean */
}

static void test_constant_and_stages(void **state)
{
    (void)state;
    /* 3 slots at 2/s (cap 1), then 4 at 10/s (cap 5), then 2 at 1/s. */
    fg_stage st[] = {{3, 2, 1}, {4, 10, 5}, {2, 1, 0}};
    static const double due[] = {0, 500, 1000, 1500, 1600, 1700, 1800, 1900, 2900};
    static const int cap[] = {1, 1, 1, 5, 5, 5, 5, 0, 0};
    fg_arrival a;
    fg_err err;
    assert_int_equal(fg_arrival_init(&a, FG_ARRIVAL_CONSTANT, 0, st, 3, 100, &err), 0);
    assert_int_equal((int)fg_arrival_total(&a), 9);
    for (int i = 0; i < 9; i++) {
        int c;
        assert_close(fg_arrival_peek(&a, &c), 100 + due[i], 1e-9);
        assert_int_equal(c, cap[i]);
        fg_arrival_take(&a);
    }
    /* Past the end it goes on at the last stage's rate. */
    assert_close(fg_arrival_peek(&a, NULL), 100 + 3900, 1e-9);

    /* One stage of 1/3 s gaps: slot i at exactly i * 1000/3 (no drift). */
    fg_stage one = {3000, 3, 0};
    assert_int_equal(fg_arrival_init(&a, FG_ARRIVAL_CONSTANT, 0, &one, 1, 0, &err), 0);
    for (int i = 0; i < 2999; i++) fg_arrival_take(&a);
    assert_true(fg_arrival_peek(&a, NULL) == 2999 * 1000.0 / 3);
}

static void test_bad_schedules(void **state)
{
    (void)state;
    fg_arrival a;
    fg_err err;
    fg_stage zero = {0, 1, 0};
    assert_int_equal(fg_arrival_init(&a, FG_ARRIVAL_CONSTANT, 0, &zero, 1, 0, &err), -1);
    assert_non_null(strstr(err.msg, "stage 1"));
    assert_int_equal(fg_arrival_init(&a, FG_ARRIVAL_CONSTANT, 0, &zero, 0, 0, &err), -1);
    fg_arrival_kind k;
    assert_int_equal(fg_arrival_kind_parse("poisson", &k), 0);
    assert_int_equal(k, FG_ARRIVAL_POISSON);
    assert_int_equal(fg_arrival_kind_parse("gamma", &k), -1);
}

static void test_stages_json(void **state)
{
    (void)state;
    fg_stage s[FG_MAX_STAGES];
    fg_err err;
    cJSON *ok = cJSON_Parse("[{\"requests\":45,\"rate_rps\":2,\"concurrency\":5},"
                            "{\"duration_s\":0.75,\"rate_rps\":20,\"concurrency\":20}]");
    assert_int_equal(fg_stages_parse(ok, "x", s, FG_MAX_STAGES, &err), 2);
    assert_int_equal(s[0].requests, 45);
    assert_int_equal(s[1].requests, 15);   /* ceil(20 x 0.75) */
    assert_int_equal(s[1].concurrency, 20);
    cJSON *back = fg_stages_json(s, 2);
    assert_int_equal(cJSON_GetArraySize(back), 2);
    cJSON_Delete(back);
    cJSON_Delete(ok);
    static const struct { const char *json, *needle; } bad[] = {
        {"[]", "array of 1.."},
        {"{}", "array of 1.."},
        {"[{\"rate_rps\":1}]", "exactly one of"},
        {"[{\"rate_rps\":1,\"requests\":2,\"duration_s\":1}]", "exactly one of"},
        {"[{\"requests\":2}]", "rate_rps"},
        {"[{\"requests\":2,\"rate_rps\":-1}]", "rate_rps"},
        {"[{\"requests\":2.5,\"rate_rps\":1}]", "requests"},
        {"[{\"duration_s\":0,\"rate_rps\":1}]", "duration_s"},
        {"[{\"requests\":2,\"rate_rps\":1,\"concurrency\":0}]", "concurrency"},
        {"[{\"requests\":2,\"rate_rps\":1,\"rampup\":1}]", "unknown key \"rampup\""},
        {"[3]", "rate_rps"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        cJSON *j = cJSON_Parse(bad[i].json);
        assert_non_null(j);
        err.msg[0] = 0;
        if (fg_stages_parse(j, "scenario", s, FG_MAX_STAGES, &err) != -1)
            fail_msg("%s was accepted", bad[i].json);
        if (!strstr(err.msg, bad[i].needle) || strchr(err.msg, '\n'))
            fail_msg("%s: \"%s\" does not say %s", bad[i].json, err.msg, bad[i].needle);
        cJSON_Delete(j);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_generator_vector),
        cmocka_unit_test(test_poisson_exact_sequence),
        cmocka_unit_test(test_poisson_mean),
        cmocka_unit_test(test_constant_and_stages),
        cmocka_unit_test(test_bad_schedules),
        cmocka_unit_test(test_stages_json),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
