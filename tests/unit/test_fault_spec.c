/* test_fault_spec.c — the faults block and the decision (src/server/faults.h),
 * without a server: the block at the top of a profile, on a node (replaces
 * it) and null (off); its defaults; each malformed block refused with one
 * line naming the key; the block printed back parses to itself; and the
 * decision: "every" counts per function, every entry is evaluated on every
 * invocation and the first that fires wins, a rate draws the same faults
 * again from the same seed and node, rates 0 and 1 never and always, and
 * the counts. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/catalog.h"
#include "server/faults.h"
#include "server/node.h"

static fg_site_profile *parse_profile(const char *json)
{
    static fg_site_profile p;
    fg_err err;
    if (fg_site_profile_parse(json, strlen(json), &p, &err) != 0) fail_msg("%s", err.msg);
    return &p;
}

static void spec_of(const char *json, fg_fault_spec *s)
{
    cJSON *v = cJSON_Parse(json);
    assert_non_null(v);
    fg_err err;
    memset(s, 0, sizeof *s);
    if (fg_fault_spec_parse(v, "faults", s, &err) != 0) fail_msg("%s", err.msg);
    cJSON_Delete(v);
}

static void expect_bad(const char *json, const char *message)
{
    cJSON *v = cJSON_Parse(json);
    assert_non_null(v);
    fg_fault_spec s;
    memset(&s, 0, sizeof s);
    fg_err err;
    assert_int_equal(fg_fault_spec_parse(v, "faults", &s, &err), -1);
    cJSON_Delete(v);
    if (!strstr(err.msg, message)) fprintf(stderr, "got \"%s\"\n", err.msg);
    assert_non_null(strstr(err.msg, message));
    assert_null(strchr(err.msg, '\n'));
}

static void test_profile_levels(void **state)
{
    (void)state;
    const fg_site_profile *p = parse_profile(
        "{\"faults\": {\"seed\": 9, \"functions\": {\"*\": [{\"kind\": \"error_500\", "
        "\"rate\": 0.1}]}}, \"nodes\": ["
        "{\"name\": \"a\", \"workers\": 1},"
        "{\"name\": \"b\", \"workers\": 1, \"faults\": {\"down_s\": 5, \"functions\": "
        "{\"extract\": [{\"kind\": \"hang\", \"every\": 3}]}}},"
        "{\"name\": \"c\", \"workers\": 1, \"faults\": null}]}");
    const fg_fault_spec *a = &p->nodes[0].faults, *b = &p->nodes[1].faults,
                        *c = &p->nodes[2].faults;
    assert_true(a->set && a->seed == 9 && a->has_all && a->all.n == 1);
    assert_int_equal(a->all.f[0].kind, FG_FAULT_ERROR_500);
    assert_true(a->all.f[0].rate == 0.1 && a->all.f[0].every == 0);
    /* b's block replaces the top's whole: no "*", its own seed default. */
    assert_true(b->set && !b->has_all && b->seed == 1 && b->down_s == 5);
    assert_true(b->has_fn[FG_FN_EXTRACT]);
    assert_int_equal(b->fn[FG_FN_EXTRACT].f[0].kind, FG_FAULT_HANG);
    assert_int_equal(b->fn[FG_FN_EXTRACT].f[0].every, 3);
    assert_true(b->fn[FG_FN_EXTRACT].f[0].hang_ms == FG_FAULT_HANG_MS_DEFAULT);
    assert_false(c->set);

    p = parse_profile("{\"nodes\": [{\"name\": \"a\", \"workers\": 1}]}");
    assert_false(p->nodes[0].faults.set);
}

static void assert_same_spec(const fg_fault_spec *a, const fg_fault_spec *b)
{
    assert_true(a->set == b->set && a->seed == b->seed && a->down_s == b->down_s);
    assert_int_equal(a->has_all, b->has_all);
    for (int i = -1; i < FG_MAX_FUNCTIONS; i++) {
        const fg_fault_list *x = i < 0 ? &a->all : &a->fn[i], *y = i < 0 ? &b->all : &b->fn[i];
        if (i >= 0) assert_int_equal(a->has_fn[i], b->has_fn[i]);
        assert_int_equal(x->n, y->n);
        for (int k = 0; k < x->n; k++) {
            assert_int_equal(x->f[k].kind, y->f[k].kind);
            assert_int_equal(x->f[k].every, y->f[k].every);
            assert_true(x->f[k].rate == y->f[k].rate && x->f[k].hang_ms == y->f[k].hang_ms &&
                        x->f[k].bytes_per_s == y->f[k].bytes_per_s);
        }
    }
}

static void test_defaults_and_round_trip(void **state)
{
    (void)state;
    fg_fault_spec s, again;
    spec_of("{\"functions\": {\"recognizer__mosaic\": [{\"kind\": \"drip\", \"every\": 2}, "
            "{\"kind\": \"wrong_type\", \"rate\": 1}], \"*\": [{\"kind\": \"reset\", "
            "\"rate\": 0}, {\"kind\": \"error_status\", \"every\": 7}]}}", &s);
    assert_true(s.seed == 1 && s.down_s == 0);
    assert_true(s.fn[FG_FN_MOSAIC].f[0].bytes_per_s == FG_FAULT_DRIP_DEFAULT);
    cJSON *j = fg_fault_spec_json(&s);
    char *text = cJSON_PrintUnformatted(j);
    cJSON_Delete(j);
    printf("%s\n", text);
    spec_of(text, &again);
    free(text);
    assert_same_spec(&s, &again);

    /* Off prints as null. */
    fg_fault_spec off;
    memset(&off, 0, sizeof off);
    j = fg_fault_spec_json(&off);
    assert_true(cJSON_IsNull(j));
    cJSON_Delete(j);
}

static void test_bad_blocks(void **state)
{
    (void)state;
#define F(list) "{\"functions\": {\"recognizer__censor\": " list "}}"
    expect_bad(F("[{\"kind\": \"boom\", \"rate\": 1}]"),
               "faults: \"functions\": \"recognizer__censor\"[0]: unknown kind \"boom\" "
               "(error_500, error_status, hang, drip, wrong_type, reset)");
    expect_bad(F("[{\"kind\": \"down\", \"rate\": 1}]"), "unknown kind \"down\"");
    expect_bad(F("[{\"kind\": 5, \"rate\": 1}]"), "unknown kind \"?\"");
    expect_bad(F("[{\"rate\": 1}]"), "\"recognizer__censor\"[0]: missing \"kind\"");
    expect_bad(F("[{\"kind\": \"reset\", \"rate\": 1.5}]"),
               "[0]: \"rate\" must be a number in [0, 1]");
    expect_bad(F("[{\"kind\": \"reset\", \"rate\": -0.1}]"), "\"rate\" must be a number");
    expect_bad(F("[{\"kind\": \"reset\", \"rate\": \"1\"}]"), "\"rate\" must be a number");
    expect_bad(F("[{\"kind\": \"reset\", \"every\": 2.5}]"),
               "\"every\" must be an integer in [1, 1000000]");
    expect_bad(F("[{\"kind\": \"reset\", \"every\": 0}]"), "\"every\" must be an integer");
    expect_bad(F("[{\"kind\": \"reset\", \"every\": 2, \"rate\": 0.5}]"),
               "give either \"rate\" (in [0, 1]) or \"every\"");
    expect_bad(F("[{\"kind\": \"reset\"}]"), "give either \"rate\"");
    expect_bad(F("[{\"kind\": \"hang\", \"every\": 1, \"hang_ms\": 0}]"),
               "\"hang_ms\" must be a number in [1, 3600000]");
    expect_bad(F("[{\"kind\": \"drip\", \"every\": 1, \"bytes_per_s\": 0}]"),
               "\"bytes_per_s\" must be a number in [1, 1000000000]");
    expect_bad(F("[{\"kind\": \"reset\", \"every\": 1, \"hang_ms\": 10}]"),
               "\"hang_ms\" belongs to kind \"hang\", not \"reset\"");
    expect_bad(F("[{\"kind\": \"hang\", \"every\": 1, \"bytes_per_s\": 10}]"),
               "\"bytes_per_s\" belongs to kind \"drip\", not \"hang\"");
    expect_bad(F("[{\"kind\": \"reset\", \"every\": 1, \"after\": 1}]"),
               "[0]: unknown key \"after\" (kind, rate, every, hang_ms, bytes_per_s)");
    expect_bad(F("[5]"), "[0]: must be an object");
    expect_bad(F("{\"kind\": \"reset\", \"every\": 1}"),
               "\"recognizer__censor\" must be an array of at most 8 faults");
    expect_bad(F("[{\"kind\":\"reset\",\"every\":1},{\"kind\":\"reset\",\"every\":1},"
                 "{\"kind\":\"reset\",\"every\":1},{\"kind\":\"reset\",\"every\":1},"
                 "{\"kind\":\"reset\",\"every\":1},{\"kind\":\"reset\",\"every\":1},"
                 "{\"kind\":\"reset\",\"every\":1},{\"kind\":\"reset\",\"every\":1},"
                 "{\"kind\":\"reset\",\"every\":1}]"), "at most 8 faults");
#undef F
    expect_bad("{\"functions\": {\"recognizer__censr\": []}}",
               "faults: \"functions\": unknown function \"recognizer__censr\"");
    expect_bad("{\"functions\": {\"censor\": [], \"recognizer__censor\": []}}",
               "\"recognizer__censor\" names a function given before");
    expect_bad("{\"functions\": [1]}", "\"functions\" must be an object");
    expect_bad("{\"seed\": -1}", "faults: \"seed\" must be an integer in [0, 9007199254740991]");
    expect_bad("{\"seed\": 1.5}", "\"seed\" must be an integer");
    expect_bad("{\"down_s\": 86401}", "\"down_s\" must be a number in [0, 86400]");
    expect_bad("{\"rate\": 0.5}", "faults: unknown key \"rate\" (seed, down_s, functions)");
    expect_bad("7", "faults: must be null or an object");

    /* In a profile the error names the level. */
    const char *top = "{\"faults\": {\"functions\": {\"x\": []}}, "
                      "\"nodes\": [{\"name\": \"a\", \"workers\": 1}]}";
    const char *node = "{\"nodes\": [{\"name\": \"a\", \"workers\": 1}, {\"name\": \"b\", "
                       "\"workers\": 1, \"faults\": {\"functions\": {\"*\": "
                       "[{\"kind\": \"reset\", \"rate\": 2}]}}}]}";
    fg_site_profile p;
    fg_err err;
    assert_int_equal(fg_site_profile_parse(top, strlen(top), &p, &err), -1);
    assert_non_null(strstr(err.msg, "nodes file: \"faults\": \"functions\": unknown function "
                                    "\"x\""));
    assert_int_equal(fg_site_profile_parse(node, strlen(node), &p, &err), -1);
    assert_non_null(strstr(err.msg, "nodes file: nodes[1]: \"faults\": \"functions\": "
                                    "\"*\"[0]: \"rate\" must be a number in [0, 1]"));
}

static fg_faults *state_of(const char *block, const char *node)
{
    static fg_faults f;
    static int live;
    if (live) fg_faults_destroy(&f);
    fg_fault_spec s;
    spec_of(block, &s);
    fg_err err;
    if (fg_faults_init(&f, &s, node, &err) != 0) fail_msg("%s", err.msg);
    live = 1;
    return &f;
}

/* The kinds fn gets over n invocations, one letter each ('.' for none). */
static void kinds(fg_faults *f, int fn, int n, char *out)
{
    for (int i = 0; i < n; i++) {
        fg_fault x = fg_faults_pick(f, fn);
        out[i] = x.kind == FG_FAULT_NONE ? '.' : fg_fault_kind_name(x.kind)[0];
        if (x.kind != FG_FAULT_NONE) fg_faults_count(f, fn, x.kind);
    }
    out[n] = 0;
}

static void test_every_and_first_wins(void **state)
{
    (void)state;
    /* Censor: error_500 every 2nd, reset every 3rd; the 6th is both, the
     * first entry wins and both counters go on counting. "*" is every
     * other function's list, counted per function. */
    fg_faults *f = state_of("{\"functions\": {\"censor\": [{\"kind\": \"error_500\", "
                            "\"every\": 2}, {\"kind\": \"reset\", \"every\": 3}], "
                            "\"*\": [{\"kind\": \"hang\", \"every\": 2}]}}", "n0");
    char got[16];
    kinds(f, FG_FN_CENSOR, 12, got);
    assert_string_equal(got, ".ere.e.ere.e");
    kinds(f, FG_FN_ADULT, 4, got);
    assert_string_equal(got, ".h.h");
    kinds(f, FG_FN_MOSAIC, 2, got);
    assert_string_equal(got, ".h");
    cJSON *j = fg_faults_json(f, -1);
    char *text = cJSON_PrintUnformatted(j);
    printf("%s\n", text);
    free(text);
    const cJSON *inj = cJSON_GetObjectItem(j, "injected");
    const cJSON *censor = cJSON_GetObjectItem(inj, "recognizer__censor");
    assert_int_equal(cJSON_GetObjectItem(censor, "error_500")->valueint, 6);
    assert_int_equal(cJSON_GetObjectItem(censor, "reset")->valueint, 2);
    assert_int_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(inj, "recognizer__adult"),
                                         "hang")->valueint, 2);
    assert_int_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "invocations"),
                                         "recognizer__censor")->valueint, 12);
    assert_int_equal(cJSON_GetObjectItem(j, "injected_total")->valueint, 11);
    cJSON_Delete(j);

    /* Container mode reports its one function. */
    j = fg_faults_json(f, FG_FN_ADULT);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(j, "invocations")), 1);
    cJSON_Delete(j);

    /* Setting a block starts the counters and counts again. */
    fg_fault_spec s;
    spec_of("{\"functions\": {\"censor\": [{\"kind\": \"error_500\", \"every\": 2}]}}", &s);
    fg_faults_set(f, &s, "n0");
    kinds(f, FG_FN_CENSOR, 4, got);
    assert_string_equal(got, ".e.e");
}

static void test_rates_are_seeded(void **state)
{
    (void)state;
    const char *block = "{\"seed\": 42, \"functions\": {\"*\": [{\"kind\": \"reset\", "
                        "\"rate\": 0.25}, {\"kind\": \"drip\", \"rate\": 0.5}]}}";
    char a[65], b[65], c[65], d[65];
    kinds(state_of(block, "n0"), FG_FN_CENSOR, 64, a);
    kinds(state_of(block, "n0"), FG_FN_CENSOR, 64, b);
    kinds(state_of(block, "n1"), FG_FN_CENSOR, 64, c);
    kinds(state_of("{\"seed\": 43, \"functions\": {\"*\": [{\"kind\": \"reset\", "
                   "\"rate\": 0.25}, {\"kind\": \"drip\", \"rate\": 0.5}]}}", "n0"),
          FG_FN_CENSOR, 64, d);
    printf("seed 42 n0: %s\nseed 42 n1: %s\nseed 43 n0: %s\n", a, c, d);
    assert_string_equal(a, b);          /* same seed, same node: same faults */
    assert_string_not_equal(a, c);      /* the node's name is in the seed */
    assert_string_not_equal(a, d);
    int r = 0, dr = 0;
    for (int i = 0; i < 64; i++) {
        r += a[i] == 'r';
        dr += a[i] == 'd';
    }
    /* Roughly the rates (0.25, then half of the rest): loose bounds on a
     * fixed sequence, so they cannot flake, only catch a broken draw. */
    assert_true(r >= 6 && r <= 28);
    assert_true(dr >= 10 && dr <= 40);

    fg_faults *f = state_of("{\"functions\": {\"censor\": [{\"kind\": \"reset\", \"rate\": 0},"
                            " {\"kind\": \"wrong_type\", \"rate\": 1}]}}", "n0");
    kinds(f, FG_FN_CENSOR, 8, a);
    assert_string_equal(a, "wwwwwwww");
    kinds(f, FG_FN_TRANSLATE, 3, a);    /* no list for it: nothing */
    assert_string_equal(a, "...");
}

static void test_down(void **state)
{
    (void)state;
    fg_faults *f = state_of("{\"down_s\": 100}", "n0");
    assert_true(fg_faults_refuse_down(f, FG_FN_CENSOR));
    assert_true(fg_faults_refuse_down(f, -1));
    cJSON *j = fg_faults_json(f, -1);
    assert_int_equal(cJSON_GetObjectItem(j, "refused_down")->valueint, 2);
    assert_true(cJSON_GetObjectItem(j, "down_left_s")->valuedouble > 90);
    assert_int_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "injected"),
                                                             "recognizer__censor"),
                                         "down")->valueint, 1);
    cJSON_Delete(j);
    fg_err err;
    assert_int_equal(fg_faults_set_json(f, "null", 4, "n0", &err), 0);
    assert_false(fg_faults_refuse_down(f, FG_FN_CENSOR));
    assert_int_equal(fg_faults_set_json(f, "{\"down_s\": \"x\"}", 15, "n0", &err), -1);
    assert_non_null(strstr(err.msg, "faults: \"down_s\" must be a number"));
    assert_int_equal(fg_faults_set_json(f, "{", 1, "n0", &err), -1);
    assert_string_equal(err.msg, "faults: the body is not JSON");

    /* A wait ends at once when the server stops, and stays ended. */
    fg_faults_stop(f);
    double t0 = fg_now_mono_ms();
    assert_int_equal(fg_faults_wait(f, -1, 60000), 1);
    assert_int_equal(fg_faults_wait(f, -1, 60000), 1);
    assert_true(fg_now_mono_ms() - t0 < 30000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_profile_levels),
        cmocka_unit_test(test_defaults_and_round_trip),
        cmocka_unit_test(test_bad_blocks),
        cmocka_unit_test(test_every_and_first_wins),
        cmocka_unit_test(test_rates_are_seeded),
        cmocka_unit_test(test_down),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
