/* gnuplot.h — how every chart is drawn: plots/<chart>.gp run by gnuplot,
 * its variables set first. Internal to the charts (src/charts): the run's
 * charts (plot.c) and the scenario charts (scenario_report.c) both render
 * through it, so it knows neither. */
#ifndef FLOWGATE_CHARTS_GNUPLOT_H
#define FLOWGATE_CHARTS_GNUPLOT_H
#include "flowgate/common.h"

/* Where the .gp scripts are: $FLOWGATE_PLOTS, else the source tree's plots/. */
const char *fg_plot_scripts_dir(void);

/* 0 when gnuplot is on PATH, else -1 with "gnuplot not found: install
 * gnuplot-nox" (what fg_plot_gnuplot says too). */
int fg_plot_have_gnuplot(fg_err *err);

/* Runs plots/<chart>.gp with gnuplot, the variables `vars` set first
 * (gnuplot -e). A stop (stop.h) before or while it runs kills it and
 * fails with FG_PLOT_INTERRUPTED. With a staging folder open, what it drew
 * is moved into place when it succeeded. */
#define FG_PLOT_INTERRUPTED "interrupted"
int fg_plot_gnuplot(const char *chart, const char *vars, fg_err *err);

/* Where charts are made: a staging folder inside the charts' folder dir
 * (<dir>/.partial-<pid>, the same file system), which every writer of a
 * rendering is given instead of dir. A file appears in dir only whole: the
 * images gnuplot drew (*.png, *.svg), with the files of the same name
 * (their data), are renamed into dir as each gnuplot succeeds
 * (fg_plot_stage_commit with all 0, which fg_plot_gnuplot does); the rest
 * (data of charts not drawn, tables) when the rendering ends well
 * (fg_plot_stage_close with keep 1). Closing removes the staging folder
 * with whatever is left in it, so a failure or a stop leaves no partial
 * file. Subfolders map onto dir's. One stage at a time. */
typedef struct fg_plot_stage {
    char dir[1200];
    char tmp[1300];
} fg_plot_stage;
int fg_plot_stage_open(fg_plot_stage *st, const char *dir, fg_err *err);
int fg_plot_stage_commit(fg_plot_stage *st, int all, fg_err *err);
int fg_plot_stage_close(fg_plot_stage *st, int keep, fg_err *err);

/* No quote or newline: s can go inside '...' in gnuplot variables. */
int fg_plot_safe_for_gnuplot(const char *s);

#endif
