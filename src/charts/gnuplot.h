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
 * (gnuplot -e). */
int fg_plot_gnuplot(const char *chart, const char *vars, fg_err *err);

/* No quote or newline: s can go inside '...' in gnuplot variables. */
int fg_plot_safe_for_gnuplot(const char *s);

#endif
