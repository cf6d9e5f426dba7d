/* test_scenarios.c — the scenario file and its statistics (scenarios.c):
 * data/scenarios.json expands into the six scenarios and the two fault ones (cells per
 * axis value and scheduler, the spike's two stages), the request scale
 * shrinks counts only, one scenario can be picked by name, every bad
 * file is refused in one line naming the problem, and the per-cell
 * summary (mean, sd n - 1, 95 % t CI) matches values worked by hand. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "flowgate/scenarios.h"

static fg_run_config base_cfg(double scale)
{
    fg_run_config c;
    fg_config_defaults(&c);
    c.request_scale = scale;
    return c;
}

static const fg_scenario_cell *find(const fg_scenario_plan *p, const char *id)
{
    for (int i = 0; i < p->n_cells; i++)
        if (!strcmp(p->cells[i].id, id)) return &p->cells[i];
    fail_msg("no cell %s", id);
    return NULL;
}

static void test_shipped_file(void **state)
{
    (void)state;
    unsetenv("FLOWGATE_SCHEDULERS");
    unsetenv("FLOWGATE_REPLICATES");
    fg_run_config c = base_cfg(1);
    fg_scenario_plan p;
    fg_err err;
    if (fg_scenarios_load(NULL, NULL, &c, NULL, 0, 0, &p, &err) != 0) fail_msg("%s", err.msg);
    /* (1 + 4 + 4 + 5 + 3 + 1 + 1 + 1) cells x 4 schedulers */
    assert_int_equal(p.n_cells, 20 * 4);
    assert_int_equal(p.replicates, 3);
    const fg_scenario_cell *b = find(&p, "sc_Burst-Spike_input2.0mb_staged_palette");
    assert_int_equal(b->n_stages, 2);
    assert_int_equal(b->stages[0].requests, 45);
    assert_int_equal(b->stages[1].requests, 15);
    assert_int_equal(b->stages[1].concurrency, 20);
    assert_int_equal(b->concurrency, 20);
    const fg_scenario_cell *v = find(&p, "sc_Vary-Input_input20.0mb_conc1_rate1_ours");
    assert_true(v->bandwidth_mbit == 50 && v->latency_ms == 30);
    assert_int_equal(v->stages[0].requests, 30);
    assert_int_equal(find(&p, "sc_Small-Msgs_input0.1mb_conc20_rate80_faaspr")->stages[0].requests,
                     1200);
    /* The fault scenarios: the block for every node, the driver's retries and timeout. */
    const fg_scenario_cell *f = find(&p, "sc_Faults-Retried_input0.1mb_conc10_rate10_ours");
    assert_non_null(f);
    char block[sizeof f->faults];
    snprintf(block, sizeof block, "%s", f->faults);
    assert_non_null(strstr(block, "\"kind\":\"reset\""));
    assert_int_equal(f->retries, 2);
    assert_true(f->timeout_s == 3);
    f = find(&p, "sc_Faults_input0.1mb_conc10_rate10_ours");
    assert_int_equal(f->retries, -1);   /* the run's */
    assert_string_equal(find(&p, "sc_Baseline-CleanNet_input5.0mb_conc5_rate2_ours")->faults, "");
    fg_scenarios_free(&p);

    /* Scaled: counts shrink (never below min_requests), rates do not. */
    c = base_cfg(0.1);
    if (fg_scenarios_load(NULL, "Small-Msgs", &c, "ours", 2, 0, &p, &err) != 0) fail_msg("%s", err.msg);
    assert_int_equal(p.n_cells, 3);
    assert_int_equal(p.replicates, 2);
    assert_int_equal(p.cells[2].stages[0].requests, 120);
    assert_true(p.cells[2].stages[0].rate_rps == 80);
    fg_scenarios_free(&p);
    if (fg_scenarios_load(NULL, "Vary-Input", &c, "ours", 0, 0, &p, &err) != 0) fail_msg("%s", err.msg);
    assert_int_equal(p.cells[0].stages[0].requests, 5);   /* ceil(3) -> min_requests 5 */
    fg_scenarios_free(&p);

    /* --ci: the file's "ci" block: all eight, scaled down, `ours`, 1 replicate. */
    c = base_cfg(1);
    if (fg_scenarios_load(NULL, NULL, &c, NULL, 0, 1, &p, &err) != 0) fail_msg("%s", err.msg);
    assert_int_equal(p.n_cells, 20);
    assert_int_equal(p.replicates, 1);
    assert_true(p.request_scale < 1 && p.warmup_s > 0);
    const fg_scenario_cell *s = find(&p, "sc_Small-Msgs_input0.1mb_conc20_rate80_ours");
    assert_int_equal(s->stages[0].requests, (int)ceil(1200 * p.request_scale - 1e-9));
    assert_true(s->stages[0].rate_rps == 80 && s->latency_ms == 5);
    fg_scenarios_free(&p);

    assert_int_equal(fg_scenarios_load(NULL, "No-Such", &c, NULL, 0, 0, &p, &err), -1);
    assert_non_null(strstr(err.msg, "unknown scenario 'No-Such'"));
    assert_non_null(strstr(err.msg, "Burst-Spike"));
}

static void test_bad_files(void **state)
{
    (void)state;
    static const struct { const char *json, *needle; } bad[] = {
        {"{\"scenarios\": []}", "non-empty array"},
        {"{\"scenarioz\": []}", "unknown key \"scenarioz\""},
        {"{\"replicates\": 0, \"scenarios\": [{}]}", "replicates"},
        {"{\"arrival\": \"gamma\", \"scenarios\": [{}]}", "arrival"},
        {"{\"schedulers\": [\"fastest\"], \"scenarios\": [{}]}", "fastest"},
        {"{\"scenarios\": [{\"name\": \"A B\"}]}", "without spaces"},
        {"{\"scenarios\": [{\"name\": \"A\", \"input_mb\": [1], \"bandwidth_mbit\": 10, "
         "\"latency_ms\": 0, \"concurrency\": [1], \"rate_rps\": [1]}]}", "missing \"requests\""},
        {"{\"scenarios\": [{\"name\": \"A\", \"input_mb\": [], \"bandwidth_mbit\": 10}]}",
         "\"input_mb\" is empty"},
        {"{\"scenarios\": [{\"name\": \"A\", \"input_mb\": [1], \"bandwidth_mbit\": -1}]}",
         "bandwidth_mbit"},
        {"{\"scenarios\": [{\"name\": \"A\", \"input_mb\": [1], \"bandwidth_mbit\": 1, "
         "\"latency_ms\": 0, \"concurrency\": [0], \"rate_rps\": [1], \"requests\": 5}]}",
         "concurrency"},
        {"{\"scenarios\": [{\"name\": \"A\", \"input_mb\": [1], \"bandwidth_mbit\": 1, "
         "\"latency_ms\": 0, \"rate_rps\": [1], \"stages\": [{\"requests\": 2, \"rate_rps\": 1, "
         "\"concurrency\": 1}]}]}", "replaces rate_rps"},
        {"{\"scenarios\": [{\"name\": \"A\", \"input_mb\": [1], \"bandwidth_mbit\": 1, "
         "\"latency_ms\": 0, \"stages\": [{\"requests\": 2, \"rate_rps\": 1}]}]}",
         "\"concurrency\" is required"},
        {"{\"scenarios\": [{\"name\": \"A\", \"input_mb\": [1], \"bandwidth_mbit\": 1, "
         "\"latency_ms\": 0, \"rate\": 2}]}", "unknown key \"rate\""},
        {"{\"scenarios\": [{\"name\": \"A\", \"input_mb\": [1], \"bandwidth_mbit\": 1, "
         "\"latency_ms\": 0, \"concurrency\": 1, \"rate_rps\": 1, \"requests\": 5}, "
         "{\"name\": \"A\"}]}", "given twice"},
        {"not json", "scen"},
        {"{\"ci\": {\"request_scale\": 2}, \"scenarios\": [{}]}", "ci: \"request_scale\""},
        {"{\"ci\": {\"speed\": 2}, \"scenarios\": [{}]}", "ci: unknown key \"speed\""},
    };
    char path[] = "/tmp/flowgate-scenarios-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    fg_run_config c = base_cfg(1);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        FILE *f = fopen(path, "w");
        assert_non_null(f);
        fputs(bad[i].json, f);
        fclose(f);
        fg_scenario_plan p;
        fg_err err = {{0}};
        int ci = strstr(bad[i].json, "\"ci\"") != NULL;
        if (fg_scenarios_load(path, NULL, &c, NULL, 0, ci, &p, &err) != -1)
            fail_msg("accepted: %s", bad[i].json);
        if (!strstr(err.msg, bad[i].needle) || strchr(err.msg, '\n'))
            fail_msg("%s: \"%s\" does not say %s", bad[i].json, err.msg, bad[i].needle);
    }
    unlink(path);
}

static void test_summary(void **state)
{
    (void)state;
    /* p50 10, 12, 14: mean 12, sd 2, CI 12 +- t(0.975, 2) * 2 / sqrt(3). */
    cJSON *e[3];
    const double p50[] = {10, 12, 14}, tput[] = {1, 2, 3};
    for (int i = 0; i < 3; i++) {
        e[i] = cJSON_CreateObject();
        cJSON *lat = cJSON_AddObjectToObject(e[i], "latency_ms");
        cJSON_AddNumberToObject(lat, "p50", p50[i]);
        if (i < 2) cJSON_AddNumberToObject(lat, "p99", 99);   /* one replicate lacks it */
        cJSON_AddNumberToObject(e[i], "throughput_rps", tput[i]);
        cJSON_AddNumberToObject(e[i], "success_rate", i ? 1 : 0.9);
    }
    cJSON *s = fg_scenario_summary((const cJSON *const *)e, 3);
    const cJSON *m = cJSON_GetObjectItem(s, "metrics");
    const cJSON *p = cJSON_GetObjectItem(m, "p50_ms");
    assert_true(cJSON_GetNumberValue(cJSON_GetObjectItem(p, "mean")) == 12);
    assert_true(fabs(cJSON_GetNumberValue(cJSON_GetObjectItem(p, "sd")) - 2) < 1e-12);
    double half = 4.302652729911275 * 2 / sqrt(3);   /* t table, df 2 */
    const cJSON *ci = cJSON_GetObjectItem(p, "ci95");
    assert_true(fabs(cJSON_GetNumberValue(cJSON_GetArrayItem(ci, 0)) - (12 - half)) < 1e-6);
    assert_true(fabs(cJSON_GetNumberValue(cJSON_GetArrayItem(ci, 1)) - (12 + half)) < 1e-6);
    /* Throughput 1, 2, 3: 2 - 2.48 would be below 0, so the interval is
     * cut at 0; success 0.9, 1, 1 is cut at 1. */
    ci = cJSON_GetObjectItem(cJSON_GetObjectItem(m, "throughput_rps"), "ci95");
    assert_true(cJSON_GetNumberValue(cJSON_GetArrayItem(ci, 0)) == 0);
    assert_true(fabs(cJSON_GetNumberValue(cJSON_GetArrayItem(ci, 1)) - (2 + half / 2)) < 1e-6);
    ci = cJSON_GetObjectItem(cJSON_GetObjectItem(m, "success_rate"), "ci95");
    assert_true(cJSON_GetNumberValue(cJSON_GetArrayItem(ci, 0)) > 0.8);
    assert_true(cJSON_GetNumberValue(cJSON_GetArrayItem(ci, 1)) == 1);
    assert_null(cJSON_GetObjectItem(m, "p99_ms"));   /* not summarised from part */
    assert_null(cJSON_GetObjectItem(m, "p95_ms"));
    cJSON_Delete(s);
    /* One replicate: a mean, no sd or CI invented. */
    s = fg_scenario_summary((const cJSON *const *)e, 1);
    p = cJSON_GetObjectItem(cJSON_GetObjectItem(s, "metrics"), "p50_ms");
    assert_true(cJSON_GetNumberValue(cJSON_GetObjectItem(p, "mean")) == 10);
    assert_null(cJSON_GetObjectItem(p, "sd"));
    assert_null(cJSON_GetObjectItem(p, "ci95"));
    cJSON_Delete(s);
    for (int i = 0; i < 3; i++) cJSON_Delete(e[i]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shipped_file),
        cmocka_unit_test(test_bad_files),
        cmocka_unit_test(test_summary),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
