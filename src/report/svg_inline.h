/* svg_inline.h — a gnuplot SVG made fit to sit inside the report page:
 * the XML prolog, DOCTYPE and comments before <svg> dropped, every id
 * (and every reference to one: href="#x", url(#x)) prefixed so two charts
 * on one page never share an id, and refused — not written — when it
 * could run or fetch anything: a script, an event handler, foreignObject,
 * an image, or a reference that is not to the document itself. Internal
 * to src/report. */
#ifndef FLOWGATE_REPORT_SVG_INLINE_H
#define FLOWGATE_REPORT_SVG_INLINE_H
#include <stdio.h>
#include "flowgate/common.h"

#define FG_SVG_MAX_BYTES (16u << 20)

/* Writes the checked, prefixed SVG of path into f; -1 with why (nothing
 * written) when it cannot be read, is not an SVG, is too big or refers
 * outside itself. */
int fg_svg_inline(FILE *f, const char *path, const char *id_prefix, fg_err *err);

#endif
