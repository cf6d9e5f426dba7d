/* fdlimit.h — the file descriptors an experiment can need, held against
 * RLIMIT_NOFILE before it sends anything (fdlimit.c). Internal to the
 * driver (src/driver).
 *
 * The rule (README "Load model"): need = descriptors open now + the most
 * connections the load can hold at once (instances in flight — the
 * concurrency, or the open loop's in-flight cap — × the workflow's most
 * steps in flight per instance) + the experiment's other descriptors
 * (one per endpoint for the resource sampler, FG_FD_FILES for the timeline,
 * the results file, curl's own and /proc reads) + FG_FD_MARGIN. A soft limit
 * below that is raised, as far as the hard limit allows, to what the
 * connection cache wants; a hard limit below the need is refused, one line
 * naming the numbers and `ulimit -n`. */
#ifndef FLOWGATE_FDLIMIT_H
#define FLOWGATE_FDLIMIT_H
#include "flowgate/common.h"

#define FG_FD_FILES 8
#define FG_FD_MARGIN 32

typedef struct fg_fd_plan {
    long instances;      /* most workflow instances in flight at once */
    long per_instance;   /* most steps of one instance in flight at once */
    long cache;          /* connections curl would like to keep alive (>= the load's) */
    long files;          /* the experiment's other descriptors (endpoints + FG_FD_FILES) */
    const char *load;    /* what sets `instances`, for the message: "concurrency 30" */
    const char *lower;   /* what to lower instead: "the concurrency", "--max-inflight" */
} fg_fd_plan;

/* Descriptors this process has open (/proc/self/fd); -1 unknown. */
long fg_fd_open_count(void);

/* Holds the plan against RLIMIT_NOFILE with open_now descriptors already
 * open: raises the soft limit when it is short (never above the hard one,
 * never lowers it), then returns the connection cache that fits: plan->cache,
 * or less, but never less than the load's connections. -1 with one line in
 * err (starting with who) when even the load's connections do not fit. */
long fg_fd_fit(const fg_fd_plan *plan, long open_now, const char *who, fg_err *err);

#endif
