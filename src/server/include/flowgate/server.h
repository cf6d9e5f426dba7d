/* server.h — the embedded function server as a library: `flowgate-functions`
 * and `flowgate serve` both start it through here.
 *
 * Node mode hosts every function on each node of a profile (data/nodes.json);
 * container mode hosts one function on one port, like a reference container. */
#ifndef FLOWGATE_SERVER_H
#define FLOWGATE_SERVER_H
#include <stdio.h>
#include "flowgate/limits.h"
#include "flowgate/common.h"

typedef struct fg_server fg_server;

typedef struct fg_server_opts {
    const char *nodes_path;     /* node mode: profile JSON */
    const char *function;       /* container mode: "recognizer__adult", ... */
    int port;                   /* container mode; 0 = ephemeral */
    const char *bind_addr;      /* NULL = 127.0.0.1 */
    const char *data_dir;       /* NULL = fg_data_dir() */
    const char *endpoints_out;  /* NULL = do not write */
    double slowdown;            /* 0 = the profile's; else >= 1, for every node
                                 * (the known-effect knob, slowdown.h) */
    double bandwidth_mbit;      /* >= 0: every node's egress cap (0: none); < 0 or
                                 * unset (the struct zeroed): see has_network */
    double latency_ms;          /* >= 0: every node's added latency per response */
    int has_network;            /* bandwidth_mbit/latency_ms given (>= 0 each applies) */
    int reference_errors;       /* container mode only: handled errors answer
                                 * HTTP 200 + "status":"error" (functions.c) */
    const char *node;           /* node mode: serve only this node of the profile
                                 * (one node per container); NULL = all */
    int node_port;              /* with node: its port (-1 = the profile's) */
    const char *peers[FG_MAX_NODES]; /* with node: "NAME=URL" of every other node */
    int n_peers;
} fg_server_opts;

/* The nodes file checked as the server will read it (0, or -1 and one
 * line naming the file and the key), without starting anything. */
int fg_server_check_nodes_file(const char *path, fg_err *err);
/* 1 when the server runs a function of that name (/invoke/<name>). */
int fg_server_runs_function(const char *name);

/* Loads everything, starts listening, writes the endpoints file. */
fg_server *fg_server_start(const fg_server_opts *opts, fg_err *err);
/* Stops the daemons (waiting for requests in flight) and frees it all. */
void fg_server_stop(fg_server *s);

/* Prints one line per listening endpoint ("node0 http://127.0.0.1:PORT"). */
void fg_server_print_endpoints(const fg_server *s, FILE *out);

/* Blocks SIGINT/SIGTERM (so server threads inherit the mask), starts,
 * waits for one of them, stops. Returns 0, or 2 with err set when the
 * server could not start. */
int fg_server_run_foreground(const fg_server_opts *opts, int verbose, fg_err *err);

#endif
