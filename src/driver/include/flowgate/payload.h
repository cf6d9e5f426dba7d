/* payload.h — the workflow inputs, held once for a whole run (payload.c). */
#ifndef FLOWGATE_PAYLOAD_H
#define FLOWGATE_PAYLOAD_H
#include <stddef.h>
#include "flowgate/common.h"
#include "flowgate/variant.h"
#include "flowgate/workflow.h"

/* The workflow's inputs (its "payload": a test image, inline JSON, a JSON
 * file or a file's bytes), loaded once and shared by every request: for
 * each step that reads the inputs, its whole ready-made request body,
 * never copied. A file's bytes are dropped once encoded (an image is first
 * checked, fully decoded), so the bodies are the only copy held during the
 * run; steps whose bodies would be identical share one. */
typedef struct fg_payload {
    fg_payload_kind kind;
    size_t input_len;      /* bytes of the input: the file's, or the JSON inputs as printed */
    char sha256[65];       /* hex SHA-256 of those bytes; "" when unknown */
    char *body[FG_WF_MAX_STEPS];      /* per step reading the inputs; NULL for the others */
    size_t body_len[FG_WF_MAX_STEPS];
    int by_ref;            /* the bodies ask steps with blob outputs to keep them */
    double mb;             /* input_len in MB */
    fg_variant variant;
} fg_payload;

/* Loads wf's payload. image_path is the run's test image for the image
 * kind (ignored by the others, which read what the workflow names). Errors
 * name the file: unreadable, empty, not a PNG, truncated or corrupt PNG,
 * over the pixel limit, invalid JSON, a field that is not an input. */
int  fg_payload_load(const fg_workflow *wf, const char *image_path, int inline_data,
                     fg_payload *p, fg_err *err);
void fg_payload_free(fg_payload *p);

/* The largest body (what a server's body limit must accept). */
size_t fg_payload_max_body(const fg_payload *p);

#endif
