/* gnuplot.c — the gnuplot runner (gnuplot.h). gnuplot runs as a child
 * process (posix_spawn, no shell) with the paths passed as -e variables,
 * so nothing a results file holds reaches a shell; a value that would end
 * a gnuplot '...' string is refused by the caller before it gets here.
 * Charts are drawn into a staging folder and moved into place whole
 * (gnuplot.h), so no reader ever sees a half-written one. */
#include "gnuplot.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "flowgate/stop.h"

extern char **environ;

const char *fg_plot_scripts_dir(void)
{
    const char *env = getenv("FLOWGATE_PLOTS");
    if (env && *env) return env;
#ifdef FLOWGATE_SOURCE_DIR
    return FLOWGATE_SOURCE_DIR "/plots";
#else
    return "plots";
#endif
}

/* PATH lookup done here so a missing gnuplot gives one clear message
 * instead of a failed spawn per chart. */
static int find_gnuplot(char *path, size_t n, fg_err *err)
{
    const char *env = getenv("PATH");
    int found = -1;
    if (env) {
        char *copy = strdup(env), *save = NULL;
        for (char *dir = strtok_r(copy, ":", &save); dir && found; dir = strtok_r(NULL, ":", &save)) {
            snprintf(path, n, "%s/gnuplot", *dir ? dir : ".");
            if (access(path, X_OK) == 0) found = 0;
        }
        free(copy);
    }
    if (found != 0) return fg_err_set(err, "gnuplot not found: install gnuplot-nox");
    return 0;
}

int fg_plot_have_gnuplot(fg_err *err)
{
    char gnuplot[1024];
    return find_gnuplot(gnuplot, sizeof gnuplot, err);
}

/* The staging folder charts are being drawn into, if any (fg_plot_stage_open). */
static fg_plot_stage *current;

int fg_plot_gnuplot(const char *chart, const char *vars, fg_err *err)
{
    char gnuplot[1024];
    if (find_gnuplot(gnuplot, sizeof gnuplot, err) != 0) return -1;
    char script[1200];
    snprintf(script, sizeof script, "%s/%s.gp", fg_plot_scripts_dir(), chart);
    if (access(script, R_OK) != 0)
        return fg_err_set(err, "%s: plot script missing (set FLOWGATE_PLOTS)", script);
    if (fg_stop_requested()) return fg_err_set(err, "%s", FG_PLOT_INTERRUPTED);
    char *argv[] = {"gnuplot", "-e", (char *)vars, script, NULL};
    pid_t pid;
    int rc = posix_spawn(&pid, gnuplot, NULL, NULL, argv, environ);
    if (rc != 0) return fg_err_set(err, "%s: cannot start: %s", gnuplot, strerror(rc));
    /* Polled, so a stop ends gnuplot at once whatever the signal flags
     * (a stop resumes a blocking wait); what it drew is discarded. */
    int status, stopped = 0;
    for (;;) {
        pid_t got = waitpid(pid, &status, WNOHANG);
        if (got == pid) break;
        if (got < 0 && errno != EINTR) return fg_err_set(err, "gnuplot: wait failed: %s", strerror(errno));
        if (fg_stop_requested() && !stopped) {
            kill(pid, SIGKILL);
            stopped = 1;
        }
        fg_sleep_ms(got < 0 ? 0 : 5);
    }
    if (stopped || fg_stop_requested()) return fg_err_set(err, "%s", FG_PLOT_INTERRUPTED);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        return fg_err_set(err, "gnuplot failed on %s (status %d)", script, status);
    return current ? fg_plot_stage_commit(current, 0, err) : 0;
}

/* ---- the staging folder ------------------------------------------------- */

static int ends_with(const char *s, const char *tail)
{
    size_t n = strlen(s), k = strlen(tail);
    return n >= k && !strcmp(s + n - k, tail);
}

/* A drawn image: its stem (the name without .png/.svg) into stem. */
static int image_stem(const char *name, char *stem, size_t size)
{
    if (!ends_with(name, ".png") && !ends_with(name, ".svg")) return 0;
    snprintf(stem, size, "%.*s", (int)(strlen(name) - 4), name);
    return 1;
}

/* Moves the files of tmp (recursively) into dir: every one (all), or the
 * images gnuplot drew and the files sharing their stem (their data). */
static int commit_tree(const char *tmp, const char *dir, int all, fg_err *err)
{
    DIR *d = opendir(tmp);
    if (!d) return fg_err_set(err, "%s: cannot open: %s", tmp, strerror(errno));
    char stems[64][128];
    int n_stems = 0, rc = 0;
    struct dirent *de;
    while (!all && (de = readdir(d)))
        if (n_stems < 64 && image_stem(de->d_name, stems[n_stems], sizeof stems[0])) n_stems++;
    rewinddir(d);
    while (rc == 0 && (de = readdir(d))) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..")) continue;
        char from[1600], to[1600];
        snprintf(from, sizeof from, "%s/%s", tmp, de->d_name);
        snprintf(to, sizeof to, "%s/%s", dir, de->d_name);
        struct stat st;
        if (lstat(from, &st) != 0) continue;
        if (S_ISDIR(st.st_mode)) {
            rc = fg_mkdirs(to, err);
            if (rc == 0) rc = commit_tree(from, to, all, err);
            continue;
        }
        int take = all;
        for (int i = 0; !take && i < n_stems; i++) {
            size_t k = strlen(stems[i]);
            take = !strncmp(de->d_name, stems[i], k) && de->d_name[k] == '.';
        }
        if (take && rename(from, to) != 0)
            rc = fg_err_set(err, "%s: cannot move into place: %s", to, strerror(errno));
    }
    closedir(d);
    return rc;
}

/* Removes tmp and everything under it. */
static void remove_tree(const char *tmp)
{
    DIR *d = opendir(tmp);
    if (d) {
        struct dirent *de;
        while ((de = readdir(d))) {
            if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..")) continue;
            char path[1600];
            struct stat st;
            snprintf(path, sizeof path, "%s/%s", tmp, de->d_name);
            if (lstat(path, &st) == 0 && S_ISDIR(st.st_mode)) remove_tree(path);
            else unlink(path);
        }
        closedir(d);
    }
    rmdir(tmp);
}

int fg_plot_stage_open(fg_plot_stage *st, const char *dir, fg_err *err)
{
    if ((size_t)snprintf(st->dir, sizeof st->dir, "%s", dir) >= sizeof st->dir ||
        (size_t)snprintf(st->tmp, sizeof st->tmp, "%s/.partial-%ld", dir, (long)getpid()) >=
            sizeof st->tmp)
        return fg_err_set(err, "%s: path too long", dir);
    if (fg_mkdirs(dir, err) != 0) return -1;
    remove_tree(st->tmp);   /* a crashed run's with the same pid */
    if (mkdir(st->tmp, 0755) != 0)
        return fg_err_set(err, "%s: cannot create: %s", st->tmp, strerror(errno));
    current = st;
    return 0;
}

int fg_plot_stage_commit(fg_plot_stage *st, int all, fg_err *err)
{
    return commit_tree(st->tmp, st->dir, all, err);
}

int fg_plot_stage_close(fg_plot_stage *st, int keep, fg_err *err)
{
    int rc = keep ? fg_plot_stage_commit(st, 1, err) : 0;
    remove_tree(st->tmp);
    if (current == st) current = NULL;
    return rc;
}

int fg_plot_safe_for_gnuplot(const char *s)
{
    return !strchr(s, '\'') && !strchr(s, '\n');
}
