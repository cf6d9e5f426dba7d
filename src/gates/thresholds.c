/* thresholds.c — k6-style gates over an experiment's metrics.
 *
 * An expression is "metric op limit": the metric a threshold name or a
 * dotted path ([A-Za-z_][A-Za-z0-9_.]*, no empty segment), op one of
 * < <= > >= == !=, the limit a finite decimal (exponents allowed, no hex,
 * nan or inf) or relative to a base run: "F * base.metric",
 * "base.metric * F" or "base.metric" (F = 1). The parser is a hand-written
 * scanner over that grammar so that each bad form gets its own message
 * naming the expression.
 *
 * Metric names are checked against the results grammar (metric_known
 * below) when the document is checked, so "p95ms < 5000" fails at load,
 * not after an hour of measuring. The thresholds document is checked as a
 * whole on every lookup, so a typo in any list fails every run, not only
 * the runs that reach that cell.
 *
 * Metric lookup is results.c's job (fg_results_metric); a missing metric is
 * a failure with actual NAN, never a silent pass. A percentile the writer
 * left out because the sample count cannot resolve it (metrics.c writes
 * pXX only when n >= 1/(1-q)) fails with a note saying so, since "p99 of 12
 * samples" would only be the maximum. A relative threshold without a base
 * is skipped (counted apart), not failed: the same thresholds file serves
 * runs with and without a base.
 *
 * Contention (noise.h): the rule lives here, in one place, so the threshold
 * table, `flowgate run` and the suites judge a busy cell alike. Only bounds
 * contention pushes against are touched — an upper bound on time, a lower
 * bound on a rate — since a busy machine makes a cell slower, never faster:
 * "p50_ms > 10" or "==" gain nothing from a wider bound, and a check that
 * passed under contention is evidence, not noise. */
#include "flowgate/thresholds.h"
#include "flowgate/log.h"
#include "flowgate/machine.h"
#include "flowgate/noise.h"
#include "flowgate/results.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const cmp_symbols[] = {"<", "<=", ">", ">=", "==", "!="};

const char *fg_cmp_symbol(fg_cmp cmp)
{
    return (unsigned)cmp < sizeof cmp_symbols / sizeof cmp_symbols[0] ? cmp_symbols[cmp] : "?";
}

static int bad(fg_err *err, const char *text, const char *problem)
{
    return fg_err_set(err, "bad threshold '%.200s': %s", text, problem);
}

static const char *skip_space(const char *p)
{
    while (*p && isspace((unsigned char)*p)) p++;
    return p;
}

static int is_metric_start(char c) { return isalpha((unsigned char)c) || c == '_'; }
static int is_metric_char(char c) { return isalnum((unsigned char)c) || c == '_' || c == '.'; }
static int is_op_char(char c) { return c == '<' || c == '>' || c == '=' || c == '!'; }

/* Reads an operator at *p; advances past it. */
static int parse_op(const char **p, fg_cmp *cmp)
{
    const char *s = *p;
    static const struct { const char *sym; fg_cmp cmp; } ops[] = {
        {"<=", FG_CMP_LE}, {">=", FG_CMP_GE}, {"==", FG_CMP_EQ}, {"!=", FG_CMP_NE},
        {"<", FG_CMP_LT},  {">", FG_CMP_GT},
    };
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) {
        size_t n = strlen(ops[i].sym);
        if (!strncmp(s, ops[i].sym, n)) {
            *p = s + n;
            *cmp = ops[i].cmp;
            return 0;
        }
    }
    return -1;
}

/* A finite decimal at *p; advances past it. Only decimal notation: strtod
 * alone would also take hex, nan and inf. */
static int parse_number(const char *text, const char **pp, double *out, fg_err *err)
{
    const char *p = *pp, *num = p;
    if (*p == '+' || *p == '-') p++;
    if (!isdigit((unsigned char)*p) && !(*p == '.' && isdigit((unsigned char)p[1])))
        return bad(err, text, "limit is not a number");
    char *end;
    double v = strtod(num, &end);
    for (const char *q = num; q < end; q++)
        if (!isdigit((unsigned char)*q) && !strchr("+-.eE", *q))
            return bad(err, text, "limit is not a decimal number");
    if (!isfinite(v)) return bad(err, text, "limit out of range");
    *out = v;
    *pp = end;
    return 0;
}

/* A metric name at *p into out (size bytes); advances past it. */
static int parse_metric(const char *text, const char **pp, char *out, size_t size, fg_err *err)
{
    const char *p = *pp, *m = p;
    if (!is_metric_start(*p))
        return bad(err, text, "bad metric name (must start with a letter or '_')");
    while (is_metric_char(*p)) p++;
    size_t mlen = (size_t)(p - m);
    if (*p && !isspace((unsigned char)*p) && !is_op_char(*p) && *p != '*') {
        char problem[96];
        snprintf(problem, sizeof problem, "bad metric name (character '%c' not allowed)", *p);
        return bad(err, text, problem);
    }
    if (mlen >= size) return bad(err, text, "metric name too long");
    for (size_t i = 0; i < mlen; i++)
        if (m[i] == '.' && (i + 1 == mlen || m[i + 1] == '.'))
            return bad(err, text, "bad metric name (empty path segment)");
    memcpy(out, m, mlen);
    out[mlen] = 0;
    *pp = p;
    return 0;
}

/* "base.<metric>" at *p (known to start with "base."). */
static int parse_base_metric(const char *text, const char **pp, fg_threshold *t, fg_err *err)
{
    const char *p = *pp + 5;
    if (parse_metric(text, &p, t->base_metric, sizeof t->base_metric, err) != 0) return -1;
    t->relative = 1;
    *pp = p;
    return 0;
}

int fg_threshold_parse(const char *text, fg_threshold *t, fg_err *err)
{
    memset(t, 0, sizeof *t);
    if (!text) return bad(err, "", "empty expression");
    if (strlen(text) >= sizeof t->text) return bad(err, text, "expression too long");
    snprintf(t->text, sizeof t->text, "%s", text);

    const char *p = skip_space(text);
    if (!*p) return bad(err, text, "empty expression");
    if (is_op_char(*p)) return bad(err, text, "missing metric");
    if (!is_metric_start(*p)) return bad(err, text, "bad metric name (must start with a letter or '_')");

    if (parse_metric(text, &p, t->metric, sizeof t->metric, err) != 0) return -1;
    if (*p == '*') return bad(err, text, "missing operator (one of < <= > >= == !=)");

    p = skip_space(p);
    if (!*p) return bad(err, text, "missing operator (one of < <= > >= == !=)");
    if (parse_op(&p, &t->cmp) != 0) {
        if (is_op_char(*p)) return bad(err, text, "unknown operator (use one of < <= > >= == !=)");
        return bad(err, text, "missing operator (one of < <= > >= == !=)");
    }

    /* "<>", "=<", "===": strncmp took a valid prefix; the rest is no limit. */
    if (is_op_char(*p)) return bad(err, text, "unknown operator (use one of < <= > >= == !=)");
    p = skip_space(p);
    if (!*p) return bad(err, text, "missing limit");
    if (!strncmp(p, "base.", 5)) {
        /* "base.metric" or "base.metric * F" */
        if (parse_base_metric(text, &p, t, err) != 0) return -1;
        p = skip_space(p);
        t->limit = 1.0;
        if (*p == '*') {
            p = skip_space(p + 1);
            if (parse_number(text, &p, &t->limit, err) != 0) return -1;
        }
    } else {
        if (parse_number(text, &p, &t->limit, err) != 0) return -1;
        p = skip_space(p);
        if (*p == '*') {
            p = skip_space(p + 1);
            if (strncmp(p, "base.", 5))
                return bad(err, text, "expected 'base.<metric>' after '*'");
            if (parse_base_metric(text, &p, t, err) != 0) return -1;
        }
    }
    p = skip_space(p);
    if (*p) return bad(err, text, "unexpected text after the limit");
    return 0;
}

/* ---- the metric grammar ------------------------------------------------ */

static int in_list(const char *s, size_t n, const char *const *list)
{
    for (; *list; list++)
        if (strlen(*list) == n && !strncmp(*list, s, n)) return 1;
    return 0;
}

static const char *const top_names[] = {
    "success_rate", "timeouts", "failed", "sent", "ok", "p50_ms", "p90_ms", "p95_ms", "p99_ms",
    "min_ms", "max_ms", "mean_ms", "throughput_rps", "wall_s", "cold_starts", "dropped", "drain",
    NULL};
static const char *const stat_keys[] = {"count", "min", "mean", "p50", "p90", "p95", "p99", "max",
                                        NULL};
static const char *const fn_stats[] = {"latency_ms", "exec_ms", "queue_ms", "transfer_ms", NULL};
static const char *const fn_counts[] = {"invocations", "cold_starts", "transfer_bytes",
                                        "retries_429_503", NULL};
static const char *const request_keys[] = {"sent", "ok", "failed", "timed_out", "scheduled",
                                           "dropped", "unsent", "interrupted", NULL};
static const char *const warmup_keys[] = {"sent", "ok", "failed", "timed_out", "interrupted",
                                          "dropped", "cold_starts", "duration_s", NULL};
static const char *const window_keys[] = {"start_s", "end_s", NULL};
static const char *const server_keys[] = {"cpu_s", "peak_rss_kb", NULL};

/* Splits a dotted path into at most max segments (pointer + length). */
static int split(const char *path, const char **seg, size_t *len, int max)
{
    int n = 0;
    for (const char *p = path;;) {
        size_t l = strcspn(p, ".");
        if (n == max) return max + 1;
        seg[n] = p;
        len[n++] = l;
        if (!p[l]) return n;
        p += l + 1;
    }
}

static int is_class(const char *s, size_t n)
{
    for (int k = 0; k < FG_FAIL_CLASSES; k++)
        if (strlen(fg_fail_class_names[k]) == n && !strncmp(fg_fail_class_names[k], s, n))
            return 1;
    return 0;
}

/* Whether name can be a metric of a results entry (README "Results"):
 * a top-level threshold name, or a dotted path into a known part of the
 * entry. Names (functions.<name>, nodes.<name>) are the workflow's, free. */
static int metric_known(const char *name)
{
    const char *seg[6];
    size_t len[6];
    int n = split(name, seg, len, 5);
#define IS(i, lit) (len[i] == strlen(lit) && !strncmp(seg[i], lit, len[i]))
    if (n == 1) return in_list(seg[0], len[0], top_names);
    if (n > 5) return 0;
    if (IS(0, "latency_ms")) return n == 2 && in_list(seg[1], len[1], stat_keys);
    if (IS(0, "requests")) return n == 2 && in_list(seg[1], len[1], request_keys);
    if (IS(0, "window")) return n == 2 && in_list(seg[1], len[1], window_keys);
    if (IS(0, "server")) return n == 2 && in_list(seg[1], len[1], server_keys);
    if (IS(0, "warmup"))
        return (n == 2 && in_list(seg[1], len[1], warmup_keys)) ||
               (n == 3 && IS(1, "latency_ms") && in_list(seg[2], len[2], stat_keys));
    if (IS(0, "nodes")) return n == 3 && IS(2, "invocations");
    if (IS(0, "functions")) {
        if (n == 3) return in_list(seg[2], len[2], fn_counts);
        if (n == 4 && IS(2, "errors")) return is_class(seg[3], len[3]);
        return n == 4 && in_list(seg[2], len[2], fn_stats) && in_list(seg[3], len[3], stat_keys);
    }
#undef IS
    return 0;
}

/* Checks one list of the document; keypath names it in errors. */
static int parse_list(const cJSON *list, const char *keypath, fg_threshold *out, int max,
                      fg_err *err)
{
    if (!cJSON_IsArray(list))
        return fg_err_set(err, "thresholds: %s: not an array of expressions", keypath);
    /* An empty list would judge its cells by nothing: they could never fail. */
    if (cJSON_GetArraySize(list) == 0)
        return fg_err_set(err, "thresholds: %s: empty list (a cell without thresholds cannot fail)",
                          keypath);
    int n = 0;
    const cJSON *item;
    cJSON_ArrayForEach(item, list) {
        if (!cJSON_IsString(item))
            return fg_err_set(err, "thresholds: %s[%d]: not a string", keypath, n);
        fg_threshold t;
        fg_err e;
        if (fg_threshold_parse(item->valuestring, &t, &e) != 0)
            return fg_err_set(err, "thresholds: %s[%d]: %s", keypath, n, e.msg);
        const char *unknown = !metric_known(t.metric) ? t.metric
                              : t.relative && !metric_known(t.base_metric) ? t.base_metric : NULL;
        if (unknown)
            return fg_err_set(err, "thresholds: %s[%d]: unknown metric '%s%s' in '%s' (a "
                              "threshold name such as p95_ms, or a path such as "
                              "functions.<name>.latency_ms.p95; README \"Thresholds\")",
                              keypath, n, unknown == t.base_metric ? "base." : "", unknown,
                              t.text);
        if (out) {
            if (n >= max)
                return fg_err_set(err, "thresholds: %s: more than %d expressions", keypath, max);
            out[n] = t;
        }
        n++;
    }
    return n;
}

/* "machine": {"probe_ms": P, "probe": "...", "factor": F}: P the reference
 * machine's probe, F (set in memory by fg_thresholds_scale_to_machine) the
 * scale applied. */
static int check_machine(const cJSON *m, fg_err *err)
{
    if (!m) return 0;
    if (!cJSON_IsObject(m)) return fg_err_set(err, "thresholds: machine: not an object");
    const cJSON *key;
    cJSON_ArrayForEach(key, m) {
        const char *k = key->string;
        if (k[0] == '_' || !strcmp(k, "probe")) continue;
        if (strcmp(k, "probe_ms") && strcmp(k, "factor"))
            return fg_err_set(err, "thresholds: machine: unknown key '%s' (expected probe_ms, "
                              "probe, factor)", k);
        if (!cJSON_IsNumber(key) || !(key->valuedouble > 0) || !isfinite(key->valuedouble))
            return fg_err_set(err, "thresholds: machine.%s: not a positive number", k);
    }
    if (!cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(m, "probe_ms")))
        return fg_err_set(err, "thresholds: machine: probe_ms missing (the reference machine's "
                          "probe, as `flowgate thresholds suggest` writes it)");
    return 0;
}

static double machine_factor(const cJSON *doc)
{
    const cJSON *f = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(doc, "machine"), "factor");
    return cJSON_IsNumber(f) ? f->valuedouble : 1.0;
}

/* A time metric has a path segment ending "_ms" or "_s"; a rate one "_rps". */
static int ends_with(const char *s, size_t n, const char *suffix)
{
    size_t k = strlen(suffix);
    return n >= k && !strncmp(s + n - k, suffix, k);
}

fg_metric_unit fg_metric_unit_of(const char *metric)
{
    const char *seg[6];
    size_t len[6];
    int n = split(metric, seg, len, 5);
    if (n > 5) return FG_UNIT_OTHER;
    for (int i = 0; i < n; i++) {
        if (ends_with(seg[i], len[i], "_rps")) return FG_UNIT_RATE;
        if (ends_with(seg[i], len[i], "_ms") || ends_with(seg[i], len[i], "_s"))
            return FG_UNIT_TIME;
    }
    return FG_UNIT_OTHER;
}

/* An absolute bound written in the reference machine's units, here. */
static void scale_to_machine(fg_threshold *t, double factor)
{
    if (t->relative || factor == 1.0) return;
    fg_metric_unit u = fg_metric_unit_of(t->metric);
    if (u == FG_UNIT_TIME) t->limit *= factor;
    if (u == FG_UNIT_RATE) t->limit /= factor;
}

int fg_thresholds_scale_to_machine(cJSON *doc, fg_machine_scale *out, fg_err *err)
{
    memset(out, 0, sizeof *out);
    out->factor = 1.0;
    cJSON *m = cJSON_GetObjectItemCaseSensitive(doc, "machine");
    if (!m) return 0;
    out->reference_ms = cJSON_GetObjectItemCaseSensitive(m, "probe_ms")->valuedouble;
    const char *env = getenv("FLOWGATE_MACHINE_SCALE");
    if (env && !strcmp(env, "off")) return 0;
    double here = fg_machine_probe_ms();
    if (!(here > 0)) return fg_err_set(err, "thresholds: the machine probe failed (zlib)");
    out->probe_ms = here;
    out->factor = here / out->reference_ms;
    out->applied = 1;
    cJSON_DeleteItemFromObjectCaseSensitive(m, "factor");
    cJSON_AddNumberToObject(m, "factor", out->factor);
    return 0;
}

/* Checks every list in a {"name": [...]} section. */
static int check_section(const cJSON *doc, const char *section, fg_err *err)
{
    const cJSON *obj = cJSON_GetObjectItemCaseSensitive(doc, section);
    if (!obj) return 0;
    if (!cJSON_IsObject(obj)) return fg_err_set(err, "thresholds: %s: not an object", section);
    const cJSON *list;
    cJSON_ArrayForEach(list, obj) {
        if (list->string[0] == '_') continue;   /* comments */
        char keypath[256];
        snprintf(keypath, sizeof keypath, "%s.%s", section, list->string);
        if (parse_list(list, keypath, NULL, 0, err) < 0) return -1;
    }
    return 0;
}

int fg_thresholds_check(const cJSON *doc, fg_err *err)
{
    if (!cJSON_IsObject(doc)) return fg_err_set(err, "thresholds: document is not a JSON object");
    const cJSON *key;
    cJSON_ArrayForEach(key, doc) {
        const char *k = key->string;
        if (k[0] != '_' && strcmp(k, "default") && strcmp(k, "categories") && strcmp(k, "cells") &&
            strcmp(k, "machine"))
            return fg_err_set(err, "thresholds: unknown key '%s' (expected default, categories, "
                              "cells, machine)", k);
    }
    if (check_machine(cJSON_GetObjectItemCaseSensitive(doc, "machine"), err) != 0) return -1;
    const cJSON *def = cJSON_GetObjectItemCaseSensitive(doc, "default");
    if (def && parse_list(def, "default", NULL, 0, err) < 0) return -1;
    if (check_section(doc, "categories", err) != 0) return -1;
    return check_section(doc, "cells", err);
}

cJSON *fg_thresholds_load(const char *path, fg_err *err)
{
    fg_buf b;
    if (fg_read_file(path, 16u << 20, &b, err) != 0) return NULL;
    cJSON *doc = cJSON_ParseWithLength((const char *)b.data, b.len);
    fg_buf_free(&b);
    if (!doc) {
        fg_err_set(err, "%s: invalid JSON", path);
        return NULL;
    }
    fg_err e;
    fg_machine_scale ms;
    if (fg_thresholds_check(doc, &e) != 0 || fg_thresholds_scale_to_machine(doc, &ms, &e) != 0) {
        fg_err_set(err, "%s: %s", path, e.msg);
        cJSON_Delete(doc);
        return NULL;
    }
    if (ms.applied)
        fg_log(FG_LOG_INFO, "thresholds: this machine's probe %.2f ms, the reference's %.2f ms: "
               "time bounds x%.3g, rate bounds /%.3g (FLOWGATE_MACHINE_SCALE=off: as written)",
               ms.probe_ms, ms.reference_ms, ms.factor, ms.factor);
    return doc;
}

static int scaled(int n, fg_threshold *out, double factor)
{
    for (int i = 0; i < n; i++) scale_to_machine(&out[i], factor);
    return n;
}

int fg_thresholds_for(const cJSON *doc, const char *category, const char *experiment_id,
                      fg_threshold *out, int max, fg_err *err)
{
    if (fg_thresholds_check(doc, err) != 0) return -1;
    const char *section[] = {"cells", "categories"};
    const char *name[] = {experiment_id, category};
    for (int i = 0; i < 2; i++) {
        if (!name[i]) continue;
        const cJSON *obj = cJSON_GetObjectItemCaseSensitive(doc, section[i]);
        const cJSON *list = cJSON_GetObjectItemCaseSensitive(obj, name[i]);
        if (list) {
            char keypath[256];
            snprintf(keypath, sizeof keypath, "%s.%s", section[i], name[i]);
            return scaled(parse_list(list, keypath, out, max, err), out, machine_factor(doc));
        }
    }
    const cJSON *def = cJSON_GetObjectItemCaseSensitive(doc, "default");
    return def ? scaled(parse_list(def, "default", out, max, err), out, machine_factor(doc)) : 0;
}

static int holds(double actual, fg_cmp cmp, double limit)
{
    switch (cmp) {
    case FG_CMP_LT: return actual < limit;
    case FG_CMP_LE: return actual <= limit;
    case FG_CMP_GT: return actual > limit;
    case FG_CMP_GE: return actual >= limit;
    case FG_CMP_EQ: return actual == limit;
    case FG_CMP_NE: return actual != limit;
    }
    return 0;
}

/* Threshold names results.c does not alias (yet): their path. */
static int lookup(const cJSON *e, const char *metric, double *out)
{
    if (fg_results_metric(e, metric, out) == 0 && !isnan(*out)) return 0;
    if (!strcmp(metric, "dropped")) return fg_results_metric(e, "requests.dropped", out);
    return -1;
}

/* Percentile pXX of metric: the stats object's path and the count it needs
 * (n >= 1/(1-q), as metrics.c writes them); 0 when metric is no percentile. */
static int percentile_of(const char *metric, char *stats, size_t size, int *pct, int *need)
{
    const char *leaf = strrchr(metric, '.');
    int p;
    char tail[8];
    if (!leaf && sscanf(metric, "p%d_ms%7s", &p, tail) == 1 && strlen(metric) == 6)
        snprintf(stats, size, "latency_ms");
    else if (leaf && sscanf(leaf, ".p%d%7s", &p, tail) == 1 && strlen(leaf) == 4)
        snprintf(stats, size, "%.*s", (int)(leaf - metric), metric);
    else
        return 0;
    if (p <= 0 || p >= 100) return 0;
    *pct = p;
    *need = (int)ceil(1.0 / (1.0 - p / 100.0) - 1e-9);
    return 1;
}

/* Why metric has no value in e, into note. */
static void explain_missing(const cJSON *e, const char *prefix, const char *metric, char *note,
                            size_t size)
{
    char stats[128], path[160];
    int pct, need;
    double count;
    if (percentile_of(metric, stats, sizeof stats, &pct, &need)) {
        snprintf(path, sizeof path, "%s.count", stats);
        if (fg_results_metric(e, path, &count) == 0 && count < need) {
            snprintf(note, size, "%s%s = n/a (%.0f sample%s; p%d needs >= %d)", prefix, metric,
                     count, count == 1 ? "" : "s", pct, need);
            return;
        }
    }
    snprintf(note, size, "%s%s = n/a (not in the results)", prefix, metric);
}

/* 1 for a bound a busy machine pushes a cell against: an upper bound on a
 * time, a lower bound on a rate; absolute, or relative to a base run (the
 * cell's own contention against its base's, below). */
static int contended(const fg_threshold *t)
{
    fg_metric_unit u = fg_metric_unit_of(t->metric);
    if (u == FG_UNIT_TIME) return t->cmp == FG_CMP_LT || t->cmp == FG_CMP_LE;
    if (u == FG_UNIT_RATE) return t->cmp == FG_CMP_GT || t->cmp == FG_CMP_GE;
    return 0;
}

static double noise_share(const cJSON *e)
{
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(e, "noise"), "foreign_cpu_share");
    return cJSON_IsNumber(s) && s->valuedouble >= 0 ? s->valuedouble : NAN;
}

fg_outcome fg_thresholds_outcome(const fg_threshold_verdict *v, int n)
{
    fg_outcome o = FG_OUTCOME_PASS;
    for (int i = 0; i < n; i++)
        if (!v[i].skipped && !v[i].pass)
            o = fg_outcome_combine(o, v[i].inconclusive ? FG_OUTCOME_INCONCLUSIVE : FG_OUTCOME_FAIL);
    return o;
}

/* A time limit times f, a rate limit divided by it. */
static double widened(const fg_threshold *t, double limit, double f)
{
    return fg_metric_unit_of(t->metric) == FG_UNIT_TIME ? limit * f : limit / f;
}

int fg_thresholds_eval_base(const fg_threshold *ts, int n, const cJSON *experiment,
                            const cJSON *base_experiment, fg_threshold_verdict *out)
{
    int failed = 0;
    double share = noise_share(experiment);
    /* A relative bound compares two entries: only the contention the cell
     * had beyond its base's can push it (a busier base only helps it). */
    double base_factor = base_experiment ? fg_noise_time_factor(noise_share(base_experiment)) : 1;
    for (int i = 0; i < n; i++) {
        fg_threshold_verdict *v = &out[i];
        memset(v, 0, sizeof *v);
        v->t = ts[i];
        v->actual = v->limit = NAN;
        v->noise_share = share;
        double actual, base = NAN, written;
        int busy = contended(&ts[i]);
        double over = ts[i].relative ? base_factor : 1;   /* what the base already had */
        double factor = fmax(1.0, fg_noise_time_factor(share) / over);
        if (lookup(experiment, ts[i].metric, &actual) == 0) v->actual = actual;
        if (!ts[i].relative) {
            written = ts[i].limit;
        } else if (!base_experiment) {
            v->skipped = 1;
            snprintf(v->note, sizeof v->note, "skipped: no base");
            continue;
        } else {
            if (lookup(base_experiment, ts[i].base_metric, &base) != 0) {
                explain_missing(base_experiment, "base.", ts[i].base_metric, v->note,
                                sizeof v->note);
                failed++;
                continue;
            }
            written = ts[i].limit * base;
        }
        /* The run got (1 - share) of the cores it expects. */
        v->limit = busy && factor != 1.0 ? widened(&ts[i], written, factor) : written;
        if (isnan(v->actual)) {
            explain_missing(experiment, "", ts[i].metric, v->note, sizeof v->note);
        } else {
            v->pass = holds(v->actual, ts[i].cmp, v->limit);
            if (!v->pass && busy && fg_noise_beyond(share)) {
                /* Open only if the contention could explain the miss. */
                double most = widened(&ts[i], written,
                                      fmax(1.0, fg_noise_explain_factor(share) / over));
                v->inconclusive = holds(v->actual, ts[i].cmp, most);
                if (v->inconclusive)
                    snprintf(v->note, sizeof v->note,
                             "inconclusive (machine busy: other processes used %.0f %% of the "
                             "cores during the cell; bounds allow %.0f %%)", share * 100,
                             FG_NOISE_LIMIT * 100);
                else
                    snprintf(v->note, sizeof v->note,
                             "fails even allowing for the machine's load (other processes %.0f %% "
                             "of the cores: limit at most %.6g)", share * 100, most);
            } else if (busy && factor != 1.0) {
                snprintf(v->note, sizeof v->note,
                         "limit %.6g widened from %.6g: other processes used %.0f %% of the cores",
                         v->limit, written, share * 100);
            } else if (ts[i].relative) {
                snprintf(v->note, sizeof v->note, "limit %.6g = %g x base %.6g", v->limit,
                         ts[i].limit, base);
            }
        }
        failed += !v->pass && !v->inconclusive;
    }
    return failed;
}

int fg_thresholds_eval(const fg_threshold *ts, int n, const cJSON *experiment,
                       fg_threshold_verdict *out)
{
    return fg_thresholds_eval_base(ts, n, experiment, NULL, out);
}
