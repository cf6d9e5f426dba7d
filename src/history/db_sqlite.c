/* db_sqlite.c — the history in a SQLite file (db.h).
 *
 * Several processes write one file at once (CI jobs, ctest -j): the file is
 * in WAL mode, so readers never wait for a writer; a writer takes the lock
 * at the start of its transaction (BEGIN IMMEDIATE), so two writers queue
 * instead of one failing when it upgrades a read lock; and a busy writer is
 * waited for (busy_timeout) rather than reported. */
#include "db.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { BUSY_TIMEOUT_MS = 30000 };

typedef struct sqlite_db {
    fg_db base;                 /* first: a sqlite_db is an fg_db */
    sqlite3 *conn;
} sqlite_db;

static sqlite3 *conn_of(fg_db *db)
{
    return ((sqlite_db *)db)->conn;
}

static int fail(fg_db *db, fg_err *err, const char *what)
{
    int code = sqlite3_extended_errcode(conn_of(db));
    db->unique_violation = code == SQLITE_CONSTRAINT_UNIQUE || code == SQLITE_CONSTRAINT_PRIMARYKEY;
    return fg_err_set(err, "%s: %s: %s", db->where, what, sqlite3_errmsg(conn_of(db)));
}

static int sqlite_exec(fg_db *db, const char *sql, fg_err *err)
{
    char *msg = NULL;
    if (sqlite3_exec(conn_of(db), sql, NULL, NULL, &msg) == SQLITE_OK) return 0;
    fg_err_set(err, "%s: %s", db->where, msg ? msg : sqlite3_errmsg(conn_of(db)));
    sqlite3_free(msg);
    return -1;
}

static int copy_row(sqlite3_stmt *st, fg_db_rows *rows)
{
    int n = sqlite3_column_count(st);
    char **row = fg_db_rows_append(rows, n);
    if (!row) return -1;
    for (int c = 0; c < n; c++) {
        const unsigned char *v = sqlite3_column_text(st, c);
        if (v && !(row[c] = strdup((const char *)v))) return -1;
    }
    return 0;
}

static int sqlite_query(fg_db *db, const char *sql, int n_params, const char *const *params,
                        fg_db_rows *rows, fg_err *err)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(conn_of(db), sql, -1, &st, NULL) != SQLITE_OK) return fail(db, err, "prepare");
    for (int i = 0; i < n_params; i++) {
        char name[16];
        snprintf(name, sizeof name, "$%d", i + 1);
        int at = sqlite3_bind_parameter_index(st, name);
        if (at == 0) continue;          /* a parameter this statement does not use */
        int rc = params[i] ? sqlite3_bind_text(st, at, params[i], -1, SQLITE_TRANSIENT)
                           : sqlite3_bind_null(st, at);
        if (rc != SQLITE_OK) {
            sqlite3_finalize(st);
            return fail(db, err, "bind");
        }
    }
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (rows && copy_row(st, rows) != 0) {
            sqlite3_finalize(st);
            return fg_err_set(err, "%s: out of memory", db->where);
        }
    }
    if (rc != SQLITE_DONE) {
        fail(db, err, "query");
        sqlite3_finalize(st);
        return -1;
    }
    sqlite3_finalize(st);
    return 0;
}

static int sqlite_begin(fg_db *db, fg_err *err)
{
    return sqlite_exec(db, "BEGIN IMMEDIATE", err);
}

static void sqlite_close(fg_db *db)
{
    sqlite3_close(conn_of(db));
    free(db);
}

static const fg_db_ops sqlite_ops = {sqlite_exec, sqlite_query, sqlite_begin, sqlite_close};

/* The parent directory of path, made when missing (the first run's
 * results directory may not exist yet). */
static int make_parent(const char *path, fg_err *err)
{
    char dir[1024];
    if ((size_t)snprintf(dir, sizeof dir, "%s", path) >= sizeof dir)
        return fg_err_set(err, "%s: path too long", path);
    char *slash = strrchr(dir, '/');
    if (!slash || slash == dir) return 0;
    *slash = 0;
    return fg_mkdirs(dir, err);
}

/* Switching to WAL needs the file to itself for a moment; several
 * processes opening a new history at once take turns. */
static int use_wal(fg_db *db, fg_err *err)
{
    for (int tries = 0;; tries++) {
        sqlite3_stmt *st = NULL;
        int rc = sqlite3_prepare_v2(conn_of(db), "PRAGMA journal_mode=WAL", -1, &st, NULL);
        if (rc == SQLITE_OK) rc = sqlite3_step(st);
        int wal = rc == SQLITE_ROW &&
                  !strcmp((const char *)sqlite3_column_text(st, 0), "wal");
        sqlite3_finalize(st);
        if (wal) return 0;
        if ((rc != SQLITE_BUSY && rc != SQLITE_LOCKED) || tries >= BUSY_TIMEOUT_MS / 50)
            return rc == SQLITE_ROW ? fg_err_set(err, "%s: cannot use WAL mode", db->where)
                                    : fail(db, err, "journal_mode=WAL");
        usleep(50 * 1000);
    }
}

fg_db *fg_db_open_sqlite(const char *path, fg_err *err)
{
    if (make_parent(path, err) != 0) return NULL;
    sqlite_db *s = calloc(1, sizeof *s);
    if (!s) {
        fg_err_set(err, "out of memory");
        return NULL;
    }
    s->base.ops = &sqlite_ops;
    s->base.engine = FG_DB_SQLITE;
    snprintf(s->base.where, sizeof s->base.where, "%s", path);
    if (sqlite3_open_v2(path, &s->conn, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) != SQLITE_OK) {
        fg_err_set(err, "%s: %s", path, s->conn ? sqlite3_errmsg(s->conn) : "cannot open");
        sqlite_close(&s->base);
        return NULL;
    }
    sqlite3_busy_timeout(s->conn, BUSY_TIMEOUT_MS);
    /* NORMAL is durable in WAL mode except for the last commits on a power
     * loss, and spares an fsync per import. */
    if (use_wal(&s->base, err) != 0 ||
        sqlite_exec(&s->base, "PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON", err) != 0) {
        sqlite_close(&s->base);
        return NULL;
    }
    return &s->base;
}
