/* test_report_page.c — the report page of a run (report_page.h) from a
 * small complete run (../report_fixture.h): every section is there, a cell
 * named with a <script> tag comes out escaped, the page has no script and
 * nothing it would fetch, links to the JSON files are relative, the SVGs
 * are inlined without their prolog and with ids unique over the page, the
 * A/B dir of the same commit is found with its culprit; missing charts,
 * no history and an SVG with an outside reference are said on the page;
 * a bad RUN path is one line. */
#define _GNU_SOURCE /* strcasestr */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "../report_fixture.h"
#include "flowgate/report_page.h"

static char work[64];
static char results[256], plots[256], out[256];

static int setup(void **state)
{
    (void)state;
    snprintf(work, sizeof work, "/tmp/fg-report-XXXXXX");
    if (!mkdtemp(work)) return -1;
    snprintf(results, sizeof results, "%s/results/experiment_results_" FX_RUN_ID ".json", work);
    snprintf(plots, sizeof plots, "%s/plots", work);
    snprintf(out, sizeof out, "%s/results/report_" FX_RUN_ID ".html", work);
    return fx_run(work, 1);
}

static int teardown(void **state)
{
    (void)state;
    return fx_rm(work);
}

static int count(const char *hay, const char *needle)
{
    int n = 0;
    for (const char *c = hay; (c = strstr(c, needle)); c++) n++;
    return n;
}

static char *page(const fg_report_opts *o, fg_report_summary *s)
{
    fg_err err = {{0}};
    if (fg_report_page(o, s, &err) != 0) fail_msg("%s", err.msg);
    return fx_slurp(s->path);
}

static void full_page(void **state)
{
    (void)state;
    fg_report_opts o = {.results_path = results, .plots_dir = plots};
    fg_report_summary s;
    char *html = page(&o, &s);
    assert_non_null(html);
    assert_string_equal(s.path, out);           /* default: beside the results */
    assert_string_equal(s.run_id, FX_RUN_ID);
    assert_int_equal(s.charts, 2);
    assert_int_equal(s.trend_charts, 1);
    assert_int_equal(s.charts_refused, 0);
    assert_non_null(strstr(s.ab_dir, "ab-20261206-110000"));   /* found by the commit */

    const char *sections[] = {"id=\"summary\"", "id=\"thresholds\"", "id=\"ab\"", "id=\"charts\"",
                              "id=\"trends\"", "id=\"changes\""};
    for (size_t i = 0; i < sizeof sections / sizeof sections[0]; i++)
        assert_non_null(strstr(html, sections[i]));
    /* Escaped everywhere it appears (summary of thresholds, A/B, culprit). */
    assert_null(strcasestr(html, "<script"));
    assert_true(count(html, "exp_&lt;script&gt;alert(1)&lt;/script&gt;_ours") >= 3);
    /* Nothing fetched. */
    assert_null(strcasestr(html, "src=\"http"));
    assert_null(strcasestr(html, "href=\"http"));
    assert_null(strcasestr(html, "src='http"));
    assert_null(strcasestr(html, "href='http"));
    assert_null(strcasestr(html, "url(http"));
    assert_null(strcasestr(html, "@import"));
    assert_null(strstr(html, "<?xml"));
    assert_null(strstr(html, "<!DOCTYPE svg"));
    /* Relative links to the JSON. */
    assert_non_null(strstr(html, "href=\"experiment_results_" FX_RUN_ID ".json\""));
    assert_non_null(strstr(html, "href=\"ab-20261206-110000/verdict.json\""));
    /* The summary and the table. */
    assert_non_null(strstr(html, "testhost, 4 cores"));
    assert_non_null(strstr(html, FX_COMMIT));
    assert_non_null(strstr(html, "2: 1 pass, 1 fail, 0 inconclusive"));
    assert_non_null(strstr(html, "<tr class=\"fail\"><td>exp_&lt;script&gt;"));
    assert_non_null(strstr(html, "a | pipe"));
    /* The A/B verdict and the culprit. */
    assert_non_null(strstr(html, "x1.180 [1.100, 1.260]"));
    assert_non_null(strstr(html, "recognizer__extract exec +30.0 ms"));
    /* Two charts and a trend: three SVGs, their ids apart. */
    assert_int_equal(count(html, "<svg"), 3);
    assert_int_equal(count(html, "id=\"c1-gnuplot_canvas\""), 1);
    assert_int_equal(count(html, "id=\"c3-gnuplot_canvas\""), 1);
    assert_int_equal(count(html, "id=\"gnuplot_canvas\""), 0);
    assert_null(strstr(html, "href='#gpPt"));   /* every reference prefixed too */
    assert_non_null(strstr(html, "+20.0 % p50"));
    assert_non_null(strstr(html, "No history"));
    free(html);
}

static void missing_parts_are_said(void **state)
{
    (void)state;
    char other[256];
    snprintf(other, sizeof other, "%s/none", work);   /* no charts there */
    fg_report_change change = {"smoke/exp_input0.1mb_conc1_ours", "p50_ms", "c0ffee7", 20.04, 12.5,
                               27.5, 0.0004};
    fg_report_opts o = {.results_path = results, .plots_dir = other, .have_history = 1};
    fg_report_summary s;
    snprintf(out, sizeof out, "%s/elsewhere/deeper/page.html", work);
    o.out_path = out;
    char *html = page(&o, &s);
    assert_non_null(strstr(html, "No charts of this run in"));
    assert_non_null(strstr(html, "No trend charts in"));
    assert_non_null(strstr(html, "No change points"));
    assert_non_null(strstr(html, "href=\"../../results/experiment_results_" FX_RUN_ID ".json\""));
    free(html);

    o.changes = &change;
    o.n_changes = 1;
    html = page(&o, &s);
    assert_non_null(strstr(html, "<td class=\"num\">+20.0 %</td>"));
    assert_non_null(strstr(html, "[+12.5 %, +27.5 %]"));
    assert_non_null(strstr(html, "0.0004"));
    assert_non_null(strstr(html, "<code>c0ffee7</code>"));
    free(html);
}

static void svg_with_outside_reference_is_refused(void **state)
{
    (void)state;
    char dir[256];
    snprintf(dir, sizeof dir, "%s/plots-bad/" FX_RUN_ID, work);
    assert_int_equal(fx_write(work, "plots-bad/" FX_RUN_ID "/a.svg",
                              "<?xml version=\"1.0\"?>\n<svg id=\"x\"><image href=\"http://example.com/x.png\"/></svg>"),
                     0);
    assert_int_equal(fx_write(work, "plots-bad/" FX_RUN_ID "/b.svg",
                              "<svg><use xlink:href=\"other.svg#p\"/></svg>"), 0);
    assert_int_equal(fx_write(work, "plots-bad/" FX_RUN_ID "/c.svg",
                              "<svg><rect onload=\"alert(1)\"/></svg>"), 0);
    assert_int_equal(fx_write(work, "plots-bad/" FX_RUN_ID "/d.svg", "no svg at all"), 0);
    assert_int_equal(fx_write(work, "plots-bad/" FX_RUN_ID "/e.svg",
                              "<!DOCTYPE svg>\n<svg><rect id='r' fill='url(#g)'/><use href=\"#r\"/></svg>"), 0);
    snprintf(plots, sizeof plots, "%s/plots-bad", work);
    fg_report_opts o = {.results_path = results, .plots_dir = plots};
    fg_report_summary s;
    char *html = page(&o, &s);
    assert_int_equal(s.charts, 1);
    assert_int_equal(s.charts_refused, 4);
    assert_null(strstr(html, "example.com/x.png\""));
    assert_null(strstr(html, "onload="));
    assert_non_null(strstr(html, "not an SVG document"));
    assert_non_null(strstr(html, "<svg><rect id='c5-r' fill='url(#c5-g)'/><use href=\"#c5-r\"/></svg>"));
    assert_null(strstr(html, "<!DOCTYPE svg"));
    free(html);
}

static void bad_run_is_one_line(void **state)
{
    (void)state;
    fg_err err = {{0}};
    fg_report_opts o = {.results_path = "/nonexistent/run.json"};
    assert_int_equal(fg_report_page(&o, NULL, &err), -1);
    assert_non_null(strstr(err.msg, "/nonexistent/run.json"));
    assert_null(strchr(err.msg, '\n'));
    char bad[256];
    snprintf(bad, sizeof bad, "%s/results/thresholds_" FX_RUN_ID ".md", work);   /* not JSON */
    o.results_path = bad;
    assert_int_equal(fg_report_page(&o, NULL, &err), -1);
    assert_null(strchr(err.msg, '\n'));
    o.results_path = NULL;
    assert_int_equal(fg_report_page(&o, NULL, &err), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(full_page),
        cmocka_unit_test(missing_parts_are_said),
        cmocka_unit_test(svg_with_outside_reference_is_refused),
        cmocka_unit_test(bad_run_is_one_line),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
