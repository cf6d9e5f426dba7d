/* test_run_interrupt.c — a run stopped before its first cell is saved.
 * It used to leave a 0-byte results file and a threshold table saying
 * PASS; now the file is valid JSON from the moment the run opens, marked
 * run.interrupted when stopped, `flowgate run` exits 1 without a pass, and
 * the suites' fixture fails.
 *
 * Against the HTTP test server ($FLOWGATE_ENDPOINTS). The engine's stop flag
 * is process-wide and never cleared, so the library cases run in a child
 * process; the CLI case signals a real `flowgate run` with SIGINT. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fixture.h"
#include "flowgate/config.h"
#include "flowgate/engine.h"
#include "flowgate/runner.h"
#include "flowgate/results.h"
#include "flowgate/stop.h"

static char dir[64];

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/test_run_interrupt_XXXXXX");
    if (!mkdtemp(dir)) return -1;
    const char *ep = getenv("FLOWGATE_ENDPOINTS");
    if (!ep || !*ep) {
        fprintf(stderr, "FLOWGATE_ENDPOINTS is not set (ctest sets it to the HTTP test server)\n");
        return -1;
    }
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

/* The finished results file under d ("" when none yet; more than one
 * fails). The run is writing there meanwhile: a name that merely contains
 * ".json" may be the writer's temporary, renamed away under us, so only
 * final names count (fg_results_is_file_name), and an entry that vanishes
 * between readdir and stat is skipped, not an error. */
static void find_results(const char *d, char *out, size_t size)
{
    out[0] = 0;
    DIR *dp = opendir(d);
    if (!dp) return;   /* not created yet */
    int found = 0;
    struct dirent *e;
    while ((e = readdir(dp))) {
        if (!fg_results_is_file_name(e->d_name)) continue;
        char path[512];
        struct stat st;
        snprintf(path, sizeof path, "%s/%s", d, e->d_name);
        if (stat(path, &st) != 0 || !S_ISREG(st.st_mode)) continue;
        snprintf(out, size, "%s", path);
        found++;
    }
    closedir(dp);
    if (found > 1) fail_msg("%d results files in %s, want one", found, d);
}

static int run_interrupted(const cJSON *root)
{
    const cJSON *run = cJSON_GetObjectItemCaseSensitive(root, "run");
    return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(run, "interrupted"));
}

static void test_cli_sigint_before_first_cell(void **state)
{
    (void)state;
    char results[128], out_path[160], bin[1024];
    snprintf(results, sizeof results, "%s/cli", dir);
    snprintf(out_path, sizeof out_path, "%s/cli.out", dir);
    const char *b = getenv("FLOWGATE_BIN");
    snprintf(bin, sizeof bin, "%s/flowgate", b && *b ? b : ".");
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int fd = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd < 0) _exit(99);
        dup2(fd, 1);
        dup2(fd, 2);
        /* 100 000 requests: the first cell cannot finish before the signal. */
        execl(bin, bin, "run", "smoke", "--endpoints", getenv("FLOWGATE_ENDPOINTS"),
              "--results-dir", results, "--requests", "100000", (char *)NULL);
        _exit(98);
    }
    /* The file appears once the endpoints are healthy, before the first cell. */
    char path[512] = "";
    for (int i = 0; i < 600 && !path[0]; i++) {
        find_results(results, path, sizeof path);
        if (!path[0]) usleep(50000);
    }
    if (!path[0]) {
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        fail_msg("no results file in %s after 30 s", results);
    }
    fg_err err = {{0}};
    cJSON *early = fg_results_load(path, &err);   /* valid already, not a placeholder */
    if (!early) {
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        fail_msg("results file at open: %s", err.msg);
    }
    assert_int_equal(cJSON_GetArraySize(fg_results_experiments(early)), 0);
    assert_false(run_interrupted(early));
    cJSON_Delete(early);

    assert_int_equal(kill(pid, SIGINT), 0);
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    fg_buf out;
    assert_int_equal(fg_read_file(out_path, 1 << 20, &out, &err), 0);
    char *text = strndup(out.data ? (const char *)out.data : "", out.len);
    fg_buf_free(&out);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 1)
        fail_msg("want exit 1, got status %d; output:\n%s", status, text);
    if (strstr(text, "all thresholds pass")) fail_msg("an interrupted run passed:\n%s", text);
    if (!strstr(text, "interrupted")) fail_msg("no word of the interruption:\n%s", text);
    free(text);

    cJSON *root = fg_results_load(path, &err);
    if (!root) fail_msg("%s", err.msg);
    assert_true(run_interrupted(root));
    assert_non_null(cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(root, "run"),
                                                     "finished"));
    /* The cell that was cut short, if it got as far as an entry, says so. */
    const cJSON *e;
    cJSON_ArrayForEach(e, fg_results_experiments(root))
        assert_true(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(e, "interrupted")));
    cJSON_Delete(root);
}

/* Runs fn in a child (the stop flag stays set there); fails with its message. */
typedef int (*child_fn)(char *msg, size_t size);

static void expect_child_ok(child_fn fn)
{
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(fds[0]);
        char msg[1024] = "";
        int rc = fn(msg, sizeof msg);
        (void)!write(fds[1], msg, strlen(msg));
        _exit(rc);
    }
    close(fds[1]);
    char msg[1024] = "";
    ssize_t n = read(fds[0], msg, sizeof msg - 1);
    msg[n > 0 ? n : 0] = 0;
    close(fds[0]);
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) fail_msg("child (status %d): %s", status, msg);
}

static int runner_stopped_before_first_cell(char *msg, size_t size)
{
    fg_run_config cfg;
    fg_err err = {{0}};
    fg_config_defaults(&cfg);
    snprintf(cfg.endpoints, sizeof cfg.endpoints, "%s", getenv("FLOWGATE_ENDPOINTS"));
    snprintf(cfg.results_dir, sizeof cfg.results_dir, "%s/runner", dir);
    fg_runner *r = fg_runner_open(&cfg, &err);
    if (!r) return snprintf(msg, size, "open: %s", err.msg), 1;
    char path[1024];
    snprintf(path, sizeof path, "%s", fg_runner_results_path(r));
    cJSON *early = fg_results_load(path, &err);
    if (!early) return snprintf(msg, size, "at open: %s", err.msg), 1;
    int ok = cJSON_GetArraySize(fg_results_experiments(early)) == 0 && !run_interrupted(early);
    cJSON_Delete(early);
    if (!ok) return snprintf(msg, size, "at open: not an empty, uninterrupted run"), 1;

    fg_stop_request();   /* what Ctrl-C does */
    const cJSON *entry = NULL;
    if (fg_runner_cell(r, 0.1, 2, "ours", &entry, &err) != 0)
        return snprintf(msg, size, "cell: %s", err.msg), 1;
    if (entry) return snprintf(msg, size, "a cell ran after the stop"), 1;
    if (!run_interrupted(fg_runner_results(r)))
        return snprintf(msg, size, "fg_runner_results: run.interrupted not set"), 1;
    if (fg_runner_close(r, &err) != 0) return snprintf(msg, size, "close: %s", err.msg), 1;
    cJSON *root = fg_results_load(path, &err);
    if (!root) return snprintf(msg, size, "after close: %s", err.msg), 1;
    ok = cJSON_GetArraySize(fg_results_experiments(root)) == 0 && run_interrupted(root);
    cJSON_Delete(root);
    if (!ok) return snprintf(msg, size, "after close: want experiments [] and interrupted"), 1;
    return 0;
}

static void test_runner_file_valid_when_stopped_before_first_cell(void **state)
{
    (void)state;
    expect_child_ok(runner_stopped_before_first_cell);
}

static int fixture_stopped_before_first_cell(char *msg, size_t size)
{
    char results[128];
    snprintf(results, sizeof results, "%s/fixture", dir);
    setenv("FLOWGATE_RESULTS_DIR", results, 1);
    unsetenv("FLOWGATE_BASELINE");
    unsetenv("FLOWGATE_CONFIG");
    static fixture fx;
    fg_err err = {{0}};
    if (fixture_open(&fx, "smoke", &err) != 0) return snprintf(msg, size, "open: %s", err.msg), 1;
    fg_stop_request();
    static fixture_verdict v;
    int rc = fixture_eval_cell(&fx, 0.1, 2, "ours", &v, &err);
    if (rc != -1 || !strstr(err.msg, "interrupted"))
        return snprintf(msg, size, "cell: want -1 'interrupted', got %d '%s'", rc, err.msg), 1;
    rc = fixture_close(&fx, &err);
    if (rc != -1 || !strstr(err.msg, "interrupted before its first cell finished"))
        return snprintf(msg, size, "close: want -1 'interrupted before its first cell finished', "
                        "got %d '%s'", rc, err.msg), 1;
    if (!fx.interrupted || fx.cells_failed != 1)
        return snprintf(msg, size, "interrupted %d, cells failed %d", fx.interrupted,
                        fx.cells_failed), 1;
    return 0;
}

static void test_fixture_fails_when_stopped_before_first_cell(void **state)
{
    (void)state;
    expect_child_ok(fixture_stopped_before_first_cell);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cli_sigint_before_first_cell),
        cmocka_unit_test(test_runner_file_valid_when_stopped_before_first_cell),
        cmocka_unit_test(test_fixture_fails_when_stopped_before_first_cell),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
