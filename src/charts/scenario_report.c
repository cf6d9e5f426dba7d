/* scenario_report.c — schedulers side by side over the scenario experiments
 * (scenario_report.h). Everything comes from the results file: the cells'
 * replicate summaries (mean, sd, 95 % t interval, computed where the runs
 * were) for the table and the curves, and the entries themselves for what
 * a summary does not hold (latency samples for the CDFs, the critical-path
 * parts). Each scenario varies one factor; it is found from the cells
 * rather than named in the file, so a new scenario needs no code.
 * It shares only the gnuplot runner and the bottleneck rows with the
 * run's charts (plot.c); charts.c decides which of the two a file gets. */
#include "flowgate/scenario_report.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flowgate/json.h"
#include "flowgate/results.h"
#include "bottleneck.h"
#include "gnuplot.h"

#define MAX_CELLS 512
#define MAX_SCHEDS 8
#define N_PARTS FG_PLOT_PARTS


typedef struct sc_cell {
    const cJSON *summary;     /* the scenario_cells item */
    const char *id, *name, *sched;
    double x;                 /* the varied factor's value */
    int sched_index;
} sc_cell;

typedef enum factor { F_SIZE, F_CONC, F_RATE, F_NONE } factor;
static const char *const factor_labels[] = {"input size (MB)", "concurrency",
                                            "arrival rate (requests/s)", "cell"};

/* A one-stage cell's arrival rate; NAN for a staged schedule. */
static double rate_of(const cJSON *identity)
{
    const cJSON *stages = cJSON_GetObjectItemCaseSensitive(identity, "stages");
    return cJSON_GetArraySize(stages) == 1 ? fg_json_number(cJSON_GetArrayItem(stages, 0), "rate_rps") : NAN;
}

static double factor_value(const cJSON *identity, factor f)
{
    switch (f) {
    case F_SIZE: return fg_json_number(identity, "input_mb");
    case F_CONC: return fg_json_number(identity, "concurrency");
    case F_RATE: return rate_of(identity);
    default: return 0;
    }
}

/* The first of size, concurrency and rate that differs between the cells
 * of one scenario; F_NONE for a one-cell scenario. */
static factor varied(const sc_cell *cells, int n)
{
    for (factor f = F_SIZE; f < F_NONE; f++) {
        const cJSON *first = cJSON_GetObjectItemCaseSensitive(cells[0].summary, "scenario");
        for (int i = 1; i < n; i++) {
            const cJSON *id = cJSON_GetObjectItemCaseSensitive(cells[i].summary, "scenario");
            double a = factor_value(first, f), b = factor_value(id, f);
            if (isfinite(a) && isfinite(b) && a != b) return f;
        }
    }
    return F_NONE;
}

/* "mean ± sd [lo, hi]" of one summarised metric, scaled; "n/a" when absent. */
static void fmt_summary(const cJSON *metrics, const char *key, double scale, const char *fmt,
                        char *out, size_t size)
{
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(metrics, key);
    double mean = fg_json_number(m, "mean"), sd = fg_json_number(m, "sd");
    const cJSON *ci = cJSON_GetObjectItemCaseSensitive(m, "ci95");
    if (!isfinite(mean)) {
        snprintf(out, size, "n/a");
        return;
    }
    char a[32], b[32], c[32], d[32];
    snprintf(a, sizeof a, fmt, mean * scale);
    if (!isfinite(sd) || cJSON_GetArraySize(ci) != 2) {
        snprintf(out, size, "%s (1 replicate)", a);
        return;
    }
    snprintf(b, sizeof b, fmt, sd * scale);
    snprintf(c, sizeof c, fmt, cJSON_GetArrayItem(ci, 0)->valuedouble * scale);
    snprintf(d, sizeof d, fmt, cJSON_GetArrayItem(ci, 1)->valuedouble * scale);
    snprintf(out, size, "%s ± %s [%s, %s]", a, b, c, d);
}

/* mean lo hi of one metric for curve.dat ("? ? ?" when absent); counts
 * the points written into *points. */
static void write_triple(FILE *out, const cJSON *metrics, const char *key, int *points)
{
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(metrics, key);
    double mean = fg_json_number(m, "mean");
    const cJSON *ci = cJSON_GetObjectItemCaseSensitive(m, "ci95");
    if (!isfinite(mean)) {
        fprintf(out, " ? ? ?");
        return;
    }
    (*points)++;
    double lo = mean, hi = mean;
    if (cJSON_GetArraySize(ci) == 2) {
        lo = cJSON_GetArrayItem(ci, 0)->valuedouble;
        hi = cJSON_GetArrayItem(ci, 1)->valuedouble;
    }
    fprintf(out, " %.6g %.6g %.6g", mean, lo, hi);
}

/* Mean critical-path parts over the cell's replicates, and the mean wait
 * for an in-flight slot inside queue (*slot_wait may be NULL); 0 when no
 * replicate has them. */
static int cell_parts(const cJSON *results, const char *id, double out[N_PARTS],
                      double *slot_wait)
{
    int n = 0;
    double wait = 0;
    memset(out, 0, sizeof(double) * N_PARTS);
    const cJSON *e;
    cJSON_ArrayForEach(e, fg_results_experiments(results)) {
        const char *eid = fg_json_string(e, "experiment_id");
        const cJSON *mean = cJSON_GetObjectItemCaseSensitive(
            cJSON_GetObjectItemCaseSensitive(e, "bottleneck"), "mean_ms");
        if (!eid || strcmp(eid, id) || !cJSON_IsObject(mean)) continue;
        for (int p = 0; p < N_PARTS; p++) out[p] += fmax(0.0, fg_json_number(mean, fg_plot_parts[p]));
        double w = fg_json_number(cJSON_GetObjectItemCaseSensitive(e, "bottleneck"), "slot_wait_ms");
        if (isfinite(w)) wait += w;
        n++;
    }
    for (int p = 0; n && p < N_PARTS; p++) out[p] /= n;
    if (slot_wait) *slot_wait = n ? wait / n : 0;
    return n;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Every measured latency of the cell over its replicates, sorted. */
static double *cell_samples(const cJSON *results, const char *id, int *n)
{
    int cap = 0;
    *n = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, fg_results_experiments(results)) {
        const char *eid = fg_json_string(e, "experiment_id");
        if (eid && !strcmp(eid, id))
            cap += cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(e, "latency_samples_ms"));
    }
    double *v = cap ? malloc(sizeof *v * (size_t)cap) : NULL;
    if (!v) return NULL;
    cJSON_ArrayForEach(e, fg_results_experiments(results)) {
        const char *eid = fg_json_string(e, "experiment_id");
        if (!eid || strcmp(eid, id)) continue;
        const cJSON *s;
        cJSON_ArrayForEach(s, cJSON_GetObjectItemCaseSensitive(e, "latency_samples_ms"))
            if (cJSON_IsNumber(s) && *n < cap) v[(*n)++] = s->valuedouble;
    }
    qsort(v, (size_t)*n, sizeof *v, cmp_double);
    return v;
}

static int cmp_cell(const void *a, const void *b)
{
    const sc_cell *x = a, *y = b;
    if (x->x != y->x) return (x->x > y->x) - (x->x < y->x);
    return x->sched_index - y->sched_index;
}

static FILE *open_in(const char *dir, const char *name, fg_err *err)
{
    char path[1300];   /* dir: up to the caller's 1200 */
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    if (!f) fg_err_set(err, "%s: cannot write", path);
    return f;
}

static int close_file(FILE *f, const char *dir, const char *name, fg_err *err)
{
    if (fclose(f) != 0) return fg_err_set(err, "%s/%s: write failed", dir, name);
    return 0;
}

/* What one scenario's data files hold, for the scripts: a chart or panel
 * with nothing to draw is left out (gnuplot refuses an empty one). */
typedef struct sc_counts {
    int curve_points[3];    /* p50, p95, throughput points in curve.dat */
    int cdf_blocks;
    int bottleneck_rows;
} sc_counts;

/* One scenario's data files (cells sorted by x, then scheduler). */
static int write_scenario(const cJSON *results, const char *dir, sc_cell *cells, int n,
                          char scheds[][32], int n_sched, sc_counts *counts, fg_err *err)
{
    if (fg_mkdirs(dir, err) != 0) return -1;
    FILE *f = open_in(dir, "curve.dat", err);
    if (!f) return -1;
    fprintf(f, "# blocks per scheduler: x p50_ms lo hi p95_ms lo hi throughput_rps lo hi "
               "(replicate mean, 95 %% t interval)\n");
    int block = 0;
    for (int s = 0; s < n_sched; s++) {
        int rows = 0;
        for (int i = 0; i < n; i++) {
            if (cells[i].sched_index != s) continue;
            if (!rows++) fprintf(f, "%s\"%s\"\n", block++ ? "\n\n" : "", scheds[s]);
            const cJSON *m = cJSON_GetObjectItemCaseSensitive(cells[i].summary, "metrics");
            fprintf(f, "%.6g", cells[i].x);
            write_triple(f, m, "p50_ms", &counts->curve_points[0]);
            write_triple(f, m, "p95_ms", &counts->curve_points[1]);
            write_triple(f, m, "throughput_rps", &counts->curve_points[2]);
            fprintf(f, "\n");
        }
    }
    if (close_file(f, dir, "curve.dat", err)) return -1;

    /* The CDF of the heaviest cell (largest x) of each scheduler. */
    if (!(f = open_in(dir, "cdf.dat", err))) return -1;
    fprintf(f, "# blocks per scheduler: latency_ms fraction (cell x = %.6g, replicates pooled)\n",
            cells[n - 1].x);
    block = 0;
    for (int s = 0; s < n_sched; s++) {
        const sc_cell *heavy = NULL;
        for (int i = 0; i < n; i++)
            if (cells[i].sched_index == s && cells[i].x == cells[n - 1].x) heavy = &cells[i];
        int k = 0;
        double *v = heavy ? cell_samples(results, heavy->id, &k) : NULL;
        if (k > 0) {
            fprintf(f, "%s\"%s\"\n", block++ ? "\n\n" : "", scheds[s]);
            for (int i = 0; i < k; i++) fprintf(f, "%.3f %.6f\n", v[i], (double)(i + 1) / k);
            counts->cdf_blocks++;
        }
        free(v);
    }
    if (close_file(f, dir, "cdf.dat", err)) return -1;

    if (!(f = open_in(dir, "bottleneck.dat", err))) return -1;
    fprintf(f, "# label exec_ms transfer_ms queue_ms driver_ms dominant (mean over replicates)\n");
    for (int i = 0; i < n; i++) {
        double p[N_PARTS];
        if (!cell_parts(results, cells[i].id, p, NULL)) continue;
        char label[96];
        snprintf(label, sizeof label, "%.6g %s", cells[i].x, scheds[cells[i].sched_index]);
        fg_plot_bottleneck_row(f, label, p);
        counts->bottleneck_rows++;
    }
    return close_file(f, dir, "bottleneck.dat", err);
}

static void table_rows(FILE *md, const cJSON *results, const sc_cell *cells, int n,
                       char scheds[][32], factor fac)
{
    for (int i = 0; i < n; i++) {
        const cJSON *m = cJSON_GetObjectItemCaseSensitive(cells[i].summary, "metrics");
        char p50[160], p95[160], tp[160], ok[160], bound[80] = "n/a";
        fmt_summary(m, "p50_ms", 1, "%.0f", p50, sizeof p50);
        fmt_summary(m, "p95_ms", 1, "%.0f", p95, sizeof p95);
        fmt_summary(m, "throughput_rps", 1, "%.2f", tp, sizeof tp);
        fmt_summary(m, "success_rate", 100, "%.1f", ok, sizeof ok);
        double p[N_PARTS], wait = 0;
        if (cell_parts(results, cells[i].id, p, &wait)) {
            double sum = 0;
            for (int k = 0; k < N_PARTS; k++) sum += p[k];
            int dom = fg_plot_dominant_part(p);
            double share = sum > 0 ? p[dom] / sum * 100 : 0;
            /* The slot wait (inside queue) grows with whatever makes the
             * service slow: the service's largest part names the cause. */
            p[FG_PLOT_PART_QUEUE] -= fmin(wait, p[FG_PLOT_PART_QUEUE]);
            int service = fg_plot_dominant_part(p);
            if (sum > 0 && service != dom)
                snprintf(bound, sizeof bound, "%s (%.0f %%), service: %s", fg_plot_parts[dom], share,
                         fg_plot_parts[service]);
            else if (sum > 0)
                snprintf(bound, sizeof bound, "%s (%.0f %%)", fg_plot_parts[dom], share);
        }
        char x[48];
        if (fac == F_NONE) snprintf(x, sizeof x, "—");
        else snprintf(x, sizeof x, "%.6g", cells[i].x);
        fprintf(md, "| %s | %s | %s | %.0f | %s | %s | %s | %s | %s |\n", cells[i].name, x,
                scheds[cells[i].sched_index], fg_json_number(cells[i].summary, "replicates"), p50, p95, tp,
                ok, bound);
    }
}

int fg_scenario_report_applies(const cJSON *results)
{
    return cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(results, "scenario_cells")) > 0;
}

int fg_scenario_report(const cJSON *results, const char *dir, int render, int *scenarios,
                       fg_err *err)
{
    *scenarios = 0;
    const cJSON *list = cJSON_GetObjectItemCaseSensitive(results, "scenario_cells");
    sc_cell *all = calloc(MAX_CELLS, sizeof *all);
    if (!all) return fg_err_set(err, "out of memory");
    char scheds[MAX_SCHEDS][32];
    int n_all = 0, n_sched = 0, rc = 0;
    const cJSON *c;
    cJSON_ArrayForEach(c, list) {
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(c, "scenario");
        const char *name = fg_json_string(id, "name"), *sched = fg_json_string(id, "scheduler");
        const char *eid = fg_json_string(c, "experiment_id");
        if (!name || !sched || !eid) {
            rc = fg_err_set(err, "scenario_cells: an item without experiment_id, name or scheduler");
            break;
        }
        if (n_all == MAX_CELLS) {
            rc = fg_err_set(err, "scenario_cells: more than %d cells", MAX_CELLS);
            break;
        }
        int s = 0;
        while (s < n_sched && strcmp(scheds[s], sched)) s++;
        if (s == n_sched) {
            if (n_sched == MAX_SCHEDS) {
                rc = fg_err_set(err, "scenario_cells: more than %d schedulers", MAX_SCHEDS);
                break;
            }
            snprintf(scheds[n_sched++], sizeof scheds[0], "%s", sched);
        }
        all[n_all++] = (sc_cell){.summary = c, .id = eid, .name = name, .sched = sched,
                                 .sched_index = s};
    }
    FILE *md = NULL;
    if (rc == 0 && (fg_mkdirs(dir, err) != 0 || !(md = open_in(dir, "scenarios.md", err)))) rc = -1;
    if (md) {
        fprintf(md, "# Scenarios, schedulers side by side\n\n"
                    "Each figure: mean ± sample sd [95 %% t interval] over the replicates. "
                    "`bound by`: the largest part of the critical path.\n\n"
                    "| scenario | varied value | scheduler | replicates | p50 ms | p95 ms | "
                    "throughput /s | success %% | bound by |\n"
                    "|---|---|---|---|---|---|---|---|---|\n");
    }
    /* One scenario at a time, in the order the file first names them. */
    for (int i = 0; rc == 0 && i < n_all; i++) {
        int seen = 0;
        for (int j = 0; j < i; j++) seen |= !strcmp(all[j].name, all[i].name);
        if (seen) continue;
        sc_cell cells[MAX_CELLS];
        int n = 0;
        for (int j = i; j < n_all; j++)
            if (!strcmp(all[j].name, all[i].name)) cells[n++] = all[j];
        factor fac = varied(cells, n);
        for (int j = 0; j < n; j++)
            cells[j].x = factor_value(cJSON_GetObjectItemCaseSensitive(cells[j].summary, "scenario"), fac);
        qsort(cells, (size_t)n, sizeof cells[0], cmp_cell);
        table_rows(md, results, cells, n, scheds, fac);

        char sub[1200];
        snprintf(sub, sizeof sub, "%s/%s", dir, all[i].name);
        sc_counts counts = {{0, 0, 0}, 0, 0};
        if (!fg_plot_safe_for_gnuplot(sub)) {
            rc = fg_err_set(err, "%s: quote or newline in a scenario name", all[i].name);
            break;
        }
        if (write_scenario(results, sub, cells, n, scheds, n_sched, &counts, err)) {
            rc = -1;
            break;
        }
        (*scenarios)++;
        if (!render) continue;
        const cJSON *run = cJSON_GetObjectItemCaseSensitive(results, "run");
        const char *runid = fg_json_string(run, "id");
        char vars[3000];
        snprintf(vars, sizeof vars,
                 "plotsdir='%s'; datadir='%s'; outdir='%s'; runid='%s'; category='scenarios'; "
                 "scenario='%s'; xlabel='%s'; nsched=%d; bottleneck_rows=%d; p50_points=%d; "
                 "p95_points=%d; throughput_points=%d; cdf_blocks=%d; x_min=%.17g; x_max=%.17g",
                 fg_plot_scripts_dir(), sub, sub, runid && fg_plot_safe_for_gnuplot(runid) ? runid : "?",
                 all[i].name, factor_labels[fac], n_sched, counts.bottleneck_rows,
                 counts.curve_points[0], counts.curve_points[1], counts.curve_points[2],
                 counts.cdf_blocks, cells[0].x, cells[n - 1].x);
        const int *cp = counts.curve_points;
        if ((cp[0] + cp[1] + cp[2] > 0 && fg_plot_gnuplot("scenario_curve", vars, err)) ||
            (counts.cdf_blocks && fg_plot_gnuplot("scenario_cdf", vars, err)) ||
            (counts.bottleneck_rows && fg_plot_gnuplot("bottleneck", vars, err)))
            rc = -1;
    }
    if (md && fclose(md) != 0 && rc == 0) rc = fg_err_set(err, "%s/scenarios.md: write failed", dir);
    free(all);
    return rc;
}
