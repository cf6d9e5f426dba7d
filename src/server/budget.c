/* budget.c — a node's memory budget (budget.h has the bounds and their
 * defaults).
 *
 * Bodies are admitted, not measured: a request takes its declared
 * Content-Length from the budget before a byte of the body is read (a
 * chunked one takes each chunk as it arrives), and gives it back only when
 * its answer has been sent, so the budget covers the body, the parsed
 * request that replaces it and the reply that follows. A declared length
 * is only a promise, but a client that declares 60 MiB and sends nothing
 * still keeps others from counting on those 60 MiB: that is the point.
 *
 * Connections are counted as they open and close (libmicrohttpd's notify
 * callback); the one that opens over max_connections is marked and its
 * requests get 503 with "Connection: close", so the node answers instead
 * of resetting while it is full. libmicrohttpd itself accepts a headroom
 * more (a quarter, at least 16), so an over-cap client is told why; past
 * that new connections wait in the listen backlog until one closes, which
 * idle_timeout_s makes sure happens. One lock per node: a take or a give
 * is a few instructions, once per body chunk at most. */
#include "budget.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>

#include "jsonnum.h"

/* File descriptors kept for what is not a client connection: stdio, the
 * listen sockets, data files, sockets to sibling nodes for blobs. */
#define FD_RESERVE 64
#define MB_MAX (1 << 22)

int fg_budget_defaults_parse(const cJSON *root, fg_budget_defaults *d, fg_err *err)
{
    const char *where = "nodes file";
    return fg_json_opt_number(root, "body_budget_mb", 1, MB_MAX, &d->body_budget_mb, where,
                              err) ||
           fg_json_opt_int(root, "max_connections", 1, FG_BUDGET_MAX_CONNECTIONS,
                           &d->max_connections, where, err) ||
           fg_json_opt_int(root, "idle_timeout_s", 1, 86400, &d->idle_timeout_s, where, err);
}

int fg_budget_profile_parse(const cJSON *node, const fg_budget_defaults *d,
                            size_t max_body_bytes, const char *where, fg_budget_profile *b,
                            fg_err *err)
{
    const fg_budget_defaults none = {NAN, NAN, NAN};
    if (!d) d = &none;
    double memory_mb, budget_mb, conns, idle;
    if (fg_json_get_number(node, "memory_mb", FG_BUDGET_DEFAULT_MEMORY_MB, 64, MB_MAX,
                           &memory_mb, where, err) ||
        fg_json_opt_number(node, "body_budget_mb", 1, MB_MAX, &budget_mb, where, err) ||
        fg_json_opt_int(node, "max_connections", 1, FG_BUDGET_MAX_CONNECTIONS, &conns, where,
                        err) ||
        fg_json_get_int(node, "idle_timeout_s",
                        isnan(d->idle_timeout_s) ? FG_BUDGET_IDLE_TIMEOUT_S : d->idle_timeout_s,
                        1, 86400, &idle, where, err))
        return -1;
    double max_body_mb = (double)max_body_bytes / FG_MB;
    if (isnan(budget_mb)) budget_mb = d->body_budget_mb;
    if (!isnan(budget_mb) && budget_mb < max_body_mb)
        return fg_err_set(err, "%s: \"body_budget_mb\" %g is under max_body_mb %g: a body at "
                          "the limit could never be taken", where, budget_mb, max_body_mb);
    if (isnan(budget_mb)) budget_mb = fmax(memory_mb * FG_BUDGET_BODY_FRACTION, max_body_mb);
    if (isnan(conns)) conns = d->max_connections;
    b->max_connections_given = !isnan(conns);
    if (isnan(conns))
        conns = fmin(memory_mb * FG_BUDGET_CONNECTIONS_PER_MB, FG_BUDGET_MAX_CONNECTIONS);
    b->memory_mb = memory_mb;
    b->body_budget_bytes = (size_t)(budget_mb * FG_MB);
    b->max_connections = (int)conns;
    b->idle_timeout_s = (int)idle;
    return 0;
}

static unsigned accept_limit(int max_connections)
{
    return (unsigned)max_connections + (unsigned)max_connections / 4 + 16;
}

unsigned fg_budget_accept_limit(const fg_budget_profile *b)
{
    return accept_limit(b->max_connections);
}

/* The open-file limit after raising it to the hard one (as far as the
 * kernel lets). */
static double open_files(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0) return 1024;
    if (rl.rlim_cur != rl.rlim_max) {
        struct rlimit want = rl;
        want.rlim_cur = rl.rlim_max == RLIM_INFINITY ? (rlim_t)1 << 20 : rl.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &want) == 0) rl = want;
    }
    return rl.rlim_cur == RLIM_INFINITY ? 1e9 : (double)rl.rlim_cur;
}

int fg_budget_fit_fds(fg_budget_profile *const *nodes, const char *const *names, int n,
                      fg_err *err)
{
    double files = open_files(), left = files - FD_RESERVE, given = 0;
    int derived = 0;
    for (int i = 0; i < n; i++) {
        if (nodes[i]->max_connections_given) given += fg_budget_accept_limit(nodes[i]);
        else derived++;
    }
    for (int i = 0; i < n; i++)
        if (nodes[i]->max_connections_given && given > left)
            return fg_err_set(err, "%s: max_connections %d: the nodes' given caps need %g "
                              "file descriptors, this process may open %g (ulimit -n)",
                              names[i], nodes[i]->max_connections, given + FD_RESERVE, files);
    double share = derived ? (left - given) / derived : 0;
    for (int i = 0; i < n; i++) {
        fg_budget_profile *b = nodes[i];
        if (b->max_connections_given || accept_limit(b->max_connections) <= share) continue;
        double fit = floor((share - 16) * 4 / 5);
        if (fit < 1)
            return fg_err_set(err, "%s: no file descriptors left for connections (the process "
                              "may open %g: raise ulimit -n)", names[i], files);
        b->max_connections = (int)fit;
    }
    return 0;
}

void fg_budget_init(fg_budget *b, const fg_budget_profile *p)
{
    memset(b, 0, sizeof *b);
    pthread_mutex_init(&b->mu, NULL);
    b->cap = p->body_budget_bytes;
    b->max_connections = p->max_connections;
}

void fg_budget_destroy(fg_budget *b) { pthread_mutex_destroy(&b->mu); }

int fg_budget_take(fg_budget *b, size_t bytes, size_t *held)
{
    pthread_mutex_lock(&b->mu);
    int ok = bytes <= b->cap - b->held;
    if (ok) {
        b->held += bytes;
        if (b->held > b->peak) b->peak = b->held;
    } else {
        b->bodies_refused++;
    }
    if (held) *held = b->held;
    pthread_mutex_unlock(&b->mu);
    return ok ? 0 : -1;
}

void fg_budget_give(fg_budget *b, size_t bytes)
{
    if (!bytes) return;
    pthread_mutex_lock(&b->mu);
    b->held -= bytes < b->held ? bytes : b->held;
    pthread_mutex_unlock(&b->mu);
}

int fg_budget_connect(fg_budget *b, int *open)
{
    pthread_mutex_lock(&b->mu);
    int now = ++b->connections;
    if (now > b->connections_peak) b->connections_peak = now;
    pthread_mutex_unlock(&b->mu);
    if (open) *open = now;
    return now <= b->max_connections;
}

void fg_budget_disconnect(fg_budget *b)
{
    pthread_mutex_lock(&b->mu);
    b->connections--;
    pthread_mutex_unlock(&b->mu);
}

void fg_budget_count_refused_connection(fg_budget *b)
{
    pthread_mutex_lock(&b->mu);
    b->connections_refused++;
    pthread_mutex_unlock(&b->mu);
}

void fg_budget_describe(cJSON *o, fg_budget *b)
{
    pthread_mutex_lock(&b->mu);
    const double figures[] = {(double)b->cap, (double)b->held, (double)b->peak,
                              (double)b->bodies_refused, b->max_connections, b->connections,
                              b->connections_peak, (double)b->connections_refused};
    pthread_mutex_unlock(&b->mu);
    static const char *const names[] = {"body_budget_bytes", "body_bytes_held",
                                        "body_bytes_peak", "bodies_refused", "max_connections",
                                        "connections", "connections_peak",
                                        "connections_refused"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        cJSON_AddNumberToObject(o, names[i], figures[i]);
}
