/* test_cond.c — switch conditions: precedence, parentheses, comparisons,
 * truthiness, errors for missing outputs, parse errors with positions. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "flowgate/workflow.h"

static fg_workflow wf;
static cJSON *outputs;   /* {"a": {...}, "b": {...}}: what the steps returned */

static int setup(void **state)
{
    (void)state;
    static const char *json =
        "{\"name\":\"t\",\"inputs\":{\"img\":\"blob\"},\"steps\":["
        "{\"id\":\"a\",\"in\":{},\"out\":{\"t\":\"result.t\",\"f\":\"result.f\",\"n\":\"result.n\","
        "\"zero\":\"result.zero\",\"s\":\"result.s\",\"empty\":\"result.empty\",\"nul\":\"result.nul\","
        "\"arr\":\"result.arr\",\"gone\":\"result.gone\"}},"
        "{\"id\":\"b\",\"in\":{},\"out\":{\"flag\":\"result.flag\"}}],"
        "\"edges\":[{\"type\":\"sequential\",\"from\":\"a\",\"to\":\"b\"}]}";
    fg_err err = {""};
    if (fg_workflow_parse(json, "t.json", &wf, &err)) {
        print_error("%s\n", err.msg);
        return -1;
    }
    outputs = cJSON_Parse("{\"a\":{\"t\":true,\"f\":false,\"n\":0.7,\"zero\":0,\"s\":\"hello\","
                          "\"empty\":\"\",\"nul\":null,\"arr\":[1]},\"b\":{\"flag\":true}}");
    return outputs ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    fg_workflow_free(&wf);
    cJSON_Delete(outputs);
    return 0;
}

static const cJSON *lookup(void *ctx, int step, const char *output)
{
    const cJSON *o = cJSON_GetObjectItemCaseSensitive(ctx, wf.steps[step].id);
    return cJSON_GetObjectItemCaseSensitive(o, output);
}

/* Parses and evaluates; fails the test on a parse error. */
static int eval(const char *text, fg_err *err)
{
    fg_err perr = {""};
    fg_cond *c = fg_cond_parse(text, &wf, &perr);
    if (!c) {
        print_error("parse '%s': %s\n", text, perr.msg);
        fail();
    }
    int r = fg_cond_eval(c, lookup, outputs, err);
    fg_cond_free(c);
    return r;
}

static void expect(const char *text, int want)
{
    fg_err err = {""};
    int got = eval(text, &err);
    if (got != want) {
        print_error("'%s': want %d, got %d (%s)\n", text, want, got, err.msg);
        fail();
    }
}

static void expect_parse_error(const char *text, const char *needle)
{
    fg_err err = {""};
    fg_cond *c = fg_cond_parse(text, &wf, &err);
    if (c || !strstr(err.msg, needle)) {
        print_error("'%s': want error containing \"%s\", got '%s'\n", text, needle, err.msg);
        fg_cond_free(c);
        fail();
    }
}

static void test_precedence(void **state)
{
    (void)state;
    /* AND binds tighter than OR: t OR (f AND f). */
    expect("a.t OR a.f AND a.f", 1);
    expect("a.f AND a.f OR a.t", 1);
    expect("a.t || a.f && a.f", 1);
    /* NOT binds tighter than AND: (NOT f) AND f. */
    expect("NOT a.f AND a.f", 0);
    expect("!a.f && a.f", 0);
    expect("NOT NOT a.t", 1);
    expect("not a.t or a.t", 1);
    /* NOT applies to a whole comparison. */
    expect("NOT a.n == 0.7", 0);
}

static void test_parentheses(void **state)
{
    (void)state;
    expect("(a.t OR a.f) AND a.f", 0);
    expect("a.t OR (a.f AND a.f)", 1);
    expect("NOT (a.f AND a.f)", 1);
    expect("((a.t))", 1);
    expect("(a.t AND b.flag) == true", 1);
}

static void test_comparisons(void **state)
{
    (void)state;
    expect("a.n > 0.5", 1);
    expect("a.n < 0.5", 0);
    expect("a.n >= 0.7", 1);
    expect("a.n <= 0.7", 1);
    expect("a.n > 0.7", 0);
    expect("a.n == 0.7", 1);
    expect("a.n != 0.7", 0);
    expect("a.n > 0 AND a.n < 1", 1);
    expect("a.n > -1", 1);
    expect("a.s == 'hello'", 1);
    expect("a.s != 'hello'", 0);
    expect("a.s < 'world'", 1);
    expect("a.t == true", 1);
    expect("a.f == false", 1);
    expect("a.t == 1", 1);
    expect("a.nul == a.nul", 1);
    expect("a.s == 1", 0);        /* different types are unequal, not an error */
    expect("a.s != 1", 1);
    expect("'x' == 'x'", 1);
    expect("2 > 1", 1);
}

static void test_truthiness(void **state)
{
    (void)state;
    expect("a.t", 1);
    expect("a.f", 0);
    expect("a.n", 1);
    expect("a.zero", 0);
    expect("a.s", 1);
    expect("a.empty", 0);
    expect("a.nul", 0);
    expect("a.arr", 1);
    expect("true", 1);
    expect("false", 0);
    expect("0", 0);
    expect("''", 0);
}

static void test_eval_errors(void **state)
{
    (void)state;
    fg_err err = {""};
    assert_int_equal(eval("a.gone", &err), -1);
    assert_non_null(strstr(err.msg, "a.gone"));
    assert_non_null(strstr(err.msg, "missing"));
    /* Reported even when the other side already decides. */
    err.msg[0] = 0;
    assert_int_equal(eval("a.t OR a.gone", &err), -1);
    assert_non_null(strstr(err.msg, "a.gone"));
    err.msg[0] = 0;
    assert_int_equal(eval("a.s < 1", &err), -1);
    assert_non_null(strstr(err.msg, "cannot order a string against a number"));
    assert_int_equal(fg_cond_eval(NULL, lookup, outputs, &err), -1);
}

static void test_parse_errors(void **state)
{
    (void)state;
    expect_parse_error("a.t AND", "condition 'a.t AND': at position 8: expected a reference");
    expect_parse_error("(a.t", "at position 5: expected ')', found the end");
    expect_parse_error("a.t == == 1", "at position 8:");
    expect_parse_error("a.t 'x'", "at position 5: expected OR, AND or the end, found ''x''");
    expect_parse_error("a.nope", "at position 1: step 'a' has no output 'nope'");
    expect_parse_error("a.t OR zz.t", "at position 8: unknown step 'zz'");
    expect_parse_error("a.s == 'abc", "at position 8: unterminated string");
    expect_parse_error("a.n < 1 < 2", "comparisons do not chain");
    expect_parse_error("flag", "at position 1: expected a reference 'step.output'");
    expect_parse_error("a.t.x", "expected a reference 'step.output'");
    expect_parse_error("a.t # 1", "at position 5: expected OR, AND or the end, found '#'");
    expect_parse_error("a.t AND # 1", "at position 9: unexpected character");
    expect_parse_error("   ", "empty");
    expect_parse_error(")", "at position 1:");
    fg_err err = {""};
    assert_null(fg_cond_parse(NULL, &wf, &err));
}

static void test_cond_steps(void **state)
{
    (void)state;
    fg_err err = {""};
    fg_cond *c = fg_cond_parse("b.flag OR a.t AND NOT b.flag OR a.n > 1", &wf, &err);
    assert_non_null(c);
    int steps[4] = {-9, -9, -9, -9};
    assert_int_equal(fg_cond_steps(c, steps, 4), 2);
    assert_int_equal(steps[0], 1);
    assert_int_equal(steps[1], 0);
    assert_int_equal(steps[2], -9);
    assert_int_equal(fg_cond_steps(c, steps, 1), 1);
    fg_cond_free(c);
    c = fg_cond_parse("1 == 1", &wf, &err);
    assert_int_equal(fg_cond_steps(c, steps, 4), 0);
    fg_cond_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_precedence),
        cmocka_unit_test(test_parentheses),
        cmocka_unit_test(test_comparisons),
        cmocka_unit_test(test_truthiness),
        cmocka_unit_test(test_eval_errors),
        cmocka_unit_test(test_parse_errors),
        cmocka_unit_test(test_cond_steps),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
