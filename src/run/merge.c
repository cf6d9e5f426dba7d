/* merge.c — joining the results files of one run's segments (design in
 * merge.h).
 *
 * Checks first, joins after: every file, every cell and its identity are
 * checked before anything is built, so a refusal names the file at fault
 * rather than leaving a half-merged document. The merged cell starts as a
 * copy of segment 0's (identity, settings, keys readers expect) and every
 * measured figure in it is then replaced by the join of all segments',
 * so nothing of one segment passes for the whole by accident: what cannot
 * be joined is removed (merge.h). */
#include "flowgate/merge.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flowgate/arrival.h"   /* FG_MAX_SEGMENTS */
#include "flowgate/critical_path.h"
#include "flowgate/hist.h"
#include "flowgate/json.h"
#include "flowgate/limits.h"
#include "flowgate/reservoir.h"
#include "flowgate/results.h"

#define MAX_ERRORS_KEPT 20   /* as one driver keeps (metrics.c) */

typedef struct seg {
    const cJSON *root, *run;
    const char *name;
    int index, count;
} seg;

/* What makes the cells of two segments the same cell (compare.h's
 * identity, and the schedule: the arrival with its seed). */
static const char *const identity_keys[] = {
    "mode", "rate_rps", "duration_s", "arrival", "concurrency", "scheduler", "input_mb",
    "input_bytes", "payload_kind", "variant", "workflow", "inline_data", "payload_sha256",
};

/* cJSON_Compare says two absent members differ; here they agree. */
static int same_member(const cJSON *a, const cJSON *b, const char *key)
{
    const cJSON *x = cJSON_GetObjectItemCaseSensitive(a, key);
    const cJSON *y = cJSON_GetObjectItemCaseSensitive(b, key);
    return (!x && !y) || cJSON_Compare(x, y, 1);
}

static void put(cJSON *o, const char *key, cJSON *v)
{
    if (cJSON_GetObjectItemCaseSensitive(o, key)) cJSON_ReplaceItemInObjectCaseSensitive(o, key, v);
    else cJSON_AddItemToObject(o, key, v);
}

static int whole_number(const cJSON *o, const char *key, int *out)
{
    double v = fg_json_number(o, key);
    if (!isfinite(v) || v != floor(v) || v < 0 || v > 1e9) return -1;
    *out = (int)v;
    return 0;
}

/* Sums key over srcs into dst (numbers only); absent everywhere: left
 * alone. The number is set in place, so a caller may be walking dst. */
static void sum_key(cJSON *dst, const cJSON *const *srcs, int n, const char *key)
{
    double total = 0;
    int seen = 0;
    for (int i = 0; i < n; i++) {
        double v = fg_json_number(srcs[i], key);
        if (isfinite(v)) total += v, seen = 1;
    }
    if (!seen) return;
    cJSON *have = cJSON_GetObjectItemCaseSensitive(dst, key);
    if (cJSON_IsNumber(have)) cJSON_SetNumberValue(have, total);
    else put(dst, key, cJSON_CreateNumber(total));
}

/* ---- checks ------------------------------------------------------------ */

static int check_run(seg *s, fg_err *err)
{
    s->run = cJSON_GetObjectItemCaseSensitive(s->root, "run");
    if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(s->run, "interrupted"))) {
        const char *during = fg_json_string(s->run, "interrupted_during");
        return fg_err_set(err, "%s: its run was interrupted%s%s: the segment is incomplete",
                          s->name, during ? " " : "", during ? during : "");
    }
    const cJSON *segment = cJSON_GetObjectItemCaseSensitive(s->run, "segment");
    if (!cJSON_IsObject(segment) || whole_number(segment, "index", &s->index) ||
        whole_number(segment, "count", &s->count) || s->count < 1 || s->index >= s->count)
        return fg_err_set(err, "%s: not a segment's results (no run.segment {index, count}): "
                          "run each driver with --segment i/N", s->name);
    return 0;
}

/* run.config without what may differ between drivers of one run. */
static cJSON *comparable_config(const cJSON *run)
{
    cJSON *c = cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(run, "config"), 1);
    cJSON_DeleteItemFromObjectCaseSensitive(c, "results_dir");
    return c;
}

/* The first key of a whose value b lacks or has otherwise. */
static const char *first_difference(const cJSON *a, const cJSON *b)
{
    for (const cJSON *k = a ? a->child : NULL; k; k = k->next)
        if (!cJSON_Compare(k, cJSON_GetObjectItemCaseSensitive(b, k->string), 1)) return k->string;
    for (const cJSON *k = b ? b->child : NULL; k; k = k->next)
        if (!cJSON_GetObjectItemCaseSensitive(a, k->string)) return k->string;
    return NULL;
}

static int check_same_run(const seg *s, const seg *first, fg_err *err)
{
    if (s->count != first->count)
        return fg_err_set(err, "%s: segment %d/%d, but %s is one of %d", s->name, s->index,
                          s->count, first->name, first->count);
    static const char *const keys[] = {"category", "workflow"};
    for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++)
        if (!same_member(s->run, first->run, keys[k]))
            return fg_err_set(err, "%s: run.%s differs from %s's: not the same run", s->name,
                              keys[k], first->name);
    cJSON *a = comparable_config(first->run), *b = comparable_config(s->run);
    const char *diff = first_difference(a, b);
    char key[64];
    snprintf(key, sizeof key, "%s", diff ? diff : "");
    cJSON_Delete(a);
    cJSON_Delete(b);
    if (diff)
        return fg_err_set(err, "%s: run.config.%s differs from %s's: not the same schedule and "
                          "settings", s->name, key, first->name);
    return 0;
}

/* The segments ordered by index, each index 0..N-1 exactly once. */
static int check_complete(seg *segs, int n, fg_err *err)
{
    int count = segs[0].count;
    seg *by_index = calloc((size_t)count, sizeof *by_index);
    if (!by_index) return fg_err_set(err, "out of memory");
    int rc = 0;
    for (int i = 0; i < n && !rc; i++) {
        seg *slot = &by_index[segs[i].index];
        if (slot->name)
            rc = fg_err_set(err, "%s: segment %d/%d again (%s has it)", segs[i].name,
                            segs[i].index, count, slot->name);
        else
            *slot = segs[i];
    }
    for (int i = 0; i < count && !rc; i++)
        if (!by_index[i].name)
            rc = fg_err_set(err, "segment %d/%d missing: %d files given for %d segments", i, count,
                            n, count);
    if (!rc) memcpy(segs, by_index, (size_t)n * sizeof *segs);
    free(by_index);
    return rc;
}

static const char *cell_name(const cJSON *e, char *buf, size_t size)
{
    const char *cat = fg_results_category(e);
    snprintf(buf, size, "%s%s%s #%d", cat && *cat ? cat : "", cat && *cat ? "/" : "",
             fg_json_string(e, "experiment_id") ? fg_json_string(e, "experiment_id") : "?",
             (int)fg_json_number(e, "repeat"));
    return buf;
}

/* Segment s's entry for e0's cell, checked whole and like e0; NULL + err. */
static const cJSON *segment_cell(const seg *s, const cJSON *e0, const seg *first, fg_err *err)
{
    char name[200];
    cell_name(e0, name, sizeof name);
    const char *id = fg_json_string(e0, "experiment_id");
    const cJSON *e = id ? fg_results_find_in(s->root, fg_results_category(e0), id,
                                             (int)fg_json_number(e0, "repeat"))
                        : NULL;
    if (!e) {
        fg_err_set(err, "%s: cell %s missing (%s has it)", s->name, name, first->name);
        return NULL;
    }
    const char *acc = fg_json_string(e, "accounting_error");
    if (acc) {
        fg_err_set(err, "%s: %s failed its accounting (%s)", s->name, name, acc);
        return NULL;
    }
    if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(e, "interrupted"))) {
        fg_err_set(err, "%s: %s was interrupted: the segment is incomplete", s->name, name);
        return NULL;
    }
    const cJSON *seg_obj = cJSON_GetObjectItemCaseSensitive(e, "segment");
    if (fg_json_number(seg_obj, "index") != s->index || fg_json_number(seg_obj, "count") != s->count) {
        fg_err_set(err, "%s: %s is not of segment %d/%d like its run", s->name, name, s->index,
                   s->count);
        return NULL;
    }
    for (size_t k = 0; k < sizeof identity_keys / sizeof identity_keys[0]; k++)
        if (!same_member(e, e0, identity_keys[k])) {
            fg_err_set(err, "%s: %s: %s differs from %s's: not the same cell", s->name, name,
                       identity_keys[k], first->name);
            return NULL;
        }
    if (!cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(e, "latency_hist")) ||
        !isfinite(fg_json_number(e, "latency_samples_total"))) {
        fg_err_set(err, "%s: %s has no latency_hist or latency_samples_total (written by a "
                   "flowgate without them): it cannot be merged exactly", s->name, name);
        return NULL;
    }
    return e;
}

/* ---- joins ------------------------------------------------------------- */

/* key, a string each segment sets: "mixed" in dst where two differ. */
static void say_mixed(cJSON *dst, const cJSON *const *src, int n, const char *key)
{
    for (int i = 1; i < n; i++) {
        const char *a = fg_json_string(src[0], key), *b = fg_json_string(src[i], key);
        if (a && b && strcmp(a, b)) put(dst, key, cJSON_CreateString("mixed"));
    }
}
/* parents[i][hist_key] joined: dst gets hist_key (the histogram) and
 * stats_key (its statistics). A histogram absent everywhere is left out. */
static int join_hist(const cJSON *const *parents, const seg *segs, int n, const char *hist_key,
                     const char *stats_key, cJSON *dst, const char *cell, fg_err *err)
{
    fg_hist *sum = fg_hist_new();
    if (!sum) return fg_err_set(err, "out of memory");
    int seen = 0;
    for (int i = 0; i < n; i++) {
        const cJSON *h = cJSON_GetObjectItemCaseSensitive(parents[i], hist_key);
        if (!h) continue;
        char what[300];
        snprintf(what, sizeof what, "%s: %s: %s", segs[i].name, cell, hist_key);
        fg_hist *one = fg_hist_from_json(h, what, err);
        if (!one) {
            fg_hist_free(sum);
            return -1;
        }
        fg_hist_merge(sum, one);
        fg_hist_free(one);
        seen = 1;
    }
    if (seen) {
        put(dst, hist_key, fg_hist_to_json(sum));
        put(dst, stats_key, fg_hist_json(sum));
    }
    fg_hist_free(sum);
    return 0;
}

static const cJSON *child(const cJSON *o, const char *key)
{
    return cJSON_GetObjectItemCaseSensitive(o, key);
}

static void children(const cJSON *const *es, int n, const char *key, const cJSON **out)
{
    for (int i = 0; i < n; i++) out[i] = child(es[i], key);
}

static const char *const count_keys[] = {"sent", "ok", "failed", "timed_out", "interrupted",
                                         "dropped", "scheduled", "unsent", "cold_starts"};

static int join_counts(cJSON *m, const cJSON *const *es, const seg *segs, int n,
                       const char *cell, fg_err *err)
{
    const cJSON *sub[FG_MAX_SEGMENTS];
    for (int part = 0; part < 2; part++) {
        const char *key = part ? "warmup" : "requests";
        children(es, n, key, sub);
        cJSON *dst = cJSON_GetObjectItemCaseSensitive(m, key);
        for (size_t k = 0; dst && k < sizeof count_keys / sizeof count_keys[0]; k++)
            sum_key(dst, sub, n, count_keys[k]);
    }
    cJSON *warm = cJSON_GetObjectItemCaseSensitive(m, "warmup");
    if (warm) {
        double longest = NAN;
        for (int i = 0; i < n; i++) {
            double d = fg_json_number(sub[i], "duration_s");
            if (isfinite(d) && !(d <= longest)) longest = d;
        }
        if (isfinite(longest)) put(warm, "duration_s", cJSON_CreateNumber(longest));
        /* Each driver decided its own warm-up; different reasons say so. */
        say_mixed(warm, sub, n, "stop_reason");
        if (join_hist(sub, segs, n, "latency_hist", "latency_ms", warm, cell, err)) return -1;
    }
    sum_key(m, es, n, "drain");
    sum_key(m, es, n, "cold_starts");
    say_mixed(m, es, n, "sends");   /* drivers on kernels with and without io_uring */
    const cJSON *req = child(m, "requests");
    double ok = fg_json_number(req, "ok"), done = ok + fg_json_number(req, "failed") +
                                                   fg_json_number(req, "timed_out");
    put(m, "success_rate", done > 0 ? cJSON_CreateNumber(ok / done) : cJSON_CreateNull());
    return 0;
}

/* The union of the windows on the wall clock, and the throughput over it. */
static void join_window(cJSON *m, const cJSON *const *es, int n)
{
    double t0 = INFINITY, start = INFINITY, end = -INFINITY;
    for (int i = 0; i < n; i++) {
        const cJSON *w = child(es[i], "window");
        double s = fg_json_number(w, "start_unix_ms"), e = fg_json_number(w, "end_unix_ms");
        double rel = fg_json_number(w, "start_s");
        if (!isfinite(s) || !isfinite(e) || !isfinite(rel)) continue;
        if (s - rel * 1000.0 < t0) t0 = s - rel * 1000.0;
        if (s < start) start = s;
        if (e > end) end = e;
    }
    cJSON_DeleteItemFromObjectCaseSensitive(m, "window");
    cJSON_DeleteItemFromObjectCaseSensitive(m, "wall_s");
    cJSON_DeleteItemFromObjectCaseSensitive(m, "throughput_rps");
    if (!isfinite(start) || !(end >= start)) return;   /* nothing measured anywhere */
    cJSON *w = cJSON_AddObjectToObject(m, "window");
    cJSON_AddNumberToObject(w, "start_s", round(start - t0) / 1000.0);
    cJSON_AddNumberToObject(w, "end_s", round(end - t0) / 1000.0);
    cJSON_AddNumberToObject(w, "start_unix_ms", start);
    cJSON_AddNumberToObject(w, "end_unix_ms", end);
    double wall_s = (end - start) / 1000.0;
    double ok = fg_json_number(child(m, "requests"), "ok");
    if (wall_s > 0) {
        cJSON_AddNumberToObject(m, "wall_s", round(wall_s * 1000.0) / 1000.0);
        if (ok > 0) cJSON_AddNumberToObject(m, "throughput_rps", ok / wall_s);
    }
}

/* The raw samples: a uniform sample of the union, weighted by totals. */
static int join_samples(cJSON *m, const cJSON *const *es, const seg *segs, int n,
                        const char *cell, fg_err *err)
{
    double *vals[FG_MAX_SEGMENTS] = {0};
    size_t lens[FG_MAX_SEGMENTS];
    uint64_t totals[FG_MAX_SEGMENTS];
    int rc = 0;
    for (int i = 0; i < n && !rc; i++) {
        const cJSON *arr = child(es[i], "latency_samples_ms");
        int len = cJSON_GetArraySize(arr);
        vals[i] = malloc((len ? (size_t)len : 1) * sizeof *vals[i]);
        if (!vals[i]) rc = fg_err_set(err, "out of memory");
        lens[i] = 0;
        const cJSON *v;
        cJSON_ArrayForEach(v, arr) {
            if (!cJSON_IsNumber(v) || !(v->valuedouble >= 0)) {
                rc = fg_err_set(err, "%s: %s: latency_samples_ms[%zu] is not a latency",
                                segs[i].name, cell, lens[i]);
                break;
            }
            vals[i][lens[i]++] = v->valuedouble;
        }
        totals[i] = (uint64_t)fg_json_number(es[i], "latency_samples_total");
    }
    fg_reservoir out;
    fg_reservoir_init(&out, FG_MAX_LATENCY_SAMPLES,
                      fg_mix64(0x6d65726765ULL ^ (uint64_t)fg_json_number(es[0], "repeat")));
    fg_err why;
    if (!rc && fg_reservoir_merge(&out, (const double *const *)vals, lens, totals, n, &why) != 0)
        rc = fg_err_set(err, "%s: %s: %s", segs[0].name, cell, why.msg);
    if (!rc) {
        put(m, "latency_samples_ms",
            out.n ? cJSON_CreateDoubleArray(out.v, (int)out.n) : cJSON_CreateArray());
        put(m, "latency_samples_total", cJSON_CreateNumber((double)out.total));
    }
    fg_reservoir_free(&out);
    for (int i = 0; i < n; i++) free(vals[i]);
    return rc;
}

static int join_functions(cJSON *m, const cJSON *const *es, const seg *segs, int n,
                          const char *cell, fg_err *err)
{
    cJSON *fns = cJSON_GetObjectItemCaseSensitive(m, "functions");
    static const char *const hists[][2] = {{"latency_hist", "latency_ms"}, {"exec_hist", "exec_ms"},
                                           {"queue_hist", "queue_ms"},
                                           {"transfer_hist", "transfer_ms"}};
    for (cJSON *f = fns ? fns->child : NULL; f; f = f->next) {
        const cJSON *each[FG_MAX_SEGMENTS], *errs[FG_MAX_SEGMENTS];
        for (int i = 0; i < n; i++) {
            each[i] = child(child(es[i], "functions"), f->string);
            if (!each[i])
                return fg_err_set(err, "%s: %s: function %s missing (%s has it)", segs[i].name,
                                  cell, f->string, segs[0].name);
            errs[i] = child(each[i], "errors");
        }
        static const char *const sums[] = {"invocations", "retries_429_503", "transfer_bytes",
                                           "cold_starts"};
        for (size_t k = 0; k < sizeof sums / sizeof sums[0]; k++) sum_key(f, each, n, sums[k]);
        cJSON *dst_errs = cJSON_GetObjectItemCaseSensitive(f, "errors");
        for (cJSON *c = dst_errs ? dst_errs->child : NULL; c; c = c->next)
            sum_key(dst_errs, errs, n, c->string);
        for (size_t k = 0; k < sizeof hists / sizeof hists[0]; k++)
            if (join_hist(each, segs, n, hists[k][0], hists[k][1], f, cell, err)) return -1;
    }
    return 0;
}

/* branches.<cond>.then/else and nodes.<name>.invocations: plain sums. */
static void join_tallies(cJSON *m, const cJSON *const *es, int n)
{
    static const struct { const char *obj; const char *keys[2]; } tallies[] = {
        {"branches", {"then", "else"}}, {"nodes", {"invocations", NULL}}};
    for (size_t t = 0; t < sizeof tallies / sizeof tallies[0]; t++) {
        cJSON *dst = cJSON_GetObjectItemCaseSensitive(m, tallies[t].obj);
        for (cJSON *d = dst ? dst->child : NULL; d; d = d->next) {
            const cJSON *each[FG_MAX_SEGMENTS];
            for (int i = 0; i < n; i++) each[i] = child(child(es[i], tallies[t].obj), d->string);
            for (int k = 0; k < 2 && tallies[t].keys[k]; k++) sum_key(d, each, n, tallies[t].keys[k]);
        }
    }
}

/* Open loop (the driver's pace.h): the drivers ran side by side, so slot
 * counts and rates add; lateness merges bin by bin; the whole kept up only
 * if every segment did, and each one behind is named. */
static int join_schedule(cJSON *m, const cJSON *const *es, const seg *segs, int n,
                         const char *cell, fg_err *err)
{
    cJSON *dst = cJSON_GetObjectItemCaseSensitive(m, "schedule");
    if (!dst) return 0;
    const cJSON *sub[FG_MAX_SEGMENTS];
    children(es, n, "schedule", sub);
    static const char *const sums[] = {"slots_due", "slots_sent", "target_rps", "achieved_rps"};
    for (size_t k = 0; k < sizeof sums / sizeof sums[0]; k++) sum_key(dst, sub, n, sums[k]);
    if (join_hist(sub, segs, n, "lateness_hist", "lateness_ms", dst, cell, err)) return -1;
    if (!cJSON_GetObjectItemCaseSensitive(dst, "keeps_up")) return 0;
    char behind[512] = "";
    size_t used = 0;
    for (int i = 0; i < n && used < sizeof behind; i++) {
        const char *why = fg_json_string(sub[i], "behind");
        if (why) used += (size_t)snprintf(behind + used, sizeof behind - used, "%s%s: %s",
                                          used ? "; " : "", segs[i].name, why);
    }
    put(dst, "keeps_up", cJSON_CreateBool(!behind[0]));
    cJSON_DeleteItemFromObjectCaseSensitive(dst, "behind");
    if (behind[0]) cJSON_AddStringToObject(dst, "behind", behind);
    return 0;
}

static void join_rest(cJSON *m, const cJSON *const *es, int n)
{
    const cJSON *parts[FG_MAX_SEGMENTS];
    children(es, n, "bottleneck", parts);
    cJSON *b = fg_bottleneck_merge(parts, n);
    cJSON_DeleteItemFromObjectCaseSensitive(m, "bottleneck");
    if (b) cJSON_AddItemToObject(m, "bottleneck", b);
    /* Servers each driver started: their CPU adds, the peak is the largest. */
    int known = 1;
    double cpu = 0, rss = 0;
    for (int i = 0; i < n; i++) {
        const cJSON *s = child(es[i], "server");
        if (!cJSON_IsObject(s)) known = 0;
        cpu += fg_json_number(s, "cpu_s");
        if (fg_json_number(s, "peak_rss_kb") > rss) rss = fg_json_number(s, "peak_rss_kb");
    }
    if (known && isfinite(cpu)) {
        cJSON *s = cJSON_CreateObject();
        cJSON_AddNumberToObject(s, "cpu_s", cpu);
        cJSON_AddNumberToObject(s, "peak_rss_kb", rss);
        put(m, "server", s);
    } else {
        put(m, "server", cJSON_CreateNull());
    }
    /* The noisiest segment's contention speaks for the cell. */
    int worst = 0;
    for (int i = 1; i < n; i++)
        if (fg_json_number(child(es[i], "noise"), "foreign_cpu_share") >
            fg_json_number(child(es[worst], "noise"), "foreign_cpu_share"))
            worst = i;
    if (child(es[worst], "noise")) put(m, "noise", cJSON_Duplicate(child(es[worst], "noise"), 1));
    cJSON *errors = cJSON_CreateArray();
    for (int i = 0; i < n; i++) {
        const cJSON *e;
        cJSON_ArrayForEach(e, child(es[i], "errors"))
            if (cJSON_GetArraySize(errors) < MAX_ERRORS_KEPT)
                cJSON_AddItemToArray(errors, cJSON_Duplicate(e, 1));
    }
    put(m, "errors", errors);
    static const char *const per_driver[] = {"resources", "timeline", "timeline_error", "outcome",
                                             "outcome_reason", "segment"};
    for (size_t k = 0; k < sizeof per_driver / sizeof per_driver[0]; k++)
        cJSON_DeleteItemFromObjectCaseSensitive(m, per_driver[k]);
    cJSON_AddNumberToObject(m, "merged_segments", n);
}

static cJSON *merge_cell(const cJSON *const *es, const seg *segs, int n, fg_err *err)
{
    char cell[200];
    cell_name(es[0], cell, sizeof cell);
    cJSON *m = cJSON_Duplicate(es[0], 1);
    if (!m) {
        fg_err_set(err, "out of memory");
        return NULL;
    }
    if (join_counts(m, es, segs, n, cell, err) ||
        join_hist(es, segs, n, "latency_hist", "latency_ms", m, cell, err) ||
        join_samples(m, es, segs, n, cell, err) || join_functions(m, es, segs, n, cell, err) ||
        join_schedule(m, es, segs, n, cell, err)) {
        cJSON_Delete(m);
        return NULL;
    }
    join_window(m, es, n);
    join_tallies(m, es, n);
    join_rest(m, es, n);
    return m;
}

/* ---- the document ------------------------------------------------------ */

static cJSON *merged_run(const seg *segs, int n)
{
    cJSON *run = cJSON_Duplicate(segs[0].run, 1);
    char id[160];
    snprintf(id, sizeof id, "%s-merge%d", fg_json_string(run, "id") ? fg_json_string(run, "id") : "",
             n);
    put(run, "id", cJSON_CreateString(id));
    /* Started by the first driver, finished by the last (ISO stamps of one
     * clock order as text). */
    for (int i = 1; i < n; i++) {
        const char *s = fg_json_string(segs[i].run, "started");
        const char *f = fg_json_string(segs[i].run, "finished");
        const char *s0 = fg_json_string(run, "started"), *f0 = fg_json_string(run, "finished");
        if (s && s0 && strcmp(s, s0) < 0) put(run, "started", cJSON_CreateString(s));
        if (f && f0 && strcmp(f, f0) > 0) put(run, "finished", cJSON_CreateString(f));
    }
    cJSON_DeleteItemFromObjectCaseSensitive(run, "segment");
    cJSON_DeleteItemFromObjectCaseSensitive(run, "outcome");
    cJSON *merge = cJSON_AddObjectToObject(run, "merge");
    cJSON_AddNumberToObject(merge, "segments", n);
    cJSON *sources = cJSON_AddArrayToObject(merge, "sources");
    for (int i = 0; i < n; i++) cJSON_AddItemToArray(sources, cJSON_CreateString(segs[i].name));
    return run;
}

cJSON *fg_merge_results(const cJSON *const *roots, const char *const *names, int n, fg_err *err)
{
    if (n < 1 || n > FG_MAX_SEGMENTS) {
        fg_err_set(err, "merge: %d files (1..%d segment files of one run)", n, FG_MAX_SEGMENTS);
        return NULL;
    }
    seg *segs = calloc((size_t)n, sizeof *segs);
    if (!segs) {
        fg_err_set(err, "out of memory");
        return NULL;
    }
    cJSON *out = NULL;
    int rc = 0;
    for (int i = 0; i < n && !rc; i++) {
        segs[i] = (seg){roots[i], NULL, names[i], 0, 0};
        rc = check_run(&segs[i], err);
    }
    for (int i = 1; i < n && !rc; i++) rc = check_same_run(&segs[i], &segs[0], err);
    if (!rc) rc = check_complete(segs, n, err);
    /* Every segment holds exactly segment 0's cells. */
    const cJSON *cells = rc ? NULL : fg_results_experiments(segs[0].root);
    for (int i = 1; i < n && !rc; i++)
        if (cJSON_GetArraySize(fg_results_experiments(segs[i].root)) != cJSON_GetArraySize(cells))
            rc = fg_err_set(err, "%s: %d cells, %s has %d: not the same run", segs[i].name,
                            cJSON_GetArraySize(fg_results_experiments(segs[i].root)), segs[0].name,
                            cJSON_GetArraySize(cells));
    if (!rc) {
        out = cJSON_CreateObject();
        cJSON_AddStringToObject(out, "schema", FG_RESULTS_SCHEMA);
        cJSON_AddItemToObject(out, "run", merged_run(segs, n));
    }
    cJSON *exps = out ? cJSON_AddArrayToObject(out, "experiments") : NULL;
    const cJSON *e0;
    cJSON_ArrayForEach(e0, cells) {
        if (rc) break;
        const cJSON *es[FG_MAX_SEGMENTS];
        for (int i = 0; i < n && !rc; i++)
            if (!(es[i] = segment_cell(&segs[i], e0, &segs[0], err))) rc = -1;
        cJSON *m = rc ? NULL : merge_cell(es, segs, n, err);
        if (!m) rc = -1;
        else cJSON_AddItemToArray(exps, m);
    }
    free(segs);
    if (rc) {
        cJSON_Delete(out);
        return NULL;
    }
    return out;
}

cJSON *fg_merge_files(const char *const *paths, int n, fg_err *err)
{
    if (n < 1 || n > FG_MAX_SEGMENTS) {
        fg_err_set(err, "merge: %d files (1..%d segment files of one run)", n, FG_MAX_SEGMENTS);
        return NULL;
    }
    cJSON **roots = calloc((size_t)n, sizeof *roots);
    if (!roots) {
        fg_err_set(err, "out of memory");
        return NULL;
    }
    cJSON *out = NULL;
    int i = 0;
    for (; i < n; i++)
        if (!(roots[i] = fg_results_load(paths[i], err))) break;
    if (i == n) out = fg_merge_results((const cJSON *const *)roots, paths, n, err);
    for (int k = 0; k < n; k++) cJSON_Delete(roots[k]);
    free(roots);
    return out;
}
