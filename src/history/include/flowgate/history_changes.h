/* history_changes.h — the history judged: the change points of every
 * series (one cell's metric over commits, history.h) and the check that
 * the newest runs did not begin a worse level (changepoint.h). What
 * `flowgate history changes|check`, the trend charts and the report page
 * read. Only like is compared with like: a series is one cell on one kind
 * of machine, endpoint mode and request scale (history.h). */
#ifndef FLOWGATE_HISTORY_CHANGES_H
#define FLOWGATE_HISTORY_CHANGES_H
#include "flowgate/changepoint.h"
#include "flowgate/history.h"

/* The metrics judged when none is named: the centre, the tail and the
 * rate of a cell, as the A/B gate judges them. */
extern const char *const fg_history_default_metrics[];
enum { FG_HISTORY_DEFAULT_METRICS = 3 };

/* 1 when a larger value of metric is worse (latencies, timeouts, failures),
 * 0 when smaller is worse (throughput_rps, success_rate, requests.ok). */
int fg_history_higher_is_worse(const char *metric);

typedef struct fg_history_query {
    const char *experiment_id;   /* NULL: every cell */
    const char *category;        /* NULL: every category */
    const char *metric;          /* NULL: the default metrics */
    const char *since;           /* a commit (prefix): series start at its first run; NULL: all */
    fg_cp_opts cp;               /* zeros: changepoint.h's defaults */
} fg_history_query;

/* A change point of one series, with the run that began the new level. */
typedef struct fg_history_change {
    fg_history_key key;
    char metric[96];
    fg_change_point cp;
    fg_history_point first;      /* the first run of the new level */
    int points;                  /* runs in the series */
} fg_history_change;

/* Every change point of the series the query selects, series by series in
 * fg_history_series_list's order, each series' in index order. A series in
 * which since does not occur is skipped. *out malloc'ed (free()); 0 or -1. */
int fg_history_changes(fg_history *h, const fg_history_query *q, fg_history_change **out,
                       int *n, fg_err *err);

/* The same for one series already read (fg_history_series of key and
 * metric), for a caller that also draws it. cp NULL: the defaults. */
int fg_history_changes_of(const fg_history_key *key, const char *metric,
                          const fg_history_point *points, int n, const fg_cp_opts *cp,
                          fg_history_change **out, int *n_out, fg_err *err);

/* The check of one series × metric. */
typedef struct fg_history_verdict {
    fg_history_key key;
    char metric[96];
    int points;                  /* runs in the series */
    int judged;                  /* 0: too few runs for any change point */
    fg_cp_verdict v;             /* when judged */
    fg_history_point level_first;       /* first run of the newest level (v.worse) */
    fg_history_point reference_last;    /* last run of the reference level (v.worse) */
} fg_history_verdict;

/* Judges every series × metric the query selects: red (v.worse) when the
 * newest level, begun within the last `window` runs (0: 10), is worse than
 * the level before by more than margin (relative; 0.05 = 5 %). *out
 * malloc'ed (free()); 0 or -1. */
int fg_history_check(fg_history *h, const fg_history_query *q, double margin, size_t window,
                     fg_history_verdict **out, int *n, fg_err *err);

#endif
