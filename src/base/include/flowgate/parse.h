/* parse.h — numbers and lists from flags and environment variables. */
#ifndef FLOWGATE_PARSE_H
#define FLOWGATE_PARSE_H
#include "flowgate/common.h"

/* Number and list parsing for flags, environment variables and lists such
 * as "--sizes 0.1,1,2". The whole text must be the number (no unit, no
 * leading space); the value must lie in [lo, hi]. `what` names the flag or
 * variable; errors are one line, e.g.
 *   "--requests: expected an integer from 1 to 10000000, got 'ten'". */
int fg_parse_int(const char *what, const char *text, int lo, int hi, int *out, fg_err *err);
int fg_parse_double(const char *what, const char *text, double lo, double hi, double *out,
                    fg_err *err);
/* Comma-separated items, spaces around an item ignored; an empty list, an
 * empty item or more than max items is refused. `one` gets each item and
 * its index (and fills err on failure). Returns the count, or -1. */
typedef int (*fg_list_item_fn)(const char *what, const char *item, int index, void *ctx,
                               fg_err *err);
int fg_parse_list(const char *what, const char *text, int max, fg_list_item_fn one, void *ctx,
                  fg_err *err);
int fg_parse_int_list(const char *what, const char *text, int lo, int hi, int *out, int max,
                      fg_err *err);
int fg_parse_double_list(const char *what, const char *text, double lo, double hi, double *out,
                         int max, fg_err *err);

#endif
