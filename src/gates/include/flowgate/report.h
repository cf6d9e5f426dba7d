/* report.h — the threshold table of a run: every cell x threshold with its
 * actual value, PASS/FAIL/SKIP and a note, as Markdown
 * (results/thresholds_<run-id>.md) and as aligned plain text for the
 * terminal. A run without experiments or marked interrupted never passes:
 * a failing "(run)" row says why there is no verdict. A check the machine's
 * load left open (thresholds.h) is INCONCLUSIVE, counted apart from the
 * failures; the table has a line of cell outcomes (pass / fail /
 * inconclusive) and the run's outcome: fail if any cell failed, else
 * inconclusive if any was, else pass. */
#ifndef FLOWGATE_REPORT_H
#define FLOWGATE_REPORT_H
#include <cjson/cJSON.h>
#include "flowgate/common.h"
#include "flowgate/thresholds.h"

typedef struct fg_threshold_table {
    char *markdown;     /* NUL-terminated, owned */
    char *text;
    int cells;          /* experiment entries */
    int checks;         /* thresholds evaluated, plus the "no verdict" rows */
    int failed;         /* of those, failed (a missing metric fails; so does a run
                           that was interrupted or has no experiments) */
    int skipped;        /* relative thresholds without a base: not in checks */
    char why[96];       /* why the run has no (complete) verdict; "" normally */
    int inconclusive;   /* checks inconclusive (machine busy): not in failed */
    int cells_failed, cells_inconclusive;
    fg_outcome outcome; /* the run's */
    int n_entries;      /* entries of the results, in order: */
    fg_outcome *entry_outcome;    /* owned */
    char (*entry_reason)[160];    /* owned: the first inconclusive or failing note */
} fg_threshold_table;

/* Evaluates every experiment entry of a results root against a thresholds
 * document (thresholds.h); -1 on a bad document or results without an
 * experiments array. Relative thresholds are skipped. */
int  fg_report_thresholds(const cJSON *results, const cJSON *thresholds,
                          fg_threshold_table *out, fg_err *err);
/* The same with a base run (e.g. the A side of an A/B run; NULL: none):
 * relative thresholds ("p95_ms < 1.25 * base.p95_ms") use the base's entry
 * of the same cell and repeat (else the cell's first repeat); a cell the
 * base lacks fails them with a note. */
int  fg_report_thresholds_base(const cJSON *results, const cJSON *base,
                               const cJSON *thresholds, fg_threshold_table *out, fg_err *err);
void fg_threshold_table_free(fg_threshold_table *t);
/* Writes each entry's outcome into the results document (entry.outcome,
 * entry.outcome_reason when not pass) and run.outcome; results must be the
 * document the table was made from. */
void fg_report_mark_outcomes(const fg_threshold_table *t, cJSON *results);
/* Writes t->markdown atomically to <dir>/thresholds_<run.id>.md (dir is
 * created); the path goes to path_out when given. */
int  fg_report_write_thresholds(const fg_threshold_table *t, const cJSON *results,
                                const char *dir, char *path_out, size_t path_size,
                                fg_err *err);

#endif
