/* test_timeline.c — server timestamps on the timeline: unix seconds (the
 * reference containers), ms (flowgate's nodes) and us all land at the same
 * positive offset from the experiment's start; the root says which unit
 * was seen ("mixed" when servers differ); a number that is no unix time in
 * any unit is left out, never placed at a made-up time. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "driver/metrics.h"

#define T0_MONO 5000.0              /* monotonic ms at the experiment's start */
#define T0_UNIX 1767225600000.0     /* 2026-01-01T00:00:00Z in unix ms */

/* A reply whose exec ran from +start_ms to +end_ms after T0_UNIX, in the
 * unit whose size in ms is unit_ms. */
static cJSON *reply(double start_ms, double end_ms, double unit_ms)
{
    cJSON *r = cJSON_CreateObject();
    cJSON *ts = cJSON_AddObjectToObject(r, "server_timestamps");
    cJSON_AddNumberToObject(ts, "exec_start", (T0_UNIX + start_ms) / unit_ms);
    cJSON_AddNumberToObject(ts, "exec_end", (T0_UNIX + end_ms) / unit_ms);
    return r;
}

static const cJSON *span_of(const fg_timeline *t, int request, int span)
{
    const cJSON *r = cJSON_GetArrayItem(t->requests, request);
    return cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(r, "spans"), span);
}

static double num(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

static const char *unit(const fg_timeline *t)
{
    return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(t->root, "server_time_unit"));
}

/* One span sent at +10 ms, received at +30 ms, with the given reply. */
static const cJSON *add(fg_timeline *t, cJSON *req, cJSON *response)
{
    fg_timeline_span(t, req, "recognizer__upload", "functions", T0_MONO + 9, T0_MONO + 10,
                     T0_MONO + 30, response, "ok");
    cJSON_Delete(response);
    const cJSON *spans = cJSON_GetObjectItemCaseSensitive(req, "spans");
    return cJSON_GetArrayItem(spans, cJSON_GetArraySize(spans) - 1);
}

static void test_seconds_give_positive_spans(void **state)
{
    (void)state;
    fg_timeline t;
    assert_int_equal(fg_timeline_init(&t, "exp", 0, 4, T0_MONO, T0_UNIX), 0);
    cJSON *req = fg_timeline_request(&t, 0, "measured", T0_MONO);
    /* time.time() of the reference: seconds with a fraction. */
    const cJSON *s = add(&t, req, reply(12.5, 27.25, 1000.0));
    assert_true(fabs(num(s, "exec_start") - 12.5) < 0.01);
    assert_true(fabs(num(s, "exec_end") - 27.25) < 0.01);
    assert_true(num(s, "exec_end") > num(s, "exec_start"));
    assert_string_equal(unit(&t), "s");
    assert_ptr_equal(span_of(&t, 0, 0), s);
    fg_timeline_free(&t);
}

static void test_ms_and_us_and_mixed(void **state)
{
    (void)state;
    fg_timeline t;
    assert_int_equal(fg_timeline_init(&t, "exp", 0, 4, T0_MONO, T0_UNIX), 0);
    cJSON *req = fg_timeline_request(&t, 0, "measured", T0_MONO);
    const cJSON *ms = add(&t, req, reply(12.5, 27.25, 1.0));
    assert_true(fabs(num(ms, "exec_start") - 12.5) < 0.001);
    assert_string_equal(unit(&t), "ms");
    const cJSON *us = add(&t, req, reply(11, 20, 0.001));
    assert_true(fabs(num(us, "exec_start") - 11) < 0.001);
    assert_true(fabs(num(us, "exec_end") - 20) < 0.001);
    /* Two servers, two units: both converted, the root says so. */
    assert_string_equal(unit(&t), "mixed");
    fg_timeline_free(&t);
}

static void test_not_a_unix_time_is_left_out(void **state)
{
    (void)state;
    fg_timeline t;
    assert_int_equal(fg_timeline_init(&t, "exp", 0, 4, T0_MONO, T0_UNIX), 0);
    cJSON *req = fg_timeline_request(&t, 0, "measured", T0_MONO);
    cJSON *r = cJSON_CreateObject();
    cJSON *ts = cJSON_AddObjectToObject(r, "server_timestamps");
    cJSON_AddNumberToObject(ts, "exec_start", 12.5);     /* a duration, not a time */
    cJSON_AddNumberToObject(ts, "exec_end", -3);
    const cJSON *s = add(&t, req, r);
    assert_null(cJSON_GetObjectItemCaseSensitive(s, "exec_start"));
    assert_null(cJSON_GetObjectItemCaseSensitive(s, "exec_end"));
    assert_true(fabs(num(s, "sent") - 10) < 0.001);       /* the client's view stays */
    assert_true(fabs(num(s, "received") - 30) < 0.001);
    assert_null(unit(&t));
    fg_timeline_free(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_seconds_give_positive_spans),
        cmocka_unit_test(test_ms_and_us_and_mixed),
        cmocka_unit_test(test_not_a_unix_time_is_left_out),
    };
    return cmocka_run_group_tests_name("timeline", tests, NULL, NULL);
}
