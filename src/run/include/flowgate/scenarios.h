/* scenarios.h — the scenario experiments (data/scenarios.json): named
 * workloads beyond the size x concurrency matrix, each with its own open-
 * loop arrival schedule (constant or Poisson, one stage or several) and
 * network conditions (every node's egress bandwidth and added latency),
 * run for every scheduler and R replicates (scenarios.c). A cell's
 * identity (scenario, size, schedule, network, arrival, seed, scheduler,
 * replicates) decides whether an earlier run already holds it (resume). */
#ifndef FLOWGATE_SCENARIOS_H
#define FLOWGATE_SCENARIOS_H
#include <cjson/cJSON.h>
#include "flowgate/arrival.h"
#include "flowgate/config.h"
#include "flowgate/runner.h"

#define FG_SCENARIO_MAX_CELLS 512

typedef struct fg_scenario_cell {
    char scenario[48];
    char id[128];              /* sc_<scenario>_input<mb>mb_conc<c>_rate<r>_<scheduler> */
    double input_mb;
    int concurrency;           /* the most in flight (the largest stage cap) */
    fg_stage stages[FG_MAX_STAGES];   /* requests already scaled */
    int n_stages;
    double bandwidth_mbit, latency_ms;
    int inline_data;           /* data travels in every request, as the reference's
                                * containers take it (the scenario's "inline") */
    char faults[1024];         /* "": none; the block every node gets (faults.h) */
    int retries;               /* -1: the run's */
    double timeout_s;          /* 0: the run's */
    char scheduler[32];
} fg_scenario_cell;

typedef struct fg_scenario_plan {
    fg_scenario_cell *cells;
    int n_cells;
    int replicates;
    fg_arrival_kind arrival;
    uint64_t seed;
    double request_scale;
    int inline_data;           /* the run's own --inline: every scenario sends inline */
    int min_requests;          /* a scaled single-stage cell keeps at least this many */
    int warmup;
    double warmup_s;
} fg_scenario_plan;

/* Loads the scenario file (NULL: <data>/scenarios.json), only the scenario
 * named `only` when given, expanded into cells. The run config gives the
 * request scale (FLOWGATE_REQUEST_SCALE); `schedulers` (a comma list; NULL:
 * $FLOWGATE_SCHEDULERS as cfg holds it, else the file's) and `replicates`
 * (> 0; 0: $FLOWGATE_REPLICATES, else the file's) override. `ci`: the
 * file's "ci" block (request_scale, min_requests, warmup_s, replicates,
 * schedulers) replaces those settings, the documented scaled-down run. Every bad value is one line naming the scenario and key. */
int fg_scenarios_load(const char *path, const char *only, const fg_run_config *cfg,
                      const char *schedulers, int replicates, int ci, fg_scenario_plan *plan,
                      fg_err *err);
void fg_scenarios_free(fg_scenario_plan *plan);

/* The cell's identity as written into each of its entries ("scenario"). */
cJSON *fg_scenario_identity(const fg_scenario_plan *p, const fg_scenario_cell *c);

/* Mean, sample standard deviation (n - 1) and the 95 % Student-t
 * confidence interval of each latency percentile, throughput and success
 * rate over the given entries (replicates): {"replicates": n, "metrics":
 * {"p50_ms": {"n", "mean", "sd", "ci95": [lo, hi]}, ...}}; a metric some
 * replicate lacks (p99 of too few samples) is left out, sd and the CI need
 * n >= 2. */
cJSON *fg_scenario_summary(const cJSON *const *entries, int n);

/* Runs one cell through the runner: R replicates under the cell's network
 * (restarting the embedded server when it changes), each entry marked
 * with the identity, and the cell's summary written into the results
 * ("scenario_cells"). Unless `override`, a cell whose R replicates are all
 * in `prior` (an earlier results document, may be NULL) with the same
 * identity and not interrupted is copied from there instead (*resumed =
 * 1). *first, *count: the cell's entries in the runner's experiments. */
int fg_scenario_run_cell(fg_runner *r, const fg_scenario_plan *p, const fg_scenario_cell *c,
                         const cJSON *prior, int override, int *resumed, int *first, int *count,
                         fg_err *err);

#endif
