/* test_server.c — the function server over real HTTP, against the ctest
 * fixture server (FLOWGATE_ENDPOINTS): health, the seven functions on a
 * generated 0.1 MB PNG, blob references on the same and on another node,
 * every class of bad input with its status and message, the body limit
 * (refused from Content-Length without reading the body, and for chunked
 * bodies), bodies past the up-front reservation and clients that hang up
 * mid-body, worker capacity, egress emulation, and the cold-start flag of
 * the warm OCR engines. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <cmocka.h>

#include "../png_bomb.h"

#include "flowgate/b64.h"
#include "flowgate/common.h"
#include "flowgate/imagegen.h"
#include "http_client.h"
#include "server/growbuf.h"
#include "server/node.h"

#define MAX_TEST_NODES 16

static struct {
    int n_nodes;
    char names[MAX_TEST_NODES][32];
    char urls[MAX_TEST_NODES][256];
    int workers[MAX_TEST_NODES];
    double latency_ms[MAX_TEST_NODES], bandwidth_mbit[MAX_TEST_NODES];
    fg_buf png;          /* clean 0.1 MB test image */
    char *png_b64;
    fg_buf adult_png;
    char *adult_b64;
} g;

static void invoke_url(int node, const char *fn, char *url, size_t size)
{
    snprintf(url, size, "%s/invoke/recognizer__%s", g.urls[node], fn);
}

/* POSTs req to fn on node; returns the parsed reply, asserting the status. */
static cJSON *invoke(int node, const char *fn, cJSON *req, long expect_status)
{
    char url[512];
    invoke_url(node, fn, url, sizeof url);
    long status = 0;
    cJSON *res = http_post_json(url, req, &status);
    if (status != expect_status) {
        char *dump = res ? cJSON_PrintUnformatted(res) : NULL;
        fprintf(stderr, "%s: HTTP %ld, expected %ld: %.400s\n", url, status, expect_status,
                dump ? dump : "(no JSON)");
        free(dump);
    }
    assert_int_equal(status, expect_status);
    assert_non_null(res);
    return res;
}

static cJSON *image_request(const char *b64)
{
    cJSON *req = cJSON_CreateObject();
    cJSON_AddStringToObject(req, "img_b64", b64);
    cJSON_AddStringToObject(req, "request_id", "t-1");
    return req;
}

static cJSON *ref_request(const cJSON *ref)
{
    cJSON *req = cJSON_CreateObject();
    cJSON_AddItemToObject(req, "input_ref", cJSON_Duplicate(ref, 1));
    return req;
}

static const cJSON *field(const cJSON *o, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    if (!v) fprintf(stderr, "missing field \"%s\"\n", name);
    assert_non_null(v);
    return v;
}

static double number(const cJSON *o, const char *name)
{
    const cJSON *v = field(o, name);
    assert_true(cJSON_IsNumber(v));
    return v->valuedouble;
}

static const char *string(const cJSON *o, const char *name)
{
    const cJSON *v = field(o, name);
    assert_true(cJSON_IsString(v));
    return v->valuestring;
}

/* The fields every successful invocation carries. */
static void assert_success(const cJSON *res, const char *fn, int node)
{
    char full[64];
    snprintf(full, sizeof full, "recognizer__%s", fn);
    assert_string_equal(string(res, "status"), "success");
    assert_string_equal(string(res, "function"), full);
    assert_string_equal(string(res, "node"), g.names[node]);
    assert_true(number(res, "exec_ms") >= 0);
    assert_true(number(res, "queue_ms") >= 0);
    const cJSON *ts = field(res, "server_timestamps");
    double recv = number(ts, "recv"), start = number(ts, "exec_start"), end = number(ts, "exec_end");
    double now = fg_now_unix_ms();
    assert_true(recv > now - 600000 && recv <= now + 1);
    assert_true(recv <= start && start <= end && end <= now + 1);
    assert_true(cJSON_IsBool(field(res, "cold_start")));
}

static void assert_error(const cJSON *res, const char *message_part)
{
    assert_string_equal(string(res, "status"), "error");
    const char *msg = string(res, "message");
    if (!strstr(msg, message_part))
        fprintf(stderr, "message \"%s\" lacks \"%s\"\n", msg, message_part);
    assert_non_null(strstr(msg, message_part));
    assert_null(strchr(msg, '\n'));
}

static void load_endpoints(void)
{
    const char *path = getenv("FLOWGATE_ENDPOINTS");
    assert_non_null(path);
    fg_buf text;
    fg_err err;
    if (fg_read_file(path, 1 << 20, &text, &err) != 0) fail_msg("%s", err.msg);
    cJSON *root = cJSON_ParseWithLength((const char *)text.data, text.len);
    fg_buf_free(&text);
    assert_non_null(root);
    assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(root, "mode")), "nodes");
    const cJSON *n;
    cJSON_ArrayForEach(n, cJSON_GetObjectItem(root, "nodes")) {
        assert_true(g.n_nodes < MAX_TEST_NODES);
        snprintf(g.names[g.n_nodes], 32, "%s", string(n, "name"));
        snprintf(g.urls[g.n_nodes], 256, "%s", string(n, "url"));
        g.workers[g.n_nodes] = (int)number(n, "workers");
        g.latency_ms[g.n_nodes] = number(n, "latency_ms");
        g.bandwidth_mbit[g.n_nodes] = number(n, "bandwidth_mbit");
        g.n_nodes++;
    }
    cJSON_Delete(root);
    assert_true(g.n_nodes >= 2);   /* the ref tests need a second node */
}

static int setup(void **state)
{
    (void)state;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    load_endpoints();
    fg_err err;
    if (fg_imagegen_png(0.1, FG_VARIANT_CLEAN, 7, &g.png, &err) != 0) fail_msg("%s", err.msg);
    if (fg_imagegen_png(0.1, FG_VARIANT_ADULT, 7, &g.adult_png, &err) != 0) fail_msg("%s", err.msg);
    g.png_b64 = fg_b64_encode(g.png.data, g.png.len, NULL);
    g.adult_b64 = fg_b64_encode(g.adult_png.data, g.adult_png.len, NULL);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    fg_buf_free(&g.png);
    fg_buf_free(&g.adult_png);
    free(g.png_b64);
    free(g.adult_b64);
    curl_global_cleanup();
    return 0;
}

static void assert_all_healthy(void)
{
    for (int i = 0; i < g.n_nodes; i++) {
        http_resp r;
        char url[300];
        snprintf(url, sizeof url, "%s/", g.urls[i]);
        http_request("GET", url, NULL, 0, &r);
        assert_int_equal(r.status, 200);
        cJSON *h = cJSON_Parse(r.body);
        http_resp_free(&r);
        assert_non_null(h);
        assert_string_equal(string(h, "status"), "healthy");
        assert_string_equal(string(h, "service"), "flowgate-node");
        assert_string_equal(string(h, "node"), g.names[i]);
        assert_int_equal((int)number(h, "workers"), g.workers[i]);
        assert_int_equal(cJSON_GetArraySize(field(h, "functions")), 7);
        assert_true(number(h, "slowdown") == 1.0);   /* the knob is off by default */
        cJSON_Delete(h);
    }
}

static void test_health(void **state)
{
    (void)state;
    assert_all_healthy();
}

/* --- the seven functions --- */

static void test_upload(void **state)
{
    (void)state;
    cJSON *res = invoke(0, "upload", image_request(g.png_b64), 200);
    assert_success(res, "upload", 0);
    assert_string_equal(string(res, "request_id"), "t-1");
    assert_true(number(res, "width") > 0 && number(res, "height") > 0);
    /* The validated PNG comes back byte for byte. */
    assert_string_equal(string(res, "img_clean_b64"), g.png_b64);
    const cJSON *ref = field(res, "ref");
    assert_string_equal(string(ref, "node"), g.names[0]);
    assert_int_equal(strlen(string(ref, "key")), 16);
    assert_int_equal((size_t)number(ref, "bytes"), g.png.len);
    cJSON_Delete(res);
}

static void test_adult_and_violence(void **state)
{
    (void)state;
    cJSON *res = invoke(0, "adult", image_request(g.png_b64), 200);
    assert_success(res, "adult", 0);
    assert_true(cJSON_IsFalse(field(res, "is_adult")));
    double c = number(res, "confidence");
    assert_true(c >= 0 && c <= 1);
    cJSON_Delete(res);

    res = invoke(1, "adult", image_request(g.adult_b64), 200);
    assert_success(res, "adult", 1);
    assert_true(cJSON_IsTrue(field(res, "is_adult")));
    assert_true(number(res, "confidence") > 0.5);
    cJSON_Delete(res);

    res = invoke(0, "violence", image_request(g.png_b64), 200);
    assert_success(res, "violence", 0);
    assert_true(cJSON_IsFalse(field(res, "illegal")));
    c = number(res, "confidence");
    assert_true(c >= 0 && c <= 1);
    cJSON_Delete(res);
}

static void assert_text_has_banner_word(const cJSON *res)
{
    const char *text = string(res, "text");
    const cJSON *chunks = field(res, "text_chunks");
    assert_true(cJSON_IsArray(chunks));
    assert_true(cJSON_GetArraySize(chunks) >= 1);
    const cJSON *chunk;
    cJSON_ArrayForEach(chunk, chunks) {
        assert_true(cJSON_IsString(chunk));
        assert_true(chunk->valuestring[0] != 0);
        assert_non_null(strstr(text, chunk->valuestring));
    }
    /* The banner is "EL GATO NEGRO ...": OCR must read at least one word. */
    assert_true(strcasestr(text, "GATO") || strcasestr(text, "NEGRO") ||
                strcasestr(text, "PESCADO") || strcasestr(text, "CASA"));
}

static void test_extract(void **state)
{
    (void)state;
    cJSON *res = invoke(0, "extract", image_request(g.png_b64), 200);
    assert_success(res, "extract", 0);
    assert_text_has_banner_word(res);
    cJSON_Delete(res);
}

/* First "source<TAB>target" entry of a data file. */
static void first_entry(const char *rel, char *word, char *target, size_t size)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", fg_data_dir(), rel);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    char line[512];
    word[0] = 0;
    while (fgets(line, sizeof line, f)) {
        if (line[0] == '#' || line[0] == '\n') continue;
        line[strcspn(line, "\r\n")] = 0;
        char *tab = strchr(line, '\t');
        if (tab) {
            *tab = 0;
            snprintf(target, size, "%s", tab + 1);
        }
        snprintf(word, size, "%s", line);
        break;
    }
    fclose(f);
    assert_true(word[0] != 0);
}

static void test_translate(void **state)
{
    (void)state;
    char word[512], target[512] = "";
    first_entry("dict/es-en.tsv", word, target, sizeof word);
    char text[1100];
    snprintf(text, sizeof text, "%s xyzzy", word);
    cJSON *req = cJSON_CreateObject();
    cJSON_AddStringToObject(req, "text", text);
    cJSON_AddStringToObject(req, "target_lang", "en");
    cJSON *res = invoke(1, "translate", req, 200);
    assert_success(res, "translate", 1);
    char expect[1100];
    snprintf(expect, sizeof expect, "%s xyzzy", target);
    assert_string_equal(string(res, "translated_text"), expect);
    assert_string_equal(string(res, "target_lang"), "en");
    cJSON_Delete(res);

    /* target_lang defaults to "en". */
    req = cJSON_CreateObject();
    cJSON_AddStringToObject(req, "text", word);
    res = invoke(0, "translate", req, 200);
    assert_string_equal(string(res, "translated_text"), target);
    assert_string_equal(string(res, "target_lang"), "en");
    cJSON_Delete(res);
}

static void test_censor(void **state)
{
    (void)state;
    char word[512], unused[512];
    first_entry("censor/words.txt", word, unused, sizeof word);
    char text[1100];
    snprintf(text, sizeof text, "they sell %s here", word);
    cJSON *req = cJSON_CreateObject();
    cJSON_AddStringToObject(req, "text", text);
    cJSON *res = invoke(0, "censor", req, 200);
    assert_success(res, "censor", 0);
    assert_true(cJSON_IsTrue(field(res, "illegal")));
    assert_int_equal((int)number(res, "filter_count"), 1);
    const char *filtered = string(res, "filtered_text");
    assert_null(strcasestr(filtered, word));
    char stars[520];
    memset(stars, '*', strlen(word));
    stars[strlen(word)] = 0;
    assert_non_null(strstr(filtered, stars));
    cJSON_Delete(res);

    req = cJSON_CreateObject();
    cJSON_AddStringToObject(req, "text", "the black cat eats fish");
    res = invoke(0, "censor", req, 200);
    assert_true(cJSON_IsFalse(field(res, "illegal")));
    assert_int_equal((int)number(res, "filter_count"), 0);
    assert_string_equal(string(res, "filtered_text"), "the black cat eats fish");
    cJSON_Delete(res);
}

static void assert_jpeg_b64(const char *b64)
{
    fg_buf jpeg;
    assert_int_equal(fg_b64_decode(b64, strlen(b64), &jpeg, NULL), 0);
    assert_true(jpeg.len > 100);
    assert_int_equal(jpeg.data[0], 0xFF);
    assert_int_equal(jpeg.data[1], 0xD8);
    fg_buf_free(&jpeg);
}

static void test_mosaic(void **state)
{
    (void)state;
    cJSON *res = invoke(0, "mosaic", image_request(g.png_b64), 200);
    assert_success(res, "mosaic", 0);
    assert_jpeg_b64(string(res, "mosaic_img_b64"));
    double w = number(res, "width"), h = number(res, "height");
    assert_true(w > 0 && w <= 1024 && h > 0 && h <= 1024);
    cJSON_Delete(res);
}

/* --- blob references --- */

static cJSON *upload_by_ref(int node)
{
    cJSON *req = image_request(g.png_b64);
    cJSON_AddBoolToObject(req, "by_ref", 1);
    cJSON *res = invoke(node, "upload", req, 200);
    assert_success(res, "upload", node);
    assert_null(cJSON_GetObjectItem(res, "img_clean_b64"));
    cJSON *ref = cJSON_Duplicate(field(res, "ref"), 1);
    cJSON_Delete(res);
    assert_string_equal(string(ref, "node"), g.names[node]);
    assert_int_equal((size_t)number(ref, "bytes"), g.png.len);
    return ref;
}

static void check_ref_functions(const cJSON *ref, int node, int remote)
{
    static const char *fns[] = {"adult", "extract", "mosaic"};
    for (int i = 0; i < 3; i++) {
        cJSON *res = invoke(node, fns[i], ref_request(ref), 200);
        assert_success(res, fns[i], node);
        double ms = number(res, "transfer_ms");
        double bytes = number(res, "transfer_bytes");
        assert_true(ms >= 0);
        if (remote) {
            assert_int_equal((size_t)bytes, g.png.len);
            assert_true(ms > 0);
        } else {
            assert_true(bytes == 0);
        }
        if (!strcmp(fns[i], "extract")) assert_text_has_banner_word(res);
        if (!strcmp(fns[i], "adult")) assert_true(cJSON_IsFalse(field(res, "is_adult")));
        if (!strcmp(fns[i], "mosaic")) assert_jpeg_b64(string(res, "mosaic_img_b64"));
        cJSON_Delete(res);
    }
}

static void test_refs_same_node(void **state)
{
    (void)state;
    cJSON *ref = upload_by_ref(0);
    check_ref_functions(ref, 0, 0);
    cJSON_Delete(ref);
}

static void test_refs_other_node(void **state)
{
    (void)state;
    cJSON *ref = upload_by_ref(0);
    check_ref_functions(ref, 1, 1);
    /* "bytes" is the client's word: a wrong one sizes nothing. */
    static const double wrong[] = {1e300, -5, 1};
    for (int i = 0; i < 3; i++) {
        cJSON_ReplaceItemInObject(ref, "bytes", cJSON_CreateNumber(wrong[i]));
        cJSON *res = invoke(1, "adult", ref_request(ref), 200);
        assert_int_equal((size_t)number(res, "transfer_bytes"), g.png.len);
        cJSON_Delete(res);
    }
    cJSON_Delete(ref);
}

static void test_mosaic_by_ref(void **state)
{
    (void)state;
    cJSON *req = image_request(g.png_b64);
    cJSON_AddBoolToObject(req, "by_ref", 1);
    cJSON *res = invoke(1, "mosaic", req, 200);
    assert_success(res, "mosaic", 1);
    assert_null(cJSON_GetObjectItem(res, "mosaic_img_b64"));
    const cJSON *ref = field(res, "ref");
    assert_string_equal(string(ref, "node"), g.names[1]);
    /* The stored JPEG is served by GET /blob/<key>. */
    char url[400];
    snprintf(url, sizeof url, "%s/blob/%s", g.urls[1], string(ref, "key"));
    http_resp r;
    http_request("GET", url, NULL, 0, &r);
    assert_int_equal(r.status, 200);
    assert_int_equal(r.len, (size_t)number(ref, "bytes"));
    assert_int_equal((unsigned char)r.body[0], 0xFF);
    assert_int_equal((unsigned char)r.body[1], 0xD8);
    http_resp_free(&r);
    cJSON_Delete(res);
}

/* --- bad input --- */

static void expect_error(int node, const char *fn, cJSON *req, long status, const char *part)
{
    cJSON *res = invoke(node, fn, req, status);
    assert_error(res, part);
    cJSON_Delete(res);
}

static void expect_raw_error(const char *method, const char *url, const char *body,
                             long status, const char *part, const char *allow)
{
    http_resp r;
    http_request(method, url, body, body ? strlen(body) : 0, &r);
    assert_int_equal(r.status, status);
    cJSON *res = r.body ? cJSON_Parse(r.body) : NULL;
    assert_non_null(res);
    assert_error(res, part);
    if (allow) assert_string_equal(r.allow, allow);
    cJSON_Delete(res);
    http_resp_free(&r);
}

/* A well-formed PNG whose IHDR claims 100000x100000 RGB, as base64. */
static char *bomb_png_b64(void)
{
    unsigned char png[PNG_BOMB_MAX_BYTES];
    size_t n = png_bomb(png, 100000, 100000);
    return fg_b64_encode(png, n, NULL);
}

static void test_bad_inputs(void **state)
{
    (void)state;
    char url[512];
    invoke_url(0, "adult", url, sizeof url);
    expect_raw_error("POST", url, "{\"img_b64\": ", 400, "invalid JSON", NULL);
    expect_raw_error("POST", url, "[1,2]", 400, "invalid JSON", NULL);
    expect_raw_error("POST", url, "", 400, "invalid JSON", NULL);

    expect_error(0, "adult", cJSON_CreateObject(), 400, "missing field \"img_b64\"");
    expect_error(0, "upload", cJSON_CreateObject(), 400, "missing field \"img_b64\"");
    expect_error(0, "censor", cJSON_CreateObject(), 400, "missing field \"text\"");
    cJSON *req = cJSON_CreateObject();
    cJSON_AddNumberToObject(req, "img_b64", 5);
    expect_error(0, "mosaic", req, 400, "must be a string");

    expect_error(0, "upload", image_request("aGVsbG8gd29ybGQh!!!!"), 400,
                 "img_b64: bad base64 at offset 16");
    expect_error(0, "adult", image_request("aGVsbG8gd29ybGQ"), 400,
                 "is not a multiple of 4");
    /* "hello world!" */
    expect_error(0, "upload", image_request("aGVsbG8gd29ybGQh"), 400, "not a PNG");

    char *half = fg_b64_encode(g.png.data, g.png.len / 2, NULL);
    expect_error(0, "upload", image_request(half), 400, "truncated PNG");
    expect_error(1, "extract", image_request(half), 400, "truncated PNG");
    free(half);

    char *bomb = bomb_png_b64();
    expect_error(0, "upload", image_request(bomb), 413,
                 "PNG is 100000x100000 = 10000000000 pixels, over the limit");
    expect_error(0, "mosaic", image_request(bomb), 413, "over the limit");
    free(bomb);

    char nf[512];
    snprintf(nf, sizeof nf, "%s/invoke/recognizer__nope", g.urls[0]);
    expect_raw_error("POST", nf, "{}", 404, "unknown function \"recognizer__nope\"", NULL);
    snprintf(nf, sizeof nf, "%s/elsewhere", g.urls[0]);
    expect_raw_error("GET", nf, NULL, 404, "no route", NULL);
    expect_raw_error("GET", url, NULL, 405, "method GET not allowed", "POST");
    expect_raw_error("PUT", url, "{}", 405, "method PUT not allowed", "POST");
    snprintf(nf, sizeof nf, "%s/", g.urls[0]);
    expect_raw_error("POST", nf, "{}", 405, "method POST not allowed", "GET, HEAD");

    /* Missing blobs: on this node, and fetched from another one. */
    cJSON *ref = cJSON_CreateObject();
    cJSON_AddStringToObject(ref, "node", g.names[1]);
    cJSON_AddStringToObject(ref, "key", "0123456789abcdef");
    char msg[128];
    snprintf(msg, sizeof msg, "blob 0123456789abcdef not found on %s", g.names[1]);
    expect_error(1, "adult", ref_request(ref), 404, msg);
    expect_error(0, "adult", ref_request(ref), 404, msg);
    snprintf(nf, sizeof nf, "%s/blob/0123456789abcdef", g.urls[1]);
    expect_raw_error("GET", nf, NULL, 404, msg, NULL);
    cJSON_ReplaceItemInObject(ref, "node", cJSON_CreateString("nowhere"));
    expect_error(0, "adult", ref_request(ref), 400, "unknown node \"nowhere\"");
    cJSON_ReplaceItemInObject(ref, "node", cJSON_CreateString(g.names[1]));
    cJSON_ReplaceItemInObject(ref, "key", cJSON_CreateString("../../etc"));
    expect_error(0, "adult", ref_request(ref), 400, "malformed key");
    cJSON_Delete(ref);

    req = cJSON_CreateObject();
    cJSON_AddStringToObject(req, "text", "hola");
    cJSON_AddStringToObject(req, "target_lang", "fr");
    expect_error(0, "translate", req, 400, "unsupported target_lang \"fr\"");

    assert_all_healthy();
}

typedef struct zero_source {
    curl_off_t left;
    curl_off_t given;
    curl_off_t abort_at;    /* > 0: drop the connection after this many bytes */
} zero_source;

static size_t read_zeros(char *buf, size_t size, size_t n, void *ud)
{
    zero_source *z = ud;
    if (z->abort_at > 0 && z->given >= z->abort_at) return CURL_READFUNC_ABORT;
    size_t want = size * n;
    if ((curl_off_t)want > z->left) want = (size_t)z->left;
    memset(buf, ' ', want);
    z->left -= (curl_off_t)want;
    z->given += (curl_off_t)want;
    return want;
}

static void post_stream(const char *url, curl_off_t declared, curl_off_t actual,
                        http_resp *r, zero_source *z)
{
    CURL *h = http_handle("POST", url, r);
    z->left = actual;
    z->given = 0;
    struct curl_slist *hdrs = curl_slist_append(NULL, "Expect: 100-continue");
    /* Wait for the server's verdict on the headers however busy the host:
     * curl's default (1 s) would start sending the body regardless. */
    curl_easy_setopt(h, CURLOPT_EXPECT_100_TIMEOUT_MS, 60000L);
    if (declared < 0) hdrs = curl_slist_append(hdrs, "Transfer-Encoding: chunked");
    curl_easy_setopt(h, CURLOPT_POST, 1L);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(h, CURLOPT_READFUNCTION, read_zeros);
    curl_easy_setopt(h, CURLOPT_READDATA, z);
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, declared);
    http_perform(h, r);
    curl_slist_free_all(hdrs);
}

static void test_body_limit(void **state)
{
    (void)state;
    char url[512];
    invoke_url(0, "upload", url, sizeof url);
    const curl_off_t limit = 64 * 1048576;

    /* Declared over the limit: refused from the header, body never read. */
    http_resp r;
    zero_source z = {0};
    post_stream(url, limit + 1, limit + 1, &r, &z);
    assert_int_equal(r.status, 413);
    assert_true(z.given < 1048576);
    cJSON *res = cJSON_Parse(r.body);
    assert_non_null(res);
    assert_error(res, "body of 67108865 bytes is over the limit of 67108864");
    assert_string_equal(string(res, "function"), "recognizer__upload");
    cJSON_Delete(res);
    http_resp_free(&r);

    /* Chunked past the limit: read and dropped, then refused. */
    post_stream(url, -1, limit + 65536, &r, &z);
    assert_int_equal(r.status, 413);
    res = cJSON_Parse(r.body);
    assert_non_null(res);
    assert_error(res, "over the limit of 67108864");
    cJSON_Delete(res);
    http_resp_free(&r);

    /* A client that declares a large body and hangs up part-way gets no
     * answer; the node frees the request and keeps serving. */
    z.abort_at = 1 << 20;
    post_stream(url, 48 * 1048576, 48 * 1048576, &r, &z);
    assert_int_not_equal(r.curl_rc, CURLE_OK);
    http_resp_free(&r);
    assert_all_healthy();
}

/* A body larger than the up-front reservation (16 MiB) grows to its
 * declared length and is read whole: JSON whitespace, then the fields. */
static void test_large_body(void **state)
{
    (void)state;
    size_t pad = (size_t)20 << 20;
    const char fields[] = "\"text\":\"hola\"}";
    char *body = malloc(1 + pad + sizeof fields);
    assert_non_null(body);
    body[0] = '{';
    memset(body + 1, ' ', pad);
    memcpy(body + 1 + pad, fields, sizeof fields);
    char url[512];
    invoke_url(0, "censor", url, sizeof url);
    http_resp r;
    http_request("POST", url, body, strlen(body), &r);
    free(body);
    assert_int_equal(r.status, 200);
    cJSON *res = cJSON_Parse(r.body);
    http_resp_free(&r);
    assert_non_null(res);
    assert_success(res, "censor", 0);
    assert_string_equal(string(res, "filtered_text"), "hola");
    cJSON_Delete(res);
}

/* --- warm workers --- */

static cJSON *node_stats(int node)
{
    char url[300];
    snprintf(url, sizeof url, "%s/stats", g.urls[node]);
    http_resp r;
    http_request("GET", url, NULL, 0, &r);
    assert_int_equal(r.status, 200);
    cJSON *s = cJSON_Parse(r.body);
    http_resp_free(&r);
    assert_non_null(s);
    assert_string_equal(string(s, "node"), g.names[node]);
    return s;
}

/* Engines are built on first use per worker slot and never dropped, and a
 * sequential call gets the slot released last. The assertions hold even if
 * another client uses the node meanwhile: each cold reply warms one more
 * slot, so within workers + 1 calls one reply is warm, and the node's count
 * of cold starts grows by at least ours and never passes its worker count. */
static void test_cold_start(void **state)
{
    (void)state;
    int node = g.n_nodes - 1;
    int workers = g.workers[node];
    cJSON *st = node_stats(node);
    double cold_before = number(st, "cold_starts"), inv_before = number(st, "invocations");
    double cpu_before = number(st, "cpu_s");
    /* What the resource sampler reads: the process's memory, and whose. */
    assert_true(number(st, "process_rss_kb") > 1000);
    assert_int_equal((int)number(st, "process_nodes"), g.n_nodes);
    cJSON_Delete(st);

    int calls = 0, colds = 0, first_cold = -1, warm_seen = 0;
    while (!warm_seen && calls < workers + 1) {
        cJSON *res = invoke(node, "extract", image_request(g.png_b64), 200);
        assert_success(res, "extract", node);
        int cold = cJSON_IsTrue(field(res, "cold_start"));
        cJSON_Delete(res);
        if (first_cold < 0) first_cold = cold;
        colds += cold;
        warm_seen = !cold;
        calls++;
    }
    assert_true(warm_seen);

    st = node_stats(node);
    double cold_after = number(st, "cold_starts");
    assert_true(cold_after >= cold_before + colds);
    assert_true(cold_after <= workers);
    /* Nobody else started an engine and none existed: ours was the first. */
    if (cold_before == 0 && cold_after == colds) assert_int_equal(first_cold, 1);
    assert_true(number(st, "invocations") >= inv_before + calls);
    /* OCR of the test image is real work: the node's invocation CPU grew. */
    assert_true(number(st, "cpu_s") > cpu_before);
    double inflight = number(st, "inflight");
    assert_true(inflight >= 0 && inflight <= workers);
    cJSON_Delete(st);
}

/* --- capacity and egress emulation --- */

static int fewest_workers_node(void)
{
    int best = 0;
    for (int i = 1; i < g.n_nodes; i++)
        if (g.workers[i] < g.workers[best]) best = i;
    return best;
}

typedef struct interval { double start, end, queue_ms; } interval;

static int cmp_start(const void *a, const void *b)
{
    double x = ((const interval *)a)->start, y = ((const interval *)b)->start;
    return (x > y) - (x < y);
}

/* More concurrent requests than workers: executions never overlap beyond
 * the worker count, and queue_ms is part of the time before execution.
 * (Whether a request waits at all depends on scheduling, so it is not
 * asserted; bench/ measures queueing under load.) */
static void test_worker_capacity(void **state)
{
    (void)state;
    enum { N = 6 };
    int node = fewest_workers_node();
    int workers = g.workers[node];
    char url[512];
    invoke_url(node, "violence", url, sizeof url);
    cJSON *req = image_request(g.png_b64);
    char *body = cJSON_PrintUnformatted(req);
    cJSON_Delete(req);
    CURLM *m = curl_multi_init();
    http_resp r[N];
    CURL *h[N];
    struct curl_slist *hdrs = curl_slist_append(NULL, "Expect:");
    for (int i = 0; i < N; i++) {
        h[i] = http_handle("POST", url, &r[i]);
        curl_easy_setopt(h[i], CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(h[i], CURLOPT_HTTPHEADER, hdrs);
        curl_multi_add_handle(m, h[i]);
    }
    int running = N;
    while (running) {
        curl_multi_perform(m, &running);
        if (running) curl_multi_poll(m, NULL, 0, 100, NULL);
    }
    interval iv[N];
    for (int i = 0; i < N; i++) {
        curl_easy_getinfo(h[i], CURLINFO_RESPONSE_CODE, &r[i].status);
        assert_int_equal(r[i].status, 200);
        cJSON *res = cJSON_Parse(r[i].body);
        assert_success(res, "violence", node);
        const cJSON *ts = field(res, "server_timestamps");
        iv[i] = (interval){number(ts, "exec_start"), number(ts, "exec_end"),
                           number(res, "queue_ms")};
        /* The wait for a slot lies between arrival and execution (1 ms
         * slack: wall-clock stamps against a monotonic duration). */
        assert_true(iv[i].queue_ms <= iv[i].start - number(ts, "recv") + 1.0);
        cJSON_Delete(res);
        curl_multi_remove_handle(m, h[i]);
        curl_easy_cleanup(h[i]);
        http_resp_free(&r[i]);
    }
    curl_multi_cleanup(m);
    curl_slist_free_all(hdrs);
    free(body);
    /* At every start, count the executions still running (1 ms slack for
     * the rounding of unix-ms timestamps and clock steps). */
    qsort(iv, N, sizeof iv[0], cmp_start);
    for (int i = 0; i < N; i++) {
        int overlapping = 0;
        for (int j = 0; j < i; j++)
            if (iv[j].end > iv[i].start + 1.0) overlapping++;
        assert_true(overlapping < workers);
    }
}

/* GET /blob pays the owner's emulated link: latency + bytes / bandwidth,
 * less the one burst the link's bucket holds. */
static void test_egress_emulation(void **state)
{
    (void)state;
    int node = 0;
    for (int i = 1; i < g.n_nodes; i++)
        if (g.latency_ms[i] > g.latency_ms[node]) node = i;
    cJSON *ref = upload_by_ref(node);
    char url[400];
    snprintf(url, sizeof url, "%s/blob/%s", g.urls[node], string(ref, "key"));
    double bytes = number(ref, "bytes");
    cJSON_Delete(ref);
    double floor_ms = g.latency_ms[node];
    if (g.bandwidth_mbit[node] > 0) {
        /* The link's token bucket lets one burst through at once. */
        double per_ms = g.bandwidth_mbit[node] * 1e3 / 8;
        double burst = fmax(FG_LINK_MIN_BURST_BYTES, per_ms * FG_LINK_BURST_MS);
        floor_ms += fmax(0, bytes - burst) / per_ms;
    }
    for (int i = 0; i < 3; i++) {
        double t0 = fg_now_mono_ms();
        http_resp r;
        http_request("GET", url, NULL, 0, &r);
        double ms = fg_now_mono_ms() - t0;
        assert_int_equal(r.status, 200);
        assert_int_equal(r.len, (size_t)bytes);
        assert_memory_equal(r.body, g.png.data, g.png.len);
        http_resp_free(&r);
        assert_true(ms >= floor_ms);
    }
}

/* --- the node profile parser (no server needed) --- */

static void expect_profile_error(const char *json, const char *message)
{
    fg_site_profile p;
    fg_err err = {{0}};
    assert_int_equal(fg_site_profile_parse(json, strlen(json), &p, &err), -1);
    if (!strstr(err.msg, message)) fprintf(stderr, "got \"%s\"\n", err.msg);
    assert_non_null(strstr(err.msg, message));
}

static void test_profile_parse(void **state)
{
    (void)state;
    const char *ok = "{\"max_pixels\":1000,\"nodes\":[{\"name\":\"a\",\"workers\":2},"
                     "{\"name\":\"b\",\"workers\":1,\"port\":8101,\"bandwidth_mbit\":100,"
                     "\"latency_ms\":2.5,\"blob_store_mb\":1}]}";
    fg_site_profile p;
    fg_err err;
    assert_int_equal(fg_site_profile_parse(ok, strlen(ok), &p, &err), 0);
    assert_int_equal(p.n_nodes, 2);
    assert_int_equal(p.max_pixels, 1000);
    assert_int_equal(p.max_body_bytes, 64u << 20);   /* default */
    assert_true(p.blob_ttl_s == 300);
    assert_string_equal(p.nodes[0].name, "a");
    assert_int_equal(p.nodes[0].port, 0);
    assert_true(p.nodes[0].bandwidth_mbit == 0 && p.nodes[0].latency_ms == 0);
    assert_int_equal(p.nodes[1].port, 8101);
    assert_int_equal(p.nodes[1].workers, 1);
    assert_true(p.nodes[1].latency_ms == 2.5);
    assert_int_equal(p.nodes[1].blob_store_bytes, 1u << 20);

    expect_profile_error("{\"nodes\":", "invalid JSON");
    expect_profile_error("{}", "\"nodes\" must be a non-empty array");
    expect_profile_error("{\"nodes\":[]}", "\"nodes\" must be a non-empty array");
    expect_profile_error("{\"nodes\":[{\"name\":\"a\"}]}", "nodes[0]: missing \"workers\"");
    expect_profile_error("{\"nodes\":[{\"name\":\"a\",\"workers\":0}]}",
                         "nodes[0]: \"workers\" must be a number in [1, 256]");
    expect_profile_error("{\"nodes\":[{\"workers\":1}]}", "nodes[0]: \"name\" must be");
    expect_profile_error("{\"nodes\":[{\"name\":\"a\",\"workers\":1},{\"name\":\"a\",\"workers\":1}]}",
                         "nodes[1]: duplicate name \"a\"");
    expect_profile_error("{\"max_body_mb\":\"big\",\"nodes\":[{\"name\":\"a\",\"workers\":1}]}",
                         "\"max_body_mb\" must be a number");
    expect_profile_error("{\"nodes\":[{\"name\":\"a\",\"workers\":1,\"port\":70000}]}",
                         "\"port\" must be a number in [0, 65535]");
}

/* --- the body buffer (no server needed) --- */

static void test_growbuf(void **state)
{
    (void)state;
    /* A declared length reserves at most FG_GROWBUF_MAX_RESERVE. */
    fg_growbuf g = {.limit = (size_t)64 << 20};
    assert_int_equal(fg_growbuf_reserve(&g, (size_t)60 << 20), 0);
    assert_int_equal(g.cap, FG_GROWBUF_MAX_RESERVE + 1);
    fg_buf_free(&g.buf);
    g = (fg_growbuf){.limit = 100};
    assert_int_equal(fg_growbuf_reserve(&g, 1000), 0);
    assert_int_equal(g.cap, 101);
    fg_buf_free(&g.buf);

    /* Appends grow past any reserve up to the limit, and no further. */
    g = (fg_growbuf){.limit = 200000};
    char chunk[1000];
    for (int i = 0; i < 200; i++) {
        memset(chunk, 'a' + i % 26, sizeof chunk);
        assert_int_equal(fg_growbuf_append(&g, chunk, sizeof chunk), 0);
    }
    assert_int_equal(g.buf.len, 200000);
    assert_true(g.cap >= g.buf.len + 1 && g.cap <= g.limit + 1);
    assert_int_equal(g.buf.data[g.buf.len], 0);
    assert_int_equal(g.buf.data[199999], 'a' + 199 % 26);
    assert_int_equal(g.buf.data[1000], 'b');
    assert_int_equal(fg_growbuf_append(&g, "x", 1), 1);
    assert_int_equal(g.buf.len, 200000);
    assert_int_equal(fg_growbuf_append(&g, "", 0), 0);
    fg_buf_free(&g.buf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_health),
        cmocka_unit_test(test_cold_start),
        cmocka_unit_test(test_upload),
        cmocka_unit_test(test_adult_and_violence),
        cmocka_unit_test(test_extract),
        cmocka_unit_test(test_translate),
        cmocka_unit_test(test_censor),
        cmocka_unit_test(test_mosaic),
        cmocka_unit_test(test_refs_same_node),
        cmocka_unit_test(test_refs_other_node),
        cmocka_unit_test(test_mosaic_by_ref),
        cmocka_unit_test(test_bad_inputs),
        cmocka_unit_test(test_body_limit),
        cmocka_unit_test(test_large_body),
        cmocka_unit_test(test_worker_capacity),
        cmocka_unit_test(test_egress_emulation),
        cmocka_unit_test(test_profile_parse),
        cmocka_unit_test(test_growbuf),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
