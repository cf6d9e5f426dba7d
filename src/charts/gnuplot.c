/* gnuplot.c — the gnuplot runner (gnuplot.h). gnuplot runs as a child
 * process (posix_spawn, no shell) with the paths passed as -e variables,
 * so nothing a results file holds reaches a shell; a value that would end
 * a gnuplot '...' string is refused by the caller before it gets here. */
#include "gnuplot.h"

#include <errno.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

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

int fg_plot_gnuplot(const char *chart, const char *vars, fg_err *err)
{
    char gnuplot[1024];
    if (find_gnuplot(gnuplot, sizeof gnuplot, err) != 0) return -1;
    char script[1200];
    snprintf(script, sizeof script, "%s/%s.gp", fg_plot_scripts_dir(), chart);
    if (access(script, R_OK) != 0)
        return fg_err_set(err, "%s: plot script missing (set FLOWGATE_PLOTS)", script);
    char *argv[] = {"gnuplot", "-e", (char *)vars, script, NULL};
    pid_t pid;
    int rc = posix_spawn(&pid, gnuplot, NULL, NULL, argv, environ);
    if (rc != 0) return fg_err_set(err, "%s: cannot start: %s", gnuplot, strerror(rc));
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR) return fg_err_set(err, "gnuplot: wait failed: %s", strerror(errno));
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        return fg_err_set(err, "gnuplot failed on %s (status %d)", script, status);
    return 0;
}

int fg_plot_safe_for_gnuplot(const char *s)
{
    return !strchr(s, '\'') && !strchr(s, '\n');
}
