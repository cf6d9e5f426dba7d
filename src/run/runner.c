/* runner.c — one run: the workflow, the cluster (found from an endpoints
 * file or started here), the calibration profile, the run metadata and the
 * growing results document. Each cell ensures its image, reuses the loaded
 * payload while the size stays the same (only one payload is held at a
 * time, so memory stays bounded), runs its repeats and rewrites the results
 * file atomically, so an interrupted run keeps every finished experiment.
 * A workflow whose payload is not the test image (JSON, a file) has one
 * fixed input: it is loaded once, and the size axis does not apply.
 * `flowgate run` and the cmocka suites both go through here.
 *
 * The results file is valid from the moment the run opens (experiments: []
 * and run.interrupted false), so a run stopped before its first cell still
 * leaves a file that says so, never an empty one; run.interrupted follows
 * the engine's stop flag at every save and in fg_runner_results.
 *
 * The run says where it came from and on what kind of machine (git_info.h:
 * run.git_commit, run.git_branch; machine.h: run.cpu_model): the history
 * keys its series by CPU model, since a CI runner's host name is new on
 * every job.
 *
 * Nodes of an endpoints file that cannot fetch each other's blobs (separate
 * flowgate-functions processes, blobshare.c) would fail every cross-node
 * step; the run then sends the image inline, says so in one warning line
 * and records why in run.endpoints.inline_fallback.
 *
 * Contention is measured, not guessed (noise_sampler.h): a sampler runs
 * from the moment the endpoints are healthy, counting the embedded server
 * (or a node server on this machine, found by the pid its GET / reports)
 * as the run's own CPU. Each entry gets "noise" (the foreign CPU share
 * before the cell, over its warm-up, its measurement window and after it);
 * the run gets run.noise (before the first cell, after the last). */
#include "flowgate/engine.h"
#include "flowgate/runner.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "flowgate/containers.h"
#include "flowgate/imagegen.h"
#include "flowgate/log.h"
#include "flowgate/noise_sampler.h"
#include "flowgate/results.h"
#include "flowgate/stop.h"
#include "flowgate/http_client.h"
#include "flowgate/embedded.h"
#include "flowgate/link.h"
#include "flowgate/blobshare.h"
#include "flowgate/probe.h"
#include "flowgate/limits.h"
#include "flowgate/machine.h"

#include "git_info.h"

struct fg_runner {
    fg_run_config cfg;
    fg_workflow wf;
    int wf_loaded;
    fg_cluster cluster;
    int cluster_started;
    fg_profile profile;
    char run_id[32];
    char category[32];
    char path[1024];
    cJSON *root, *run, *experiments;
    fg_payload payload;
    int have_payload;
    double payload_mb;
    double payload_limit;  /* the body limit the payload was checked against */
    int inline_fallback;   /* the nodes cannot share blobs: send images inline */
    double body_limit;     /* the server's request body limit in bytes; 0 unknown */
    char body_limit_source[600];
    int first_repeat;      /* repeat index of the next cell's first repeat */
    int repeat_set;        /* fg_runner_set_repeat was called: name timelines _r<k> */
    int links_saved;       /* the links before fg_runner_set_network first changed them */
    double saved_links[FG_MAX_NODES][2];
    fg_noise_sampler *noise;   /* NULL: /proc unreadable, no figures */
    int noise_own;             /* processes counted as own besides this one */
    int noise_cells;           /* entries given a "noise" object */
    int noise_beyond;          /* of those, beyond FG_NOISE_LIMIT in the window */
    double noise_max;          /* largest window share */
    double noise_last_end;     /* monotonic ms the last cell ended */
};

static void iso_time(char *out, size_t size)
{
    time_t now = time(NULL);
    struct tm tm;
    localtime_r(&now, &tm);
    strftime(out, size, "%Y-%m-%dT%H:%M:%S%z", &tm);
}

static int inline_data(const fg_runner *r);
static int ensure_payload(fg_runner *r, double mb, fg_err *err);

/* run.config says what the run used, not what was typed: inline_data is
 * the effective value (one URL per function forces it, like every
 * experiment's "inline_data"), and the measured requests per cell are
 * filled in by fg_runner_cell as cells run ("requests_by_concurrency":
 * {"5": 20, ...}), "requests" itself only when it was set explicitly. */
static cJSON *config_json(const fg_runner *r)
{
    const fg_run_config *c = &r->cfg;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "category", c->category);
    cJSON *sizes = cJSON_AddArrayToObject(o, "sizes_mb");
    for (int i = 0; i < c->n_sizes; i++) cJSON_AddItemToArray(sizes, cJSON_CreateNumber(c->sizes_mb[i]));
    cJSON *conc = cJSON_AddArrayToObject(o, "concurrency");
    for (int i = 0; i < c->n_concurrency; i++)
        cJSON_AddItemToArray(conc, cJSON_CreateNumber(c->concurrency[i]));
    if (c->rate_rps > 0) cJSON_AddStringToObject(o, "requests_source", "rate_rps x duration_s");
    else if (c->requests > 0) cJSON_AddStringToObject(o, "requests_source", "requests");
    else cJSON_AddStringToObject(o, "requests_source", "max(default_requests, 3 x concurrency)");
    if (c->requests > 0) cJSON_AddNumberToObject(o, "requests", c->requests);
    cJSON_AddObjectToObject(o, "requests_by_concurrency");
    cJSON_AddNumberToObject(o, "default_requests", c->default_requests);
    cJSON_AddNumberToObject(o, "warmup", c->warmup);
    if (c->warmup_s > 0) cJSON_AddNumberToObject(o, "warmup_s", c->warmup_s);
    cJSON_AddNumberToObject(o, "request_scale", c->request_scale);
    if (c->rate_rps > 0) {
        cJSON_AddNumberToObject(o, "rate_rps", c->rate_rps);
        cJSON_AddNumberToObject(o, "duration_s", c->duration_s);
        cJSON_AddStringToObject(o, "arrival", fg_arrival_kind_name(c->arrival));
        if (c->arrival == FG_ARRIVAL_POISSON) cJSON_AddNumberToObject(o, "seed", (double)c->seed);
        if (c->max_inflight > 0) cJSON_AddNumberToObject(o, "max_inflight", c->max_inflight);
        if (c->spin_us > 0) cJSON_AddNumberToObject(o, "spin_us", c->spin_us);
    }
    if (c->start_at_unix_s > 0) cJSON_AddNumberToObject(o, "start_at_unix_s", c->start_at_unix_s);
    cJSON_AddNumberToObject(o, "timeout_s", c->timeout_s);
    cJSON_AddStringToObject(o, "transport", fg_transport_name(c->transport));
    cJSON_AddNumberToObject(o, "retries", c->retries);
    cJSON_AddBoolToObject(o, "inline_data", inline_data(r) != 0);
    const char *variant = fg_variant_name(c->variant);
    cJSON_AddStringToObject(o, "variant", variant ? variant : "unknown");
    cJSON_AddNumberToObject(o, "repeats", c->repeats);
    if (c->bandwidth_mbit >= 0) cJSON_AddNumberToObject(o, "bandwidth_mbit", c->bandwidth_mbit);
    if (c->latency_ms >= 0) cJSON_AddNumberToObject(o, "latency_ms", c->latency_ms);
    cJSON_AddStringToObject(o, "endpoints", c->endpoints);
    cJSON_AddStringToObject(o, "nodes_profile", c->nodes_file);   /* the results key keeps its name */
    cJSON_AddStringToObject(o, "workflow", c->workflow);
    cJSON_AddStringToObject(o, "profile", c->profile);
    cJSON_AddStringToObject(o, "thresholds", c->thresholds);
    cJSON_AddStringToObject(o, "results_dir", c->results_dir);
    cJSON_AddStringToObject(o, "images_dir", c->images_dir);
    if (c->server_bin[0]) cJSON_AddStringToObject(o, "server_bin", c->server_bin);
    if (c->data_dir[0]) cJSON_AddStringToObject(o, "data_dir", c->data_dir);
    return o;
}

static cJSON *endpoints_json(const fg_cluster *c, int started, const char *inline_fallback)
{
    cJSON *o = cJSON_CreateObject();
    if (c->mode == FG_CLUSTER_FUNCTIONS) {
        cJSON_AddStringToObject(o, "mode", "functions");
        cJSON *fns = cJSON_AddObjectToObject(o, "functions");
        for (int i = 0; i < c->n_functions; i++)
            cJSON_AddStringToObject(fns, c->function_names[i], c->function_urls[i]);
        return o;
    }
    cJSON_AddStringToObject(o, "mode", started ? "embedded" : "nodes");
    cJSON *nodes = cJSON_AddArrayToObject(o, "nodes");
    for (int i = 0; i < c->n_nodes; i++) {
        cJSON *n = cJSON_CreateObject();
        cJSON_AddStringToObject(n, "name", c->nodes[i].name);
        cJSON_AddStringToObject(n, "url", c->nodes[i].url);
        cJSON_AddNumberToObject(n, "workers", c->nodes[i].workers);
        cJSON_AddNumberToObject(n, "bandwidth_mbit", c->nodes[i].bandwidth_mbit);
        cJSON_AddNumberToObject(n, "latency_ms", c->nodes[i].latency_ms);
        cJSON_AddItemToArray(nodes, n);
    }
    if (inline_fallback && *inline_fallback)
        cJSON_AddStringToObject(o, "inline_fallback", inline_fallback);
    if (c->containers_cluster[0]) {   /* the nodes are containers (flowgate cluster up) */
        cJSON *k = cJSON_AddObjectToObject(o, "containers");
        cJSON_AddStringToObject(k, "cluster", c->containers_cluster);
        cJSON_AddStringToObject(k, "image", c->containers_image);
    }
    return o;
}

/* Keeps run.interrupted equal to the engine's stop flag. */
static void sync_interrupted(fg_runner *r)
{
    cJSON *flag = cJSON_CreateBool(fg_stop_requested() != 0);
    if (cJSON_GetObjectItemCaseSensitive(r->run, "interrupted"))
        cJSON_ReplaceItemInObjectCaseSensitive(r->run, "interrupted", flag);
    else
        cJSON_AddItemToObject(r->run, "interrupted", flag);
}

/* Nodes of an endpoints file in separate processes cannot fetch each
 * other's blobs: fall back to inline data, once, with one warning line. */
static void check_blob_sharing(fg_runner *r, char *why, size_t why_size)
{
    why[0] = 0;
    if (r->cluster.mode != FG_CLUSTER_NODES || r->cluster_started || r->cfg.inline_data) return;
    fg_blob_probe probe;
    /* A workflow that hands no blob on sends nothing by reference. */
    if (fg_blob_probe_from_workflow(&r->wf, &probe) != 0) return;
    char reason[700];
    int shared = fg_cluster_blobs_shared(&r->cluster, &probe, 30, reason, sizeof reason);
    if (shared == 0) {
        r->inline_fallback = 1;
        snprintf(why, why_size, "%s", reason);
        fg_log(FG_LOG_WARN, "%s: %s; sending the image inline instead (inline_data true). To "
               "measure by-reference transfers, start the nodes as one process: "
               "flowgate-functions --nodes NODES_FILE --endpoints-out FILE", r->cfg.endpoints, reason);
    } else if (shared < 0 && !fg_stop_requested()) {
        fg_log(FG_LOG_WARN, "%s: cannot tell whether the nodes can fetch each other's blobs "
               "(%s); if requests fail with \"input_ref: unknown node\", run with --inline",
               r->cfg.endpoints, reason);
    }
}

/* GET / of node i of the cluster: its description, or NULL. */
static cJSON *node_info(const fg_runner *r, int i, fg_err *err)
{
    char url[300];
    snprintf(url, sizeof url, "%s/", r->cluster.nodes[i].url);
    long code;
    cJSON *info = NULL;
    if (fg_http_get_json_opts(url, fg_cluster_endpoint(&r->cluster, i), 1, 5, &code, &info,
                              err) != 0)
        return NULL;
    return info;
}

/* The body limit the requests must respect: the nodes file's when the
 * server was started here; for an endpoints file the smallest
 * "max_body_bytes" the nodes report on GET / (unknown when one does not). */
static void find_body_limit(fg_runner *r)
{
    fg_err err;
    if (r->cluster_started) {
        if (fg_config_body_limit(&r->cfg, &r->body_limit, r->body_limit_source,
                                 sizeof r->body_limit_source, &err) != 0)
            r->body_limit = 0;
        return;
    }
    if (r->cluster.mode != FG_CLUSTER_NODES) return;
    double limit = 0;
    for (int i = 0; i < r->cluster.n_nodes; i++) {
        cJSON *info = node_info(r, i, &err);
        if (!info) return;
        const cJSON *m = cJSON_GetObjectItemCaseSensitive(info, "max_body_bytes");
        double v = cJSON_IsNumber(m) ? m->valuedouble : 0;
        cJSON_Delete(info);
        if (!(v > 0)) return;
        if (limit == 0 || v < limit) limit = v;
    }
    r->body_limit = limit;
    snprintf(r->body_limit_source, sizeof r->body_limit_source,
             "max_body_bytes reported by the nodes of %.500s", r->cfg.endpoints);
}

static int lists_function(const cJSON *functions, const char *step)
{
    const cJSON *f;
    cJSON_ArrayForEach(f, functions) {
        if (!cJSON_IsString(f)) continue;
        const char *name = f->valuestring, *sep = strstr(name, "__");
        if (!strcmp(name, step) || (sep && !strcmp(sep + 2, step))) return 1;
    }
    return 0;
}

/* Nodes that list their functions on GET / (flowgate-functions does) must
 * list every step's: a workflow naming a function no node runs is refused
 * before the first request, not sent to come back 404. Nodes that list
 * nothing are taken at their word. */
static int check_steps_served(const fg_runner *r, fg_err *err)
{
    if (r->cluster.mode != FG_CLUSTER_NODES) return 0;
    for (int i = 0; i < r->cluster.n_nodes; i++) {
        fg_err ignored;
        cJSON *info = node_info(r, i, &ignored);
        const cJSON *fns = cJSON_GetObjectItemCaseSensitive(info, "functions");
        for (int s = 0; cJSON_IsArray(fns) && s < r->wf.n_steps; s++)
            if (!lists_function(fns, r->wf.steps[s].id)) {
                fg_err_set(err, "%s: workflow step '%s' is not a function node %s runs (GET / "
                           "lists its functions)", r->wf.path, r->wf.steps[s].id,
                           r->cluster.nodes[i].name);
                cJSON_Delete(info);
                return -1;
            }
        cJSON_Delete(info);
    }
    return 0;
}

static void restore_links(fg_runner *r);
static void start_noise(fg_runner *r);

static void runner_free(fg_runner *r)
{
    /* Before the server stops: reaping it would land its whole CPU time
     * in this process's children counters at once. */
    fg_noise_sampler_stop(r->noise);
    r->noise = NULL;
    if (r->have_payload) fg_payload_free(&r->payload);
    restore_links(r);
    if (r->cluster_started) fg_cluster_stop(&r->cluster);
    if (r->wf_loaded) fg_workflow_free(&r->wf);
    cJSON_Delete(r->root);
    free(r);
}

fg_runner *fg_runner_open(const fg_run_config *cfg, fg_err *err)
{
    fg_runner *r = calloc(1, sizeof *r);
    if (!r) {
        fg_err_set(err, "out of memory");
        return NULL;
    }
    r->cfg = *cfg;
    snprintf(r->category, sizeof r->category, "%s", cfg->category);
    char path[1024];
    if (fg_workflow_load(fg_config_workflow_path(cfg, path, sizeof path), &r->wf, err) != 0)
        goto fail;
    r->wf_loaded = 1;
    /* A fixed input (JSON, a file) is read now: a missing or broken one is
     * one error before any server starts or any results file exists. */
    if (!fg_runner_input_sized(r) && ensure_payload(r, 0, err) != 0) goto fail;

    /* From the nodes' start to their answer: the health wait (stop.h). */
    int phase = fg_stop_phase();
    fg_stop_set_phase(FG_RUN_PHASE_HEALTH);
    if (cfg->endpoints[0]) {
        if (fg_cluster_load_endpoints(cfg->endpoints, &r->cluster, err) != 0) goto fail;
    } else {
        char nodes[1024];
        fg_config_nodes_file_path(cfg, nodes, sizeof nodes);
        if (fg_cluster_start_embedded_data(nodes, cfg->server_bin[0] ? cfg->server_bin : NULL,
                                           cfg->data_dir[0] ? cfg->data_dir : NULL,
                                           cfg->bandwidth_mbit, cfg->latency_ms, 30, &r->cluster,
                                           err) != 0)
            goto fail;
        r->cluster_started = 1;
    }
    /* Generous: a cluster still starting its OCR engines may be slow to answer. */
    if (fg_cluster_health(&r->cluster, 30, err) != 0 || check_steps_served(r, err) != 0) goto fail;
    char fallback_why[700];
    check_blob_sharing(r, fallback_why, sizeof fallback_why);
    if (fg_stop_requested()) {
        fg_err_set(err, "%s", FG_HEALTH_INTERRUPTED);
        goto fail;
    }
    fg_stop_set_phase(phase);
    find_body_limit(r);
    /* Inline data or a body limit found since: the fixed input rechecked. */
    if (!fg_runner_input_sized(r) && ensure_payload(r, 0, err) != 0) goto fail;
    if (cfg->profile[0]) {
        if (fg_profile_load(cfg->profile, &r->profile, err) != 0) goto fail;
    } else {
        fg_profile_fallback(&r->profile, &r->cluster, &r->wf);
    }
    /* The embedded server started with the asked network; endpoints get it
     * now (NAN: nothing is known to be in force yet). */
    if (cfg->endpoints[0] && (cfg->bandwidth_mbit >= 0 || cfg->latency_ms >= 0)) {
        r->cfg.bandwidth_mbit = r->cfg.latency_ms = NAN;
        if (fg_runner_set_network(r, cfg->bandwidth_mbit, cfg->latency_ms, err) != 0) goto fail;
    }

    start_noise(r);

    r->root = cJSON_CreateObject();
    cJSON_AddStringToObject(r->root, "schema", FG_RESULTS_SCHEMA);
    r->run = cJSON_AddObjectToObject(r->root, "run");
    cJSON_AddStringToObject(r->run, "id", "");   /* the claimed name's, below */
    cJSON_AddStringToObject(r->run, "category", cfg->category);
    cJSON_AddStringToObject(r->run, "workflow", r->wf.name);
    cJSON_AddStringToObject(r->run, "payload_kind", fg_payload_kind_name(r->wf.payload.kind));
    char stamp[64];
    iso_time(stamp, sizeof stamp);
    cJSON_AddStringToObject(r->run, "started", stamp);
    char host[256] = "unknown";
    gethostname(host, sizeof host - 1);
    cJSON_AddStringToObject(r->run, "host", host);
    cJSON_AddNumberToObject(r->run, "cores", (double)sysconf(_SC_NPROCESSORS_ONLN));
    char cpu[256], commit[128], branch[256];
    if (fg_machine_cpu_model(cpu, sizeof cpu) == 0) cJSON_AddStringToObject(r->run, "cpu_model", cpu);
    if (fg_git_info(commit, sizeof commit, branch, sizeof branch) == 0)
        cJSON_AddStringToObject(r->run, "git_commit", commit);
    if (branch[0]) cJSON_AddStringToObject(r->run, "git_branch", branch);
    cJSON_AddItemToObject(r->run, "config", config_json(r));
    if (cfg->segment_count > 0) {   /* one driver of several: flowgate merge joins them */
        cJSON *seg = cJSON_AddObjectToObject(r->run, "segment");
        cJSON_AddNumberToObject(seg, "index", cfg->segment_index);
        cJSON_AddNumberToObject(seg, "count", cfg->segment_count);
    }
    cJSON *scheds = cJSON_AddArrayToObject(r->run, "schedulers");
    for (int i = 0; i < cfg->n_schedulers; i++)
        cJSON_AddItemToArray(scheds, cJSON_CreateString(cfg->schedulers[i]));
    cJSON_AddItemToObject(r->run, "endpoints",
                          endpoints_json(&r->cluster, r->cluster_started, fallback_why));
    cJSON_AddStringToObject(r->run, "profile", r->profile.calibrated ? r->profile.name : "fallback");
    sync_interrupted(r);
    r->experiments = cJSON_AddArrayToObject(r->root, "experiments");
    if (!r->experiments) {
        fg_err_set(err, "out of memory");
        goto fail;
    }
    /* Two runs started in the same second must not overwrite each other:
     * the name gets -2, -3 ... when it is taken. The file is created whole
     * (experiments: [], interrupted false), so it is valid JSON from now on. */
    if (fg_results_create_run(cfg->results_dir, cfg->scale_prefix, r->root, r->path,
                              sizeof r->path, err) != 0)
        goto fail;
    snprintf(r->run_id, sizeof r->run_id, "%s", cJSON_GetStringValue(
                 cJSON_GetObjectItemCaseSensitive(r->run, "id")));
    return r;
fail:
    runner_free(r);
    return NULL;
}

void fg_runner_set_category(fg_runner *r, const char *category)
{
    snprintf(r->category, sizeof r->category, "%s", category);
}

void fg_runner_set_repeat(fg_runner *r, int first_repeat)
{
    r->first_repeat = first_repeat > 0 ? first_repeat : 0;
    r->repeat_set = 1;
}

/* One URL per function means separate servers that cannot fetch each
 * other's blobs: the image then travels inline, as in the reference system. */
static int inline_data(const fg_runner *r)
{
    return r->cfg.inline_data || r->cluster.mode == FG_CLUSTER_FUNCTIONS || r->inline_fallback;
}

int fg_runner_input_sized(const fg_runner *r)
{
    return r->wf.payload.kind == FG_PAYLOAD_IMAGE;
}

/* The payload of a cell: the test image of its size (generated when
 * missing), or the workflow's fixed input (loaded once; again only if the
 * cluster turned out to need inline data). Checked against the body limit
 * once that is known. */
static int ensure_payload(fg_runner *r, double mb, fg_err *err)
{
    int sized = fg_runner_input_sized(r);
    if (r->have_payload && (!sized || r->payload_mb == mb) &&
        r->payload.by_ref == !inline_data(r) && r->payload_limit == r->body_limit)
        return 0;
    if (r->have_payload) {
        fg_payload_free(&r->payload);
        r->have_payload = 0;
    }
    char path[1024] = "";
    if (sized) {
        int created = 0;
        if (fg_imagegen_ensure(r->cfg.images_dir, mb, r->cfg.variant, path, sizeof path, &created,
                               err) != 0)
            return -1;
        if (created) fg_log(FG_LOG_INFO, "created %s", path);
    } else {
        snprintf(path, sizeof path, "%s", r->wf.payload.path ? r->wf.payload.path : r->wf.path);
    }
    if (fg_payload_load(&r->wf, sized ? path : NULL, inline_data(r), &r->payload, err) != 0)
        return -1;
    /* Every request would be refused (413): say so once, with the figures. */
    size_t body = fg_payload_max_body(&r->payload);
    if (r->body_limit > 0 && (double)body > r->body_limit) {
        fg_err_set(err, "%s: the request body is %zu bytes (%.1f MiB: a %zu-byte %s input, "
                   "encoded), over the server's limit of %.0f bytes (%.1f MiB, %s)", path,
                   body, (double)body / FG_MB, r->payload.input_len,
                   fg_payload_kind_name(r->payload.kind), r->body_limit,
                   r->body_limit / FG_MB, r->body_limit_source);
        fg_payload_free(&r->payload);
        return -1;
    }
    r->payload.variant = r->cfg.variant;
    r->payload_mb = mb;
    r->payload_limit = r->body_limit;
    r->have_payload = 1;
    return 0;
}

/* Records in run.config the measured requests a cell of this concurrency
 * was given (the open loop's: rate x duration, as the engine schedules). */
static void note_requests(fg_runner *r, const fg_experiment *x)
{
    cJSON *config = cJSON_GetObjectItemCaseSensitive(r->run, "config");
    cJSON *by = cJSON_GetObjectItemCaseSensitive(config, "requests_by_concurrency");
    if (!cJSON_IsObject(by)) return;
    char key[16];
    snprintf(key, sizeof key, "%d", x->concurrency);
    double n = x->rate_rps > 0 ? ceil(x->rate_rps * x->duration_s - 1e-9) : x->requests;
    cJSON *v = cJSON_CreateNumber(n);
    if (cJSON_GetObjectItemCaseSensitive(by, key)) cJSON_ReplaceItemInObjectCaseSensitive(by, key, v);
    else cJSON_AddItemToObject(by, key, v);
}

int fg_runner_experiment_init(fg_runner *r, fg_experiment *x, double input_mb, int concurrency,
                              const char *scheduler, fg_err *err)
{
    if (ensure_payload(r, input_mb, err) != 0) return -1;
    const fg_run_config *cfg = &r->cfg;
    /* A fixed input (JSON, a file) has no size axis: the cell is named by
     * its kind and records the input's real size. */
    char size[40];
    if (fg_runner_input_sized(r)) {
        char mb[32];
        fg_format_mb(input_mb, mb, sizeof mb);
        snprintf(size, sizeof size, "input%smb", mb);
    } else {
        input_mb = r->payload.mb;
        snprintf(size, sizeof size, "%s", fg_payload_kind_name(r->payload.kind));
    }
    memset(x, 0, sizeof *x);
    snprintf(x->id, sizeof x->id, "exp_%s_conc%d_%s", size, concurrency, scheduler);
    snprintf(x->category, sizeof x->category, "%s", r->category);
    x->input_mb = input_mb;
    x->variant = cfg->variant;
    x->concurrency = concurrency;
    x->requests = fg_config_requests_for(cfg, concurrency);
    x->warmup = cfg->warmup;
    x->warmup_s = cfg->warmup_s;
    x->max_inflight = cfg->max_inflight;
    x->rate_rps = cfg->rate_rps;
    x->duration_s = cfg->duration_s;
    x->arrival = cfg->arrival;
    x->transport = cfg->transport;
    x->spin_us = cfg->spin_us;
    x->seed = cfg->seed;
    x->segment_index = cfg->segment_index;
    x->segment_count = cfg->segment_count;
    snprintf(x->scheduler, sizeof x->scheduler, "%s", scheduler);
    x->timeout_s = cfg->timeout_s;
    x->retries = cfg->retries;
    x->inline_data = inline_data(r);
    return 0;
}

/* ---- contention (noise_sampler.h) --------------------------------------- */

/* A node server on this machine (loopback URL, not a container: its pid
 * would be another namespace's) whose GET / names its pid, verified to be
 * a flowgate-functions process here. */
static void own_server(fg_runner *r, const char *base_url, const fg_endpoint_opts *opts)
{
    if (!fg_cluster_url_is_loopback(base_url)) return;
    char url[300], path[64], comm[64] = "";
    snprintf(url, sizeof url, "%s/", base_url);
    long code;
    cJSON *info = NULL;
    fg_err err;
    if (fg_http_get_json_opts(url, opts, 1, 5, &code, &info, &err) != 0) return;
    const cJSON *pid = cJSON_GetObjectItemCaseSensitive(info, "pid");
    long p = cJSON_IsNumber(pid) ? (long)pid->valuedouble : 0;
    cJSON_Delete(info);
    if (p <= 0) return;
    snprintf(path, sizeof path, "/proc/%ld/comm", p);
    FILE *f = fopen(path, "r");
    if (!f) return;
    int got = fgets(comm, sizeof comm, f) != NULL;
    fclose(f);
    if (got && !strncmp(comm, "flowgate-functi", 15) &&
        fg_noise_sampler_add_pid(r->noise, (pid_t)p) == 0)
        r->noise_own++;
}

static void start_noise(fg_runner *r)
{
    fg_err err;
    if (!(r->noise = fg_noise_sampler_start(FG_NOISE_SAMPLE_MS, &err))) {
        fg_log(FG_LOG_WARN, "%s: no contention figures in the results", err.msg);
        return;
    }
    const fg_cluster *c = &r->cluster;
    if (c->server_pid > 0) {
        r->noise_own += fg_noise_sampler_add_pid(r->noise, c->server_pid) == 0;
    } else if (!c->containers_cluster[0]) {
        /* Several nodes may share one process: add_pid ignores repeats. */
        if (c->mode == FG_CLUSTER_NODES)
            for (int i = 0; i < c->n_nodes; i++)
                own_server(r, c->nodes[i].url, fg_cluster_endpoint(c, i));
        else
            for (int i = 0; i < c->n_functions; i++)
                own_server(r, c->function_urls[i], fg_cluster_endpoint(c, i));
    }
}

static double round3(double x) { return round(x * 1000.0) / 1000.0; }

static void add_share(cJSON *o, const char *key, double share)
{
    if (isnan(share)) cJSON_AddNullToObject(o, key);
    else cJSON_AddNumberToObject(o, key, round3(share));
}

/* The share over [from, to] (monotonic ms); container nodes' CPU in the
 * cell (cell_cpu_s over cell_ms) is taken as spread evenly over it. */
static double share_of(fg_runner *r, double from, double to, double cell_cpu_s, double cell_ms,
                       fg_noise_share *out)
{
    double extra = cell_cpu_s > 0 && cell_ms > 0 ? cell_cpu_s * (to - from) / cell_ms : 0;
    fg_noise_sampler_share(r->noise, from, to, extra, out);
    return out->share;
}

/* The foreign share over the last second, waiting until there is a second
 * of readings after not_before (monotonic ms). */
static double last_second(fg_runner *r, double not_before)
{
    double now = fg_now_mono_ms(), since = fg_noise_sampler_since_ms(r->noise);
    double wait = fmax(since, not_before) + 1000 - now;
    if (wait > 0) {
        nanosleep(&(struct timespec){(time_t)(wait / 1000), (long)fmod(wait, 1000) * 1000000L},
                  NULL);
        now = fg_now_mono_ms();
    }
    fg_noise_share sh;
    return share_of(r, now - 1000, now, 0, 0, &sh);
}

static cJSON *run_noise(fg_runner *r)
{
    cJSON *o = cJSON_GetObjectItemCaseSensitive(r->run, "noise");
    if (!o) {
        o = cJSON_AddObjectToObject(r->run, "noise");
        cJSON_AddStringToObject(o, "source", FG_NOISE_SOURCE);
        cJSON_AddNumberToObject(o, "sample_ms", FG_NOISE_SAMPLE_MS);
        cJSON_AddNumberToObject(o, "limit", FG_NOISE_LIMIT);
        cJSON_AddNumberToObject(o, "own_processes", 1 + r->noise_own);
    }
    return o;
}

static void set_number(cJSON *o, const char *key, double v)
{
    cJSON *x = isnan(v) ? cJSON_CreateNull() : cJSON_CreateNumber(round3(v));
    if (cJSON_GetObjectItemCaseSensitive(o, key)) cJSON_ReplaceItemInObjectCaseSensitive(o, key, x);
    else cJSON_AddItemToObject(o, key, x);
}

/* Summed cgroup CPU of the container nodes in the entry (0: none). */
static double containers_cpu(const cJSON *e)
{
    double sum = 0;
    const cJSON *n;
    cJSON_ArrayForEach(n, cJSON_GetObjectItemCaseSensitive(e, "containers")) {
        const cJSON *c = cJSON_GetObjectItemCaseSensitive(n, "cpu_s");
        if (cJSON_IsNumber(c) && c->valuedouble > 0) sum += c->valuedouble;
    }
    return sum;
}

static double entry_number(const cJSON *e, const char *path)
{
    double v;
    return fg_results_metric(e, path, &v) == 0 ? v : NAN;
}

/* entry.noise for a cell run from t_call to t_end (monotonic ms). The
 * engine's clock starts within a few ms of t_call, far below a reading's
 * interval, so the entry's window and warm-up times place them. */
static void note_noise(fg_runner *r, cJSON *e, double t_call, double t_end)
{
    if (!r->noise) return;
    double cell_ms = t_end - t_call, cpu = containers_cpu(e);
    double warm_s = entry_number(e, "warmup.duration_s");
    double w0 = entry_number(e, "window.start_s"), w1 = entry_number(e, "window.end_s");
    if (isnan(w0) || isnan(w1) || w1 < w0) {   /* nothing measured: the whole cell */
        w0 = 0;
        w1 = cell_ms / 1000.0;
    }
    fg_noise_share before, warm, during, after;
    share_of(r, t_call - 1000, t_call, 0, 0, &before);
    double warm_share = NAN;
    if (warm_s > 0) warm_share = share_of(r, t_call, t_call + warm_s * 1000, cpu, cell_ms, &warm);
    share_of(r, t_call + w0 * 1000, t_call + w1 * 1000, cpu, cell_ms, &during);
    double after_share = NAN;
    if (t_end > t_call + w1 * 1000)
        after_share = share_of(r, t_call + w1 * 1000, t_end, cpu, cell_ms, &after);
    cJSON *o = cJSON_AddObjectToObject(e, "noise");
    add_share(o, "foreign_cpu_share", during.share);
    add_share(o, "before", before.share);
    add_share(o, "warmup", warm_share);
    add_share(o, "during", during.share);
    add_share(o, "after", after_share);
    add_share(o, "steal_share", during.steal_share);
    add_share(o, "own_share", during.own_share);
    cJSON_AddNumberToObject(o, "cores", during.cpus);
    cJSON_AddNumberToObject(o, "interval_s", round3(during.interval_s));
    if (cpu > 0) cJSON_AddNumberToObject(o, "containers_cpu_s", round3(cpu));
    cJSON_AddNumberToObject(o, "limit", FG_NOISE_LIMIT);
    cJSON_AddNumberToObject(o, "time_factor", round3(fg_noise_time_factor(during.share)));
    cJSON_AddBoolToObject(o, "beyond_limit", fg_noise_beyond(during.share));

    cJSON *run = run_noise(r);
    r->noise_cells++;
    r->noise_beyond += fg_noise_beyond(during.share);
    if (!isnan(during.share) && during.share > r->noise_max) r->noise_max = during.share;
    set_number(run, "max_during", r->noise_max);
    set_number(run, "cells", r->noise_cells);
    set_number(run, "cells_beyond_limit", r->noise_beyond);
    /* Readings older than the next cell's "before" are no longer needed. */
    fg_noise_sampler_forget(r->noise, t_end - 2000);
    r->noise_last_end = t_end;
}

int fg_runner_experiment(fg_runner *r, const fg_experiment *tmpl, int repeats,
                         const cJSON **entry, fg_err *err)
{
    if (entry) *entry = NULL;
    if (ensure_payload(r, tmpl->input_mb, err) != 0) return -1;
    const fg_run_config *cfg = &r->cfg;
    if (repeats < 1) repeats = 1;
    for (int k = 0; k < repeats && !fg_stop_requested(); k++) {
        fg_experiment x = *tmpl;
        x.repeat = r->first_repeat + k;
        /* --start-at: the run's first experiment waits for the instant. */
        x.start_at_unix_ms = cJSON_GetArraySize(r->experiments) == 0 ? cfg->start_at_unix_s * 1000.0 : 0;
        /* Poisson repeats draw their own arrivals, each from a recorded seed. */
        x.seed = tmpl->seed + (uint64_t)x.repeat;
        x.progress = isatty(STDERR_FILENO);
        char suffix[16] = "";
        /* Repeats of one cell (or A/B pairs run one call each) must not
         * overwrite each other's timeline. */
        if (repeats > 1 || r->repeat_set) snprintf(suffix, sizeof suffix, "_r%d", x.repeat);
        /* A scale run holds the same cell under several categories. */
        char subdir[40] = "";
        if (strcmp(r->category, cfg->category)) snprintf(subdir, sizeof subdir, "%s/", r->category);
        int n = snprintf(x.timeline_path, sizeof x.timeline_path, "%s/timelines/%s/%s%s%s.json",
                         cfg->results_dir, r->run_id, subdir, x.id, suffix);
        if (n < 0 || (size_t)n >= sizeof x.timeline_path) x.timeline_path[0] = 0;   /* skip it */
        note_requests(r, &x);
        cJSON *e = NULL;
        /* Container nodes: each one's CPU and memory from the engine. */
        fg_container_usage before[FG_MAX_NODES], after[FG_MAX_NODES];
        int n_before = -1, n_after = -1;
        fg_err stats_err;
        const char *cluster_id = r->cluster.containers_cluster;
        if (*cluster_id) n_before = fg_containers_sample(cluster_id, before, FG_MAX_NODES, &stats_err);
        /* The machine before the first cell: the run's own "before". */
        if (r->noise && !cJSON_GetObjectItemCaseSensitive(run_noise(r), "before"))
            set_number(run_noise(r), "before", last_second(r, 0));
        double t_call = fg_now_mono_ms();
        if (fg_experiment_run(&x, &r->wf, &r->cluster, &r->payload, &r->profile, &e, err) != 0)
            return -1;
        double t_end = fg_now_mono_ms();
        if (n_before >= 0) n_after = fg_containers_sample(cluster_id, after, FG_MAX_NODES, &stats_err);
        if (n_after >= 0)
            cJSON_AddItemToObject(e, "containers",
                                  fg_containers_usage_json(before, n_before, after, n_after));
        else if (*cluster_id)
            fg_log(FG_LOG_WARN, "%s: no container figures: %s", x.id, stats_err.msg);
        note_noise(r, e, t_call, t_end);
        cJSON_AddItemToArray(r->experiments, e);
        if (entry) *entry = e;
        sync_interrupted(r);
        if (fg_results_save(r->path, r->root, err) != 0) return -1;
    }
    return 0;
}

int fg_runner_cell(fg_runner *r, double input_mb, int concurrency, const char *scheduler,
                   const cJSON **entry, fg_err *err)
{
    fg_experiment x;
    if (entry) *entry = NULL;
    if (fg_runner_experiment_init(r, &x, input_mb, concurrency, scheduler, err) != 0) return -1;
    return fg_runner_experiment(r, &x, r->cfg.repeats > 0 ? r->cfg.repeats : 1, entry, err);
}

void fg_runner_set_inline(fg_runner *r, int inline_data) { r->cfg.inline_data = inline_data; }

int fg_runner_set_network(fg_runner *r, double bandwidth_mbit, double latency_ms, fg_err *err)
{
    if (r->cfg.bandwidth_mbit == bandwidth_mbit && r->cfg.latency_ms == latency_ms) return 0;
    if (r->cluster.mode != FG_CLUSTER_NODES || r->cluster.n_nodes < 1)
        return fg_err_set(err, "network conditions (bandwidth %g Mbit/s, latency %g ms) need "
                          "node servers; the endpoints (%s) are one URL per function",
                          bandwidth_mbit, latency_ms, r->cfg.endpoints);
    /* What the servers have in force, not what an endpoints file says
     * (it may leave the links out): that is what the run gives back. */
    if (!r->links_saved) {
        for (int i = 0; i < r->cluster.n_nodes; i++)
            if (fg_cluster_get_node_link(&r->cluster, i, &r->saved_links[i][0],
                                         &r->saved_links[i][1], err) != 0)
                return -1;
        r->links_saved = 1;
    }
    for (int i = 0; i < r->cluster.n_nodes; i++) {
        double bw = bandwidth_mbit >= 0 ? bandwidth_mbit : r->saved_links[i][0];
        double lat = latency_ms >= 0 ? latency_ms : r->saved_links[i][1];
        if (fg_cluster_set_node_link(&r->cluster, i, bw, lat, err) != 0) return -1;
    }
    r->cfg.bandwidth_mbit = bandwidth_mbit;
    r->cfg.latency_ms = latency_ms;
    if (!r->cfg.profile[0]) fg_profile_fallback(&r->profile, &r->cluster, &r->wf);
    return 0;
}

/* A cluster someone else runs gets back the links it had: a scenario's
 * 50 Mbit/s must not outlive the run. */
static void restore_links(fg_runner *r)
{
    if (!r->links_saved || r->cluster_started) return;
    for (int i = 0; i < r->cluster.n_nodes; i++) {
        fg_err err;
        if (fg_cluster_set_node_link(&r->cluster, i, r->saved_links[i][0], r->saved_links[i][1],
                                     &err) != 0)
            fprintf(stderr, "flowgate: warning: %s (the scenario's link stays set)\n", err.msg);
    }
}

cJSON *fg_runner_experiments(fg_runner *r)
{
    return r->experiments;
}

int fg_runner_save(fg_runner *r, const char *key, cJSON *item, fg_err *err)
{
    if (key && item) {
        if (cJSON_GetObjectItemCaseSensitive(r->root, key))
            cJSON_ReplaceItemInObjectCaseSensitive(r->root, key, item);
        else
            cJSON_AddItemToObject(r->root, key, item);
    }
    sync_interrupted(r);
    return fg_results_save(r->path, r->root, err);
}

const fg_cluster *fg_runner_cluster(const fg_runner *r)
{
    return &r->cluster;
}

const char *fg_runner_results_path(const fg_runner *r) { return r->path; }
/* The document as it stands; run.interrupted is brought up to date first,
 * so a report made from it (the threshold table) sees a stop that came
 * between cells. */
const cJSON *fg_runner_results(const fg_runner *r)
{
    sync_interrupted((fg_runner *)r);
    return r->root;
}

void fg_runner_end_cells(fg_runner *r)
{
    /* The machine after the last cell, while the run's servers still count as own. */
    if (r->noise && r->noise_cells > 0 && !cJSON_GetObjectItemCaseSensitive(run_noise(r), "after"))
        set_number(run_noise(r), "after", last_second(r, r->noise_last_end));
}

int fg_runner_close(fg_runner *r, fg_err *err)
{
    if (!r) return 0;
    fg_runner_end_cells(r);
    char stamp[64];
    iso_time(stamp, sizeof stamp);
    cJSON *finished = cJSON_CreateString(stamp);
    if (cJSON_GetObjectItemCaseSensitive(r->run, "finished"))
        cJSON_ReplaceItemInObjectCaseSensitive(r->run, "finished", finished);
    else
        cJSON_AddItemToObject(r->run, "finished", finished);
    sync_interrupted(r);
    int rc = fg_results_save(r->path, r->root, err);
    runner_free(r);
    return rc;
}
