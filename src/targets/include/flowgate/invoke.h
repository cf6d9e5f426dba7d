/* invoke.h — one synchronous invocation of a function on the cluster
 * (invoke.c), for `flowgate check` and `calibrate`; the load generator has
 * its own event loop (engine.c). */
#ifndef FLOWGATE_INVOKE_H
#define FLOWGATE_INVOKE_H
#include "flowgate/cluster.h"
#include <cjson/cJSON.h>

/* One synchronous invocation, for the CLI's check and calibrate (the load
 * generator has its own event loop). ok = the endpoint's success rule
 * (default: HTTP 200 with "status":"success");
 * otherwise error holds one line: the transport error, or the HTTP code and
 * the server's message. A 429/503 with Retry-After is waited out and
 * retried within timeout_s (counted in retries). rtt_ms is measured around
 * the request (waits included); exec_ms is the server's figure (NAN when
 * absent). */
typedef struct fg_invoke_result {
    int ok;
    long http_code;          /* 0: no response */
    double rtt_ms;
    double exec_ms;
    int cold_start;
    int retries;             /* 429/503 answers waited out (Retry-After) */
    cJSON *response;         /* parsed body, or NULL; freed by fg_invoke_result_free */
    char error[512];
} fg_invoke_result;
int fg_cluster_invoke(const fg_cluster *c, int node, const char *function,
                      const char *body, size_t len, double timeout_s, fg_invoke_result *r);
void fg_invoke_result_free(fg_invoke_result *r);

#endif
