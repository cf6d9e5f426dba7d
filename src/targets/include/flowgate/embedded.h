/* embedded.h — the function server flowgate starts itself on loopback when
 * no endpoints are configured (embedded.c): a child flowgate-functions
 * process with every node of a nodes file, and what the run measures of
 * that process (CPU, RSS). */
#ifndef FLOWGATE_EMBEDDED_H
#define FLOWGATE_EMBEDDED_H
#include "flowgate/cluster.h"

/* Starts flowgate-functions --nodes NODES_FILE on loopback ephemeral ports,
 * waits until every node answers GET / (deadline_s), fills c. server_bin
 * NULL = next to the running binary, then $FLOWGATE_BIN. */
int fg_cluster_start_embedded(const char *nodes_file, const char *server_bin,
                              double deadline_s, fg_cluster *c, fg_err *err);
/* The same with every node's egress bandwidth (Mbit/s, 0 none) and added
 * latency (ms) set over the nodes file's; a value < 0 keeps the file's. */
int fg_cluster_start_embedded_net(const char *nodes_file, const char *server_bin,
                                  double bandwidth_mbit, double latency_ms, double deadline_s,
                                  fg_cluster *c, fg_err *err);
/* The same with the server's data directory (dictionary, censor list):
 * data_dir NULL = the one it would find itself ($FLOWGATE_DATA, ...). */
int fg_cluster_start_embedded_data(const char *nodes_file, const char *server_bin,
                                   const char *data_dir, double bandwidth_mbit,
                                   double latency_ms, double deadline_s, fg_cluster *c,
                                   fg_err *err);

/* Stops the server only if this process started it (SIGTERM, then SIGKILL). */
void fg_cluster_stop(fg_cluster *c);

/* The cluster the CLI uses: the endpoints file (argument, else
 * $FLOWGATE_ENDPOINTS) health-checked, else the embedded server started with
 * nodes_file (NULL = <data>/nodes.json). Stop it with fg_cluster_stop. */
int fg_cluster_resolve(const char *endpoints, const char *nodes_file,
                       double deadline_s, fg_cluster *c, fg_err *err);

/* CPU seconds (user+sys) and current/peak RSS of the started server, from
 * /proc/<pid>/stat and /proc/<pid>/status. -1 when not started by us. */
typedef struct fg_proc_sample { double cpu_s; long rss_kb; long peak_rss_kb; } fg_proc_sample;
int fg_cluster_proc_sample(const fg_cluster *c, fg_proc_sample *out);

/* Clears the started server's peak RSS (writes "5" to /proc/<pid>/clear_refs,
 * which resets VmHWM to the current RSS), so each experiment can measure its
 * own peak. -1 when not started by us or the kernel refuses. */
int fg_cluster_reset_peak_rss(const fg_cluster *c);

#endif
