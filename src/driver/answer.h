/* answer.h — what the driver reads of a function's 2xx reply, read by an
 * event parser (yajl) without building the reply's whole tree. Internal to
 * the driver (src/driver). */
#ifndef FLOWGATE_ANSWER_H
#define FLOWGATE_ANSWER_H
#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdint.h>
#include "flowgate/workflow.h"
#include "server_report.h"

#define FG_ANSWER_MAX_KEYS 16      /* a step's outputs come from at most this many top-level keys */
#define FG_ANSWER_MAX_NESTING 256  /* a kept value nested deeper is refused */

/* The top-level keys a step's outputs come from ("result.a.b" → "a"),
 * worked out once per step. */
typedef struct fg_answer_plan {
    int n;
    struct { const char *key; size_t len; } key[FG_ANSWER_MAX_KEYS];
    uint64_t key_lengths;   /* a bit per length among the keys and the accounting ones */
} fg_answer_plan;

/* The plan of step `step`: its "out" sources and, when by_ref, its
 * "blob_out" ones. -1 (err set) when they span more than
 * FG_ANSWER_MAX_KEYS keys. */
int fg_answer_plan_step(fg_answer_plan *p, const fg_workflow *wf, int step, int by_ref,
                        fg_err *err);

typedef enum fg_answer_status {
    FG_ANSWER_STATUS_ABSENT,   /* no success field, or not a string */
    FG_ANSWER_STATUS_SUCCESS,  /* equal to the endpoint's success value */
    FG_ANSWER_STATUS_ERROR,    /* "error" */
    FG_ANSWER_STATUS_OTHER
} fg_answer_status;

typedef struct fg_answer {
    /* The reply as an object holding only what the workflow reads: the
     * plan's keys and, when asked, server_timestamps. Everything else is
     * skipped unbuilt. NULL when the body is not a JSON object. Owned by
     * the caller, and freed before the plan's workflow: its top-level keys
     * are the workflow's strings, not copies. */
    cJSON *tree;
    fg_server_report report;   /* exec_ms, queue_ms, transfer_ms, transfer_bytes, cold_start */
    fg_answer_status status;   /* the endpoint's success field */
    int has_message;
    char message[400];         /* "message", when a string (cut at the size) */
} fg_answer;

/* A reader keeps its parser from one reply to the next (allocating one
 * per reply showed in the profile). NULL: out of memory. */
typedef struct fg_answer_reader fg_answer_reader;
fg_answer_reader *fg_answer_reader_new(void);
void fg_answer_reader_free(fg_answer_reader *rd);

/* Reads body (len bytes; whole, not NUL-terminated) against the plan.
 * success_field/success_equals: the endpoint's rule; stamps: keep
 * server_timestamps (the timeline records this request). As cJSON would
 * see the whole reply: the first of duplicate keys counts. Returns 0 with
 * a->tree an object; -1 when the body is not one JSON object (invalid JSON,
 * another type, text after it, kept values nested too deep), a->tree NULL;
 * -2 out of memory. */
int fg_answer_read(fg_answer_reader *rd, const fg_answer_plan *p, const char *success_field,
                   const char *success_equals, int stamps, const char *body, size_t len,
                   fg_answer *a);

#endif
