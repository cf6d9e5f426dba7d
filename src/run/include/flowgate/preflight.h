/* preflight.h — every input of a run checked before anything is measured
 * (preflight.c): before the machine probe, before a server starts, before
 * the first request. A bad one is one line naming it and exit 2; nothing
 * is printed first. Checked: the workflow file (syntax, cycles, mappings,
 * conditions), a fixed input's file, the endpoints file (URLs, ${NAME}
 * headers, TLS files read as PEM) and that it has a URL for every step in
 * functions mode, or the nodes file the embedded server would start with
 * and that the server runs every step's function.
 *
 * What only the cluster can say (a remote node's function list) is checked
 * by the runner after the health wait, still before the first request. */
#ifndef FLOWGATE_PREFLIGHT_H
#define FLOWGATE_PREFLIGHT_H
#include "flowgate/common.h"
#include "flowgate/config.h"

/* The embedded server's own checks, lent by the caller: the run library
 * does not link the server (README module graph), the tool does. NULL
 * members skip that check. */
typedef struct fg_preflight_server {
    int (*check_nodes_file)(const char *path, fg_err *err);
    int (*runs_function)(const char *name);   /* 1 when /invoke/<name> exists */
} fg_preflight_server;

int fg_run_preflight(const fg_run_config *c, const fg_preflight_server *server, fg_err *err);

#endif
