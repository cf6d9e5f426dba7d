/* page.c — the report page (report_page.h): loads the run, opens the page
 * in memory, has each section write itself (one file per section), and
 * writes the file atomically. Every section copes with its part missing by
 * saying so; only an unreadable run or an unwritable page is an error. The
 * style is inline and the page has no script: it opens from an artefact
 * store or a mail attachment, offline, as it is. */
#define _GNU_SOURCE /* open_memstream, realpath */
#include "flowgate/report_page.h"

#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "flowgate/json.h"
#include "flowgate/results.h"
#include "html.h"
#include "page.h"

static const char style[] =
    "body{font:14px/1.45 'DejaVu Sans',Arial,sans-serif;margin:0;color:#1d2330;background:#f4f5f7}"
    "main{max-width:1180px;margin:0 auto;padding:16px 24px 48px}"
    "h1{font-size:22px;margin:18px 0 4px}h2{font-size:18px;margin:28px 0 8px;padding-top:8px;"
    "border-top:2px solid #d5d9e0}h3{font-size:15px;margin:16px 0 6px}"
    "section{background:#fff;border:1px solid #dde1e8;border-radius:6px;padding:4px 18px 14px;"
    "margin:14px 0}"
    "table{border-collapse:collapse;margin:6px 0;font-size:13px}"
    "th,td{border:1px solid #d5d9e0;padding:3px 8px;text-align:left;vertical-align:top}"
    "th{background:#eef1f5}td.num{text-align:right;font-variant-numeric:tabular-nums}"
    "dl{display:grid;grid-template-columns:max-content auto;gap:2px 16px;margin:6px 0}"
    "dt{color:#5b6475}dd{margin:0}"
    ".badge{display:inline-block;padding:0 8px;border-radius:9px;font-weight:bold;font-size:12px;"
    "color:#fff;background:#6b7280}"
    ".pass{background:#15803d}.fail{background:#b91c1c}.inconclusive{background:#b45309}"
    ".skip{background:#6b7280}"
    "tr.fail td{background:#fdecec}tr.inconclusive td{background:#fff6e5}"
    "p.none{color:#5b6475;font-style:italic}p.warn{color:#b91c1c}"
    "pre{background:#f6f8fa;border:1px solid #dde1e8;padding:8px;overflow-x:auto;font-size:12px}"
    ".charts{display:grid;grid-template-columns:repeat(auto-fill,minmax(520px,1fr));gap:10px}"
    "figure{margin:0}figcaption{font-weight:bold;margin-bottom:4px}"
    "figure svg{width:100%;height:auto;border:1px solid #e5e7eb}"
    "code{font-size:12px}";

/* ---- links ---------------------------------------------------------------- */

/* target relative to the absolute directory from; both canonical. */
static void relative(const char *from, const char *target, char *out, size_t size)
{
    size_t i = 0, last = 0;   /* last: the end of the directories both share */
    while (from[i] && from[i] == target[i]) {
        if (from[i] == '/') last = i;
        i++;
    }
    if (!from[i] && target[i] == '/') last = i;
    size_t len = 0;
    out[0] = 0;
    for (const char *c = from + last; *c; c++)
        if (*c == '/' && c[1] && len + 4 < size) len += (size_t)snprintf(out + len, size - len, "../");
    snprintf(out + len, size - len, "%s", target + last + 1);
}

void fg_page_link(fg_page *p, const char *target, const char *text)
{
    char real[PATH_MAX], rel[PATH_MAX * 2];
    if (!realpath(target, real)) {
        fg_html_text(p->f, text);
        fputs(" (missing)", p->f);
        return;
    }
    relative(p->out_dir, real, rel, sizeof rel);
    /* Percent-encoded: a path with a space or '#' stays one link. */
    fputs("<a href=\"", p->f);
    for (const unsigned char *c = (const unsigned char *)rel; *c; c++) {
        if ((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
            strchr("/._-~", *c))
            fputc(*c, p->f);
        else
            fprintf(p->f, "%%%02X", *c);
    }
    fputs("\">", p->f);
    fg_html_text(p->f, text);
    fputs("</a>", p->f);
}

void fg_page_badge(fg_page *p, const char *word)
{
    const char *w = word ? word : "?";
    const char *cls = strcasestr(w, "no regression") || !strcasecmp(w, "pass") ? "pass"
                      : strcasestr(w, "fail") || strcasestr(w, "regression") ? "fail"
                      : strcasestr(w, "inconclusive") ? "inconclusive" : "skip";
    fprintf(p->f, "<span class=\"badge %s\">", cls);
    fg_html_text(p->f, w);
    fputs("</span>", p->f);
}

/* ---- the page ------------------------------------------------------------- */

static int out_path(const fg_report_opts *o, const char *results_dir, const char *run_id,
                    char *path, size_t size, fg_err *err)
{
    int n = o->out_path && *o->out_path
                ? snprintf(path, size, "%s", o->out_path)
                : snprintf(path, size, "%s/report_%s.html", results_dir, run_id);
    if (n < 0 || (size_t)n >= size) return fg_err_set(err, "report: output path too long");
    return 0;
}

/* The run id as it may appear in a file name: no '/' or leading '.'. */
static int usable_id(const char *id)
{
    return id && *id && *id != '.' && !strchr(id, '/') && strlen(id) < 64;
}

int fg_report_page(const fg_report_opts *o, fg_report_summary *summary, fg_err *err)
{
    fg_report_summary local;
    fg_report_summary *sum = summary ? summary : &local;
    memset(sum, 0, sizeof *sum);
    if (!o || !o->results_path || !*o->results_path)
        return fg_err_set(err, "report: no results file given");
    cJSON *loaded = o->results ? NULL : fg_results_load(o->results_path, err);
    const cJSON *results = o->results ? o->results : loaded;
    if (!results) return -1;
    const cJSON *run = cJSON_GetObjectItemCaseSensitive(results, "run");
    const char *id = fg_json_string(run, "id");
    if (!usable_id(id)) {
        cJSON_Delete(loaded);
        return fg_err_set(err, "%s: run.id missing or not usable in a file name", o->results_path);
    }
    fg_page p = {.results = results, .results_path = o->results_path, .sum = sum};
    snprintf(p.run_id, sizeof p.run_id, "%s", id);
    snprintf(sum->run_id, sizeof sum->run_id, "%s", id);
    const char *commit = fg_json_string(run, "git_commit");
    p.commit = commit ? commit : "";
    char tmp[1024];
    snprintf(tmp, sizeof tmp, "%s", o->results_path);
    snprintf(p.results_dir, sizeof p.results_dir, "%s", dirname(tmp));

    char path[1024], dir[1024];
    int rc = out_path(o, p.results_dir, p.run_id, path, sizeof path, err);
    if (rc == 0) {
        snprintf(dir, sizeof dir, "%s", path);
        snprintf(tmp, sizeof tmp, "%s", dirname(dir));
        char real[PATH_MAX];
        if (fg_mkdirs(tmp, err) != 0) rc = -1;
        else if (!realpath(tmp, real)) rc = fg_err_set(err, "%s: %s", tmp, strerror(errno));
        else snprintf(p.out_dir, sizeof p.out_dir, "%s", real);
    }
    char *html = NULL;
    size_t len = 0;
    if (rc == 0 && !(p.f = open_memstream(&html, &len))) rc = fg_err_set(err, "report: out of memory");
    if (rc == 0) {
        const char *plots = o->plots_dir && *o->plots_dir ? o->plots_dir : "plots";
        fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
              "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">", p.f);
        fprintf(p.f, "<title>flowgate report ");
        fg_html_text(p.f, p.run_id);
        fprintf(p.f, "</title><style>%s</style></head>\n<body><main>\n", style);
        fg_page_summary(&p);
        fg_page_thresholds(&p);
        fg_page_ab(&p, o->ab_dir);
        /* What changed comes before the run's own charts, which are many
         * and long: a reviewer reads the verdicts first. */
        fg_page_changes(&p, o);
        fg_page_trends(&p, plots);
        fg_page_charts(&p, plots);
        fputs("</main></body></html>\n", p.f);
        if (fclose(p.f) != 0) rc = fg_err_set(err, "report: out of memory");
    }
    if (rc == 0 && fg_write_file_atomic(path, html, len, err) == 0)
        snprintf(sum->path, sizeof sum->path, "%s", path);
    else
        rc = -1;
    free(html);
    cJSON_Delete(loaded);
    return rc;
}
