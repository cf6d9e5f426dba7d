/* containers.h — the heterogeneous node set as Docker containers.
 *
 * `flowgate cluster up` starts one container per node of a nodes file
 * (data/nodes.json): the flowgate-functions image serving that node alone
 * (--node NAME --peer OTHER=URL ...), --network host on a 127.0.0.1 port,
 * a CPU cap (--cpus) and a memory cap (--memory) from the nodes file, labels
 * flowgate.cluster=<id> and flowgate.node=<name>, and a health check. It
 * writes a nodes-mode endpoints file that names the cluster, so a run
 * against it records each node's CPU and memory from the engine.
 *
 * The docker client runs by fork/exec with an argument vector (no shell, no
 * string built from user input); the engine is the one DOCKER_HOST names.
 *
 * CPU caps: a node's "cores" in the nodes file (the reference cluster's
 * 11.75 / 8 / 4.125 / 17.25) as a share of their sum, times the cores of
 * this machine (or --cpus-total); without "cores", the share of "workers".
 * Memory: the node's "memory_mb" (default 256 + 192 per worker + its blob
 * store). */
#ifndef FLOWGATE_CONTAINERS_H
#define FLOWGATE_CONTAINERS_H
#include <stdio.h>
#include <cjson/cJSON.h>
#include "flowgate/cluster.h"
#include "flowgate/common.h"

#define FG_CONTAINERS_DEFAULT_ID "flowgate"
#define FG_CONTAINERS_DEFAULT_IMAGE "flowgate-functions:latest"
#define FG_CONTAINERS_DEFAULT_PORT 18100
#define FG_CONTAINERS_NODES_FILE_PATH "/etc/flowgate/nodes.json"   /* inside a container */

typedef struct fg_containers_opts {
    const char *nodes_file;      /* NULL = <data>/nodes.json */
    const char *image;           /* NULL = FG_CONTAINERS_DEFAULT_IMAGE */
    const char *id;              /* NULL = FG_CONTAINERS_DEFAULT_ID */
    int base_port;               /* node i listens on base_port + i; 0 = default */
    double cpus_total;           /* cores shared out by the caps; 0 = this machine's */
    const char *endpoints_out;   /* NULL = do not write */
    double health_deadline_s;    /* 0 = 120 */
} fg_containers_opts;

/* One container of the plan: what `up` passes to docker run. */
typedef struct fg_container_plan {
    char node[32];
    char name[96];               /* flowgate-<id>-<node> */
    int port;
    int workers;
    double bandwidth_mbit, latency_ms;
    double cpus;                 /* --cpus */
    long memory_mb;              /* --memory */
} fg_container_plan;

typedef struct fg_containers_plan {
    char id[48];
    char image[256];
    char nodes_file[1024];       /* absolute path, mounted read-only */
    fg_container_plan c[FG_MAX_NODES];
    int n;
} fg_containers_plan;

/* Reads the nodes file and works out every container (no docker involved). */
int fg_containers_plan_make(const fg_containers_opts *o, fg_containers_plan *p, fg_err *err);

/* The docker run argument vector of container i (NULL-terminated, strings
 * in store); for tests and `up`. Returns the argument count, -1 on overflow. */
int fg_containers_run_argv(const fg_containers_plan *p, int i, char *store, size_t store_size,
                           char **argv, int max_args);

/* The nodes-mode endpoints file of the plan, with "containers":
 * {"cluster": id, "image": image}. Caller frees. */
cJSON *fg_containers_endpoints_json(const fg_containers_plan *p);

/* Removes the cluster's old containers, starts the plan's, waits until every
 * one is healthy, writes endpoints_out. On failure the started containers
 * are removed again and err names the container and why. Progress lines go
 * to log (may be NULL). */
int fg_containers_up(const fg_containers_opts *o, FILE *log, fg_err *err);

/* Removes every container labelled flowgate.cluster=<id>; *removed = count. */
int fg_containers_down(const char *id, int *removed, fg_err *err);

/* Checks a cluster against what its endpoints file expects: the engine
 * answers; each node has a container labelled with the cluster and the
 * node, running, healthy, from `image`. Writes one line per problem (or per
 * container when verbose) to out; returns the number of problems (0 = all
 * well), -1 when the engine cannot be asked (also a line). */
int fg_containers_check(const char *id, const char *image, const fg_cluster *c, int verbose,
                        FILE *out);

/* ---- per-node usage from the engine's stats API (container_stats.c) --- */

/* One container's usage at an instant: cumulative CPU seconds, resident
 * memory (anonymous: rss on cgroup v1, anon on v2) and the cgroup's memory
 * usage, in kB. */
typedef struct fg_container_usage {
    char node[32];
    double cpu_s;
    long rss_kb;
    long usage_kb;
} fg_container_usage;

/* Samples every container of cluster id through the engine API
 * (GET /containers/<id>/stats?stream=false&one-shot=true over the unix
 * socket DOCKER_HOST names, default /var/run/docker.sock). Returns the
 * count, -1 with err. */
int fg_containers_sample(const char *id, fg_container_usage *out, int max, fg_err *err);

/* {"<node>": {"cpu_s": after-before, "rss_kb": after, "usage_kb": after}}
 * for nodes sampled both times. Caller frees. */
cJSON *fg_containers_usage_json(const fg_container_usage *before, int n_before,
                                const fg_container_usage *after, int n_after);

#endif
