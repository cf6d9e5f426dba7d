/* translate.h — word-by-word dictionary translation (translate.c), and the
 * word rules censor.c shares. */
#ifndef FLOWGATE_TRANSLATE_H
#define FLOWGATE_TRANSLATE_H
#include <stddef.h>
#include "flowgate/common.h"

/* Dictionary: TSV lines "source<TAB>target", '#' comments. */
typedef struct fg_dict fg_dict;
fg_dict *fg_dict_load(const char *path, fg_err *err);
size_t fg_dict_size(const fg_dict *d);
/* Lower-cases, translates each word found, passes unknown words through,
 * keeps punctuation and spacing. Heap string. */
char *fg_translate(const fg_dict *d, const char *text);
void fg_dict_free(fg_dict *d);

/* What translate and censor both call a word: runs of ASCII letters and
 * digits and UTF-8 letters (U+00C0 and above, except × and ÷). Returns the
 * byte length of the word character at text[i], or 0 if there is none. */
size_t fg_text_word_char(const char *text, size_t len, size_t i);
/* Lower-cases ASCII and Latin-1 capitals (Á É Ñ ...) in place; the byte
 * length never changes. */
void fg_text_lower(char *text, size_t len);

#endif
