/* noise.h — how much of the machine other processes took while a run
 * measured: "noise seen, not guessed". The machine probe (machine.h) keeps
 * the fastest of its rounds, so it tells how fast the machine can be, not
 * how busy it is; this module measures the contention itself.
 *
 * Foreign CPU share over an interval = (busy + steal jiffies of the CPUs the
 * run may use, from /proc/stat) minus (CPU time of flowgate's own
 * processes: the driver, the server it started, ...), divided by all
 * jiffies of those CPUs (= wall x cores). 0: the run had the cores to
 * itself; 0.5 on 2 cores: one core was taken by something else.
 *
 * Pure parsing and arithmetic here (unit-tested on canned /proc text); the
 * sampler that reads /proc during a run is noise_sampler.h. The rule that
 * turns the share into wider bounds or an inconclusive verdict is
 * fg_noise_time_factor / fg_noise_beyond, applied by thresholds.c. */
#ifndef FLOWGATE_NOISE_H
#define FLOWGATE_NOISE_H

/* Above this foreign share during a cell's measurement window the bounds
 * no longer hold: a failing time or rate check is inconclusive. At or below
 * it, time bounds are widened by 1 / (1 - share) (at most 1/(1-0.25) =
 * 1.33x) and rate bounds narrowed by (1 - share): the run got (1 - share) of
 * the cores it expects. */
#define FG_NOISE_LIMIT 0.25
/* Beyond the limit a failure is inconclusive only when the contention
 * could explain it: the run got (1 - share) of the cores, so a time at
 * most limit / (1 - share) (a rate at least limit x (1 - share)); the
 * share counts at most 0.9 here (10x). A failure past that is red however
 * busy the machine was: an impossible bound must still fail. */
#define FG_NOISE_EXPLAIN_MAX 0.9

/* Jiffies (USER_HZ ticks) summed over the counted CPUs of /proc/stat. */
typedef struct fg_cpu_jiffies {
    double busy;    /* user + nice + system + irq + softirq (guest is inside user) */
    double steal;   /* taken by the hypervisor for other guests */
    double total;   /* every field but guest: busy + idle + iowait + steal */
    int cpus;       /* cpuN lines counted */
} fg_cpu_jiffies;

/* Sums the "cpuN" lines of /proc/stat text for the CPUs with allowed[N]
 * nonzero (N < n_allowed); allowed NULL: every CPU. -1 when no line was
 * counted or a counted line is malformed. */
int fg_noise_parse_proc_stat(const char *text, const unsigned char *allowed, int n_allowed,
                             fg_cpu_jiffies *out);

/* /proc/<pid>/stat text: utime + stime of the process (all its threads)
 * into *self, cutime + cstime (children it has reaped) into *children, in
 * jiffies. The command name may hold spaces and ')': fields are read after
 * the last ')'. -1 on malformed text. */
int fg_noise_parse_pid_stat(const char *text, double *self, double *children);

/* One reading: monotonic time, the CPUs' counters, own processes' jiffies. */
typedef struct fg_noise_sample {
    double t_ms;
    fg_cpu_jiffies cpu;
    double own;
} fg_noise_sample;

typedef struct fg_noise_share {
    double share;          /* foreign CPU / (wall x cores), in [0, 1]; NAN: no interval */
    double steal_share;    /* the hypervisor's part of it */
    double own_share;      /* flowgate's own processes, same units */
    double foreign_cpu_s, own_cpu_s;
    double interval_s;     /* wall time between the two samples */
    int cpus;
} fg_noise_share;

/* The share between samples a and b (b later). extra_own_s: CPU seconds of
 * the run's own work the samples do not see (container nodes' cgroup
 * time), subtracted from the foreign part. hz: jiffies per second. */
void fg_noise_between(const fg_noise_sample *a, const fg_noise_sample *b, double hz,
                      double extra_own_s, fg_noise_share *out);

/* The rule. Factor for time bounds: 1 / (1 - min(share, FG_NOISE_LIMIT));
 * 1 for NAN or share <= 0. Rate bounds are divided by it. */
double fg_noise_time_factor(double share);
/* The most a slowdown the share can explain: 1 / (1 - min(share,
 * FG_NOISE_EXPLAIN_MAX)); 1 for NAN or share <= 0. */
double fg_noise_explain_factor(double share);
/* 1 when the share is beyond what the bounds allow (> FG_NOISE_LIMIT). */
int fg_noise_beyond(double share);

#endif
