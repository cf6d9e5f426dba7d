/* fuzz_request.c — libFuzzer over the server's request-decoding path with
 * no sockets: the first byte picks a function, the rest is the HTTP body
 * given to fg_invoke on an in-memory node (JSON parse, field checks, blob
 * references, base64, PNG probe and decode under a 1 Mpx limit, compute).
 * Oracle: every input gets exactly one reply that is JSON with a "status",
 * and only the statuses the protocol defines for client input. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>

#include "server/functions.h"
#include "server/node.h"

static fg_site site;
static fg_node node;

/* Extract is left out: OCR makes an execution take tens of milliseconds. */
static const char *const fuzzed[] = {
    "recognizer__upload", "recognizer__adult", "recognizer__violence",
    "recognizer__mosaic", "recognizer__translate", "recognizer__censor",
};

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc; (void)argv;
    fg_err err;
    char path[4096];
    snprintf(path, sizeof path, "%s/dict/es-en.tsv", fg_data_dir());
    site.dict = fg_dict_load(path, &err);
    snprintf(path, sizeof path, "%s/censor/words.txt", fg_data_dir());
    site.censor = site.dict ? fg_censor_load(path, &err) : NULL;
    site.profile.max_body_bytes = 1 << 20;
    site.profile.max_pixels = 1 << 20;
    site.profile.blob_ttl_s = 60;
    fg_node_profile *np = &site.profile.nodes[0];
    snprintf(np->name, sizeof np->name, "fuzz0");
    np->workers = 1;
    np->blob_store_bytes = 8 << 20;
    site.profile.n_nodes = 1;
    site.nodes = &node;
    site.n_nodes = 1;
    if (!site.censor || fg_node_init(&node, np, &site, &err) != 0) {
        fprintf(stderr, "fuzz_request: %s\n", err.msg);
        exit(1);
    }
    snprintf(node.url, sizeof node.url, "http://127.0.0.1:9");   /* never dialled */
    return 0;
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    if (size < 1) return 0;
    const fg_function *fn = fg_function_find(fuzzed[data[0] % (sizeof fuzzed / sizeof fuzzed[0])]);
    fg_buf body = {malloc(size), size - 1};
    memcpy(body.data, data + 1, size - 1);
    body.data[size - 1] = 0;
    fg_reply reply = {0};
    fg_invoke(&node, fn, &body, fg_now_unix_ms(), &reply);
    if (!reply.body) abort();
    cJSON *res = cJSON_ParseWithLength(reply.body, reply.len);
    const char *status = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(res, "status"));
    if (!status) abort();
    int ok = !strcmp(status, "success");
    if (ok != (reply.status == 200)) abort();
    if (reply.status != 200 && reply.status != 400 && reply.status != 404 &&
        reply.status != 413) {
        fprintf(stderr, "unexpected HTTP %d: %s\n", reply.status, reply.body);
        abort();
    }
    cJSON_Delete(res);
    fg_reply_free(&reply);
    return 0;
}
