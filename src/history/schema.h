/* schema.h — the history's versioned schema (flowgate/history.h documents
 * the tables). The migrations are an ordered list of steps; a history at
 * version v gets steps v+1 ... latest, each in its own transaction, under a
 * lock (SQLite's write lock, a PostgreSQL advisory lock) so that processes
 * opening a new history at once apply each step once. */
#ifndef FLOWGATE_HISTORY_SCHEMA_H
#define FLOWGATE_HISTORY_SCHEMA_H
#include "db.h"
#include "flowgate/history.h"

/* The schema this flowgate writes. */
int fg_history_schema_latest(void);

/* The database's version: 0 for a new database. 0 or -1. */
int fg_history_schema_version(fg_db *db, int *version, fg_err *err);

/* Brings db to version target (<= latest). -1 when it is beyond the latest
 * (a newer flowgate wrote it) or a step failed. */
int fg_history_migrate(fg_db *db, int target, fg_err *err);

/* For tests: fg_history_open stopping at version (a history as an older
 * flowgate left it), and the connection underneath. */
fg_history *fg_history_open_at_version(const char *target, int version, fg_err *err);
fg_db *fg_history_db(fg_history *h);
/* For tests: imports fail after this many cells (-1: never), to show that
 * a failure half-way leaves nothing behind. */
void fg_history_test_fail_after_cells(int cells);

#endif
