/* container_stats.c — each node container's CPU and memory, from the
 * Docker engine's stats API (containers.h).
 *
 * The engine reads the container's cgroup for us, v1 or v2 alike, so this
 * works whatever the host mounts: GET /containers/json (by label) and
 * GET /containers/<id>/stats?stream=false&one-shot=true (one-shot: the
 * current counters without the engine's one-second second sample) over
 * the unix socket DOCKER_HOST names, with libcurl. CPU is the cgroup's
 * cumulative usage (cpu_stats.cpu_usage.total_usage, ns), so a difference
 * of two samples is the CPU time of what ran in between; resident memory is
 * the cgroup's anonymous memory (memory_stats.stats rss on v1, anon on v2).
 * The engine answers a stats request at its next collection tick (about a
 * second, one-shot or not), so the containers are asked all at once (curl
 * multi): a sample costs one tick, not one per node. */
#include "flowgate/containers.h"
#include "flowgate/http_client.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <curl/curl.h>

#define API_TIMEOUT_MS 10000L

/* The engine's socket: DOCKER_HOST=unix://PATH, else the default. */
static int socket_path(char *out, size_t size, fg_err *err)
{
    const char *h = getenv("DOCKER_HOST");
    if (!h || !*h) h = "unix:///var/run/docker.sock";
    if (strncmp(h, "unix://", 7) != 0)
        return fg_err_set(err, "container stats: DOCKER_HOST '%.100s' is not a unix socket", h);
    snprintf(out, size, "%s", h + 7);
    return 0;
}

/* A GET of path (already escaped) from the engine, set up on h into b. */
static void api_request(CURL *h, const char *sock, const char *path, fg_http_body *b)
{
    char url[512];
    snprintf(url, sizeof url, "http://docker%s", path);
    memset(b, 0, sizeof *b);
    b->limit = 16 << 20;
    curl_easy_reset(h);
    curl_easy_setopt(h, CURLOPT_UNIX_SOCKET_PATH, sock);
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, API_TIMEOUT_MS);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, fg_http_body_write);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, b);
}

/* The finished request's JSON, or NULL with err. */
static cJSON *api_result(CURL *h, CURLcode rc, const char *sock, const char *path,
                         fg_http_body *b, fg_err *err)
{
    long status = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    cJSON *j = rc == CURLE_OK && status == 200 && b->data ? cJSON_Parse(b->data) : NULL;
    if (rc != CURLE_OK)
        fg_err_set(err, "container stats: Docker engine at %s: %s", sock, curl_easy_strerror(rc));
    else if (!j)
        fg_err_set(err, "container stats: engine answered HTTP %ld to %.80s", status, path);
    fg_http_body_free(b);
    return j;
}

static cJSON *api_get(CURL *h, const char *sock, const char *path, fg_err *err)
{
    fg_http_body b;
    api_request(h, sock, path, &b);
    return api_result(h, curl_easy_perform(h), sock, path, &b, err);
}

static double num_at(const cJSON *o, const char *const *path)
{
    for (; *path && o; path++) o = cJSON_GetObjectItemCaseSensitive(o, *path);
    return cJSON_IsNumber(o) ? o->valuedouble : -1;
}

int fg_containers_sample(const char *id, fg_container_usage *out, int max, fg_err *err)
{
    char sock[512];
    if (socket_path(sock, sizeof sock, err) != 0) return -1;
    CURL *h = curl_easy_init();
    if (!h) return fg_err_set(err, "container stats: cannot create an HTTP handle");
    /* filters={"label":["flowgate.cluster=<id>"]}, URL-escaped. */
    char filter[160], path[400];
    snprintf(filter, sizeof filter, "{\"label\":[\"flowgate.cluster=%s\"]}", id);
    char *esc = curl_easy_escape(h, filter, 0);
    snprintf(path, sizeof path, "/containers/json?filters=%s", esc ? esc : "");
    curl_free(esc);
    cJSON *list = api_get(h, sock, path, err);
    int n = -1, asked = 0;
    struct {
        CURL *h;
        fg_http_body b;
        char path[160];
        const char *node;
        cJSON *st;
    } q[FG_MAX_NODES];
    CURLM *m = NULL;
    if (!cJSON_IsArray(list) || !(m = curl_multi_init())) goto out;
    const cJSON *c;
    cJSON_ArrayForEach(c, list) {
        const cJSON *cid = cJSON_GetObjectItemCaseSensitive(c, "Id");
        const cJSON *node = cJSON_GetObjectItemCaseSensitive(
            cJSON_GetObjectItemCaseSensitive(c, "Labels"), "flowgate.node");
        if (!cJSON_IsString(cid) || !cJSON_IsString(node) || asked >= max ||
            asked >= FG_MAX_NODES)
            continue;
        if (!(q[asked].h = curl_easy_init())) {
            fg_err_set(err, "container stats: cannot create an HTTP handle");
            goto out;
        }
        snprintf(q[asked].path, sizeof q[asked].path,
                 "/containers/%.64s/stats?stream=false&one-shot=true", cid->valuestring);
        q[asked].node = node->valuestring;
        q[asked].st = NULL;
        api_request(q[asked].h, sock, q[asked].path, &q[asked].b);
        curl_multi_add_handle(m, q[asked].h);
        asked++;
    }
    for (int running = 1; running;) {
        if (curl_multi_perform(m, &running) != CURLM_OK) break;
        if (running) curl_multi_poll(m, NULL, 0, 1000, NULL);
    }
    int failed = 0;
    CURLMsg *msg;
    int left;
    while ((msg = curl_multi_info_read(m, &left)))
        for (int i = 0; i < asked && msg->msg == CURLMSG_DONE; i++)
            if (q[i].h == msg->easy_handle && !failed &&
                !(q[i].st = api_result(q[i].h, msg->data.result, sock, q[i].path, &q[i].b, err)))
                failed = 1;
    n = 0;
    for (int i = 0; i < asked && !failed; i++) {
        const cJSON *st = q[i].st;
        if (!st) {
            fg_err_set(err, "container stats: no answer to %.80s", q[i].path);
            failed = 1;
            break;
        }
        static const char *const cpu[] = {"cpu_stats", "cpu_usage", "total_usage", NULL};
        static const char *const usage[] = {"memory_stats", "usage", NULL};
        static const char *const rss_v1[] = {"memory_stats", "stats", "rss", NULL};
        static const char *const anon_v2[] = {"memory_stats", "stats", "anon", NULL};
        fg_container_usage *u = &out[n];
        snprintf(u->node, sizeof u->node, "%s", q[i].node);
        double ns = num_at(st, cpu), use = num_at(st, usage), rss = num_at(st, rss_v1);
        if (rss < 0) rss = num_at(st, anon_v2);
        u->cpu_s = ns >= 0 ? ns / 1e9 : -1;
        u->usage_kb = use >= 0 ? (long)(use / 1024) : -1;
        u->rss_kb = rss >= 0 ? (long)(rss / 1024) : -1;
        n++;
    }
    if (failed) n = -1;
out:
    for (int i = 0; i < asked; i++) {
        curl_multi_remove_handle(m, q[i].h);
        curl_easy_cleanup(q[i].h);
        fg_http_body_free(&q[i].b);
        cJSON_Delete(q[i].st);
    }
    curl_multi_cleanup(m);
    cJSON_Delete(list);
    curl_easy_cleanup(h);
    return n;
}

cJSON *fg_containers_usage_json(const fg_container_usage *before, int n_before,
                                const fg_container_usage *after, int n_after)
{
    cJSON *o = cJSON_CreateObject();
    for (int i = 0; i < n_after; i++) {
        const fg_container_usage *a = &after[i], *b = NULL;
        for (int k = 0; k < n_before && !b; k++)
            if (!strcmp(before[k].node, a->node)) b = &before[k];
        if (!b) continue;
        /* A figure the engine did not give stays absent, never 0. */
        cJSON *n = cJSON_AddObjectToObject(o, a->node);
        if (a->cpu_s >= 0 && b->cpu_s >= 0)
            cJSON_AddNumberToObject(n, "cpu_s", round(1000 * (a->cpu_s - b->cpu_s)) / 1000);
        if (a->rss_kb >= 0) cJSON_AddNumberToObject(n, "rss_kb", (double)a->rss_kb);
        if (a->usage_kb >= 0) cJSON_AddNumberToObject(n, "usage_kb", (double)a->usage_kb);
    }
    return o;
}
