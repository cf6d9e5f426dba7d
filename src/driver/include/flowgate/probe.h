/* probe.h — one pass through every function of a workflow, each fed the
 * real outputs of the functions it reads (probe.c). What `flowgate check`
 * and `flowgate calibrate` send, so neither knows any function by name:
 * the workflow file and its payload say it all. */
#ifndef FLOWGATE_PROBE_H
#define FLOWGATE_PROBE_H
#include "flowgate/blobshare.h"
#include "flowgate/cluster.h"
#include "flowgate/payload.h"
#include "flowgate/workflow.h"
#include "flowgate/invoke.h"

typedef struct fg_probe_ops {
    /* Sends step `step` its body (once, or as often as the caller likes)
     * and leaves in *r the answer the later functions are to read.
     * input_mb: the size of its inputs as the `ours` scheduler counts it
     * (the payload's, a blob reference's bytes, a string's length). */
    void (*invoke)(void *ctx, int step, const char *body, size_t len, double input_mb,
                   fg_invoke_result *r);
    /* The verdict on `step`: r->ok 0 with r->error when it failed, when its
     * answer lacks an output a later function reads, or when it was not
     * run because a function it reads failed (then r->http_code is 0 and
     * rtt_ms, exec_ms are NAN). */
    void (*report)(void *ctx, int step, const fg_invoke_result *r);
} fg_probe_ops;

/* Every function of wf once, in dependency order (every switch branch is
 * taken: each function runs whatever the conditions say), the inputs from
 * p (loaded for by-reference data: blob outputs are read by reference,
 * which needs all calls on one node). Returns the number of functions that
 * did not succeed, or -1 with err when nothing could be run. */
int fg_probe_run(const fg_workflow *wf, const fg_payload *p, const fg_probe_ops *ops, void *ctx,
                 fg_err *err);

/* What the blob-sharing probe (blobshare.h) calls, taken from wf: the
 * first step, in file order, that reads one workflow input and stores an
 * output as a blob ("blob_out"), and the first step that reads that output
 * and nothing else. That is the first hop a run's data makes by reference,
 * so the probe tests exactly what the run relies on (for the recognizer:
 * upload, then adult, cheap on an 8x8 image). 0 filled in (strings point
 * into wf); -1 when no step of wf hands a blob on: nothing travels by
 * reference, and there is nothing to probe. */
int fg_blob_probe_from_workflow(const fg_workflow *wf, fg_blob_probe *out);

#endif
