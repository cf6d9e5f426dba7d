/* section_charts.c — the charts on the page: the run's (<plots>/<run-id>/
 * and its category or scenario subfolders) and the trend charts
 * (<plots>/trends/), each gnuplot SVG inlined through svg_inline.h under
 * its own id prefix. A folder without charts, or a chart refused, is said
 * on the page. */
#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "html.h"
#include "page.h"
#include "svg_inline.h"

#define MAX_CHARTS 256

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int is_svg(const char *name)
{
    size_t n = strlen(name);
    return name[0] != '.' && n > 4 && !strcmp(name + n - 4, ".svg");
}

/* The SVGs of dir ("sub/x.svg" for one level of subfolders when deep),
 * sorted, into names; their count. */
static int list_svgs(const char *dir, int deep, char **names, int n, int max)
{
    DIR *d = opendir(dir);
    if (!d) return n;
    struct dirent *de;
    int first = n;
    while ((de = readdir(d)) && n < max) {
        if (de->d_name[0] == '.') continue;   /* also the staging folders (.partial-*) */
        char path[1500];
        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        struct stat st;
        if (stat(path, &st) != 0) continue;
        if (S_ISREG(st.st_mode) && is_svg(de->d_name)) {
            names[n++] = strdup(de->d_name);
        } else if (deep && S_ISDIR(st.st_mode)) {
            char *sub[MAX_CHARTS];
            int k = list_svgs(path, 0, sub, 0, MAX_CHARTS);
            for (int i = 0; i < k; i++) {
                if (n < max) {
                    size_t len = strlen(de->d_name) + strlen(sub[i]) + 2;
                    names[n] = malloc(len);
                    snprintf(names[n++], len, "%s/%s", de->d_name, sub[i]);
                }
                free(sub[i]);
            }
        }
    }
    closedir(d);
    qsort(names + first, (size_t)(n - first), sizeof names[0], by_name);
    return n;
}

/* Inlines every SVG of dir; the count inlined. */
static int inline_all(fg_page *p, const char *dir, int deep, const char *none)
{
    char *names[MAX_CHARTS];
    int n = list_svgs(dir, deep, names, 0, MAX_CHARTS), shown = 0;
    if (n == 0) {
        fputs("<p class=\"none\">", p->f);
        fg_html_text(p->f, none);
        fputs("</p>\n", p->f);
        return 0;
    }
    fputs("<div class=\"charts\">\n", p->f);
    for (int i = 0; i < n; i++) {
        char path[2000], prefix[32];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        snprintf(prefix, sizeof prefix, "c%d", ++p->svg_seq);
        fputs("<figure><figcaption>", p->f);
        fg_html_text(p->f, names[i]);
        fputs("</figcaption>\n", p->f);
        fg_err err = {{0}};
        if (fg_svg_inline(p->f, path, prefix, &err) == 0) {
            shown++;
        } else {
            p->sum->charts_refused++;
            fputs("<p class=\"warn\">Chart not shown: ", p->f);
            fg_html_text(p->f, err.msg);
            fputs("</p>", p->f);
        }
        fputs("\n</figure>\n", p->f);
        free(names[i]);
    }
    fputs("</div>\n", p->f);
    return shown;
}

void fg_page_charts(fg_page *p, const char *plots_dir)
{
    char dir[1200], none[1400];
    snprintf(dir, sizeof dir, "%s/%s", plots_dir, p->run_id);
    snprintf(none, sizeof none, "No charts of this run in %s (flowgate plot %s draws them).", dir,
             p->results_path);
    fputs("<section id=\"charts\"><h2>Charts of the run</h2>\n", p->f);
    p->sum->charts = inline_all(p, dir, 1, none);
    fputs("</section>\n", p->f);
}

void fg_page_trends(fg_page *p, const char *plots_dir)
{
    char dir[1200], none[1400];
    snprintf(dir, sizeof dir, "%s/trends", plots_dir);
    snprintf(none, sizeof none, "No trend charts in %s (they are drawn from the history of runs).", dir);
    fputs("<section id=\"trends\"><h2>Trends</h2>\n", p->f);
    p->sum->trend_charts = inline_all(p, dir, 0, none);
    fputs("</section>\n", p->f);
}
