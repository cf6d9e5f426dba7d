/* test_slowdown.c — the known-effect knobs (src/server/slowdown.h) over real
 * HTTP. The test starts its own two flowgate-functions (on 127.0.0.1,
 * ephemeral ports), so the shared HTTP test server stays a normal one:
 *   - "slow": --slowdown 3 over a profile with per-function factors. GET /
 *     reports "slowdown": 3 and 3 for every function (the flag wins), the
 *     normal server 1; a CPU-heavy function (OCR extract, warm engines)
 *     is slowed by the knob's factor: each reply's "slowdown_ms" (what the
 *     knob added inside exec_ms) is ~2x the rest of exec_ms (median over
 *     the calls >= 1.9), the normal server's replies have none. Judged on
 *     what the server did, not on timings, so a busy machine cannot flake
 *     it;
 *   - "knobs": a profile slowing recognizer__extract alone by 1.3 with a
 *     tail on recognizer__translate (1 in 4 held 200 ms). GET / reports
 *     both, with "slowdown": 1 (what every function gets at least). A
 *     second node of that server, plain1, has no factor: extract on knob0
 *     has ~0.3x its work added (median >= 0.285), mosaic there and every
 *     call on plain1 nothing; exactly the
 *     4th, 8th and 12th translate calls take >= 200 ms of exec_ms (and of
 *     the client's wall time), the others and the censor calls between them
 *     < 100 ms (the per-function counter ignores censor);
 *   - bad factors (0.5, "x", none) are refused with exit 2 and one line
 *     naming --slowdown, and so are bad "slowdown" values in a profile and
 *     an unknown function name.
 * The profile parsing of "slowdown" (top level, per node, per function) and
 * "tail_delay" is checked here too, without a server. */
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
#include "server/functions.h"
#include "http_client.h"
#include "own_server.h"
#include "server/node.h"

extern char **environ;

#define CALLS 5
#define KNOB_CALLS 11       /* per function and server for the ratio of medians */
#define MOSAIC_MB 1.0
#define TAIL_EVERY 4
#define TAIL_ADD_MS 200.0   /* far above a translate's exec_ms, even under ASan */
#define TAIL_CALLS 12

static struct {
    char dir[256];          /* temp dir: profile, endpoints, logs */
    char bin[1024];
    pid_t pid;              /* the --slowdown 3 server */
    char slow_url[256];
    pid_t knob_pid;         /* the per-function and tail knobs' server */
    char knob_url[256];     /* its node knob0 */
    char plain_url[256];    /* its node plain1 */
    char normal_url[256];   /* node 0 of the shared HTTP test server */
    char *png_b64;
    char *big_png_b64;      /* mosaic's: tens of ms of work, so noise is a small part */
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

static void first_url(const char *path, char *out, size_t size) { endpoints_file_url(path, 0, out, size); }

/* node_url of dir/name; 1 when found, else 0 with a line on stderr. */
static int nth_url(const char *dir, const char *name, int n, char *out, size_t size)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    endpoints_file_url(path, n, out, size);
    if (!out[0]) fprintf(stderr, "test_slowdown: no node %d in %s\n", n, path);
    return out[0] != 0;
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

/* A generated test image of about mb MB, base64; NULL with a line on stderr. */
static char *png_b64(double mb)
{
    fg_buf png;
    fg_err err;
    if (fg_imagegen_png(mb, FG_VARIANT_CLEAN, 7, &png, &err) != 0) {
        fprintf(stderr, "test_slowdown: %s\n", err.msg);
        return NULL;
    }
    char *b64 = fg_b64_encode(png.data, png.len, NULL);
    fg_buf_free(&png);
    return b64;
}

/* Starts flowgate-functions on profile text (written to <tag>.json) with
 * extra args; waits for its endpoints file (<tag>-endpoints.json); its log
 * is <tag>.log. 0, or -1 with a line on stderr. */
static int start_server(const char *tag, const char *profile_text, char *const extra[],
                        pid_t *pid, char *url, size_t url_size)
{
    char profile[512], out[512], log[512], parent[24];
    snprintf(profile, sizeof profile, "%s/%s.json", g.dir, tag);
    snprintf(out, sizeof out, "%s/%s-endpoints.json", g.dir, tag);
    snprintf(log, sizeof log, "%s/%s.log", g.dir, tag);
    snprintf(parent, sizeof parent, "%ld", (long)getpid());
    write_text(profile, profile_text);
    char *argv[16] = {g.bin, "--nodes", profile, "--bind", "127.0.0.1", "--endpoints-out", out,
                      "--parent-pid", parent};
    int n = 9;
    for (; *extra && n < 15; extra++) argv[n++] = *extra;
    argv[n] = NULL;
    *pid = spawn(argv, log);
    for (int i = 0; i < 600 && !url[0]; i++) {   /* up to 60 s under ASan */
        if (waitpid(*pid, NULL, WNOHANG) == *pid) {
            fprintf(stderr, "test_slowdown: the %s server exited; see %s\n", tag, log);
            *pid = 0;
            return -1;
        }
        first_url(out, url, url_size);
        if (!url[0]) usleep(100 * 1000);
    }
    if (!url[0]) {
        fprintf(stderr, "test_slowdown: the %s server did not start; see %s\n", tag, log);
        return -1;
    }
    return 0;
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

    /* The profile's factors (1.5, 5 for extract) must give way to the flag. */
    char *slow_args[] = {"--slowdown", "3", NULL};
    if (start_server("slow", "{\"slowdown\": {\"*\": 1.5, \"recognizer__extract\": 5}, "
                     "\"nodes\": [{\"name\": \"slow0\", \"workers\": 1}]}\n", slow_args,
                     &g.pid, g.slow_url, sizeof g.slow_url) != 0)
        return -1;
    /* The tail at the top level (every node's default), the factor on the node. */
    /* Its second node has no factor: the baseline the factor is judged by,
     * in the same process, so both see the machine's load alike. */
    char *no_args[] = {NULL};
    if (start_server("knobs", "{\"tail_delay\": {\"every\": 4, \"add_ms\": 200, "
                     "\"function\": \"recognizer__translate\"}, \"nodes\": [{\"name\": "
                     "\"knob0\", \"workers\": 1, \"slowdown\": {\"recognizer__extract\": 1.3}}, "
                     "{\"name\": \"plain1\", \"workers\": 1}]}\n",
                     no_args, &g.knob_pid, g.knob_url, sizeof g.knob_url) != 0 ||
        !nth_url(g.dir, "knobs-endpoints.json", 1, g.plain_url, sizeof g.plain_url))
        return -1;

    g.png_b64 = png_b64(0.1);
    g.big_png_b64 = png_b64(MOSAIC_MB);
    return g.png_b64 && g.big_png_b64 ? 0 : -1;
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
    pid_t pids[] = {g.pid, g.knob_pid};
    for (size_t i = 0; i < sizeof pids / sizeof pids[0]; i++)
        if (pids[i] > 0) {
            kill(pids[i], SIGTERM);
            wait_exit(pids[i]);
        }
    const char *files[] = {"slow.json", "slow-endpoints.json", "slow.log", "knobs.json",
                           "knobs-endpoints.json", "knobs.log", "bad.json", "bad.log"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) rm_entry(files[i]);
    rmdir(g.dir);
    free(g.png_b64);
    free(g.big_png_b64);
    curl_global_cleanup();
    return 0;
}

static double number_at(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItem(o, key);
    assert_true(cJSON_IsNumber(v));
    return v->valuedouble;
}

static void test_health_reports_slowdown(void **state)
{
    (void)state;
    cJSON *h = get_json(g.slow_url, "/");
    assert_true(number_at(h, "slowdown") == 3.0);   /* the flag, not the profile's 1.5 */
    const cJSON *fns = cJSON_GetObjectItem(h, "slowdown_functions");
    assert_int_equal(cJSON_GetArraySize(fns), fg_function_count());
    assert_true(number_at(fns, "recognizer__extract") == 3.0);   /* not the profile's 5 */
    assert_true(number_at(fns, "recognizer__adult") == 3.0);
    assert_true(cJSON_IsNull(cJSON_GetObjectItem(h, "tail_delay")));
    cJSON_Delete(h);
    h = get_json(g.normal_url, "/");
    assert_true(number_at(h, "slowdown") == 1.0);
    cJSON_Delete(h);
}

static void test_health_reports_knobs(void **state)
{
    (void)state;
    cJSON *h = get_json(g.knob_url, "/");
    /* The least factor: what `flowgate ab --b-slowdown` may rely on. */
    assert_true(number_at(h, "slowdown") == 1.0);
    const cJSON *fns = cJSON_GetObjectItem(h, "slowdown_functions");
    for (int i = 0; i < fg_function_count(); i++) {
        const char *name = fg_function_name(fg_function_at(i));
        double want = strcmp(name, "recognizer__extract") ? 1.0 : 1.3;
        assert_true(number_at(fns, name) == want);
    }
    const cJSON *tail = cJSON_GetObjectItem(h, "tail_delay");
    assert_true(number_at(tail, "every") == TAIL_EVERY);
    assert_true(number_at(tail, "add_ms") == TAIL_ADD_MS);
    assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(tail, "function")),
                        "recognizer__translate");
    cJSON_Delete(h);
}

/* One call of function fn (short name) on base: its exec_ms; *wall_ms (if
 * not NULL) the client's time, *cold (if not NULL) its cold_start. */
/* The last reply's "slowdown_ms" (what the knob added inside exec_ms), 0
 * when the reply has none. */
static double last_slowdown_ms;

static double invoke_ms(const char *base, const char *fn, double *wall_ms, int *cold)
{
    char url[512];
    snprintf(url, sizeof url, "%s/invoke/recognizer__%s", base, fn);
    cJSON *req = cJSON_CreateObject();
    if (!strcmp(fn, "translate") || !strcmp(fn, "censor"))
        cJSON_AddStringToObject(req, "text", "hola mundo");
    else
        cJSON_AddStringToObject(req, "img_b64", strcmp(fn, "mosaic") ? g.png_b64 : g.big_png_b64);
    long status = 0;
    double t0 = fg_now_mono_ms();
    cJSON *res = http_post_json(url, req, &status);
    if (wall_ms) *wall_ms = fg_now_mono_ms() - t0;
    assert_int_equal(status, 200);
    assert_non_null(res);
    double v = number_at(res, "exec_ms");
    const cJSON *burn = cJSON_GetObjectItem(res, "slowdown_ms");
    last_slowdown_ms = cJSON_IsNumber(burn) ? burn->valuedouble : 0;
    if (cold) *cold = cJSON_IsTrue(cJSON_GetObjectItem(res, "cold_start"));
    cJSON_Delete(res);
    return v;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof v[0], cmp_double);
    return v[n / 2];
}

/* Warm OCR engines on every server: a cold start is not the work we scale. */
static void warm_extract(const char *a, const char *b)
{
    for (int i = 0; i < 3; i++) {
        int cold_a = 1, cold_b = 1;
        invoke_ms(a, "extract", NULL, &cold_a);
        invoke_ms(b, "extract", NULL, &cold_b);
        if (!cold_a && !cold_b) break;
    }
}

static void test_exec_time_scales(void **state)
{
    (void)state;
    warm_extract(g.normal_url, g.slow_url);
    double normal[CALLS], slow[CALLS];
    /* Judged on what the server says the knob added, not on timings: the
     * burn is (factor-1) x the call's own work, whatever the machine's
     * load. Per call: added / (exec - added) ~ 2; the median over the
     * calls, so a preemption between the burn and exec_ms's end (which
     * lands in the denominator) cannot tip it. The normal server adds
     * nothing. Medians of exec_ms are printed for the log only. */
    double share[CALLS];
    for (int i = 0; i < CALLS; i++) {
        normal[i] = invoke_ms(g.normal_url, "extract", NULL, NULL);
        assert_true(last_slowdown_ms == 0);
        slow[i] = invoke_ms(g.slow_url, "extract", NULL, NULL);
        assert_true(last_slowdown_ms > 0 && last_slowdown_ms < slow[i]);
        share[i] = last_slowdown_ms / (slow[i] - last_slowdown_ms);
    }
    double mn = median(normal, CALLS), ms = median(slow, CALLS), added = median(share, CALLS);
    printf("extract median exec_ms: normal %.1f, --slowdown 3 %.1f (x%.2f); added x%.2f of the "
           "work\n", mn, ms, ms / mn, added);
    assert_true(added >= 2.0 * 0.95);
}

static void test_function_slowdown_is_per_function(void **state)
{
    (void)state;
    warm_extract(g.plain_url, g.knob_url);
    const char *fns[] = {"extract", "mosaic"};     /* slowed 1.3x, untouched */
    /* As above: what the server says the knob added. extract on knob0 gets
     * ~0.3 x its work added on every call; mosaic there and everything on
     * plain1 get nothing at all, which no load can fake. */
    for (int f = 0; f < 2; f++) {
        double plain[KNOB_CALLS], knob[KNOB_CALLS], share[KNOB_CALLS];
        invoke_ms(g.knob_url, fns[f], NULL, NULL);   /* first-call costs out of the way */
        invoke_ms(g.plain_url, fns[f], NULL, NULL);
        for (int i = 0; i < KNOB_CALLS; i++) {
            knob[i] = invoke_ms(g.knob_url, fns[f], NULL, NULL);
            share[i] = last_slowdown_ms / (knob[i] - last_slowdown_ms);
            if (f == 0) assert_true(last_slowdown_ms > 0 && last_slowdown_ms < knob[i]);
            else assert_true(last_slowdown_ms == 0);
            plain[i] = invoke_ms(g.plain_url, fns[f], NULL, NULL);
            assert_true(last_slowdown_ms == 0);
        }
        double mp = median(plain, KNOB_CALLS), mk = median(knob, KNOB_CALLS);
        double added = median(share, KNOB_CALLS);
        printf("%s median exec_ms: plain1 %.2f, knob0 %.2f (x%.2f); added x%.2f of the work\n",
               fns[f], mp, mk, mk / mp, added);
        assert_true(mp > 0);
        if (f == 0) assert_true(added >= 0.3 * 0.95);
    }
}

static void test_tail_delays_counted_responses(void **state)
{
    (void)state;
    /* No translate has run on the knob server before: its counter is at 0,
     * and the censor calls between are not counted (the knob names translate). */
    for (int i = 1; i <= TAIL_CALLS; i++) {
        double wall, exec = invoke_ms(g.knob_url, "translate", &wall, NULL);
        double censor = invoke_ms(g.knob_url, "censor", NULL, NULL);
        printf("translate %2d: exec_ms %.1f, wall %.1f ms; censor exec_ms %.1f\n", i, exec, wall,
               censor);
        if (i % TAIL_EVERY == 0) {
            assert_true(exec >= TAIL_ADD_MS);
            assert_true(wall >= TAIL_ADD_MS);
        } else {
            /* A translate takes well under a millisecond: half the delay
             * is room for a busy machine, not for a knob that fired. */
            assert_true(exec < TAIL_ADD_MS / 2);
        }
        assert_true(censor < TAIL_ADD_MS / 2);
    }
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
    write_text(profile, "{\"nodes\": [{\"name\": \"a\", \"workers\": 1, "
                        "\"slowdown\": {\"recognizer__extrct\": 1.3}}]}\n");
    expect_refused(in_profile, "nodes[0]: \"slowdown\": unknown function \"recognizer__extrct\"");
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
                         "nodes file: \"slowdown\" must be a number in [1, 100]");
    expect_profile_error("{\"slowdown\":\"x\",\"nodes\":[{\"name\":\"a\",\"workers\":1}]}",
                         "nodes file: \"slowdown\" must be a number in [1, 100]");
    expect_profile_error("{\"nodes\":[{\"name\":\"a\",\"workers\":1,\"slowdown\":0}]}",
                         "nodes[0]: \"slowdown\" must be a number in [1, 100]");
    expect_profile_error("{\"nodes\":[{\"name\":\"a\",\"workers\":1,\"slowdown\":101}]}",
                         "nodes[0]: \"slowdown\" must be a number in [1, 100]");
}

static void parse_ok(const char *json, fg_site_profile *p)
{
    fg_err err;
    if (fg_site_profile_parse(json, strlen(json), p, &err) != 0) fail_msg("%s", err.msg);
}

/* The factor node n of p gives function `name`. */
static double factor(const fg_site_profile *p, int n, const char *name)
{
    const fg_function *fn = fg_function_find(name);
    assert_non_null(fn);
    return p->nodes[n].fn_slowdown[fg_function_index(fn)];
}

static void test_profile_function_slowdown(void **state)
{
    (void)state;
    fg_site_profile p;
    /* Node over top level, within a level a name over "*"; a number is "*";
     * short names are the server's too. */
    const char *json =
        "{\"slowdown\":{\"*\":1.1,\"recognizer__extract\":1.3},\"nodes\":["
        "{\"name\":\"a\",\"workers\":1},"
        "{\"name\":\"b\",\"workers\":1,\"slowdown\":{\"adult\":2}},"
        "{\"name\":\"c\",\"workers\":1,\"slowdown\":1.5},"
        "{\"name\":\"d\",\"workers\":1,\"slowdown\":{\"*\":1.2,\"mosaic\":1}}]}";
    parse_ok(json, &p);
    assert_true(p.slowdown == 1.1);
    assert_true(factor(&p, 0, "recognizer__extract") == 1.3);
    assert_true(factor(&p, 0, "recognizer__adult") == 1.1);
    assert_true(p.nodes[0].slowdown == 1.1);
    assert_true(factor(&p, 1, "recognizer__adult") == 2.0);
    assert_true(factor(&p, 1, "recognizer__extract") == 1.3);
    assert_true(factor(&p, 1, "recognizer__censor") == 1.1);
    assert_true(p.nodes[1].slowdown == 1.1);
    assert_true(factor(&p, 2, "recognizer__extract") == 1.5);   /* the node's number wins */
    assert_true(p.nodes[2].slowdown == 1.5);
    assert_true(factor(&p, 3, "recognizer__extract") == 1.2);
    assert_true(factor(&p, 3, "recognizer__mosaic") == 1.0);
    assert_true(p.nodes[3].slowdown == 1.0);                    /* the least: mosaic's */

    /* A function named alone leaves the others at 1. */
    const char *one = "{\"nodes\":[{\"name\":\"a\",\"workers\":1,"
                      "\"slowdown\":{\"recognizer__extract\":1.3}}]}";
    parse_ok(one, &p);
    assert_true(p.slowdown == 1.0 && p.nodes[0].slowdown == 1.0);
    assert_true(factor(&p, 0, "extract") == 1.3 && factor(&p, 0, "translate") == 1.0);

    expect_profile_error("{\"slowdown\":{\"recognizer__extrct\":1.3},\"nodes\":"
                         "[{\"name\":\"a\",\"workers\":1}]}",
                         "nodes file: \"slowdown\": unknown function \"recognizer__extrct\"");
    expect_profile_error("{\"nodes\":[{\"name\":\"a\",\"workers\":1,"
                         "\"slowdown\":{\"nope\":2}}]}",
                         "nodes[0]: \"slowdown\": unknown function \"nope\"");
    expect_profile_error("{\"nodes\":[{\"name\":\"a\",\"workers\":1,"
                         "\"slowdown\":{\"extract\":0.5}}]}",
                         "nodes[0]: \"slowdown\": \"extract\" must be a number in [1, 100]");
    expect_profile_error("{\"slowdown\":{\"*\":\"x\"},\"nodes\":[{\"name\":\"a\",\"workers\":1}]}",
                         "nodes file: \"slowdown\": \"*\" must be a number in [1, 100]");
    expect_profile_error("{\"slowdown\":{\"recognizer__adult\":101},\"nodes\":"
                         "[{\"name\":\"a\",\"workers\":1}]}",
                         "\"recognizer__adult\" must be a number in [1, 100]");
    expect_profile_error("{\"slowdown\":{\"extract\":2,\"recognizer__extract\":3},\"nodes\":"
                         "[{\"name\":\"a\",\"workers\":1}]}",
                         "\"recognizer__extract\" names a function given before");
    expect_profile_error("{\"slowdown\":[1.3],\"nodes\":[{\"name\":\"a\",\"workers\":1}]}",
                         "\"slowdown\" must be a number in [1, 100] or an object");
}

static void test_profile_tail_delay(void **state)
{
    (void)state;
    fg_site_profile p;
    /* Top level is every node's default; a node's own replaces it whole;
     * null turns it off. */
    const char *json =
        "{\"tail_delay\":{\"every\":20,\"add_ms\":50},\"nodes\":["
        "{\"name\":\"a\",\"workers\":1},"
        "{\"name\":\"b\",\"workers\":1,\"tail_delay\":{\"every\":5,\"add_ms\":10.5,"
        "\"function\":\"extract\"}},"
        "{\"name\":\"c\",\"workers\":1,\"tail_delay\":null}]}";
    parse_ok(json, &p);
    assert_int_equal(p.nodes[0].tail.every, 20);
    assert_true(p.nodes[0].tail.add_ms == 50.0);
    assert_int_equal(p.nodes[0].tail.function, -1);
    assert_int_equal(p.nodes[1].tail.every, 5);
    assert_true(p.nodes[1].tail.add_ms == 10.5);
    assert_int_equal(p.nodes[1].tail.function,
                     fg_function_index(fg_function_find("recognizer__extract")));
    assert_int_equal(p.nodes[2].tail.every, 0);

    const char *none = "{\"nodes\":[{\"name\":\"a\",\"workers\":1}]}";
    parse_ok(none, &p);
    assert_int_equal(p.nodes[0].tail.every, 0);

#define TAIL_NODE(t) "{\"nodes\":[{\"name\":\"a\",\"workers\":1,\"tail_delay\":" t "}]}"
    expect_profile_error(TAIL_NODE("{\"every\":0,\"add_ms\":50}"),
                         "nodes[0]: \"tail_delay\": \"every\" must be an integer in [1, 1000000]");
    expect_profile_error(TAIL_NODE("{\"every\":2.5,\"add_ms\":50}"),
                         "\"every\" must be an integer in [1, 1000000]");
    expect_profile_error(TAIL_NODE("{\"every\":20,\"add_ms\":0}"),
                         "nodes[0]: \"tail_delay\": \"add_ms\" must be a number in [1, 60000]");
    expect_profile_error(TAIL_NODE("{\"every\":20,\"add_ms\":\"50\"}"),
                         "\"add_ms\" must be a number in [1, 60000]");
    expect_profile_error(TAIL_NODE("{\"every\":20}"),
                         "nodes[0]: \"tail_delay\" needs \"every\" and \"add_ms\"");
    expect_profile_error(TAIL_NODE("{\"every\":20,\"add_ms\":50,\"function\":\"nope\"}"),
                         "\"tail_delay\": \"function\" must name a function");
    expect_profile_error(TAIL_NODE("{\"every\":20,\"add_ms\":50,\"after\":3}"),
                         "\"tail_delay\": unknown key \"after\"");
    expect_profile_error(TAIL_NODE("50"), "nodes[0]: \"tail_delay\" must be null or an object");
#undef TAIL_NODE
    expect_profile_error("{\"tail_delay\":{\"every\":-1,\"add_ms\":5},\"nodes\":"
                         "[{\"name\":\"a\",\"workers\":1}]}",
                         "nodes file: \"tail_delay\": \"every\" must be an integer");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_profile_slowdown),
        cmocka_unit_test(test_profile_function_slowdown),
        cmocka_unit_test(test_profile_tail_delay),
        cmocka_unit_test(test_health_reports_slowdown),
        cmocka_unit_test(test_health_reports_knobs),
        cmocka_unit_test(test_exec_time_scales),
        cmocka_unit_test(test_function_slowdown_is_per_function),
        cmocka_unit_test(test_tail_delays_counted_responses),
        cmocka_unit_test(test_bad_factors_refused),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
