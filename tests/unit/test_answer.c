/* test_answer.c — a reply read by events (answer.h): the tree keeps the
 * step's output keys and (when asked) the server timestamps, equal to what
 * cJSON reads of the whole reply, and nothing else; the accounting numbers
 * land in the report with cJSON's values; the success field and the
 * message are judged on the way; the first of duplicate keys wins as with
 * cJSON; a body that is not one JSON object is refused; a kept value
 * nested too deep is refused while a skipped one is not built at all; one
 * reader reads reply after reply, whatever failed before; the plan names
 * each key once. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "driver/answer.h"

static const char *const workflow_text =
    "{\"name\":\"t\",\"inputs\":{\"t\":\"string\"},\"payload\":{\"kind\":\"json\","
    "\"value\":{\"t\":\"x\"}},\"steps\":["
    "{\"id\":\"a\",\"in\":{\"t\":\"$inputs.t\"},"
    " \"out\":{\"o\":\"result.o\",\"deep\":\"result.nest.x\",\"again\":\"result.o\","
    "  \"spent\":\"result.exec_ms\"},"
    " \"blob_out\":{\"o\":\"result.ref\"}}],"
    "\"edges\":[]}";

typedef struct fixture { fg_workflow wf; fg_answer_plan plan; fg_answer_reader *rd; } fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    fg_err err = {""};
    if (!f || fg_workflow_parse(workflow_text, "t.json", &f->wf, &err) != 0) {
        fprintf(stderr, "%s\n", err.msg);
        return -1;
    }
    if (fg_answer_plan_step(&f->plan, &f->wf, 0, 0, &err) != 0) return -1;
    f->rd = fg_answer_reader_new();
    if (!f->rd) return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    fg_workflow_free(&f->wf);
    fg_answer_reader_free(f->rd);
    free(f);
    return 0;
}

static int read_reply(const fixture *f, const char *body, int stamps, fg_answer *a)
{
    return fg_answer_read(f->rd, &f->plan, "status", "success", stamps, body, strlen(body), a);
}

/* The kept item equals cJSON's reading of the whole reply. */
static void assert_same_as_cjson(const cJSON *tree, const char *body, const char *key)
{
    cJSON *full = cJSON_Parse(body);
    assert_non_null(full);
    const cJSON *want = cJSON_GetObjectItemCaseSensitive(full, key);
    const cJSON *got = cJSON_GetObjectItemCaseSensitive(tree, key);
    assert_non_null(want);
    assert_non_null(got);
    assert_true(cJSON_Compare(want, got, 1));
    cJSON_Delete(full);
}

static const char *const full_reply =
    "{\"status\":\"success\",\"function\":\"a\",\"node\":\"n1\","
    "\"o\":\"q\\\"uote \\u00e9\\n\",\"target_lang\":\"en\","
    "\"nest\":{\"x\":[1,{\"y\":null,\"z\":[true,false]}],\"w\":-2.5e3},"
    "\"exec_ms\":1.5,\"queue_ms\":0.25,\"transfer_bytes\":10,\"cold_start\":false,"
    "\"extra\":{\"big\":[1,2,3,{\"deeper\":[[[\"s\"]]]}]},"
    "\"server_timestamps\":{\"recv\":1796602674.7126131,\"sent\":1796602674.7126732}}";

static void test_keeps_only_what_is_read(void **state)
{
    const fixture *f = *state;
    fg_answer a;
    assert_int_equal(read_reply(f, full_reply, 0, &a), 0);
    assert_int_equal(a.status, FG_ANSWER_STATUS_SUCCESS);
    assert_false(a.has_message);
    /* exec_ms is an output too ("spent"): kept as well as accounted. */
    const char *kept[] = {"o", "nest", "exec_ms"};
    assert_int_equal(cJSON_GetArraySize(a.tree), 3);
    for (size_t i = 0; i < sizeof kept / sizeof kept[0]; i++)
        assert_same_as_cjson(a.tree, full_reply, kept[i]);
    const char *skipped[] = {"status", "function", "node", "target_lang", "extra",
                             "server_timestamps", "queue_ms", "transfer_bytes", "cold_start"};
    for (size_t i = 0; i < sizeof skipped / sizeof skipped[0]; i++)
        assert_null(cJSON_GetObjectItemCaseSensitive(a.tree, skipped[i]));
    assert_float_equal(a.report.exec_ms, 1.5, 0);
    assert_float_equal(a.report.queue_ms, 0.25, 0);
    assert_true(isnan(a.report.transfer_ms));
    assert_float_equal(a.report.transfer_bytes, 10, 0);
    assert_int_equal(a.report.cold_start, 0);
    cJSON_Delete(a.tree);
}

static void test_timestamps_when_asked(void **state)
{
    const fixture *f = *state;
    fg_answer a;
    assert_int_equal(read_reply(f, full_reply, 1, &a), 0);
    assert_int_equal(cJSON_GetArraySize(a.tree), 4);
    assert_same_as_cjson(a.tree, full_reply, "server_timestamps");
    cJSON_Delete(a.tree);
}

static void test_status_and_message_judged(void **state)
{
    const fixture *f = *state;
    fg_answer a;
    assert_int_equal(read_reply(f, "{\"status\":\"error\",\"message\":\"no text\"}", 0, &a), 0);
    assert_int_equal(a.status, FG_ANSWER_STATUS_ERROR);
    assert_true(a.has_message);
    assert_string_equal(a.message, "no text");
    assert_int_equal(cJSON_GetArraySize(a.tree), 0);
    cJSON_Delete(a.tree);

    assert_int_equal(read_reply(f, "{\"status\":\"pending\"}", 0, &a), 0);
    assert_int_equal(a.status, FG_ANSWER_STATUS_OTHER);
    cJSON_Delete(a.tree);
    assert_int_equal(read_reply(f, "{\"status\":1,\"message\":[\"x\"]}", 0, &a), 0);
    assert_int_equal(a.status, FG_ANSWER_STATUS_ABSENT);
    assert_false(a.has_message);
    cJSON_Delete(a.tree);
    assert_int_equal(read_reply(f, "{}", 0, &a), 0);
    assert_int_equal(a.status, FG_ANSWER_STATUS_ABSENT);
    cJSON_Delete(a.tree);

    /* The endpoint's own rule, and "error" whatever it is. */
    const char *done = "{\"state\":\"done\",\"status\":\"error\"}";
    assert_int_equal(fg_answer_read(f->rd, &f->plan, "state", "done", 0, done, strlen(done), &a), 0);
    assert_int_equal(a.status, FG_ANSWER_STATUS_SUCCESS);
    cJSON_Delete(a.tree);
    const char *err = "{\"state\":\"error\"}";
    assert_int_equal(fg_answer_read(f->rd, &f->plan, "state", "error", 0, err, strlen(err), &a), 0);
    assert_int_equal(a.status, FG_ANSWER_STATUS_ERROR);
    cJSON_Delete(a.tree);

    /* A long message is cut at the buffer, terminated. */
    char body[1200];
    char text[900];
    memset(text, 'm', sizeof text - 1);
    text[sizeof text - 1] = 0;
    snprintf(body, sizeof body, "{\"status\":\"error\",\"message\":\"%s\"}", text);
    assert_int_equal(read_reply(f, body, 0, &a), 0);
    assert_int_equal(strlen(a.message), sizeof a.message - 1);
    cJSON_Delete(a.tree);
}

static void test_first_duplicate_wins(void **state)
{
    const fixture *f = *state;
    fg_answer a;
    const char *body = "{\"exec_ms\":\"1\",\"exec_ms\":2,\"status\":\"success\",\"status\":\"error\","
                       "\"o\":\"first\",\"o\":\"second\",\"cold_start\":1,\"cold_start\":true}";
    assert_int_equal(read_reply(f, body, 0, &a), 0);
    assert_int_equal(a.status, FG_ANSWER_STATUS_SUCCESS);
    /* cJSON finds the first: a string exec_ms and a number cold_start,
     * neither of which the accounting takes. */
    assert_true(isnan(a.report.exec_ms));
    assert_int_equal(a.report.cold_start, -1);
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(a.tree, "o")->valuestring, "first");
    /* Kept as an output, the first exec_ms is the string. */
    assert_true(cJSON_IsString(cJSON_GetObjectItemCaseSensitive(a.tree, "exec_ms")));
    cJSON_Delete(a.tree);
}

static void test_not_one_object_is_refused(void **state)
{
    const fixture *f = *state;
    const char *bad[] = {"", "[1]", "42", "\"s\"", "null", "{", "{\"o\":\"x\"",
                         "{\"o\":\"x\"}x", "{\"o\":\"x\"}{}", "{\"o\":\"x\"}\"", "{ }\"a",
                         "{\"a\":tru}", "{\"a\":NaN}",
                         "<html>502</html>", "{\"a\":1,}"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        fg_answer a;
        assert_int_equal(read_reply(f, bad[i], 0, &a), -1);
        assert_null(a.tree);
    }
    /* Whitespace around the object is not text after it. */
    fg_answer a;
    assert_int_equal(read_reply(f, " \n{\"o\":\"x\"}\r\n ", 0, &a), 0);
    cJSON_Delete(a.tree);
}

static char *nested(const char *key, int depth)
{
    size_t n = strlen(key) + 2 * (size_t)depth + 16;
    char *s = malloc(n);
    size_t at = (size_t)snprintf(s, n, "{\"%s\":", key);
    for (int i = 0; i < depth; i++) s[at++] = '[';
    for (int i = 0; i < depth; i++) s[at++] = ']';
    s[at++] = '}';
    s[at] = 0;
    return s;
}

static void test_nesting(void **state)
{
    const fixture *f = *state;
    fg_answer a;
    char *skipped = nested("extra", 5000);
    assert_int_equal(read_reply(f, skipped, 0, &a), 0);
    assert_int_equal(cJSON_GetArraySize(a.tree), 0);
    cJSON_Delete(a.tree);
    free(skipped);
    char *fits = nested("o", FG_ANSWER_MAX_NESTING);
    assert_int_equal(read_reply(f, fits, 0, &a), 0);
    assert_true(cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(a.tree, "o")));
    cJSON_Delete(a.tree);
    free(fits);
    char *deep = nested("o", FG_ANSWER_MAX_NESTING + 1);
    assert_int_equal(read_reply(f, deep, 0, &a), -1);
    assert_null(a.tree);
    free(deep);
}

static void test_numbers_as_cjson_reads_them(void **state)
{
    const fixture *f = *state;
    const char *body = "{\"exec_ms\":0.00000000000000000000000000000000000000000000000000000000000000000000000000001234,"
                       "\"queue_ms\":-0,\"transfer_ms\":12345678901234567890,\"o\":[1e-3,2E+2]}";
    fg_answer a;
    assert_int_equal(read_reply(f, body, 0, &a), 0);
    assert_same_as_cjson(a.tree, body, "o");
    assert_same_as_cjson(a.tree, body, "exec_ms");
    cJSON *full = cJSON_Parse(body);
    assert_true(a.report.exec_ms == cJSON_GetObjectItem(full, "exec_ms")->valuedouble);
    assert_true(a.report.queue_ms == cJSON_GetObjectItem(full, "queue_ms")->valuedouble);
    assert_true(a.report.transfer_ms == cJSON_GetObjectItem(full, "transfer_ms")->valuedouble);
    cJSON_Delete(full);
    cJSON_Delete(a.tree);
}

/* Bit for bit as strtod, on both sides of the exact short cut: 15 and 16
 * digits, 2^53 and past it, 22 decimals and 23, exponents, extremes. */
static void test_numbers_bit_for_bit(void **state)
{
    const fixture *f = *state;
    static const char *const numbers[] = {
        "0", "-0", "0.0", "0.007", "0.001", "0.1", "-0.3", "3.141592653589793",
        "1796611969.691251", "1796611969.6914032", "9007199254740991", "9007199254740992",
        "9007199254740993", "900719925474099.1", "900719925474099.9", "123456789012345678",
        "0.0000000000000000000001", "0.00000000000000000000001", "1e22", "123.456e2",
        "-1.5E-3", "5e-324", "1.7976931348623157e308", "2.2250738585072014e-308",
        "0.30000000000000004", "100", "-12345.678900"};
    for (size_t i = 0; i < sizeof numbers / sizeof numbers[0]; i++) {
        char body[128];
        snprintf(body, sizeof body, "{\"exec_ms\":%s}", numbers[i]);
        fg_answer a;
        assert_int_equal(read_reply(f, body, 0, &a), 0);
        double want = strtod(numbers[i], NULL);
        if (memcmp(&a.report.exec_ms, &want, sizeof want) != 0)
            fail_msg("%s read as %.17g, strtod says %.17g", numbers[i], a.report.exec_ms, want);
        cJSON_Delete(a.tree);
    }
}

/* One reader, reply after reply: what went before (a good reply, a
 * refused one, one cut short in the middle of a number) leaves nothing
 * behind for the next. */
static void test_reader_reads_reply_after_reply(void **state)
{
    const fixture *f = *state;
    const char *seq[] = {"{\"status\":\"success\",\"o\":\"1\"}", "{\"o\":\"x\"}{}",
                         "{\"status\":\"success\",\"o\":\"2\"}", "{\"o\":\"x\"} 5",
                         "{\"status\":\"success\",\"o\":\"3\"}", "{\"exec_ms\":12",
                         "{\"status\":\"success\",\"o\":\"4\",\"exec_ms\":7}", "{}\"",
                         "{\"status\":\"success\",\"o\":\"5\"}", "{\"status\":\"success\",\"o\":\"6\"}"};
    const int want[] = {0, -1, 0, -1, 0, -1, 0, -1, 0, 0};
    char o = '1';
    for (size_t i = 0; i < sizeof seq / sizeof seq[0]; i++) {
        fg_answer a;
        assert_int_equal(read_reply(f, seq[i], 0, &a), want[i]);
        if (want[i] != 0) continue;
        assert_int_equal(a.status, FG_ANSWER_STATUS_SUCCESS);
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(a.tree, "o");
        assert_true(cJSON_IsString(v) && v->valuestring[0] == o++ && !v->valuestring[1]);
        if (i == 6) assert_float_equal(a.report.exec_ms, 7, 0);
        else assert_true(isnan(a.report.exec_ms));
        cJSON_Delete(a.tree);
    }
}

static void test_plan_names_each_key_once(void **state)
{
    const fixture *f = *state;
    /* o (twice), nest, exec_ms; blob_out's "ref" only by reference. */
    assert_int_equal(f->plan.n, 3);
    fg_answer_plan by_ref;
    fg_err err = {""};
    assert_int_equal(fg_answer_plan_step(&by_ref, &f->wf, 0, 1, &err), 0);
    assert_int_equal(by_ref.n, 4);
    assert_int_equal(by_ref.key[3].len, 3);
    assert_memory_equal(by_ref.key[3].key, "ref", 3);

    char text[4096];
    size_t at = (size_t)snprintf(text, sizeof text,
                                 "{\"name\":\"w\",\"inputs\":{\"t\":\"string\"},\"payload\":"
                                 "{\"kind\":\"json\",\"value\":{\"t\":\"x\"}},\"steps\":[{\"id\":"
                                 "\"wide\",\"in\":{\"t\":\"$inputs.t\"},\"out\":{");
    for (int i = 0; i <= FG_ANSWER_MAX_KEYS; i++)
        at += (size_t)snprintf(text + at, sizeof text - at, "%s\"o%d\":\"result.k%d\"",
                               i ? "," : "", i, i);
    snprintf(text + at, sizeof text - at, "}}],\"edges\":[]}");
    fg_workflow wide;
    assert_int_equal(fg_workflow_parse(text, "w.json", &wide, &err), 0);
    fg_answer_plan p;
    assert_int_equal(fg_answer_plan_step(&p, &wide, 0, 0, &err), -1);
    assert_non_null(strstr(err.msg, "wide"));
    fg_workflow_free(&wide);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_keeps_only_what_is_read),
        cmocka_unit_test(test_timestamps_when_asked),
        cmocka_unit_test(test_status_and_message_judged),
        cmocka_unit_test(test_first_duplicate_wins),
        cmocka_unit_test(test_not_one_object_is_refused),
        cmocka_unit_test(test_nesting),
        cmocka_unit_test(test_numbers_as_cjson_reads_them),
        cmocka_unit_test(test_numbers_bit_for_bit),
        cmocka_unit_test(test_reader_reads_reply_after_reply),
        cmocka_unit_test(test_plan_names_each_key_once),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
