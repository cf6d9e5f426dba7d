/* faults.h — the fault injection built into flowgate's node server, driven
 * from the load generator's side (faults.c): the same block on every node
 * (PUT /faults, which also restarts the server's counts) and what the nodes
 * injected since (GET /faults, summed over the nodes). The block's format
 * is the server's (README "The function server"): {"seed", "down_s",
 * "functions": {NAME or "*": [{"kind", "rate" or "every", ...}]}}. */
#ifndef FLOWGATE_FAULTS_H
#define FLOWGATE_FAULTS_H
#include <cjson/cJSON.h>
#include "flowgate/cluster.h"

/* PUT /faults with block (JSON text; "{}" clears) on every node. An error
 * naming the node: per-function endpoints, a server without /faults, or
 * the server's own one line for a bad block (HTTP 400). */
int fg_cluster_set_faults(const fg_cluster *c, const char *block, fg_err *err);

/* GET /faults of every node, summed: {"invocations": {FN: n},
 * "injected": {FN: {KIND: n}}, "refused_down": n}. NULL and err when a
 * node does not answer it. */
cJSON *fg_cluster_faults_seen(const fg_cluster *c, fg_err *err);

#endif
