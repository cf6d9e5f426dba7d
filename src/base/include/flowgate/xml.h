/* xml.h — the one XML need of flowgate: JUnit reports, which CI tools read
 * (src/base/xml.c). Text goes out escaped for an attribute or element. */
#ifndef FLOWGATE_XML_H
#define FLOWGATE_XML_H
#include <stdio.h>

/* Writes s with & < > " escaped and newlines and tabs as spaces. */
void fg_xml_escape(FILE *f, const char *s);

#endif
