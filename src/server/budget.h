/* budget.h — a node's memory budget: how many bytes of request bodies it
 * holds at once, how many connections it keeps open, and how long an idle
 * one may stay.
 *
 * Each bound comes from the node's "memory_mb" in the nodes profile (the
 * memory of its container; 2048 when not given), or from an explicit key
 * at the top of the profile (every node's default) or on the node (wins):
 *   body_budget_mb   bodies in flight, at most; default a quarter of
 *                    memory_mb (a body is held up to twice while its
 *                    request runs: the text, then its parsed tree; the
 *                    rest is the decoded images, the replies and the
 *                    process), and never under max_body_mb;
 *   max_connections  connections open at once; default 2 per MB of
 *                    memory_mb (an eighth of it at 64 KiB a connection; an
 *                    idle one, a thread and its buffers, was measured at
 *                    ~14 KiB of RSS), lowered to fit the process's file
 *                    descriptors when not given;
 *   idle_timeout_s   an idle connection is closed after this; default 60.
 * Beyond a budget a request gets 503 with Retry-After and a JSON error
 * naming it: never a reset, never a crash. */
#ifndef FLOWGATE_SERVER_BUDGET_H
#define FLOWGATE_SERVER_BUDGET_H
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>
#include "flowgate/common.h"

#define FG_BUDGET_DEFAULT_MEMORY_MB 2048.0
#define FG_BUDGET_BODY_FRACTION 0.25
#define FG_BUDGET_CONNECTIONS_PER_MB 2
#define FG_BUDGET_IDLE_TIMEOUT_S 60
#define FG_BUDGET_MAX_CONNECTIONS 1000000
#define FG_BUDGET_RETRY_AFTER_S 1

typedef struct fg_budget_profile {
    double memory_mb;
    size_t body_budget_bytes;
    int max_connections;
    int max_connections_given;  /* set in the profile: never lowered to fit the fds */
    int idle_timeout_s;
} fg_budget_profile;

/* The top level's keys, every node's default: NAN where it says nothing. */
typedef struct fg_budget_defaults {
    double body_budget_mb, max_connections, idle_timeout_s;
} fg_budget_defaults;

int fg_budget_defaults_parse(const cJSON *root, fg_budget_defaults *d, fg_err *err);
/* A node's bounds from its own keys, the defaults and max_body_bytes (the
 * profile's max_body_mb); where prefixes the one-line error. d may be
 * NULL (no top level: container mode). */
int fg_budget_profile_parse(const cJSON *node, const fg_budget_defaults *d,
                            size_t max_body_bytes, const char *where, fg_budget_profile *b,
                            fg_err *err);

/* Connections libmicrohttpd accepts: max_connections plus a headroom in
 * which those over the cap still get their 503 (beyond it new ones wait in
 * the listen backlog). */
unsigned fg_budget_accept_limit(const fg_budget_profile *b);

/* Raises this process's open-file limit to its hard limit, then fits the
 * nodes' accept limits in it: a derived max_connections is lowered to fit,
 * a given one that cannot fit is an error naming the node. */
int fg_budget_fit_fds(fg_budget_profile *const *nodes, const char *const *names, int n,
                      fg_err *err);

/* A node's budget at run time. */
typedef struct fg_budget {
    pthread_mutex_t mu;
    size_t cap, held, peak;
    uint64_t bodies_refused;
    int max_connections, connections, connections_peak;
    uint64_t connections_refused;
} fg_budget;

void fg_budget_init(fg_budget *b, const fg_budget_profile *p);
void fg_budget_destroy(fg_budget *b);

/* Holds bytes of a body: 0, or -1 when they do not fit (nothing taken,
 * the refusal counted; *held is what the node holds then). */
int fg_budget_take(fg_budget *b, size_t bytes, size_t *held);
void fg_budget_give(fg_budget *b, size_t bytes);

/* A connection opens: 1 when it is within max_connections, 0 when over
 * (it counts as open either way until fg_budget_disconnect); *open is the
 * count with it. */
int fg_budget_connect(fg_budget *b, int *open);
void fg_budget_disconnect(fg_budget *b);
/* Counts a request answered 503 for the connection cap. */
void fg_budget_count_refused_connection(fg_budget *b);

/* Adds the budget's figures to a GET /stats body. */
void fg_budget_describe(cJSON *o, fg_budget *b);

#endif
