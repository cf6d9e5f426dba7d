/* common.h — the two types every subsystem shares: a one-line error message
 * and an owned byte buffer. Functions that can fail return 0 on success and
 * -1 on failure, and fill an fg_err (which may be NULL) with one line that
 * names the problem, e.g. "upload: img_b64: bad base64 at offset 17". */
#ifndef FLOWGATE_COMMON_H
#define FLOWGATE_COMMON_H

#include <stddef.h>
#include <stdint.h>

typedef struct fg_err {
    char msg[512];
} fg_err;

/* printf-style; a NULL err is allowed and ignored. Always returns -1 so that
 * `return fg_err_set(e, "...")` reads naturally. */
int fg_err_set(fg_err *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Heap bytes owned by whoever holds the struct; free with fg_buf_free. */
typedef struct fg_buf {
    unsigned char *data;
    size_t len;
} fg_buf;

void fg_buf_free(fg_buf *buf);

/* Reads a whole file. Refuses files larger than max_bytes (0 = no limit). */
int fg_read_file(const char *path, size_t max_bytes, fg_buf *out, fg_err *err);

/* Writes atomically: to "<path>.tmp.<pid>", fsync, then rename over path. */
int fg_write_file_atomic(const char *path, const void *data, size_t len, fg_err *err);

/* mkdir -p. */
int fg_mkdirs(const char *path, fg_err *err);

/* Wall clock (CLOCK_REALTIME) and monotonic clock in milliseconds; the
 * CPU time of the calling thread (CLOCK_THREAD_CPUTIME_ID) in ms. */
double fg_now_unix_ms(void);
double fg_now_mono_ms(void);
double fg_now_thread_cpu_ms(void);
/* Sleeps ms milliseconds (nothing for ms <= 0); a signal does not cut it
 * short: callers that poll check their own stop condition between sleeps. */
void fg_sleep_ms(double ms);

/* Directory holding flowgate's data files: $FLOWGATE_DATA, else the
 * source tree's data/ compiled in, else "./data". */
const char *fg_data_dir(void);

/* splitmix64: a bijective 64-bit mixer; spreads nearby inputs (counters,
 * request ids, seeds) over the whole range. */
static inline uint64_t fg_mix64(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

/* Exit codes of every command and suite: 0 pass (no regression), 1 fail
 * (a regression, a threshold failed, an interrupted run), 2 bad input or
 * setup, 3 inconclusive (the evidence could not decide: budget or pairs ran
 * out, or the machine was too busy to tell). Inconclusive is never a pass
 * by default; a user who wants it to pass says so (--inconclusive=pass). */
enum { FG_EXIT_PASS = 0, FG_EXIT_FAIL = 1, FG_EXIT_BAD_INPUT = 2, FG_EXIT_INCONCLUSIVE = 3 };

/* 1 MB in flowgate is 1 MiB (1 048 576 bytes), as in the reference system. */
#define FG_MB 1048576.0

/* "1.0" for 1, "0.1" for 0.1: the size as it appears in experiment ids. */
void fg_format_mb(double mb, char *out, size_t out_size);

#endif
