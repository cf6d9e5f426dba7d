/* test_noise.c — the contention measurement and its rule (noise.h,
 * thresholds.h): /proc/stat and /proc/<pid>/stat parsed from canned text,
 * the foreign share between two readings, and the three outcomes — a busy
 * cell failing its p50 is inconclusive, the same cell on a quiet machine
 * fails, a success-rate failure under contention still fails, bounds are
 * widened by 1/(1 - share) up to the cap. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "flowgate/noise.h"
#include "flowgate/noise_sampler.h"
#include "flowgate/report.h"
#include "flowgate/thresholds.h"

static const char proc_stat[] =
    "cpu  23593 0 5132 75083 413 0 77 11 0 0\n"
    "cpu0 11418 0 2264 38404 34 0 21 3 0 0\n"
    "cpu1 12174 10 2868 36678 379 5 56 8 100 0\n"
    "intr 1234 0 0 0\n"
    "ctxt 99\n";

static void test_proc_stat_all_cpus(void **state)
{
    (void)state;
    fg_cpu_jiffies j;
    assert_int_equal(fg_noise_parse_proc_stat(proc_stat, NULL, 0, &j), 0);
    assert_int_equal(j.cpus, 2);
    /* busy: user+nice+system+irq+softirq; guest (100) is inside user already */
    assert_true(j.busy == (11418 + 2264 + 21) + (12174 + 10 + 2868 + 5 + 56));
    assert_true(j.steal == 3 + 8);
    assert_true(j.total == (11418 + 2264 + 38404 + 34 + 21 + 3) +
                               (12174 + 10 + 2868 + 36678 + 379 + 5 + 56 + 8));
}

static void test_proc_stat_affinity(void **state)
{
    (void)state;
    unsigned char allowed[4] = {0, 1, 0, 0};
    fg_cpu_jiffies j;
    assert_int_equal(fg_noise_parse_proc_stat(proc_stat, allowed, 4, &j), 0);
    assert_int_equal(j.cpus, 1);
    assert_true(j.steal == 8);
    /* No allowed CPU in the text, or no cpu lines at all: an error. */
    unsigned char none[4] = {0, 0, 1, 1};
    assert_int_equal(fg_noise_parse_proc_stat(proc_stat, none, 4, &j), -1);
    assert_int_equal(fg_noise_parse_proc_stat("intr 1 2\n", NULL, 0, &j), -1);
    /* Old kernels without steal (4 fields) still parse; 3 fields do not. */
    assert_int_equal(fg_noise_parse_proc_stat("cpu0 10 0 5 85\n", NULL, 0, &j), 0);
    assert_true(j.total == 100 && j.busy == 15 && j.steal == 0);
    assert_int_equal(fg_noise_parse_proc_stat("cpu0 10 0 5\n", NULL, 0, &j), -1);
    assert_int_equal(fg_noise_parse_proc_stat("cpu0 10 x 5 85\n", NULL, 0, &j), -1);
}

static void test_pid_stat(void **state)
{
    (void)state;
    double self, children;
    /* A command name with spaces and ')' in it: fields after the last ')'. */
    const char *text = "4242 (flowgate (x) y) S 1 4242 4242 0 -1 4194560 100 0 0 0 "
                       "250 75 12 3 20 0 5 0 1000 0 0\n";
    assert_int_equal(fg_noise_parse_pid_stat(text, &self, &children), 0);
    assert_true(self == 325);
    assert_true(children == 15);
    assert_int_equal(fg_noise_parse_pid_stat("4242 (short) S 1 2 3\n", &self, &children), -1);
    assert_int_equal(fg_noise_parse_pid_stat("no paren", &self, &children), -1);
}

static fg_noise_sample sample(double t_ms, double busy, double steal, double total, double own)
{
    fg_noise_sample s = {.t_ms = t_ms, .own = own};
    s.cpu.busy = busy;
    s.cpu.steal = steal;
    s.cpu.total = total;
    s.cpu.cpus = 2;
    return s;
}

static void test_share_between(void **state)
{
    (void)state;
    fg_noise_share sh;
    /* 1 s on 2 cores at 100 Hz = 200 jiffies; 150 busy, 60 of them ours,
     * 10 stolen: foreign (150 + 10 - 60) / 200 = 0.5. */
    fg_noise_sample a = sample(0, 1000, 5, 10000, 300);
    fg_noise_sample b = sample(1000, 1150, 15, 10200, 360);
    fg_noise_between(&a, &b, 100, 0, &sh);
    assert_float_equal(sh.share, 0.5, 1e-9);
    assert_float_equal(sh.steal_share, 0.05, 1e-9);
    assert_float_equal(sh.own_share, 0.3, 1e-9);
    assert_float_equal(sh.foreign_cpu_s, 1.0, 1e-9);
    assert_float_equal(sh.interval_s, 1.0, 1e-9);
    /* Container nodes' 0.5 CPU s are the run's own too. */
    fg_noise_between(&a, &b, 100, 0.5, &sh);
    assert_float_equal(sh.share, 0.25, 1e-9);
    /* Own ticks beyond busy (rounding) never make it negative. */
    fg_noise_sample c = sample(1000, 1010, 5, 10200, 330);
    fg_noise_between(&a, &c, 100, 0, &sh);
    assert_float_equal(sh.share, 0.0, 1e-9);
    /* No time between the readings: no figure. */
    fg_noise_between(&a, &a, 100, 0, &sh);
    assert_true(isnan(sh.share));
}

static void test_rule_constants(void **state)
{
    (void)state;
    assert_float_equal(fg_noise_time_factor(NAN), 1.0, 1e-12);
    assert_float_equal(fg_noise_time_factor(0), 1.0, 1e-12);
    assert_float_equal(fg_noise_time_factor(0.2), 1.25, 1e-12);
    /* Capped at the limit: a busier machine gets no wider bounds. */
    assert_float_equal(fg_noise_time_factor(0.9), 1.0 / 0.75, 1e-12);
    assert_false(fg_noise_beyond(0.25));
    assert_true(fg_noise_beyond(0.26));
    assert_false(fg_noise_beyond(NAN));
}

/* A smoke-like entry: p50 and throughput, success rate, the measured share. */
static cJSON *entry(double p50, double rps, double success, double share)
{
    char text[600];
    snprintf(text, sizeof text,
             "{\"experiment_id\":\"exp_input0.1mb_conc2_ours\",\"category\":\"smoke\","
             "\"success_rate\":%g,\"throughput_rps\":%g,"
             "\"requests\":{\"sent\":20,\"ok\":20,\"failed\":0,\"timed_out\":0},"
             "\"latency_ms\":{\"count\":20,\"p50\":%g,\"p95\":%g}}",
             success, rps, p50, p50 * 1.5);
    cJSON *e = cJSON_Parse(text);
    assert_non_null(e);
    if (!isnan(share))
        cJSON_AddNumberToObject(cJSON_AddObjectToObject(e, "noise"), "foreign_cpu_share", share);
    return e;
}

static const char *const rules[] = {"success_rate > 0.90", "p50_ms < 82", "throughput_rps > 10"};

static fg_outcome judge(cJSON *e, fg_threshold_verdict *v, int *failed)
{
    fg_threshold ts[3];
    for (int i = 0; i < 3; i++) assert_int_equal(fg_threshold_parse(rules[i], &ts[i], NULL), 0);
    *failed = fg_thresholds_eval(ts, 3, e, v);
    return fg_thresholds_outcome(v, 3);
}

static void test_busy_failing_p50_is_inconclusive(void **state)
{
    (void)state;
    fg_threshold_verdict v[3];
    int failed;
    cJSON *e = entry(120, 20, 1.0, 0.48);
    assert_int_equal(judge(e, v, &failed), FG_OUTCOME_INCONCLUSIVE);
    assert_int_equal(failed, 0);
    assert_true(v[1].inconclusive && !v[1].pass);
    assert_string_equal(v[1].note, "inconclusive (machine busy: other processes used 48 % of the "
                                   "cores during the cell; bounds allow 25 %)");
    /* The bound it was judged against is the capped one: 82 / 0.75. */
    assert_float_equal(v[1].limit, 82 / 0.75, 1e-9);
    cJSON_Delete(e);
    /* A miss the contention cannot explain (82 / 0.52 = 158 ms) is red. */
    e = entry(1000, 20, 1.0, 0.48);
    assert_int_equal(judge(e, v, &failed), FG_OUTCOME_FAIL);
    assert_false(v[1].inconclusive);
    assert_non_null(strstr(v[1].note, "fails even allowing for the machine's load"));
    cJSON_Delete(e);
    /* An impossible bound fails on the busiest machine (share counted at 0.9). */
    fg_threshold t;
    assert_int_equal(fg_threshold_parse("p95_ms < 0.001", &t, NULL), 0);
    e = entry(60, 20, 1.0, 1.0);
    assert_int_equal(fg_thresholds_eval(&t, 1, e, v), 1);
    cJSON_Delete(e);
    assert_float_equal(fg_noise_explain_factor(0.5), 2.0, 1e-12);
    assert_float_equal(fg_noise_explain_factor(1.0), 10.0, 1e-9);
}

/* A bound relative to a base run (A/B threshold tables) is pushed only by
 * the contention the cell had beyond its base's: the ab_aa_passes run
 * that went red under a load average of 9-17 (B's p50 89.9 ms against
 * 2 x A's 43.6) is now widened or open, and a quiet pair stays red. */
static void test_relative_bound_and_contention(void **state)
{
    (void)state;
    fg_threshold t;
    fg_threshold_verdict v;
    assert_int_equal(fg_threshold_parse("p50_ms < 2 * base.p50_ms", &t, NULL), 0);
    cJSON *a = entry(43.6, 20, 1.0, 0.0), *b = entry(89.9, 20, 1.0, 0.15);
    /* B had 15 % more of the machine taken: limit 87.2 / 0.85 = 102.6. */
    assert_int_equal(fg_thresholds_eval_base(&t, 1, b, a, &v), 0);
    assert_true(v.pass);
    assert_float_equal(v.limit, 2 * 43.6 / 0.85, 1e-9);
    cJSON_Delete(b);
    /* As busy as its base: nothing to widen; red. */
    cJSON_Delete(a);
    a = entry(43.6, 20, 1.0, 0.15);
    b = entry(89.9, 20, 1.0, 0.15);
    assert_int_equal(fg_thresholds_eval_base(&t, 1, b, a, &v), 1);
    assert_float_equal(v.limit, 2 * 43.6, 1e-9);
    cJSON_Delete(b);
    cJSON_Delete(a);
    /* B far busier than the bounds allow, a miss its load explains: open. */
    a = entry(43.6, 20, 1.0, 0.0);
    b = entry(120, 20, 1.0, 0.5);
    assert_int_equal(fg_thresholds_eval_base(&t, 1, b, a, &v), 0);
    assert_true(v.inconclusive && !v.pass);
    cJSON_Delete(b);
    /* ... and a miss it cannot explain (2 x 43.6 / 0.5 = 174 ms): red. */
    b = entry(400, 20, 1.0, 0.5);
    assert_int_equal(fg_thresholds_eval_base(&t, 1, b, a, &v), 1);
    assert_false(v.inconclusive);
    cJSON_Delete(b);
    cJSON_Delete(a);
}

static void test_quiet_failing_p50_fails(void **state)
{
    (void)state;
    fg_threshold_verdict v[3];
    int failed;
    cJSON *e = entry(120, 20, 1.0, 0.02);
    assert_int_equal(judge(e, v, &failed), FG_OUTCOME_FAIL);
    assert_int_equal(failed, 1);
    assert_false(v[1].inconclusive);
    cJSON_Delete(e);
    /* Results without a noise figure (older files): as before, no widening. */
    e = entry(83, 20, 1.0, NAN);
    assert_int_equal(judge(e, v, &failed), FG_OUTCOME_FAIL);
    assert_float_equal(v[1].limit, 82, 1e-12);
    cJSON_Delete(e);
    /* A 2x slowdown on a quiet machine stays red. */
    e = entry(2 * 55, 10, 1.0, 0.05);
    assert_int_equal(judge(e, v, &failed), FG_OUTCOME_FAIL);
    cJSON_Delete(e);
}

static void test_busy_success_rate_failure_fails(void **state)
{
    (void)state;
    fg_threshold_verdict v[3];
    int failed;
    cJSON *e = entry(120, 20, 0.5, 0.48);
    assert_int_equal(judge(e, v, &failed), FG_OUTCOME_FAIL);
    assert_int_equal(failed, 1);
    assert_false(v[0].pass);
    assert_false(v[0].inconclusive);
    assert_true(v[1].inconclusive);
    cJSON_Delete(e);
}

static void test_widening_within_limit(void **state)
{
    (void)state;
    fg_threshold_verdict v[3];
    int failed;
    /* 20 % foreign: p50 bound 82 -> 102.5 (passes at 95), rate 10 -> 8 (passes at 9). */
    cJSON *e = entry(95, 9, 1.0, 0.2);
    assert_int_equal(judge(e, v, &failed), FG_OUTCOME_PASS);
    assert_float_equal(v[1].limit, 102.5, 1e-9);
    assert_float_equal(v[2].limit, 8, 1e-9);
    assert_non_null(strstr(v[1].note, "widened from 82"));
    cJSON_Delete(e);
    /* Within the limit a failure is a failure: 110 > 102.5. */
    e = entry(110, 20, 1.0, 0.2);
    assert_int_equal(judge(e, v, &failed), FG_OUTCOME_FAIL);
    cJSON_Delete(e);
    /* Bounds contention does not push against are left alone. */
    fg_threshold t;
    assert_int_equal(fg_threshold_parse("p50_ms > 100", &t, NULL), 0);
    e = entry(95, 20, 1.0, 0.48);
    assert_int_equal(fg_thresholds_eval(&t, 1, e, v), 1);
    assert_false(v[0].inconclusive);
    assert_float_equal(v[0].limit, 100, 1e-12);
    cJSON_Delete(e);
}

static void test_outcome_and_exit(void **state)
{
    (void)state;
    assert_int_equal(fg_outcome_combine(FG_OUTCOME_PASS, FG_OUTCOME_INCONCLUSIVE),
                     FG_OUTCOME_INCONCLUSIVE);
    assert_int_equal(fg_outcome_combine(FG_OUTCOME_FAIL, FG_OUTCOME_INCONCLUSIVE), FG_OUTCOME_FAIL);
    assert_int_equal(fg_outcome_exit(FG_OUTCOME_INCONCLUSIVE, 0), FG_EXIT_INCONCLUSIVE);
    assert_int_equal(fg_outcome_exit(FG_OUTCOME_INCONCLUSIVE, 1), FG_EXIT_PASS);
    assert_int_equal(fg_outcome_exit(FG_OUTCOME_FAIL, 1), FG_EXIT_FAIL);
    assert_string_equal(fg_outcome_name(FG_OUTCOME_INCONCLUSIVE), "inconclusive");
}

static void test_table_has_inconclusive(void **state)
{
    (void)state;
    cJSON *root = cJSON_Parse("{\"run\":{\"id\":\"t1\",\"category\":\"smoke\"},\"experiments\":[]}");
    cJSON *exps = cJSON_GetObjectItemCaseSensitive(root, "experiments");
    cJSON_AddItemToArray(exps, entry(120, 20, 1.0, 0.48));
    cJSON *doc = cJSON_Parse("{\"default\":[\"success_rate > 0.90\",\"p50_ms < 82\"]}");
    fg_threshold_table t;
    fg_err err;
    assert_int_equal(fg_report_thresholds(root, doc, &t, &err), 0);
    assert_int_equal(t.failed, 0);
    assert_int_equal(t.inconclusive, 1);
    assert_int_equal(t.cells_inconclusive, 1);
    assert_int_equal(t.outcome, FG_OUTCOME_INCONCLUSIVE);
    assert_non_null(strstr(t.markdown, "*INCONCLUSIVE*"));
    assert_non_null(strstr(t.markdown, "cells: 0 pass, 0 fail, 1 inconclusive"));
    assert_non_null(strstr(t.text, "INCONCLUSIVE"));
    fg_report_mark_outcomes(&t, root);
    const cJSON *e = cJSON_GetArrayItem(exps, 0);
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(e, "outcome")->valuestring, "inconclusive");
    assert_non_null(strstr(cJSON_GetObjectItemCaseSensitive(e, "outcome_reason")->valuestring,
                           "machine busy"));
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(root, "run"),
                                                         "outcome")->valuestring, "inconclusive");
    fg_threshold_table_free(&t);
    cJSON_Delete(doc);
    cJSON_Delete(root);
}

/* Written by the busy loop so the compiler keeps it (a local volatile that
 * is never read trips clang's -Wunused-but-set-variable). */
static volatile double spin_sink;

/* The sampler on this machine: readings come, a share is a share. */
static void test_sampler_live(void **state)
{
    (void)state;
    fg_err err;
    fg_noise_sampler *s = fg_noise_sampler_start(20, &err);
    assert_non_null(s);
    double t0 = fg_now_mono_ms();
    while (fg_now_mono_ms() - t0 < 150) spin_sink += 1;   /* own CPU, not foreign */
    fg_noise_share sh;
    assert_int_equal(fg_noise_sampler_share(s, t0, fg_now_mono_ms(), 0, &sh), 0);
    assert_true(sh.share >= 0 && sh.share <= 1);
    assert_true(sh.own_share > 0);
    assert_true(sh.cpus >= 1);
    fg_noise_sampler_forget(s, fg_now_mono_ms());
    assert_int_equal(fg_noise_sampler_add_pid(s, -1), -1);
    fg_noise_sampler_stop(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_proc_stat_all_cpus),
        cmocka_unit_test(test_proc_stat_affinity),
        cmocka_unit_test(test_pid_stat),
        cmocka_unit_test(test_share_between),
        cmocka_unit_test(test_rule_constants),
        cmocka_unit_test(test_busy_failing_p50_is_inconclusive),
        cmocka_unit_test(test_relative_bound_and_contention),
        cmocka_unit_test(test_quiet_failing_p50_fails),
        cmocka_unit_test(test_busy_success_rate_failure_fails),
        cmocka_unit_test(test_widening_within_limit),
        cmocka_unit_test(test_outcome_and_exit),
        cmocka_unit_test(test_table_has_inconclusive),
        cmocka_unit_test(test_sampler_live),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
