/* test_ocr.c — the OCR engine reads back the banners of generated test
 * images (clean and illegal_text, at 0.1 and 1 MB, and one 5 MB image that
 * is downscaled to a longest side of 1600 px first, as extract does), an
 * engine gives the same text when reused, and bad languages and images are
 * refused with a message. One engine serves the whole group, as a worker's
 * would; each read prints how long it took. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flowgate/imagegen.h"
#include "flowgate/ocr.h"

#define EXTRACT_MAX_SIDE 1600
#define MAX_WORDS 64

static fg_ocr *engine;

/* Under AddressSanitizer: fontconfig (loaded by cairo for the banner font)
 * keeps its configuration until exit by design; that is not a flowgate leak. */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
    return "leak:libfontconfig.so\n";
}

static int group_setup(void **state)
{
    (void)state;
    fg_err err = {""};
    double t0 = fg_now_mono_ms();
    engine = fg_ocr_new("eng", &err);
    if (!engine) {
        fprintf(stderr, "fg_ocr_new: %s\n", err.msg);
        return -1;
    }
    printf("[ INFO     ] engine init %.0f ms\n", fg_now_mono_ms() - t0);
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    fg_ocr_free(engine);
    return 0;
}

/* Splits text into upper-cased runs of letters and digits. */
static size_t split_words(const char *text, char words[][32], size_t max)
{
    size_t n = 0;
    for (const char *p = text; *p && n < max;) {
        while (*p && !isalnum((unsigned char)*p)) p++;
        size_t len = 0;
        while (isalnum((unsigned char)*p)) {
            if (len < 31) words[n][len++] = (char)toupper((unsigned char)*p);
            p++;
        }
        if (len) words[n++][len] = 0;
    }
    return n;
}

/* Fraction of the banner's words found in the OCR text, each OCR word
 * standing for at most one banner word. */
static double words_read(const char *banner, const char *ocr_text)
{
    char want[MAX_WORDS][32], got[MAX_WORDS][32];
    size_t nw = split_words(banner, want, MAX_WORDS);
    size_t ng = split_words(ocr_text, got, MAX_WORDS);
    size_t hits = 0;
    for (size_t i = 0; i < nw; i++)
        for (size_t j = 0; j < ng; j++)
            if (got[j][0] && !strcmp(want[i], got[j])) {
                got[j][0] = 0;
                hits++;
                break;
            }
    return nw ? (double)hits / (double)nw : 0.0;
}

static void generate(double mb, fg_variant v, fg_image *img)
{
    fg_buf png;
    fg_err err = {""};
    if (fg_imagegen_png(mb, v, 1, &png, &err) != 0) fail_msg("imagegen: %s", err.msg);
    int rc = fg_png_decode(png.data, png.len, FG_DEFAULT_MAX_PIXELS, img, &err);
    fg_buf_free(&png);
    if (rc != 0) fail_msg("decode: %s", err.msg);
}

static char *read_timed(const fg_image *img, int max_side, const char *label)
{
    char *text = NULL;
    fg_err err = {""};
    double t0 = fg_now_mono_ms();
    if (fg_ocr_read(engine, img, max_side, &text, &err) != 0) fail_msg("ocr: %s", err.msg);
    double ms = fg_now_mono_ms() - t0;
    char shown[256];
    snprintf(shown, sizeof shown, "%s", text);
    for (char *p = shown; *p; p++)
        if (*p == '\n') *p = '|';
    printf("[ INFO     ] %s (%dx%d, max_side %d): %.0f ms: \"%s\"\n", label, img->w,
           img->h, max_side, ms, shown);
    return text;
}

static void expect_banner(double mb, fg_variant v, int max_side)
{
    fg_image img;
    generate(mb, v, &img);
    char label[64];
    snprintf(label, sizeof label, "%s %.1f MB", fg_variant_name(v), mb);
    char *text = read_timed(&img, max_side, label);
    double ratio = words_read(fg_variant_banner(v), text);
    if (ratio < 0.9)
        fail_msg("%s: read %.0f%% of \"%s\" in \"%s\"", label, ratio * 100,
                 fg_variant_banner(v), text);
    /* The other banner is not there: the read-back is of this image. */
    fg_variant other = v == FG_VARIANT_CLEAN ? FG_VARIANT_ILLEGAL_TEXT : FG_VARIANT_CLEAN;
    assert_true(words_read(fg_variant_banner(other), text) < 0.5);
    free(text);
    fg_image_free(&img);
}

static void test_clean_small(void **state)
{
    (void)state;
    expect_banner(0.1, FG_VARIANT_CLEAN, EXTRACT_MAX_SIDE);
}

static void test_illegal_small(void **state)
{
    (void)state;
    expect_banner(0.1, FG_VARIANT_ILLEGAL_TEXT, EXTRACT_MAX_SIDE);
}

static void test_clean_1mb(void **state)
{
    (void)state;
    expect_banner(1.0, FG_VARIANT_CLEAN, EXTRACT_MAX_SIDE);
}

static void test_illegal_1mb(void **state)
{
    (void)state;
    expect_banner(1.0, FG_VARIANT_ILLEGAL_TEXT, EXTRACT_MAX_SIDE);
}

/* Over 1600 px on its longest side, so the downscale path runs. */
static void test_illegal_5mb_downscaled(void **state)
{
    (void)state;
    fg_image img;
    generate(5.0, FG_VARIANT_ILLEGAL_TEXT, &img);
    assert_true(img.w > EXTRACT_MAX_SIDE || img.h > EXTRACT_MAX_SIDE);
    char *text = read_timed(&img, EXTRACT_MAX_SIDE, "illegal_text 5.0 MB");
    double ratio = words_read(fg_variant_banner(FG_VARIANT_ILLEGAL_TEXT), text);
    if (ratio < 0.9) fail_msg("5 MB: read %.0f%% in \"%s\"", ratio * 100, text);
    free(text);
    fg_image_free(&img);
}

static void test_engine_reuse(void **state)
{
    (void)state;
    fg_image img;
    generate(0.1, FG_VARIANT_CLEAN, &img);
    char *first = read_timed(&img, 0, "reuse, call 1");
    char *second = read_timed(&img, 0, "reuse, call 2");
    assert_true(strlen(first) > 0);
    assert_string_equal(first, second);
    free(first);
    free(second);
    fg_image_free(&img);
}

/* Workers start their engines together and read at the same time. */
typedef struct worker {
    const fg_image *img;
    char *text;
    char err[512];
} worker;

static void *worker_main(void *arg)
{
    worker *w = arg;
    fg_err err = {""};
    fg_ocr *own = fg_ocr_new("eng", &err);
    if (own && fg_ocr_read(own, w->img, EXTRACT_MAX_SIDE, &w->text, &err) == 0)
        err.msg[0] = 0;
    snprintf(w->err, sizeof w->err, "%s", err.msg);
    fg_ocr_free(own);
    return NULL;
}

static void test_engines_in_parallel(void **state)
{
    (void)state;
    fg_image img[2];
    generate(0.1, FG_VARIANT_CLEAN, &img[0]);
    generate(0.1, FG_VARIANT_ILLEGAL_TEXT, &img[1]);
    worker w[2] = {{.img = &img[0]}, {.img = &img[1]}};
    pthread_t tid[2];
    for (int i = 0; i < 2; i++) assert_int_equal(pthread_create(&tid[i], NULL, worker_main, &w[i]), 0);
    for (int i = 0; i < 2; i++) pthread_join(tid[i], NULL);
    for (int i = 0; i < 2; i++) {
        if (!w[i].text) fail_msg("worker %d: %s", i, w[i].err);
        fg_variant v = i ? FG_VARIANT_ILLEGAL_TEXT : FG_VARIANT_CLEAN;
        if (words_read(fg_variant_banner(v), w[i].text) < 0.9)
            fail_msg("worker %d read \"%s\"", i, w[i].text);
        free(w[i].text);
        fg_image_free(&img[i]);
    }
}

static void test_bad_language(void **state)
{
    (void)state;
    fg_err err = {""};
    assert_null(fg_ocr_new("xxbogus", &err));
    if (!strstr(err.msg, "cannot load language 'xxbogus'") ||
        !strstr(err.msg, "xxbogus.traineddata"))
        fail_msg("unclear message: %s", err.msg);

    assert_null(fg_ocr_new("../../etc/passwd", &err));
    assert_non_null(strstr(err.msg, "bad language name"));
    assert_null(fg_ocr_new("", &err));
    assert_non_null(strstr(err.msg, "bad language name"));
    assert_null(fg_ocr_new(NULL, &err));
    assert_non_null(strstr(err.msg, "bad language name"));
}

static void test_bad_image(void **state)
{
    (void)state;
    fg_err err = {""};
    char *text = (char *)"unchanged";
    fg_image none = {0};
    assert_int_equal(fg_ocr_read(engine, &none, 0, &text, &err), -1);
    assert_null(text);
    assert_non_null(strstr(err.msg, "ocr: no image"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_clean_small),
        cmocka_unit_test(test_illegal_small),
        cmocka_unit_test(test_clean_1mb),
        cmocka_unit_test(test_illegal_1mb),
        cmocka_unit_test(test_illegal_5mb_downscaled),
        cmocka_unit_test(test_engine_reuse),
        cmocka_unit_test(test_engines_in_parallel),
        cmocka_unit_test(test_bad_language),
        cmocka_unit_test(test_bad_image),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
