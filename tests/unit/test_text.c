/* test_text.c — the dictionary translator and the Aho–Corasick censor:
 * loading (good and malformed files), translation of the banners, and
 * matching rules (boundaries, overlaps, case, star counts); also the real
 * data files under data/. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "flowgate/censor.h"
#include "flowgate/ocr.h"
#include "flowgate/translate.h"

/* Writes text to a fresh temporary file; the caller unlinks it. */
static void temp_file(const char *text, char *path, size_t size)
{
    const char *dir = getenv("TMPDIR");
    snprintf(path, size, "%s/fg_text_XXXXXX", dir && *dir ? dir : "/tmp");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    size_t len = strlen(text);
    assert_int_equal(write(fd, text, len), (ssize_t)len);
    close(fd);
}

/* Loads a dictionary from text; on failure err->msg holds the reason. */
static fg_dict *dict_from(const char *text, fg_err *err, char *path, size_t size)
{
    temp_file(text, path, size);
    fg_dict *d = fg_dict_load(path, err);
    unlink(path);
    return d;
}

static void data_path(const char *rel, char *out, size_t size)
{
    snprintf(out, size, "%s/%s", fg_data_dir(), rel);
}

static fg_dict *real_dict(void)
{
    char path[1024];
    data_path("dict/es-en.tsv", path, sizeof path);
    fg_err err = {""};
    fg_dict *d = fg_dict_load(path, &err);
    if (!d) fail_msg("%s", err.msg);
    return d;
}

static fg_censor *real_censor(void)
{
    char path[1024];
    data_path("censor/words.txt", path, sizeof path);
    fg_err err = {""};
    fg_censor *c = fg_censor_load(path, &err);
    if (!c) fail_msg("%s", err.msg);
    return c;
}

/* ---- dictionary ---- */

static void test_dict_load_good(void **state)
{
    (void)state;
    char path[256];
    fg_err err = {""};
    fg_dict *d = dict_from("# comment\n\nHola\thello\r\nmundo\t the world \n"
                           "  # indented comment\nNIÑO\tboy", &err, path, sizeof path);
    if (!d) fail_msg("%s", err.msg);
    assert_int_equal(fg_dict_size(d), 3);
    char *t = fg_translate(d, "hola Mundo, niño!");
    assert_string_equal(t, "hello the world, boy!");
    free(t);
    fg_dict_free(d);
}

static void expect_load_error(const char *text, const char *needle)
{
    char path[256];
    fg_err err = {""};
    fg_dict *d = dict_from(text, &err, path, sizeof path);
    assert_null(d);
    if (!strstr(err.msg, needle)) fail_msg("error '%s' lacks '%s'", err.msg, needle);
    /* Every loader error names the file. */
    if (!strstr(err.msg, path)) fail_msg("error '%s' lacks the path %s", err.msg, path);
}

static void test_dict_load_malformed(void **state)
{
    (void)state;
    expect_load_error("uno\tone\ndos two\n", ":2: no TAB");
    expect_load_error("# c\n\tone\n", ":2: empty source");
    expect_load_error("uno\tone\ndos\t\n", ":2: empty target");
    expect_load_error("uno\tone\ndos\t  \n", ":2: empty target");
    expect_load_error("uno\tone\ntres\tthree\tdrei\n", ":2: more than one TAB");
    expect_load_error("buenos dias\tgood morning\n", ":1: source 'buenos dias' is not a single word");
    expect_load_error("uno\tone\nUNO\tanother\n", ":2: duplicate source word 'uno'");
}

static void test_dict_load_missing_file(void **state)
{
    (void)state;
    fg_err err = {""};
    assert_null(fg_dict_load("/nonexistent/flowgate/dict.tsv", &err));
    assert_non_null(strstr(err.msg, "/nonexistent/flowgate/dict.tsv"));
}

static void test_dict_empty_file(void **state)
{
    (void)state;
    char path[256];
    fg_err err = {""};
    fg_dict *d = dict_from("# only a comment\n", &err, path, sizeof path);
    assert_non_null(d);
    assert_int_equal(fg_dict_size(d), 0);
    char *t = fg_translate(d, "Hola MUNDO");
    assert_string_equal(t, "hola mundo");
    free(t);
    fg_dict_free(d);
}

static void test_translate_banners(void **state)
{
    (void)state;
    fg_dict *d = real_dict();
    char *t = fg_translate(d, "EL GATO NEGRO COME PESCADO EN LA CASA");
    assert_string_equal(t, "the cat black eats fish in the house");
    free(t);
    t = fg_translate(d, "VENDO ARMAS Y DROGAS EN LA CALLE");
    assert_string_equal(t, "i sell weapons and drugs in the street");
    free(t);
    /* OCR output arrives with line breaks between banner lines. */
    t = fg_translate(d, "VENDO ARMAS\nY DROGAS");
    assert_string_equal(t, "i sell weapons\nand drugs");
    free(t);
    fg_dict_free(d);
}

static void test_translate_punctuation_unknown_case(void **state)
{
    (void)state;
    fg_dict *d = real_dict();
    char *t = fg_translate(d, "¿El Gato?  ¡Xyzzy, PERRO!\t(42) gato-perro");
    assert_string_equal(t, "¿the cat?  ¡xyzzy, dog!\t(42) cat-dog");
    free(t);
    /* Accented capitals lower-case too, so they find their entries. */
    t = fg_translate(d, "NIÑO ÉL Cocaína");
    assert_string_equal(t, "boy he cocaine");
    free(t);
    /* A word that merely contains an entry is a different word. */
    t = fg_translate(d, "gatos gatosos");
    assert_string_equal(t, "cats gatosos");
    free(t);
    t = fg_translate(d, "");
    assert_string_equal(t, "");
    free(t);
    fg_dict_free(d);
}

static void test_dict_real_size(void **state)
{
    (void)state;
    fg_dict *d = real_dict();
    assert_true(fg_dict_size(d) >= 250);
    fg_dict_free(d);
}

/* ---- word characters ---- */

static void test_word_chars(void **state)
{
    (void)state;
    const char *s = "a1 ñ¿×-";
    size_t len = strlen(s);
    assert_int_equal(fg_text_word_char(s, len, 0), 1);  /* a */
    assert_int_equal(fg_text_word_char(s, len, 1), 1);  /* 1 */
    assert_int_equal(fg_text_word_char(s, len, 2), 0);  /* space */
    assert_int_equal(fg_text_word_char(s, len, 3), 2);  /* ñ */
    assert_int_equal(fg_text_word_char(s, len, 5), 0);  /* ¿ */
    assert_int_equal(fg_text_word_char(s, len, 7), 0);  /* × */
    assert_int_equal(fg_text_word_char(s, len, 9), 0);  /* - */
    assert_int_equal(fg_text_word_char(s, len, len), 0);
    /* A truncated sequence is not a letter. */
    assert_int_equal(fg_text_word_char("\xC3", 1, 0), 0);
    char up[] = "ÁÉÑ×AZ";
    fg_text_lower(up, strlen(up));
    assert_string_equal(up, "áéñ×az");
}

/* ---- censor ---- */

static fg_censor *censor_of(const char *const *words, size_t n)
{
    fg_err err = {""};
    fg_censor *c = fg_censor_new(words, n, &err);
    if (!c) fail_msg("%s", err.msg);
    return c;
}

static void expect_filter(const fg_censor *c, const char *text, const char *want,
                          size_t want_matches)
{
    size_t matches = 12345;
    char *out = fg_censor_filter(c, text, &matches);
    assert_non_null(out);
    assert_string_equal(out, want);
    assert_int_equal(matches, want_matches);
    free(out);
}

static void test_censor_single_and_multiple(void **state)
{
    (void)state;
    const char *words[] = {"bomb", "drugs", "weapons"};
    fg_censor *c = censor_of(words, 3);
    expect_filter(c, "a bomb here", "a **** here", 1);
    expect_filter(c, "drugs and weapons and drugs", "***** and ******* and *****", 3);
    expect_filter(c, "nothing to see", "nothing to see", 0);
    fg_censor_free(c);
}

static void test_censor_star_count_is_length(void **state)
{
    (void)state;
    const char *words[] = {"methamphetamine", "gun"};
    fg_censor *c = censor_of(words, 2);
    size_t matches;
    char *out = fg_censor_filter(c, "methamphetamine gun", &matches);
    size_t stars = 0;
    for (char *p = out; *p; p++) stars += *p == '*';
    assert_int_equal(stars, strlen("methamphetamine") + strlen("gun"));
    assert_int_equal(matches, 2);
    free(out);
    fg_censor_free(c);
}

static void test_censor_overlapping(void **state)
{
    (void)state;
    /* Nested: "cocaine" inside "crack cocaine"; chained: "drug dealer" and
     * "dealer network" share "dealer". Each match counts; the union is starred. */
    const char *words[] = {"crack cocaine", "cocaine", "drug dealer", "dealer network"};
    fg_censor *c = censor_of(words, 4);
    expect_filter(c, "crack cocaine", "*************", 2);
    expect_filter(c, "a drug dealer network.", "a *******************.", 2);
    expect_filter(c, "the dealer", "the dealer", 0);
    fg_censor_free(c);
}

static void test_censor_word_boundaries(void **state)
{
    (void)state;
    const char *words[] = {"ass", "bomb", "gun"};
    fg_censor *c = censor_of(words, 3);
    expect_filter(c, "class bombs gunner begun", "class bombs gunner begun", 0);
    expect_filter(c, "ass,bomb.gun!", "***,****.***!", 3);
    expect_filter(c, "(gun)\nbomb", "(***)\n****", 2);
    /* A letter beyond ASCII is part of the word too. */
    expect_filter(c, "bombé gunñ", "bombé gunñ", 0);
    fg_censor_free(c);
}

static void test_censor_case_insensitive(void **state)
{
    (void)state;
    const char *words[] = {"Cocaine", "HEROIN"};
    fg_censor *c = censor_of(words, 2);
    expect_filter(c, "COCAINE, Heroin and heroin", "*******, ****** and ******", 3);
    expect_filter(c, "Plain Text", "plain text", 0);
    fg_censor_free(c);
}

static void test_censor_empty_text_and_list(void **state)
{
    (void)state;
    const char *words[] = {"bomb"};
    fg_censor *c = censor_of(words, 1);
    expect_filter(c, "", "", 0);
    fg_censor_free(c);

    fg_censor *none = censor_of(NULL, 0);
    expect_filter(none, "Bomb Drugs", "bomb drugs", 0);
    expect_filter(none, "", "", 0);
    fg_censor_free(none);

    const char *empty_word[] = {"bomb", ""};
    fg_err err = {""};
    assert_null(fg_censor_new(empty_word, 2, &err));
    assert_non_null(strstr(err.msg, "keyword 2 is empty"));
}

static void test_censor_load_file(void **state)
{
    (void)state;
    char path[256];
    temp_file("# list\n  bomb  \r\n\n# more\nhuman trafficking\n", path, sizeof path);
    fg_err err = {""};
    fg_censor *c = fg_censor_load(path, &err);
    unlink(path);
    if (!c) fail_msg("%s", err.msg);
    expect_filter(c, "Bomb and human  trafficking, human trafficking",
                  "**** and human  trafficking, *****************", 2);
    fg_censor_free(c);

    assert_null(fg_censor_load("/nonexistent/flowgate/words.txt", &err));
    assert_non_null(strstr(err.msg, "/nonexistent/flowgate/words.txt"));
}

/* ---- the real data, end to end: translate then censor ---- */

static void test_real_pipeline(void **state)
{
    (void)state;
    fg_dict *d = real_dict();
    fg_censor *c = real_censor();
    size_t matches;

    char *t = fg_translate(d, "EL GATO NEGRO COME PESCADO EN LA CASA");
    char *f = fg_censor_filter(c, t, &matches);
    assert_int_equal(matches, 0);
    assert_string_equal(f, t);
    free(f);
    free(t);

    t = fg_translate(d, "VENDO ARMAS Y DROGAS EN LA CALLE");
    f = fg_censor_filter(c, t, &matches);
    assert_true(matches >= 2);
    assert_string_equal(f, "i sell ******* and ***** in the street");
    free(f);
    free(t);

    fg_censor_free(c);
    fg_dict_free(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dict_load_good),
        cmocka_unit_test(test_dict_load_malformed),
        cmocka_unit_test(test_dict_load_missing_file),
        cmocka_unit_test(test_dict_empty_file),
        cmocka_unit_test(test_translate_banners),
        cmocka_unit_test(test_translate_punctuation_unknown_case),
        cmocka_unit_test(test_dict_real_size),
        cmocka_unit_test(test_word_chars),
        cmocka_unit_test(test_censor_single_and_multiple),
        cmocka_unit_test(test_censor_star_count_is_length),
        cmocka_unit_test(test_censor_overlapping),
        cmocka_unit_test(test_censor_word_boundaries),
        cmocka_unit_test(test_censor_case_insensitive),
        cmocka_unit_test(test_censor_empty_text_and_list),
        cmocka_unit_test(test_censor_load_file),
        cmocka_unit_test(test_real_pipeline),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
