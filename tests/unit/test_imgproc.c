/* test_imgproc.c — area-averaging resize against hand-computed values, fit,
 * the colour rules on solid colours and at their edges, the detector
 * thresholds, the detectors on generated images, and the mosaic. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "flowgate/image.h"
#include "flowgate/imagegen.h"
#include "flowgate/imgproc.h"

static void solid(fg_image *img, int w, int h, int r, int g, int b)
{
    assert_int_equal(fg_image_alloc(img, w, h), 0);
    for (size_t i = 0; i < (size_t)w * h; i++) {
        img->rgb[i * 3] = (unsigned char)r;
        img->rgb[i * 3 + 1] = (unsigned char)g;
        img->rgb[i * 3 + 2] = (unsigned char)b;
    }
}

static void set_px(fg_image *img, int x, int y, int r, int g, int b)
{
    unsigned char *p = img->rgb + ((size_t)y * img->w + x) * 3;
    p[0] = (unsigned char)r;
    p[1] = (unsigned char)g;
    p[2] = (unsigned char)b;
}

static const unsigned char *px(const fg_image *img, int x, int y)
{
    return img->rgb + ((size_t)y * img->w + x) * 3;
}

static void test_resize_non_integer_ratio(void **state)
{
    (void)state;
    /* 3x2 -> 2x1. Horizontally output 0 covers source 0 fully and half of
     * source 1 (weights 2:1 on a 6-unit axis), output 1 the other half of 1
     * and all of 2; vertically both rows count equally. */
    fg_image src, dst;
    assert_int_equal(fg_image_alloc(&src, 3, 2), 0);
    set_px(&src, 0, 0, 30, 0, 255);
    set_px(&src, 1, 0, 60, 0, 255);
    set_px(&src, 2, 0, 90, 1, 255);
    set_px(&src, 0, 1, 90, 0, 255);
    set_px(&src, 1, 1, 120, 0, 255);
    set_px(&src, 2, 1, 150, 2, 255);
    assert_int_equal(fg_image_resize(&src, 2, 1, &dst), 0);
    assert_int_equal(dst.w, 2);
    assert_int_equal(dst.h, 1);
    /* R0 = (2*30 + 60 + 2*90 + 120) / 6 = 70; R1 = (60 + 2*90 + 120 + 2*150) / 6 = 110.
     * G1 = (2*1 + 2*2) / 6 = 1; G0 = 0. B stays 255. */
    static const unsigned char expect[] = {70, 0, 255, 110, 1, 255};
    assert_memory_equal(dst.rgb, expect, sizeof expect);
    fg_image_free(&dst);
    fg_image_free(&src);
}

static void test_resize_rounds_to_nearest(void **state)
{
    (void)state;
    /* 3x1 -> 1x1: (0 + 0 + 2) / 3 = 0.67 rounds to 1; (1 + 0 + 0) / 3 to 0. */
    fg_image src, dst;
    assert_int_equal(fg_image_alloc(&src, 3, 1), 0);
    set_px(&src, 0, 0, 0, 1, 200);
    set_px(&src, 1, 0, 0, 0, 201);
    set_px(&src, 2, 0, 2, 0, 202);
    assert_int_equal(fg_image_resize(&src, 1, 1, &dst), 0);
    static const unsigned char expect[] = {1, 0, 201};
    assert_memory_equal(dst.rgb, expect, 3);
    fg_image_free(&dst);
    fg_image_free(&src);
}

static void test_resize_integer_ratio_is_block_mean(void **state)
{
    (void)state;
    fg_image src, dst;
    assert_int_equal(fg_image_alloc(&src, 6, 4), 0);
    for (int y = 0; y < 4; y++)
        for (int x = 0; x < 6; x++) set_px(&src, x, y, x * 40, y * 80, (x * 7 + y * 13) % 256);
    assert_int_equal(fg_image_resize(&src, 3, 2, &dst), 0);
    for (int y = 0; y < 2; y++)
        for (int x = 0; x < 3; x++)
            for (int c = 0; c < 3; c++) {
                int sum = px(&src, 2 * x, 2 * y)[c] + px(&src, 2 * x + 1, 2 * y)[c] +
                          px(&src, 2 * x, 2 * y + 1)[c] + px(&src, 2 * x + 1, 2 * y + 1)[c];
                assert_int_equal(px(&dst, x, y)[c], (sum + 2) / 4);
            }
    fg_image_free(&dst);
    fg_image_free(&src);
}

static void test_resize_keeps_constant_colour(void **state)
{
    (void)state;
    /* Any ratio, up or down, must keep a flat colour exactly. */
    static const int sizes[][2] = {{333, 5}, {1, 1}, {1001, 9}, {7, 700}};
    fg_image src;
    solid(&src, 1000, 7, 13, 200, 255);
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        fg_image dst;
        assert_int_equal(fg_image_resize(&src, sizes[i][0], sizes[i][1], &dst), 0);
        for (size_t k = 0; k < (size_t)dst.w * dst.h; k++) {
            assert_int_equal(dst.rgb[k * 3], 13);
            assert_int_equal(dst.rgb[k * 3 + 1], 200);
            assert_int_equal(dst.rgb[k * 3 + 2], 255);
        }
        fg_image_free(&dst);
    }
    fg_image dst;
    assert_int_equal(fg_image_resize(&src, 0, 5, &dst), -1);
    assert_null(dst.rgb);
    fg_image_free(&src);
}

static void test_fit_keeps_aspect(void **state)
{
    (void)state;
    static const int cases[][6] = {
        /* src w, h, max w, h, expected w, h */
        {400, 200, 100, 100, 100, 50},
        {200, 400, 100, 100, 50, 100},
        {2010, 2951, 1600, 1600, 1090, 1600},
        {1000, 1, 100, 100, 100, 1},
        {300, 100, 200, 50, 150, 50},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        fg_image src, dst;
        solid(&src, cases[i][0], cases[i][1], 1, 2, 3);
        assert_int_equal(fg_image_fit(&src, cases[i][2], cases[i][3], &dst), 0);
        assert_int_equal(dst.w, cases[i][4]);
        assert_int_equal(dst.h, cases[i][5]);
        fg_image_free(&dst);
        fg_image_free(&src);
    }
}

static void test_fit_never_upscales(void **state)
{
    (void)state;
    fg_image src, dst;
    assert_int_equal(fg_image_alloc(&src, 50, 20), 0);
    for (size_t i = 0; i < (size_t)50 * 20 * 3; i++) src.rgb[i] = (unsigned char)(i * 31);
    assert_int_equal(fg_image_fit(&src, 100, 100, &dst), 0);
    assert_int_equal(dst.w, 50);
    assert_int_equal(dst.h, 20);
    assert_ptr_not_equal(dst.rgb, src.rgb);
    assert_memory_equal(dst.rgb, src.rgb, (size_t)50 * 20 * 3);
    fg_image_free(&dst);
    fg_image_free(&src);
}

static double skin_of(int r, int g, int b)
{
    fg_image img;
    solid(&img, 4, 3, r, g, b);
    double ratio = fg_skin_ratio(&img);
    fg_image_free(&img);
    return ratio;
}

static double blood_of(int r, int g, int b)
{
    fg_image img;
    solid(&img, 4, 3, r, g, b);
    double ratio = fg_blood_ratio(&img);
    fg_image_free(&img);
    return ratio;
}

static void test_skin_rule(void **state)
{
    (void)state;
    assert_true(skin_of(224, 172, 140) == 1.0);
    assert_true(skin_of(96, 41, 21) == 1.0);     /* just inside every bound */
    assert_true(skin_of(95, 41, 21) == 0.0);     /* R must exceed 95 */
    assert_true(skin_of(200, 185, 150) == 0.0);  /* |R-G| = 15, not > 15 */
    assert_true(skin_of(200, 200, 200) == 0.0);  /* grey */
    assert_true(skin_of(170, 20, 25) == 0.0);    /* blood: G too low */
    assert_true(skin_of(140, 160, 100) == 0.0);  /* R not the largest */
}

static void test_blood_rule(void **state)
{
    (void)state;
    assert_true(blood_of(170, 20, 25) == 1.0);
    assert_true(blood_of(130, 50, 70) == 1.0);   /* every bound met exactly */
    assert_true(blood_of(129, 20, 20) == 0.0);
    assert_true(blood_of(150, 71, 20) == 0.0);
    assert_true(blood_of(140, 61, 20) == 0.0);   /* R-G = 79 */
    assert_true(blood_of(224, 172, 140) == 0.0);
    assert_true(blood_of(200, 200, 200) == 0.0);
}

static void test_ratio_counts_pixels(void **state)
{
    (void)state;
    fg_image img;
    solid(&img, 10, 10, 200, 200, 200);
    for (int y = 0; y < 10; y++)
        for (int x = 0; x < 3; x++) set_px(&img, x, y, 224, 172, 140);   /* 30 % skin */
    for (int x = 3; x < 8; x++) set_px(&img, x, 0, 170, 20, 25);         /* 5 % blood */
    assert_true(fg_skin_ratio(&img) == 0.30);
    assert_true(fg_blood_ratio(&img) == 0.05);
    fg_image_free(&img);
}

/* A 224x224 image (the detector size, so no blending) with `rows` rows of
 * the given colour over grey. */
static fg_image banded(int rows, int r, int g, int b)
{
    fg_image img;
    solid(&img, 224, 224, 200, 200, 200);
    for (int y = 0; y < rows; y++)
        for (int x = 0; x < 224; x++) set_px(&img, x, y, r, g, b);
    return img;
}

static void test_adult_threshold(void **state)
{
    (void)state;
    /* flagged when ratio / 0.40 > 0.5, i.e. ratio > 0.2 = 44.8 rows of 224 */
    fg_image below = banded(44, 224, 172, 140), above = banded(45, 224, 172, 140);
    fg_detection d = fg_detect_adult(&below);
    assert_false(d.flagged);
    assert_true(d.ratio == 44.0 / 224);
    assert_true(d.confidence == d.ratio / 0.40);
    d = fg_detect_adult(&above);
    assert_true(d.flagged);
    assert_true(d.ratio == 45.0 / 224);
    fg_image full = banded(224, 224, 172, 140);
    d = fg_detect_adult(&full);
    assert_true(d.confidence == 1.0);
    assert_true(d.ratio == 1.0);
    fg_image_free(&below);
    fg_image_free(&above);
    fg_image_free(&full);
}

static void test_violence_threshold(void **state)
{
    (void)state;
    /* flagged when ratio / 0.25 >= 0.95, i.e. ratio >= 0.2375 = 53.2 rows */
    fg_image below = banded(53, 170, 20, 25), above = banded(54, 170, 20, 25);
    fg_detection d = fg_detect_violence(&below);
    assert_false(d.flagged);
    assert_true(d.confidence < 0.95);
    d = fg_detect_violence(&above);
    assert_true(d.flagged);
    assert_true(d.confidence == (54.0 / 224) / 0.25);
    assert_false(fg_detect_adult(&above).flagged);
    fg_image_free(&below);
    fg_image_free(&above);
}

static void test_detectors_downscale_first(void **state)
{
    (void)state;
    /* A 448x448 checkerboard of skin and blue pixels averages to a violet
     * that is not skin: on 224x224 the ratio is 0, not the raw 0.5. */
    fg_image img;
    solid(&img, 448, 448, 0, 0, 255);
    for (int y = 0; y < 448; y++)
        for (int x = y % 2; x < 448; x += 2) set_px(&img, x, y, 224, 172, 140);
    assert_true(fg_skin_ratio(&img) == 0.5);
    fg_detection d = fg_detect_adult(&img);
    assert_true(d.ratio == 0.0);
    assert_false(d.flagged);
    fg_image_free(&img);
}

static void test_detectors_on_generated_images(void **state)
{
    (void)state;
    static const double sizes[] = {0.1, 1.0};
    for (size_t s = 0; s < 2; s++)
        for (int v = 0; v < FG_VARIANT_COUNT; v++) {
            fg_buf png;
            fg_err err = {{0}};
            assert_int_equal(fg_imagegen_png(sizes[s], (fg_variant)v, 1, &png, &err), 0);
            fg_image img;
            assert_int_equal(fg_png_decode(png.data, png.len, FG_DEFAULT_MAX_PIXELS, &img, &err), 0);
            fg_buf_free(&png);
            fg_detection adult = fg_detect_adult(&img), violence = fg_detect_violence(&img);
            fg_image_free(&img);
            if (adult.flagged != (v == FG_VARIANT_ADULT) || violence.flagged != (v == FG_VARIANT_VIOLENCE))
                fail_msg("%s %.1f MB: adult %d (ratio %.3f), violence %d (ratio %.3f)",
                         fg_variant_name((fg_variant)v), sizes[s], adult.flagged, adult.ratio,
                         violence.flagged, violence.ratio);
        }
}

static void test_pixelate_blocks_take_their_mean(void **state)
{
    (void)state;
    enum { W = 10, H = 7, BLOCK = 4 };
    fg_image img, orig;
    assert_int_equal(fg_image_alloc(&img, W, H), 0);
    assert_int_equal(fg_image_alloc(&orig, W, H), 0);
    uint32_t x = 12345;
    for (size_t i = 0; i < (size_t)W * H * 3; i++) {
        x = x * 1103515245u + 12345u;
        img.rgb[i] = (unsigned char)(x >> 16);
    }
    memcpy(orig.rgb, img.rgb, (size_t)W * H * 3);
    fg_pixelate(&img, BLOCK);
    /* Tiles: x in [0,4) [4,8) [8,10), y in [0,4) [4,7): edge tiles are partial. */
    for (int by = 0; by < H; by += BLOCK)
        for (int bx = 0; bx < W; bx += BLOCK) {
            int bw = bx + BLOCK <= W ? BLOCK : W - bx, bh = by + BLOCK <= H ? BLOCK : H - by;
            for (int c = 0; c < 3; c++) {
                int sum = 0;
                for (int y = by; y < by + bh; y++)
                    for (int xx = bx; xx < bx + bw; xx++) sum += px(&orig, xx, y)[c];
                int mean = (sum + bw * bh / 2) / (bw * bh);
                for (int y = by; y < by + bh; y++)
                    for (int xx = bx; xx < bx + bw; xx++) assert_int_equal(px(&img, xx, y)[c], mean);
            }
        }
    /* Block 1 changes nothing. */
    memcpy(img.rgb, orig.rgb, (size_t)W * H * 3);
    fg_pixelate(&img, 1);
    assert_memory_equal(img.rgb, orig.rgb, (size_t)W * H * 3);
    fg_image_free(&img);
    fg_image_free(&orig);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_resize_non_integer_ratio),
        cmocka_unit_test(test_resize_rounds_to_nearest),
        cmocka_unit_test(test_resize_integer_ratio_is_block_mean),
        cmocka_unit_test(test_resize_keeps_constant_colour),
        cmocka_unit_test(test_fit_keeps_aspect),
        cmocka_unit_test(test_fit_never_upscales),
        cmocka_unit_test(test_skin_rule),
        cmocka_unit_test(test_blood_rule),
        cmocka_unit_test(test_ratio_counts_pixels),
        cmocka_unit_test(test_adult_threshold),
        cmocka_unit_test(test_violence_threshold),
        cmocka_unit_test(test_detectors_downscale_first),
        cmocka_unit_test(test_detectors_on_generated_images),
        cmocka_unit_test(test_pixelate_blocks_take_their_mean),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
