/* fold.h — a run's experiments folded into cells (scheduler, size,
 * concurrency), the shape every chart of the run is written from.
 * Internal to the charts (src/charts): plot.c writes the charts' data
 * files from it, timeline.c picks the cell whose timeline is drawn. */
#ifndef FLOWGATE_CHARTS_FOLD_H
#define FLOWGATE_CHARTS_FOLD_H
#include <cjson/cJSON.h>
#include "flowgate/common.h"
#include "bottleneck.h"

#define FG_FOLD_MAX_CELLS 256
#define FG_FOLD_MAX_SIZES 16
#define FG_FOLD_MAX_CONC 16
#define FG_FOLD_MAX_SCHED 8
#define FG_FOLD_MAX_FUNCS 16

/* The metrics of a cell; the stages of a function. */
enum { M_TP, M_P50, M_P95, M_P99, M_SUCCESS, M_COUNT };
enum { S_TRANSFER, S_QUEUE, S_EXEC, S_COUNT };

/* Mean over the repeats that measured the metric. */
typedef struct fg_fold_avg { double sum; int n; } fg_fold_avg;

/* 0 and *out the mean; -1 when no repeat measured it. */
int fg_fold_mean(const fg_fold_avg *a, double *out);

typedef struct fg_fold_cell {
    int sched, size, conc;            /* indexes into the axes */
    fg_fold_avg m[M_COUNT];
    double sent;
    const cJSON *timeline;            /* "timeline" path of the first repeat */
    fg_fold_avg crit[FG_PLOT_PARTS];  /* bottleneck.mean_ms per part, over repeats */
    const cJSON *resources;           /* "resources" of the first repeat that has them */
    double window[2];                 /* its "window" start_s, end_s; -1: none */
    char id[128];
} fg_fold_cell;

/* Count-weighted mean of a function's stage over every cell of one size. */
typedef struct fg_fold_stage { double weighted; double count; } fg_fold_stage;

/* The axes come out sorted, so lines and bars are drawn in order. The
 * cJSON pointers point into the folded document: it outlives the fold. */
typedef struct fg_fold {
    char scheds[FG_FOLD_MAX_SCHED][32]; int n_sched;
    double sizes[FG_FOLD_MAX_SIZES]; int n_size;
    int concs[FG_FOLD_MAX_CONC]; int n_conc;
    char funcs[FG_FOLD_MAX_FUNCS][64]; int n_func;
    fg_fold_cell cells[FG_FOLD_MAX_CELLS]; int n_cells;
    fg_fold_stage stages[FG_FOLD_MAX_SIZES][FG_FOLD_MAX_FUNCS][S_COUNT];
} fg_fold;

/* Folds the experiments of a loaded results document into *f. */
int fg_fold_results(const cJSON *root, fg_fold *f, fg_err *err);

/* The cell at axis indexes (s, z, c); NULL when nothing ran there. */
const fg_fold_cell *fg_fold_find(const fg_fold *f, int s, int z, int c);

/* Index of s in a list of *n names, appended when new; -1 when the list
 * (max names) is full. */
int fg_fold_name_index(char (*list)[32], int *n, int max, const char *s);

/* "recognizer__extract" → "extract": the charts have little room. */
const char *fg_fold_short_name(const char *function);

#endif
