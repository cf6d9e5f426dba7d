/* test_pace.c — the open loop's schedule accuracy (src/driver/pace.c):
 * lateness statistics, target and achieved rates, and when the driver is
 * said to keep up or to be behind, with the reason in words. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <string.h>

#include "driver/pace.h"

static double num(const cJSON *o, const char *a, const char *b)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, a);
    if (b) v = cJSON_GetObjectItemCaseSensitive(v, b);
    if (!cJSON_IsNumber(v)) fail_msg("%s%s%s: not a number", a, b ? "." : "", b ? b : "");
    return v->valuedouble;
}

/* n slots every gap_ms from t0; slot i goes out late_ms(i) after its time. */
static void feed(fg_pace *p, int n, double gap_ms, double (*late_ms)(int))
{
    for (int i = 0; i < n; i++) {
        double due = 1000.0 + i * gap_ms;
        fg_pace_due(p, due);
        fg_pace_sent(p, due, due + late_ms(i));
    }
}

static double on_time(int i) { (void)i; return 0.05; }
static double every_tenth_late(int i) { return i % 10 == 0 ? 4.0 : 0.05; }
/* Falls further behind each slot: the sends come at 95 % of the rate. */
static double slipping(int i) { return i * 0.1 * (1 / 0.95 - 1); }

static void test_nothing_due(void **state)
{
    (void)state;
    fg_pace p;
    assert_int_equal(fg_pace_init(&p), 0);
    assert_null(fg_pace_json(&p, 0, 1.0));
    fg_pace_free(&p);
}

static void test_on_schedule(void **state)
{
    (void)state;
    fg_pace p;
    fg_pace_init(&p);
    feed(&p, 10000, 0.1, on_time);   /* 10 000/s for 1 s */
    cJSON *s = fg_pace_json(&p, 0, 0.2);
    assert_int_equal(num(s, "slots_due", NULL), 10000);
    assert_int_equal(num(s, "slots_sent", NULL), 10000);
    assert_true(fabs(num(s, "target_rps", NULL) - 10000) < 1);
    assert_true(fabs(num(s, "achieved_rps", NULL) - 10000) < 1);
    assert_true(fabs(num(s, "lateness_ms", "p99") - 0.05) < 0.001);
    assert_true(cJSON_IsTrue(cJSON_GetObjectItem(s, "keeps_up")));
    assert_null(cJSON_GetObjectItem(s, "behind"));
    assert_non_null(cJSON_GetObjectItem(s, "lateness_hist"));
    cJSON_Delete(s);
    fg_pace_free(&p);
}

static void test_late_sends_are_behind(void **state)
{
    (void)state;
    fg_pace p;
    fg_pace_init(&p);
    feed(&p, 1000, 1.0, every_tenth_late);   /* 10 % of the slots 4 ms late */
    /* Beside 0.2 ms answers a 4 ms p99 is the whole figure: behind. */
    cJSON *s = fg_pace_json(&p, 0, 0.2);
    assert_false(cJSON_IsTrue(cJSON_GetObjectItem(s, "keeps_up")));
    const char *why = cJSON_GetObjectItem(s, "behind")->valuestring;
    if (!strstr(why, "lateness p99 4.0")) fail_msg("behind: %s", why);
    cJSON_Delete(s);
    /* Beside 500 ms answers it is under 10 %: the driver kept up. */
    s = fg_pace_json(&p, 0, 500.0);
    assert_true(cJSON_IsTrue(cJSON_GetObjectItem(s, "keeps_up")));
    cJSON_Delete(s);
    /* Slots held at the cap by design (queue): nothing is judged. */
    s = fg_pace_json(&p, 1, 0.2);
    assert_null(cJSON_GetObjectItem(s, "keeps_up"));
    assert_null(cJSON_GetObjectItem(s, "behind"));
    cJSON_Delete(s);
    fg_pace_free(&p);
}

static void test_slow_rate_is_behind(void **state)
{
    (void)state;
    fg_pace p;
    fg_pace_init(&p);
    feed(&p, 2000, 0.1, slipping);
    /* Even beside long answers: the rate itself was not sent. */
    cJSON *s = fg_pace_json(&p, 0, 1e6);
    assert_true(fabs(num(s, "achieved_rps", NULL) - 9500) < 5);
    assert_false(cJSON_IsTrue(cJSON_GetObjectItem(s, "keeps_up")));
    const char *why = cJSON_GetObjectItem(s, "behind")->valuestring;
    if (!strstr(why, "sent 9500/s of 10000/s")) fail_msg("behind: %s", why);
    cJSON_Delete(s);
    fg_pace_free(&p);
}

static void test_dropped_slots_are_not_the_drivers(void **state)
{
    (void)state;
    fg_pace p;
    fg_pace_init(&p);
    /* 100/s due; every other slot dropped at the in-flight cap. */
    for (int i = 0; i < 400; i++) {
        double due = i * 10.0;
        fg_pace_due(&p, due);
        if (i % 2 == 0) fg_pace_sent(&p, due, due + 0.1);
    }
    cJSON *s = fg_pace_json(&p, 0, 1.0);
    assert_true(fabs(num(s, "target_rps", NULL) - 100) < 0.01);
    assert_true(fabs(num(s, "achieved_rps", NULL) - 50) < 0.2);
    assert_true(cJSON_IsTrue(cJSON_GetObjectItem(s, "keeps_up")));
    cJSON_Delete(s);
    fg_pace_free(&p);
}

static void test_few_slots_use_the_maximum(void **state)
{
    (void)state;
    fg_pace p;
    fg_pace_init(&p);
    feed(&p, 20, 10.0, every_tenth_late);   /* p99 needs 100: max stands in */
    cJSON *s = fg_pace_json(&p, 0, 0.2);
    assert_null(cJSON_GetObjectItem(cJSON_GetObjectItem(s, "lateness_ms"), "p99"));
    const char *why = cJSON_GetObjectItem(s, "behind")->valuestring;
    if (!strstr(why, "lateness max 4.0")) fail_msg("behind: %s", why);
    cJSON_Delete(s);
    /* One slot: no span, so no rate is written (never a rate from nothing). */
    fg_pace_free(&p);
    fg_pace_init(&p);
    feed(&p, 1, 10.0, on_time);
    s = fg_pace_json(&p, 0, 0.2);
    assert_null(cJSON_GetObjectItem(s, "target_rps"));
    assert_null(cJSON_GetObjectItem(s, "achieved_rps"));
    cJSON_Delete(s);
    fg_pace_free(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_nothing_due),
        cmocka_unit_test(test_on_schedule),
        cmocka_unit_test(test_late_sends_are_behind),
        cmocka_unit_test(test_slow_rate_is_behind),
        cmocka_unit_test(test_dropped_slots_are_not_the_drivers),
        cmocka_unit_test(test_few_slots_use_the_maximum),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
