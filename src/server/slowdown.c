/* slowdown.c — the known-effect knobs (slowdown.h has why): the CPU burn
 * behind the slowdown factor, and the profile's "slowdown" and
 * "tail_delay" items, parsed and resolved per function.
 *
 * The spin re-reads the monotonic clock (a vDSO call, tens of ns) between
 * short runs of integer work; the deadline is wall time, so the reply's
 * exec_ms is ~factor x the real work whatever else the machine does.
 * Function names are resolved by the catalog, so a profile takes
 * exactly the names /invoke/<name> routes on. */
#include "slowdown.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

#include "catalog.h"

/* Written by the spin so the compiler must keep its work (a local volatile
 * that is never read trips clang's -Wunused-but-set-variable). */
static volatile uint64_t burn_sink;

double fg_slowdown_burn(double work_ms, double factor)
{
    if (!(factor > 1.0) || !(work_ms > 0)) return 0;
    double start = fg_now_mono_ms(), now = start, deadline = start + (factor - 1.0) * work_ms;
    while ((now = fg_now_mono_ms()) < deadline)
        for (uint64_t i = 0; i < 256; i++) burn_sink += i * i;
    return now - start;
}

static int is_factor(const cJSON *v)
{
    return cJSON_IsNumber(v) && v->valuedouble >= 1 && v->valuedouble <= FG_SLOWDOWN_MAX;
}

int fg_slowdown_spec_parse(const cJSON *v, const char *where, fg_slowdown_spec *s, fg_err *err)
{
    s->all = NAN;
    for (int i = 0; i < FG_MAX_FUNCTIONS; i++) s->fn[i] = NAN;
    if (!v) return 0;
    if (is_factor(v)) {
        s->all = v->valuedouble;
        return 0;
    }
    if (!cJSON_IsObject(v))
        return fg_err_set(err, "%s: \"slowdown\" must be a number in [1, %g] or an object of "
                          "function names (or \"*\") to such numbers", where, FG_SLOWDOWN_MAX);
    for (const cJSON *k = v->child; k; k = k->next) {
        double *slot = &s->all;
        if (strcmp(k->string, "*") != 0) {
            int fn = fg_catalog_find(k->string);
            if (fn < 0)
                return fg_err_set(err, "%s: \"slowdown\": unknown function \"%.64s\" (a name "
                                  "/invoke/ takes, e.g. recognizer__extract, or \"*\")",
                                  where, k->string);
            slot = &s->fn[fn];
        }
        /* "extract" and "recognizer__extract" are one function. */
        if (!isnan(*slot))
            return fg_err_set(err, "%s: \"slowdown\": \"%.64s\" names a function given before",
                              where, k->string);
        if (!is_factor(k))
            return fg_err_set(err, "%s: \"slowdown\": \"%.64s\" must be a number in [1, %g]",
                              where, k->string, FG_SLOWDOWN_MAX);
        *slot = k->valuedouble;
    }
    return 0;
}

double fg_slowdown_resolve(const fg_slowdown_spec *node, const fg_slowdown_spec *top,
                           double factor[FG_MAX_FUNCTIONS])
{
    double least = FG_SLOWDOWN_MAX;
    for (int i = 0; i < FG_MAX_FUNCTIONS; i++) {
        const double order[] = {node ? node->fn[i] : NAN, node ? node->all : NAN,
                                top ? top->fn[i] : NAN, top ? top->all : NAN, 1};
        size_t k = 0;
        while (isnan(order[k])) k++;
        factor[i] = order[k];
        if (i < fg_catalog_count()) least = fmin(least, factor[i]);
    }
    return least;
}

int fg_tail_delay_parse(const cJSON *v, const char *where, fg_tail_delay *t, fg_err *err)
{
    if (!v) return 0;
    if (cJSON_IsNull(v)) {
        *t = (fg_tail_delay){.function = -1};
        return 0;
    }
    if (!cJSON_IsObject(v))
        return fg_err_set(err, "%s: \"tail_delay\" must be null or an object {\"every\": N, "
                          "\"add_ms\": MS[, \"function\": NAME]}", where);
    fg_tail_delay out = {.function = -1};
    for (const cJSON *k = v->child; k; k = k->next) {
        if (!strcmp(k->string, "every")) {
            if (!cJSON_IsNumber(k) || !(k->valuedouble >= 1 && k->valuedouble <= FG_TAIL_EVERY_MAX)
                || k->valuedouble != floor(k->valuedouble))
                return fg_err_set(err, "%s: \"tail_delay\": \"every\" must be an integer in "
                                  "[1, %d]", where, FG_TAIL_EVERY_MAX);
            out.every = (int)k->valuedouble;
        } else if (!strcmp(k->string, "add_ms")) {
            if (!cJSON_IsNumber(k) ||
                !(k->valuedouble >= FG_TAIL_ADD_MS_MIN && k->valuedouble <= FG_TAIL_ADD_MS_MAX))
                return fg_err_set(err, "%s: \"tail_delay\": \"add_ms\" must be a number in "
                                  "[%g, %g]", where, FG_TAIL_ADD_MS_MIN, FG_TAIL_ADD_MS_MAX);
            out.add_ms = k->valuedouble;
        } else if (!strcmp(k->string, "function")) {
            int fn = cJSON_IsString(k) ? fg_catalog_find(k->valuestring) : -1;
            if (fn < 0)
                return fg_err_set(err, "%s: \"tail_delay\": \"function\" must name a function "
                                  "/invoke/ takes, e.g. recognizer__extract", where);
            out.function = fn;
        } else {
            return fg_err_set(err, "%s: \"tail_delay\": unknown key \"%.32s\" (every, add_ms, "
                              "function)", where, k->string);
        }
    }
    if (!out.every || !(out.add_ms > 0))
        return fg_err_set(err, "%s: \"tail_delay\" needs \"every\" and \"add_ms\"", where);
    *t = out;
    return 0;
}

void fg_slowdown_describe(cJSON *o, const double factor[FG_MAX_FUNCTIONS],
                          const fg_tail_delay *t, int only)
{
    double least = FG_SLOWDOWN_MAX;
    cJSON *fns = cJSON_CreateObject();
    for (int i = 0; i < fg_catalog_count(); i++) {
        if (only >= 0 && i != only) continue;
        cJSON_AddNumberToObject(fns, fg_catalog_name(i), factor[i]);
        least = fmin(least, factor[i]);
    }
    /* Kept a number, the least factor: `flowgate ab --b-slowdown F` asks
     * every node for at least F on every function. */
    cJSON_AddNumberToObject(o, "slowdown", least);
    cJSON_AddItemToObject(o, "slowdown_functions", fns);
    if (!t->every) {
        cJSON_AddNullToObject(o, "tail_delay");
        return;
    }
    cJSON *tail = cJSON_AddObjectToObject(o, "tail_delay");
    cJSON_AddNumberToObject(tail, "every", t->every);
    cJSON_AddNumberToObject(tail, "add_ms", t->add_ms);
    if (t->function >= 0)
        cJSON_AddStringToObject(tail, "function", fg_catalog_name(t->function));
}
