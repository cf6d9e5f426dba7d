/* series.c — reading the history: which series there are, one series'
 * points, and the A/B verdicts that annotate them (history.h says what a
 * series is and what it leaves out). The averaging over repeats is done by
 * the database, so a series costs one query whatever its length. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store.h"

static void copy(char *dst, size_t size, const char *src)
{
    snprintf(dst, size, "%s", src ? src : "");
}

/* A malloc'ed array of n elements of size bytes, zeroed; n 0 gives a valid
 * pointer so that callers free() it without a case. */
static void *alloc_array(int n, size_t size, fg_err *err)
{
    void *p = calloc(n > 0 ? (size_t)n : 1, size);
    if (!p) fg_err_set(err, "out of memory");
    return p;
}

int fg_history_series_list(fg_history *h, const char *experiment_id, fg_history_key **keys,
                           int *n, fg_err *err)
{
    *keys = NULL;
    *n = 0;
    const char *params[] = {experiment_id};
    fg_db_rows rows;
    int rc = fg_db_query(h->db,
        "SELECT DISTINCT r.workflow, c.category, c.experiment_id, r.machine_key, r.endpoint_mode,"
        " r.request_scale FROM cells c JOIN runs r ON r.id = c.run"
        " WHERE (CAST($1 AS TEXT) IS NULL OR c.experiment_id = $1) AND r.kind IN ('run', 'suite')"
        " ORDER BY 1, 2, 3, 4, 5, 6", 1, params, &rows, err);
    if (rc == 0 && (*keys = alloc_array(rows.n_rows, sizeof **keys, err))) {
        for (int i = 0; i < rows.n_rows; i++) {
            fg_history_key *k = &(*keys)[i];
            copy(k->workflow, sizeof k->workflow, fg_db_get(&rows, i, 0));
            copy(k->category, sizeof k->category, fg_db_get(&rows, i, 1));
            copy(k->experiment_id, sizeof k->experiment_id, fg_db_get(&rows, i, 2));
            copy(k->machine_key, sizeof k->machine_key, fg_db_get(&rows, i, 3));
            copy(k->endpoint_mode, sizeof k->endpoint_mode, fg_db_get(&rows, i, 4));
            k->request_scale = fg_history_parse_double(fg_db_get(&rows, i, 5));
        }
        *n = rows.n_rows;
    } else {
        rc = -1;
    }
    fg_db_rows_free(&rows);
    return rc;
}

const char *fg_history_metric_path(const char *name)
{
    static const char *const aliases[][2] = {
        {"p50_ms", "latency_ms.p50"}, {"p90_ms", "latency_ms.p90"}, {"p95_ms", "latency_ms.p95"},
        {"p99_ms", "latency_ms.p99"}, {"mean_ms", "latency_ms.mean"}, {"max_ms", "latency_ms.max"},
    };
    for (size_t i = 0; i < sizeof aliases / sizeof aliases[0]; i++)
        if (!strcmp(name, aliases[i][0])) return aliases[i][1];
    return name;
}

/* The first point of commit (a prefix of its git_commit), -1 when none. */
static int first_of_commit(const fg_history_point *p, int n, const char *commit)
{
    size_t len = strlen(commit);
    for (int i = 0; i < n; i++)
        if (p[i].git_commit[0] && !strncmp(p[i].git_commit, commit, len)) return i;
    return -1;
}

int fg_history_series(fg_history *h, const fg_history_key *key, const char *metric,
                      const char *since_commit, fg_history_point **points, int *n, fg_err *err)
{
    *points = NULL;
    *n = 0;
    if (!metric || !*metric) return fg_err_set(err, "no metric given");
    /* The scale is matched within 1e-9: SQLite gives REALs back as text
     * with 15 digits, so the key's value need not be the stored double. */
    char scale[40];
    fg_history_format_double(key->request_scale, scale, sizeof scale);
    const char *params[] = {key->workflow, key->category, key->experiment_id, key->machine_key,
                            key->endpoint_mode, scale, fg_history_metric_path(metric)};
    fg_db_rows rows;
    int rc = fg_db_query(h->db,
        "SELECT r.run_key, r.run_id, r.git_commit, r.branch, r.started, AVG(m.value), COUNT(*)"
        " FROM runs r JOIN cells c ON c.run = r.id JOIN metrics m ON m.cell = c.id"
        " WHERE r.workflow = $1 AND c.category = $2 AND c.experiment_id = $3"
        " AND r.machine_key = $4 AND r.endpoint_mode = $5 AND ABS(r.request_scale - $6) < 1e-9"
        " AND m.name = $7 AND r.kind IN ('run', 'suite') AND r.interrupted = 0"
        " AND c.outcome <> 'inconclusive'"
        " GROUP BY r.id, r.run_key, r.run_id, r.git_commit, r.branch, r.started"
        " ORDER BY r.started, r.id", 7, params, &rows, err);
    fg_history_point *p = rc == 0 ? alloc_array(rows.n_rows, sizeof *p, err) : NULL;
    if (!p) {
        fg_db_rows_free(&rows);
        return -1;
    }
    for (int i = 0; i < rows.n_rows; i++) {
        copy(p[i].run_key, sizeof p[i].run_key, fg_db_get(&rows, i, 0));
        copy(p[i].run_id, sizeof p[i].run_id, fg_db_get(&rows, i, 1));
        copy(p[i].git_commit, sizeof p[i].git_commit, fg_db_get(&rows, i, 2));
        copy(p[i].branch, sizeof p[i].branch, fg_db_get(&rows, i, 3));
        copy(p[i].started, sizeof p[i].started, fg_db_get(&rows, i, 4));
        p[i].value = fg_history_parse_double(fg_db_get(&rows, i, 5));
        p[i].repeats = atoi(fg_db_get(&rows, i, 6) ? fg_db_get(&rows, i, 6) : "0");
    }
    int count = rows.n_rows;
    fg_db_rows_free(&rows);
    int from = 0;
    if (since_commit && *since_commit && (from = first_of_commit(p, count, since_commit)) < 0) {
        free(p);
        *points = NULL;
        *n = 0;
        fg_err_set(err, "no run of commit %s in the series of %s", since_commit,
                   key->experiment_id);
        return FG_HISTORY_NO_SUCH_COMMIT;
    }
    if (from > 0) memmove(p, p + from, (size_t)(count - from) * sizeof *p);
    *points = p;
    *n = count - from;
    return 0;
}

int fg_history_ab_list(fg_history *h, const char *experiment_id, fg_history_ab_mark **marks,
                       int *n, fg_err *err)
{
    *marks = NULL;
    *n = 0;
    const char *params[] = {experiment_id};
    fg_db_rows rows;
    int rc = fg_db_query(h->db,
        "SELECT a.ab_id, a.started, a.commit_a, a.commit_b, a.outcome, c.experiment_id,"
        " c.verdict, c.centre_ratio, c.centre_ci_lo, c.centre_ci_hi, c.culprit_function,"
        " c.culprit_part, c.culprit_added_ms"
        " FROM ab_runs a JOIN ab_cells c ON c.ab_run = a.id"
        " WHERE (CAST($1 AS TEXT) IS NULL OR c.experiment_id = $1)"
        " ORDER BY a.started, a.id, c.experiment_id",
        1, params, &rows, err);
    fg_history_ab_mark *m = rc == 0 ? alloc_array(rows.n_rows, sizeof *m, err) : NULL;
    if (!m) {
        fg_db_rows_free(&rows);
        return -1;
    }
    for (int i = 0; i < rows.n_rows; i++) {
        copy(m[i].ab_id, sizeof m[i].ab_id, fg_db_get(&rows, i, 0));
        copy(m[i].started, sizeof m[i].started, fg_db_get(&rows, i, 1));
        copy(m[i].commit_a, sizeof m[i].commit_a, fg_db_get(&rows, i, 2));
        copy(m[i].commit_b, sizeof m[i].commit_b, fg_db_get(&rows, i, 3));
        copy(m[i].outcome, sizeof m[i].outcome, fg_db_get(&rows, i, 4));
        copy(m[i].experiment_id, sizeof m[i].experiment_id, fg_db_get(&rows, i, 5));
        copy(m[i].verdict, sizeof m[i].verdict, fg_db_get(&rows, i, 6));
        m[i].centre_ratio = fg_history_parse_double(fg_db_get(&rows, i, 7));
        m[i].centre_ci_lo = fg_history_parse_double(fg_db_get(&rows, i, 8));
        m[i].centre_ci_hi = fg_history_parse_double(fg_db_get(&rows, i, 9));
        copy(m[i].culprit_function, sizeof m[i].culprit_function, fg_db_get(&rows, i, 10));
        copy(m[i].culprit_part, sizeof m[i].culprit_part, fg_db_get(&rows, i, 11));
        m[i].culprit_added_ms = fg_history_parse_double(fg_db_get(&rows, i, 12));
    }
    *marks = m;
    *n = rows.n_rows;
    fg_db_rows_free(&rows);
    return 0;
}
