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
 * flowgate-functions --endpoints-out FILE writes the first form; `flowgate
 * cluster up` writes it with "containers": {"cluster": ID, "image": IMAGE}
 * (the nodes are the containers of that cluster, containers.h).
 *
 * URLs are http:// or https:// to any host (no user:password, query or
 * fragment: credentials go in headers, the URL is written to the results).
 * In "functions" mode a function's value is its URL or an object
 * {"url": U, <endpoint settings>}; a node object may carry the settings
 * too. The settings, file-wide at the top level and per endpoint (an
 * endpoint's key replaces the file's, "headers" merge by name):
 *   "headers": {"Authorization": "Bearer ${TOKEN}", "Host": "fn.example.com"}
 *       ${NAME} is read from the environment at load; unset is an error.
 *       Values are secrets: never printed, logged or written to results.
 *   "tls": {"ca_file": F, "cert_file": F, "key_file": F, "insecure": true}
 *       verification is on unless "insecure" is true; files must exist.
 *   "proxy": "http://proxy:3128"   (default: none, proxy variables ignored)
 *   "aws_sigv4": "aws:amz:REGION:lambda", "aws_credentials": "${KEY}:${SECRET}"
 *   "path": "/invoke/{function}"   (default: /invoke/{function} for nodes,
 *       /invoke for functions; {function} is the function's name)
 *   "success": {"field": "status", "equals": "success"} (default) or
 *       "http2xx" (any 2xx answer is a success; health = any 2xx on GET /)
 * A 429 or 503 answer with Retry-After is retried after that wait (engine). */
#ifndef FLOWGATE_CLUSTER_H
#define FLOWGATE_CLUSTER_H
#include <sys/types.h>
#include <cjson/cJSON.h>
#include "flowgate/common.h"
#include "flowgate/limits.h"

typedef struct fg_node_info {
    char name[32];
    char url[256];           /* base URL, no trailing slash */
    int workers;             /* capacity: concurrent executions */
    double bandwidth_mbit;   /* emulated egress */
    double latency_ms;       /* emulated added latency */
} fg_node_info;

typedef enum fg_cluster_mode { FG_CLUSTER_NODES, FG_CLUSTER_FUNCTIONS } fg_cluster_mode;

/* How to talk to one endpoint (a node, or a function's URL). All zero is
 * the default: no extra headers, TLS verified against the system CAs, no
 * proxy, the mode's default path, the "status":"success" rule. Strings
 * hold the values after ${NAME} expansion: headers, proxy and
 * aws_userpwd are secrets (see fg_endpoint_opts_describe). */
#define FG_ENDPOINT_MAX_HEADER_BYTES 4096
typedef enum fg_success_rule { FG_SUCCESS_FIELD, FG_SUCCESS_HTTP2XX } fg_success_rule;
typedef struct fg_endpoint_opts {
    char headers[FG_ENDPOINT_MAX_HEADER_BYTES];   /* "Name: value\0" repeated */
    int n_headers;
    char ca_file[256], cert_file[256], key_file[256];
    int insecure;                /* TLS verification off: an explicit switch */
    char proxy[256];             /* "": never through a proxy */
    char aws_sigv4[128];         /* CURLOPT_AWS_SIGV4; "": none */
    char aws_userpwd[256];       /* "KEY:SECRET" for aws_sigv4 */
    char path[128];              /* template with {function}; "": the default */
    fg_success_rule success;
    char success_field[64];      /* "": "status" */
    char success_equals[64];     /* "": "success" */
} fg_endpoint_opts;

/* Does a parsed reply satisfy the endpoint's rule? http_code is the status;
 * reply may be NULL (not JSON). 1 yes, 0 no. */
int fg_endpoint_reply_ok(const fg_endpoint_opts *o, long http_code, const cJSON *reply);
/* The rule's field name and expected value (defaults filled in). */
const char *fg_endpoint_success_field(const fg_endpoint_opts *o);
const char *fg_endpoint_success_equals(const fg_endpoint_opts *o);

typedef struct fg_cluster {
    fg_cluster_mode mode;
    fg_node_info nodes[FG_MAX_NODES];
    int n_nodes;
    /* FUNCTIONS mode: one URL per function; the scheduler has one "node". */
    char function_names[FG_MAX_FUNCTIONS][64];
    char function_urls[FG_MAX_FUNCTIONS][256];
    int n_functions;
    /* Per endpoint: index = node (NODES mode) or function slot (FUNCTIONS
     * mode); see fg_cluster_endpoint. */
    fg_endpoint_opts endpoint[FG_MAX_ENDPOINTS];
    /* NODES mode from `flowgate cluster up`: the containers' cluster id and
     * image ("" otherwise). */
    char containers_cluster[48];
    char containers_image[256];
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

/* Checks a base URL: http:// to 127.0.0.1, localhost or [::1]. Not a
 * requirement of endpoints files (any host is accepted); used where
 * "is this this machine" matters (DOCKER_HOST, tests). */
int fg_cluster_url_is_loopback(const char *url);

/* Checks a base URL of an endpoints file: http:// or https://, a host, no
 * credentials, query or fragment. 0, or -1 with why (one line; names the
 * problem, not the URL). */
int fg_cluster_url_check(const char *url, char *why, size_t why_size);

/* The endpoint slot serving `function` on `node`: node in NODES mode, the
 * function's slot in FUNCTIONS mode; -1 when none. */
int fg_cluster_endpoint_index(const fg_cluster *c, int node, const char *function);
/* Its settings (defaults for an unknown one; never NULL). */
const fg_endpoint_opts *fg_cluster_endpoint(const fg_cluster *c, int index);

/* URL to POST an invocation of `function` on node `node` (ignored in
 * FUNCTIONS mode): the base URL and the endpoint's path template. Returns
 * -1 when the function has no URL. */
int fg_cluster_invoke_url(const fg_cluster *c, int node, const char *function,
                          char *url, size_t url_size);

/* ---- health (cluster.c) ------------------------------------------------ */

/* GET / on every endpoint until all answer healthy or the deadline passes;
 * the error names the first endpoint that did not. A stop request
 * (fg_stop_request, i.e. Ctrl-C) ends the wait within about a
 * second with the error FG_HEALTH_INTERRUPTED. */
#define FG_HEALTH_INTERRUPTED "interrupted while waiting for the endpoints to become healthy"
int fg_cluster_health(const fg_cluster *c, double deadline_s, fg_err *err);

#endif
