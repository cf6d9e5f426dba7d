/* test_cluster_embedded.c — flowgate starting its own function server:
 * every node of data/nodes.json comes up healthy (and, being one process,
 * the nodes share blobs), the child's CPU and memory can be sampled,
 * stopping it leaves no process and no directory behind, and a bad server
 * binary fails with a message naming it. And nodes-mode endpoints at two
 * separately started servers: detected as unable to fetch each other's
 * blobs, so a run falls back to inline data with one warning line and
 * succeeds instead of failing every request with "input_ref: unknown
 * node". */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "flowgate/cluster.h"
#include "flowgate/config.h"
#include "flowgate/engine.h"
#include "flowgate/runner.h"
#include "flowgate/results.h"
#include "http_client.h"
#include "flowgate/embedded.h"
#include "flowgate/blobshare.h"
#include "flowgate/probe.h"

static char server_bin[1024];
static char nodes_file[1024];
/* What the blob probe calls: from the shipped recognizer workflow. */
static fg_workflow recognizer;
static fg_blob_probe probe;

static int setup(void **state)
{
    (void)state;
    const char *bin = getenv("FLOWGATE_BIN");
    snprintf(server_bin, sizeof server_bin, "%s/flowgate-functions", bin && *bin ? bin : ".");
    snprintf(nodes_file, sizeof nodes_file, "%s/nodes.json", fg_data_dir());
    char path[1024];
    snprintf(path, sizeof path, "%s/workflows/recognizer.json", fg_data_dir());
    fg_err err = {{0}};
    if (fg_workflow_load(path, &recognizer, &err) != 0) {
        fprintf(stderr, "%s\n", err.msg);
        return -1;
    }
    return fg_blob_probe_from_workflow(&recognizer, &probe);
}

static int teardown(void **state)
{
    (void)state;
    fg_workflow_free(&recognizer);
    return 0;
}

static void test_start_health_sample_stop(void **state)
{
    (void)state;
    fg_cluster c;
    fg_err err = {{0}};
    if (fg_cluster_start_embedded(nodes_file, server_bin, 20.0, &c, &err) != 0) fail_msg("%s", err.msg);
    pid_t pid = c.server_pid;
    assert_true(pid > 0);
    char dir[sizeof c.server_dir];
    snprintf(dir, sizeof dir, "%s", c.server_dir);
    struct stat st;
    assert_int_equal(stat(dir, &st), 0);

    assert_int_equal(c.mode, FG_CLUSTER_NODES);
    assert_int_equal(c.n_nodes, 4);
    static const int workers[4] = {3, 2, 1, 4};
    for (int i = 0; i < 4; i++) {
        char name[16];
        snprintf(name, sizeof name, "node%d", i);
        assert_string_equal(c.nodes[i].name, name);
        assert_int_equal(c.nodes[i].workers, workers[i]);
        assert_true(fg_cluster_url_is_loopback(c.nodes[i].url));
    }
    if (fg_cluster_health(&c, 5.0, &err) != 0) fail_msg("%s", err.msg);
    /* One process: every node fetches every other node's blobs. */
    char why[700];
    int shared = fg_cluster_blobs_shared(&c, &probe, 10.0, why, sizeof why);
    if (shared != 1) fail_msg("one process, blobs shared: got %d: %s", shared, why);
    shared = fg_cluster_blobs_probe(&c, &probe, 10.0, why, sizeof why);
    if (shared != 1) fail_msg("one process, probe: got %d: %s", shared, why);

    fg_proc_sample s;
    assert_int_equal(fg_cluster_proc_sample(&c, &s), 0);
    assert_true(s.cpu_s >= 0);
    assert_true(s.rss_kb > 0);
    assert_true(s.peak_rss_kb >= s.rss_kb);
    assert_int_equal(fg_cluster_reset_peak_rss(&c), 0);

    fg_cluster_stop(&c);
    assert_int_equal(c.server_pid, 0);
    errno = 0;
    assert_int_equal(kill(pid, 0), -1);
    assert_int_equal(errno, ESRCH);
    assert_int_equal(stat(dir, &st), -1);
    assert_int_equal(fg_cluster_proc_sample(&c, &s), -1);
    fg_cluster_stop(&c);   /* twice is harmless */
}

static void test_default_binary_next_to_executable(void **state)
{
    (void)state;
    /* The test runs from the build directory, where flowgate-functions is. */
    fg_cluster c;
    fg_err err = {{0}};
    if (fg_cluster_start_embedded(nodes_file, NULL, 20.0, &c, &err) != 0) fail_msg("%s", err.msg);
    pid_t pid = c.server_pid;
    fg_cluster_stop(&c);
    assert_int_equal(kill(pid, 0), -1);
}

/* A driver killed without fg_cluster_stop must not leave its server behind. */
static void test_server_dies_with_driver(void **state)
{
    (void)state;
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    pid_t driver = fork();
    assert_true(driver >= 0);
    if (driver == 0) {
        fg_cluster c;
        fg_err err;
        pid_t server = -1;
        if (fg_cluster_start_embedded(nodes_file, server_bin, 20.0, &c, &err) == 0)
            server = c.server_pid;
        (void)!write(fds[1], &server, sizeof server);
        pause();   /* killed below, never stops its cluster */
        _exit(0);
    }
    close(fds[1]);
    pid_t server = -1;
    assert_int_equal(read(fds[0], &server, sizeof server), (ssize_t)sizeof server);
    close(fds[0]);
    assert_true(server > 0);
    assert_int_equal(kill(server, 0), 0);
    kill(driver, SIGKILL);
    waitpid(driver, NULL, 0);
    /* The server is the driver's child, re-parented on its death; it exits on
     * the SIGTERM the kernel sends. Poll: stopping takes a moment. */
    int gone = 0;
    for (int i = 0; i < 100 && !gone; i++) {
        gone = kill(server, 0) != 0 && errno == ESRCH;
        if (!gone) usleep(50000);
    }
    assert_true(gone);
}

static void test_bogus_server_binary(void **state)
{
    (void)state;
    fg_cluster c;
    fg_err err = {{0}};
    assert_int_equal(fg_cluster_start_embedded(nodes_file, "/nonexistent/flowgate-functions", 5.0, &c, &err), -1);
    assert_non_null(strstr(err.msg, "/nonexistent/flowgate-functions"));
    assert_non_null(strstr(err.msg, "No such file"));
    assert_int_equal(c.server_pid, 0);

    /* a binary that exits at once: the error says so, quickly */
    double t0 = fg_now_mono_ms();
    assert_int_equal(fg_cluster_start_embedded(nodes_file, "/bin/false", 10.0, &c, &err), -1);
    assert_true(fg_now_mono_ms() - t0 < 5000);
    assert_non_null(strstr(err.msg, "/bin/false"));
    assert_non_null(strstr(err.msg, "exited with status 1"));

    /* a missing nodes file is named before anything starts */
    assert_int_equal(fg_cluster_start_embedded("/nonexistent/nodes.json", server_bin, 5.0, &c, &err), -1);
    assert_non_null(strstr(err.msg, "/nonexistent/nodes.json"));

    /* a nodes file the server refuses: its own last log line reaches the error */
    char bad[] = "/tmp/test_cluster_embedded_XXXXXX";
    int fd = mkstemp(bad);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "{\"nodes\": 7}", 12), 12);
    close(fd);
    assert_int_equal(fg_cluster_start_embedded(bad, server_bin, 10.0, &c, &err), -1);
    unlink(bad);
    assert_non_null(strstr(err.msg, "exited with status"));
    assert_null(strstr(err.msg, "server log empty"));
}

/* Writes text to a new temporary file; path receives its name. */
static void write_temp(const char *text, char *path, size_t size)
{
    snprintf(path, size, "/tmp/test_cluster_embedded_XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
}

static void test_separate_servers_fall_back_to_inline(void **state)
{
    (void)state;
    /* Two single-node servers, both calling their node "node0" (the worst
     * case: a ref's name resolves, but to the wrong process's node). */
    char one[64];
    write_temp("{\"max_body_mb\": 64, \"nodes\": [{\"name\": \"node0\", \"port\": 0, "
               "\"workers\": 2}]}", one, sizeof one);
    fg_cluster a, b;
    fg_err err = {{0}};
    if (fg_cluster_start_embedded(one, server_bin, 20.0, &a, &err) != 0) fail_msg("%s", err.msg);
    if (fg_cluster_start_embedded(one, server_bin, 20.0, &b, &err) != 0) fail_msg("%s", err.msg);
    unlink(one);

    char text[1024], endpoints[64];
    snprintf(text, sizeof text,
             "{\"mode\": \"nodes\", \"nodes\": ["
             "{\"name\": \"left\", \"url\": \"%s\", \"workers\": 2},"
             "{\"name\": \"right\", \"url\": \"%s\", \"workers\": 2}]}",
             a.nodes[0].url, b.nodes[0].url);
    write_temp(text, endpoints, sizeof endpoints);
    fg_cluster both;
    if (fg_cluster_load_endpoints(endpoints, &both, &err) != 0) fail_msg("%s", err.msg);
    char why[700];
    assert_int_equal(fg_cluster_blobs_shared(&both, &probe, 10.0, why, sizeof why), 0);
    assert_non_null(strstr(why, "node right"));
    assert_non_null(strstr(why, "cannot fetch the blobs of node left"));
    assert_int_equal(fg_cluster_blobs_probe(&both, &probe, 10.0, why, sizeof why), 0);
    assert_non_null(strstr(why, "not found on node0"));

    /* A smoke cell through the runner, round robin so that steps cross
     * nodes; stderr captured for the warning. */
    char results[64] = "/tmp/test_cluster_embedded_res_XXXXXX", log_path[128];
    assert_non_null(mkdtemp(results));
    snprintf(log_path, sizeof log_path, "%s/stderr", results);
    fg_run_config cfg;
    fg_config_defaults(&cfg);
    snprintf(cfg.endpoints, sizeof cfg.endpoints, "%s", endpoints);
    snprintf(cfg.results_dir, sizeof cfg.results_dir, "%s", results);
    cfg.requests = 6;
    cfg.warmup = 1;
    fflush(stderr);
    int saved = dup(2);
    int fd = open(log_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    assert_true(saved >= 0 && fd >= 0);
    dup2(fd, 2);
    close(fd);
    fg_runner *r = fg_runner_open(&cfg, &err);
    const cJSON *entry = NULL;
    int rc = r ? fg_runner_cell(r, 0.1, 2, "round_robin", &entry, &err) : -1;
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    if (!r) fail_msg("open: %s", err.msg);
    if (rc != 0) fail_msg("cell: %s", err.msg);

    /* every request succeeded, sent inline, and the entry says so */
    assert_non_null(entry);
    assert_true(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(entry, "inline_data")));
    double sent = -1, ok = -1, failed = -1;
    assert_int_equal(fg_results_metric(entry, "requests.sent", &sent), 0);
    assert_int_equal(fg_results_metric(entry, "requests.ok", &ok), 0);
    assert_int_equal(fg_results_metric(entry, "requests.failed", &failed), 0);
    if (!(sent >= 6 && ok == sent && failed == 0))
        fail_msg("sent %g ok %g failed %g", sent, ok, failed);
    const cJSON *eps = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(fg_runner_results(r), "run"), "endpoints");
    const cJSON *fallback = cJSON_GetObjectItemCaseSensitive(eps, "inline_fallback");
    assert_true(cJSON_IsString(fallback));
    assert_non_null(strstr(fallback->valuestring, "cannot fetch the blobs"));
    assert_int_equal(fg_runner_close(r, &err), 0);

    /* one warning line, saying why and what to do instead */
    fg_buf log;
    assert_int_equal(fg_read_file(log_path, 1 << 20, &log, &err), 0);
    char *logs = strndup(log.data ? (const char *)log.data : "", log.len);
    fg_buf_free(&log);
    int warnings = 0;
    for (char *p = logs; (p = strstr(p, "warn: ")); p++) warnings++;
    if (warnings != 1 || !strstr(logs, "cannot fetch the blobs of node left") ||
        !strstr(logs, "sending the image inline instead") ||
        !strstr(logs, "flowgate-functions --nodes"))
        fail_msg("want one warning with the reason and the remedy, got:\n%s", logs);
    free(logs);

    char cmd[200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", results);
    assert_int_equal(system(cmd), 0);
    unlink(endpoints);
    fg_cluster_stop(&a);
    fg_cluster_stop(&b);
}

/* A server started with another data directory (the A side of the CI gate:
 * the previous commit's data) reads its dictionary from there, not from
 * the driver's $FLOWGATE_DATA: a word only that copy's dictionary knows is
 * translated. */
static void test_data_dir_reaches_server(void **state)
{
    (void)state;
    char dir[64], cmd[1200], dict[128];
    snprintf(dir, sizeof dir, "/tmp/test_data_dir_XXXXXX");
    assert_non_null(mkdtemp(dir));
    snprintf(cmd, sizeof cmd, "cp -r '%s/dict' '%s/censor' '%s/'", fg_data_dir(), fg_data_dir(), dir);
    assert_int_equal(system(cmd), 0);
    snprintf(dict, sizeof dict, "%s/dict/es-en.tsv", dir);
    FILE *f = fopen(dict, "a");
    assert_non_null(f);
    fputs("flowgatexyz\tonlyinthiscopy\n", f);
    fclose(f);
    fg_cluster c;
    fg_err err = {{0}};
    if (fg_cluster_start_embedded_data(nodes_file, server_bin, dir, -1, -1, 20.0, &c, &err) != 0)
        fail_msg("%s", err.msg);
    char url[512];
    assert_int_equal(fg_cluster_invoke_url(&c, 0, "recognizer__translate", url, sizeof url), 0);
    cJSON *req = cJSON_CreateObject();
    cJSON_AddStringToObject(req, "text", "flowgatexyz");
    long status = 0;
    cJSON *res = http_post_json(url, req, &status);
    fg_cluster_stop(&c);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
    assert_int_equal(status, 200);
    const cJSON *out = cJSON_GetObjectItemCaseSensitive(res, "translated_text");
    assert_true(cJSON_IsString(out));
    assert_string_equal(out->valuestring, "onlyinthiscopy");
    cJSON_Delete(res);

    /* A data directory that is not one: one line naming it. */
    assert_int_equal(fg_cluster_start_embedded_data(nodes_file, server_bin, "/nonexistent/data",
                                                    -1, -1, 5.0, &c, &err), -1);
    assert_non_null(strstr(err.msg, "/nonexistent/data"));
}

/* The soft descriptor limit of process pid, from /proc/<pid>/limits; -1. */
static long soft_nofile(pid_t pid)
{
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/limits", (int)pid);
    FILE *f = fopen(path, "r");
    long soft = -1;
    while (f && fgets(line, sizeof line, f))
        if (!strncmp(line, "Max open files", 14)) sscanf(line + 14, "%ld", &soft);
    if (f) fclose(f);
    return soft;
}

/* The server does not inherit a low soft descriptor limit: it starts with
 * its hard one, and the driver's own soft limit is as it was. Checked in a
 * child that lowers its soft limit first (setrlimit). */
static void test_server_gets_its_own_fd_limit(void **state)
{
    (void)state;
    struct rlimit rl;
    assert_int_equal(getrlimit(RLIMIT_NOFILE, &rl), 0);
    if (rl.rlim_max == RLIM_INFINITY || rl.rlim_max <= 64) skip();
    pid_t child = fork();
    assert_true(child >= 0);
    if (child == 0) {
        struct rlimit low = {64, rl.rlim_max};
        if (setrlimit(RLIMIT_NOFILE, &low) != 0) _exit(2);
        fg_cluster c;
        fg_err err = {{0}};
        if (fg_cluster_start_embedded(nodes_file, server_bin, 20.0, &c, &err) != 0) {
            fprintf(stderr, "%s\n", err.msg);
            _exit(3);
        }
        long server = soft_nofile(c.server_pid), own = soft_nofile(getpid());
        fg_cluster_stop(&c);
        if (server != (long)rl.rlim_max || own != 64) {
            fprintf(stderr, "server soft limit %ld (want %ld), own %ld (want 64)\n", server,
                    (long)rl.rlim_max, own);
            _exit(4);
        }
        _exit(0);
    }
    int status = 0;
    assert_int_equal(waitpid(child, &status, 0), child);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_start_health_sample_stop),
        cmocka_unit_test(test_default_binary_next_to_executable),
        cmocka_unit_test(test_server_dies_with_driver),
        cmocka_unit_test(test_bogus_server_binary),
        cmocka_unit_test(test_separate_servers_fall_back_to_inline),
        cmocka_unit_test(test_data_dir_reaches_server),
        cmocka_unit_test(test_server_gets_its_own_fd_limit),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
