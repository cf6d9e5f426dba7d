/* image.h — decoded 8-bit RGB images and the codecs around them:
 * PNG in and out through libpng's simplified API, JPEG out through
 * TurboJPEG. Decoding checks the header against a pixel limit before it
 * allocates, so a decompression bomb costs nothing. */
#ifndef FLOWGATE_IMAGE_H
#define FLOWGATE_IMAGE_H
#include "flowgate/common.h"

typedef struct fg_image {
    int w, h;
    unsigned char *rgb;   /* w*h*3 bytes, row-major, no padding */
} fg_image;

#define FG_DEFAULT_MAX_PIXELS 40000000ull   /* ~40 megapixels */

int  fg_image_alloc(fg_image *img, int w, int h);
void fg_image_free(fg_image *img);

/* Reads only the header: dimensions, without decoding pixels. */
int fg_png_probe(const void *png, size_t len, int *w, int *h, fg_err *err);

/* Full decode to RGB. Errors: "not a PNG", "truncated PNG", "PNG is WxH =
 * N pixels, over the limit of M". */
int fg_png_decode(const void *png, size_t len, uint64_t max_pixels,
                  fg_image *out, fg_err *err);

/* zlib level 0..9. */
int fg_png_encode(const fg_image *img, int level, fg_buf *out, fg_err *err);

int fg_jpeg_encode(const fg_image *img, int quality, fg_buf *out, fg_err *err);

#endif
