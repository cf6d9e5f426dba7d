/* endpoints.c — where the functions run: an endpoints file read into an
 * fg_cluster, and the URL of each invocation.
 *
 * Three endpoint forms (cluster.h): "nodes" and "functions" are read from
 * the file; "docker" lists labelled containers with `docker ps` and maps
 * each published port to http://127.0.0.1:<port>. Every URL must be plain
 * http to a loopback host: the suite never sends traffic off this machine,
 * so a stray remote URL is refused at load time rather than discovered in
 * the middle of a run (http_client.c keeps libcurl off proxies for the same
 * reason).
 *
 * A key repeated anywhere in the file is refused (cJSON would keep both and
 * read only the first).
 *
 * Reading only: no HTTP request is sent from here, so a file is checked
 * the same way whether or not anything listens yet (health: http_client.c). */
#include "flowgate/cluster.h"
#include "flowgate/config.h"   /* fg_json_duplicate_key */

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

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
    const char *dup = fg_json_duplicate_key(root);
    if (!cJSON_IsObject(root))
        rc = fg_err_set(err, "%s: expected a JSON object", path);
    else if (dup)   /* cJSON keeps both; the second would be ignored silently */
        rc = fg_err_set(err, "%s: duplicate key '%s'", path, dup);
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
