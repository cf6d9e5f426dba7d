/* history_target.h — where the performance history lives: one answer for
 * every writer (run, suites, ab) and reader (history, plot, report). */
#ifndef FLOWGATE_HISTORY_TARGET_H
#define FLOWGATE_HISTORY_TARGET_H
#include <stddef.h>

/* The history of runs whose results go to results_dir:
 *   $FLOWGATE_HISTORY when set: "off" (or empty) = no history, a
 *   "postgresql://" or "postgres://" URL = that PostgreSQL database, any
 *   other value = a SQLite file at that path;
 *   else <results_dir>/history.sqlite.
 * Returns buf, or NULL when the history is off. */
const char *fg_history_target(const char *results_dir, char *buf, size_t size);

/* 1 when target names a PostgreSQL database (a libpq URL), else 0. */
int fg_history_target_is_postgres(const char *target);

#endif
