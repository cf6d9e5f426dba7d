/* noise.c — parsing of /proc/stat and /proc/<pid>/stat, and the foreign
 * CPU share between two readings (noise.h). No I/O here: the sampler
 * (src/run/noise_sampler.c) reads the files, so everything that decides a
 * figure is tested on canned text. Counters are jiffies; differences of
 * cumulative counters give an interval's figures, whatever the sampling
 * rate. */
#include "flowgate/noise.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Reads up to max unsigned numbers after p (to the end of the line). */
static int numbers(const char *p, double *out, int max)
{
    int n = 0;
    while (n < max) {
        while (*p == ' ' || *p == '\t') p++;
        if (*p < '0' || *p > '9') break;
        char *end;
        out[n++] = strtod(p, &end);
        p = end;
    }
    /* Anything but more numbers or the line's end is malformed. */
    while (*p == ' ' || *p == '\t') p++;
    if (n == max) return n;
    return (*p == '\n' || *p == 0) ? n : -1;
}

int fg_noise_parse_proc_stat(const char *text, const unsigned char *allowed, int n_allowed,
                             fg_cpu_jiffies *out)
{
    memset(out, 0, sizeof *out);
    if (!text) return -1;
    for (const char *line = text; *line;) {
        const char *next = strchr(line, '\n');
        next = next ? next + 1 : line + strlen(line);
        /* "cpuN ..." only: "cpu " is the sum over all CPUs, not one of them. */
        if (!strncmp(line, "cpu", 3) && line[3] >= '0' && line[3] <= '9') {
            char *end;
            long cpu = strtol(line + 3, &end, 10);
            if (*end != ' ' && *end != '\t') return -1;
            if (!allowed || (cpu < n_allowed && allowed[cpu])) {
                /* user nice system idle iowait irq softirq steal guest guest_nice */
                double f[10] = {0};
                int n = numbers(end, f, 10);
                if (n < 4) return -1;
                out->busy += f[0] + f[1] + f[2] + f[5] + f[6];
                out->steal += f[7];
                out->total += f[0] + f[1] + f[2] + f[3] + f[4] + f[5] + f[6] + f[7];
                out->cpus++;
            }
        }
        line = next;
    }
    return out->cpus > 0 ? 0 : -1;
}

int fg_noise_parse_pid_stat(const char *text, double *self, double *children)
{
    const char *p = text ? strrchr(text, ')') : NULL;
    if (!p) return -1;
    p++;
    /* After ')': state (field 3) ... utime 14, stime 15, cutime 16, cstime 17. */
    double v[4];
    int field = 3, got = 0;
    while (*p && got < 4) {
        while (*p == ' ') p++;
        if (!*p || *p == '\n') break;
        const char *tok = p;
        while (*p && *p != ' ' && *p != '\n') p++;
        if (field >= 14 && field <= 17) {
            char *end;
            v[got] = strtod(tok, &end);
            if (end != p || !isfinite(v[got])) return -1;
            got++;
        }
        field++;
    }
    if (got < 4) return -1;
    *self = v[0] + v[1];
    *children = fabs(v[2]) + fabs(v[3]);   /* signed in the kernel's format; never negative */
    return 0;
}

void fg_noise_between(const fg_noise_sample *a, const fg_noise_sample *b, double hz,
                      double extra_own_s, fg_noise_share *out)
{
    memset(out, 0, sizeof *out);
    out->share = out->steal_share = out->own_share = NAN;
    out->interval_s = (b->t_ms - a->t_ms) / 1000.0;
    out->cpus = b->cpu.cpus;
    double total = b->cpu.total - a->cpu.total;
    if (!(total > 0) || !(hz > 0) || a->cpu.cpus != b->cpu.cpus) return;
    double busy = b->cpu.busy - a->cpu.busy, steal = b->cpu.steal - a->cpu.steal;
    double own = b->own - a->own + (extra_own_s > 0 ? extra_own_s * hz : 0);
    if (own < 0) own = 0;
    /* Tick accounting rounds per process and per CPU: own may exceed busy
     * by a tick or two; the share is never below 0 or above 1. */
    double foreign = busy + steal - own;
    if (foreign < 0) foreign = 0;
    out->share = fmin(1.0, foreign / total);
    out->steal_share = fmin(1.0, fmax(0, steal) / total);
    out->own_share = fmin(1.0, own / total);
    out->foreign_cpu_s = foreign / hz;
    out->own_cpu_s = own / hz;
}

double fg_noise_time_factor(double share)
{
    if (!(share > 0)) return 1.0;
    return 1.0 / (1.0 - fmin(share, FG_NOISE_LIMIT));
}

double fg_noise_explain_factor(double share)
{
    if (!(share > 0)) return 1.0;
    return 1.0 / (1.0 - fmin(share, FG_NOISE_EXPLAIN_MAX));
}

int fg_noise_beyond(double share)
{
    return share > FG_NOISE_LIMIT;
}
