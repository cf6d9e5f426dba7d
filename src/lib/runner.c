/* runner.c — one run: the workflow, the cluster (found from an endpoints
 * file or started here), the calibration profile, the run metadata and the
 * growing results document. Each cell ensures its image, reuses the loaded
 * payload while the size stays the same (only one payload is held at a
 * time, so memory stays bounded), runs its repeats and rewrites the results
 * file atomically, so an interrupted run keeps every finished experiment.
 * `flowgate run` and the cmocka suites both go through here. */
#include "flowgate/engine.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "flowgate/results.h"

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
};

static void iso_time(char *out, size_t size)
{
    time_t now = time(NULL);
    struct tm tm;
    localtime_r(&now, &tm);
    strftime(out, size, "%Y-%m-%dT%H:%M:%S%z", &tm);
}

static int is_sha(const char *s)
{
    if (strlen(s) != 40) return 0;
    for (const char *p = s; *p; p++)
        if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f'))) return 0;
    return 1;
}

static void trim(char *s)
{
    size_t n = strlen(s);
    while (n && (s[n - 1] == '\n' || s[n - 1] == '\r' || s[n - 1] == ' ')) s[--n] = 0;
}

/* The commit checked out in the source tree, read from .git without
 * running git; 0 when there is none (e.g. no commit yet). */
static int git_commit(char *out, size_t size)
{
#ifdef FLOWGATE_SOURCE_DIR
    char path[1024], line[512];
    snprintf(path, sizeof path, "%s/.git/HEAD", FLOWGATE_SOURCE_DIR);
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    int got = fgets(line, sizeof line, f) != NULL;
    fclose(f);
    if (!got) return 0;
    trim(line);
    if (is_sha(line)) {
        snprintf(out, size, "%s", line);
        return 1;
    }
    if (strncmp(line, "ref: ", 5)) return 0;
    char ref[512];
    snprintf(ref, sizeof ref, "%s", line + 5);
    snprintf(path, sizeof path, "%s/.git/%s", FLOWGATE_SOURCE_DIR, ref);
    if ((f = fopen(path, "r"))) {
        got = fgets(line, sizeof line, f) != NULL;
        fclose(f);
        trim(line);
        if (got && is_sha(line)) {
            snprintf(out, size, "%s", line);
            return 1;
        }
    }
    snprintf(path, sizeof path, "%s/.git/packed-refs", FLOWGATE_SOURCE_DIR);
    if (!(f = fopen(path, "r"))) return 0;
    int found = 0;
    while (!found && fgets(line, sizeof line, f)) {
        trim(line);
        char *space = strchr(line, ' ');
        if (!space || strcmp(space + 1, ref)) continue;
        *space = 0;
        if (is_sha(line)) {
            snprintf(out, size, "%s", line);
            found = 1;
        }
    }
    fclose(f);
    return found;
#else
    (void)out; (void)size;
    return 0;
#endif
}

static cJSON *config_json(const fg_run_config *c)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "category", c->category);
    cJSON *sizes = cJSON_AddArrayToObject(o, "sizes_mb");
    for (int i = 0; i < c->n_sizes; i++) cJSON_AddItemToArray(sizes, cJSON_CreateNumber(c->sizes_mb[i]));
    cJSON *conc = cJSON_AddArrayToObject(o, "concurrency");
    for (int i = 0; i < c->n_concurrency; i++)
        cJSON_AddItemToArray(conc, cJSON_CreateNumber(c->concurrency[i]));
    cJSON_AddNumberToObject(o, "requests", c->requests);
    cJSON_AddNumberToObject(o, "default_requests", c->default_requests);
    cJSON_AddNumberToObject(o, "warmup", c->warmup);
    cJSON_AddNumberToObject(o, "request_scale", c->request_scale);
    if (c->rate_rps > 0) {
        cJSON_AddNumberToObject(o, "rate_rps", c->rate_rps);
        cJSON_AddNumberToObject(o, "duration_s", c->duration_s);
    }
    cJSON_AddNumberToObject(o, "timeout_s", c->timeout_s);
    cJSON_AddNumberToObject(o, "retries", c->retries);
    cJSON_AddBoolToObject(o, "inline_data", c->inline_data != 0);
    const char *variant = fg_variant_name(c->variant);
    cJSON_AddStringToObject(o, "variant", variant ? variant : "unknown");
    cJSON_AddNumberToObject(o, "repeats", c->repeats);
    cJSON_AddStringToObject(o, "endpoints", c->endpoints);
    cJSON_AddStringToObject(o, "nodes_profile", c->nodes_profile);
    cJSON_AddStringToObject(o, "workflow", c->workflow);
    cJSON_AddStringToObject(o, "profile", c->profile);
    cJSON_AddStringToObject(o, "thresholds", c->thresholds);
    cJSON_AddStringToObject(o, "results_dir", c->results_dir);
    cJSON_AddStringToObject(o, "images_dir", c->images_dir);
    return o;
}

static cJSON *endpoints_json(const fg_cluster *c, int started)
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
    return o;
}

static void runner_free(fg_runner *r)
{
    if (r->have_payload) fg_payload_free(&r->payload);
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
    if (cfg->workflow[0]) snprintf(path, sizeof path, "%s", cfg->workflow);
    else snprintf(path, sizeof path, "%s/workflows/recognizer.json", fg_data_dir());
    if (fg_workflow_load(path, &r->wf, err) != 0) goto fail;
    r->wf_loaded = 1;

    if (cfg->endpoints[0]) {
        if (fg_cluster_load_endpoints(cfg->endpoints, &r->cluster, err) != 0) goto fail;
    } else {
        char nodes[1024];
        if (cfg->nodes_profile[0]) snprintf(nodes, sizeof nodes, "%s", cfg->nodes_profile);
        else snprintf(nodes, sizeof nodes, "%s/nodes.json", fg_data_dir());
        if (fg_cluster_start_embedded(nodes, NULL, 30, &r->cluster, err) != 0) goto fail;
        r->cluster_started = 1;
    }
    /* Generous: a cluster still starting its OCR engines may be slow to answer. */
    if (fg_cluster_health(&r->cluster, 30, err) != 0) goto fail;
    if (cfg->profile[0]) {
        if (fg_profile_load(cfg->profile, &r->profile, err) != 0) goto fail;
    } else {
        fg_profile_fallback(&r->profile, &r->cluster, &r->wf);
    }

    time_t now = time(NULL);
    struct tm tm;
    localtime_r(&now, &tm);
    char id_stamp[24];
    strftime(id_stamp, sizeof id_stamp, "%Y%m%d-%H%M%S", &tm);
    if (fg_mkdirs(cfg->results_dir, err) != 0) goto fail;
    /* Two runs started in the same second must not overwrite each other:
     * claim the name with O_EXCL, adding -2, -3 ... when it is taken. The
     * empty placeholder is replaced by the first atomic save. */
    for (int n = 1;; n++) {
        if (n == 1) snprintf(r->run_id, sizeof r->run_id, "%s", id_stamp);
        else snprintf(r->run_id, sizeof r->run_id, "%s-%d", id_stamp, n);
        snprintf(r->path, sizeof r->path, "%s/%sexperiment_results_%s.json", cfg->results_dir,
                 cfg->scale_prefix ? "scale_" : "", r->run_id);
        int fd = open(r->path, O_WRONLY | O_CREAT | O_EXCL, 0644);
        if (fd >= 0) {
            close(fd);
            break;
        }
        if (errno != EEXIST || n >= 1000) {
            fg_err_set(err, "%s: cannot create: %s", r->path, strerror(errno));
            goto fail;
        }
    }

    r->root = cJSON_CreateObject();
    cJSON_AddStringToObject(r->root, "schema", FG_RESULTS_SCHEMA);
    r->run = cJSON_AddObjectToObject(r->root, "run");
    cJSON_AddStringToObject(r->run, "id", r->run_id);
    cJSON_AddStringToObject(r->run, "category", cfg->category);
    char stamp[64];
    iso_time(stamp, sizeof stamp);
    cJSON_AddStringToObject(r->run, "started", stamp);
    char host[256] = "unknown";
    gethostname(host, sizeof host - 1);
    cJSON_AddStringToObject(r->run, "host", host);
    cJSON_AddNumberToObject(r->run, "cores", (double)sysconf(_SC_NPROCESSORS_ONLN));
    char commit[64];
    if (git_commit(commit, sizeof commit)) cJSON_AddStringToObject(r->run, "git_commit", commit);
    cJSON_AddItemToObject(r->run, "config", config_json(cfg));
    cJSON *scheds = cJSON_AddArrayToObject(r->run, "schedulers");
    for (int i = 0; i < cfg->n_schedulers; i++)
        cJSON_AddItemToArray(scheds, cJSON_CreateString(cfg->schedulers[i]));
    cJSON_AddItemToObject(r->run, "endpoints", endpoints_json(&r->cluster, r->cluster_started));
    cJSON_AddStringToObject(r->run, "profile", r->profile.calibrated ? r->profile.name : "fallback");
    r->experiments = cJSON_AddArrayToObject(r->root, "experiments");
    if (!r->experiments) {
        fg_err_set(err, "out of memory");
        goto fail;
    }
    return r;
fail:
    runner_free(r);
    return NULL;
}

void fg_runner_set_category(fg_runner *r, const char *category)
{
    snprintf(r->category, sizeof r->category, "%s", category);
}

/* One URL per function means separate servers that cannot fetch each
 * other's blobs: the image then travels inline, as in the reference system. */
static int inline_data(const fg_runner *r)
{
    return r->cfg.inline_data || r->cluster.mode == FG_CLUSTER_FUNCTIONS;
}

static int ensure_payload(fg_runner *r, double mb, fg_err *err)
{
    if (r->have_payload && r->payload_mb == mb) return 0;
    if (r->have_payload) {
        fg_payload_free(&r->payload);
        r->have_payload = 0;
    }
    char path[1024];
    int created = 0;
    if (fg_imagegen_ensure(r->cfg.images_dir, mb, r->cfg.variant, path, sizeof path, &created,
                           err) != 0)
        return -1;
    if (created) fg_log(FG_LOG_INFO, "created %s", path);
    if (fg_payload_load(path, inline_data(r), &r->payload, err) != 0) return -1;
    r->payload.variant = r->cfg.variant;
    r->payload_mb = mb;
    r->have_payload = 1;
    return 0;
}

int fg_runner_cell(fg_runner *r, double input_mb, int concurrency, const char *scheduler,
                   const cJSON **entry, fg_err *err)
{
    if (entry) *entry = NULL;
    if (ensure_payload(r, input_mb, err) != 0) return -1;
    const fg_run_config *cfg = &r->cfg;
    char size[32];
    fg_format_mb(input_mb, size, sizeof size);
    int repeats = cfg->repeats > 0 ? cfg->repeats : 1;
    for (int k = 0; k < repeats && !fg_engine_stop_requested(); k++) {
        fg_experiment x;
        memset(&x, 0, sizeof x);
        snprintf(x.id, sizeof x.id, "exp_input%smb_conc%d_%s", size, concurrency, scheduler);
        snprintf(x.category, sizeof x.category, "%s", r->category);
        x.input_mb = input_mb;
        x.variant = cfg->variant;
        x.concurrency = concurrency;
        x.requests = fg_config_requests_for(cfg, concurrency);
        x.warmup = cfg->warmup;
        x.rate_rps = cfg->rate_rps;
        x.duration_s = cfg->duration_s;
        snprintf(x.scheduler, sizeof x.scheduler, "%s", scheduler);
        x.timeout_s = cfg->timeout_s;
        x.retries = cfg->retries;
        x.inline_data = inline_data(r);
        x.repeat = k;
        x.progress = isatty(STDERR_FILENO);
        char suffix[16] = "";
        if (repeats > 1) snprintf(suffix, sizeof suffix, "_r%d", k);
        /* A scale run holds the same cell under several categories. */
        char subdir[40] = "";
        if (strcmp(r->category, cfg->category)) snprintf(subdir, sizeof subdir, "%s/", r->category);
        int n = snprintf(x.timeline_path, sizeof x.timeline_path, "%s/timelines/%s/%s%s%s.json",
                         cfg->results_dir, r->run_id, subdir, x.id, suffix);
        if (n < 0 || (size_t)n >= sizeof x.timeline_path) x.timeline_path[0] = 0;   /* skip it */
        cJSON *e = NULL;
        if (fg_experiment_run(&x, &r->wf, &r->cluster, &r->payload, &r->profile, &e, err) != 0)
            return -1;
        cJSON_AddItemToArray(r->experiments, e);
        if (entry) *entry = e;
        if (fg_results_save(r->path, r->root, err) != 0) return -1;
    }
    return 0;
}

const fg_cluster *fg_runner_cluster(const fg_runner *r)
{
    return &r->cluster;
}

const char *fg_runner_results_path(const fg_runner *r) { return r->path; }
const cJSON *fg_runner_results(const fg_runner *r) { return r->root; }

int fg_runner_close(fg_runner *r, fg_err *err)
{
    if (!r) return 0;
    int rc = 0;
    if (cJSON_GetArraySize(r->experiments) > 0) {
        char stamp[64];
        iso_time(stamp, sizeof stamp);
        cJSON_AddStringToObject(r->run, "finished", stamp);
        if (fg_engine_stop_requested()) cJSON_AddTrueToObject(r->run, "interrupted");
        rc = fg_results_save(r->path, r->root, err);
    }
    runner_free(r);
    return rc;
}
