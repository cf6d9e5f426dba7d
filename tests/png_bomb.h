/* png_bomb.h — test support: a valid, tiny PNG whose IHDR claims w×h RGB
 * pixels (a decompression bomb). Its IDAT holds one stored zlib block of
 * 64 zero bytes, far short of the claimed rows, which a decoder must never
 * reach: the pixel limit has to refuse it from the header. Chunk CRCs come
 * from zlib. */
#ifndef FLOWGATE_TEST_PNG_BOMB_H
#define FLOWGATE_TEST_PNG_BOMB_H
#include <stdint.h>
#include <string.h>
#include <zlib.h>

#define PNG_BOMB_MAX_BYTES 160   /* the bomb is 132 bytes */

static inline void png_bomb_be32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 24);
    p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
}

static inline size_t png_bomb_chunk(unsigned char *p, const char *type,
                                    const unsigned char *data, uint32_t len)
{
    png_bomb_be32(p, len);
    memcpy(p + 4, type, 4);
    if (len) memcpy(p + 8, data, len);
    png_bomb_be32(p + 8 + len, (uint32_t)crc32(0L, p + 4, len + 4));
    return 12 + (size_t)len;
}

/* Writes at most PNG_BOMB_MAX_BYTES into out; returns the length. */
static inline size_t png_bomb(unsigned char *out, uint32_t w, uint32_t h)
{
    static const unsigned char sig[8] = {137, 80, 78, 71, 13, 10, 26, 10};
    unsigned char ihdr[13] = {0, 0, 0, 0, 0, 0, 0, 0, 8, 2, 0, 0, 0};
    png_bomb_be32(ihdr, w);
    png_bomb_be32(ihdr + 4, h);
    /* zlib header, stored block of 64 bytes (LEN, NLEN), 64 zeros, adler32
     * of 64 zeros (64 << 16 | 1). */
    unsigned char idat[2 + 5 + 64 + 4] = {0x78, 0x01, 0x01, 64, 0, 0xff - 64, 0xff};
    png_bomb_be32(idat + 71, (64u << 16) | 1u);
    size_t n = 8;
    memcpy(out, sig, 8);
    n += png_bomb_chunk(out + n, "IHDR", ihdr, sizeof ihdr);
    n += png_bomb_chunk(out + n, "IDAT", idat, sizeof idat);
    n += png_bomb_chunk(out + n, "IEND", NULL, 0);
    return n;
}

#endif
