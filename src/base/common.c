/* common.c — errors, buffers, files and clocks shared by every subsystem. */
#include "flowgate/common.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

int fg_err_set(fg_err *err, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
    }
    return -1;
}

void fg_buf_free(fg_buf *buf)
{
    if (!buf) return;
    free(buf->data);
    buf->data = NULL;
    buf->len = 0;
}

int fg_read_file(const char *path, size_t max_bytes, fg_buf *out, fg_err *err)
{
    out->data = NULL;
    out->len = 0;
    FILE *f = fopen(path, "rb");
    if (!f) return fg_err_set(err, "%s: cannot open: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
        fclose(f);
        return fg_err_set(err, "%s: not a regular file", path);
    }
    size_t size = (size_t)st.st_size;
    if (max_bytes && size > max_bytes) {
        fclose(f);
        return fg_err_set(err, "%s: %zu bytes, over the limit of %zu", path, size, max_bytes);
    }
    /* One extra byte so text callers can NUL-terminate in place. */
    unsigned char *data = malloc(size + 1);
    if (!data) {
        fclose(f);
        return fg_err_set(err, "%s: out of memory for %zu bytes", path, size);
    }
    size_t got = fread(data, 1, size, f);
    int failed = ferror(f);
    fclose(f);
    if (failed || got != size) {
        free(data);
        return fg_err_set(err, "%s: read error", path);
    }
    data[size] = 0;
    out->data = data;
    out->len = size;
    return 0;
}

int fg_write_file_atomic(const char *path, const void *data, size_t len, fg_err *err)
{
    char tmp[4096];
    if ((size_t)snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid()) >= sizeof tmp)
        return fg_err_set(err, "%s: path too long", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) return fg_err_set(err, "%s: cannot create: %s", tmp, strerror(errno));
    const unsigned char *p = data;
    size_t left = len;
    while (left) {
        ssize_t n = write(fd, p, left);
        if (n < 0) {
            if (errno == EINTR) continue;
            int e = errno;
            close(fd);
            unlink(tmp);
            return fg_err_set(err, "%s: write failed: %s", tmp, strerror(e));
        }
        p += n;
        left -= (size_t)n;
    }
    if (fsync(fd) != 0 || close(fd) != 0) {
        unlink(tmp);
        return fg_err_set(err, "%s: cannot flush: %s", tmp, strerror(errno));
    }
    if (rename(tmp, path) != 0) {
        int e = errno;
        unlink(tmp);
        return fg_err_set(err, "%s: cannot rename into place: %s", path, strerror(e));
    }
    return 0;
}

int fg_mkdirs(const char *path, fg_err *err)
{
    char buf[4096];
    size_t n = strlen(path);
    if (n == 0 || n >= sizeof buf) return fg_err_set(err, "bad directory path '%s'", path);
    memcpy(buf, path, n + 1);
    for (char *p = buf + 1; ; p++) {
        if (*p == '/' || *p == 0) {
            char c = *p;
            *p = 0;
            if (mkdir(buf, 0755) != 0 && errno != EEXIST)
                return fg_err_set(err, "%s: cannot create directory: %s", buf, strerror(errno));
            *p = c;
            if (c == 0) break;
        }
    }
    return 0;
}

static double clock_ms(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

double fg_now_unix_ms(void) { return clock_ms(CLOCK_REALTIME); }
double fg_now_mono_ms(void) { return clock_ms(CLOCK_MONOTONIC); }
double fg_now_thread_cpu_ms(void) { return clock_ms(CLOCK_THREAD_CPUTIME_ID); }

void fg_sleep_ms(double ms)
{
    if (!(ms > 0)) return;
    double s = ms / 1000.0;
    struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {}
}

const char *fg_data_dir(void)
{
    const char *env = getenv("FLOWGATE_DATA");
    if (env && *env) return env;
#ifdef FLOWGATE_SOURCE_DIR
    static char compiled[4096];
    if (!compiled[0]) snprintf(compiled, sizeof compiled, "%s/data", FLOWGATE_SOURCE_DIR);
    struct stat st;
    if (stat(compiled, &st) == 0 && S_ISDIR(st.st_mode)) return compiled;
#endif
    return "data";
}

void fg_format_mb(double mb, char *out, size_t out_size)
{
    /* One decimal when that is exact (ids read "1.0", "0.1"), else the
     * fewest decimals that give the value back ("0.25"). */
    for (int decimals = 1; decimals <= 6; decimals++) {
        double scale = pow(10, decimals);
        if (fabs(mb * scale - round(mb * scale)) < 1e-9 * (scale > 1 ? scale : 1)) {
            snprintf(out, out_size, "%.*f", decimals, mb);
            return;
        }
    }
    snprintf(out, out_size, "%.6f", mb);
}
