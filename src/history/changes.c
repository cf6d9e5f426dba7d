/* changes.c — the history's series run through the change-point search.
 * Each series is read once per metric (fg_history_series), its values put
 * in an array in run order, and handed to changepoint.c; the runs are kept
 * so a change point can name the commit that began its level. Nothing here
 * is statistics: the method and its defaults are changepoint.h's. */
#include "flowgate/history_changes.h"
#include <stdlib.h>
#include <string.h>

const char *const fg_history_default_metrics[FG_HISTORY_DEFAULT_METRICS] = {
    "p50_ms", "p95_ms", "throughput_rps"};

int fg_history_higher_is_worse(const char *metric)
{
    static const char *const lower_is_worse[] = {"throughput_rps", "success_rate", "requests.ok"};
    for (size_t i = 0; i < sizeof lower_is_worse / sizeof *lower_is_worse; i++)
        if (strcmp(metric, lower_is_worse[i]) == 0) return 0;
    return 1;
}

/* The series keys of the query, filtered by category when it names one. */
static int selected_keys(fg_history *h, const fg_history_query *q, fg_history_key **keys, int *n,
                         fg_err *err)
{
    if (fg_history_series_list(h, q->experiment_id, keys, n, err) != 0) return -1;
    if (!q->category) return 0;
    int kept = 0;
    for (int i = 0; i < *n; i++)
        if (strcmp((*keys)[i].category, q->category) == 0) (*keys)[kept++] = (*keys)[i];
    *n = kept;
    return 0;
}

/* One series' points and their values as doubles. 1 when the series has no
 * run of since (skipped), 0, or -1. */
static int load_series(fg_history *h, const fg_history_key *key, const char *metric,
                       const char *since, fg_history_point **points, double **values, int *n,
                       fg_err *err)
{
    *values = NULL;
    fg_err miss;
    int got = fg_history_series(h, key, metric, since, points, n, &miss);
    if (got == FG_HISTORY_NO_SUCH_COMMIT) return 1;
    if (got != 0) {
        if (err) *err = miss;
        return -1;
    }
    *values = malloc(sizeof **values * (*n > 0 ? (size_t)*n : 1));
    if (!*values) {
        free(*points);
        *points = NULL;
        return fg_err_set(err, "history: out of memory");
    }
    for (int i = 0; i < *n; i++) (*values)[i] = (*points)[i].value;
    return 0;
}

/* Appends to a growing array of elements of size `size`. */
static void *grow(void *array, int n, int *cap, size_t size)
{
    if (n < *cap) return array;
    int want = *cap ? *cap * 2 : 16;
    void *bigger = realloc(array, size * (size_t)want);
    if (bigger) *cap = want;
    return bigger;
}

static void name_series(fg_err *err, const fg_history_key *key, const char *metric)
{
    if (!err) return;
    fg_err inner = *err;
    fg_err_set(err, "%s/%s %s: %s", key->category, key->experiment_id, metric, inner.msg);
}

/* One series of the query, loaded: what a visitor judges. */
typedef struct series_view {
    const fg_history_key *key;
    const char *metric;
    const fg_history_point *points;
    const double *values;
    int n;
} series_view;

typedef int (*series_visitor)(const series_view *s, void *ctx, fg_err *err);

/* Calls visit for every series x metric the query selects that has runs
 * (of since, when given), stopping at the first failure. */
static int for_each_series(fg_history *h, const fg_history_query *q, series_visitor visit,
                           void *ctx, fg_err *err)
{
    fg_history_key *keys = NULL;
    int n_keys = 0, rc = 0;
    if (selected_keys(h, q, &keys, &n_keys, err) != 0) return -1;
    int n_metrics = q->metric ? 1 : FG_HISTORY_DEFAULT_METRICS;
    for (int k = 0; k < n_keys && rc == 0; k++) {
        for (int m = 0; m < n_metrics && rc == 0; m++) {
            const char *metric = q->metric ? q->metric : fg_history_default_metrics[m];
            fg_history_point *points;
            double *values;
            int n_points, got = load_series(h, &keys[k], metric, q->since, &points, &values,
                                            &n_points, err);
            if (got != 0) {
                rc = got < 0 ? -1 : 0;
                continue;
            }
            series_view s = {&keys[k], metric, points, values, n_points};
            if (visit(&s, ctx, err) != 0) {
                name_series(err, &keys[k], metric);
                rc = -1;
            }
            free(points);
            free(values);
        }
    }
    free(keys);
    return rc;
}

/* A growing array of results, of either kind. */
typedef struct found {
    void *items;
    int n, cap;
    const fg_cp_opts *cp;
    double margin;
    size_t window;
} found;

static void *next_item(found *f, size_t size, fg_err *err)
{
    void *bigger = grow(f->items, f->n, &f->cap, size);
    if (!bigger) {
        fg_err_set(err, "history: out of memory");
        return NULL;
    }
    f->items = bigger;
    void *item = (char *)bigger + size * (size_t)f->n++;
    memset(item, 0, size);
    return item;
}

static int collect_changes(const series_view *s, void *ctx, fg_err *err)
{
    found *f = ctx;
    fg_change_point *cps = NULL;
    size_t n_cps = 0;
    if (fg_changepoints(s->values, (size_t)s->n, f->cp, &cps, &n_cps, err) != 0) return -1;
    int rc = 0;
    for (size_t c = 0; c < n_cps && rc == 0; c++) {
        fg_history_change *ch = next_item(f, sizeof *ch, err);
        if (!ch) {
            rc = -1;
            break;
        }
        ch->key = *s->key;
        snprintf(ch->metric, sizeof ch->metric, "%s", s->metric);
        ch->cp = cps[c];
        ch->first = s->points[cps[c].index];
        ch->points = s->n;
    }
    free(cps);
    return rc;
}

static int judge_series(const series_view *s, void *ctx, fg_err *err)
{
    found *f = ctx;
    fg_history_verdict *vd = next_item(f, sizeof *vd, err);
    if (!vd) return -1;
    size_t min_segment = f->cp->min_segment ? f->cp->min_segment : 3;
    vd->key = *s->key;
    snprintf(vd->metric, sizeof vd->metric, "%s", s->metric);
    vd->points = s->n;
    vd->judged = (size_t)s->n >= 2 * min_segment;
    if (fg_changepoints_check(s->values, (size_t)s->n, fg_history_higher_is_worse(s->metric),
                              f->margin, f->window, f->cp, &vd->v, err) != 0)
        return -1;
    if (vd->v.worse) {
        vd->level_first = s->points[vd->v.level_from];
        if (vd->v.reference_to > 0) vd->reference_last = s->points[vd->v.reference_to - 1];
    }
    return 0;
}

static int run_query(fg_history *h, const fg_history_query *q, series_visitor visit, found *f,
                     void **out, int *n, fg_err *err)
{
    f->cp = &q->cp;
    int rc = for_each_series(h, q, visit, f, err);
    if (rc != 0) {
        free(f->items);
        f->items = NULL;
        f->n = 0;
    }
    *out = f->items;
    *n = f->n;
    return rc;
}

int fg_history_changes(fg_history *h, const fg_history_query *q, fg_history_change **out, int *n,
                       fg_err *err)
{
    found f = {0};
    void *items;
    int rc = run_query(h, q, collect_changes, &f, &items, n, err);
    *out = items;
    return rc;
}

int fg_history_check(fg_history *h, const fg_history_query *q, double margin, size_t window,
                     fg_history_verdict **out, int *n, fg_err *err)
{
    found f = {.margin = margin, .window = window};
    void *items;
    int rc = run_query(h, q, judge_series, &f, &items, n, err);
    *out = items;
    return rc;
}

int fg_history_changes_of(const fg_history_key *key, const char *metric,
                          const fg_history_point *points, int n, const fg_cp_opts *cp,
                          fg_history_change **out, int *n_out, fg_err *err)
{
    *out = NULL;
    *n_out = 0;
    double *values = malloc(sizeof *values * (n > 0 ? (size_t)n : 1));
    if (!values) return fg_err_set(err, "history: out of memory");
    for (int i = 0; i < n; i++) values[i] = points[i].value;
    found f = {.cp = cp};
    series_view s = {key, metric, points, values, n};
    int rc = collect_changes(&s, &f, err);
    free(values);
    if (rc != 0) {
        free(f.items);
        return -1;
    }
    *out = f.items;
    *n_out = f.n;
    return 0;
}
