/* b64.c — strict base64 over OpenSSL's EVP block coder.
 *
 * EVP_DecodeBlock is lenient (it skips surrounding whitespace) and counts
 * padding as decoded zero bytes, so decoding is two passes: a table pass
 * that rejects anything outside RFC 4648 (naming the offset), then the
 * block decode in int-sized chunks with the padding bytes trimmed. */
#include "flowgate/b64.h"

#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <openssl/evp.h>

/* Chunks are whole quanta (4 chars in, 3 bytes out) and fit an int. */
#define DECODE_CHUNK ((size_t)1 << 24)          /* chars, multiple of 4 */
#define ENCODE_CHUNK ((size_t)3 << 22)          /* bytes, multiple of 3 */

static const unsigned char b64_alphabet[256] = {
    ['A' ... 'Z'] = 1, ['a' ... 'z'] = 1, ['0' ... '9'] = 1, ['+'] = 1, ['/'] = 1,
};

static int validate(const char *s, size_t n, size_t *padding, fg_err *err)
{
    if (n % 4)
        return fg_err_set(err, "bad base64: length %zu is not a multiple of 4", n);
    size_t pad = 0;
    if (n >= 4 && s[n - 1] == '=') pad = s[n - 2] == '=' ? 2 : 1;
    size_t body = n - pad;
    for (size_t i = 0; i < body; i++)
        if (!b64_alphabet[(unsigned char)s[i]])
            return fg_err_set(err, "bad base64 at offset %zu", i);
    *padding = pad;
    return 0;
}

int fg_b64_decode(const char *s, size_t n, fg_buf *out, fg_err *err)
{
    out->data = NULL;
    out->len = 0;
    size_t pad = 0;
    if (validate(s, n, &pad, err) != 0) return -1;
    /* +1 so an empty input still yields a valid (empty) heap buffer. */
    unsigned char *dst = malloc(n / 4 * 3 + 1);
    if (!dst) return fg_err_set(err, "out of memory decoding %zu base64 chars", n);
    size_t produced = 0;
    for (size_t at = 0; at < n; at += DECODE_CHUNK) {
        size_t len = n - at < DECODE_CHUNK ? n - at : DECODE_CHUNK;
        int got = EVP_DecodeBlock(dst + produced, (const unsigned char *)s + at, (int)len);
        if (got < 0) {
            free(dst);
            return fg_err_set(err, "bad base64 near offset %zu", at);
        }
        produced += (size_t)got;
    }
    out->data = dst;
    out->len = produced - pad;
    return 0;
}

char *fg_b64_encode(const void *data, size_t n, size_t *out_len)
{
    if (n > (SIZE_MAX - 1) / 4 * 3) return NULL;   /* the output size would wrap */
    size_t cap = (n + 2) / 3 * 4 + 1;
    char *dst = malloc(cap);
    if (!dst) return NULL;
    const unsigned char *src = data;
    size_t produced = 0;
    for (size_t at = 0; at < n; at += ENCODE_CHUNK) {
        size_t len = n - at < ENCODE_CHUNK ? n - at : ENCODE_CHUNK;
        produced += (size_t)EVP_EncodeBlock((unsigned char *)dst + produced, src + at, (int)len);
    }
    dst[produced] = 0;
    if (out_len) *out_len = produced;
    return dst;
}
