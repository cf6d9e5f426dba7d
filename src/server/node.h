/* node.h — one emulated node: its profile, its worker slots (each with a
 * warm OCR engine), its blob store, its egress link, its memory budget,
 * its injected faults and its counters; and
 * the process-wide state every node shares (limits, dictionary, word list,
 * the sibling nodes a blob reference may point at). */
#ifndef FLOWGATE_SERVER_NODE_H
#define FLOWGATE_SERVER_NODE_H
#include <pthread.h>
#include "flowgate/blobstore.h"
#include "flowgate/limits.h"
#include "flowgate/censor.h"
#include "flowgate/ocr.h"
#include "flowgate/translate.h"
#include "budget.h"
#include "faults.h"
#include "slowdown.h"

typedef struct fg_node_profile {
    char name[32];
    int port;
    int workers;
    double bandwidth_mbit;      /* 0 = no bandwidth emulation */
    double latency_ms;
    size_t blob_store_bytes;
    /* The known-effect knobs (slowdown.h). fn_slowdown[i] >= 1: function i
     * takes ~that x its real exec time; slowdown is the least of them, the
     * factor every function gets at least. */
    double slowdown;
    double fn_slowdown[FG_MAX_FUNCTIONS];
    fg_tail_delay tail;
    fg_budget_profile limits;   /* memory_mb and what it bounds (budget.h) */
    fg_fault_spec faults;       /* the faults in force at start (faults.h) */
} fg_node_profile;

typedef struct fg_site_profile {
    size_t max_body_bytes;
    uint64_t max_pixels;
    double blob_ttl_s;
    double slowdown;            /* the least factor the top level gives a function */
    fg_tail_delay tail;         /* the top level's, every node's default */
    fg_fault_spec faults;       /* the top level's, every node's default */
    fg_node_profile nodes[FG_MAX_NODES];
    int n_nodes;
} fg_site_profile;

/* "slowdown" (a factor >= 1 or an object of function names to factors,
 * default 1), "tail_delay" and "faults" may be given at the top level and
 * per node; a node's own value wins (per function, for slowdown:
 * slowdown.h). So may the budget's keys (budget.h); "memory_mb" is the
 * node's own. */
int fg_site_profile_parse(const char *json, size_t len, fg_site_profile *p, fg_err *err);
int fg_site_profile_load(const char *path, fg_site_profile *p, fg_err *err);

typedef struct fg_function fg_function;
typedef struct fg_node fg_node;

/* A node of the profile served by another process (one node per
 * container, --node): reached only by URL, for the blobs it owns. */
typedef struct fg_peer {
    char name[32];
    char url[160];
    size_t blob_store_bytes;    /* no blob of its is larger */
} fg_peer;

/* Everything the nodes of one process share. Read-only once serving. */
typedef struct fg_site {
    fg_site_profile profile;
    fg_dict *dict;              /* translate; NULL when not hosted */
    fg_censor *censor;          /* censor; NULL when not hosted */
    const fg_function *only;    /* container mode: the one function */
    int reference_errors;       /* container mode: handled errors as HTTP 200 +
                                 * "status":"error", like the reference */
    fg_node *nodes;
    int n_nodes;
    fg_peer peers[FG_MAX_NODES];
    int n_peers;
} fg_site;

typedef struct fg_worker {
    int index;
    fg_ocr *ocr;                /* created by the first extract on this slot */
} fg_worker;

struct fg_node {
    fg_node_profile prof;
    fg_site *site;
    fg_blobstore *blobs;
    struct MHD_Daemon *daemon;
    int port;                   /* the bound one */
    char url[96];

    pthread_mutex_t mu;         /* guards the slots and the counters */
    pthread_cond_t slot_free;
    fg_worker *workers;
    fg_worker **idle;           /* LIFO stack: warm slots are reused first */
    int n_idle;

    /* The egress link: one token bucket (bytes) every response of the node
     * draws from, so concurrent transfers share the bandwidth. */
    pthread_mutex_t link_mu;
    double link_tokens, link_last_ms;

    int inflight, queued;
    uint64_t invocations, errors, cold_starts, responses, bytes_out;
    uint64_t per_function[FG_MAX_FUNCTIONS];
    double cpu_ms;              /* thread CPU spent handling invocations */
    uint64_t tail_seen;         /* invocations the tail knob has counted */

    fg_budget budget;           /* bodies in flight and connections (budget.h) */
    fg_faults faults;           /* what is injected now, and the counts (faults.h) */
};

/* Gives every function of np the factor f (--slowdown, container mode). */
void fg_node_profile_set_slowdown(fg_node_profile *np, double f);

int fg_node_init(fg_node *n, const fg_node_profile *prof, fg_site *site, fg_err *err);
void fg_node_destroy(fg_node *n);

/* Blocks until a slot is free; *queue_ms = the wait. */
fg_worker *fg_node_acquire(fg_node *n, double *queue_ms);
void fg_node_release(fg_node *n, fg_worker *w);

/* The egress bucket's depth: small, 10 ms of the link or 64 KiB, whichever
 * is larger; an idle link lets that much through at once. Deep enough that
 * a sleeper woken late (a busy machine) finds the tokens it overslept, so
 * scheduling delay does not cut the link's rate. */
#define FG_LINK_MIN_BURST_BYTES 65536.0
#define FG_LINK_BURST_MS 10.0

/* The emulated egress link: sleeps the node's latency, then until the
 * shared token bucket has let `bytes` through (node.c). */
void fg_node_egress(fg_node *n, size_t bytes);

/* The link now, and PUT /link's change of it: a JSON object with
 * bandwidth_mbit (0 = uncapped) and/or latency_ms; a key left out keeps
 * its value. -1 with a one-line err for anything else. */
void fg_node_link_get(fg_node *n, double *bandwidth_mbit, double *latency_ms);
int fg_node_link_set_json(fg_node *n, const char *json, size_t len, fg_err *err);

/* Counts one invocation of function index fn that holds its slot against
 * the node's tail knob and, when it is the every-th counted one, sleeps
 * the knob's add_ms; returns the ms slept (0 for the others). */
double fg_node_tail(fg_node *n, int fn);

/* Counts one finished invocation of function index fn, which took cpu_ms
 * of its thread's CPU time (parse, decode, compute, reply). */
void fg_node_count(fg_node *n, int fn, int ok, int cold_start, double cpu_ms);

fg_node *fg_site_find_node(fg_site *site, const char *name);
const fg_peer *fg_site_find_peer(const fg_site *site, const char *name);

/* The node's counters at one instant (taken under its lock), for
 * status.c's GET /stats. */
typedef struct fg_node_counters {
    /* The egress link: one token bucket (bytes) every response of the node
     * draws from, so concurrent transfers share the bandwidth. */
    pthread_mutex_t link_mu;
    double link_tokens, link_last_ms;

    int inflight, queued;
    uint64_t invocations, errors, cold_starts, responses, bytes_out;
    uint64_t per_function[FG_MAX_FUNCTIONS];
    double cpu_ms;
} fg_node_counters;
void fg_node_counters_get(fg_node *n, fg_node_counters *out);

#endif
