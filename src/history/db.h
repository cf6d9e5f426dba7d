/* db.h — the two engines behind the history, as one tiny interface.
 *
 * Every statement is written once, with $1, $2 ... placeholders, and runs
 * unchanged on SQLite (which takes "$1" as a named parameter) and on
 * PostgreSQL. Parameters and results travel as text (NULL = SQL NULL): the
 * history stores few types, and text keeps the two engines' binding code
 * the same size as this header. */
#ifndef FLOWGATE_HISTORY_DB_H
#define FLOWGATE_HISTORY_DB_H
#include "flowgate/common.h"

typedef enum fg_db_engine { FG_DB_SQLITE, FG_DB_POSTGRES } fg_db_engine;

typedef struct fg_db fg_db;

/* A query's whole result, copied out of the engine: cell r, c is
 * cells[r * n_cols + c], NULL for SQL NULL. */
typedef struct fg_db_rows {
    int n_rows, n_cols, cap_rows;
    char **cells;
} fg_db_rows;

/* What each engine provides (db_sqlite.c, db_pg.c). */
typedef struct fg_db_ops {
    int  (*exec)(fg_db *db, const char *sql, fg_err *err);      /* one or more statements */
    int  (*query)(fg_db *db, const char *sql, int n_params, const char *const *params,
                  fg_db_rows *rows, fg_err *err);
    int  (*begin)(fg_db *db, fg_err *err);      /* takes the write lock at once on SQLite */
    void (*close)(fg_db *db);
} fg_db_ops;

struct fg_db {
    const fg_db_ops *ops;
    fg_db_engine engine;
    char where[256];            /* the target, for messages (a URL without its password) */
    int unique_violation;       /* the last failure broke a UNIQUE constraint (a race lost) */
};

/* Opens target (a postgresql:// URL or a SQLite path; fg_history_target). */
fg_db *fg_db_open(const char *target, fg_err *err);
fg_db *fg_db_open_sqlite(const char *path, fg_err *err);
fg_db *fg_db_open_pg(const char *url, fg_err *err);
void   fg_db_close(fg_db *db);

int fg_db_exec(fg_db *db, const char *sql, fg_err *err);
/* rows may be NULL when the statement returns nothing of interest; else it
 * is filled (and must be freed with fg_db_rows_free, also after an error). */
int fg_db_query(fg_db *db, const char *sql, int n_params, const char *const *params,
                fg_db_rows *rows, fg_err *err);
int fg_db_begin(fg_db *db, fg_err *err);
int fg_db_commit(fg_db *db, fg_err *err);
void fg_db_rollback(fg_db *db);

const char *fg_db_get(const fg_db_rows *rows, int r, int c);    /* NULL past the end, or NULL */
void fg_db_rows_free(fg_db_rows *rows);
/* For the engines: a new zeroed row of n_cols slots at the end (each slot
 * then gets a malloc'ed copy of its value), NULL when out of memory. */
char **fg_db_rows_append(fg_db_rows *rows, int n_cols);

#endif
