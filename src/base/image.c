/* image.c — 8-bit RGB images and their codecs.
 *
 * Decoding goes through libpng's simplified API. Before libpng sees the
 * bytes, a walk over the chunk headers (length + type, no payload reads)
 * tells a truncated file from a corrupt one, so the caller gets a precise
 * one-line reason. The header is read first and the pixel count checked
 * against the caller's limit before the pixel buffer is allocated: a
 * 100000x100000 "bomb" costs a few hundred bytes of work.
 *
 * PNG encoding uses the classic write API because the simplified one cannot
 * set the zlib level; rows go straight from the image, output grows in one
 * heap buffer. JPEG encoding writes TurboJPEG output into a buffer sized
 * by tjBufSize up front (TJFLAG_NOREALLOC), so it needs no copy either. */
#include "flowgate/image.h"

#include <png.h>
#include <stdlib.h>
#include <string.h>
#include <turbojpeg.h>

int fg_image_alloc(fg_image *img, int w, int h)
{
    img->w = img->h = 0;
    img->rgb = NULL;
    if (w <= 0 || h <= 0) return -1;
    if ((uint64_t)w * (uint64_t)h > SIZE_MAX / 3) return -1;
    img->rgb = malloc((size_t)w * (size_t)h * 3);
    if (!img->rgb) return -1;
    img->w = w;
    img->h = h;
    return 0;
}

void fg_image_free(fg_image *img)
{
    if (!img) return;
    free(img->rgb);
    img->rgb = NULL;
    img->w = img->h = 0;
}

static const unsigned char png_signature[8] = {137, 80, 78, 71, 13, 10, 26, 10};

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int check_signature(const void *png, size_t len, fg_err *err)
{
    size_t n = len < sizeof png_signature ? len : sizeof png_signature;
    if (!png || !len || memcmp(png, png_signature, n))
        return fg_err_set(err, "not a PNG (%zu bytes without the PNG signature)", png ? len : 0);
    if (n < sizeof png_signature)   /* a prefix of the signature: cut short */
        return fg_err_set(err, "truncated PNG: %zu bytes, inside the signature", len);
    return 0;
}

/* Walks chunk headers up to IEND. Only lengths are trusted here; CRCs and
 * contents are libpng's job. */
static int check_chunks_complete(const unsigned char *p, size_t len, fg_err *err)
{
    size_t pos = sizeof png_signature;
    while (pos + 8 <= len) {
        uint32_t chunk_len = be32(p + pos);
        if (chunk_len > 0x7fffffffu)
            return fg_err_set(err, "corrupt PNG: chunk length %u at offset %zu", chunk_len, pos);
        if (chunk_len + (size_t)12 > len - pos)
            return fg_err_set(err, "truncated PNG: %zu bytes, chunk at offset %zu needs %zu",
                              len, pos, pos + chunk_len + (size_t)12);
        if (!memcmp(p + pos + 4, "IEND", 4)) return 0;
        pos += chunk_len + (size_t)12;
    }
    return fg_err_set(err, "truncated PNG: %zu bytes, no IEND chunk", len);
}

/* Turns a libpng complaint into our message. */
static int png_failure(const png_image *image, size_t len, fg_err *err)
{
    if (strstr(image->message, "beyond end"))
        return fg_err_set(err, "truncated PNG: %zu bytes", len);
    return fg_err_set(err, "corrupt PNG: %s", image->message);
}

static int begin_read(png_image *image, const void *png, size_t len, fg_err *err)
{
    memset(image, 0, sizeof *image);
    image->version = PNG_IMAGE_VERSION;
    if (!png_image_begin_read_from_memory(image, png, len)) {
        png_failure(image, len, err);
        png_image_free(image);
        return -1;
    }
    return 0;
}

int fg_png_probe(const void *png, size_t len, int *w, int *h, fg_err *err)
{
    png_image image;
    if (check_signature(png, len, err) || begin_read(&image, png, len, err)) return -1;
    *w = (int)image.width;
    *h = (int)image.height;
    png_image_free(&image);
    return 0;
}

int fg_png_decode(const void *png, size_t len, uint64_t max_pixels,
                  fg_image *out, fg_err *err)
{
    out->w = out->h = 0;
    out->rgb = NULL;
    png_image image;
    if (check_signature(png, len, err) || check_chunks_complete(png, len, err) ||
        begin_read(&image, png, len, err))
        return -1;
    uint64_t pixels = (uint64_t)image.width * image.height;
    if (pixels > max_pixels) {
        fg_err_set(err, "PNG is %ux%u = %llu pixels, over the limit of %llu",
                   image.width, image.height, (unsigned long long)pixels,
                   (unsigned long long)max_pixels);
        png_image_free(&image);
        return -1;
    }
    if (fg_image_alloc(out, (int)image.width, (int)image.height)) {
        fg_err_set(err, "PNG is %ux%u: out of memory for its pixels", image.width, image.height);
        png_image_free(&image);
        return -1;
    }
    image.format = PNG_FORMAT_RGB;
    /* Alpha, if any, is composited on white: the colour a page shows. */
    const png_color white = {255, 255, 255};
    if (!png_image_finish_read(&image, &white, out->rgb, 0, NULL)) {
        png_failure(&image, len, err);
        png_image_free(&image);
        fg_image_free(out);
        return -1;
    }
    return 0;
}

/* Growing output of the classic write API. */
typedef struct png_sink {
    unsigned char *data;
    size_t len, cap;
} png_sink;

static void sink_write(png_structp png, png_bytep bytes, size_t n)
{
    png_sink *sink = png_get_io_ptr(png);
    if (n > sink->cap - sink->len) {
        size_t cap = sink->cap ? sink->cap : 4096;
        while (n > cap - sink->len) {
            if (cap > SIZE_MAX / 2) png_error(png, "output too large");
            cap *= 2;
        }
        unsigned char *data = realloc(sink->data, cap);
        if (!data) png_error(png, "out of memory");
        sink->data = data;
        sink->cap = cap;
    }
    memcpy(sink->data + sink->len, bytes, n);
    sink->len += n;
}

static void sink_flush(png_structp png)
{
    (void)png;
}

int fg_png_encode(const fg_image *img, int level, fg_buf *out, fg_err *err)
{
    out->data = NULL;
    out->len = 0;
    if (!img || !img->rgb || img->w <= 0 || img->h <= 0)
        return fg_err_set(err, "PNG encode: empty image");
    if (level < 0 || level > 9)
        return fg_err_set(err, "PNG encode: zlib level %d is not in 0..9", level);

    png_sink sink = {0};
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    if (!info) {
        png_destroy_write_struct(&png, NULL);
        return fg_err_set(err, "PNG encode: out of memory");
    }
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_write_struct(&png, &info);
        free(sink.data);
        return fg_err_set(err, "PNG encode: libpng failed for a %dx%d image", img->w, img->h);
    }
    png_set_write_fn(png, &sink, sink_write, sink_flush);
    png_set_compression_level(png, level);
    png_set_IHDR(png, info, (png_uint_32)img->w, (png_uint_32)img->h, 8, PNG_COLOR_TYPE_RGB,
                 PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_write_info(png, info);
    size_t stride = (size_t)img->w * 3;
    for (int y = 0; y < img->h; y++) png_write_row(png, img->rgb + (size_t)y * stride);
    png_write_end(png, info);
    png_destroy_write_struct(&png, &info);

    unsigned char *shrunk = realloc(sink.data, sink.len);
    out->data = shrunk ? shrunk : sink.data;
    out->len = sink.len;
    return 0;
}

int fg_jpeg_encode(const fg_image *img, int quality, fg_buf *out, fg_err *err)
{
    out->data = NULL;
    out->len = 0;
    if (!img || !img->rgb || img->w <= 0 || img->h <= 0)
        return fg_err_set(err, "JPEG encode: empty image");
    if (quality < 1 || quality > 100)
        return fg_err_set(err, "JPEG encode: quality %d is not in 1..100", quality);

    unsigned long cap = tjBufSize(img->w, img->h, TJSAMP_420);
    if (cap == (unsigned long)-1)
        return fg_err_set(err, "JPEG encode: %dx%d is too large", img->w, img->h);
    unsigned char *jpeg = malloc(cap);
    if (!jpeg) return fg_err_set(err, "JPEG encode: out of memory for %lu bytes", cap);
    tjhandle tj = tjInitCompress();
    if (!tj) {
        free(jpeg);
        return fg_err_set(err, "JPEG encode: %s", tjGetErrorStr2(NULL));
    }
    unsigned long size = cap;
    if (tjCompress2(tj, img->rgb, img->w, 0, img->h, TJPF_RGB, &jpeg, &size, TJSAMP_420,
                    quality, TJFLAG_NOREALLOC)) {
        fg_err_set(err, "JPEG encode: %s", tjGetErrorStr2(tj));
        tjDestroy(tj);
        free(jpeg);
        return -1;
    }
    tjDestroy(tj);
    unsigned char *shrunk = realloc(jpeg, size);
    out->data = shrunk ? shrunk : jpeg;
    out->len = size;
    return 0;
}
