/* store.h — what an open history is, for the files of this module. */
#ifndef FLOWGATE_HISTORY_STORE_H
#define FLOWGATE_HISTORY_STORE_H
#include "db.h"
#include "flowgate/history.h"

struct fg_history {
    fg_db *db;
};

/* fg_history_import_results with tag (NULL: none) added to the run_key:
 * the two sides of an A/B run share host, id, start and category. */
int fg_history_import_tagged(fg_history *h, const cJSON *root, const char *path,
                             const char *kind, const char *tag, fg_err *err);

/* "%.17g" of v: the text a double parameter travels as, exact both ways. */
void fg_history_format_double(double v, char *out, size_t size);
/* The current UTC time, ISO 8601 ("2026-12-06T14:03:53Z"). */
void fg_history_now_utc(char *out, size_t size);
/* strtod of a result cell; NAN for NULL or not a number. */
double fg_history_parse_double(const char *text);

#endif
