/* bottleneck.h — the critical path's parts as the charts name and stack
 * them, and the bottleneck.dat row that plots/bottleneck.gp draws.
 * Internal to the charts (src/charts): the run's charts (plot.c) and the
 * scenario charts (scenario_report.c) write the same rows for the same
 * script, so the format lives once, here. */
#ifndef FLOWGATE_CHARTS_BOTTLENECK_H
#define FLOWGATE_CHARTS_BOTTLENECK_H
#include <stdio.h>

/* The parts of a results entry's "bottleneck", in the order the charts
 * stack them (the driver's attribution writes the same names). */
enum { FG_PLOT_PART_EXEC, FG_PLOT_PART_TRANSFER, FG_PLOT_PART_QUEUE, FG_PLOT_PART_DRIVER,
       FG_PLOT_PARTS };
extern const char *const fg_plot_parts[FG_PLOT_PARTS];

/* The largest part (the first of equals). */
int fg_plot_dominant_part(const double ms[FG_PLOT_PARTS]);

/* "label" exec transfer queue driver "dominant" — one bar of bottleneck.gp. */
void fg_plot_bottleneck_row(FILE *out, const char *label, const double ms[FG_PLOT_PARTS]);

#endif
