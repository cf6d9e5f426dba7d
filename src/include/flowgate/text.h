/* text.h — the text functions' cores: OCR through tesseract's C API,
 * word-by-word dictionary translation, and multi-keyword censoring with an
 * Aho–Corasick automaton. */
#ifndef FLOWGATE_TEXT_H
#define FLOWGATE_TEXT_H
#include "flowgate/image.h"

/* One tesseract engine; not thread-safe, so one per worker, kept warm. */
typedef struct fg_ocr fg_ocr;
fg_ocr *fg_ocr_new(const char *lang, fg_err *err);   /* lang "eng" */
/* Heap UTF-8 text; images wider or taller than max_side are downscaled
 * first (0 = never). */
int fg_ocr_read(fg_ocr *ocr, const fg_image *img, int max_side, char **text,
                fg_err *err);
void fg_ocr_free(fg_ocr *ocr);

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
