/* plot.h — the charts of a run. A results document (read through
 * results.h only) becomes whitespace-separated data files in a directory,
 * and the gnuplot scripts in plots/ (one .gp per chart) render each of
 * them to PNG and SVG (charts.h picks the directory and which results
 * get these charts):
 *
 *   throughput.dat   blocks per (scheduler, size): concurrency throughput_rps
 *   latency.dat      blocks per (scheduler, concurrency): size p50 p95 p99
 *   success.dat      one row per cell: index "label" success_rate sent
 *   functions.dat    one row per (size, function): "label" transfer queue exec (mean ms)
 *   schedulers.dat   one row per (size, concurrency): "label" p95 per scheduler, rps per scheduler
 *   bottleneck.dat   one row per cell with a "bottleneck": "label" exec transfer queue
 *                    driver (mean ms along the critical path) "dominant part"
 *   resources.dat    blocks per node: t_s cpu_pct rss_mb, the "resources" series
 *                    of the cell with the most requests that has them
 *   timeline.dat     blocks per function: request sent received exec_start
 *                    exec_end "node", for a sample of requests of the busiest
 *                    cell with a timeline; a negative or implausible span is
 *                    never written (counted in timeline_dropped)
 *
 * Only measured values are written: a cell without a metric has no row,
 * a missing value inside a row is "?". */
#ifndef FLOWGATE_PLOT_H
#define FLOWGATE_PLOT_H
#include <cjson/cJSON.h>
#include "flowgate/common.h"

/* Requests drawn in the timeline chart. */
#define FG_PLOT_TIMELINE_REQUESTS 20

typedef struct fg_plot_summary {
    char run_id[64];
    char category[32];
    char dir[1024];          /* where the data files and charts are */
    int cells;               /* distinct cells with data */
    int n_schedulers;
    int conc_min, conc_max;  /* the axes' extent, so one-point axes get a range */
    double size_min, size_max;
    int throughput_blocks, latency_blocks, success_rows, function_rows, scheduler_rows;
    int latency_p95_points, latency_p99_points;   /* resolvable percentiles in latency.dat */
    int timeline_rows, timeline_blocks, timeline_requests, bottleneck_rows;
    int scheduler_p95_rows, scheduler_tp_rows;   /* rows with a p95 / a throughput */
    int resources_blocks;
    char resources_cell[128];
    double window_start_s, window_end_s;          /* that cell's measured window; -1: none */
    int timeline_dropped;    /* spans not drawn: negative, or outside their call */
    char timeline_cell[128]; /* experiment whose timeline is drawn, "" if none */
} fg_plot_summary;

/* Writes the data files of a loaded results document into dir.
 * results_path (may be NULL) locates relative timeline paths. */
int fg_plot_write_data(const cJSON *results, const char *results_path, const char *dir,
                       fg_plot_summary *s, fg_err *err);

/* Runs gnuplot on every script for the data in s->dir. Missing gnuplot →
 * -1 with "gnuplot not found: install gnuplot-nox". */
int fg_plot_render(const fg_plot_summary *s, fg_err *err);

#endif
