/* test_faults.c — fault injection (src/server/faults.h) over real HTTP.
 * The test starts its own flowgate-functions (own_server.h) with a profile
 * whose top level injects a fault (every node's default), node f0 its own
 * block, f1 none ("faults": null, the playground of PUT /faults) and f2
 * the top's. For each kind the client sees exactly the injected behaviour
 * on exactly the calls the deterministic counter names ("every"), and
 * GET /faults counts what the client saw:
 *   error_500 (HTTP 500 JSON error), error_status (HTTP 200, "status":
 *   "error"), wrong_type (every output field a number, or the string
 *   "42" where it was a number; identity and timings real; an invocation that fails is
 *   left as it is and not counted), drip (the whole real answer, no faster
 *   than the rate: a lower bound, which a busy machine cannot break),
 *   reset (no answer, the connection closed), hang (no answer within the
 *   client's timeout, while the node's only worker slot serves others; the
 *   node ends the hold once the client is gone), down (every route but
 *   /faults refused until lifted, and back by itself after down_s);
 *   a rate with a seed gives the same calls again after the same PUT.
 * Bad blocks get 400 with a one-line JSON error naming the key and change
 * nothing; a bad block in a profile stops the server with exit 2. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flowgate/common.h"
#include "own_server.h"

#define HANG_CLIENT_MS 3000L   /* the client's timeout; the hang is 60 s */
#define DRIP_RATE 500.0        /* bytes per second */

static const char profile[] =
    "{\"faults\": {\"seed\": 3, \"functions\": {\"adult\": [{\"kind\": \"error_500\", "
    "\"every\": 1}]}},\n"
    " \"nodes\": [\n"
    "  {\"name\": \"f0\", \"workers\": 1, \"faults\": {\"seed\": 7, \"functions\": "
    "{\"censor\": [{\"kind\": \"error_500\", \"every\": 2}]}}},\n"
    "  {\"name\": \"f1\", \"workers\": 1, \"faults\": null},\n"
    "  {\"name\": \"f2\", \"workers\": 1}]}\n";

static struct {
    own_server server;
    char url[3][128];       /* f0, f1, f2 */
    char *upload_body;      /* {"img_b64": a small PNG} */
} g;

static const char text_body[] = "{\"text\":\"hola mundo\"}";

static int setup(void **state)
{
    (void)state;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    if (own_server_start(&g.server, "faults", profile) != 0) return -1;
    for (int i = 0; i < 3; i++) {
        own_server_url(&g.server, i, g.url[i], sizeof g.url[i]);
        if (!g.url[i][0]) return -1;
    }
    char *b64 = own_png_b64(5);
    if (!b64) return -1;
    size_t size = strlen(b64) + 32;
    g.upload_body = malloc(size);
    snprintf(g.upload_body, size, "{\"img_b64\":\"%s\"}", b64);
    free(b64);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    /* The clean stop must not wait for held or dripping requests. */
    int status = own_server_stop(&g.server);
    free(g.upload_body);
    curl_global_cleanup();
    return status == 0 ? 0 : -1;
}

/* --- helpers --- */

static cJSON *parse(const own_reply *o)
{
    cJSON *j = o->r.body ? cJSON_Parse(o->r.body) : NULL;
    if (!j) fprintf(stderr, "not JSON: %s\n", o->r.body ? o->r.body : "(no body)");
    assert_non_null(j);
    return j;
}

static const char *str(const cJSON *o, const char *key)
{
    const char *s = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, key));
    if (!s) fprintf(stderr, "no string \"%s\"\n", key);
    assert_non_null(s);
    return s;
}

/* PUT block to node n's /faults; the status. */
static long put_faults(int n, const char *block)
{
    own_reply o;
    own_request("PUT", g.url[n], "/faults", block, 0, &o);
    long status = o.r.status;
    if (status != 200) printf("PUT /faults %s -> %ld %s\n", block, status, o.r.body);
    http_resp_free(&o.r);
    return status;
}

static void set_faults(int n, const char *block) { assert_int_equal(put_faults(n, block), 200); }

static void invoke(int n, const char *fn, const char *body, long timeout_ms, own_reply *o)
{
    char path[64];
    snprintf(path, sizeof path, "/invoke/%s", fn);
    own_request("POST", g.url[n], path, body, timeout_ms, o);
}

/* GET /faults of node n. */
static cJSON *faults(int n)
{
    cJSON *f = own_get_json(g.url[n], "/faults");
    assert_non_null(f);
    return f;
}

/* How many faults of kind node n injected into recognizer__<fn> (0 when
 * none), and how many invocations of it the faults saw. */
static double injected(const cJSON *f, const char *fn, const char *kind)
{
    char name[64];
    snprintf(name, sizeof name, "recognizer__%s", fn);
    const cJSON *per = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItem(f, "injected"), name);
    assert_non_null(per);
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(per, kind);
    return v ? v->valuedouble : 0;
}

static double seen(const cJSON *f, const char *fn)
{
    char name[64];
    snprintf(name, sizeof name, "recognizer__%s", fn);
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItem(f, "invocations"), name);
    assert_non_null(v);
    return v->valuedouble;
}

static double num(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    assert_true(cJSON_IsNumber(v));
    return v->valuedouble;
}

static void assert_success(const cJSON *res, const char *fn)
{
    char name[64];
    snprintf(name, sizeof name, "recognizer__%s", fn);
    assert_string_equal(str(res, "status"), "success");
    assert_string_equal(str(res, "function"), name);
}

static void assert_injected_error(const own_reply *o, long status, const char *kind,
                                  const char *fn)
{
    assert_int_equal(o->r.curl_rc, CURLE_OK);
    assert_int_equal(o->r.status, status);
    cJSON *res = parse(o);
    char message[64], name[64];
    snprintf(message, sizeof message, "injected fault: %s", kind);
    snprintf(name, sizeof name, "recognizer__%s", fn);
    assert_string_equal(str(res, "status"), "error");
    assert_string_equal(str(res, "message"), message);
    assert_string_equal(str(res, "function"), name);
    assert_string_equal(str(res, "node"), "f1");
    cJSON_Delete(res);
}

/* --- the profile's blocks --- */

static void test_profile_blocks(void **state)
{
    (void)state;
    /* GET / names the block in force: own, none, inherited. */
    const char *expect[] = {"recognizer__censor", NULL, "recognizer__adult"};
    for (int n = 0; n < 3; n++) {
        cJSON *h = own_get_json(g.url[n], "/");
        assert_non_null(h);
        const cJSON *block = cJSON_GetObjectItemCaseSensitive(h, "faults");
        if (!expect[n]) {
            assert_true(cJSON_IsNull(block));
        } else {
            const cJSON *fns = cJSON_GetObjectItemCaseSensitive(block, "functions");
            assert_non_null(cJSON_GetObjectItemCaseSensitive(fns, expect[n]));
            assert_int_equal(cJSON_GetArraySize(fns), 1);   /* replaced, not merged */
        }
        assert_true(num(h, "faults_injected") == 0);
        cJSON_Delete(h);
    }
    /* f0: every 2nd censor fails; f2: every adult (the top's block). */
    for (int i = 1; i <= 4; i++) {
        own_reply o;
        invoke(0, "censor", text_body, 0, &o);
        assert_int_equal(o.r.status, i % 2 ? 200 : 500);
        http_resp_free(&o.r);
        invoke(2, "adult", g.upload_body, 0, &o);
        assert_int_equal(o.r.status, 500);
        http_resp_free(&o.r);
    }
    cJSON *f0 = faults(0), *f2 = faults(2);
    assert_true(seen(f0, "censor") == 4);
    assert_true(injected(f0, "censor", "error_500") == 2);
    assert_true(num(f0, "injected_total") == 2);
    assert_true(injected(f2, "adult", "error_500") == 4);
    assert_string_equal(str(f2, "node"), "f2");
    cJSON_Delete(f0);
    cJSON_Delete(f2);
}

/* --- one kind at a time, on f1 --- */

/* 6 calls of fn on f1 with kind injected every `every`th: those answer
 * status with the injected error, the others succeed; the counts agree. */
static void every_error(const char *fn, const char *kind, int every, long status)
{
    char block[160];
    snprintf(block, sizeof block, "{\"functions\": {\"%s\": [{\"kind\": \"%s\", "
             "\"every\": %d}]}}", fn, kind, every);
    set_faults(1, block);
    for (int i = 1; i <= 6; i++) {
        own_reply o;
        invoke(1, fn, text_body, 0, &o);
        if (i % every == 0) {
            assert_injected_error(&o, status, kind, fn);
        } else {
            assert_int_equal(o.r.status, 200);
            cJSON *res = parse(&o);
            assert_success(res, fn);
            cJSON_Delete(res);
        }
        http_resp_free(&o.r);
    }
    cJSON *f = faults(1);
    assert_true(seen(f, fn) == 6);
    assert_true(injected(f, fn, kind) == 6 / every);
    assert_true(num(f, "injected_total") == 6 / every);
    cJSON_Delete(f);
}

static void test_error_500(void **state)
{
    (void)state;
    every_error("censor", "error_500", 2, 500);
}

static void test_error_status(void **state)
{
    (void)state;
    every_error("translate", "error_status", 3, 200);
}

static void test_wrong_type(void **state)
{
    (void)state;
    set_faults(1, "{\"functions\": {\"*\": [{\"kind\": \"wrong_type\", \"every\": 1}]}}");
    own_reply o;
    /* Every output of translate changes type: its strings become 42. */
    invoke(1, "translate", text_body, 0, &o);
    assert_int_equal(o.r.status, 200);
    cJSON *res = parse(&o);
    assert_success(res, "translate");
    const cJSON *first = cJSON_GetObjectItemCaseSensitive(res, "translated_text");
    assert_true(cJSON_IsNumber(first) && first->valuedouble == 42);
    const cJSON *lang = cJSON_GetObjectItemCaseSensitive(res, "target_lang");
    assert_true(cJSON_IsNumber(lang) && lang->valuedouble == 42);
    assert_true(num(res, "exec_ms") >= 0);   /* identity and timings stay real */
    cJSON_Delete(res);
    http_resp_free(&o.r);
    /* upload's numbers (width, height) become "42", its strings 42. */
    invoke(1, "upload", g.upload_body, 0, &o);
    assert_int_equal(o.r.status, 200);
    res = parse(&o);
    assert_success(res, "upload");
    assert_string_equal(str(res, "width"), "42");
    assert_string_equal(str(res, "height"), "42");
    cJSON_Delete(res);
    http_resp_free(&o.r);
    /* An invocation that fails has no output field to spoil. */
    invoke(1, "censor", "{\"nope\": 1}", 0, &o);
    assert_int_equal(o.r.status, 400);
    http_resp_free(&o.r);

    cJSON *f = faults(1);
    assert_true(injected(f, "translate", "wrong_type") == 1);
    assert_true(injected(f, "upload", "wrong_type") == 1);
    assert_true(injected(f, "censor", "wrong_type") == 0);
    assert_true(seen(f, "censor") == 1);
    assert_true(num(f, "injected_total") == 2);
    cJSON_Delete(f);
}

static void test_drip(void **state)
{
    (void)state;
    set_faults(1, "{\"functions\": {\"censor\": [{\"kind\": \"drip\", \"every\": 1, "
                  "\"bytes_per_s\": 500}]}}");
    own_reply o;
    double t0 = fg_now_mono_ms();
    invoke(1, "censor", text_body, 0, &o);
    double wall = fg_now_mono_ms() - t0;
    assert_int_equal(o.r.curl_rc, CURLE_OK);
    assert_int_equal(o.r.status, 200);
    cJSON *res = parse(&o);
    assert_success(res, "censor");
    assert_string_equal(str(res, "filtered_text"), "hola mundo");
    cJSON_Delete(res);
    /* A lower bound only: the last byte is not due before len / rate. */
    double floor_ms = (double)o.r.len * 1000.0 / DRIP_RATE;
    printf("drip: %zu bytes at %.0f B/s took %.0f ms (at least %.0f)\n", o.r.len, DRIP_RATE,
           wall, floor_ms);
    assert_true(wall >= floor_ms * 0.95);
    http_resp_free(&o.r);
    cJSON *f = faults(1);
    assert_true(injected(f, "censor", "drip") == 1);
    cJSON_Delete(f);
}

static void test_reset(void **state)
{
    (void)state;
    set_faults(1, "{\"functions\": {\"censor\": [{\"kind\": \"reset\", \"every\": 2}]}}");
    for (int i = 1; i <= 4; i++) {
        own_reply o;
        invoke(1, "censor", text_body, 0, &o);
        if (i % 2 == 0) {
            /* Nothing came back: curl's "empty reply" or "recv failure". */
            printf("reset: curl %d (%s)\n", o.r.curl_rc, curl_easy_strerror(o.r.curl_rc));
            assert_true(o.r.curl_rc == CURLE_GOT_NOTHING || o.r.curl_rc == CURLE_RECV_ERROR);
            assert_int_equal(o.r.status, 0);
        } else {
            assert_int_equal(o.r.status, 200);
        }
        http_resp_free(&o.r);
    }
    cJSON *f = faults(1);
    assert_true(injected(f, "censor", "reset") == 2);
    assert_true(seen(f, "censor") == 4);
    cJSON_Delete(f);
}

static void *hanging_call(void *arg)
{
    invoke(1, "censor", text_body, HANG_CLIENT_MS, arg);
    return NULL;
}

/* open connections on f1 (its own GET /stats's included). */
static double connections(void)
{
    cJSON *s = own_get_json(g.url[1], "/stats");
    assert_non_null(s);
    double c = num(s, "connections");
    cJSON_Delete(s);
    return c;
}

static void test_hang(void **state)
{
    (void)state;
    set_faults(1, "{\"functions\": {\"censor\": [{\"kind\": \"hang\", \"every\": 1, "
                  "\"hang_ms\": 60000}]}}");
    own_reply held;
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, hanging_call, &held), 0);
    /* Once the hold has begun, f1's one worker slot still serves others. */
    double injected_now = 0;
    for (int i = 0; i < 600 && injected_now < 1; i++) {
        cJSON *f = faults(1);
        injected_now = injected(f, "censor", "hang");
        cJSON_Delete(f);
        if (injected_now < 1) usleep(10 * 1000);
    }
    assert_true(injected_now == 1);
    own_reply o;
    invoke(1, "translate", text_body, 0, &o);
    assert_int_equal(o.r.status, 200);
    http_resp_free(&o.r);
    pthread_join(t, NULL);
    printf("hang: curl %d (%s) after the client's %ld ms\n", held.r.curl_rc,
           curl_easy_strerror(held.r.curl_rc), HANG_CLIENT_MS);
    assert_int_equal(held.r.curl_rc, CURLE_OPERATION_TIMEDOUT);
    assert_int_equal(held.r.status, 0);
    http_resp_free(&held.r);
    /* The client gave up: the node ends the hold and closes its side long
     * before the 60 s hold is over (30 s of room for a busy machine). */
    double open = 2;
    for (int i = 0; i < 300 && open > 1; i++) {
        open = connections();
        if (open > 1) usleep(100 * 1000);
    }
    assert_true(open == 1);
    cJSON *f = faults(1);
    assert_true(injected(f, "censor", "hang") == 1);
    assert_true(num(f, "injected_total") == 1);
    cJSON_Delete(f);
}

/* A request to node n: 1 served, 0 refused (closed without an answer). */
static int served(int n, const char *path)
{
    own_reply o;
    if (!strcmp(path, "/")) own_request("GET", g.url[n], path, NULL, 0, &o);
    else invoke(n, path, text_body, 0, &o);
    int ok = o.r.curl_rc == CURLE_OK && o.r.status == 200;
    if (!ok) assert_int_equal(o.r.status, 0);   /* refused means no answer at all */
    http_resp_free(&o.r);
    return ok;
}

static void test_down(void **state)
{
    (void)state;
    set_faults(1, "{\"down_s\": 600}");
    assert_false(served(1, "/"));
    assert_false(served(1, "censor"));
    assert_false(served(1, "translate"));
    cJSON *f = faults(1);    /* /faults itself still answers */
    assert_true(num(f, "refused_down") == 3);
    assert_true(injected(f, "censor", "down") == 1);
    assert_true(injected(f, "translate", "down") == 1);
    assert_true(num(f, "down_left_s") > 500);
    cJSON_Delete(f);
    set_faults(1, "null");
    assert_true(served(1, "/"));

    /* Down for 1 s from the PUT, then back by itself; the node counted
     * every refusal the client saw (how many depends on the machine's
     * speed; the bound of 60 s is room for a busy one, not a claim). */
    set_faults(1, "{\"down_s\": 1}");
    int refused = 0;
    for (int i = 0; i < 600 && !served(1, "censor"); i++) {
        refused++;
        usleep(100 * 1000);
    }
    f = faults(1);
    printf("down 1 s: %d requests refused before it served again\n", refused);
    assert_true(num(f, "down_left_s") == 0);
    assert_true(num(f, "refused_down") == refused);
    assert_true(injected(f, "censor", "down") == refused);
    assert_true(seen(f, "censor") == 1);    /* the one served */
    cJSON_Delete(f);
}

/* The statuses of calls censor calls on f1, as a string of '0'/'1'. */
static void pattern(int calls, char *out)
{
    for (int i = 0; i < calls; i++) {
        own_reply o;
        invoke(1, "censor", text_body, 0, &o);
        assert_true(o.r.status == 200 || o.r.status == 500);
        out[i] = o.r.status == 500 ? '1' : '0';
        http_resp_free(&o.r);
    }
    out[calls] = 0;
}

static void test_rate_is_seeded(void **state)
{
    (void)state;
    enum { CALLS = 40 };
    const char *block = "{\"seed\": 11, \"functions\": {\"*\": [{\"kind\": \"error_500\", "
                        "\"rate\": 0.3}]}}";
    char a[CALLS + 1], b[CALLS + 1], c[CALLS + 1];
    set_faults(1, block);
    pattern(CALLS, a);
    cJSON *f = faults(1);
    int fails = 0;
    for (int i = 0; i < CALLS; i++) fails += a[i] == '1';
    printf("rate 0.3, seed 11: %s (%d of %d)\n", a, fails, CALLS);
    assert_true(injected(f, "censor", "error_500") == fails);
    assert_true(seen(f, "censor") == CALLS);
    assert_true(fails > 0 && fails < CALLS);
    cJSON_Delete(f);
    set_faults(1, block);   /* the same block again: the same calls fail */
    pattern(CALLS, b);
    assert_string_equal(a, b);
    set_faults(1, "{\"seed\": 12, \"functions\": {\"*\": [{\"kind\": \"error_500\", "
                  "\"rate\": 0.3}]}}");
    pattern(CALLS, c);
    printf("rate 0.3, seed 12: %s\n", c);
    assert_string_not_equal(a, c);
    /* Rates 0 and 1 never and always. */
    set_faults(1, "{\"functions\": {\"censor\": [{\"kind\": \"error_500\", \"rate\": 0}, "
                  "{\"kind\": \"error_status\", \"rate\": 1}]}}");
    pattern(3, a);
    f = faults(1);
    assert_true(injected(f, "censor", "error_500") == 0);
    assert_true(injected(f, "censor", "error_status") == 3);
    cJSON_Delete(f);
}

/* A bad block: 400, one line naming `what`, and the block in force stays. */
static void expect_bad(const char *block, const char *what)
{
    own_reply o;
    own_request("PUT", g.url[1], "/faults", block, 0, &o);
    printf("PUT %s -> %ld %s\n", block, o.r.status, o.r.body);
    assert_int_equal(o.r.status, 400);
    cJSON *res = parse(&o);
    assert_string_equal(str(res, "status"), "error");
    const char *msg = str(res, "message");
    assert_non_null(strstr(msg, what));
    assert_null(strchr(msg, '\n'));
    cJSON_Delete(res);
    http_resp_free(&o.r);
}

static void test_bad_blocks(void **state)
{
    (void)state;
    set_faults(1, "{\"seed\": 5, \"functions\": {\"censor\": [{\"kind\": \"reset\", "
                  "\"rate\": 0.5}]}}");
    expect_bad("{\"functions\": {\"censor\": [{\"kind\": \"boom\", \"rate\": 1}]}}",
               "\"censor\"[0]: unknown kind \"boom\"");
    expect_bad("{\"functions\": {\"censor\": [{\"kind\": \"reset\", \"rate\": 1.5}]}}",
               "\"rate\" must be a number in [0, 1]");
    expect_bad("{\"functions\": {\"censr\": [{\"kind\": \"reset\", \"rate\": 1}]}}",
               "unknown function \"censr\"");
    expect_bad("{\"functions\": {\"censor\": [{\"kind\": \"reset\", \"every\": 0}]}}",
               "\"every\" must be an integer in [1, 1000000]");
    expect_bad("{\"functions\": {\"censor\": [{\"kind\": \"drip\", \"rate\": 1, "
               "\"hang_ms\": 5}]}}", "\"hang_ms\" belongs to kind \"hang\"");
    expect_bad("{\"functions\": {\"censor\": [{\"kind\": \"reset\"}]}}",
               "give either \"rate\"");
    expect_bad("{\"down\": 5}", "unknown key \"down\"");
    expect_bad("{\"down_s\": -1}", "\"down_s\" must be a number");
    expect_bad("[1]", "must be null or an object");
    expect_bad("{", "not JSON");
    cJSON *f = faults(1);    /* unchanged */
    const cJSON *block = cJSON_GetObjectItemCaseSensitive(f, "faults");
    assert_true(num(block, "seed") == 5);
    cJSON_Delete(f);
    /* GET and PUT only. */
    own_reply o;
    own_request("POST", g.url[1], "/faults", "{}", 0, &o);
    assert_int_equal(o.r.status, 405);
    assert_string_equal(o.r.allow, "GET, HEAD, PUT");
    http_resp_free(&o.r);
    set_faults(1, "null");
}

/* A bad block in a profile: the server does not start (exit 2, one line). */
static void test_bad_profile_refused(void **state)
{
    (void)state;
    own_server bad;
    assert_int_equal(own_server_start(&bad, "faults-bad",
                                      "{\"nodes\": [{\"name\": \"a\", \"workers\": 1, "
                                      "\"faults\": {\"functions\": {\"*\": [{\"kind\": "
                                      "\"slow\", \"every\": 1}]}}}]}\n"), -1);
    char log[512];
    own_path(&bad, ".log", log, sizeof log);
    fg_buf text;
    assert_int_equal(fg_read_file(log, 1 << 16, &text, NULL), 0);
    const char *out = (const char *)text.data;
    printf("refused: %s", out);
    assert_non_null(strstr(out, "nodes[0]: \"faults\": \"functions\": \"*\"[0]: unknown kind "
                                "\"slow\""));
    assert_non_null(strchr(out, '\n'));
    assert_int_equal(strchr(out, '\n')[1], 0);
    fg_buf_free(&text);
    unlink(log);
    own_path(&bad, ".json", log, sizeof log);
    unlink(log);
    rmdir(bad.dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_profile_blocks),
        cmocka_unit_test(test_error_500),
        cmocka_unit_test(test_error_status),
        cmocka_unit_test(test_wrong_type),
        cmocka_unit_test(test_drip),
        cmocka_unit_test(test_reset),
        cmocka_unit_test(test_hang),
        cmocka_unit_test(test_down),
        cmocka_unit_test(test_rate_is_seeded),
        cmocka_unit_test(test_bad_blocks),
        cmocka_unit_test(test_bad_profile_refused),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
