/* sched.h — placement: which node runs each function invocation. One
 * interface for every policy: the function, where its inputs live and how
 * big they are, and the live node state the engine keeps (in-flight
 * invocations per node) → a node index.
 *
 *   round_robin  next node in turn, per function call.
 *   palette      a hash of the request id picks a node ("colour"); every
 *                function of that request stays there unless it is down.
 *   faaspr       functions grouped along the critical path; each group is
 *                placed on the node with the most free capacity; ties and
 *                spill-over routed by capacity weight.
 *   ours         argmin over nodes of predicted finish time:
 *                queue wait + alpha*size^eta (calibrated per function and
 *                node) + transfer of inputs stored elsewhere
 *                (bytes / bandwidth + latency). */
#ifndef FLOWGATE_SCHED_H
#define FLOWGATE_SCHED_H
#include "flowgate/cluster.h"
#include "flowgate/workflow.h"

typedef struct fg_profile {
    char name[64];
    int n_functions, n_nodes;
    char functions[FG_MAX_FUNCTIONS][64];
    char nodes[FG_MAX_NODES][32];
    double alpha[FG_MAX_FUNCTIONS][FG_MAX_NODES];   /* ms at 1 MB */
    double eta[FG_MAX_FUNCTIONS][FG_MAX_NODES];
    double r2[FG_MAX_FUNCTIONS][FG_MAX_NODES];
    int calibrated;    /* 0: the documented fallback is in use */
} fg_profile;

/* results/profiles/<name>.json as written by `flowgate calibrate`. */
int fg_profile_load(const char *path, fg_profile *p, fg_err *err);
int fg_profile_save(const char *path, const fg_profile *p, fg_err *err);
/* The fallback without calibration: alpha from node capacity, eta = 1. */
void fg_profile_fallback(fg_profile *p, const fg_cluster *c, const fg_workflow *wf);
/* Least squares of log t = log alpha + eta log size; returns R². */
double fg_fit_power_law(const double *size_mb, const double *ms, int n,
                        double *alpha, double *eta);

typedef struct fg_node_state {
    int inflight;          /* invocations sent and not yet answered */
    int capacity;          /* workers */
    double bandwidth_mbit;
    double latency_ms;
    int up;                /* 0 after connect errors, until a success */
} fg_node_state;

typedef struct fg_sched_input {
    int node;              /* where the input is stored; -1 = travels inline */
    double mb;
} fg_sched_input;

typedef struct fg_sched_request {
    uint64_t request_id;   /* workflow instance */
    int step;              /* workflow step index (its function: `function`) */
    const char *function;
    fg_sched_input inputs[FG_WF_MAX_FANIN];
    int n_inputs;
    int prev_node;         /* node of this request's previous function, -1 */
} fg_sched_request;

typedef struct fg_scheduler fg_scheduler;

/* Unknown name → NULL with "unknown scheduler 'x' (known: ours, faaspr,
 * palette, round_robin)". profile may be NULL (fallback). */
fg_scheduler *fg_sched_new(const char *name, const fg_workflow *wf,
                           const fg_cluster *c, const fg_profile *profile,
                           fg_err *err);
int fg_sched_pick(fg_scheduler *s, const fg_sched_request *req,
                  const fg_node_state *nodes, int n_nodes);
const char *fg_sched_name(const fg_scheduler *s);
void fg_sched_free(fg_scheduler *s);

extern const char *const fg_sched_names[];

/* faaspr: the group (0 = the critical path) a workflow step belongs to;
 * -1 for other policies. */
int fg_sched_group_of(const fg_scheduler *s, int step);   /* NULL-terminated */

#endif
