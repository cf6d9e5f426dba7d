/* blobstore.h — a node's bounded, thread-safe blob store. Blobs are
 * immutable and reference counted: a reader keeps its blob alive while it
 * works even if the store evicts it. Eviction is LRU by total bytes and by
 * age (TTL), so memory stays bounded under any load. */
#ifndef FLOWGATE_BLOBSTORE_H
#define FLOWGATE_BLOBSTORE_H
#include "flowgate/common.h"

typedef struct fg_blobstore fg_blobstore;
typedef struct fg_blob fg_blob;

fg_blobstore *fg_blobstore_new(size_t max_bytes, double ttl_s);
void fg_blobstore_free(fg_blobstore *s);

/* Takes ownership of the malloc'd data (no copy). Writes a NUL-terminated
 * key of at most 31 chars. Fails if len alone exceeds max_bytes; on failure
 * the data stays the caller's. */
int fg_blobstore_put(fg_blobstore *s, void *data, size_t len, char key[32],
                     fg_err *err);

/* NULL when absent or expired. The caller must fg_blob_unref. */
fg_blob *fg_blobstore_get(fg_blobstore *s, const char *key);
const void *fg_blob_data(const fg_blob *b);
size_t fg_blob_len(const fg_blob *b);
void fg_blob_unref(fg_blob *b);

typedef struct fg_blobstore_stats {
    size_t count, bytes, max_bytes;
    uint64_t puts, hits, misses, evictions;
} fg_blobstore_stats;
void fg_blobstore_stats_get(fg_blobstore *s, fg_blobstore_stats *out);

#endif
