/* section_ab.c — the A/B verdict of the run's commit: the dir given, else
 * the newest ab-<stamp> beside the results whose B side ran the same
 * commit. Shown: the outcome, each cell's verdict with the ratios and 95 %
 * intervals of its metrics (verdict.json), and the culprit the gate named
 * (the "culprit of" blocks of verdict.txt, else the function that added the
 * most time with an interval above zero, from verdict.json). */
#define _GNU_SOURCE /* strcasestr */
#include <dirent.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "flowgate/json.h"
#include "flowgate/results.h"
#include "html.h"
#include "page.h"

#define MAX_VERDICT_BYTES (64u << 20)

static int by_name_desc(const void *a, const void *b)
{
    return strcmp(*(char *const *)b, *(char *const *)a);
}

/* 1 when <dir>/B holds a results file of commit. */
static int b_side_ran(const char *dir, const char *commit)
{
    char b[1400];
    snprintf(b, sizeof b, "%s/B", dir);
    DIR *d = opendir(b);
    if (!d) return 0;
    int same = 0;
    struct dirent *de;
    while (!same && (de = readdir(d))) {
        if (!fg_results_is_file_name(de->d_name)) continue;
        char path[1700];
        snprintf(path, sizeof path, "%s/%s", b, de->d_name);
        cJSON *r = fg_results_load(path, NULL);
        const char *c = fg_json_string(cJSON_GetObjectItemCaseSensitive(r, "run"), "git_commit");
        same = c && !strcmp(c, commit);
        cJSON_Delete(r);
    }
    closedir(d);
    return same;
}

/* The newest ab-* beside the results for the run's commit, into out. */
static int find_ab_dir(const fg_page *p, char *out, size_t size)
{
    if (!*p->commit) return 0;
    DIR *d = opendir(p->results_dir);
    if (!d) return 0;
    char *names[256];
    int n = 0;
    struct dirent *de;
    while ((de = readdir(d)) && n < 256)
        if (!strncmp(de->d_name, "ab-", 3)) names[n++] = strdup(de->d_name);
    closedir(d);
    qsort(names, (size_t)n, sizeof names[0], by_name_desc);   /* ab-<stamp>: newest first */
    int found = 0;
    for (int i = 0; i < n; i++) {
        char dir[1300];
        snprintf(dir, sizeof dir, "%s/%s", p->results_dir, names[i]);
        if (!found && b_side_ran(dir, p->commit)) {
            snprintf(out, size, "%s", dir);
            found = 1;
        }
        free(names[i]);
    }
    return found;
}

static void metric_cell(fg_page *p, const cJSON *metrics, const char *name)
{
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(metrics, name);
    const cJSON *ci = cJSON_GetObjectItemCaseSensitive(m, "ci");
    double ratio = fg_json_number(m, "ratio");
    fputs("<td class=\"num\">", p->f);
    if (isfinite(ratio)) {
        fg_html_textf(p->f, "x%.3f", ratio);
        const cJSON *lo = cJSON_GetArrayItem(ci, 0), *hi = cJSON_GetArrayItem(ci, 1);
        if (cJSON_IsNumber(lo) && cJSON_IsNumber(hi))
            fg_html_textf(p->f, " [%.3f, %.3f]", lo->valuedouble, hi->valuedouble);
    } else {
        fputs("&ndash;", p->f);
    }
    fputs("</td>", p->f);
}

/* The culprit blocks of verdict.txt ("  culprit of ..." and the lines
 * indented under it); 1 when there was one. */
static int culprits_from_text(fg_page *p, const char *dir)
{
    char path[1400];
    snprintf(path, sizeof path, "%s/verdict.txt", dir);
    fg_buf b = {0};
    if (fg_read_file(path, MAX_VERDICT_BYTES, &b, NULL) != 0) return 0;
    char *text = malloc(b.len + 1);
    if (!text) {
        fg_buf_free(&b);
        return 0;
    }
    memcpy(text, b.data, b.len);
    text[b.len] = 0;
    fg_buf_free(&b);
    int shown = 0, in_block = 0;
    char *save = NULL;
    for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        if (!strncmp(line, "  culprit of ", 13)) in_block = 1;
        else if (strncmp(line, "    ", 4)) in_block = 0;
        if (!in_block) continue;
        if (!shown++) fputs("<pre>", p->f);
        fg_html_text(p->f, line);
        fputc('\n', p->f);
    }
    if (shown) fputs("</pre>", p->f);
    free(text);
    return shown > 0;
}

/* The function of a regressed cell that added the most time with its
 * interval above zero (verdict.json); 1 when one was named. */
static int culprit_from_json(fg_page *p, const cJSON *cell)
{
    const cJSON *best = NULL, *f;
    cJSON_ArrayForEach(f, cJSON_GetObjectItemCaseSensitive(cell, "functions")) {
        const cJSON *lo = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(f, "added_ci_ms"), 0);
        double added = fg_json_number(f, "added_ms");
        if (cJSON_IsNumber(lo) && lo->valuedouble > 0 && isfinite(added) &&
            (!best || added > fg_json_number(best, "added_ms")))
            best = f;
    }
    if (!best) return 0;
    const char *fn = fg_json_string(best, "function"), *part = fg_json_string(best, "part");
    fputs("<p>culprit of ", p->f);
    fg_html_text(p->f, fg_json_string(cell, "experiment_id"));
    fputs(": <strong>", p->f);
    fg_html_textf(p->f, "%s %s", fn ? fn : "?", part ? part : "?");
    fputs("</strong> ", p->f);
    fg_html_textf(p->f, "%+.1f ms", fg_json_number(best, "added_ms"));
    fputs("</p>", p->f);
    return 1;
}

void fg_page_ab(fg_page *p, const char *ab_dir)
{
    char dir[1300] = "";
    fputs("<section id=\"ab\"><h2>A/B verdict</h2>\n", p->f);
    if (ab_dir && *ab_dir) snprintf(dir, sizeof dir, "%s", ab_dir);
    else if (!find_ab_dir(p, dir, sizeof dir)) {
        fputs("<p class=\"none\">No A/B verdict for this commit (no ab-* directory beside the "
              "results whose B side ran it; <code>flowgate ab</code> writes one).</p></section>\n", p->f);
        return;
    }
    char path[1400];
    snprintf(path, sizeof path, "%s/verdict.json", dir);
    fg_err err = {{0}};
    cJSON *v = fg_json_load_object(path, MAX_VERDICT_BYTES, &err);
    if (!v) {
        fputs("<p class=\"warn\">No A/B verdict shown: ", p->f);
        fg_html_text(p->f, err.msg);
        fputs("</p></section>\n", p->f);
        return;
    }
    snprintf(p->sum->ab_dir, sizeof p->sum->ab_dir, "%s", dir);
    fputs("<p>outcome ", p->f);
    fg_page_badge(p, fg_json_string(v, "outcome"));
    const char *stopped = fg_json_string(v, "stopped");
    fg_html_textf(p->f, " after %.0f pairs, %.0f looks, %.0f s; stopped: %s; alpha %g over %.0f tests",
                  fg_json_number(v, "pairs"), fg_json_number(v, "looks"),
                  fg_json_number(v, "elapsed_s"), stopped ? stopped : "?",
                  fg_json_number(v, "alpha"), fg_json_number(v, "tests"));
    fputs("</p>\n<table><tr><th>Cell</th><th>Verdict</th><th>centre (p50) ratio [95 % CI]</th>"
          "<th>tail (p95) ratio [95 % CI]</th><th>throughput ratio [95 % CI]</th></tr>\n", p->f);
    const cJSON *cell;
    int regressed = 0;
    cJSON_ArrayForEach(cell, cJSON_GetObjectItemCaseSensitive(v, "cells")) {
        const char *verdict = fg_json_string(cell, "verdict");
        const cJSON *metrics = cJSON_GetObjectItemCaseSensitive(cell, "metrics");
        int is_regression = verdict && !strcmp(verdict, "regression");
        regressed += is_regression;
        fputs(is_regression ? "<tr class=\"fail\"><td>" : "<tr><td>", p->f);
        fg_html_text(p->f, fg_json_string(cell, "experiment_id"));
        fputs("</td><td>", p->f);
        fg_page_badge(p, verdict);
        fputs("</td>", p->f);
        metric_cell(p, metrics, "centre");
        metric_cell(p, metrics, "tail");
        metric_cell(p, metrics, "throughput");
        fputs("</tr>\n", p->f);
    }
    fputs("</table>\n<h3>Culprit</h3>\n", p->f);
    int from_text = culprits_from_text(p, dir), named = from_text;
    cJSON_ArrayForEach(cell, cJSON_GetObjectItemCaseSensitive(v, "cells")) {
        const char *verdict = fg_json_string(cell, "verdict");
        if (!from_text && verdict && !strcmp(verdict, "regression")) named |= culprit_from_json(p, cell);
    }
    if (!named)
        fputs(regressed ? "<p class=\"none\">A cell regressed but no function added measurable time.</p>"
                        : "<p class=\"none\">No culprit: no cell regressed.</p>", p->f);
    fputs("\n<p>From ", p->f);
    fg_page_link(p, path, "verdict.json");
    snprintf(path, sizeof path, "%s/verdict.txt", dir);
    fputs(" and ", p->f);
    fg_page_link(p, path, "verdict.txt");
    fputs(" in ", p->f);
    fg_html_text(p->f, dir);
    fputs(".</p></section>\n", p->f);
    cJSON_Delete(v);
}
