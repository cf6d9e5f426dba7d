/* cluster.h — where the functions run. Either a set of nodes, each hosting
 * all functions (flowgate-functions in node mode, started by flowgate itself
 * when no endpoints are configured), or one URL per function (containers of
 * the reference system, or flowgate-functions in container mode).
 *
 * Endpoints file (--endpoints FILE, FLOWGATE_ENDPOINTS):
 *   {"mode":"nodes","nodes":[{"name":"node0","url":"http://127.0.0.1:8101",
 *     "workers":3,"bandwidth_mbit":1000,"latency_ms":0.2}, ...]}
 *   {"mode":"functions","functions":{"recognizer__upload":"http://127.0.0.1:8001", ...}}
 *   {"mode":"docker","label":"flowgate.function", ...}   (containers found with docker ps)
 * flowgate-functions --endpoints-out FILE writes the first form. */
#ifndef FLOWGATE_CLUSTER_H
#define FLOWGATE_CLUSTER_H
#include <sys/types.h>
#include <cjson/cJSON.h>
#include "flowgate/common.h"
#include "flowgate/http_client.h"

#define FG_MAX_NODES 16
#define FG_MAX_FUNCTIONS 16

typedef struct fg_node_info {
    char name[32];
    char url[256];           /* base URL, no trailing slash */
    int workers;             /* capacity: concurrent executions */
    double bandwidth_mbit;   /* emulated egress */
    double latency_ms;       /* emulated added latency */
} fg_node_info;

typedef enum fg_cluster_mode { FG_CLUSTER_NODES, FG_CLUSTER_FUNCTIONS } fg_cluster_mode;

typedef struct fg_cluster {
    fg_cluster_mode mode;
    fg_node_info nodes[FG_MAX_NODES];
    int n_nodes;
    /* FUNCTIONS mode: one URL per function; the scheduler has one "node". */
    char function_names[FG_MAX_FUNCTIONS][64];
    char function_urls[FG_MAX_FUNCTIONS][256];
    int n_functions;
    /* Set when flowgate started the embedded server itself. */
    pid_t server_pid;
    char server_dir[512];
} fg_cluster;

/* ---- endpoints (endpoints.c) -------------------------------------------- */

/* Reads an endpoints file (the forms above) into c. */
int fg_cluster_load_endpoints(const char *path, fg_cluster *c, fg_err *err);

/* Parses the output of `docker ps --format '{{.Names}} {{.Ports}}
 * {{.Label "<label>"}}'` into FUNCTIONS mode: each container's published
 * TCP port becomes http://127.0.0.1:<port>. Used by the "docker" form. */
int fg_cluster_parse_docker_ps(const char *output, const char *label,
                               fg_cluster *c, fg_err *err);

/* Checks a base URL: http:// to 127.0.0.1, localhost or [::1] only. */
int fg_cluster_url_is_loopback(const char *url);

/* URL to POST an invocation of `function` on node `node` (ignored in
 * FUNCTIONS mode). Returns -1 when the function has no URL. */
int fg_cluster_invoke_url(const fg_cluster *c, int node, const char *function,
                          char *url, size_t url_size);

/* ---- the embedded server (embedded.c) ----------------------------------- */

/* Starts flowgate-functions --nodes PROFILE on loopback ephemeral ports,
 * waits until every node answers GET / (deadline_s), fills c. server_bin
 * NULL = next to the running binary, then $FLOWGATE_BIN. */
int fg_cluster_start_embedded(const char *nodes_profile, const char *server_bin,
                              double deadline_s, fg_cluster *c, fg_err *err);

/* Stops the server only if this process started it (SIGTERM, then SIGKILL). */
void fg_cluster_stop(fg_cluster *c);

/* The cluster the CLI uses: the endpoints file (argument, else
 * $FLOWGATE_ENDPOINTS) health-checked, else the embedded server started with
 * nodes_profile (NULL = <data>/nodes.json). Stop it with fg_cluster_stop. */
int fg_cluster_resolve(const char *endpoints, const char *nodes_profile,
                       double deadline_s, fg_cluster *c, fg_err *err);

/* CPU seconds (user+sys) and current/peak RSS of the started server, from
 * /proc/<pid>/stat and /proc/<pid>/status. -1 when not started by us. */
typedef struct fg_proc_sample { double cpu_s; long rss_kb; long peak_rss_kb; } fg_proc_sample;
int fg_cluster_proc_sample(const fg_cluster *c, fg_proc_sample *out);

/* Clears the started server's peak RSS (writes "5" to /proc/<pid>/clear_refs,
 * which resets VmHWM to the current RSS), so each experiment can measure its
 * own peak. -1 when not started by us or the kernel refuses. */
int fg_cluster_reset_peak_rss(const fg_cluster *c);

/* ---- blob sharing between nodes (blobshare.c) --------------------------- */

/* Whether every node of a nodes-mode cluster can fetch every other node's
 * blobs by reference — true only for nodes of one flowgate-functions
 * process. From the nodes' GET / "peers" when they report it, else by a
 * probe (a tiny upload to the first node, read through its ref by every
 * other node). 1 yes (also for one node or FUNCTIONS mode), 0 no, -1
 * cannot tell; for 0 and -1 why holds one line naming the nodes. */
int fg_cluster_blobs_shared(const fg_cluster *c, double timeout_s, char *why, size_t why_size);
/* The probe alone (what fg_cluster_blobs_shared falls back to). */
int fg_cluster_blobs_probe(const fg_cluster *c, double timeout_s, char *why, size_t why_size);

/* ---- requests to the cluster (http_client.c) ---------------------------- */

/* GET / on every endpoint until all answer healthy or the deadline passes;
 * the error names the first endpoint that did not. A stop request
 * (fg_engine_request_stop, i.e. Ctrl-C) ends the wait within about a
 * second with the error FG_HEALTH_INTERRUPTED. */
#define FG_HEALTH_INTERRUPTED "interrupted while waiting for the endpoints to become healthy"
int fg_cluster_health(const fg_cluster *c, double deadline_s, fg_err *err);

/* One synchronous invocation, for the CLI's check and calibrate (the load
 * generator has its own event loop). ok = HTTP 200 with "status":"success";
 * otherwise error holds one line: the transport error, or the HTTP code and
 * the server's message. rtt_ms is measured around the request; exec_ms is
 * the server's figure (NAN when absent). */
typedef struct fg_invoke_result {
    int ok;
    long http_code;          /* 0: no response */
    double rtt_ms;
    double exec_ms;
    int cold_start;
    cJSON *response;         /* parsed body, or NULL; freed by fg_invoke_result_free */
    char error[512];
} fg_invoke_result;
int fg_cluster_invoke(const fg_cluster *c, int node, const char *function,
                      const char *body, size_t len, double timeout_s, fg_invoke_result *r);
void fg_invoke_result_free(fg_invoke_result *r);

#endif
