/* finish.h — what every run of the tool does around its cells (finish.c):
 * the stop-signal catcher, the one-line summary of an experiment entry,
 * the threshold table, and the end of a run (table, interrupted verdict,
 * results file closed, exit status). `flowgate run` (matrix_run.h), its
 * scenarios (scenario_run.h) and `flowgate ab` (ab_sides.h) share them, so
 * they print, judge and exit alike. */
#ifndef FLOWGATE_FINISH_H
#define FLOWGATE_FINISH_H
#include <signal.h>
#include <stdio.h>
#include <cjson/cJSON.h>
#include "flowgate/common.h"
#include "flowgate/outcome.h"
#include "flowgate/runner.h"

/* Where a run's words go: the report (summaries, tables, verdicts) to
 * out, errors to errs as "<who>: <message>" (who: the command, e.g.
 * "flowgate run"). */
typedef struct fg_run_output {
    FILE *out, *errs;
    const char *who;
} fg_run_output;

/* The handlers fg_run_catch_stop replaced. */
typedef struct fg_run_stop {
    struct sigaction old_int, old_term;
} fg_run_stop;

/* SIGINT/SIGTERM stop the running experiment (fg_stop_request); a
 * second one kills. Installed before a cluster starts, so a stop always
 * ends in fg_runner_close, which stops the embedded server. */
void fg_run_catch_stop(fg_run_stop *s);
/* Puts back the handlers fg_run_catch_stop found. */
void fg_run_release_stop(const fg_run_stop *s);

/* One line per experiment entry: ok/sent, p50, p95, throughput, what it
 * was bound by and the measured contention. */
void fg_run_print_summary(FILE *out, const cJSON *e);

/* The threshold table of results against doc: printed to out, then
 * "threshold table: PATH", saved as <dir>/thresholds_<run-id>.md, each
 * entry's outcome and run.outcome written into results. With a base (an
 * A/B run's A side) relative bounds use its entry of the same pair, the
 * line reads "threshold table (B against A): PATH" and results is left as
 * it is (the A/B verdict is the run's). Returns the failed checks, -1 on
 * a bad document; *outcome: the table's (pass / fail / inconclusive). */
int fg_run_report_thresholds(const cJSON *doc, cJSON *results, const cJSON *base, const char *dir,
                             FILE *out, fg_outcome *outcome, fg_err *err);

/* The end of a run: the threshold table of what ran (thresholds NULL:
 * none; only when status is still 0), the interrupted verdict, the
 * results file closed (r freed). Returns the exit status: 1 a failed
 * check or an interrupted run, 2 a bad table or a failed close, 3
 * (FG_EXIT_INCONCLUSIVE) when the only open checks were left so by a busy
 * machine, 0 for that with inconclusive_pass. */
int fg_run_finish(fg_runner *r, const cJSON *thresholds, const char *results_dir, int interrupted,
                  int status, int inconclusive_pass, const fg_run_output *o);

#endif
