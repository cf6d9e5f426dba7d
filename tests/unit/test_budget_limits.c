/* test_budget_limits.c — a node's memory budget (src/server/budget.h) without a
 * server: the bounds a profile gives (derived from memory_mb, or the top
 * level's keys, or the node's own, which win), their one-line errors, the
 * accounting of bodies and connections, and fitting the connection caps in
 * the process's open files (run last: it lowers this process's hard
 * limit). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>
#include <sys/resource.h>

#include "server/budget.h"
#include "server/node.h"

#define MiB 1048576.0

static const fg_site_profile *parse(const char *json)
{
    static fg_site_profile p;
    fg_err err;
    if (fg_site_profile_parse(json, strlen(json), &p, &err) != 0) fail_msg("%s", err.msg);
    return &p;
}

static void expect_error(const char *json, const char *message)
{
    static fg_site_profile p;
    fg_err err;
    assert_int_equal(fg_site_profile_parse(json, strlen(json), &p, &err), -1);
    if (!strstr(err.msg, message)) fprintf(stderr, "got \"%s\"\n", err.msg);
    assert_non_null(strstr(err.msg, message));
}

static void test_derived_from_memory(void **state)
{
    (void)state;
    const fg_site_profile *p = parse(
        "{\"nodes\": [{\"name\": \"a\", \"workers\": 1},"
        " {\"name\": \"b\", \"workers\": 1, \"memory_mb\": 768},"
        " {\"name\": \"c\", \"workers\": 1, \"memory_mb\": 100}]}");
    const fg_budget_profile *a = &p->nodes[0].limits, *b = &p->nodes[1].limits,
                            *c = &p->nodes[2].limits;
    /* No memory_mb: 2048. A quarter for bodies, 2 connections a MB, 60 s. */
    assert_true(a->memory_mb == FG_BUDGET_DEFAULT_MEMORY_MB);
    assert_true(a->body_budget_bytes == 512 * MiB);
    assert_int_equal(a->max_connections, 4096);
    assert_false(a->max_connections_given);
    assert_int_equal(a->idle_timeout_s, 60);
    assert_true(b->body_budget_bytes == 192 * MiB);
    assert_int_equal(b->max_connections, 1536);
    /* Never under max_body_mb (64 by default): one body at the limit fits. */
    assert_true(c->body_budget_bytes == 64 * MiB);
    assert_int_equal(c->max_connections, 200);
    assert_int_equal(fg_budget_accept_limit(c), 200 + 50 + 16);

    /* The default profile: every node takes a few bodies at the limit. */
    char path[4096];
    snprintf(path, sizeof path, "%s/nodes.json", fg_data_dir());
    fg_site_profile d;
    fg_err err;
    if (fg_site_profile_load(path, &d, &err) != 0) fail_msg("%s", err.msg);
    for (int i = 0; i < d.n_nodes; i++) {
        printf("%s: memory_mb %g, body budget %.0f MiB, max_connections %d\n", d.nodes[i].name,
               d.nodes[i].limits.memory_mb, d.nodes[i].limits.body_budget_bytes / MiB,
               d.nodes[i].limits.max_connections);
        assert_true(d.nodes[i].limits.body_budget_bytes >= 3 * d.max_body_bytes);
    }
}

static void test_explicit_keys(void **state)
{
    (void)state;
    /* The top level's keys are every node's default; a node's own win. */
    const fg_site_profile *p = parse(
        "{\"max_body_mb\": 8, \"body_budget_mb\": 100, \"max_connections\": 50, "
        "\"idle_timeout_s\": 5, \"nodes\": ["
        "{\"name\": \"a\", \"workers\": 1, \"memory_mb\": 4096},"
        "{\"name\": \"b\", \"workers\": 1, \"body_budget_mb\": 8, \"max_connections\": 7, "
        "\"idle_timeout_s\": 1}]}");
    const fg_budget_profile *a = &p->nodes[0].limits, *b = &p->nodes[1].limits;
    assert_true(a->body_budget_bytes == 100 * MiB);
    assert_int_equal(a->max_connections, 50);
    assert_true(a->max_connections_given);
    assert_int_equal(a->idle_timeout_s, 5);
    assert_true(b->body_budget_bytes == 8 * MiB);
    assert_int_equal(b->max_connections, 7);
    assert_int_equal(b->idle_timeout_s, 1);
}

static void test_errors(void **state)
{
    (void)state;
#define NODE(k) "{\"nodes\": [{\"name\": \"a\", \"workers\": 1, " k "}]}"
    expect_error(NODE("\"memory_mb\": 32"),
                 "nodes file: nodes[0]: \"memory_mb\" must be a number in [64, 4194304]");
    expect_error(NODE("\"memory_mb\": \"1G\""), "\"memory_mb\" must be a number");
    expect_error(NODE("\"body_budget_mb\": 0"), "nodes[0]: \"body_budget_mb\" must be a number");
    expect_error(NODE("\"body_budget_mb\": 32"),
                 "nodes[0]: \"body_budget_mb\" 32 is under max_body_mb 64: a body at the limit "
                 "could never be taken");
    expect_error(NODE("\"max_connections\": 0"),
                 "nodes[0]: \"max_connections\" must be an integer in [1, 1000000]");
    expect_error(NODE("\"max_connections\": 2.5"), "\"max_connections\" must be an integer");
    expect_error(NODE("\"idle_timeout_s\": 0"),
                 "nodes[0]: \"idle_timeout_s\" must be an integer in [1, 86400]");
#undef NODE
    expect_error("{\"body_budget_mb\": 16, \"nodes\": [{\"name\": \"a\", \"workers\": 1}]}",
                 "\"body_budget_mb\" 16 is under max_body_mb 64");
    expect_error("{\"max_connections\": -1, \"nodes\": [{\"name\": \"a\", \"workers\": 1}]}",
                 "nodes file: \"max_connections\" must be an integer");
}

static void test_accounting(void **state)
{
    (void)state;
    fg_budget_profile p = {.body_budget_bytes = 100, .max_connections = 2};
    fg_budget b;
    fg_budget_init(&b, &p);
    size_t held;
    assert_int_equal(fg_budget_take(&b, 60, &held), 0);
    assert_int_equal(held, 60);
    assert_int_equal(fg_budget_take(&b, 41, &held), -1);   /* refused: nothing taken */
    assert_int_equal(held, 60);
    assert_int_equal(fg_budget_take(&b, 40, NULL), 0);      /* exactly full */
    assert_int_equal(fg_budget_take(&b, 1, NULL), -1);
    fg_budget_give(&b, 60);
    assert_int_equal(fg_budget_take(&b, 60, NULL), 0);
    fg_budget_give(&b, 100);
    fg_budget_give(&b, 0);

    int open;
    assert_int_equal(fg_budget_connect(&b, &open), 1);
    assert_int_equal(fg_budget_connect(&b, &open), 1);
    assert_int_equal(fg_budget_connect(&b, &open), 0);       /* the third is over */
    assert_int_equal(open, 3);
    fg_budget_count_refused_connection(&b);
    fg_budget_disconnect(&b);
    fg_budget_disconnect(&b);
    assert_int_equal(fg_budget_connect(&b, &open), 1);

    cJSON *o = cJSON_CreateObject();
    fg_budget_describe(o, &b);
    char *text = cJSON_PrintUnformatted(o);
    printf("%s\n", text);
    assert_string_equal(text, "{\"body_budget_bytes\":100,\"body_bytes_held\":0,"
                              "\"body_bytes_peak\":100,\"bodies_refused\":2,"
                              "\"max_connections\":2,\"connections\":2,\"connections_peak\":3,"
                              "\"connections_refused\":1}");
    cJSON_free(text);
    cJSON_Delete(o);
    fg_budget_destroy(&b);
}

static void test_fit_open_files(void **state)
{
    (void)state;
    /* A process that may open 2048 files: a given cap keeps its value or
     * is refused; the derived ones share what is left. */
    struct rlimit rl = {2048, 2048};
    if (setrlimit(RLIMIT_NOFILE, &rl) != 0) skip();
    fg_budget_profile given = {.max_connections = 1000, .max_connections_given = 1};
    fg_budget_profile a = {.max_connections = 4096}, b = {.max_connections = 100};
    fg_budget_profile *nodes[] = {&given, &a, &b};
    const char *names[] = {"given", "a", "b"};
    fg_err err;
    assert_int_equal(fg_budget_fit_fds(nodes, names, 3, &err), 0);
    printf("fitted: given %d, a %d, b %d\n", given.max_connections, a.max_connections,
           b.max_connections);
    assert_int_equal(given.max_connections, 1000);
    assert_int_equal(b.max_connections, 100);                 /* it fits: untouched */
    assert_true(a.max_connections >= 1 && a.max_connections < 4096);
    double used = fg_budget_accept_limit(&given) + fg_budget_accept_limit(&a);
    assert_true(used <= 2048);

    fg_budget_profile big = {.max_connections = 5000, .max_connections_given = 1};
    fg_budget_profile *one[] = {&big};
    const char *one_name[] = {"big"};
    assert_int_equal(fg_budget_fit_fds(one, one_name, 1, &err), -1);
    printf("%s\n", err.msg);
    assert_non_null(strstr(err.msg, "big: max_connections 5000"));
    assert_non_null(strstr(err.msg, "need 6330 file descriptors, this process may open 2048 "
                                    "(ulimit -n)"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_derived_from_memory),
        cmocka_unit_test(test_explicit_keys),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_accounting),
        cmocka_unit_test(test_fit_open_files),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
