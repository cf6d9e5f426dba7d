/* report.c — the threshold table of a run.
 *
 * Rows are built once (cell, threshold, actual, PASS/FAIL/SKIP, note) and
 * then rendered twice: a Markdown table for results/thresholds_<run-id>.md
 * and column-aligned text for stdout, so both always say the same. A
 * missing metric prints "n/a" and fails, the note saying why (e.g. too few
 * samples for a p99); a cell without thresholds gets one "(none)" row so
 * that no cell silently disappears from the table. A relative threshold
 * without a base run is SKIP, counted apart: neither a pass nor a failure.
 *
 * A table must never say PASS about nothing: a run without experiments, a
 * run marked interrupted, and each entry marked interrupted add a failing
 * "(run)" / "(interrupted)" row that says why there is no verdict.
 *
 * A check a busy machine left open is INCONCLUSIVE (its note says how busy,
 * thresholds.h), neither passed nor failed; each entry gets an outcome
 * (pass / fail / inconclusive) and the run the worst of them, so
 * `flowgate run` and the suites can exit 3 and write it into the results. */
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
    char threshold[256];   /* two metric names (96) and a number fit whole */
    char actual[40];
    const char *result;     /* PASS, FAIL, SKIP, INCONCLUSIVE or "-" (no thresholds) */
    char note[160];
} row;

static const char *str_field(const cJSON *obj, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static void format_actual(double v, char *out, size_t size)
{
    if (isnan(v))
        snprintf(out, size, "n/a");
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
/* Room for need more rows. */
static int reserve(row **rows, int n, int *cap, int need, fg_err *err)
{
    if (n + need <= *cap) return 0;
    int c = *cap ? *cap : 64;
    while (c < n + need) c *= 2;
    row *r = realloc(*rows, (size_t)c * sizeof *r);
    if (!r) return fg_err_set(err, "out of memory");
    *rows = r;
    *cap = c;
    return 0;
}

/* A failing row that is no threshold: why part of the run has no verdict. */
static int verdict_row(row **rows, int *n, int *cap, const char *cell, const char *why,
                       fg_threshold_table *t, fg_err *err)
{
    if (reserve(rows, *n, cap, 1, err) != 0) return -1;
    row *r = &(*rows)[(*n)++];
    memset(r, 0, sizeof *r);
    snprintf(r->cell, sizeof r->cell, "%s", cell);
    snprintf(r->threshold, sizeof r->threshold, "%s", why);
    snprintf(r->actual, sizeof r->actual, "-");
    r->result = "FAIL";
    t->checks++;
    t->failed++;
    return 0;
}

/* The same cell (category, id) of the base run: the same repeat when it
 * has it, else its first repeat; NULL when the base lacks the cell. */
static const cJSON *base_entry(const cJSON *base, const char *category, const char *id,
                               const cJSON *e)
{
    if (!base) return NULL;
    const cJSON *repeat = cJSON_GetObjectItemCaseSensitive(e, "repeat");
    const cJSON *x = fg_results_find_in(base, category, id,
                                        cJSON_IsNumber(repeat) ? repeat->valueint : 0);
    if (x) return x;
    const cJSON *b;
    cJSON_ArrayForEach(b, fg_results_experiments(base)) {
        const char *bid = str_field(b, "experiment_id"), *cat = fg_results_category(b);
        if (bid && cat && !strcmp(bid, id) && !strcmp(cat, category)) return b;
    }
    return NULL;
}

/* The entry's outcome and the note that decided it. */
static void entry_outcome(fg_threshold_table *t, int index, fg_outcome o, const char *why)
{
    if (index < 0 || index >= t->n_entries) return;
    t->entry_outcome[index] = fg_outcome_combine(t->entry_outcome[index], o);
    if (o != FG_OUTCOME_PASS && (o == FG_OUTCOME_FAIL || !t->entry_reason[index][0]) &&
        t->entry_outcome[index] == o && why)
        snprintf(t->entry_reason[index], sizeof t->entry_reason[index], "%.159s", why);
}

static int cell_rows(const cJSON *exps, const cJSON *e, int index, const char *run_category,
                     const cJSON *base, const cJSON *doc, row **rows, int *n, int *cap,
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
    const char *own_category = fg_results_category(e);
    const cJSON *b = base_entry(base, own_category ? own_category : "", id, e);
    t->failed += fg_thresholds_eval_base(ts, nt, e, b, vs);
    /* A base run without this cell: its relative thresholds cannot hold. */
    for (int i = 0; i < nt && base && !b; i++)
        if (vs[i].skipped) {
            vs[i].skipped = 0;
            snprintf(vs[i].note, sizeof vs[i].note, "the base run has no such cell");
            t->failed++;
        }
    t->checks += nt;
    t->cells++;
    for (int i = 0; i < nt; i++) {
        if (vs[i].skipped || vs[i].pass) continue;
        char why[256];   /* a metric name (96) and the note's first 140 fit whole */
        snprintf(why, sizeof why, "%s: %.140s", vs[i].t.metric, vs[i].note);
        if (vs[i].inconclusive) t->inconclusive++;
        entry_outcome(t, index, vs[i].inconclusive ? FG_OUTCOME_INCONCLUSIVE : FG_OUTCOME_FAIL,
                      why);
    }

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

    if (reserve(rows, *n, cap, nt ? nt : 1, err) != 0) return -1;
    if (!nt) {
        row *r = &(*rows)[(*n)++];
        memset(r, 0, sizeof *r);
        snprintf(r->cell, sizeof r->cell, "%s", cell);
        snprintf(r->threshold, sizeof r->threshold, "(none)");
        snprintf(r->actual, sizeof r->actual, "-");
        r->result = "-";
    }
    for (int i = 0; i < nt; i++) {
        row *r = &(*rows)[(*n)++];
        memset(r, 0, sizeof *r);
        snprintf(r->cell, sizeof r->cell, "%s", cell);
        if (vs[i].t.relative)
            snprintf(r->threshold, sizeof r->threshold, "%s %s %.10g * base.%s", vs[i].t.metric,
                     fg_cmp_symbol(vs[i].t.cmp), vs[i].t.limit, vs[i].t.base_metric);
        else
            snprintf(r->threshold, sizeof r->threshold, "%s %s %.6g", vs[i].t.metric,
                     fg_cmp_symbol(vs[i].t.cmp), vs[i].t.limit);
        format_actual(vs[i].actual, r->actual, sizeof r->actual);
        r->result = vs[i].skipped ? "SKIP" : vs[i].pass ? "PASS"
                    : vs[i].inconclusive ? "INCONCLUSIVE" : "FAIL";
        snprintf(r->note, sizeof r->note, "%s", vs[i].note);
        if (vs[i].skipped) {
            t->skipped++;
            t->checks--;     /* counted apart: neither passed nor failed */
        }
    }
    /* Thresholds over a repeat that was cut short judge partial data. */
    if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(e, "interrupted"))) {
        entry_outcome(t, index, FG_OUTCOME_FAIL, "interrupted: partial data, no verdict");
        return verdict_row(rows, n, cap, cell, "(interrupted: partial data, no verdict)", t, err);
    }
    return 0;
}

/* Markdown cell text: a '|' would end the cell. */
static void md_cell(FILE *f, const char *s)
{
    if (!*s) {
        fputs(" |", f);
        return;
    }
    fputc(' ', f);
    for (; *s; s++) {
        if (*s == '|') fputc('\\', f);
        fputc(*s, f);
    }
    fputs(" |", f);
}

/* "N of M checks failed, I inconclusive over K cells (S skipped: no base): PASS" */
static void summary(FILE *f, const fg_threshold_table *t, const char *pass, const char *fail,
                    const char *inconclusive)
{
    fprintf(f, "%d of %d checks failed", t->failed, t->checks);
    if (t->inconclusive) fprintf(f, ", %d inconclusive", t->inconclusive);
    fprintf(f, " over %d cells", t->cells);
    if (t->skipped) fprintf(f, " (%d skipped: no base)", t->skipped);
    fprintf(f, ": %s", t->outcome == FG_OUTCOME_FAIL ? fail
                       : t->outcome == FG_OUTCOME_INCONCLUSIVE ? inconclusive : pass);
    if (t->why[0]) fprintf(f, " (%s)", t->why);
}

/* The cells' outcomes, on their own line: an inconclusive cell is neither
 * a pass nor a failure, and says why. */
static void outcomes_line(FILE *f, const fg_threshold_table *t)
{
    int pass = t->cells - t->cells_failed - t->cells_inconclusive;
    fprintf(f, "cells: %d pass, %d fail, %d inconclusive", pass < 0 ? 0 : pass, t->cells_failed,
            t->cells_inconclusive);
    if (t->cells_inconclusive)
        fprintf(f, " (machine busy: the run exits 3 unless --inconclusive=pass / "
                "FLOWGATE_INCONCLUSIVE=pass)");
}

static char *render_markdown(const row *rows, int n, const char *run_id, const char *category,
                             const fg_threshold_table *t)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f) return NULL;
    fprintf(f, "# Thresholds: run %s (%s)\n\n", run_id, category);
    summary(f, t, "PASS", "**FAIL**", "**INCONCLUSIVE**");
    fputs(".\n\n", f);
    outcomes_line(f, t);
    fputs(".\n\n| Cell | Threshold | Actual | Result | Note |\n|---|---|---:|---|---|\n", f);
    for (int i = 0; i < n; i++) {
        fputc('|', f);
        md_cell(f, rows[i].cell);
        md_cell(f, rows[i].threshold);
        md_cell(f, rows[i].actual);
        md_cell(f, !strcmp(rows[i].result, "FAIL") ? "**FAIL**"
                   : !strcmp(rows[i].result, "INCONCLUSIVE") ? "*INCONCLUSIVE*" : rows[i].result);
        md_cell(f, rows[i].note);
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
    fprintf(f, "%-*s  %-*s  %*s  %-6s  %s\n", wc, "cell", wt, "threshold", wa, "actual", "result",
            "note");
    /* INCONCLUSIVE is wider than the column; its note follows after two blanks. */
    for (int i = 0; i < n; i++) {
        /* No trailing blanks when a row has no note. */
        int len = fprintf(f, "%-*s  %-*s  %*s  %s", wc, rows[i].cell, wt, rows[i].threshold, wa,
                          rows[i].actual, rows[i].result);
        (void)len;
        if (rows[i].note[0])
            fprintf(f, "%*s  %s", strlen(rows[i].result) < 6 ? 6 - (int)strlen(rows[i].result) : 0,
                    "", rows[i].note);
        fputc('\n', f);
    }
    fputs("thresholds: ", f);
    summary(f, t, "PASS", "FAIL", "INCONCLUSIVE");
    fputs("\nthresholds: ", f);
    outcomes_line(f, t);
    fputc('\n', f);
    return fclose(f) == 0 ? buf : (free(buf), NULL);
}

int fg_report_thresholds_base(const cJSON *results, const cJSON *base, const cJSON *thresholds,
                              fg_threshold_table *out, fg_err *err)
{
    memset(out, 0, sizeof *out);
    const cJSON *exps = fg_results_experiments(results);
    if (!cJSON_IsArray(exps)) return fg_err_set(err, "results: no experiments array");
    if (base && !cJSON_IsArray(fg_results_experiments(base)))
        return fg_err_set(err, "base results: no experiments array");
    if (fg_thresholds_check(thresholds, err) != 0) return -1;
    const cJSON *run = cJSON_GetObjectItemCaseSensitive(results, "run");
    const char *run_id = str_field(run, "id");
    const char *category = str_field(run, "category");
    int interrupted = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(run, "interrupted"));

    row *rows = NULL;
    int n = 0, cap = 0, index = 0;
    out->n_entries = cJSON_GetArraySize(exps);
    out->entry_outcome = calloc((size_t)out->n_entries + 1, sizeof *out->entry_outcome);
    out->entry_reason = calloc((size_t)out->n_entries + 1, sizeof *out->entry_reason);
    if (!out->entry_outcome || !out->entry_reason) {
        fg_threshold_table_free(out);
        return fg_err_set(err, "out of memory");
    }
    const cJSON *e;
    cJSON_ArrayForEach(e, exps) {
        if (cell_rows(exps, e, index++, category, base, thresholds, &rows, &n, &cap, out, err) !=
            0) {
            free(rows);
            fg_threshold_table_free(out);
            return -1;
        }
    }
    for (int i = 0; i < out->n_entries; i++) {
        out->cells_failed += out->entry_outcome[i] == FG_OUTCOME_FAIL;
        out->cells_inconclusive += out->entry_outcome[i] == FG_OUTCOME_INCONCLUSIVE;
        out->outcome = fg_outcome_combine(out->outcome, out->entry_outcome[i]);
    }
    /* Never PASS about nothing: say why there is no verdict. */
    const char *why = NULL;
    if (out->cells == 0)
        why = interrupted ? "interrupted before any cell finished: no verdict"
                          : "no experiments in the results: no verdict";
    else if (interrupted)
        why = "interrupted: cells not run have no verdict";
    if (why) {
        snprintf(out->why, sizeof out->why, "%s", why);
        if (verdict_row(&rows, &n, &cap, "(run)", why, out, err) != 0) {
            free(rows);
            fg_threshold_table_free(out);
            return -1;
        }
    }
    if (out->failed) out->outcome = FG_OUTCOME_FAIL;   /* "(run)" rows and base mismatches too */
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

int fg_report_thresholds(const cJSON *results, const cJSON *thresholds,
                         fg_threshold_table *out, fg_err *err)
{
    return fg_report_thresholds_base(results, NULL, thresholds, out, err);
}

void fg_threshold_table_free(fg_threshold_table *t)
{
    free(t->markdown);
    free(t->text);
    free(t->entry_outcome);
    free(t->entry_reason);
    t->markdown = t->text = NULL;
    t->entry_outcome = NULL;
    t->entry_reason = NULL;
    t->n_entries = 0;
}

static void replace_item(cJSON *o, const char *key, cJSON *v)
{
    if (cJSON_GetObjectItemCaseSensitive(o, key)) cJSON_ReplaceItemInObjectCaseSensitive(o, key, v);
    else cJSON_AddItemToObject(o, key, v);
}

void fg_report_mark_outcomes(const fg_threshold_table *t, cJSON *results)
{
    cJSON *exps = cJSON_GetObjectItemCaseSensitive(results, "experiments");
    int i = 0;
    cJSON *e;
    cJSON_ArrayForEach(e, exps) {
        if (i >= t->n_entries) break;
        replace_item(e, "outcome", cJSON_CreateString(fg_outcome_name(t->entry_outcome[i])));
        if (t->entry_outcome[i] != FG_OUTCOME_PASS)
            replace_item(e, "outcome_reason", cJSON_CreateString(t->entry_reason[i]));
        else
            cJSON_DeleteItemFromObjectCaseSensitive(e, "outcome_reason");
        i++;
    }
    cJSON *run = cJSON_GetObjectItemCaseSensitive(results, "run");
    if (run) replace_item(run, "outcome", cJSON_CreateString(fg_outcome_name(t->outcome)));
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
