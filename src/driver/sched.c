/* sched.c — the four placement policies behind one interface (sched.h).
 *
 * Every policy sees the same live state (in-flight invocations, capacity,
 * up/down per node) and skips down nodes whenever any node is up; when none
 * is up all are candidates, so a request still fails visibly instead of
 * never being sent.
 *
 *   round_robin  a cursor over the nodes, advanced on every pick.
 *   palette      splitmix64 (fg_mix64) of the request id picks a colour; colours are spread
 *                over nodes in proportion to their workers, so a request
 *                sticks to one node and big nodes get more requests. A down
 *                node hands its colours to the next up node.
 *   faaspr       groups are derived from the DAG once: the longest path by
 *                expected cost (mean alpha over nodes) is group 0, then the
 *                longest path through the steps left, and so on. Per request,
 *                a group is placed when its first function is scheduled, on
 *                the node with the most free workers (ties: more workers,
 *                then lower index); when every node is saturated, a smooth
 *                weighted round robin by workers spreads the overflow.
 *   ours         argmin over nodes of the predicted finish time (ms):
 *                  exec     = alpha_f,n * size^eta_f,n     (size = input MB)
 *                  queue    = max(0, inflight - capacity + 1) * job / capacity
 *                             (the jobs ahead of us once all workers are
 *                             busy, served by `capacity` workers in
 *                             parallel; job = the mean predicted exec time
 *                             of what this scheduler placed on the node and
 *                             is still in flight, so a cheap function does
 *                             not expect a short wait behind OCR; jobs it
 *                             did not place count as costing what ours does)
 *                  transfer = for each input stored on another node m:
 *                             bytes*8 / bandwidth_m + latency_m
 *                  call     = latency of the node invoked
 *                ties go to the lowest index.
 * Per-request placements (faaspr) live in a small open-addressed table that
 * recycles the least recently used slot, so memory stays bounded without a
 * "request finished" callback; it holds far more requests than are ever in
 * flight at once. A scheduler belongs to one event loop: no locking. */
#include "flowgate/sched.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const fg_sched_names[] = {"ours", "faaspr", "palette", "round_robin", NULL};

typedef enum { POLICY_OURS, POLICY_FAASPR, POLICY_PALETTE, POLICY_ROUND_ROBIN } policy;

#define PLACEMENT_SLOTS 4096
#define PLACEMENT_PROBES 16

typedef struct placement {
    uint64_t request_id;
    uint64_t last_use;       /* 0 = empty slot */
    signed char node[FG_WF_MAX_STEPS];   /* per group; -1 = not placed yet */
} placement;

struct fg_scheduler {
    policy kind;
    int n_steps;             /* workflow steps */
    int n_nodes;             /* cluster nodes */
    double alpha[FG_WF_MAX_STEPS][FG_MAX_NODES];
    double eta[FG_WF_MAX_STEPS][FG_MAX_NODES];
    unsigned rr_cursor;
    int group_of[FG_WF_MAX_STEPS];
    int n_groups;
    int wrr_current[FG_MAX_NODES];
    /* ours: predicted exec of the in-flight work per node, and the
     * in-flight count it describes. Completions are seen only as a lower
     * in-flight count, so finished jobs take their share of the mean. */
    double outstanding_ms[FG_MAX_NODES];
    int tracked[FG_MAX_NODES];
    uint64_t clock;
    placement *placements;
};

static int profile_row(const fg_profile *p, const char *function)
{
    for (int f = 0; f < p->n_functions; f++)
        if (!strcmp(p->functions[f], function)) return f;
    return -1;
}

static int profile_col(const fg_profile *p, const char *node)
{
    for (int n = 0; n < p->n_nodes; n++)
        if (!strcmp(p->nodes[n], node)) return n;
    return -1;
}

/* Cost model per (workflow step, cluster node): the profile's cell when it
 * was measured, the fallback's otherwise. */
static void build_costs(fg_scheduler *s, const fg_workflow *wf, const fg_cluster *c,
                        const fg_profile *profile)
{
    fg_profile *fallback = malloc(sizeof *fallback);
    if (fallback) fg_profile_fallback(fallback, c, wf);
    for (int f = 0; f < s->n_steps; f++)
        for (int n = 0; n < s->n_nodes; n++) {
            double a = NAN, e = NAN;
            if (profile && c) {
                int row = profile_row(profile, wf->steps[f].id);
                int col = profile_col(profile, c->nodes[n].name);
                if (row >= 0 && col >= 0) {
                    a = profile->alpha[row][col];
                    e = profile->eta[row][col];
                }
            }
            if (!(a > 0) || !isfinite(e)) {
                int ok = fallback && f < fallback->n_functions && n < fallback->n_nodes;
                a = ok ? fallback->alpha[f][n] : 50.0;
                e = ok ? fallback->eta[f][n] : 1.0;
            }
            s->alpha[f][n] = a;
            s->eta[f][n] = e;
        }
    free(fallback);
}

/* ---- faaspr groups ------------------------------------------------------ */

static void add_links(const fg_wf_link *links, int n, int succ[][FG_WF_MAX_STEPS], int *n_succ,
                      int n_steps)
{
    for (int i = 0; i < n; i++) {
        int to = links[i].to;
        if (to < 0 || to >= n_steps) continue;
        for (int k = 0; k < links[i].n_from; k++) {
            int from = links[i].from[k];
            if (from < 0 || from >= n_steps || from == to) continue;
            int dup = 0;
            for (int j = 0; j < n_succ[from]; j++) dup |= succ[from][j] == to;
            if (!dup) succ[from][n_succ[from]++] = to;
        }
    }
}

/* Longest path (by cost) through unassigned steps, memoised depth-first;
 * the workflow loader guarantees a DAG. best[v] = cost of the best path
 * starting at v, next[v] = its second step. */
static double longest_from(int v, int succ[][FG_WF_MAX_STEPS], const int *n_succ, const double *cost,
                           const int *assigned, double *best, int *next)
{
    if (best[v] >= 0) return best[v];
    best[v] = cost[v];   /* guards against a cycle in a malformed graph */
    double tail = 0;
    next[v] = -1;
    for (int j = 0; j < n_succ[v]; j++) {
        int w = succ[v][j];
        if (assigned[w]) continue;
        double t = longest_from(w, succ, n_succ, cost, assigned, best, next);
        if (next[v] < 0 || t > tail) {   /* ties: the first link listed */
            tail = t;
            next[v] = w;
        }
    }
    best[v] = cost[v] + tail;
    return best[v];
}

static void derive_groups(fg_scheduler *s, const fg_workflow *wf)
{
    int n = s->n_steps;
    int succ[FG_WF_MAX_STEPS][FG_WF_MAX_STEPS];
    int n_succ[FG_WF_MAX_STEPS] = {0};
    for (int e = 0; e < wf->n_edges; e++) {
        const fg_wf_edge *edge = &wf->edges[e];
        add_links(edge->links, edge->n_links, succ, n_succ, n);
        add_links(edge->then_links, edge->n_then, succ, n_succ, n);
        add_links(edge->else_links, edge->n_else, succ, n_succ, n);
    }
    double cost[FG_WF_MAX_STEPS];
    for (int f = 0; f < n; f++) {
        double sum = 0;
        for (int k = 0; k < s->n_nodes; k++) sum += s->alpha[f][k];
        cost[f] = s->n_nodes ? sum / s->n_nodes : 1.0;
    }
    int assigned[FG_WF_MAX_STEPS] = {0};
    int left = n;
    s->n_groups = 0;
    while (left > 0) {
        double best[FG_WF_MAX_STEPS];
        int next[FG_WF_MAX_STEPS];
        for (int f = 0; f < n; f++) best[f] = -1;
        int start = -1;
        double start_cost = -1;
        for (int f = 0; f < n; f++) {
            if (assigned[f]) continue;
            double t = longest_from(f, succ, n_succ, cost, assigned, best, next);
            if (t > start_cost) {
                start_cost = t;
                start = f;
            }
        }
        int g = s->n_groups++;
        for (int v = start; v >= 0; v = next[v]) {
            s->group_of[v] = g;
            assigned[v] = 1;
            left--;
        }
    }
}

/* ---- construction ------------------------------------------------------- */

fg_scheduler *fg_sched_new(const char *name, const fg_workflow *wf,
                           const fg_cluster *c, const fg_profile *profile,
                           fg_err *err)
{
    policy kind;
    if (!name) name = "";
    if (!strcmp(name, "ours")) kind = POLICY_OURS;
    else if (!strcmp(name, "faaspr")) kind = POLICY_FAASPR;
    else if (!strcmp(name, "palette")) kind = POLICY_PALETTE;
    else if (!strcmp(name, "round_robin")) kind = POLICY_ROUND_ROBIN;
    else {
        fg_err_set(err, "unknown scheduler '%s' (known: ours, faaspr, palette, round_robin)", name);
        return NULL;
    }
    if (wf && wf->n_steps > FG_WF_MAX_STEPS) {
        fg_err_set(err, "workflow %s: %d steps, at most %d supported", wf->name ? wf->name : "?",
                   wf->n_steps, FG_WF_MAX_STEPS);
        return NULL;
    }
    fg_scheduler *s = calloc(1, sizeof *s);
    if (!s) {
        fg_err_set(err, "scheduler %s: out of memory", name);
        return NULL;
    }
    s->kind = kind;
    s->n_steps = wf ? wf->n_steps : 0;
    s->n_nodes = c ? (c->n_nodes < FG_MAX_NODES ? c->n_nodes : FG_MAX_NODES) : 0;
    if (wf) build_costs(s, wf, c, profile);
    if (kind == POLICY_FAASPR) {
        if (wf) derive_groups(s, wf);
        s->placements = calloc(PLACEMENT_SLOTS, sizeof *s->placements);
        if (!s->placements) {
            free(s);
            fg_err_set(err, "scheduler %s: out of memory", name);
            return NULL;
        }
    }
    return s;
}

void fg_sched_free(fg_scheduler *s)
{
    if (!s) return;
    free(s->placements);
    free(s);
}

const char *fg_sched_name(const fg_scheduler *s)
{
    return fg_sched_names[s->kind];
}

/* ---- policies ----------------------------------------------------------- */

/* Down nodes are candidates only when no node is up. */
static int any_up(const fg_node_state *nodes, int n)
{
    for (int i = 0; i < n; i++)
        if (nodes[i].up) return 1;
    return 0;
}

static int capacity_of(const fg_node_state *node)
{
    return node->capacity > 0 ? node->capacity : 1;
}

static int pick_round_robin(fg_scheduler *s, const fg_node_state *nodes, int n, int skip_down)
{
    for (int k = 0; k < n; k++) {
        int i = (int)((s->rr_cursor + (unsigned)k) % (unsigned)n);
        if (skip_down && !nodes[i].up) continue;
        s->rr_cursor = (unsigned)(i + 1) % (unsigned)n;
        return i;
    }
    return 0;
}

static int pick_palette(const fg_sched_request *req, const fg_node_state *nodes, int n, int skip_down)
{
    long total = 0;
    for (int i = 0; i < n; i++) total += capacity_of(&nodes[i]);
    long colour = (long)(fg_mix64(req->request_id) % (uint64_t)total);
    int home = 0;
    for (long acc = 0; home < n; home++) {
        acc += capacity_of(&nodes[home]);
        if (colour < acc) break;
    }
    for (int k = 0; k < n; k++) {
        int i = (home + k) % n;
        if (!skip_down || nodes[i].up) return i;
    }
    return home;
}

/* Smooth weighted round robin (as in nginx): each pick adds every node's
 * weight to its running score, takes the highest and subtracts the total.
 * Over any window the picks match the weights and are evenly interleaved. */
static int pick_weighted(fg_scheduler *s, const fg_node_state *nodes, int n, int skip_down)
{
    int best = -1, total = 0;
    for (int i = 0; i < n; i++) {
        if (skip_down && !nodes[i].up) continue;
        int w = capacity_of(&nodes[i]);
        s->wrr_current[i] += w;
        total += w;
        if (best < 0 || s->wrr_current[i] > s->wrr_current[best]) best = i;
    }
    if (best < 0) return 0;
    s->wrr_current[best] -= total;
    return best;
}

static placement *placement_for(fg_scheduler *s, uint64_t request_id)
{
    size_t home = (size_t)(fg_mix64(request_id) % PLACEMENT_SLOTS);
    placement *victim = NULL;
    s->clock++;
    for (int k = 0; k < PLACEMENT_PROBES; k++) {
        placement *p = &s->placements[(home + (size_t)k) % PLACEMENT_SLOTS];
        if (p->last_use && p->request_id == request_id) {
            p->last_use = s->clock;
            return p;
        }
        if (!victim || p->last_use < victim->last_use) victim = p;
    }
    /* New request: an empty slot or the least recently used one. */
    victim->request_id = request_id;
    victim->last_use = s->clock;
    memset(victim->node, -1, sizeof victim->node);
    return victim;
}

static int pick_faaspr(fg_scheduler *s, const fg_sched_request *req, const fg_node_state *nodes,
                       int n, int skip_down)
{
    int group = req->step >= 0 && req->step < s->n_steps ? s->group_of[req->step] : 0;
    placement *p = placement_for(s, req->request_id);
    int placed = p->node[group];
    if (placed >= 0 && placed < n && (!skip_down || nodes[placed].up)) return placed;

    int best = -1, best_free = 0;
    for (int i = 0; i < n; i++) {
        if (skip_down && !nodes[i].up) continue;
        int free_workers = capacity_of(&nodes[i]) - nodes[i].inflight;
        if (best < 0 || free_workers > best_free ||
            (free_workers == best_free && capacity_of(&nodes[i]) > capacity_of(&nodes[best]))) {
            best = i;
            best_free = free_workers;
        }
    }
    if (best < 0 || best_free <= 0) best = pick_weighted(s, nodes, n, skip_down);
    p->node[group] = (signed char)best;
    return best;
}

static double exec_ms(const fg_scheduler *s, const fg_sched_request *req, int i)
{
    double size = 0;
    for (int k = 0; k < req->n_inputs; k++) size += req->inputs[k].mb > 0 ? req->inputs[k].mb : 0;
    if (size < 1e-3) size = 1e-3;   /* text and flags: a token size */
    double alpha = 50.0, eta = 1.0;
    if (req->step >= 0 && req->step < s->n_steps && i < s->n_nodes) {
        alpha = s->alpha[req->step][i];
        eta = s->eta[req->step][i];
    }
    return alpha * pow(size, eta);
}

/* Brings the outstanding-work estimate in line with the observed count. */
static void sync_outstanding(fg_scheduler *s, const fg_node_state *node, int i, double exec)
{
    int now = node->inflight > 0 ? node->inflight : 0;
    if (now < s->tracked[i]) {
        s->outstanding_ms[i] *= (double)now / s->tracked[i];
    } else if (now > s->tracked[i]) {
        s->outstanding_ms[i] += (now - s->tracked[i]) * exec;
    }
    s->tracked[i] = now;
}

static double predicted_ms(const fg_scheduler *s, const fg_sched_request *req,
                           const fg_node_state *nodes, int n_nodes, int i, double exec)
{
    int cap = capacity_of(&nodes[i]);
    int ahead = nodes[i].inflight - cap + 1;
    double job = s->tracked[i] > 0 ? s->outstanding_ms[i] / s->tracked[i] : exec;
    double queue = ahead > 0 ? ahead * job / cap : 0;
    double transfer = 0;
    for (int k = 0; k < req->n_inputs; k++) {
        int m = req->inputs[k].node;
        if (m < 0 || m == i || m >= n_nodes) continue;
        if (nodes[m].bandwidth_mbit > 0)
            transfer += req->inputs[k].mb * FG_MB * 8.0 / (nodes[m].bandwidth_mbit * 1e6) * 1e3;
        transfer += nodes[m].latency_ms;
    }
    return queue + exec + transfer + nodes[i].latency_ms;
}

static int pick_ours(fg_scheduler *s, const fg_sched_request *req, const fg_node_state *nodes,
                     int n, int skip_down)
{
    double exec[FG_MAX_NODES];
    for (int i = 0; i < n; i++) {
        exec[i] = exec_ms(s, req, i);
        sync_outstanding(s, &nodes[i], i, exec[i]);
    }
    int best = -1;
    double best_ms = 0;
    for (int i = 0; i < n; i++) {
        if (skip_down && !nodes[i].up) continue;
        double t = predicted_ms(s, req, nodes, n, i, exec[i]);
        if (best < 0 || t < best_ms) {
            best = i;
            best_ms = t;
        }
    }
    if (best < 0) best = 0;
    /* the caller sends it: it is in flight from now on */
    s->outstanding_ms[best] += exec[best];
    s->tracked[best]++;
    return best;
}

int fg_sched_pick(fg_scheduler *s, const fg_sched_request *req,
                  const fg_node_state *nodes, int n_nodes)
{
    if (n_nodes <= 0) return -1;
    if (n_nodes > FG_MAX_NODES) n_nodes = FG_MAX_NODES;
    if (n_nodes == 1) return 0;
    int skip_down = any_up(nodes, n_nodes);
    switch (s->kind) {
    case POLICY_ROUND_ROBIN: return pick_round_robin(s, nodes, n_nodes, skip_down);
    case POLICY_PALETTE:     return pick_palette(req, nodes, n_nodes, skip_down);
    case POLICY_FAASPR:      return pick_faaspr(s, req, nodes, n_nodes, skip_down);
    case POLICY_OURS:        return pick_ours(s, req, nodes, n_nodes, skip_down);
    }
    return 0;
}

/* The faaspr group of a workflow step (tests and reports); -1 otherwise. */
int fg_sched_group_of(const fg_scheduler *s, int step)
{
    if (s->kind != POLICY_FAASPR || step < 0 || step >= s->n_steps) return -1;
    return s->group_of[step];
}
