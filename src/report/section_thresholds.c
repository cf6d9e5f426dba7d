/* section_thresholds.c — the threshold table as the run decided it: the
 * Markdown table the gates wrote beside the results
 * (thresholds_<run-id>.md, gates' report.h) turned into HTML. Re-deciding
 * here could disagree with the run (the thresholds file may have changed
 * since, the noise widening needs the run's probe); the file is the record.
 * Its format is the gates' own: prose lines, then one pipe table whose
 * cells escape '|' as "\|" and mark FAIL/INCONCLUSIVE with * or **. */
#include <stdlib.h>
#include <string.h>

#include "html.h"
#include "page.h"

#define MAX_TABLE_BYTES (32u << 20)

/* Splits a table line in place at unescaped '|'; cells trimmed, "\|" → "|",
 * emphasis stars dropped. Returns the count. */
static int split_row(char *line, char **cells, int max)
{
    int n = 0;
    char *c = line;
    if (*c == '|') c++;
    while (*c && n < max) {
        char *w = c, *start = c;
        while (*c && *c != '|') {
            if (*c == '\\' && c[1] == '|') c++;
            *w++ = *c++;
        }
        int more = *c == '|';
        *w = 0;
        if (more) c++;
        while (*start == ' ' || *start == '*') start++;
        char *end = start + strlen(start);
        while (end > start && (end[-1] == ' ' || end[-1] == '*')) *--end = 0;
        if (!more && !*start && !*c) break;   /* the empty tail after the last '|' */
        cells[n++] = start;
    }
    return n;
}

static const char *row_class(const char *result)
{
    return !strcmp(result, "FAIL") ? "fail" : !strcmp(result, "INCONCLUSIVE") ? "inconclusive" : "";
}

void fg_page_thresholds(fg_page *p)
{
    char path[1200];
    snprintf(path, sizeof path, "%s/thresholds_%s.md", p->results_dir, p->run_id);
    fputs("<section id=\"thresholds\"><h2>Thresholds</h2>\n", p->f);
    fg_buf b = {0};
    if (fg_read_file(path, MAX_TABLE_BYTES, &b, NULL) != 0) {
        fputs("<p class=\"none\">No threshold table beside the results (", p->f);
        fg_html_text(p->f, path);
        fputs("): the run had no thresholds or did not finish.</p></section>\n", p->f);
        return;
    }
    char *text = malloc(b.len + 1);
    if (!text) {
        fg_buf_free(&b);
        fputs("<p class=\"warn\">The threshold table is too big to show.</p></section>\n", p->f);
        return;
    }
    memcpy(text, b.data, b.len);
    text[b.len] = 0;
    fg_buf_free(&b);

    int in_table = 0, header = 0, result_col = -1;
    char *save = NULL;
    for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        if (line[0] == '#') continue;   /* the file's title: the section has its own */
        if (line[0] != '|') {
            if (in_table) fputs("</table>\n", p->f);
            in_table = 0;
            char *w = line;   /* emphasis stars dropped, in place */
            for (char *c = line; *c; c++)
                if (*c != '*') *w++ = *c;
            *w = 0;
            fputs("<p>", p->f);
            fg_html_text(p->f, line);
            fputs("</p>\n", p->f);
            continue;
        }
        char *cells[16];
        int n = split_row(line, cells, 16);
        if (n > 0 && cells[0][0] == '-') continue;   /* the |---| alignment row */
        if (!in_table) {
            fputs("<table>\n", p->f);
            in_table = header = 1;
        }
        const char *cls = !header && result_col >= 0 && result_col < n ? row_class(cells[result_col]) : "";
        fprintf(p->f, "<tr%s%s%s>", *cls ? " class=\"" : "", cls, *cls ? "\"" : "");
        for (int i = 0; i < n; i++) {
            if (header && !strcmp(cells[i], "Result")) result_col = i;
            fputs(header ? "<th>" : "<td>", p->f);
            if (!header && i == result_col) fg_page_badge(p, cells[i]);
            else fg_html_text(p->f, cells[i]);
            fputs(header ? "</th>" : "</td>", p->f);
        }
        fputs("</tr>\n", p->f);
        header = 0;
    }
    if (in_table) fputs("</table>\n", p->f);
    fputs("<p>From ", p->f);
    fg_page_link(p, path, "the run's threshold table");
    fputs(".</p></section>\n", p->f);
    free(text);
}
