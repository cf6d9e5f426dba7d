/* svg_inline.c — gnuplot's SVGs checked and prefixed for inlining
 * (svg_inline.h). Not an XML parser: a scan for the few attribute forms an
 * SVG can name another document or run code with. Anything it does not
 * recognise as safe is a refusal, so an unexpected SVG costs a chart on the
 * page, never a fetch or a script. */
#define _GNU_SOURCE /* strcasestr, open_memstream */
#include "svg_inline.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

/* Markup that runs code or loads something, whatever its attributes. */
static const char *const refused_tags[] = {"<script", "<foreignobject", "<image", "<iframe",
                                           "<object", "<embed", "<audio", "<video", "<link",
                                           "<style", "<!entity", "<?xml-stylesheet", "javascript:",
                                           "@import"};

/* An on...= event handler: whitespace, "on", letters, '='. */
static int has_event_handler(const char *s)
{
    for (const char *c = s; (c = strcasestr(c, "on")); c++) {
        if (c == s || !isspace((unsigned char)c[-1])) continue;
        const char *e = c + 2;
        while (isalpha((unsigned char)*e)) e++;
        if (e > c + 2 && *e == '=') return 1;
    }
    return 0;
}

static int starts(const char *s, const char *word)
{
    return !strncmp(s, word, strlen(word));
}

/* Copies body (between "<svg" and the end of "</svg>") with ids and
 * references prefixed; -1 at a reference outside the document. */
static int rewrite(FILE *out, const char *body, size_t len, const char *prefix, fg_err *err,
                   const char *path)
{
    for (size_t i = 0; i < len; i++) {
        const char *s = body + i;
        char before = i ? body[i - 1] : ' ';
        int attr_start = isspace((unsigned char)before) || before == ':';
        if (attr_start && (starts(s, "id=\"") || starts(s, "id='"))) {
            fprintf(out, "id=%c%s-", s[3], prefix);
            i += 3;
            continue;
        }
        if (attr_start && (starts(s, "href=\"") || starts(s, "href='"))) {
            if (s[6] != '#') return fg_err_set(err, "%s: refers to another document (href)", path);
            fprintf(out, "href=%c#%s-", s[5], prefix);
            i += 6;
            continue;
        }
        if (attr_start && (starts(s, "src=") || starts(s, "xml:base=")))
            return fg_err_set(err, "%s: refers to another document (src)", path);
        if (starts(s, "url(")) {
            const char *t = s + 4;
            while (*t == ' ' || *t == '"' || *t == '\'') t++;
            if (*t != '#') return fg_err_set(err, "%s: refers to another document (url())", path);
            fprintf(out, "%.*s#%s-", (int)(t - s), s, prefix);
            i += (size_t)(t - s);   /* the loop steps over the '#' */
            continue;
        }
        fputc(*s, out);
    }
    return 0;
}

int fg_svg_inline(FILE *f, const char *path, const char *id_prefix, fg_err *err)
{
    fg_buf b = {0};
    if (fg_read_file(path, FG_SVG_MAX_BYTES, &b, err) != 0) return -1;
    char *text = malloc(b.len + 1);
    if (!text) {
        fg_buf_free(&b);
        return fg_err_set(err, "%s: out of memory", path);
    }
    size_t len = b.len;
    memcpy(text, b.data, len);
    text[len] = 0;
    fg_buf_free(&b);

    int rc = 0;
    char *start = strlen(text) == len ? strstr(text, "<svg") : NULL;   /* no NUL inside */
    char *end = NULL;
    for (char *e = start; e && (e = strstr(e, "</svg>")); e++) end = e;
    if (!start || !end) rc = fg_err_set(err, "%s: not an SVG document", path);
    if (rc == 0) {
        end += strlen("</svg>");
        *end = 0;
        for (size_t i = 0; rc == 0 && i < sizeof refused_tags / sizeof refused_tags[0]; i++)
            if (strcasestr(start, refused_tags[i]))
                rc = fg_err_set(err, "%s: holds %s", path, refused_tags[i]);
        if (rc == 0 && has_event_handler(start))
            rc = fg_err_set(err, "%s: holds an event handler (on...=)", path);
    }
    char *out = NULL;
    size_t out_len = 0;
    if (rc == 0) {
        FILE *m = open_memstream(&out, &out_len);
        if (!m) rc = fg_err_set(err, "%s: out of memory", path);
        else {
            rc = rewrite(m, start, (size_t)(end - start), id_prefix, err, path);
            if (fclose(m) != 0 && rc == 0) rc = fg_err_set(err, "%s: out of memory", path);
        }
    }
    if (rc == 0) fwrite(out, 1, out_len, f);
    free(out);
    free(text);
    return rc;
}
