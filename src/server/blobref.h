/* blobref.h — the bytes an image function works on: decoded from
 * "img_b64", or an "input_ref" resolved in this node's blob store or
 * fetched from the sibling node that owns it. */
#ifndef FLOWGATE_SERVER_BLOBREF_H
#define FLOWGATE_SERVER_BLOBREF_H
#include <cjson/cJSON.h>
#include "flowgate/blobstore.h"
#include "node.h"

typedef struct fg_input {
    const unsigned char *data;
    size_t len;
    fg_buf owned;               /* decoded or fetched bytes, when not a local blob */
    fg_blob *blob;              /* a local blob reference */
    int from_ref;
    double transfer_ms;
    size_t transfer_bytes;
} fg_input;

/* Resolves {"node","key","bytes"} into in ("bytes" is informational: the
 * owner's Content-Length sizes a fetch). Returns 0, or the HTTP status
 * of the failure (400 bad or unknown node, 404 missing blob, 502 the owner
 * did not answer) with err set. */
int fg_blobref_resolve(fg_node *self, const cJSON *ref, fg_input *in, fg_err *err);

void fg_input_release(fg_input *in);

#endif
