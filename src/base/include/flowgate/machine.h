/* machine.h — how fast this machine is, in one number: the thread CPU time
 * of a fixed workload (src/base/machine.c). Shipped thresholds are written
 * in the reference machine's units; the ratio of this probe here to the
 * reference's probe scales their time and rate bounds (thresholds.h).
 * And what kind of machine it is: the CPU's model name, which results
 * record (run.cpu_model) so that the history keys its series by machine
 * kind rather than by host name. */
#ifndef FLOWGATE_MACHINE_H
#define FLOWGATE_MACHINE_H
#include <stddef.h>

/* Milliseconds of thread CPU time for the fixed workload, the best of
 * several rounds (the minimum is what the machine can do; interference
 * only adds). About 0.2 s in all on the reference machine. -1 on failure. */
double fg_machine_probe_ms(void);

/* What the probe does, for files and messages. */
#define FG_MACHINE_PROBE_NAME "zlib deflate(6)+inflate of 256 KiB image-like bytes, best of 25, thread CPU time"

/* The CPU's model name: the first "model name" of /proc/cpuinfo, trimmed,
 * runs of blanks made one space ("Intel(R) Xeon(R) CPU @ 2.20GHz"). 0 when
 * found, -1 when not (no /proc, or an architecture whose cpuinfo has no
 * such line, as on many ARM kernels). */
int fg_machine_cpu_model(char *out, size_t size);

/* The same from another file in cpuinfo's format; for tests. */
int fg_machine_cpu_model_in(const char *cpuinfo, char *out, size_t size);

#endif
