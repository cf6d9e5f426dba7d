/* scenario_report.h — the schedulers side by side over the scenario
 * experiments of a results file (its "scenario_cells", written by
 * scenarios.c, and the entries they summarise): one markdown table and,
 * per scenario, charts in <dir>/<scenario>/:
 *
 *   curve.dat       blocks per scheduler: x p50 lo hi p95 lo hi rps lo hi —
 *                   the replicate mean of each and its 95 % t interval (lo =
 *                   hi = mean when one replicate), against the factor the
 *                   scenario varies (input MB, concurrency or arrival rate)
 *   cdf.dat         blocks per scheduler: latency_ms fraction, every measured
 *                   latency of the scenario's heaviest cell over its replicates
 *   bottleneck.dat  rows per (cell, scheduler): the critical-path parts (mean
 *                   ms over replicates), as bottleneck.gp draws them
 *
 * rendered by plots/scenario_curve.gp, scenario_cdf.gp and bottleneck.gp. */
#ifndef FLOWGATE_SCENARIO_REPORT_H
#define FLOWGATE_SCENARIO_REPORT_H
#include <cjson/cJSON.h>
#include "flowgate/common.h"

/* 1 when the document holds scenario cells. */
int fg_scenario_report_applies(const cJSON *results);

/* Writes <dir>/scenarios.md and the data files; renders the charts when
 * render is set. *scenarios: how many scenarios were charted. */
int fg_scenario_report(const cJSON *results, const char *dir, int render, int *scenarios,
                       fg_err *err);

#endif
