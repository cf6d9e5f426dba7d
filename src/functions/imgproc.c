/* imgproc.c — resize, colour-rule detectors and mosaic over fg_image.
 *
 * Resize is exact area averaging in integers. Put source and destination on
 * a common axis of sw*dw units: source pixel i spans [i*dw, (i+1)*dw), output
 * pixel x spans [x*sw, (x+1)*sw). Each overlap length is an integer weight,
 * the weights of one output pixel sum to sw (and sh vertically), so an
 * output is sum(v * wx * wy) / (sw * sh), rounded — exact for any ratio,
 * up or down. Output rows are produced one at a time: each contributing
 * source row is first reduced horizontally into a small row buffer, then
 * added with its vertical weight, so the extra memory is O(output width).
 *
 * The detectors stand in for the reference classifiers: both downscale to
 * 224x224 like those models' input, then count pixels that match a colour
 * rule (see skin_pixel and blood_pixel) and map the ratio to a confidence. */
#include "flowgate/imgproc.h"

#include <stdlib.h>
#include <string.h>

/* Overlap of source pixel i with output pixel x, in common-axis units. */
static uint64_t overlap(uint64_t i, uint64_t x, uint64_t src_n, uint64_t dst_n)
{
    uint64_t lo_src = i * dst_n, hi_src = lo_src + dst_n;
    uint64_t lo_dst = x * src_n, hi_dst = lo_dst + src_n;
    uint64_t lo = lo_src > lo_dst ? lo_src : lo_dst;
    uint64_t hi = hi_src < hi_dst ? hi_src : hi_dst;
    return hi > lo ? hi - lo : 0;
}

/* First and last source index under output pixel x. */
static void span(uint64_t x, uint64_t src_n, uint64_t dst_n, int *first, int *last)
{
    *first = (int)(x * src_n / dst_n);
    *last = (int)(((x + 1) * src_n - 1) / dst_n);
}

/* One source row reduced to dw pixels; each value is sum(v * wx) <= 255*sw. */
static void reduce_row(const unsigned char *row, int sw, int dw, uint64_t *out)
{
    for (int x = 0; x < dw; x++) {
        int first, last;
        span((uint64_t)x, (uint64_t)sw, (uint64_t)dw, &first, &last);
        uint64_t r = 0, g = 0, b = 0;
        for (int i = first; i <= last; i++) {
            uint64_t wx = overlap((uint64_t)i, (uint64_t)x, (uint64_t)sw, (uint64_t)dw);
            const unsigned char *p = row + (size_t)i * 3;
            r += p[0] * wx;
            g += p[1] * wx;
            b += p[2] * wx;
        }
        out[x * 3] = r;
        out[x * 3 + 1] = g;
        out[x * 3 + 2] = b;
    }
}

int fg_image_resize(const fg_image *src, int w, int h, fg_image *dst)
{
    dst->w = dst->h = 0;
    dst->rgb = NULL;
    if (!src || !src->rgb || src->w <= 0 || src->h <= 0) return -1;
    if (fg_image_alloc(dst, w, h)) return -1;
    uint64_t *row = malloc((size_t)w * 3 * sizeof *row);
    uint64_t *acc = malloc((size_t)w * 3 * sizeof *acc);
    if (!row || !acc) {
        free(row);
        free(acc);
        fg_image_free(dst);
        return -1;
    }
    const uint64_t sw = (uint64_t)src->w, sh = (uint64_t)src->h;
    const uint64_t total = sw * sh;   /* sum of all weights of one output pixel */
    const size_t src_stride = (size_t)src->w * 3, dst_stride = (size_t)w * 3;
    for (int y = 0; y < h; y++) {
        int first, last;
        span((uint64_t)y, sh, (uint64_t)h, &first, &last);
        memset(acc, 0, dst_stride * sizeof *acc);
        for (int j = first; j <= last; j++) {
            uint64_t wy = overlap((uint64_t)j, (uint64_t)y, sh, (uint64_t)h);
            reduce_row(src->rgb + (size_t)j * src_stride, src->w, w, row);
            for (size_t k = 0; k < dst_stride; k++) acc[k] += row[k] * wy;
        }
        unsigned char *out = dst->rgb + (size_t)y * dst_stride;
        for (size_t k = 0; k < dst_stride; k++) out[k] = (unsigned char)((acc[k] + total / 2) / total);
    }
    free(row);
    free(acc);
    return 0;
}

int fg_image_fit(const fg_image *src, int max_w, int max_h, fg_image *dst)
{
    dst->w = dst->h = 0;
    dst->rgb = NULL;
    if (!src || !src->rgb || src->w <= 0 || src->h <= 0 || max_w <= 0 || max_h <= 0) return -1;
    if (src->w <= max_w && src->h <= max_h) {
        if (fg_image_alloc(dst, src->w, src->h)) return -1;
        memcpy(dst->rgb, src->rgb, (size_t)src->w * src->h * 3);
        return 0;
    }
    /* The side that binds keeps its maximum; the other is rounded. */
    int64_t w, h;
    if ((int64_t)src->w * max_h >= (int64_t)src->h * max_w) {
        w = max_w;
        h = ((int64_t)src->h * max_w * 2 + src->w) / ((int64_t)src->w * 2);
    } else {
        h = max_h;
        w = ((int64_t)src->w * max_h * 2 + src->h) / ((int64_t)src->h * 2);
    }
    if (w < 1) w = 1;
    if (h < 1) h = 1;
    return fg_image_resize(src, (int)w, (int)h, dst);
}

/* Kovac, Peer & Solina's uniform-daylight skin rule in RGB:
 * R>95, G>40, B>20, max-min>15, |R-G|>15, R>G, R>B. */
static int skin_pixel(int r, int g, int b)
{
    int max = r > g ? (r > b ? r : b) : (g > b ? g : b);
    int min = r < g ? (r < b ? r : b) : (g < b ? g : b);
    return r > 95 && g > 40 && b > 20 && max - min > 15 && abs(r - g) > 15 && r > g && r > b;
}

/* Saturated dark red, the colour of blood in photographs:
 * R>=130, G<=70, B<=70, R-G>=80. */
static int blood_pixel(int r, int g, int b)
{
    return r >= 130 && g <= 70 && b <= 70 && r - g >= 80;
}

static double ratio_of(const fg_image *img, int (*rule)(int, int, int))
{
    if (!img || !img->rgb || img->w <= 0 || img->h <= 0) return 0.0;
    size_t n = (size_t)img->w * img->h, hits = 0;
    const unsigned char *p = img->rgb;
    for (size_t i = 0; i < n; i++, p += 3) hits += (size_t)rule(p[0], p[1], p[2]);
    return (double)hits / (double)n;
}

double fg_skin_ratio(const fg_image *img)
{
    return ratio_of(img, skin_pixel);
}

double fg_blood_ratio(const fg_image *img)
{
    return ratio_of(img, blood_pixel);
}

#define DETECT_SIDE 224

/* Ratio on the 224x224 downscale; if that cannot be allocated, on the full
 * image (same rule, nearly the same ratio) rather than failing. */
static double detector_ratio(const fg_image *img, int (*rule)(int, int, int))
{
    fg_image small;
    if (fg_image_resize(img, DETECT_SIDE, DETECT_SIDE, &small)) return ratio_of(img, rule);
    double ratio = ratio_of(&small, rule);
    fg_image_free(&small);
    return ratio;
}

static fg_detection detection(double ratio, double full_scale_ratio)
{
    fg_detection d;
    d.ratio = ratio;
    d.confidence = ratio / full_scale_ratio < 1.0 ? ratio / full_scale_ratio : 1.0;
    d.flagged = 0;
    return d;
}

fg_detection fg_detect_adult(const fg_image *img)
{
    fg_detection d = detection(detector_ratio(img, skin_pixel), 0.40);
    d.flagged = d.confidence > 0.5;
    return d;
}

fg_detection fg_detect_violence(const fg_image *img)
{
    fg_detection d = detection(detector_ratio(img, blood_pixel), 0.25);
    d.flagged = d.confidence >= 0.95;
    return d;
}

void fg_pixelate(fg_image *img, int block)
{
    if (!img || !img->rgb || block <= 1) return;
    const size_t stride = (size_t)img->w * 3;
    for (int by = 0; by < img->h; by += block) {
        int bh = img->h - by < block ? img->h - by : block;
        for (int bx = 0; bx < img->w; bx += block) {
            int bw = img->w - bx < block ? img->w - bx : block;
            uint64_t sum[3] = {0, 0, 0};
            for (int y = by; y < by + bh; y++) {
                const unsigned char *p = img->rgb + (size_t)y * stride + (size_t)bx * 3;
                for (int i = 0; i < bw * 3; i++) sum[i % 3] += p[i];
            }
            uint64_t n = (uint64_t)bw * bh;
            unsigned char mean[3];
            for (int c = 0; c < 3; c++) mean[c] = (unsigned char)((sum[c] + n / 2) / n);
            for (int y = by; y < by + bh; y++) {
                unsigned char *p = img->rgb + (size_t)y * stride + (size_t)bx * 3;
                for (int x = 0; x < bw; x++, p += 3) memcpy(p, mean, 3);
            }
        }
    }
}
