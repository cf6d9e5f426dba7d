/* censor.h — multi-keyword censoring with an Aho–Corasick automaton
 * (censor.c). */
#ifndef FLOWGATE_CENSOR_H
#define FLOWGATE_CENSOR_H
#include <stddef.h>
#include "flowgate/common.h"

/* Censor: one keyword per line, '#' comments; matching is case-insensitive
 * and each match is replaced by '*' of the same length. */
typedef struct fg_censor fg_censor;
fg_censor *fg_censor_load(const char *path, fg_err *err);
fg_censor *fg_censor_new(const char *const *words, size_t n, fg_err *err);
/* Heap string, lower-cased, matches starred; *matches = number of matches.
 * A match counts only on word boundaries ("ass" does not hit "class"). */
char *fg_censor_filter(const fg_censor *c, const char *text, size_t *matches);
void fg_censor_free(fg_censor *c);

#endif
