/* test_faults_check.c — the fault accounting gate (src/gates/faults_check.h)
 * on crafted counts: the numbers of a real Faults run pass; each way the
 * driver could miscount fails naming the function and class: a fault in
 * the wrong class, an error nothing injected, a reset neither counted nor
 * resent, an invocation one side never saw. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>
#include <cjson/cJSON.h>

#include "flowgate/faults_check.h"

/* The counts of one CI-scale Faults run (sc_Faults_input0.1mb_conc10_rate10_ours). */
static const char *const seen_text =
    "{\"invocations\": {\"recognizer__upload\": 20, \"recognizer__adult\": 19,"
    " \"recognizer__translate\": 18, \"recognizer__extract\": 16, \"recognizer__mosaic\": 0},"
    " \"injected\": {\"recognizer__upload\": {\"wrong_type\": 1},"
    " \"recognizer__adult\": {\"error_500\": 2}, \"recognizer__translate\": {\"reset\": 3},"
    " \"recognizer__extract\": {\"hang\": 1}, \"recognizer__mosaic\": {}}}";

static cJSON *entry_with(int upload_malformed, int adult_http, int translate_inv,
                         int translate_connect, int extract_client)
{
    char text[1200];
    snprintf(text, sizeof text,
             "{\"functions\": {"
             "\"recognizer__upload\": {\"invocations\": 20, \"errors\": {\"malformed\": %d}},"
             "\"recognizer__adult\": {\"invocations\": 19, \"errors\": {\"http\": %d}},"
             "\"recognizer__translate\": {\"invocations\": %d, \"errors\": {\"connect\": %d}},"
             "\"recognizer__extract\": {\"invocations\": 16, \"errors\": {\"timeout\": 1,"
             " \"client\": %d}},"
             "\"recognizer__mosaic\": {\"invocations\": 0, \"errors\": {}}}}",
             upload_malformed, adult_http, translate_inv, translate_connect, extract_client);
    cJSON *e = cJSON_Parse(text);
    assert_non_null(e);
    return e;
}

static void expect(cJSON *e, const char *fragment)
{
    cJSON *seen = cJSON_Parse(seen_text);
    assert_non_null(seen);
    char why[300] = "";
    int rc = fg_faults_account(e, seen, why, sizeof why);
    if (!fragment) {
        if (rc != 0) fail_msg("unexpected: %s", why);
    } else {
        assert_int_equal(rc, -1);
        if (!strstr(why, fragment)) fail_msg("'%s' lacks '%s'", why, fragment);
    }
    cJSON_Delete(seen);
    cJSON_Delete(e);
}

static void test_real_run_accounts(void **state)
{
    (void)state;
    /* translate: 3 resets, none surfaced, 3 resent by libcurl (18 - 15). */
    expect(entry_with(1, 2, 15, 0, 0), NULL);
    /* ... or 1 surfaced as a connect error and 2 resent (18 - 16). */
    expect(entry_with(1, 2, 16, 1, 0), NULL);
}

static void test_miscounts_fail(void **state)
{
    (void)state;
    expect(entry_with(0, 2, 15, 0, 0), "recognizer__upload: 1 wrong_type injected, 0 malformed");
    expect(entry_with(1, 1, 15, 0, 0), "recognizer__adult: 2 error_500 injected, 1 http");
    expect(entry_with(1, 2, 15, 0, 1), "recognizer__extract: 1 client errors, none injected");
    /* A reset that is neither an error nor an extra invocation at the server. */
    expect(entry_with(1, 2, 16, 0, 0), "recognizer__translate: 3 connections closed");
    /* More connect errors than connections closed. */
    expect(entry_with(1, 2, 14, 4, 0), "recognizer__translate: 3 connections closed");
}

static void test_unseen_function_fails(void **state)
{
    (void)state;
    cJSON *e = entry_with(1, 2, 15, 0, 0);
    cJSON_AddItemToObject(cJSON_GetObjectItem(e, "functions"), "recognizer__censor",
                          cJSON_Parse("{\"invocations\": 4, \"errors\": {}}"));
    expect(e, "recognizer__censor: 4 invocations sent, none seen by the servers");
    e = entry_with(1, 2, 15, 0, 0);
    cJSON_DeleteItemFromObject(cJSON_GetObjectItem(e, "functions"), "recognizer__adult");
    expect(e, "recognizer__adult: 19 invocations at the server, none in the results");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_real_run_accounts),
        cmocka_unit_test(test_miscounts_fail),
        cmocka_unit_test(test_unseen_function_fails),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
