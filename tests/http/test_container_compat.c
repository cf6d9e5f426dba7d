/* test_container_compat.c — container mode as a drop-in for a reference
 * container: it takes the reference's input names (upload "data",
 * extract/mosaic "img_clean", censor "translated_text"), stamps
 * server_timestamps in unix seconds, and with --reference-errors answers a
 * handled error HTTP 200 + "status":"error" (422 for a body that is not a
 * JSON object). Each case starts its own container on an ephemeral port of
 * 127.0.0.1 and stops it with SIGTERM. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "flowgate/b64.h"
#include "flowgate/common.h"
#include "flowgate/image.h"
#include "http_client.h"

typedef struct container {
    pid_t pid;
    char endpoints[128];
    char invoke[300];
} container;

static void start(container *c, const char *function, int reference_errors)
{
    const char *dir = getenv("FLOWGATE_BIN");
    char bin[1024];
    snprintf(bin, sizeof bin, "%s/flowgate-functions", dir ? dir : ".");
    snprintf(c->endpoints, sizeof c->endpoints, "compat-endpoints.%d.%s.json", (int)getpid(),
             function);
    unlink(c->endpoints);
    char *argv[] = {bin, "--function", (char *)function, "--port", "0", "--bind", "127.0.0.1",
                    "--endpoints-out", c->endpoints,
                    reference_errors ? "--reference-errors" : NULL, NULL};
    c->pid = fork();
    assert_true(c->pid >= 0);
    if (c->pid == 0) {
        execv(argv[0], argv);
        _exit(127);
    }
    fg_buf text = {0};
    for (int i = 0; i < 300 && fg_read_file(c->endpoints, 1 << 16, &text, NULL) != 0; i++)
        usleep(50 * 1000);
    assert_non_null(text.data);
    cJSON *root = cJSON_ParseWithLength((const char *)text.data, text.len);
    fg_buf_free(&text);
    const char *base = cJSON_GetStringValue(
        cJSON_GetObjectItem(cJSON_GetObjectItem(root, "functions"), function));
    assert_non_null(base);
    snprintf(c->invoke, sizeof c->invoke, "%s/invoke", base);
    cJSON_Delete(root);
}

static void stop(container *c)
{
    assert_int_equal(kill(c->pid, SIGTERM), 0);
    int wstatus = 0;
    assert_int_equal(waitpid(c->pid, &wstatus, 0), c->pid);
    assert_true(WIFEXITED(wstatus));
    assert_int_equal(WEXITSTATUS(wstatus), 0);
    unlink(c->endpoints);
}

/* A 64x48 PNG, base64: small enough for every function to be quick. */
static char *png_b64(void)
{
    fg_image img;
    assert_int_equal(fg_image_alloc(&img, 64, 48), 0);
    for (int i = 0; i < 64 * 48 * 3; i++) img.rgb[i] = (unsigned char)(i * 7);
    fg_buf png;
    fg_err err;
    assert_int_equal(fg_png_encode(&img, 1, &png, &err), 0);
    fg_image_free(&img);
    char *b64 = fg_b64_encode(png.data, png.len, NULL);
    fg_buf_free(&png);
    assert_non_null(b64);
    return b64;
}

static const char *str(const cJSON *o, const char *k)
{
    return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, k));
}

static double now_s(void)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return (double)tv.tv_sec + tv.tv_usec / 1e6;
}

static cJSON *post(const container *c, const char *field, const char *value, long *status)
{
    cJSON *req = cJSON_CreateObject();
    cJSON_AddStringToObject(req, field, value);
    cJSON *res = http_post_json(c->invoke, req, status);
    assert_non_null(res);
    return res;
}

static void test_upload_takes_data(void **state)
{
    (void)state;
    container c;
    start(&c, "recognizer__upload", 0);
    char *b64 = png_b64();
    double before = now_s();
    long status = 0;
    cJSON *res = post(&c, "data", b64, &status);
    double after = now_s();
    assert_int_equal(status, 200);
    assert_string_equal(str(res, "status"), "success");
    assert_string_equal(str(res, "img_clean_b64"), b64);
    /* Unix seconds, as the reference's time.time(): inside the call. */
    const cJSON *ts = cJSON_GetObjectItem(res, "server_timestamps");
    double xs = cJSON_GetNumberValue(cJSON_GetObjectItem(ts, "exec_start"));
    double xe = cJSON_GetNumberValue(cJSON_GetObjectItem(ts, "exec_end"));
    double sent = cJSON_GetNumberValue(cJSON_GetObjectItem(ts, "sent"));
    assert_true(xs >= before - 0.01 && xs <= xe && xe <= sent && sent <= after + 0.01);
    cJSON_Delete(res);
    free(b64);
    stop(&c);
}

static void test_mosaic_takes_img_clean(void **state)
{
    (void)state;
    container c;
    start(&c, "recognizer__mosaic", 0);
    char *b64 = png_b64();
    long status = 0;
    cJSON *res = post(&c, "img_clean", b64, &status);
    assert_int_equal(status, 200);
    assert_string_equal(str(res, "status"), "success");
    const char *jpeg = str(res, "mosaic_img_b64");
    assert_non_null(jpeg);
    assert_memory_equal(jpeg, "/9j/", 4);   /* base64 of a JPEG's FF D8 FF */
    cJSON_Delete(res);
    /* A path is not read from the server's disk: one clear 400. */
    res = post(&c, "img_path", "/etc/passwd", &status);
    assert_int_equal(status, 400);
    assert_non_null(strstr(str(res, "message"), "\"img_path\" is not supported"));
    cJSON_Delete(res);
    free(b64);
    stop(&c);
}

static void test_censor_takes_translated_text(void **state)
{
    (void)state;
    container c;
    start(&c, "recognizer__censor", 0);
    long status = 0;
    cJSON *res = post(&c, "translated_text", "Nothing To Hide", &status);
    assert_int_equal(status, 200);
    assert_string_equal(str(res, "status"), "success");
    assert_non_null(str(res, "filtered_text"));
    cJSON_Delete(res);
    /* Without either field the message names both, and the default
     * convention keeps the 400. */
    res = post(&c, "words", "x", &status);
    assert_int_equal(status, 400);
    assert_string_equal(str(res, "status"), "error");
    assert_string_equal(str(res, "message"), "missing field \"text\" (or \"translated_text\")");
    cJSON_Delete(res);
    stop(&c);
}

static void test_reference_error_convention(void **state)
{
    (void)state;
    container c;
    start(&c, "recognizer__adult", 1);
    long status = 0;
    /* A handled error: HTTP 200, the body says "error". */
    cJSON *res = post(&c, "img_b64", "bm90IGEgcG5n", &status);   /* "not a png" */
    assert_int_equal(status, 200);
    assert_string_equal(str(res, "status"), "error");
    assert_non_null(str(res, "message"));
    cJSON_Delete(res);
    res = post(&c, "nothing", "x", &status);
    assert_int_equal(status, 200);
    assert_string_equal(str(res, "status"), "error");
    assert_non_null(strstr(str(res, "message"), "missing field \"img_b64\""));
    cJSON_Delete(res);
    /* A body that is not a JSON object: 422, as FastAPI answers. */
    http_resp r;
    http_request("POST", c.invoke, "[1,2]", 5, &r);
    assert_int_equal(r.status, 422);
    cJSON *body = cJSON_Parse(r.body);
    http_resp_free(&r);
    assert_string_equal(str(body, "status"), "error");
    assert_string_equal(str(body, "message"), "invalid JSON body: not a JSON object");
    cJSON_Delete(body);
    /* A good image still succeeds. */
    char *b64 = png_b64();
    res = post(&c, "img_b64", b64, &status);
    assert_int_equal(status, 200);
    assert_string_equal(str(res, "status"), "success");
    assert_true(cJSON_IsBool(cJSON_GetObjectItem(res, "is_adult")));
    cJSON_Delete(res);
    free(b64);
    stop(&c);
}

static void test_reference_errors_needs_function(void **state)
{
    (void)state;
    const char *dir = getenv("FLOWGATE_BIN");
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "'%s/flowgate-functions' --reference-errors 2>&1", dir ? dir : ".");
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    char out[512];
    size_t n = fread(out, 1, sizeof out - 1, p);
    out[n] = 0;
    int status = pclose(p);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 2);
    assert_non_null(strstr(out, "--reference-errors needs --function"));
    assert_int_equal(strchr(out, '\n') - out + 1, (long)n);   /* one line */
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_upload_takes_data),
        cmocka_unit_test(test_mosaic_takes_img_clean),
        cmocka_unit_test(test_censor_takes_translated_text),
        cmocka_unit_test(test_reference_error_convention),
        cmocka_unit_test(test_reference_errors_needs_function),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    curl_global_cleanup();
    return rc;
}
