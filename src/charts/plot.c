/* plot.c — the run's charts: the folded cells (fold.h) → one data file per
 * chart, whose layout plot.h documents, so the scripts in plots/ stay
 * dumb → PNG/SVG through gnuplot.h. A chart whose data file would be empty
 * is not drawn: we only plot what was measured. Which results get these
 * charts (a scenario run gets its own) is decided above, in charts.c. */
#include "flowgate/plot.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flowgate/json.h"
#include "bottleneck.h"
#include "fold.h"
#include "gnuplot.h"
#include "timeline.h"

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

static void format_mb(double mb, char *out, size_t n)
{
    fg_format_mb(mb, out, n);
}

/* Block per (scheduler, size): concurrency → throughput. */
static int write_throughput(const fg_fold *f, const char *dir, fg_plot_summary *s, fg_err *err)
{
    FILE *out = open_data(dir, "throughput.dat", err);
    if (!out) return -1;
    fprintf(out, "# throughput (completed workflows/s) vs concurrency; one block per scheduler and input size\n");
    for (int sc = 0; sc < f->n_sched; sc++)
        for (int z = 0; z < f->n_size; z++) {
            int rows = 0;
            for (int c = 0; c < f->n_conc; c++) {
                const fg_fold_cell *k = fg_fold_find(f, sc, z, c);
                double v;
                if (!k || fg_fold_mean(&k->m[M_TP], &v) != 0) continue;
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
static int write_latency(const fg_fold *f, const char *dir, fg_plot_summary *s, fg_err *err)
{
    FILE *out = open_data(dir, "latency.dat", err);
    if (!out) return -1;
    fprintf(out, "# end-to-end latency percentiles (ms) vs input size (MB); one block per scheduler and concurrency\n");
    for (int sc = 0; sc < f->n_sched; sc++)
        for (int c = 0; c < f->n_conc; c++) {
            int rows = 0;
            for (int z = 0; z < f->n_size; z++) {
                const fg_fold_cell *k = fg_fold_find(f, sc, z, c);
                double p50;
                /* A percentile the sample count cannot resolve (p99 of 20
                 * samples) is "?", not a reason to drop the row. */
                if (!k || fg_fold_mean(&k->m[M_P50], &p50)) continue;
                if (rows++ == 0) {
                    fprintf(out, "%s\"%s conc %d\" \"p50\" \"p95\" \"p99\"\n",
                            s->latency_blocks ? "\n\n" : "", f->scheds[sc], f->concs[c]);
                    s->latency_blocks++;
                }
                fprintf(out, "%.6g %.6g", f->sizes[z], p50);
                for (int m = M_P95; m <= M_P99; m++) {
                    double v;
                    if (fg_fold_mean(&k->m[m], &v) == 0) {
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

static void cell_label(const fg_fold *f, const fg_fold_cell *k, int with_sched, char *out, size_t n)
{
    char mb[32];
    format_mb(f->sizes[k->size], mb, sizeof mb);
    if (with_sched) snprintf(out, n, "%sMB c%d %s", mb, f->concs[k->conc], f->scheds[k->sched]);
    else snprintf(out, n, "%sMB c%d", mb, f->concs[k->conc]);
}

/* Cells in axis order: scheduler, size, concurrency. */
static int write_success(const fg_fold *f, const char *dir, fg_plot_summary *s, fg_err *err)
{
    FILE *out = open_data(dir, "success.dat", err);
    if (!out) return -1;
    fprintf(out, "# index label success_rate requests_sent\n");
    for (int sc = 0; sc < f->n_sched; sc++)
        for (int z = 0; z < f->n_size; z++)
            for (int c = 0; c < f->n_conc; c++) {
                const fg_fold_cell *k = fg_fold_find(f, sc, z, c);
                double v;
                if (!k || fg_fold_mean(&k->m[M_SUCCESS], &v) != 0) continue;
                char label[96];
                cell_label(f, k, f->n_sched > 1, label, sizeof label);
                fprintf(out, "%d \"%s\" %.6g %.0f\n", s->success_rows++, label, v, k->sent);
            }
    return close_data(out, dir, "success.dat", err);
}

/* Row per cell that was attributed, in axis order: where its requests'
 * time went along the critical path, and the largest part. */
static int write_bottleneck(const fg_fold *f, const char *dir, fg_plot_summary *s, fg_err *err)
{
    FILE *out = open_data(dir, "bottleneck.dat", err);
    if (!out) return -1;
    fprintf(out, "# label exec_ms transfer_ms queue_ms driver_ms dominant (critical path, mean over requests and repeats)\n");
    for (int sc = 0; sc < f->n_sched; sc++)
        for (int z = 0; z < f->n_size; z++)
            for (int c = 0; c < f->n_conc; c++) {
                const fg_fold_cell *k = fg_fold_find(f, sc, z, c);
                double v[FG_PLOT_PARTS];
                int p = 0;
                while (k && p < FG_PLOT_PARTS && fg_fold_mean(&k->crit[p], &v[p]) == 0) p++;
                if (p < FG_PLOT_PARTS) continue;
                char label[96];
                cell_label(f, k, f->n_sched > 1, label, sizeof label);
                fg_plot_bottleneck_row(out, label, v);
                s->bottleneck_rows++;
            }
    return close_data(out, dir, "bottleneck.dat", err);
}

/* The per-node CPU and RSS series of the cell with the most requests that
 * has them (the run's main load), one block per node; null samples "?". */
static int write_resources(const fg_fold *f, const char *dir, fg_plot_summary *s, fg_err *err)
{
    FILE *out = open_data(dir, "resources.dat", err);
    if (!out) return -1;
    fprintf(out, "# one block per node: t_s cpu_pct rss_mb (s since the experiment's start)\n");
    const fg_fold_cell *best = NULL;
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
static int write_functions(const fg_fold *f, const char *dir, fg_plot_summary *s, fg_err *err)
{
    FILE *out = open_data(dir, "functions.dat", err);
    if (!out) return -1;
    fprintf(out, "# label transfer_ms queue_ms exec_ms (count-weighted means over the size's cells; ? = not measured)\n");
    for (int z = 0; z < f->n_size; z++)
        for (int fi = 0; fi < f->n_func; fi++) {
            const fg_fold_stage *st = f->stages[z][fi];
            if (st[S_TRANSFER].count == 0 && st[S_QUEUE].count == 0 && st[S_EXEC].count == 0) continue;
            char mb[32];
            format_mb(f->sizes[z], mb, sizeof mb);
            fprintf(out, "\"%s %sMB\"", fg_fold_short_name(f->funcs[fi]), mb);
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
static int write_schedulers(const fg_fold *f, const char *dir, fg_plot_summary *s, fg_err *err)
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
            const fg_fold_cell *any = NULL;
            for (int m = 0; m < 2; m++)
                for (int sc = 0; sc < f->n_sched; sc++) {
                    const fg_fold_cell *k = fg_fold_find(f, sc, z, c);
                    double v;
                    if (k && fg_fold_mean(&k->m[m == 0 ? M_P95 : M_TP], &v) == 0) {
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

/* The file is opened here like every other chart's; timeline.c fills it. */
static int write_timeline(const fg_fold *f, const char *results_path, const char *dir,
                          fg_plot_summary *s, fg_err *err)
{
    FILE *out = open_data(dir, "timeline.dat", err);
    if (!out) return -1;
    fg_plot_timeline_counts c;
    if (fg_plot_timeline_write(out, f, results_path, FG_PLOT_TIMELINE_REQUESTS, &c, err) != 0) {
        fclose(out);
        return -1;
    }
    s->timeline_rows = c.rows;
    s->timeline_blocks = c.blocks;
    s->timeline_requests = c.requests;
    s->timeline_dropped = c.dropped;
    snprintf(s->timeline_cell, sizeof s->timeline_cell, "%s", c.cell);
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

    fg_fold *f = calloc(1, sizeof *f);
    if (!f) return fg_err_set(err, "out of memory folding the results");
    int rc = fg_fold_results(results, f, err);
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

int fg_plot_render(const fg_plot_summary *s, fg_err *err)
{
    struct { const char *script; int rows; } charts[] = {
        {"throughput", s->throughput_blocks}, {"latency", s->latency_blocks},
        {"success", s->success_rows},         {"functions", s->function_rows},
        {"schedulers", s->scheduler_rows},    {"timeline", s->timeline_rows},
        {"bottleneck", s->bottleneck_rows},   {"resources", s->resources_blocks},
    };
    if (fg_plot_have_gnuplot(err) != 0) return -1;
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
