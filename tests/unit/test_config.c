/* test_config.c — the layered run configuration: defaults, environment,
 * categories, config files (and that a file overrides the environment),
 * the errors for typos, bad values, repeated keys and combinations that
 * cannot work (a duration without a rate, a size over the server's body
 * limit), request counts (the floor of 20) and size labels. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "flowgate/config.h"
#include "cli/run_flags.h"

static const char *const ENV_VARS[] = {
    "LOG_LEVEL", "DEFAULT_INPUT_SIZE", "DEFAULT_CONCURRENCY", "DEFAULT_REQUESTS",
    "FLOWGATE_SCHEDULERS", "FLOWGATE_ENDPOINTS", "FLOWGATE_REQUEST_SCALE", "FLOWGATE_RESULTS_DIR", NULL};

static char cfg_path[256];

static int clear_env(void **state)
{
    (void)state;
    for (int i = 0; ENV_VARS[i]; i++) unsetenv(ENV_VARS[i]);
    snprintf(cfg_path, sizeof cfg_path, "test_config_tmp.%ld.json", (long)getpid());
    return 0;
}

static int cleanup(void **state)
{
    unlink(cfg_path);
    return clear_env(state);
}

static void write_cfg(const char *json)
{
    FILE *f = fopen(cfg_path, "w");
    assert_non_null(f);
    fputs(json, f);
    fclose(f);
}

static void test_defaults(void **state)
{
    (void)state;
    fg_run_config c;
    fg_config_defaults(&c);
    assert_string_equal(c.category, "standard");
    assert_int_equal(c.n_sizes, 3);
    assert_true(c.sizes_mb[0] == 0.1 && c.sizes_mb[1] == 1.0 && c.sizes_mb[2] == 2.0);
    assert_int_equal(c.n_concurrency, 3);
    assert_int_equal(c.concurrency[0], 1);
    assert_int_equal(c.concurrency[2], 10);
    assert_int_equal(c.n_schedulers, 1);
    assert_string_equal(c.schedulers[0], "ours");
    assert_int_equal(c.requests, 0);
    assert_int_equal(c.default_requests, 20);
    assert_int_equal(c.warmup, 2);
    assert_true(c.warmup_s == 0);        /* the engine's default */
    assert_int_equal(c.max_inflight, 0); /* the engine's default */
    assert_string_equal(c.server_bin, "");
    assert_true(c.request_scale == 1.0);
    assert_true(c.timeout_s == 60);
    assert_int_equal(c.retries, 0);
    assert_int_equal(c.repeats, 1);
    assert_int_equal(c.variant, FG_VARIANT_CLEAN);
    assert_true(c.default_input_mb == 1.0);
    assert_int_equal(c.default_concurrency, 5);
    assert_int_equal(c.log_level, FG_LOG_INFO);
    assert_int_equal(c.scale_prefix, 0);
    assert_string_equal(c.endpoints, "");
    assert_string_equal(c.profile, "");
    assert_string_equal(c.results_dir, "results");
    char want[1024];
    snprintf(want, sizeof want, "%s/workflows/recognizer.json", fg_data_dir());
    assert_string_equal(c.workflow, want);
    snprintf(want, sizeof want, "%s/nodes.json", fg_data_dir());
    assert_string_equal(c.nodes_file, want);
    snprintf(want, sizeof want, "%s/thresholds.json", fg_data_dir());
    assert_string_equal(c.thresholds, want);
    snprintf(want, sizeof want, "%s/images", fg_data_dir());
    assert_string_equal(c.images_dir, want);

    /* The built-in matrix is the one data/categories.json calls standard. */
    fg_run_config s = c;
    fg_err err = {""};
    assert_int_equal(fg_config_apply_category(&s, "standard", &err), 0);
    assert_memory_equal(&s, &c, sizeof c);
}

static void test_env_overrides(void **state)
{
    (void)state;
    fg_run_config c;
    fg_config_defaults(&c);
    setenv("LOG_LEVEL", "DEBUG", 1);
    setenv("DEFAULT_INPUT_SIZE", "2.5", 1);
    setenv("DEFAULT_CONCURRENCY", "20", 1);
    setenv("DEFAULT_REQUESTS", "40", 1);
    setenv("FLOWGATE_SCHEDULERS", "ours, round_robin ,palette", 1);
    setenv("FLOWGATE_ENDPOINTS", "/tmp/endpoints.json", 1);
    setenv("FLOWGATE_REQUEST_SCALE", "0.25", 1);
    setenv("FLOWGATE_RESULTS_DIR", "/tmp/res", 1);
    fg_err err = {""};
    assert_int_equal(fg_config_apply_env(&c, &err), 0);
    assert_int_equal(c.log_level, FG_LOG_DEBUG);
    assert_true(c.default_input_mb == 2.5);
    assert_int_equal(c.default_concurrency, 20);
    assert_int_equal(c.default_requests, 40);
    assert_int_equal(c.n_schedulers, 3);
    assert_string_equal(c.schedulers[1], "round_robin");
    assert_string_equal(c.schedulers[2], "palette");
    assert_string_equal(c.endpoints, "/tmp/endpoints.json");
    assert_true(c.request_scale == 0.25);
    assert_string_equal(c.results_dir, "/tmp/res");
    /* Untouched by the environment. */
    assert_int_equal(c.warmup, 2);

    /* Empty means unset. */
    clear_env(NULL);
    setenv("LOG_LEVEL", "", 1);
    fg_config_defaults(&c);
    assert_int_equal(fg_config_apply_env(&c, &err), 0);
    assert_int_equal(c.log_level, FG_LOG_INFO);
}

static void expect_env_error(const char *var, const char *value, const char *needle)
{
    clear_env(NULL);
    setenv("DEFAULT_REQUESTS", "99", 1);   /* valid, must not be half-applied */
    setenv(var, value, 1);
    fg_run_config c, before;
    fg_config_defaults(&c);
    before = c;
    fg_err err = {""};
    int rc = fg_config_apply_env(&c, &err);
    char named[256];
    snprintf(named, sizeof named, "%s", var);   /* the error names the variable */
    if (rc != -1 || strncmp(err.msg, named, strlen(named)) || !strstr(err.msg, needle) || strchr(err.msg, '\n')) {
        print_error("%s: want error containing \"%s\" and \"%s\", got rc=%d '%s'\n",
                    var, named, needle, rc, err.msg);
        fail();
    }
    assert_memory_equal(&c, &before, sizeof c);
}

static void test_env_errors(void **state)
{
    (void)state;
    expect_env_error("LOG_LEVEL", "verbose", "expected error, warn, info or debug, got 'verbose'");
    expect_env_error("DEFAULT_INPUT_SIZE", "big", "(MB): expected a number from 0.001 to 1024, got 'big'");
    expect_env_error("DEFAULT_INPUT_SIZE", "-1", "got '-1'");
    expect_env_error("DEFAULT_INPUT_SIZE", "1MB", "got '1MB'");
    expect_env_error("DEFAULT_CONCURRENCY", "0", "expected an integer from 1 to 10000, got '0'");
    expect_env_error("DEFAULT_CONCURRENCY", "5.5", "expected an integer");
    expect_env_error("DEFAULT_CONCURRENCY", "99999999999999999999", "expected an integer");
    expect_env_error("DEFAULT_REQUESTS", "ten", "expected an integer");
    expect_env_error("FLOWGATE_REQUEST_SCALE", "0", "expected a number from 0.001 to 1000, got '0'");
    expect_env_error("FLOWGATE_REQUEST_SCALE", "nan", "got 'nan'");
    expect_env_error("FLOWGATE_SCHEDULERS", "ours,fifo", "unknown scheduler 'fifo' (known: ours, faaspr, palette, round_robin)");
    expect_env_error("FLOWGATE_SCHEDULERS", "ours,,faaspr", "empty item in 'ours,,faaspr'");
    expect_env_error("FLOWGATE_SCHEDULERS", "ours,ours", "scheduler 'ours' listed twice");
}

/* One-line error that starts with `what` and contains `needle`. */
static void expect_parse_error(int rc, const fg_err *err, const char *what, const char *needle)
{
    if (rc != -1 || strncmp(err->msg, what, strlen(what)) || !strstr(err->msg, needle) ||
        strchr(err->msg, '\n')) {
        print_error("want rc -1 and an error '%s...%s', got rc=%d '%s'\n", what, needle, rc, err->msg);
        fail();
    }
}

static void test_parse_numbers(void **state)
{
    (void)state;
    fg_err err = {""};
    int i = -7;
    double d = -7;
    assert_int_equal(fg_parse_int("--n", "42", 1, 100, &i, &err), 0);
    assert_int_equal(i, 42);
    assert_int_equal(fg_parse_int("--n", "+1", 1, 100, &i, &err), 0);
    assert_int_equal(i, 1);
    assert_int_equal(fg_parse_int("--n", "100", 1, 100, &i, &err), 0);   /* bounds included */
    assert_int_equal(i, 100);
    static const char *const bad_ints[] = {"", " 5", "5 ", "5x", "0x10", "1.5", "101", "0", "-3",
                                           "99999999999999999999", "ten"};
    for (size_t k = 0; k < sizeof bad_ints / sizeof bad_ints[0]; k++) {
        i = -7;
        char needle[64];
        snprintf(needle, sizeof needle, "got '%s'", bad_ints[k]);
        expect_parse_error(fg_parse_int("--n", bad_ints[k], 1, 100, &i, &err), &err,
                           "--n: expected an integer from 1 to 100", needle);
        assert_int_equal(i, -7);   /* untouched on error */
    }
    expect_parse_error(fg_parse_int("--n", NULL, 1, 100, &i, &err), &err, "--n: ", "got ''");

    assert_int_equal(fg_parse_double("--t", "2.5", 0.001, 10, &d, &err), 0);
    assert_true(d == 2.5);
    assert_int_equal(fg_parse_double("--t", "1e1", 0.001, 10, &d, &err), 0);
    assert_true(d == 10);
    static const char *const bad_doubles[] = {"", " 1", "1s", "0", "10.5", "nan", "inf", "-1",
                                              "1e999", "one"};
    for (size_t k = 0; k < sizeof bad_doubles / sizeof bad_doubles[0]; k++) {
        d = -7;
        char needle[64];
        snprintf(needle, sizeof needle, "got '%s'", bad_doubles[k]);
        expect_parse_error(fg_parse_double("--t", bad_doubles[k], 0.001, 10, &d, &err), &err,
                           "--t: expected a number from 0.001 to 10", needle);
        assert_true(d == -7);
    }
}

static void test_parse_lists(void **state)
{
    (void)state;
    fg_err err = {""};
    double sizes[4];
    int conc[3];
    assert_int_equal(fg_parse_double_list("--sizes", "0.1,1, 2 ,5", 0.05, 64, sizes, 4, &err), 4);
    assert_true(sizes[0] == 0.1 && sizes[1] == 1 && sizes[2] == 2 && sizes[3] == 5);
    assert_int_equal(fg_parse_int_list("--concurrency", "10", 1, 50, conc, 3, &err), 1);
    assert_int_equal(conc[0], 10);
    expect_parse_error(fg_parse_double_list("--sizes", "", 0.05, 64, sizes, 4, &err), &err,
                       "--sizes: ", "empty list");
    expect_parse_error(fg_parse_double_list("--sizes", "1,,2", 0.05, 64, sizes, 4, &err), &err,
                       "--sizes: ", "empty item in '1,,2'");
    expect_parse_error(fg_parse_double_list("--sizes", "1,", 0.05, 64, sizes, 4, &err), &err,
                       "--sizes: ", "empty item");
    expect_parse_error(fg_parse_double_list("--sizes", "1,2,3,4,5", 0.05, 64, sizes, 4, &err),
                       &err, "--sizes: ", "more than 4 items");
    expect_parse_error(fg_parse_double_list("--sizes", "1,0.01", 0.05, 64, sizes, 4, &err), &err,
                       "--sizes: expected a number from 0.05 to 64", "got '0.01'");
    expect_parse_error(fg_parse_int_list("--concurrency", "1,5,x", 1, 50, conc, 3, &err), &err,
                       "--concurrency: expected an integer from 1 to 50", "got 'x'");
    char long_item[200];
    memset(long_item, '1', sizeof long_item - 1);
    long_item[sizeof long_item - 1] = 0;
    expect_parse_error(fg_parse_int_list("--concurrency", long_item, 1, 50, conc, 3, &err), &err,
                       "--concurrency: ", "longer than 63 characters");
}

static void test_set_schedulers(void **state)
{
    (void)state;
    fg_err err = {""};
    fg_run_config c, before;
    fg_config_defaults(&c);
    assert_int_equal(fg_config_set_schedulers(&c, "--schedulers", "faaspr, round_robin", &err), 0);
    assert_int_equal(c.n_schedulers, 2);
    assert_string_equal(c.schedulers[0], "faaspr");
    assert_string_equal(c.schedulers[1], "round_robin");
    before = c;
    expect_parse_error(fg_config_set_schedulers(&c, "--schedulers", "ours,fifo", &err), &err,
                       "--schedulers: ", "unknown scheduler 'fifo'");
    assert_memory_equal(&c, &before, sizeof c);   /* nothing half-applied */
}

static void test_categories(void **state)
{
    (void)state;
    fg_run_config c;
    fg_config_defaults(&c);
    fg_err err = {""};
    assert_int_equal(fg_config_apply_category(&c, "large_input", &err), 0);
    assert_string_equal(c.category, "large_input");
    assert_int_equal(c.n_sizes, 2);
    assert_true(c.sizes_mb[0] == 5.0 && c.sizes_mb[1] == 10.0);
    assert_int_equal(c.n_concurrency, 3);
    assert_int_equal(c.scale_prefix, 1);
    assert_int_equal(fg_config_apply_category(&c, "extreme", &err), 0);
    assert_int_equal(c.concurrency[2], 50);
    assert_int_equal(fg_config_apply_category(&c, "smoke", &err), 0);
    assert_int_equal(c.n_sizes, 1);
    assert_true(c.sizes_mb[0] == 0.1);
    assert_int_equal(c.n_concurrency, 1);
    assert_int_equal(c.concurrency[0], 2);
    assert_int_equal(c.scale_prefix, 0);

    /* single: one cell from DEFAULT_INPUT_SIZE x DEFAULT_CONCURRENCY. */
    setenv("DEFAULT_INPUT_SIZE", "2.0", 1);
    setenv("DEFAULT_CONCURRENCY", "7", 1);
    assert_int_equal(fg_config_apply_env(&c, &err), 0);
    assert_int_equal(fg_config_apply_category(&c, "single", &err), 0);
    unsetenv("DEFAULT_INPUT_SIZE");
    unsetenv("DEFAULT_CONCURRENCY");
    assert_string_equal(c.category, "single");
    assert_int_equal(c.n_sizes, 1);
    assert_true(c.sizes_mb[0] == 2.0);
    assert_int_equal(c.n_concurrency, 1);
    assert_int_equal(c.concurrency[0], 7);

    fg_run_config before = c;
    assert_int_equal(fg_config_apply_category(&c, "huge", &err), -1);
    assert_non_null(strstr(err.msg, "single"));
    assert_non_null(strstr(err.msg, "unknown category 'huge' (known: "));
    assert_non_null(strstr(err.msg, "standard"));
    assert_non_null(strstr(err.msg, "high_concurrency"));
    assert_null(strstr(err.msg, "_comment"));
    assert_memory_equal(&c, &before, sizeof c);
}

static void test_file_overrides_env(void **state)
{
    (void)state;
    setenv("FLOWGATE_SCHEDULERS", "palette", 1);
    setenv("FLOWGATE_RESULTS_DIR", "/tmp/from-env", 1);
    setenv("FLOWGATE_ENDPOINTS", "/tmp/env-endpoints.json", 1);
    write_cfg("{\"schedulers\":[\"faaspr\",\"round_robin\"],\"results_dir\":\"from-file\"}");
    fg_run_config c;
    fg_err err = {""};
    fg_config_defaults(&c);
    assert_int_equal(fg_config_apply_env(&c, &err), 0);
    assert_int_equal(fg_config_apply_file(&c, cfg_path, &err), 0);
    assert_int_equal(c.n_schedulers, 2);
    assert_string_equal(c.schedulers[0], "faaspr");
    assert_string_equal(c.results_dir, "from-file");
    assert_string_equal(c.endpoints, "/tmp/env-endpoints.json");   /* not in the file */
}

static void test_file_all_keys(void **state)
{
    (void)state;
    /* concurrency before category: the category still only sets the base. */
    write_cfg("{\"_comment\":\"x\",\"concurrency\":[3,7],\"category\":\"large_input\","
              "\"requests\":12,\"warmup\":0,\"timeout_s\":5.5,\"retries\":2,\"inline\":true,"
              "\"variant\":\"illegal_text\",\"repeats\":3,\"endpoints\":\"e.json\","
              "\"nodes_file\":\"n.json\",\"workflow\":\"w.json\",\"profile\":\"p.json\","
              "\"thresholds\":\"t.json\",\"results_dir\":\"r\",\"images_dir\":\"i\","
              "\"rate_rps\":20,\"duration_s\":30,\"schedulers\":[\"ours\"],\"warmup_s\":12.5,"
              "\"max_inflight\":64,\"server_bin\":\"/opt/fg/flowgate-functions\"}");
    fg_run_config c;
    fg_err err = {""};
    fg_config_defaults(&c);
    int rc = fg_config_apply_file(&c, cfg_path, &err);
    if (rc) print_error("%s\n", err.msg);
    assert_int_equal(rc, 0);
    assert_string_equal(c.category, "large_input");
    assert_int_equal(c.scale_prefix, 1);
    assert_int_equal(c.n_sizes, 2);
    assert_true(c.sizes_mb[1] == 10.0);
    assert_int_equal(c.n_concurrency, 2);
    assert_int_equal(c.concurrency[1], 7);
    assert_int_equal(c.requests, 12);
    assert_int_equal(c.warmup, 0);
    assert_true(c.timeout_s == 5.5);
    assert_int_equal(c.retries, 2);
    assert_int_equal(c.inline_data, 1);
    assert_int_equal(c.variant, FG_VARIANT_ILLEGAL_TEXT);
    assert_int_equal(c.repeats, 3);
    assert_string_equal(c.endpoints, "e.json");
    assert_string_equal(c.nodes_file, "n.json");
    assert_string_equal(c.workflow, "w.json");
    assert_string_equal(c.profile, "p.json");
    assert_string_equal(c.thresholds, "t.json");
    assert_string_equal(c.results_dir, "r");
    assert_string_equal(c.images_dir, "i");
    assert_true(c.rate_rps == 20);
    assert_true(c.duration_s == 30);
    assert_true(c.warmup_s == 12.5);
    assert_int_equal(c.max_inflight, 64);
    assert_string_equal(c.server_bin, "/opt/fg/flowgate-functions");

    write_cfg("{\"input_sizes_mb\":[0.25,3]}");
    assert_int_equal(fg_config_apply_file(&c, cfg_path, &err), 0);
    assert_int_equal(c.n_sizes, 2);
    assert_true(c.sizes_mb[0] == 0.25);
    assert_string_equal(c.category, "large_input");   /* earlier layers stay */
}

/* "nodes_file" names the embedded server's nodes; "nodes_profile" is its
 * older spelling and still read; both in one file is an error. "profile"
 * (the calibration profile) is another file and stays apart. */
static void test_file_nodes_file_key(void **state)
{
    (void)state;
    fg_run_config c;
    fg_err err = {""};
    fg_config_defaults(&c);
    write_cfg("{\"nodes_file\":\"new.json\",\"profile\":\"cal.json\"}");
    assert_int_equal(fg_config_apply_file(&c, cfg_path, &err), 0);
    assert_string_equal(c.nodes_file, "new.json");
    assert_string_equal(c.profile, "cal.json");

    fg_config_defaults(&c);
    write_cfg("{\"nodes_profile\":\"old.json\"}");
    assert_int_equal(fg_config_apply_file(&c, cfg_path, &err), 0);
    assert_string_equal(c.nodes_file, "old.json");
    assert_string_equal(c.profile, "");

    fg_config_defaults(&c);
    fg_run_config before = c;
    write_cfg("{\"nodes_file\":\"new.json\",\"nodes_profile\":\"old.json\"}");
    assert_int_equal(fg_config_apply_file(&c, cfg_path, &err), -1);
    assert_non_null(strstr(err.msg, ": nodes_profile: the older spelling of nodes_file, which is "
                                    "set too: keep one"));
    assert_memory_equal(&c, &before, sizeof c);
}

static void expect_file_error(const char *json, const char *needle)
{
    write_cfg(json);
    fg_run_config c, before;
    fg_config_defaults(&c);
    before = c;
    fg_err err = {""};
    int rc = fg_config_apply_file(&c, cfg_path, &err);
    if (rc != -1 || !strstr(err.msg, needle) || strncmp(err.msg, cfg_path, strlen(cfg_path))) {
        print_error("%s: want error \"%s: ...%s...\", got rc=%d '%s'\n", json, cfg_path, needle, rc, err.msg);
        fail();
    }
    assert_memory_equal(&c, &before, sizeof c);   /* nothing half-applied */
}

static void test_file_errors(void **state)
{
    (void)state;
    expect_file_error("{\"requests\":5,\"concurency\":[1]}", ": concurency: unknown key (known: category,");
    expect_file_error("{\"requests\":\"10\"}", ": requests: expected an integer from 1");
    /* 0 is not a silent "default": the file must say what it means. */
    expect_file_error("{\"requests\":0}", ": requests: 0 measures nothing; omit the key");
    expect_file_error("{\"requests\":2.5}", ": requests: expected an integer");
    expect_file_error("{\"repeats\":0}", ": repeats: expected an integer from 1");
    expect_file_error("{\"concurrency\":[1,0]}", ": concurrency[1]: expected an integer from 1");
    expect_file_error("{\"concurrency\":5}", ": concurrency: expected an array of numbers");
    expect_file_error("{\"concurrency\":[]}", ": concurrency: empty");
    expect_file_error("{\"input_sizes_mb\":[1,\"2\"]}", ": input_sizes_mb[1]: expected a number");
    expect_file_error("{\"input_sizes_mb\":[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17]}",
                      ": input_sizes_mb: 17 values, over the limit of 16");
    expect_file_error("{\"schedulers\":[\"ours\",\"fifo\"]}",
                      ": schedulers: unknown scheduler 'fifo' (known: ours, faaspr, palette, round_robin)");
    expect_file_error("{\"schedulers\":[]}", ": schedulers: expected a non-empty array");
    expect_file_error("{\"category\":\"huge\"}", ": category: unknown category 'huge' (known: ");
    expect_file_error("{\"category\":3}", ": category: expected a string");
    expect_file_error("{\"variant\":\"blurry\"}", ": variant: expected one of clean, adult");
    expect_file_error("{\"inline\":1}", ": inline: expected true or false");
    expect_file_error("{\"timeout_s\":0}", ": timeout_s: expected a number > 0");
    expect_file_error("{\"workflow\":7}", ": workflow: expected a string");
    expect_file_error("{\"rate_rps\":10}", ": rate_rps: open loop needs duration_s > 0");
    /* A duration without a rate (or with rate 0) would run a closed loop. */
    expect_file_error("{\"duration_s\":30}", ": duration_s: needs rate_rps > 0 (open loop)");
    expect_file_error("{\"rate_rps\":0,\"duration_s\":30}", ": duration_s: needs rate_rps > 0");
    /* cJSON keeps both copies of a repeated key; lookups see the first. */
    expect_file_error("{\"requests\":5,\"warmup\":1,\"requests\":50}", ": duplicate key 'requests'");
    expect_file_error("{\"category\":\"smoke\",\"category\":\"standard\"}", ": duplicate key 'category'");
    expect_file_error("{\"warmup_s\":-1}", ": warmup_s: expected a number from 0 to 3600");
    expect_file_error("{\"warmup_s\":\"10\"}", ": warmup_s: expected a number");
    expect_file_error("{\"max_inflight\":-5}", ": max_inflight: expected an integer from 0 to 1000000");
    expect_file_error("{\"max_inflight\":2.5}", ": max_inflight: expected an integer");
    expect_file_error("{\"server_bin\":3}", ": server_bin: expected a string");
    expect_file_error("{\"requests\":", "invalid JSON");
    expect_file_error("[1]", "expected a JSON object");

    fg_run_config c;
    fg_config_defaults(&c);
    fg_err err = {""};
    assert_int_equal(fg_config_apply_file(&c, "/nonexistent/custom.json", &err), -1);
    assert_non_null(strstr(err.msg, "/nonexistent/custom.json"));
}

static void test_requests_for(void **state)
{
    (void)state;
    fg_run_config c;
    fg_config_defaults(&c);
    /* max(default_requests, 3*C), never below 20 (p95 needs 20 samples) */
    assert_int_equal(fg_config_requests_for(&c, 1), 20);
    assert_int_equal(fg_config_requests_for(&c, 3), 20);
    assert_int_equal(fg_config_requests_for(&c, 7), 21);
    assert_int_equal(fg_config_requests_for(&c, 10), 30);
    assert_int_equal(fg_config_requests_for(&c, 50), 150);
    c.default_requests = 100;
    assert_int_equal(fg_config_requests_for(&c, 20), 100);
    /* DEFAULT_REQUESTS below the floor does not go below it */
    c.default_requests = 5;
    assert_int_equal(fg_config_requests_for(&c, 1), 20);
    /* Explicit count wins over the rule and the floor. */
    c.requests = 7;
    assert_int_equal(fg_config_requests_for(&c, 50), 7);
    assert_int_equal(fg_config_requests_for(&c, 1), 7);
    /* Scale (CI), but never below 20 nor below C without an explicit count. */
    c.requests = 0;
    c.default_requests = 20;
    c.request_scale = 0.5;
    assert_int_equal(fg_config_requests_for(&c, 10), 20);
    assert_int_equal(fg_config_requests_for(&c, 20), 30);
    c.request_scale = 0.34;
    assert_int_equal(fg_config_requests_for(&c, 2), 20);
    assert_int_equal(fg_config_requests_for(&c, 50), 51);
    c.request_scale = 0.01;
    assert_int_equal(fg_config_requests_for(&c, 1), 20);
    assert_int_equal(fg_config_requests_for(&c, 50), 50);
    /* An explicit count is scaled too, kept at min(count, C) ... */
    c.requests = 3;
    assert_int_equal(fg_config_requests_for(&c, 10), 3);
    c.requests = 100;
    assert_int_equal(fg_config_requests_for(&c, 10), 10);
    /* ... and scaling up multiplies. */
    c.requests = 0;
    c.request_scale = 2;
    assert_int_equal(fg_config_requests_for(&c, 5), 40);
}

static void expect_check_error(const fg_run_config *c, const char *needle)
{
    fg_err err = {""};
    int rc = fg_config_check(c, &err);
    if (rc != -1 || !strstr(err.msg, needle) || strchr(err.msg, '\n')) {
        print_error("want a one-line error containing \"%s\", got rc=%d '%s'\n", needle, rc, err.msg);
        fail();
    }
}

static void test_check_across_layers(void **state)
{
    (void)state;
    fg_run_config c;
    fg_err err = {""};
    fg_config_defaults(&c);
    assert_int_equal(fg_config_check(&c, &err), 0);   /* standard, embedded, 64 MiB */

    /* Open loop needs both halves; an in-flight cap needs an open loop. */
    c.duration_s = 10;
    expect_check_error(&c, "duration_s 10 (--duration) needs rate_rps > 0 (--rate)");
    c.duration_s = 0;
    c.rate_rps = 5;
    expect_check_error(&c, "open loop needs duration_s (--duration)");
    c.rate_rps = 0;
    c.max_inflight = 10;
    expect_check_error(&c, "max_inflight 10 (--max-inflight) caps an open loop only");
    c.rate_rps = 5;
    c.duration_s = 10;
    assert_int_equal(fg_config_check(&c, &err), 0);
    c.rate_rps = c.duration_s = 0;
    c.max_inflight = 0;

    /* server_bin is for the server flowgate starts, not for endpoints. */
    snprintf(c.server_bin, sizeof c.server_bin, "/opt/flowgate-functions");
    snprintf(c.endpoints, sizeof c.endpoints, "e.json");
    expect_check_error(&c, "server_bin '/opt/flowgate-functions' (--server-bin) is only used when");
    c.server_bin[0] = 0;

    /* 60 MB: a PNG of up to 61.8 MiB is up to 82.4 MiB in base64, over 64 MiB. */
    c.sizes_mb[0] = 60;
    c.n_sizes = 1;
    expect_check_error(&c, "input size 60.0 MB can never be sent: its PNG (up to 61.8 MiB, +-3 %) "
                           "base64-encoded is an upload body of up to 82.4 MiB, over the server's "
                           "64 MiB body limit (the default for endpoints of unknown limit); "
                           "sizes up to 46.6 MB fit");
    c.endpoints[0] = 0;   /* embedded: the nodes file's max_body_mb */
    expect_check_error(&c, "64 MiB body limit (max_body_mb in ");
    c.sizes_mb[0] = 46.6;
    assert_int_equal(fg_config_check(&c, &err), 0);
    c.sizes_mb[0] = 46.7;
    expect_check_error(&c, "input size 46.7 MB can never be sent");

    /* A profile with a larger limit accepts 60 MB; one without the key
     * gets the server's default of 64. */
    write_cfg("{\"max_body_mb\": 128, \"nodes\": []}");
    snprintf(c.nodes_file, sizeof c.nodes_file, "%s", cfg_path);
    c.sizes_mb[0] = 60;
    assert_int_equal(fg_config_check(&c, &err), 0);
    double limit = 0;
    char source[1200];
    assert_int_equal(fg_config_body_limit(&c, &limit, source, sizeof source, &err), 0);
    assert_true(limit == 128 * 1048576.0);
    write_cfg("{\"nodes\": []}");
    expect_check_error(&c, "64 MiB body limit (the server's default;");
    /* Every size is checked, not only the first. */
    c.sizes_mb[0] = 0.1;
    c.sizes_mb[1] = 2;
    c.sizes_mb[2] = 50;
    c.n_sizes = 3;
    expect_check_error(&c, "input size 50.0 MB");
    /* The arithmetic: 1 MB is at most 1.03 MiB of PNG, 4/3 of it in base64. */
    double body = fg_upload_body_max_bytes(1.0);
    assert_true(body > 1.03 * 1048576 * 4 / 3 && body < 1.03 * 1048576 * 4 / 3 + 64);
}

static void test_duplicate_keys(void **state)
{
    (void)state;
    const char *docs[][2] = {
        {"{\"a\":1,\"b\":2}", NULL},
        {"{\"a\":1,\"b\":2,\"a\":3}", "a"},
        {"{\"x\":{\"k\":1,\"k\":2}}", "k"},
        {"{\"nodes\":[{\"name\":\"n\",\"url\":\"u\",\"url\":\"v\"}]}", "url"},
        {"[{\"a\":1},{\"a\":2}]", NULL},   /* the same key in two objects is fine */
    };
    for (size_t i = 0; i < sizeof docs / sizeof docs[0]; i++) {
        cJSON *j = cJSON_Parse(docs[i][0]);
        assert_non_null(j);
        const char *dup = fg_json_duplicate_key(j);
        if (docs[i][1]) {
            assert_non_null(dup);
            assert_string_equal(dup, docs[i][1]);
        } else {
            assert_null(dup);
        }
        cJSON_Delete(j);
    }
}

static void expect_mb(double mb, const char *want)
{
    char buf[32];
    fg_format_mb(mb, buf, sizeof buf);
    if (strcmp(buf, want)) {
        print_error("fg_format_mb(%g): want '%s', got '%s'\n", mb, want, buf);
        fail();
    }
}

static void test_format_mb(void **state)
{
    (void)state;
    expect_mb(0.1, "0.1");
    expect_mb(1, "1.0");
    expect_mb(2, "2.0");
    expect_mb(5, "5.0");
    expect_mb(10, "10.0");
    expect_mb(0.25, "0.25");
    expect_mb(0.05, "0.05");
    expect_mb(1.5, "1.5");
    expect_mb(0.125, "0.125");
}

static void test_log_threshold(void **state)
{
    (void)state;
    char path[300];
    snprintf(path, sizeof path, "%s.log", cfg_path);
    fflush(stderr);
    int saved = dup(2);
    int fd = open(path, O_CREAT | O_TRUNC | O_WRONLY, 0644);
    assert_true(saved >= 0 && fd >= 0);
    dup2(fd, 2);
    close(fd);
    fg_log_level old = fg_log_threshold;
    fg_log_threshold = FG_LOG_WARN;
    fg_log(FG_LOG_INFO, "hidden %d", 1);
    fg_log(FG_LOG_WARN, "shown %d", 2);
    fg_log(FG_LOG_ERROR, "bad %s\n", "thing");
    fg_log_threshold = old;
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    char buf[256] = "";
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = 0;
    fclose(f);
    unlink(path);
    assert_string_equal(buf, "warn: shown 2\nerror: bad thing\n");
}

/* data_dir: the defaults that came from the data directory follow it;
 * explicit paths stay, whichever came first; images and the matrix do not
 * move (both sides of an A/B run the same cells on the same inputs). */
static void test_data_dir(void **state)
{
    (void)state;
    fg_run_config c;
    fg_err err = {""};
    fg_config_defaults(&c);
    char images[512];
    snprintf(images, sizeof images, "%s", c.images_dir);
    assert_string_equal(fg_config_data_dir(&c), fg_data_dir());
    assert_int_equal(fg_config_set_data_dir(&c, "test", "/prev/data", &err), 0);
    assert_string_equal(c.data_dir, "/prev/data");
    assert_string_equal(fg_config_data_dir(&c), "/prev/data");
    assert_string_equal(c.nodes_file, "/prev/data/nodes.json");
    assert_string_equal(c.workflow, "/prev/data/workflows/recognizer.json");
    assert_string_equal(c.thresholds, "/prev/data/thresholds.json");
    assert_string_equal(c.images_dir, images);
    /* Set again: the defaults follow once more. */
    assert_int_equal(fg_config_set_data_dir(&c, "test", "other", &err), 0);
    assert_string_equal(c.nodes_file, "other/nodes.json");
    expect_parse_error(fg_config_set_data_dir(&c, "test", "", &err), &err, "test: ", "empty");

    /* Config key: an explicit workflow before or after it stays. */
    write_cfg("{\"workflow\": \"mine.json\", \"data_dir\": \"/prev/data\", "
              "\"thresholds\": \"t.json\"}");
    fg_config_defaults(&c);
    assert_int_equal(fg_config_apply_file(&c, cfg_path, &err), 0);
    assert_string_equal(c.data_dir, "/prev/data");
    assert_string_equal(c.workflow, "mine.json");
    assert_string_equal(c.thresholds, "t.json");
    assert_string_equal(c.nodes_file, "/prev/data/nodes.json");
    write_cfg("{\"data_dir\": 3}");
    fg_config_defaults(&c);
    expect_parse_error(fg_config_apply_file(&c, cfg_path, &err), &err, cfg_path, "data_dir: expected a string");
    /* Not a directory: refused once every layer is in. */
    fg_config_defaults(&c);
    assert_int_equal(fg_config_set_data_dir(&c, "test", "/nonexistent/data", &err), 0);
    expect_parse_error(fg_config_check(&c, &err), &err, "data_dir '/nonexistent/data'",
                       "not a directory");

    /* The flag (shared by run and ab): --nodes beside it stays. */
    char *argv[] = {"run", "--data-dir", "/prev/data", "--nodes", "n.json"};
    run_flags f;
    run_flags_init(&f);
    for (int i = 1; i < 5; i++) assert_int_equal(run_flags_take(&f, 5, argv, &i, &err), 1);
    assert_int_equal(run_flags_apply(&f, "smoke", &c, &err), 0);
    assert_string_equal(c.data_dir, "/prev/data");
    assert_string_equal(c.nodes_file, "n.json");
    assert_string_equal(c.thresholds, "/prev/data/thresholds.json");
    char *missing[] = {"run", "--data-dir"};
    run_flags_init(&f);
    int i = 1;
    assert_int_equal(run_flags_take(&f, 2, missing, &i, &err), -1);
    assert_string_equal(err.msg, "--data-dir needs a value");
}

/* A category of explicit cells: the gate's diagonal, not a cross product;
 * an explicit axis makes it one again. */
static void test_category_cells(void **state)
{
    (void)state;
    fg_run_config c;
    fg_err err = {""};
    fg_config_defaults(&c);
    assert_int_equal(fg_config_apply_category(&c, "gate", &err), 0);
    fg_cell cells[FG_MAX_CELLS];
    assert_int_equal(fg_config_cells(&c, cells, FG_MAX_CELLS), 3);
    assert_true(cells[0].size_mb == 0.1 && cells[0].concurrency == 1);
    assert_true(cells[1].size_mb == 1.0 && cells[1].concurrency == 5);
    assert_true(cells[2].size_mb == 2.0 && cells[2].concurrency == 10);
    assert_int_equal(c.n_sizes, 3);   /* the axes: the distinct values */
    assert_int_equal(c.n_concurrency, 3);
    write_cfg("{\"category\": \"gate\", \"concurrency\": [2]}");
    fg_config_defaults(&c);
    assert_int_equal(fg_config_apply_file(&c, cfg_path, &err), 0);
    assert_int_equal(fg_config_cells(&c, cells, FG_MAX_CELLS), 3);   /* 3 sizes x [2] */
    assert_true(cells[2].size_mb == 2.0 && cells[2].concurrency == 2);
    fg_config_defaults(&c);
    assert_int_equal(fg_config_cells(&c, cells, FG_MAX_CELLS), 9);

    /* Bad lists in a categories file of our own: one line each. */
    static const struct { const char *json, *needle; } bad[] = {
        {"{\"x\": {\"cells\": []}}", "x.cells: expected a non-empty array"},
        {"{\"x\": {\"cells\": [[0.1]]}}", "x.cells[0]: expected [size_mb"},
        {"{\"x\": {\"cells\": [[0.1, 1.5]]}}", "x.cells[0]: expected [size_mb"},
        {"{\"x\": {\"cells\": [[0.1, 1], [0.1, 1]]}}", "x.cells[1]: cell [0.1, 1] listed twice"},
        {"{\"x\": {\"cells\": [[0.1, 1]], \"concurrency\": [1]}}", "either cells or"},
    };
    char dir[64], path[128];
    snprintf(dir, sizeof dir, "/tmp/test_config_cells_XXXXXX");
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/categories.json", dir);
    char *old = getenv("FLOWGATE_DATA") ? strdup(getenv("FLOWGATE_DATA")) : NULL;
    setenv("FLOWGATE_DATA", dir, 1);
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        FILE *f = fopen(path, "w");
        assert_non_null(f);
        fputs(bad[k].json, f);
        fclose(f);
        fg_config_defaults(&c);
        fg_run_config before = c;
        assert_int_equal(fg_config_apply_category(&c, "x", &err), -1);
        if (!strstr(err.msg, bad[k].needle)) fail_msg("%s: got '%s'", bad[k].json, err.msg);
        assert_memory_equal(&c, &before, sizeof c);
    }
    if (old) setenv("FLOWGATE_DATA", old, 1);
    else unsetenv("FLOWGATE_DATA");
    free(old);
    unlink(path);
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_defaults, clear_env, cleanup),
        cmocka_unit_test_setup_teardown(test_env_overrides, clear_env, cleanup),
        cmocka_unit_test_setup_teardown(test_env_errors, clear_env, cleanup),
        cmocka_unit_test_setup_teardown(test_parse_numbers, clear_env, cleanup),
        cmocka_unit_test_setup_teardown(test_parse_lists, clear_env, cleanup),
        cmocka_unit_test_setup_teardown(test_set_schedulers, clear_env, cleanup),
        cmocka_unit_test_setup_teardown(test_categories, clear_env, cleanup),
        cmocka_unit_test_setup_teardown(test_file_overrides_env, clear_env, cleanup),
        cmocka_unit_test_setup_teardown(test_file_all_keys, clear_env, cleanup),
        cmocka_unit_test_setup_teardown(test_file_errors, clear_env, cleanup),
        cmocka_unit_test_setup_teardown(test_file_nodes_file_key, clear_env, cleanup),
        cmocka_unit_test_setup_teardown(test_requests_for, clear_env, cleanup),
        cmocka_unit_test_setup_teardown(test_check_across_layers, clear_env, cleanup),
        cmocka_unit_test_setup_teardown(test_duplicate_keys, clear_env, cleanup),
        cmocka_unit_test_setup_teardown(test_format_mb, clear_env, cleanup),
        cmocka_unit_test_setup_teardown(test_log_threshold, clear_env, cleanup),
        cmocka_unit_test_setup_teardown(test_data_dir, clear_env, cleanup),
        cmocka_unit_test_setup_teardown(test_category_cells, clear_env, cleanup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
