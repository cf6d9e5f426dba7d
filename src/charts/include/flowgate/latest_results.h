/* latest_results.h — which results file to read when none is named:
 * `flowgate plot --latest`, a scenario run resuming, the suites' checks. */
#ifndef FLOWGATE_LATEST_RESULTS_H
#define FLOWGATE_LATEST_RESULTS_H
#include <stddef.h>
#include "flowgate/common.h"

/* The newest results file (by mtime) in dir whose run.category equals
 * category (any when NULL or ""); baseline.json and files that do not load
 * as results are skipped. */
int fg_plot_latest_results(const char *dir, const char *category, char *path, size_t path_size,
                           fg_err *err);
/* The same among files holding at least one experiment: what a run
 * resumes from, so a run stopped before its first cell (its file has none)
 * does not hide the one before it. */
int fg_latest_results_with_cells(const char *dir, const char *category, char *path,
                                 size_t path_size, fg_err *err);

#endif
