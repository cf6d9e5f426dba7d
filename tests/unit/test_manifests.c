/* test_manifests.c — the offline structural check of the Kubernetes
 * manifests (fixtures/containers/k8s/ (configmap, nodes, job .yaml)), with libyaml: every document
 * has apiVersion, kind and metadata.name; every node of data/nodes.json has
 * a Deployment serving that node alone (--node) with CPU and memory limits,
 * a readiness probe, a --peer for each other node at that node's Service,
 * and a Service selecting it on port 8100; the ConfigMap's endpoints.json
 * loads as an endpoints file naming those Services; the Job runs flowgate
 * against it and never restarts. A manifest broken in each of those ways
 * is reported, one line per problem.
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

/* ---- tests ---------------------------------------------------------------- */

static const char *const files[] = {"configmap.yaml", "nodes.yaml", "job.yaml"};

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

/* The documents of every manifest; with `edit`, one substring of one file
 * replaced first (the broken variants). */
static cJSON *load_all(const char *file, const char *from, const char *to)
{
    cJSON *all = cJSON_CreateArray();
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        char path[1024];
        snprintf(path, sizeof path, "%s/../fixtures/containers/k8s/%s", fg_data_dir(), files[i]);
        char *text = read_text(path);
        if (file && !strcmp(file, files[i])) {
            char *hit = strstr(text, from);
            assert_non_null(hit);
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

static void test_manifests_hold(void **state)
{
    (void)state;
    cJSON *docs = load_all(NULL, NULL, NULL), *p = profile();
    report r = {{0}, 0};
    check_k8s(docs, p, &r);
    if (r.problems) fail_msg("%s", r.text);
    /* 4 Deployments + 4 Services + ConfigMap + Job */
    assert_int_equal(cJSON_GetArraySize(docs), 2 * cJSON_GetArraySize(cJSON_GetObjectItem(p, "nodes")) + 2);
    cJSON_Delete(docs);
    cJSON_Delete(p);
}

static void expect_problem(const char *file, const char *from, const char *to, const char *line)
{
    cJSON *docs = load_all(file, from, to), *p = profile();
    report r = {{0}, 0};
    check_k8s(docs, p, &r);
    if (!strstr(r.text, line)) fail_msg("no '%s' in:\n%s", line, r.text);
    cJSON_Delete(docs);
    cJSON_Delete(p);
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_manifests_hold),
        cmocka_unit_test(test_broken_manifests),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
