/* scenarios.c — the scenario experiments (design in scenarios.h).
 *
 * A scenario names its axes as lists (input_mb, concurrency, rate_rps) and
 * is expanded into one cell per combination and scheduler; or it gives
 * "stages" (a ramp or a spike) instead of rate_rps and concurrency. A cell
 * is an open loop: its requests arrive at the rate (constant or Poisson,
 * the file's "arrival") with at most `concurrency` instances in flight —
 * a slot that finds them all busy is dropped and counted, as k6's arrival-
 * rate executors do — under the scenario's network conditions.
 *
 * Scaling (FLOWGATE_REQUEST_SCALE, CI) shrinks request counts, never rates,
 * caps or networks, so a scaled run is the same workload, shorter: one
 * stage keeps at least min_requests, each stage of several at least 2.
 *
 * Replicate k of a cell uses seed + k: replicates differ in their arrivals
 * the way independent runs would, and each is reproducible from the
 * recorded seed. Resume compares identities as JSON (cJSON_Compare), so
 * any change of schedule, network, scale or seed reruns the cell. */
#include "flowgate/scenarios.h"
#include "flowgate/faults.h"
#include "flowgate/faults_check.h"
#include "flowgate/stop.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flowgate/engine.h"
#include "flowgate/results.h"
#include "flowgate/stats.h"

static const char *const scenario_keys[] = {"name", "input_mb", "concurrency", "rate_rps",
                                            "requests", "stages", "bandwidth_mbit",
                                            "latency_ms", "inline", "faults", "retries",
                                            "timeout_s", "_comment", NULL};
static const char *const top_keys[] = {"_comment", "replicates", "schedulers", "arrival", "seed",
                                       "min_requests", "warmup", "warmup_s", "ci", "scenarios",
                                       NULL};

/* "faults": the block every node gets for the cell (checked by the server
 * when it is set: its one line names the key); "retries" and "timeout_s":
 * the driver's, so a hang is a timeout and retries can recover. */
static int read_faults(const cJSON *s, const char *where, fg_scenario_cell *t, fg_err *err)
{
    const cJSON *f = cJSON_GetObjectItemCaseSensitive(s, "faults");
    const cJSON *retries = cJSON_GetObjectItemCaseSensitive(s, "retries");
    const cJSON *timeout = cJSON_GetObjectItemCaseSensitive(s, "timeout_s");
    if (f) {
        if (!cJSON_IsObject(f)) return fg_err_set(err, "%s: \"faults\" must be an object", where);
        char *text = cJSON_PrintUnformatted(f);
        if (!text) return fg_err_set(err, "out of memory");
        int fits = strlen(text) < sizeof t->faults;
        if (fits) snprintf(t->faults, sizeof t->faults, "%s", text);
        free(text);
        if (!fits) return fg_err_set(err, "%s: \"faults\": longer than %zu bytes", where,
                                     sizeof t->faults - 1);
    }
    if (retries && (!cJSON_IsNumber(retries) || retries->valuedouble < 0 ||
                    retries->valuedouble > 10 || retries->valuedouble != (int)retries->valuedouble))
        return fg_err_set(err, "%s: \"retries\" must be an integer from 0 to 10", where);
    t->retries = retries ? retries->valueint : -1;
    if (timeout && (!cJSON_IsNumber(timeout) || !(timeout->valuedouble >= FG_MIN_POSITIVE) ||
                    timeout->valuedouble > 3600))
        return fg_err_set(err, "%s: \"timeout_s\" must be a number from %g to 3600", where,
                          FG_MIN_POSITIVE);
    t->timeout_s = timeout ? timeout->valuedouble : 0;
    return 0;
}

static int known(const char *const *keys, const char *k)
{
    for (int i = 0; keys[i]; i++)
        if (!strcmp(keys[i], k)) return 1;
    return 0;
}

/* A list of numbers in [lo, hi] (integers when `integer`); a single number
 * is a list of one. Returns the count, -1 on error. */
static int number_list(const cJSON *v, const char *where, const char *key, double lo, double hi,
                       int integer, double *out, int max, fg_err *err)
{
    if (!v) return fg_err_set(err, "%s: missing \"%s\"", where, key);
    int n = 0;
    const cJSON *x = cJSON_IsArray(v) ? v->child : v;
    if (cJSON_IsArray(v) && !x) return fg_err_set(err, "%s: \"%s\" is empty", where, key);
    for (; x; x = cJSON_IsArray(v) ? x->next : NULL) {
        if (!cJSON_IsNumber(x) || !(x->valuedouble >= lo && x->valuedouble <= hi) ||
            (integer && x->valuedouble != floor(x->valuedouble)))
            return fg_err_set(err, "%s: \"%s\" must hold %s from %g to %g", where, key,
                              integer ? "integers" : "numbers", lo, hi);
        if (n == max) return fg_err_set(err, "%s: \"%s\" has more than %d values", where, key, max);
        out[n++] = x->valuedouble;
    }
    return n;
}

static int scaled(int n, double scale, int floor_n)
{
    double v = ceil(n * scale - 1e-9);
    if (v > FG_MAX_REQUESTS) v = FG_MAX_REQUESTS;
    int m = (int)v;
    if (m < floor_n) m = floor_n < n ? floor_n : n;
    return m < 1 ? 1 : m;
}

static int add_cell(fg_scenario_plan *p, const fg_scenario_cell *tmpl, const char *sched,
                    fg_err *err)
{
    if (p->n_cells == FG_SCENARIO_MAX_CELLS)
        return fg_err_set(err, "scenarios: more than %d cells", FG_SCENARIO_MAX_CELLS);
    fg_scenario_cell *c = &p->cells[p->n_cells++];
    *c = *tmpl;
    snprintf(c->scheduler, sizeof c->scheduler, "%s", sched);
    char mb[32], rate[32] = "staged";
    fg_format_mb(c->input_mb, mb, sizeof mb);
    if (c->n_stages == 1) snprintf(rate, sizeof rate, "conc%d_rate%g", c->concurrency,
                                   c->stages[0].rate_rps);
    snprintf(c->id, sizeof c->id, "sc_%s_input%smb_%s_%s", c->scenario, mb, rate, sched);
    return 0;
}

/* One scenario object into cells. */
static int expand(fg_scenario_plan *p, const cJSON *s, int index, const fg_run_config *schedcfg,
                  fg_err *err)
{
    char where[96];
    snprintf(where, sizeof where, "scenarios[%d]", index);
    if (!cJSON_IsObject(s)) return fg_err_set(err, "%s: expected an object", where);
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(s, "name");
    fg_scenario_cell t;
    memset(&t, 0, sizeof t);
    if (!cJSON_IsString(name) || !name->valuestring[0] ||
        strlen(name->valuestring) >= sizeof t.scenario || strpbrk(name->valuestring, " /"))
        return fg_err_set(err, "%s: \"name\" must be 1..%zu characters without spaces or '/'",
                          where, sizeof t.scenario - 1);
    snprintf(t.scenario, sizeof t.scenario, "%s", name->valuestring);
    snprintf(where, sizeof where, "scenario %s", t.scenario);
    for (const cJSON *k = s->child; k; k = k->next)
        if (!known(scenario_keys, k->string))
            return fg_err_set(err, "%s: unknown key \"%s\"", where, k->string);
    double sizes[FG_MAX_CELLS_AXIS], conc[FG_MAX_CELLS_AXIS], rates[FG_MAX_CELLS_AXIS], v[1] = {0};
    int n_sizes = number_list(cJSON_GetObjectItemCaseSensitive(s, "input_mb"), where, "input_mb",
                              FG_MIN_POSITIVE, FG_MAX_INPUT_MB, 0, sizes, FG_MAX_CELLS_AXIS, err);
    if (n_sizes < 0) return -1;
    if (number_list(cJSON_GetObjectItemCaseSensitive(s, "bandwidth_mbit"), where,
                    "bandwidth_mbit", 0, FG_MAX_BANDWIDTH_MBIT, 0, v, 1, err) < 0)
        return -1;
    t.bandwidth_mbit = v[0];
    if (number_list(cJSON_GetObjectItemCaseSensitive(s, "latency_ms"), where, "latency_ms", 0,
                    FG_MAX_LATENCY_MS, 0, v, 1, err) < 0)
        return -1;
    t.latency_ms = v[0];
    const cJSON *inl = cJSON_GetObjectItemCaseSensitive(s, "inline");
    if (inl && !cJSON_IsBool(inl)) return fg_err_set(err, "%s: \"inline\" must be true or false", where);
    t.inline_data = cJSON_IsTrue(inl);
    if (read_faults(s, where, &t, err) != 0) return -1;
    const cJSON *stages = cJSON_GetObjectItemCaseSensitive(s, "stages");
    int n_conc = 0, n_rates = 0, requests = 0;
    if (stages) {
        if (cJSON_GetObjectItemCaseSensitive(s, "rate_rps") ||
            cJSON_GetObjectItemCaseSensitive(s, "concurrency") ||
            cJSON_GetObjectItemCaseSensitive(s, "requests"))
            return fg_err_set(err, "%s: \"stages\" replaces rate_rps, concurrency and requests; "
                              "give one or the other", where);
        if ((t.n_stages = fg_stages_parse(stages, where, t.stages, FG_MAX_STAGES, err)) < 0)
            return -1;
        for (int i = 0; i < t.n_stages; i++) {
            if (t.stages[i].concurrency < 1)
                return fg_err_set(err, "%s: stage %d: \"concurrency\" is required", where, i + 1);
            if (t.stages[i].concurrency > t.concurrency) t.concurrency = t.stages[i].concurrency;
            t.stages[i].requests = scaled(t.stages[i].requests, p->request_scale, 2);
        }
    } else {
        if ((n_conc = number_list(cJSON_GetObjectItemCaseSensitive(s, "concurrency"), where,
                                  "concurrency", 1, FG_MAX_CONCURRENCY, 1, conc,
                                  FG_MAX_CELLS_AXIS, err)) < 0 ||
            (n_rates = number_list(cJSON_GetObjectItemCaseSensitive(s, "rate_rps"), where,
                                   "rate_rps", FG_MIN_POSITIVE, 1e6, 0, rates, FG_MAX_CELLS_AXIS,
                                   err)) < 0 ||
            number_list(cJSON_GetObjectItemCaseSensitive(s, "requests"), where, "requests", 1,
                        FG_MAX_REQUESTS, 1, v, 1, err) < 0)
            return -1;
        requests = scaled((int)v[0], p->request_scale, p->min_requests);
    }
    for (int z = 0; z < n_sizes; z++) {
        t.input_mb = sizes[z];
        for (int k = 0; k < (stages ? 1 : n_conc); k++)
            for (int q = 0; q < (stages ? 1 : n_rates); q++) {
                if (!stages) {
                    t.concurrency = (int)conc[k];
                    t.stages[0] = (fg_stage){requests, rates[q], t.concurrency};
                    t.n_stages = 1;
                }
                for (int j = 0; j < schedcfg->n_schedulers; j++)
                    if (add_cell(p, &t, schedcfg->schedulers[j], err) != 0) return -1;
            }
    }
    return 0;
}

static int top_settings(fg_scenario_plan *p, const cJSON *root, const char *path, fg_err *err)
{
    double v[1] = {0};
    const cJSON *x;
    p->replicates = 3;
    p->min_requests = 5;
    p->warmup = 2;
    p->warmup_s = 0;
    p->arrival = FG_ARRIVAL_POISSON;
    p->seed = FG_ARRIVAL_DEFAULT_SEED;
    if ((x = cJSON_GetObjectItemCaseSensitive(root, "replicates"))) {
        if (number_list(x, path, "replicates", 1, 1000, 1, v, 1, err) < 0) return -1;
        p->replicates = (int)v[0];
    }
    if ((x = cJSON_GetObjectItemCaseSensitive(root, "min_requests"))) {
        if (number_list(x, path, "min_requests", 1, FG_MAX_REQUESTS, 1, v, 1, err) < 0) return -1;
        p->min_requests = (int)v[0];
    }
    if ((x = cJSON_GetObjectItemCaseSensitive(root, "warmup"))) {
        if (number_list(x, path, "warmup", 0, FG_MAX_REQUESTS, 1, v, 1, err) < 0) return -1;
        p->warmup = (int)v[0];
    }
    if ((x = cJSON_GetObjectItemCaseSensitive(root, "warmup_s"))) {
        if (number_list(x, path, "warmup_s", 0, FG_MAX_WARMUP_S, 0, v, 1, err) < 0) return -1;
        p->warmup_s = v[0];
    }
    if ((x = cJSON_GetObjectItemCaseSensitive(root, "seed"))) {
        if (number_list(x, path, "seed", 0, FG_MAX_SEED, 1, v, 1, err) < 0) return -1;
        p->seed = (uint64_t)v[0];
    }
    if ((x = cJSON_GetObjectItemCaseSensitive(root, "arrival")) &&
        (!cJSON_IsString(x) || fg_arrival_kind_parse(x->valuestring, &p->arrival) != 0))
        return fg_err_set(err, "%s: \"arrival\" must be \"constant\" or \"poisson\"", path);
    return 0;
}

/* The "ci" block: the scaled-down run's settings over the file's. */
static int ci_settings(fg_scenario_plan *p, const cJSON *root, const char *path,
                       const cJSON **schedulers, fg_err *err)
{
    static const char *const keys[] = {"_comment", "request_scale", "min_requests", "warmup_s",
                                       "replicates", "schedulers", NULL};
    const cJSON *ci = cJSON_GetObjectItemCaseSensitive(root, "ci");
    char where[600];
    snprintf(where, sizeof where, "%.500s: ci", path);
    if (!cJSON_IsObject(ci)) return fg_err_set(err, "%s: no \"ci\" object", path);
    for (const cJSON *k = ci->child; k; k = k->next)
        if (!known(keys, k->string)) return fg_err_set(err, "%s: unknown key \"%s\"", where, k->string);
    double v[1] = {0};
    const cJSON *x;
    if ((x = cJSON_GetObjectItemCaseSensitive(ci, "request_scale"))) {
        if (number_list(x, where, "request_scale", FG_MIN_POSITIVE, 1, 0, v, 1, err) < 0) return -1;
        p->request_scale = v[0];
    }
    if ((x = cJSON_GetObjectItemCaseSensitive(ci, "min_requests"))) {
        if (number_list(x, where, "min_requests", 2, FG_MAX_REQUESTS, 1, v, 1, err) < 0) return -1;
        p->min_requests = (int)v[0];
    }
    if ((x = cJSON_GetObjectItemCaseSensitive(ci, "warmup_s"))) {
        if (number_list(x, where, "warmup_s", 0, FG_MAX_WARMUP_S, 0, v, 1, err) < 0) return -1;
        p->warmup_s = v[0];
    }
    if ((x = cJSON_GetObjectItemCaseSensitive(ci, "replicates"))) {
        if (number_list(x, where, "replicates", 1, 1000, 1, v, 1, err) < 0) return -1;
        p->replicates = (int)v[0];
    }
    if ((x = cJSON_GetObjectItemCaseSensitive(ci, "schedulers"))) *schedulers = x;
    return 0;
}

int fg_scenarios_load(const char *path, const char *only, const fg_run_config *cfg,
                      const char *schedulers, int replicates, int ci, fg_scenario_plan *plan,
                      fg_err *err)
{
    memset(plan, 0, sizeof *plan);
    char def[1024];
    if (!path || !*path) {
        snprintf(def, sizeof def, "%s/scenarios.json", fg_data_dir());
        path = def;
    }
    cJSON *root = fg_json_load_object(path, 1 << 20, err);
    if (!root) return -1;
    int rc = -1;
    fg_run_config sc = *cfg;   /* only its scheduler list is used */
    plan->request_scale = cfg->request_scale > 0 ? cfg->request_scale : 1;
    plan->inline_data = cfg->inline_data;
    for (const cJSON *k = root->child; k; k = k->next)
        if (!known(top_keys, k->string)) {
            fg_err_set(err, "%s: unknown key \"%s\"", path, k->string);
            goto out;
        }
    const cJSON *list = cJSON_GetObjectItemCaseSensitive(root, "schedulers");
    if (top_settings(plan, root, path, err) != 0 ||
        (ci && ci_settings(plan, root, path, &list, err) != 0))
        goto out;
    const char *env_rep = getenv("FLOWGATE_REPLICATES");
    if (replicates <= 0 && env_rep && *env_rep &&
        fg_parse_int("FLOWGATE_REPLICATES", env_rep, 1, 1000, &replicates, err) != 0)
        goto out;
    if (replicates > 0) plan->replicates = replicates;
    const char *env_sched = getenv("FLOWGATE_SCHEDULERS");
    if (!(schedulers && *schedulers) && env_sched && *env_sched) {
        /* cfg already holds $FLOWGATE_SCHEDULERS, checked */
    } else if (schedulers && *schedulers) {
        if (fg_config_set_schedulers(&sc, "schedulers", schedulers, err) != 0) goto out;
    } else if (list) {
        char joined[512] = "";
        const cJSON *s;
        cJSON_ArrayForEach(s, list) {
            if (!cJSON_IsString(s)) {
                fg_err_set(err, "%s: \"schedulers\" must be scheduler names", path);
                goto out;
            }
            size_t len = strlen(joined);
            snprintf(joined + len, sizeof joined - len, "%s%s", len ? "," : "", s->valuestring);
        }
        char what[600];
        snprintf(what, sizeof what, "%.500s: schedulers", path);
        if (fg_config_set_schedulers(&sc, what, joined, err) != 0) goto out;
    }
    const cJSON *scenarios = cJSON_GetObjectItemCaseSensitive(root, "scenarios");
    if (!cJSON_IsArray(scenarios) || !scenarios->child) {
        fg_err_set(err, "%s: \"scenarios\" must be a non-empty array", path);
        goto out;
    }
    plan->cells = calloc(FG_SCENARIO_MAX_CELLS, sizeof *plan->cells);
    if (!plan->cells) {
        fg_err_set(err, "out of memory");
        goto out;
    }
    int i = 0, matched = 0;
    char names[600] = "";
    const cJSON *s;
    cJSON_ArrayForEach(s, scenarios) {
        const cJSON *name = cJSON_GetObjectItemCaseSensitive(s, "name");
        const char *nm = cJSON_IsString(name) ? name->valuestring : "";
        size_t len = strlen(names);
        snprintf(names + len, sizeof names - len, "%s%s", len ? ", " : "", nm);
        for (const cJSON *o = scenarios->child; o != s; o = o->next) {
            const cJSON *on = cJSON_GetObjectItemCaseSensitive(o, "name");
            if (cJSON_IsString(on) && !strcmp(on->valuestring, nm)) {
                fg_err_set(err, "%s: scenario %s is given twice", path, nm);
                goto out;
            }
        }
        /* Every scenario is checked, the one asked for or not. */
        int before = plan->n_cells;
        fg_err why;
        if (expand(plan, s, i++, &sc, &why) != 0) {
            fg_err_set(err, "%s: %s", path, why.msg);
            goto out;
        }
        if (only && *only && strcmp(only, nm)) plan->n_cells = before;
        else matched++;
    }
    if (!matched) {
        fg_err_set(err, "unknown scenario '%s' (%s has: %s)", only, path, names);
        goto out;
    }
    rc = 0;
out:
    cJSON_Delete(root);
    if (rc != 0) fg_scenarios_free(plan);
    return rc;
}

void fg_scenarios_free(fg_scenario_plan *plan)
{
    free(plan->cells);
    plan->cells = NULL;
    plan->n_cells = 0;
}

cJSON *fg_scenario_identity(const fg_scenario_plan *p, const fg_scenario_cell *c)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "name", c->scenario);
    cJSON_AddStringToObject(o, "cell", c->id);
    cJSON_AddNumberToObject(o, "input_mb", c->input_mb);
    cJSON_AddNumberToObject(o, "concurrency", c->concurrency);
    cJSON_AddItemToObject(o, "stages", fg_stages_json(c->stages, c->n_stages));
    cJSON_AddStringToObject(o, "arrival", fg_arrival_kind_name(p->arrival));
    if (p->arrival == FG_ARRIVAL_POISSON) cJSON_AddNumberToObject(o, "seed", (double)p->seed);
    cJSON_AddNumberToObject(o, "bandwidth_mbit", c->bandwidth_mbit);
    if (c->inline_data) cJSON_AddTrueToObject(o, "inline");
    cJSON_AddNumberToObject(o, "latency_ms", c->latency_ms);
    if (c->faults[0]) cJSON_AddItemToObject(o, "faults", cJSON_Parse(c->faults));
    if (c->retries >= 0) cJSON_AddNumberToObject(o, "retries", c->retries);
    if (c->timeout_s > 0) cJSON_AddNumberToObject(o, "timeout_s", c->timeout_s);
    cJSON_AddStringToObject(o, "scheduler", c->scheduler);
    cJSON_AddNumberToObject(o, "replicates", p->replicates);
    return o;
}

static const char *const summary_metrics[] = {"p50_ms", "p90_ms", "p95_ms", "p99_ms", "mean_ms",
                                              "throughput_rps", "success_rate", NULL};

cJSON *fg_scenario_summary(const cJSON *const *entries, int n)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "replicates", n);
    cJSON *metrics = cJSON_AddObjectToObject(o, "metrics");
    for (int m = 0; summary_metrics[m]; m++) {
        double sum = 0, x[1000];
        int k = 0;
        for (int i = 0; i < n && i < 1000; i++)
            if (fg_results_metric(entries[i], summary_metrics[m], &x[k]) == 0 && isfinite(x[k]))
                sum += x[k++];
        if (k == 0 || k < n) continue;   /* a replicate lacks it: no summary of part */
        double mean = sum / k;
        cJSON *s = cJSON_AddObjectToObject(metrics, summary_metrics[m]);
        cJSON_AddNumberToObject(s, "n", k);
        cJSON_AddNumberToObject(s, "mean", mean);
        if (k < 2) continue;
        double ss = 0;
        for (int i = 0; i < k; i++) ss += (x[i] - mean) * (x[i] - mean);
        double sd = sqrt(ss / (k - 1));
        double half = fg_t_quantile(0.975, k - 1) * sd / sqrt(k);
        cJSON_AddNumberToObject(s, "sd", sd);
        /* Cut at the metric's range: from 3 replicates a t interval of a
         * latency can reach below 0 ms, which no replicate could measure. */
        double hi = mean + half;
        if (!strcmp(summary_metrics[m], "success_rate") && hi > 1) hi = 1;
        cJSON *ci = cJSON_AddArrayToObject(s, "ci95");
        cJSON_AddItemToArray(ci, cJSON_CreateNumber(mean - half > 0 ? mean - half : 0));
        cJSON_AddItemToArray(ci, cJSON_CreateNumber(hi));
    }
    return o;
}

/* The prior run's complete replicates of this identity, or 0. */
static int find_prior(const cJSON *prior, const cJSON *identity, int replicates,
                      const cJSON **found)
{
    int n = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, fg_results_experiments(prior)) {
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(e, "scenario");
        const cJSON *rep = cJSON_GetObjectItemCaseSensitive(e, "repeat");
        if (!id || !cJSON_Compare(id, identity, 1) || !cJSON_IsNumber(rep)) continue;
        if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(e, "interrupted"))) return 0;
        int k = rep->valueint;
        if (k < 0 || k >= replicates || found[k]) continue;
        found[k] = e;
        n++;
    }
    return n == replicates;
}

static int save_summary(fg_runner *r, const fg_scenario_cell *c, cJSON *identity, int first,
                        int count, fg_err *err)
{
    cJSON *exps = fg_runner_experiments(r);
    const cJSON *entries[1000];
    int n = 0;
    for (int i = first; i < first + count && n < 1000; i++) entries[n++] = cJSON_GetArrayItem(exps, i);
    cJSON *summary = fg_scenario_summary(entries, n);
    cJSON_AddStringToObject(summary, "experiment_id", c->id);
    cJSON_AddItemToObject(summary, "scenario", identity);
    /* The summaries of the cells so far, this one replacing an older one. */
    cJSON *cells = cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(
                                       (cJSON *)fg_runner_results(r), "scenario_cells"), 1);
    if (!cells) cells = cJSON_CreateArray();
    int i = 0;
    for (cJSON *x = cells->child; x; x = x->next, i++) {
        const cJSON *xid = cJSON_GetObjectItemCaseSensitive(x, "experiment_id");
        if (cJSON_IsString(xid) && !strcmp(xid->valuestring, c->id)) {
            cJSON_DeleteItemFromArray(cells, i);
            break;
        }
    }
    cJSON_AddItemToArray(cells, summary);
    return fg_runner_save(r, "scenario_cells", cells, err);
}

/* Each replicate with the faults set afresh (the server's counts restart),
 * then the counts read back and held against the entry's (faults_check.h).
 * No warm-up: every invocation the servers see is one the entry counts. */
static int run_with_faults(fg_runner *r, fg_experiment *x, int replicates, const char *faults,
                           fg_err *err)
{
    const fg_cluster *cl = fg_runner_cluster(r);
    x->warmup = 0;
    int rc = 0;
    for (int k = 0; k < replicates && rc == 0 && !fg_stop_requested(); k++) {
        const cJSON *entry = NULL;
        fg_runner_set_repeat(r, k);
        if (fg_cluster_set_faults(cl, faults, err) != 0 ||
            fg_runner_experiment(r, x, 1, &entry, err) != 0) {
            rc = -1;
            break;
        }
        cJSON *seen = fg_cluster_faults_seen(cl, err);
        if (!seen) {
            rc = -1;
            break;
        }
        cJSON *e = (cJSON *)entry;
        char why[300];
        if (!cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(e, "interrupted")) &&
            fg_faults_account(e, seen, why, sizeof why) != 0)
            cJSON_AddStringToObject(e, "fault_accounting_error", why);
        cJSON_AddItemToObject(e, "faults", seen);
    }
    fg_runner_set_repeat(r, 0);
    fg_err ignored;
    if (fg_cluster_set_faults(cl, "{}", rc ? &ignored : err) != 0 && rc == 0) rc = -1;
    return rc;
}

int fg_scenario_run_cell(fg_runner *r, const fg_scenario_plan *p, const fg_scenario_cell *c,
                         const cJSON *prior, int override, int *resumed, int *first, int *count,
                         fg_err *err)
{
    *resumed = 0;
    cJSON *exps = fg_runner_experiments(r);
    *first = cJSON_GetArraySize(exps);
    *count = 0;
    cJSON *identity = fg_scenario_identity(p, c);
    if (!identity) return fg_err_set(err, "out of memory");
    const cJSON *found[1000] = {0};
    if (!override && prior && p->replicates <= 1000 &&
        find_prior(prior, identity, p->replicates, found)) {
        for (int k = 0; k < p->replicates; k++)
            cJSON_AddItemToArray(exps, cJSON_Duplicate(found[k], 1));
        *resumed = 1;
    } else {
        if (fg_runner_set_network(r, c->bandwidth_mbit, c->latency_ms, err) != 0) goto fail;
        fg_runner_set_inline(r, p->inline_data || c->inline_data);
        fg_experiment x;
        if (fg_runner_experiment_init(r, &x, c->input_mb, c->concurrency, c->scheduler, err) != 0)
            goto fail;
        snprintf(x.id, sizeof x.id, "%s", c->id);
        x.rate_rps = x.duration_s = 0;
        x.max_inflight = 0;   /* each stage's own cap */
        memcpy(x.stages, c->stages, sizeof x.stages);
        x.n_stages = c->n_stages;
        x.arrival = p->arrival;
        x.seed = p->seed;
        x.warmup = p->warmup;
        x.warmup_s = p->warmup_s;
        x.queue_at_cap = 1;
        if (c->retries >= 0) x.retries = c->retries;
        if (c->timeout_s > 0) x.timeout_s = c->timeout_s;
        if (c->faults[0] ? run_with_faults(r, &x, p->replicates, c->faults, err) != 0
                         : fg_runner_experiment(r, &x, p->replicates, NULL, err) != 0)
            goto fail;
        for (int i = *first; i < cJSON_GetArraySize(exps); i++)
            cJSON_AddItemToObject(cJSON_GetArrayItem(exps, i), "scenario",
                                  cJSON_Duplicate(identity, 1));
    }
    *count = cJSON_GetArraySize(exps) - *first;
    return save_summary(r, c, identity, *first, *count, err);
fail:
    cJSON_Delete(identity);
    return -1;
}
