/* machine.c — the machine-speed probe.
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
 * one fall outside the burst. */
#include "flowgate/machine.h"
#include "flowgate/common.h"

#include <stdint.h>
#include <stdlib.h>
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
