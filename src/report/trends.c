/* trends.c — the history of a run's cells, read once per cell: the three
 * default metrics' series (aligned by run), their change points, and the
 * A/B verdicts given at one of the series' commits. From these the trend
 * chart is drawn and the report page's change-point table filled. */
#define _GNU_SOURCE /* strdup */
#include "flowgate/report_trends.h"
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "flowgate/history_changes.h"
#include "flowgate/history_target.h"
#include "flowgate/results.h"
#include "flowgate/trend.h"

static const char *keep(fg_report_history *rh, const char *s)
{
    char **bigger = realloc(rh->strings, sizeof *bigger * (rh->n_strings + 1));
    if (!bigger) return NULL;
    rh->strings = bigger;
    char *copy = strdup(s ? s : "");
    if (copy) rh->strings[rh->n_strings++] = copy;
    return copy;
}

void fg_report_history_free(fg_report_history *rh)
{
    for (size_t i = 0; i < rh->n_strings; i++) free(rh->strings[i]);
    free(rh->strings);
    free(rh->changes);
    memset(rh, 0, sizeof *rh);
}

/* Removes trend_* files of dir: the charts of another run's cells. */
static void clear_trends(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d) return;
    for (struct dirent *e; (e = readdir(d));) {
        if (strncmp(e->d_name, "trend_", 6)) continue;
        char path[4096];
        if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, e->d_name) < sizeof path) unlink(path);
    }
    closedir(d);
}

/* The value of run_key's point in a series, NAN when it has none. */
static double value_of(const fg_history_point *pts, int n, const char *run_key)
{
    for (int i = 0; i < n; i++)
        if (!strcmp(pts[i].run_key, run_key)) return pts[i].value;
    return NAN;
}

static int add_change(fg_report_history *rh, const fg_history_change *c, const char *cell,
                      fg_err *err)
{
    fg_report_change *bigger = realloc(rh->changes, sizeof *bigger * (rh->n_changes + 1));
    if (!bigger) return fg_err_set(err, "report: out of memory");
    rh->changes = bigger;
    fg_report_change *r = &rh->changes[rh->n_changes];
    r->cell = keep(rh, cell);
    r->metric = keep(rh, c->metric);
    r->commit = keep(rh, c->first.git_commit[0] ? c->first.git_commit : c->first.run_id);
    if (!r->cell || !r->metric || !r->commit) return fg_err_set(err, "report: out of memory");
    r->change_pct = 100 * c->cp.change;
    r->ci_lo_pct = 100 * c->cp.ci_lo;
    r->ci_hi_pct = 100 * c->cp.ci_hi;
    r->p_value = c->cp.p;
    rh->n_changes++;
    return 0;
}

/* "+12.3 % p50" */
static void change_text(const fg_history_change *c, char *out, size_t size)
{
    const char *m = c->metric;
    const char *shortname = !strcmp(m, "p50_ms") ? "p50" : !strcmp(m, "p95_ms") ? "p95"
                          : !strcmp(m, "throughput_rps") ? "throughput" : m;
    snprintf(out, size, "%+.1f %% %s", 100 * c->cp.change, shortname);
}

/* "ab: regression, culprit recognizer__extract exec" */
static void ab_text(const fg_history_ab_mark *m, char *out, size_t size)
{
    if (m->culprit_function[0])
        snprintf(out, size, "ab: %s, culprit %s %s", m->verdict, m->culprit_function, m->culprit_part);
    else
        snprintf(out, size, "ab: %s", m->verdict);
}

typedef struct cell_history {
    fg_history_point *series[FG_HISTORY_DEFAULT_METRICS];
    int n[FG_HISTORY_DEFAULT_METRICS];
    fg_history_change *changes;
    int n_changes;
    fg_history_ab_mark *ab;
    int n_ab;
} cell_history;

static void cell_history_free(cell_history *c)
{
    for (int m = 0; m < FG_HISTORY_DEFAULT_METRICS; m++) free(c->series[m]);
    free(c->changes);
    free(c->ab);
}

static int read_cell(fg_history *h, const fg_history_key *key, cell_history *c, fg_err *err)
{
    memset(c, 0, sizeof *c);
    for (int m = 0; m < FG_HISTORY_DEFAULT_METRICS; m++) {
        const char *metric = fg_history_default_metrics[m];
        fg_history_change *found;
        int n_found;
        if (fg_history_series(h, key, metric, NULL, &c->series[m], &c->n[m], err) != 0 ||
            fg_history_changes_of(key, metric, c->series[m], c->n[m], NULL, &found, &n_found,
                                  err) != 0)
            return -1;
        fg_history_change *all =
            realloc(c->changes, sizeof *all * (size_t)(c->n_changes + n_found + 1));
        if (!all) {
            free(found);
            return fg_err_set(err, "report: out of memory");
        }
        c->changes = all;
        if (n_found) memcpy(all + c->n_changes, found, sizeof *found * (size_t)n_found);
        c->n_changes += n_found;
        free(found);
    }
    return fg_history_ab_list(h, key->experiment_id, &c->ab, &c->n_ab, err);
}

/* The trend chart of one cell: its runs are those of the p50 series. */
static int draw_cell(const cell_history *c, const char *cell, const char *dir, fg_err *err)
{
    int n = c->n[0];
    fg_trend_point *pts = calloc((size_t)n, sizeof *pts);
    fg_trend_mark *marks = calloc((size_t)(c->n_changes + c->n_ab) + 1, sizeof *marks);
    char (*texts)[256] = calloc((size_t)(c->n_changes + c->n_ab) + 1, sizeof *texts);
    int rc = -1, n_marks = 0;
    if (!pts || !marks || !texts) {
        fg_err_set(err, "report: out of memory");
        goto out;
    }
    for (int i = 0; i < n; i++) {
        const fg_history_point *p = &c->series[0][i];
        pts[i] = (fg_trend_point){p->git_commit[0] ? p->git_commit : NULL, p->run_id, p->value,
                                  value_of(c->series[1], c->n[1], p->run_key),
                                  value_of(c->series[2], c->n[2], p->run_key)};
    }
    for (int i = 0; i < c->n_changes; i++) {
        /* Another metric's series may count runs differently: place the
         * mark at its run in the p50 series. */
        int at = -1;
        for (int j = 0; j < n && at < 0; j++)
            if (!strcmp(c->series[0][j].run_key, c->changes[i].first.run_key)) at = j;
        if (at < 0) continue;
        /* The metrics of one cell usually change at the same run: one
         * line there, its label naming them all. */
        int same = -1;
        for (int k = 0; k < n_marks && same < 0; k++)
            if (marks[k].index == (size_t)at) same = k;
        char text[128];
        change_text(&c->changes[i], text, sizeof text);
        if (same >= 0) {
            size_t used = strlen(texts[same]);
            snprintf(texts[same] + used, sizeof texts[0] - used, ", %s", text);
            continue;
        }
        snprintf(texts[n_marks], sizeof texts[0], "%s", text);
        marks[n_marks] = (fg_trend_mark){(size_t)at, texts[n_marks], FG_TREND_CHANGE};
        n_marks++;
    }
    for (int i = 0; i < c->n_ab; i++) {
        /* At the last run of B's commit: the verdict was given on it. */
        int at = -1;
        for (int j = 0; j < n; j++)
            if (c->ab[i].commit_b[0] && !strcmp(c->series[0][j].git_commit, c->ab[i].commit_b)) at = j;
        if (at < 0) continue;
        ab_text(&c->ab[i], texts[n_marks], sizeof texts[0]);
        marks[n_marks] = (fg_trend_mark){(size_t)at, texts[n_marks], FG_TREND_AB};
        n_marks++;
    }
    rc = fg_trend_chart(dir, cell, pts, (size_t)n, marks, (size_t)n_marks, err);
out:
    free(pts);
    free(marks);
    free(texts);
    return rc;
}

/* 1 when an earlier entry of the experiments array has the same key. */
static int seen_before(const cJSON *exps, const cJSON *e, const fg_history_key *key,
                       const cJSON *root)
{
    for (const cJSON *o = exps->child; o && o != e; o = o->next) {
        fg_history_key k;
        if (fg_history_key_of(root, o, &k) == 0 && !memcmp(&k, key, sizeof k)) return 1;
    }
    return 0;
}

int fg_report_history_load(fg_history *h, const cJSON *results, const char *trends_dir,
                           fg_report_history *out, fg_err *err)
{
    memset(out, 0, sizeof *out);
    const cJSON *exps = fg_results_experiments(results);
    if (trends_dir) {
        if (fg_mkdirs(trends_dir, err) != 0) return -1;
        clear_trends(trends_dir);
    }
    for (const cJSON *e = exps ? exps->child : NULL; e; e = e->next) {
        fg_history_key key;
        if (fg_history_key_of(results, e, &key) != 0 || seen_before(exps, e, &key, results))
            continue;
        char cell[256];
        snprintf(cell, sizeof cell, "%s/%s", key.category, key.experiment_id);
        cell_history c;
        int rc = read_cell(h, &key, &c, err);
        if (rc == 0 && c.n[0] > 0) {
            out->series++;
            for (int i = 0; i < c.n_changes && rc == 0; i++) rc = add_change(out, &c.changes[i], cell, err);
            if (rc == 0 && trends_dir) {
                rc = draw_cell(&c, cell, trends_dir, err);
                out->charts += rc == 0;
            }
        }
        cell_history_free(&c);
        if (rc != 0) {
            fg_report_history_free(out);
            return -1;
        }
    }
    return 0;
}

int fg_report_history_of_run(const char *results_path, const cJSON *results,
                             const char *trends_dir, fg_report_history *out, int *have,
                             fg_err *err)
{
    memset(out, 0, sizeof *out);
    *have = 0;
    char dir[4096], buf[4096];
    const char *slash = strrchr(results_path, '/');
    snprintf(dir, sizeof dir, "%.*s", slash ? (int)(slash - results_path) : 1,
             slash ? results_path : ".");
    const char *target = fg_history_target(dir, buf, sizeof buf);
    if (!target || (!fg_history_target_is_postgres(target) && access(target, F_OK) != 0))
        return 0;
    fg_history *h = fg_history_open(target, err);
    if (!h) return -1;
    int rc = fg_report_history_load(h, results, trends_dir, out, err);
    fg_history_close(h);
    *have = rc == 0;
    return rc;
}
