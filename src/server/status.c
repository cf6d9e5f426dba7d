/* status.c — a node's GET / and GET /stats bodies: its profile, the
 * functions it hosts, the known-effect knobs and the faults in force
 * (slowdown.h, faults.h) and a snapshot of its counters, its memory
 * budget (budget.h) and its blob store; GET /faults, the faults' counts.
 * /stats also carries what a resource sampler needs (resources.h in the
 * driver): the CPU its invocations used (cpu_s, cumulative) and the
 * serving process's resident memory. A node has no memory of its own when
 * several share a process, so that figure says whose it is: process_nodes
 * = 1 means it is the node's (a container, one node per process). GET /
 * names the serving process (pid) for a driver on the same machine. */
#include "status.h"
#include "functions.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* VmRSS of this process in kB; -1 when /proc cannot tell. */
static long process_rss_kb(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    if (!f) return -1;
    long kb = -1;
    char line[256];
    while (fgets(line, sizeof line, f))
        if (!strncmp(line, "VmRSS:", 6)) {
            kb = strtol(line + 6, NULL, 10);
            break;
        }
    fclose(f);
    return kb;
}

static char *print(cJSON *o)
{
    char *s = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    return s;
}

char *fg_status_link_json(fg_node *n)
{
    double bandwidth_mbit, latency_ms;
    fg_node_link_get(n, &bandwidth_mbit, &latency_ms);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "node", n->prof.name);
    cJSON_AddNumberToObject(o, "bandwidth_mbit", bandwidth_mbit);
    cJSON_AddNumberToObject(o, "latency_ms", latency_ms);
    return print(o);
}

char *fg_status_faults_json(fg_node *n)
{
    cJSON *o = fg_faults_json(&n->faults,
                              n->site->only ? fg_function_index(n->site->only) : -1);
    cJSON_AddStringToObject(o, "node", n->prof.name);
    return print(o);
}

char *fg_status_health_json(fg_node *n)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "status", "healthy");
    if (n->site->only) {
        cJSON_AddStringToObject(o, "service", fg_function_name(n->site->only));
    } else {
        cJSON_AddStringToObject(o, "service", "flowgate-node");
        cJSON_AddStringToObject(o, "node", n->prof.name);
        cJSON *fns = cJSON_AddArrayToObject(o, "functions");
        for (int i = 0; i < fg_function_count(); i++)
            cJSON_AddItemToArray(fns, cJSON_CreateString(fg_function_name(fg_function_at(i))));
        cJSON_AddNumberToObject(o, "workers", n->prof.workers);
    }
    /* So a run can tell a deliberately slowed node from a slow machine. */
    fg_slowdown_describe(o, n->prof.fn_slowdown, &n->prof.tail,
                         n->site->only ? fg_function_index(n->site->only) : -1);
    /* So a run can tell injected failures from real ones (GET /faults
     * has them per function and kind). */
    fg_faults_describe(o, &n->faults);
    /* So a run on the same machine counts this process's CPU as its own,
     * not as other processes' contention (noise_sampler.h). */
    cJSON_AddNumberToObject(o, "pid", (double)getpid());
    return print(o);
}

char *fg_status_stats_json(fg_node *n)
{
    fg_blobstore_stats bs;
    fg_blobstore_stats_get(n->blobs, &bs);
    fg_node_counters k;
    fg_node_counters_get(n, &k);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "node", n->prof.name);
    cJSON_AddNumberToObject(o, "workers", n->prof.workers);
    cJSON_AddNumberToObject(o, "inflight", k.inflight);
    cJSON_AddNumberToObject(o, "queued", k.queued);
    cJSON_AddNumberToObject(o, "invocations", (double)k.invocations);
    cJSON_AddNumberToObject(o, "errors", (double)k.errors);
    cJSON_AddNumberToObject(o, "cold_starts", (double)k.cold_starts);
    cJSON_AddNumberToObject(o, "responses", (double)k.responses);
    cJSON_AddNumberToObject(o, "bytes_out", (double)k.bytes_out);
    cJSON_AddNumberToObject(o, "cpu_s", k.cpu_ms / 1000.0);
    long rss = process_rss_kb();
    if (rss >= 0) {
        cJSON_AddNumberToObject(o, "process_rss_kb", (double)rss);
        cJSON_AddNumberToObject(o, "process_nodes", n->site->n_nodes);
    }
    fg_budget_describe(o, &n->budget);
    cJSON_AddNumberToObject(o, "blobs", (double)bs.count);
    cJSON_AddNumberToObject(o, "blob_bytes", (double)bs.bytes);
    cJSON_AddNumberToObject(o, "blob_max_bytes", (double)bs.max_bytes);
    cJSON_AddNumberToObject(o, "blob_puts", (double)bs.puts);
    cJSON_AddNumberToObject(o, "blob_hits", (double)bs.hits);
    cJSON_AddNumberToObject(o, "blob_misses", (double)bs.misses);
    cJSON_AddNumberToObject(o, "blob_evictions", (double)bs.evictions);
    cJSON *fns = cJSON_AddObjectToObject(o, "functions");
    for (int i = 0; i < fg_function_count(); i++)
        cJSON_AddNumberToObject(fns, fg_function_name(fg_function_at(i)),
                                (double)k.per_function[i]);
    return print(o);
}
