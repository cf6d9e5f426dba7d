/* blobshare.h — can the nodes of a cluster fetch each other's blobs by
 * reference (blobshare.c)? Decides whether the runner sends images by
 * reference or inline. */
#ifndef FLOWGATE_BLOBSHARE_H
#define FLOWGATE_BLOBSHARE_H
#include "flowgate/cluster.h"

/* Whether every node of a nodes-mode cluster can fetch every other node's
 * blobs by reference — true only for nodes of one flowgate-functions
 * process. From the nodes' GET / "peers" when they report it, else by a
 * probe (a tiny upload to the first node, read through its ref by every
 * other node). 1 yes (also for one node or FUNCTIONS mode), 0 no, -1
 * cannot tell; for 0 and -1 why holds one line naming the nodes. */
int fg_cluster_blobs_shared(const fg_cluster *c, double timeout_s, char *why, size_t why_size);
/* The probe alone (what fg_cluster_blobs_shared falls back to). */
int fg_cluster_blobs_probe(const fg_cluster *c, double timeout_s, char *why, size_t why_size);

#endif
