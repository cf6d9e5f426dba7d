/* probe.c — one pass through every function of a workflow (probe.h).
 *
 * The instance state machine (instance.c) builds each request exactly as
 * a run does: the payload's body for a function reading the workflow
 * inputs, else its producers' outputs (blob outputs by reference when the
 * payload was loaded so), and it checks each answer for the outputs later
 * functions read. Unlike a run, the order is not the DAG's conditions: a
 * function is sent as soon as every function it reads has answered, so a
 * switch's both branches run and every function is exercised once. A
 * function whose producer failed is reported as not run, naming it. */
#include "flowgate/probe.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "instance.h"
#include "flowgate/invoke.h"

enum { PENDING, DONE, FAILED };

/* The first producer of fn that failed, -1 none; *ready 0 while one is pending. */
static int failed_producer(const fg_workflow *wf, const int *state, int fn, int *ready)
{
    *ready = 1;
    int failed = -1;
    for (int k = 0; k < wf->nodes[fn].n_in; k++) {
        int src = wf->nodes[fn].in[k].src_node;
        if (src < 0) continue;
        if (state[src] == PENDING) *ready = 0;
        else if (state[src] == FAILED && failed < 0) failed = src;
    }
    return failed;
}

/* Builds, sends and checks fn; 1 when it succeeded. */
static int probe_one(fg_instance *in, const fg_payload *p, int fn, const fg_probe_ops *ops,
                     void *ctx, fg_invoke_result *r)
{
    fg_err err = {""};
    cJSON *body = NULL;
    int uses_payload = 0, n_inputs = 0;
    fg_instance_input inputs[FG_WF_MAX_FANIN];
    in->fn_state[fn] = FG_FN_RUNNING;
    in->n_running++;
    char *text = NULL;
    if (fg_instance_request(in, fn, "probe", &body, &uses_payload, inputs, &n_inputs, &err) != 0 ||
        (!uses_payload && !(text = cJSON_PrintUnformatted(body)))) {
        cJSON_Delete(body);
        snprintf(r->error, sizeof r->error, "request not built: %s",
                 err.msg[0] ? err.msg : "out of memory");
        return 0;
    }
    cJSON_Delete(body);
    double mb = 0;
    for (int i = 0; i < n_inputs; i++) mb += inputs[i].mb < 0 ? p->mb : inputs[i].mb;
    const char *data = uses_payload ? p->body[fn] : text;
    ops->invoke(ctx, fn, data, uses_payload ? p->body_len[fn] : strlen(text), mb, r);
    free(text);
    if (!r->ok) return 0;
    if (!r->response || fg_instance_complete(in, fn, r->response, &err) == -1) {
        r->ok = 0;
        snprintf(r->error, sizeof r->error, "%s",
                 r->response ? err.msg : "the answer is not JSON");
        return 0;
    }
    return 1;
}

int fg_probe_run(const fg_workflow *wf, const fg_payload *p, const fg_probe_ops *ops, void *ctx,
                 fg_err *err)
{
    fg_instance in;
    if (fg_instance_init(&in, wf, p->by_ref, err) != 0) return -1;
    for (int i = 0; i < wf->n_nodes; i++)
        if (wf->nodes[i].n_in > 0 && wf->nodes[i].in[0].src_node == FG_WF_INPUTS && !p->body[i]) {
            fg_instance_free(&in);
            return fg_err_set(err, "%s: the payload has no body for %s", wf->name, wf->nodes[i].id);
        }
    int state[FG_WF_MAX_NODES] = {0}, left = wf->n_nodes, failures = 0;
    /* The graph has no cycle (workflow.c), so each sweep settles at least one. */
    while (left > 0) {
        int settled = 0;
        for (int fn = 0; fn < wf->n_nodes; fn++) {
            int ready;
            int failed = state[fn] == PENDING ? failed_producer(wf, state, fn, &ready) : -1;
            if (state[fn] != PENDING || !ready) continue;
            fg_invoke_result r;
            memset(&r, 0, sizeof r);
            r.rtt_ms = r.exec_ms = NAN;
            int ok = 0;
            if (failed >= 0)
                snprintf(r.error, sizeof r.error, "not run: %s, whose output it reads, failed",
                         wf->nodes[failed].id);
            else
                ok = probe_one(&in, p, fn, ops, ctx, &r);
            ops->report(ctx, fn, &r);
            fg_invoke_result_free(&r);
            state[fn] = ok ? DONE : FAILED;
            failures += !ok;
            left--;
            settled++;
        }
        if (!settled) break;
    }
    fg_instance_free(&in);
    return failures + left;
}
