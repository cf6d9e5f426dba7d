/* metrics.c — collection of one experiment's measurements and their
 * rendering as the results entry (schema flowgate-results/1).
 *
 * Histograms hold latencies (log-linear, ≤ 1 % error) and give every
 * percentile; they are written whole too ("*_hist", hist.h) so segment
 * files merge exactly. Raw end-to-end samples are kept for statistical
 * comparison between runs, as a uniform sample of at most
 * FG_MAX_LATENCY_SAMPLES (reservoir.h) with the count recorded beside it:
 * a long run's memory and file no longer grow with every request. Only
 * measured instances are recorded here (warm-up ones only in "warmup",
 * drain ones nowhere but their count). Nothing is invented: an empty
 * statistic is {"count":0}; a percentile the sample count cannot resolve
 * (p99 of 30 samples is just the maximum) is left out, so readers print
 * n/a; a rate without a measured window is absent. */
#include "metrics.h"

#include <assert.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flowgate/limits.h"
#include "flowgate/log.h"


#define MAX_ERRORS_KEPT 20

int fg_metrics_init(fg_metrics *m, const fg_workflow *wf, const fg_cluster *c,
                    uint64_t sample_seed, fg_err *err)
{
    memset(m, 0, sizeof *m);
    m->wf = wf;
    fg_reservoir_init(&m->samples, FG_MAX_LATENCY_SAMPLES, sample_seed);
    m->t0_unix = NAN;
    m->window_start = m->window_end = NAN;
    m->t0 = NAN;
    m->e2e = fg_hist_new();
    m->warmup_e2e = fg_hist_new();
    m->errors = cJSON_CreateArray();
    m->branches = calloc(wf->n_edges > 0 ? (size_t)wf->n_edges : 1, sizeof *m->branches);
    int ok = m->e2e && m->warmup_e2e && m->errors && m->branches && fg_pace_init(&m->pace) == 0;
    for (int i = 0; ok && i < wf->n_steps && i < FG_WF_MAX_STEPS; i++) {
        fg_fn_metrics *f = &m->fn[i];
        f->latency = fg_hist_new();
        f->exec = fg_hist_new();
        f->queue = fg_hist_new();
        f->transfer = fg_hist_new();
        ok = f->latency && f->exec && f->queue && f->transfer;
    }
    if (!ok) {
        fg_metrics_free(m);
        return fg_err_set(err, "out of memory for the experiment's metrics");
    }
    if (c->mode == FG_CLUSTER_NODES) {
        m->n_nodes = c->n_nodes;
        for (int i = 0; i < c->n_nodes; i++)
            snprintf(m->node_names[i], sizeof m->node_names[i], "%s", c->nodes[i].name);
    } else {
        m->n_nodes = 1;
        snprintf(m->node_names[0], sizeof m->node_names[0], "functions");
    }
    return 0;
}

void fg_metrics_free(fg_metrics *m)
{
    fg_hist_free(m->e2e);
    fg_hist_free(m->warmup_e2e);
    for (int i = 0; i < FG_WF_MAX_STEPS; i++) {
        fg_hist_free(m->fn[i].latency);
        fg_hist_free(m->fn[i].exec);
        fg_hist_free(m->fn[i].queue);
        fg_hist_free(m->fn[i].transfer);
    }
    fg_reservoir_free(&m->samples);
    fg_pace_free(&m->pace);
    free(m->branches);
    cJSON_Delete(m->errors);
    memset(m, 0, sizeof *m);
}

static void record_number(fg_hist *h, double v)
{
    if (v >= 0) fg_hist_record(h, v);   /* NAN (not reported) is not >= 0 */
}

void fg_metrics_invocation(fg_metrics *m, int step, int node, int ok, fg_fail_class cls,
                           double latency_ms, const fg_server_report *report)
{
    if (step < 0 || step >= m->wf->n_steps) return;
    fg_fn_metrics *f = &m->fn[step];
    f->invocations++;
    if (node >= 0 && node < m->n_nodes) m->node_invocations[node]++;
    if (!ok) {
        f->errors[cls]++;
        return;
    }
    fg_hist_record(f->latency, latency_ms);
    if (!report) return;
    record_number(f->exec, report->exec_ms);
    record_number(f->queue, report->queue_ms);
    record_number(f->transfer, report->transfer_ms);
    if (!isnan(report->transfer_bytes)) {
        f->transfer_bytes += report->transfer_bytes;
        f->saw_transfer_bytes = 1;
    }
    /* A server that never says is not a server without cold starts. */
    if (report->cold_start >= 0) {
        f->cold_starts += report->cold_start;
        f->saw_cold_start = 1;
    }
}

void fg_metrics_retry(fg_metrics *m, int step)
{
    if (step >= 0 && step < m->wf->n_steps) m->fn[step].retries_429_503++;
}

void fg_metrics_error(fg_metrics *m, fg_fail_class cls, const char *function, const char *msg)
{
    if (cJSON_GetArraySize(m->errors) >= MAX_ERRORS_KEPT) return;
    cJSON *e = cJSON_CreateObject();
    cJSON_AddStringToObject(e, "class", fg_fail_class_names[cls]);
    cJSON_AddStringToObject(e, "function", function);
    cJSON_AddStringToObject(e, "message", msg);
    cJSON_AddItemToArray(m->errors, e);
}

void fg_metrics_sent(fg_metrics *m, int warmup) { (warmup ? &m->warmup : &m->measured)->sent++; }

void fg_metrics_dropped(fg_metrics *m, int warmup)
{
    (warmup ? &m->warmup : &m->measured)->dropped++;
}

void fg_metrics_interrupted(fg_metrics *m, int warmup)
{
    (warmup ? &m->warmup : &m->measured)->interrupted++;
}

void fg_metrics_workflow(fg_metrics *m, int warmup, int ok, fg_fail_class cls,
                         double latency_ms, double end_ms)
{
    fg_counts *c = warmup ? &m->warmup : &m->measured;
    if (ok) c->ok++;
    else if (cls == FG_FAIL_TIMEOUT) c->timed_out++;
    else c->failed++;
    if (warmup) {
        if (ok) fg_hist_record(m->warmup_e2e, latency_ms);
        return;
    }
    if (isnan(m->window_end) || end_ms > m->window_end) m->window_end = end_ms;
    if (!ok) return;
    fg_hist_record(m->e2e, latency_ms);
    fg_reservoir_add(&m->samples, latency_ms);   /* out of memory: the histogram still has it */
}

static double round3(double v) { return round(v * 1000.0) / 1000.0; }

static int counts_check(const fg_counts *c, const char *phase, char *why, size_t why_size)
{
    if (c->sent == c->ok + c->failed + c->timed_out + c->interrupted) return 0;
    snprintf(why, why_size, "%s: sent %d != ok %d + failed %d + timed_out %d + interrupted %d",
             phase, c->sent, c->ok, c->failed, c->timed_out, c->interrupted);
    return -1;
}

int fg_metrics_check(const fg_metrics *m, char *why, size_t why_size)
{
    const fg_counts *c = &m->measured;
    if (counts_check(c, "requests", why, why_size) || counts_check(&m->warmup, "warmup", why, why_size))
        return -1;
    if (m->scheduled != (long long)c->sent + c->dropped + m->unsent) {
        snprintf(why, why_size, "requests: scheduled %lld != sent %d + dropped %d + unsent %lld",
                 m->scheduled, c->sent, c->dropped, m->unsent);
        return -1;
    }
    if (fg_hist_count(m->e2e) != (uint64_t)c->ok) {
        snprintf(why, why_size, "latency_ms: %llu samples for %d ok requests",
                 (unsigned long long)fg_hist_count(m->e2e), c->ok);
        return -1;
    }
    return 0;
}

static cJSON *counts_json(const fg_counts *c)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "sent", c->sent);
    cJSON_AddNumberToObject(o, "ok", c->ok);
    cJSON_AddNumberToObject(o, "failed", c->failed);
    cJSON_AddNumberToObject(o, "timed_out", c->timed_out);
    cJSON_AddNumberToObject(o, "interrupted", c->interrupted);
    cJSON_AddNumberToObject(o, "dropped", c->dropped);
    return o;
}

static cJSON *functions_json(const fg_metrics *m)
{
    cJSON *fns = cJSON_CreateObject();
    for (int i = 0; i < m->wf->n_steps; i++) {
        const fg_fn_metrics *f = &m->fn[i];
        cJSON *o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "invocations", (double)f->invocations);
        cJSON *errs = cJSON_AddObjectToObject(o, "errors");
        for (int k = 0; k < FG_FAIL_CLASSES; k++)
            cJSON_AddNumberToObject(errs, fg_fail_class_names[k], (double)f->errors[k]);
        cJSON_AddItemToObject(o, "latency_ms", fg_hist_json(f->latency));
        cJSON_AddItemToObject(o, "exec_ms", fg_hist_json(f->exec));
        cJSON_AddItemToObject(o, "queue_ms", fg_hist_json(f->queue));
        cJSON_AddItemToObject(o, "transfer_ms", fg_hist_json(f->transfer));
        /* Histograms whole, for exact merges; an empty one is left out
         * (a merge reads absent as empty), which keeps files small. */
        const struct { const char *key; const fg_hist *h; } hists[] = {
            {"latency_hist", f->latency}, {"exec_hist", f->exec}, {"queue_hist", f->queue},
            {"transfer_hist", f->transfer}};
        for (size_t k = 0; k < sizeof hists / sizeof hists[0]; k++)
            if (fg_hist_count(hists[k].h) || fg_hist_out_of_range(hists[k].h))
                cJSON_AddItemToObject(o, hists[k].key, fg_hist_to_json(hists[k].h));
        if (f->saw_transfer_bytes) cJSON_AddNumberToObject(o, "transfer_bytes", f->transfer_bytes);
        if (f->saw_cold_start) cJSON_AddNumberToObject(o, "cold_starts", (double)f->cold_starts);
        /* resends after a 429/503 with Retry-After; their waits are in latency_ms */
        cJSON_AddNumberToObject(o, "retries_429_503", (double)f->retries_429_503);
        cJSON_AddItemToObject(fns, m->wf->steps[i].id, o);
    }
    return fns;
}

cJSON *fg_metrics_entry(const fg_metrics *m, const fg_experiment *x, const fg_payload *p,
                        const fg_server_usage *server, const char *timeline_path)
{
    cJSON *e = cJSON_CreateObject();
    if (!e) return NULL;
    cJSON_AddStringToObject(e, "experiment_id", x->id);
    cJSON_AddStringToObject(e, "category", x->category);
    cJSON_AddNumberToObject(e, "input_mb", x->input_mb);
    cJSON_AddNumberToObject(e, "input_bytes", (double)p->input_len);
    cJSON_AddStringToObject(e, "payload_kind", fg_payload_kind_name(p->kind));
    const char *variant = fg_variant_name(x->variant);
    cJSON_AddStringToObject(e, "variant", variant ? variant : "unknown");
    cJSON_AddNumberToObject(e, "concurrency", x->concurrency);
    cJSON_AddStringToObject(e, "scheduler", x->scheduler);
    int open = x->rate_rps > 0 || x->n_stages > 0;
    cJSON_AddStringToObject(e, "mode", open ? "open" : "closed");
    if (open && x->n_stages == 0) {
        cJSON_AddNumberToObject(e, "rate_rps", x->rate_rps);
        cJSON_AddNumberToObject(e, "duration_s", x->duration_s);
    }
    if (open) {
        /* How the slots came due: reproducible from the kind and the seed. */
        cJSON *arr = cJSON_AddObjectToObject(e, "arrival");
        cJSON_AddStringToObject(arr, "process", fg_arrival_kind_name(x->arrival));
        if (x->arrival == FG_ARRIVAL_POISSON) cJSON_AddNumberToObject(arr, "seed", (double)x->seed);
        if (x->n_stages) cJSON_AddItemToObject(arr, "stages", fg_stages_json(x->stages, x->n_stages));
        cJSON_AddStringToObject(arr, "at_cap", x->queue_at_cap ? "queue" : "drop");
    }
    cJSON_AddNumberToObject(e, "repeat", x->repeat);
    if (x->segment_count > 0) {   /* this driver's share of the schedule (arrival.h) */
        cJSON *seg = cJSON_AddObjectToObject(e, "segment");
        cJSON_AddNumberToObject(seg, "index", x->segment_index);
        cJSON_AddNumberToObject(seg, "count", x->segment_count);
    }
    /* Identity: what else shapes the workload besides the id's size,
     * concurrency and scheduler. */
    cJSON_AddStringToObject(e, "workflow", m->wf->name ? m->wf->name : "");
    cJSON_AddBoolToObject(e, "inline_data", x->inline_data != 0);
    if (p->sha256[0]) cJSON_AddStringToObject(e, "payload_sha256", p->sha256);

    cJSON *req = counts_json(&m->measured);
    cJSON_AddNumberToObject(req, "scheduled", (double)m->scheduled);
    cJSON_AddNumberToObject(req, "unsent", (double)m->unsent);
    cJSON_AddItemToObject(e, "requests", req);
    /* The identities every report relies on. A violation is a bug in the
     * engine: loud where assertions are on (debug builds), recorded in the
     * entry everywhere, never silently passed on as data. */
    char why[256];
    if (fg_metrics_check(m, why, sizeof why) != 0) {
        fg_log(FG_LOG_ERROR, "%s: accounting identity violated: %s", x->id, why);
        assert(!"accounting identity violated");
        cJSON_AddStringToObject(e, "accounting_error", why);
    }
    cJSON_AddNumberToObject(e, "drain", m->drain);
    /* auto may fall back to a send per request (no io_uring): said, as it
     * changes the driver's cost on a busy machine */
    cJSON_AddStringToObject(e, "sends", m->sends ? m->sends : "direct");
    uint64_t cold = 0;
    int saw_cold = 0;
    for (int i = 0; i < m->wf->n_steps; i++) {
        cold += m->fn[i].cold_starts;
        saw_cold |= m->fn[i].saw_cold_start;
    }
    if (saw_cold) cJSON_AddNumberToObject(e, "cold_starts", (double)cold);
    cJSON *warm = counts_json(&m->warmup);
    cJSON_AddNumberToObject(warm, "cold_starts", (double)m->warmup_cold_starts);
    if (m->warmup_stop_reason) {
        cJSON_AddStringToObject(warm, "stop_reason", m->warmup_stop_reason);
        cJSON_AddNumberToObject(warm, "duration_s", round3(m->warmup_duration_s));
    }
    cJSON_AddItemToObject(warm, "latency_ms", fg_hist_json(m->warmup_e2e));
    cJSON_AddItemToObject(warm, "latency_hist", fg_hist_to_json(m->warmup_e2e));
    cJSON_AddItemToObject(e, "warmup", warm);
    if (m->stopped || m->measured.interrupted || m->warmup.interrupted)
        cJSON_AddTrueToObject(e, "interrupted");

    /* Over the requests that got an answer (or gave up): an interrupted one
     * says nothing about the system. */
    const fg_counts *c = &m->measured;
    int completed = c->ok + c->failed + c->timed_out;
    if (completed > 0) cJSON_AddNumberToObject(e, "success_rate", (double)c->ok / completed);
    else cJSON_AddNullToObject(e, "success_rate");
    /* The steady-state window: first measured start (closed loop) or due
     * time (open loop) to the last measured completion. */
    if (isfinite(m->window_start) && isfinite(m->window_end) && isfinite(m->t0) &&
        m->window_end >= m->window_start) {
        cJSON *w = cJSON_AddObjectToObject(e, "window");
        cJSON_AddNumberToObject(w, "start_s", round3((m->window_start - m->t0) / 1000.0));
        cJSON_AddNumberToObject(w, "end_s", round3((m->window_end - m->t0) / 1000.0));
        /* The same on the wall clock, so the windows of drivers that ran
         * apart can be joined (flowgate merge). */
        if (isfinite(m->t0_unix)) {
            cJSON_AddNumberToObject(w, "start_unix_ms", round3(m->t0_unix + m->window_start - m->t0));
            cJSON_AddNumberToObject(w, "end_unix_ms", round3(m->t0_unix + m->window_end - m->t0));
        }
        double wall_s = (m->window_end - m->window_start) / 1000.0;
        if (wall_s > 0) {
            cJSON_AddNumberToObject(e, "wall_s", round3(wall_s));
            /* Nothing completed: no rate was measured, which is not 0. */
            if (c->ok > 0) cJSON_AddNumberToObject(e, "throughput_rps", c->ok / wall_s);
        }
    }
    cJSON_AddItemToObject(e, "latency_ms", fg_hist_json(m->e2e));
    cJSON_AddItemToObject(e, "latency_hist", fg_hist_to_json(m->e2e));
    if (open) {   /* pace.h: did the driver keep to its schedule? */
        cJSON *pace = fg_pace_json(&m->pace, x->queue_at_cap, fg_hist_percentile(m->e2e, 50));
        if (pace) cJSON_AddItemToObject(e, "schedule", pace);
    }
    cJSON *samples = cJSON_AddArrayToObject(e, "latency_samples_ms");
    for (size_t i = 0; i < m->samples.n; i++)
        cJSON_AddItemToArray(samples, cJSON_CreateNumber(round3(m->samples.v[i])));
    /* The array is a uniform sample of this many. */
    cJSON_AddNumberToObject(e, "latency_samples_total", (double)m->samples.total);

    cJSON_AddItemToObject(e, "functions", functions_json(m));
    cJSON *bottleneck = fg_attr_json(&m->attr);
    if (bottleneck) cJSON_AddItemToObject(e, "bottleneck", bottleneck);
    cJSON *branches = cJSON_AddObjectToObject(e, "branches");
    for (int i = 0; i < m->wf->n_edges; i++) {
        const fg_wf_edge *ed = &m->wf->edges[i];
        if (ed->type != FG_EDGE_SWITCH) continue;
        cJSON *b = cJSON_AddObjectToObject(branches, ed->cond_text);
        cJSON_AddNumberToObject(b, "then", m->branches[i][1]);
        cJSON_AddNumberToObject(b, "else", m->branches[i][0]);
    }
    cJSON *nodes = cJSON_AddObjectToObject(e, "nodes");
    for (int i = 0; i < m->n_nodes; i++) {
        cJSON *n = cJSON_AddObjectToObject(nodes, m->node_names[i]);
        cJSON_AddNumberToObject(n, "invocations", (double)m->node_invocations[i]);
    }
    if (server && server->known) {
        cJSON *s = cJSON_AddObjectToObject(e, "server");
        cJSON_AddNumberToObject(s, "cpu_s", round3(server->cpu_s));
        cJSON_AddNumberToObject(s, "peak_rss_kb", (double)server->peak_rss_kb);
    } else {
        cJSON_AddNullToObject(e, "server");
    }
    cJSON_AddItemToObject(e, "errors", cJSON_Duplicate(m->errors, 1));
    if (timeline_path && *timeline_path) cJSON_AddStringToObject(e, "timeline", timeline_path);
    return e;
}
