/* test_payload.c — the workflow inputs (payload.c) for each payload kind
 * but the image (test_engine.c covers that one byte for byte): the body
 * each reading step is sent, the input's identity (size, SHA-256), bodies
 * shared between steps, and each bad payload refused with one line naming
 * the file and the problem. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "flowgate/b64.h"
#include "flowgate/payload.h"

static char dir[256];

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/flowgate_test_payload_%d", (int)getpid());
    fg_err err;
    return fg_mkdirs(dir, &err);
}

static int teardown(void **state)
{
    (void)state;
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static void write_file(const char *name, const void *data, size_t len)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    fclose(f);
}

/* The workflow text (' for ") parsed as if read from <dir>/wf.json. */
static void workflow(const char *text, fg_workflow *wf)
{
    char *json = strdup(text), path[512];
    for (char *p = json; *p; p++)
        if (*p == '\'') *p = '"';
    snprintf(path, sizeof path, "%s/wf.json", dir);
    fg_err err = {""};
    int rc = fg_workflow_parse(json, path, wf, &err);
    free(json);
    if (rc) fail_msg("%s", err.msg);
}

static void hex_sha256(const void *data, size_t len, char out[65])
{
    unsigned char md[32];
    unsigned int n = 0;
    assert_true(EVP_Digest(data, len, md, &n, EVP_sha256(), NULL));
    for (int i = 0; i < 32; i++) snprintf(out + 2 * i, 3, "%02x", md[i]);
}

/* a reads both inputs under its own field names; b reads a's output. */
#define TEXT_WF(payload) \
    "{'name':'t','inputs':{'text':'string','lang':'string'},'payload':" payload "," \
    "'steps':[{'id':'a','in':{'t':'$inputs.text','target_lang':'$inputs.lang'}," \
    "'out':{'y':'result.y'}},{'id':'b','in':{'x':'$a.y'},'out':{}}]," \
    "'edges':[{'type':'sequential','from':'a','to':'b'}]}"

static void check_text_body(const fg_payload *p, const char *value_json)
{
    assert_non_null(p->body[0]);
    assert_null(p->body[1]);   /* b reads a step's output, built per request */
    assert_int_equal(strlen(p->body[0]), p->body_len[0]);
    assert_string_equal(p->body[0], "{\"t\":\"hola mundo\",\"target_lang\":\"en\"}");
    /* The identity is the inputs object as printed. */
    assert_int_equal(p->input_len, strlen(value_json));
    char sha[65];
    hex_sha256(value_json, strlen(value_json), sha);
    assert_string_equal(p->sha256, sha);
    assert_true(p->mb == (double)p->input_len / FG_MB);
}

static void test_json_inline(void **state)
{
    (void)state;
    fg_workflow wf;
    workflow(TEXT_WF("{'kind':'json','value':{'text':'hola mundo','lang':'en'}}"), &wf);
    fg_payload p;
    fg_err err = {""};
    assert_int_equal(fg_payload_load(&wf, NULL, 0, &p, &err), 0);
    assert_int_equal(p.kind, FG_PAYLOAD_JSON);
    check_text_body(&p, "{\"text\":\"hola mundo\",\"lang\":\"en\"}");
    assert_int_equal(fg_payload_max_body(&p), p.body_len[0]);
    fg_payload_free(&p);
    assert_null(p.body[0]);
    fg_workflow_free(&wf);
}

static void test_json_file(void **state)
{
    (void)state;
    static const char in[] = "{ \"lang\": \"en\",\n  \"text\": \"hola mundo\" }\n";
    write_file("in.json", in, sizeof in - 1);
    fg_workflow wf;
    workflow(TEXT_WF("{'kind':'json_file','path':'in.json'}"), &wf);
    fg_payload p;
    fg_err err = {""};
    assert_int_equal(fg_payload_load(&wf, NULL, 1, &p, &err), 0);
    check_text_body(&p, "{\"lang\":\"en\",\"text\":\"hola mundo\"}");
    fg_payload_free(&p);
    fg_workflow_free(&wf);
}

/* A file's bytes, base64, in the one field the step reads them into;
 * "by_ref" only for a step with blob outputs, as the engine does. */
static void test_file_bytes(void **state)
{
    (void)state;
    unsigned char bytes[1000];
    for (size_t i = 0; i < sizeof bytes; i++) bytes[i] = (unsigned char)(i * 7 + 3);
    write_file("data.bin", bytes, sizeof bytes);
    fg_workflow wf;
    workflow("{'name':'f','inputs':{'blob':'bytes'},'payload':{'kind':'file','path':'data.bin'},"
             "'steps':[{'id':'a','in':{'data_b64':'$inputs.blob'},'out':{'y':'result.y'},"
             "'blob_out':{'y':'result.ref'}},"
             "{'id':'b','in':{'data_b64':'$inputs.blob'},'out':{}},"
             "{'id':'c','in':{'data_b64':'$inputs.blob'},'out':{}}],"
             "'edges':[{'type':'parallel','from':'a','to':['b','c']}]}", &wf);
    for (int inline_data = 0; inline_data <= 1; inline_data++) {
        fg_payload p;
        fg_err err = {""};
        assert_int_equal(fg_payload_load(&wf, NULL, inline_data, &p, &err), 0);
        assert_int_equal(p.input_len, sizeof bytes);
        assert_int_equal(p.by_ref, !inline_data);
        char sha[65];
        hex_sha256(bytes, sizeof bytes, sha);
        assert_string_equal(p.sha256, sha);
        for (int n = 0; n < 3; n++) {
            cJSON *j = cJSON_ParseWithLength(p.body[n], p.body_len[n]);
            assert_non_null(j);
            const cJSON *b64 = cJSON_GetObjectItemCaseSensitive(j, "data_b64");
            assert_true(cJSON_IsString(b64));
            fg_buf decoded;
            assert_int_equal(fg_b64_decode(b64->valuestring, strlen(b64->valuestring), &decoded,
                                           &err), 0);
            assert_int_equal(decoded.len, sizeof bytes);
            assert_memory_equal(decoded.data, bytes, sizeof bytes);
            fg_buf_free(&decoded);
            const cJSON *by_ref = cJSON_GetObjectItemCaseSensitive(j, "by_ref");
            if (n == 0) assert_true(inline_data ? cJSON_IsFalse(by_ref) : cJSON_IsTrue(by_ref));
            else assert_null(by_ref);
            assert_int_equal(cJSON_GetArraySize(j), n == 0 ? 2 : 1);
            cJSON_Delete(j);
        }
        /* b and c would get the same body: one copy, shared. */
        assert_ptr_equal(p.body[1], p.body[2]);
        assert_ptr_not_equal(p.body[0], p.body[1]);
        fg_payload_free(&p);
    }
    fg_workflow_free(&wf);
}

static void expect_load_error(const char *wf_text, const char *image, const char *needle)
{
    fg_workflow wf;
    workflow(wf_text, &wf);
    fg_payload p;
    fg_err err = {""};
    int rc = fg_payload_load(&wf, image, 0, &p, &err);
    if (rc != -1 || !strstr(err.msg, needle)) {
        print_error("workflow: %s\nexpected: %s\ngot:      rc=%d '%s'\n", wf_text, needle, rc,
                    err.msg);
        fail();
    }
    assert_null(strchr(err.msg, '\n'));
    assert_int_equal(fg_payload_max_body(&p), 0);
    fg_workflow_free(&wf);
}

/* Each bad payload: one line naming the file and the problem. */
static void test_bad_payloads(void **state)
{
    (void)state;
    char path[512];
    write_file("broken.json", "{\"text\": \"hola\",", 16);
    write_file("array.json", "[1, 2]", 6);
    write_file("extra.json", "{\"text\":\"a\",\"lang\":\"en\",\"colour\":\"red\"}", 40);
    write_file("short.json", "{\"text\":\"a\"}", 12);
    write_file("empty.bin", "", 0);
    snprintf(path, sizeof path, "%s/missing.json", dir);
    expect_load_error(TEXT_WF("{'kind':'json_file','path':'missing.json'}"), NULL, path);
    snprintf(path, sizeof path, "%s/broken.json: invalid JSON near byte", dir);
    expect_load_error(TEXT_WF("{'kind':'json_file','path':'broken.json'}"), NULL, path);
    expect_load_error(TEXT_WF("{'kind':'json_file','path':'array.json'}"), NULL,
                      "array.json: expected a JSON object");
    expect_load_error(TEXT_WF("{'kind':'json_file','path':'extra.json'}"), NULL,
                      "extra.json: field 'colour' is not an input of workflow 't'");
    expect_load_error(TEXT_WF("{'kind':'json_file','path':'short.json'}"), NULL,
                      "short.json: missing input 'lang'");
#define FILE_WF(file) \
    "{'name':'f','inputs':{'blob':'bytes'},'payload':{'kind':'file','path':'" file "'}," \
    "'steps':[{'id':'a','in':{'data_b64':'$inputs.blob'},'out':{}}],'edges':[]}"
    snprintf(path, sizeof path, "%s/empty.bin: empty file", dir);
    expect_load_error(FILE_WF("empty.bin"), NULL, path);
    snprintf(path, sizeof path, "%s/nope.bin", dir);
    expect_load_error(FILE_WF("nope.bin"), NULL, path);
    /* The image kind needs the run's test image, and it must be a PNG. */
    expect_load_error("{'name':'r','inputs':{'img':'blob'},"
                      "'steps':[{'id':'a','in':{'img_b64':'$inputs.img'},'out':{}}],'edges':[]}",
                      NULL, "an image payload needs the test image");
    snprintf(path, sizeof path, "%s/extra.json", dir);
    expect_load_error("{'name':'r','inputs':{'img':'blob'},"
                      "'steps':[{'id':'a','in':{'img_b64':'$inputs.img'},'out':{}}],'edges':[]}",
                      path, "not a PNG");
    /* A step reading the inputs reads nothing else (its body is built here). */
    expect_load_error("{'name':'m','inputs':{'text':'s'},'payload':{'kind':'json','value':{'text':'a'}},"
                      "'steps':[{'id':'a','in':{'t':'$inputs.text'},'out':{'y':'result.y'}},"
                      "{'id':'b','in':{'t':'$inputs.text','u':'$a.y'},'out':{}}],"
                      "'edges':[{'type':'sequential','from':'a','to':'b'}]}",
                      NULL, "b reads the workflow inputs together with other steps' outputs");
    /* A file goes into one field. */
    write_file("one.bin", "xyz", 3);
    expect_load_error("{'name':'f','inputs':{'blob':'b'},'payload':{'kind':'file','path':'one.bin'},"
                      "'steps':[{'id':'a','in':{'x':'$inputs.blob','y':'$inputs.blob'},'out':{}}],"
                      "'edges':[]}", NULL, "a reads the file input into 2 fields");
}

/* The shipped workflows load with the payloads their CI tests run. */
static void test_shipped_workflows(void **state)
{
    (void)state;
    static const struct { const char *file; fg_payload_kind kind; int n_steps; } shipped[] = {
        {"text.json", FG_PAYLOAD_JSON_FILE, 2},
        {"single.json", FG_PAYLOAD_JSON, 1},
    };
    for (size_t i = 0; i < sizeof shipped / sizeof shipped[0]; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/workflows/%s", fg_data_dir(), shipped[i].file);
        fg_workflow wf;
        fg_err err = {""};
        if (fg_workflow_load(path, &wf, &err) != 0) fail_msg("%s", err.msg);
        assert_int_equal(wf.payload.kind, shipped[i].kind);
        assert_int_equal(wf.n_steps, shipped[i].n_steps);
        fg_payload p;
        if (fg_payload_load(&wf, NULL, 0, &p, &err) != 0) fail_msg("%s", err.msg);
        cJSON *body = cJSON_Parse(p.body[0]);
        assert_true(cJSON_IsString(cJSON_GetObjectItemCaseSensitive(body, "text")));
        cJSON_Delete(body);
        fg_payload_free(&p);
        fg_workflow_free(&wf);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_json_inline),
        cmocka_unit_test(test_json_file),
        cmocka_unit_test(test_file_bytes),
        cmocka_unit_test(test_bad_payloads),
        cmocka_unit_test(test_shipped_workflows),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
