/* payload.c — the workflow inputs, loaded once and shared by every request
 * of an experiment. The workflow file's "payload" says what they are:
 *
 *   image      the run's generated test image (checked: decoded once, so a
 *              bad image is one clear error before any request);
 *   file       any file's bytes;
 *   json       an inline object, one field per workflow input;
 *   json_file  the same object read from a file.
 *
 * Each step that reads the inputs gets its whole request body built here,
 * once: its "in" fields from the inputs, plus "by_ref" when it has blob
 * outputs (as for any other step, instance.c). For a file the body
 * {"<field>":"<base64>"[,"by_ref":…]} is one allocation with the base64
 * encoded by EVP_EncodeBlock straight into its place, and the file's bytes
 * are freed at once, so a run holds the body and nothing else; steps whose
 * bodies would be the same share one. The engine hands a body to libcurl
 * with CURLOPT_POSTFIELDS (no copy). The SHA-256 of the input bytes (the
 * file's, or the JSON object as printed) is recorded in the results, so
 * two runs that sent different inputs are never compared as one cell. */
#include "flowgate/payload.h"
#include "flowgate/image.h"
#include "flowgate/json.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define JSON_FILE_MAX_BYTES (64u << 20)

/* Hex SHA-256 of the bytes into out[65]; "" if libcrypto fails. */
static void sha256_hex(const unsigned char *data, size_t len, char out[65])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int md_len = 0;
    out[0] = 0;
    if (!EVP_Digest(data, len, md, &md_len, EVP_sha256(), NULL) || md_len != 32) return;
    for (unsigned i = 0; i < md_len; i++) snprintf(out + 2 * i, 3, "%02x", md[i]);
}

/* The first step from i on that reads the workflow inputs (wf->n_steps:
 * none left); -1 when one reads them together with other steps' outputs
 * (the engine sends its body as built here, so it reads nothing else). */
static int next_reader(const fg_workflow *wf, int i, fg_err *err)
{
    for (; i < wf->n_steps; i++) {
        const fg_wf_step *n = &wf->steps[i];
        int inputs = 0;
        for (int k = 0; k < n->n_in; k++) inputs += n->in[k].src_step == FG_WF_INPUTS;
        if (inputs && inputs != n->n_in)
            return fg_err_set(err, "%s: %s reads the workflow inputs together with other steps' "
                              "outputs; a step reading the inputs reads nothing else",
                              wf->path ? wf->path : wf->name, n->id);
        if (inputs) return i;
    }
    return i;
}

static const char *by_ref_tail(const fg_wf_step *n, int by_ref)
{
    if (n->n_blob_out == 0) return "}";
    return by_ref ? ",\"by_ref\":true}" : ",\"by_ref\":false}";
}

/* The bytes as base64 in the body of every step that reads them. */
static int build_blob_bodies(const fg_workflow *wf, const char *path, fg_buf *bytes, fg_payload *p,
                             fg_err *err)
{
    /* EVP_EncodeBlock takes an int length. */
    if (bytes->len > (size_t)1 << 30)
        return fg_err_set(err, "%s: %zu bytes, too large for one request", path, bytes->len);
    size_t b64_len = 4 * ((bytes->len + 2) / 3);
    for (int i = 0; (i = next_reader(wf, i, err)) < wf->n_steps; i++) {
        if (i < 0) return -1;
        const fg_wf_step *n = &wf->steps[i];
        if (n->n_in != 1)
            return fg_err_set(err, "%s: %s reads the %s input into %d fields; a file goes into one",
                              wf->path ? wf->path : wf->name, n->id,
                              fg_payload_kind_name(wf->payload.kind), n->n_in);
        const char *tail = by_ref_tail(n, p->by_ref);
        for (int j = 0; j < i && !p->body[i]; j++)
            if (p->body[j] && !strcmp(wf->steps[j].in[0].name, n->in[0].name) &&
                !strcmp(by_ref_tail(&wf->steps[j], p->by_ref), tail)) {
                p->body[i] = p->body[j];
                p->body_len[i] = p->body_len[j];
            }
        if (p->body[i]) continue;
        /* {"<field>":"<base64>"<tail>; names are plain (workflow.c), no escaping. */
        size_t head_len = strlen(n->in[0].name) + 5, tail_len = strlen(tail);
        size_t total = head_len + b64_len + 1 + tail_len;
        /* EVP_EncodeBlock writes a NUL after the base64; the quote overwrites it. */
        char *body = malloc(total + 1);
        if (!body)
            return fg_err_set(err, "%s: out of memory for a %zu-byte request body", path, total);
        snprintf(body, head_len + 1, "{\"%s\":\"", n->in[0].name);
        int enc = EVP_EncodeBlock((unsigned char *)body + head_len, bytes->data, (int)bytes->len);
        if (enc < 0 || (size_t)enc != b64_len) {
            free(body);
            return fg_err_set(err, "%s: base64 encoding failed", path);
        }
        body[head_len + b64_len] = '"';
        memcpy(body + head_len + b64_len + 1, tail, tail_len + 1);
        p->body[i] = body;
        p->body_len[i] = total;
    }
    return 0;
}

/* A file's bytes (an image is checked whole first). */
static int load_blob(const fg_workflow *wf, const char *path, int is_image, fg_payload *p,
                     fg_err *err)
{
    fg_buf bytes;
    if (fg_read_file(path, 0, &bytes, err) != 0) return -1;
    if (bytes.len == 0) {
        fg_buf_free(&bytes);
        return fg_err_set(err, "%s: empty file", path);
    }
    if (is_image) {
        fg_image img;
        fg_err why;
        if (fg_png_decode(bytes.data, bytes.len, FG_DEFAULT_MAX_PIXELS, &img, &why) != 0) {
            fg_buf_free(&bytes);
            return fg_err_set(err, "%s: %s", path, why.msg);
        }
        fg_image_free(&img);
    }
    sha256_hex(bytes.data, bytes.len, p->sha256);
    p->input_len = bytes.len;
    int rc = build_blob_bodies(wf, path, &bytes, p, err);
    fg_buf_free(&bytes);
    return rc;
}

/* The JSON inputs object: each reading step's fields from it. */
static int build_json_bodies(const fg_workflow *wf, const char *where, const cJSON *value,
                             fg_payload *p, fg_err *err)
{
    char *printed = cJSON_PrintUnformatted(value);
    if (!printed) return fg_err_set(err, "%s: out of memory", where);
    p->input_len = strlen(printed);
    sha256_hex((const unsigned char *)printed, p->input_len, p->sha256);
    free(printed);
    for (int i = 0; (i = next_reader(wf, i, err)) < wf->n_steps; i++) {
        if (i < 0) return -1;
        const fg_wf_step *n = &wf->steps[i];
        cJSON *body = cJSON_CreateObject();
        for (int k = 0; body && k < n->n_in; k++) {
            const cJSON *v = cJSON_GetObjectItemCaseSensitive(value, n->in[k].src_field);
            cJSON *copy = v ? cJSON_Duplicate(v, 1) : NULL;
            if (!copy || !cJSON_AddItemToObject(body, n->in[k].name, copy)) {
                cJSON_Delete(copy);
                cJSON_Delete(body);
                return fg_err_set(err, "%s: %s", where,
                                  v ? "out of memory" : "an input the workflow reads is missing");
            }
        }
        if (body && n->n_blob_out > 0) cJSON_AddBoolToObject(body, "by_ref", p->by_ref);
        p->body[i] = body ? cJSON_PrintUnformatted(body) : NULL;
        cJSON_Delete(body);
        if (!p->body[i]) return fg_err_set(err, "%s: out of memory", where);
        p->body_len[i] = strlen(p->body[i]);
    }
    return 0;
}

static int load_json_file(const fg_workflow *wf, fg_payload *p, fg_err *err)
{
    const char *path = wf->payload.path;
    cJSON *value = fg_json_load_object(path, JSON_FILE_MAX_BYTES, err);
    if (!value) return -1;
    int rc = fg_workflow_inputs_check(wf, value, path, err);
    if (rc == 0) rc = build_json_bodies(wf, path, value, p, err);
    cJSON_Delete(value);
    return rc;
}

int fg_payload_load(const fg_workflow *wf, const char *image_path, int inline_data,
                    fg_payload *p, fg_err *err)
{
    memset(p, 0, sizeof *p);
    p->kind = wf->payload.kind;
    p->by_ref = !inline_data;
    p->variant = FG_VARIANT_CLEAN;   /* the caller knows the real one */
    int rc;
    switch (wf->payload.kind) {
    case FG_PAYLOAD_IMAGE:
        rc = image_path ? load_blob(wf, image_path, 1, p, err)
                        : fg_err_set(err, "%s: an image payload needs the test image", wf->name);
        break;
    case FG_PAYLOAD_FILE:
        rc = load_blob(wf, wf->payload.path, 0, p, err);
        break;
    case FG_PAYLOAD_JSON:
        rc = build_json_bodies(wf, wf->path ? wf->path : wf->name, wf->payload.value, p, err);
        break;
    case FG_PAYLOAD_JSON_FILE:
        rc = load_json_file(wf, p, err);
        break;
    default:
        rc = fg_err_set(err, "%s: unknown payload kind %d", wf->name, (int)wf->payload.kind);
    }
    if (rc == 0 && fg_payload_max_body(p) == 0)
        rc = fg_err_set(err, "%s: no step reads the workflow inputs", wf->path ? wf->path : wf->name);
    if (rc != 0) {
        fg_payload_free(p);
        return -1;
    }
    p->mb = (double)p->input_len / FG_MB;
    return 0;
}

void fg_payload_free(fg_payload *p)
{
    if (!p) return;
    for (int i = 0; i < FG_WF_MAX_STEPS; i++) {
        int shared = 0;
        for (int j = 0; j < i; j++) shared |= p->body[j] == p->body[i];
        if (!shared) free(p->body[i]);
    }
    for (int i = 0; i < FG_WF_MAX_STEPS; i++) {
        p->body[i] = NULL;
        p->body_len[i] = 0;
    }
    p->sha256[0] = 0;
}

size_t fg_payload_max_body(const fg_payload *p)
{
    size_t m = 0;
    for (int i = 0; i < FG_WF_MAX_STEPS; i++)
        if (p->body[i] && p->body_len[i] > m) m = p->body_len[i];
    return m;
}
