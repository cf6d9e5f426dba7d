/* http.h — a node's HTTP face: one libmicrohttpd daemon per node, a thread
 * per connection, routes / /stats /blob/<key> /invoke[/<function>] /link
 * /faults. */
#ifndef FLOWGATE_SERVER_HTTP_H
#define FLOWGATE_SERVER_HTTP_H
#include "node.h"

/* Listens on bind_addr:n->prof.port (0 = ephemeral); fills n->port, n->url. */
int fg_http_listen(fg_node *n, const char *bind_addr, fg_err *err);
/* Stops accepting and waits for the connections in flight. */
void fg_http_stop(fg_node *n);

#endif
