/* censor.c — multi-keyword censoring with an Aho–Corasick automaton.
 *
 * The keywords, lower-cased, go into a trie; a breadth-first pass then sets
 * each state's fail link (the longest proper suffix that is also a trie
 * path) and completes the goto function into a full transition table, so
 * the scan takes exactly one table step per text byte. Each state knows the
 * length of the keyword ending there (0 if none) and an output link to the
 * next state down its fail chain that ends a keyword, so all keywords ending
 * at a position are enumerated without walking states that end none.
 *
 * To keep the table small, bytes are mapped to classes first: every byte
 * that occurs in some keyword gets its own class, all other bytes share
 * class 0, which always leads back to the root.
 *
 * Matches must sit on word boundaries (word characters as fg_text_word_char
 * defines them): a keyword that begins with a word character needs a
 * non-word character (or the start of the text) before it, and likewise at
 * its end. So "ass" does not hit "class" and "bomb" does not hit "bombs" —
 * the list carries the plural forms it wants caught. The automaton still
 * finds every candidate in one pass; the boundary test only filters them.
 * Overlapping matches each count, and the union of their bytes is starred. */
#include "flowgate/censor.h"
#include "flowgate/translate.h"   /* the word rules */

#include <stdlib.h>
#include <string.h>

/* A list whose table would exceed this many entries is refused rather than
 * risking an allocation the host cannot serve. */
#define MAX_TABLE_ENTRIES (64u << 20)

struct fg_censor {
    unsigned short cls[256];  /* byte -> class; 0 = in no keyword */
    size_t nclass;
    size_t nstates;
    int *next;                /* nstates * nclass, complete after the build */
    size_t *kw_len;           /* length of the keyword ending here, 0 if none */
    int *out_link;            /* next state on the fail chain ending a keyword */
    unsigned char *word_start, *word_end;  /* keyword's edge is a word char */
};

/* Is the character just before byte s a word character? */
static int word_before(const char *t, size_t len, size_t s)
{
    if (s == 0) return 0;
    size_t p = s - 1;
    while (p > 0 && s - p < 4 && ((unsigned char)t[p] & 0xC0) == 0x80) p--;
    size_t w = fg_text_word_char(t, len, p);
    return w && p + w == s;
}

static int build(fg_censor *c, char **kws, size_t n, fg_err *err)
{
    size_t total = 1;
    for (size_t i = 0; i < n; i++) {
        size_t len = strlen(kws[i]);
        total += len;
        for (size_t k = 0; k < len; k++) {
            unsigned char b = (unsigned char)kws[i][k];
            if (!c->cls[b]) c->cls[b] = (unsigned short)c->nclass++;
        }
    }
    size_t nc = c->nclass;
    if (total > MAX_TABLE_ENTRIES / nc)
        return fg_err_set(err, "censor: keyword list too large (%zu bytes)", total - 1);

    c->next = calloc(total * nc, sizeof *c->next);
    c->kw_len = calloc(total, sizeof *c->kw_len);
    c->out_link = malloc(total * sizeof *c->out_link);
    c->word_start = calloc(total, 1);
    c->word_end = calloc(total, 1);
    int *fail = calloc(total, sizeof *fail);
    int *queue = malloc(total * sizeof *queue);
    if (!c->next || !c->kw_len || !c->out_link || !c->word_start || !c->word_end ||
        !fail || !queue) {
        free(fail);
        free(queue);
        return fg_err_set(err, "censor: out of memory for %zu states", total);
    }

    /* The trie. No trie edge enters the root, so 0 means "no child". */
    c->nstates = 1;
    for (size_t i = 0; i < n; i++) {
        const char *kw = kws[i];
        size_t len = strlen(kw);
        int s = 0;
        for (size_t k = 0; k < len; k++) {
            int *edge = &c->next[(size_t)s * nc + c->cls[(unsigned char)kw[k]]];
            if (!*edge) *edge = (int)c->nstates++;
            s = *edge;
        }
        c->kw_len[s] = len;
        c->word_start[s] = fg_text_word_char(kw, len, 0) != 0;
        c->word_end[s] = word_before(kw, len, len);
    }

    /* Breadth-first: a state's fail target is shallower, so its row is
     * already complete when the state's own row is filled in. */
    size_t head = 0, tail = 0;
    c->out_link[0] = -1;
    for (size_t k = 0; k < nc; k++) {
        int v = c->next[k];
        if (v) {
            fail[v] = 0;
            c->out_link[v] = -1;
            queue[tail++] = v;
        }
    }
    while (head < tail) {
        int u = queue[head++];
        int *row = &c->next[(size_t)u * nc];
        const int *fail_row = &c->next[(size_t)fail[u] * nc];
        for (size_t k = 0; k < nc; k++) {
            int v = row[k];
            if (!v) {
                row[k] = fail_row[k];
                continue;
            }
            int f = fail_row[k];
            fail[v] = f;
            c->out_link[v] = c->kw_len[f] ? f : c->out_link[f];
            queue[tail++] = v;
        }
    }
    free(fail);
    free(queue);
    return 0;
}

fg_censor *fg_censor_new(const char *const *words, size_t n, fg_err *err)
{
    fg_censor *c = calloc(1, sizeof *c);
    char **kws = calloc(n ? n : 1, sizeof *kws);
    if (!c || !kws) {
        free(c);
        free(kws);
        fg_err_set(err, "censor: out of memory");
        return NULL;
    }
    c->nclass = 1;
    int failed = 0;
    for (size_t i = 0; i < n && !failed; i++) {
        if (!words[i] || !words[i][0]) {
            failed = fg_err_set(err, "censor: keyword %zu is empty", i + 1);
            break;
        }
        kws[i] = strdup(words[i]);
        if (!kws[i]) {
            failed = fg_err_set(err, "censor: out of memory");
            break;
        }
        fg_text_lower(kws[i], strlen(kws[i]));
    }
    if (!failed) failed = build(c, kws, n, err);
    for (size_t i = 0; i < n; i++) free(kws[i]);
    free(kws);
    if (failed) {
        fg_censor_free(c);
        return NULL;
    }
    return c;
}

fg_censor *fg_censor_load(const char *path, fg_err *err)
{
    fg_buf file;
    if (fg_read_file(path, 16u << 20, &file, err) != 0) return NULL;
    char *text = (char *)file.data;
    size_t cap = 1;
    for (size_t i = 0; i < file.len; i++) cap += text[i] == '\n';
    const char **words = malloc(cap * sizeof *words);
    if (!words) {
        fg_buf_free(&file);
        fg_err_set(err, "%s: out of memory", path);
        return NULL;
    }
    size_t n = 0;
    for (char *line = text; line;) {
        char *nl = strchr(line, '\n');
        if (nl) *nl = 0;
        char *w = line;
        line = nl ? nl + 1 : NULL;
        w += strspn(w, " \t");
        char *e = w + strlen(w);
        while (e > w && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r')) e--;
        *e = 0;
        if (*w && *w != '#') words[n++] = w;
    }
    fg_err inner;
    fg_censor *c = fg_censor_new(words, n, &inner);
    if (!c) fg_err_set(err, "%s: %s", path, inner.msg);
    free(words);
    fg_buf_free(&file);
    return c;
}

char *fg_censor_filter(const fg_censor *c, const char *text, size_t *matches)
{
    if (!text) text = "";
    size_t len = strlen(text);
    char *lower = malloc(len + 1);
    char *out = malloc(len + 1);
    if (!lower || !out) {
        free(lower);
        free(out);
        return NULL;
    }
    memcpy(lower, text, len + 1);
    fg_text_lower(lower, len);
    memcpy(out, lower, len + 1);

    size_t found = 0;
    int s = 0;
    for (size_t i = 0; c && i < len; i++) {
        s = c->next[(size_t)s * c->nclass + c->cls[(unsigned char)lower[i]]];
        int o = c->kw_len[s] ? s : c->out_link[s];
        for (; o >= 0; o = c->out_link[o]) {
            size_t end = i + 1, start = end - c->kw_len[o];
            if (c->word_start[o] && word_before(lower, len, start)) continue;
            if (c->word_end[o] && fg_text_word_char(lower, len, end)) continue;
            memset(out + start, '*', c->kw_len[o]);
            found++;
        }
    }
    free(lower);
    if (matches) *matches = found;
    return out;
}

void fg_censor_free(fg_censor *c)
{
    if (!c) return;
    free(c->next);
    free(c->kw_len);
    free(c->out_link);
    free(c->word_start);
    free(c->word_end);
    free(c);
}
