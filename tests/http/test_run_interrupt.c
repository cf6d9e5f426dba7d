/* test_run_interrupt.c — every stop clean. A Ctrl-C (SIGINT) at any moment
 * of `flowgate run` ends with exit 1, exactly one line on stderr naming
 * where it stopped ("flowgate run: interrupted <where>; results: <path>
 * (<cells>)"), and a results file that is valid, finished, marked
 * interrupted (run.interrupted, run.interrupted_during, run.outcome
 * "fail") — with no cells when none had run — and never a pass. One test
 * per phase: before the first request, the health wait, the warm-up, the
 * middle of a cell, between cells, after the last cell, the threshold
 * table; `flowgate plot` leaves no partial chart; `flowgate ab` stopped in
 * its health wait leaves both sides' files; SIGINT ignored at start stays
 * ignored; a second Ctrl-C kills.
 *
 * Every signal is sent when the child is known to be in the phase, never
 * after a sleep: the child is started with SIGINT at its default
 * disposition (a `&` job of a script would ignore it), and the test waits
 * for a state it controls:
 *   - a request arriving at the test's own function server (fake_*: the
 *     health check, the first warm-up or measured request, held
 *     unanswered until the test is done);
 *   - the child blocked opening a FIFO the test put where it reads or
 *     writes a file (its workflow; the threshold table's temporary name),
 *     seen in /proc/<pid>/syscall;
 *   - the child blocked writing its summary line to a stdout pipe the test
 *     filled beforehand (the stop catcher resumes the write once the test
 *     drains it: SA_RESTART);
 *   - gnuplot printing a line from a chart script of the test's.
 *
 * Against the HTTP test server ($FLOWGATE_ENDPOINTS) and the test's own
 * server. The engine's stop flag is process-wide and never cleared, so the
 * library cases run in a child process. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fixture.h"
#include "flowgate/config.h"
#include "flowgate/engine.h"
#include "flowgate/json.h"
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


/* ---- children ------------------------------------------------------------ */

static const char *flowgate_bin(void)
{
    static char bin[1024];
    const char *b = getenv("FLOWGATE_BIN");
    snprintf(bin, sizeof bin, "%s/flowgate", b && *b ? b : ".");
    return bin;
}

static const char *single_workflow(void)
{
    static char path[1024];
    const char *d = getenv("FLOWGATE_DATA");
    snprintf(path, sizeof path, "%s/workflows/single.json", d && *d ? d : "data");
    return path;
}

/* Starts argv (argv[0] is flowgate's path) with stdout on out_fd and stderr
 * on err_fd, SIGINT at its default disposition (ignored with ignore_int),
 * env "NAME=value" set when given. */
static pid_t spawn(char *const argv[], int out_fd, int err_fd, int ignore_int, const char *env)
{
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        signal(SIGINT, ignore_int ? SIG_IGN : SIG_DFL);
        signal(SIGTERM, SIG_DFL);
        if (env) putenv((char *)env);
        if (dup2(out_fd, 1) < 0 || dup2(err_fd, 2) < 0) _exit(99);
        execv(argv[0], argv);
        _exit(98);
    }
    return pid;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {}
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* A generous bound for a state to be reached: only a hang meets it. */
#define STATE_TIMEOUT_S 120

/* The child's exit status; killed and failed when it does not end. */
static int wait_exit(pid_t pid)
{
    int status;
    for (double end = now_s() + STATE_TIMEOUT_S; now_s() < end; sleep_ms(10))
        if (waitpid(pid, &status, WNOHANG) == pid) return status;
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    fail_msg("pid %d did not end within %d s", (int)pid, STATE_TIMEOUT_S);
    return -1;
}

static int open_out(const char *path)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    assert_true(fd >= 0);
    return fd;
}

static char *slurp(const char *path)
{
    fg_buf b;
    fg_err err;
    if (fg_read_file(path, 1 << 22, &b, &err) != 0) return strdup("");
    char *text = strndup(b.data ? (const char *)b.data : "", b.len);
    fg_buf_free(&b);
    return text;
}

/* Everything left to read on fd, to its end (the child exited). */
static char *drain(int fd)
{
    size_t len = 0, cap = 1 << 16;
    char *text = malloc(cap);
    assert_non_null(text);
    for (;;) {
        if (len + 4096 + 1 > cap) {
            cap *= 2;
            char *grown = realloc(text, cap);
            assert_non_null(grown);
            text = grown;
        }
        ssize_t n = read(fd, text + len, 4096);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        len += (size_t)n;
    }
    text[len] = 0;
    return text;
}

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    assert_int_equal(fclose(f), 0);
}

static void make_dir(char *out, size_t size, const char *name)
{
    snprintf(out, size, "%s/%s", dir, name);
    assert_int_equal(mkdir(out, 0755), 0);
}

/* A pipe for the child's stdout, filled to the brim: its first write
 * (the first summary line, after the cell's entry is saved) blocks until
 * the test drains it. The read end is returned; the child gets *child_end. */
/* A pipe whose ends the test's other children do not inherit. */
static void cloexec_pipe(int fds[2])
{
    assert_int_equal(pipe(fds), 0);
    for (int i = 0; i < 2; i++) assert_int_equal(fcntl(fds[i], F_SETFD, FD_CLOEXEC), 0);
}

static int full_pipe(int *child_end)
{
    int fds[2];
    cloexec_pipe(fds);
    int fl = fcntl(fds[1], F_GETFL);
    assert_int_equal(fcntl(fds[1], F_SETFL, fl | O_NONBLOCK), 0);
    /* Newlines only: the test's line reading skips them. Whole pages,
     * then single bytes into the last page's room. */
    char page[4096];
    memset(page, '\n', sizeof page);
    while (write(fds[1], page, sizeof page) > 0) {}
    while (write(fds[1], page, 1) > 0) {}
    assert_int_equal(errno, EAGAIN);
    assert_int_equal(fcntl(fds[1], F_SETFL, fl), 0);
    *child_end = fds[1];
    return fds[0];
}

/* The signals pid catches (SigCgt) or ignores (SigIgn), from /proc. */
static unsigned long long sig_mask(pid_t pid, const char *field)
{
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    unsigned long long mask = 0;
    size_t k = strlen(field);
    while (f && fgets(line, sizeof line, f))
        if (!strncmp(line, field, k) && line[k] == ':') mask = strtoull(line + k + 1, NULL, 16);
    if (f) fclose(f);
    return mask;
}

#define SIG_BIT(sig) (1ULL << ((sig) - 1))

static int ends_with(const char *s, const char *tail)
{
    size_t n = strlen(s), k = strlen(tail);
    return n >= k && !strcmp(s + n - k, tail);
}

/* 1 when pid's main thread is blocked in open/openat of a path ending in
 * tail (a FIFO with no partner yet), read from /proc/<pid>/syscall and the
 * path argument from /proc/<pid>/mem (the parent may read its child's). */
static int blocked_opening(pid_t pid, const char *tail)
{
    char path[64], line[512];
    snprintf(path, sizeof path, "/proc/%d/syscall", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    int got = fgets(line, sizeof line, f) != NULL;
    fclose(f);
    long nr;
    unsigned long long a0, a1;
    if (!got || sscanf(line, "%ld 0x%llx 0x%llx", &nr, &a0, &a1) != 3) return 0;   /* "running" */
    unsigned long long addr;
    if (nr == SYS_openat) addr = a1;
#ifdef SYS_open
    else if (nr == SYS_open) addr = a0;
#endif
    else return 0;
    snprintf(path, sizeof path, "/proc/%d/mem", (int)pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) fail_msg("%s: %s (the test reads its child's memory)", path, strerror(errno));
    char name[4096];
    ssize_t n = pread(fd, name, sizeof name - 1, (off_t)addr);
    close(fd);
    if (n <= 0) return 0;
    name[n] = 0;
    return ends_with(name, tail);
}

static void wait_blocked_opening(pid_t pid, const char *tail)
{
    for (double end = now_s() + STATE_TIMEOUT_S; now_s() < end; sleep_ms(5)) {
        if (blocked_opening(pid, tail)) return;
        int status;
        if (waitpid(pid, &status, WNOHANG) == pid)
            fail_msg("flowgate ended (status %d) before opening %s", status, tail);
    }
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    fail_msg("flowgate never opened %s", tail);
}

/* The results file under d holds at least n experiments. */
static void wait_experiments(pid_t pid, const char *d, int n)
{
    for (double end = now_s() + STATE_TIMEOUT_S; now_s() < end; sleep_ms(10)) {
        char path[512];
        find_results(d, path, sizeof path);
        cJSON *root = path[0] ? fg_results_load(path, NULL) : NULL;
        int have = cJSON_GetArraySize(fg_results_experiments(root));
        cJSON_Delete(root);
        if (have >= n) return;
        int status;
        if (waitpid(pid, &status, WNOHANG) == pid)
            fail_msg("flowgate ended (status %d) before %d experiment(s) in %s", status, n, d);
    }
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    fail_msg("no %d experiment(s) in %s", n, d);
}

/* ---- the test's function server -------------------------------------------
 * One URL answers "recognizer__translate" (the single workflow) and the
 * health check. What it holds unanswered (until fake_stop, then 503) is
 * what the test waits at: each arrival is counted first. */

static struct {
    struct MHD_Daemon *d;
    int port;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int hold_health;    /* GET / is held */
    int answer_posts;   /* POSTs answered before the next ones are held; -1: all */
    int gets, posts;    /* arrived */
    int stopping;
} fake = {.lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER};

static enum MHD_Result fake_answer(struct MHD_Connection *conn, unsigned code, const char *body)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(strlen(body), (void *)body,
                                                             MHD_RESPMEM_MUST_COPY);
    MHD_add_response_header(r, "Content-Type", "application/json");
    enum MHD_Result ret = MHD_queue_response(conn, code, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result fake_handle(void *cls, struct MHD_Connection *conn, const char *url,
                                   const char *method, const char *version, const char *upload,
                                   size_t *upload_size, void **con_cls)
{
    (void)cls;
    (void)version;
    (void)upload;
    static int first_call;
    if (!*con_cls) {   /* headers only; the body follows */
        *con_cls = &first_call;
        return MHD_YES;
    }
    if (*upload_size) {
        *upload_size = 0;
        return MHD_YES;
    }
    int is_post = !strcmp(method, "POST"), health = !strcmp(method, "GET") && !strcmp(url, "/");
    pthread_mutex_lock(&fake.lock);
    int n = is_post ? ++fake.posts : health ? ++fake.gets : 0;
    pthread_cond_broadcast(&fake.cond);
    int hold;
    while ((hold = (health && fake.hold_health) ||
                   (is_post && fake.answer_posts >= 0 && n > fake.answer_posts)) &&
           !fake.stopping)
        pthread_cond_wait(&fake.cond, &fake.lock);
    pthread_mutex_unlock(&fake.lock);
    if (hold) return fake_answer(conn, 503, "{\"status\":\"error\"}");   /* stopping */
    if (health) return fake_answer(conn, 200, "{\"status\":\"healthy\"}");
    if (is_post)
        return fake_answer(conn, 200, "{\"status\":\"success\",\"exec_ms\":0.1,\"cold_start\":false,"
                                      "\"translated_text\":\"hello world\"}");
    return fake_answer(conn, 404, "{\"error\":\"not found\"}");
}

/* Starts the server (127.0.0.1, an ephemeral port) and writes an endpoints
 * file for it into path. */
static void fake_start(int hold_health, int answer_posts, const char *path)
{
    fake.hold_health = hold_health;
    fake.answer_posts = answer_posts;
    fake.gets = fake.posts = 0;
    fake.stopping = 0;
    static struct sockaddr_in loopback;
    loopback.sin_family = AF_INET;
    loopback.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    loopback.sin_port = 0;
    fake.d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION,
                              0, NULL, NULL, fake_handle, NULL,
                              MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&loopback, MHD_OPTION_END);
    assert_non_null(fake.d);
    fake.port = MHD_get_daemon_info(fake.d, MHD_DAEMON_INFO_BIND_PORT)->port;
    char text[256];
    snprintf(text, sizeof text,
             "{\"mode\":\"functions\",\"functions\":{\"recognizer__translate\":\"http://127.0.0.1:%d\"}}\n",
             fake.port);
    write_text(path, text);
}

/* Waits until *counter (fake.gets or fake.posts) reaches n. */
static void fake_wait(const int *counter, int n, pid_t pid)
{
    double end = now_s() + STATE_TIMEOUT_S;
    pthread_mutex_lock(&fake.lock);
    while (*counter < n && now_s() < end) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 50000000L;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&fake.cond, &fake.lock, &ts);
        pthread_mutex_unlock(&fake.lock);
        int status;
        if (waitpid(pid, &status, WNOHANG) == pid)
            fail_msg("flowgate ended (status %d) before request %d arrived", status, n);
        pthread_mutex_lock(&fake.lock);
    }
    int got = *counter;
    pthread_mutex_unlock(&fake.lock);
    if (got < n) {
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        fail_msg("request %d never arrived (got %d)", n, got);
    }
}

/* The signal, once request n (a health check, a POST) has arrived. */
static void sigint_at(const int *counter, int n, pid_t pid)
{
    fake_wait(counter, n, pid);
    assert_int_equal(kill(pid, SIGINT), 0);
}

/* Answers what was held (the POSTs from now on too). */
static void fake_release_posts(void)
{
    pthread_mutex_lock(&fake.lock);
    fake.answer_posts = -1;
    pthread_cond_broadcast(&fake.cond);
    pthread_mutex_unlock(&fake.lock);
}

static void fake_stop(void)
{
    if (!fake.d) return;
    pthread_mutex_lock(&fake.lock);
    fake.stopping = 1;
    pthread_cond_broadcast(&fake.cond);
    pthread_mutex_unlock(&fake.lock);
    MHD_stop_daemon(fake.d);
    fake.d = NULL;
}

/* ---- what every stop must leave ------------------------------------------ */

typedef struct stop_expect {
    const char *who;     /* "flowgate run" */
    const char *where;   /* the words after "interrupted " */
    int cells;           /* experiments in the file */
    int cut;             /* the last one cut short */
} stop_expect;

/* The one stderr line with "interrupted" in it; fails unless exactly one. */
static char *interrupted_line(const char *err_text)
{
    char *copy = strdup(err_text), *save = NULL, *found = NULL;
    int n = 0;
    for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
        if (strstr(line, "interrupted")) {
            n++;
            found = line;
        }
    char *line = found ? strdup(found) : NULL;
    free(copy);
    if (n != 1) fail_msg("want exactly one line saying \"interrupted\" on stderr, got %d:\n%s", n,
                         err_text);
    return line;
}

/* Exit 1, the one line naming where it stopped and the file, and the file
 * itself: valid, finished, interrupted there, failed, x->cells entries.
 * Returns the loaded results (caller frees). */
static cJSON *check_stopped_in(int status, const char *out, const char *err_text,
                               const char *results_path, const stop_expect *x)
{
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 1)
        fail_msg("want exit 1, got status %d\nstdout:\n%s\nstderr:\n%s", status, out, err_text);
    if (strstr(out, "all thresholds pass")) fail_msg("an interrupted run passed:\n%s", out);
    char *line = interrupted_line(err_text);
    char want[600];
    snprintf(want, sizeof want, "%s: interrupted %s; results: ", x->who, x->where);
    if (strncmp(line, want, strlen(want)))
        fail_msg("want a line starting \"%s\", got \"%s\"", want, line);
    if (!results_path[0]) fail_msg("no results file; the line: %s", line);
    fg_err err = {{0}};
    cJSON *root = fg_results_load(results_path, &err);
    if (!root) fail_msg("results file: %s", err.msg);
    const cJSON *run = cJSON_GetObjectItemCaseSensitive(root, "run");
    assert_true(run_interrupted(root));
    assert_non_null(fg_json_string(run, "finished"));
    const char *during = fg_json_string(run, "interrupted_during");
    if (!during || strcmp(during, x->where))
        fail_msg("run.interrupted_during: want \"%s\", got \"%s\"", x->where, during ? during : "(none)");
    const char *outcome = fg_json_string(run, "outcome");
    if (!outcome || strcmp(outcome, "fail"))
        fail_msg("run.outcome: want \"fail\", got \"%s\"", outcome ? outcome : "(none)");
    const cJSON *exps = fg_results_experiments(root);
    if (cJSON_GetArraySize(exps) != x->cells)
        fail_msg("want %d experiment(s), got %d", x->cells, cJSON_GetArraySize(exps));
    if (x->cells) {
        const cJSON *last = cJSON_GetArrayItem(exps, x->cells - 1);
        assert_int_equal(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(last, "interrupted")), x->cut);
    }
    free(line);
    return root;
}

/* The same for `flowgate run` with its one results file in results_dir, the
 * line naming it. */
static cJSON *check_stopped(int status, const char *out, const char *err_text,
                            const char *results_dir, const stop_expect *x)
{
    char path[512];
    find_results(results_dir, path, sizeof path);
    char *line = interrupted_line(err_text);
    if (path[0] && !strstr(line, path)) fail_msg("the line does not name %s: %s", path, line);
    free(line);
    return check_stopped_in(status, out, err_text, path, x);
}

/* `flowgate run smoke` of the single workflow against the test's server:
 * argv to fill, extra flags after the common ones (NULL-terminated). */
static void single_argv(char **argv, size_t max, const char *endpoints, const char *results,
                        const char *concurrency, const char *const *extra)
{
    size_t n = 0;
    const char *common[] = {flowgate_bin(), "run", "smoke", "--endpoints", endpoints,
                            "--workflow", single_workflow(), "--results-dir", results,
                            "--concurrency", concurrency};
    for (size_t i = 0; i < sizeof common / sizeof common[0]; i++) argv[n++] = (char *)common[i];
    for (size_t i = 0; extra && extra[i] && n + 1 < max; i++) argv[n++] = (char *)extra[i];
    argv[n] = NULL;
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
        signal(SIGINT, SIG_DFL);   /* as from a shell with job control */
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


/* ---- one test per phase ------------------------------------------------------ */

/* A test's folder, its results folder, the child's stdout and stderr files
 * and an endpoints file name. */
typedef struct run_dirs {
    char d[128], results[192], out[192], err[192], endpoints[192];
} run_dirs;

static void run_dirs_init(run_dirs *r, const char *name)
{
    make_dir(r->d, sizeof r->d, name);
    snprintf(r->results, sizeof r->results, "%s/results", r->d);
    snprintf(r->out, sizeof r->out, "%s/out.txt", r->d);
    snprintf(r->err, sizeof r->err, "%s/err.txt", r->d);
    snprintf(r->endpoints, sizeof r->endpoints, "%s/endpoints.json", r->d);
}

/* Starts argv with stdout and stderr into r's files. */
static pid_t spawn_to_files(char *const argv[], const run_dirs *r, int ignore_int)
{
    int o = open_out(r->out), e = open_out(r->err);
    pid_t pid = spawn(argv, o, e, ignore_int, NULL);
    close(o);
    close(e);
    return pid;
}

/* Waits for the child, then checks what it left (check_stopped). */
static void expect_stopped(pid_t pid, const run_dirs *r, const stop_expect *x, cJSON **keep)
{
    int status = wait_exit(pid);
    fake_stop();
    char *out = slurp(r->out), *err_text = slurp(r->err);
    cJSON *root = check_stopped(status, out, err_text, r->results, x);
    free(out);
    free(err_text);
    if (keep) *keep = root;
    else cJSON_Delete(root);
}

/* The exit status of a flowgate command run to its end (output to a file). */
static int run_command(char *const argv[], const char *log)
{
    int fd = open_out(log);
    pid_t pid = spawn(argv, fd, fd, 0, NULL);
    close(fd);
    return wait_exit(pid);
}

/* `flowgate run smoke` of the single workflow, concurrency as given, in a
 * fresh folder r named name, against the test's server (started with
 * hold_health and answer_posts); stdout to child_out, or r's file at -1. */
static pid_t start_single(run_dirs *r, const char *name, int hold_health, int answer_posts,
                          const char *concurrency, const char *const *extra, int child_out,
                          int ignore_int)
{
    run_dirs_init(r, name);
    fake_start(hold_health, answer_posts, r->endpoints);
    char *argv[24];
    single_argv(argv, 24, r->endpoints, r->results, concurrency, extra);
    int o = child_out >= 0 ? child_out : open_out(r->out), e = open_out(r->err);
    pid_t pid = spawn(argv, o, e, ignore_int, NULL);
    close(o);
    close(e);
    return pid;
}

/* Three requests a cell, no warm-up. */
static const char *const short_cells[] = {"--warmup", "0", "--requests", "3", NULL};

/* Before the first request: flowgate is blocked opening its workflow (a
 * FIFO) when the signal comes; the file it then finds is no workflow. */
static void test_stop_during_setup(void **state)
{
    (void)state;
    run_dirs r;
    run_dirs_init(&r, "setup");
    char fifo[256];
    snprintf(fifo, sizeof fifo, "%s/workflow.json", r.d);
    assert_int_equal(mkfifo(fifo, 0600), 0);
    char *argv[] = {(char *)flowgate_bin(), "run", "smoke", "--endpoints",
                    getenv("FLOWGATE_ENDPOINTS"), "--workflow", fifo, "--results-dir", r.results,
                    NULL};
    pid_t pid = spawn_to_files(argv, &r, 0);
    wait_blocked_opening(pid, "/workflow.json");
    assert_int_equal(kill(pid, SIGINT), 0);
    int w = open(fifo, O_WRONLY | O_NONBLOCK | O_CLOEXEC);   /* a writer comes and goes */
    assert_true(w >= 0);
    close(w);
    expect_stopped(pid, &r, &(stop_expect){"flowgate run", "during setup, before the first request",
                                           0, 0}, NULL);

    /* The file of a run that never measured is no baseline and no pass. */
    char path[512], to[256], log[256];
    find_results(r.results, path, sizeof path);
    snprintf(to, sizeof to, "%s/baseline.json", r.d);
    snprintf(log, sizeof log, "%s/commands.txt", r.d);
    char *baseline[] = {(char *)flowgate_bin(), "baseline", path, "--to", to, NULL};
    int status = run_command(baseline, log);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) != 0);
    assert_int_not_equal(access(to, F_OK), 0);
    char *compare[] = {(char *)flowgate_bin(), "compare", path, path, NULL};
    status = run_command(compare, log);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 1)
        fail_msg("compare against an interrupted run: want exit 1, got status %d", status);
}

/* The health wait: the test's server takes the health check and never answers. */
static void test_stop_during_health_wait(void **state)
{
    (void)state;
    run_dirs r;
    pid_t pid = start_single(&r, "health", 1, -1, "1", NULL, -1, 0);
    sigint_at(&fake.gets, 1, pid);
    expect_stopped(pid, &r, &(stop_expect){"flowgate run", "during the health wait", 0, 0}, NULL);
}

/* The warm-up: its first request is held. */
static void test_stop_during_warmup(void **state)
{
    (void)state;
    run_dirs r;
    const char *extra[] = {"--warmup", "2", "--requests", "20", NULL};
    pid_t pid = start_single(&r, "warmup", 0, 0, "1", extra, -1, 0);
    sigint_at(&fake.posts, 1, pid);
    expect_stopped(pid, &r, &(stop_expect){"flowgate run",
                                           "during the warm-up of exp_json_conc1_ours", 1, 1}, NULL);
}

/* The middle of a cell: no warm-up, three measured requests answered, the
 * fourth held. */
static void test_stop_mid_cell(void **state)
{
    (void)state;
    run_dirs r;
    const char *extra[] = {"--warmup", "0", "--requests", "50", NULL};
    pid_t pid = start_single(&r, "midcell", 0, 3, "1", extra, -1, 0);
    sigint_at(&fake.posts, 4, pid);
    cJSON *root;
    expect_stopped(pid, &r, &(stop_expect){"flowgate run", "during exp_json_conc1_ours", 1, 1},
                   &root);
    const cJSON *req = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetArrayItem(fg_results_experiments(root), 0), "requests");
    assert_int_equal((int)fg_json_number(req, "ok"), 3);
    assert_int_equal((int)fg_json_number(req, "interrupted"), 1);
    cJSON_Delete(root);
}

/* Cells of three requests whose summary lines go to a full pipe: flowgate
 * is held after the first cell's entry is saved, before anything else. */
static void stop_at_first_summary(const char *name, const char *concurrency, const char *where)
{
    run_dirs r;
    int child_out, rd = full_pipe(&child_out);
    pid_t pid = start_single(&r, name, 0, -1, concurrency, short_cells, child_out, 0);
    wait_experiments(pid, r.results, 1);
    assert_int_equal(kill(pid, SIGINT), 0);
    char *out = drain(rd);
    close(rd);
    int status = wait_exit(pid);
    fake_stop();
    char *err_text = slurp(r.err);
    cJSON *root = check_stopped(status, out, err_text, r.results,
                                &(stop_expect){"flowgate run", where, 1, 0});
    /* The line that was waiting got out whole. */
    if (!strstr(out, "exp_json_conc1_ours  ok 3/3")) fail_msg("no summary line:\n%s", out);
    cJSON_Delete(root);
    free(out);
    free(err_text);
}

static void test_stop_between_cells(void **state)
{
    (void)state;
    stop_at_first_summary("between", "1,2", "between cells, after exp_json_conc1_ours");
}

/* After the last cell the threshold table still comes, and it fails. */
static void test_stop_after_last_cell(void **state)
{
    (void)state;
    stop_at_first_summary("after", "1", "after the last cell");
    char path[512];
    snprintf(path, sizeof path, "%s/after/results", dir);
    DIR *d = opendir(path);
    assert_non_null(d);
    struct dirent *e;
    char table[768] = "";
    while ((e = readdir(d)))
        if (!strncmp(e->d_name, "thresholds_", 11) && ends_with(e->d_name, ".md"))
            snprintf(table, sizeof table, "%s/%s", path, e->d_name);
    closedir(d);
    if (!table[0]) fail_msg("no threshold table in %s", path);
    char *text = slurp(table);
    if (!strstr(text, "interrupted")) fail_msg("the table does not say interrupted:\n%s", text);
    free(text);
}

/* The threshold table: its temporary file is a FIFO the test opens only
 * after the signal; the table is then made again, marked interrupted. */
static void test_stop_during_threshold_table(void **state)
{
    (void)state;
    run_dirs r;
    /* The first request held until the FIFO is there. */
    pid_t pid = start_single(&r, "table", 0, 0, "1", short_cells, -1, 0);
    fake_wait(&fake.posts, 1, pid);
    char path[512];
    find_results(r.results, path, sizeof path);
    assert_true(path[0] != 0);
    const char *id = strstr(path, "experiment_results_") + strlen("experiment_results_");
    int id_len = (int)(strlen(id) - strlen(".json"));
    char tail[128], fifo[768], table[768];
    snprintf(tail, sizeof tail, "/thresholds_%.*s.md.tmp.%d", id_len, id, (int)pid);
    snprintf(fifo, sizeof fifo, "%s%s", r.results, tail);
    snprintf(table, sizeof table, "%s/thresholds_%.*s.md", r.results, id_len, id);
    assert_int_equal(mkfifo(fifo, 0600), 0);
    fake_release_posts();
    wait_blocked_opening(pid, tail);
    assert_int_equal(kill(pid, SIGINT), 0);
    int rd = open(fifo, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    assert_true(rd >= 0);
    assert_int_equal(fcntl(rd, F_SETFL, 0), 0);
    free(drain(rd));
    close(rd);
    expect_stopped(pid, &r, &(stop_expect){"flowgate run", "during the threshold table", 1, 0},
                   NULL);
    assert_int_not_equal(access(fifo, F_OK), 0);
    char *text = slurp(table);
    if (!strstr(text, "interrupted")) fail_msg("%s does not say interrupted:\n%s", table, text);
    free(text);
}

/* `flowgate plot`: the first chart is drawn, gnuplot holds on the second
 * (the test's scripts, FLOWGATE_PLOTS); the first stays, nothing partial. */
static void test_stop_during_plots(void **state)
{
    (void)state;
    if (system("command -v gnuplot >/dev/null 2>&1") != 0) skip();
    run_dirs r;
    int status = wait_exit(start_single(&r, "plots", 0, -1, "1", short_cells, -1, 0));
    fake_stop();
    assert_true(WIFEXITED(status));
    char results[512];
    find_results(r.results, results, sizeof results);
    assert_true(results[0] != 0);

    char gp[256], file[320];
    snprintf(gp, sizeof gp, "%s/gp", r.d);
    assert_int_equal(mkdir(gp, 0755), 0);
    snprintf(file, sizeof file, "%s/throughput.gp", gp);
    write_text(file, "set terminal pngcairo size 300,200\n"
                     "set output outdir.'/throughput.png'\nplot x\nset output\n");
    snprintf(file, sizeof file, "%s/latency.gp", gp);
    write_text(file, "set terminal pngcairo size 300,200\n"
                     "set output outdir.'/latency.png'\n"
                     "print 'fgtest: drawing latency'\npause 300\nplot x\nset output\n");
    char env[300], plots[256];
    snprintf(env, sizeof env, "FLOWGATE_PLOTS=%s", gp);
    snprintf(plots, sizeof plots, "%s/plots", r.d);
    char *plot[] = {(char *)flowgate_bin(), "plot", results, "--out", plots, NULL};
    int fds[2];
    cloexec_pipe(fds);
    int o = open_out(r.out);
    pid_t pid = spawn(plot, o, fds[1], 0, env);
    close(o);
    close(fds[1]);
    /* gnuplot (stderr inherited) says it is drawing the second chart: the
     * whole line, its newline written apart. */
    char seen[8192] = "";
    size_t len = 0;
    for (double end = now_s() + STATE_TIMEOUT_S; !strstr(seen, "fgtest: drawing latency\n");) {
        if (now_s() > end || len + 1 >= sizeof seen) {
            kill(pid, SIGKILL);
            waitpid(pid, NULL, 0);
            fail_msg("gnuplot never reached the second chart:\n%s", seen);
        }
        ssize_t n = read(fds[0], seen + len, sizeof seen - 1 - len);
        if (n <= 0) fail_msg("flowgate plot ended first:\n%s", seen);
        len += (size_t)n;
        seen[len] = 0;
    }
    assert_int_equal(kill(pid, SIGINT), 0);
    char *rest = drain(fds[0]);
    close(fds[0]);
    status = wait_exit(pid);
    char *err_text = malloc(len + strlen(rest) + 1);
    assert_non_null(err_text);
    snprintf(err_text, len + strlen(rest) + 1, "%s%s", seen, rest);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 1)
        fail_msg("flowgate plot: want exit 1, got status %d:\n%s", status, err_text);
    char *line = interrupted_line(err_text);
    char want[700];
    snprintf(want, sizeof want, "flowgate plot: interrupted during plots of %s", results);
    if (strncmp(line, want, strlen(want))) fail_msg("want \"%s...\", got \"%s\"", want, line);

    /* plots/<run-id>/: the first chart and its data, whole; nothing else. */
    cJSON *root = fg_results_load(results, NULL);
    char charts[512];
    snprintf(charts, sizeof charts, "%s/%s", plots,
             fg_json_string(cJSON_GetObjectItemCaseSensitive(root, "run"), "id"));
    cJSON_Delete(root);
    DIR *d = opendir(charts);
    assert_non_null(d);
    int throughput = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        char path[900];
        struct stat st;
        snprintf(path, sizeof path, "%s/%s", charts, e->d_name);
        assert_int_equal(stat(path, &st), 0);
        if (!S_ISREG(st.st_mode) || st.st_size == 0)
            fail_msg("%s: a partial or empty file after the stop", path);
        if (!strncmp(e->d_name, "latency.", 8))
            fail_msg("%s: the chart being drawn (or its data) was kept", path);
        throughput += !strcmp(e->d_name, "throughput.png") || !strcmp(e->d_name, "throughput.dat");
    }
    closedir(d);
    assert_int_equal(throughput, 2);
    free(line);
    free(rest);
    free(err_text);
}

/* SIGINT ignored at start (a `&` job of a script) stays ignored; SIGTERM
 * still stops the run. */
static void test_sigint_ignored_stays_ignored(void **state)
{
    (void)state;
    run_dirs r;
    pid_t pid = start_single(&r, "ignored", 1, -1, "1", NULL, -1, 1);
    fake_wait(&fake.gets, 1, pid);   /* the catcher is in place by now */
    assert_true(sig_mask(pid, "SigIgn") & SIG_BIT(SIGINT));
    assert_false(sig_mask(pid, "SigCgt") & SIG_BIT(SIGINT));
    assert_true(sig_mask(pid, "SigCgt") & SIG_BIT(SIGTERM));
    assert_int_equal(kill(pid, SIGINT), 0);
    assert_int_equal(kill(pid, SIGTERM), 0);
    expect_stopped(pid, &r, &(stop_expect){"flowgate run", "during the health wait", 0, 0}, NULL);
}

/* A second Ctrl-C kills at once: flowgate is held writing to a full pipe
 * after the first. */
static void test_second_sigint_kills(void **state)
{
    (void)state;
    run_dirs r;
    int child_out, rd = full_pipe(&child_out);
    pid_t pid = start_single(&r, "second", 0, -1, "1", short_cells, child_out, 0);
    wait_experiments(pid, r.results, 1);
    assert_true(sig_mask(pid, "SigCgt") & SIG_BIT(SIGINT));
    assert_int_equal(kill(pid, SIGINT), 0);
    /* Delivered: the catcher gave SIGINT back to its default. */
    double end = now_s() + STATE_TIMEOUT_S;
    while ((sig_mask(pid, "SigCgt") & SIG_BIT(SIGINT)) && now_s() < end) sleep_ms(5);
    assert_false(sig_mask(pid, "SigCgt") & SIG_BIT(SIGINT));
    assert_int_equal(kill(pid, SIGINT), 0);
    int status = wait_exit(pid);
    close(rd);
    fake_stop();
    if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGINT)
        fail_msg("want death by SIGINT, got status %d", status);
}

/* `flowgate ab` stopped in side A's health wait: one line, both sides'
 * files (B never opened). */
static void test_ab_stop_during_health_wait(void **state)
{
    (void)state;
    run_dirs r;
    run_dirs_init(&r, "ab");
    fake_start(1, -1, r.endpoints);
    char *argv[] = {(char *)flowgate_bin(), "ab", "smoke", "--a-endpoints", r.endpoints,
                    "--b-endpoints", r.endpoints, "--workflow", (char *)single_workflow(),
                    "--results-dir", r.results, "--concurrency", "1", NULL};
    pid_t pid = spawn_to_files(argv, &r, 0);
    sigint_at(&fake.gets, 1, pid);
    int status = wait_exit(pid);
    fake_stop();
    char *out = slurp(r.out), *err_text = slurp(r.err);
    DIR *d = opendir(r.results);
    assert_non_null(d);
    struct dirent *e;
    char ab[480] = "";
    while ((e = readdir(d)))
        if (!strncmp(e->d_name, "ab-", 3)) snprintf(ab, sizeof ab, "%s/%.255s", r.results, e->d_name);
    closedir(d);
    if (!ab[0]) fail_msg("no ab-<id> folder in %s:\n%s", r.results, err_text);
    char *line = interrupted_line(err_text);
    char want[700];
    snprintf(want, sizeof want, "; results: %s (A: no cells; B: no cells)", ab);
    if (!strstr(line, want)) fail_msg("want \"...%s\", got \"%s\"", want, line);
    free(line);
    for (int s = 0; s < 2; s++) {
        char side[500], path[512];   /* ab: at most 479 */
        snprintf(side, sizeof side, "%s/%c", ab, "AB"[s]);
        find_results(side, path, sizeof path);
        cJSON_Delete(check_stopped_in(status, out, err_text, path,
                                      &(stop_expect){"flowgate ab",
                                                     "during the health wait (side A)", 0, 0}));
    }
    free(out);
    free(err_text);
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
        cmocka_unit_test(test_stop_during_setup),
        cmocka_unit_test(test_stop_during_health_wait),
        cmocka_unit_test(test_stop_during_warmup),
        cmocka_unit_test(test_stop_mid_cell),
        cmocka_unit_test(test_stop_between_cells),
        cmocka_unit_test(test_stop_after_last_cell),
        cmocka_unit_test(test_stop_during_threshold_table),
        cmocka_unit_test(test_stop_during_plots),
        cmocka_unit_test(test_sigint_ignored_stays_ignored),
        cmocka_unit_test(test_second_sigint_kills),
        cmocka_unit_test(test_ab_stop_during_health_wait),
        cmocka_unit_test(test_runner_file_valid_when_stopped_before_first_cell),
        cmocka_unit_test(test_fixture_fails_when_stopped_before_first_cell),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
