/* link.c — sets the emulated link of a running node: PUT /link on
 * flowgate's own node server (embedded or a container), which applies it
 * to the node's egress token bucket at once. A scenario's network is thus
 * set on the cluster it runs against without restarting anything; a
 * server that is not flowgate's has no /link and is named as such. */
#include "flowgate/cluster.h"
#include "flowgate/http_client.h"
#include "flowgate/link.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int no_link_control(fg_err *err, const fg_node_info *n, long code)
{
    return fg_err_set(err, "node %s (%s) has no link control (HTTP %ld): network conditions "
                      "need flowgate's node server", n->name, n->url, code);
}

int fg_cluster_get_node_link(const fg_cluster *c, int node, double *bandwidth_mbit,
                             double *latency_ms, fg_err *err)
{
    if (c->mode != FG_CLUSTER_NODES || node < 0 || node >= c->n_nodes)
        return fg_err_set(err, "no node %d with a link", node);
    char url[300];
    snprintf(url, sizeof url, "%s/link", c->nodes[node].url);
    cJSON *got = NULL;
    long code = 0;
    fg_err why;
    if (fg_http_get_json_opts(url, fg_cluster_endpoint(c, node), 1, 10, &code, &got, &why) != 0) {
        if (code == 404 || code == 405) return no_link_control(err, &c->nodes[node], code);
        return fg_err_set(err, "node %s: cannot read its link: %s", c->nodes[node].name, why.msg);
    }
    const cJSON *bw = cJSON_GetObjectItemCaseSensitive(got, "bandwidth_mbit");
    const cJSON *lat = cJSON_GetObjectItemCaseSensitive(got, "latency_ms");
    int rc = 0;
    if (cJSON_IsNumber(bw) && cJSON_IsNumber(lat)) {
        *bandwidth_mbit = bw->valuedouble;
        *latency_ms = lat->valuedouble;
    } else {
        rc = fg_err_set(err, "node %s: GET /link has no bandwidth_mbit and latency_ms",
                        c->nodes[node].name);
    }
    cJSON_Delete(got);
    return rc;
}

int fg_cluster_set_node_link(fg_cluster *c, int node, double bandwidth_mbit, double latency_ms,
                             fg_err *err)
{
    if (c->mode != FG_CLUSTER_NODES)
        return fg_err_set(err, "network conditions need node servers (flowgate-functions "
                          "--nodes, embedded or containers); these endpoints are one URL "
                          "per function");
    if (node < 0 || node >= c->n_nodes) return fg_err_set(err, "no node %d", node);
    fg_node_info *n = &c->nodes[node];
    char url[300], body[128];
    snprintf(url, sizeof url, "%s/link", n->url);
    snprintf(body, sizeof body, "{\"bandwidth_mbit\":%.17g,\"latency_ms\":%.17g}",
             bandwidth_mbit, latency_ms);
    fg_buf resp;
    long code = 0;
    fg_err why;
    if (fg_http_put_opts(url, fg_cluster_endpoint(c, node), body, strlen(body), 10, &resp, &code,
                         &why) != 0)
        return fg_err_set(err, "node %s: cannot set its link: %s", n->name, why.msg);
    cJSON *got = cJSON_ParseWithLength((const char *)resp.data, resp.len);
    const cJSON *bw = cJSON_GetObjectItemCaseSensitive(got, "bandwidth_mbit");
    const cJSON *lat = cJSON_GetObjectItemCaseSensitive(got, "latency_ms");
    const cJSON *msg = cJSON_GetObjectItemCaseSensitive(got, "message");
    int applied = code == 200 && cJSON_IsNumber(bw) && cJSON_IsNumber(lat) &&
                  fabs(bw->valuedouble - bandwidth_mbit) <= 1e-9 * (1 + bandwidth_mbit) &&
                  fabs(lat->valuedouble - latency_ms) <= 1e-9 * (1 + latency_ms);
    int rc = 0;
    if (!applied) {
        if (code == 404 || code == 405)
            rc = no_link_control(err, n, code);
        else
            rc = fg_err_set(err, "node %s: link not set: HTTP %ld%s%.200s", n->name, code,
                            cJSON_IsString(msg) ? ": " : "",
                            cJSON_IsString(msg) ? msg->valuestring : "");
    } else {
        n->bandwidth_mbit = bandwidth_mbit;
        n->latency_ms = latency_ms;
    }
    cJSON_Delete(got);
    fg_buf_free(&resp);
    return rc;
}
