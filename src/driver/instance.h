/* instance.h — one workflow instance's state machine, free of any I/O so it
 * can be driven by the engine's event loop or by canned responses in unit
 * tests. Internal to the driver (src/driver). */
#ifndef FLOWGATE_INSTANCE_H
#define FLOWGATE_INSTANCE_H
#include <cjson/cJSON.h>
#include "flowgate/workflow.h"

typedef enum fg_step_state {
    FG_STEP_IDLE, FG_STEP_READY, FG_STEP_RUNNING, FG_STEP_DONE
} fg_step_state;

typedef struct fg_instance {
    const fg_workflow *wf;
    int by_ref;                            /* blob outputs travel as references */
    unsigned char step_state[FG_WF_MAX_STEPS];
    cJSON *outputs[FG_WF_MAX_STEPS];       /* per step: {output name: value} */
    signed char branch[FG_WF_MAX_EDGES];   /* per edge: -1 not evaluated, 1 then, 0 else */
    int n_running;
    int failed;
} fg_instance;

/* Checks once per workflow what the engine relies on: a step reading the
 * workflow inputs is sent its body built once (payload.c), so it reads
 * nothing else. */
int fg_instance_check_workflow(const fg_workflow *wf, fg_err *err);

/* Entry steps (no incoming link) become ready at once. */
int  fg_instance_init(fg_instance *in, const fg_workflow *wf, int by_ref, fg_err *err);
void fg_instance_free(fg_instance *in);

/* The next ready step, now marked running; -1 when none (or failed). */
int fg_instance_next_ready(fg_instance *in);

/* Step `step` answered with a success response: its outputs are taken from
 * the response (by the step's "out" mappings, or "blob_out" ones when
 * by_ref; detached from `response`, not copied), then links fire and
 * switches whose inputs are complete are evaluated. Returns 0; -1 when the
 * response lacks a mapped output or carries an output another step
 * reads with the wrong type (nothing changed: step is still running and may
 * be re-sent or failed: the fault is step's); -2 when a condition could not be evaluated
 * (step is done and the instance has failed). err names the problem. */
int fg_instance_complete(fg_instance *in, int step, cJSON *response, fg_err *err);

/* Step `step` failed for good: nothing more is dispatched. */
void fg_instance_fail(fg_instance *in, int step);

/* Nothing running and nothing left to dispatch. */
int fg_instance_finished(const fg_instance *in);

/* -1 not evaluated, 1 then, 0 else. */
int fg_instance_branch(const fg_instance *in, int edge);

/* Where one input of a request lives and how big it is. node_name NULL:
 * travels inside the request; mb < 0: the workflow input (shared payload). */
typedef struct fg_instance_input {
    const char *node_name;
    double mb;
} fg_instance_input;

/* The request for step `step`. *body NULL with *uses_payload = 1 when it
 * reads the workflow inputs (its shared payload body is sent as is);
 * otherwise a new JSON object built from the producers' outputs: blob
 * outputs as {"input_ref": ref} when by_ref, plain values copied, plus
 * "request_id" and, for steps with blob outputs, "by_ref". String
 * values are referenced from the instance's outputs, not copied: delete
 * the body before the instance. */
int fg_instance_request(const fg_instance *in, int step, const char *request_id,
                        cJSON **body, int *uses_payload,
                        fg_instance_input *inputs, int *n_inputs, fg_err *err);

#endif
