/* page.h — what the sections of the report page share (internal to
 * src/report): the page being written and the run it is about. Each
 * section is one file and writes only escaped text (html.h) and SVG that
 * svg_inline.h has checked. */
#ifndef FLOWGATE_REPORT_PAGE_INTERNAL_H
#define FLOWGATE_REPORT_PAGE_INTERNAL_H
#include <stdio.h>
#include <cjson/cJSON.h>
#include "flowgate/report_page.h"

typedef struct fg_page {
    FILE *f;
    const cJSON *results;
    const char *results_path;
    char results_dir[1024];   /* where the results file is */
    char out_dir[4096];       /* absolute: links are relative to it */
    char run_id[64];
    const char *commit;       /* run.git_commit, "" unknown */
    int svg_seq;              /* inlined SVGs so far: their id prefixes */
    fg_report_summary *sum;
} fg_page;

void fg_page_summary(fg_page *p);
void fg_page_thresholds(fg_page *p);
void fg_page_ab(fg_page *p, const char *ab_dir);
/* The run's charts (<plots>/<run-id>/, one level of subfolders) and the
 * trend charts (<plots>/trends/). */
void fg_page_charts(fg_page *p, const char *plots_dir);
void fg_page_trends(fg_page *p, const char *plots_dir);
void fg_page_changes(fg_page *p, const fg_report_opts *o);

/* <a href="relative path to target">text</a>; target a file path. */
void fg_page_link(fg_page *p, const char *target, const char *text);
/* A "verdict" word as a coloured badge: pass/fail/inconclusive/regression... */
void fg_page_badge(fg_page *p, const char *word);

#endif
