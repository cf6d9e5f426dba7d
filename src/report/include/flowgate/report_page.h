/* report_page.h — the report page of a run: ONE self-contained HTML file
 * (inline CSS, no script, nothing fetched: the charts are gnuplot's SVGs
 * inlined, their ids made unique) that a reviewer opens from CI artefacts.
 * Sections:
 *
 *   summary        category, workflow, commit, host/cores, started/finished,
 *                  noise probe, outcome, cells pass / fail / inconclusive
 *   thresholds     the threshold table the run wrote beside its results
 *                  (thresholds_<run-id>.md): the verdict as it was decided
 *   A/B verdict    outcome, per-cell verdict with ratios and 95 % CIs, the
 *                  named culprit (verdict.json, verdict.txt): the given A/B
 *                  dir, else the newest ab-* beside the results whose B side
 *                  ran the same commit
 *   change points  the caller's list (from the history)
 *   trends         the .svg files of <plots>/trends/
 *   charts         the .svg files of <plots>/<run-id>/ and its subfolders
 *
 * with relative links to the JSON files. Every text taken from a file is
 * escaped; a missing part is said on the page, not an error. Named
 * report_page.h because report.h is the gates' threshold table. */
#ifndef FLOWGATE_REPORT_PAGE_H
#define FLOWGATE_REPORT_PAGE_H
#include <stddef.h>
#include <cjson/cJSON.h>
#include "flowgate/common.h"

/* A change point of one cell's metric, as the history found it. */
typedef struct fg_report_change {
    const char *cell;          /* "standard/exp_input1.0mb_conc5_ours" */
    const char *metric;        /* "p50_ms" */
    const char *commit;        /* the first commit of the new level */
    double change_pct;         /* +12.3: the new level against the old, % */
    double ci_lo_pct, ci_hi_pct;   /* its 95 % interval, %; NAN: not known */
    double p_value;            /* NAN: not known */
} fg_report_change;

typedef struct fg_report_opts {
    const char *results_path;  /* the run's results file (required) */
    const cJSON *results;      /* that file already loaded; NULL: the page loads it */
    const char *ab_dir;        /* an A/B verdict dir; NULL: look beside the results */
    const char *plots_dir;     /* charts root; NULL: "plots" */
    const char *out_path;      /* NULL: <results dir>/report_<run-id>.html */
    /* The change points of the cells' histories. have_history 0: no history
     * was consulted ("no history"); 1 and none: "no change points". */
    int have_history;
    const fg_report_change *changes;
    size_t n_changes;
} fg_report_opts;

typedef struct fg_report_summary {
    char path[1024];           /* the page written */
    char run_id[64];
    char ab_dir[1024];         /* the A/B dir shown, "" none */
    int charts, trend_charts;  /* SVGs inlined */
    int charts_refused;        /* SVGs left out: external references or too big */
} fg_report_summary;

/* Writes the page atomically (a reader never sees half of it). -1 with one
 * line when the results file does not load or the page cannot be written;
 * everything else missing is reported on the page. summary may be NULL. */
int fg_report_page(const fg_report_opts *opts, fg_report_summary *summary, fg_err *err);

#endif
