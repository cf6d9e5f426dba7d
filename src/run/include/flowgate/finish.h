/* finish.h — what every run of the tool does around its cells (finish.c):
 * the stop-signal catcher and the words of a stop, the one-line summary of
 * an experiment entry, the threshold table, and the end of a run (table,
 * results file closed, exit status, the line a stop ends with). `flowgate
 * run` (matrix_run.h), its scenarios (scenario_run.h) and `flowgate ab`
 * (ab_sides.h) share them, so they print, judge and exit alike. */
#ifndef FLOWGATE_FINISH_H
#define FLOWGATE_FINISH_H
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

/* Installs the stop catcher for the rest of the process: SIGINT and
 * SIGTERM request a stop (fg_stop_request) and a second one kills at
 * once; a signal ignored at start (a `&` job of a script ignores SIGINT)
 * stays ignored. A call the signal interrupts resumes (SA_RESTART), so a
 * stop never cuts a write short: the loops that wait long poll the flag.
 * Sets stop.h's phase to FG_RUN_PHASE_SETUP. `flowgate run`, `ab` and
 * `plot` call it first thing and keep it until they exit, so a stop at
 * any moment ends through the code below: exit 1, one line saying where,
 * a results file marked interrupted. */
void fg_run_catch_stop(void);

/* A stop, in words, for the one line a stopped command ends with:
 * `<who>: interrupted <where>; results: <path> (<cells>)`.
 * fg_run_phase_words: a phase's words ("during the health wait");
 * fg_run_stop_where: the phase stop.h recorded, refined for the cells by
 * the results and all_cells_run: "before the first cell", "during the
 * warm-up of <id>", "during <id>" (its measurement), "between cells,
 * after <id>", "after the last cell" (a repeat: "<id> #k");
 * fg_run_entry_where: "during [the warm-up of ]<prefix><id>" and 1 when
 * the entry e was cut short, else 0; fg_run_entry_name: "<prefix><id>"
 * ("<prefix><id> #k" for repeat k > 0); fg_run_cells_words: "no cells",
 * "3 cells", "3 cells, the last cut short". */
const char *fg_run_phase_words(int phase);
void fg_run_stop_where(const cJSON *results, int all_cells_run, char *out, size_t size);
int fg_run_entry_where(const cJSON *e, const char *prefix, char *out, size_t size);
void fg_run_entry_name(const cJSON *e, const char *prefix, char *out, size_t size);
void fg_run_cells_words(const cJSON *results, char *out, size_t size);

/* Marks a results document stopped: run.interrupted true,
 * run.interrupted_during = where, run.outcome "fail". */
void fg_run_mark_interrupted(cJSON *results, const char *where);

/* A run stopped before it had a results file still leaves one: written
 * to c->results_dir under the name a run takes (results.h), valid,
 * finished, marked interrupted (where), no experiments; *path its name.
 * fg_run_stopped_early writes it, prints "results: <path>" and the one
 * line, and returns the exit status (1; 2 when it cannot be written). */
int fg_run_write_stopped(const fg_run_config *c, const char *where, char *path, size_t size,
                         fg_err *err);
int fg_run_stopped_early(const fg_run_config *c, const fg_run_output *o);

/* One line per experiment entry: ok/sent, p50, p95, throughput, what it
 * was bound by and the measured contention. */
void fg_run_print_summary(FILE *out, const cJSON *e);

/* The threshold table of results against doc: printed to out (NULL:
 * not printed), then "threshold table: PATH", saved as
 * <dir>/thresholds_<run-id>.md, each entry's outcome and run.outcome
 * written into results. With a base (an A/B run's A side) relative bounds
 * use its entry of the same pair, the line reads "threshold table (B
 * against A): PATH" and results is left as it is (the A/B verdict is the
 * run's). Returns the failed checks, -1 on a bad document; *outcome: the
 * table's (pass / fail / inconclusive). */
int fg_run_report_thresholds(const cJSON *doc, cJSON *results, const cJSON *base, const char *dir,
                             FILE *out, fg_outcome *outcome, fg_err *err);

/* The end of a run: the second after the last cell measured, the
 * threshold table of what ran (thresholds NULL: none; only when status is
 * still 0; a stop during it makes its file and the outcomes again from the
 * document marked interrupted), the results file closed (r freed), then
 * the verdict line, "results: PATH" and, when stopped, the one line on
 * o->errs (all_cells_run: the stop came after the last cell, not between
 * two). Returns the exit status: 1 a failed check or a stop, 2 a bad table
 * or a failed close, 3 (FG_EXIT_INCONCLUSIVE) when the only open checks
 * were left so by a busy machine, 0 for that with inconclusive_pass. */
int fg_run_finish(fg_runner *r, const cJSON *thresholds, const char *results_dir, int all_cells_run,
                  int status, int inconclusive_pass, const fg_run_output *o);

#endif
