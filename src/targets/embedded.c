/* embedded.c — the function server flowgate starts itself when no endpoints
 * are configured, and the CPU and memory it is measured by.
 *
 * The embedded server is a child process (posix_spawn), its output in
 * <tmpdir>/server.log; flowgate waits for the endpoints file it writes and
 * for every node to answer GET /. A stop request (Ctrl-C) ends that wait
 * promptly: the child is stopped and the start fails with
 * FG_HEALTH_INTERRUPTED. Only a server this process started is ever
 * signalled. CPU and memory of that child are read from /proc. The child
 * is started with its soft descriptor limit at the hard one, whatever this
 * process's soft limit is. */
#define _GNU_SOURCE   /* nftw */
#include "flowgate/embedded.h"
#include "flowgate/stop.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

/* ---- the embedded server ------------------------------------------------ */

static int find_server_bin(char *out, size_t size, fg_err *err)
{
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n > 0) {
        exe[n] = 0;
        char *slash = strrchr(exe, '/');
        if (slash) {
            *slash = 0;
            int w = snprintf(out, size, "%s/flowgate-functions", exe);
            if (w > 0 && (size_t)w < size && access(out, X_OK) == 0) return 0;
        }
    }
    const char *bin = getenv("FLOWGATE_BIN");
    if (bin && *bin) {
        int w = snprintf(out, size, "%s/flowgate-functions", bin);
        if (w > 0 && (size_t)w < size && access(out, X_OK) == 0) return 0;
    }
    return fg_err_set(err, "flowgate-functions not found next to %s nor in $FLOWGATE_BIN (%s); set FLOWGATE_BIN to the build directory",
                      n > 0 ? exe : "this program", bin && *bin ? bin : "unset");
}

/* The last non-empty line of the server's log, for error messages. */
static void last_log_line(const char *dir, char *out, size_t size)
{
    char path[600];
    snprintf(path, sizeof path, "%s/server.log", dir);
    snprintf(out, size, "server log empty");
    FILE *f = fopen(path, "rb");
    if (!f) return;
    char tail[4096];
    long start = 0;
    if (fseek(f, 0, SEEK_END) == 0) {
        long end = ftell(f);
        start = end > (long)sizeof tail - 1 ? end - (long)sizeof tail + 1 : 0;
    }
    fseek(f, start, SEEK_SET);
    size_t n = fread(tail, 1, sizeof tail - 1, f);
    fclose(f);
    tail[n] = 0;
    while (n && (tail[n - 1] == '\n' || tail[n - 1] == '\r' || tail[n - 1] == ' ')) tail[--n] = 0;
    if (!n) return;
    char *line = strrchr(tail, '\n');
    line = line ? line + 1 : tail;
    size_t len = strlen(line);
    if (len >= size) len = size - 1;    /* a long line is cut, not wrapped */
    memcpy(out, line, len);
    out[len] = 0;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st; (void)flag; (void)ftw;
    remove(path);
    return 0;
}

static void remove_tree(const char *dir)
{
    if (dir && *dir) nftw(dir, remove_entry, 8, FTW_DEPTH | FTW_PHYS);
}

static int child_exited(pid_t pid, int *status)
{
    pid_t r;
    do r = waitpid(pid, status, WNOHANG);
    while (r < 0 && errno == EINTR);
    return r == pid || (r < 0 && errno == ECHILD);
}

static void terminate_child(pid_t pid)
{
    int status;
    if (kill(pid, SIGTERM) != 0 && errno == ESRCH) {
        child_exited(pid, &status);   /* reap a zombie */
        return;
    }
    for (int i = 0; i < 100; i++) {       /* up to 5 s */
        if (child_exited(pid, &status)) return;
        fg_sleep_ms(50);
    }
    kill(pid, SIGKILL);
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
}

int fg_cluster_start_embedded(const char *nodes_file, const char *server_bin,
                              double deadline_s, fg_cluster *c, fg_err *err)
{
    return fg_cluster_start_embedded_net(nodes_file, server_bin, -1, -1, deadline_s, c, err);
}

int fg_cluster_start_embedded_net(const char *nodes_file, const char *server_bin,
                                  double bandwidth_mbit, double latency_ms, double deadline_s,
                                  fg_cluster *c, fg_err *err)
{
    return fg_cluster_start_embedded_data(nodes_file, server_bin, NULL, bandwidth_mbit,
                                          latency_ms, deadline_s, c, err);
}

/* This process's environment with FLOWGATE_DATA=dir in place of its own:
 * how the server is told its data directory. Not its --data flag: every
 * flowgate-functions ever built reads $FLOWGATE_DATA (fg_data_dir), but an
 * older one (the A side of an A/B is the previous commit's) may not know a
 * flag, and would refuse to start. The strings but the new one are
 * environ's; free the array and envp[0]. NULL when out of memory. */
static char **env_with_data(const char *dir)
{
    size_t n = 0;
    while (environ[n]) n++;
    char **envp = calloc(n + 2, sizeof *envp);
    size_t len = sizeof "FLOWGATE_DATA=" + strlen(dir);
    char *entry = malloc(len);
    if (!envp || !entry) {
        free(envp);
        free(entry);
        return NULL;
    }
    snprintf(entry, len, "FLOWGATE_DATA=%s", dir);
    size_t k = 0;
    envp[k++] = entry;
    for (size_t i = 0; i < n; i++)
        if (strncmp(environ[i], "FLOWGATE_DATA=", sizeof "FLOWGATE_DATA=" - 1)) envp[k++] = environ[i];
    return envp;
}

int fg_cluster_start_embedded_data(const char *nodes_file, const char *server_bin,
                                   const char *data_dir, double bandwidth_mbit,
                                   double latency_ms, double deadline_s, fg_cluster *c,
                                   fg_err *err)
{
    memset(c, 0, sizeof *c);
    struct stat st;
    if (data_dir && (stat(data_dir, &st) != 0 || !S_ISDIR(st.st_mode)))
        return fg_err_set(err, "data directory '%s': not a directory", data_dir);
    char bin[PATH_MAX];
    if (server_bin) {
        if (access(server_bin, X_OK) != 0)
            return fg_err_set(err, "server binary '%s': %s", server_bin, strerror(errno));
        snprintf(bin, sizeof bin, "%s", server_bin);
    } else if (find_server_bin(bin, sizeof bin, err) != 0) {
        return -1;
    }
    if (access(nodes_file, R_OK) != 0)
        return fg_err_set(err, "nodes file '%s': %s", nodes_file, strerror(errno));

    const char *tmp = getenv("TMPDIR");
    char dir[512];
    snprintf(dir, sizeof dir, "%s/flowgate-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(dir)) return fg_err_set(err, "cannot create a directory under %s: %s", tmp && *tmp ? tmp : "/tmp", strerror(errno));
    char endpoints[600], log[600];
    snprintf(endpoints, sizeof endpoints, "%s/endpoints.json", dir);
    snprintf(log, sizeof log, "%s/server.log", dir);

    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_adddup2(&fa, 1, 2);
    /* --parent-pid: the server stops itself if this process dies without
     * calling fg_cluster_stop (killed, crashed), so none is left behind. */
    char parent[24];
    snprintf(parent, sizeof parent, "%ld", (long)getpid());
    char bw[32], lat[32];
    snprintf(bw, sizeof bw, "%.17g", bandwidth_mbit);
    snprintf(lat, sizeof lat, "%.17g", latency_ms);
    char *argv[12] = {bin, "--nodes", (char *)nodes_file, "--endpoints-out", endpoints,
                      "--parent-pid", parent, NULL};
    int argc = 7;
    /* The run's network conditions; the endpoints file the server writes
     * then reports them, so the schedulers see the links as they are. */
    if (bandwidth_mbit >= 0) {
        argv[argc++] = "--bandwidth-mbit";
        argv[argc++] = bw;
    }
    if (latency_ms >= 0) {
        argv[argc++] = "--latency-ms";
        argv[argc++] = lat;
    }
    argv[argc] = NULL;
    char **envp = data_dir ? env_with_data(data_dir) : environ;
    pid_t pid;
    /* The server gets its own descriptor limit, the hard one: it holds a
     * connection per in-flight request and more for blob fetches, and must
     * not inherit a low soft limit of the shell (unanswered requests would
     * hold a run to its timeout). posix_spawn has no attribute for it, so
     * the soft limit is raised around the spawn and this process's put back
     * (the driver sets its own per experiment). */
    struct rlimit own;
    int raised = 0;
    if (getrlimit(RLIMIT_NOFILE, &own) == 0 && own.rlim_cur < own.rlim_max) {
        struct rlimit up = {own.rlim_max, own.rlim_max};
        raised = setrlimit(RLIMIT_NOFILE, &up) == 0;
    }
    int rc = envp ? posix_spawn(&pid, bin, &fa, NULL, argv, envp) : ENOMEM;
    if (raised) setrlimit(RLIMIT_NOFILE, &own);
    posix_spawn_file_actions_destroy(&fa);
    if (envp && envp != environ) {
        free(envp[0]);
        free(envp);
    }
    if (rc != 0) {
        remove_tree(dir);
        return fg_err_set(err, "cannot start %s: %s", bin, strerror(rc));
    }

    double deadline_ms = fg_now_mono_ms() + deadline_s * 1000.0;
    char why[512] = "";
    int status;
    for (;;) {
        if (fg_stop_requested()) {
            terminate_child(pid);
            remove_tree(dir);
            memset(c, 0, sizeof *c);
            return fg_err_set(err, "%s", FG_HEALTH_INTERRUPTED);
        }
        if (child_exited(pid, &status)) {
            char line[300];
            last_log_line(dir, line, sizeof line);
            if (WIFEXITED(status))
                snprintf(why, sizeof why, "exited with status %d: %s", WEXITSTATUS(status), line);
            else
                snprintf(why, sizeof why, "killed by signal %d: %s", WTERMSIG(status), line);
            remove_tree(dir);
            return fg_err_set(err, "%s %s", bin, why);
        }
        /* The server writes the file once every node listens; a parse
         * failure means it is not there (or not complete) yet. */
        fg_err load_err;
        if (access(endpoints, R_OK) == 0 && fg_cluster_load_endpoints(endpoints, c, &load_err) == 0) {
            double left_s = (deadline_ms - fg_now_mono_ms()) / 1000.0;
            fg_err health_err;
            if (fg_cluster_health(c, left_s > 0 ? left_s : 0.2, &health_err) == 0) {
                c->server_pid = pid;
                snprintf(c->server_dir, sizeof c->server_dir, "%s", dir);
                return 0;
            }
            if (fg_stop_requested()) continue;   /* the check above cleans up */
            snprintf(why, sizeof why, "%s", health_err.msg);
            break;
        }
        if (fg_now_mono_ms() >= deadline_ms) {
            snprintf(why, sizeof why, "no endpoints file after %.1f s", deadline_s);
            break;
        }
        fg_sleep_ms(20);
    }
    terminate_child(pid);
    char line[300];
    last_log_line(dir, line, sizeof line);
    remove_tree(dir);
    memset(c, 0, sizeof *c);
    return fg_err_set(err, "embedded server (%s) did not come up: %s; last log line: %s", bin, why, line);
}

void fg_cluster_stop(fg_cluster *c)
{
    if (c->server_pid > 0) {
        terminate_child(c->server_pid);
        remove_tree(c->server_dir);
        c->server_dir[0] = 0;
        c->server_pid = 0;
    }
}

int fg_cluster_resolve(const char *endpoints, const char *nodes_file,
                       double deadline_s, fg_cluster *c, fg_err *err)
{
    if (!endpoints || !*endpoints) endpoints = getenv("FLOWGATE_ENDPOINTS");
    if (endpoints && *endpoints) {
        if (fg_cluster_load_endpoints(endpoints, c, err) != 0) return -1;
        return fg_cluster_health(c, deadline_s, err);
    }
    char default_file[1024];
    if (!nodes_file || !*nodes_file) {
        snprintf(default_file, sizeof default_file, "%s/nodes.json", fg_data_dir());
        nodes_file = default_file;
    }
    return fg_cluster_start_embedded(nodes_file, NULL, deadline_s, c, err);
}

/* ---- /proc -------------------------------------------------------------- */

int fg_cluster_proc_sample(const fg_cluster *c, fg_proc_sample *out)
{
    if (c->server_pid <= 0) return -1;
    char path[64], buf[2048];
    snprintf(path, sizeof path, "/proc/%ld/stat", (long)c->server_pid);
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    /* The command name may hold spaces and ')': fields restart after the
     * last ')'. utime and stime are fields 14 and 15 (1-based). */
    char *p = strrchr(buf, ')');
    if (!p) return -1;
    unsigned long long utime = 0, stime = 0;
    if (sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &utime, &stime) != 2)
        return -1;
    long tck = sysconf(_SC_CLK_TCK);
    if (tck <= 0) return -1;
    out->cpu_s = (double)(utime + stime) / (double)tck;

    snprintf(path, sizeof path, "/proc/%ld/status", (long)c->server_pid);
    f = fopen(path, "r");
    if (!f) return -1;
    out->rss_kb = out->peak_rss_kb = -1;
    char line[256];
    while (fgets(line, sizeof line, f)) {
        if (!strncmp(line, "VmRSS:", 6)) out->rss_kb = strtol(line + 6, NULL, 10);
        else if (!strncmp(line, "VmHWM:", 6)) out->peak_rss_kb = strtol(line + 6, NULL, 10);
    }
    fclose(f);
    return out->rss_kb >= 0 && out->peak_rss_kb >= 0 ? 0 : -1;
}

int fg_cluster_reset_peak_rss(const fg_cluster *c)
{
    if (c->server_pid <= 0) return -1;
    char path[64];
    snprintf(path, sizeof path, "/proc/%ld/clear_refs", (long)c->server_pid);
    int fd = open(path, O_WRONLY);
    if (fd < 0) return -1;
    ssize_t w = write(fd, "5", 1);
    close(fd);
    return w == 1 ? 0 : -1;
}
