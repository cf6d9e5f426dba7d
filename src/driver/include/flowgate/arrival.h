/* arrival.h — when the open loop's slots come due (arrival.c). A schedule
 * is a list of stages, each {requests, rate, concurrency}: `requests`
 * slots at `rate` per second with at most `concurrency` instances in
 * flight (0: the experiment's max_inflight). A single constant stage is
 * the plain `--rate R --duration S` open loop (slot i at i/R). Poisson
 * arrivals draw exponential gaps from a seeded generator, so a run is
 * reproducible and the seed is recorded with the results.
 *
 * Segments (k6's execution segments, in spirit): N drivers share one
 * schedule. Driver i of N sends exactly the slots whose global index g
 * (0-based, over all stages) has g mod N == i; the generator still draws
 * every gap, so with the same seed each driver's due times are its slots
 * of the one schedule, and the union of the N segments is the
 * single-driver schedule, slot for slot. The drivers' clocks are not
 * joined: each counts its schedule from its own start, so drivers started
 * together send the one schedule together. */
#ifndef FLOWGATE_ARRIVAL_H
#define FLOWGATE_ARRIVAL_H
#include <stdint.h>
#include <cjson/cJSON.h>
#include "flowgate/common.h"

#define FG_MAX_STAGES 16
#define FG_ARRIVAL_DEFAULT_SEED 20261202ULL
#define FG_MAX_SEGMENTS 1024

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
    double base;           /* ms: due time of the schedule's first slot */
    double stage_start;    /* ms: due time of the stage's first slot */
    double next;           /* ms: due time of the next slot */
    uint64_t given;        /* global slots passed (the segment's and the others') */
    int seg_index, seg_count;   /* this driver's segment; count 1: the whole schedule */
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
/* From now on only segment index of count (0 <= index < count <=
 * FG_MAX_SEGMENTS) is given, from the schedule's start (it restarts at its
 * base). -1 with a one-line reason on a bad pair. */
int fg_arrival_set_segment(fg_arrival *a, int index, int count, fg_err *err);
/* "i/N" (e.g. "1/4"): -1 and one line naming the problem for anything
 * else ("2/2": index must be below the count; "x", "1/0", "1/", "-1/2"). */
int fg_segment_parse(const char *spec, int *index, int *count, fg_err *err);
/* --start-at's value: unix time in seconds (fractions allowed), read
 * against now_unix_s. -1 and one line for anything that is not a number,
 * or is more than FG_START_AT_MAX_AHEAD_S ahead (a typo, or milliseconds).
 * A time already past is accepted: the run says so and starts at once. */
#define FG_START_AT_MAX_AHEAD_S 86400.0
int fg_start_at_parse(const char *spec, double now_unix_s, double *out_unix_s, fg_err *err);
/* Slots of the whole schedule that are the segment's (all of them
 * without a segment). */
uint64_t fg_arrival_total(const fg_arrival *a);
/* Due time (ms) of the segment's next slot, and its stage's concurrency cap (0: none)
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
