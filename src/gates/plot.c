/* plot.c — results file → gnuplot data files → PNG/SVG charts.
 *
 * Design: the results document is read only through results.h. Experiments
 * are folded into cells (scheduler, size, concurrency); repeats of a cell
 * are averaged, metric by metric, over the repeats that measured it. Each
 * chart has one data file whose layout plot.h documents, so the scripts in
 * plots/ stay dumb. A chart whose data file would be empty is not drawn:
 * we only plot what was measured. gnuplot runs as a child process
 * (posix_spawn, no shell) with the paths passed as -e variables. */
#include "flowgate/plot.h"
#include "flowgate/scenario_report.h"
#include "flowgate/json.h"
#include "flowgate/log.h"
#include "flowgate/results.h"

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

#define MAX_CELLS 256
#define MAX_SIZES 16
#define MAX_CONC 16
#define MAX_SCHED 8
#define MAX_FUNCS 16

enum { M_TP, M_P50, M_P95, M_P99, M_SUCCESS, M_COUNT };
static const char *const metric_names[M_COUNT] = {
    "throughput_rps", "p50_ms", "p95_ms", "p99_ms", "success_rate"};

/* Mean over the repeats that measured the metric. */
typedef struct avg { double sum; int n; } avg;

static void avg_add(avg *a, double v) { a->sum += v; a->n++; }
static int avg_get(const avg *a, double *out)
{
    if (a->n == 0) return -1;
    *out = a->sum / a->n;
    return 0;
}

/* The critical path's parts, in the order of the results' "bottleneck". */
const char *const fg_plot_parts[FG_PLOT_PARTS] = {"exec", "transfer", "queue", "driver"};

typedef struct cell {
    int sched, size, conc;          /* indexes into the axes */
    avg m[M_COUNT];
    double sent;
    const cJSON *timeline;          /* "timeline" path of the first repeat */
    avg crit[FG_PLOT_PARTS];        /* bottleneck.mean_ms per part, over repeats */
    const cJSON *resources;         /* "resources" of the first repeat that has them */
    double window[2];               /* its "window" start_s, end_s; -1: none */
    char id[128];
} cell;

/* Count-weighted mean of a function's stage over every cell of one size. */
typedef struct stage_acc { double weighted; double count; } stage_acc;
enum { S_TRANSFER, S_QUEUE, S_EXEC, S_COUNT };
static const char *const stage_names[S_COUNT] = {"transfer_ms", "queue_ms", "exec_ms"};

typedef struct fold {
    char scheds[MAX_SCHED][32]; int n_sched;
    double sizes[MAX_SIZES]; int n_size;
    int concs[MAX_CONC]; int n_conc;
    char funcs[MAX_FUNCS][64]; int n_func;
    cell cells[MAX_CELLS]; int n_cells;
    stage_acc stages[MAX_SIZES][MAX_FUNCS][S_COUNT];
} fold;

static int index_of_str(char (*list)[32], int *n, int max, const char *s)
{
    for (int i = 0; i < *n; i++)
        if (!strcmp(list[i], s)) return i;
    if (*n == max) return -1;
    snprintf(list[*n], 32, "%s", s);
    return (*n)++;
}

static int index_of_size(fold *f, double mb)
{
    for (int i = 0; i < f->n_size; i++)
        if (fabs(f->sizes[i] - mb) < 1e-9) return i;
    if (f->n_size == MAX_SIZES) return -1;
    f->sizes[f->n_size] = mb;
    return f->n_size++;
}

static int index_of_conc(fold *f, int c)
{
    for (int i = 0; i < f->n_conc; i++)
        if (f->concs[i] == c) return i;
    if (f->n_conc == MAX_CONC) return -1;
    f->concs[f->n_conc] = c;
    return f->n_conc++;
}

static int index_of_func(fold *f, const char *name)
{
    for (int i = 0; i < f->n_func; i++)
        if (!strcmp(f->funcs[i], name)) return i;
    if (f->n_func == MAX_FUNCS) return -1;
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

static const cell *find_cell(const fold *f, int s, int z, int c)
{
    for (int i = 0; i < f->n_cells; i++)
        if (f->cells[i].sched == s && f->cells[i].size == z && f->cells[i].conc == c)
            return &f->cells[i];
    return NULL;
}

static int fold_results(const cJSON *root, fold *f, fg_err *err)
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
        if (index_of_str(f->scheds, &f->n_sched, MAX_SCHED, sched->valuestring) < 0 ||
            index_of_size(f, mb->valuedouble) < 0 || index_of_conc(f, conc->valueint) < 0)
            return fg_err_set(err, "too many schedulers, sizes or concurrency levels to plot");
    }
    qsort(f->sizes, f->n_size, sizeof f->sizes[0], cmp_double);
    qsort(f->concs, f->n_conc, sizeof f->concs[0], cmp_int);

    /* Second pass: the cells and the function stages. */
    cJSON_ArrayForEach(e, exps) {
        const char *sname = cJSON_GetObjectItemCaseSensitive(e, "scheduler")->valuestring;
        int s = index_of_str(f->scheds, &f->n_sched, MAX_SCHED, sname);
        int z = index_of_size(f, cJSON_GetObjectItemCaseSensitive(e, "input_mb")->valuedouble);
        int c = index_of_conc(f, cJSON_GetObjectItemCaseSensitive(e, "concurrency")->valueint);
        cell *k = (cell *)find_cell(f, s, z, c);
        if (!k) {
            if (f->n_cells == MAX_CELLS) return fg_err_set(err, "more than %d cells to plot", MAX_CELLS);
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
            if (fi < 0) return fg_err_set(err, "more than %d functions to plot", MAX_FUNCS);
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

static FILE *open_data(const char *dir, const char *name, fg_err *err)
{
    char path[1200];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *out = fopen(path, "w");
    if (!out) fg_err_set(err, "%s: cannot create: %s", path, strerror(errno));
    return out;
}

static int close_data(FILE *out, const char *dir, const char *name, fg_err *err)
{
    int bad = ferror(out);
    if (fclose(out) != 0 || bad) return fg_err_set(err, "%s/%s: write error", dir, name);
    return 0;
}

/* "recognizer__extract" → "extract": the chart has little room. */
static const char *short_function(const char *name)
{
    const char *sep = strstr(name, "__");
    return sep ? sep + 2 : name;
}

static void format_mb(double mb, char *out, size_t n)
{
    fg_format_mb(mb, out, n);
}

/* Block per (scheduler, size): concurrency → throughput. */
static int write_throughput(const fold *f, const char *dir, fg_plot_summary *s, fg_err *err)
{
    FILE *out = open_data(dir, "throughput.dat", err);
    if (!out) return -1;
    fprintf(out, "# throughput (completed workflows/s) vs concurrency; one block per scheduler and input size\n");
    for (int sc = 0; sc < f->n_sched; sc++)
        for (int z = 0; z < f->n_size; z++) {
            int rows = 0;
            for (int c = 0; c < f->n_conc; c++) {
                const cell *k = find_cell(f, sc, z, c);
                double v;
                if (!k || avg_get(&k->m[M_TP], &v) != 0) continue;
                if (rows++ == 0) {
                    char mb[32];
                    format_mb(f->sizes[z], mb, sizeof mb);
                    fprintf(out, "%s\"%s %s MB\" \"rps\"\n", s->throughput_blocks ? "\n\n" : "",
                            f->scheds[sc], mb);
                    s->throughput_blocks++;
                }
                fprintf(out, "%d %.6g\n", f->concs[c], v);
            }
        }
    return close_data(out, dir, "throughput.dat", err);
}

/* Block per (scheduler, concurrency): size → p50 p95 p99. */
static int write_latency(const fold *f, const char *dir, fg_plot_summary *s, fg_err *err)
{
    FILE *out = open_data(dir, "latency.dat", err);
    if (!out) return -1;
    fprintf(out, "# end-to-end latency percentiles (ms) vs input size (MB); one block per scheduler and concurrency\n");
    for (int sc = 0; sc < f->n_sched; sc++)
        for (int c = 0; c < f->n_conc; c++) {
            int rows = 0;
            for (int z = 0; z < f->n_size; z++) {
                const cell *k = find_cell(f, sc, z, c);
                double p50;
                /* A percentile the sample count cannot resolve (p99 of 20
                 * samples) is "?", not a reason to drop the row. */
                if (!k || avg_get(&k->m[M_P50], &p50)) continue;
                if (rows++ == 0) {
                    fprintf(out, "%s\"%s conc %d\" \"p50\" \"p95\" \"p99\"\n",
                            s->latency_blocks ? "\n\n" : "", f->scheds[sc], f->concs[c]);
                    s->latency_blocks++;
                }
                fprintf(out, "%.6g %.6g", f->sizes[z], p50);
                for (int m = M_P95; m <= M_P99; m++) {
                    double v;
                    if (avg_get(&k->m[m], &v) == 0) {
                        fprintf(out, " %.6g", v);
                        if (m == M_P99) s->latency_p99_points++;
                        else s->latency_p95_points++;
                    } else {
                        fprintf(out, " ?");
                    }
                }
                fprintf(out, "\n");
            }
        }
    return close_data(out, dir, "latency.dat", err);
}

static void cell_label(const fold *f, const cell *k, int with_sched, char *out, size_t n)
{
    char mb[32];
    format_mb(f->sizes[k->size], mb, sizeof mb);
    if (with_sched) snprintf(out, n, "%sMB c%d %s", mb, f->concs[k->conc], f->scheds[k->sched]);
    else snprintf(out, n, "%sMB c%d", mb, f->concs[k->conc]);
}

/* Cells in axis order: scheduler, size, concurrency. */
static int write_success(const fold *f, const char *dir, fg_plot_summary *s, fg_err *err)
{
    FILE *out = open_data(dir, "success.dat", err);
    if (!out) return -1;
    fprintf(out, "# index label success_rate requests_sent\n");
    for (int sc = 0; sc < f->n_sched; sc++)
        for (int z = 0; z < f->n_size; z++)
            for (int c = 0; c < f->n_conc; c++) {
                const cell *k = find_cell(f, sc, z, c);
                double v;
                if (!k || avg_get(&k->m[M_SUCCESS], &v) != 0) continue;
                char label[96];
                cell_label(f, k, f->n_sched > 1, label, sizeof label);
                fprintf(out, "%d \"%s\" %.6g %.0f\n", s->success_rows++, label, v, k->sent);
            }
    return close_data(out, dir, "success.dat", err);
}

/* Row per cell that was attributed, in axis order: where its requests'
 * time went along the critical path, and the largest part. */
static int write_bottleneck(const fold *f, const char *dir, fg_plot_summary *s, fg_err *err)
{
    FILE *out = open_data(dir, "bottleneck.dat", err);
    if (!out) return -1;
    fprintf(out, "# label exec_ms transfer_ms queue_ms driver_ms dominant (critical path, mean over requests and repeats)\n");
    for (int sc = 0; sc < f->n_sched; sc++)
        for (int z = 0; z < f->n_size; z++)
            for (int c = 0; c < f->n_conc; c++) {
                const cell *k = find_cell(f, sc, z, c);
                double v[FG_PLOT_PARTS];
                int p = 0;
                while (k && p < FG_PLOT_PARTS && avg_get(&k->crit[p], &v[p]) == 0) p++;
                if (p < FG_PLOT_PARTS) continue;
                int dom = 0;
                for (p = 1; p < FG_PLOT_PARTS; p++)
                    if (v[p] > v[dom]) dom = p;
                char label[96];
                cell_label(f, k, f->n_sched > 1, label, sizeof label);
                fprintf(out, "\"%s\" %.6g %.6g %.6g %.6g \"%s\"\n", label, v[0], v[1], v[2], v[3],
                        fg_plot_parts[dom]);
                s->bottleneck_rows++;
            }
    return close_data(out, dir, "bottleneck.dat", err);
}

/* The per-node CPU and RSS series of the cell with the most requests that
 * has them (the run's main load), one block per node; null samples "?". */
static int write_resources(const fold *f, const char *dir, fg_plot_summary *s, fg_err *err)
{
    FILE *out = open_data(dir, "resources.dat", err);
    if (!out) return -1;
    fprintf(out, "# one block per node: t_s cpu_pct rss_mb (s since the experiment's start)\n");
    const cell *best = NULL;
    for (int i = 0; i < f->n_cells; i++)
        if (f->cells[i].resources && (!best || f->cells[i].sent > best->sent)) best = &f->cells[i];
    s->window_start_s = s->window_end_s = -1;
    if (!best) return close_data(out, dir, "resources.dat", err);
    const cJSON *node;
    cJSON_ArrayForEach(node, cJSON_GetObjectItemCaseSensitive(best->resources, "nodes")) {
        const cJSON *t = cJSON_GetObjectItemCaseSensitive(node, "t_s");
        const cJSON *cpu = cJSON_GetObjectItemCaseSensitive(node, "cpu_pct");
        const cJSON *rss = cJSON_GetObjectItemCaseSensitive(node, "rss_kb");
        int n = cJSON_GetArraySize(t);
        /* A series needs two samples (a run shorter than the interval has
         * one: nothing to draw, and gnuplot refuses a zero-width axis). */
        if (n < 2) continue;
        fprintf(out, "%s\"%s\" \"cpu\" \"rss\"\n", s->resources_blocks ? "\n\n" : "", node->string);
        for (int i = 0; i < n; i++) {
            const cJSON *ti = cJSON_GetArrayItem(t, i), *ci = cJSON_GetArrayItem(cpu, i);
            const cJSON *ri = cJSON_GetArrayItem(rss, i);
            if (!cJSON_IsNumber(ti)) continue;
            fprintf(out, "%.3f", ti->valuedouble);
            if (cJSON_IsNumber(ci)) fprintf(out, " %.3f", ci->valuedouble);
            else fprintf(out, " ?");
            if (cJSON_IsNumber(ri)) fprintf(out, " %.3f\n", ri->valuedouble / 1024.0);
            else fprintf(out, " ?\n");
        }
        s->resources_blocks++;
    }
    if (s->resources_blocks) {
        snprintf(s->resources_cell, sizeof s->resources_cell, "%s", best->id);
        if (isfinite(best->window[0]) && isfinite(best->window[1])) {
            s->window_start_s = best->window[0];
            s->window_end_s = best->window[1];
        }
    }
    return close_data(out, dir, "resources.dat", err);
}

/* Row per (size, function) that measured at least one stage. */
static int write_functions(const fold *f, const char *dir, fg_plot_summary *s, fg_err *err)
{
    FILE *out = open_data(dir, "functions.dat", err);
    if (!out) return -1;
    fprintf(out, "# label transfer_ms queue_ms exec_ms (count-weighted means over the size's cells; ? = not measured)\n");
    for (int z = 0; z < f->n_size; z++)
        for (int fi = 0; fi < f->n_func; fi++) {
            const stage_acc *st = f->stages[z][fi];
            if (st[S_TRANSFER].count == 0 && st[S_QUEUE].count == 0 && st[S_EXEC].count == 0) continue;
            char mb[32];
            format_mb(f->sizes[z], mb, sizeof mb);
            fprintf(out, "\"%s %sMB\"", short_function(f->funcs[fi]), mb);
            for (int k = 0; k < S_COUNT; k++) {
                if (st[k].count > 0) fprintf(out, " %.6g", st[k].weighted / st[k].count);
                else fprintf(out, " ?");
            }
            fprintf(out, "\n");
            s->function_rows++;
        }
    return close_data(out, dir, "functions.dat", err);
}

/* Row per (size, concurrency): p95 of each scheduler, then rps of each. */
static int write_schedulers(const fold *f, const char *dir, fg_plot_summary *s, fg_err *err)
{
    FILE *out = open_data(dir, "schedulers.dat", err);
    if (!out) return -1;
    fprintf(out, "\"cell\"");
    for (int sc = 0; sc < f->n_sched; sc++) fprintf(out, " \"%s\"", f->scheds[sc]);
    for (int sc = 0; sc < f->n_sched; sc++) fprintf(out, " \"%s\"", f->scheds[sc]);
    fprintf(out, "\n");
    for (int z = 0; z < f->n_size; z++)
        for (int c = 0; c < f->n_conc; c++) {
            char row[2048];
            int len = 0, measured = 0, has[2] = {0, 0};
            const cell *any = NULL;
            for (int m = 0; m < 2; m++)
                for (int sc = 0; sc < f->n_sched; sc++) {
                    const cell *k = find_cell(f, sc, z, c);
                    double v;
                    if (k && avg_get(&k->m[m == 0 ? M_P95 : M_TP], &v) == 0) {
                        len += snprintf(row + len, sizeof row - len, " %.6g", v);
                        measured++;
                        has[m] = 1;
                        any = k;
                    } else {
                        len += snprintf(row + len, sizeof row - len, " ?");
                    }
                }
            if (!measured) continue;
            char label[96];
            cell_label(f, any, 0, label, sizeof label);
            fprintf(out, "\"%s\"%s\n", label, row);
            s->scheduler_rows++;
            s->scheduler_p95_rows += has[0];
            s->scheduler_tp_rows += has[1];
        }
    return close_data(out, dir, "schedulers.dat", err);
}

/* A timeline path as the runner wrote it (<results_dir>/timelines/<run>/
 * <file>), or, when that is relative to another working directory, the
 * same file next to the results file. */
static int timeline_file(const char *written, const char *results_path, char *out, size_t n)
{
    snprintf(out, n, "%s", written);
    if (access(out, R_OK) == 0) return 0;
    const char *mark = strstr(written, "timelines/");
    const char *slash = results_path ? strrchr(results_path, '/') : NULL;
    if (!mark || written[0] == '/') return -1;
    if (slash) snprintf(out, n, "%.*s/%s", (int)(slash - results_path), results_path, mark);
    else snprintf(out, n, "%s", mark);
    return access(out, R_OK);
}

/* The timeline drawn: the busiest cell (highest concurrency, then largest
 * input) whose timeline file exists. */
static const cell *timeline_cell(const fold *f, const char *results_path, char *path, size_t n)
{
    const cell *best = NULL;
    char candidate[1024];
    for (int i = 0; i < f->n_cells; i++) {
        const cell *k = &f->cells[i];
        if (!k->timeline ||
            timeline_file(k->timeline->valuestring, results_path, candidate, sizeof candidate) != 0)
            continue;
        if (!best || f->concs[k->conc] > f->concs[best->conc] ||
            (k->conc == best->conc && f->sizes[k->size] > f->sizes[best->size]))
        {
            best = k;
            snprintf(path, n, "%s", candidate);
        }
    }
    return best;
}

/* Spans of the first FG_PLOT_TIMELINE_REQUESTS measured (non-warmup)
 * requests, relative to the earliest send in the sample; one block per
 * function (header row: its name): request sent received exec_start
 * exec_end "node" — the client's view of the call and, inside it, the
 * server's execution (? when the server did not report it).
 *
 * A span is never drawn with a negative length, nor far outside the call
 * that contains it (timelines written before server seconds were
 * recognised hold exec times some 1.7e12 ms before the call): a call with
 * received < sent loses its row, a server execution that ends before it
 * starts or lies outside [sent - skew, received + skew] becomes "? ?".
 * Each is counted (timeline_dropped) and logged once, so nothing vanishes
 * from the chart silently. */
#define TIMELINE_SKEW_MS 1000.0   /* server vs client clock on one host */

/* t0: the chart's origin; the x axis starts there, so nothing before it. */
static int exec_plausible(double st, double en, double xs, double xe, double t0)
{
    return xe >= xs && xs >= t0 && xs >= st - TIMELINE_SKEW_MS && xe <= en + TIMELINE_SKEW_MS;
}

static int write_timeline(const fold *f, const char *results_path, const char *dir,
                          fg_plot_summary *s, fg_err *err)
{
    FILE *out = open_data(dir, "timeline.dat", err);
    if (!out) return -1;
    fprintf(out, "# one block per function: request sent received exec_start exec_end node (ms since the first send of the sample)\n");
    char path[1024];
    const cell *k = timeline_cell(f, results_path, path, sizeof path);
    if (!k) return close_data(out, dir, "timeline.dat", err);

    fg_buf text;
    if (fg_read_file(path, 0, &text, err) != 0) {
        fclose(out);
        return -1;
    }
    cJSON *doc = cJSON_ParseWithLength((const char *)text.data, text.len);
    fg_buf_free(&text);
    const cJSON *reqs = cJSON_GetObjectItemCaseSensitive(doc, "requests");
    if (!cJSON_IsArray(reqs)) {
        cJSON_Delete(doc);
        fclose(out);
        return fg_err_set(err, "%s: no requests array in the timeline", path);
    }
    const cJSON *sample[FG_PLOT_TIMELINE_REQUESTS];
    int n = 0;
    char names[MAX_FUNCS][32];
    int n_names = 0;
    double t0 = INFINITY;
    const cJSON *r, *sp;
    cJSON_ArrayForEach(r, reqs) {
        if (n == FG_PLOT_TIMELINE_REQUESTS) break;
        if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(r, "warmup"))) continue;
        int spans = 0;
        cJSON_ArrayForEach(sp, cJSON_GetObjectItemCaseSensitive(r, "spans")) {
            double st = fg_json_number(sp, "sent"), en = fg_json_number(sp, "received");
            const char *fn = fg_json_string(sp, "function");
            if (!isfinite(st) || !isfinite(en) || !fn) continue;
            if (en < st) {
                s->timeline_dropped++;   /* counted here, skipped below */
                continue;
            }
            if (st < t0) t0 = st;
            index_of_str(names, &n_names, MAX_FUNCS, short_function(fn));
            spans++;
        }
        if (spans) sample[n++] = r;
    }
    for (int fi = 0; fi < n_names; fi++) {
        fprintf(out, "%s\"%s\" \"sent\" \"received\" \"exec_start\" \"exec_end\" \"node\"\n",
                fi ? "\n\n" : "", names[fi]);
        for (int i = 0; i < n; i++)
            cJSON_ArrayForEach(sp, cJSON_GetObjectItemCaseSensitive(sample[i], "spans")) {
                double st = fg_json_number(sp, "sent"), en = fg_json_number(sp, "received");
                double xs = fg_json_number(sp, "exec_start"), xe = fg_json_number(sp, "exec_end");
                const char *fn = fg_json_string(sp, "function"), *node = fg_json_string(sp, "node");
                if (!isfinite(st) || !isfinite(en) || !fn || strcmp(short_function(fn), names[fi])) continue;
                if (en < st) continue;
                fprintf(out, "%d %.3f %.3f", i, st - t0, en - t0);
                int have_exec = isfinite(xs) || isfinite(xe);
                if (have_exec && isfinite(xs) && isfinite(xe) && exec_plausible(st, en, xs, xe, t0)) {
                    fprintf(out, " %.3f %.3f", xs - t0, xe - t0);
                } else {
                    if (have_exec) s->timeline_dropped++;
                    fprintf(out, " ? ?");
                }
                fprintf(out, " \"%s\"\n", node ? node : "?");
                s->timeline_rows++;
            }
    }
    s->timeline_blocks = n_names;
    s->timeline_requests = n;
    cJSON_Delete(doc);
    if (s->timeline_dropped)
        fg_log(FG_LOG_WARN, "%s: %d span(s) with a negative or implausible time not drawn "
               "(server clock or timestamp unit)", path, s->timeline_dropped);
    if (s->timeline_rows) snprintf(s->timeline_cell, sizeof s->timeline_cell, "%s", k->id);
    return close_data(out, dir, "timeline.dat", err);
}

int fg_plot_write_data(const cJSON *results, const char *results_path, const char *dir,
                       fg_plot_summary *s, fg_err *err)
{
    const cJSON *run = cJSON_GetObjectItemCaseSensitive(results, "run");
    const char *id = fg_json_string(run, "id"), *cat = fg_json_string(run, "category");
    memset(s, 0, sizeof *s);
    snprintf(s->run_id, sizeof s->run_id, "%s", id ? id : "unknown");
    snprintf(s->category, sizeof s->category, "%s", cat ? cat : "unknown");
    snprintf(s->dir, sizeof s->dir, "%s", dir);
    if (fg_mkdirs(dir, err) != 0) return -1;

    fold *f = calloc(1, sizeof *f);
    if (!f) return fg_err_set(err, "out of memory folding the results");
    int rc = fold_results(results, f, err);
    if (rc == 0) {
        s->n_schedulers = f->n_sched;
        if (f->n_conc) {
            s->conc_min = f->concs[0];
            s->conc_max = f->concs[f->n_conc - 1];
        }
        if (f->n_size) {
            s->size_min = f->sizes[0];
            s->size_max = f->sizes[f->n_size - 1];
        }
        for (int i = 0; i < f->n_cells; i++) {
            int measured = 0;
            for (int m = 0; m < M_COUNT; m++) measured += f->cells[i].m[m].n > 0;
            s->cells += measured > 0;
        }
        if (write_throughput(f, dir, s, err) || write_latency(f, dir, s, err) ||
            write_success(f, dir, s, err) || write_functions(f, dir, s, err) ||
            write_schedulers(f, dir, s, err) || write_bottleneck(f, dir, s, err) ||
            write_resources(f, dir, s, err) ||
            write_timeline(f, results_path, dir, s, err))
            rc = -1;
    }
    free(f);
    return rc;
}

const char *fg_plot_scripts_dir(void)
{
    const char *env = getenv("FLOWGATE_PLOTS");
    if (env && *env) return env;
#ifdef FLOWGATE_SOURCE_DIR
    return FLOWGATE_SOURCE_DIR "/plots";
#else
    return "plots";
#endif
}

/* PATH lookup done here so a missing gnuplot gives one clear message
 * instead of a failed spawn per chart. */
static int find_gnuplot(char *path, size_t n)
{
    const char *env = getenv("PATH");
    if (!env) return -1;
    char *copy = strdup(env), *save = NULL;
    int found = -1;
    for (char *dir = strtok_r(copy, ":", &save); dir && found; dir = strtok_r(NULL, ":", &save)) {
        snprintf(path, n, "%s/gnuplot", *dir ? dir : ".");
        if (access(path, X_OK) == 0) found = 0;
    }
    free(copy);
    return found;
}

int fg_plot_gnuplot(const char *chart, const char *vars, fg_err *err)
{
    char gnuplot[1024];
    if (find_gnuplot(gnuplot, sizeof gnuplot) != 0)
        return fg_err_set(err, "gnuplot not found: install gnuplot-nox");
    char script[1200];
    snprintf(script, sizeof script, "%s/%s.gp", fg_plot_scripts_dir(), chart);
    if (access(script, R_OK) != 0)
        return fg_err_set(err, "%s: plot script missing (set FLOWGATE_PLOTS)", script);
    char *argv[] = {"gnuplot", "-e", (char *)vars, script, NULL};
    pid_t pid;
    int rc = posix_spawn(&pid, gnuplot, NULL, NULL, argv, environ);
    if (rc != 0) return fg_err_set(err, "%s: cannot start: %s", gnuplot, strerror(rc));
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR) return fg_err_set(err, "gnuplot: wait failed: %s", strerror(errno));
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        return fg_err_set(err, "gnuplot failed on %s (status %d)", script, status);
    return 0;
}

int fg_plot_safe_for_gnuplot(const char *s)
{
    return !strchr(s, '\'') && !strchr(s, '\n');
}

int fg_plot_render(const fg_plot_summary *s, fg_err *err)
{
    struct { const char *script; int rows; } charts[] = {
        {"throughput", s->throughput_blocks}, {"latency", s->latency_blocks},
        {"success", s->success_rows},         {"functions", s->function_rows},
        {"schedulers", s->scheduler_rows},    {"timeline", s->timeline_rows},
        {"bottleneck", s->bottleneck_rows},   {"resources", s->resources_blocks},
    };
    char gnuplot[1024];
    if (find_gnuplot(gnuplot, sizeof gnuplot) != 0)
        return fg_err_set(err, "gnuplot not found: install gnuplot-nox");
    const char *scripts = fg_plot_scripts_dir();
    const char *quoted[] = {scripts, s->dir, s->run_id, s->category, s->timeline_cell,
                            s->resources_cell};
    int safe = 1;
    for (size_t i = 0; i < sizeof quoted / sizeof quoted[0]; i++)
        safe &= fg_plot_safe_for_gnuplot(quoted[i]);
    if (!safe)
        return fg_err_set(err, "%s: quote or newline in a path or id passed to gnuplot", s->dir);

    char vars[4096];
    snprintf(vars, sizeof vars,
             "plotsdir='%s'; datadir='%s'; outdir='%s'; runid='%s'; category='%s'; nsched=%d; "
             "throughput_blocks=%d; latency_blocks=%d; latency_p95_points=%d; "
             "latency_p99_points=%d; timeline_blocks=%d; timeline_requests=%d; "
             "timeline_cell='%s'; conc_min=%d; conc_max=%d; size_min=%.17g; size_max=%.17g; "
             "success_rows=%d; scheduler_rows=%d; scheduler_p95_rows=%d; scheduler_tp_rows=%d; "
             "resources_blocks=%d; resources_cell='%s'; window_start=%.6g; window_end=%.6g",
             scripts, s->dir, s->dir, s->run_id, s->category, s->n_schedulers, s->throughput_blocks,
             s->latency_blocks, s->latency_p95_points, s->latency_p99_points, s->timeline_blocks,
             s->timeline_requests, s->timeline_cell,
             s->conc_min, s->conc_max, s->size_min, s->size_max, s->success_rows,
             s->scheduler_rows, s->scheduler_p95_rows, s->scheduler_tp_rows, s->resources_blocks,
             s->resources_cell, s->window_start_s, s->window_end_s);
    for (size_t i = 0; i < sizeof charts / sizeof charts[0]; i++) {
        if (charts[i].rows == 0) continue;   /* nothing measured: no chart */
        if (fg_plot_gnuplot(charts[i].script, vars, err) != 0) return -1;
    }
    return 0;
}

static int usable_as_dir(const char *name)
{
    return name && *name && !strchr(name, '/') && strcmp(name, ".") && strcmp(name, "..");
}

/* The charts of one category of a results root: a view holding the run and
 * references to that category's experiments (nothing is copied). */
static int plot_category(cJSON *root, const char *category, const char *results_path,
                         const char *dir, fg_plot_summary *s, fg_err *err)
{
    cJSON *view = cJSON_CreateObject();
    cJSON *run = cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(root, "run"), 1);
    cJSON *exps = cJSON_CreateArray();
    if (!view || !run || !exps) {
        cJSON_Delete(view); cJSON_Delete(run); cJSON_Delete(exps);
        return fg_err_set(err, "out of memory");
    }
    cJSON_DeleteItemFromObjectCaseSensitive(run, "category");
    cJSON_AddStringToObject(run, "category", category);
    cJSON_AddItemToObject(view, "run", run);
    cJSON_AddItemToObject(view, "experiments", exps);
    cJSON *e;
    cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(root, "experiments")) {
        const char *c = fg_results_category(e);
        if (c && !strcmp(c, category)) cJSON_AddItemReferenceToArray(exps, e);
    }
    int rc = fg_plot_write_data(view, results_path, dir, s, err);
    cJSON_Delete(view);
    if (rc == 0 && s->cells > 0) rc = fg_plot_render(s, err);
    return rc;
}

int fg_plot_results(const char *results_path, const char *out_root, fg_plot_summary *s, fg_err *err)
{
    cJSON *root = fg_results_load(results_path, err);
    if (!root) return -1;
    const char *id = fg_json_string(cJSON_GetObjectItemCaseSensitive(root, "run"), "id");
    char dir[1024];
    if (!usable_as_dir(id)) {
        cJSON_Delete(root);
        return fg_err_set(err, "%s: run.id missing or not usable as a directory name", results_path);
    }
    snprintf(dir, sizeof dir, "%s/%s", out_root, id);

    /* Scenario runs vary rate and network as well as size and concurrency:
     * they get their own per-scenario charts and table. */
    if (fg_scenario_report_applies(root)) {
        memset(s, 0, sizeof *s);
        snprintf(s->dir, sizeof s->dir, "%s", dir);
        snprintf(s->run_id, sizeof s->run_id, "%s", id);
        snprintf(s->category, sizeof s->category, "scenarios");
        int rc = fg_scenario_report(root, dir, 1, &s->cells, err);
        cJSON_Delete(root);
        return rc;
    }

    /* A scale file holds several categories whose cells can share an id
     * (5 MB conc 10 is in large_input and in extreme): each category gets
     * its own charts in <dir>/<category>/, so no point mixes two experiments. */
    const char *cats[16];
    int n_cats = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, fg_results_experiments(root)) {
        /* Entries without a category (older files) go with a single-category
         * file; a multi-category file charts only what it can place. */
        const char *c = fg_results_category(e);
        if (!c || !*c) continue;
        int seen = 0;
        for (int i = 0; i < n_cats; i++) seen |= !strcmp(cats[i], c);
        if (!seen && n_cats < 16) cats[n_cats++] = c;
    }
    int rc = 0;
    if (n_cats <= 1) {
        rc = fg_plot_write_data(root, results_path, dir, s, err);
        if (rc == 0 && s->cells > 0) rc = fg_plot_render(s, err);
    } else {
        int cells = 0;
        for (int i = 0; i < n_cats && rc == 0; i++) {
            char sub[1200];
            if (!usable_as_dir(cats[i])) {
                rc = fg_err_set(err, "%s: category '%s' not usable as a directory name",
                                results_path, cats[i]);
                break;
            }
            snprintf(sub, sizeof sub, "%s/%s", dir, cats[i]);
            rc = plot_category(root, cats[i], results_path, sub, s, err);
            cells += s->cells;
        }
        s->cells = cells;
        snprintf(s->dir, sizeof s->dir, "%s", dir);
    }
    cJSON_Delete(root);
    if (rc != 0) return -1;
    if (s->cells == 0) return fg_err_set(err, "%s: no measured cells to plot", results_path);
    return 0;
}

typedef struct candidate { char path[1024]; struct timespec mtime; } candidate;

static int newer_first(const void *a, const void *b)
{
    const struct timespec *x = &((const candidate *)a)->mtime, *y = &((const candidate *)b)->mtime;
    if (x->tv_sec != y->tv_sec) return x->tv_sec < y->tv_sec ? 1 : -1;
    return (x->tv_nsec < y->tv_nsec) - (x->tv_nsec > y->tv_nsec);
}

int fg_plot_latest_results(const char *dir, const char *category, char *path, size_t path_size,
                           fg_err *err)
{
    DIR *d = opendir(dir);
    if (!d) return fg_err_set(err, "%s: cannot open: %s", dir, strerror(errno));
    candidate *list = NULL;
    size_t n = 0, cap = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        size_t len = strlen(de->d_name);
        if (len < 6 || strcmp(de->d_name + len - 5, ".json") || !strcmp(de->d_name, "baseline.json"))
            continue;
        if (n == cap) {
            cap = cap ? 2 * cap : 32;
            candidate *grown = realloc(list, cap * sizeof *list);
            if (!grown) break;
            list = grown;
        }
        struct stat st;
        snprintf(list[n].path, sizeof list[n].path, "%s/%s", dir, de->d_name);
        if (stat(list[n].path, &st) == 0 && S_ISREG(st.st_mode)) {
            list[n].mtime = st.st_mtim;
            n++;
        }
    }
    closedir(d);
    qsort(list, n, sizeof *list, newer_first);
    int rc = -1;
    for (size_t i = 0; i < n && rc != 0; i++) {
        cJSON *root = fg_results_load(list[i].path, NULL);
        if (!root) continue;
        const char *cat = fg_json_string(cJSON_GetObjectItemCaseSensitive(root, "run"), "category");
        if (!category || !*category || (cat && !strcmp(cat, category))) {
            snprintf(path, path_size, "%s", list[i].path);
            rc = 0;
        }
        cJSON_Delete(root);
    }
    free(list);
    if (rc != 0)
        fg_err_set(err, "%s: no results file%s%s", dir, category && *category ? " of category " : "",
                   category && *category ? category : "");
    return rc;
}
