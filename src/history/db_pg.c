/* db_pg.c — the history in a PostgreSQL database (db.h), for CI: many
 * machines, one history. libpq's own parameter syntax is $1, $2 ..., so the
 * statements pass through untouched; untyped parameters take the type of
 * the column they meet, as SQLite's affinity does. */
#include "db.h"

#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct pg_db {
    fg_db base;                 /* first: a pg_db is an fg_db */
    PGconn *conn;
} pg_db;

static PGconn *conn_of(fg_db *db)
{
    return ((pg_db *)db)->conn;
}

/* libpq's messages end in a newline and may add DETAIL lines: the first
 * line is the one to show. */
static int fail_text(fg_db *db, fg_err *err, const char *msg)
{
    char line[400];
    snprintf(line, sizeof line, "%s", msg && *msg ? msg : "unknown error");
    line[strcspn(line, "\n")] = 0;
    return fg_err_set(err, "%s: %s", db->where, line);
}

/* Takes res (freed here); 0 when it succeeded. */
static int check(fg_db *db, PGresult *res, fg_err *err)
{
    ExecStatusType st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
    if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) return 0;
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    db->unique_violation = state && !strcmp(state, "23505");
    /* The primary message, without libpq's "ERROR:  " and its newline. */
    const char *primary = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    fail_text(db, err, primary ? primary
                       : res ? PQresultErrorMessage(res) : PQerrorMessage(conn_of(db)));
    PQclear(res);
    return -1;
}

static int pg_exec(fg_db *db, const char *sql, fg_err *err)
{
    PGresult *res = PQexec(conn_of(db), sql);
    if (check(db, res, err) != 0) return -1;
    PQclear(res);
    return 0;
}

static int pg_query(fg_db *db, const char *sql, int n_params, const char *const *params,
                    fg_db_rows *rows, fg_err *err)
{
    PGresult *res = PQexecParams(conn_of(db), sql, n_params, NULL, params, NULL, NULL, 0);
    if (check(db, res, err) != 0) return -1;
    int n = PQntuples(res), cols = PQnfields(res);
    for (int r = 0; rows && r < n; r++) {
        char **row = fg_db_rows_append(rows, cols);
        for (int c = 0; row && c < cols; c++)
            if (!PQgetisnull(res, r, c) && !(row[c] = strdup(PQgetvalue(res, r, c)))) row = NULL;
        if (!row) {
            PQclear(res);
            return fg_err_set(err, "%s: out of memory", db->where);
        }
    }
    PQclear(res);
    return 0;
}

static int pg_begin(fg_db *db, fg_err *err)
{
    return pg_exec(db, "BEGIN", err);
}

static void pg_close(fg_db *db)
{
    PQfinish(conn_of(db));
    free(db);
}

static const fg_db_ops pg_ops = {pg_exec, pg_query, pg_begin, pg_close};

/* The server's NOTICEs ("relation already exists, skipping") are not the
 * user's business. */
static void quiet(void *arg, const char *message)
{
    (void)arg;
    (void)message;
}

/* url without the password of its user part: messages may reach CI logs. */
static void redact(const char *url, char *out, size_t size)
{
    snprintf(out, size, "%s", url);
    char *user = strstr(out, "://");
    if (!user) return;
    user += 3;
    char *at = strchr(user, '@'), *slash = strchr(user, '/');
    if (!at || (slash && slash < at)) return;
    char *colon = memchr(user, ':', (size_t)(at - user));
    if (colon) memmove(colon, at, strlen(at) + 1);
}

fg_db *fg_db_open_pg(const char *url, fg_err *err)
{
    pg_db *p = calloc(1, sizeof *p);
    if (!p) {
        fg_err_set(err, "out of memory");
        return NULL;
    }
    p->base.ops = &pg_ops;
    p->base.engine = FG_DB_POSTGRES;
    redact(url, p->base.where, sizeof p->base.where);
    /* The URL's own settings come last and so win over these defaults. */
    const char *keys[] = {"connect_timeout", "application_name", "dbname", NULL};
    const char *values[] = {"10", "flowgate", url, NULL};
    p->conn = PQconnectdbParams(keys, values, 1);
    if (!p->conn || PQstatus(p->conn) != CONNECTION_OK) {
        fail_text(&p->base, err, p->conn ? PQerrorMessage(p->conn) : "out of memory");
        pg_close(&p->base);
        return NULL;
    }
    PQsetNoticeProcessor(p->conn, quiet, NULL);
    return &p->base;
}
