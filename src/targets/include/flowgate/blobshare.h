/* blobshare.h — can the nodes of a cluster fetch each other's blobs by
 * reference (blobshare.c)? Decides whether the runner sends images by
 * reference or inline. */
#ifndef FLOWGATE_BLOBSHARE_H
#define FLOWGATE_BLOBSHARE_H
#include "flowgate/cluster.h"

/* The two functions the probe calls, as the workflow names them
 * (fg_blob_probe_from_workflow, probe.h): `upload` is sent
 * {"<field>": <an 8x8 PNG, base64>, "by_ref": true} and answers a blob
 * reference at `ref_path` ("ref", or "a.b" for a nested field); `reader`
 * takes that reference as {"input_ref": <reference>}. The strings are
 * borrowed (the workflow's). */
typedef struct fg_blob_probe {
    const char *upload, *field, *ref_path, *reader;
} fg_blob_probe;

/* Whether every node of a nodes-mode cluster can fetch every other node's
 * blobs by reference — true only for nodes of one flowgate-functions
 * process. From the nodes' GET / "peers" when they report it, else by a
 * probe (a tiny upload to the first node, read through its ref by every
 * other node). 1 yes (also for one node or FUNCTIONS mode), 0 no, -1
 * cannot tell; for 0 and -1 why holds one line naming the nodes. */
int fg_cluster_blobs_shared(const fg_cluster *c, const fg_blob_probe *probe, double timeout_s,
                            char *why, size_t why_size);
/* The probe alone (what fg_cluster_blobs_shared falls back to). */
int fg_cluster_blobs_probe(const fg_cluster *c, const fg_blob_probe *probe, double timeout_s,
                           char *why, size_t why_size);

#endif
