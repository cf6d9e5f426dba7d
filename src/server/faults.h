/* faults.h — fault injection built into the function server: a node that
 * fails in known ways, at known rates, so a run (and a gate) can be checked
 * against failures it was told about.
 *
 * A "faults" block, at the top of a nodes profile (every node's default),
 * on a node (replaces the top's whole; null turns it off), or PUT to
 * /faults on a running node (replaces the node's, from then on):
 *   {"seed": 7, "down_s": 0,
 *    "functions": {"*": [{"kind": "error_500", "rate": 0.05}],
 *                  "recognizer__extract": [{"kind": "hang", "every": 10,
 *                                           "hang_ms": 5000}]}}
 * A function's list is its own entry, else "*"'s (names as /invoke/ takes
 * them). Each fault has "rate" (a probability in [0, 1], drawn from a
 * generator seeded by "seed" and the node's name, so a run is reproducible)
 * or "every" N (the Nth, 2Nth, ... invocation of that function on the
 * node, deterministic). Every entry is evaluated on every invocation (each
 * rate draws once, each counter counts), the first that fires wins: one
 * fault per invocation. Kinds:
 *   error_500     HTTP 500, {"status":"error","message":"injected fault: ..."}
 *   error_status  HTTP 200 with "status":"error" (the reference's way)
 *   hang          no answer: the request is held hang_ms (default 120 000)
 *                 without a worker slot, then the connection is closed;
 *                 a client that gives up first ends the hold
 *   drip          the real answer, sent at bytes_per_s (default 1024)
 *   wrong_type    the real answer with every output field's value
 *                 replaced by 42 ("42" for a number; still valid JSON),
 *                 so whatever a workflow maps is of the wrong type
 *   reset         the connection closed without an answer
 * "down_s": S refuses every request to the node (the connection closed,
 * no answer) for S seconds from when the block is set, except /faults
 * itself, so a test can lift it and read the counts.
 * Setting a block restarts the generator, the counters and the counts.
 * The counts (invocations seen and faults injected, per function and
 * kind; requests refused while down) are reported by GET /faults and in
 * GET /. */
#ifndef FLOWGATE_SERVER_FAULTS_H
#define FLOWGATE_SERVER_FAULTS_H
#include <pthread.h>
#include <stdint.h>
#include <cjson/cJSON.h>
#include "flowgate/common.h"
#include "flowgate/limits.h"

enum {
    FG_FAULT_NONE, FG_FAULT_ERROR_500, FG_FAULT_ERROR_STATUS, FG_FAULT_HANG, FG_FAULT_DRIP,
    FG_FAULT_WRONG_TYPE, FG_FAULT_RESET,
    FG_FAULT_DOWN,          /* counted only: the node's down_s refused it */
    FG_FAULT_KINDS
};

#define FG_FAULTS_PER_FUNCTION 8
#define FG_FAULT_HANG_MS_DEFAULT 120000.0
#define FG_FAULT_HANG_MS_MAX 3600000.0
#define FG_FAULT_DRIP_DEFAULT 1024.0
#define FG_FAULT_EVERY_MAX 1000000
#define FG_FAULT_DOWN_S_MAX 86400.0

/* "error_500", ...; "down" for FG_FAULT_DOWN. */
const char *fg_fault_kind_name(int kind);

typedef struct fg_fault {
    int kind;               /* FG_FAULT_NONE: nothing injected */
    double rate;            /* used when every == 0 */
    int every;
    double hang_ms;         /* hang */
    double bytes_per_s;     /* drip */
} fg_fault;

typedef struct fg_fault_list {
    int n;
    fg_fault f[FG_FAULTS_PER_FUNCTION];
} fg_fault_list;

/* A block. All zero: no block (nothing injected). */
typedef struct fg_fault_spec {
    int set;
    double seed;
    double down_s;
    int has_all, has_fn[FG_MAX_FUNCTIONS];
    fg_fault_list all, fn[FG_MAX_FUNCTIONS];
} fg_fault_spec;

/* v is the "faults" item: NULL leaves *s as it is (a node inherits the
 * top's), JSON null turns it off, an object replaces it. One-line errors
 * prefixed by where, naming the key: an unknown key, kind or function, a
 * rate outside [0, 1], a parameter of another kind. */
int fg_fault_spec_parse(const cJSON *v, const char *where, fg_fault_spec *s, fg_err *err);
/* The block with its defaults filled in, or JSON null. */
cJSON *fg_fault_spec_json(const fg_fault_spec *s);

/* A node's faults at run time. */
typedef struct fg_faults {
    pthread_mutex_t mu;
    fg_fault_spec spec;
    uint64_t rng, draws;
    double set_unix_ms, down_until_ms;     /* down: monotonic */
    uint64_t seen[FG_MAX_FUNCTIONS];
    uint64_t injected[FG_MAX_FUNCTIONS][FG_FAULT_KINDS];
    uint64_t refused_down;
    int wake[2];            /* a pipe: written once at stop, ends every wait */
} fg_faults;

int fg_faults_init(fg_faults *f, const fg_fault_spec *spec, const char *node, fg_err *err);
void fg_faults_destroy(fg_faults *f);

/* Puts spec in force from now (PUT /faults): counts, counters and the
 * generator start again; down_s counts from now. */
void fg_faults_set(fg_faults *f, const fg_fault_spec *spec, const char *node);
/* PUT /faults's body: a block or null. -1 with a one-line err ("faults: ...")
 * and nothing changed when it is not a valid block. */
int fg_faults_set_json(fg_faults *f, const char *json, size_t len, const char *node,
                       fg_err *err);

/* 1 while the node is down: the request is refused and counted (per
 * function when fn >= 0, an /invoke). */
int fg_faults_refuse_down(fg_faults *f, int fn);

/* Counts one invocation of function fn and returns the fault to inject,
 * kind FG_FAULT_NONE for none. The caller counts what it injected. */
fg_fault fg_faults_pick(fg_faults *f, int fn);
void fg_faults_count(fg_faults *f, int fn, int kind);

/* GET /faults: the block in force, what is left of down_s, and the counts
 * since it was set. only: the one hosted function (container mode) or -1. */
cJSON *fg_faults_json(fg_faults *f, int only);
/* Adds GET /'s short form: "faults" (the block in force, or null) and
 * "faults_injected" (how many since it was set). */
void fg_faults_describe(cJSON *o, fg_faults *f);

/* Waits up to ms; returns 1 early when the server stops or, with fd >= 0,
 * when the peer of socket fd hangs up; 0 when the time has passed. */
int fg_faults_wait(fg_faults *f, int fd, double ms);
/* Ends every wait, now and later (the server is stopping). */
void fg_faults_stop(fg_faults *f);

#endif
