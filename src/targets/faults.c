/* faults.c — fault injection on flowgate's node servers (faults.h): one
 * PUT per node to set a block, one GET per node to read the counts, summed
 * key by key so the run compares them with its own per-function counts. */
#include "flowgate/faults.h"
#include "flowgate/http_client.h"

#include <stdio.h>
#include <string.h>

static int node_mode(const fg_cluster *c, fg_err *err)
{
    if (c->mode == FG_CLUSTER_NODES) return 0;
    return fg_err_set(err, "fault injection needs node servers (flowgate-functions --nodes); "
                      "these endpoints are one URL per function");
}

int fg_cluster_set_faults(const fg_cluster *c, const char *block, fg_err *err)
{
    if (node_mode(c, err) != 0) return -1;
    for (int i = 0; i < c->n_nodes; i++) {
        const fg_node_info *n = &c->nodes[i];
        char url[300];
        snprintf(url, sizeof url, "%s/faults", n->url);
        fg_buf resp;
        long code = 0;
        fg_err why;
        if (fg_http_put_opts(url, fg_cluster_endpoint(c, i), block, strlen(block), 10, &resp,
                             &code, &why) != 0)
            return fg_err_set(err, "node %s: cannot set faults: %s", n->name, why.msg);
        cJSON *got = cJSON_ParseWithLength((const char *)resp.data, resp.len);
        fg_buf_free(&resp);
        const cJSON *msg = cJSON_GetObjectItemCaseSensitive(got, "message");
        int rc = 0;
        if (code == 404 || code == 405)
            rc = fg_err_set(err, "node %s (%s) has no fault injection (HTTP %ld): it needs "
                            "flowgate's node server", n->name, n->url, code);
        else if (code != 200)
            rc = fg_err_set(err, "node %s: faults not set: HTTP %ld%s%.200s", n->name, code,
                            cJSON_IsString(msg) ? ": " : "",
                            cJSON_IsString(msg) ? msg->valuestring : "");
        cJSON_Delete(got);
        if (rc) return -1;
    }
    return 0;
}

/* to[key] += from[key] for every number of from, recursively. */
static void add_counts(cJSON *to, const cJSON *from)
{
    const cJSON *v;
    cJSON_ArrayForEach(v, from) {
        cJSON *have = cJSON_GetObjectItemCaseSensitive(to, v->string);
        if (cJSON_IsNumber(v)) {
            if (cJSON_IsNumber(have)) cJSON_SetNumberValue(have, have->valuedouble + v->valuedouble);
            else cJSON_AddNumberToObject(to, v->string, v->valuedouble);
        } else if (cJSON_IsObject(v)) {
            if (!cJSON_IsObject(have)) have = cJSON_AddObjectToObject(to, v->string);
            add_counts(have, v);
        }
    }
}

cJSON *fg_cluster_faults_seen(const fg_cluster *c, fg_err *err)
{
    if (node_mode(c, err) != 0) return NULL;
    cJSON *sum = cJSON_CreateObject();
    cJSON_AddObjectToObject(sum, "invocations");
    cJSON_AddObjectToObject(sum, "injected");
    cJSON_AddNumberToObject(sum, "refused_down", 0);
    for (int i = 0; i < c->n_nodes; i++) {
        char url[300];
        snprintf(url, sizeof url, "%s/faults", c->nodes[i].url);
        long code = 0;
        cJSON *got = NULL;
        fg_err why;
        if (fg_http_get_json_opts(url, fg_cluster_endpoint(c, i), 1, 10, &code, &got, &why) != 0) {
            cJSON_Delete(sum);
            fg_err_set(err, "node %s: cannot read its fault counts: %s", c->nodes[i].name,
                       why.msg);
            return NULL;
        }
        static const char *const keys[] = {"invocations", "injected", "refused_down"};
        for (int k = 0; k < 3; k++) {
            const cJSON *v = cJSON_GetObjectItemCaseSensitive(got, keys[k]);
            cJSON *have = cJSON_GetObjectItemCaseSensitive(sum, keys[k]);
            if (cJSON_IsNumber(v)) cJSON_SetNumberValue(have, have->valuedouble + v->valuedouble);
            else if (cJSON_IsObject(v)) add_counts(have, v);
        }
        cJSON_Delete(got);
    }
    return sum;
}
