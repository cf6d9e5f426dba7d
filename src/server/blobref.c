/* blobref.c — resolving an input_ref.
 *
 * A blob on this node is borrowed from the store by reference (no copy). A
 * blob on a sibling node is fetched over loopback HTTP from that node's
 * GET /blob/<key>, so the owner pays its emulated egress exactly as a real
 * node would. The owner's Content-Length sizes the buffer when the first
 * bytes arrive, so the body is written once; the ref's "bytes" is the
 * client's word and sizes nothing. A node served by another process (one
 * node per container) is a peer: reached by the URL it was given (--peer),
 * the same way. */
#include "blobref.h"
#include "growbuf.h"
#include "reply.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <curl/curl.h>

typedef struct fetch_sink {
    CURL *h;
    fg_growbuf body;
} fetch_sink;

static size_t sink_write(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    fetch_sink *k = userdata;
    size_t n = size * nmemb;
    if (!k->body.cap) {
        curl_off_t declared = -1;
        curl_easy_getinfo(k->h, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &declared);
        if (declared > 0 && fg_growbuf_reserve(&k->body, (size_t)declared) != 0) return 0;
    }
    return fg_growbuf_append(&k->body, ptr, n) == 0 ? n : 0;   /* 0 aborts the transfer */
}

static int fetch_remote(const char *owner, const char *owner_url, size_t owner_store,
                        const char *key, fg_input *in, fg_err *err)
{
    char url[256];
    snprintf(url, sizeof url, "%s/blob/%s", owner_url, key);
    /* No blob of the owner's is larger than its store. */
    fetch_sink sink = {.body.limit = owner_store};
    CURL *h = sink.h = curl_easy_init();
    if (!h) return fg_fail(err, 500, "input_ref: cannot create an HTTP handle");
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, sink_write);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &sink);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 120000L);
    double t0 = fg_now_mono_ms();
    CURLcode rc = curl_easy_perform(h);
    in->transfer_ms = fg_now_mono_ms() - t0;
    long status = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup(h);
    in->owned = sink.body.buf;   /* freed by fg_input_release, whatever happened */
    if (rc != CURLE_OK)
        return fg_fail(err, 502, "input_ref: fetching blob %s from %s failed: %s", key,
                          owner, curl_easy_strerror(rc));
    if (status == 404)
        return fg_fail(err, 404, "blob %s not found on %s", key, owner);
    if (status != 200)
        return fg_fail(err, 502, "input_ref: %s answered HTTP %ld for blob %s",
                          owner, status, key);
    in->data = in->owned.data;
    in->len = in->owned.len;
    in->transfer_bytes = in->owned.len;
    return 0;
}

int fg_blobref_resolve(fg_node *self, const cJSON *ref, fg_input *in, fg_err *err)
{
    const cJSON *node = cJSON_GetObjectItemCaseSensitive(ref, "node");
    const cJSON *key = cJSON_GetObjectItemCaseSensitive(ref, "key");
    if (!cJSON_IsObject(ref) || !cJSON_IsString(node) || !cJSON_IsString(key))
        return fg_fail(err, 400, "input_ref: needs string fields \"node\" and \"key\"");
    size_t key_len = strlen(key->valuestring);
    if (key_len == 0 || key_len > 31 ||
        strspn(key->valuestring, "0123456789abcdefABCDEF") != key_len)
        return fg_fail(err, 400, "input_ref: malformed key \"%.64s\"", key->valuestring);
    in->from_ref = 1;
    fg_node *owner = fg_site_find_node(self->site, node->valuestring);
    if (!owner) {
        const fg_peer *peer = fg_site_find_peer(self->site, node->valuestring);
        if (!peer)
            return fg_fail(err, 400, "input_ref: unknown node \"%.64s\"", node->valuestring);
        return fetch_remote(peer->name, peer->url, peer->blob_store_bytes, key->valuestring,
                            in, err);
    }
    if (owner != self)
        return fetch_remote(owner->prof.name, owner->url, owner->prof.blob_store_bytes,
                            key->valuestring, in, err);
    double t0 = fg_now_mono_ms();
    in->blob = fg_blobstore_get(self->blobs, key->valuestring);
    in->transfer_ms = fg_now_mono_ms() - t0;
    if (!in->blob)
        return fg_fail(err, 404, "blob %.64s not found on %s", key->valuestring,
                          self->prof.name);
    in->data = fg_blob_data(in->blob);
    in->len = fg_blob_len(in->blob);
    in->transfer_bytes = 0;
    return 0;
}

void fg_input_release(fg_input *in)
{
    fg_buf_free(&in->owned);
    fg_blob_unref(in->blob);
    in->blob = NULL;
    in->data = NULL;
    in->len = 0;
}
