/* test_engine.c — the engine's parts that need no function server: the
 * shared upload body, the workflow instance state machine driven with
 * canned responses (which functions become ready, which branch each switch
 * takes, what each request carries), and the accounting of an experiment
 * whose every request fails to connect (a closed loopback port). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <math.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "flowgate/b64.h"
#include "flowgate/engine.h"
#include "flowgate/hist.h"
#include "flowgate/image.h"
#include "driver/instance.h"
#include "driver/metrics.h"

#define assert_near(a, b, eps) assert_true(fabs((double)(a) - (double)(b)) <= (eps))

static fg_workflow wf;
static int UP, ADULT, VIOL, EXT, TR, CEN, MOS;
static int SWITCH1, SWITCH2;   /* edge indexes of the two switches */

static int load_workflow(void **state)
{
    (void)state;
    char path[4096];
    snprintf(path, sizeof path, "%s/workflows/recognizer.json", fg_data_dir());
    fg_err err = {""};
    if (fg_workflow_load(path, &wf, &err) != 0) {
        fprintf(stderr, "%s\n", err.msg);
        return -1;
    }
    UP = fg_workflow_step_index(&wf, "recognizer__upload");
    ADULT = fg_workflow_step_index(&wf, "recognizer__adult");
    VIOL = fg_workflow_step_index(&wf, "recognizer__violence");
    EXT = fg_workflow_step_index(&wf, "recognizer__extract");
    TR = fg_workflow_step_index(&wf, "recognizer__translate");
    CEN = fg_workflow_step_index(&wf, "recognizer__censor");
    MOS = fg_workflow_step_index(&wf, "recognizer__mosaic");
    SWITCH1 = SWITCH2 = -1;
    for (int e = 0; e < wf.n_edges; e++)
        if (wf.edges[e].type == FG_EDGE_SWITCH) {
            if (SWITCH1 < 0) SWITCH1 = e;
            else SWITCH2 = e;
        }
    return SWITCH2 < 0 ? -1 : 0;
}

static int free_workflow(void **state)
{
    (void)state;
    fg_workflow_free(&wf);
    return 0;
}

static void write_file(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    if (len) assert_int_equal(fwrite(data, 1, len, f), len);
    fclose(f);
}

/* A temporary PNG of w×h pseudo-random pixels (noise keeps it about
 * 3 bytes a pixel, so sizes cover every base64 padding case); its bytes go
 * to *expect. */
static void noise_png(int w, int h, fg_buf *out)
{
    fg_image img;
    assert_int_equal(fg_image_alloc(&img, w, h), 0);
    uint32_t x = 12345u + (uint32_t)(w * 31 + h);
    for (size_t i = 0; i < (size_t)w * h * 3; i++) {
        x = x * 1103515245u + 12345u;
        img.rgb[i] = (unsigned char)(x >> 16);
    }
    assert_int_equal(fg_png_encode(&img, 6, out, NULL), 0);
    fg_image_free(&img);
}

static void write_png(char *path, size_t path_size, int w, int h, fg_buf *expect)
{
    snprintf(path, path_size, "test_engine_%d.png", (int)getpid());
    noise_png(w, h, expect);
    write_file(path, expect->data, expect->len);
}

static void check_payload(int inline_data, int w, int h)
{
    char path[256];
    fg_buf expect;
    write_png(path, sizeof path, w, h, &expect);
    fg_payload p;
    fg_err err = {""};
    assert_int_equal(fg_payload_load(&wf, path, inline_data, &p, &err), 0);
    unlink(path);
    size_t n = expect.len;
    assert_int_equal(p.input_len, n);
    assert_int_equal(strlen(p.body[0]), p.body_len[0]);

    /* The body is the JSON the server expects, and its base64 decodes back
     * to the very bytes of the file. */
    cJSON *j = cJSON_ParseWithLength(p.body[0], p.body_len[0]);
    assert_non_null(j);
    const cJSON *b64 = cJSON_GetObjectItemCaseSensitive(j, "img_b64");
    assert_true(cJSON_IsString(b64));
    const cJSON *by_ref = cJSON_GetObjectItemCaseSensitive(j, "by_ref");
    assert_true(inline_data ? cJSON_IsFalse(by_ref) : cJSON_IsTrue(by_ref));
    fg_buf decoded;
    assert_int_equal(fg_b64_decode(b64->valuestring, strlen(b64->valuestring), &decoded, &err), 0);
    assert_int_equal(decoded.len, n);
    assert_memory_equal(decoded.data, expect.data, n);
    assert_near(p.mb, (double)n / FG_MB, 1e-12);
    /* The identity of the input: SHA-256 over the file's bytes, in hex. */
    unsigned char md[32];
    unsigned int md_len = 0;
    assert_true(EVP_Digest(expect.data, n, md, &md_len, EVP_sha256(), NULL));
    char hex[65];
    for (int i = 0; i < 32; i++) snprintf(hex + 2 * i, 3, "%02x", md[i]);
    assert_string_equal(p.sha256, hex);
    fg_buf_free(&decoded);
    cJSON_Delete(j);
    fg_buf_free(&expect);
    fg_payload_free(&p);
    assert_null(p.body[0]);
}

static void test_payload_body(void **state)
{
    (void)state;
    /* Three PNG lengths with three different remainders mod 3 (all base64
     * padding cases), inline and by reference, and one of ~100 KB. */
    int seen[3] = {0, 0, 0};
    /* Noise does not compress: each 1-pixel row adds 4 bytes (filter byte
     * + RGB), so the length walks through every remainder. */
    for (int h = 1; h < 40 && !(seen[0] && seen[1] && seen[2]); h++) {
        fg_buf png;
        noise_png(1, h, &png);
        size_t r = png.len % 3;
        fg_buf_free(&png);
        if (seen[r]) continue;
        seen[r] = 1;
        check_payload((int)r == 1, 1, h);
    }
    assert_true(seen[0] && seen[1] && seen[2]);
    check_payload(0, 200, 170);
}

/* A bad image is one clear error naming the file and the problem. */
static void test_payload_bad_images(void **state)
{
    (void)state;
    char path[256];
    fg_buf png;
    write_png(path, sizeof path, 64, 64, &png);
    fg_payload p;
    fg_err err = {""};
    struct { const void *data; size_t len; const char *says; } cases[] = {
        {"", 0, "empty file"},
        {"GIF89a not a png at all", 23, "not a PNG"},
        {png.data, png.len / 2, "PNG"},          /* cut in the middle */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        write_file(path, cases[i].data, cases[i].len);
        assert_int_equal(fg_payload_load(&wf, path, 0, &p, &err), -1);
        assert_non_null(strstr(err.msg, path));
        assert_non_null(strstr(err.msg, cases[i].says));
        assert_null(p.body[0]);
    }
    assert_non_null(strstr(err.msg, "truncated"));
    unlink(path);
    fg_buf_free(&png);
}

static void test_payload_missing_file(void **state)
{
    (void)state;
    fg_payload p;
    fg_err err = {""};
    assert_int_equal(fg_payload_load(&wf, "/nonexistent/recognizer.png", 0, &p, &err), -1);
    assert_non_null(strstr(err.msg, "/nonexistent/recognizer.png"));
    assert_null(p.body[0]);
}

/* ---- the state machine ------------------------------------------------ */

static cJSON *json(const char *text)
{
    cJSON *j = cJSON_Parse(text);
    assert_non_null(j);
    return j;
}

/* Completes fn with a canned success response. */
static void complete(fg_instance *in, int fn, const char *response)
{
    cJSON *r = json(response);
    fg_err err = {""};
    int rc = fg_instance_complete(in, fn, r, &err);
    if (rc != 0) fprintf(stderr, "%s\n", err.msg);
    assert_int_equal(rc, 0);
    cJSON_Delete(r);
}

/* The set of functions dispatched now, as a bitmask. */
static unsigned ready_now(fg_instance *in)
{
    unsigned mask = 0;
    int fn;
    while ((fn = fg_instance_next_ready(in)) >= 0) mask |= 1u << fn;
    return mask;
}

static cJSON *request(const fg_instance *in, int fn, fg_instance_input *inputs, int *n_inputs)
{
    cJSON *body;
    int uses_payload;
    fg_err err = {""};
    assert_int_equal(fg_instance_request(in, fn, "rq-7", &body, &uses_payload, inputs,
                                         n_inputs, &err), 0);
    assert_false(uses_payload);
    assert_non_null(body);
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(body, "request_id")->valuestring, "rq-7");
    return body;
}

static const char *UPLOAD_REF =
    "{\"status\":\"success\",\"node\":\"node2\",\"width\":10,\"height\":10,"
    "\"ref\":{\"node\":\"node2\",\"key\":\"k1\",\"bytes\":2097152}}";

static void upload_by_ref(fg_instance *in)
{
    assert_int_equal(ready_now(in), 1u << UP);
    /* The upload reads the workflow input: the shared body goes as is. */
    cJSON *body;
    int uses_payload;
    fg_instance_input inputs[FG_WF_MAX_FANIN];
    int n;
    fg_err err = {""};
    assert_int_equal(fg_instance_request(in, UP, "rq-7", &body, &uses_payload, inputs, &n, &err), 0);
    assert_true(uses_payload);
    assert_null(body);
    assert_int_equal(n, 1);
    assert_true(inputs[0].mb < 0);
    assert_false(fg_instance_finished(in));
    complete(in, UP, UPLOAD_REF);
    assert_int_equal(ready_now(in), (1u << ADULT) | (1u << VIOL));
}

static void test_clean_path(void **state)
{
    (void)state;
    fg_instance in;
    fg_err err = {""};
    assert_int_equal(fg_instance_init(&in, &wf, 1, &err), 0);
    upload_by_ref(&in);

    /* adult and violence read the stored image by reference. */
    fg_instance_input inputs[FG_WF_MAX_FANIN];
    int n;
    cJSON *body = request(&in, ADULT, inputs, &n);
    const cJSON *ref = cJSON_GetObjectItemCaseSensitive(body, "input_ref");
    assert_true(cJSON_IsObject(ref));
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(ref, "key")->valuestring, "k1");
    assert_null(cJSON_GetObjectItemCaseSensitive(body, "img_b64"));
    assert_null(cJSON_GetObjectItemCaseSensitive(body, "by_ref"));
    assert_int_equal(n, 1);
    assert_string_equal(inputs[0].node_name, "node2");
    assert_near(inputs[0].mb, 2.0, 1e-12);
    cJSON_Delete(body);

    complete(&in, ADULT, "{\"status\":\"success\",\"is_adult\":false,\"confidence\":0.1}");
    /* The switch waits for violence too. */
    assert_int_equal(fg_instance_branch(&in, SWITCH1), -1);
    assert_int_equal(ready_now(&in), 0u);
    assert_false(fg_instance_finished(&in));
    complete(&in, VIOL, "{\"status\":\"success\",\"illegal\":false,\"confidence\":0.2}");
    assert_int_equal(fg_instance_branch(&in, SWITCH1), 0);
    assert_int_equal(ready_now(&in), 1u << EXT);

    complete(&in, EXT, "{\"status\":\"success\",\"text\":\"HOLA MUNDO\",\"text_chunks\":1}");
    assert_int_equal(ready_now(&in), 1u << TR);
    body = request(&in, TR, inputs, &n);
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(body, "text")->valuestring, "HOLA MUNDO");
    assert_null(inputs[0].node_name);
    cJSON_Delete(body);
    complete(&in, TR, "{\"status\":\"success\",\"translated_text\":\"hello world\"}");
    assert_int_equal(ready_now(&in), 1u << CEN);
    body = request(&in, CEN, inputs, &n);
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(body, "text")->valuestring, "hello world");
    cJSON_Delete(body);
    complete(&in, CEN, "{\"status\":\"success\",\"illegal\":false,\"filtered_text\":\"hello world\"}");
    assert_int_equal(fg_instance_branch(&in, SWITCH2), 0);
    assert_int_equal(ready_now(&in), 0u);
    assert_true(fg_instance_finished(&in));
    assert_int_equal(in.step_state[MOS], FG_STEP_IDLE);
    fg_instance_free(&in);
}

static void test_adult_takes_mosaic(void **state)
{
    (void)state;
    fg_instance in;
    fg_err err = {""};
    assert_int_equal(fg_instance_init(&in, &wf, 1, &err), 0);
    upload_by_ref(&in);
    complete(&in, VIOL, "{\"status\":\"success\",\"illegal\":false,\"confidence\":0.2}");
    complete(&in, ADULT, "{\"status\":\"success\",\"is_adult\":true,\"confidence\":0.9}");
    assert_int_equal(fg_instance_branch(&in, SWITCH1), 1);
    assert_int_equal(ready_now(&in), 1u << MOS);
    fg_instance_input inputs[FG_WF_MAX_FANIN];
    int n;
    cJSON *body = request(&in, MOS, inputs, &n);
    assert_true(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(body, "by_ref")));
    assert_non_null(cJSON_GetObjectItemCaseSensitive(body, "input_ref"));
    cJSON_Delete(body);
    /* by_ref: the mosaic answers with a ref, not the image. */
    complete(&in, MOS, "{\"status\":\"success\",\"ref\":{\"node\":\"node2\",\"key\":\"m\",\"bytes\":9}}");
    assert_true(fg_instance_finished(&in));
    assert_int_equal(in.step_state[EXT], FG_STEP_IDLE);
    assert_int_equal(fg_instance_branch(&in, SWITCH2), -1);
    fg_instance_free(&in);
}

static void test_illegal_text_takes_mosaic(void **state)
{
    (void)state;
    fg_instance in;
    fg_err err = {""};
    assert_int_equal(fg_instance_init(&in, &wf, 1, &err), 0);
    upload_by_ref(&in);
    complete(&in, ADULT, "{\"status\":\"success\",\"is_adult\":false,\"confidence\":0.1}");
    complete(&in, VIOL, "{\"status\":\"success\",\"illegal\":false,\"confidence\":0.1}");
    assert_int_equal(ready_now(&in), 1u << EXT);
    complete(&in, EXT, "{\"status\":\"success\",\"text\":\"X\"}");
    assert_int_equal(ready_now(&in), 1u << TR);
    complete(&in, TR, "{\"status\":\"success\",\"translated_text\":\"bomb\"}");
    assert_int_equal(ready_now(&in), 1u << CEN);
    complete(&in, CEN, "{\"status\":\"success\",\"illegal\":true,\"filtered_text\":\"****\"}");
    assert_int_equal(fg_instance_branch(&in, SWITCH1), 0);
    assert_int_equal(fg_instance_branch(&in, SWITCH2), 1);
    assert_int_equal(ready_now(&in), 1u << MOS);
    assert_false(fg_instance_finished(&in));
    complete(&in, MOS, "{\"status\":\"success\",\"ref\":{\"node\":\"node0\",\"key\":\"m\",\"bytes\":9}}");
    assert_true(fg_instance_finished(&in));
    fg_instance_free(&in);
}

static void test_inline_sends_the_image(void **state)
{
    (void)state;
    fg_instance in;
    fg_err err = {""};
    assert_int_equal(fg_instance_init(&in, &wf, 0, &err), 0);
    assert_int_equal(ready_now(&in), 1u << UP);
    /* Inline: the ref is not an output; the cleaned image is. */
    cJSON *r = json("{\"status\":\"success\",\"ref\":{\"node\":\"node0\",\"key\":\"k\",\"bytes\":3}}");
    assert_int_equal(fg_instance_complete(&in, UP, r, &err), -1);
    assert_non_null(strstr(err.msg, "img_clean_b64"));
    cJSON_Delete(r);
    complete(&in, UP, "{\"status\":\"success\",\"img_clean_b64\":\"QUJD\"}");
    assert_int_equal(ready_now(&in), (1u << ADULT) | (1u << VIOL));
    fg_instance_input inputs[FG_WF_MAX_FANIN];
    int n;
    cJSON *body = request(&in, VIOL, inputs, &n);
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(body, "img_b64")->valuestring, "QUJD");
    assert_null(cJSON_GetObjectItemCaseSensitive(body, "input_ref"));
    assert_null(inputs[0].node_name);
    cJSON_Delete(body);
    complete(&in, ADULT, "{\"status\":\"success\",\"is_adult\":false,\"confidence\":0.1}");
    complete(&in, VIOL, "{\"status\":\"success\",\"illegal\":true,\"confidence\":0.99}");
    assert_int_equal(fg_instance_branch(&in, SWITCH1), 1);
    assert_int_equal(ready_now(&in), 1u << MOS);
    body = request(&in, MOS, inputs, &n);
    assert_null(cJSON_GetObjectItemCaseSensitive(body, "by_ref"));
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(body, "img_b64")->valuestring, "QUJD");
    cJSON_Delete(body);
    complete(&in, MOS, "{\"status\":\"success\",\"mosaic_img_b64\":\"REVG\"}");
    assert_true(fg_instance_finished(&in));
    fg_instance_free(&in);
}

static void test_bad_response_keeps_function_running(void **state)
{
    (void)state;
    fg_instance in;
    fg_err err = {""};
    assert_int_equal(fg_instance_init(&in, &wf, 1, &err), 0);
    assert_int_equal(ready_now(&in), 1u << UP);
    cJSON *r = json("{\"status\":\"success\",\"width\":3}");
    assert_int_equal(fg_instance_complete(&in, UP, r, &err), -1);
    assert_non_null(strstr(err.msg, "recognizer__upload"));
    assert_non_null(strstr(err.msg, "ref"));
    cJSON_Delete(r);
    /* Still running: it may be re-sent; nothing else became ready. */
    assert_int_equal(in.step_state[UP], FG_STEP_RUNNING);
    assert_false(fg_instance_finished(&in));
    assert_int_equal(ready_now(&in), 0u);
    /* A retry that succeeds continues the workflow. */
    complete(&in, UP, UPLOAD_REF);
    assert_int_equal(ready_now(&in), (1u << ADULT) | (1u << VIOL));
    fg_instance_free(&in);
}

/* A reply whose output another function reads with the wrong type is the
 * producer's fault, found when the reply arrives: nothing changes, the
 * function is still running (it may be re-sent). */
static void test_wrong_typed_output_is_the_producers(void **state)
{
    (void)state;
    fg_instance in;
    fg_err err = {""};
    /* By reference: adult, violence, extract and mosaic read upload's ref. */
    assert_int_equal(fg_instance_init(&in, &wf, 1, &err), 0);
    assert_int_equal(ready_now(&in), 1u << UP);
    cJSON *r = json("{\"status\":\"success\",\"ref\":\"k1\"}");
    assert_int_equal(fg_instance_complete(&in, UP, r, &err), -1);
    assert_non_null(strstr(err.msg, "recognizer__upload"));
    assert_non_null(strstr(err.msg, "blob reference"));
    assert_non_null(strstr(err.msg, "a string"));
    cJSON_Delete(r);
    r = json("{\"status\":\"success\",\"ref\":{\"node\":\"node1\",\"key\":7}}");
    assert_int_equal(fg_instance_complete(&in, UP, r, &err), -1);
    cJSON_Delete(r);
    assert_int_equal(in.step_state[UP], FG_STEP_RUNNING);
    complete(&in, UP, UPLOAD_REF);
    assert_int_equal(ready_now(&in), (1u << ADULT) | (1u << VIOL));
    complete(&in, ADULT, "{\"status\":\"success\",\"is_adult\":false,\"confidence\":0.1}");
    complete(&in, VIOL, "{\"status\":\"success\",\"illegal\":false,\"confidence\":0.1}");
    assert_int_equal(ready_now(&in), 1u << EXT);
    /* extract's text is what translate sends: a number is extract's fault. */
    r = json("{\"status\":\"success\",\"text\":42}");
    assert_int_equal(fg_instance_complete(&in, EXT, r, &err), -1);
    assert_non_null(strstr(err.msg, "recognizer__extract"));
    assert_non_null(strstr(err.msg, "read by recognizer__translate"));
    assert_non_null(strstr(err.msg, "got a number"));
    cJSON_Delete(r);
    assert_int_equal(in.step_state[EXT], FG_STEP_RUNNING);
    assert_int_equal(in.step_state[TR], FG_STEP_IDLE);
    fg_instance_free(&in);

    /* Inline: the cleaned image itself must be a string. */
    assert_int_equal(fg_instance_init(&in, &wf, 0, &err), 0);
    assert_int_equal(ready_now(&in), 1u << UP);
    r = json("{\"status\":\"success\",\"img_clean_b64\":{\"b\":1}}");
    assert_int_equal(fg_instance_complete(&in, UP, r, &err), -1);
    assert_non_null(strstr(err.msg, "got an object"));
    cJSON_Delete(r);
    fg_instance_free(&in);
}

/* Completing step with response must fail as malformed-to-be, naming
 * every needle; the step stays running. */
static void refused(fg_instance *in, int step, const char *response, const char *const *needles)
{
    cJSON *r = json(response);
    fg_err err = {""};
    assert_int_equal(fg_instance_complete(in, step, r, &err), -1);
    for (int i = 0; needles[i]; i++)
        if (!strstr(err.msg, needles[i])) fail_msg("'%s' lacks '%s'", err.msg, needles[i]);
    cJSON_Delete(r);
    assert_int_equal(in->step_state[step], FG_STEP_RUNNING);
}

/* The declared types (workflow.h, "Output types") hold for every output,
 * read by another step or not — the last step's too. */
static void test_declared_types_checked(void **state)
{
    (void)state;
    fg_instance in;
    fg_err err = {""};
    assert_int_equal(fg_instance_init(&in, &wf, 0, &err), 0);
    assert_int_equal(ready_now(&in), 1u << UP);
    /* blob, inline: a padded base64 string. */
    refused(&in, UP, "{\"status\":\"success\",\"img_clean_b64\":\"QUJ\"}",
            (const char *[]){"recognizer__upload", "must be a blob", "not base64", NULL});
    refused(&in, UP, "{\"status\":\"success\",\"img_clean_b64\":\"QU=D\"}",
            (const char *[]){"not base64", NULL});
    refused(&in, UP, "{\"status\":\"success\",\"img_clean_b64\":true}",
            (const char *[]){"must be a blob", "got a boolean", NULL});
    complete(&in, UP, "{\"status\":\"success\",\"img_clean_b64\":\"QUI=\"}");
    assert_int_equal(ready_now(&in), (1u << ADULT) | (1u << VIOL));
    /* Outputs only a switch reads, or nobody: boolean and number. */
    refused(&in, ADULT, "{\"status\":\"success\",\"is_adult\":\"no\",\"confidence\":0.1}",
            (const char *[]){"recognizer__adult", "is_adult", "must be a boolean", "got a string",
                             NULL});
    refused(&in, ADULT, "{\"status\":\"success\",\"is_adult\":false,\"confidence\":\"0.1\"}",
            (const char *[]){"confidence", "must be a number", NULL});
    complete(&in, ADULT, "{\"status\":\"success\",\"is_adult\":false,\"confidence\":0.1}");
    complete(&in, VIOL, "{\"status\":\"success\",\"illegal\":false,\"confidence\":0.1}");
    assert_int_equal(ready_now(&in), 1u << EXT);
    complete(&in, EXT, "{\"status\":\"success\",\"text\":\"HOLA\"}");
    assert_int_equal(ready_now(&in), 1u << TR);
    complete(&in, TR, "{\"status\":\"success\",\"translated_text\":\"HELLO\"}");
    assert_int_equal(ready_now(&in), 1u << CEN);
    /* censor's filtered_text is read by no step: still a string. */
    refused(&in, CEN, "{\"status\":\"success\",\"illegal\":false,\"filtered_text\":42}",
            (const char *[]){"recognizer__censor", "filtered_text", "must be a string",
                             "got a number", NULL});
    complete(&in, CEN, "{\"status\":\"success\",\"illegal\":true,\"filtered_text\":\"x\"}");
    assert_int_equal(ready_now(&in), 1u << MOS);
    /* The last step: mosaic's image. */
    refused(&in, MOS, "{\"status\":\"success\",\"mosaic_img_b64\":[1]}",
            (const char *[]){"recognizer__mosaic", "must be a blob", "got an array", NULL});
    complete(&in, MOS, "{\"status\":\"success\",\"mosaic_img_b64\":\"REVG\"}");
    assert_true(fg_instance_finished(&in));
    assert_false(in.failed);
    fg_instance_free(&in);

    /* By reference the last step's blob is a reference, read or not. */
    assert_int_equal(fg_instance_init(&in, &wf, 1, &err), 0);
    upload_by_ref(&in);
    complete(&in, ADULT, "{\"status\":\"success\",\"is_adult\":true,\"confidence\":0.9}");
    complete(&in, VIOL, "{\"status\":\"success\",\"illegal\":false,\"confidence\":0.1}");
    assert_int_equal(ready_now(&in), 1u << MOS);
    refused(&in, MOS, "{\"status\":\"success\",\"ref\":\"m1\"}",
            (const char *[]){"recognizer__mosaic", "blob reference", NULL});
    complete(&in, MOS, "{\"status\":\"success\",\"ref\":{\"node\":\"node0\",\"key\":\"m\"}}");
    assert_true(fg_instance_finished(&in));
    fg_instance_free(&in);
}

/* Steps a then b: a's output o read from a_field of its reply, b sending
 * o on as its input t, with b_outputs as its own; parsed into w, and an
 * instance of it started by reference in `in`. */
static void start_a_then_b(const char *a_field, const char *b_outputs, fg_workflow *w,
                           fg_instance *in)
{
    char text[512];
    snprintf(text, sizeof text,
             "{\"name\":\"ab\",\"inputs\":{\"t\":\"string\"},\"payload\":{\"kind\":\"json\","
             "\"value\":{\"t\":\"x\"}},\"steps\":["
             "{\"id\":\"a\",\"in\":{\"t\":\"$inputs.t\"},\"out\":{\"o\":\"%s\"}},"
             "{\"id\":\"b\",\"in\":{\"t\":\"$a.o\"},\"out\":%s}],"
             "\"edges\":[{\"type\":\"sequential\",\"from\":\"a\",\"to\":\"b\"}]}",
             a_field, b_outputs);
    fg_err err = {""};
    assert_int_equal(fg_workflow_parse(text, "ab.json", w, &err), 0);
    assert_int_equal(fg_instance_init(in, w, 0, &err), 0);
    assert_int_equal(fg_instance_next_ready(in), 0);
}

/* An untyped output (an older file) is checked as before: a string when
 * another step sends it on, anything when none does. */
static void test_untyped_outputs(void **state)
{
    (void)state;
    fg_workflow u;
    fg_instance in;
    start_a_then_b("result.o", "{\"free\":\"result.free\"}", &u, &in);
    assert_int_equal(u.steps[0].out[0].type, FG_WF_ANY);
    refused(&in, 0, "{\"status\":\"success\",\"o\":1}",
            (const char *[]){"read by b", "must be a string", NULL});
    complete(&in, 0, "{\"status\":\"success\",\"o\":\"s\"}");
    assert_int_equal(fg_instance_next_ready(&in), 1);
    complete(&in, 1, "{\"status\":\"success\",\"free\":{\"any\":[1]}}");
    assert_true(fg_instance_finished(&in));
    assert_false(in.failed);
    fg_instance_free(&in);
    fg_workflow_free(&u);
}

/* An output from a nested field ("result.r.x") is found in the reply's
 * object r, and sent on to the step that reads it; a reply where r is no
 * object, or lacks x, names the path. */
static void test_nested_output_paths(void **state)
{
    (void)state;
    fg_workflow w;
    fg_instance in;
    start_a_then_b("result.r.x", "{}", &w, &in);
    refused(&in, 0, "{\"status\":\"success\",\"r\":\"x\"}",
            (const char *[]){"lacks result.r.x", NULL});
    refused(&in, 0, "{\"status\":\"success\",\"r\":{\"y\":\"v\"}}",
            (const char *[]){"lacks result.r.x", NULL});
    complete(&in, 0, "{\"status\":\"success\",\"r\":{\"y\":1,\"x\":\"v\"}}");
    assert_int_equal(fg_instance_next_ready(&in), 1);
    cJSON *body = NULL;
    int uses_payload = 0, n_inputs = 0;
    fg_instance_input inputs[FG_WF_MAX_FANIN];
    fg_err err = {""};
    assert_int_equal(fg_instance_request(&in, 1, "n-0-0", &body, &uses_payload, inputs, &n_inputs,
                                         &err), 0);
    assert_string_equal(cJSON_GetObjectItem(body, "t")->valuestring, "v");
    cJSON_Delete(body);
    fg_instance_free(&in);
    fg_workflow_free(&w);
}

static void test_failure_waits_for_siblings(void **state)
{
    (void)state;
    fg_instance in;
    fg_err err = {""};
    assert_int_equal(fg_instance_init(&in, &wf, 1, &err), 0);
    upload_by_ref(&in);
    fg_instance_fail(&in, ADULT);
    assert_true(in.failed);
    assert_false(fg_instance_finished(&in));   /* violence is still in flight */
    complete(&in, VIOL, "{\"status\":\"success\",\"illegal\":false,\"confidence\":0.1}");
    assert_true(fg_instance_finished(&in));
    assert_int_equal(ready_now(&in), 0u);
    assert_int_equal(fg_instance_branch(&in, SWITCH1), -1);
    assert_int_equal(in.step_state[EXT], FG_STEP_IDLE);
    fg_instance_free(&in);
}

/* ---- statistics and accounting --------------------------------------- */

static void test_empty_statistics_carry_only_count(void **state)
{
    (void)state;
    fg_hist *h = fg_hist_new();
    cJSON *o = fg_hist_json(h);
    assert_int_equal(cJSON_GetArraySize(o), 1);
    assert_int_equal(cJSON_GetObjectItemCaseSensitive(o, "count")->valueint, 0);
    cJSON_Delete(o);
    fg_hist_record(h, 10.0);
    fg_hist_record(h, 30.0);
    o = fg_hist_json(h);
    assert_int_equal(cJSON_GetObjectItemCaseSensitive(o, "count")->valueint, 2);
    assert_near(cJSON_GetObjectItemCaseSensitive(o, "min")->valuedouble, 10.0, 1e-9);
    assert_near(cJSON_GetObjectItemCaseSensitive(o, "mean")->valuedouble, 20.0, 1e-9);
    assert_near(cJSON_GetObjectItemCaseSensitive(o, "max")->valuedouble, 30.0, 1e-9);
    cJSON_Delete(o);
    fg_hist_free(h);
}

/* A percentile appears only when the count can resolve it: n >= 1/(1-q). */
static void test_percentiles_only_when_resolvable(void **state)
{
    (void)state;
    static const struct { int n; int p50, p90, p95, p99; } cases[] = {
        {1, 0, 0, 0, 0}, {2, 1, 0, 0, 0}, {9, 1, 0, 0, 0}, {10, 1, 1, 0, 0},
        {19, 1, 1, 0, 0}, {20, 1, 1, 1, 0}, {99, 1, 1, 1, 0}, {100, 1, 1, 1, 1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        fg_hist *h = fg_hist_new();
        for (int k = 1; k <= cases[i].n; k++) fg_hist_record(h, (double)k);
        cJSON *o = fg_hist_json(h);
        assert_int_equal(cJSON_GetObjectItemCaseSensitive(o, "count")->valueint, cases[i].n);
        /* count, min, mean and max always. */
        assert_true(cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(o, "min")));
        assert_true(cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(o, "mean")));
        assert_true(cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(o, "max")));
        assert_int_equal(cJSON_GetObjectItemCaseSensitive(o, "p50") != NULL, cases[i].p50);
        assert_int_equal(cJSON_GetObjectItemCaseSensitive(o, "p90") != NULL, cases[i].p90);
        assert_int_equal(cJSON_GetObjectItemCaseSensitive(o, "p95") != NULL, cases[i].p95);
        assert_int_equal(cJSON_GetObjectItemCaseSensitive(o, "p99") != NULL, cases[i].p99);
        cJSON_Delete(o);
        fg_hist_free(h);
    }
}

/* A loopback port nothing listens on. */
static int closed_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    bind(fd, (struct sockaddr *)&a, sizeof a);
    socklen_t len = sizeof a;
    getsockname(fd, (struct sockaddr *)&a, &len);
    close(fd);
    return ntohs(a.sin_port);
}

static void dead_cluster(fg_cluster *c)
{
    memset(c, 0, sizeof *c);
    c->mode = FG_CLUSTER_NODES;
    c->n_nodes = 2;
    for (int i = 0; i < 2; i++) {
        snprintf(c->nodes[i].name, sizeof c->nodes[i].name, "node%d", i);
        snprintf(c->nodes[i].url, sizeof c->nodes[i].url, "http://127.0.0.1:%d", closed_port());
        c->nodes[i].workers = 2;
        c->nodes[i].bandwidth_mbit = 1000;
        c->nodes[i].latency_ms = 0.1;
    }
    c->server_pid = 0;
}

static void small_payload(fg_payload *p)
{
    char path[256];
    fg_buf bytes;
    write_png(path, sizeof path, 20, 16, &bytes);
    fg_buf_free(&bytes);
    fg_err err = {""};
    assert_int_equal(fg_payload_load(&wf, path, 0, p, &err), 0);
    unlink(path);
}

static void base_experiment(fg_experiment *x, const char *scheduler)
{
    memset(x, 0, sizeof *x);
    snprintf(x->id, sizeof x->id, "exp_input0.1mb_conc3_%s", scheduler);
    snprintf(x->category, sizeof x->category, "unit");
    snprintf(x->scheduler, sizeof x->scheduler, "%s", scheduler);
    x->input_mb = 0.1;
    x->concurrency = 3;
    x->requests = 7;
    x->warmup = 2;
    x->timeout_s = 5;
}

static int num(const cJSON *o, const char *path)
{
    char buf[256];
    snprintf(buf, sizeof buf, "%s", path);
    const cJSON *cur = o;
    for (char *save = NULL, *k = strtok_r(buf, ".", &save); k; k = strtok_r(NULL, ".", &save))
        cur = cJSON_GetObjectItemCaseSensitive(cur, k);
    assert_true(cJSON_IsNumber(cur));
    return cur->valueint;
}

static void test_unknown_scheduler(void **state)
{
    (void)state;
    fg_cluster c;
    dead_cluster(&c);
    fg_payload p;
    small_payload(&p);
    fg_experiment x;
    base_experiment(&x, "nope");
    cJSON *entry = (cJSON *)1;
    fg_err err = {""};
    assert_int_equal(fg_experiment_run(&x, &wf, &c, &p, NULL, &entry, &err), -1);
    assert_null(entry);
    assert_non_null(strstr(err.msg, "unknown scheduler 'nope'"));
    fg_payload_free(&p);
}

static void test_payload_must_match_the_data_mode(void **state)
{
    (void)state;
    fg_cluster c;
    dead_cluster(&c);
    fg_payload p;
    small_payload(&p);   /* built for by-reference data */
    fg_experiment x;
    base_experiment(&x, "round_robin");
    x.inline_data = 1;
    cJSON *entry = NULL;
    fg_err err = {""};
    assert_int_equal(fg_experiment_run(&x, &wf, &c, &p, NULL, &entry, &err), -1);
    assert_null(entry);
    assert_non_null(strstr(err.msg, "inline"));
    fg_payload_free(&p);
}

/* A payload built for another workflow has no body for this one's entry
 * step: refused before any request, naming the step. */
static void test_payload_must_match_the_workflow(void **state)
{
    (void)state;
    fg_cluster c;
    dead_cluster(&c);
    /* Its input reader is its second step: no body at index 0, where the
     * recognizer's upload is. */
    fg_workflow other;
    fg_err err = {""};
    assert_int_equal(fg_workflow_parse("{\"name\":\"t\",\"inputs\":{\"s\":\"string\"},"
                                       "\"payload\":{\"kind\":\"json\",\"value\":{\"s\":\"a\"}},"
                                       "\"steps\":[{\"id\":\"a\",\"in\":{\"x\":\"$b.y\"},\"out\":{}},"
                                       "{\"id\":\"b\",\"in\":{\"x\":\"$inputs.s\"},"
                                       "\"out\":{\"y\":\"result.y\"}}],"
                                       "\"edges\":[{\"type\":\"sequential\",\"from\":\"b\",\"to\":\"a\"}]}",
                                       "t.json", &other, &err), 0);
    fg_payload p;
    assert_int_equal(fg_payload_load(&other, NULL, 0, &p, &err), 0);
    fg_workflow_free(&other);
    assert_null(p.body[0]);
    fg_experiment x;
    base_experiment(&x, "round_robin");
    cJSON *entry = NULL;
    assert_int_equal(fg_experiment_run(&x, &wf, &c, &p, NULL, &entry, &err), -1);
    assert_null(entry);
    assert_non_null(strstr(err.msg, "no body for recognizer__upload"));
    fg_payload_free(&p);
}

/* Through either transport (the driver's own HTTP/1.1 for http://, and
 * libcurl), a refused connection is accounted the same way. */
static void connect_failures_are_accounted(fg_transport transport)
{
    fg_cluster c;
    dead_cluster(&c);
    fg_payload p;
    small_payload(&p);
    fg_experiment x;
    base_experiment(&x, "round_robin");
    x.transport = transport;
    x.retries = 1;
    cJSON *entry = NULL;
    fg_err err = {""};
    assert_int_equal(fg_experiment_run(&x, &wf, &c, &p, NULL, &entry, &err), 0);
    assert_non_null(entry);
    /* Every measured request ended, as a failure; warm-up apart. */
    assert_int_equal(num(entry, "requests.sent"), 7);
    assert_int_equal(num(entry, "requests.ok"), 0);
    assert_int_equal(num(entry, "requests.failed"), 7);
    assert_int_equal(num(entry, "requests.timed_out"), 0);
    /* Warm-up by state: nothing answered, so nothing said "cold_start";
     * the count alone ended it (at least 2 done; C = 3 were in flight). */
    assert_true(num(entry, "warmup.sent") >= 2);
    assert_int_equal(num(entry, "warmup.failed"), num(entry, "warmup.sent"));
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(entry, "warmup"), "stop_reason")->valuestring, "count");
    /* Nothing answered, so nothing said whether it was cold: absent, not 0. */
    assert_null(cJSON_GetObjectItemCaseSensitive(entry, "cold_starts"));
    /* Each upload was tried twice (one retry), each failure classed connect
     * (a refused connection is the node's; the driver had its sockets). */
    assert_int_equal(num(entry, "functions.recognizer__upload.errors.client"), 0);
    assert_int_equal(num(entry, "functions.recognizer__upload.invocations"), 14);
    assert_int_equal(num(entry, "functions.recognizer__upload.errors.connect"), 14);
    assert_int_equal(num(entry, "functions.recognizer__adult.invocations"), 0);
    assert_int_equal(num(entry, "nodes.node0.invocations") + num(entry, "nodes.node1.invocations"), 14);
    assert_int_equal(num(entry, "latency_ms.count"), 0);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(entry, "latency_ms")), 1);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(entry, "latency_samples_ms")), 0);
    assert_near(cJSON_GetObjectItemCaseSensitive(entry, "success_rate")->valuedouble, 0.0, 0);
    assert_true(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(entry, "server")));
    const cJSON *errors = cJSON_GetObjectItemCaseSensitive(entry, "errors");
    assert_true(cJSON_GetArraySize(errors) > 0);
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(errors, 0), "class")->valuestring,
                        "connect");
    /* No switch was reached. */
    const cJSON *b;
    cJSON_ArrayForEach(b, cJSON_GetObjectItemCaseSensitive(entry, "branches")) {
        assert_int_equal(num(b, "then"), 0);
        assert_int_equal(num(b, "else"), 0);
    }
    cJSON_Delete(entry);
    fg_payload_free(&p);
}

static void test_connect_failures_are_accounted(void **state)
{
    (void)state;
    connect_failures_are_accounted(FG_TRANSPORT_AUTO);
}

static void test_connect_failures_are_accounted_libcurl(void **state)
{
    (void)state;
    connect_failures_are_accounted(FG_TRANSPORT_LIBCURL);
}

static void test_open_loop_count(void **state)
{
    (void)state;
    fg_cluster c;
    dead_cluster(&c);
    fg_payload p;
    small_payload(&p);
    fg_experiment x;
    base_experiment(&x, "palette");
    x.warmup = 1;
    x.rate_rps = 40;
    x.duration_s = 0.25;   /* 10 measured requests, due every 25 ms */
    cJSON *entry = NULL;
    fg_err err = {""};
    double t0 = fg_now_mono_ms();
    assert_int_equal(fg_experiment_run(&x, &wf, &c, &p, NULL, &entry, &err), 0);
    double took = fg_now_mono_ms() - t0;
    assert_int_equal(num(entry, "requests.sent"), 10);
    assert_int_equal(num(entry, "requests.failed"), 10);
    assert_int_equal(num(entry, "warmup.sent"), 1);
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(entry, "mode")->valuestring, "open");
    /* The sends were paced: the last one is due at 250 ms. */
    assert_true(took >= 245);
    /* The pace (pace.c): every slot due and sent, the schedule's own rate
     * from the due times (exact), lateness for each one sent. */
    assert_int_equal(num(entry, "schedule.slots_due"), 10);
    assert_int_equal(num(entry, "schedule.slots_sent"), 10);
    assert_int_equal(num(entry, "schedule.target_rps"), 40);
    assert_true(num(entry, "schedule.achieved_rps") > 0);
    assert_int_equal(num(entry, "schedule.lateness_ms.count"), 10);
    assert_non_null(cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(entry, "schedule"), "keeps_up"));
    cJSON_Delete(entry);
    fg_payload_free(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_payload_body),
        cmocka_unit_test(test_payload_bad_images),
        cmocka_unit_test(test_payload_missing_file),
        cmocka_unit_test(test_clean_path),
        cmocka_unit_test(test_adult_takes_mosaic),
        cmocka_unit_test(test_illegal_text_takes_mosaic),
        cmocka_unit_test(test_inline_sends_the_image),
        cmocka_unit_test(test_bad_response_keeps_function_running),
        cmocka_unit_test(test_wrong_typed_output_is_the_producers),
        cmocka_unit_test(test_declared_types_checked),
        cmocka_unit_test(test_untyped_outputs),
        cmocka_unit_test(test_nested_output_paths),
        cmocka_unit_test(test_failure_waits_for_siblings),
        cmocka_unit_test(test_empty_statistics_carry_only_count),
        cmocka_unit_test(test_percentiles_only_when_resolvable),
        cmocka_unit_test(test_unknown_scheduler),
        cmocka_unit_test(test_payload_must_match_the_data_mode),
        cmocka_unit_test(test_payload_must_match_the_workflow),
        cmocka_unit_test(test_connect_failures_are_accounted),
        cmocka_unit_test(test_connect_failures_are_accounted_libcurl),
        cmocka_unit_test(test_open_loop_count),
    };
    return cmocka_run_group_tests(tests, load_workflow, free_workflow);
}
