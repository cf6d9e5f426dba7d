/* machine.c — the machine-speed probe, and the name of the CPU.
 *
 * The workload is third-party library code only (zlib's deflate and
 * inflate over image-like bytes, the kind of integer work the functions'
 * PNG and OCR paths do): flowgate's own code is not in it, so a regression
 * in flowgate cannot slow the probe and so hide itself behind a larger
 * scale factor. Thread CPU time, not wall time, so other processes on the
 * machine do not count; the best of the rounds, since interference (cache,
 * a sibling hyperthread) only ever adds. The rounds are spread over about
 * 0.7 s: on a shared 2-vCPU machine a burst of other work (a server
 * starting, a test's teardown) inflated back-to-back rounds by 30 %, which
 * loosens every time bound by as much; a gap between rounds lets the best
 * one fall outside the burst.
 *
 * The CPU's name is what makes two CI runners "the same machine" for the
 * performance history (history.h: machine_key): their host names differ
 * on every job, their CPU model does not. It is read from /proc/cpuinfo,
 * not from CPUID, so it is the same string the kernel shows (and it works
 * on any architecture whose cpuinfo has a "model name"). */
#include "flowgate/machine.h"
#include "flowgate/common.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zlib.h>

enum { PROBE_BYTES = 1 << 18, PROBE_ROUNDS = 30, PROBE_GAP_US = 15000 };

/* Gradients with noise: compressible like a photo's rows, not like zeros. */
static void fill(unsigned char *p, size_t n)
{
    uint32_t x = 2463534242u;
    for (size_t i = 0; i < n; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        p[i] = (unsigned char)((i % 1024) / 4 + (x & 15));
    }
}

double fg_machine_probe_ms(void)
{
    uLong bound = compressBound(PROBE_BYTES);
    unsigned char *src = malloc(PROBE_BYTES), *z = malloc(bound), *back = malloc(PROBE_BYTES);
    double best = -1;
    if (!src || !z || !back) goto done;
    fill(src, PROBE_BYTES);
    for (int r = 0; r < PROBE_ROUNDS; r++) {
        uLongf zlen = bound, blen = PROBE_BYTES;
        double t0 = fg_now_thread_cpu_ms();
        if (compress2(z, &zlen, src, PROBE_BYTES, 6) != Z_OK ||
            uncompress(back, &blen, z, zlen) != Z_OK || blen != PROBE_BYTES) {
            best = -1;
            goto done;
        }
        double ms = fg_now_thread_cpu_ms() - t0;
        if (best < 0 || ms < best) best = ms;
        nanosleep(&(struct timespec){0, PROBE_GAP_US * 1000L}, NULL);
    }
done:
    free(src);
    free(z);
    free(back);
    return best;
}

/* Leading and trailing blanks off, every inner run of blanks one space:
 * some kernels pad the model name ("Intel(R) Xeon(R) CPU  @ 2.20GHz"),
 * and a key that differs by padding would split a series. */
static void squeeze_blanks(char *s)
{
    char *w = s;
    int blank = 1;   /* drops leading blanks */
    for (const char *r = s; *r; r++) {
        if (*r == ' ' || *r == '\t' || *r == '\n' || *r == '\r') {
            if (!blank) *w++ = ' ';
            blank = 1;
        } else {
            *w++ = *r;
            blank = 0;
        }
    }
    if (w > s && w[-1] == ' ') w--;
    *w = 0;
}

int fg_machine_cpu_model_in(const char *cpuinfo, char *out, size_t size)
{
    FILE *f = fopen(cpuinfo, "r");
    if (!f) return -1;
    char line[512];
    int found = 0;
    /* Every processor repeats the same name; the first is enough. */
    while (!found && fgets(line, sizeof line, f)) {
        if (strncmp(line, "model name", 10)) continue;
        char *colon = strchr(line + 10, ':');
        /* "model name" and the colon have only blanks between them. */
        if (!colon || strspn(line + 10, " \t") != (size_t)(colon - line - 10)) continue;
        squeeze_blanks(colon + 1);
        if (!colon[1]) continue;
        snprintf(out, size, "%s", colon + 1);
        found = 1;
    }
    fclose(f);
    return found ? 0 : -1;
}

int fg_machine_cpu_model(char *out, size_t size)
{
    return fg_machine_cpu_model_in("/proc/cpuinfo", out, size);
}
