/* own_server.h — for HTTP tests that start their own flowgate-functions
 * (127.0.0.1, ephemeral ports) on their own nodes profile, so the shared
 * test server keeps its defaults: start it and wait for its endpoints,
 * a node's URL, a line of its /proc status (memory), stop it. Files go to
 * a temp directory: <tag>.json, <tag>-endpoints.json, <tag>.log. And one
 * request with its Retry-After header and an optional client timeout, and
 * a small test image to send. */
#ifndef FLOWGATE_TESTS_OWN_SERVER_H
#define FLOWGATE_TESTS_OWN_SERVER_H
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cjson/cJSON.h>

#include "flowgate/b64.h"
#include "flowgate/common.h"
#include "flowgate/imagegen.h"
#include "http_client.h"

extern char **environ;

typedef struct own_server {
    char dir[256];
    char tag[32];
    pid_t pid;
} own_server;

static inline void own_path(const own_server *s, const char *suffix, char *out, size_t size)
{
    snprintf(out, size, "%s/%s%s", s->dir, s->tag, suffix);
}

/* The url of node n in an endpoints file, "" when it is not complete. */
static inline void endpoints_file_url(const char *path, int n, char *out, size_t size)
{
    out[0] = 0;
    fg_buf text;
    if (fg_read_file(path, 1 << 20, &text, NULL) != 0) return;
    cJSON *root = cJSON_ParseWithLength((const char *)text.data, text.len);
    fg_buf_free(&text);
    const cJSON *node = cJSON_GetArrayItem(cJSON_GetObjectItem(root, "nodes"), n);
    const char *url = cJSON_GetStringValue(cJSON_GetObjectItem(node, "url"));
    if (url) snprintf(out, size, "%s", url);
    cJSON_Delete(root);
}

/* The url of node n in the server's endpoints file, "" until it is written. */
static inline void own_server_url(const own_server *s, int n, char *out, size_t size)
{
    char path[512];
    own_path(s, "-endpoints.json", path, sizeof path);
    endpoints_file_url(path, n, out, size);
}

/* Starts the server on profile (JSON text). 0 once it listens, -1 with a
 * line on stderr. */
static inline int own_server_start(own_server *s, const char *tag, const char *profile)
{
    memset(s, 0, sizeof *s);
    snprintf(s->tag, sizeof s->tag, "%s", tag);
    const char *tmp = getenv("TMPDIR"), *bindir = getenv("FLOWGATE_BIN");
    snprintf(s->dir, sizeof s->dir, "%s/flowgate-%s-XXXXXX", tmp && *tmp ? tmp : "/tmp", tag);
    if (!bindir || !mkdtemp(s->dir)) {
        fprintf(stderr, "%s: needs FLOWGATE_BIN (run it through ctest) and a temp dir\n", tag);
        return -1;
    }
    char bin[1024], prof[512], out[512], log[512], parent[24];
    snprintf(bin, sizeof bin, "%s/flowgate-functions", bindir);
    own_path(s, ".json", prof, sizeof prof);
    own_path(s, "-endpoints.json", out, sizeof out);
    own_path(s, ".log", log, sizeof log);
    snprintf(parent, sizeof parent, "%ld", (long)getpid());
    FILE *f = fopen(prof, "w");
    if (!f) return -1;
    fputs(profile, f);
    fclose(f);
    char *argv[] = {bin, "--nodes", prof, "--bind", "127.0.0.1", "--endpoints-out", out,
                    "--parent-pid", parent, NULL};
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_adddup2(&fa, 1, 2);
    int rc = posix_spawn(&s->pid, bin, &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0) {
        fprintf(stderr, "%s: cannot start %s: %s\n", tag, bin, strerror(rc));
        s->pid = 0;
        return -1;
    }
    char url[128] = "";
    for (int i = 0; i < 600 && !url[0]; i++) {   /* up to 60 s under ASan */
        if (waitpid(s->pid, NULL, WNOHANG) == s->pid) {
            fprintf(stderr, "%s: the server exited; see %s\n", tag, log);
            s->pid = 0;
            return -1;
        }
        own_server_url(s, 0, url, sizeof url);
        if (!url[0]) usleep(100 * 1000);
    }
    if (!url[0]) fprintf(stderr, "%s: the server did not start; see %s\n", tag, log);
    return url[0] ? 0 : -1;
}

/* A "Name:   N kB" line of the server's /proc/<pid>/status, in kB; -1. */
static inline long own_server_status_kb(const own_server *s, const char *name)
{
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%ld/status", (long)s->pid);
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    long kb = -1;
    size_t n = strlen(name);
    while (fgets(line, sizeof line, f))
        if (!strncmp(line, name, n) && line[n] == ':') kb = strtol(line + n + 1, NULL, 10);
    fclose(f);
    return kb;
}

/* Stops it (SIGTERM, the clean stop) and removes its files, but the log of
 * a server that did not exit 0; returns its wait status (-1 when it was
 * not running). */
static inline int own_server_stop(own_server *s)
{
    int status = -1;
    if (s->pid > 0) {
        kill(s->pid, SIGTERM);
        while (waitpid(s->pid, &status, 0) < 0 && errno == EINTR) {}
        s->pid = 0;
    }
    const char *suffixes[] = {".json", "-endpoints.json", ".log"};
    size_t keep_log = status != 0;
    char path[512];
    for (size_t i = 0; s->dir[0] && i < sizeof suffixes / sizeof suffixes[0] - keep_log; i++) {
        own_path(s, suffixes[i], path, sizeof path);
        unlink(path);
    }
    if (s->dir[0]) rmdir(s->dir);   /* fails, keeping it, while a log is left */
    return status;
}

/* A small generated PNG (the smallest size imagegen makes), base64, heap;
 * NULL with a line on stderr. */
static inline char *own_png_b64(uint32_t seed)
{
    fg_buf png;
    fg_err err;
    if (fg_imagegen_png(0.05, FG_VARIANT_CLEAN, seed, &png, &err) != 0) {
        fprintf(stderr, "own_png_b64: %s\n", err.msg);
        return NULL;
    }
    char *b64 = fg_b64_encode(png.data, png.len, NULL);
    fg_buf_free(&png);
    return b64;
}

typedef struct own_reply {
    http_resp r;
    char retry_after[16];   /* the header's value, "" when absent */
} own_reply;

static inline size_t own_header_cb(char *p, size_t size, size_t n, void *ud)
{
    own_reply *o = ud;
    http_header_cb(p, size, n, &o->r);
    http_header_value(p, size * n, "Retry-After:", o->retry_after, sizeof o->retry_after);
    return size * n;
}

/* method base+path with body (NULL: none); timeout_ms 0: the client's
 * default. out->r.body is the reply (free with http_resp_free). */
static inline void own_request(const char *method, const char *base, const char *path,
                               const char *body, long timeout_ms, own_reply *out)
{
    char url[512];
    snprintf(url, sizeof url, "%s%s", base, path);
    memset(out, 0, sizeof *out);
    CURL *h = http_handle(method, url, &out->r);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, own_header_cb);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, out);
    if (timeout_ms > 0) curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, timeout_ms);
    struct curl_slist *hdrs = NULL;
    if (body) {
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(body));
        hdrs = curl_slist_append(hdrs, "Content-Type: application/json");
        hdrs = curl_slist_append(hdrs, "Expect:");
        curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
    }
    http_perform(h, &out->r);
    curl_slist_free_all(hdrs);
}

/* GET base+path as JSON; NULL unless a 200 with a JSON body. */
static inline cJSON *own_get_json(const char *base, const char *path)
{
    own_reply o;
    own_request("GET", base, path, NULL, 0, &o);
    cJSON *j = o.r.status == 200 && o.r.body ? cJSON_Parse(o.r.body) : NULL;
    http_resp_free(&o.r);
    return j;
}

#endif
