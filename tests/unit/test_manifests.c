/* test_manifests.c — the offline structural check of the container
 * manifests, with libyaml. Kubernetes (fixtures/containers/k8s/: configmap,
 * nodes, job .yaml): every document has apiVersion, kind and metadata.name;
 * every node of data/nodes.json has a Deployment serving that node alone
 * (--node) with CPU and memory limits, a readiness probe, a --peer for each
 * other node at that node's Service, and a Service selecting it on port
 * 8100; the ConfigMap's endpoints.json loads as an endpoints file naming
 * those Services; the Job runs flowgate against it and never restarts.
 * The drivers (k8s/drivers/): an Indexed Job whose pods each send segment
 * $(JOB_COMPLETION_INDEX)/N of one open-loop schedule, N = completions =
 * parallelism, into their own directory of a claim the merge Job reads.
 * compose.yaml (docker-compose and docker stack deploy): a service per
 * node on its compose-endpoints.json port, peers, labels, caps and no
 * restart under deploy:, and the host network for both tools. A file
 * broken in each of those ways is reported, one line per problem.
 *
 * YAML becomes cJSON (scalars as strings) so the checks read like the rest
 * of the project's JSON code; anchors and aliases are refused (the
 * manifests do not use them). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <yaml.h>

#include "flowgate/cluster.h"
#include "flowgate/json.h"

/* ---- YAML -> cJSON --------------------------------------------------------- */

static cJSON *node_from(yaml_parser_t *p, yaml_event_t *ev, char *why, size_t why_size);

static cJSON *collection(yaml_parser_t *p, int mapping, char *why, size_t why_size)
{
    cJSON *out = mapping ? cJSON_CreateObject() : cJSON_CreateArray();
    for (;;) {
        yaml_event_t ev;
        if (!yaml_parser_parse(p, &ev)) {
            snprintf(why, why_size, "line %zu: %s", p->problem_mark.line + 1,
                     p->problem ? p->problem : "parse error");
            cJSON_Delete(out);
            return NULL;
        }
        if (ev.type == YAML_MAPPING_END_EVENT || ev.type == YAML_SEQUENCE_END_EVENT) {
            yaml_event_delete(&ev);
            return out;
        }
        char *key = NULL;
        if (mapping) {
            if (ev.type != YAML_SCALAR_EVENT) {
                snprintf(why, why_size, "line %zu: a key that is not a scalar",
                         ev.start_mark.line + 1);
                yaml_event_delete(&ev);
                cJSON_Delete(out);
                return NULL;
            }
            key = strdup((const char *)ev.data.scalar.value);
            yaml_event_delete(&ev);
            if (!yaml_parser_parse(p, &ev)) {
                snprintf(why, why_size, "line %zu: parse error", p->problem_mark.line + 1);
                free(key);
                cJSON_Delete(out);
                return NULL;
            }
        }
        cJSON *v = node_from(p, &ev, why, why_size);
        yaml_event_delete(&ev);
        if (!v) {
            free(key);
            cJSON_Delete(out);
            return NULL;
        }
        if (mapping) cJSON_AddItemToObject(out, key, v);
        else cJSON_AddItemToArray(out, v);
        free(key);
    }
}

static cJSON *node_from(yaml_parser_t *p, yaml_event_t *ev, char *why, size_t why_size)
{
    switch (ev->type) {
    case YAML_SCALAR_EVENT:
        return cJSON_CreateString((const char *)ev->data.scalar.value);
    case YAML_MAPPING_START_EVENT:
        return collection(p, 1, why, why_size);
    case YAML_SEQUENCE_START_EVENT:
        return collection(p, 0, why, why_size);
    default:
        snprintf(why, why_size, "line %zu: aliases are not used in the manifests",
                 ev->start_mark.line + 1);
        return NULL;
    }
}

/* Every document of a YAML text, as an array; NULL with why. */
static cJSON *yaml_documents(const char *text, char *why, size_t why_size)
{
    yaml_parser_t p;
    yaml_parser_initialize(&p);
    yaml_parser_set_input_string(&p, (const unsigned char *)text, strlen(text));
    cJSON *docs = cJSON_CreateArray();
    for (;;) {
        yaml_event_t ev;
        if (!yaml_parser_parse(&p, &ev)) {
            snprintf(why, why_size, "line %zu: %s", p.problem_mark.line + 1,
                     p.problem ? p.problem : "parse error");
            cJSON_Delete(docs);
            docs = NULL;
            break;
        }
        yaml_event_type_t t = ev.type;
        cJSON *doc = NULL;
        if (t == YAML_MAPPING_START_EVENT || t == YAML_SEQUENCE_START_EVENT ||
            t == YAML_SCALAR_EVENT) {
            doc = node_from(&p, &ev, why, why_size);
            if (!doc) {
                yaml_event_delete(&ev);
                cJSON_Delete(docs);
                docs = NULL;
                break;
            }
            cJSON_AddItemToArray(docs, doc);
        }
        yaml_event_delete(&ev);
        if (t == YAML_STREAM_END_EVENT) break;
    }
    yaml_parser_delete(&p);
    return docs;
}

/* ---- the checks ----------------------------------------------------------- */

typedef struct report {
    char text[8192];
    int problems;
} report;

static void problem(report *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void problem(report *r, const char *fmt, ...)
{
    size_t used = strlen(r->text);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->text + used, sizeof r->text - used, fmt, ap);
    va_end(ap);
    used = strlen(r->text);
    if (used + 1 < sizeof r->text) strcat(r->text, "\n");
    r->problems++;
}

/* The value at a dotted path ("spec.template.spec"); arrays by index. */
static const cJSON *at(const cJSON *o, const char *path)
{
    char buf[256];
    snprintf(buf, sizeof buf, "%s", path);
    for (char *tok = strtok(buf, "."); tok && o; tok = strtok(NULL, "."))
        o = cJSON_IsArray(o) ? cJSON_GetArrayItem(o, atoi(tok))
                             : cJSON_GetObjectItemCaseSensitive(o, tok);
    return o;
}

static const char *str_at(const cJSON *o, const char *path)
{
    const cJSON *v = at(o, path);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static const cJSON *find(const cJSON *docs, const char *kind, const char *name)
{
    const cJSON *d;
    cJSON_ArrayForEach(d, docs) {
        const char *k = str_at(d, "kind"), *n = str_at(d, "metadata.name");
        if (k && n && !strcmp(k, kind) && !strcmp(n, name)) return d;
    }
    return NULL;
}

/* Index of `value` in the args array, -1 when absent. */
static int arg_index(const cJSON *args, const char *value)
{
    int i = 0;
    const cJSON *a;
    cJSON_ArrayForEach(a, args) {
        if (cJSON_IsString(a) && !strcmp(a->valuestring, value)) return i;
        i++;
    }
    return -1;
}

static void check_node(const cJSON *docs, const char *node, const cJSON *all, report *r)
{
    char name[96];
    snprintf(name, sizeof name, "flowgate-%s", node);
    const cJSON *dep = find(docs, "Deployment", name);
    const cJSON *svc = find(docs, "Service", name);
    if (!dep) problem(r, "node %s: no Deployment %s", node, name);
    if (!svc) problem(r, "node %s: no Service %s", node, name);
    if (svc) {
        const cJSON *selector = at(svc, "spec.selector");
        const char *want = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(selector, "flowgate.node"));
        if (!want || strcmp(want, node))
            problem(r, "Service %s: spec.selector must be flowgate.node: %s", name, node);
        const char *port = str_at(svc, "spec.ports.0.port");
        if (!port || strcmp(port, "8100")) problem(r, "Service %s: spec.ports[0].port must be 8100", name);
    }
    if (!dep) return;
    const cJSON *match = at(dep, "spec.selector.matchLabels");
    const cJSON *labels = at(dep, "spec.template.metadata.labels");
    const char *m = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(match, "flowgate.node"));
    const char *l = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(labels, "flowgate.node"));
    if (!m || !l || strcmp(m, node) || strcmp(l, node))
        problem(r, "Deployment %s: selector and template labels must carry flowgate.node: %s",
                name, node);
    const cJSON *c = at(dep, "spec.template.spec.containers.0");
    if (!c) {
        problem(r, "Deployment %s: no container", name);
        return;
    }
    if (!str_at(c, "image")) problem(r, "Deployment %s: container has no image", name);
    static const char *const limits[] = {"resources.limits.cpu", "resources.limits.memory"};
    for (int i = 0; i < 2; i++)
        if (!str_at(c, limits[i])) problem(r, "Deployment %s: no %s", name, limits[i]);
    if (!str_at(c, "readinessProbe.httpGet.path"))
        problem(r, "Deployment %s: no readinessProbe on GET /", name);
    const cJSON *args = at(c, "args");
    int k = arg_index(args, "--node");
    const cJSON *v = k >= 0 ? cJSON_GetArrayItem(args, k + 1) : NULL;
    if (!cJSON_IsString(v) || strcmp(v->valuestring, node))
        problem(r, "Deployment %s: args must hold --node %s", name, node);
    const cJSON *other;
    cJSON_ArrayForEach(other, all) {
        const char *o = str_at(other, "name");
        if (!o || !strcmp(o, node)) continue;
        char peer[160];
        snprintf(peer, sizeof peer, "%s=http://flowgate-%s:8100", o, o);
        if (arg_index(args, peer) < 0) problem(r, "Deployment %s: no --peer %s", name, peer);
    }
}

/* Every check over the documents of all manifest files. */
static void check_k8s(const cJSON *docs, const cJSON *profile, report *r)
{
    const cJSON *d;
    int i = 0;
    cJSON_ArrayForEach(d, docs) {
        if (!str_at(d, "apiVersion") || !str_at(d, "kind") || !str_at(d, "metadata.name"))
            problem(r, "document %d: needs apiVersion, kind and metadata.name", i);
        i++;
    }
    const cJSON *nodes = cJSON_GetObjectItemCaseSensitive(profile, "nodes"), *n;
    cJSON_ArrayForEach(n, nodes) check_node(docs, str_at(n, "name"), nodes, r);

    const cJSON *cm = find(docs, "ConfigMap", "flowgate-config");
    /* Keys with dots: looked up directly, not as paths. */
    const cJSON *data = cm ? at(cm, "data") : NULL;
    const char *endpoints =
        cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(data, "endpoints.json"));
    if (!endpoints || !cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(data, "nodes.json"))) {
        problem(r, "ConfigMap flowgate-config: needs data nodes.json and endpoints.json");
    } else {
        char path[64];
        snprintf(path, sizeof path, "manifest-endpoints.%d.json", (int)getpid());
        fg_cluster c;
        fg_err err;
        if (fg_write_file_atomic(path, endpoints, strlen(endpoints), &err) != 0 ||
            fg_cluster_load_endpoints(path, &c, &err) != 0) {
            problem(r, "ConfigMap flowgate-config: endpoints.json: %s", err.msg);
        } else {
            for (int k = 0; k < c.n_nodes; k++) {
                char want[128];
                snprintf(want, sizeof want, "http://flowgate-%s:8100", c.nodes[k].name);
                if (strcmp(c.nodes[k].url, want))
                    problem(r, "ConfigMap flowgate-config: endpoints.json: node %s at %s, "
                            "its Service is %s", c.nodes[k].name, c.nodes[k].url, want);
            }
            if (c.n_nodes != cJSON_GetArraySize(nodes))
                problem(r, "ConfigMap flowgate-config: endpoints.json has %d nodes, the "
                        "profile %d", c.n_nodes, cJSON_GetArraySize(nodes));
        }
        unlink(path);
    }
    const cJSON *job = NULL;
    cJSON_ArrayForEach(d, docs) {
        const char *k = str_at(d, "kind");
        if (k && !strcmp(k, "Job")) job = d;
    }
    if (!job) {
        problem(r, "no Job running flowgate");
        return;
    }
    const char *restart = str_at(job, "spec.template.spec.restartPolicy");
    if (!restart || (strcmp(restart, "Never") && strcmp(restart, "OnFailure")))
        problem(r, "Job: spec.template.spec.restartPolicy must be Never or OnFailure");
    const cJSON *c = at(job, "spec.template.spec.containers.0");
    if (!str_at(c, "image")) problem(r, "Job: container has no image");
    if (arg_index(at(c, "args"), "run") != 0 || arg_index(at(c, "args"), "--endpoints") < 0)
        problem(r, "Job: args must be run ... --endpoints FILE");
}

/* The claim behind the volume mounted at a prefix of `path` in pod spec
 * `spec` for container `c`; NULL when that mount is not a claim. */
static const char *claim_under(const cJSON *spec, const cJSON *c, const char *path)
{
    const cJSON *m, *v;
    cJSON_ArrayForEach(m, at(c, "volumeMounts")) {
        const char *mp = str_at(m, "mountPath"), *name = str_at(m, "name");
        if (!mp || !name || strncmp(path, mp, strlen(mp)) ||
            (path[strlen(mp)] != '/' && path[strlen(mp)] != 0))
            continue;
        cJSON_ArrayForEach(v, at(spec, "volumes")) {
            const char *vn = str_at(v, "name");
            if (vn && !strcmp(vn, name)) return str_at(v, "persistentVolumeClaim.claimName");
        }
    }
    return NULL;
}

/* The drivers (k8s/drivers/): an Indexed Job of N pods run together, pod i
 * sending segment $(JOB_COMPLETION_INDEX)/N of one open-loop schedule into
 * its own directory of a claim that exists, and a merge Job on that claim.
 * The kubelet fills $(JOB_COMPLETION_INDEX) only in an Indexed Job. */
static void check_drivers(const cJSON *docs, const cJSON *profile, report *r)
{
    (void)profile;
    const cJSON *job = find(docs, "Job", "flowgate-drivers");
    if (!job) {
        problem(r, "no Job flowgate-drivers");
        return;
    }
    const char *mode = str_at(job, "spec.completionMode");
    if (!mode || strcmp(mode, "Indexed"))
        problem(r, "Job flowgate-drivers: spec.completionMode must be Indexed "
                "(JOB_COMPLETION_INDEX is the segment)");
    const char *completions = str_at(job, "spec.completions");
    const char *parallelism = str_at(job, "spec.parallelism");
    int n = completions ? atoi(completions) : 0;
    if (n < 1) problem(r, "Job flowgate-drivers: spec.completions must be the number of drivers");
    if (!parallelism || atoi(parallelism) != n)
        problem(r, "Job flowgate-drivers: spec.parallelism %s must equal spec.completions %s "
                "(the drivers run together)", parallelism ? parallelism : "(none)",
                completions ? completions : "(none)");
    const char *restart = str_at(job, "spec.template.spec.restartPolicy");
    if (!restart || strcmp(restart, "Never"))
        problem(r, "Job flowgate-drivers: restartPolicy must be Never (a segment run twice "
                "would send its slots twice)");
    const cJSON *spec = at(job, "spec.template.spec");
    const cJSON *c = at(spec, "containers.0");
    const cJSON *args = at(c, "args");
    if (!str_at(c, "image")) problem(r, "Job flowgate-drivers: container has no image");
    if (arg_index(args, "run") != 0 || arg_index(args, "--endpoints") < 0)
        problem(r, "Job flowgate-drivers: args must be run ... --endpoints FILE");
    if (arg_index(args, "--rate") < 0 || arg_index(args, "--duration") < 0)
        problem(r, "Job flowgate-drivers: --segment splits an open loop: args need --rate and "
                "--duration");
    char want[64];
    snprintf(want, sizeof want, "$(JOB_COMPLETION_INDEX)/%d", n);
    int k = arg_index(args, "--segment");
    const char *seg = k >= 0 ? cJSON_GetStringValue(cJSON_GetArrayItem(args, k + 1)) : NULL;
    if (!seg || strcmp(seg, want))
        problem(r, "Job flowgate-drivers: args must hold --segment %s, not %s", want,
                seg ? seg : "(none)");
    k = arg_index(args, "--results-dir");
    const char *dir = k >= 0 ? cJSON_GetStringValue(cJSON_GetArrayItem(args, k + 1)) : NULL;
    const char *claim = NULL;
    if (!dir || !strstr(dir, "$(JOB_COMPLETION_INDEX)"))
        problem(r, "Job flowgate-drivers: --results-dir must name $(JOB_COMPLETION_INDEX) "
                "(a directory per segment)");
    else if (!(claim = claim_under(spec, c, dir)))
        problem(r, "Job flowgate-drivers: --results-dir %s is not on a persistentVolumeClaim", dir);
    else if (!find(docs, "PersistentVolumeClaim", claim))
        problem(r, "Job flowgate-drivers: no PersistentVolumeClaim %s", claim);

    const cJSON *merge = find(docs, "Job", "flowgate-merge");
    if (!merge) {
        problem(r, "no Job flowgate-merge");
        return;
    }
    const cJSON *mspec = at(merge, "spec.template.spec"), *mc = at(mspec, "containers.0");
    const char *script = str_at(mc, "args.0");
    if (!script || !strstr(script, "flowgate merge "))
        problem(r, "Job flowgate-merge: args must run flowgate merge");
    const char *mclaim = claim_under(mspec, mc, "/results");
    if (claim && (!mclaim || strcmp(mclaim, claim)))
        problem(r, "Job flowgate-merge: must mount the claim %s at /results, as the drivers do",
                claim);
}

/* The port of a base URL ("http://127.0.0.1:18100" -> "18100"). */
static const char *url_port(const char *url)
{
    const char *p = strrchr(url, ':');
    return p && p > url + 5 ? p + 1 : "";
}

/* compose.yaml, which both docker-compose and `docker stack deploy` run:
 * a service per node of the profile serving that node alone on the port of
 * its URL in compose-endpoints.json, with its peers at theirs, labelled as
 * that file's cluster (flowgate cluster status), with CPU and memory caps
 * and no restart under deploy:, a health check on its own port, and host
 * networking both ways (network_mode for docker-compose; the default
 * network declared as the external `host` for stack deploy, which ignores
 * network_mode). docker-compose config -q checks the schema, not these. */
static void check_compose(const cJSON *docs, const cJSON *profile, report *r)
{
    const cJSON *compose = cJSON_GetArrayItem(docs, 0);
    char path[1024];
    snprintf(path, sizeof path, "%s/../fixtures/containers/compose-endpoints.json", fg_data_dir());
    fg_cluster ep;
    fg_err err;
    if (fg_cluster_load_endpoints(path, &ep, &err) != 0) {
        problem(r, "compose-endpoints.json: %s", err.msg);
        return;
    }
    const char *ext = str_at(compose, "networks.default.external");
    const char *net = str_at(compose, "networks.default.name");
    if (!ext || strcmp(ext, "true") || !net || strcmp(net, "host"))
        problem(r, "compose.yaml: networks.default must be external: true, name: host "
                "(stack deploy's host network)");
    const cJSON *services = at(compose, "services"), *n;
    cJSON_ArrayForEach(n, cJSON_GetObjectItemCaseSensitive(profile, "nodes")) {
        const char *name = str_at(n, "name");
        const cJSON *svc = name ? cJSON_GetObjectItemCaseSensitive(services, name) : NULL;
        int e = -1;
        for (int i = 0; name && i < ep.n_nodes; i++)
            if (!strcmp(ep.nodes[i].name, name)) e = i;
        if (!svc || e < 0) {
            problem(r, "compose.yaml: node %s needs a service and a node in "
                    "compose-endpoints.json", name ? name : "?");
            continue;
        }
        const char *mode = str_at(svc, "network_mode");
        if (!mode || strcmp(mode, "host"))
            problem(r, "compose.yaml: service %s: network_mode must be host", name);
        if (!str_at(svc, "image")) problem(r, "compose.yaml: service %s: no image", name);
        const cJSON *labels = at(svc, "labels");
        const char *lc = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(labels, "flowgate.cluster"));
        const char *ln = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(labels, "flowgate.node"));
        if (!lc || strcmp(lc, ep.containers_cluster) || !ln || strcmp(ln, name))
            problem(r, "compose.yaml: service %s: labels must be flowgate.cluster: %s, "
                    "flowgate.node: %s", name, ep.containers_cluster, name);
        static const char *const must[] = {"deploy.resources.limits.cpus",
                                           "deploy.resources.limits.memory"};
        for (int i = 0; i < 2; i++)
            if (!str_at(svc, must[i])) problem(r, "compose.yaml: service %s: no %s", name, must[i]);
        const char *restart = str_at(svc, "deploy.restart_policy.condition");
        if (!restart || strcmp(restart, "none"))
            problem(r, "compose.yaml: service %s: deploy.restart_policy.condition must be none",
                    name);
        const cJSON *cmd = at(svc, "command");
        const char *port = url_port(ep.nodes[e].url);
        int k = arg_index(cmd, "--node");
        const char *v = k >= 0 ? cJSON_GetStringValue(cJSON_GetArrayItem(cmd, k + 1)) : NULL;
        if (!v || strcmp(v, name)) problem(r, "compose.yaml: service %s: command must hold --node %s", name, name);
        k = arg_index(cmd, "--port");
        v = k >= 0 ? cJSON_GetStringValue(cJSON_GetArrayItem(cmd, k + 1)) : NULL;
        if (!v || strcmp(v, port))
            problem(r, "compose.yaml: service %s: command must hold --port %s (its URL in "
                    "compose-endpoints.json)", name, port);
        for (int i = 0; i < ep.n_nodes; i++) {
            if (i == e) continue;
            char peer[320];
            snprintf(peer, sizeof peer, "%s=%s", ep.nodes[i].name, ep.nodes[i].url);
            if (arg_index(cmd, peer) < 0)
                problem(r, "compose.yaml: service %s: no --peer %s", name, peer);
        }
        char health[300];
        snprintf(health, sizeof health, "%s/", ep.nodes[e].url);
        if (arg_index(at(svc, "healthcheck.test"), health) < 0)
            problem(r, "compose.yaml: service %s: healthcheck must GET %s", name, health);
    }
}

/* ---- tests ---------------------------------------------------------------- */

/* A set of files (paths under fixtures/containers/k8s/) and its check. */
typedef void (*checker)(const cJSON *docs, const cJSON *profile, report *r);
typedef struct manifest_set {
    const char *files[4];
    checker check;
    int documents;   /* how many the shipped files hold */
} manifest_set;

/* 4 Deployments + 4 Services + ConfigMap + Job; PVC + 2 Jobs; the compose file. */
static const manifest_set k8s = {{"configmap.yaml", "nodes.yaml", "job.yaml"}, check_k8s, 10};
static const manifest_set drivers = {{"drivers/drivers-job.yaml", "drivers/merge-job.yaml"},
                                     check_drivers, 3};
static const manifest_set compose = {{"../compose.yaml"}, check_compose, 1};

static char *read_text(const char *path)
{
    fg_buf b;
    fg_err err;
    if (fg_read_file(path, 1 << 20, &b, &err) != 0) fail_msg("%s", err.msg);
    char *s = malloc(b.len + 1);
    memcpy(s, b.data, b.len);
    s[b.len] = 0;
    fg_buf_free(&b);
    return s;
}

/* The documents of every file of the set; with `file`, one substring of
 * that file replaced first (the broken variants). */
static cJSON *load_all(const manifest_set *set, const char *file, const char *from, const char *to)
{
    cJSON *all = cJSON_CreateArray();
    for (size_t i = 0; i < sizeof set->files / sizeof set->files[0] && set->files[i]; i++) {
        char path[1024];
        snprintf(path, sizeof path, "%s/../fixtures/containers/k8s/%s", fg_data_dir(),
                 set->files[i]);
        char *text = read_text(path);
        if (file && !strcmp(file, set->files[i])) {
            char *hit = strstr(text, from);
            if (!hit) fail_msg("no '%s' in %s", from, path);
            char *edited = malloc(strlen(text) + strlen(to) + 1);
            sprintf(edited, "%.*s%s%s", (int)(hit - text), text, to, hit + strlen(from));
            free(text);
            text = edited;
        }
        char why[256];
        cJSON *docs = yaml_documents(text, why, sizeof why);
        if (!docs) fail_msg("%s: %s", path, why);
        cJSON *d;
        while ((d = cJSON_DetachItemFromArray(docs, 0))) cJSON_AddItemToArray(all, d);
        cJSON_Delete(docs);
        free(text);
    }
    return all;
}

static cJSON *profile(void)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/nodes.json", fg_data_dir());
    fg_err err;
    cJSON *p = fg_json_load_object(path, 1 << 20, &err);
    if (!p) fail_msg("%s", err.msg);
    return p;
}

static void expect_holds(const manifest_set *set)
{
    cJSON *docs = load_all(set, NULL, NULL, NULL), *p = profile();
    report r = {{0}, 0};
    set->check(docs, p, &r);
    if (r.problems) fail_msg("%s", r.text);
    assert_int_equal(cJSON_GetArraySize(docs), set->documents);
    cJSON_Delete(docs);
    cJSON_Delete(p);
}

static void test_manifests_hold(void **state)
{
    (void)state;
    cJSON *p = profile();
    /* The shipped counts assume the four-node profile. */
    assert_int_equal(k8s.documents, 2 * cJSON_GetArraySize(cJSON_GetObjectItem(p, "nodes")) + 2);
    cJSON_Delete(p);
    expect_holds(&k8s);
    expect_holds(&drivers);
    expect_holds(&compose);
}

static void expect_problem_in(const manifest_set *set, const char *file, const char *from,
                              const char *to, const char *line)
{
    cJSON *docs = load_all(set, file, from, to), *p = profile();
    report r = {{0}, 0};
    set->check(docs, p, &r);
    if (!strstr(r.text, line)) fail_msg("no '%s' in:\n%s", line, r.text);
    cJSON_Delete(docs);
    cJSON_Delete(p);
}

static void expect_problem(const char *file, const char *from, const char *to, const char *line)
{
    expect_problem_in(&k8s, file, from, to, line);
}

static void test_broken_manifests(void **state)
{
    (void)state;
    expect_problem("nodes.yaml", "limits:\n              cpu: \"4125m\"\n", "limits:\n",
                   "Deployment flowgate-node2: no resources.limits.cpu");
    expect_problem("nodes.yaml", "name: flowgate-node1\n  labels:\n    app.kubernetes.io/part-of: flowgate\n    flowgate.node",
                   "name: flowgate-nodeX\n  labels:\n    app.kubernetes.io/part-of: flowgate\n    flowgate.node",
                   "node node1: no Deployment flowgate-node1");
    expect_problem("nodes.yaml", "\"node3=http://flowgate-node3:8100\"", "\"node3=http://elsewhere:8100\"",
                   "no --peer node3=http://flowgate-node3:8100");
    expect_problem("nodes.yaml", "readinessProbe:", "startupProbe:",
                   "Deployment flowgate-node0: no readinessProbe on GET /");
    expect_problem("job.yaml", "restartPolicy: Never", "restartPolicy: Always",
                   "Job: spec.template.spec.restartPolicy must be Never or OnFailure");
    expect_problem("configmap.yaml", "http://flowgate-node2:8100", "http://127.0.0.1:8100",
                   "endpoints.json: node node2 at http://127.0.0.1:8100, its Service is http://flowgate-node2:8100");
    expect_problem("job.yaml", "kind: Job", "kind: Jb", "no Job running flowgate");
    char why[256];
    cJSON *bad = yaml_documents("a: [1, 2\nb: 3\n", why, sizeof why);
    assert_null(bad);
    assert_non_null(strstr(why, "line "));
    bad = yaml_documents("a: &x 1\nb: *x\n", why, sizeof why);
    assert_null(bad);
    assert_non_null(strstr(why, "aliases are not used"));
}

/* The drivers' index wiring, each way it can break. */
static void test_broken_drivers(void **state)
{
    (void)state;
    const char *job = "drivers/drivers-job.yaml";
    expect_problem_in(&drivers, job, "completionMode: Indexed", "completionMode: NonIndexed",
                      "Job flowgate-drivers: spec.completionMode must be Indexed");
    expect_problem_in(&drivers, job, "  completionMode: Indexed\n", "",
                      "Job flowgate-drivers: spec.completionMode must be Indexed");
    expect_problem_in(&drivers, job, "\"$(JOB_COMPLETION_INDEX)/2\"", "\"0/2\"",
                      "args must hold --segment $(JOB_COMPLETION_INDEX)/2, not 0/2");
    expect_problem_in(&drivers, job, "completions: 2", "completions: 4",
                      "args must hold --segment $(JOB_COMPLETION_INDEX)/4, not $(JOB_COMPLETION_INDEX)/2");
    expect_problem_in(&drivers, job, "parallelism: 2", "parallelism: 1",
                      "spec.parallelism 1 must equal spec.completions 2");
    expect_problem_in(&drivers, job, "\"/results/segment-$(JOB_COMPLETION_INDEX)\"",
                      "\"/results/segment\"", "--results-dir must name $(JOB_COMPLETION_INDEX)");
    expect_problem_in(&drivers, job, "\"/results/segment-$(JOB_COMPLETION_INDEX)\"",
                      "\"/tmp/segment-$(JOB_COMPLETION_INDEX)\"",
                      "--results-dir /tmp/segment-$(JOB_COMPLETION_INDEX) is not on a persistentVolumeClaim");
    expect_problem_in(&drivers, job, "\"--rate\", \"20\", ", "",
                      "--segment splits an open loop: args need --rate and --duration");
    expect_problem_in(&drivers, job, "name: flowgate-driver-results\n  labels",
                      "name: other\n  labels", "no PersistentVolumeClaim flowgate-driver-results");
    expect_problem_in(&drivers, "drivers/merge-job.yaml", "claimName: flowgate-driver-results",
                      "claimName: other",
                      "Job flowgate-merge: must mount the claim flowgate-driver-results at /results");
}

/* The compose file's stack and compose halves, and its agreement with
 * compose-endpoints.json. */
static void test_broken_compose(void **state)
{
    (void)state;
    const char *f = "../compose.yaml";
    expect_problem_in(&compose, f, "    name: host\n", "    name: bridge\n",
                      "compose.yaml: networks.default must be external: true, name: host");
    expect_problem_in(&compose, f, "\"--port\", \"18102\"", "\"--port\", \"18112\"",
                      "service node2: command must hold --port 18102");
    expect_problem_in(&compose, f, "\"node3=http://127.0.0.1:18103\"", "\"node3=http://127.0.0.1:18113\"",
                      "service node0: no --peer node3=http://127.0.0.1:18103");
    expect_problem_in(&compose, f, "          cpus: \"0.57\"\n", "",
                      "service node0: no deploy.resources.limits.cpus");
    expect_problem_in(&compose, f, "condition: none", "condition: any",
                      "service node0: deploy.restart_policy.condition must be none");
    expect_problem_in(&compose, f, "    network_mode: host\n", "    network_mode: bridge\n",
                      "service node0: network_mode must be host");
    expect_problem_in(&compose, f, "flowgate.cluster: compose", "flowgate.cluster: other",
                      "service node0: labels must be flowgate.cluster: compose");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_manifests_hold),
        cmocka_unit_test(test_broken_manifests),
        cmocka_unit_test(test_broken_drivers),
        cmocka_unit_test(test_broken_compose),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
