/* compare.c — the regression gate (the rules and the why are in
 * compare.h): the cells of two results files gathered, checked for
 * identity and completeness, tested on their per-repeat statistics,
 * corrected for multiplicity across the whole comparison, and printed one
 * line each. The statistics themselves are in stats.c.
 *
 * Two passes: (1) per cell, gather its repeats and either settle it
 * (unlike, interrupted, missing, extra, failed) or run its tests; (2) once
 * the alpha family's size is known (every tested cell x metric), turn the
 * p-values into verdicts at this look's levels, and the report into an
 * outcome. The culprit of a paired cell is computed in pass 1 from the
 * entries' critical-path and per-function means.
 *
 * Per-repeat values are logs (ms or rps), so differences are log ratios and
 * exp(mean difference) is the ratio of geometric means. A repeat's centre
 * and tail are Harrell–Davis estimates of its own samples: the median is
 * steady even over 20 samples; the p95 of 20 samples is noisy, which is
 * exactly the repeat-to-repeat spread the t-test then accounts for. */
#include "flowgate/compare.h"
#include "flowgate/results.h"
#include "flowgate/spending.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* snprintf that appends at *len, never past size. */
static void append(char *line, size_t size, size_t *len, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void append(char *line, size_t size, size_t *len, const char *fmt, ...)
{
    if (*len >= size) return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line + *len, size - *len, fmt, ap);
    va_end(ap);
    if (n > 0) *len += (size_t)n;
}

/* ---- options ------------------------------------------------------------- */

void fg_compare_opts_defaults(fg_compare_opts *o)
{
    memset(o, 0, sizeof *o);
    o->alpha = 0.01;
    o->beta = 0.05;
    o->p50_margin = 0.10;
    o->p95_margin = 0;            /* watched: compare.h */
    o->throughput_margin = 0.10;
    o->success_tolerance = 0.05;
    o->confidence = 0.95;
    o->min_repeats = 3;
    o->look = (fg_compare_look){0, 1, 1};
    o->effect_sizes = 1;
}

/* Reads an optional number key into *v, checking lo <= v < hi. */
static int opt_number(const cJSON *obj, const char *key, double lo, double hi, double *v,
                      const char *where, fg_err *err)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!item) return 0;
    if (!cJSON_IsNumber(item) || !(item->valuedouble >= lo && item->valuedouble < hi))
        return fg_err_set(err, "%s%s: must be a number in [%g, %g)", where, key, lo, hi);
    *v = item->valuedouble;
    return 0;
}

/* Every key of obj must be one of known (NULL-terminated) or a "_" comment:
 * a misspelt tolerance would otherwise silently leave the default. */
static int known_keys(const cJSON *obj, const char *const *known, const char *where, fg_err *err)
{
    const cJSON *item;
    cJSON_ArrayForEach(item, obj) {
        const char *k = item->string;
        if (k[0] == '_') continue;
        int ok = 0;
        for (const char *const *p = known; *p && !ok; p++) ok = !strcmp(*p, k);
        if (ok) continue;
        if (!strcmp(k, "resamples") || !strcmp(k, "seed") || !strcmp(k, "min_samples"))
            return fg_err_set(err, "%s%s: no longer used (the gate tests per-repeat statistics; "
                                   "see min_repeats)", where, k);
        return fg_err_set(err, "%sunknown key '%s'", where, k);
    }
    return 0;
}

int fg_compare_opts_load(const char *path, fg_compare_opts *o, cJSON **doc, fg_err *err)
{
    *doc = NULL;
    fg_buf b;
    if (fg_read_file(path, 1u << 20, &b, err) != 0) return -1;
    cJSON *root = cJSON_ParseWithLength((const char *)b.data, b.len);
    fg_buf_free(&b);
    if (!cJSON_IsObject(root)) {
        cJSON_Delete(root);
        return fg_err_set(err, "%s: invalid JSON (expected an object)", path);
    }
    static const char *const top[] = {"alpha", "beta", "p50_ms", "p95_ms", "throughput_rps",
                                      "success_rate", "confidence", "min_repeats", "cells",
                                      NULL};
    static const char *const per_cell[] = {"p50_ms", "p95_ms", "throughput_rps", NULL};
    char where[600];
    snprintf(where, sizeof where, "%s: ", path);
    double min_repeats = o->min_repeats;
    if (known_keys(root, top, where, err) ||
        opt_number(root, "alpha", 1e-12, 0.5, &o->alpha, where, err) ||
        opt_number(root, "beta", 1e-12, 0.5, &o->beta, where, err) ||
        opt_number(root, "p50_ms", 1e-3, 10, &o->p50_margin, where, err) ||
        opt_number(root, "p95_ms", 0, 10, &o->p95_margin, where, err) ||
        opt_number(root, "throughput_rps", 1e-3, 10, &o->throughput_margin, where, err) ||
        opt_number(root, "success_rate", 0, 1, &o->success_tolerance, where, err) ||
        opt_number(root, "confidence", 0.5, 1, &o->confidence, where, err) ||
        opt_number(root, "min_repeats", 2, 1e6, &min_repeats, where, err))
        goto bad;
    if (min_repeats != floor(min_repeats)) {
        fg_err_set(err, "%smin_repeats: must be a whole number", where);
        goto bad;
    }
    o->min_repeats = (int)min_repeats;
    const cJSON *cells = cJSON_GetObjectItemCaseSensitive(root, "cells");
    if (cells) {
        if (!cJSON_IsObject(cells)) {
            fg_err_set(err, "%s: cells: not an object", path);
            goto bad;
        }
        const cJSON *cell;
        cJSON_ArrayForEach(cell, cells) {
            double dummy;
            snprintf(where, sizeof where, "%s: cells.%s.", path, cell->string);
            if (!cJSON_IsObject(cell)) {
                fg_err_set(err, "%s: cells.%s: not an object", path, cell->string);
                goto bad;
            }
            if (known_keys(cell, per_cell, where, err) ||
                opt_number(cell, "p50_ms", 1e-3, 10, &dummy, where, err) ||
                opt_number(cell, "p95_ms", 0, 10, &dummy, where, err) ||
                opt_number(cell, "throughput_rps", 1e-3, 10, &dummy, where, err))
                goto bad;
        }
    }
    o->cells = cells;
    *doc = root;
    return 0;
bad:
    cJSON_Delete(root);
    return -1;
}

const char *fg_verdict_name(fg_verdict v)
{
    static const char *const names[] = {"no regression", "regression", "inconclusive",
                                        "missing", "extra", "failed", "interrupted", "unlike"};
    return (unsigned)v < FG_VERDICT_COUNT ? names[v] : "?";
}

const char *const fg_metric_names[FG_METRIC_COUNT] = {"centre", "tail", "throughput"};

/* ---- gathering a cell ---------------------------------------------------- */

/* One repeat (results entry) of a cell on one side. */
typedef struct repeat_vals {
    const cJSON *e;
    int repeat;                   /* "repeat", else its position in the cell */
    int n;                        /* latency samples */
    double v[FG_METRIC_COUNT];    /* log HD median, log HD p95, log throughput; NAN: none */
    double sent, ok;              /* NAN when the entry has no counts */
    int interrupted;
} repeat_vals;

/* All repeats of one cell in one file, and their pooled samples. */
typedef struct cell_side {
    repeat_vals *r;
    int n;
    double *lat;
    int n_lat, cap_lat;
    double sent, ok;              /* summed over repeats with counts */
    int has_counts;
} cell_side;

static void side_free(cell_side *s)
{
    free(s->r);
    free(s->lat);
    memset(s, 0, sizeof *s);
}

/* A cell: one experiment_id within one category ("" when absent). */
typedef struct cell_key {
    const char *category, *id;
} cell_key;

static const char *entry_id(const cJSON *e)
{
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(e, "experiment_id");
    return cJSON_IsString(id) ? id->valuestring : NULL;
}

static int in_cell(const cJSON *e, const cell_key *k)
{
    const char *id = entry_id(e), *category = fg_results_category(e);
    return id && category && !strcmp(id, k->id) && !strcmp(category, k->category);
}

/* Harrell–Davis weights for the last sample count seen: repeats of one
 * run mostly have the same count, and the weights cost n incomplete betas. */
typedef struct hd_cache {
    int n;
    double *w50, *w95;
} hd_cache;

static void hd_cache_free(hd_cache *h)
{
    free(h->w50);
    free(h->w95);
    memset(h, 0, sizeof *h);
}

static int hd_cache_get(hd_cache *h, int n)
{
    if (h->n == n && h->w50) return 0;
    hd_cache_free(h);
    h->w50 = fg_hd_weights(n, 50.0);
    h->w95 = fg_hd_weights(n, 95.0);
    if (!h->w50 || !h->w95) {
        hd_cache_free(h);
        return -1;
    }
    h->n = n;
    return 0;
}

/* The entry's own samples: validated, appended to the pooled array, and
 * reduced to the repeat's log centre and log tail. */
static int repeat_samples(const cJSON *e, const char *label, const char *name, cell_side *s,
                          repeat_vals *r, hd_cache *hd, fg_err *err)
{
    r->v[FG_METRIC_CENTRE] = r->v[FG_METRIC_TAIL] = NAN;
    const cJSON *lat = cJSON_GetObjectItemCaseSensitive(e, "latency_samples_ms");
    if (lat && !cJSON_IsArray(lat))
        return fg_err_set(err, "%s: %s: latency_samples_ms is not an array", label, name);
    int first = s->n_lat, i = 0;
    const cJSON *v;
    cJSON_ArrayForEach(v, lat) {
        if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble) || v->valuedouble < 0)
            return fg_err_set(err, "%s: %s: latency_samples_ms[%d] is not a latency", label, name,
                              i);
        if (s->n_lat == s->cap_lat) {
            int cap = s->cap_lat ? 2 * s->cap_lat : 256;
            double *p = realloc(s->lat, (size_t)cap * sizeof *p);
            if (!p) return fg_err_set(err, "out of memory");
            s->lat = p;
            s->cap_lat = cap;
        }
        s->lat[s->n_lat++] = v->valuedouble;
        i++;
    }
    r->n = i;
    if (i == 0) return 0;
    double *sorted = malloc((size_t)i * sizeof *sorted);
    if (!sorted || hd_cache_get(hd, i) != 0) {
        free(sorted);
        return fg_err_set(err, "out of memory");
    }
    memcpy(sorted, s->lat + first, (size_t)i * sizeof *sorted);
    qsort(sorted, (size_t)i, sizeof *sorted, fg_cmp_double);
    double centre = 0, tail = 0;
    for (int j = 0; j < i; j++) {
        centre += sorted[j] * hd->w50[j];
        tail += sorted[j] * hd->w95[j];
    }
    free(sorted);
    /* A zero latency (a mocked endpoint) has no log: no value, not -inf. */
    r->v[FG_METRIC_CENTRE] = centre > 0 ? log(centre) : NAN;
    r->v[FG_METRIC_TAIL] = tail > 0 ? log(tail) : NAN;
    return 0;
}

/* name: the cell as errors show it, "<id>" or "<id> [<category>]". */
static int gather(const cJSON *exps, const cell_key *k, const char *label, const char *name,
                  cell_side *s, hd_cache *hd, fg_err *err)
{
    memset(s, 0, sizeof *s);
    int count = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, exps) count += in_cell(e, k);
    s->r = calloc(count ? (size_t)count : 1, sizeof *s->r);
    if (!s->r) return fg_err_set(err, "out of memory");
    cJSON_ArrayForEach(e, exps) {
        if (!in_cell(e, k)) continue;
        repeat_vals *r = &s->r[s->n];
        r->e = e;
        const cJSON *rep = cJSON_GetObjectItemCaseSensitive(e, "repeat");
        r->repeat = cJSON_IsNumber(rep) ? rep->valueint : s->n;
        r->interrupted = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(e, "interrupted"));
        if (repeat_samples(e, label, name, s, r, hd, err) != 0) {
            side_free(s);
            return -1;
        }
        double sent, ok;
        r->sent = r->ok = NAN;
        if (fg_results_metric(e, "sent", &sent) == 0 && fg_results_metric(e, "ok", &ok) == 0 &&
            sent >= 0 && ok >= 0 && ok <= sent) {
            r->sent = sent;
            r->ok = ok;
            s->sent += sent;
            s->ok += ok;
            s->has_counts = 1;
        }
        const cJSON *tp = cJSON_GetObjectItemCaseSensitive(e, "throughput_rps");
        r->v[FG_METRIC_THROUGHPUT] = cJSON_IsNumber(tp) && isfinite(tp->valuedouble) &&
                                     tp->valuedouble > 0 ? log(tp->valuedouble) : NAN;
        s->n++;
    }
    return 0;
}

/* ---- identity ------------------------------------------------------------ */

/* Everything that changes the workload; compared where both entries have it. */
static const char *const identity_fields[] = {"mode", "rate_rps", "variant", "inline_data",
                                              "scheduler", "concurrency", "input_bytes",
                                              "workflow", "payload_sha256"};

static int same_value(const cJSON *a, const cJSON *b)
{
    if (cJSON_IsString(a) && cJSON_IsString(b)) return !strcmp(a->valuestring, b->valuestring);
    if (cJSON_IsNumber(a) && cJSON_IsNumber(b))
        return fabs(a->valuedouble - b->valuedouble) <=
               1e-9 * fmax(1.0, fabs(a->valuedouble));
    if (cJSON_IsBool(a) && cJSON_IsBool(b)) return cJSON_IsTrue(a) == cJSON_IsTrue(b);
    if (cJSON_IsNull(a) && cJSON_IsNull(b)) return 1;
    return 0;
}

static void value_text(const cJSON *v, char *out, size_t size)
{
    if (cJSON_IsString(v))
        snprintf(out, size, "%s", v->valuestring);
    else if (cJSON_IsNumber(v))
        snprintf(out, size, "%g", v->valuedouble);
    else if (cJSON_IsBool(v))
        snprintf(out, size, "%s", cJSON_IsTrue(v) ? "true" : "false");
    else
        snprintf(out, size, "(%s)", cJSON_IsNull(v) ? "null" : "not a value");
}

/* The first field on which two entries of the cell disagree, as the
 * reason "mode closed (BASE) vs open (NEW)"; 0 when alike. Entries of one
 * side are checked against each other too: a file that ran one id twice
 * with different workloads cannot be compared either. */
static int unlike(const cell_side *b, const cell_side *n, char *reason, size_t size)
{
    const cell_side *sides[2] = {b, n};
    const char *names[2] = {"BASE", "NEW"};
    for (size_t f = 0; f < sizeof identity_fields / sizeof identity_fields[0]; f++) {
        const char *field = identity_fields[f];
        const cJSON *ref = NULL;
        int ref_side = 0;
        for (int s = 0; s < 2; s++)
            for (int i = 0; i < sides[s]->n; i++) {
                const cJSON *v = cJSON_GetObjectItemCaseSensitive(sides[s]->r[i].e, field);
                if (!v) continue;
                if (!ref) {
                    ref = v;
                    ref_side = s;
                } else if (!same_value(ref, v)) {
                    char a[96], c[96];
                    value_text(ref, a, sizeof a);
                    value_text(v, c, sizeof c);
                    if (ref_side == s)
                        snprintf(reason, size, "%s %s vs %s (both in %s)", field, a, c, names[s]);
                    else
                        snprintf(reason, size, "%s %s (BASE) vs %s (NEW)", field, a, c);
                    return 1;
                }
            }
    }
    return 0;
}

/* ---- testing a cell ------------------------------------------------------ */

static void cell_margins(const fg_compare_opts *o, const char *id, double margin[FG_METRIC_COUNT])
{
    margin[FG_METRIC_CENTRE] = o->p50_margin;
    margin[FG_METRIC_TAIL] = o->p95_margin;
    margin[FG_METRIC_THROUGHPUT] = o->throughput_margin;
    static const char *const keys[FG_METRIC_COUNT] = {"p50_ms", "p95_ms", "throughput_rps"};
    const cJSON *cell = cJSON_GetObjectItemCaseSensitive(o->cells, id);
    for (int m = 0; m < FG_METRIC_COUNT; m++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(cell, keys[m]);
        if (cJSON_IsNumber(v)) margin[m] = v->valuedouble;
    }
}

static void metric_init(fg_metric_compare *m)
{
    memset(m, 0, sizeof *m);
    m->verdict = FG_VERDICT_INCONCLUSIVE;
    m->base = m->new_ = m->ratio = m->ci_lo = m->ci_hi = m->df = NAN;
    m->p_regression = m->p_no_regression = m->p_better = NAN;
    m->alpha_level = m->beta_level = NAN;
}

/* A metric that neither file measured (throughput of older files): not gated. */
static int metric_na(const fg_metric_compare *m)
{
    return m->n_base == 0 && m->n_new == 0 && isnan(m->ratio) && isnan(m->p_regression);
}

static double mean_of(const double *v, int n)
{
    double s = 0;
    for (int i = 0; i < n; i++) s += v[i];
    return s / n;
}

/* The repeat of s with index repeat (the first, if the file has it twice). */
static const repeat_vals *find_repeat(const cell_side *s, int repeat)
{
    for (int i = 0; i < s->n; i++)
        if (s->r[i].repeat == repeat) return &s->r[i];
    return NULL;
}

/* A metric's p-values and interval from its t-test of NEW - BASE on logs.
 * The tests are on the worse-direction difference w (latency: +d,
 * throughput: -d), so one rule serves both. */
static void finish_test(fg_metric_compare *m, fg_metric_kind kind, const fg_ttest *t,
                        const fg_compare_opts *o)
{
    double sign = kind == FG_METRIC_THROUGHPUT ? -1 : 1;
    double w = sign * t->diff, limit = log1p(m->margin);
    m->df = t->df;
    m->p_regression = sign > 0 ? t->p_greater : t->p_less;
    m->p_better = sign > 0 ? t->p_less : t->p_greater;
    if (m->margin <= 0)
        m->p_no_regression = NAN;   /* watched: no margin to show */
    else if (t->se > 0)
        m->p_no_regression = fg_t_cdf((w - limit) / t->se, t->df);
    else
        m->p_no_regression = w < limit ? 0 : 1;
    double half = (1.0 - o->confidence) / 2;
    m->ci_lo = exp(fg_ttest_bound(t, half));
    m->ci_hi = exp(fg_ttest_bound(t, 1.0 - half));
}

/* Fills one metric's values, ratio and t-test (no verdict yet). */
static int test_metric(fg_cell_compare *c, fg_metric_kind kind, const cell_side *b,
                       const cell_side *n, const fg_compare_opts *o, double margin, fg_err *err)
{
    fg_metric_compare *m = &c->metric[kind];
    metric_init(m);
    m->margin = margin;
    int cap = b->n + n->n;
    double *x = malloc((size_t)(cap ? cap : 1) * sizeof *x);
    double *y = malloc((size_t)(cap ? cap : 1) * sizeof *y);
    double *d = malloc((size_t)(cap ? cap : 1) * sizeof *d);
    if (!x || !y || !d) {
        free(x); free(y); free(d);
        return fg_err_set(err, "out of memory");
    }
    fg_ttest t;
    if (o->paired) {
        /* Pairs by repeat index; a repeat on one side only is not used. */
        int np = 0;
        for (int i = 0; i < b->n; i++) {
            const repeat_vals *rb = &b->r[i], *rn = find_repeat(n, rb->repeat);
            if (find_repeat(b, rb->repeat) != rb || !rn) continue;
            if (isnan(rb->v[kind]) || isnan(rn->v[kind])) continue;
            x[np] = rb->v[kind];
            y[np] = rn->v[kind];
            d[np] = rn->v[kind] - rb->v[kind];
            np++;
        }
        int with_b = 0, with_n = 0;
        for (int i = 0; i < b->n; i++) with_b += !isnan(b->r[i].v[kind]);
        for (int i = 0; i < n->n; i++) with_n += !isnan(n->r[i].v[kind]);
        if (with_b == 0 && with_n == 0 && kind == FG_METRIC_THROUGHPUT) goto out;   /* n/a */
        m->n_base = m->n_new = np;
        if (np > 0) {
            m->base = exp(mean_of(x, np));
            m->new_ = exp(mean_of(y, np));
            m->ratio = exp(mean_of(d, np));
        }
        if (np >= o->min_repeats && fg_paired_t(d, np, &t) == 0) finish_test(m, kind, &t, o);
    } else {
        int nx = 0, ny = 0;
        for (int i = 0; i < b->n; i++)
            if (!isnan(b->r[i].v[kind])) x[nx++] = b->r[i].v[kind];
        for (int i = 0; i < n->n; i++)
            if (!isnan(n->r[i].v[kind])) y[ny++] = n->r[i].v[kind];
        if (nx == 0 && ny == 0 && kind == FG_METRIC_THROUGHPUT) goto out;   /* n/a */
        m->n_base = nx;
        m->n_new = ny;
        if (nx > 0) m->base = exp(mean_of(x, nx));
        if (ny > 0) m->new_ = exp(mean_of(y, ny));
        if (nx > 0 && ny > 0) m->ratio = m->new_ / m->base;
        if (nx >= o->min_repeats && ny >= o->min_repeats && fg_welch_t(x, nx, y, ny, &t) == 0)
            finish_test(m, kind, &t, o);
    }
out:
    free(x); free(y); free(d);
    return 0;
}

/* ---- the culprit --------------------------------------------------------- */

/* One part of one repeat, per workflow (ms); NAN when the entry lacks it. */
static double part_value(const cJSON *e, const char *function, const char *part)
{
    double v;
    char path[256];
    if (!function[0]) {
        snprintf(path, sizeof path, "bottleneck.mean_ms.%s", part);
        return fg_results_metric(e, path, &v) == 0 ? v : NAN;
    }
    /* A function's mean times its invocations per measured request: a
     * function on every request adds its mean, a switch branch taken by a
     * third of them a third. */
    double mean, calls, requests;
    const cJSON *fns = cJSON_GetObjectItemCaseSensitive(e, "functions");
    if (cJSON_IsObject(fns) && !cJSON_GetObjectItemCaseSensitive(fns, function))
        return 0;   /* not called in this repeat: it added nothing */
    snprintf(path, sizeof path, "functions.%s.%s_ms.mean", function, part);
    if (fg_results_metric(e, path, &mean) != 0) return NAN;
    snprintf(path, sizeof path, "functions.%s.invocations", function);
    if (fg_results_metric(e, path, &calls) != 0) return NAN;
    if (fg_results_metric(e, "latency_ms.count", &requests) != 0 || requests <= 0) return NAN;
    return mean * calls / requests;
}

/* Compares one part pair by pair over the cell's complete pairs. */
static int culprit_part(const cell_side *b, const cell_side *n, const char *function,
                        const char *part, const fg_compare_opts *o, fg_culprit *out)
{
    memset(out, 0, sizeof *out);
    snprintf(out->function, sizeof out->function, "%s", function);
    snprintf(out->part, sizeof out->part, "%s", part);
    out->ratio = out->ci_lo = out->ci_hi = NAN;
    double *d = malloc((size_t)(b->n ? b->n : 1) * sizeof *d);
    double *l = malloc((size_t)(b->n ? b->n : 1) * sizeof *l);
    int np = 0, positive = 1, rc = -1;
    if (!d || !l) goto out;
    for (int i = 0; i < b->n; i++) {
        const repeat_vals *rb = &b->r[i], *rn = find_repeat(n, rb->repeat);
        if (find_repeat(b, rb->repeat) != rb || !rn) continue;
        double vb = part_value(rb->e, function, part), vn = part_value(rn->e, function, part);
        if (isnan(vb) || isnan(vn)) continue;
        d[np] = vn - vb;
        positive &= vb > 0 && vn > 0;
        l[np] = positive ? log(vn / vb) : 0;
        np++;
    }
    fg_ttest t;
    if (np < 2 || fg_paired_t(d, np, &t) != 0) goto out;
    double half = (1.0 - o->confidence) / 2;
    out->added_ms = t.diff;
    out->added_lo = fg_ttest_bound(&t, half);
    out->added_hi = fg_ttest_bound(&t, 1.0 - half);
    if (positive && fg_paired_t(l, np, &t) == 0) {
        out->ratio = exp(t.diff);
        out->ci_lo = exp(fg_ttest_bound(&t, half));
        out->ci_hi = exp(fg_ttest_bound(&t, 1.0 - half));
    }
    rc = 0;
out:
    free(d);
    free(l);
    return rc;
}

/* 1 when an earlier repeat of either side already listed the function. */
static int function_seen(const cell_side *sides[2], int side, int repeat, const char *name)
{
    for (int s = 0; s <= side; s++)
        for (int i = 0; i < (s < side ? sides[s]->n : repeat); i++)
            if (cJSON_GetObjectItemCaseSensitive(
                    cJSON_GetObjectItemCaseSensitive(sides[s]->r[i].e, "functions"), name))
                return 1;
    return 0;
}

static int by_added_desc(const void *a, const void *b)
{
    double x = ((const fg_culprit *)a)->added_ms, y = ((const fg_culprit *)b)->added_ms;
    return x < y ? 1 : x > y ? -1 : 0;
}

/* The critical path's parts and every function's, ranked (compare.h). */
static void find_culprit(fg_cell_compare *c, const cell_side *b, const cell_side *n,
                         const fg_compare_opts *o)
{
    static const char *const path_parts[4] = {"exec", "queue", "transfer", "driver"};
    static const char *const fn_parts[3] = {"exec", "queue", "transfer"};
    c->added_ms = NAN;
    /* The end-to-end mean: latency_ms.mean, pair by pair. */
    double sum = 0;
    int np = 0;
    for (int i = 0; i < b->n; i++) {
        const repeat_vals *rb = &b->r[i], *rn = find_repeat(n, rb->repeat);
        double vb, vn;
        if (find_repeat(b, rb->repeat) != rb || !rn ||
            fg_results_metric(rb->e, "latency_ms.mean", &vb) != 0 ||
            fg_results_metric(rn->e, "latency_ms.mean", &vn) != 0)
            continue;
        sum += vn - vb;
        np++;
    }
    if (np < 2) return;
    c->added_ms = sum / np;
    for (int k = 0; k < 4; k++)
        if (culprit_part(b, n, "", path_parts[k], o, &c->path[c->n_path]) == 0) c->n_path++;
    /* Every function either side ran in any repeat: one that only NEW
     * calls is a typical culprit (where a side did not call it, it added
     * 0 ms there). */
    const cell_side *sides[2] = {b, n};
    for (int s = 0; s < 2; s++)
        for (int i = 0; i < sides[s]->n; i++) {
            const cJSON *f;
            cJSON_ArrayForEach(f, cJSON_GetObjectItemCaseSensitive(sides[s]->r[i].e, "functions")) {
                if (!f->string || function_seen(sides, s, i, f->string)) continue;
                for (int k = 0; k < 3 && c->n_fn < FG_CULPRIT_MAX; k++)
                    if (culprit_part(b, n, f->string, fn_parts[k], o, &c->fn[c->n_fn]) == 0)
                        c->n_fn++;
            }
        }
    fg_culprit *lists[2] = {c->path, c->fn};
    int counts[2] = {c->n_path, c->n_fn};
    for (int l = 0; l < 2; l++) {
        for (int i = 0; i < counts[l]; i++)
            lists[l][i].share = c->added_ms != 0 ? lists[l][i].added_ms / c->added_ms : NAN;
        qsort(lists[l], (size_t)counts[l], sizeof *lists[l], by_added_desc);
    }
}

static void cell_init(fg_cell_compare *c, const cell_key *k, int id_shared)
{
    memset(c, 0, sizeof *c);
    snprintf(c->experiment_id, sizeof c->experiment_id, "%s", k->id);
    snprintf(c->category, sizeof c->category, "%s", k->category);
    c->id_shared = id_shared;
    c->verdict = c->latency = c->throughput = c->success = FG_VERDICT_INCONCLUSIVE;
    for (int m = 0; m < FG_METRIC_COUNT; m++) metric_init(&c->metric[m]);
    c->added_ms = NAN;
    c->p_slower = c->p_faster = c->cliffs_delta = c->hl_shift_ms = NAN;
    c->p95_base = c->p95_new = c->p95_ratio = NAN;
    c->success_base = c->success_new = NAN;
}

/* Reported effect sizes over the pooled samples (not the decision). */
static void effect_sizes(fg_cell_compare *c, const cell_side *b, const cell_side *n)
{
    if (b->n_lat == 0 || n->n_lat == 0) return;
    fg_mwu mw;
    if (fg_mann_whitney(b->lat, b->n_lat, n->lat, n->n_lat, &mw) == 0) {
        c->p_slower = mw.p_greater;
        c->p_faster = mw.p_less;
        c->cliffs_delta = fg_cliffs_delta(mw.u, b->n_lat, n->n_lat);
    }
    c->hl_shift_ms = fg_hodges_lehmann(b->lat, b->n_lat, n->lat, n->n_lat);
    double *sorted = malloc((size_t)(b->n_lat > n->n_lat ? b->n_lat : n->n_lat) * sizeof *sorted);
    if (!sorted) return;
    memcpy(sorted, b->lat, (size_t)b->n_lat * sizeof *sorted);
    qsort(sorted, (size_t)b->n_lat, sizeof *sorted, fg_cmp_double);
    c->p95_base = fg_hd_quantile(sorted, b->n_lat, 95.0);
    memcpy(sorted, n->lat, (size_t)n->n_lat * sizeof *sorted);
    qsort(sorted, (size_t)n->n_lat, sizeof *sorted, fg_cmp_double);
    c->p95_new = fg_hd_quantile(sorted, n->n_lat, 95.0);
    free(sorted);
    if (c->p95_base > 0) c->p95_ratio = c->p95_new / c->p95_base;
}

/* Repeats of one side without a partner on the other (paired runs), as
 * "; unpaired: BASE repeat 4, NEW repeats 5 6" appended to the reason. */
static void note_unpaired(fg_cell_compare *c, const cell_side *b, const cell_side *n)
{
    size_t len = strlen(c->reason);
    const cell_side *sides[2] = {b, n};
    const char *names[2] = {"BASE", "NEW"};
    int any = 0;
    for (int s = 0; s < 2; s++) {
        int listed = 0;
        for (int i = 0; i < sides[s]->n; i++) {
            const repeat_vals *r = &sides[s]->r[i];
            int dup = find_repeat(sides[s], r->repeat) != r;
            if (!dup && find_repeat(sides[1 - s], r->repeat)) continue;
            if (!any) append(c->reason, sizeof c->reason, &len, "%sunpaired (not used):",
                             len ? "; " : "");
            if (!listed) append(c->reason, sizeof c->reason, &len, "%s %s repeat", any ? "," : "",
                                names[s]);
            append(c->reason, sizeof c->reason, &len, " %d%s", r->repeat, dup ? " (twice)" : "");
            any = listed = 1;
        }
    }
}

/* Pass 1 for one cell: either a settled failing state, or its tests. */
static int examine_cell(const cJSON *bexps, const char *blabel, const cJSON *nexps,
                        const char *nlabel, const cell_key *k, int id_shared,
                        const fg_compare_opts *o, fg_cell_compare *c, hd_cache *hd, fg_err *err)
{
    cell_init(c, k, id_shared);
    char name[512];
    if (id_shared)
        snprintf(name, sizeof name, "%s [%s]", k->id, *k->category ? k->category : "no category");
    else
        snprintf(name, sizeof name, "%s", k->id);
    cell_side b, n;
    if (gather(bexps, k, blabel, name, &b, hd, err) != 0) return -1;
    if (gather(nexps, k, nlabel, name, &n, hd, err) != 0) {
        side_free(&b);
        return -1;
    }
    c->n_base = b.n_lat;
    c->n_new = n.n_lat;
    c->repeats_base = b.n;
    c->repeats_new = n.n;
    c->success_base = b.has_counts && b.sent > 0 ? b.ok / b.sent : NAN;
    c->success_new = n.has_counts && n.sent > 0 ? n.ok / n.sent : NAN;
    const cell_side *sides[2] = {&b, &n};
    const char *names[2] = {"BASE", "NEW"};

    if (unlike(&b, &n, c->reason, sizeof c->reason)) {
        c->verdict = FG_VERDICT_UNLIKE;
        goto done;
    }
    for (int s = 0; s < 2; s++)
        for (int i = 0; i < sides[s]->n; i++)
            if (sides[s]->r[i].interrupted) {
                c->verdict = FG_VERDICT_INTERRUPTED;
                snprintf(c->reason, sizeof c->reason,
                         "%s repeat %d was interrupted before it finished", names[s],
                         sides[s]->r[i].repeat);
                goto done;
            }
    if (!b.n || !n.n) {
        c->verdict = b.n ? FG_VERDICT_MISSING : FG_VERDICT_EXTRA;
        c->only_in = b.n ? "BASE" : "NEW";
        int reps = b.n + n.n;
        snprintf(c->reason, sizeof c->reason, "only in %s (%d repeat%s)", c->only_in, reps,
                 reps == 1 ? "" : "s");
        goto done;
    }
    for (int s = 0; s < 2; s++)
        for (int i = 0; i < sides[s]->n; i++) {
            const repeat_vals *r = &sides[s]->r[i];
            if (r->n > 0 && !(r->ok == 0)) continue;
            c->verdict = FG_VERDICT_FAILED;
            if (!isnan(r->sent))
                snprintf(c->reason, sizeof c->reason,
                         "%s repeat %d: no successful request (%g of %g ok)", names[s], r->repeat,
                         r->ok, r->sent);
            else
                snprintf(c->reason, sizeof c->reason, "%s repeat %d: no latency sample",
                         names[s], r->repeat);
            goto done;
        }

    double margin[FG_METRIC_COUNT];
    cell_margins(o, k->id, margin);
    for (int m = 0; m < FG_METRIC_COUNT; m++)
        if (test_metric(c, (fg_metric_kind)m, &b, &n, o, margin[m], err) != 0) {
            side_free(&b);
            side_free(&n);
            return -1;
        }
    if (o->paired) {
        for (int i = 0; i < b.n; i++)
            c->pairs += find_repeat(&b, b.r[i].repeat) == &b.r[i] &&
                        find_repeat(&n, b.r[i].repeat) != NULL;
        note_unpaired(c, &b, &n);
        find_culprit(c, &b, &n, o);
    }
    if (o->effect_sizes) effect_sizes(c, &b, &n);
done:
    side_free(&b);
    side_free(&n);
    return 0;
}

static int settled(fg_verdict v)
{
    return v == FG_VERDICT_MISSING || v == FG_VERDICT_EXTRA || v == FG_VERDICT_FAILED ||
           v == FG_VERDICT_INTERRUPTED || v == FG_VERDICT_UNLIKE;
}

/* Worst first: regression, inconclusive, no regression. */
static fg_verdict worse_of(fg_verdict a, fg_verdict b)
{
    static const int rank[FG_VERDICT_COUNT] = {[FG_VERDICT_NO_REGRESSION] = 0,
                                               [FG_VERDICT_INCONCLUSIVE] = 1,
                                               [FG_VERDICT_REGRESSION] = 2};
    return rank[b] > rank[a] ? b : a;
}

/* A tested metric's verdict at this look's levels (compare.h). */
static fg_verdict judge_metric(fg_metric_compare *m, double alpha_level, double beta_level)
{
    m->alpha_level = alpha_level;
    m->beta_level = beta_level;
    m->improved = m->p_better <= alpha_level;
    if (m->p_regression <= alpha_level) m->verdict = FG_VERDICT_REGRESSION;
    else if (m->margin <= 0 || m->p_no_regression <= beta_level)
        m->verdict = FG_VERDICT_NO_REGRESSION;   /* a watched metric holds nothing open */
    else m->verdict = FG_VERDICT_INCONCLUSIVE;
    return m->verdict;
}

/* Pass 2 for one tested cell: verdicts at the look's levels; the reason. */
static void judge_cell(fg_cell_compare *c, const fg_compare_opts *o, double alpha_level,
                       double beta_level)
{
    size_t len = 0;
    char notes[sizeof c->reason];
    snprintf(notes, sizeof notes, "%s", c->reason);   /* unpaired repeats, from pass 1 */
    c->reason[0] = 0;
    int insufficient = 0, open = 0;
    for (int k = 0; k < FG_METRIC_COUNT; k++) {
        fg_metric_compare *m = &c->metric[k];
        if (metric_na(m)) {
            m->verdict = FG_VERDICT_NO_REGRESSION;   /* neither file has it: not gated */
            continue;
        }
        if (isnan(m->p_regression)) {
            if (!insufficient++)
                append(c->reason, sizeof c->reason, &len, "%sinsufficient data:",
                       len ? "; " : "");
            const char *sep = insufficient > 1 ? "," : "";
            if (o->paired)
                append(c->reason, sizeof c->reason, &len, "%s %s in %d complete pair%s", sep,
                       fg_metric_names[k], m->n_base, m->n_base == 1 ? "" : "s");
            else
                append(c->reason, sizeof c->reason, &len, "%s %s in %d BASE / %d NEW repeats",
                       sep, fg_metric_names[k], m->n_base, m->n_new);
            continue;
        }
        fg_verdict v = judge_metric(m, alpha_level, beta_level);
        if (v == FG_VERDICT_REGRESSION)
            append(c->reason, sizeof c->reason, &len, "%s%s x%.3f: worse (p=%.2g <= %.2g)",
                   len ? "; " : "", fg_metric_names[k], m->ratio, m->p_regression, alpha_level);
        else if (v == FG_VERDICT_INCONCLUSIVE)
            open++;
    }
    if (open && !insufficient)
        append(c->reason, sizeof c->reason, &len, "%s%d metric%s neither worse nor shown inside "
               "the margin yet", len ? "; " : "", open, open == 1 ? "" : "s");
    c->latency = worse_of(c->metric[FG_METRIC_CENTRE].verdict, c->metric[FG_METRIC_TAIL].verdict);
    c->throughput = c->metric[FG_METRIC_THROUGHPUT].verdict;
    /* Reliability: failed requests leave no latency samples, so a run that
     * fails more must not pass on the latency of its few survivors. */
    c->success = FG_VERDICT_NO_REGRESSION;   /* no counts in the file: not gated, printed n/a */
    if (!isnan(c->success_base) && !isnan(c->success_new) &&
        c->success_new < c->success_base - o->success_tolerance) {
        c->success = FG_VERDICT_REGRESSION;
        append(c->reason, sizeof c->reason, &len, "%ssuccess %.1f%% -> %.1f%%, more than %.0f "
               "points lower", len ? "; " : "", 100 * c->success_base, 100 * c->success_new,
               100 * o->success_tolerance);
    }
    c->verdict = worse_of(worse_of(c->latency, c->throughput), c->success);
    if (notes[0]) append(c->reason, sizeof c->reason, &len, "%s%s", len ? "; " : "", notes);
}

/* ---- the comparison ------------------------------------------------------ */

static int seen_before(const cJSON *exps, const cJSON *upto, const cell_key *k)
{
    const cJSON *e;
    cJSON_ArrayForEach(e, exps) {
        if (e == upto) return 0;
        if (in_cell(e, k)) return 1;
    }
    return 0;
}

static int has_cell(const cJSON *exps, const cell_key *k)
{
    const cJSON *e;
    cJSON_ArrayForEach(e, exps)
        if (in_cell(e, k)) return 1;
    return 0;
}

static int run_interrupted(const cJSON *root)
{
    return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(root, "run"), "interrupted"));
}

void fg_compare_report_recount(fg_compare_report *r)
{
    memset(r->count, 0, sizeof r->count);
    for (int i = 0; i < r->n; i++) r->count[r->cells[i].verdict]++;
    r->unlike = r->count[FG_VERDICT_UNLIKE];
    int failed = r->count[FG_VERDICT_REGRESSION] || r->count[FG_VERDICT_MISSING] ||
                 r->count[FG_VERDICT_EXTRA] || r->count[FG_VERDICT_FAILED] ||
                 r->count[FG_VERDICT_INTERRUPTED] || r->unlike || r->base_interrupted ||
                 r->new_interrupted || r->n == 0;
    r->outcome = failed ? FG_OUTCOME_FAIL
               : r->count[FG_VERDICT_INCONCLUSIVE] ? FG_OUTCOME_INCONCLUSIVE : FG_OUTCOME_PASS;
}

int fg_compare_results(const cJSON *base, const char *base_label, const cJSON *new_,
                       const char *new_label, const fg_compare_opts *o,
                       fg_compare_report *out, fg_err *err)
{
    memset(out, 0, sizeof *out);
    const char *blabel = base_label ? base_label : "BASE";
    const char *nlabel = new_label ? new_label : "NEW";
    const cJSON *bexps = fg_results_experiments(base), *nexps = fg_results_experiments(new_);
    if (!cJSON_IsArray(bexps)) return fg_err_set(err, "%s: no experiments array", blabel);
    if (!cJSON_IsArray(nexps)) return fg_err_set(err, "%s: no experiments array", nlabel);

    int cap = cJSON_GetArraySize(bexps) + cJSON_GetArraySize(nexps), rc = -1;
    cell_key *keys = malloc((cap ? (size_t)cap : 1) * sizeof *keys);
    hd_cache hd = {0, NULL, NULL};
    out->cells = calloc(cap ? (size_t)cap : 1, sizeof *out->cells);
    if (!keys || !out->cells) {
        fg_err_set(err, "out of memory");
        goto done;
    }
    /* The cells: BASE's in its order, then those only NEW has. All are
     * known before any is judged, so a line can say when its id is shared. */
    const cJSON *sides[2] = {bexps, nexps};
    const char *labels[2] = {blabel, nlabel};
    int n_keys = 0;
    for (int side = 0; side < 2; side++) {
        const cJSON *e;
        int index = 0;
        cJSON_ArrayForEach(e, sides[side]) {
            cell_key k = {fg_results_category(e), entry_id(e)};
            if (!k.id || !k.category) {
                fg_err_set(err, "%s: experiments[%d]: %s", labels[side], index,
                           !k.id ? "no experiment_id" : "category is not a string");
                goto done;
            }
            index++;
            if (seen_before(sides[side], e, &k) || (side == 1 && has_cell(bexps, &k))) continue;
            keys[n_keys++] = k;
        }
    }
    for (int i = 0; i < n_keys; i++) {
        int id_shared = 0;
        for (int j = 0; j < n_keys && !id_shared; j++)
            id_shared = j != i && !strcmp(keys[j].id, keys[i].id);
        if (examine_cell(bexps, blabel, nexps, nlabel, &keys[i], id_shared, o,
                         &out->cells[out->n], &hd, err) != 0)
            goto done;
        out->n++;
    }
    /* The alpha family: every gated metric of every cell that can be
     * tested (an A/B run fixes it for all its looks: o->tests). */
    int tests = 0;
    for (int i = 0; i < out->n; i++)
        if (!settled(out->cells[i].verdict))
            for (int k = 0; k < FG_METRIC_COUNT; k++) tests += !metric_na(&out->cells[i].metric[k]);
    out->tests = o->tests > 0 ? o->tests : tests > 0 ? tests : 1;
    double alpha_level = fg_look_level(o->alpha / out->tests, o->look.t_prev, o->look.t,
                                       o->look.final);
    double beta_level = fg_look_level(o->beta, o->look.t_prev, o->look.t, o->look.final);
    out->base_interrupted = run_interrupted(base);
    out->new_interrupted = run_interrupted(new_);
    for (int i = 0; i < out->n; i++)
        if (!settled(out->cells[i].verdict))
            judge_cell(&out->cells[i], o, alpha_level, beta_level);
    fg_compare_report_recount(out);
    size_t len = 0;
    if (out->base_interrupted || out->new_interrupted)
        append(out->reason, sizeof out->reason, &len, "%s run was interrupted: its cells are "
               "incomplete", out->base_interrupted && out->new_interrupted ? "the BASE and NEW"
               : out->base_interrupted ? "the BASE" : "the NEW");
    if (out->n == 0)
        append(out->reason, sizeof out->reason, &len, "%sno cells in either file: nothing was "
               "compared", len ? "; " : "");
    rc = 0;
done:
    free(keys);
    hd_cache_free(&hd);
    if (rc != 0) fg_compare_report_free(out);
    return rc;
}

void fg_compare_report_free(fg_compare_report *r)
{
    free(r->cells);
    memset(r, 0, sizeof *r);
}

/* ---- printing ------------------------------------------------------------ */

/* A p-value: below 1e-16 the t tail has left double precision behind. */
static void append_p(char *line, size_t size, size_t *len, const char *name, double p)
{
    if (p < 1e-16) append(line, size, len, " %s<1e-16", name);
    else append(line, size, len, " %s=%.2g", name, p);
}

void fg_compare_format(const fg_cell_compare *c, char *line, size_t size)
{
    size_t len = 0;
    line[0] = 0;
    append(line, size, &len, "%-17s %s", fg_verdict_name(c->verdict), c->experiment_id);
    if (c->id_shared)
        append(line, size, &len, " [%s]", c->category[0] ? c->category : "no category");
    if (settled(c->verdict)) {
        append(line, size, &len, ": %s", c->reason);
        return;
    }
    append(line, size, &len, ":");
    for (int k = 0; k < FG_METRIC_COUNT; k++) {
        const fg_metric_compare *m = &c->metric[k];
        append(line, size, &len, "%s %s", k ? "," : "", fg_metric_names[k]);
        if (isnan(m->ratio)) {
            append(line, size, &len, " n/a");
            continue;
        }
        append(line, size, &len, " x%.3f", m->ratio);
        if (!isnan(m->ci_lo)) append(line, size, &len, " CI [%.3f, %.3f]", m->ci_lo, m->ci_hi);
        if (!isnan(m->p_regression)) {
            append(line, size, &len, " %s", m->verdict == FG_VERDICT_REGRESSION ? "worse"
                   : m->verdict == FG_VERDICT_INCONCLUSIVE ? "open"
                   : m->margin > 0 ? "inside" : "not worse");
            append_p(line, size, &len, "p", m->p_regression);
            if (!isnan(m->p_no_regression)) append(line, size, &len, "/%.2g", m->p_no_regression);
            if (m->improved) append(line, size, &len, " (better)");
        }
    }
    if (!isnan(c->success_base) && !isnan(c->success_new))
        append(line, size, &len, "; success %.1f%% -> %.1f%%", 100.0 * c->success_base,
               100.0 * c->success_new);
    else
        append(line, size, &len, "; success n/a");
    append(line, size, &len, "; %d/%d repeats", c->repeats_base, c->repeats_new);
    if (c->pairs) append(line, size, &len, " (%d pairs)", c->pairs);
    append(line, size, &len, ", %d/%d samples", c->n_base, c->n_new);
    /* Reported effect sizes over the pooled samples. */
    if (!isnan(c->p95_ratio))
        append(line, size, &len, "; pooled p95(HD) x%.3f (%.1f -> %.1f ms)", c->p95_ratio,
               c->p95_base, c->p95_new);
    if (!isnan(c->hl_shift_ms)) append(line, size, &len, ", HL shift %+.1f ms", c->hl_shift_ms);
    if (!isnan(c->cliffs_delta)) append(line, size, &len, ", Cliff's delta %+.2f", c->cliffs_delta);
    if (c->reason[0]) append(line, size, &len, "; %s", c->reason);
}

static void append_culprit(char *text, size_t size, size_t *len, const char *lead,
                           const fg_culprit *p)
{
    append(text, size, len, "%s%s%s%s", lead, p->function, p->function[0] ? " " : "", p->part);
    if (!isnan(p->ratio))
        append(text, size, len, " x%.2f [%.2f, %.2f]", p->ratio, p->ci_lo, p->ci_hi);
    append(text, size, len, " %+.1f ms [%+.1f, %+.1f]", p->added_ms, p->added_lo, p->added_hi);
    if (!isnan(p->share)) append(text, size, len, ": %.0f %% of the added latency", 100 * p->share);
    append(text, size, len, "\n");
}

void fg_compare_format_culprit(const fg_cell_compare *c, char *text, size_t size)
{
    size_t len = 0;
    text[0] = 0;
    if (isnan(c->added_ms) || (c->n_path == 0 && c->n_fn == 0)) return;
    append(text, size, &len, "  culprit of %s (%+.1f ms added to the mean):\n", c->experiment_id,
           c->added_ms);
    /* Functions first (what to look at), then where on the critical path
     * the time went; parts that added nothing measurable are left out. */
    for (int i = 0, shown = 0; i < c->n_fn && shown < 3; i++)
        if (c->fn[i].added_lo > 0 || (i == 0 && c->fn[i].added_ms > 0)) {
            append_culprit(text, size, &len, "    ", &c->fn[i]);
            shown++;
        }
    for (int i = 0, shown = 0; i < c->n_path && shown < 2; i++)
        if (c->path[i].added_lo > 0 || (i == 0 && c->path[i].added_ms > 0)) {
            append_culprit(text, size, &len, "    critical path ", &c->path[i]);
            shown++;
        }
}
