/* test_cluster_embedded.c — flowgate starting its own function server:
 * every node of data/nodes.json comes up healthy, the child's CPU and
 * memory can be sampled, stopping it leaves no process and no directory
 * behind, and a bad server binary fails with a message naming it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "flowgate/cluster.h"

static char server_bin[1024];
static char nodes_profile[1024];

static int setup(void **state)
{
    (void)state;
    const char *bin = getenv("FLOWGATE_BIN");
    snprintf(server_bin, sizeof server_bin, "%s/flowgate-functions", bin && *bin ? bin : ".");
    snprintf(nodes_profile, sizeof nodes_profile, "%s/nodes.json", fg_data_dir());
    return 0;
}

static void test_start_health_sample_stop(void **state)
{
    (void)state;
    fg_cluster c;
    fg_err err = {{0}};
    if (fg_cluster_start_embedded(nodes_profile, server_bin, 20.0, &c, &err) != 0) fail_msg("%s", err.msg);
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
    if (fg_cluster_start_embedded(nodes_profile, NULL, 20.0, &c, &err) != 0) fail_msg("%s", err.msg);
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
        if (fg_cluster_start_embedded(nodes_profile, server_bin, 20.0, &c, &err) == 0)
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
    assert_int_equal(fg_cluster_start_embedded(nodes_profile, "/nonexistent/flowgate-functions", 5.0, &c, &err), -1);
    assert_non_null(strstr(err.msg, "/nonexistent/flowgate-functions"));
    assert_non_null(strstr(err.msg, "No such file"));
    assert_int_equal(c.server_pid, 0);

    /* a binary that exits at once: the error says so, quickly */
    double t0 = fg_now_mono_ms();
    assert_int_equal(fg_cluster_start_embedded(nodes_profile, "/bin/false", 10.0, &c, &err), -1);
    assert_true(fg_now_mono_ms() - t0 < 5000);
    assert_non_null(strstr(err.msg, "/bin/false"));
    assert_non_null(strstr(err.msg, "exited with status 1"));

    /* a missing profile is named before anything starts */
    assert_int_equal(fg_cluster_start_embedded("/nonexistent/nodes.json", server_bin, 5.0, &c, &err), -1);
    assert_non_null(strstr(err.msg, "/nonexistent/nodes.json"));

    /* a profile the server refuses: its own last log line reaches the error */
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_start_health_sample_stop),
        cmocka_unit_test(test_default_binary_next_to_executable),
        cmocka_unit_test(test_server_dies_with_driver),
        cmocka_unit_test(test_bogus_server_binary),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
