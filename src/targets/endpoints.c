/* endpoints.c — where the functions run: an endpoints file read into an
 * fg_cluster, the settings of each endpoint, and the URL of each invocation.
 *
 * Three endpoint forms (cluster.h): "nodes" and "functions" are read from
 * the file; "docker" lists labelled containers with `docker ps` and maps
 * each published port to http://127.0.0.1:<port>. URLs are http or https
 * to any host, as a load generator must drive whatever the user points it
 * at; what is checked at load is what would otherwise fail (or leak) in the
 * middle of a run: the scheme, a host, no credentials in the URL (URLs are
 * written to the results), TLS files that exist, ${NAME} variables that
 * are set.
 *
 * Endpoint settings (headers, tls, proxy, aws_sigv4, path, success) are
 * read file-wide first, then per endpoint on top (an endpoint's key
 * replaces the file's; headers merge by name). They are stored expanded
 * in fixed-size fields of the cluster, so an fg_cluster stays a plain value
 * with nothing to free. Header values, AWS credentials and the proxy are
 * secrets: no error message here ever contains them, only their names.
 *
 * A key repeated anywhere in the file is refused (cJSON would keep both and
 * read only the first).
 *
 * Reading only: no HTTP request is sent from here, so a file is checked
 * the same way whether or not anything listens yet (health: http_client.c). */
#include "flowgate/cluster.h"
#include "flowgate/limits.h"
#include "flowgate/json.h"
#include "tls_files.h"

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>
#include <unistd.h>

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

int fg_cluster_url_check(const char *url, char *why, size_t why_size)
{
    CURLU *u = curl_url();
    if (!u) return snprintf(why, why_size, "out of memory"), -1;
    char *scheme = NULL, *host = NULL, *user = NULL, *query = NULL, *fragment = NULL;
    int rc = -1;
    /* curl's own parser: the URL means here what it will mean to curl. */
    CURLUcode uc = curl_url_set(u, CURLUPART_URL, url, 0);
    if (uc != CURLUE_OK)
        snprintf(why, why_size, "not a valid URL (%s)", curl_url_strerror(uc));
    else if (curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
             (strcasecmp(scheme, "http") && strcasecmp(scheme, "https")))
        snprintf(why, why_size, "scheme must be http:// or https://");
    else if (strncasecmp(url, scheme, strlen(scheme)) || strncmp(url + strlen(scheme), "://", 3))
        snprintf(why, why_size, "scheme must be written: http:// or https://");
    else if (curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK || !*host)
        snprintf(why, why_size, "no host");
    else if (curl_url_get(u, CURLUPART_USER, &user, 0) == CURLUE_OK)
        snprintf(why, why_size, "user:password in the URL (it is written to the results); "
                 "put credentials in \"headers\"");
    else if (curl_url_get(u, CURLUPART_QUERY, &query, 0) == CURLUE_OK ||
             curl_url_get(u, CURLUPART_FRAGMENT, &fragment, 0) == CURLUE_OK)
        snprintf(why, why_size, "a base URL has no ?query or #fragment (use \"path\")");
    else
        rc = 0;
    curl_free(scheme);
    curl_free(host);
    curl_free(user);
    curl_free(query);
    curl_free(fragment);
    curl_url_cleanup(u);
    return rc;
}

int fg_cluster_endpoint_index(const fg_cluster *c, int node, const char *function)
{
    if (c->mode == FG_CLUSTER_FUNCTIONS) {
        if (!function) return -1;
        for (int i = 0; i < c->n_functions; i++)
            if (!strcmp(c->function_names[i], function)) return i;
        return -1;
    }
    return node >= 0 && node < c->n_nodes ? node : -1;
}

const fg_endpoint_opts *fg_cluster_endpoint(const fg_cluster *c, int index)
{
    static const fg_endpoint_opts defaults;
    int n = (int)(sizeof c->endpoint / sizeof c->endpoint[0]);
    return c && index >= 0 && index < n ? &c->endpoint[index] : &defaults;
}

const char *fg_endpoint_success_field(const fg_endpoint_opts *o)
{
    return o && o->success_field[0] ? o->success_field : "status";
}

const char *fg_endpoint_success_equals(const fg_endpoint_opts *o)
{
    return o && o->success_equals[0] ? o->success_equals : "success";
}

int fg_endpoint_reply_ok(const fg_endpoint_opts *o, long http_code, const cJSON *reply)
{
    if (http_code < 200 || http_code > 299) return 0;
    if (o && o->success == FG_SUCCESS_HTTP2XX) return 1;
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(reply, fg_endpoint_success_field(o));
    return cJSON_IsString(v) && !strcmp(v->valuestring, fg_endpoint_success_equals(o));
}

int fg_cluster_invoke_url(const fg_cluster *c, int node, const char *function,
                          char *url, size_t url_size)
{
    if (!function || !*function) return -1;
    int idx = fg_cluster_endpoint_index(c, node, function);
    if (idx < 0) return -1;
    const char *base = c->mode == FG_CLUSTER_FUNCTIONS ? c->function_urls[idx] : c->nodes[idx].url;
    const char *tmpl = c->endpoint[idx].path[0] ? c->endpoint[idx].path
                       : c->mode == FG_CLUSTER_FUNCTIONS ? "/invoke" : "/invoke/{function}";
    int n = snprintf(url, url_size, "%s", base);
    if (n < 0 || (size_t)n >= url_size) return -1;
    size_t at = (size_t)n;
    /* The template was checked at load: "{function}" is its only brace. */
    for (const char *t = tmpl; *t;) {
        const char *piece = t;
        size_t len = 1;
        if (!strncmp(t, "{function}", 10)) {
            piece = function;
            len = strlen(function);
            t += 10;
        } else {
            t++;
        }
        if (at + len >= url_size) return -1;
        memcpy(url + at, piece, len);
        at += len;
    }
    url[at] = 0;
    return 0;
}

/* ---- endpoint settings ---------------------------------------------------- */

/* Expands ${NAME} from the environment into out. 0; -1 with why naming the
 * variable (never a value) when unset, malformed or too long. */
static int expand_env(const char *in, char *out, size_t size, char *why, size_t why_size)
{
    size_t at = 0;
    for (const char *p = in; *p;) {
        const char *piece = p;
        size_t len = 1;
        if (p[0] == '$' && p[1] == '{') {
            const char *close = strchr(p + 2, '}');
            size_t nlen = close ? (size_t)(close - p - 2) : 0;
            char name[128];
            if (!close || nlen == 0 || nlen >= sizeof name)
                return snprintf(why, why_size, "malformed ${NAME}"), -1;
            memcpy(name, p + 2, nlen);
            name[nlen] = 0;
            for (size_t i = 0; i < nlen; i++)
                if (!(name[i] == '_' || (name[i] >= 'A' && name[i] <= 'Z') ||
                      (name[i] >= 'a' && name[i] <= 'z') || (i > 0 && name[i] >= '0' && name[i] <= '9')))
                    return snprintf(why, why_size, "malformed ${NAME}: '%.60s'", name), -1;
            piece = getenv(name);
            if (!piece)
                return snprintf(why, why_size, "environment variable %s is not set", name), -1;
            len = strlen(piece);
            p = close + 1;
        } else {
            p++;
        }
        if (at + len >= size) return snprintf(why, why_size, "too long once expanded"), -1;
        memcpy(out + at, piece, len);
        at += len;
    }
    out[at] = 0;
    return 0;
}

/* RFC 9110 token characters: what a header name may hold. */
static int is_token(const char *s)
{
    if (!*s) return 0;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
              strchr("!#$%&'*+-.^_`|~", *s)))
            return 0;
    return 1;
}

/* Sets header `name` (replacing one of that name) in o's packed list. */
static int set_header(fg_endpoint_opts *o, const char *name, const char *value)
{
    char packed[FG_ENDPOINT_MAX_HEADER_BYTES];
    size_t at = 0, nlen = strlen(name);
    int n = 0;
    const char *h = o->headers;
    for (int i = 0; i < o->n_headers; i++, h += strlen(h) + 1) {
        if (!strncasecmp(h, name, nlen) && (h[nlen] == ':' || h[nlen] == ';')) continue;
        size_t len = strlen(h) + 1;
        memcpy(packed + at, h, len);
        at += len;
        n++;
    }
    /* curl sends "Name;" as a header with an empty value ("Name:" would
     * remove it). */
    int w = *value ? snprintf(packed + at, sizeof packed - at, "%s: %s", name, value)
                   : snprintf(packed + at, sizeof packed - at, "%s;", name);
    if (w < 0 || at + (size_t)w + 1 > sizeof packed) return -1;
    at += (size_t)w + 1;
    memcpy(o->headers, packed, at);
    o->n_headers = n + 1;
    return 0;
}

static int read_headers(const char *what, const cJSON *hs, fg_endpoint_opts *o, fg_err *err)
{
    if (!cJSON_IsObject(hs))
        return fg_err_set(err, "%s.headers: expected an object {\"Name\": \"value\"}", what);
    const cJSON *h;
    cJSON_ArrayForEach(h, hs) {
        char value[2048], why[160];
        if (!is_token(h->string) || strlen(h->string) > 100)
            return fg_err_set(err, "%s.headers: '%.60s' is not a valid header name", what, h->string);
        if (!cJSON_IsString(h))
            return fg_err_set(err, "%s.headers.%s: expected a string", what, h->string);
        if (expand_env(h->valuestring, value, sizeof value, why, sizeof why) != 0)
            return fg_err_set(err, "%s.headers.%s: %s", what, h->string, why);
        /* The value is a secret: the message says what is wrong, not what it is. */
        if (strpbrk(value, "\r\n"))
            return fg_err_set(err, "%s.headers.%s: value contains a line break (value not shown)",
                              what, h->string);
        if (set_header(o, h->string, value) != 0)
            return fg_err_set(err, "%s.headers: more than %d bytes of headers", what,
                              FG_ENDPOINT_MAX_HEADER_BYTES);
    }
    return 0;
}

static int read_tls_file(const char *what, const char *key, fg_tls_file_kind kind,
                         const cJSON *v, char *dst, size_t size, fg_err *err)
{
    if (!v) return 0;
    if (!cJSON_IsString(v) || !*v->valuestring)
        return fg_err_set(err, "%s.tls.%s: expected a file name", what, key);
    if (strlen(v->valuestring) >= size)
        return fg_err_set(err, "%s.tls.%s: file name too long", what, key);
    if (access(v->valuestring, R_OK) != 0)
        return fg_err_set(err, "%s.tls.%s: '%s' cannot be read: %s", what, key, v->valuestring,
                          strerror(errno));
    char why[128];
    if (fg_tls_file_check(v->valuestring, kind, why, sizeof why) != 0)
        return fg_err_set(err, "%s.tls.%s: '%s': %s", what, key, v->valuestring, why);
    snprintf(dst, size, "%s", v->valuestring);
    return 0;
}

static int read_tls(const char *what, const cJSON *t, fg_endpoint_opts *o, fg_err *err)
{
    if (!cJSON_IsObject(t))
        return fg_err_set(err, "%s.tls: expected an object (ca_file, cert_file, key_file, insecure)", what);
    const cJSON *k;
    cJSON_ArrayForEach(k, t)
        if (strcmp(k->string, "ca_file") && strcmp(k->string, "cert_file") &&
            strcmp(k->string, "key_file") && strcmp(k->string, "insecure"))
            return fg_err_set(err, "%s.tls: unknown key '%.60s' (ca_file, cert_file, key_file, insecure)",
                              what, k->string);
    const cJSON *insecure = cJSON_GetObjectItemCaseSensitive(t, "insecure");
    if (insecure && !cJSON_IsBool(insecure))
        return fg_err_set(err, "%s.tls.insecure: expected true or false", what);
    if (insecure) o->insecure = cJSON_IsTrue(insecure);
    if (read_tls_file(what, "ca_file", FG_TLS_CA, cJSON_GetObjectItemCaseSensitive(t, "ca_file"), o->ca_file,
                      sizeof o->ca_file, err) != 0 ||
        read_tls_file(what, "cert_file", FG_TLS_CERT, cJSON_GetObjectItemCaseSensitive(t, "cert_file"),
                      o->cert_file, sizeof o->cert_file, err) != 0 ||
        read_tls_file(what, "key_file", FG_TLS_KEY, cJSON_GetObjectItemCaseSensitive(t, "key_file"),
                      o->key_file, sizeof o->key_file, err) != 0)
        return -1;
    if (o->key_file[0] && !o->cert_file[0])
        return fg_err_set(err, "%s.tls.key_file: given without cert_file", what);
    return 0;
}

/* A string setting with ${NAME} expansion; secret: errors never show it. */
static int read_secret(const char *what, const char *key, const cJSON *v, char *dst, size_t size,
                       fg_err *err)
{
    char why[160];
    if (!cJSON_IsString(v)) return fg_err_set(err, "%s.%s: expected a string", what, key);
    if (expand_env(v->valuestring, dst, size, why, sizeof why) != 0)
        return fg_err_set(err, "%s.%s: %s", what, key, why);
    return 0;
}

static int read_path(const char *what, const cJSON *v, fg_endpoint_opts *o, fg_err *err)
{
    if (!cJSON_IsString(v) || v->valuestring[0] != '/')
        return fg_err_set(err, "%s.path: expected a path starting with '/', e.g. \"/invoke/{function}\"", what);
    const char *s = v->valuestring;
    if (strlen(s) >= sizeof o->path) return fg_err_set(err, "%s.path: too long", what);
    for (const char *p = s; *p; p++) {
        if ((unsigned char)*p <= ' ' || *p == '#' || *p == 0x7f)
            return fg_err_set(err, "%s.path: '%s': spaces, control characters and '#' are not allowed", what, s);
        if (*p == '{' && !strncmp(p, "{function}", 10)) {
            p += 9;
            continue;
        }
        if (*p == '{' || *p == '}')
            return fg_err_set(err, "%s.path: '%s': the only placeholder is {function}", what, s);
    }
    snprintf(o->path, sizeof o->path, "%s", s);
    return 0;
}

static int read_success(const char *what, const cJSON *v, fg_endpoint_opts *o, fg_err *err)
{
    if (cJSON_IsString(v) && !strcmp(v->valuestring, "http2xx")) {
        o->success = FG_SUCCESS_HTTP2XX;
        return 0;
    }
    const cJSON *f = cJSON_GetObjectItemCaseSensitive(v, "field");
    const cJSON *eq = cJSON_GetObjectItemCaseSensitive(v, "equals");
    if (!cJSON_IsObject(v) || cJSON_GetArraySize(v) != 2 || !cJSON_IsString(f) || !*f->valuestring ||
        !cJSON_IsString(eq) || strlen(f->valuestring) >= sizeof o->success_field ||
        strlen(eq->valuestring) >= sizeof o->success_equals)
        return fg_err_set(err, "%s.success: expected \"http2xx\" or {\"field\": \"status\", \"equals\": \"success\"}", what);
    o->success = FG_SUCCESS_FIELD;
    snprintf(o->success_field, sizeof o->success_field, "%s", f->valuestring);
    snprintf(o->success_equals, sizeof o->success_equals, "%s", eq->valuestring);
    return 0;
}

static const char *const setting_keys[] = {"headers", "tls", "proxy", "aws_sigv4", "aws_credentials",
                                           "path", "success", NULL};

static int is_setting_key(const char *k)
{
    for (int i = 0; setting_keys[i]; i++)
        if (!strcmp(k, setting_keys[i])) return 1;
    return 0;
}

/* The settings present in obj, applied on top of *o (what: the JSON path
 * for messages). */
static int read_settings(const char *what, const cJSON *obj, fg_endpoint_opts *o, fg_err *err)
{
    const cJSON *v;
    if ((v = cJSON_GetObjectItemCaseSensitive(obj, "headers")) && read_headers(what, v, o, err)) return -1;
    if ((v = cJSON_GetObjectItemCaseSensitive(obj, "tls")) && read_tls(what, v, o, err)) return -1;
    if ((v = cJSON_GetObjectItemCaseSensitive(obj, "proxy"))) {
        char why[160];
        if (read_secret(what, "proxy", v, o->proxy, sizeof o->proxy, err)) return -1;
        if (*o->proxy && fg_cluster_url_check(o->proxy, why, sizeof why) != 0 &&
            !strstr(why, "user:password"))   /* a proxy may carry its own credentials */
            return fg_err_set(err, "%s.proxy: %s (value not shown)", what, why);
    }
    if ((v = cJSON_GetObjectItemCaseSensitive(obj, "aws_sigv4"))) {
        if (!cJSON_IsString(v) || strncmp(v->valuestring, "aws:amz:", 8) ||
            strlen(v->valuestring) >= sizeof o->aws_sigv4 ||
            strspn(v->valuestring, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789:-_.") !=
                strlen(v->valuestring))
            return fg_err_set(err, "%s.aws_sigv4: expected \"aws:amz:REGION:SERVICE\", e.g. \"aws:amz:us-east-1:lambda\"", what);
        snprintf(o->aws_sigv4, sizeof o->aws_sigv4, "%s", v->valuestring);
    }
    if ((v = cJSON_GetObjectItemCaseSensitive(obj, "aws_credentials"))) {
        if (read_secret(what, "aws_credentials", v, o->aws_userpwd, sizeof o->aws_userpwd, err)) return -1;
        if (!strchr(o->aws_userpwd, ':') || o->aws_userpwd[0] == ':')
            return fg_err_set(err, "%s.aws_credentials: expected \"${KEY_VAR}:${SECRET_VAR}\" (value not shown)", what);
    }
    if ((v = cJSON_GetObjectItemCaseSensitive(obj, "path")) && read_path(what, v, o, err)) return -1;
    if ((v = cJSON_GetObjectItemCaseSensitive(obj, "success")) && read_success(what, v, o, err)) return -1;
    return 0;
}

/* After the settings of an endpoint are complete: pairs that need each other. */
static int check_settings(const char *what, const fg_endpoint_opts *o, fg_err *err)
{
    if (o->aws_sigv4[0] && !o->aws_userpwd[0])
        return fg_err_set(err, "%s: aws_sigv4 needs aws_credentials", what);
    if (o->aws_userpwd[0] && !o->aws_sigv4[0])
        return fg_err_set(err, "%s: aws_credentials without aws_sigv4", what);
    return 0;
}

/* Refuses keys of obj that are neither settings nor in `own`. */
static int check_keys(const char *what, const cJSON *obj, const char *const *own, fg_err *err)
{
    const cJSON *k;
    cJSON_ArrayForEach(k, obj) {
        int known = is_setting_key(k->string);
        for (int i = 0; !known && own[i]; i++) known = !strcmp(k->string, own[i]);
        if (!known) return fg_err_set(err, "%s: unknown key '%.60s'", what, k->string);
    }
    return 0;
}

/* ---- endpoints file ----------------------------------------------------- */

/* "containers": {"cluster": ID, "image": IMAGE}: the nodes are the
 * containers `flowgate cluster up` started (containers.h). */
static int load_containers(const char *path, const cJSON *root, fg_cluster *c, fg_err *err)
{
    const cJSON *k = cJSON_GetObjectItemCaseSensitive(root, "containers");
    if (!k) return 0;
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(k, "cluster");
    const cJSON *image = cJSON_GetObjectItemCaseSensitive(k, "image");
    static const char *const keys[] = {"cluster", "image", NULL};
    char what[600];
    snprintf(what, sizeof what, "%s: containers", path);
    if (!cJSON_IsObject(k) || !cJSON_IsString(id) || !cJSON_IsString(image) ||
        !*id->valuestring || strlen(id->valuestring) >= sizeof c->containers_cluster ||
        strlen(image->valuestring) >= sizeof c->containers_image)
        return fg_err_set(err, "%s: expected {\"cluster\": ID, \"image\": IMAGE}", what);
    for (const cJSON *e = k->child; e; e = e->next) {
        int known = 0;
        for (int i = 0; keys[i]; i++) known |= !strcmp(e->string, keys[i]);
        if (!known) return fg_err_set(err, "%s: unknown key '%.60s'", what, e->string);
    }
    snprintf(c->containers_cluster, sizeof c->containers_cluster, "%s", id->valuestring);
    snprintf(c->containers_image, sizeof c->containers_image, "%s", image->valuestring);
    return 0;
}

static const char *const node_keys[] = {"name", "url", "workers", "bandwidth_mbit", "latency_ms", NULL};

static int load_nodes(const char *path, const cJSON *root, const fg_endpoint_opts *defaults,
                      fg_cluster *c, fg_err *err)
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
        char why[200], what[600];
        if (fg_cluster_url_check(url->valuestring, why, sizeof why) != 0)
            return fg_err_set(err, "%s: nodes[%d].url: '%.200s' refused: %s", path, i, url->valuestring, why);
        snprintf(what, sizeof what, "%s: nodes[%d]", path, i);
        c->endpoint[i] = *defaults;
        if (check_keys(what, n, node_keys, err) != 0 ||
            read_settings(what, n, &c->endpoint[i], err) != 0 ||
            check_settings(what, &c->endpoint[i], err) != 0)
            return -1;
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
    return load_containers(path, root, c, err);
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

static int add_function(fg_cluster *c, const char *what, const char *name, const char *url,
                        const fg_endpoint_opts *opts, fg_err *err)
{
    if (!*name) return fg_err_set(err, "%s: empty function name", what);
    if (strlen(name) >= sizeof c->function_names[0])
        return fg_err_set(err, "%s: function name '%.40s...' too long", what, name);
    for (int j = 0; j < c->n_functions; j++)
        if (!strcmp(c->function_names[j], name))
            return fg_err_set(err, "%s: function '%s' appears twice", what, name);
    if (c->n_functions >= FG_MAX_FUNCTIONS)
        return fg_err_set(err, "%s: more than %d functions", what, FG_MAX_FUNCTIONS);
    char why[200];
    if (fg_cluster_url_check(url, why, sizeof why) != 0)
        return fg_err_set(err, "%s: %s: '%.200s' refused: %s", what, name, url, why);
    int k = c->n_functions;
    if (opts != &c->endpoint[k]) c->endpoint[k] = *opts;
    if (copy_base_url(c->function_urls[k], sizeof c->function_urls[k], url) != 0)
        return fg_err_set(err, "%s: %s: URL too long", what, name);
    snprintf(c->function_names[k], sizeof c->function_names[k], "%s", name);
    c->n_functions++;
    return 0;
}

static const char *const function_keys[] = {"url", NULL};

static int load_functions(const char *path, const cJSON *root, const fg_endpoint_opts *defaults,
                          fg_cluster *c, fg_err *err)
{
    const cJSON *fns = cJSON_GetObjectItemCaseSensitive(root, "functions");
    if (!cJSON_IsObject(fns))
        return fg_err_set(err, "%s: \"functions\": expected an object {\"<function>\": \"<url>\"}", path);
    char what[600];
    snprintf(what, sizeof what, "%s: functions", path);
    const cJSON *f;
    cJSON_ArrayForEach(f, fns) {
        if (cJSON_IsString(f)) {
            if (add_function(c, what, f->string, f->valuestring, defaults, err) != 0) return -1;
            continue;
        }
        /* {"url": U, <settings>}: this function's own settings. */
        const cJSON *url = cJSON_GetObjectItemCaseSensitive(f, "url");
        if (!cJSON_IsObject(f) || !cJSON_IsString(url))
            return fg_err_set(err, "%s: functions.%s: expected a URL string or {\"url\": ...}", path, f->string);
        char fwhat[600];
        snprintf(fwhat, sizeof fwhat, "%s: functions.%s", path, f->string);
        fg_endpoint_opts o = *defaults;
        if (check_keys(fwhat, f, function_keys, err) != 0 || read_settings(fwhat, f, &o, err) != 0 ||
            check_settings(fwhat, &o, err) != 0)
            return -1;
        if (add_function(c, what, f->string, url->valuestring, &o, err) != 0) return -1;
    }
    if (c->n_functions == 0) return fg_err_set(err, "%s: \"functions\": empty", path);
    set_function_pseudo_node(c);
    return 0;
}

/* The docker client talks to DOCKER_HOST; the ports a remote engine
 * publishes are on its machine, not at 127.0.0.1 where they are mapped. */
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
    /* The file-wide settings, if any, were copied into every slot. */
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
        if (add_function(c, "docker mode", function, url, &c->endpoint[c->n_functions], err) != 0)
            return -1;
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

static int load_docker(const char *path, const cJSON *root, const fg_endpoint_opts *defaults,
                       fg_cluster *c, fg_err *err)
{
    if (check_settings(path, defaults, err) != 0) return -1;
    for (size_t i = 0; i < sizeof c->endpoint / sizeof c->endpoint[0]; i++) c->endpoint[i] = *defaults;
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
    cJSON *root = fg_json_load_object(path, ENDPOINTS_MAX_BYTES, err);
    if (!root) return -1;
    int rc;
    const cJSON *mode = cJSON_GetObjectItemCaseSensitive(root, "mode");
    /* File-wide settings: the default of every endpoint. */
    fg_endpoint_opts defaults;
    memset(&defaults, 0, sizeof defaults);
    char file_what[600];
    snprintf(file_what, sizeof file_what, "%s: file", path);
    if (read_settings(file_what, root, &defaults, err) != 0)
        rc = -1;
    else if (!cJSON_IsString(mode))
        rc = fg_err_set(err, "%s: \"mode\": missing or not a string (nodes, functions or docker)", path);
    else if (!strcmp(mode->valuestring, "nodes"))
        rc = load_nodes(path, root, &defaults, c, err);
    else if (!strcmp(mode->valuestring, "functions"))
        rc = load_functions(path, root, &defaults, c, err);
    else if (!strcmp(mode->valuestring, "docker"))
        rc = load_docker(path, root, &defaults, c, err);
    else
        rc = fg_err_set(err, "%s: \"mode\": unknown '%s' (nodes, functions or docker)", path, mode->valuestring);
    cJSON_Delete(root);
    if (rc != 0) memset(c, 0, sizeof *c);
    return rc;
}
