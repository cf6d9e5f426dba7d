/* arrival.c — the open loop's arrival schedule (design in arrival.h).
 *
 * Constant arrivals put slot j of a stage at stage_start + j / rate, so a
 * one-stage schedule is exactly the engine's old i / R clock and no
 * rounding drifts over a long stage; the next stage starts 1 / rate after
 * the last slot of the one before. Poisson arrivals add exponential gaps
 * (-ln(1 - U) / rate) at the rate of the stage the previous slot belonged
 * to. Each stage has a fixed number of slots, for Poisson too, so the
 * replicates of a cell measure the same number of requests and only their
 * timing is random.
 *
 * The generator is splitmix64: a few lines, fully specified, identical on
 * every platform and libc (rand_r and random are not), so a recorded seed
 * reproduces the sequence anywhere. The next due time is drawn when the
 * slot before is taken, so peeking never advances the generator.
 *
 * A segment walks the whole schedule and stops only on its own slots
 * (global index mod count == index): every gap is drawn, so the Poisson
 * draws, stage boundaries and due times are those of the one schedule,
 * and no arithmetic shortcut can drift from what the single driver does. */
#include "flowgate/arrival.h"

#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "flowgate/limits.h"

static uint64_t splitmix64(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

double fg_arrival_uniform(fg_arrival *a)
{
    return (double)(splitmix64(&a->state) >> 11) * 0x1.0p-53;
}

int fg_arrival_kind_parse(const char *name, fg_arrival_kind *out)
{
    if (!strcmp(name, "constant")) *out = FG_ARRIVAL_CONSTANT;
    else if (!strcmp(name, "poisson")) *out = FG_ARRIVAL_POISSON;
    else return -1;
    return 0;
}

const char *fg_arrival_kind_name(fg_arrival_kind k)
{
    return k == FG_ARRIVAL_POISSON ? "poisson" : "constant";
}

int fg_arrival_init(fg_arrival *a, fg_arrival_kind kind, uint64_t seed, const fg_stage *stages,
                    int n_stages, double base_ms, fg_err *err)
{
    memset(a, 0, sizeof *a);
    if (n_stages < 1 || n_stages > FG_MAX_STAGES)
        return fg_err_set(err, "arrival schedule: %d stages (1..%d)", n_stages, FG_MAX_STAGES);
    for (int i = 0; i < n_stages; i++)
        if (stages[i].requests < 1 || !(stages[i].rate_rps > 0) || !isfinite(stages[i].rate_rps) ||
            stages[i].concurrency < 0)
            return fg_err_set(err, "arrival schedule: stage %d needs requests >= 1, rate > 0 and "
                              "concurrency >= 0", i + 1);
    a->kind = kind;
    a->seed = seed;
    memcpy(a->stages, stages, (size_t)n_stages * sizeof *stages);
    a->n_stages = n_stages;
    a->seg_count = 1;
    fg_arrival_restart(a, base_ms);
    return 0;
}

static void step(fg_arrival *a);

/* Past the other segments' slots to this one's next. */
static void skip_to_own(fg_arrival *a)
{
    while (a->seg_count > 1 && (int)(a->given % (uint64_t)a->seg_count) != a->seg_index) step(a);
}

void fg_arrival_restart(fg_arrival *a, double base_ms)
{
    a->state = a->seed;
    a->base = base_ms;
    a->stage = 0;
    a->in_stage = 0;
    a->stage_start = base_ms;
    a->next = base_ms;
    a->given = 0;
    skip_to_own(a);
}

int fg_arrival_set_segment(fg_arrival *a, int index, int count, fg_err *err)
{
    if (count < 1 || count > FG_MAX_SEGMENTS || index < 0 || index >= count)
        return fg_err_set(err, "segment %d/%d: needs 0 <= index < count <= %d", index, count,
                          FG_MAX_SEGMENTS);
    a->seg_index = index;
    a->seg_count = count;
    fg_arrival_restart(a, a->base);
    return 0;
}

int fg_segment_parse(const char *spec, int *index, int *count, fg_err *err)
{
    const char *slash = spec ? strchr(spec, '/') : NULL;
    char *end;
    if (!slash || slash == spec || !isdigit((unsigned char)spec[0]) ||
        !isdigit((unsigned char)slash[1]))
        return fg_err_set(err, "--segment: '%s' is not i/N (e.g. 0/2: the first of two)",
                          spec ? spec : "");
    long i = strtol(spec, &end, 10);
    if (end != slash) return fg_err_set(err, "--segment: '%s' is not i/N (e.g. 0/2)", spec);
    long n = strtol(slash + 1, &end, 10);
    if (*end) return fg_err_set(err, "--segment: '%s' is not i/N (e.g. 0/2)", spec);
    if (n < 1 || n > FG_MAX_SEGMENTS)
        return fg_err_set(err, "--segment: '%s': the count must be in 1..%d", spec, FG_MAX_SEGMENTS);
    if (i >= n)
        return fg_err_set(err, "--segment: '%s': the index counts from 0, so it must be below "
                          "%ld", spec, n);
    *index = (int)i;
    *count = (int)n;
    return 0;
}

int fg_start_at_parse(const char *spec, double now_unix_s, double *out_unix_s, fg_err *err)
{
    char *end;
    double t = spec && *spec ? strtod(spec, &end) : NAN;
    if (!spec || !*spec || *end || !isfinite(t) || t <= 0)
        return fg_err_set(err, "--start-at: '%s' is not a unix time in seconds (e.g. $(date +%%s))",
                          spec ? spec : "");
    if (t > now_unix_s + FG_START_AT_MAX_AHEAD_S)
        return fg_err_set(err, "--start-at: %s is %.0f s ahead (more than a day: milliseconds "
                          "instead of seconds?)", spec, t - now_unix_s);
    *out_unix_s = t;
    return 0;
}

uint64_t fg_arrival_total(const fg_arrival *a)
{
    uint64_t n = 0;
    for (int i = 0; i < a->n_stages; i++) n += (uint64_t)a->stages[i].requests;
    /* Slots g < n with g mod count == index. */
    uint64_t count = (uint64_t)a->seg_count, index = (uint64_t)a->seg_index;
    return n > index ? (n - index + count - 1) / count : 0;
}

double fg_arrival_peek(const fg_arrival *a, int *cap)
{
    if (cap) *cap = a->stages[a->stage].concurrency;
    return a->next;   /* drawn when the slot before was taken */
}

void fg_arrival_take(fg_arrival *a)
{
    step(a);
    skip_to_own(a);
}

/* One slot of the whole schedule, whoever's it is. */
static void step(fg_arrival *a)
{
    const fg_stage *s = &a->stages[a->stage];
    double gap_ms = a->kind == FG_ARRIVAL_POISSON
                        ? -log1p(-fg_arrival_uniform(a)) / s->rate_rps * 1000.0
                        : 0;
    a->given++;
    a->in_stage++;
    if (a->in_stage >= s->requests && a->stage + 1 < a->n_stages) {
        /* The next stage starts one gap of this stage after its last slot. */
        double next = a->kind == FG_ARRIVAL_POISSON
                          ? a->next + gap_ms
                          : a->stage_start + (double)s->requests * 1000.0 / s->rate_rps;
        a->stage++;
        a->in_stage = 0;
        a->stage_start = next;
        a->next = next;
        return;
    }
    a->next = a->kind == FG_ARRIVAL_POISSON
                  ? a->next + gap_ms
                  : a->stage_start + (double)a->in_stage * 1000.0 / s->rate_rps;
}

int fg_stages_parse(const cJSON *arr, const char *what, fg_stage *out, int max, fg_err *err)
{
    if (!cJSON_IsArray(arr) || cJSON_GetArraySize(arr) < 1 || cJSON_GetArraySize(arr) > max)
        return fg_err_set(err, "%s: \"stages\" must be an array of 1..%d stages", what, max);
    int n = 0;
    const cJSON *s;
    cJSON_ArrayForEach(s, arr) {
        const cJSON *req = cJSON_GetObjectItemCaseSensitive(s, "requests");
        const cJSON *dur = cJSON_GetObjectItemCaseSensitive(s, "duration_s");
        const cJSON *rate = cJSON_GetObjectItemCaseSensitive(s, "rate_rps");
        const cJSON *conc = cJSON_GetObjectItemCaseSensitive(s, "concurrency");
        if (!cJSON_IsObject(s) || !cJSON_IsNumber(rate) || !(rate->valuedouble >= FG_MIN_POSITIVE) ||
            rate->valuedouble > 1e6)
            return fg_err_set(err, "%s: stage %d: \"rate_rps\" must be a number in [%g, 1e6]",
                              what, n + 1, FG_MIN_POSITIVE);
        if ((req != NULL) == (dur != NULL))
            return fg_err_set(err, "%s: stage %d: give exactly one of \"requests\" and "
                              "\"duration_s\"", what, n + 1);
        if (req && (!cJSON_IsNumber(req) || req->valuedouble < 1 ||
                    req->valuedouble > FG_MAX_REQUESTS || req->valuedouble != floor(req->valuedouble)))
            return fg_err_set(err, "%s: stage %d: \"requests\" must be an integer >= 1", what,
                              n + 1);
        if (dur && (!cJSON_IsNumber(dur) || !(dur->valuedouble >= FG_MIN_POSITIVE) ||
                    rate->valuedouble * dur->valuedouble > FG_MAX_REQUESTS))
            return fg_err_set(err, "%s: stage %d: \"duration_s\" must be a number > 0", what,
                              n + 1);
        if (conc && (!cJSON_IsNumber(conc) || conc->valuedouble < 1 ||
                     conc->valuedouble > FG_MAX_CONCURRENCY ||
                     conc->valuedouble != floor(conc->valuedouble)))
            return fg_err_set(err, "%s: stage %d: \"concurrency\" must be an integer in 1..%d",
                              what, n + 1, FG_MAX_CONCURRENCY);
        for (const cJSON *k = s->child; k; k = k->next)
            if (strcmp(k->string, "requests") && strcmp(k->string, "duration_s") &&
                strcmp(k->string, "rate_rps") && strcmp(k->string, "concurrency"))
                return fg_err_set(err, "%s: stage %d: unknown key \"%s\"", what, n + 1, k->string);
        out[n].rate_rps = rate->valuedouble;
        out[n].requests = req ? (int)req->valuedouble
                              : (int)ceil(rate->valuedouble * dur->valuedouble - 1e-9);
        if (out[n].requests < 1) out[n].requests = 1;
        out[n].concurrency = conc ? (int)conc->valuedouble : 0;
        n++;
    }
    return n;
}

cJSON *fg_stages_json(const fg_stage *s, int n)
{
    cJSON *arr = cJSON_CreateArray();
    for (int i = 0; arr && i < n; i++) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "requests", s[i].requests);
        cJSON_AddNumberToObject(o, "rate_rps", s[i].rate_rps);
        if (s[i].concurrency > 0) cJSON_AddNumberToObject(o, "concurrency", s[i].concurrency);
        cJSON_AddItemToArray(arr, o);
    }
    return arr;
}
