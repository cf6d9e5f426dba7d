/* machine.h — how fast this machine is, in one number: the thread CPU time
 * of a fixed workload (src/base/machine.c). Shipped thresholds are written
 * in the reference machine's units; the ratio of this probe here to the
 * reference's probe scales their time and rate bounds (thresholds.h). */
#ifndef FLOWGATE_MACHINE_H
#define FLOWGATE_MACHINE_H

/* Milliseconds of thread CPU time for the fixed workload, the best of
 * several rounds (the minimum is what the machine can do; interference
 * only adds). About 0.2 s in all on the reference machine. -1 on failure. */
double fg_machine_probe_ms(void);

/* What the probe does, for files and messages. */
#define FG_MACHINE_PROBE_NAME "zlib deflate(6)+inflate of 256 KiB image-like bytes, best of 25, thread CPU time"

#endif
