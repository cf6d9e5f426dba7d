/* status.h — the JSON bodies of a node's GET / (health), GET /stats,
 * GET|PUT /link and GET|PUT /faults.
 * Apart from node.c so that the node runtime does not depend on the
 * function table (functions → blobref → node, and status → both). */
#ifndef FLOWGATE_SERVER_STATUS_H
#define FLOWGATE_SERVER_STATUS_H
#include "node.h"

/* Heap strings; NULL when out of memory. */
char *fg_status_health_json(fg_node *n);
char *fg_status_stats_json(fg_node *n);
char *fg_status_link_json(fg_node *n);
char *fg_status_faults_json(fg_node *n);

#endif
