/* arrival.h — when the open loop's slots come due (arrival.c). A schedule
 * is a list of stages, each {requests, rate, concurrency}: `requests`
 * slots at `rate` per second with at most `concurrency` instances in
 * flight (0: the experiment's max_inflight). A single constant stage is
 * the plain `--rate R --duration S` open loop (slot i at i/R). Poisson
 * arrivals draw exponential gaps from a seeded generator, so a run is
 * reproducible and the seed is recorded with the results. */
#ifndef FLOWGATE_ARRIVAL_H
#define FLOWGATE_ARRIVAL_H
#include <stdint.h>
#include <cjson/cJSON.h>
#include "flowgate/common.h"

#define FG_MAX_STAGES 16
#define FG_ARRIVAL_DEFAULT_SEED 20261202ULL

typedef enum fg_arrival_kind { FG_ARRIVAL_CONSTANT, FG_ARRIVAL_POISSON } fg_arrival_kind;

typedef struct fg_stage {
    int requests;          /* slots of this stage (> 0) */
    double rate_rps;       /* > 0 */
    int concurrency;       /* most instances in flight during it; 0: no own cap */
} fg_stage;

typedef struct fg_arrival {
    fg_arrival_kind kind;
    uint64_t seed, state;  /* splitmix64 state */
    fg_stage stages[FG_MAX_STAGES];
    int n_stages;
    int stage;             /* stage of the next slot */
    int in_stage;          /* slots of that stage already given */
    double stage_start;    /* ms: due time of the stage's first slot */
    double next;           /* ms: due time of the next slot */
    uint64_t given;
} fg_arrival;

/* "constant" / "poisson"; -1 for anything else. */
int fg_arrival_kind_parse(const char *name, fg_arrival_kind *out);
const char *fg_arrival_kind_name(fg_arrival_kind k);

/* The schedule starting at base_ms (its first slot is due then). -1 with
 * a one-line reason on an empty or invalid stage list. */
int fg_arrival_init(fg_arrival *a, fg_arrival_kind kind, uint64_t seed, const fg_stage *stages,
                    int n_stages, double base_ms, fg_err *err);
/* Starts the same schedule over at base_ms with a fresh generator. */
void fg_arrival_restart(fg_arrival *a, double base_ms);
/* Slots of the whole schedule. */
uint64_t fg_arrival_total(const fg_arrival *a);
/* Due time (ms) of the next slot, and its stage's concurrency cap (0: none)
 * in *cap; once the schedule is exhausted it goes on at the last stage's
 * rate (the warm-up uses that). Does not advance: fg_arrival_take does. */
double fg_arrival_peek(const fg_arrival *a, int *cap);
void fg_arrival_take(fg_arrival *a);
/* A uniform double in [0, 1) from the generator (exposed for tests). */
double fg_arrival_uniform(fg_arrival *a);

/* Parses a "stages" JSON array [{"requests"|"duration_s", "rate_rps",
 * "concurrency"}, ...] ("duration_s" means ceil(rate x duration) slots);
 * `what` prefixes errors. Returns the count, -1 on error. */
int fg_stages_parse(const cJSON *arr, const char *what, fg_stage *out, int max, fg_err *err);
/* The stages as JSON (for the results). */
cJSON *fg_stages_json(const fg_stage *s, int n);

#endif
