/* b64.h — strict base64 (RFC 4648, standard alphabet, padding required),
 * built on OpenSSL's EVP block coder. */
#ifndef FLOWGATE_B64_H
#define FLOWGATE_B64_H
#include "flowgate/common.h"

/* Decodes n characters. Rejects characters outside the alphabet, a length
 * that is not a multiple of 4 and misplaced padding, naming the offset. */
int fg_b64_decode(const char *s, size_t n, fg_buf *out, fg_err *err);

/* Encodes into a NUL-terminated heap string; *out_len excludes the NUL. */
char *fg_b64_encode(const void *data, size_t n, size_t *out_len);

#endif
