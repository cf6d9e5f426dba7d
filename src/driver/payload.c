/* payload.c — the input image, loaded once per size and shared by every
 * request of an experiment. The file is decoded once to check it is a
 * whole PNG under the pixel limit, so a bad image is one clear error before
 * any request, not a failed run. The upload request body
 * {"img_b64":"<base64>","by_ref":true|false} is built in one allocation:
 * the base64 is encoded by EVP_EncodeBlock straight into its place inside
 * the body; then the PNG bytes are freed, so the run holds one body and
 * nothing else. The engine hands `body` to libcurl with CURLOPT_POSTFIELDS
 * (no copy). The SHA-256 of the file's bytes is taken at load, while they
 * are still in memory: results record it so that two runs that sent
 * different images are never compared as the same cell. */
#include "flowgate/engine.h"
#include "flowgate/image.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char BODY_HEAD[] = "{\"img_b64\":\"";

/* Hex SHA-256 of the bytes into out[65]; "" if libcrypto fails. */
static void sha256_hex(const unsigned char *data, size_t len, char out[65])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int md_len = 0;
    out[0] = 0;
    if (!EVP_Digest(data, len, md, &md_len, EVP_sha256(), NULL) || md_len != 32) return;
    for (unsigned i = 0; i < md_len; i++) snprintf(out + 2 * i, 3, "%02x", md[i]);
}

int fg_payload_load(const char *png_path, int inline_data, fg_payload *p, fg_err *err)
{
    memset(p, 0, sizeof *p);
    fg_buf png;
    if (fg_read_file(png_path, 0, &png, err) != 0) return -1;
    if (png.len == 0) {
        fg_buf_free(&png);
        return fg_err_set(err, "%s: empty file", png_path);
    }
    /* EVP_EncodeBlock takes an int length. */
    if (png.len > (size_t)1 << 30) {
        fg_buf_free(&png);
        return fg_err_set(err, "%s: %zu bytes, too large for one request", png_path, png.len);
    }
    fg_image img;
    fg_err why;
    if (fg_png_decode(png.data, png.len, FG_DEFAULT_MAX_PIXELS, &img, &why) != 0) {
        fg_buf_free(&png);
        return fg_err_set(err, "%s: %s", png_path, why.msg);
    }
    fg_image_free(&img);
    const char *tail = inline_data ? "\",\"by_ref\":false}" : "\",\"by_ref\":true}";
    size_t head_len = sizeof BODY_HEAD - 1, tail_len = strlen(tail);
    size_t b64_len = 4 * ((png.len + 2) / 3);
    size_t total = head_len + b64_len + tail_len;
    /* EVP_EncodeBlock writes a NUL after the base64; the tail overwrites it. */
    char *body = malloc(total + 1);
    if (!body) {
        fg_buf_free(&png);
        return fg_err_set(err, "%s: out of memory for a %zu-byte request body", png_path, total);
    }
    sha256_hex(png.data, png.len, p->sha256);
    memcpy(body, BODY_HEAD, head_len);
    int n = EVP_EncodeBlock((unsigned char *)body + head_len, png.data, (int)png.len);
    p->png_len = png.len;
    fg_buf_free(&png);
    if (n < 0 || (size_t)n != b64_len) {
        free(body);
        return fg_err_set(err, "%s: base64 encoding failed", png_path);
    }
    memcpy(body + head_len + b64_len, tail, tail_len + 1);
    p->body = body;
    p->body_len = total;
    p->mb = (double)p->png_len / FG_MB;
    p->variant = FG_VARIANT_CLEAN;   /* the caller knows the real one */
    return 0;
}

void fg_payload_free(fg_payload *p)
{
    if (!p) return;
    free(p->body);
    p->body = NULL;
    p->body_len = 0;
    p->sha256[0] = 0;
}
