/* section_summary.c — the run at a glance: what ran where, when, how busy
 * the machine was (the noise probe), the outcome and the cells' outcomes,
 * with a link to the results file. Read from run.* and the entries'
 * "outcome" (written when the thresholds were applied). */
#include <math.h>
#include <string.h>

#include "flowgate/json.h"
#include "flowgate/results.h"
#include "html.h"
#include "page.h"

static void row(fg_page *p, const char *name, const char *value)
{
    fputs("<dt>", p->f);
    fg_html_text(p->f, name);
    fputs("</dt><dd>", p->f);
    fg_html_text(p->f, value && *value ? value : "not recorded");
    fputs("</dd>", p->f);
}

static void noise_row(fg_page *p, const cJSON *noise)
{
    fputs("<dt>noise probe</dt><dd>", p->f);
    if (!cJSON_IsObject(noise)) {
        fputs("not recorded</dd>", p->f);
        return;
    }
    /* Shares of the cores other processes used: before, worst during, after. */
    double before = fg_json_number(noise, "before"), during = fg_json_number(noise, "max_during");
    double after = fg_json_number(noise, "after"), limit = fg_json_number(noise, "limit");
    double beyond = fg_json_number(noise, "cells_beyond_limit"), cells = fg_json_number(noise, "cells");
    const double v[] = {before, during, after};
    const char *names[] = {"before", "max during", "after"};
    for (int i = 0; i < 3; i++)
        if (isfinite(v[i])) fg_html_textf(p->f, "%s%s %.0f %%", i ? ", " : "", names[i], 100 * v[i]);
    fputs(" of the cores busy with other processes", p->f);
    if (isfinite(limit)) fg_html_textf(p->f, "; limit %.0f %%", 100 * limit);
    if (isfinite(beyond) && isfinite(cells))
        fg_html_textf(p->f, "; %.0f of %.0f cells beyond it", beyond, cells);
    fputs("</dd>", p->f);
}

void fg_page_summary(fg_page *p)
{
    const cJSON *run = cJSON_GetObjectItemCaseSensitive(p->results, "run");
    int pass = 0, fail = 0, inconclusive = 0, unmarked = 0, n = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, fg_results_experiments(p->results)) {
        const char *o = fg_json_string(e, "outcome");
        n++;
        if (!o) unmarked++;
        else if (!strcmp(o, "pass")) pass++;
        else if (!strcmp(o, "fail")) fail++;
        else if (!strcmp(o, "inconclusive")) inconclusive++;
        else unmarked++;
    }
    fputs("<h1>flowgate run ", p->f);
    fg_html_text(p->f, p->run_id);
    fputs("</h1>\n<section id=\"summary\"><h2>Summary</h2><p>outcome ", p->f);
    const char *outcome = fg_json_string(run, "outcome");
    fg_page_badge(p, outcome ? outcome : "not decided");
    if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(run, "interrupted")))
        fputs(" <span class=\"badge fail\">interrupted</span>", p->f);
    fputs("</p><dl>", p->f);
    row(p, "category", fg_json_string(run, "category"));
    row(p, "workflow", fg_json_string(run, "workflow"));
    row(p, "commit", p->commit);
    char host[160] = "";
    const char *h = fg_json_string(run, "host");
    double cores = fg_json_number(run, "cores");
    if (h || isfinite(cores))
        snprintf(host, sizeof host, "%s%s%.0f cores", h ? h : "?", isfinite(cores) ? ", " : "",
                 isfinite(cores) ? cores : 0);
    row(p, "host", host);
    row(p, "started", fg_json_string(run, "started"));
    row(p, "finished", fg_json_string(run, "finished"));
    noise_row(p, cJSON_GetObjectItemCaseSensitive(run, "noise"));
    fputs("<dt>cells</dt><dd>", p->f);
    fg_html_textf(p->f, "%d: %d pass, %d fail, %d inconclusive", n, pass, fail, inconclusive);
    if (unmarked) fg_html_textf(p->f, ", %d without an outcome (no thresholds applied)", unmarked);
    fputs("</dd><dt>results</dt><dd>", p->f);
    fg_page_link(p, p->results_path, p->results_path);
    fputs("</dd></dl></section>\n", p->f);
}
