/* trend.h — one cell's performance over its history, as a chart: p50 and
 * p95 (ms, left axis) and throughput (wf/s, right axis) per run in commit
 * order. x is the run's ordinal, its tick the commit's short hash (every
 * k-th when there are many); change points are a dashed vertical line at
 * the first run of the new level with the change written along it, A/B
 * verdicts a dotted line at their commit with the verdict. The caller (the
 * history) supplies plain arrays: this module reads no store.
 *
 *   <dir>/trend_<cell>.dat   block 0: ordinal "commit" p50 p95 rps ('?' = missing)
 *                            block 1: change marks, block 2: A/B marks
 *                            (ordinal "text"; a block only when it has marks)
 *   <dir>/trend_<cell>.png, .svg   drawn by plots/trend.gp
 *
 * <cell> in the file name keeps [A-Za-z0-9._-] and has '_' for the rest. The
 * files appear whole or not at all (the staging folder of gnuplot.h). */
#ifndef FLOWGATE_TREND_H
#define FLOWGATE_TREND_H
#include <stddef.h>
#include "flowgate/common.h"

typedef struct fg_trend_point {
    const char *commit;      /* full or short hash; NULL: "?" */
    const char *run_id;      /* not drawn; for the caller's bookkeeping */
    double p50_ms, p95_ms, throughput_rps;   /* NAN = missing */
} fg_trend_point;

enum { FG_TREND_CHANGE = 0, FG_TREND_AB = 1 };

typedef struct fg_trend_mark {
    size_t index;            /* the point it belongs to: a change's first run of the new level */
    const char *text;        /* "+12.3 % p50", "ab: regression, culprit recognizer__extract exec" */
    int kind;                /* FG_TREND_CHANGE or FG_TREND_AB */
} fg_trend_mark;

/* Up to this many runs every tick is labelled; beyond, every ceil(n/20)-th. */
#define FG_TREND_MAX_TICKS 20

/* Writes and draws <dir>/trend_<cell>.{dat,png,svg} (dir is created); the
 * chart's stem is fg_trend_stem(cell). -1 with one
 * line for: no points, a mark past the last point or of an unknown kind, no
 * measured value at all, a cell or dir gnuplot cannot be given (a quote or
 * newline), gnuplot missing or failing. */
int fg_trend_chart(const char *dir, const char *cell, const fg_trend_point *pts, size_t n,
                   const fg_trend_mark *marks, size_t n_marks, fg_err *err);

/* The file stem of a cell's trend chart: "trend_" + cell with every byte
 * outside [A-Za-z0-9._-] replaced by '_'. */
void fg_trend_stem(const char *cell, char *stem, size_t size);

#endif
