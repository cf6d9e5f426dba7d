/* imagegen.c — deterministic test images of a chosen PNG size.
 *
 * Layout: a white banner at the top with the variant's text in black DejaVu
 * Sans Bold (drawn by cairo, so the extract function's OCR can read it back),
 * over a field of low-amplitude noise. The noise is what costs bytes: every
 * channel is base + a 4-bit uniform value from a seeded xorshift32, about
 * 1.95 bytes per pixel after filtering and deflate. The banner compresses to
 * almost nothing, so the PNG size follows the number of noise rows.
 *
 * The width grows slowly with the target (800 px at 0.1 MB, ~2000 px at
 * 10 MB); the height is found by encoding, measuring and correcting the row
 * count (secant steps, usually 2-3 encodes) until the PNG is within 1 % of
 * the target. zlib level 1 keeps a 10 MB image to well under a second per
 * encode. Variant ADULT paints the field skin-toned and VIOLENCE blood-red
 * (same noise, so the same size per pixel); both fill every row under the
 * banner, which the detectors see as most of the picture.
 *
 * The text is sized for OCR after the extract function shrinks the image so
 * its longest side is at most 1600 px: cap height max(28, width/30) px,
 * wrapped to two lines when one does not fit.
 *
 * cairo and fontconfig keep process-wide font caches for their lifetime;
 * the first rendering registers an exit handler that releases them, so a
 * leak checker (ASan builds) sees a clean exit in every program that makes
 * images. FcFini is looked up at run time: fontconfig is loaded as cairo's
 * dependency but is not on our link line. */
#include "flowgate/imagegen.h"
#include "flowgate/image.h"

#include <cairo.h>
#include <dlfcn.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>


#define BENIGN_TEXT  "EL GATO NEGRO COME PESCADO EN LA CASA"
#define ILLEGAL_TEXT "VENDO ARMAS Y DROGAS EN LA CALLE"

const char *fg_variant_banner(fg_variant v)
{
    return v == FG_VARIANT_ILLEGAL_TEXT ? ILLEGAL_TEXT : BENIGN_TEXT;
}

/* ---- the noise field ---- */

#define NOISE_MASK 0x0f   /* 4 bits per channel */
#define TARGET_TOLERANCE 0.01
#define ACCEPT_TOLERANCE 0.03
#define ZLIB_LEVEL 1

static uint32_t xorshift32(uint32_t *state)
{
    uint32_t x = *state;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return *state = x;
}

/* Spreads nearby seeds apart (splitmix32 finaliser); never returns 0,
 * the one state xorshift cannot leave. */
static uint32_t seed_state(uint32_t seed)
{
    uint32_t z = seed + 0x9e3779b9u;
    z = (z ^ (z >> 16)) * 0x85ebca6bu;
    z = (z ^ (z >> 13)) * 0xc2b2ae35u;
    z ^= z >> 16;
    return z ? z : 1;
}

/* Base colours of the field: light grey (neither detector's rule matches:
 * R, G and B stay within 15 of each other), skin (224,172,140) and blood
 * (170,20,25); the noise adds 0..15 to each channel. */
static void field_colour(fg_variant v, unsigned char base[3])
{
    static const unsigned char colours[][3] = {
        {200, 200, 200}, {224, 172, 140}, {170, 20, 25},
    };
    int k = v == FG_VARIANT_ADULT ? 1 : v == FG_VARIANT_VIOLENCE ? 2 : 0;
    memcpy(base, colours[k], 3);
}

static void fill_field(fg_image *img, int from_row, fg_variant v, uint32_t seed)
{
    unsigned char base[3];
    field_colour(v, base);
    uint32_t state = seed_state(seed);
    unsigned char *p = img->rgb + (size_t)from_row * img->w * 3;
    size_t n = (size_t)(img->h - from_row) * img->w;
    for (size_t i = 0; i < n; i++, p += 3) {
        uint32_t r = xorshift32(&state);
        p[0] = (unsigned char)(base[0] + (r & NOISE_MASK));
        p[1] = (unsigned char)(base[1] + ((r >> 8) & NOISE_MASK));
        p[2] = (unsigned char)(base[2] + ((r >> 16) & NOISE_MASK));
    }
}

/* ---- the banner ---- */

static void release_font_caches(void)
{
    cairo_debug_reset_static_data();
    void (*fc_fini)(void) = (void (*)(void))dlsym(RTLD_DEFAULT, "FcFini");
    if (fc_fini) fc_fini();
}

static void register_release(void)
{
    atexit(release_font_caches);
}

typedef struct banner {
    int w, h;
    unsigned char *rgb;   /* w*h*3 */
} banner;

static void set_font(cairo_t *cr, double size)
{
    cairo_select_font_face(cr, "DejaVu Sans", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_BOLD);
    cairo_set_font_size(cr, size);
    cairo_font_options_t *opt = cairo_font_options_create();
    cairo_font_options_set_antialias(opt, CAIRO_ANTIALIAS_GRAY);
    cairo_font_options_set_hint_style(opt, CAIRO_HINT_STYLE_NONE);
    cairo_set_font_options(cr, opt);
    cairo_font_options_destroy(opt);
}

static double text_width(cairo_t *cr, const char *text)
{
    cairo_text_extents_t ext;
    cairo_text_extents(cr, text, &ext);
    return ext.width;
}

/* Draws text (one line, or two split at the space nearest its middle)
 * centred on a white strip of width w. */
static int render_banner(const char *text, int w, banner *out, fg_err *err)
{
    out->rgb = NULL;
    char lines[2][128];
    int nlines = 1;
    snprintf(lines[0], sizeof lines[0], "%s", text);

    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, register_release);

    /* Measure on a scratch surface: cap height per unit of font size. */
    cairo_surface_t *scratch = cairo_image_surface_create(CAIRO_FORMAT_RGB24, 1, 1);
    cairo_t *cr = cairo_create(scratch);
    set_font(cr, 100.0);
    cairo_text_extents_t cap;
    cairo_text_extents(cr, "H", &cap);
    double cap_per_size = cap.height / 100.0;
    double cap_h = w / 30.0 > 28.0 ? w / 30.0 : 28.0;
    double margin = cap_h;
    double size = cap_h / cap_per_size;
    set_font(cr, size);
    if (text_width(cr, text) > w - 2 * margin) {
        size_t len = strlen(text), split = 0;
        for (size_t i = 0; i < len; i++)
            if (text[i] == ' ' && (!split || labs((long)(2 * i) - (long)len) < labs((long)(2 * split) - (long)len)))
                split = i;
        if (split && split < sizeof lines[0] && len - split < sizeof lines[1]) {
            nlines = 2;
            snprintf(lines[0], sizeof lines[0], "%.*s", (int)split, text);
            snprintf(lines[1], sizeof lines[1], "%s", text + split + 1);
        }
    }
    /* Only a very narrow image needs a smaller font than planned. */
    double widest = 0;
    for (int i = 0; i < nlines; i++) {
        double lw = text_width(cr, lines[i]);
        if (lw > widest) widest = lw;
    }
    if (widest > w - 2 * margin) {
        double shrink = (w - 2 * margin) / widest;
        size *= shrink;
        cap_h *= shrink;
    }
    cairo_destroy(cr);
    cairo_surface_destroy(scratch);

    /* The texts are capitals without descenders: a pitch of 1.6 cap heights
     * leaves 0.6 between lines, as much as the margins above and below. */
    double pad = cap_h * 0.7, pitch = cap_h * 1.6;
    int h = (int)ceil(pad + cap_h + (nlines - 1) * pitch + pad);
    cairo_surface_t *surface = cairo_image_surface_create(CAIRO_FORMAT_RGB24, w, h);
    if (cairo_surface_status(surface) != CAIRO_STATUS_SUCCESS) {
        cairo_surface_destroy(surface);
        return fg_err_set(err, "imagegen: cairo cannot make a %dx%d surface", w, h);
    }
    cr = cairo_create(surface);
    cairo_set_source_rgb(cr, 1, 1, 1);
    cairo_paint(cr);
    cairo_set_source_rgb(cr, 0, 0, 0);
    set_font(cr, size);
    for (int i = 0; i < nlines; i++) {
        cairo_text_extents_t ext;
        cairo_text_extents(cr, lines[i], &ext);
        cairo_move_to(cr, (w - ext.width) / 2 - ext.x_bearing, pad + cap_h + i * pitch);
        cairo_show_text(cr, lines[i]);
    }
    cairo_status_t status = cairo_status(cr);
    cairo_destroy(cr);
    cairo_surface_flush(surface);
    if (status != CAIRO_STATUS_SUCCESS) {
        cairo_surface_destroy(surface);
        return fg_err_set(err, "imagegen: cairo: %s", cairo_status_to_string(status));
    }

    out->w = w;
    out->h = h;
    out->rgb = malloc((size_t)w * h * 3);
    if (!out->rgb) {
        cairo_surface_destroy(surface);
        return fg_err_set(err, "imagegen: out of memory for the banner");
    }
    const unsigned char *data = cairo_image_surface_get_data(surface);
    int stride = cairo_image_surface_get_stride(surface);
    for (int y = 0; y < h; y++) {
        const uint32_t *src = (const uint32_t *)(data + (size_t)y * stride);
        unsigned char *dst = out->rgb + (size_t)y * w * 3;
        for (int x = 0; x < w; x++) {   /* RGB24 is 0x00RRGGBB in native order */
            dst[x * 3] = (unsigned char)(src[x] >> 16);
            dst[x * 3 + 1] = (unsigned char)(src[x] >> 8);
            dst[x * 3 + 2] = (unsigned char)src[x];
        }
    }
    cairo_surface_destroy(surface);
    return 0;
}

/* ---- size search ---- */

static int width_for(double target_mb)
{
    double w = 800.0 * pow(target_mb / 0.1, 0.2);
    if (w < 640) w = 640;
    if (w > 4000) w = 4000;
    return (int)lround(w);
}

static int encode_rows(const banner *b, int field_rows, fg_variant v, uint32_t seed,
                       fg_buf *png, fg_err *err)
{
    fg_image img;
    if (fg_image_alloc(&img, b->w, b->h + field_rows))
        return fg_err_set(err, "imagegen: out of memory for %dx%d", b->w, b->h + field_rows);
    memcpy(img.rgb, b->rgb, (size_t)b->w * b->h * 3);
    fill_field(&img, b->h, v, seed);
    int rc = fg_png_encode(&img, ZLIB_LEVEL, png, err);
    fg_image_free(&img);
    return rc;
}

int fg_imagegen_png(double target_mb, fg_variant v, uint32_t seed, fg_buf *png, fg_err *err)
{
    png->data = NULL;
    png->len = 0;
    if ((unsigned)v >= FG_VARIANT_COUNT) return fg_err_set(err, "imagegen: unknown variant %d", (int)v);
    if (!(target_mb >= 0.05 && target_mb <= 64))
        return fg_err_set(err, "imagegen: size %g MB is outside 0.05..64", target_mb);
    const double target = target_mb * FG_MB;

    banner b = {0};
    if (render_banner(fg_variant_banner(v), width_for(target_mb), &b, err)) return -1;

    /* Start from 1.95 bytes per field pixel, then correct from measurements:
     * size is close to linear in the row count. */
    double rows = target / (1.95 * b.w), prev_rows = 0, prev_size = 0;
    fg_buf best = {0};
    int rc = -1;
    for (int attempt = 0; attempt < 8; attempt++) {
        int field_rows = (int)lround(rows);
        if (field_rows < 1) field_rows = 1;
        fg_buf cur;
        if (encode_rows(&b, field_rows, v, seed, &cur, err)) break;
        double size = (double)cur.len;
        if (!best.data || fabs(size - target) < fabs((double)best.len - target)) {
            fg_buf_free(&best);
            best = cur;
        } else {
            fg_buf_free(&cur);
        }
        if (fabs(size - target) <= TARGET_TOLERANCE * target) break;
        double slope = attempt > 0 && field_rows != (int)lround(prev_rows)
                           ? (size - prev_size) / (field_rows - prev_rows)
                           : size / field_rows;
        if (slope <= 0) slope = size / field_rows;
        prev_rows = field_rows;
        prev_size = size;
        rows = field_rows + (target - size) / slope;
    }
    free(b.rgb);
    if (best.data && fabs((double)best.len - target) <= ACCEPT_TOLERANCE * target) {
        *png = best;
        rc = 0;
    } else if (best.data) {
        fg_err_set(err, "imagegen: best PNG for %g MB is %zu bytes, outside +-3%%", target_mb, best.len);
        fg_buf_free(&best);
    }
    return rc;
}

/* "0.1", "1.0", "10.0", "0.25": one decimal unless the value needs more. */
static void format_mb(double mb, char *out, size_t size)
{
    for (int decimals = 1; decimals <= 6; decimals++) {
        snprintf(out, size, "%.*f", decimals, mb);
        if (fabs(strtod(out, NULL) - mb) < 1e-9) return;
    }
    snprintf(out, size, "%g", mb);
}

void fg_imagegen_path(const char *dir, double target_mb, fg_variant v, char *path, size_t path_size)
{
    char mb[64];
    format_mb(target_mb, mb, sizeof mb);
    snprintf(path, path_size, "%s/recognizer_%s_%smb.png", dir, fg_variant_name(v), mb);
}

int fg_imagegen_ensure(const char *dir, double target_mb, fg_variant v,
                       char *path, size_t path_size, int *created, fg_err *err)
{
    *created = 0;
    fg_imagegen_path(dir, target_mb, v, path, path_size);
    if (strlen(path) + 1 >= path_size)
        return fg_err_set(err, "imagegen: path under %s does not fit in %zu bytes", dir, path_size);
    double target = target_mb * FG_MB;
    struct stat st;
    if (stat(path, &st) == 0 && S_ISREG(st.st_mode) &&
        fabs((double)st.st_size - target) <= ACCEPT_TOLERANCE * target)
        return 0;
    if (fg_mkdirs(dir, err)) return -1;
    fg_buf png;
    if (fg_imagegen_png(target_mb, v, 1, &png, err)) return -1;
    int rc = fg_write_file_atomic(path, png.data, png.len, err);
    fg_buf_free(&png);
    if (rc == 0) *created = 1;
    return rc;
}
