/* blobshare.c — can the nodes of an endpoints file fetch each other's blobs?
 *
 * In nodes mode the upload stores the image on the node that ran it and
 * returns {"ref":{"node":"<name>","key":...}}; the next function, on any
 * node, resolves that name among the nodes of *its own* flowgate-functions
 * process (or among the peers it was given: --node NAME --peer OTHER=URL,
 * one node per container) and fetches GET /blob/<key> from it. Nodes
 * started as separate processes without peers do not know each other:
 * every cross-node step then fails
 * ("input_ref: unknown node", or "blob ... not found" when both processes
 * call their node node0). This file tells before the run, so the runner can
 * send the image inline instead.
 *
 * Two ways, best first:
 *  - GET / of a node lists "peers" [{"name","url"}, ...]: the nodes it
 *    resolves a ref's name to. Every node must list every other node of the
 *    file under the name that node reports and at its port.
 *  - Without that field, a probe: a tiny image uploaded by reference to the
 *    first node, then read through its ref by a function on every other
 *    node. A node that can fetch the first node's blob is in the first
 *    node's process (a port belongs to one process), so n-1 probes cover
 *    every pair. The probe costs one small upload and n-1 small reads
 *    (for the recognizer: adult classifications), before any measurement.
 *    Which functions it calls, and the request field and answer path they
 *    use, come from the workflow (fg_blob_probe, filled by
 *    fg_blob_probe_from_workflow): this file knows no function by name. */
#include "flowgate/blobshare.h"

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flowgate/b64.h"
#include "flowgate/image.h"
#include "flowgate/http_client.h"
#include "flowgate/invoke.h"

/* The port of a URL (the scheme's when none is written; -1 unreadable),
 * by libcurl's parser, so http and https URLs read alike. */
static long url_port(const char *url)
{
    CURLU *u = curl_url();
    char *port = NULL;
    long p = -1;
    if (u && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) == CURLUE_OK)
        p = strtol(port, NULL, 10);
    curl_free(port);
    curl_url_cleanup(u);
    return p;
}

static int has_function(const cJSON *info, const char *name)
{
    const cJSON *f;
    cJSON_ArrayForEach(f, cJSON_GetObjectItemCaseSensitive(info, "functions"))
        if (cJSON_IsString(f) && !strcmp(f->valuestring, name)) return 1;
    return 0;
}

/* B lists a peer named `name` at the port of `url`. */
static int lists_peer(const cJSON *peers, const char *name, const char *url)
{
    const cJSON *p;
    cJSON_ArrayForEach(p, peers) {
        const cJSON *n = cJSON_GetObjectItemCaseSensitive(p, "name");
        const cJSON *u = cJSON_GetObjectItemCaseSensitive(p, "url");
        if (cJSON_IsString(n) && cJSON_IsString(u) && !strcmp(n->valuestring, name) &&
            url_port(u->valuestring) > 0 && url_port(u->valuestring) == url_port(url))
            return 1;
    }
    return 0;
}

static int by_peers(const fg_cluster *c, cJSON **info, const char **names, char *why, size_t size)
{
    for (int b = 0; b < c->n_nodes; b++) {
        const cJSON *peers = cJSON_GetObjectItemCaseSensitive(info[b], "peers");
        for (int a = 0; a < c->n_nodes; a++) {
            if (a == b || lists_peer(peers, names[a], c->nodes[a].url)) continue;
            snprintf(why, size, "node %s (%s) cannot fetch the blobs of node %s (%s): its "
                     "process does not know a node '%s' at that port",
                     c->nodes[b].name, c->nodes[b].url, c->nodes[a].name, c->nodes[a].url,
                     names[a]);
            return 0;
        }
    }
    return 1;
}

/* {"<field>":"<8x8 PNG>","by_ref":true}, or NULL. */
static char *probe_upload_body(const char *field, size_t *len)
{
    fg_image img;
    fg_buf png = {0};
    fg_err err;
    if (fg_image_alloc(&img, 8, 8) != 0) return NULL;
    memset(img.rgb, 128, (size_t)8 * 8 * 3);
    int rc = fg_png_encode(&img, 6, &png, &err);
    fg_image_free(&img);
    if (rc != 0) return NULL;
    size_t b64_len;
    char *b64 = fg_b64_encode(png.data, png.len, &b64_len);
    fg_buf_free(&png);
    if (!b64) return NULL;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, field, b64);
    cJSON_AddTrueToObject(o, "by_ref");
    free(b64);
    char *text = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    if (text) *len = strlen(text);
    return text;
}

/* The item at a dotted path ("ref", "a.b") of an answer; NULL when absent. */
static const cJSON *at_path(const cJSON *o, const char *path)
{
    char key[128];
    while (o && *path) {
        size_t n = strcspn(path, ".");
        if (n >= sizeof key) return NULL;
        memcpy(key, path, n);
        key[n] = 0;
        o = cJSON_GetObjectItemCaseSensitive(o, key);
        path += n + (path[n] == '.');
    }
    return o;
}

static int by_probe(const fg_cluster *c, const fg_blob_probe *probe, cJSON **info,
                    double timeout_s, char *why, size_t size)
{
    for (int i = 0; info && i < c->n_nodes; i++)
        if (!has_function(info[i], probe->upload) || !has_function(info[i], probe->reader)) {
            snprintf(why, size, "node %s does not host %s and %s, which the probe needs",
                     c->nodes[i].name, probe->upload, probe->reader);
            return -1;
        }
    size_t len = 0;
    char *body = probe_upload_body(probe->field, &len);
    if (!body) {
        snprintf(why, size, "cannot build the probe image (out of memory)");
        return -1;
    }
    fg_invoke_result up;
    fg_cluster_invoke(c, 0, probe->upload, body, len, timeout_s, &up);
    free(body);
    const cJSON *ref = at_path(up.response, probe->ref_path);
    if (!up.ok || !cJSON_IsObject(ref)) {
        if (up.ok)
            snprintf(why, size, "probe upload to node %s failed: no \"%s\" in the answer",
                     c->nodes[0].name, probe->ref_path);
        else
            snprintf(why, size, "probe upload to node %s failed: %.300s", c->nodes[0].name,
                     up.error);
        fg_invoke_result_free(&up);
        return -1;
    }
    cJSON *req = cJSON_CreateObject();
    cJSON_AddItemToObject(req, "input_ref", cJSON_Duplicate(ref, 1));
    fg_invoke_result_free(&up);
    char *read_body = cJSON_PrintUnformatted(req);
    cJSON_Delete(req);
    if (!read_body) {
        snprintf(why, size, "out of memory");
        return -1;
    }
    int verdict = 1;
    for (int b = 1; b < c->n_nodes && verdict == 1; b++) {
        fg_invoke_result r;
        fg_cluster_invoke(c, b, probe->reader, read_body, strlen(read_body), timeout_s, &r);
        const cJSON *msg = cJSON_GetObjectItemCaseSensitive(r.response, "message");
        const char *m = cJSON_IsString(msg) ? msg->valuestring : "";
        if (!r.ok && (strstr(m, "input_ref") || strstr(m, "not found on"))) {
            /* The answer names the reason: an unknown name, or a same-named
             * node of another process that has no such blob. */
            snprintf(why, size, "node %s (%s) cannot fetch the blobs of node %s (%s): %.200s",
                     c->nodes[b].name, c->nodes[b].url, c->nodes[0].name, c->nodes[0].url, m);
            verdict = 0;
        } else if (!r.ok) {
            snprintf(why, size, "probe on node %s failed: %.300s", c->nodes[b].name, r.error);
            verdict = -1;
        }
        fg_invoke_result_free(&r);
    }
    free(read_body);
    return verdict;
}

int fg_cluster_blobs_probe(const fg_cluster *c, const fg_blob_probe *probe, double timeout_s,
                           char *why, size_t why_size)
{
    snprintf(why, why_size, "%s", "");
    if (c->mode != FG_CLUSTER_NODES || c->n_nodes < 2) return 1;
    return by_probe(c, probe, NULL, timeout_s, why, why_size);
}

int fg_cluster_blobs_shared(const fg_cluster *c, const fg_blob_probe *probe, double timeout_s,
                            char *why, size_t why_size)
{
    snprintf(why, why_size, "%s", "");
    if (c->mode != FG_CLUSTER_NODES || c->n_nodes < 2) return 1;
    cJSON *info[FG_MAX_NODES] = {0};
    const char *names[FG_MAX_NODES];
    int have_peers = 1, verdict = 1;
    for (int i = 0; i < c->n_nodes && verdict == 1; i++) {
        char url[300];
        snprintf(url, sizeof url, "%s/", c->nodes[i].url);
        long code;
        fg_err err;
        if (fg_http_get_json_opts(url, &c->endpoint[i], 1, timeout_s, &code, &info[i], &err) != 0) {
            snprintf(why, why_size, "GET %s: %.200s", url, err.msg);
            verdict = -1;
            break;
        }
        const cJSON *name = cJSON_GetObjectItemCaseSensitive(info[i], "node");
        if (!cJSON_IsString(name)) {
            snprintf(why, why_size, "GET %s names no node: not a flowgate-functions node", url);
            verdict = -1;
            break;
        }
        names[i] = name->valuestring;
        if (!cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(info[i], "peers"))) have_peers = 0;
    }
    if (verdict == 1)
        verdict = have_peers ? by_peers(c, info, names, why, why_size)
                             : by_probe(c, probe, info, timeout_s, why, why_size);
    for (int i = 0; i < c->n_nodes; i++) cJSON_Delete(info[i]);
    return verdict;
}
