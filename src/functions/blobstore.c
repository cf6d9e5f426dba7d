/* blobstore.c — a node's bounded blob store.
 *
 * A chained hash map finds blobs by key; two intrusive lists order them:
 * `lru` by last use (evicted from the tail when the byte budget is
 * exceeded) and `age` by insertion (expired from the head once older than
 * the TTL). One mutex guards the map and lists; each blob carries an atomic
 * reference count (the store holds one), so a reader keeps its bytes alive
 * after an eviction and the last unref frees them. Keys are 16 hex digits
 * of fg_mix64(counter ^ seed): a bijection, so keys never repeat within
 * a process and are hard to guess across restarts. */
#include "flowgate/blobstore.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define KEY_LEN 16

struct fg_blob {
    int refs;                       /* atomic */
    void *data;
    size_t len;
    double created_ms;
    char key[KEY_LEN + 1];
    struct fg_blob *chain;          /* hash bucket */
    struct fg_blob *lru_prev, *lru_next;   /* head = most recently used */
    struct fg_blob *age_prev, *age_next;   /* head = oldest */
};

struct fg_blobstore {
    pthread_mutex_t mu;
    fg_blob **buckets;
    size_t n_buckets;               /* power of two */
    fg_blob *lru_head, *lru_tail;
    fg_blob *age_head, *age_tail;
    size_t max_bytes;
    double ttl_ms;
    uint64_t next_id, seed;
    fg_blobstore_stats st;
};

static size_t key_hash(const char *key)
{
    uint64_t h = 1469598103934665603ull;     /* FNV-1a */
    for (; *key; key++) h = (h ^ (unsigned char)*key) * 1099511628211ull;
    return (size_t)h;
}

fg_blobstore *fg_blobstore_new(size_t max_bytes, double ttl_s)
{
    fg_blobstore *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    s->n_buckets = 256;
    s->buckets = calloc(s->n_buckets, sizeof *s->buckets);
    if (!s->buckets) {
        free(s);
        return NULL;
    }
    pthread_mutex_init(&s->mu, NULL);
    s->max_bytes = max_bytes;
    s->ttl_ms = ttl_s * 1000.0;
    s->st.max_bytes = max_bytes;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    s->seed = fg_mix64((uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 20) ^
                         ((uint64_t)getpid() << 40) ^ (uint64_t)(uintptr_t)s);
    return s;
}

static void blob_release(fg_blob *b)
{
    if (__atomic_sub_fetch(&b->refs, 1, __ATOMIC_ACQ_REL) == 0) {
        free(b->data);
        free(b);
    }
}

void fg_blob_unref(fg_blob *b)
{
    if (b) blob_release(b);
}

const void *fg_blob_data(const fg_blob *b) { return b->data; }
size_t fg_blob_len(const fg_blob *b) { return b->len; }

/* --- list and map plumbing; all under s->mu --- */

static void lru_unlink(fg_blobstore *s, fg_blob *b)
{
    if (b->lru_prev) b->lru_prev->lru_next = b->lru_next; else s->lru_head = b->lru_next;
    if (b->lru_next) b->lru_next->lru_prev = b->lru_prev; else s->lru_tail = b->lru_prev;
    b->lru_prev = b->lru_next = NULL;
}

static void lru_push_front(fg_blobstore *s, fg_blob *b)
{
    b->lru_prev = NULL;
    b->lru_next = s->lru_head;
    if (s->lru_head) s->lru_head->lru_prev = b; else s->lru_tail = b;
    s->lru_head = b;
}

static void age_unlink(fg_blobstore *s, fg_blob *b)
{
    if (b->age_prev) b->age_prev->age_next = b->age_next; else s->age_head = b->age_next;
    if (b->age_next) b->age_next->age_prev = b->age_prev; else s->age_tail = b->age_prev;
    b->age_prev = b->age_next = NULL;
}

static void age_push_back(fg_blobstore *s, fg_blob *b)
{
    b->age_next = NULL;
    b->age_prev = s->age_tail;
    if (s->age_tail) s->age_tail->age_next = b; else s->age_head = b;
    s->age_tail = b;
}

static fg_blob **bucket_slot(fg_blobstore *s, const char *key)
{
    fg_blob **slot = &s->buckets[key_hash(key) & (s->n_buckets - 1)];
    while (*slot && strcmp((*slot)->key, key) != 0) slot = &(*slot)->chain;
    return slot;
}

static void grow_buckets(fg_blobstore *s)
{
    size_t n = s->n_buckets * 2;
    fg_blob **nb = calloc(n, sizeof *nb);
    if (!nb) return;   /* chains just get longer */
    for (size_t i = 0; i < s->n_buckets; i++) {
        fg_blob *b = s->buckets[i];
        while (b) {
            fg_blob *next = b->chain;
            size_t j = key_hash(b->key) & (n - 1);
            b->chain = nb[j];
            nb[j] = b;
            b = next;
        }
    }
    free(s->buckets);
    s->buckets = nb;
    s->n_buckets = n;
}

static void remove_blob(fg_blobstore *s, fg_blob *b)
{
    fg_blob **slot = bucket_slot(s, b->key);
    if (*slot == b) *slot = b->chain;
    lru_unlink(s, b);
    age_unlink(s, b);
    s->st.count--;
    s->st.bytes -= b->len;
    s->st.evictions++;
    blob_release(b);
}

static void expire(fg_blobstore *s, double now_ms)
{
    while (s->age_head && now_ms - s->age_head->created_ms >= s->ttl_ms)
        remove_blob(s, s->age_head);
}

/* --- API --- */

int fg_blobstore_put(fg_blobstore *s, void *data, size_t len, char key[32], fg_err *err)
{
    if (len > s->max_bytes)
        return fg_err_set(err, "blob of %zu bytes is over the store's budget of %zu",
                          len, s->max_bytes);
    fg_blob *b = calloc(1, sizeof *b);
    if (!b) return fg_err_set(err, "out of memory for a blob entry");
    b->refs = 1;   /* the store's reference */
    b->data = data;
    b->len = len;
    b->created_ms = fg_now_mono_ms();

    pthread_mutex_lock(&s->mu);
    expire(s, b->created_ms);
    while (s->lru_tail && s->st.bytes + len > s->max_bytes) remove_blob(s, s->lru_tail);
    snprintf(b->key, sizeof b->key, "%016llx",
             (unsigned long long)fg_mix64(s->next_id++ ^ s->seed));
    if (s->st.count + 1 > s->n_buckets * 2) grow_buckets(s);
    fg_blob **slot = bucket_slot(s, b->key);
    b->chain = *slot;   /* NULL: keys are unique */
    *slot = b;
    lru_push_front(s, b);
    age_push_back(s, b);
    s->st.count++;
    s->st.bytes += len;
    s->st.puts++;
    memcpy(key, b->key, KEY_LEN + 1);
    pthread_mutex_unlock(&s->mu);
    return 0;
}

fg_blob *fg_blobstore_get(fg_blobstore *s, const char *key)
{
    pthread_mutex_lock(&s->mu);
    expire(s, fg_now_mono_ms());
    fg_blob *b = key && strlen(key) == KEY_LEN ? *bucket_slot(s, key) : NULL;
    if (b) {
        lru_unlink(s, b);
        lru_push_front(s, b);
        __atomic_add_fetch(&b->refs, 1, __ATOMIC_ACQ_REL);
        s->st.hits++;
    } else {
        s->st.misses++;
    }
    pthread_mutex_unlock(&s->mu);
    return b;
}

void fg_blobstore_stats_get(fg_blobstore *s, fg_blobstore_stats *out)
{
    pthread_mutex_lock(&s->mu);
    expire(s, fg_now_mono_ms());
    *out = s->st;
    pthread_mutex_unlock(&s->mu);
}

void fg_blobstore_free(fg_blobstore *s)
{
    if (!s) return;
    while (s->lru_head) remove_blob(s, s->lru_head);
    pthread_mutex_destroy(&s->mu);
    free(s->buckets);
    free(s);
}
