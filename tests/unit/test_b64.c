/* test_b64.c — strict base64: RFC 4648 vectors, binary round trips across
 * chunk boundaries, and every rejection naming its offset. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "flowgate/b64.h"

static void assert_decodes(const char *s, const char *expect)
{
    fg_buf out;
    fg_err err = {{0}};
    assert_int_equal(fg_b64_decode(s, strlen(s), &out, &err), 0);
    assert_int_equal(out.len, strlen(expect));
    assert_memory_equal(out.data, expect, out.len);
    fg_buf_free(&out);
}

static void assert_rejects(const char *s, const char *message)
{
    fg_buf out = {(unsigned char *)"x", 1};
    fg_err err = {{0}};
    assert_int_equal(fg_b64_decode(s, strlen(s), &out, &err), -1);
    assert_null(out.data);
    assert_string_equal(err.msg, message);
}

static void test_rfc4648_vectors(void **state)
{
    (void)state;
    static const char *plain[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
    static const char *coded[] = {"", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};
    for (size_t i = 0; i < 7; i++) {
        size_t n = 0;
        char *enc = fg_b64_encode(plain[i], strlen(plain[i]), &n);
        assert_non_null(enc);
        assert_string_equal(enc, coded[i]);
        assert_int_equal(n, strlen(coded[i]));
        free(enc);
        assert_decodes(coded[i], plain[i]);
    }
}

static void round_trip(size_t n)
{
    unsigned char *data = malloc(n + 1);
    assert_non_null(data);
    uint32_t x = 2463534242u;
    for (size_t i = 0; i < n; i++) {
        x ^= x << 13; x ^= x >> 17; x ^= x << 5;
        data[i] = (unsigned char)x;
    }
    size_t enc_len = 0;
    char *enc = fg_b64_encode(data, n, &enc_len);
    assert_non_null(enc);
    assert_int_equal(enc_len, (n + 2) / 3 * 4);
    assert_int_equal(strlen(enc), enc_len);
    fg_buf out;
    fg_err err = {{0}};
    assert_int_equal(fg_b64_decode(enc, enc_len, &out, &err), 0);
    assert_int_equal(out.len, n);
    assert_memory_equal(out.data, data, n);
    fg_buf_free(&out);
    free(enc);
    free(data);
}

static void test_round_trips(void **state)
{
    (void)state;
    for (size_t n = 0; n < 70; n++) round_trip(n);
    /* Across the encoder's and decoder's internal chunk boundaries. */
    round_trip(((size_t)3 << 22) + 1);
    round_trip(((size_t)1 << 24) / 4 * 3 * 2 + 2);
}

static void test_all_byte_values(void **state)
{
    (void)state;
    unsigned char all[256];
    for (int i = 0; i < 256; i++) all[i] = (unsigned char)i;
    char *enc = fg_b64_encode(all, sizeof all, NULL);
    fg_buf out;
    assert_int_equal(fg_b64_decode(enc, strlen(enc), &out, NULL), 0);
    assert_int_equal(out.len, 256);
    assert_memory_equal(out.data, all, 256);
    fg_buf_free(&out);
    free(enc);
}

static void test_rejections(void **state)
{
    (void)state;
    assert_rejects("Zm9", "bad base64: length 3 is not a multiple of 4");
    assert_rejects("Zm9vY", "bad base64: length 5 is not a multiple of 4");
    assert_rejects("Zm9v Zm9v", "bad base64: length 9 is not a multiple of 4");
    assert_rejects("Zm9vZ m9v", "bad base64: length 9 is not a multiple of 4");
    assert_rejects("Zm9vZ\nm9", "bad base64 at offset 5");
    assert_rejects(" Zm9", "bad base64 at offset 0");
    assert_rejects("Zm9vYmF-", "bad base64 at offset 7");
    assert_rejects("Zm9vYmF_", "bad base64 at offset 7");
    assert_rejects("Zg=a", "bad base64 at offset 2");
    assert_rejects("Z===", "bad base64 at offset 1");
    assert_rejects("====", "bad base64 at offset 0");
    assert_rejects("=AAA", "bad base64 at offset 0");
    assert_rejects("Zg==Zm9v", "bad base64 at offset 2");
    assert_rejects("Zm9v\xc3\xa9Zm", "bad base64 at offset 4");
    /* An embedded NUL is a character like any other, not an end. */
    fg_err err = {{0}};
    fg_buf out;
    assert_int_equal(fg_b64_decode("Zm\0v", 4, &out, &err), -1);
    assert_string_equal(err.msg, "bad base64 at offset 2");
    /* A NULL err is allowed. */
    assert_int_equal(fg_b64_decode("Zm9", 3, &out, NULL), -1);
}

/* A length whose encoding would not fit in a size_t is refused, not
 * wrapped into a small allocation. */
static void test_encode_size_overflow(void **state)
{
    (void)state;
    static const unsigned char byte = 0;
    assert_null(fg_b64_encode(&byte, SIZE_MAX, NULL));
    assert_null(fg_b64_encode(&byte, SIZE_MAX / 4 * 3 + 1, NULL));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc4648_vectors),
        cmocka_unit_test(test_round_trips),
        cmocka_unit_test(test_all_byte_values),
        cmocka_unit_test(test_rejections),
        cmocka_unit_test(test_encode_size_overflow),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
