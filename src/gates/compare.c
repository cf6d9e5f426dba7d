/* compare.c — the regression gate (the rules and the why are in
 * compare.h): the cells of two results files gathered, checked for
 * identity and completeness, tested on their per-repeat statistics,
 * corrected for multiplicity across the whole comparison, and printed one
 * line each. The statistics themselves are in stats.c.
 *
 * Three passes, because Benjamini–Hochberg needs every p-value of the
 * comparison before any verdict: (1) per cell, gather its repeats and
 * either settle it (unlike, interrupted, missing, extra, failed) or run the
 * t-tests; (2) adjust all "worse" p-values as one family and all "better"
 * ones as another; (3) per cell, turn adjusted p-values, ratios and
 * tolerances into verdicts, and the report into pass/fail and "decided".
 *
 * Per-repeat values are logs (ms or rps), so differences are log ratios and
 * exp(mean difference) is the ratio of geometric means. A repeat's centre
 * and tail are Harrell–Davis estimates of its own samples: the median is
 * steady even over 20 samples; the p95 of 20 samples is noisy, which is
 * exactly the repeat-to-repeat spread the t-test then accounts for. */
#include "flowgate/compare.h"
#include "flowgate/results.h"

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
    o->alpha = 0.01;
    o->p50_tolerance = 0.05;
    o->p95_tolerance = 0.05;
    o->throughput_tolerance = 0.05;
    o->success_tolerance = 0.05;
    o->confidence = 0.95;
    o->equivalence_margin = 0.10;
    o->min_repeats = 3;
    o->paired = 0;
    o->allow_insufficient = 0;
    o->matrix = 1;
    o->cells = NULL;
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
    static const char *const top[] = {"alpha", "p50_ms", "p95_ms", "throughput_rps",
                                      "success_rate", "confidence", "equivalence",
                                      "min_repeats", "matrix", "cells", NULL};
    static const char *const per_cell[] = {"p50_ms", "p95_ms", "throughput_rps", NULL};
    char where[600];
    snprintf(where, sizeof where, "%s: ", path);
    double min_repeats = o->min_repeats;
    if (known_keys(root, top, where, err) ||
        opt_number(root, "alpha", 1e-12, 0.5, &o->alpha, where, err) ||
        opt_number(root, "p50_ms", 0, 10, &o->p50_tolerance, where, err) ||
        opt_number(root, "p95_ms", 0, 10, &o->p95_tolerance, where, err) ||
        opt_number(root, "throughput_rps", 0, 1, &o->throughput_tolerance, where, err) ||
        opt_number(root, "success_rate", 0, 1, &o->success_tolerance, where, err) ||
        opt_number(root, "confidence", 0.5, 1, &o->confidence, where, err) ||
        opt_number(root, "equivalence", 0, 10, &o->equivalence_margin, where, err) ||
        opt_number(root, "min_repeats", 2, 1e6, &min_repeats, where, err))
        goto bad;
    if (min_repeats != floor(min_repeats)) {
        fg_err_set(err, "%smin_repeats: must be a whole number", where);
        goto bad;
    }
    o->min_repeats = (int)min_repeats;
    const cJSON *matrix = cJSON_GetObjectItemCaseSensitive(root, "matrix");
    if (matrix) {
        if (!cJSON_IsBool(matrix)) {
            fg_err_set(err, "%smatrix: must be true or false", where);
            goto bad;
        }
        o->matrix = cJSON_IsTrue(matrix);
    }
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
                opt_number(cell, "p50_ms", 0, 10, &dummy, where, err) ||
                opt_number(cell, "p95_ms", 0, 10, &dummy, where, err) ||
                opt_number(cell, "throughput_rps", 0, 1, &dummy, where, err))
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
    static const char *const names[] = {"ok", "regression", "improvement", "insufficient data",
                                        "missing", "extra", "failed", "interrupted", "unlike"};
    return (unsigned)v < FG_VERDICT_COUNT ? names[v] : "?";
}

static const char *const metric_names[FG_METRIC_COUNT] = {"centre", "tail", "throughput"};

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

static void cell_tolerances(const fg_compare_opts *o, const char *id, double tol[FG_METRIC_COUNT])
{
    tol[FG_METRIC_CENTRE] = o->p50_tolerance;
    tol[FG_METRIC_TAIL] = o->p95_tolerance;
    tol[FG_METRIC_THROUGHPUT] = o->throughput_tolerance;
    static const char *const keys[FG_METRIC_COUNT] = {"p50_ms", "p95_ms", "throughput_rps"};
    const cJSON *cell = cJSON_GetObjectItemCaseSensitive(o->cells, id);
    for (int m = 0; m < FG_METRIC_COUNT; m++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(cell, keys[m]);
        if (cJSON_IsNumber(v)) tol[m] = v->valuedouble;
    }
}

static void metric_init(fg_metric_compare *m)
{
    memset(m, 0, sizeof *m);
    m->verdict = FG_VERDICT_OK;
    m->base = m->new_ = m->ratio = m->ci_lo = m->ci_hi = m->worse_bound = m->df = NAN;
    m->p_worse = m->p_better = m->q_worse = m->q_better = NAN;
}

/* A metric that neither file measured (throughput of older files): not gated. */
static int metric_na(const fg_metric_compare *m)
{
    return m->n_base == 0 && m->n_new == 0 && m->verdict == FG_VERDICT_OK;
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

/* A metric's p-values and confidence bounds from its t-test on log values. */
static void finish_test(fg_metric_compare *m, fg_metric_kind kind, const fg_ttest *t,
                        const fg_compare_opts *o)
{
    /* Latency is worse when it rises, throughput when it falls. */
    int up_is_worse = kind != FG_METRIC_THROUGHPUT;
    m->df = t->df;
    m->p_worse = up_is_worse ? t->p_greater : t->p_less;
    m->p_better = up_is_worse ? t->p_less : t->p_greater;
    double half = (1.0 - o->confidence) / 2;
    m->ci_lo = exp(fg_ttest_bound(t, half));
    m->ci_hi = exp(fg_ttest_bound(t, 1.0 - half));
    m->worse_bound = exp(fg_ttest_bound(t, up_is_worse ? o->confidence : 1.0 - o->confidence));
}

/* Fills one metric's values, ratio and t-test (p-values unadjusted). */
static int test_metric(fg_cell_compare *c, fg_metric_kind kind, const cell_side *b,
                       const cell_side *n, const fg_compare_opts *o, double tol, fg_err *err)
{
    fg_metric_compare *m = &c->metric[kind];
    metric_init(m);
    m->tolerance = tol;
    int cap = b->n + n->n;
    double *x = malloc((size_t)(cap ? cap : 1) * sizeof *x);
    double *y = malloc((size_t)(cap ? cap : 1) * sizeof *y);
    double *d = malloc((size_t)(cap ? cap : 1) * sizeof *d);
    if (!x || !y || !d) {
        free(x); free(y); free(d);
        return fg_err_set(err, "out of memory");
    }
    fg_ttest t;
    int tested = 0;
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
        if (np >= o->min_repeats && fg_paired_t(d, np, &t) == 0) tested = 1;
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
            tested = 1;
    }
    if (!tested) {
        m->verdict = FG_VERDICT_INSUFFICIENT;
        goto out;
    }
    finish_test(m, kind, &t, o);
out:
    free(x); free(y); free(d);
    return 0;
}

static void cell_init(fg_cell_compare *c, const cell_key *k, int id_shared)
{
    memset(c, 0, sizeof *c);
    snprintf(c->experiment_id, sizeof c->experiment_id, "%s", k->id);
    snprintf(c->category, sizeof c->category, "%s", k->category);
    c->id_shared = id_shared;
    c->verdict = c->latency = c->throughput = c->success = FG_VERDICT_OK;
    for (int m = 0; m < FG_METRIC_COUNT; m++) metric_init(&c->metric[m]);
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
/* The cell's repeats stay in *bp and *np (the caller frees them: the matrix
 * test needs them after every cell is examined). */
static int examine_cell(const cJSON *bexps, const char *blabel, const cJSON *nexps,
                        const char *nlabel, const cell_key *k, int id_shared,
                        const fg_compare_opts *o, fg_cell_compare *c, cell_side *bp,
                        cell_side *np, hd_cache *hd, fg_err *err)
{
    cell_init(c, k, id_shared);
    char name[512];
    if (id_shared)
        snprintf(name, sizeof name, "%s [%s]", k->id, *k->category ? k->category : "no category");
    else
        snprintf(name, sizeof name, "%s", k->id);
    cell_side b, n;
    memset(bp, 0, sizeof *bp);
    memset(np, 0, sizeof *np);
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

    double tol[FG_METRIC_COUNT];
    cell_tolerances(o, k->id, tol);
    for (int m = 0; m < FG_METRIC_COUNT; m++)
        if (test_metric(c, (fg_metric_kind)m, &b, &n, o, tol[m], err) != 0) {
            side_free(&b);
            side_free(&n);
            return -1;
        }
    if (o->paired) {
        for (int i = 0; i < b.n; i++)
            c->pairs += find_repeat(&b, b.r[i].repeat) == &b.r[i] &&
                        find_repeat(&n, b.r[i].repeat) != NULL;
        note_unpaired(c, &b, &n);
    }
    effect_sizes(c, &b, &n);
done:
    /* The pooled samples are done with; the repeats are kept. */
    free(b.lat);
    free(n.lat);
    b.lat = n.lat = NULL;
    *bp = b;
    *np = n;
    return 0;
}

static int settled(fg_verdict v)
{
    return v == FG_VERDICT_MISSING || v == FG_VERDICT_EXTRA || v == FG_VERDICT_FAILED ||
           v == FG_VERDICT_INTERRUPTED || v == FG_VERDICT_UNLIKE;
}

/* Worst first: regression, insufficient, improvement, ok. */
static fg_verdict worse_of(fg_verdict a, fg_verdict b)
{
    static const int rank[FG_VERDICT_COUNT] = {[FG_VERDICT_OK] = 0,
                                               [FG_VERDICT_IMPROVEMENT] = 1,
                                               [FG_VERDICT_INSUFFICIENT] = 2,
                                               [FG_VERDICT_REGRESSION] = 3};
    return rank[b] > rank[a] ? b : a;
}

/* A tested metric's verdict from its adjusted p-values, ratio and tolerance. */
static fg_verdict judge_metric(fg_metric_compare *m, fg_metric_kind kind, const fg_compare_opts *o)
{
    int throughput = kind == FG_METRIC_THROUGHPUT;
    /* The ratio in the "worse" direction: > 1 means NEW is worse. */
    double worse = throughput ? 1.0 / m->ratio : m->ratio;
    double limit = throughput ? 1.0 / (1.0 - m->tolerance) : 1.0 + m->tolerance;
    if (m->q_worse <= o->alpha && worse > limit)
        m->verdict = FG_VERDICT_REGRESSION;
    else if (m->q_better <= o->alpha && 1.0 / worse > limit)
        m->verdict = FG_VERDICT_IMPROVEMENT;
    else
        m->verdict = FG_VERDICT_OK;
    return m->verdict;
}

/* Equivalence: NEW shown no worse than the margin (the one-sided bound in
 * the worse direction inside it). */
static int equivalent_metric(const fg_metric_compare *m, fg_metric_kind kind,
                             const fg_compare_opts *o)
{
    double bound = kind == FG_METRIC_THROUGHPUT ? 1.0 / m->worse_bound : m->worse_bound;
    return bound < 1.0 + o->equivalence_margin;
}

static void append_regression(char *line, size_t size, size_t *len, const fg_metric_compare *m,
                              fg_metric_kind kind)
{
    append(line, size, len, "%s%s x%.3f beyond the %s%.0f%% tolerance (BH q=%.2g)",
           *len ? "; " : "", metric_names[kind], m->ratio,
           kind == FG_METRIC_THROUGHPUT ? "-" : "+", 100 * m->tolerance, m->q_worse);
}

/* Pass 3 for one tested cell: verdicts from adjusted p-values, ratios and
 * tolerances; the reason line; decided. */
static void judge_cell(fg_cell_compare *c, const fg_compare_opts *o)
{
    size_t len = 0;
    char notes[sizeof c->reason];
    snprintf(notes, sizeof notes, "%s", c->reason);   /* unpaired repeats, from pass 1 */
    c->reason[0] = 0;
    int equivalent = 1, insufficient = 0;
    for (int k = 0; k < FG_METRIC_COUNT; k++) {
        fg_metric_compare *m = &c->metric[k];
        if (metric_na(m)) continue;
        if (m->verdict == FG_VERDICT_INSUFFICIENT) {
            equivalent = 0;
            if (!insufficient++)
                append(c->reason, sizeof c->reason, &len, "%sinsufficient data:",
                       len ? "; " : "");
            if (o->paired)
                append(c->reason, sizeof c->reason, &len, " %s in %d complete pair%s",
                       metric_names[k], m->n_base, m->n_base == 1 ? "" : "s");
            else
                append(c->reason, sizeof c->reason, &len, " %s in %d BASE / %d NEW repeats",
                       metric_names[k], m->n_base, m->n_new);
            continue;
        }
        if (judge_metric(m, (fg_metric_kind)k, o) == FG_VERDICT_REGRESSION)
            append_regression(c->reason, sizeof c->reason, &len, m, (fg_metric_kind)k);
        if (!equivalent_metric(m, (fg_metric_kind)k, o)) equivalent = 0;
    }
    c->latency = worse_of(c->metric[FG_METRIC_CENTRE].verdict, c->metric[FG_METRIC_TAIL].verdict);
    c->throughput = metric_na(&c->metric[FG_METRIC_THROUGHPUT])
                        ? FG_VERDICT_OK : c->metric[FG_METRIC_THROUGHPUT].verdict;
    /* Reliability: failed requests leave no latency samples, so a run that
     * fails more must not pass on the latency of its few survivors. */
    if (isnan(c->success_base) || isnan(c->success_new))
        c->success = FG_VERDICT_OK;      /* no counts in the file: not gated, printed n/a */
    else if (c->success_new < c->success_base - o->success_tolerance) {
        c->success = FG_VERDICT_REGRESSION;
        append(c->reason, sizeof c->reason, &len, "%ssuccess %.1f%% -> %.1f%%, more than %.0f "
               "points lower", len ? "; " : "", 100 * c->success_base, 100 * c->success_new,
               100 * o->success_tolerance);
    } else if (c->success_new > c->success_base + o->success_tolerance)
        c->success = FG_VERDICT_IMPROVEMENT;
    c->verdict = worse_of(worse_of(c->latency, c->throughput), c->success);
    c->decided = c->verdict == FG_VERDICT_REGRESSION || (equivalent && !insufficient);
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

/* The value of metric k of repeat index j on one side of a cell (NAN when
 * the cell lacks it; a repeat index twice in a file counts once). */
static double value_at(const cell_side *s, int j, int k)
{
    const repeat_vals *r = find_repeat(s, j);
    return r ? r->v[k] : NAN;
}

/* The repeat indices of side s (0 BASE, 1 NEW; paired: of BASE, kept only
 * when NEW has them too) at which every included cell has metric k. */
static int common_repeats(const cell_side (*sides)[2], const int *in, int n_in, int s, int k,
                          int paired, int *idx)
{
    int n = 0;
    const cell_side *first = &sides[in[0]][s];
    for (int i = 0; i < first->n; i++) {
        int j = first->r[i].repeat, ok = find_repeat(first, j) == &first->r[i];
        for (int c = 0; c < n_in && ok; c++) {
            ok = !isnan(value_at(&sides[in[c]][s], j, k));
            if (ok && paired) ok = !isnan(value_at(&sides[in[c]][1 - s], j, k));
        }
        if (ok) idx[n++] = j;
    }
    return n;
}

/* Pass 1b: each metric over the matrix, on per-repeat means over the cells
 * that were tested on it and keep the default tolerance (compare.h). */
static int matrix_tests(fg_compare_report *out, const cell_side (*sides)[2],
                        const fg_compare_opts *o, fg_err *err)
{
    const double tolerance[FG_METRIC_COUNT] = {o->p50_tolerance, o->p95_tolerance,
                                               o->throughput_tolerance};
    for (int k = 0; k < FG_METRIC_COUNT; k++) metric_init(&out->matrix[k]);
    if (!o->matrix || out->n < 2) return 0;
    int cap = 0;
    for (int i = 0; i < out->n; i++)
        if (sides[i][0].n > cap) cap = sides[i][0].n;
    for (int i = 0; i < out->n; i++)
        if (sides[i][1].n > cap) cap = sides[i][1].n;
    int *in = malloc((size_t)out->n * sizeof *in), *ib = malloc((size_t)(cap + 1) * sizeof *ib),
        *inew = malloc((size_t)(cap + 1) * sizeof *inew);
    double *x = malloc((size_t)(cap + 1) * sizeof *x), *y = malloc((size_t)(cap + 1) * sizeof *y),
           *d = malloc((size_t)(cap + 1) * sizeof *d);
    int rc = 0;
    if (!in || !ib || !inew || !x || !y || !d) {
        rc = fg_err_set(err, "out of memory");
        goto out;
    }
    for (int k = 0; k < FG_METRIC_COUNT; k++) {
        fg_metric_compare *m = &out->matrix[k];
        m->tolerance = tolerance[k];
        int n_in = 0;
        for (int i = 0; i < out->n; i++) {
            const fg_cell_compare *c = &out->cells[i];
            if (settled(c->verdict) || isnan(c->metric[k].p_worse) ||
                c->metric[k].tolerance != tolerance[k])
                continue;
            in[n_in++] = i;
        }
        if (n_in < 2) continue;
        int nb = common_repeats(sides, in, n_in, 0, k, o->paired, ib);
        int nn = o->paired ? nb : common_repeats(sides, in, n_in, 1, k, 0, inew);
        if (o->paired) memcpy(inew, ib, (size_t)nb * sizeof *ib);
        for (int j = 0; j < nb; j++) {
            x[j] = 0;
            for (int c = 0; c < n_in; c++) x[j] += value_at(&sides[in[c]][0], ib[j], k) / n_in;
        }
        for (int j = 0; j < nn; j++) {
            y[j] = 0;
            for (int c = 0; c < n_in; c++) y[j] += value_at(&sides[in[c]][1], inew[j], k) / n_in;
            if (o->paired) d[j] = y[j] - x[j];
        }
        fg_ttest t;
        if (nb < o->min_repeats || nn < o->min_repeats) continue;
        if (o->paired ? fg_paired_t(d, nb, &t) != 0 : fg_welch_t(x, nb, y, nn, &t) != 0) continue;
        out->matrix_cells[k] = n_in;
        m->n_base = nb;
        m->n_new = nn;
        m->base = exp(mean_of(x, nb));
        m->new_ = exp(mean_of(y, nn));
        m->ratio = exp(t.diff);
        finish_test(m, (fg_metric_kind)k, &t, o);
    }
out:
    free(in); free(ib); free(inew); free(x); free(y); free(d);
    return rc;
}

/* Pass 2: one BH family of every "worse" p-value (cells and matrix), one
 * of every "better". */
static int adjust(fg_compare_report *out, fg_err *err)
{
    int n = (out->n + 1) * FG_METRIC_COUNT;
    double *p = malloc((size_t)(n ? n : 1) * sizeof *p), *q = malloc((size_t)(n ? n : 1) * sizeof *q);
    if (!p || !q) {
        free(p); free(q);
        return fg_err_set(err, "out of memory");
    }
    for (int pass = 0; pass < 2; pass++) {
        for (int i = 0; i <= out->n; i++)
            for (int k = 0; k < FG_METRIC_COUNT; k++) {
                const fg_metric_compare *m = i < out->n ? &out->cells[i].metric[k]
                                                        : &out->matrix[k];
                p[i * FG_METRIC_COUNT + k] = pass ? m->p_better : m->p_worse;
            }
        int m = fg_bh_adjust(p, n, q);
        if (m < 0) {
            free(p); free(q);
            return fg_err_set(err, "out of memory");
        }
        if (!pass) out->tests = m;
        for (int i = 0; i <= out->n; i++)
            for (int k = 0; k < FG_METRIC_COUNT; k++) {
                fg_metric_compare *mc = i < out->n ? &out->cells[i].metric[k] : &out->matrix[k];
                if (pass) mc->q_better = q[i * FG_METRIC_COUNT + k];
                else mc->q_worse = q[i * FG_METRIC_COUNT + k];
            }
    }
    free(p);
    free(q);
    return 0;
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
    cell_side (*sides_of)[2] = calloc(cap ? (size_t)cap : 1, sizeof *sides_of);
    hd_cache hd = {0, NULL, NULL};
    out->cells = calloc(cap ? (size_t)cap : 1, sizeof *out->cells);
    if (!keys || !out->cells || !sides_of) {
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
        fg_cell_compare *c = &out->cells[out->n];
        if (examine_cell(bexps, blabel, nexps, nlabel, &keys[i], id_shared, o, c,
                         &sides_of[out->n][0], &sides_of[out->n][1], &hd, err) != 0)
            goto done;
        out->n++;
    }
    if (matrix_tests(out, (const cell_side (*)[2])sides_of, o, err) != 0 ||
        adjust(out, err) != 0)
        goto done;

    out->base_interrupted = run_interrupted(base);
    out->new_interrupted = run_interrupted(new_);
    int all_decided = 1;
    for (int i = 0; i < out->n; i++) {
        fg_cell_compare *c = &out->cells[i];
        if (settled(c->verdict))
            c->decided = 1;      /* more repeats cannot cure a missing or unlike cell */
        else
            judge_cell(c, o);
        out->count[c->verdict]++;
        all_decided &= c->decided;
    }
    out->unlike = out->count[FG_VERDICT_UNLIKE];
    out->failed = out->count[FG_VERDICT_REGRESSION] || out->count[FG_VERDICT_MISSING] ||
                  out->count[FG_VERDICT_EXTRA] || out->count[FG_VERDICT_FAILED] ||
                  out->count[FG_VERDICT_INTERRUPTED] || out->unlike ||
                  (out->count[FG_VERDICT_INSUFFICIENT] && !o->allow_insufficient);
    size_t len = 0;
    if (out->base_interrupted || out->new_interrupted) {
        out->failed = 1;
        append(out->reason, sizeof out->reason, &len, "%s run was interrupted: its cells are "
               "incomplete", out->base_interrupted && out->new_interrupted ? "the BASE and NEW"
               : out->base_interrupted ? "the BASE" : "the NEW");
    }
    if (out->n == 0) {
        out->failed = 1;
        append(out->reason, sizeof out->reason, &len, "%sno cells in either file: nothing was "
               "compared", len ? "; " : "");
    }
    /* The matrix: a regression of the whole fails the comparison too. */
    out->matrix_verdict = FG_VERDICT_OK;
    for (int k = 0; k < FG_METRIC_COUNT; k++)
        if (out->matrix_cells[k])
            out->matrix_verdict = worse_of(out->matrix_verdict,
                                           judge_metric(&out->matrix[k], (fg_metric_kind)k, o));
    if (out->matrix_verdict == FG_VERDICT_REGRESSION) out->failed = 1;
    out->decided = out->count[FG_VERDICT_REGRESSION] > 0 ||
                   out->matrix_verdict == FG_VERDICT_REGRESSION || all_decided || out->n == 0;
    rc = 0;
done:
    for (int i = 0; sides_of && i < out->n; i++) {
        side_free(&sides_of[i][0]);
        side_free(&sides_of[i][1]);
    }
    /* A cell that failed mid-examination left its sides freed already. */
    free(sides_of);
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
        append(line, size, &len, "%s %s", k ? "," : "", metric_names[k]);
        if (isnan(m->ratio)) {
            append(line, size, &len, " n/a");
            continue;
        }
        append(line, size, &len, " x%.3f", m->ratio);
        if (!isnan(m->ci_lo)) append(line, size, &len, " CI [%.3f, %.3f]", m->ci_lo, m->ci_hi);
        if (!isnan(m->q_worse)) append_p(line, size, &len, "q", m->q_worse);
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
    if (!isnan(c->p_slower)) append_p(line, size, &len, "MW p(slower)", c->p_slower);
    append(line, size, &len, "; latency %s, throughput %s, success %s%s",
           fg_verdict_name(c->latency), fg_verdict_name(c->throughput),
           fg_verdict_name(c->success), c->decided ? "; decided" : "");
    if (c->reason[0]) append(line, size, &len, "; %s", c->reason);
}

void fg_compare_format_matrix(const fg_compare_report *r, char *line, size_t size)
{
    size_t len = 0;
    line[0] = 0;
    int cells = 0;
    for (int k = 0; k < FG_METRIC_COUNT; k++)
        if (r->matrix_cells[k] > cells) cells = r->matrix_cells[k];
    if (!cells) return;
    append(line, size, &len, "%-17s (matrix of %d cells):", fg_verdict_name(r->matrix_verdict),
           cells);
    for (int k = 0; k < FG_METRIC_COUNT; k++) {
        const fg_metric_compare *m = &r->matrix[k];
        append(line, size, &len, "%s %s", k ? "," : "", metric_names[k]);
        if (!r->matrix_cells[k]) {
            append(line, size, &len, " n/a");
            continue;
        }
        append(line, size, &len, " x%.3f CI [%.3f, %.3f]", m->ratio, m->ci_lo, m->ci_hi);
        append_p(line, size, &len, "q", m->q_worse);
        if (r->matrix_cells[k] != cells) append(line, size, &len, " (%d cells)", r->matrix_cells[k]);
    }
    const fg_metric_compare *c = &r->matrix[FG_METRIC_CENTRE];
    if (r->matrix_cells[FG_METRIC_CENTRE])
        append(line, size, &len, "; %d/%d repeats", c->n_base, c->n_new);
    for (int k = 0; k < FG_METRIC_COUNT; k++)
        if (r->matrix_cells[k] && r->matrix[k].verdict == FG_VERDICT_REGRESSION)
            append_regression(line, size, &len, &r->matrix[k], (fg_metric_kind)k);
}
