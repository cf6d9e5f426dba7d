/* test_arrival.c — the open loop's arrival schedules (arrival.c): the
 * generator against splitmix64's published vector (seed 1234567), the
 * exact Poisson due times of a seed (reference computed independently in
 * Python from the same definition), the mean and spread of exponential
 * gaps, constant-rate and staged timing with each stage's cap, and the
 * "stages" JSON with every bad case refused in one line; segments: for
 * constant, Poisson and staged schedules and N = 1, 2, 4, the union of the
 * N segments' due times is the single schedule slot for slot (exact
 * doubles), the counts partition it, and bad "i/N" specs are refused. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
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

/* Due times of every slot of the schedule (segment index/count), in order. */
static double *segment_times(fg_arrival_kind kind, const fg_stage *st, int n_st, int index,
                             int count, uint64_t *n)
{
    fg_arrival a;
    fg_err err;
    assert_int_equal(fg_arrival_init(&a, kind, 99, st, n_st, 5.0, &err), 0);
    assert_int_equal(fg_arrival_set_segment(&a, index, count, &err), 0);
    *n = fg_arrival_total(&a);
    double *t = malloc((*n ? *n : 1) * sizeof *t);
    for (uint64_t i = 0; i < *n; i++) {
        t[i] = fg_arrival_peek(&a, NULL);
        fg_arrival_take(&a);
    }
    return t;
}

static int cmp_double(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;
    return (a > b) - (a < b);
}

static void test_segments_partition_the_schedule(void **state)
{
    (void)state;
    const fg_stage one[] = {{1001, 200, 0}};
    const fg_stage staged[] = {{7, 10, 2}, {13, 50, 0}, {5, 5, 3}};
    const struct { const fg_stage *st; int n; } shapes[] = {{one, 1}, {staged, 3}};
    const fg_arrival_kind kinds[] = {FG_ARRIVAL_CONSTANT, FG_ARRIVAL_POISSON};
    for (size_t sh = 0; sh < 2; sh++)
        for (size_t k = 0; k < 2; k++) {
            uint64_t total;
            double *whole = segment_times(kinds[k], shapes[sh].st, shapes[sh].n, 0, 1, &total);
            for (int count = 1; count <= 4; count *= 2) {
                double *all = malloc(total * sizeof *all);
                uint64_t got = 0;
                for (int i = 0; i < count; i++) {
                    uint64_t n;
                    double *t = segment_times(kinds[k], shapes[sh].st, shapes[sh].n, i, count, &n);
                    /* Slot j of segment i is global slot i + j N, exactly. */
                    for (uint64_t j = 0; j < n; j++) {
                        assert_true(t[j] == whole[(uint64_t)i + j * (uint64_t)count]);
                        all[got++] = t[j];
                    }
                    free(t);
                }
                assert_int_equal(got, total);   /* the counts partition it */
                qsort(all, total, sizeof *all, cmp_double);
                for (uint64_t g = 0; g < total; g++) assert_true(all[g] == whole[g]);
                free(all);
            }
            free(whole);
        }
}

static void test_segment_counts_and_caps(void **state)
{
    (void)state;
    const fg_stage st[] = {{3, 10, 2}, {2, 10, 7}};
    fg_arrival a;
    fg_err err;
    assert_int_equal(fg_arrival_init(&a, FG_ARRIVAL_CONSTANT, 1, st, 2, 0, &err), 0);
    static const uint64_t expect4[] = {2, 1, 1, 1};   /* 5 slots over 4 segments */
    for (int i = 0; i < 4; i++) {
        assert_int_equal(fg_arrival_set_segment(&a, i, 4, &err), 0);
        assert_int_equal(fg_arrival_total(&a), expect4[i]);
    }
    /* More segments than slots: some get none. */
    assert_int_equal(fg_arrival_set_segment(&a, 6, 8, &err), 0);
    assert_int_equal(fg_arrival_total(&a), 0);
    /* Segment 1/2 has slots 1 and 3 (stage 1, cap 2), then 5... (stage 2). */
    assert_int_equal(fg_arrival_set_segment(&a, 1, 2, &err), 0);
    int cap;
    assert_true(fg_arrival_peek(&a, &cap) == 100.0 && cap == 2);
    fg_arrival_take(&a);
    assert_true(fg_arrival_peek(&a, &cap) == 300.0 && cap == 7);
    assert_int_equal(fg_arrival_set_segment(&a, 2, 2, &err), -1);
    assert_int_equal(fg_arrival_set_segment(&a, 0, 0, &err), -1);
}

static void test_segment_specs(void **state)
{
    (void)state;
    int i = -1, n = -1;
    fg_err err;
    assert_int_equal(fg_segment_parse("0/2", &i, &n, &err), 0);
    assert_true(i == 0 && n == 2);
    assert_int_equal(fg_segment_parse("1/2", &i, &n, &err), 0);
    assert_true(i == 1 && n == 2);
    static const char *const bad[] = {"2/2", "x", "1/0", "1/", "/2", "-1/2", "1/2x", "1 /2",
                                      "0/2000", "", "3"};
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        assert_int_equal(fg_segment_parse(bad[k], &i, &n, &err), -1);
        assert_non_null(strstr(err.msg, "--segment"));
        assert_null(strchr(err.msg, '\n'));
    }
    assert_int_equal(fg_segment_parse("2/2", &i, &n, &err), -1);
    assert_non_null(strstr(err.msg, "below 2"));
}

static void test_start_at_specs(void **state)
{
    (void)state;
    const double now = 1.8e9;
    double t = 0;
    fg_err err;
    assert_int_equal(fg_start_at_parse("1800000030", now, &t, &err), 0);
    assert_true(t == 1800000030.0);
    assert_int_equal(fg_start_at_parse("1800000030.25", now, &t, &err), 0);
    assert_true(t == 1800000030.25);
    /* Past: accepted here; the run says it and starts at once. */
    assert_int_equal(fg_start_at_parse("1700000000", now, &t, &err), 0);
    static const char *const bad[] = {"", "x", "17e8x", "0", "-5", "nan", "inf"};
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        assert_int_equal(fg_start_at_parse(bad[k], now, &t, &err), -1);
        assert_non_null(strstr(err.msg, "not a unix time"));
        assert_null(strchr(err.msg, '\n'));
    }
    /* Milliseconds by mistake: far more than a day ahead. */
    assert_int_equal(fg_start_at_parse("1800000030000", now, &t, &err), -1);
    assert_non_null(strstr(err.msg, "more than a day"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_start_at_specs),
        cmocka_unit_test(test_generator_vector),
        cmocka_unit_test(test_poisson_exact_sequence),
        cmocka_unit_test(test_poisson_mean),
        cmocka_unit_test(test_constant_and_stages),
        cmocka_unit_test(test_bad_schedules),
        cmocka_unit_test(test_stages_json),
        cmocka_unit_test(test_segments_partition_the_schedule),
        cmocka_unit_test(test_segment_counts_and_caps),
        cmocka_unit_test(test_segment_specs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
