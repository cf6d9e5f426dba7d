/* test_blobstore.c — the node blob store: ownership without copies, unique
 * keys, LRU eviction by bytes, TTL expiry, references outliving eviction,
 * and concurrent use (run under ASan to catch races on freed blobs). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <unistd.h>
#include <cmocka.h>

#include "flowgate/blobstore.h"

static void *filled(size_t n, int c)
{
    void *p = malloc(n);
    assert_non_null(p);
    memset(p, c, n);
    return p;
}

static void put(fg_blobstore *s, size_t n, int c, char key[32])
{
    fg_err err = {{0}};
    assert_int_equal(fg_blobstore_put(s, filled(n, c), n, key, &err), 0);
}

static void test_put_get_no_copy(void **state)
{
    (void)state;
    fg_blobstore *s = fg_blobstore_new(1 << 20, 60);
    void *data = filled(1000, 'a');
    char key[32];
    assert_int_equal(fg_blobstore_put(s, data, 1000, key, NULL), 0);
    assert_int_equal(strlen(key), 16);
    assert_int_equal(strspn(key, "0123456789abcdef"), 16);
    fg_blob *b = fg_blobstore_get(s, key);
    assert_non_null(b);
    assert_ptr_equal(fg_blob_data(b), data);
    assert_int_equal(fg_blob_len(b), 1000);
    fg_blob_unref(b);
    assert_null(fg_blobstore_get(s, "0000000000000000"));
    assert_null(fg_blobstore_get(s, "short"));
    assert_null(fg_blobstore_get(s, ""));
    fg_blobstore_stats st;
    fg_blobstore_stats_get(s, &st);
    assert_int_equal(st.count, 1);
    assert_int_equal(st.bytes, 1000);
    assert_int_equal(st.max_bytes, 1 << 20);
    assert_int_equal(st.puts, 1);
    assert_int_equal(st.hits, 1);
    assert_int_equal(st.misses, 3);
    assert_int_equal(st.evictions, 0);
    fg_blobstore_free(s);
}

static int cmp_keys(const void *a, const void *b) { return strcmp(a, b); }

static void test_keys_unique(void **state)
{
    (void)state;
    enum { N = 5000 };
    fg_blobstore *s = fg_blobstore_new(1 << 20, 60);
    static char keys[N][32];
    for (int i = 0; i < N; i++) put(s, 1, i, keys[i]);
    qsort(keys, N, sizeof keys[0], cmp_keys);
    for (int i = 1; i < N; i++) assert_true(strcmp(keys[i - 1], keys[i]) != 0);
    /* The map grew past its first buckets and still finds every key. */
    for (int i = 0; i < N; i++) {
        fg_blob *b = fg_blobstore_get(s, keys[i]);
        assert_non_null(b);
        fg_blob_unref(b);
    }
    fg_blobstore_free(s);
}

static void test_lru_eviction_by_bytes(void **state)
{
    (void)state;
    fg_blobstore *s = fg_blobstore_new(300, 60);
    char a[32], b[32], c[32], d[32];
    put(s, 100, 'a', a);
    put(s, 100, 'b', b);
    put(s, 100, 'c', c);
    /* Touch a: b becomes the least recently used. */
    fg_blob_unref(fg_blobstore_get(s, a));
    put(s, 100, 'd', d);
    fg_blob *gone = fg_blobstore_get(s, b);
    assert_null(gone);
    fg_blob *kept = fg_blobstore_get(s, a);
    assert_non_null(kept);
    assert_int_equal(((const char *)fg_blob_data(kept))[0], 'a');
    fg_blob_unref(kept);
    fg_blobstore_stats st;
    fg_blobstore_stats_get(s, &st);
    assert_int_equal(st.count, 3);
    assert_int_equal(st.bytes, 300);
    assert_int_equal(st.evictions, 1);
    /* A blob of exactly the budget evicts everything else. */
    char big[32];
    put(s, 300, 'z', big);
    fg_blobstore_stats_get(s, &st);
    assert_int_equal(st.count, 1);
    assert_int_equal(st.bytes, 300);
    fg_blobstore_free(s);
}

static void test_too_large_refused(void **state)
{
    (void)state;
    fg_blobstore *s = fg_blobstore_new(100, 60);
    void *data = filled(101, 'x');
    char key[32];
    fg_err err = {{0}};
    assert_int_equal(fg_blobstore_put(s, data, 101, key, &err), -1);
    assert_string_equal(err.msg, "blob of 101 bytes is over the store's budget of 100");
    free(data);   /* ownership stays with the caller on failure */
    fg_blobstore_free(s);
}

static void test_ttl_expiry(void **state)
{
    (void)state;
    const double ttl_ms = 200;
    fg_blobstore *s = fg_blobstore_new(1 << 20, ttl_ms / 1000);
    char key[32];
    double t0 = fg_now_mono_ms();
    put(s, 10, 'x', key);
    fg_blob *b = fg_blobstore_get(s, key);
    /* Young blobs are served; only a stalled host makes this one old. */
    if (fg_now_mono_ms() - t0 < ttl_ms) assert_non_null(b);
    fg_blob_unref(b);
    usleep((useconds_t)(ttl_ms * 1.25 * 1000));
    assert_null(fg_blobstore_get(s, key));
    fg_blobstore_stats st;
    fg_blobstore_stats_get(s, &st);
    assert_int_equal(st.count, 0);
    assert_int_equal(st.bytes, 0);
    assert_int_equal(st.evictions, 1);
    fg_blobstore_free(s);
}

static void test_reference_outlives_eviction(void **state)
{
    (void)state;
    fg_blobstore *s = fg_blobstore_new(100, 60);
    char a[32], b[32];
    put(s, 100, 'a', a);
    fg_blob *held = fg_blobstore_get(s, a);
    put(s, 100, 'b', b);   /* evicts a from the store */
    assert_null(fg_blobstore_get(s, a));
    assert_int_equal(((const unsigned char *)fg_blob_data(held))[99], 'a');
    fg_blobstore_free(s);  /* the reader's reference still keeps a alive */
    assert_int_equal(((const unsigned char *)fg_blob_data(held))[0], 'a');
    fg_blob_unref(held);
}

static void *hammer(void *arg)
{
    fg_blobstore *s = arg;
    for (int i = 0; i < 2000; i++) {
        char key[32];
        size_t n = 1 + (size_t)(i % 97) * 13;
        void *data = malloc(n);
        memset(data, i & 0xff, n);
        if (fg_blobstore_put(s, data, n, key, NULL) != 0) {
            free(data);
            continue;
        }
        fg_blob *b = fg_blobstore_get(s, key);
        if (b) {
            const unsigned char *p = fg_blob_data(b);
            if (p[fg_blob_len(b) - 1] != (unsigned char)(i & 0xff)) abort();
            fg_blob_unref(b);
        }
    }
    return NULL;
}

static void test_concurrent(void **state)
{
    (void)state;
    fg_blobstore *s = fg_blobstore_new(20000, 60);
    pthread_t t[4];
    for (int i = 0; i < 4; i++) pthread_create(&t[i], NULL, hammer, s);
    for (int i = 0; i < 4; i++) pthread_join(t[i], NULL);
    fg_blobstore_stats st;
    fg_blobstore_stats_get(s, &st);
    assert_int_equal(st.puts, 8000);
    assert_true(st.bytes <= 20000);
    assert_int_equal(st.puts - st.evictions, st.count);
    fg_blobstore_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_put_get_no_copy),
        cmocka_unit_test(test_keys_unique),
        cmocka_unit_test(test_lru_eviction_by_bytes),
        cmocka_unit_test(test_too_large_refused),
        cmocka_unit_test(test_ttl_expiry),
        cmocka_unit_test(test_reference_outlives_eviction),
        cmocka_unit_test(test_concurrent),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
