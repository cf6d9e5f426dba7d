/* slowdown.c — the CPU burn behind the slowdown knob (slowdown.h has why).
 *
 * The spin re-reads the monotonic clock (a vDSO call, tens of ns) between
 * short runs of integer work; the deadline is wall time, so the reply's
 * exec_ms is ~factor x the real work whatever else the machine does. */
#include "slowdown.h"

#include <stdint.h>

#include "flowgate/common.h"

/* Written by the spin so the compiler must keep its work (a local volatile
 * that is never read trips clang's -Wunused-but-set-variable). */
static volatile uint64_t burn_sink;

void fg_slowdown_burn(double work_ms, double factor)
{
    if (!(factor > 1.0) || !(work_ms > 0)) return;
    double deadline = fg_now_mono_ms() + (factor - 1.0) * work_ms;
    while (fg_now_mono_ms() < deadline)
        for (uint64_t i = 0; i < 256; i++) burn_sink += i * i;
}
