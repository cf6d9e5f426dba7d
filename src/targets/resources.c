/* resources.c — the resource sampler (resources.h). One thread, one
 * blocking GET /stats per endpoint per tick: a handful of tiny requests a
 * second beside the measured traffic, never through the engine's loop so
 * its timing is untouched. CPU % is the difference of the node's own
 * cumulative invocation CPU over the measured interval between two
 * answers, so a late tick never shows as a spike. */
#include "flowgate/resources.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "flowgate/log.h"
#include "flowgate/http_client.h"

typedef struct series {
    char name[64];
    char url[300];
    const fg_endpoint_opts *opts;
    cJSON *t_s, *cpu_pct, *rss_kb;
    double last_cpu_s, last_t_s;
    int have_last, answered, process_nodes;
} series;

struct fg_resources {
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t wake;
    int stop;
    double t0_mono, interval_s;
    series s[FG_MAX_ENDPOINTS];
    int n;
};

static double r3(double v) { return round(v * 1000.0) / 1000.0; }

static void sample(fg_resources *r, series *s)
{
    cJSON *stats = NULL;
    long code;
    fg_err err = {{0}};
    if (fg_http_get_json_opts(s->url, s->opts, 1, 0.8, &code, &stats, &err) != 0) return;
    double t_s = (fg_now_mono_ms() - r->t0_mono) / 1000.0;
    const cJSON *cpu = cJSON_GetObjectItemCaseSensitive(stats, "cpu_s");
    const cJSON *rss = cJSON_GetObjectItemCaseSensitive(stats, "process_rss_kb");
    const cJSON *nodes = cJSON_GetObjectItemCaseSensitive(stats, "process_nodes");
    if (cJSON_IsNumber(cpu)) {
        cJSON_AddItemToArray(s->t_s, cJSON_CreateNumber(r3(t_s)));
        double dt = t_s - s->last_t_s;
        cJSON_AddItemToArray(s->cpu_pct,
                             s->have_last && dt > 0
                                 ? cJSON_CreateNumber(r3((cpu->valuedouble - s->last_cpu_s) / dt * 100.0))
                                 : cJSON_CreateNull());
        cJSON_AddItemToArray(s->rss_kb, cJSON_IsNumber(rss) ? cJSON_CreateNumber(rss->valuedouble)
                                                            : cJSON_CreateNull());
        if (cJSON_IsNumber(nodes)) s->process_nodes = nodes->valueint;
        s->last_cpu_s = cpu->valuedouble;
        s->last_t_s = t_s;
        s->have_last = 1;
        s->answered = 1;
    }
    cJSON_Delete(stats);
}

static void *run(void *arg)
{
    fg_resources *r = arg;
    pthread_mutex_lock(&r->mu);
    while (!r->stop) {
        pthread_mutex_unlock(&r->mu);
        double start = fg_now_mono_ms();
        for (int i = 0; i < r->n; i++) sample(r, &r->s[i]);
        /* The next tick on the interval's grid, however long this one took. */
        double next_ms = start + r->interval_s * 1000.0;
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        double wait_ms = fmax(0.0, next_ms - fg_now_mono_ms());
        until.tv_sec += (time_t)(wait_ms / 1000.0);
        until.tv_nsec += (long)(fmod(wait_ms, 1000.0) * 1e6);
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
        pthread_mutex_lock(&r->mu);
        while (!r->stop && pthread_cond_timedwait(&r->wake, &r->mu, &until) == 0) {}
    }
    pthread_mutex_unlock(&r->mu);
    return NULL;
}

static int add_series(fg_resources *r, const char *name, const char *base, int endpoint,
                      const fg_cluster *c)
{
    series *s = &r->s[r->n];
    snprintf(s->name, sizeof s->name, "%s", name);
    snprintf(s->url, sizeof s->url, "%s/stats", base);
    s->opts = fg_cluster_endpoint(c, endpoint);
    s->t_s = cJSON_CreateArray();
    s->cpu_pct = cJSON_CreateArray();
    s->rss_kb = cJSON_CreateArray();
    if (!s->t_s || !s->cpu_pct || !s->rss_kb) return -1;
    r->n++;
    return 0;
}

static void free_series(fg_resources *r)
{
    for (int i = 0; i < r->n; i++) {
        cJSON_Delete(r->s[i].t_s);
        cJSON_Delete(r->s[i].cpu_pct);
        cJSON_Delete(r->s[i].rss_kb);
    }
}

fg_resources *fg_resources_start(const fg_cluster *c, double t0_mono, double interval_s)
{
    fg_resources *r = calloc(1, sizeof *r);
    if (!r) return NULL;
    r->t0_mono = t0_mono;
    r->interval_s = interval_s;
    int rc = 0;
    if (c->mode == FG_CLUSTER_NODES)
        for (int i = 0; i < c->n_nodes && rc == 0; i++)
            rc = add_series(r, c->nodes[i].name, c->nodes[i].url, i, c);
    else
        for (int i = 0; i < c->n_functions && rc == 0; i++)
            rc = add_series(r, c->function_names[i], c->function_urls[i], i, c);
    pthread_mutex_init(&r->mu, NULL);
    pthread_cond_init(&r->wake, NULL);
    if (rc != 0 || pthread_create(&r->thread, NULL, run, r) != 0) {
        fg_log(FG_LOG_WARN, "resource sampler not started: no CPU/RSS series this experiment");
        free_series(r);
        pthread_mutex_destroy(&r->mu);
        pthread_cond_destroy(&r->wake);
        free(r);
        return NULL;
    }
    return r;
}

cJSON *fg_resources_stop(fg_resources *r)
{
    if (!r) return NULL;
    pthread_mutex_lock(&r->mu);
    r->stop = 1;
    pthread_cond_signal(&r->wake);
    pthread_mutex_unlock(&r->mu);
    pthread_join(r->thread, NULL);
    cJSON *out = NULL, *nodes = NULL;
    for (int i = 0; i < r->n; i++) {
        series *s = &r->s[i];
        if (!s->answered) continue;
        if (!out) {
            out = cJSON_CreateObject();
            cJSON_AddNumberToObject(out, "interval_s", r->interval_s);
            cJSON_AddStringToObject(out, "source", "GET /stats");
            nodes = cJSON_AddObjectToObject(out, "nodes");
        }
        cJSON *n = cJSON_AddObjectToObject(nodes, s->name);
        cJSON_AddItemToObject(n, "t_s", s->t_s);
        cJSON_AddItemToObject(n, "cpu_pct", s->cpu_pct);
        cJSON_AddItemToObject(n, "rss_kb", s->rss_kb);
        s->t_s = s->cpu_pct = s->rss_kb = NULL;
        char scope[48];
        if (s->process_nodes > 1) snprintf(scope, sizeof scope, "process of %d nodes", s->process_nodes);
        else snprintf(scope, sizeof scope, "node");
        cJSON_AddStringToObject(n, "rss_scope", scope);
    }
    free_series(r);
    pthread_mutex_destroy(&r->mu);
    pthread_cond_destroy(&r->wake);
    free(r);
    return out;
}
