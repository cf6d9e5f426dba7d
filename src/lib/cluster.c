/* cluster.c — where the functions run, and the process that runs them.
 *
 * Three endpoint forms (cluster.h): "nodes" and "functions" are read from
 * the file; "docker" lists labelled containers with `docker ps` and maps
 * each published port to http://127.0.0.1:<port>. Every URL must be plain
 * http to a loopback host: the suite never sends traffic off this machine,
 * so a stray remote URL is refused at load time rather than discovered in
 * the middle of a run. libcurl is told to ignore proxy variables for the
 * same reason.
 *
 * The embedded server is a child process (posix_spawn), its output in
 * <tmpdir>/server.log; flowgate waits for the endpoints file it writes and
 * for every node to answer GET /. Only a server this process started is
 * ever signalled. CPU and memory of that child are read from /proc. */
#define _GNU_SOURCE   /* nftw */
#include "flowgate/cluster.h"

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define ENDPOINTS_MAX_BYTES (1024 * 1024)
#define DOCKER_DEFAULT_LABEL "flowgate.function"

/* ---- URLs --------------------------------------------------------------- */

int fg_cluster_url_is_loopback(const char *url)
{
    static const char *const hosts[] = {"127.0.0.1", "localhost", "[::1]"};
    if (!url || strncmp(url, "http://", 7) != 0) return 0;
    const char *h = url + 7;
    for (size_t i = 0; i < sizeof hosts / sizeof hosts[0]; i++) {
        size_t n = strlen(hosts[i]);
        if (strncmp(h, hosts[i], n) != 0) continue;
        const char *rest = h + n;
        if (*rest == ':') {
            /* A port: 1..65535, then end or a path. */
            char *end;
            long port = strtol(rest + 1, &end, 10);
            if (end == rest + 1 || port < 1 || port > 65535) return 0;
            rest = end;
        }
        return *rest == 0 || *rest == '/';
    }
    return 0;
}

/* Copies a URL without its trailing slashes; -1 when it does not fit. */
static int copy_base_url(char *dst, size_t size, const char *url)
{
    size_t n = strlen(url);
    while (n > 7 && url[n - 1] == '/') n--;
    if (n >= size) return -1;
    memcpy(dst, url, n);
    dst[n] = 0;
    return 0;
}

int fg_cluster_invoke_url(const fg_cluster *c, int node, const char *function,
                          char *url, size_t url_size)
{
    int n;
    if (!function || !*function) return -1;
    if (c->mode == FG_CLUSTER_FUNCTIONS) {
        for (int i = 0; i < c->n_functions; i++)
            if (!strcmp(c->function_names[i], function)) {
                n = snprintf(url, url_size, "%s/invoke", c->function_urls[i]);
                return n < 0 || (size_t)n >= url_size ? -1 : 0;
            }
        return -1;
    }
    if (node < 0 || node >= c->n_nodes) return -1;
    n = snprintf(url, url_size, "%s/invoke/%s", c->nodes[node].url, function);
    return n < 0 || (size_t)n >= url_size ? -1 : 0;
}

/* ---- endpoints file ----------------------------------------------------- */

static int load_nodes(const char *path, const cJSON *root, fg_cluster *c, fg_err *err)
{
    const cJSON *nodes = cJSON_GetObjectItemCaseSensitive(root, "nodes");
    if (!cJSON_IsArray(nodes))
        return fg_err_set(err, "%s: \"nodes\": expected an array of nodes", path);
    int count = cJSON_GetArraySize(nodes);
    if (count < 1) return fg_err_set(err, "%s: \"nodes\": empty, at least one node needed", path);
    if (count > FG_MAX_NODES)
        return fg_err_set(err, "%s: \"nodes\": %d nodes, at most %d supported", path, count, FG_MAX_NODES);
    int i = 0;
    const cJSON *n;
    cJSON_ArrayForEach(n, nodes) {
        fg_node_info *info = &c->nodes[i];
        if (!cJSON_IsObject(n)) return fg_err_set(err, "%s: nodes[%d]: expected an object", path, i);
        const cJSON *name = cJSON_GetObjectItemCaseSensitive(n, "name");
        const cJSON *url = cJSON_GetObjectItemCaseSensitive(n, "url");
        const cJSON *workers = cJSON_GetObjectItemCaseSensitive(n, "workers");
        const cJSON *bw = cJSON_GetObjectItemCaseSensitive(n, "bandwidth_mbit");
        const cJSON *lat = cJSON_GetObjectItemCaseSensitive(n, "latency_ms");
        if (!cJSON_IsString(name) || !*name->valuestring)
            return fg_err_set(err, "%s: nodes[%d].name: missing or not a non-empty string", path, i);
        if (strlen(name->valuestring) >= sizeof info->name)
            return fg_err_set(err, "%s: nodes[%d].name: longer than %zu characters", path, i, sizeof info->name - 1);
        for (int j = 0; j < i; j++)
            if (!strcmp(c->nodes[j].name, name->valuestring))
                return fg_err_set(err, "%s: nodes[%d].name: '%s' appears twice", path, i, name->valuestring);
        if (!cJSON_IsString(url))
            return fg_err_set(err, "%s: nodes[%d].url: missing or not a string", path, i);
        if (!fg_cluster_url_is_loopback(url->valuestring))
            return fg_err_set(err, "%s: nodes[%d].url: '%s' refused: only http://127.0.0.1, localhost or [::1] (no traffic leaves this machine)",
                              path, i, url->valuestring);
        if (copy_base_url(info->url, sizeof info->url, url->valuestring) != 0)
            return fg_err_set(err, "%s: nodes[%d].url: too long", path, i);
        snprintf(info->name, sizeof info->name, "%s", name->valuestring);
        /* workers, bandwidth and latency are optional: 1 worker, no
         * bandwidth emulation (0 = not limited), no added latency. */
        info->workers = 1;
        if (workers) {
            if (!cJSON_IsNumber(workers) || workers->valuedouble < 1 || workers->valuedouble > 4096 ||
                workers->valuedouble != (double)(int)workers->valuedouble)
                return fg_err_set(err, "%s: nodes[%d].workers: expected an integer from 1 to 4096", path, i);
            info->workers = workers->valueint;
        }
        info->bandwidth_mbit = 0;
        if (bw) {
            if (!cJSON_IsNumber(bw) || bw->valuedouble < 0)
                return fg_err_set(err, "%s: nodes[%d].bandwidth_mbit: expected a number >= 0", path, i);
            info->bandwidth_mbit = bw->valuedouble;
        }
        info->latency_ms = 0;
        if (lat) {
            if (!cJSON_IsNumber(lat) || lat->valuedouble < 0)
                return fg_err_set(err, "%s: nodes[%d].latency_ms: expected a number >= 0", path, i);
            info->latency_ms = lat->valuedouble;
        }
        i++;
    }
    c->mode = FG_CLUSTER_NODES;
    c->n_nodes = count;
    return 0;
}

/* FUNCTIONS mode has one pseudo-node: the scheduler has nothing to choose,
 * and per-node statistics land under "functions". */
static void set_function_pseudo_node(fg_cluster *c)
{
    c->mode = FG_CLUSTER_FUNCTIONS;
    c->n_nodes = 1;
    memset(&c->nodes[0], 0, sizeof c->nodes[0]);
    snprintf(c->nodes[0].name, sizeof c->nodes[0].name, "functions");
    c->nodes[0].workers = 1;
}

static int add_function(fg_cluster *c, const char *what, const char *name, const char *url, fg_err *err)
{
    if (!*name) return fg_err_set(err, "%s: empty function name", what);
    if (strlen(name) >= sizeof c->function_names[0])
        return fg_err_set(err, "%s: function name '%.40s...' too long", what, name);
    for (int j = 0; j < c->n_functions; j++)
        if (!strcmp(c->function_names[j], name))
            return fg_err_set(err, "%s: function '%s' appears twice", what, name);
    if (c->n_functions >= FG_MAX_FUNCTIONS)
        return fg_err_set(err, "%s: more than %d functions", what, FG_MAX_FUNCTIONS);
    if (!fg_cluster_url_is_loopback(url))
        return fg_err_set(err, "%s: %s: '%s' refused: only http://127.0.0.1, localhost or [::1] (no traffic leaves this machine)",
                          what, name, url);
    int k = c->n_functions;
    if (copy_base_url(c->function_urls[k], sizeof c->function_urls[k], url) != 0)
        return fg_err_set(err, "%s: %s: URL too long", what, name);
    snprintf(c->function_names[k], sizeof c->function_names[k], "%s", name);
    c->n_functions++;
    return 0;
}

static int load_functions(const char *path, const cJSON *root, fg_cluster *c, fg_err *err)
{
    const cJSON *fns = cJSON_GetObjectItemCaseSensitive(root, "functions");
    if (!cJSON_IsObject(fns))
        return fg_err_set(err, "%s: \"functions\": expected an object {\"<function>\": \"<url>\"}", path);
    char what[600];
    snprintf(what, sizeof what, "%s: functions", path);
    const cJSON *f;
    cJSON_ArrayForEach(f, fns) {
        if (!cJSON_IsString(f))
            return fg_err_set(err, "%s: functions.%s: expected a URL string", path, f->string);
        if (add_function(c, what, f->string, f->valuestring, err) != 0) return -1;
    }
    if (c->n_functions == 0) return fg_err_set(err, "%s: \"functions\": empty", path);
    set_function_pseudo_node(c);
    return 0;
}

/* The docker client talks to DOCKER_HOST; a remote one would be traffic
 * off this machine. */
static int docker_host_is_local(void)
{
    const char *h = getenv("DOCKER_HOST");
    if (!h || !*h || !strncmp(h, "unix://", 7)) return 1;
    if (!strncmp(h, "tcp://", 6)) {
        char url[300];
        snprintf(url, sizeof url, "http://%s", h + 6);
        return fg_cluster_url_is_loopback(url);
    }
    return 0;
}

int fg_cluster_parse_docker_ps(const char *output, const char *label, fg_cluster *c, fg_err *err)
{
    c->n_functions = 0;
    const char *line = output;
    while (line && *line) {
        const char *eol = strchr(line, '\n');
        size_t len = eol ? (size_t)(eol - line) : strlen(line);
        char buf[1024];
        if (len >= sizeof buf) return fg_err_set(err, "docker mode: docker ps line too long");
        memcpy(buf, line, len);
        buf[len] = 0;
        line = eol ? eol + 1 : NULL;
        if (len && buf[len - 1] == '\r') buf[--len] = 0;
        if (!len) continue;
        /* "<name> <ports, may contain ', '> <label value, may be empty>" */
        char *sp = strchr(buf, ' ');
        if (!sp) return fg_err_set(err, "docker mode: unexpected docker ps line '%s'", buf);
        *sp = 0;
        const char *name = buf;
        char *ports = sp + 1;
        char *last = strrchr(ports, ' ');
        const char *function = "";
        if (last) {
            *last = 0;
            function = last + 1;
        }
        if (!*function) function = name;   /* label without a value: the container's name */
        /* First published mapping "<host ip>:<port>->..."; any host address
         * of the mapping is reachable through 127.0.0.1. */
        char *arrow = strstr(ports, "->");
        if (!arrow)
            return fg_err_set(err, "docker mode: container %s (%s) publishes no port", name, function);
        *arrow = 0;
        char *colon = strrchr(ports, ':');
        char *end;
        long port = colon ? strtol(colon + 1, &end, 10) : 0;
        if (!colon || end == colon + 1 || *end || port < 1 || port > 65535)
            return fg_err_set(err, "docker mode: container %s: cannot read its published port", name);
        char url[64];
        snprintf(url, sizeof url, "http://127.0.0.1:%ld", port);
        if (add_function(c, "docker mode", function, url, err) != 0) return -1;
    }
    if (c->n_functions == 0)
        return fg_err_set(err, "docker mode: no running container has the label '%s'", label);
    set_function_pseudo_node(c);
    return 0;
}

static int label_is_safe(const char *s)
{
    if (!*s) return 0;
    for (; *s; s++)
        if (!(('a' <= *s && *s <= 'z') || ('A' <= *s && *s <= 'Z') || ('0' <= *s && *s <= '9') ||
              strchr("._-/", *s)))
            return 0;
    return 1;
}

static int load_docker(const char *path, const cJSON *root, fg_cluster *c, fg_err *err)
{
    const cJSON *l = cJSON_GetObjectItemCaseSensitive(root, "label");
    const char *label = DOCKER_DEFAULT_LABEL;
    if (l) {
        if (!cJSON_IsString(l) || !label_is_safe(l->valuestring))
            return fg_err_set(err, "%s: \"label\": expected a label name of letters, digits and ._-/", path);
        label = l->valuestring;
    }
    if (!docker_host_is_local())
        return fg_err_set(err, "docker mode: DOCKER_HOST '%s' is not on this machine; refused", getenv("DOCKER_HOST"));
    /* `timeout` bounds a client that hangs on an unreachable engine. */
    char cmd[512];
    snprintf(cmd, sizeof cmd,
             "timeout 20 docker ps --filter label=%s --format '{{.Names}} {{.Ports}} {{.Label \"%s\"}}' 2>&1",
             label, label);
    FILE *p = popen(cmd, "r");
    if (!p) return fg_err_set(err, "docker mode: cannot run docker ps: %s", strerror(errno));
    size_t cap = 4096, len = 0;
    char *out = malloc(cap);
    if (!out) {
        pclose(p);
        return fg_err_set(err, "docker mode: out of memory");
    }
    size_t got;
    while ((got = fread(out + len, 1, cap - len - 1, p)) > 0) {
        len += got;
        if (cap - len < 2 && cap < 1024 * 1024) {
            char *bigger = realloc(out, cap * 2);
            if (!bigger) break;
            out = bigger;
            cap *= 2;
        }
        if (cap - len < 2) break;
    }
    out[len] = 0;
    int status = pclose(p);
    int rc;
    if (status != 0) {
        /* docker prints one error line, e.g. "Cannot connect to the Docker daemon ..." */
        char first[300] = "";
        char *s = out;
        while (*s == '\n' || *s == ' ') s++;
        size_t n = strcspn(s, "\n");
        if (n >= sizeof first) n = sizeof first - 1;
        memcpy(first, s, n);
        first[n] = 0;
        if (WIFEXITED(status) && WEXITSTATUS(status) == 124)
            snprintf(first, sizeof first, "no answer within 20 s");
        rc = fg_err_set(err, "docker mode: no Docker engine reachable (docker ps: %s)",
                        *first ? first : "failed without a message");
    } else {
        rc = fg_cluster_parse_docker_ps(out, label, c, err);
    }
    free(out);
    return rc;
}

int fg_cluster_load_endpoints(const char *path, fg_cluster *c, fg_err *err)
{
    memset(c, 0, sizeof *c);
    fg_buf text;
    if (fg_read_file(path, ENDPOINTS_MAX_BYTES, &text, err) != 0) return -1;
    cJSON *root = cJSON_ParseWithLength((const char *)text.data, text.len);
    if (!root) {
        const char *at = cJSON_GetErrorPtr();
        long off = at && at >= (const char *)text.data && at <= (const char *)text.data + text.len
                       ? (long)(at - (const char *)text.data) : -1;
        fg_buf_free(&text);
        return fg_err_set(err, "%s: invalid JSON near byte %ld", path, off);
    }
    fg_buf_free(&text);
    int rc;
    const cJSON *mode = cJSON_GetObjectItemCaseSensitive(root, "mode");
    if (!cJSON_IsObject(root))
        rc = fg_err_set(err, "%s: expected a JSON object", path);
    else if (!cJSON_IsString(mode))
        rc = fg_err_set(err, "%s: \"mode\": missing or not a string (nodes, functions or docker)", path);
    else if (!strcmp(mode->valuestring, "nodes"))
        rc = load_nodes(path, root, c, err);
    else if (!strcmp(mode->valuestring, "functions"))
        rc = load_functions(path, root, c, err);
    else if (!strcmp(mode->valuestring, "docker"))
        rc = load_docker(path, root, c, err);
    else
        rc = fg_err_set(err, "%s: \"mode\": unknown '%s' (nodes, functions or docker)", path, mode->valuestring);
    cJSON_Delete(root);
    if (rc != 0) memset(c, 0, sizeof *c);
    return rc;
}

/* ---- HTTP --------------------------------------------------------------- */

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static void curl_init_once(void) { curl_global_init(CURL_GLOBAL_DEFAULT); }

void fg_http_loopback_only(void *easy)
{
    curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http");
    curl_easy_setopt(easy, CURLOPT_PROXY, "");          /* never through a proxy */
    curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
}

size_t fg_http_body_write(char *data, size_t size, size_t nmemb, void *userp)
{
    fg_http_body *b = userp;
    size_t n = size * nmemb;
    if (b->limit && b->len + n > b->limit) {
        b->overflow = 1;
        return 0;   /* aborts the transfer: CURLE_WRITE_ERROR */
    }
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + n + 1) cap *= 2;
        char *grown = realloc(b->data, cap);
        if (!grown) return 0;
        b->data = grown;
        b->cap = cap;
    }
    memcpy(b->data + b->len, data, n);
    b->len += n;
    b->data[b->len] = 0;
    return n;
}

void fg_http_body_free(fg_http_body *b)
{
    free(b->data);
    memset(b, 0, sizeof *b);
}

static CURL *easy_for(const char *url, double timeout_s, fg_http_body *resp)
{
    pthread_once(&curl_once, curl_init_once);
    CURL *h = curl_easy_init();
    if (!h) return NULL;
    long ms = (long)(timeout_s * 1000);
    curl_easy_setopt(h, CURLOPT_URL, url);
    fg_http_loopback_only(h);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, ms < 1 ? 1L : ms);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, fg_http_body_write);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, resp);
    return h;
}

int fg_cluster_post(const char *url, const char *body, size_t len, double timeout_s,
                    fg_buf *resp, long *http_code, fg_err *err)
{
    resp->data = NULL;
    resp->len = 0;
    *http_code = 0;
    if (!fg_cluster_url_is_loopback(url))
        return fg_err_set(err, "%s: refused, not a loopback http URL", url);
    fg_http_body got = {.limit = FG_MAX_RESPONSE_BYTES};
    CURL *h = easy_for(url, timeout_s, &got);
    if (!h) return fg_err_set(err, "%s: cannot create a curl handle", url);
    struct curl_slist *hdr = curl_slist_append(NULL, "Content-Type: application/json");
    hdr = curl_slist_append(hdr, "Expect:");   /* no 100-continue round trip */
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    CURLcode rc = curl_easy_perform(h);
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, http_code);
    curl_slist_free_all(hdr);
    curl_easy_cleanup(h);
    if (rc != CURLE_OK) {
        int overflow = got.overflow;
        fg_http_body_free(&got);
        if (overflow)
            return fg_err_set(err, "%s: response larger than %zu bytes", url, FG_MAX_RESPONSE_BYTES);
        return fg_err_set(err, "%s: %s", url, curl_easy_strerror(rc));
    }
    resp->data = (unsigned char *)got.data;
    resp->len = got.len;
    return 0;
}

/* One GET /; on failure why names the reason. */
static int health_once(const char *base, double timeout_s, char *why, size_t why_size)
{
    char url[300];
    snprintf(url, sizeof url, "%s/", base);
    fg_http_body resp = {.limit = 1 << 20};   /* a health answer is a few bytes */
    CURL *h = easy_for(url, timeout_s, &resp);
    if (!h) {
        snprintf(why, why_size, "cannot create a curl handle");
        return -1;
    }
    CURLcode rc = curl_easy_perform(h);
    long code = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
    curl_easy_cleanup(h);
    int ok = -1;
    if (rc != CURLE_OK) {
        snprintf(why, why_size, "%s", curl_easy_strerror(rc));
    } else if (code != 200) {
        snprintf(why, why_size, "HTTP %ld", code);
    } else {
        cJSON *j = resp.data ? cJSON_ParseWithLength(resp.data, resp.len) : NULL;
        const cJSON *st = cJSON_GetObjectItemCaseSensitive(j, "status");
        if (cJSON_IsString(st) && !strcmp(st->valuestring, "healthy")) ok = 0;
        else snprintf(why, why_size, "answer is not {\"status\":\"healthy\"}");
        cJSON_Delete(j);
    }
    fg_http_body_free(&resp);
    return ok;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {}
}

/* Retries one endpoint until healthy or until the absolute deadline. */
static int health_until(const char *label, const char *base, double deadline_ms, fg_err *err)
{
    char why[256] = "no attempt made";
    for (;;) {
        double left = deadline_ms - fg_now_mono_ms();
        double attempt_s = left / 1000.0;
        if (attempt_s > 2.0) attempt_s = 2.0;
        if (attempt_s < 0.2) attempt_s = 0.2;
        if (health_once(base, attempt_s, why, sizeof why) == 0) return 0;
        if (fg_now_mono_ms() + 50 >= deadline_ms) break;
        sleep_ms(50);
    }
    return fg_err_set(err, "endpoint %s (%s/) not healthy: %s", label, base, why);
}

int fg_cluster_health(const fg_cluster *c, double deadline_s, fg_err *err)
{
    double deadline_ms = fg_now_mono_ms() + deadline_s * 1000.0;
    if (c->mode == FG_CLUSTER_FUNCTIONS) {
        if (c->n_functions == 0) return fg_err_set(err, "no function endpoints configured");
        for (int i = 0; i < c->n_functions; i++)
            if (health_until(c->function_names[i], c->function_urls[i], deadline_ms, err) != 0) return -1;
        return 0;
    }
    if (c->n_nodes == 0) return fg_err_set(err, "no nodes configured");
    for (int i = 0; i < c->n_nodes; i++)
        if (health_until(c->nodes[i].name, c->nodes[i].url, deadline_ms, err) != 0) return -1;
    return 0;
}

/* ---- the embedded server ------------------------------------------------ */

static int find_server_bin(char *out, size_t size, fg_err *err)
{
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n > 0) {
        exe[n] = 0;
        char *slash = strrchr(exe, '/');
        if (slash) {
            *slash = 0;
            int w = snprintf(out, size, "%s/flowgate-functions", exe);
            if (w > 0 && (size_t)w < size && access(out, X_OK) == 0) return 0;
        }
    }
    const char *bin = getenv("FLOWGATE_BIN");
    if (bin && *bin) {
        int w = snprintf(out, size, "%s/flowgate-functions", bin);
        if (w > 0 && (size_t)w < size && access(out, X_OK) == 0) return 0;
    }
    return fg_err_set(err, "flowgate-functions not found next to %s nor in $FLOWGATE_BIN (%s); set FLOWGATE_BIN to the build directory",
                      n > 0 ? exe : "this program", bin && *bin ? bin : "unset");
}

/* The last non-empty line of the server's log, for error messages. */
static void last_log_line(const char *dir, char *out, size_t size)
{
    char path[600];
    snprintf(path, sizeof path, "%s/server.log", dir);
    snprintf(out, size, "server log empty");
    FILE *f = fopen(path, "rb");
    if (!f) return;
    char tail[4096];
    long start = 0;
    if (fseek(f, 0, SEEK_END) == 0) {
        long end = ftell(f);
        start = end > (long)sizeof tail - 1 ? end - (long)sizeof tail + 1 : 0;
    }
    fseek(f, start, SEEK_SET);
    size_t n = fread(tail, 1, sizeof tail - 1, f);
    fclose(f);
    tail[n] = 0;
    while (n && (tail[n - 1] == '\n' || tail[n - 1] == '\r' || tail[n - 1] == ' ')) tail[--n] = 0;
    if (!n) return;
    char *line = strrchr(tail, '\n');
    line = line ? line + 1 : tail;
    size_t len = strlen(line);
    if (len >= size) len = size - 1;    /* a long line is cut, not wrapped */
    memcpy(out, line, len);
    out[len] = 0;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st; (void)flag; (void)ftw;
    remove(path);
    return 0;
}

static void remove_tree(const char *dir)
{
    if (dir && *dir) nftw(dir, remove_entry, 8, FTW_DEPTH | FTW_PHYS);
}

static int child_exited(pid_t pid, int *status)
{
    pid_t r;
    do r = waitpid(pid, status, WNOHANG);
    while (r < 0 && errno == EINTR);
    return r == pid || (r < 0 && errno == ECHILD);
}

static void terminate_child(pid_t pid)
{
    int status;
    if (kill(pid, SIGTERM) != 0 && errno == ESRCH) {
        child_exited(pid, &status);   /* reap a zombie */
        return;
    }
    for (int i = 0; i < 100; i++) {       /* up to 5 s */
        if (child_exited(pid, &status)) return;
        sleep_ms(50);
    }
    kill(pid, SIGKILL);
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
}

int fg_cluster_start_embedded(const char *nodes_profile, const char *server_bin,
                              double deadline_s, fg_cluster *c, fg_err *err)
{
    memset(c, 0, sizeof *c);
    char bin[PATH_MAX];
    if (server_bin) {
        if (access(server_bin, X_OK) != 0)
            return fg_err_set(err, "server binary '%s': %s", server_bin, strerror(errno));
        snprintf(bin, sizeof bin, "%s", server_bin);
    } else if (find_server_bin(bin, sizeof bin, err) != 0) {
        return -1;
    }
    if (access(nodes_profile, R_OK) != 0)
        return fg_err_set(err, "nodes profile '%s': %s", nodes_profile, strerror(errno));

    const char *tmp = getenv("TMPDIR");
    char dir[512];
    snprintf(dir, sizeof dir, "%s/flowgate-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(dir)) return fg_err_set(err, "cannot create a directory under %s: %s", tmp && *tmp ? tmp : "/tmp", strerror(errno));
    char endpoints[600], log[600];
    snprintf(endpoints, sizeof endpoints, "%s/endpoints.json", dir);
    snprintf(log, sizeof log, "%s/server.log", dir);

    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_adddup2(&fa, 1, 2);
    /* --parent-pid: the server stops itself if this process dies without
     * calling fg_cluster_stop (killed, crashed), so none is left behind. */
    char parent[24];
    snprintf(parent, sizeof parent, "%ld", (long)getpid());
    char *argv[] = {bin, "--nodes", (char *)nodes_profile, "--endpoints-out", endpoints,
                    "--parent-pid", parent, NULL};
    pid_t pid;
    int rc = posix_spawn(&pid, bin, &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0) {
        remove_tree(dir);
        return fg_err_set(err, "cannot start %s: %s", bin, strerror(rc));
    }

    double deadline_ms = fg_now_mono_ms() + deadline_s * 1000.0;
    char why[512] = "";
    int status;
    for (;;) {
        if (child_exited(pid, &status)) {
            char line[300];
            last_log_line(dir, line, sizeof line);
            if (WIFEXITED(status))
                snprintf(why, sizeof why, "exited with status %d: %s", WEXITSTATUS(status), line);
            else
                snprintf(why, sizeof why, "killed by signal %d: %s", WTERMSIG(status), line);
            remove_tree(dir);
            return fg_err_set(err, "%s %s", bin, why);
        }
        /* The server writes the file once every node listens; a parse
         * failure means it is not there (or not complete) yet. */
        fg_err load_err;
        if (access(endpoints, R_OK) == 0 && fg_cluster_load_endpoints(endpoints, c, &load_err) == 0) {
            double left_s = (deadline_ms - fg_now_mono_ms()) / 1000.0;
            fg_err health_err;
            if (fg_cluster_health(c, left_s > 0 ? left_s : 0.2, &health_err) == 0) {
                c->server_pid = pid;
                snprintf(c->server_dir, sizeof c->server_dir, "%s", dir);
                return 0;
            }
            snprintf(why, sizeof why, "%s", health_err.msg);
            break;
        }
        if (fg_now_mono_ms() >= deadline_ms) {
            snprintf(why, sizeof why, "no endpoints file after %.1f s", deadline_s);
            break;
        }
        sleep_ms(20);
    }
    terminate_child(pid);
    char line[300];
    last_log_line(dir, line, sizeof line);
    remove_tree(dir);
    memset(c, 0, sizeof *c);
    return fg_err_set(err, "embedded server (%s) did not come up: %s; last log line: %s", bin, why, line);
}

void fg_cluster_stop(fg_cluster *c)
{
    if (c->server_pid > 0) {
        terminate_child(c->server_pid);
        remove_tree(c->server_dir);
        c->server_dir[0] = 0;
        c->server_pid = 0;
    }
}

int fg_cluster_resolve(const char *endpoints, const char *nodes_profile,
                       double deadline_s, fg_cluster *c, fg_err *err)
{
    if (!endpoints || !*endpoints) endpoints = getenv("FLOWGATE_ENDPOINTS");
    if (endpoints && *endpoints) {
        if (fg_cluster_load_endpoints(endpoints, c, err) != 0) return -1;
        return fg_cluster_health(c, deadline_s, err);
    }
    char profile[1024];
    if (!nodes_profile || !*nodes_profile) {
        snprintf(profile, sizeof profile, "%s/nodes.json", fg_data_dir());
        nodes_profile = profile;
    }
    return fg_cluster_start_embedded(nodes_profile, NULL, deadline_s, c, err);
}

/* ---- /proc -------------------------------------------------------------- */

int fg_cluster_proc_sample(const fg_cluster *c, fg_proc_sample *out)
{
    if (c->server_pid <= 0) return -1;
    char path[64], buf[2048];
    snprintf(path, sizeof path, "/proc/%ld/stat", (long)c->server_pid);
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    /* The command name may hold spaces and ')': fields restart after the
     * last ')'. utime and stime are fields 14 and 15 (1-based). */
    char *p = strrchr(buf, ')');
    if (!p) return -1;
    unsigned long long utime = 0, stime = 0;
    if (sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &utime, &stime) != 2)
        return -1;
    long tck = sysconf(_SC_CLK_TCK);
    if (tck <= 0) return -1;
    out->cpu_s = (double)(utime + stime) / (double)tck;

    snprintf(path, sizeof path, "/proc/%ld/status", (long)c->server_pid);
    f = fopen(path, "r");
    if (!f) return -1;
    out->rss_kb = out->peak_rss_kb = -1;
    char line[256];
    while (fgets(line, sizeof line, f)) {
        if (!strncmp(line, "VmRSS:", 6)) out->rss_kb = strtol(line + 6, NULL, 10);
        else if (!strncmp(line, "VmHWM:", 6)) out->peak_rss_kb = strtol(line + 6, NULL, 10);
    }
    fclose(f);
    return out->rss_kb >= 0 && out->peak_rss_kb >= 0 ? 0 : -1;
}

int fg_cluster_reset_peak_rss(const fg_cluster *c)
{
    if (c->server_pid <= 0) return -1;
    char path[64];
    snprintf(path, sizeof path, "/proc/%ld/clear_refs", (long)c->server_pid);
    int fd = open(path, O_WRONLY);
    if (fd < 0) return -1;
    ssize_t w = write(fd, "5", 1);
    close(fd);
    return w == 1 ? 0 : -1;
}

/* ---- one invocation ----------------------------------------------------- */

int fg_cluster_invoke(const fg_cluster *c, int node, const char *function,
                      const char *body, size_t len, double timeout_s, fg_invoke_result *r)
{
    memset(r, 0, sizeof *r);
    r->exec_ms = NAN;
    r->rtt_ms = NAN;
    char url[512];
    if (fg_cluster_invoke_url(c, node, function, url, sizeof url) != 0) {
        snprintf(r->error, sizeof r->error, "no URL for %s", function);
        return -1;
    }
    fg_buf resp;
    fg_err err;
    double t0 = fg_now_mono_ms();
    int rc = fg_cluster_post(url, body, len, timeout_s, &resp, &r->http_code, &err);
    r->rtt_ms = fg_now_mono_ms() - t0;
    if (rc != 0) {
        snprintf(r->error, sizeof r->error, "%s", err.msg);
        return -1;
    }
    r->response = resp.data ? cJSON_ParseWithLength((const char *)resp.data, resp.len) : NULL;
    fg_buf_free(&resp);
    const cJSON *status = cJSON_GetObjectItemCaseSensitive(r->response, "status");
    const cJSON *message = cJSON_GetObjectItemCaseSensitive(r->response, "message");
    const cJSON *exec = cJSON_GetObjectItemCaseSensitive(r->response, "exec_ms");
    if (cJSON_IsNumber(exec)) r->exec_ms = exec->valuedouble;
    r->cold_start = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(r->response, "cold_start"));
    if (!r->response) {
        snprintf(r->error, sizeof r->error, "HTTP %ld with a body that is not JSON", r->http_code);
    } else if (r->http_code != 200 || !cJSON_IsString(status) || strcmp(status->valuestring, "success")) {
        /* a 200 with "status":"error" is a failure too */
        snprintf(r->error, sizeof r->error, "HTTP %ld: %s", r->http_code,
                 cJSON_IsString(message) ? message->valuestring : "no \"status\":\"success\" in the answer");
    } else {
        /* an endpoints file that maps a function to the wrong container */
        const cJSON *fn = cJSON_GetObjectItemCaseSensitive(r->response, "function");
        if (cJSON_IsString(fn) && strcmp(fn->valuestring, function))
            snprintf(r->error, sizeof r->error, "answered by %.100s, not %.100s", fn->valuestring, function);
        else
            r->ok = 1;
    }
    return r->ok ? 0 : -1;
}

void fg_invoke_result_free(fg_invoke_result *r)
{
    cJSON_Delete(r->response);
    r->response = NULL;
}
