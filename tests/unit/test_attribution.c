/* test_attribution.c — the critical-path split of a request's latency:
 * a chain splits each round trip into the server's exec / queue / transfer
 * reports and the wire rest, the gaps go to the driver, and the parts add
 * up to the latency; the wait for an in-flight slot is queue; of two
 * parallel functions only the slower is on the
 * path; a function that finished early off the path (a side branch) is
 * not counted; inflated server reports are fitted into their round trip;
 * per cell the dominant part is the largest time-weighted share, and no
 * request attributed means no bottleneck at all. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <string.h>

#include "driver/attribution.h"

/* A server's report; queue or transfer < 0: not reported. */
static void span(fg_attr_request *r, int fn, double queued, double sent, double received,
                 double exec, double queue, double transfer)
{
    fg_server_report rep = FG_SERVER_REPORT_NONE;
    rep.exec_ms = exec;
    if (queue >= 0) rep.queue_ms = queue;
    if (transfer >= 0) rep.transfer_ms = transfer;
    fg_attr_record(r, fn, queued, sent, received, &rep);
}

static double total(const double p[FG_ATTR_PARTS])
{
    double s = 0;
    for (int k = 0; k < FG_ATTR_PARTS; k++) s += p[k];
    return s;
}

static void test_chain_splits_round_trips(void **state)
{
    (void)state;
    fg_attr_request r;
    memset(&r, 0, sizeof r);
    /* Intended at 100; sent late at 105 (driver 5). fn0: round trip 50 =
     * exec 30 + queue 10 + 10 on the wire. fn1 queued 1 ms after fn0's
     * answer, round trip 100 = exec 20 + transfer 70 + 10 wire. */
    span(&r, 0, 105, 105, 155, 30, 10, 0);
    span(&r, 1, 156, 156, 256, 20, 0, 70);
    double p[FG_ATTR_PARTS];
    assert_int_equal(fg_attr_critical_path(&r, 2, 100, 100, 258, p), 2);
    assert_float_equal(p[FG_ATTR_EXEC], 50, 1e-9);
    assert_float_equal(p[FG_ATTR_QUEUE], 10, 1e-9);
    assert_float_equal(p[FG_ATTR_TRANSFER], 10 + 70 + 10, 1e-9);
    assert_float_equal(p[FG_ATTR_DRIVER], 5 + 1 + 2, 1e-9);
    assert_float_equal(total(p), 158, 1e-9);
}

static void test_parallel_takes_the_slower(void **state)
{
    (void)state;
    fg_attr_request r;
    memset(&r, 0, sizeof r);
    /* fn0 then fn1 ∥ fn2 (fn2 slower, exec-heavy), fn3 after both. */
    span(&r, 0, 0, 0, 10, 5, 0, 0);
    span(&r, 1, 10, 10, 30, 15, 0, 0);
    span(&r, 2, 10, 10, 90, 75, 0, 0);
    span(&r, 3, 90, 90, 100, 8, 0, 0);
    double p[FG_ATTR_PARTS];
    assert_int_equal(fg_attr_critical_path(&r, 4, 0, 0, 100, p), 3);
    assert_float_equal(p[FG_ATTR_EXEC], 5 + 75 + 8, 1e-9);
    assert_float_equal(total(p), 100, 1e-9);
}

static void test_side_branch_is_off_the_path(void **state)
{
    (void)state;
    fg_attr_request r;
    memset(&r, 0, sizeof r);
    /* fn1 is a quick side branch that answered while fn2 ran; fn2 ends
     * last, so the path is fn0 -> fn2 and fn1's exec is not in it. */
    span(&r, 0, 0, 0, 10, 10, 0, 0);
    span(&r, 1, 10, 10, 20, 10, 0, 0);
    span(&r, 2, 10, 10, 60, 50, 0, 0);
    double p[FG_ATTR_PARTS];
    assert_int_equal(fg_attr_critical_path(&r, 3, 0, 0, 60, p), 2);
    assert_float_equal(p[FG_ATTR_EXEC], 60, 1e-9);
    assert_float_equal(p[FG_ATTR_DRIVER], 0, 1e-9);
}

static void test_inflated_reports_fit_the_round_trip(void **state)
{
    (void)state;
    fg_attr_request r;
    memset(&r, 0, sizeof r);
    /* A server whose clock says exec 60 + queue 20 inside a 40 ms round
     * trip: scaled to 30 + 10, nothing negative, still sums to latency. */
    span(&r, 0, 0, 0, 40, 60, 20, -1);
    double p[FG_ATTR_PARTS];
    fg_attr_critical_path(&r, 1, 0, 0, 40, p);
    assert_float_equal(p[FG_ATTR_EXEC], 30, 1e-9);
    assert_float_equal(p[FG_ATTR_QUEUE], 10, 1e-9);
    assert_float_equal(p[FG_ATTR_TRANSFER], 0, 1e-9);
    for (int k = 0; k < FG_ATTR_PARTS; k++) assert_true(p[k] >= 0);
    assert_float_equal(total(p), 40, 1e-9);
}

static void test_slot_wait_is_queue(void **state)
{
    (void)state;
    fg_attr_request r;
    memset(&r, 0, sizeof r);
    /* Intended at 0, held 40 ms for an in-flight slot, started 2 ms after
     * that: 40 queue, 2 driver, then a 20 ms exec-only call. */
    span(&r, 0, 42, 42, 62, 20, 0, 0);
    double p[FG_ATTR_PARTS];
    fg_attr_critical_path(&r, 1, 0, 40, 62, p);
    assert_float_equal(p[FG_ATTR_QUEUE], 40, 1e-9);
    assert_float_equal(p[FG_ATTR_DRIVER], 2, 1e-9);
    assert_float_equal(p[FG_ATTR_EXEC], 20, 1e-9);
    assert_float_equal(total(p), 62, 1e-9);
}

/* Arrivals outrunning a transfer-bound service: the slot wait dominates
 * the latency, the service's own largest part names the cause. */
static void test_saturated_cell_names_the_service(void **state)
{
    (void)state;
    fg_attr_totals t;
    memset(&t, 0, sizeof t);
    for (int i = 0; i < 5; i++) fg_attr_add(&t, (double[FG_ATTR_PARTS]){100, 400, 900, 5}, 880);
    assert_int_equal(fg_attr_dominant(&t), FG_ATTR_QUEUE);
    assert_int_equal(fg_attr_service_dominant(&t), FG_ATTR_TRANSFER);
    cJSON *j = fg_attr_json(&t);
    assert_string_equal(cJSON_GetObjectItem(j, "service_dominant")->valuestring, "transfer");
    assert_float_equal(cJSON_GetObjectItem(j, "slot_wait_ms")->valuedouble, 880, 1e-9);
    cJSON_Delete(j);
    /* Without a slot wait the two agree. */
    memset(&t, 0, sizeof t);
    fg_attr_add(&t, (double[FG_ATTR_PARTS]){100, 40, 90, 5}, 0);
    assert_int_equal(fg_attr_service_dominant(&t), fg_attr_dominant(&t));
}

static void test_nothing_answered_is_all_driver(void **state)
{
    (void)state;
    fg_attr_request r;
    memset(&r, 0, sizeof r);
    double p[FG_ATTR_PARTS];
    assert_int_equal(fg_attr_critical_path(&r, 7, 10, 10, 25, p), 0);
    assert_float_equal(p[FG_ATTR_DRIVER], 15, 1e-9);
}

static void test_cell_dominant_is_time_weighted(void **state)
{
    (void)state;
    fg_attr_totals t;
    memset(&t, 0, sizeof t);
    assert_int_equal(fg_attr_dominant(&t), -1);
    assert_null(fg_attr_json(&t));
    /* Nine short exec-bound requests, one long transfer-bound one: the
     * transfer time outweighs them all. */
    for (int i = 0; i < 9; i++) fg_attr_add(&t, (double[FG_ATTR_PARTS]){8, 1, 0, 1}, 0);
    fg_attr_add(&t, (double[FG_ATTR_PARTS]){10, 300, 0, 0}, 0);
    assert_int_equal(fg_attr_service_dominant(&t), FG_ATTR_TRANSFER);
    assert_int_equal(fg_attr_dominant(&t), FG_ATTR_TRANSFER);
    cJSON *j = fg_attr_json(&t);
    assert_non_null(j);
    assert_string_equal(cJSON_GetObjectItem(j, "dominant")->valuestring, "transfer");
    assert_int_equal(cJSON_GetObjectItem(j, "requests")->valueint, 10);
    const cJSON *share = cJSON_GetObjectItem(j, "share");
    double sum = 0;
    for (int k = 0; k < FG_ATTR_PARTS; k++)
        sum += cJSON_GetObjectItem(share, fg_attr_part_names[k])->valuedouble;
    assert_float_equal(sum, 1.0, 1e-3);
    assert_float_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "mean_ms"), "exec")->valuedouble,
                       8.2, 1e-9);
    cJSON_Delete(j);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_chain_splits_round_trips),
        cmocka_unit_test(test_parallel_takes_the_slower),
        cmocka_unit_test(test_side_branch_is_off_the_path),
        cmocka_unit_test(test_inflated_reports_fit_the_round_trip),
        cmocka_unit_test(test_slot_wait_is_queue),
        cmocka_unit_test(test_saturated_cell_names_the_service),
        cmocka_unit_test(test_nothing_answered_is_all_driver),
        cmocka_unit_test(test_cell_dominant_is_time_weighted),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
