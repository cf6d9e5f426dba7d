/* fold.c — results → cells (fold.h). The results document is read only
 * through results.h. Repeats of a cell are averaged metric by metric over
 * the repeats that measured it, so a metric one repeat lacks is not
 * dragged towards zero; function stages are weighted by their counts. */
#include "fold.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flowgate/json.h"
#include "flowgate/results.h"

static const char *const metric_names[M_COUNT] = {
    "throughput_rps", "p50_ms", "p95_ms", "p99_ms", "success_rate"};
static const char *const stage_names[S_COUNT] = {"transfer_ms", "queue_ms", "exec_ms"};

static void avg_add(fg_fold_avg *a, double v) { a->sum += v; a->n++; }
int fg_fold_mean(const fg_fold_avg *a, double *out)
{
    if (a->n == 0) return -1;
    *out = a->sum / a->n;
    return 0;
}

int fg_fold_name_index(char (*list)[32], int *n, int max, const char *s)
{
    for (int i = 0; i < *n; i++)
        if (!strcmp(list[i], s)) return i;
    if (*n == max) return -1;
    snprintf(list[*n], 32, "%s", s);
    return (*n)++;
}

static int index_of_size(fg_fold *f, double mb)
{
    for (int i = 0; i < f->n_size; i++)
        if (fabs(f->sizes[i] - mb) < 1e-9) return i;
    if (f->n_size == FG_FOLD_MAX_SIZES) return -1;
    f->sizes[f->n_size] = mb;
    return f->n_size++;
}

static int index_of_conc(fg_fold *f, int c)
{
    for (int i = 0; i < f->n_conc; i++)
        if (f->concs[i] == c) return i;
    if (f->n_conc == FG_FOLD_MAX_CONC) return -1;
    f->concs[f->n_conc] = c;
    return f->n_conc++;
}

static int index_of_func(fg_fold *f, const char *name)
{
    for (int i = 0; i < f->n_func; i++)
        if (!strcmp(f->funcs[i], name)) return i;
    if (f->n_func == FG_FOLD_MAX_FUNCS) return -1;
    snprintf(f->funcs[f->n_func], sizeof f->funcs[0], "%s", name);
    return f->n_func++;
}

/* Keeps the axes sorted so lines and bars come out in order. */
static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}
static int cmp_int(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

const fg_fold_cell *fg_fold_find(const fg_fold *f, int s, int z, int c)
{
    for (int i = 0; i < f->n_cells; i++)
        if (f->cells[i].sched == s && f->cells[i].size == z && f->cells[i].conc == c)
            return &f->cells[i];
    return NULL;
}

int fg_fold_results(const cJSON *root, fg_fold *f, fg_err *err)
{
    const cJSON *exps = fg_results_experiments(root);
    const cJSON *e;
    memset(f, 0, sizeof *f);
    /* First pass: the axes, sorted. */
    cJSON_ArrayForEach(e, exps) {
        const cJSON *sched = cJSON_GetObjectItemCaseSensitive(e, "scheduler");
        const cJSON *mb = cJSON_GetObjectItemCaseSensitive(e, "input_mb");
        const cJSON *conc = cJSON_GetObjectItemCaseSensitive(e, "concurrency");
        if (!cJSON_IsString(sched) || !cJSON_IsNumber(mb) || !cJSON_IsNumber(conc))
            return fg_err_set(err, "experiment without scheduler/input_mb/concurrency");
        if (fg_fold_name_index(f->scheds, &f->n_sched, FG_FOLD_MAX_SCHED, sched->valuestring) < 0 ||
            index_of_size(f, mb->valuedouble) < 0 || index_of_conc(f, conc->valueint) < 0)
            return fg_err_set(err, "too many schedulers, sizes or concurrency levels to plot");
    }
    qsort(f->sizes, f->n_size, sizeof f->sizes[0], cmp_double);
    qsort(f->concs, f->n_conc, sizeof f->concs[0], cmp_int);

    /* Second pass: the cells and the function stages. */
    cJSON_ArrayForEach(e, exps) {
        const char *sname = cJSON_GetObjectItemCaseSensitive(e, "scheduler")->valuestring;
        int s = fg_fold_name_index(f->scheds, &f->n_sched, FG_FOLD_MAX_SCHED, sname);
        int z = index_of_size(f, cJSON_GetObjectItemCaseSensitive(e, "input_mb")->valuedouble);
        int c = index_of_conc(f, cJSON_GetObjectItemCaseSensitive(e, "concurrency")->valueint);
        fg_fold_cell *k = (fg_fold_cell *)fg_fold_find(f, s, z, c);
        if (!k) {
            if (f->n_cells == FG_FOLD_MAX_CELLS)
                return fg_err_set(err, "more than %d cells to plot", FG_FOLD_MAX_CELLS);
            k = &f->cells[f->n_cells++];
            k->sched = s; k->size = z; k->conc = c;
            const cJSON *id = cJSON_GetObjectItemCaseSensitive(e, "experiment_id");
            snprintf(k->id, sizeof k->id, "%s", cJSON_IsString(id) ? id->valuestring : "?");
            const cJSON *tl = cJSON_GetObjectItemCaseSensitive(e, "timeline");
            if (cJSON_IsString(tl) && tl->valuestring[0]) k->timeline = tl;
        }
        const cJSON *res = cJSON_GetObjectItemCaseSensitive(e, "resources");
        if (!k->resources && cJSON_IsObject(res)) {
            k->resources = res;
            const cJSON *w = cJSON_GetObjectItemCaseSensitive(e, "window");
            k->window[0] = fg_json_number(w, "start_s");
            k->window[1] = fg_json_number(w, "end_s");
        }
        for (int m = 0; m < M_COUNT; m++) {
            double v;
            if (fg_results_metric(e, metric_names[m], &v) == 0 && isfinite(v)) avg_add(&k->m[m], v);
        }
        double sent;
        if (fg_results_metric(e, "requests.sent", &sent) == 0) k->sent += sent;
        for (int p = 0; p < FG_PLOT_PARTS; p++) {
            char path[64];
            snprintf(path, sizeof path, "bottleneck.mean_ms.%s", fg_plot_parts[p]);
            double v;
            if (fg_results_metric(e, path, &v) == 0 && isfinite(v)) avg_add(&k->crit[p], v);
        }

        const cJSON *fn;
        cJSON_ArrayForEach(fn, cJSON_GetObjectItemCaseSensitive(e, "functions")) {
            int fi = index_of_func(f, fn->string);
            if (fi < 0) return fg_err_set(err, "more than %d functions to plot", FG_FOLD_MAX_FUNCS);
            for (int st = 0; st < S_COUNT; st++) {
                const cJSON *stats = cJSON_GetObjectItemCaseSensitive(fn, stage_names[st]);
                const cJSON *count = cJSON_GetObjectItemCaseSensitive(stats, "count");
                const cJSON *mean = cJSON_GetObjectItemCaseSensitive(stats, "mean");
                if (!cJSON_IsNumber(count) || count->valuedouble <= 0 || !cJSON_IsNumber(mean)) continue;
                f->stages[z][fi][st].weighted += mean->valuedouble * count->valuedouble;
                f->stages[z][fi][st].count += count->valuedouble;
            }
        }
    }
    return 0;
}

const char *fg_fold_short_name(const char *name)
{
    const char *sep = strstr(name, "__");
    return sep ? sep + 2 : name;
}
