/* test_slowdown.c — the known-effect knob (src/server/slowdown.h) over real
 * HTTP. The test starts its own flowgate-functions with --slowdown 3 (one
 * node on 127.0.0.1, an ephemeral port), so the shared HTTP test server
 * stays a normal one, and compares the two:
 *   - GET / reports "slowdown": 3 on the slowed node and 1 on the normal one;
 *   - a CPU-heavy function (OCR extract, warm engines) takes clearly longer:
 *     the median exec_ms of interleaved calls is > 1.8x the normal server's
 *     (the knob makes it ~3x; the wide margin keeps a noisy machine from
 *     flaking the test, while a knob that did nothing would give ~1x);
 *   - bad factors (0.5, "x", none) are refused with exit 2 and one line
 *     naming --slowdown, and so are bad "slowdown" values in a profile.
 * The profile parsing of "slowdown" (top level, per node) is checked here
 * too, without a server. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "flowgate/b64.h"
#include "flowgate/common.h"
#include "flowgate/imagegen.h"
#include "http_client.h"
#include "node.h"

extern char **environ;

#define CALLS 5

static struct {
    char dir[256];          /* temp dir: profile, endpoints, logs */
    char bin[1024];
    pid_t pid;              /* the slowed server */
    char slow_url[256];
    char normal_url[256];   /* node 0 of the shared HTTP test server */
    char *png_b64;
} g;

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

/* Runs bin with args (NULL-terminated after argv[0] = bin), output to log.
 * Returns the pid. */
static pid_t spawn(char *const argv[], const char *log)
{
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_adddup2(&fa, 1, 2);
    pid_t pid;
    int rc = posix_spawn(&pid, argv[0], &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0) fail_msg("cannot start %s: %s", argv[0], strerror(rc));
    return pid;
}

static int wait_exit(pid_t pid)
{
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR) return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* The first "url" in an endpoints file, or "" when it is not complete. */
static void first_url(const char *path, char *out, size_t size)
{
    out[0] = 0;
    fg_buf text;
    fg_err err;
    if (fg_read_file(path, 1 << 20, &text, &err) != 0) return;
    cJSON *root = cJSON_ParseWithLength((const char *)text.data, text.len);
    fg_buf_free(&text);
    const cJSON *n = cJSON_GetArrayItem(cJSON_GetObjectItem(root, "nodes"), 0);
    const char *url = cJSON_GetStringValue(cJSON_GetObjectItem(n, "url"));
    if (url) snprintf(out, size, "%s", url);
    cJSON_Delete(root);
}

static cJSON *get_json(const char *base, const char *path)
{
    char url[512];
    snprintf(url, sizeof url, "%s%s", base, path);
    http_resp r;
    http_request("GET", url, NULL, 0, &r);
    assert_int_equal(r.status, 200);
    cJSON *o = cJSON_Parse(r.body);
    http_resp_free(&r);
    assert_non_null(o);
    return o;
}

static int setup(void **state)
{
    (void)state;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    const char *endpoints = getenv("FLOWGATE_ENDPOINTS");
    const char *bindir = getenv("FLOWGATE_BIN");
    if (!endpoints || !bindir) {
        fprintf(stderr, "test_slowdown: needs FLOWGATE_ENDPOINTS and FLOWGATE_BIN (run it through ctest)\n");
        return -1;
    }
    first_url(endpoints, g.normal_url, sizeof g.normal_url);
    if (!g.normal_url[0]) {
        fprintf(stderr, "test_slowdown: no node in %s\n", endpoints);
        return -1;
    }
    snprintf(g.bin, sizeof g.bin, "%s/flowgate-functions", bindir);
    const char *tmp = getenv("TMPDIR");
    snprintf(g.dir, sizeof g.dir, "%s/flowgate-slowdown-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(g.dir)) return -1;

    char profile[512], out[512], log[512], parent[24];
    snprintf(profile, sizeof profile, "%s/nodes.json", g.dir);
    snprintf(out, sizeof out, "%s/endpoints.json", g.dir);
    snprintf(log, sizeof log, "%s/server.log", g.dir);
    snprintf(parent, sizeof parent, "%ld", (long)getpid());
    /* The profile says 1.5: the flag must override it. */
    write_text(profile, "{\"slowdown\": 1.5, \"nodes\": [{\"name\": \"slow0\", \"workers\": 1}]}\n");
    char *argv[] = {g.bin, "--nodes", profile, "--slowdown", "3", "--bind", "127.0.0.1",
                    "--endpoints-out", out, "--parent-pid", parent, NULL};
    g.pid = spawn(argv, log);
    for (int i = 0; i < 600 && !g.slow_url[0]; i++) {   /* up to 60 s under ASan */
        if (waitpid(g.pid, NULL, WNOHANG) == g.pid) {
            fprintf(stderr, "test_slowdown: the --slowdown 3 server exited; see %s\n", log);
            g.pid = 0;
            return -1;
        }
        first_url(out, g.slow_url, sizeof g.slow_url);
        if (!g.slow_url[0]) usleep(100 * 1000);
    }
    if (!g.slow_url[0]) {
        fprintf(stderr, "test_slowdown: the --slowdown 3 server did not start; see %s\n", log);
        return -1;
    }

    fg_buf png;
    fg_err err;
    if (fg_imagegen_png(0.1, FG_VARIANT_CLEAN, 7, &png, &err) != 0) {
        fprintf(stderr, "test_slowdown: %s\n", err.msg);
        return -1;
    }
    g.png_b64 = fg_b64_encode(png.data, png.len, NULL);
    fg_buf_free(&png);
    return g.png_b64 ? 0 : -1;
}

static int rm_entry(const char *name)
{
    char path[768];
    snprintf(path, sizeof path, "%s/%s", g.dir, name);
    return unlink(path);
}

static int teardown(void **state)
{
    (void)state;
    if (g.pid > 0) {
        kill(g.pid, SIGTERM);
        wait_exit(g.pid);
    }
    const char *files[] = {"nodes.json", "endpoints.json", "server.log", "bad.json", "bad.log"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) rm_entry(files[i]);
    rmdir(g.dir);
    free(g.png_b64);
    curl_global_cleanup();
    return 0;
}

static void test_health_reports_slowdown(void **state)
{
    (void)state;
    cJSON *h = get_json(g.slow_url, "/");
    const cJSON *f = cJSON_GetObjectItem(h, "slowdown");
    assert_true(cJSON_IsNumber(f));
    assert_true(f->valuedouble == 3.0);   /* the flag, not the profile's 1.5 */
    cJSON_Delete(h);
    h = get_json(g.normal_url, "/");
    f = cJSON_GetObjectItem(h, "slowdown");
    assert_true(cJSON_IsNumber(f));
    assert_true(f->valuedouble == 1.0);
    cJSON_Delete(h);
}

/* exec_ms of one warm-or-cold extract call on base. */
static double extract_ms(const char *base, int *cold)
{
    char url[512];
    snprintf(url, sizeof url, "%s/invoke/recognizer__extract", base);
    cJSON *req = cJSON_CreateObject();
    cJSON_AddStringToObject(req, "img_b64", g.png_b64);
    long status = 0;
    cJSON *res = http_post_json(url, req, &status);
    assert_int_equal(status, 200);
    assert_non_null(res);
    const cJSON *ms = cJSON_GetObjectItem(res, "exec_ms");
    assert_true(cJSON_IsNumber(ms));
    double v = ms->valuedouble;
    if (cold) *cold = cJSON_IsTrue(cJSON_GetObjectItem(res, "cold_start"));
    cJSON_Delete(res);
    return v;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void test_exec_time_scales(void **state)
{
    (void)state;
    /* Warm both OCR engines first: a cold start is not the work we scale. */
    for (int i = 0; i < 3; i++) {
        int cold = 1;
        extract_ms(g.normal_url, &cold);
        extract_ms(g.slow_url, &cold);
        if (!cold) break;
    }
    double normal[CALLS], slow[CALLS];
    /* Interleaved, so a burst of load on the machine hits both sides. */
    for (int i = 0; i < CALLS; i++) {
        normal[i] = extract_ms(g.normal_url, NULL);
        slow[i] = extract_ms(g.slow_url, NULL);
    }
    qsort(normal, CALLS, sizeof normal[0], cmp_double);
    qsort(slow, CALLS, sizeof slow[0], cmp_double);
    double mn = normal[CALLS / 2], ms = slow[CALLS / 2];
    printf("extract median exec_ms: normal %.1f, --slowdown 3 %.1f (x%.2f)\n", mn, ms, ms / mn);
    assert_true(mn > 0);
    assert_true(ms > 1.8 * mn);
}

/* flowgate-functions ARGS... must exit 2 with one line naming `what`. */
static void expect_refused(char *const extra[], const char *what)
{
    char log[512];
    snprintf(log, sizeof log, "%s/bad.log", g.dir);
    char *argv[16] = {g.bin};
    int n = 1;
    for (; extra[n - 1] && n < 15; n++) argv[n] = extra[n - 1];
    argv[n] = NULL;
    int rc = wait_exit(spawn(argv, log));
    fg_buf text;
    fg_err err;
    if (fg_read_file(log, 1 << 16, &text, &err) != 0) fail_msg("%s", err.msg);
    const char *out = (const char *)text.data;
    printf("refused: %s", out);
    assert_int_equal(rc, 2);
    assert_non_null(strstr(out, what));
    const char *nl = strchr(out, '\n');
    assert_non_null(nl);            /* one line ... */
    assert_int_equal(nl[1], 0);     /* ... and only one */
    fg_buf_free(&text);
}

static void test_bad_factors_refused(void **state)
{
    (void)state;
    char *half[] = {"--slowdown", "0.5", NULL};
    expect_refused(half, "--slowdown: expected a number from 1 to 100, got '0.5'");
    char *word[] = {"--slowdown", "x", NULL};
    expect_refused(word, "--slowdown: expected a number from 1 to 100, got 'x'");
    char *none[] = {"--slowdown", NULL};
    expect_refused(none, "--slowdown needs a value");

    char profile[512];
    snprintf(profile, sizeof profile, "%s/bad.json", g.dir);
    write_text(profile, "{\"slowdown\": 0.5, \"nodes\": [{\"name\": \"a\", \"workers\": 1}]}\n");
    char *in_profile[] = {"--nodes", profile, NULL};
    expect_refused(in_profile, "\"slowdown\" must be a number in [1, 100]");
}

static void expect_profile_error(const char *json, const char *message)
{
    fg_site_profile p;
    fg_err err;
    assert_int_equal(fg_site_profile_parse(json, strlen(json), &p, &err), -1);
    if (!strstr(err.msg, message)) fprintf(stderr, "got \"%s\"\n", err.msg);
    assert_non_null(strstr(err.msg, message));
}

static void test_profile_slowdown(void **state)
{
    (void)state;
    fg_site_profile p;
    fg_err err;
    const char *dflt = "{\"nodes\":[{\"name\":\"a\",\"workers\":1}]}";
    assert_int_equal(fg_site_profile_parse(dflt, strlen(dflt), &p, &err), 0);
    assert_true(p.slowdown == 1.0 && p.nodes[0].slowdown == 1.0);

    /* Top level is every node's default; a node's own value wins. */
    const char *mixed = "{\"slowdown\":1.25,\"nodes\":[{\"name\":\"a\",\"workers\":1},"
                        "{\"name\":\"b\",\"workers\":1,\"slowdown\":2}]}";
    assert_int_equal(fg_site_profile_parse(mixed, strlen(mixed), &p, &err), 0);
    assert_true(p.slowdown == 1.25);
    assert_true(p.nodes[0].slowdown == 1.25);
    assert_true(p.nodes[1].slowdown == 2.0);

    expect_profile_error("{\"slowdown\":0.5,\"nodes\":[{\"name\":\"a\",\"workers\":1}]}",
                         "node profile: \"slowdown\" must be a number in [1, 100]");
    expect_profile_error("{\"slowdown\":\"x\",\"nodes\":[{\"name\":\"a\",\"workers\":1}]}",
                         "node profile: \"slowdown\" must be a number in [1, 100]");
    expect_profile_error("{\"nodes\":[{\"name\":\"a\",\"workers\":1,\"slowdown\":0}]}",
                         "nodes[0]: \"slowdown\" must be a number in [1, 100]");
    expect_profile_error("{\"nodes\":[{\"name\":\"a\",\"workers\":1,\"slowdown\":101}]}",
                         "nodes[0]: \"slowdown\" must be a number in [1, 100]");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_profile_slowdown),
        cmocka_unit_test(test_health_reports_slowdown),
        cmocka_unit_test(test_exec_time_scales),
        cmocka_unit_test(test_bad_factors_refused),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
