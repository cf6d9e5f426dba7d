/* noise_sampler.c — the background reader behind noise_sampler.h.
 *
 * One thread, one reading every interval: cheap (three small /proc files;
 * its own CPU counts as the run's own, being this process). Readings are
 * cumulative counters, so any two bracket an interval exactly; the list
 * grows with the run and the runner trims it cell by cell. A registered
 * process that has exited keeps its last counters, so its CPU neither
 * vanishes nor turns the difference negative. */
#define _GNU_SOURCE
#include "flowgate/noise_sampler.h"

#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAX_PIDS 16

struct fg_noise_sampler {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    pthread_t thread;
    int stop;
    int interval_ms;
    unsigned char allowed[CPU_SETSIZE];
    pid_t pids[MAX_PIDS];
    double pid_last[MAX_PIDS];   /* last jiffies seen (kept after exit) */
    double pid_base[MAX_PIDS];   /* jiffies when registered */
    int n_pids;
    fg_noise_sample *samples;
    size_t n, cap;
    char *text;                  /* read buffer, under mu */
};

/* /proc/stat's cpuN lines come first; its long "intr" line may be cut. */
#define TEXT_SIZE (256 * 1024)

static int read_text(const char *path, char *buf, size_t size)
{
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    size_t n = fread(buf, 1, size - 1, f);
    fclose(f);
    buf[n] = 0;
    return n > 0 ? 0 : -1;
}

static int pid_jiffies(pid_t pid, double *out)
{
    char path[64], text[1024];
    snprintf(path, sizeof path, "/proc/%ld/stat", (long)pid);
    double self, children;
    if (read_text(path, text, sizeof text) != 0 ||
        fg_noise_parse_pid_stat(text, &self, &children) != 0)
        return -1;
    *out = self + children;
    return 0;
}

/* One reading; called with mu held. */
static int take(fg_noise_sampler *s, fg_noise_sample *out)
{
    char *text = s->text;
    memset(out, 0, sizeof *out);
    if (read_text("/proc/stat", text, TEXT_SIZE) != 0 ||
        fg_noise_parse_proc_stat(text, s->allowed, CPU_SETSIZE, &out->cpu) != 0)
        return -1;
    double own = 0, j;
    if (read_text("/proc/self/stat", text, TEXT_SIZE) == 0) {
        double self, children;
        if (fg_noise_parse_pid_stat(text, &self, &children) == 0) own = self + children;
    }
    for (int i = 0; i < s->n_pids; i++) {
        if (pid_jiffies(s->pids[i], &j) == 0 && j >= s->pid_last[i]) s->pid_last[i] = j;
        own += s->pid_last[i] - s->pid_base[i];
    }
    out->own = own;
    out->t_ms = fg_now_mono_ms();
    return 0;
}

static int append(fg_noise_sampler *s, const fg_noise_sample *x)
{
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 256;
        fg_noise_sample *p = realloc(s->samples, cap * sizeof *p);
        if (!p) return -1;
        s->samples = p;
        s->cap = cap;
    }
    s->samples[s->n++] = *x;
    return 0;
}

static void *loop(void *arg)
{
    fg_noise_sampler *s = arg;
    pthread_mutex_lock(&s->mu);
    while (!s->stop) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        long ns = ts.tv_nsec + (long)s->interval_ms * 1000000L;
        ts.tv_sec += ns / 1000000000L;
        ts.tv_nsec = ns % 1000000000L;
        pthread_cond_timedwait(&s->cv, &s->mu, &ts);
        if (s->stop) break;
        fg_noise_sample x;
        if (take(s, &x) == 0) append(s, &x);
    }
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

fg_noise_sampler *fg_noise_sampler_start(int interval_ms, fg_err *err)
{
    fg_noise_sampler *s = calloc(1, sizeof *s);
    if (!s) {
        fg_err_set(err, "out of memory");
        return NULL;
    }
    if (!(s->text = malloc(TEXT_SIZE))) {
        free(s);
        fg_err_set(err, "out of memory");
        return NULL;
    }
    s->interval_ms = interval_ms > 0 ? interval_ms : FG_NOISE_SAMPLE_MS;
    /* The CPUs this process may run on: contention elsewhere does not slow it. */
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof set, &set) == 0) {
        for (int i = 0; i < CPU_SETSIZE; i++) s->allowed[i] = CPU_ISSET(i, &set) != 0;
    } else {
        memset(s->allowed, 1, sizeof s->allowed);
    }
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->cv, NULL);
    fg_noise_sample x;
    if (take(s, &x) != 0 || append(s, &x) != 0) {
        fg_err_set(err, "noise: cannot read /proc/stat");
        goto fail;
    }
    if (pthread_create(&s->thread, NULL, loop, s) != 0) {
        fg_err_set(err, "noise: cannot start the sampler thread");
        goto fail;
    }
    return s;
fail:
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->cv);
    free(s->samples);
    free(s->text);
    free(s);
    return NULL;
}

int fg_noise_sampler_add_pid(fg_noise_sampler *s, pid_t pid)
{
    double j;
    if (!s || pid <= 0 || pid_jiffies(pid, &j) != 0) return -1;
    pthread_mutex_lock(&s->mu);
    int rc = -1;
    int known = 0;
    for (int i = 0; i < s->n_pids; i++) known |= s->pids[i] == pid;
    if (!known && s->n_pids < MAX_PIDS) {
        s->pids[s->n_pids] = pid;
        s->pid_base[s->n_pids] = s->pid_last[s->n_pids] = j;
        s->n_pids++;
        /* A fresh reading: the interval from here on counts pid as own. */
        fg_noise_sample x;
        if (take(s, &x) == 0) append(s, &x);
        rc = 0;
    }
    pthread_mutex_unlock(&s->mu);
    return rc;
}

int fg_noise_sampler_share(fg_noise_sampler *s, double from_ms, double to_ms, double extra_own_s,
                           fg_noise_share *out)
{
    memset(out, 0, sizeof *out);
    out->share = out->steal_share = out->own_share = NAN;
    if (!s) return -1;
    pthread_mutex_lock(&s->mu);
    if (s->n == 0 || s->samples[s->n - 1].t_ms < to_ms) {
        fg_noise_sample x;
        if (take(s, &x) == 0) append(s, &x);
    }
    size_t a = 0, b = s->n;
    for (size_t i = 0; i < s->n && s->samples[i].t_ms <= from_ms; i++) a = i;
    for (size_t i = a + 1; i < s->n; i++)
        if (s->samples[i].t_ms >= to_ms) {
            b = i;
            break;
        }
    if (b == s->n && s->n > a + 1) b = s->n - 1;   /* to_ms in the future: up to now */
    int rc = -1;
    if (b < s->n && b > a) {
        fg_noise_between(&s->samples[a], &s->samples[b], (double)sysconf(_SC_CLK_TCK),
                         extra_own_s, out);
        rc = isnan(out->share) ? -1 : 0;
    }
    pthread_mutex_unlock(&s->mu);
    return rc;
}

double fg_noise_sampler_since_ms(fg_noise_sampler *s)
{
    pthread_mutex_lock(&s->mu);
    double t = s->n ? s->samples[0].t_ms : NAN;
    pthread_mutex_unlock(&s->mu);
    return t;
}

void fg_noise_sampler_forget(fg_noise_sampler *s, double t_ms)
{
    if (!s) return;
    pthread_mutex_lock(&s->mu);
    size_t keep = 0;   /* the last reading before t_ms stays: it brackets t_ms */
    while (keep + 1 < s->n && s->samples[keep + 1].t_ms <= t_ms) keep++;
    if (keep > 0) {
        memmove(s->samples, s->samples + keep, (s->n - keep) * sizeof *s->samples);
        s->n -= keep;
    }
    pthread_mutex_unlock(&s->mu);
}

void fg_noise_sampler_stop(fg_noise_sampler *s)
{
    if (!s) return;
    pthread_mutex_lock(&s->mu);
    s->stop = 1;
    pthread_cond_signal(&s->cv);
    pthread_mutex_unlock(&s->mu);
    pthread_join(s->thread, NULL);
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->cv);
    free(s->samples);
    free(s->text);
    free(s);
}
