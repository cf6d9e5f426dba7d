/* db.c — the engine-neutral half of db.h: choosing the engine, the calls
 * that dispatch to it, and the result rows both engines fill. */
#include "db.h"
#include "flowgate/history_target.h"

#include <stdlib.h>
#include <string.h>

fg_db *fg_db_open(const char *target, fg_err *err)
{
    if (!target || !*target) {
        fg_err_set(err, "no history target");
        return NULL;
    }
    return fg_history_target_is_postgres(target) ? fg_db_open_pg(target, err)
                                                 : fg_db_open_sqlite(target, err);
}

void fg_db_close(fg_db *db)
{
    if (db) db->ops->close(db);
}

int fg_db_exec(fg_db *db, const char *sql, fg_err *err)
{
    return db->ops->exec(db, sql, err);
}

int fg_db_query(fg_db *db, const char *sql, int n_params, const char *const *params,
                fg_db_rows *rows, fg_err *err)
{
    if (rows) memset(rows, 0, sizeof *rows);
    return db->ops->query(db, sql, n_params, params, rows, err);
}

int fg_db_begin(fg_db *db, fg_err *err)
{
    return db->ops->begin(db, err);
}

int fg_db_commit(fg_db *db, fg_err *err)
{
    return db->ops->exec(db, "COMMIT", err);
}

/* A rollback that fails leaves nothing to do: the connection is closed
 * next, and both engines then discard the open transaction. */
void fg_db_rollback(fg_db *db)
{
    db->ops->exec(db, "ROLLBACK", NULL);
}

const char *fg_db_get(const fg_db_rows *rows, int r, int c)
{
    if (!rows || r < 0 || c < 0 || r >= rows->n_rows || c >= rows->n_cols) return NULL;
    return rows->cells[(size_t)r * (size_t)rows->n_cols + (size_t)c];
}

char **fg_db_rows_append(fg_db_rows *rows, int n_cols)
{
    if (rows->n_rows > 0 && n_cols != rows->n_cols) return NULL;
    rows->n_cols = n_cols;
    if (rows->n_rows == rows->cap_rows) {
        int cap = rows->cap_rows ? rows->cap_rows * 2 : 16;
        char **cells = realloc(rows->cells, (size_t)cap * (size_t)(n_cols ? n_cols : 1) * sizeof *cells);
        if (!cells) return NULL;
        rows->cells = cells;
        rows->cap_rows = cap;
    }
    char **row = rows->cells + (size_t)rows->n_rows * (size_t)n_cols;
    memset(row, 0, (size_t)n_cols * sizeof *row);
    rows->n_rows++;
    return row;
}

void fg_db_rows_free(fg_db_rows *rows)
{
    if (!rows) return;
    for (size_t i = 0; rows->cells && i < (size_t)rows->n_rows * (size_t)rows->n_cols; i++)
        free(rows->cells[i]);
    free(rows->cells);
    memset(rows, 0, sizeof *rows);
}
