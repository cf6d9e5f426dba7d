/* section_changes.c — the change points the caller found in the cells'
 * histories (report_page.h: fg_report_change), one row each; none is "no
 * change points" when a history was consulted and "no history" when not,
 * since those mean different things to a reviewer. */
#include <math.h>

#include "html.h"
#include "page.h"

static void number_cell(fg_page *p, const char *fmt, double v)
{
    fputs("<td class=\"num\">", p->f);
    if (isfinite(v)) fg_html_textf(p->f, fmt, v);
    else fputs("&ndash;", p->f);
    fputs("</td>", p->f);
}

void fg_page_changes(fg_page *p, const fg_report_opts *o)
{
    fputs("<section id=\"changes\"><h2>Change points</h2>\n", p->f);
    if (!o->n_changes || !o->changes) {
        fputs(o->have_history ? "<p class=\"none\">No change points in the history of these cells.</p>"
                              : "<p class=\"none\">No history: change points need the store of "
                                "earlier runs.</p>", p->f);
        fputs("</section>\n", p->f);
        return;
    }
    fputs("<table><tr><th>Cell</th><th>Metric</th><th>First commit of the new level</th>"
          "<th>Change</th><th>95 % interval</th><th>p-value</th></tr>\n", p->f);
    for (size_t i = 0; i < o->n_changes; i++) {
        const fg_report_change *c = &o->changes[i];
        fputs("<tr><td>", p->f);
        fg_html_text(p->f, c->cell ? c->cell : "?");
        fputs("</td><td>", p->f);
        fg_html_text(p->f, c->metric ? c->metric : "?");
        fputs("</td><td><code>", p->f);
        fg_html_text(p->f, c->commit ? c->commit : "?");
        fputs("</code></td>", p->f);
        number_cell(p, "%+.1f %%", c->change_pct);
        fputs("<td class=\"num\">", p->f);
        if (isfinite(c->ci_lo_pct) && isfinite(c->ci_hi_pct))
            fg_html_textf(p->f, "[%+.1f %%, %+.1f %%]", c->ci_lo_pct, c->ci_hi_pct);
        else
            fputs("&ndash;", p->f);
        fputs("</td>", p->f);
        number_cell(p, "%.2g", c->p_value);
        fputs("</tr>\n", p->f);
    }
    fputs("</table></section>\n", p->f);
}
