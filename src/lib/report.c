/* report.c — the threshold table of a run.
 *
 * Rows are built once (cell, threshold, actual, PASS/FAIL) and then
 * rendered twice: a Markdown table for results/thresholds_<run-id>.md and
 * column-aligned text for stdout, so both always say the same. A missing
 * metric prints "missing" and fails; a cell without thresholds gets one
 * "(none)" row so that no cell silently disappears from the table. */
#include "flowgate/report.h"
#include "flowgate/results.h"
#include "flowgate/thresholds.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_PER_CELL 64

typedef struct row {
    char cell[160];
    char threshold[128];
    char actual[40];
    const char *result;     /* PASS, FAIL or "-" (no thresholds) */
} row;

static const char *str_field(const cJSON *obj, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static void format_actual(double v, char *out, size_t size)
{
    if (isnan(v))
        snprintf(out, size, "missing");
    else if (v == floor(v) && fabs(v) < 1e15)
        snprintf(out, size, "%.0f", v);
    else if (fabs(v) >= 100)
        snprintf(out, size, "%.1f", v);
    else
        snprintf(out, size, "%.4g", v);
}

/* Entries with this id: *same_category of them in category, the rest in
 * others (a scale file holds one id under two categories). */
static int id_count(const cJSON *exps, const char *id, const char *category,
                    const char *run_category, int *same_category)
{
    int n = 0;
    *same_category = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, exps) {
        const char *eid = str_field(e, "experiment_id"), *cat = str_field(e, "category");
        if (!eid || strcmp(eid, id)) continue;
        if (!cat) cat = run_category;
        n++;
        *same_category += (cat == category) || (cat && category && !strcmp(cat, category));
    }
    return n;
}

/* The rows of one experiment entry, appended to *rows. */
static int cell_rows(const cJSON *exps, const cJSON *e, const char *run_category,
                     const cJSON *doc, row **rows, int *n, int *cap,
                     fg_threshold_table *t, fg_err *err)
{
    const char *id = str_field(e, "experiment_id");
    if (!id) return fg_err_set(err, "results: experiment without experiment_id");
    const char *category = str_field(e, "category");
    if (!category) category = run_category;

    fg_threshold ts[MAX_PER_CELL];
    fg_threshold_verdict vs[MAX_PER_CELL];
    int nt = fg_thresholds_for(doc, category, id, ts, MAX_PER_CELL, err);
    if (nt < 0) return -1;
    t->failed += fg_thresholds_eval(ts, nt, e, vs);
    t->checks += nt;
    t->cells++;

    /* The id, then its category when the id is in several, then the
     * repeat when the cell has several: every row names one entry. */
    char cell[160];
    int same_category, n_id = id_count(exps, id, category, run_category, &same_category);
    size_t len = (size_t)snprintf(cell, sizeof cell, "%s", id);
    if (n_id > same_category && len < sizeof cell)
        len += (size_t)snprintf(cell + len, sizeof cell - len, " [%s]",
                                category ? category : "no category");
    const cJSON *repeat = cJSON_GetObjectItemCaseSensitive(e, "repeat");
    if (cJSON_IsNumber(repeat) && same_category > 1 && len < sizeof cell)
        snprintf(cell + len, sizeof cell - len, " (repeat %d)", repeat->valueint);

    int need = *n + (nt ? nt : 1);
    if (need > *cap) {
        int c = *cap ? *cap : 64;
        while (c < need) c *= 2;
        row *r = realloc(*rows, (size_t)c * sizeof *r);
        if (!r) return fg_err_set(err, "out of memory");
        *rows = r;
        *cap = c;
    }
    if (!nt) {
        row *r = &(*rows)[(*n)++];
        snprintf(r->cell, sizeof r->cell, "%s", cell);
        snprintf(r->threshold, sizeof r->threshold, "(none)");
        snprintf(r->actual, sizeof r->actual, "-");
        r->result = "-";
    }
    for (int i = 0; i < nt; i++) {
        row *r = &(*rows)[(*n)++];
        snprintf(r->cell, sizeof r->cell, "%s", cell);
        snprintf(r->threshold, sizeof r->threshold, "%s %s %.10g", vs[i].t.metric,
                 fg_cmp_symbol(vs[i].t.cmp), vs[i].t.limit);
        format_actual(vs[i].actual, r->actual, sizeof r->actual);
        r->result = vs[i].pass ? "PASS" : "FAIL";
    }
    return 0;
}

/* Markdown cell text: a '|' would end the cell. */
static void md_cell(FILE *f, const char *s)
{
    fputc(' ', f);
    for (; *s; s++) {
        if (*s == '|') fputc('\\', f);
        fputc(*s, f);
    }
    fputs(" |", f);
}

static char *render_markdown(const row *rows, int n, const char *run_id, const char *category,
                             const fg_threshold_table *t)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f) return NULL;
    fprintf(f, "# Thresholds: run %s (%s)\n\n", run_id, category);
    fprintf(f, "%d of %d checks failed over %d cells: %s.\n\n", t->failed, t->checks, t->cells,
            t->failed ? "**FAIL**" : "PASS");
    fputs("| Cell | Threshold | Actual | Result |\n|---|---|---:|---|\n", f);
    for (int i = 0; i < n; i++) {
        fputc('|', f);
        md_cell(f, rows[i].cell);
        md_cell(f, rows[i].threshold);
        md_cell(f, rows[i].actual);
        md_cell(f, !strcmp(rows[i].result, "FAIL") ? "**FAIL**" : rows[i].result);
        fputc('\n', f);
    }
    return fclose(f) == 0 ? buf : (free(buf), NULL);
}

static char *render_text(const row *rows, int n, const fg_threshold_table *t)
{
    int wc = 4, wt = 9, wa = 6;
    for (int i = 0; i < n; i++) {
        int a = (int)strlen(rows[i].cell), b = (int)strlen(rows[i].threshold),
            c = (int)strlen(rows[i].actual);
        if (a > wc) wc = a;
        if (b > wt) wt = b;
        if (c > wa) wa = c;
    }
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f) return NULL;
    fprintf(f, "%-*s  %-*s  %*s  %s\n", wc, "cell", wt, "threshold", wa, "actual", "result");
    for (int i = 0; i < n; i++)
        fprintf(f, "%-*s  %-*s  %*s  %s\n", wc, rows[i].cell, wt, rows[i].threshold, wa,
                rows[i].actual, rows[i].result);
    fprintf(f, "thresholds: %d of %d checks failed over %d cells\n", t->failed, t->checks,
            t->cells);
    return fclose(f) == 0 ? buf : (free(buf), NULL);
}

int fg_report_thresholds(const cJSON *results, const cJSON *thresholds,
                         fg_threshold_table *out, fg_err *err)
{
    memset(out, 0, sizeof *out);
    const cJSON *exps = fg_results_experiments(results);
    if (!cJSON_IsArray(exps)) return fg_err_set(err, "results: no experiments array");
    const cJSON *run = cJSON_GetObjectItemCaseSensitive(results, "run");
    const char *run_id = str_field(run, "id");
    const char *category = str_field(run, "category");

    row *rows = NULL;
    int n = 0, cap = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, exps) {
        if (cell_rows(exps, e, category, thresholds, &rows, &n, &cap, out, err) != 0) {
            free(rows);
            return -1;
        }
    }
    out->markdown = render_markdown(rows, n, run_id ? run_id : "(no id)",
                                    category ? category : "no category", out);
    out->text = render_text(rows, n, out);
    free(rows);
    if (!out->markdown || !out->text) {
        fg_threshold_table_free(out);
        return fg_err_set(err, "out of memory rendering the threshold table");
    }
    return 0;
}

void fg_threshold_table_free(fg_threshold_table *t)
{
    free(t->markdown);
    free(t->text);
    t->markdown = t->text = NULL;
}

int fg_report_write_thresholds(const fg_threshold_table *t, const cJSON *results,
                               const char *dir, char *path_out, size_t path_size, fg_err *err)
{
    const char *run_id = str_field(cJSON_GetObjectItemCaseSensitive(results, "run"), "id");
    if (!run_id || !*run_id) return fg_err_set(err, "results: run.id missing");
    /* The id becomes a file name: no separators, no "..". */
    for (const char *p = run_id; *p; p++)
        if (!(isalnum((unsigned char)*p) || *p == '-' || *p == '_' || (*p == '.' && p[1] != '.')))
            return fg_err_set(err, "results: run.id '%s' is not usable in a file name", run_id);
    if (fg_mkdirs(dir, err) != 0) return -1;
    char path[4096];
    if ((size_t)snprintf(path, sizeof path, "%s/thresholds_%s.md", dir, run_id) >= sizeof path)
        return fg_err_set(err, "%s: path too long", dir);
    if (fg_write_file_atomic(path, t->markdown, strlen(t->markdown), err) != 0) return -1;
    if (path_out) snprintf(path_out, path_size, "%s", path);
    return 0;
}
