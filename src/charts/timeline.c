/* timeline.c — timeline.dat (timeline.h): which cell's timeline file is
 * drawn, which of its requests, and which of their spans are believable
 * enough to draw. The spans go on one axis from the earliest send of the
 * sample, so the client's and the server's times must agree on it. */
#include "timeline.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "flowgate/json.h"
#include "flowgate/log.h"

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
static const fg_fold_cell *timeline_cell(const fg_fold *f, const char *results_path, char *path,
                                         size_t n)
{
    const fg_fold_cell *best = NULL;
    char candidate[1024];
    for (int i = 0; i < f->n_cells; i++) {
        const fg_fold_cell *k = &f->cells[i];
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

/* Spans of the first `requests` measured (non-warmup) requests, relative
 * to the earliest send in the sample; one block per function (header row:
 * its name): request sent received exec_start exec_end "node" — the
 * client's view of the call and, inside it, the server's execution (?
 * when the server did not report it).
 *
 * A span is never drawn with a negative length, nor far outside the call
 * that contains it (timelines written before server seconds were
 * recognised hold exec times some 1.7e12 ms before the call): a call with
 * received < sent loses its row, a server execution that ends before it
 * starts or lies outside [sent - skew, received + skew] becomes "? ?".
 * Each is counted (c->dropped) and logged once, so nothing vanishes
 * from the chart silently. */
#define TIMELINE_SKEW_MS 1000.0   /* server vs client clock on one host */

/* t0: the chart's origin; the x axis starts there, so nothing before it. */
static int exec_plausible(double st, double en, double xs, double xe, double t0)
{
    return xe >= xs && xs >= t0 && xs >= st - TIMELINE_SKEW_MS && xe <= en + TIMELINE_SKEW_MS;
}

int fg_plot_timeline_write(FILE *out, const fg_fold *f, const char *results_path, int requests,
                           fg_plot_timeline_counts *c, fg_err *err)
{
    memset(c, 0, sizeof *c);
    fprintf(out, "# one block per function: request sent received exec_start exec_end node (ms since the first send of the sample)\n");
    char path[1024];
    const fg_fold_cell *k = timeline_cell(f, results_path, path, sizeof path);
    if (!k) return 0;

    fg_buf text;
    if (fg_read_file(path, 0, &text, err) != 0) return -1;
    cJSON *doc = cJSON_ParseWithLength((const char *)text.data, text.len);
    fg_buf_free(&text);
    const cJSON *reqs = cJSON_GetObjectItemCaseSensitive(doc, "requests");
    if (!cJSON_IsArray(reqs)) {
        cJSON_Delete(doc);
        return fg_err_set(err, "%s: no requests array in the timeline", path);
    }
    const cJSON **sample = calloc((size_t)requests, sizeof *sample);
    if (!sample) {
        cJSON_Delete(doc);
        return fg_err_set(err, "out of memory sampling the timeline");
    }
    int n = 0;
    char names[FG_FOLD_MAX_FUNCS][32];
    int n_names = 0;
    double t0 = INFINITY;
    const cJSON *r, *sp;
    cJSON_ArrayForEach(r, reqs) {
        if (n == requests) break;
        if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(r, "warmup"))) continue;
        int spans = 0;
        cJSON_ArrayForEach(sp, cJSON_GetObjectItemCaseSensitive(r, "spans")) {
            double st = fg_json_number(sp, "sent"), en = fg_json_number(sp, "received");
            const char *fn = fg_json_string(sp, "function");
            if (!isfinite(st) || !isfinite(en) || !fn) continue;
            if (en < st) {
                c->dropped++;   /* counted here, skipped below */
                continue;
            }
            if (st < t0) t0 = st;
            fg_fold_name_index(names, &n_names, FG_FOLD_MAX_FUNCS, fg_fold_short_name(fn));
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
                if (!isfinite(st) || !isfinite(en) || !fn || strcmp(fg_fold_short_name(fn), names[fi])) continue;
                if (en < st) continue;
                fprintf(out, "%d %.3f %.3f", i, st - t0, en - t0);
                int have_exec = isfinite(xs) || isfinite(xe);
                if (have_exec && isfinite(xs) && isfinite(xe) && exec_plausible(st, en, xs, xe, t0)) {
                    fprintf(out, " %.3f %.3f", xs - t0, xe - t0);
                } else {
                    if (have_exec) c->dropped++;
                    fprintf(out, " ? ?");
                }
                fprintf(out, " \"%s\"\n", node ? node : "?");
                c->rows++;
            }
    }
    c->blocks = n_names;
    c->requests = n;
    free(sample);
    cJSON_Delete(doc);
    if (c->dropped)
        fg_log(FG_LOG_WARN, "%s: %d span(s) with a negative or implausible time not drawn "
               "(server clock or timestamp unit)", path, c->dropped);
    if (c->rows) snprintf(c->cell, sizeof c->cell, "%s", k->id);
    return 0;
}
