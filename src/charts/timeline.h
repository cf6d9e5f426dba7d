/* timeline.h — the rows of timeline.dat: the spans of a sample of requests
 * of one cell, read from the timeline file the runner wrote next to the
 * results. Internal to the charts (src/charts), called by plot.c; apart
 * from the other charts because it reads a second file and must judge the
 * server's clock. */
#ifndef FLOWGATE_CHARTS_TIMELINE_H
#define FLOWGATE_CHARTS_TIMELINE_H
#include <stdio.h>
#include "flowgate/common.h"
#include "fold.h"

typedef struct fg_plot_timeline_counts {
    int rows, blocks, requests;
    int dropped;          /* spans not drawn: negative, or outside their call */
    char cell[128];       /* experiment whose timeline is drawn, "" if none */
} fg_plot_timeline_counts;

/* Writes timeline.dat's comment line and rows to out, for the first
 * `requests` measured requests of the busiest cell (highest concurrency,
 * then largest input) whose timeline file exists; only the comment line
 * when none does. results_path (may be NULL) locates relative timeline
 * paths; requests > 0. The caller opens and closes out. */
int fg_plot_timeline_write(FILE *out, const fg_fold *f, const char *results_path, int requests,
                           fg_plot_timeline_counts *c, fg_err *err);

#endif
