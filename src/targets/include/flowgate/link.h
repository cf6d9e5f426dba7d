/* link.h — a node's emulated network link, changed on the running server
 * (PUT /link, GET /link; link.c): what the network scenarios vary
 * between cells. */
#ifndef FLOWGATE_LINK_H
#define FLOWGATE_LINK_H
#include "flowgate/cluster.h"

/* Sets node `node`'s emulated egress link (bandwidth, 0 = uncapped; added
 * latency) on the running server with PUT /link (link.c) and, once
 * the server confirms it, in c. An error naming the node when the
 * endpoints are per function or the server has no link control. */
int fg_cluster_set_node_link(fg_cluster *c, int node, double bandwidth_mbit, double latency_ms,
                             fg_err *err);
/* The link the node's server has in force now (GET /link). */
int fg_cluster_get_node_link(const fg_cluster *c, int node, double *bandwidth_mbit,
                             double *latency_ms, fg_err *err);

#endif
