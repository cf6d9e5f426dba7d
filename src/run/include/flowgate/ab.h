/* ab.h — the A/B regression gate (src/run/ab.c): the same matrix runs
 * against two systems A and B in interleaved pairs and B is judged against
 * A pair by pair (compare.h, paired), so slow drift of the machine (other
 * load, thermal state, caches) lands on both sides and cancels.
 *
 * Pairs: within pair i every undecided cell runs on both sides, A then B
 * for even i, B then A for odd i (ABBA), so a trend within a pair does not
 * favour one side either. The repeat index of both entries is the pair.
 *
 * Looks: after pairs m = min_pairs, then ceil(1.5 m), ... and max_pairs
 * (3, 5, 8, 12, 18, 27, 30 by default). Each look judges the cells with compare.h's
 * rule at the levels spending.h gives for its information fraction
 * t = pairs / max_pairs; the alpha family is fixed for the run (cells x
 * metrics). A cell decided at a look (regression, no regression, or a
 * failing state) keeps that verdict and is not run again. The run stops
 * when a regression is shown (the gate fails whatever the rest do), when
 * every cell is decided, at max_pairs, when the next pair would end past
 * the budget (estimated from each cell's last pair), or on a stop request;
 * a stop off the schedule ends with a final look that spends what is left.
 * Cells still undecided then are inconclusive.
 *
 * The procedure knows nothing of servers: it asks `systems` to run a cell,
 * so the CLI (two runners) and the simulation that checks its error rates
 * (tests/unit/test_ab_sim.c: synthetic entries) run the same code. */
#ifndef FLOWGATE_AB_H
#define FLOWGATE_AB_H
#include <cjson/cJSON.h>
#include "flowgate/common.h"
#include "flowgate/compare.h"

#define FG_AB_DEFAULT_BUDGET_S 300.0
#define FG_AB_DEFAULT_MIN_PAIRS 3
#define FG_AB_DEFAULT_MAX_PAIRS 30

typedef struct fg_ab_plan {
    int n_cells;
    int min_pairs, max_pairs;
    double budget_s;
    fg_compare_opts opts;         /* alpha, beta, margins (paired, look, tests: set by the run) */
} fg_ab_plan;

void fg_ab_plan_defaults(fg_ab_plan *p);

typedef struct fg_ab_systems {
    /* Runs cell `cell` on side 0 (A) or 1 (B) as repeat `pair`, appending
     * its entry to that side's results; *entry: the entry (borrowed), NULL
     * when the run was stopped before it. -1 on a setup error. */
    int (*run_cell)(void *ctx, int side, int cell, int pair, const cJSON **entry, fg_err *err);
    const cJSON *(*results)(void *ctx, int side);     /* that side's whole results */
    int (*stop_requested)(void *ctx);
    double (*now_ms)(void *ctx);                      /* a monotonic clock */
    /* Optional progress: each entry, each look. */
    void (*on_entry)(void *ctx, int pair, int side, const cJSON *entry);
    void (*on_look)(void *ctx, int pairs, int decided, int cells, double elapsed_s);
    void *ctx;
} fg_ab_systems;

typedef struct fg_ab_result {
    fg_compare_report rep;        /* every cell, decided ones as they were decided */
    int *decided_at;              /* per report cell: the pairs of its deciding look, 0: none */
    int pairs, looks;
    const char *stop;             /* why the run stopped */
    double elapsed_s;
    fg_outcome outcome;           /* rep.outcome; FAIL when stopped by request */
    int interrupted;
    /* The contention the cells met (entries' noise.foreign_cpu_share, both
     * sides): what makes a verdict hard to reach; NAN when not measured. */
    double foreign_share_mean, foreign_share_max;
} fg_ab_result;

/* The look schedule: 1 when a look follows `pairs` pairs. */
int fg_ab_is_look(int pairs, int min_pairs, int max_pairs);

/* Runs the pairs and looks; -1 on a setup error (a cell that could not run
 * at all, a malformed comparison). */
int fg_ab_run(const fg_ab_plan *plan, const fg_ab_systems *sys, fg_ab_result *out, fg_err *err);
void fg_ab_result_free(fg_ab_result *r);

/* The verdict as text: one line per cell, the culprit of each regressed
 * cell, and a closing line "ab: PASS|FAIL|INCONCLUSIVE: ...". malloc'd. */
char *fg_ab_format(const fg_ab_plan *plan, const fg_ab_result *r);

/* The verdict as JSON (outcome, per-cell verdict, metrics, culprit). */
cJSON *fg_ab_to_json(const fg_ab_plan *plan, const fg_ab_result *r);

/* The verdict as a JUnit report, one testcase per cell: a regression is a
 * <failure>, inconclusive a <skipped message="inconclusive: ..."/> (what CI
 * tools show apart from both), no regression passes. malloc'd. */
char *fg_ab_junit(const char *suite, const fg_ab_result *r);

#endif
