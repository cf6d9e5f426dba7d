/* translate.c — word-by-word dictionary translation.
 *
 * The dictionary is a TSV file "source<TAB>target" loaded into one buffer;
 * an open-addressing hash table (FNV-1a, linear probing, load <= 1/2) maps
 * each lower-cased source word to its target, both pointing into that buffer.
 *
 * Translation walks the text once: a run of word characters (ASCII letters
 * and digits, UTF-8 letters) is one word, looked up lower-cased and replaced
 * by its target if known, else copied lower-cased; every other byte
 * (spaces, punctuation, ¿ ¡) is copied as is. The word-character rule and
 * the lower-casing live here and are shared with the censor, so that both
 * agree on what a word is. */
#include "flowgate/translate.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* ---- word characters and case, shared with censor.c ---- */

/* Decodes one UTF-8 sequence at s[i]; returns its length and the code point
 * in *cp, or length 1 and *cp = -1 for a malformed byte. */
static size_t utf8_decode(const unsigned char *s, size_t len, size_t i, long *cp)
{
    unsigned char c = s[i];
    size_t n;
    long v;
    if (c < 0x80) { *cp = c; return 1; }
    if ((c & 0xE0) == 0xC0) { n = 2; v = c & 0x1F; }
    else if ((c & 0xF0) == 0xE0) { n = 3; v = c & 0x0F; }
    else if ((c & 0xF8) == 0xF0) { n = 4; v = c & 0x07; }
    else { *cp = -1; return 1; }
    if (i + n > len) { *cp = -1; return 1; }
    for (size_t k = 1; k < n; k++) {
        if ((s[i + k] & 0xC0) != 0x80) { *cp = -1; return 1; }
        v = (v << 6) | (s[i + k] & 0x3F);
    }
    *cp = v;
    return n;
}

size_t fg_text_word_char(const char *text, size_t len, size_t i)
{
    const unsigned char *s = (const unsigned char *)text;
    if (i >= len) return 0;
    long cp;
    size_t n = utf8_decode(s, len, i, &cp);
    if (cp < 0) return 0;
    if (cp < 0x80) {
        unsigned char c = (unsigned char)cp;
        return ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                (c >= '0' && c <= '9')) ? 1 : 0;
    }
    /* U+0080..U+00BF are symbols and punctuation (¡ ¿ « » °); from U+00C0
     * on, Latin letters, except the two operators × and ÷. Beyond Latin-1
     * everything counts as a letter: good enough for dictionary words. */
    if (cp < 0xC0 || cp == 0xD7 || cp == 0xF7) return 0;
    return n;
}

void fg_text_lower(char *text, size_t len)
{
    unsigned char *s = (unsigned char *)text;
    for (size_t i = 0; i < len; i++) {
        if (s[i] >= 'A' && s[i] <= 'Z') {
            s[i] = (unsigned char)(s[i] + 32);
        } else if (s[i] == 0xC3 && i + 1 < len && s[i + 1] >= 0x80 &&
                   s[i + 1] <= 0x9E && s[i + 1] != 0x97) {
            /* Latin-1 capitals U+00C0..U+00DE (Á É Í Ñ Ó Ú Ü ...) sit 0x20
             * below their small letters, in the same two-byte form. */
            s[i + 1] = (unsigned char)(s[i + 1] + 0x20);
            i++;
        }
    }
}

/* ---- the dictionary ---- */

struct fg_dict {
    char *buf;          /* the file, split in place into keys and values */
    const char **keys;  /* slot -> lower-cased source word, NULL if empty */
    const char **vals;
    size_t cap;         /* power of two */
    size_t count;
};

static uint64_t fnv1a(const char *s, size_t n)
{
    uint64_t h = 14695981039346656037ull;
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 1099511628211ull;
    }
    return h;
}

/* Slot holding key[0..n), or the empty slot where it would go. */
static size_t dict_slot(const fg_dict *d, const char *key, size_t n)
{
    size_t i = (size_t)fnv1a(key, n) & (d->cap - 1);
    while (d->keys[i] && !(strncmp(d->keys[i], key, n) == 0 && d->keys[i][n] == 0))
        i = (i + 1) & (d->cap - 1);
    return i;
}

/* Strips the spaces around a field (tabs separate fields, so never here). */
static char *trim(char *s, char **end)
{
    while (*s == ' ') s++;
    char *e = s + strlen(s);
    while (e > s && e[-1] == ' ') e--;
    *e = 0;
    *end = e;
    return s;
}

fg_dict *fg_dict_load(const char *path, fg_err *err)
{
    fg_buf file;
    if (fg_read_file(path, 64u << 20, &file, err) != 0) return NULL;
    fg_dict *d = calloc(1, sizeof *d);
    if (!d) {
        fg_buf_free(&file);
        fg_err_set(err, "%s: out of memory", path);
        return NULL;
    }
    d->buf = (char *)file.data;  /* fg_read_file NUL-terminates */

    size_t lines = 1;
    for (size_t i = 0; i < file.len; i++) lines += d->buf[i] == '\n';
    d->cap = 16;
    while (d->cap < lines * 2) d->cap <<= 1;
    d->keys = calloc(d->cap, sizeof *d->keys);
    d->vals = calloc(d->cap, sizeof *d->vals);
    if (!d->keys || !d->vals) {
        fg_err_set(err, "%s: out of memory", path);
        goto fail;
    }

    char *line = d->buf;
    for (size_t lineno = 1; line; lineno++) {
        char *nl = strchr(line, '\n');
        if (nl) *nl = 0;
        char *next = nl ? nl + 1 : NULL;
        char *text = line;
        line = next;
        size_t tl = strlen(text);
        if (tl && text[tl - 1] == '\r') text[--tl] = 0;
        if (text[strspn(text, " \t")] == 0 || text[strspn(text, " ")] == '#')
            continue;

        char *tab = strchr(text, '\t');
        if (!tab) {
            fg_err_set(err, "%s:%zu: no TAB between source and target", path, lineno);
            goto fail;
        }
        *tab = 0;
        if (strchr(tab + 1, '\t')) {
            fg_err_set(err, "%s:%zu: more than one TAB", path, lineno);
            goto fail;
        }
        char *src_end, *dst_end;
        char *src = trim(text, &src_end);
        char *dst = trim(tab + 1, &dst_end);
        if (*src == 0 || *dst == 0) {
            fg_err_set(err, "%s:%zu: empty %s word", path, lineno,
                       *src == 0 ? "source" : "target");
            goto fail;
        }
        size_t n = (size_t)(src_end - src);
        for (size_t i = 0; i < n;) {
            size_t w = fg_text_word_char(src, n, i);
            if (!w) {
                fg_err_set(err, "%s:%zu: source '%s' is not a single word", path,
                           lineno, src);
                goto fail;
            }
            i += w;
        }
        fg_text_lower(src, n);
        size_t slot = dict_slot(d, src, n);
        if (d->keys[slot]) {
            fg_err_set(err, "%s:%zu: duplicate source word '%s'", path, lineno, src);
            goto fail;
        }
        d->keys[slot] = src;
        d->vals[slot] = dst;
        d->count++;
    }
    return d;

fail:
    fg_dict_free(d);
    return NULL;
}

size_t fg_dict_size(const fg_dict *d)
{
    return d ? d->count : 0;
}

/* Growable output string. */
typedef struct {
    char *s;
    size_t len, cap;
    int oom;
} strbuf;

static void sb_put(strbuf *b, const char *p, size_t n)
{
    if (b->oom) return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 64;
        while (cap < b->len + n + 1) cap *= 2;
        char *s = realloc(b->s, cap);
        if (!s) { b->oom = 1; return; }
        b->s = s;
        b->cap = cap;
    }
    memcpy(b->s + b->len, p, n);
    b->len += n;
    b->s[b->len] = 0;
}

char *fg_translate(const fg_dict *d, const char *text)
{
    if (!text) text = "";
    size_t len = strlen(text);
    char *lower = malloc(len + 1);
    if (!lower) return NULL;
    memcpy(lower, text, len + 1);
    fg_text_lower(lower, len);

    strbuf out = {0};
    sb_put(&out, "", 0);  /* an empty text still yields "" */
    for (size_t i = 0; i < len;) {
        size_t w = fg_text_word_char(lower, len, i);
        if (!w) {
            sb_put(&out, lower + i, 1);
            i++;
            continue;
        }
        size_t start = i;
        while (w) {
            i += w;
            w = fg_text_word_char(lower, len, i);
        }
        size_t n = i - start;
        const char *target = NULL;
        if (d && d->count) {
            size_t slot = dict_slot(d, lower + start, n);
            if (d->keys[slot]) target = d->vals[slot];
        }
        if (target) sb_put(&out, target, strlen(target));
        else sb_put(&out, lower + start, n);
    }
    free(lower);
    if (out.oom) {
        free(out.s);
        return NULL;
    }
    return out.s;
}

void fg_dict_free(fg_dict *d)
{
    if (!d) return;
    free(d->keys);
    free(d->vals);
    free(d->buf);
    free(d);
}
