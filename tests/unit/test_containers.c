/* test_containers.c — the container plan without a Docker engine: CPU caps
 * are the profile's "cores" shares of the machine, memory caps its
 * "memory_mb"; each node's docker run vector serves that node alone with a
 * --peer for every other node; the endpoints file names the cluster and
 * reads back; bad profiles, ids and "containers" keys fail with one line.
 * The container check runs against a stand-in `docker` on PATH that
 * answers ps/inspect from files: an engine that does not answer, a missing
 * container, an exited one, an unhealthy one and one from another image
 * each give their own line. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "flowgate/containers.h"

static char profile[64];

static void write_profile(const char *json)
{
    snprintf(profile, sizeof profile, "containers-profile.%d.json", (int)getpid());
    assert_int_equal(fg_write_file_atomic(profile, json, strlen(json), NULL), 0);
}

static const char *reference =
    "{\"nodes\":[{\"name\":\"node0\",\"workers\":3,\"cores\":11.75,\"memory_mb\":1536},"
    "{\"name\":\"node1\",\"workers\":2,\"cores\":8,\"memory_mb\":1024},"
    "{\"name\":\"node2\",\"workers\":1,\"cores\":4.125,\"memory_mb\":768},"
    "{\"name\":\"node3\",\"workers\":4,\"cores\":17.25,\"memory_mb\":2048,\"latency_ms\":0.1}]}";

static void test_plan_caps(void **state)
{
    (void)state;
    write_profile(reference);
    fg_containers_opts o = {.nodes_file = profile, .id = "t1", .cpus_total = 4,
                            .base_port = 20000};
    fg_containers_plan p;
    fg_err err;
    assert_int_equal(fg_containers_plan_make(&o, &p, &err), 0);
    assert_int_equal(p.n, 4);
    /* 11.75 / 41.125 of 4 cores = 1.1428... -> 1.14 */
    assert_float_equal(p.c[0].cpus, 1.14, 1e-9);
    assert_float_equal(p.c[1].cpus, 0.78, 1e-9);
    assert_float_equal(p.c[2].cpus, 0.40, 1e-9);
    assert_float_equal(p.c[3].cpus, 1.68, 1e-9);
    assert_int_equal(p.c[2].memory_mb, 768);
    assert_int_equal(p.c[3].port, 20003);
    assert_string_equal(p.c[1].name, "flowgate-t1-node1");
    assert_string_equal(p.image, FG_CONTAINERS_DEFAULT_IMAGE);
    assert_true(p.nodes_file[0] == '/');

    /* Without "cores" the workers are the shares; memory has a default. */
    write_profile("{\"nodes\":[{\"name\":\"a\",\"workers\":1},{\"name\":\"b\",\"workers\":3}]}");
    assert_int_equal(fg_containers_plan_make(&o, &p, &err), 0);
    assert_float_equal(p.c[0].cpus, 1.0, 1e-9);
    assert_float_equal(p.c[1].cpus, 3.0, 1e-9);
    assert_int_equal(p.c[0].memory_mb, 256 + 192 + 512);
    unlink(profile);
}

static int has_pair(char **argv, const char *flag, const char *value)
{
    for (int i = 0; argv[i] && argv[i + 1]; i++)
        if (!strcmp(argv[i], flag) && !strcmp(argv[i + 1], value)) return 1;
    return 0;
}

static void test_run_argv(void **state)
{
    (void)state;
    write_profile(reference);
    fg_containers_opts o = {.nodes_file = profile, .id = "t2", .cpus_total = 2,
                            .image = "flowgate-functions:abc"};
    fg_containers_plan p;
    assert_int_equal(fg_containers_plan_make(&o, &p, NULL), 0);
    char store[8192], *argv[128];
    int n = fg_containers_run_argv(&p, 1, store, sizeof store, argv, 128);
    assert_true(n > 10);
    assert_null(argv[n]);
    assert_string_equal(argv[0], "docker");
    assert_true(has_pair(argv, "--network", "host"));
    assert_true(has_pair(argv, "--label", "flowgate.cluster=t2"));
    assert_true(has_pair(argv, "--label", "flowgate.node=node1"));
    assert_true(has_pair(argv, "--cpus", "0.39"));
    assert_true(has_pair(argv, "--memory", "1024m"));
    assert_true(has_pair(argv, "--node", "node1"));
    assert_true(has_pair(argv, "--port", "18101"));
    assert_true(has_pair(argv, "--peer", "node0=http://127.0.0.1:18100"));
    assert_true(has_pair(argv, "--peer", "node3=http://127.0.0.1:18103"));
    assert_false(has_pair(argv, "--peer", "node1=http://127.0.0.1:18101"));
    /* A store too small is refused, not overrun. */
    assert_int_equal(fg_containers_run_argv(&p, 1, store, 64, argv, 128), -1);
    unlink(profile);
}

static void test_endpoints_round_trip(void **state)
{
    (void)state;
    write_profile(reference);
    fg_containers_opts o = {.nodes_file = profile, .id = "t3", .image = "img:1"};
    fg_containers_plan p;
    assert_int_equal(fg_containers_plan_make(&o, &p, NULL), 0);
    cJSON *e = fg_containers_endpoints_json(&p);
    char *text = cJSON_Print(e);
    cJSON_Delete(e);
    char path[64];
    snprintf(path, sizeof path, "containers-endpoints.%d.json", (int)getpid());
    assert_int_equal(fg_write_file_atomic(path, text, strlen(text), NULL), 0);
    free(text);
    fg_cluster c;
    fg_err err;
    assert_int_equal(fg_cluster_load_endpoints(path, &c, &err), 0);
    assert_int_equal(c.n_nodes, 4);
    assert_string_equal(c.containers_cluster, "t3");
    assert_string_equal(c.containers_image, "img:1");
    assert_string_equal(c.nodes[3].url, "http://127.0.0.1:18103");
    assert_int_equal(c.nodes[0].workers, 3);

    const char *bad = "{\"mode\":\"nodes\",\"containers\":{\"cluster\":\"x\",\"image\":\"i\","
                      "\"color\":1},\"nodes\":[{\"name\":\"a\",\"url\":\"http://127.0.0.1:1\"}]}";
    assert_int_equal(fg_write_file_atomic(path, bad, strlen(bad), NULL), 0);
    assert_int_equal(fg_cluster_load_endpoints(path, &c, &err), -1);
    assert_non_null(strstr(err.msg, "containers: unknown key 'color'"));
    bad = "{\"mode\":\"nodes\",\"containers\":\"x\",\"nodes\":[{\"name\":\"a\",\"url\":\"http://127.0.0.1:1\"}]}";
    assert_int_equal(fg_write_file_atomic(path, bad, strlen(bad), NULL), 0);
    assert_int_equal(fg_cluster_load_endpoints(path, &c, &err), -1);
    assert_non_null(strstr(err.msg, "containers: expected {\"cluster\": ID, \"image\": IMAGE}"));
    unlink(path);
    unlink(profile);
}

static void expect_plan_error(const char *json, const char *id, const char *image,
                              const char *message)
{
    if (json) write_profile(json);
    fg_containers_opts o = {.nodes_file = profile, .id = id, .image = image};
    fg_containers_plan p;
    fg_err err = {{0}};
    assert_int_equal(fg_containers_plan_make(&o, &p, &err), -1);
    if (!strstr(err.msg, message)) fail_msg("'%s' does not say '%s'", err.msg, message);
    assert_null(strchr(err.msg, '\n'));
}

static void test_bad_input(void **state)
{
    (void)state;
    expect_plan_error(reference, "a b", NULL, "cluster id 'a b'");
    expect_plan_error(NULL, "-x", NULL, "cluster id '-x'");
    expect_plan_error(NULL, NULL, "img; rm -rf /", "not an image reference");
    expect_plan_error("{\"nodes\":[]}", NULL, NULL, "expected 1..16 nodes");
    expect_plan_error("{\"nodes\":[{\"name\":\"a/b\",\"workers\":1}]}", NULL, NULL,
                      "nodes[0].name");
    expect_plan_error("{\"nodes\":[{\"name\":\"a\",\"workers\":1,\"memory_mb\":1}]}", NULL, NULL,
                      "nodes[0] (a): workers 1..256, memory_mb 64..");
    expect_plan_error("{\"nodes\":[{\"name\":\"a\",\"workers\":1,\"cores\":-2}]}", NULL, NULL,
                      "cores > 0");
    expect_plan_error("not json", NULL, NULL, profile);
    unlink(profile);
    fg_containers_opts o = {.nodes_file = "/nonexistent/nodes.json"};
    fg_containers_plan p;
    fg_err err;
    assert_int_equal(fg_containers_plan_make(&o, &p, &err), -1);
    assert_non_null(strstr(err.msg, "nodes file '/nonexistent/nodes.json'"));
}

/* A stand-in docker: `ps` prints $FAKE/ps (exit $FAKE/rc), `inspect`
 * prints $FAKE/inspect. */
static char fake_dir[128];

static void put(const char *name, const char *text)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", fake_dir, name);
    assert_int_equal(fg_write_file_atomic(path, text, strlen(text), NULL), 0);
}

static void fake_docker_install(void)
{
    char *abs = realpath(".", NULL);
    snprintf(fake_dir, sizeof fake_dir, "%s/fake-docker.%d", abs, (int)getpid());
    free(abs);
    mkdir(fake_dir, 0755);
    char script[600];
    snprintf(script, sizeof script,
             "#!/bin/sh\nd=%s\ncase \"$1\" in\n"
             "ps) cat $d/ps; exit $(cat $d/rc) ;;\ninspect) cat $d/inspect ;;\n"
             "*) echo \"unexpected $1\"; exit 3 ;;\nesac\n", fake_dir);
    put("docker", script);
    char path[256];
    snprintf(path, sizeof path, "%s/docker", fake_dir);
    chmod(path, 0755);
    const char *old = getenv("PATH");
    char new_path[4096];
    snprintf(new_path, sizeof new_path, "%s:%s", fake_dir, old ? old : "/usr/bin:/bin");
    setenv("PATH", new_path, 1);
}

static const char *container_json(const char *node, const char *state, const char *health,
                                  const char *image, char *out, size_t size)
{
    snprintf(out, size,
             "{\"Id\":\"id-%s\",\"Name\":\"/flowgate-c-%s\",\"State\":{\"Status\":\"%s\","
             "\"Health\":{\"Status\":\"%s\"}},\"Config\":{\"Image\":\"%s\",\"Labels\":"
             "{\"flowgate.cluster\":\"c\",\"flowgate.node\":\"%s\"}}}",
             node, node, state, health, image, node);
    return out;
}

/* Runs the check; returns its count and its output in out. */
static int check(fg_cluster *cl, char *out, size_t size)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    int problems = fg_containers_check("c", "img:1", cl, 0, f);
    fclose(f);
    snprintf(out, size, "%s", text ? text : "");
    free(text);
    return problems;
}

static void test_check_lines(void **state)
{
    (void)state;
    fake_docker_install();
    fg_cluster cl;
    memset(&cl, 0, sizeof cl);
    cl.n_nodes = 4;
    for (int i = 0; i < 4; i++) snprintf(cl.nodes[i].name, sizeof cl.nodes[i].name, "n%d", i);
    char out[2048], a[400], b[400], c[400], inspect[1400];

    put("ps", "Cannot connect to the Docker daemon at unix:///x.sock\n");
    put("rc", "1\n");
    assert_int_equal(check(&cl, out, sizeof out), -1);
    assert_non_null(strstr(out, "containers: cluster c: Docker engine not reachable: "
                                "Cannot connect to the Docker daemon"));

    put("ps", "id-n0\nid-n1\nid-n2\n");
    put("rc", "0\n");
    snprintf(inspect, sizeof inspect, "[%s,%s,%s]",
             container_json("n0", "exited", "unhealthy", "img:1", a, sizeof a),
             container_json("n1", "running", "starting", "img:1", b, sizeof b),
             container_json("n2", "running", "healthy", "img:0", c, sizeof c));
    put("inspect", inspect);
    assert_int_equal(check(&cl, out, sizeof out), 4);
    assert_non_null(strstr(out, "containers: node n0: container flowgate-c-n0 is exited, not running\n"));
    assert_non_null(strstr(out, "containers: node n1: container flowgate-c-n1 is starting, not healthy\n"));
    assert_non_null(strstr(out, "containers: node n2: container flowgate-c-n2 runs image img:0, expected img:1\n"));
    assert_non_null(strstr(out, "containers: node n3: no container labelled flowgate.cluster=c, flowgate.node=n3\n"));

    cl.n_nodes = 1;
    snprintf(inspect, sizeof inspect, "[%s]",
             container_json("n0", "running", "healthy", "img:1", a, sizeof a));
    put("inspect", inspect);
    put("ps", "id-n0\n");
    assert_int_equal(check(&cl, out, sizeof out), 0);
    assert_string_equal(out, "");

    const char *files[] = {"docker", "ps", "rc", "inspect"};
    for (size_t i = 0; i < 4; i++) {
        char path[256];
        snprintf(path, sizeof path, "%s/%s", fake_dir, files[i]);
        unlink(path);
    }
    rmdir(fake_dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plan_caps),
        cmocka_unit_test(test_run_argv),
        cmocka_unit_test(test_endpoints_round_trip),
        cmocka_unit_test(test_bad_input),
        cmocka_unit_test(test_check_lines),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
