/* xml.c — escaping for the JUnit reports (xml.h). */
#include "flowgate/xml.h"

void fg_xml_escape(FILE *f, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '&': fputs("&amp;", f); break;
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '"': fputs("&quot;", f); break;
        case '\n': case '\t': fputc(' ', f); break;
        default: fputc(*s, f);
        }
    }
}
