/* profile.c — the cost model behind the `ours` scheduler: execution time of
 * function f on node n modelled as t = alpha_f,n * size_mb ^ eta_f,n.
 *
 * `flowgate calibrate` measures it and writes results/profiles/<name>.json:
 *   {"name":"default","calibrated":true,"nodes":["node0",...],
 *    "functions":{"recognizer__extract":{"node0":{"alpha":812.4,"eta":0.93,"r2":0.998},...},...}}
 * ("r2" is null where no fit exists, e.g. the size-independent text
 * functions). The fit is least squares on logs, so it weighs relative error
 * equally at every size, the way the runtime's errors compound.
 *
 * Without calibration the fallback is used: alpha_f,n = base_f / speed_n,
 * eta = 1, where base_f is f's step's "cost_ms" in the workflow file (ms for
 * 1 MB on an average node; the recognizer's are rounded from the embedded
 * server, where OCR dominates) and speed_n =
 * workers_n / mean workers: the only per-node fact known before measuring is
 * its capacity, and the reference cluster's larger nodes were also faster. */
#include "flowgate/sched.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A step without "cost_ms" in the workflow file gets a middling cost. */
#define UNKNOWN_BASE_MS 50.0

void fg_profile_fallback(fg_profile *p, const fg_cluster *c, const fg_workflow *wf)
{
    memset(p, 0, sizeof *p);
    snprintf(p->name, sizeof p->name, "fallback");
    p->calibrated = 0;
    p->n_nodes = c ? (c->n_nodes < FG_MAX_NODES ? c->n_nodes : FG_MAX_NODES) : 0;
    double mean_workers = 0;
    for (int n = 0; n < p->n_nodes; n++) {
        snprintf(p->nodes[n], sizeof p->nodes[n], "%s", c->nodes[n].name);
        mean_workers += c->nodes[n].workers > 0 ? c->nodes[n].workers : 1;
    }
    if (p->n_nodes) mean_workers /= p->n_nodes;
    int nf = wf ? wf->n_steps : 0;
    if (nf > FG_MAX_FUNCTIONS) nf = FG_MAX_FUNCTIONS;
    p->n_functions = nf;
    for (int f = 0; f < nf; f++) {
        snprintf(p->functions[f], sizeof p->functions[f], "%s", wf->steps[f].id);
        double base = wf->steps[f].cost_ms > 0 ? wf->steps[f].cost_ms : UNKNOWN_BASE_MS;
        for (int n = 0; n < p->n_nodes; n++) {
            int w = c->nodes[n].workers > 0 ? c->nodes[n].workers : 1;
            double speed = w / mean_workers;
            p->alpha[f][n] = base / speed;
            p->eta[f][n] = 1.0;
            p->r2[f][n] = NAN;
        }
    }
}

double fg_fit_power_law(const double *size_mb, const double *ms, int n,
                        double *alpha, double *eta)
{
    /* Only positive points have logs; the rest are skipped. */
    double sx = 0, sy = 0, sxx = 0, sxy = 0;
    int k = 0;
    for (int i = 0; i < n; i++) {
        if (!(size_mb[i] > 0) || !(ms[i] > 0) || !isfinite(size_mb[i]) || !isfinite(ms[i])) continue;
        double x = log(size_mb[i]), y = log(ms[i]);
        sx += x; sy += y; sxx += x * x; sxy += x * y;
        k++;
    }
    if (k == 0) {
        *alpha = NAN;
        *eta = NAN;
        return NAN;
    }
    double mx = sx / k, my = sy / k;
    double varx = sxx / k - mx * mx;
    if (k < 2 || varx <= 1e-12 * (1 + fabs(mx))) {
        /* One size only: no slope to fit; the time is taken as constant. */
        *eta = 0;
        *alpha = exp(my);
        return NAN;
    }
    double b = (sxy / k - mx * my) / varx;
    double a = my - b * mx;
    *eta = b;
    *alpha = exp(a);
    double ss_res = 0, ss_tot = 0;
    for (int i = 0; i < n; i++) {
        if (!(size_mb[i] > 0) || !(ms[i] > 0) || !isfinite(size_mb[i]) || !isfinite(ms[i])) continue;
        double x = log(size_mb[i]), y = log(ms[i]);
        double r = y - (a + b * x);
        ss_res += r * r;
        ss_tot += (y - my) * (y - my);
    }
    /* Constant times at several sizes: the flat line fits them exactly. */
    if (ss_tot <= 1e-24) return 1.0;
    double r2 = 1.0 - ss_res / ss_tot;
    return r2 < 0 ? 0 : r2;
}

static cJSON *number_or_null(double v)
{
    return isfinite(v) ? cJSON_CreateNumber(v) : cJSON_CreateNull();
}

int fg_profile_save(const char *path, const fg_profile *p, fg_err *err)
{
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "name", p->name);
    cJSON_AddBoolToObject(root, "calibrated", p->calibrated != 0);
    cJSON *nodes = cJSON_AddArrayToObject(root, "nodes");
    for (int n = 0; n < p->n_nodes; n++) cJSON_AddItemToArray(nodes, cJSON_CreateString(p->nodes[n]));
    cJSON *fns = cJSON_AddObjectToObject(root, "functions");
    for (int f = 0; f < p->n_functions; f++) {
        cJSON *fo = cJSON_AddObjectToObject(fns, p->functions[f]);
        for (int n = 0; n < p->n_nodes; n++) {
            if (!(p->alpha[f][n] > 0) || !isfinite(p->alpha[f][n])) continue;   /* not measured */
            cJSON *cell = cJSON_AddObjectToObject(fo, p->nodes[n]);
            cJSON_AddItemToObject(cell, "alpha", number_or_null(p->alpha[f][n]));
            cJSON_AddItemToObject(cell, "eta", number_or_null(p->eta[f][n]));
            cJSON_AddItemToObject(cell, "r2", number_or_null(p->r2[f][n]));
        }
    }
    char *text = cJSON_Print(root);
    cJSON_Delete(root);
    if (!text) return fg_err_set(err, "%s: cannot serialise the profile", path);
    /* results/profiles/ may not exist yet. */
    char dir[1024];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    int rc = 0;
    if (slash && slash != dir) {
        *slash = 0;
        rc = fg_mkdirs(dir, err);
    }
    if (rc == 0) rc = fg_write_file_atomic(path, text, strlen(text), err);
    free(text);
    return rc;
}

static int node_column(const fg_profile *p, const char *name)
{
    for (int n = 0; n < p->n_nodes; n++)
        if (!strcmp(p->nodes[n], name)) return n;
    return -1;
}

static int load_cell(const char *path, const char *fn, const cJSON *cell, fg_profile *p, int f, fg_err *err)
{
    int n = node_column(p, cell->string);
    if (n < 0)
        return fg_err_set(err, "%s: functions.%s.%s: node not listed in \"nodes\"", path, fn, cell->string);
    if (!cJSON_IsObject(cell))
        return fg_err_set(err, "%s: functions.%s.%s: expected {\"alpha\",\"eta\",\"r2\"}", path, fn, cell->string);
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(cell, "alpha");
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(cell, "eta");
    const cJSON *r = cJSON_GetObjectItemCaseSensitive(cell, "r2");
    if (!cJSON_IsNumber(a) || !(a->valuedouble > 0))
        return fg_err_set(err, "%s: functions.%s.%s.alpha: expected a number > 0", path, fn, cell->string);
    if (!cJSON_IsNumber(e) || !isfinite(e->valuedouble) || fabs(e->valuedouble) > 10)
        return fg_err_set(err, "%s: functions.%s.%s.eta: expected a number from -10 to 10", path, fn, cell->string);
    if (r && !cJSON_IsNull(r) && !cJSON_IsNumber(r))
        return fg_err_set(err, "%s: functions.%s.%s.r2: expected a number or null", path, fn, cell->string);
    p->alpha[f][n] = a->valuedouble;
    p->eta[f][n] = e->valuedouble;
    p->r2[f][n] = cJSON_IsNumber(r) ? r->valuedouble : NAN;
    return 0;
}

static int load_root(const char *path, const cJSON *root, fg_profile *p, fg_err *err)
{
    if (!cJSON_IsObject(root)) return fg_err_set(err, "%s: expected a JSON object", path);
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(root, "name");
    const cJSON *cal = cJSON_GetObjectItemCaseSensitive(root, "calibrated");
    const cJSON *nodes = cJSON_GetObjectItemCaseSensitive(root, "nodes");
    const cJSON *fns = cJSON_GetObjectItemCaseSensitive(root, "functions");
    if (!cJSON_IsString(name) || strlen(name->valuestring) >= sizeof p->name)
        return fg_err_set(err, "%s: \"name\": missing or not a string of at most %zu characters", path, sizeof p->name - 1);
    snprintf(p->name, sizeof p->name, "%s", name->valuestring);
    if (cal && !cJSON_IsBool(cal)) return fg_err_set(err, "%s: \"calibrated\": expected true or false", path);
    p->calibrated = cal ? cJSON_IsTrue(cal) : 1;
    if (!cJSON_IsArray(nodes) || cJSON_GetArraySize(nodes) < 1 || cJSON_GetArraySize(nodes) > FG_MAX_NODES)
        return fg_err_set(err, "%s: \"nodes\": expected an array of 1 to %d node names", path, FG_MAX_NODES);
    const cJSON *it;
    cJSON_ArrayForEach(it, nodes) {
        if (!cJSON_IsString(it) || !*it->valuestring || strlen(it->valuestring) >= sizeof p->nodes[0])
            return fg_err_set(err, "%s: nodes[%d]: expected a node name", path, p->n_nodes);
        if (node_column(p, it->valuestring) >= 0)
            return fg_err_set(err, "%s: nodes[%d]: '%s' appears twice", path, p->n_nodes, it->valuestring);
        snprintf(p->nodes[p->n_nodes++], sizeof p->nodes[0], "%s", it->valuestring);
    }
    if (!cJSON_IsObject(fns)) return fg_err_set(err, "%s: \"functions\": expected an object", path);
    cJSON_ArrayForEach(it, fns) {
        if (p->n_functions >= FG_MAX_FUNCTIONS)
            return fg_err_set(err, "%s: \"functions\": more than %d functions", path, FG_MAX_FUNCTIONS);
        if (strlen(it->string) >= sizeof p->functions[0])
            return fg_err_set(err, "%s: functions: name '%.40s...' too long", path, it->string);
        if (!cJSON_IsObject(it))
            return fg_err_set(err, "%s: functions.%s: expected an object of nodes", path, it->string);
        int f = p->n_functions++;
        snprintf(p->functions[f], sizeof p->functions[f], "%s", it->string);
        for (int n = 0; n < FG_MAX_NODES; n++) {
            p->alpha[f][n] = NAN;    /* not measured → the scheduler falls back */
            p->eta[f][n] = NAN;
            p->r2[f][n] = NAN;
        }
        const cJSON *cell;
        cJSON_ArrayForEach(cell, it)
            if (load_cell(path, it->string, cell, p, f, err) != 0) return -1;
    }
    return 0;
}

int fg_profile_load(const char *path, fg_profile *p, fg_err *err)
{
    memset(p, 0, sizeof *p);
    fg_buf text;
    if (fg_read_file(path, 4 * 1024 * 1024, &text, err) != 0) return -1;
    cJSON *root = cJSON_ParseWithLength((const char *)text.data, text.len);
    fg_buf_free(&text);
    if (!root) return fg_err_set(err, "%s: invalid JSON", path);
    int rc = load_root(path, root, p, err);
    cJSON_Delete(root);
    if (rc != 0) memset(p, 0, sizeof *p);
    return rc;
}
