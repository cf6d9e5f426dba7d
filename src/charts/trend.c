/* trend.c — a cell's history as a chart (trend.h). The points and marks
 * become one data file and plots/trend.gp draws it; everything that comes
 * from outside (commits, mark texts) reaches gnuplot through that file,
 * never through its command line, and is cleaned of the characters that
 * would end a quoted string there. Only numbers (ranges, the marks'
 * ordinals) and the checked cell and paths go in as -e variables. */
#include "flowgate/trend.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "gnuplot.h"

void fg_trend_stem(const char *cell, char *stem, size_t size)
{
    size_t k = (size_t)snprintf(stem, size, "trend_");
    for (const char *c = cell; c && *c && k + 1 < size; c++) {
        int keep = (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
                   (*c >= '0' && *c <= '9') || *c == '.' || *c == '_' || *c == '-';
        stem[k++] = keep ? *c : '_';
    }
    if (k < size) stem[k] = 0;
}

/* A string for a "..." field of the data file: no quote, backslash or
 * control character (they would end or break the field). */
static void write_field(FILE *out, const char *s, size_t max)
{
    fputc('"', out);
    for (size_t i = 0; s && s[i] && i < max; i++) {
        unsigned char c = (unsigned char)s[i];
        fputc(c == '"' ? '\'' : c == '\\' ? '/' : c < 0x20 ? ' ' : c, out);
    }
    fputc('"', out);
}

static void write_value(FILE *out, double v)
{
    if (isfinite(v)) fprintf(out, " %.6g", v);
    else fputs(" ?", out);
}

/* The marks of one kind as a block; their ordinals into idx ("3 7"). */
static int write_marks(FILE *out, const fg_trend_mark *marks, size_t n_marks, int kind, char *idx,
                       size_t idx_size)
{
    int rows = 0;
    size_t len = 0;
    idx[0] = 0;
    for (size_t i = 0; i < n_marks; i++) {
        if (marks[i].kind != kind) continue;
        if (rows++ == 0) fputs("\n\n", out);
        fprintf(out, "%zu ", marks[i].index);
        write_field(out, marks[i].text ? marks[i].text : "", 200);
        fputc('\n', out);
        if (len + 24 < idx_size) len += (size_t)snprintf(idx + len, idx_size - len, "%s%zu",
                                                        len ? " " : "", marks[i].index);
    }
    return rows;
}

static double max_finite(double a, double b)
{
    return isfinite(b) && b > a ? b : a;
}

static int write_data(const char *path, const fg_trend_point *pts, size_t n,
                      const fg_trend_mark *marks, size_t n_marks, char *change_idx, char *ab_idx,
                      size_t idx_size, int *has_change, int *has_ab, fg_err *err)
{
    FILE *out = fopen(path, "w");
    if (!out) return fg_err_set(err, "%s: cannot create: %s", path, strerror(errno));
    fputs("# ordinal \"commit\" p50_ms p95_ms throughput_rps (one row per run, commit order)\n", out);
    for (size_t i = 0; i < n; i++) {
        fprintf(out, "%zu ", i);
        write_field(out, pts[i].commit && *pts[i].commit ? pts[i].commit : "?", 7);
        write_value(out, pts[i].p50_ms);
        write_value(out, pts[i].p95_ms);
        write_value(out, pts[i].throughput_rps);
        fputc('\n', out);
    }
    *has_change = write_marks(out, marks, n_marks, FG_TREND_CHANGE, change_idx, idx_size) > 0;
    *ab_idx = 0;
    *has_ab = write_marks(out, marks, n_marks, FG_TREND_AB, ab_idx, idx_size) > 0;
    int bad = ferror(out);
    if (fclose(out) != 0 || bad) return fg_err_set(err, "%s: write error", path);
    return 0;
}

int fg_trend_chart(const char *dir, const char *cell, const fg_trend_point *pts, size_t n,
                   const fg_trend_mark *marks, size_t n_marks, fg_err *err)
{
    if (!dir || !*dir || !cell || !*cell) return fg_err_set(err, "trend: no directory or cell");
    if (!pts || n == 0) return fg_err_set(err, "trend of %s: no runs to chart", cell);
    int has_p50 = 0, has_p95 = 0, has_rps = 0;
    double ymax = 0, y2max = 0;
    for (size_t i = 0; i < n; i++) {
        has_p50 += isfinite(pts[i].p50_ms);
        has_p95 += isfinite(pts[i].p95_ms);
        has_rps += isfinite(pts[i].throughput_rps);
        ymax = max_finite(max_finite(ymax, pts[i].p50_ms), pts[i].p95_ms);
        y2max = max_finite(y2max, pts[i].throughput_rps);
    }
    if (!has_p50 && !has_p95 && !has_rps)
        return fg_err_set(err, "trend of %s: no measured value in %zu runs", cell, n);
    for (size_t i = 0; i < n_marks; i++) {
        if (marks[i].index >= n)
            return fg_err_set(err, "trend of %s: mark %zu at run %zu, past the last (%zu)", cell, i,
                              marks[i].index, n - 1);
        if (marks[i].kind != FG_TREND_CHANGE && marks[i].kind != FG_TREND_AB)
            return fg_err_set(err, "trend of %s: mark %zu of unknown kind %d", cell, i, marks[i].kind);
    }
    const char *scripts = fg_plot_scripts_dir();
    if (!fg_plot_safe_for_gnuplot(cell) || !fg_plot_safe_for_gnuplot(dir) ||
        !fg_plot_safe_for_gnuplot(scripts))
        return fg_err_set(err, "trend of %s: quote or newline in the cell or a path", cell);
    if (fg_plot_have_gnuplot(err) != 0) return -1;

    char stem[160];
    fg_trend_stem(cell, stem, sizeof stem);
    fg_plot_stage st;
    if (fg_plot_stage_open(&st, dir, err) != 0) return -1;
    char data[1500], change_idx[1024], ab_idx[1024];
    snprintf(data, sizeof data, "%s/%s.dat", st.tmp, stem);
    int has_change = 0, has_ab = 0;
    int rc = write_data(data, pts, n, marks, n_marks, change_idx, ab_idx, sizeof change_idx,
                        &has_change, &has_ab, err);
    if (rc == 0) {
        /* Headroom above the data for the marks' texts, written downwards
         * from the top; a flat zero series still gets an axis. */
        ymax = ymax > 0 ? ymax * 1.45 : 1;
        y2max = y2max > 0 ? y2max * 1.45 : 1;
        size_t step = (n + FG_TREND_MAX_TICKS - 1) / FG_TREND_MAX_TICKS;
        char vars[8192];
        int len = snprintf(vars, sizeof vars,
                 "plotsdir='%s'; datafile='%s'; outstem='%s/%s'; cell='%s'; category='trend'; "
                 "runid='%s'; npoints=%zu; step=%zu; ymax=%.6g; y2max=%.6g; has_p50=%d; "
                 "has_p95=%d; has_rps=%d; has_change=%d; has_ab=%d; change_idx='%s'; ab_idx='%s'",
                 scripts, data, st.tmp, stem, cell, cell, n, step ? step : 1, ymax, y2max,
                 has_p50 > 0, has_p95 > 0, has_rps > 0, has_change, has_ab, change_idx, ab_idx);
        rc = len < 0 || (size_t)len >= sizeof vars
                 ? fg_err_set(err, "trend of %s: cell name or paths too long", cell)
                 : fg_plot_gnuplot("trend", vars, err);
    }
    fg_err close_err;
    if (fg_plot_stage_close(&st, rc == 0, &close_err) != 0 && rc == 0) {
        if (err) *err = close_err;
        rc = -1;
    }
    return rc;
}
