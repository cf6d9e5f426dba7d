/* html.h — the report page's writing primitives: text is always escaped,
 * so a cell name or an error message from a results file can never become
 * markup. Internal to src/report. */
#ifndef FLOWGATE_REPORT_HTML_H
#define FLOWGATE_REPORT_HTML_H
#include <stdio.h>

/* Writes s with & < > " ' escaped (safe in text and in quoted attributes). */
void fg_html_text(FILE *f, const char *s);
/* printf, then the result escaped as fg_html_text does. */
void fg_html_textf(FILE *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
