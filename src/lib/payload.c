/* payload.c — the input image, loaded once per size and shared by every
 * request of an experiment. The upload request body
 * {"img_b64":"<base64>","by_ref":true|false} is built in one allocation:
 * the base64 is encoded by EVP_EncodeBlock straight into its place inside
 * the body, so the image exists as one PNG copy plus one body, never more.
 * The engine hands `body` to libcurl with CURLOPT_POSTFIELDS (no copy). */
#include "flowgate/engine.h"

#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

static const char BODY_HEAD[] = "{\"img_b64\":\"";

int fg_payload_load(const char *png_path, int inline_data, fg_payload *p, fg_err *err)
{
    memset(p, 0, sizeof *p);
    if (fg_read_file(png_path, 0, &p->png, err) != 0) return -1;
    if (p->png.len == 0) {
        fg_buf_free(&p->png);
        return fg_err_set(err, "%s: empty file", png_path);
    }
    /* EVP_EncodeBlock takes an int length. */
    if (p->png.len > (size_t)1 << 30) {
        fg_buf_free(&p->png);
        return fg_err_set(err, "%s: %zu bytes, too large for one request", png_path, p->png.len);
    }
    const char *tail = inline_data ? "\",\"by_ref\":false}" : "\",\"by_ref\":true}";
    size_t head_len = sizeof BODY_HEAD - 1, tail_len = strlen(tail);
    size_t b64_len = 4 * ((p->png.len + 2) / 3);
    size_t total = head_len + b64_len + tail_len;
    /* EVP_EncodeBlock writes a NUL after the base64; the tail overwrites it. */
    char *body = malloc(total + 1);
    if (!body) {
        fg_buf_free(&p->png);
        return fg_err_set(err, "%s: out of memory for a %zu-byte request body", png_path, total);
    }
    memcpy(body, BODY_HEAD, head_len);
    int n = EVP_EncodeBlock((unsigned char *)body + head_len, p->png.data, (int)p->png.len);
    if (n < 0 || (size_t)n != b64_len) {
        free(body);
        fg_buf_free(&p->png);
        return fg_err_set(err, "%s: base64 encoding failed", png_path);
    }
    memcpy(body + head_len + b64_len, tail, tail_len + 1);
    p->body = body;
    p->body_len = total;
    p->mb = (double)p->png.len / FG_MB;
    p->variant = FG_VARIANT_CLEAN;   /* the caller knows the real one */
    return 0;
}

void fg_payload_free(fg_payload *p)
{
    if (!p) return;
    fg_buf_free(&p->png);
    free(p->body);
    p->body = NULL;
    p->body_len = 0;
}
