/* charts.h — `flowgate plot`: the charts of a results file, in
 * <out>/<run-id>/. A scenario run (its "scenario_cells") gets the scenario
 * report (scenario_report.h); a file holding several categories gets the
 * run's charts (plot.h) once per category, in <out>/<run-id>/<category>/,
 * so no point mixes two experiments that share an id; any other file gets
 * them once. */
#ifndef FLOWGATE_CHARTS_H
#define FLOWGATE_CHARTS_H
#include "flowgate/common.h"
#include "flowgate/plot.h"

/* Load + write data + render. s: what was drawn; for a scenario run only
 * dir, run_id, category ("scenarios") and cells (the scenarios charted);
 * for several categories, cells summed over them and dir the run's. Every
 * file is written under a temporary name in dir's staging folder and
 * renamed into dir only whole (a chart once gnuplot drew it): a failure
 * or a stop (stop.h; the error then reads "interrupted") leaves the
 * charts finished before it and no partial or empty file. */
int fg_plot_results(const char *results_path, const char *out_root, fg_plot_summary *s, fg_err *err);

#endif
