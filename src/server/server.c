/* server.c — assembling the server: the profile (from a nodes file, or a
 * single node for container mode, or one node of a nodes file whose other
 * nodes run elsewhere and are known by URL), the shared dictionary and word list
 * (loaded once, read-only afterwards), the nodes and their daemons, and the
 * endpoints file, written atomically only once every daemon listens.
 * Before the daemons start, the process's open-file limit is raised and
 * every node's connection cap fitted in it (budget.h): a daemon that runs
 * out of descriptors can only drop connections, not answer them. */
#include "flowgate/server.h"

#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cjson/cJSON.h>
#include <curl/curl.h>

#include "functions.h"
#include "http.h"
#include "node.h"
#include "slowdown.h"

struct fg_server {
    fg_site site;
    fg_node nodes[FG_MAX_NODES];
    int n_ready;                /* nodes initialised */
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static void curl_init(void) { curl_global_init(CURL_GLOBAL_DEFAULT); }

static void container_profile(const fg_function *fn, int port, fg_site_profile *p)
{
    memset(p, 0, sizeof *p);
    p->max_body_bytes = (size_t)(64 * FG_MB);
    p->max_pixels = FG_DEFAULT_MAX_PIXELS;
    p->blob_ttl_s = 300;
    fg_node_profile *np = &p->nodes[0];
    snprintf(np->name, sizeof np->name, "%s", fg_function_name(fn));
    np->port = port;
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    np->workers = cpus > 0 ? (int)cpus : 1;
    np->blob_store_bytes = (size_t)(512 * FG_MB);
    fg_node_profile_set_slowdown(np, p->slowdown = 1);
    np->tail.function = p->tail.function = -1;
    /* A container's memory is not known here: the defaults (budget.h). */
    fg_budget_profile_parse(NULL, NULL, p->max_body_bytes, np->name, &np->limits, NULL);
    p->n_nodes = 1;
}

static int fit_connections(fg_site_profile *p, fg_err *err)
{
    fg_budget_profile *limits[FG_MAX_NODES];
    const char *names[FG_MAX_NODES];
    for (int i = 0; i < p->n_nodes; i++) {
        limits[i] = &p->nodes[i].limits;
        names[i] = p->nodes[i].name;
    }
    return fg_budget_fit_fds(limits, names, p->n_nodes, err);
}

static int hosts(const fg_site *site, const char *name)
{
    return !site->only || !strcmp(fg_function_name(site->only), name);
}

static int load_text_data(fg_site *site, const char *data_dir, fg_err *err)
{
    char path[4096];
    if (hosts(site, "recognizer__translate")) {
        snprintf(path, sizeof path, "%s/dict/es-en.tsv", data_dir);
        if (!(site->dict = fg_dict_load(path, err))) return -1;
    }
    if (hosts(site, "recognizer__censor")) {
        snprintf(path, sizeof path, "%s/censor/words.txt", data_dir);
        if (!(site->censor = fg_censor_load(path, err))) return -1;
    }
    return 0;
}

/* --node: keep only that node; every other node of the profile becomes a
 * peer, and each must be given a URL, since a blob reference may name it. */
static int select_node(const fg_server_opts *opts, fg_site *site, fg_err *err)
{
    fg_site_profile *p = &site->profile;
    int keep = -1;
    for (int i = 0; i < p->n_nodes; i++)
        if (!strcmp(p->nodes[i].name, opts->node)) keep = i;
    if (keep < 0) return fg_err_set(err, "--node: no node \"%s\" in the nodes file", opts->node);
    for (int k = 0; k < opts->n_peers; k++) {
        const char *spec = opts->peers[k], *eq = strchr(spec, '=');
        size_t name_len = eq ? (size_t)(eq - spec) : 0;
        if (!eq || !name_len || name_len >= sizeof site->peers[0].name ||
            (strncmp(eq + 1, "http://", 7) && strncmp(eq + 1, "https://", 8)) ||
            strlen(eq + 1) >= sizeof site->peers[0].url)
            return fg_err_set(err, "--peer '%.80s': expected NAME=http://HOST:PORT", spec);
        int idx = -1;
        for (int i = 0; i < p->n_nodes; i++)
            if (strlen(p->nodes[i].name) == name_len && !strncmp(p->nodes[i].name, spec, name_len))
                idx = i;
        if (idx < 0 || idx == keep)
            return fg_err_set(err, "--peer '%.80s': not another node of the nodes file", spec);
        if (fg_site_find_peer(site, p->nodes[idx].name))
            return fg_err_set(err, "--peer %s given twice", p->nodes[idx].name);
        fg_peer *peer = &site->peers[site->n_peers++];
        memcpy(peer->name, p->nodes[idx].name, sizeof peer->name);
        snprintf(peer->url, sizeof peer->url, "%s", eq + 1);
        peer->blob_store_bytes = p->nodes[idx].blob_store_bytes;
    }
    for (int i = 0; i < p->n_nodes; i++)
        if (i != keep && !fg_site_find_peer(site, p->nodes[i].name))
            return fg_err_set(err, "--node %s: node %s of the nodes file has no --peer URL",
                              opts->node, p->nodes[i].name);
    p->nodes[0] = p->nodes[keep];
    p->n_nodes = 1;
    if (opts->node_port >= 0) p->nodes[0].port = opts->node_port;
    return 0;
}

static int write_endpoints(const fg_server *s, const char *path, fg_err *err)
{
    cJSON *o = cJSON_CreateObject();
    if (s->site.only) {
        cJSON_AddStringToObject(o, "mode", "functions");
        cJSON *fns = cJSON_AddObjectToObject(o, "functions");
        cJSON_AddStringToObject(fns, fg_function_name(s->site.only), s->nodes[0].url);
    } else {
        cJSON_AddStringToObject(o, "mode", "nodes");
        cJSON *arr = cJSON_AddArrayToObject(o, "nodes");
        for (int i = 0; i < s->site.n_nodes; i++) {
            const fg_node *n = &s->nodes[i];
            cJSON *e = cJSON_CreateObject();
            cJSON_AddStringToObject(e, "name", n->prof.name);
            cJSON_AddStringToObject(e, "url", n->url);
            cJSON_AddNumberToObject(e, "workers", n->prof.workers);
            cJSON_AddNumberToObject(e, "bandwidth_mbit", n->prof.bandwidth_mbit);
            cJSON_AddNumberToObject(e, "latency_ms", n->prof.latency_ms);
            cJSON_AddItemToArray(arr, e);
        }
    }
    char *text = cJSON_Print(o);
    cJSON_Delete(o);
    if (!text) return fg_err_set(err, "%s: out of memory", path);
    int rc = fg_write_file_atomic(path, text, strlen(text), err);
    free(text);
    return rc;
}

fg_server *fg_server_start(const fg_server_opts *opts, fg_err *err)
{
    /* OpenMP is not limited here: libgomp reads OMP_THREAD_LIMIT when it is
     * loaded, before main, so a setenv now would change nothing (and would
     * stop fg_ocr_new from switching OpenMP off, which it does once). */
    pthread_once(&curl_once, curl_init);
    fg_server *s = calloc(1, sizeof *s);
    if (!s) {
        fg_err_set(err, "out of memory");
        return NULL;
    }
    const char *data_dir = opts->data_dir ? opts->data_dir : fg_data_dir();
    const char *bind_addr = opts->bind_addr ? opts->bind_addr : "127.0.0.1";
    if (opts->function) {
        s->site.only = fg_function_find(opts->function);
        if (!s->site.only || strcmp(fg_function_name(s->site.only), opts->function) != 0) {
            fg_err_set(err, "unknown function \"%s\" (one of recognizer__upload, adult, "
                       "violence, extract, translate, censor, mosaic)", opts->function);
            goto fail;
        }
        container_profile(s->site.only, opts->port, &s->site.profile);
        s->site.reference_errors = opts->reference_errors != 0;
    } else {
        /* Node-mode clients (the driver) read our status codes. */
        if (opts->reference_errors) {
            fg_err_set(err, "the reference error convention is for container mode (--function)");
            goto fail;
        }
        char path[4096];
        const char *nodes_path = opts->nodes_path;
        if (!nodes_path) {
            snprintf(path, sizeof path, "%s/nodes.json", data_dir);
            nodes_path = path;
        }
        if (fg_site_profile_load(nodes_path, &s->site.profile, err) != 0) goto fail;
        if (opts->node && select_node(opts, &s->site, err) != 0) goto fail;
    }
    if (opts->slowdown != 0) {
        if (!(opts->slowdown >= 1 && opts->slowdown <= FG_SLOWDOWN_MAX)) {
            fg_err_set(err, "slowdown %g: must be a number from 1 to %g", opts->slowdown,
                       FG_SLOWDOWN_MAX);
            goto fail;
        }
        s->site.profile.slowdown = opts->slowdown;
        /* Every function, whatever the profile's per-function factors. */
        for (int i = 0; i < s->site.profile.n_nodes; i++)
            fg_node_profile_set_slowdown(&s->site.profile.nodes[i], opts->slowdown);
    }
    /* The run's network conditions, over the profile, for every node. */
    for (int i = 0; opts->has_network && i < s->site.profile.n_nodes; i++) {
        if (opts->bandwidth_mbit >= 0) s->site.profile.nodes[i].bandwidth_mbit = opts->bandwidth_mbit;
        if (opts->latency_ms >= 0) s->site.profile.nodes[i].latency_ms = opts->latency_ms;
    }
    if (fit_connections(&s->site.profile, err) != 0 ||
        load_text_data(&s->site, data_dir, err) != 0)
        goto fail;
    s->site.nodes = s->nodes;
    s->site.n_nodes = s->site.profile.n_nodes;
    for (; s->n_ready < s->site.n_nodes; s->n_ready++)
        if (fg_node_init(&s->nodes[s->n_ready], &s->site.profile.nodes[s->n_ready], &s->site,
                         err) != 0)
            goto fail;
    for (int i = 0; i < s->site.n_nodes; i++)
        if (fg_http_listen(&s->nodes[i], bind_addr, err) != 0) goto fail;
    if (opts->endpoints_out && write_endpoints(s, opts->endpoints_out, err) != 0) goto fail;
    return s;
fail:
    fg_server_stop(s);
    return NULL;
}

void fg_server_stop(fg_server *s)
{
    if (!s) return;
    for (int i = 0; i < s->n_ready; i++) fg_http_stop(&s->nodes[i]);
    for (int i = 0; i < s->n_ready; i++) fg_node_destroy(&s->nodes[i]);
    if (s->site.dict) fg_dict_free(s->site.dict);
    if (s->site.censor) fg_censor_free(s->site.censor);
    free(s);
}

void fg_server_print_endpoints(const fg_server *s, FILE *out)
{
    for (int i = 0; i < s->site.n_nodes; i++)
        fprintf(out, "%s %s (workers %d)\n", s->nodes[i].prof.name, s->nodes[i].url,
                s->nodes[i].prof.workers);
    fflush(out);
}

int fg_server_run_foreground(const fg_server_opts *opts, int verbose, fg_err *err)
{
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGINT);
    sigaddset(&stop_signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop_signals, NULL);
    signal(SIGPIPE, SIG_IGN);
    fg_server *s = fg_server_start(opts, err);
    if (!s) return 2;
    if (verbose) fg_server_print_endpoints(s, stdout);
    int sig = 0;
    sigwait(&stop_signals, &sig);
    fg_server_stop(s);
    return 0;
}

int fg_server_check_nodes_file(const char *path, fg_err *err)
{
    fg_site_profile p;
    return fg_site_profile_load(path, &p, err);
}

int fg_server_runs_function(const char *name) { return fg_function_find(name) != NULL; }
