/* open.c — opening a history (engine, schema) and the small helpers the
 * other files share. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "schema.h"
#include "store.h"

fg_history *fg_history_open_at_version(const char *target, int version, fg_err *err)
{
    fg_history *h = calloc(1, sizeof *h);
    if (!h) {
        fg_err_set(err, "out of memory");
        return NULL;
    }
    if (!(h->db = fg_db_open(target, err)) || fg_history_migrate(h->db, version, err) != 0) {
        fg_history_close(h);
        return NULL;
    }
    return h;
}

fg_history *fg_history_open(const char *target, fg_err *err)
{
    return fg_history_open_at_version(target, fg_history_schema_latest(), err);
}

void fg_history_close(fg_history *h)
{
    if (!h) return;
    fg_db_close(h->db);
    free(h);
}

fg_db *fg_history_db(fg_history *h)
{
    return h->db;
}

void fg_history_format_double(double v, char *out, size_t size)
{
    snprintf(out, size, "%.17g", v);
}

void fg_history_now_utc(char *out, size_t size)
{
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(out, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

double fg_history_parse_double(const char *text)
{
    if (!text || !*text) return NAN;
    char *end;
    double v = strtod(text, &end);
    return *end ? NAN : v;
}
