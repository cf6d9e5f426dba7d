/* compare.c — the baseline regression gate (rules in compare.h): the cells
 * of two results files gathered, judged and printed one line each. The
 * statistics it applies are in stats.c.
 *
 * A shared 2-core machine makes single latency figures noisy, so a cell is
 * judged on all its samples: a rank test (Mann–Whitney U) says whether NEW
 * is slower at all, and a bootstrap CI of the Harrell–Davis p95 ratio says
 * whether it is slower by more than the tolerance. Both must agree; either
 * alone flags noise too often. Throughput has one value per repeat, too few
 * for a test, so it uses a separation rule (every NEW repeat below every
 * BASE repeat) plus the tolerance, and a doubled tolerance when there are
 * fewer than 3 repeats.
 *
 * A cell is (category, experiment_id): a scale file holds one id under two
 * categories, and pooling those would mix two different experiments.
 *
 * The bootstrap restarts from the fixed seed for every cell, so a cell's CI
 * does not depend on the other cells. */
#include "flowgate/compare.h"
#include "flowgate/results.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- options ------------------------------------------------------------- */

void fg_compare_opts_defaults(fg_compare_opts *o)
{
    o->alpha = 0.01;
    o->p95_tolerance = 0.20;
    o->throughput_tolerance = 0.20;
    o->success_tolerance = 0.05;
    o->resamples = 2000;
    o->confidence = 0.95;
    o->seed = 20261127;
    o->min_samples = 5;
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
    char where[600];
    snprintf(where, sizeof where, "%s: ", path);
    double resamples = o->resamples, min_samples = o->min_samples, seed = (double)o->seed;
    if (opt_number(root, "alpha", 1e-12, 0.5, &o->alpha, where, err) ||
        opt_number(root, "p95_ms", 0, 10, &o->p95_tolerance, where, err) ||
        opt_number(root, "throughput_rps", 0, 1, &o->throughput_tolerance, where, err) ||
        opt_number(root, "success_rate", 0, 1, &o->success_tolerance, where, err) ||
        opt_number(root, "confidence", 0.5, 1, &o->confidence, where, err) ||
        opt_number(root, "resamples", 100, 1e6, &resamples, where, err) ||
        opt_number(root, "min_samples", 2, 1e6, &min_samples, where, err) ||
        opt_number(root, "seed", 0, 9007199254740992.0, &seed, where, err))
        goto bad;
    o->resamples = (int)resamples;
    o->min_samples = (int)min_samples;
    o->seed = (uint64_t)seed;
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
            if (opt_number(cell, "p95_ms", 0, 10, &dummy, where, err) ||
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

/* ---- cells --------------------------------------------------------------- */

const char *fg_verdict_name(fg_verdict v)
{
    static const char *const names[] = {"ok", "regression", "improvement", "insufficient data",
                                        "missing"};
    return (unsigned)v <= FG_VERDICT_MISSING ? names[v] : "?";
}

/* All repeats of one cell in one file. */
typedef struct cell_samples {
    double *lat;
    int n_lat;
    double *tp;
    int n_tp;
    double sent, ok;     /* measured requests, summed over repeats */
    int repeats;
} cell_samples;

static void samples_free(cell_samples *s)
{
    free(s->lat);
    free(s->tp);
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

/* name: the cell as errors show it, "<id>" or "<id> [<category>]". */
static int gather(const cJSON *exps, const cell_key *k, const char *label, const char *name,
                  cell_samples *s, fg_err *err)
{
    memset(s, 0, sizeof *s);
    int cap_lat = 0, cap_tp = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, exps) {
        if (!in_cell(e, k)) continue;
        s->repeats++;
        const cJSON *lat = cJSON_GetObjectItemCaseSensitive(e, "latency_samples_ms");
        if (lat && !cJSON_IsArray(lat)) {
            samples_free(s);
            return fg_err_set(err, "%s: %s: latency_samples_ms is not an array", label, name);
        }
        int i = 0;
        const cJSON *v;
        cJSON_ArrayForEach(v, lat) {
            if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble) || v->valuedouble < 0) {
                samples_free(s);
                return fg_err_set(err, "%s: %s: latency_samples_ms[%d] is not a latency", label,
                                  name, i);
            }
            if (s->n_lat == cap_lat) {
                cap_lat = cap_lat ? 2 * cap_lat : 256;
                double *p = realloc(s->lat, (size_t)cap_lat * sizeof *p);
                if (!p) { samples_free(s); return fg_err_set(err, "out of memory"); }
                s->lat = p;
            }
            s->lat[s->n_lat++] = v->valuedouble;
            i++;
        }
        double sent, ok;
        if (fg_results_metric(e, "sent", &sent) == 0 && fg_results_metric(e, "ok", &ok) == 0 &&
            sent >= 0 && ok >= 0 && ok <= sent) {
            s->sent += sent;
            s->ok += ok;
        }
        const cJSON *tp = cJSON_GetObjectItemCaseSensitive(e, "throughput_rps");
        if (cJSON_IsNumber(tp) && isfinite(tp->valuedouble) && tp->valuedouble >= 0) {
            if (s->n_tp == cap_tp) {
                cap_tp = cap_tp ? 2 * cap_tp : 8;
                double *p = realloc(s->tp, (size_t)cap_tp * sizeof *p);
                if (!p) { samples_free(s); return fg_err_set(err, "out of memory"); }
                s->tp = p;
            }
            s->tp[s->n_tp++] = tp->valuedouble;
        }
    }
    return 0;
}

static void cell_tolerances(const fg_compare_opts *o, const char *id, double *p95_tol,
                            double *tp_tol)
{
    *p95_tol = o->p95_tolerance;
    *tp_tol = o->throughput_tolerance;
    const cJSON *cell = cJSON_GetObjectItemCaseSensitive(o->cells, id);
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(cell, "p95_ms");
    if (cJSON_IsNumber(v)) *p95_tol = v->valuedouble;
    v = cJSON_GetObjectItemCaseSensitive(cell, "throughput_rps");
    if (cJSON_IsNumber(v)) *tp_tol = v->valuedouble;
}

static fg_verdict judge_latency(fg_cell_compare *c, const cell_samples *b, const cell_samples *n,
                                const fg_compare_opts *o, double tol)
{
    if (c->n_base == 0 || c->n_new == 0) return FG_VERDICT_INSUFFICIENT;
    fg_mwu mw;
    if (fg_mann_whitney(b->lat, b->n_lat, n->lat, n->n_lat, &mw) == 0) {
        c->p_slower = mw.p_greater;
        c->p_faster = mw.p_less;
        c->cliffs_delta = fg_cliffs_delta(mw.u, c->n_base, c->n_new);
    }
    c->hl_shift_ms = fg_hodges_lehmann(b->lat, b->n_lat, n->lat, n->n_lat);
    double *sorted = malloc((size_t)(c->n_base > c->n_new ? c->n_base : c->n_new) * sizeof *sorted);
    if (sorted) {
        memcpy(sorted, b->lat, (size_t)c->n_base * sizeof *sorted);
        qsort(sorted, (size_t)c->n_base, sizeof *sorted, fg_cmp_double);
        c->p95_base = fg_hd_quantile(sorted, c->n_base, 95.0);
        memcpy(sorted, n->lat, (size_t)c->n_new * sizeof *sorted);
        qsort(sorted, (size_t)c->n_new, sizeof *sorted, fg_cmp_double);
        c->p95_new = fg_hd_quantile(sorted, c->n_new, 95.0);
        free(sorted);
        if (c->p95_base > 0) c->p95_ratio = c->p95_new / c->p95_base;
    }
    if (c->n_base < o->min_samples || c->n_new < o->min_samples) return FG_VERDICT_INSUFFICIENT;
    fg_bootstrap_p95_ratio(b->lat, b->n_lat, n->lat, n->n_lat, o->resamples, o->seed,
                           (1.0 - o->confidence) / 2, &c->ratio_lo, &c->ratio_hi);
    if (c->p_slower < o->alpha && c->ratio_lo > 1.0 + tol) return FG_VERDICT_REGRESSION;
    if (c->p_faster < o->alpha && c->ratio_hi < 1.0 / (1.0 + tol)) return FG_VERDICT_IMPROVEMENT;
    return FG_VERDICT_OK;
}

static void min_mean_max(const double *v, int n, double *mn, double *mean, double *mx)
{
    double sum = 0;
    *mn = *mx = v[0];
    for (int i = 0; i < n; i++) {
        sum += v[i];
        if (v[i] < *mn) *mn = v[i];
        if (v[i] > *mx) *mx = v[i];
    }
    *mean = sum / n;
}

static fg_verdict judge_throughput(fg_cell_compare *c, const cell_samples *b,
                                   const cell_samples *n, double tol)
{
    if (b->n_tp == 0 || n->n_tp == 0) return FG_VERDICT_INSUFFICIENT;
    min_mean_max(b->tp, b->n_tp, &c->tp_base_min, &c->tp_base_mean, &c->tp_base_max);
    min_mean_max(n->tp, n->n_tp, &c->tp_new_min, &c->tp_new_mean, &c->tp_new_max);
    if (!(c->tp_base_mean > 0)) return FG_VERDICT_INSUFFICIENT;
    double ratio = c->tp_new_mean / c->tp_base_mean;
    c->tp_change = ratio - 1.0;
    if (b->n_tp >= 3 && n->n_tp >= 3) {
        if (ratio < 1.0 - tol && c->tp_new_max < c->tp_base_min) return FG_VERDICT_REGRESSION;
        if (ratio > 1.0 / (1.0 - tol) && c->tp_new_min > c->tp_base_max)
            return FG_VERDICT_IMPROVEMENT;
        return FG_VERDICT_OK;
    }
    /* Too few repeats to see the spread: only a large change counts. */
    if (ratio < 1.0 - 2.0 * tol) return FG_VERDICT_REGRESSION;
    if (2.0 * tol < 1.0 && ratio > 1.0 / (1.0 - 2.0 * tol)) return FG_VERDICT_IMPROVEMENT;
    return FG_VERDICT_OK;
}

/* Reliability: failed requests leave no latency samples, so a run that
 * fails more must not pass on the latency of its few survivors. */
static fg_verdict judge_success(fg_cell_compare *c, const cell_samples *b,
                                const cell_samples *n, double tol)
{
    c->success_base = b->sent > 0 ? b->ok / b->sent : NAN;
    c->success_new = n->sent > 0 ? n->ok / n->sent : NAN;
    if (isnan(c->success_base) || isnan(c->success_new)) return FG_VERDICT_INSUFFICIENT;
    if (c->success_new < c->success_base - tol) return FG_VERDICT_REGRESSION;
    if (c->success_new > c->success_base + tol) return FG_VERDICT_IMPROVEMENT;
    return FG_VERDICT_OK;
}

static void cell_init(fg_cell_compare *c, const cell_key *k, int id_shared)
{
    memset(c, 0, sizeof *c);
    snprintf(c->experiment_id, sizeof c->experiment_id, "%s", k->id);
    snprintf(c->category, sizeof c->category, "%s", k->category);
    c->id_shared = id_shared;
    c->p_slower = c->p_faster = c->cliffs_delta = c->hl_shift_ms = NAN;
    c->p95_base = c->p95_new = c->p95_ratio = c->ratio_lo = c->ratio_hi = NAN;
    c->tp_base_mean = c->tp_new_mean = c->tp_change = NAN;
    c->tp_base_min = c->tp_base_max = c->tp_new_min = c->tp_new_max = NAN;
    c->success_base = c->success_new = NAN;
}

static int compare_cell(const cJSON *bexps, const char *blabel, const cJSON *nexps,
                        const char *nlabel, const cell_key *k, int id_shared,
                        const fg_compare_opts *o, fg_cell_compare *c, fg_err *err)
{
    cell_init(c, k, id_shared);
    char name[512];
    if (id_shared)
        snprintf(name, sizeof name, "%s [%s]", k->id, *k->category ? k->category : "no category");
    else
        snprintf(name, sizeof name, "%s", k->id);
    cell_samples b, n;
    if (gather(bexps, k, blabel, name, &b, err) != 0) return -1;
    if (gather(nexps, k, nlabel, name, &n, err) != 0) {
        samples_free(&b);
        return -1;
    }
    c->n_base = b.n_lat;
    c->n_new = n.n_lat;
    c->repeats_base = b.repeats;
    c->repeats_new = n.repeats;
    if (!b.repeats || !n.repeats) {
        c->verdict = c->latency = c->throughput = c->success = FG_VERDICT_MISSING;
        c->only_in = b.repeats ? "BASE" : "NEW";
    } else {
        double p95_tol, tp_tol;
        cell_tolerances(o, k->id, &p95_tol, &tp_tol);
        c->latency = judge_latency(c, &b, &n, o, p95_tol);
        c->throughput = judge_throughput(c, &b, &n, tp_tol);
        c->success = judge_success(c, &b, &n, o->success_tolerance);
        if (c->latency == FG_VERDICT_REGRESSION || c->throughput == FG_VERDICT_REGRESSION ||
            c->success == FG_VERDICT_REGRESSION)
            c->verdict = FG_VERDICT_REGRESSION;
        else if (c->latency == FG_VERDICT_INSUFFICIENT)
            c->verdict = FG_VERDICT_INSUFFICIENT;
        else if (c->latency == FG_VERDICT_IMPROVEMENT || c->throughput == FG_VERDICT_IMPROVEMENT)
            c->verdict = FG_VERDICT_IMPROVEMENT;
        else
            c->verdict = FG_VERDICT_OK;
    }
    samples_free(&b);
    samples_free(&n);
    return 0;
}

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

    int cap = cJSON_GetArraySize(bexps) + cJSON_GetArraySize(nexps);
    cell_key *keys = malloc((cap ? (size_t)cap : 1) * sizeof *keys);
    out->cells = calloc(cap ? (size_t)cap : 1, sizeof *out->cells);
    if (!keys || !out->cells) {
        free(keys);
        fg_compare_report_free(out);
        return fg_err_set(err, "out of memory");
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
                free(keys);
                fg_compare_report_free(out);
                return fg_err_set(err, "%s: experiments[%d]: %s", labels[side], index,
                                  !k.id ? "no experiment_id" : "category is not a string");
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
        if (compare_cell(bexps, blabel, nexps, nlabel, &keys[i], id_shared, o, c, err) != 0) {
            free(keys);
            fg_compare_report_free(out);
            return -1;
        }
        out->count[c->verdict]++;
        out->n++;
    }
    free(keys);
    return 0;
}

void fg_compare_report_free(fg_compare_report *r)
{
    free(r->cells);
    memset(r, 0, sizeof *r);
}

/* ---- printing ------------------------------------------------------------ */

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

void fg_compare_format(const fg_cell_compare *c, char *line, size_t size)
{
    size_t len = 0;
    line[0] = 0;
    append(line, size, &len, "%-17s %s", fg_verdict_name(c->verdict), c->experiment_id);
    if (c->id_shared)
        append(line, size, &len, " [%s]", c->category[0] ? c->category : "no category");
    if (c->verdict == FG_VERDICT_MISSING) {
        append(line, size, &len, ": only in %s (%d repeat%s)", c->only_in,
               c->repeats_base + c->repeats_new, c->repeats_base + c->repeats_new == 1 ? "" : "s");
        return;
    }
    append(line, size, &len, ": p95(HD)");
    if (isnan(c->p95_ratio))
        append(line, size, &len, " n/a");
    else {
        append(line, size, &len, " x%.3f", c->p95_ratio);
        if (!isnan(c->ratio_lo)) append(line, size, &len, " CI [%.3f, %.3f]", c->ratio_lo, c->ratio_hi);
        append(line, size, &len, " (%.1f -> %.1f ms)", c->p95_base, c->p95_new);
    }
    if (!isnan(c->hl_shift_ms)) append(line, size, &len, ", HL shift %+.1f ms", c->hl_shift_ms);
    if (!isnan(c->cliffs_delta)) append(line, size, &len, ", Cliff's delta %+.2f", c->cliffs_delta);
    /* Below 1e-16 the normal tail has left double precision behind. */
    if (!isnan(c->p_slower))
        append(line, size, &len, c->p_slower < 1e-16 ? ", p(slower)<1e-16" : ", p(slower)=%.2g",
               c->p_slower);
    append(line, size, &len, "; throughput");
    if (isnan(c->tp_change))
        append(line, size, &len, " n/a");
    else
        append(line, size, &len, " %+.1f%% (%.3g -> %.3g rps)", 100.0 * c->tp_change,
               c->tp_base_mean, c->tp_new_mean);
    if (!isnan(c->success_base) && !isnan(c->success_new))
        append(line, size, &len, "; success %.1f%% -> %.1f%%", 100.0 * c->success_base,
               100.0 * c->success_new);
    append(line, size, &len, "; n=%d/%d samples, %d/%d repeats; latency %s, throughput %s, success %s",
           c->n_base, c->n_new, c->repeats_base, c->repeats_new, fg_verdict_name(c->latency),
           fg_verdict_name(c->throughput), fg_verdict_name(c->success));
}
