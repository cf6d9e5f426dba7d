/* fdlimit.c — the file descriptors an experiment can need against
 * RLIMIT_NOFILE (rule in fdlimit.h). Without it a limit too low for the
 * load shows only as requests failing in the driver ("client") while the
 * run goes on, and the timeline cannot be written at the end. */
#include "fdlimit.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>

long fg_fd_open_count(void)
{
    DIR *d = opendir("/proc/self/fd");
    if (!d) return -1;
    long n = 0;
    for (struct dirent *de; (de = readdir(d));)
        if (de->d_name[0] != '.') n++;
    closedir(d);
    return n - 1;   /* the directory's own descriptor */
}

static long limit_value(rlim_t v)
{
    return v == RLIM_INFINITY || v > (rlim_t)0x7fffffff ? 0x7fffffffL : (long)v;
}

long fg_fd_fit(const fg_fd_plan *plan, long open_now, const char *who, fg_err *err)
{
    if (open_now < 0) open_now = 16;   /* no /proc: a guess */
    long connections = plan->instances * plan->per_instance;
    long fixed = open_now + plan->files + FG_FD_MARGIN;
    long need = fixed + connections;
    long want = fixed + (plan->cache > connections ? plan->cache : connections);
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return fg_err_set(err, "%s: cannot read the file descriptor limit: %s", who,
                          strerror(errno));
    long soft = limit_value(rl.rlim_cur), hard = limit_value(rl.rlim_max);
    if (soft < want) {
        struct rlimit up = rl;
        up.rlim_cur = (rlim_t)(want < hard ? want : hard);
        if (setrlimit(RLIMIT_NOFILE, &up) == 0) soft = (long)up.rlim_cur;
    }
    if (soft < need)
        return fg_err_set(err, "%s: too few file descriptors: %ld connections at once (%s x %ld "
                          "per instance) + %ld open + %ld for files + a margin of %d need %ld, "
                          "the limit is %ld (hard %ld): raise it (ulimit -n %ld) or lower %s",
                          who, connections, plan->load, plan->per_instance, open_now,
                          plan->files, FG_FD_MARGIN, need, soft, hard, need, plan->lower);
    long cache = plan->cache > connections ? plan->cache : connections;
    return soft - fixed < cache ? soft - fixed : cache;
}
