/* slowdown.h — the known-effect knobs: a function server that is slower by a
 * known factor, or has a known tail, so the power of a regression gate can
 * be measured (how often does `flowgate ab` catch a 10 %, 25 %, 50 %
 * slowdown, or a 1-in-20 tail of +50 ms?).
 *
 * Slowdown. A function with factor F runs its real work, which took t ms,
 * and then burns CPU for (F-1)*t ms on the same worker slot before it
 * replies: exec_ms becomes ~F*t. The extra time is CPU work (a spin on the
 * monotonic clock), not a sleep, so it competes for the cores and holds the
 * worker slot like the code of a slower build would: queueing and
 * contention grow as they would in a real regression. In a nodes file
 * "slowdown" (top level and per node) is a number, every function's factor,
 * or an object of function names (as /invoke/<name> takes them) or "*" to
 * factors. A function's factor is the first of: the node's entry for it,
 * the node's "*" (or number), the top level's entry, the top level's "*"
 * (or number), 1. `flowgate-functions --slowdown F` gives every function
 * of every node F.
 *
 * Tail delay. "tail_delay": {"every": N, "add_ms": D[, "function": NAME]}
 * (top level = every node's default, a node's own replaces it, null turns
 * it off): a deterministic counter per node counts the invocations that
 * reach a worker slot (only NAME's, when given) and every Nth of them is
 * held D ms longer in its slot, after the work and any burn (functions.c
 * says why a sleep). */
#ifndef FLOWGATE_SERVER_SLOWDOWN_H
#define FLOWGATE_SERVER_SLOWDOWN_H
#include <cjson/cJSON.h>
#include "flowgate/limits.h"
#include "flowgate/common.h"

#define FG_SLOWDOWN_MAX 100.0       /* beyond this it is a hang, not a regression */
#define FG_TAIL_EVERY_MAX 1000000
#define FG_TAIL_ADD_MS_MIN 1.0      /* under a millisecond it is scheduling noise */
#define FG_TAIL_ADD_MS_MAX 60000.0

/* Burns CPU until (factor-1)*work_ms have passed since now and returns the
 * ms it burned (never less than that; 0 when factor <= 1). */
double fg_slowdown_burn(double work_ms, double factor);

/* What one level of a profile (the top or a node) says of "slowdown":
 * NAN where it says nothing. Indexed like fg_function_at. */
typedef struct fg_slowdown_spec {
    double all;                     /* a number or "*" */
    double fn[FG_MAX_FUNCTIONS];
} fg_slowdown_spec;

/* v is the "slowdown" item or NULL (absent: the spec says nothing). where
 * prefixes the one-line error ("nodes file: nodes[1]"). */
int fg_slowdown_spec_parse(const cJSON *v, const char *where, fg_slowdown_spec *s, fg_err *err);

/* Every function's factor, node level over top level (either may be NULL);
 * returns the least of them: the factor every function gets at least. */
double fg_slowdown_resolve(const fg_slowdown_spec *node, const fg_slowdown_spec *top,
                           double factor[FG_MAX_FUNCTIONS]);

typedef struct fg_tail_delay {
    int every;                      /* 0: no tail */
    double add_ms;
    int function;                   /* -1: every function's invocations count */
} fg_tail_delay;

/* v is the "tail_delay" item: NULL leaves *t as it is (a node inherits the
 * top level's), JSON null turns it off. */
int fg_tail_delay_parse(const cJSON *v, const char *where, fg_tail_delay *t, fg_err *err);

/* Adds the knobs in force to a GET / body: "slowdown" (the least factor,
 * the field `flowgate ab --b-slowdown` checks), "slowdown_functions" (every
 * hosted function's factor) and "tail_delay" (the knob, or null). only is
 * the catalog index of the one hosted function (container mode) or -1. */
void fg_slowdown_describe(cJSON *o, const double factor[FG_MAX_FUNCTIONS],
                          const fg_tail_delay *t, int only);

#endif
