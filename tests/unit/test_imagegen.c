/* test_imagegen.c — generated images: same seed same bytes, PNG size within
 * ±3 % of the target, the layout (white banner with dark text over the
 * noise field), names and paths, and ensure's create-or-keep rule. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "flowgate/image.h"
#include "flowgate/imagegen.h"

static void assert_size_in_band(size_t bytes, double target_mb)
{
    double target = target_mb * FG_MB;
    if (bytes < target * 0.97 || bytes > target * 1.03)
        fail_msg("%zu bytes for %.2f MB (%.0f bytes): outside +-3%%", bytes, target_mb, target);
}

static void test_same_seed_same_bytes(void **state)
{
    (void)state;
    fg_buf a, b, c;
    fg_err err = {{0}};
    assert_int_equal(fg_imagegen_png(0.1, FG_VARIANT_CLEAN, 7, &a, &err), 0);
    assert_int_equal(fg_imagegen_png(0.1, FG_VARIANT_CLEAN, 7, &b, &err), 0);
    assert_int_equal(fg_imagegen_png(0.1, FG_VARIANT_CLEAN, 8, &c, &err), 0);
    assert_int_equal(a.len, b.len);
    assert_memory_equal(a.data, b.data, a.len);
    assert_true(a.len != c.len || memcmp(a.data, c.data, a.len) != 0);
    fg_buf_free(&a);
    fg_buf_free(&b);
    fg_buf_free(&c);
}

static void test_sizes_within_three_percent(void **state)
{
    (void)state;
    static const struct { double mb; fg_variant v; } cases[] = {
        {0.1, FG_VARIANT_CLEAN}, {0.1, FG_VARIANT_ILLEGAL_TEXT}, {0.25, FG_VARIANT_ADULT},
        {1.0, FG_VARIANT_CLEAN}, {1.0, FG_VARIANT_VIOLENCE}, {2.0, FG_VARIANT_CLEAN},
        {5.0, FG_VARIANT_CLEAN}, {10.0, FG_VARIANT_ADULT},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        fg_buf png;
        fg_err err = {{0}};
        if (fg_imagegen_png(cases[i].mb, cases[i].v, 1, &png, &err))
            fail_msg("%.2f MB %s: %s", cases[i].mb, fg_variant_name(cases[i].v), err.msg);
        assert_size_in_band(png.len, cases[i].mb);
        fg_buf_free(&png);
    }
}

static void test_layout(void **state)
{
    (void)state;
    fg_buf png;
    fg_err err = {{0}};
    assert_int_equal(fg_imagegen_png(0.1, FG_VARIANT_CLEAN, 1, &png, &err), 0);
    fg_image img;
    assert_int_equal(fg_png_decode(png.data, png.len, FG_DEFAULT_MAX_PIXELS, &img, &err), 0);
    fg_buf_free(&png);
    assert_int_equal(img.w, 800);
    /* Top rows: white with black text somewhere; last row: the light field. */
    const unsigned char *corner = img.rgb;
    assert_int_equal(corner[0] & corner[1] & corner[2], 255);
    size_t dark = 0, banner_px = (size_t)img.w * (img.h / 3);
    for (size_t i = 0; i < banner_px; i++)
        if (img.rgb[i * 3] < 64 && img.rgb[i * 3 + 1] < 64 && img.rgb[i * 3 + 2] < 64) dark++;
    assert_true(dark > banner_px / 50);
    const unsigned char *last = img.rgb + (size_t)(img.h - 1) * img.w * 3;
    for (int x = 0; x < img.w * 3; x++) {
        assert_true(last[x] >= 200);
        assert_true(last[x] <= 215);
    }
    fg_image_free(&img);
}

static void test_names_and_banners(void **state)
{
    (void)state;
    static const char *names[] = {"clean", "adult", "violence", "illegal_text"};
    for (int v = 0; v < FG_VARIANT_COUNT; v++) {
        assert_string_equal(fg_variant_name((fg_variant)v), names[v]);
        fg_variant parsed;
        assert_int_equal(fg_variant_parse(names[v], &parsed), 0);
        assert_int_equal(parsed, v);
    }
    fg_variant parsed;
    assert_int_equal(fg_variant_parse("Clean", &parsed), -1);
    assert_int_equal(fg_variant_parse("", &parsed), -1);
    assert_string_equal(fg_variant_banner(FG_VARIANT_CLEAN), "EL GATO NEGRO COME PESCADO EN LA CASA");
    assert_string_equal(fg_variant_banner(FG_VARIANT_ADULT), "EL GATO NEGRO COME PESCADO EN LA CASA");
    assert_string_equal(fg_variant_banner(FG_VARIANT_VIOLENCE), "EL GATO NEGRO COME PESCADO EN LA CASA");
    assert_string_equal(fg_variant_banner(FG_VARIANT_ILLEGAL_TEXT), "VENDO ARMAS Y DROGAS EN LA CALLE");
}

static void test_path_format(void **state)
{
    (void)state;
    char path[256];
    fg_imagegen_path("data/images", 0.1, FG_VARIANT_CLEAN, path, sizeof path);
    assert_string_equal(path, "data/images/recognizer_clean_0.1mb.png");
    fg_imagegen_path("d", 1, FG_VARIANT_ADULT, path, sizeof path);
    assert_string_equal(path, "d/recognizer_adult_1.0mb.png");
    fg_imagegen_path("d", 10, FG_VARIANT_VIOLENCE, path, sizeof path);
    assert_string_equal(path, "d/recognizer_violence_10.0mb.png");
    fg_imagegen_path("d", 2, FG_VARIANT_ILLEGAL_TEXT, path, sizeof path);
    assert_string_equal(path, "d/recognizer_illegal_text_2.0mb.png");
    fg_imagegen_path("d", 0.25, FG_VARIANT_CLEAN, path, sizeof path);
    assert_string_equal(path, "d/recognizer_clean_0.25mb.png");
    fg_imagegen_path("d", 0.5, FG_VARIANT_CLEAN, path, sizeof path);
    assert_string_equal(path, "d/recognizer_clean_0.5mb.png");
}

static void test_bad_arguments(void **state)
{
    (void)state;
    fg_buf png;
    fg_err err = {{0}};
    assert_int_equal(fg_imagegen_png(0, FG_VARIANT_CLEAN, 1, &png, &err), -1);
    assert_non_null(strstr(err.msg, "size"));
    assert_null(png.data);
    assert_int_equal(fg_imagegen_png(1, FG_VARIANT_COUNT, 1, &png, &err), -1);
    assert_non_null(strstr(err.msg, "variant"));
}

static void test_ensure_creates_then_keeps(void **state)
{
    (void)state;
    char tmpl[] = "imagegen-test-XXXXXX";
    assert_non_null(mkdtemp(tmpl));
    char dir[128];
    snprintf(dir, sizeof dir, "%s/nested/images", tmpl);
    char path[512];
    int created = -1;
    fg_err err = {{0}};
    assert_int_equal(fg_imagegen_ensure(dir, 0.1, FG_VARIANT_ILLEGAL_TEXT, path, sizeof path, &created, &err), 0);
    assert_int_equal(created, 1);
    char expect[512];
    fg_imagegen_path(dir, 0.1, FG_VARIANT_ILLEGAL_TEXT, expect, sizeof expect);
    assert_string_equal(path, expect);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_size_in_band((size_t)st.st_size, 0.1);
    time_t first_mtime = st.st_mtime;

    assert_int_equal(fg_imagegen_ensure(dir, 0.1, FG_VARIANT_ILLEGAL_TEXT, path, sizeof path, &created, &err), 0);
    assert_int_equal(created, 0);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mtime, first_mtime);

    /* A file of the wrong size is replaced. */
    assert_int_equal(fg_write_file_atomic(path, "short", 5, &err), 0);
    assert_int_equal(fg_imagegen_ensure(dir, 0.1, FG_VARIANT_ILLEGAL_TEXT, path, sizeof path, &created, &err), 0);
    assert_int_equal(created, 1);
    assert_int_equal(stat(path, &st), 0);
    assert_size_in_band((size_t)st.st_size, 0.1);

    /* A path buffer too small is an error, not a truncated file name. */
    char tiny[16];
    assert_int_equal(fg_imagegen_ensure(dir, 0.1, FG_VARIANT_CLEAN, tiny, sizeof tiny, &created, &err), -1);
    assert_int_equal(created, 0);

    assert_int_equal(unlink(path), 0);
    assert_int_equal(rmdir(dir), 0);
    snprintf(dir, sizeof dir, "%s/nested", tmpl);
    assert_int_equal(rmdir(dir), 0);
    assert_int_equal(rmdir(tmpl), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_same_seed_same_bytes),
        cmocka_unit_test(test_sizes_within_three_percent),
        cmocka_unit_test(test_layout),
        cmocka_unit_test(test_names_and_banners),
        cmocka_unit_test(test_path_format),
        cmocka_unit_test(test_bad_arguments),
        cmocka_unit_test(test_ensure_creates_then_keeps),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
