/* history.h — the performance history: every run's cells, kept so that a
 * series (one cell's metric over commits) can be drawn and its change
 * points found. Every `flowgate run`, suite and `flowgate ab` appends to it
 * (fg_history_append_run / _ab); `flowgate history import` backfills old
 * results files. Where it lives: history_target.h (a SQLite file beside the
 * results by default, a PostgreSQL URL in CI, or off).
 *
 * Schema (the same tables on SQLite and PostgreSQL; version 3):
 *   schema_version (version, applied_at)      one row per migration applied
 *   runs     one row per results file's run
 *     id, run_key UNIQUE = host|run.id|run.started|run.category (|A or |B
 *         for the sides of an A/B run, which share all four): the same run
 *         imported twice, or from a copy of its file, is one run
 *     kind 'run' | 'suite' | 'ab' (a side of an A/B run), run_id, category,
 *     workflow, git_commit, branch (run.git_branch, else $FLOWGATE_BRANCH at
 *     import, else ''), started, finished (ISO 8601 as in the file), host,
 *     cores, machine_key, endpoint_mode (run.endpoints.mode), request_scale
 *     (run.config.request_scale, 1 when absent), noise_before, noise_max,
 *     noise_after (run.noise before, max_during, after), outcome,
 *     interrupted (0/1), source (the file's real path), imported_at (UTC)
 *   cells    one row per experiments[] entry
 *     id, run -> runs, category (the entry's, else the run's), experiment_id,
 *     repeat, scheduler, input_mb, concurrency, mode, outcome
 *     UNIQUE (run, category, experiment_id, repeat)
 *   metrics  (cell -> cells, name, value) PRIMARY KEY (cell, name): every
 *     numeric leaf of the entry under its dotted path ("throughput_rps",
 *     "latency_ms.p50", "requests.sent", "functions.recognizer__extract.
 *     exec_ms.p95"); arrays, booleans and the bulky "resources",
 *     "timeline", "latency_samples_ms" and the histograms ("*_hist") are left out
 *   ab_runs  one row per A/B run (its directory's verdict.json)
 *     id, ab_key UNIQUE = host|ab id, ab_id (ab-<stamp>), host, started,
 *     commit_a, commit_b (each side's run.git_commit, '' if unknown),
 *     outcome, stopped, pairs, source, imported_at
 *   ab_cells (ab_run -> ab_runs, experiment_id) PRIMARY KEY: verdict,
 *     centre_ratio, centre_ci_lo, centre_ci_hi, and when the verdict is
 *     "regression" the culprit: the first entry of the cell's "functions"
 *     list (culprit_function, culprit_part, culprit_added_ms), else ''/NULL
 * machine_key = "<cores>c <run.cpu_model>" when the results name the CPU,
 * else "<cores>c <host>": runs on different machines are different series.
 *
 * A series is the values of one metric of one cell key (workflow, category,
 * experiment_id, machine_key, endpoint mode, request_scale) over the runs of
 * kind 'run' and 'suite', in order of started: one point per run, the mean
 * over its repeats. Left out: interrupted runs (their cells may be cut
 * short), cells whose outcome is "inconclusive" (the machine was too busy
 * for their numbers to mean anything), and the sides of A/B runs (side B
 * may be a deliberately slowed system).
 *
 * Concurrency: many processes may import into one history at once; each
 * import is one transaction, so a run is in whole or not at all, and a run
 * already there (even one a concurrent importer is writing) is reported as
 * such, not as an error. */
#ifndef FLOWGATE_HISTORY_H
#define FLOWGATE_HISTORY_H
#include <stdio.h>
#include <cjson/cJSON.h>
#include "flowgate/common.h"

typedef struct fg_history fg_history;

/* Opens the history at target (a SQLite path or a postgresql:// URL, see
 * fg_history_target), creating the SQLite file and its directory on first
 * use and bringing the schema to the latest version. NULL and err on error
 * (also for a history written by a newer flowgate). */
fg_history *fg_history_open(const char *target, fg_err *err);
void fg_history_close(fg_history *h);

/* Results of an import: */
enum { FG_HISTORY_IMPORTED = 0, FG_HISTORY_ALREADY = 1 };   /* -1: error */

/* Imports a results file (kind 'run'). 0 imported, 1 already there, -1 on
 * error, err one line naming the file (bad JSON, not flowgate-results/1). */
int fg_history_import_file(fg_history *h, const char *path, fg_err *err);
/* Imports a loaded results document; path is where it came from (stored as
 * the run's source and named in errors), kind 'run', 'suite' or 'ab'. */
int fg_history_import_results(fg_history *h, const cJSON *root, const char *path,
                              const char *kind, fg_err *err);
/* Imports an A/B run's directory: its verdict.json, and the results files
 * of its sides A/ and B/ as runs of kind 'ab'. 0, 1 (the verdict was there
 * already), -1. */
int fg_history_import_ab(fg_history *h, const char *ab_dir, fg_err *err);

/* The writers' one call: the history of results_dir (fg_history_target;
 * nothing when it is off) gets the run in results_path (kind as above) or
 * the A/B run in ab_dir. A failure is one line "history: <why>" on errs
 * and -1; it is not the run's failure, so callers keep their exit status. */
int fg_history_append_run(const char *results_dir, const char *results_path, const char *kind,
                          FILE *errs);
int fg_history_append_ab(const char *results_dir, const char *ab_dir, FILE *errs);

/* What identifies a series. */
typedef struct fg_history_key {
    char workflow[64], category[64], experiment_id[160], machine_key[192], endpoint_mode[32];
    double request_scale;
} fg_history_key;

/* The key of the series an experiment entry of a results document (root)
 * belongs to, as an import would file it. 0, or -1 when root has no run
 * object or the entry no experiment_id. */
int fg_history_key_of(const cJSON *root, const cJSON *experiment, fg_history_key *key);

/* One run's value in a series. */
typedef struct fg_history_point {
    char run_key[320], run_id[64], git_commit[64], branch[128], started[40];
    double value;       /* mean over the run's repeats of the cell */
    int repeats;        /* how many repeats it is the mean of */
} fg_history_point;

/* The distinct series keys, of experiment_id only when it is not NULL, in
 * order of workflow, category, experiment_id, machine, mode, scale. *keys
 * is malloc'ed (free()); 0 or -1. */
int fg_history_series_list(fg_history *h, const char *experiment_id, fg_history_key **keys,
                           int *n, fg_err *err);

/* Metric name: a dotted path of the cell ("latency_ms.p95", "functions.
 * recognizer__extract.exec_ms.p50") or an alias: p50_ms, p90_ms, p95_ms,
 * p99_ms (latency_ms.pNN), mean_ms, max_ms. The alias's path, or name. */
const char *fg_history_metric_path(const char *name);

/* The series of metric for key, one point per run in order of started
 * (then import order). since_commit (a commit or a prefix of one; NULL =
 * all) starts it at the first run of that commit: FG_HISTORY_NO_SUCH_COMMIT
 * (no points, err says so) when no run of the series has it. *points is
 * malloc'ed (free()); 0, FG_HISTORY_NO_SUCH_COMMIT or -1. */
enum { FG_HISTORY_NO_SUCH_COMMIT = 1 };
int fg_history_series(fg_history *h, const fg_history_key *key, const char *metric,
                      const char *since_commit, fg_history_point **points, int *n, fg_err *err);

/* One A/B cell's verdict, to annotate a series at B's commit. */
typedef struct fg_history_ab_mark {
    char ab_id[64], started[40], commit_a[64], commit_b[64], outcome[32];
    char experiment_id[160], verdict[32];
    double centre_ratio, centre_ci_lo, centre_ci_hi;        /* NAN when not known */
    char culprit_function[128], culprit_part[32];           /* "" unless a regression */
    double culprit_added_ms;                                /* NAN unless a regression */
} fg_history_ab_mark;

/* The A/B verdicts of experiment_id's cells (NULL: of every cell), in order
 * of started. *marks is malloc'ed (free()); 0 or -1. */
int fg_history_ab_list(fg_history *h, const char *experiment_id, fg_history_ab_mark **marks,
                       int *n, fg_err *err);

/* One run, as `flowgate history runs` lists it. */
typedef struct fg_history_run {
    char run_id[64], kind[8], git_commit[64], category[64], started[40], outcome[32];
    int cells, interrupted;
} fg_history_run;

/* Every run, in order of started. *runs is malloc'ed (free()); 0 or -1. */
int fg_history_runs(fg_history *h, fg_history_run **runs, int *n, fg_err *err);

/* Rows in runs, cells and metrics. 0 or -1. */
int fg_history_counts(fg_history *h, long *runs, long *cells, long *metrics, fg_err *err);

#endif
