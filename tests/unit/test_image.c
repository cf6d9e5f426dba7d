/* test_image.c — PNG and JPEG codecs: exact round trips, every way a PNG
 * can be refused (not a PNG, cut short anywhere, corrupt, over the pixel
 * limit via a hand-made decompression bomb), and JPEG framing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "../png_bomb.h"
#include <turbojpeg.h>

#include "flowgate/image.h"

/* A w×h image of seeded noise: incompressible enough for several IDAT chunks. */
static void noise_image(fg_image *img, int w, int h, uint32_t seed)
{
    assert_int_equal(fg_image_alloc(img, w, h), 0);
    uint32_t x = seed | 1;
    for (size_t i = 0; i < (size_t)w * h * 3; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        img->rgb[i] = (unsigned char)x;
    }
}

static void assert_prefix(const char *msg, const char *prefix)
{
    if (strncmp(msg, prefix, strlen(prefix)))
        fail_msg("message \"%s\" does not start with \"%s\"", msg, prefix);
}

static void test_alloc_rejects_bad_sizes(void **state)
{
    (void)state;
    fg_image img;
    assert_int_equal(fg_image_alloc(&img, 0, 5), -1);
    assert_null(img.rgb);
    assert_int_equal(fg_image_alloc(&img, 5, -1), -1);
    assert_int_equal(fg_image_alloc(&img, 3, 2), 0);
    assert_int_equal(img.w, 3);
    assert_int_equal(img.h, 2);
    fg_image_free(&img);
    assert_null(img.rgb);
    fg_image_free(&img);   /* twice is harmless */
}

static void test_png_round_trip(void **state)
{
    (void)state;
    fg_image img;
    noise_image(&img, 37, 23, 42);
    for (int level = 0; level <= 9; level += 3) {
        fg_buf png;
        fg_err err = {{0}};
        assert_int_equal(fg_png_encode(&img, level, &png, &err), 0);
        int w = 0, h = 0;
        assert_int_equal(fg_png_probe(png.data, png.len, &w, &h, &err), 0);
        assert_int_equal(w, 37);
        assert_int_equal(h, 23);
        fg_image back;
        assert_int_equal(fg_png_decode(png.data, png.len, FG_DEFAULT_MAX_PIXELS, &back, &err), 0);
        assert_int_equal(back.w, 37);
        assert_int_equal(back.h, 23);
        assert_memory_equal(back.rgb, img.rgb, (size_t)37 * 23 * 3);
        fg_image_free(&back);
        fg_buf_free(&png);
    }
    fg_buf png;
    fg_err err = {{0}};
    assert_int_equal(fg_png_encode(&img, 10, &png, &err), -1);
    assert_non_null(strstr(err.msg, "level 10"));
    fg_image_free(&img);
}

static void test_level_changes_size(void **state)
{
    (void)state;
    /* A smooth gradient: level 9 must beat level 0 (stored) by far. */
    fg_image img;
    assert_int_equal(fg_image_alloc(&img, 128, 128), 0);
    for (int y = 0; y < 128; y++)
        for (int x = 0; x < 128; x++) {
            unsigned char *p = img.rgb + ((size_t)y * 128 + x) * 3;
            p[0] = (unsigned char)x;
            p[1] = (unsigned char)y;
            p[2] = 77;
        }
    fg_buf stored, best;
    assert_int_equal(fg_png_encode(&img, 0, &stored, NULL), 0);
    assert_int_equal(fg_png_encode(&img, 9, &best, NULL), 0);
    assert_true(stored.len > (size_t)128 * 128 * 3);
    assert_true(best.len * 10 < stored.len);
    fg_buf_free(&stored);
    fg_buf_free(&best);
    fg_image_free(&img);
}

static void test_not_a_png(void **state)
{
    (void)state;
    static const unsigned char jpeg[] = {0xFF, 0xD8, 0xFF, 0xE0, 0, 16, 'J', 'F', 'I', 'F', 0};
    const char *text = "hello, this is plain text and not an image";
    fg_image img;
    fg_err err = {{0}};
    assert_int_equal(fg_png_decode(text, strlen(text), FG_DEFAULT_MAX_PIXELS, &img, &err), -1);
    assert_prefix(err.msg, "not a PNG");
    assert_null(img.rgb);
    assert_int_equal(fg_png_decode(jpeg, sizeof jpeg, FG_DEFAULT_MAX_PIXELS, &img, &err), -1);
    assert_prefix(err.msg, "not a PNG");
    assert_int_equal(fg_png_decode("", 0, FG_DEFAULT_MAX_PIXELS, &img, &err), -1);
    assert_prefix(err.msg, "not a PNG");
    int w, h;
    assert_int_equal(fg_png_probe(text, strlen(text), &w, &h, &err), -1);
    assert_prefix(err.msg, "not a PNG");
}

static void test_truncated_png(void **state)
{
    (void)state;
    fg_image img;
    noise_image(&img, 200, 150, 7);   /* ~90 KB: IDAT spans several chunks */
    fg_buf png;
    assert_int_equal(fg_png_encode(&img, 6, &png, NULL), 0);
    fg_image_free(&img);
    const size_t cuts[] = {1, 5, 8, 12, 20, 33, 40, 41, 100, 8192, png.len / 2,
                           png.len - 13, png.len - 12, png.len - 4, png.len - 1};
    for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
        /* A copy of exactly the cut length, so ASan sees any over-read. */
        unsigned char *cut = malloc(cuts[i]);
        assert_non_null(cut);
        memcpy(cut, png.data, cuts[i]);
        fg_image out;
        fg_err err = {{0}};
        assert_int_equal(fg_png_decode(cut, cuts[i], FG_DEFAULT_MAX_PIXELS, &out, &err), -1);
        assert_prefix(err.msg, "truncated PNG");
        assert_null(out.rgb);
        free(cut);
    }
    fg_buf_free(&png);
}

static void test_corrupt_png(void **state)
{
    (void)state;
    fg_image img;
    noise_image(&img, 64, 64, 3);
    fg_buf png;
    assert_int_equal(fg_png_encode(&img, 6, &png, NULL), 0);
    png.data[png.len / 2] ^= 0x55;   /* inside IDAT: its CRC no longer matches */
    fg_image out;
    fg_err err = {{0}};
    assert_int_equal(fg_png_decode(png.data, png.len, FG_DEFAULT_MAX_PIXELS, &out, &err), -1);
    assert_prefix(err.msg, "corrupt PNG");
    assert_null(out.rgb);
    fg_buf_free(&png);
    fg_image_free(&img);
}

static void test_decompression_bomb(void **state)
{
    (void)state;
    unsigned char png[PNG_BOMB_MAX_BYTES];
    size_t len = png_bomb(png, 100000, 100000);
    assert_true(len < 160);
    int w = 0, h = 0;
    fg_err err = {{0}};
    assert_int_equal(fg_png_probe(png, len, &w, &h, &err), 0);
    assert_int_equal(w, 100000);
    assert_int_equal(h, 100000);
    /* 10^10 pixels would be 30 GB: a decoder that allocated first would
     * fail with "out of memory", not with the limit. */
    fg_image img;
    assert_int_equal(fg_png_decode(png, len, FG_DEFAULT_MAX_PIXELS, &img, &err), -1);
    assert_string_equal(err.msg, "PNG is 100000x100000 = 10000000000 pixels, over the limit of 40000000");
    assert_null(img.rgb);
}

static void test_pixel_limit_is_inclusive(void **state)
{
    (void)state;
    fg_image img, out;
    noise_image(&img, 64, 64, 9);
    fg_buf png;
    assert_int_equal(fg_png_encode(&img, 1, &png, NULL), 0);
    fg_err err = {{0}};
    assert_int_equal(fg_png_decode(png.data, png.len, 4095, &out, &err), -1);
    assert_string_equal(err.msg, "PNG is 64x64 = 4096 pixels, over the limit of 4095");
    assert_int_equal(fg_png_decode(png.data, png.len, 4096, &out, &err), 0);
    assert_memory_equal(out.rgb, img.rgb, (size_t)64 * 64 * 3);
    fg_image_free(&out);
    fg_buf_free(&png);
    fg_image_free(&img);
}

static void test_jpeg_encode(void **state)
{
    (void)state;
    fg_image img;
    noise_image(&img, 65, 47, 5);   /* odd sizes: partial 4:2:0 MCUs */
    fg_buf jpeg;
    fg_err err = {{0}};
    assert_int_equal(fg_jpeg_encode(&img, 85, &jpeg, &err), 0);
    assert_true(jpeg.len > 4);
    assert_int_equal(jpeg.data[0], 0xFF);
    assert_int_equal(jpeg.data[1], 0xD8);
    assert_int_equal(jpeg.data[jpeg.len - 2], 0xFF);
    assert_int_equal(jpeg.data[jpeg.len - 1], 0xD9);
    tjhandle tj = tjInitDecompress();
    int w = 0, h = 0, subsamp = -1, colorspace = -1;
    assert_int_equal(tjDecompressHeader3(tj, jpeg.data, jpeg.len, &w, &h, &subsamp, &colorspace), 0);
    tjDestroy(tj);
    assert_int_equal(w, 65);
    assert_int_equal(h, 47);
    assert_int_equal(subsamp, TJSAMP_420);
    fg_buf_free(&jpeg);
    assert_int_equal(fg_jpeg_encode(&img, 0, &jpeg, &err), -1);
    assert_non_null(strstr(err.msg, "quality 0"));
    assert_null(jpeg.data);
    fg_image_free(&img);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_alloc_rejects_bad_sizes),
        cmocka_unit_test(test_png_round_trip),
        cmocka_unit_test(test_level_changes_size),
        cmocka_unit_test(test_not_a_png),
        cmocka_unit_test(test_truncated_png),
        cmocka_unit_test(test_corrupt_png),
        cmocka_unit_test(test_decompression_bomb),
        cmocka_unit_test(test_pixel_limit_is_inclusive),
        cmocka_unit_test(test_jpeg_encode),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
