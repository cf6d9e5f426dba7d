/* noise_sampler.h — the foreign CPU share (noise.h) measured continuously
 * during a run: a thread reads /proc/stat (the CPUs of this process's
 * affinity mask), /proc/self/stat and /proc/<pid>/stat of each registered
 * process of the run every interval, and keeps the timestamped readings,
 * so any interval of the run — before a cell, its warm-up, its measurement
 * window, after it — gets its share afterwards from the readings around it.
 *
 * Own CPU = this process (every thread, plus the children it has reaped)
 * + each registered process (the embedded server, a node server on this
 * machine found by its pid). Not counted as own, so counted as foreign:
 * children of other processes, our own children that are neither
 * registered nor reaped yet, and containers (their cgroup time is
 * subtracted by the caller: extra_own_s). */
#ifndef FLOWGATE_NOISE_SAMPLER_H
#define FLOWGATE_NOISE_SAMPLER_H
#include <sys/types.h>
#include "flowgate/common.h"
#include "flowgate/noise.h"

typedef struct fg_noise_sampler fg_noise_sampler;

/* Starts the thread (first reading at once); NULL and err when /proc/stat
 * cannot be read. */
fg_noise_sampler *fg_noise_sampler_start(int interval_ms, fg_err *err);
/* Counts pid's CPU as the run's own from now on (its earlier CPU is not
 * counted: only differences matter). Ignored when /proc/<pid>/stat is not
 * readable. Returns 0 when added. */
int fg_noise_sampler_add_pid(fg_noise_sampler *s, pid_t pid);
/* The share over [from_ms, to_ms] (monotonic, fg_now_mono_ms): from the
 * last reading at or before from_ms to the first at or after to_ms (one is
 * taken now when to_ms has not been reached by a reading). -1 with
 * out->share NAN when there is no such pair. */
int fg_noise_sampler_share(fg_noise_sampler *s, double from_ms, double to_ms, double extra_own_s,
                           fg_noise_share *out);
/* Time of the first reading kept. */
double fg_noise_sampler_since_ms(fg_noise_sampler *s);
/* Drops readings older than t_ms, keeping the last one before it. */
void fg_noise_sampler_forget(fg_noise_sampler *s, double t_ms);
void fg_noise_sampler_stop(fg_noise_sampler *s);

#define FG_NOISE_SAMPLE_MS 100
#define FG_NOISE_SOURCE "/proc/stat (busy+steal of the CPUs in the affinity mask) minus own processes' CPU"

#endif
