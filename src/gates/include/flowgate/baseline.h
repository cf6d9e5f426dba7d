/* baseline.h — promoting a run to the baseline that `flowgate compare`
 * gates against (baseline.c). The file is validated first (fg_results_load)
 * and then copied byte for byte (not re-serialised) with an atomic rename,
 * so a crash never leaves a half-written baseline and the baseline is
 * exactly the run's file. An interrupted run (run.interrupted, or any entry
 * marked interrupted) or one without experiments is refused: a baseline
 * missing cells, or holding a half-measured one, would make every later
 * gate fail or judge against the wrong numbers. */
#ifndef FLOWGATE_BASELINE_H
#define FLOWGATE_BASELINE_H
#include <stddef.h>
#include "flowgate/common.h"

/* Copies src to dst (creating dst's directory). 0 and a one-line summary
 * of the run ("run ID, CATEGORY, N experiment entries"); -1 and err (one
 * line naming src or dst) otherwise. */
int fg_baseline_promote(const char *src, const char *dst, char *summary, size_t summary_size,
                        fg_err *err);

#endif
