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

/* The first producer of `step` that failed, -1 none; *ready 0 while one is pending. */
static int failed_producer(const fg_workflow *wf, const int *state, int step, int *ready)
{
    *ready = 1;
    int failed = -1;
    for (int k = 0; k < wf->steps[step].n_in; k++) {
        int src = wf->steps[step].in[k].src_step;
        if (src < 0) continue;
        if (state[src] == PENDING) *ready = 0;
        else if (state[src] == FAILED && failed < 0) failed = src;
    }
    return failed;
}

/* Builds, sends and checks `step`; 1 when it succeeded. */
static int probe_one(fg_instance *in, const fg_payload *p, int step, const fg_probe_ops *ops,
                     void *ctx, fg_invoke_result *r)
{
    fg_err err = {""};
    cJSON *body = NULL;
    int uses_payload = 0, n_inputs = 0;
    fg_instance_input inputs[FG_WF_MAX_FANIN];
    in->step_state[step] = FG_STEP_RUNNING;
    in->n_running++;
    char *text = NULL;
    if (fg_instance_request(in, step, "probe", &body, &uses_payload, inputs, &n_inputs, &err) != 0 ||
        (!uses_payload && !(text = cJSON_PrintUnformatted(body)))) {
        cJSON_Delete(body);
        snprintf(r->error, sizeof r->error, "request not built: %.480s",
                 err.msg[0] ? err.msg : "out of memory");
        return 0;
    }
    cJSON_Delete(body);
    double mb = 0;
    for (int i = 0; i < n_inputs; i++) mb += inputs[i].mb < 0 ? p->mb : inputs[i].mb;
    const char *data = uses_payload ? p->body[step] : text;
    ops->invoke(ctx, step, data, uses_payload ? p->body_len[step] : strlen(text), mb, r);
    free(text);
    if (!r->ok) return 0;
    if (!r->response || fg_instance_complete(in, step, r->response, &err) == -1) {
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
    for (int i = 0; i < wf->n_steps; i++)
        if (wf->steps[i].n_in > 0 && wf->steps[i].in[0].src_step == FG_WF_INPUTS && !p->body[i]) {
            fg_instance_free(&in);
            return fg_err_set(err, "%s: the payload has no body for %s", wf->name, wf->steps[i].id);
        }
    int state[FG_WF_MAX_STEPS] = {0}, left = wf->n_steps, failures = 0;
    /* The graph has no cycle (workflow.c), so each sweep settles at least one. */
    while (left > 0) {
        int settled = 0;
        for (int step = 0; step < wf->n_steps; step++) {
            int ready;
            int failed = state[step] == PENDING ? failed_producer(wf, state, step, &ready) : -1;
            if (state[step] != PENDING || !ready) continue;
            fg_invoke_result r;
            memset(&r, 0, sizeof r);
            r.rtt_ms = r.exec_ms = NAN;
            int ok = 0;
            if (failed >= 0)
                snprintf(r.error, sizeof r.error, "not run: %s, whose output it reads, failed",
                         wf->steps[failed].id);
            else
                ok = probe_one(&in, p, step, ops, ctx, &r);
            ops->report(ctx, step, &r);
            fg_invoke_result_free(&r);
            state[step] = ok ? DONE : FAILED;
            failures += !ok;
            left--;
            settled++;
        }
        if (!settled) break;
    }
    fg_instance_free(&in);
    return failures + left;
}

/* The first step whose only input is `upload`'s output `name`; -1 none. */
static int blob_reader(const fg_workflow *wf, int upload, const char *name)
{
    for (int i = 0; i < wf->n_steps; i++) {
        const fg_wf_step *st = &wf->steps[i];
        if (st->n_in == 1 && st->in[0].src_step == upload && !strcmp(st->in[0].src_field, name))
            return i;
    }
    return -1;
}

int fg_blob_probe_from_workflow(const fg_workflow *wf, fg_blob_probe *out)
{
    for (int u = 0; u < wf->n_steps; u++) {
        const fg_wf_step *up = &wf->steps[u];
        if (up->n_in != 1 || up->in[0].src_step != FG_WF_INPUTS) continue;
        for (int b = 0; b < up->n_blob_out; b++) {
            int r = blob_reader(wf, u, up->blob_out[b].name);
            if (r < 0) continue;
            *out = (fg_blob_probe){.upload = up->id, .field = up->in[0].name,
                                   .ref_path = up->blob_out[b].src_field,
                                   .reader = wf->steps[r].id};
            return 0;
        }
    }
    return -1;
}
