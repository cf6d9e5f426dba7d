/* inject.h — what an injected fault (faults.h) does on the wire, where
 * libmicrohttpd is: a hang's hold and a drip's paced response. */
#ifndef FLOWGATE_SERVER_INJECT_H
#define FLOWGATE_SERVER_INJECT_H
#include <stddef.h>
#include <microhttpd.h>
#include "node.h"

/* Holds the request hang_ms (or until the client hangs up or the server
 * stops) in the connection's thread, no worker slot taken; returns MHD_NO
 * so the connection is closed without an answer. */
enum MHD_Result fg_inject_hold(fg_node *n, struct MHD_Connection *conn, double hang_ms);

/* A response that sends body (heap, taken) at bytes_per_s; NULL (body
 * freed) when out of memory. */
struct MHD_Response *fg_inject_drip(fg_node *n, char *body, size_t len, double bytes_per_s);

#endif
