/* check.h — `flowgate check`'s method (check.c): every step of a workflow
 * invoked once on each node with realistic input, the by-hand smoke test of
 * a cluster.
 *
 * The requests are those of a run (probe.c): the workflow's payload (for
 * the image kind a test image of size_mb) into the steps reading the
 * inputs, then each step fed the real outputs of those it reads, blob
 * outputs by reference in node mode (each node keeps its own blobs) and
 * inline in function mode (the containers keep none). Every branch of every
 * switch is taken, so every step runs; one whose input's producer failed is
 * reported as not run, naming it. */
#ifndef FLOWGATE_CHECK_H
#define FLOWGATE_CHECK_H
#include "flowgate/cluster.h"
#include "flowgate/invoke.h"
#include "flowgate/payload.h"
#include "flowgate/workflow.h"

#define FG_CHECK_MIN_MB 0.05   /* the image generator's limits */
#define FG_CHECK_MAX_MB 64.0

typedef struct fg_check_opts {
    const char *endpoints;     /* NULL: FLOWGATE_ENDPOINTS or the embedded nodes */
    const fg_workflow *wf;
    double size_mb;            /* the image kind's input size */
} fg_check_opts;

/* What is being checked, known once the cluster answers. */
typedef struct fg_check_target {
    const fg_workflow *wf;
    const fg_cluster *c;
    const fg_payload *p;
    const char *image_path;    /* "" unless the payload is the test image */
    int image_created;         /* the image was generated for this check */
} fg_check_target;

typedef struct fg_check_ops {
    void (*begin)(void *ctx, const fg_check_target *t);
    void (*result)(void *ctx, const fg_check_target *t, int node, int step,
                   const fg_invoke_result *r);
} fg_check_ops;

typedef struct fg_check_tally {
    int total, ok;
    int works_everywhere[FG_WF_MAX_STEPS];   /* per step: ok on every node */
} fg_check_tally;

/* Resolves (or starts) the cluster, checks every step on every node and
 * stops the cluster. 0 with the tally (some invocations may have failed),
 * -1 and err when the check could not run (image, cluster, payload). */
int fg_check(const fg_check_opts *o, const fg_check_ops *ops, void *ctx, fg_check_tally *tally,
             fg_err *err);

#endif
