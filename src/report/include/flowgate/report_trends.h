/* report_trends.h — a run's cells as the history sees them: each cell's
 * trend chart (charts/trend.h) and the change points of its series
 * (history_changes.h), for `flowgate plot --history` and the report page.
 * A cell's series is the one its run was filed in (fg_history_key_of): the
 * same workflow, machine, endpoint mode and request scale. */
#ifndef FLOWGATE_REPORT_TRENDS_H
#define FLOWGATE_REPORT_TRENDS_H
#include <cjson/cJSON.h>
#include "flowgate/history.h"
#include "flowgate/report_page.h"

typedef struct fg_report_history {
    fg_report_change *changes;   /* the change points of every cell's default metrics */
    size_t n_changes;
    int series;                  /* cells with at least one run in the history */
    int charts;                  /* trend charts drawn */
    char **strings;              /* what the changes point into (owned) */
    size_t n_strings;
} fg_report_history;

/* For each cell of the run in results: its change points, and with
 * trends_dir its trend chart drawn there (p50, p95, throughput; change
 * points and A/B verdicts at their commits). The folder is emptied of
 * older trend charts first, so it shows this run's cells only. 0, or -1
 * with err (a chart that could not be drawn, a history that failed). */
int fg_report_history_load(fg_history *h, const cJSON *results, const char *trends_dir,
                           fg_report_history *out, fg_err *err);
void fg_report_history_free(fg_report_history *rh);

/* The same for the run in results_path (loaded: results), from the history
 * its writers appended it to (fg_history_target of the results file's
 * folder). A history that is off, or a SQLite file that does not exist, is
 * no history: 0 with *have 0 (nothing is created). 0 with *have 1, or -1. */
int fg_report_history_of_run(const char *results_path, const cJSON *results,
                             const char *trends_dir, fg_report_history *out, int *have,
                             fg_err *err);

#endif
