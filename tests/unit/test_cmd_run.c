/* test_cmd_run.c — `flowgate run` (and `ab`, which shares its flags) refuses the mistakes it used to accept
 * silently, before it starts anything: exit 2 and one line on stderr that
 * names the problem. Runs the built binary ($FLOWGATE_BIN/flowgate); no
 * server is started, because every case fails while the configuration is
 * built. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "flowgate/common.h"

static char bin[1024];
static char dir[64];

static int setup(void **state)
{
    (void)state;
    const char *b = getenv("FLOWGATE_BIN");
    snprintf(bin, sizeof bin, "%s/flowgate", b && *b ? b : ".");
    snprintf(dir, sizeof dir, "/tmp/test_cmd_run_XXXXXX");
    if (!mkdtemp(dir)) return -1;
    unsetenv("FLOWGATE_ENDPOINTS");
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static void write_file(const char *name, const char *text, char *path, size_t size)
{
    snprintf(path, size, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

/* Runs `flowgate CMD CATEGORY ARGS...` and expects exit 2 with exactly one
 * stderr line containing needle, and no results directory created. */
static void expect_refused_in(const char *cmd, const char *category, const char *needle,
                              const char *const *args)
{
    char err_path[128], results[128];
    snprintf(err_path, sizeof err_path, "%s/stderr", dir);
    snprintf(results, sizeof results, "%s/results", dir);
    const char *argv[32] = {bin, cmd, category, "--results-dir", results};
    int n = 5;
    for (int i = 0; args[i] && n < 31; i++) argv[n++] = args[i];
    argv[n] = NULL;
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int fd = open(err_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        int null = open("/dev/null", O_WRONLY);
        if (fd < 0 || null < 0) _exit(99);
        dup2(fd, 2);
        dup2(null, 1);
        execv(bin, (char *const *)argv);
        _exit(98);
    }
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    fg_buf out;
    fg_err e;
    assert_int_equal(fg_read_file(err_path, 1 << 16, &out, &e), 0);
    char text[4096];
    snprintf(text, sizeof text, "%.*s", (int)out.len, out.data ? (const char *)out.data : "");
    fg_buf_free(&out);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 2 || !strstr(text, needle))
        fail_msg("want exit 2 and '%s', got status %d: %s", needle,
                 WIFEXITED(status) ? WEXITSTATUS(status) : -1, text);
    /* one line: the only newline ends it */
    char *nl = strchr(text, '\n');
    if (!nl || nl[1]) fail_msg("want one line, got: %s", text);
    assert_int_equal(access(results, F_OK), -1);
}

static void expect_refused_by(const char *cmd, const char *needle, const char *const *args)
{
    expect_refused_in(cmd, "smoke", needle, args);
}

static void expect_refused(const char *needle, const char *const *args)
{
    expect_refused_by("run", needle, args);
}

static void test_duration_without_rate(void **state)
{
    (void)state;
    expect_refused("--duration needs --rate", (const char *const[]){"--duration", "10", NULL});
    expect_refused("--rate needs --duration", (const char *const[]){"--rate", "10", NULL});
    char cfg[128];
    write_file("dur.json", "{\"duration_s\": 30}", cfg, sizeof cfg);
    expect_refused("dur.json: duration_s: needs rate_rps > 0",
                   (const char *const[]){"--config", cfg, NULL});
    write_file("rate0.json", "{\"rate_rps\": 0, \"duration_s\": 30}", cfg, sizeof cfg);
    expect_refused("rate0.json: duration_s: needs rate_rps > 0",
                   (const char *const[]){"--config", cfg, NULL});
    /* an in-flight cap on a closed loop would do nothing */
    expect_refused("--max-inflight caps an open loop only",
                   (const char *const[]){"--max-inflight", "10", NULL});
}

static void test_duplicate_key(void **state)
{
    (void)state;
    char cfg[128];
    write_file("config.json", "{\"requests\": 30, \"warmup\": 2, \"requests\": 300}", cfg, sizeof cfg);
    expect_refused("config.json: duplicate key 'requests'", (const char *const[]){"--config", cfg, NULL});
}

static void test_size_over_body_limit(void **state)
{
    (void)state;
    expect_refused("input size 60.0 MB can never be sent: its PNG (up to 61.8 MiB, +-3 %) "
                   "base64-encoded is an upload body of up to 82.4 MiB, over the server's 64 MiB "
                   "body limit (max_body_mb in ",
                   (const char *const[]){"--sizes", "0.1,60", NULL});
    char cfg[128];
    write_file("big.json", "{\"input_sizes_mb\": [50]}", cfg, sizeof cfg);
    expect_refused("input size 50.0 MB can never be sent",
                   (const char *const[]){"--config", cfg, NULL});
    /* endpoints of unknown limit: the 64 MiB default, said so */
    char ep[128];
    write_file("ep.json", "{\"mode\":\"nodes\",\"nodes\":[{\"name\":\"n\",\"url\":\"http://127.0.0.1:1\"}]}",
               ep, sizeof ep);
    expect_refused("(the default for endpoints of unknown limit)",
                   (const char *const[]){"--endpoints", ep, "--sizes", "60", NULL});
}

static void test_new_flags_range_checked(void **state)
{
    (void)state;
    expect_refused("--warmup-s: expected a number from 0.001 to 3600, got '-1'",
                   (const char *const[]){"--warmup-s", "-1", NULL});
    expect_refused("--warmup-s: expected a number", (const char *const[]){"--warmup-s", "5s", NULL});
    expect_refused("--max-inflight: expected an integer from 1 to 1000000, got '0'",
                   (const char *const[]){"--rate", "5", "--duration", "2", "--max-inflight", "0", NULL});
    char ep[128];
    write_file("ep2.json", "{\"mode\":\"nodes\",\"nodes\":[{\"name\":\"n\",\"url\":\"http://127.0.0.1:1\"}]}",
               ep, sizeof ep);
    expect_refused("(--server-bin) is only used when flowgate starts the server itself",
                   (const char *const[]){"--endpoints", ep, "--server-bin", "/bin/true", NULL});
    char cfg[128];
    write_file("bad.json", "{\"max_inflight\": -1}", cfg, sizeof cfg);
    expect_refused("bad.json: max_inflight: expected an integer from 0 to 1000000",
                   (const char *const[]){"--config", cfg, NULL});
}

/* --workflow: a missing workflow file, an unknown payload kind, a JSON
 * input file that is missing or not JSON, an input that is not declared —
 * each refused before any server starts or results file exists
 * (--no-thresholds: loading thresholds logs the machine probe first). */
static void test_bad_workflow_payloads(void **state)
{
    (void)state;
#define ONE_STEP "\"steps\":[{\"id\":\"recognizer__translate\",\"in\":{\"text\":\"$inputs.t\"},\"out\":{}}],\"edges\":[]}"
    char wf[128], in[128];
    expect_refused("/nonexistent/wf.json: cannot open",
                   (const char *const[]){"--no-thresholds", "--workflow", "/nonexistent/wf.json", NULL});
    write_file("kind.json", "{\"name\":\"x\",\"inputs\":{\"t\":\"s\"},\"payload\":{\"kind\":\"csv\"}," ONE_STEP,
               wf, sizeof wf);
    expect_refused("kind.json: payload.kind: unknown kind 'csv'",
                   (const char *const[]){"--no-thresholds", "--workflow", wf, NULL});
    write_file("missing.json", "{\"name\":\"x\",\"inputs\":{\"t\":\"s\"},"
               "\"payload\":{\"kind\":\"json_file\",\"path\":\"no-such-input.json\"}," ONE_STEP,
               wf, sizeof wf);
    expect_refused("no-such-input.json: cannot open", (const char *const[]){"--no-thresholds", "--workflow", wf, NULL});
    write_file("in.json", "{\"t\": \"hola\",", in, sizeof in);
    write_file("broken.json", "{\"name\":\"x\",\"inputs\":{\"t\":\"s\"},"
               "\"payload\":{\"kind\":\"json_file\",\"path\":\"in.json\"}," ONE_STEP,
               wf, sizeof wf);
    expect_refused("in.json: invalid JSON near byte", (const char *const[]){"--no-thresholds", "--workflow", wf, NULL});
    write_file("extra.json", "{\"name\":\"x\",\"inputs\":{\"t\":\"s\"},"
               "\"payload\":{\"kind\":\"json\",\"value\":{\"t\":\"a\",\"u\":1}}," ONE_STEP,
               wf, sizeof wf);
    expect_refused("payload.value: field 'u' is not an input of workflow 'x'",
                   (const char *const[]){"--no-thresholds", "--workflow", wf, NULL});
}

/* `flowgate ab` reads the shared flags as `run` does (run_flags.c), and
 * refuses those that name one system or ask for repeats. */
static void test_ab_shares_run_flags(void **state)
{
    (void)state;
    expect_refused_by("ab", "--duration needs --rate", (const char *const[]){"--duration", "3", NULL});
    expect_refused_by("ab", "--warmup-s: expected a number", (const char *const[]){"--warmup-s", "x", NULL});
    expect_refused_by("ab", "--repeats does not apply to an A/B run",
                      (const char *const[]){"--repeats", "3", NULL});
    expect_refused_by("ab", "--nodes does not apply to an A/B run",
                      (const char *const[]){"--nodes", "x.json", NULL});
    expect_refused_by("ab", "side A: input size 60.0 MB can never be sent",
                      (const char *const[]){"--sizes", "60", NULL});
    expect_refused_by("ab", "--b-slowdown: expected a number from 1 to 100",
                      (const char *const[]){"--b-slowdown", "0.5", NULL});
}

/* Arrival processes, network conditions and the scenarios' own words. */
static void test_arrival_network_scenarios(void **state)
{
    (void)state;
    expect_refused("--arrival: unknown process 'gamma' (known: constant, poisson)",
                   (const char *const[]){"--rate", "2", "--duration", "2", "--arrival", "gamma",
                                         NULL});
    expect_refused("arrival poisson (--arrival) shapes an open loop only",
                   (const char *const[]){"--arrival", "poisson", NULL});
    expect_refused("--seed: expected a number", (const char *const[]){"--seed", "x", NULL});
    expect_refused("--seed: '1.5' is not an integer", (const char *const[]){"--seed", "1.5", NULL});
    expect_refused("--bandwidth-mbit: expected a number from 0",
                   (const char *const[]){"--bandwidth-mbit", "-5", NULL});
    expect_refused("--latency-ms: expected a number", (const char *const[]){"--latency-ms", "1s", NULL});
    char ep[128];
    write_file("ep3.json", "{\"mode\":\"nodes\",\"nodes\":[{\"name\":\"n\",\"url\":\"http://127.0.0.1:1\"}]}",
               ep, sizeof ep);
    expect_refused("the embedded server's links, but endpoints are set",
                   (const char *const[]){"--endpoints", ep, "--latency-ms", "5", NULL});
    char cfg[128];
    write_file("arr.json", "{\"arrival\": \"uniform\"}", cfg, sizeof cfg);
    expect_refused("arr.json: arrival: expected \"constant\" or \"poisson\"",
                   (const char *const[]){"--config", cfg, NULL});
    expect_refused("--spin-us paces an open loop only", (const char *const[]){"--spin-us", "50", NULL});
    expect_refused("--spin-us: expected a number from 0 to 10000",
                   (const char *const[]){"--rate", "2", "--duration", "2", "--spin-us", "2e4", NULL});
    write_file("spin.json", "{\"spin_us\": 50}", cfg, sizeof cfg);
    expect_refused("spin_us 50 (--spin-us) paces an open loop only",
                   (const char *const[]){"--config", cfg, NULL});
    expect_refused("--transport: unknown transport 'h2' (known: auto, direct, libcurl)",
                   (const char *const[]){"--transport", "h2", NULL});
    write_file("tr.json", "{\"transport\": \"curl\"}", cfg, sizeof cfg);
    expect_refused("tr.json: transport: expected \"auto\", \"direct\" or \"libcurl\"",
                   (const char *const[]){"--config", cfg, NULL});
    expect_refused("--override is for scenarios; it needs the scenarios category",
                   (const char *const[]){"--override", NULL});
    expect_refused_in("run", "scenarios", "unknown scenario 'Nope'",
                      (const char *const[]){"Nope", NULL});
    expect_refused_in("run", "scenarios", "scenarios set each node's network",
                      (const char *const[]){"--endpoints", ep, NULL});
    expect_refused_in("run", "scenarios", "fastest",
                      (const char *const[]){"--schedulers", "fastest", NULL});
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_duration_without_rate),
        cmocka_unit_test(test_duplicate_key),
        cmocka_unit_test(test_size_over_body_limit),
        cmocka_unit_test(test_new_flags_range_checked),
        cmocka_unit_test(test_ab_shares_run_flags),
        cmocka_unit_test(test_arrival_network_scenarios),
        cmocka_unit_test(test_bad_workflow_payloads),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
