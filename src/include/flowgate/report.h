/* report.h — the threshold table of a run: every cell x threshold with its
 * actual value and PASS/FAIL, as Markdown (results/thresholds_<run-id>.md)
 * and as aligned plain text for the terminal. */
#ifndef FLOWGATE_REPORT_H
#define FLOWGATE_REPORT_H
#include <cjson/cJSON.h>
#include "flowgate/common.h"

typedef struct fg_threshold_table {
    char *markdown;     /* NUL-terminated, owned */
    char *text;
    int cells;          /* experiment entries */
    int checks;         /* thresholds evaluated */
    int failed;         /* of those, failed (a missing metric fails) */
} fg_threshold_table;

/* Evaluates every experiment entry of a results root against a thresholds
 * document (thresholds.h); -1 on a bad document or results without
 * experiments. */
int  fg_report_thresholds(const cJSON *results, const cJSON *thresholds,
                          fg_threshold_table *out, fg_err *err);
void fg_threshold_table_free(fg_threshold_table *t);
/* Writes t->markdown atomically to <dir>/thresholds_<run.id>.md (dir is
 * created); the path goes to path_out when given. */
int  fg_report_write_thresholds(const fg_threshold_table *t, const cJSON *results,
                                const char *dir, char *path_out, size_t path_size,
                                fg_err *err);

#endif
