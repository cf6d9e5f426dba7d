/* outcome.h — the three outcomes every gate gives (src/base/outcome.c):
 * the absolute thresholds of a run (thresholds.h), a comparison and the
 * A/B run (compare.h, ab.h). Ordered so that combining is the max: any
 * fail fails, else any inconclusive leaves the whole inconclusive. */
#ifndef FLOWGATE_OUTCOME_H
#define FLOWGATE_OUTCOME_H

typedef enum fg_outcome { FG_OUTCOME_PASS, FG_OUTCOME_INCONCLUSIVE, FG_OUTCOME_FAIL } fg_outcome;

static inline fg_outcome fg_outcome_combine(fg_outcome a, fg_outcome b) { return a > b ? a : b; }
/* "pass", "inconclusive", "fail". */
const char *fg_outcome_name(fg_outcome o);
/* "PASS", "INCONCLUSIVE", "FAIL": a verdict's closing line. */
const char *fg_outcome_label(fg_outcome o);
/* The exit status of outcome o (common.h): 0, 1, or 3 unless
 * inconclusive_pass. */
int fg_outcome_exit(fg_outcome o, int inconclusive_pass);

#endif
