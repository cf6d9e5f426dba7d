/* runs.c — what the history holds: its runs, and how many rows of each
 * kind (for `flowgate history runs` and the tests). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store.h"

int fg_history_runs(fg_history *h, fg_history_run **runs, int *n, fg_err *err)
{
    *runs = NULL;
    *n = 0;
    fg_db_rows rows;
    int rc = fg_db_query(h->db,
        "SELECT r.run_id, r.kind, r.git_commit, r.category, r.started, r.outcome, r.interrupted,"
        " (SELECT COUNT(*) FROM cells c WHERE c.run = r.id) FROM runs r ORDER BY r.started, r.id",
        0, NULL, &rows, err);
    fg_history_run *out = rc == 0 ? calloc(rows.n_rows ? (size_t)rows.n_rows : 1, sizeof *out) : NULL;
    if (!out) {
        if (rc == 0) fg_err_set(err, "out of memory");
        fg_db_rows_free(&rows);
        return -1;
    }
    for (int i = 0; i < rows.n_rows; i++) {
#define COPY(field, col) snprintf(out[i].field, sizeof out[i].field, "%s", \
                                  fg_db_get(&rows, i, col) ? fg_db_get(&rows, i, col) : "")
        COPY(run_id, 0);
        COPY(kind, 1);
        COPY(git_commit, 2);
        COPY(category, 3);
        COPY(started, 4);
        COPY(outcome, 5);
#undef COPY
        out[i].interrupted = fg_db_get(&rows, i, 6) && atoi(fg_db_get(&rows, i, 6)) != 0;
        out[i].cells = fg_db_get(&rows, i, 7) ? atoi(fg_db_get(&rows, i, 7)) : 0;
    }
    *runs = out;
    *n = rows.n_rows;
    fg_db_rows_free(&rows);
    return 0;
}

int fg_history_counts(fg_history *h, long *runs, long *cells, long *metrics, fg_err *err)
{
    fg_db_rows rows;
    int rc = fg_db_query(h->db,
        "SELECT (SELECT COUNT(*) FROM runs), (SELECT COUNT(*) FROM cells),"
        " (SELECT COUNT(*) FROM metrics)", 0, NULL, &rows, err);
    if (rc == 0) {
        if (runs) *runs = atol(fg_db_get(&rows, 0, 0) ? fg_db_get(&rows, 0, 0) : "0");
        if (cells) *cells = atol(fg_db_get(&rows, 0, 1) ? fg_db_get(&rows, 0, 1) : "0");
        if (metrics) *metrics = atol(fg_db_get(&rows, 0, 2) ? fg_db_get(&rows, 0, 2) : "0");
    }
    fg_db_rows_free(&rows);
    return rc;
}
