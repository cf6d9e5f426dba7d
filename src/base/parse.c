/* parse.c — numbers and comma-separated lists from flags and environment
 * variables (parse.h): the whole text must be the value, within bounds,
 * and every refusal is one line naming the flag and the text. */
#include "flowgate/parse.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int fg_parse_int(const char *what, const char *text, int lo, int hi, int *out, fg_err *err)
{
    long v = 0;
    char *end = NULL;
    int ok = text && *text && !isspace((unsigned char)*text);
    if (ok) {
        errno = 0;
        v = strtol(text, &end, 10);
        ok = !errno && end != text && !*end && v >= lo && v <= hi;
    }
    if (!ok)
        return fg_err_set(err, "%s: expected an integer from %d to %d, got '%.100s'", what, lo, hi,
                          text ? text : "");
    *out = (int)v;
    return 0;
}

int fg_parse_double(const char *what, const char *text, double lo, double hi, double *out,
                    fg_err *err)
{
    double v = NAN;
    char *end = NULL;
    int ok = text && *text && !isspace((unsigned char)*text);
    if (ok) {
        errno = 0;
        v = strtod(text, &end);
        ok = !errno && end != text && !*end && isfinite(v) && v >= lo && v <= hi;
    }
    if (!ok)
        return fg_err_set(err, "%s: expected a number from %g to %g, got '%.100s'", what, lo, hi,
                          text ? text : "");
    *out = v;
    return 0;
}

int fg_parse_list(const char *what, const char *text, int max, fg_list_item_fn one, void *ctx,
                  fg_err *err)
{
    if (!text || !*text) return fg_err_set(err, "%s: empty list", what);
    int n = 0;
    for (const char *p = text;; p++) {
        size_t len = strcspn(p, ",");
        const char *start = p;
        p += len;
        while (len && isspace((unsigned char)*start)) { start++; len--; }
        while (len && isspace((unsigned char)start[len - 1])) len--;
        char item[64];
        if (len == 0) return fg_err_set(err, "%s: empty item in '%.100s'", what, text);
        if (len >= sizeof item)
            return fg_err_set(err, "%s: item '%.40s...' longer than %zu characters", what, start,
                              sizeof item - 1);
        if (n == max) return fg_err_set(err, "%s: more than %d items", what, max);
        memcpy(item, start, len);
        item[len] = 0;
        if (one(what, item, n, ctx, err) != 0) return -1;
        n++;
        if (!*p) return n;
    }
}

typedef struct int_range { int lo, hi, *out; } int_range;
typedef struct double_range { double lo, hi, *out; } double_range;

static int int_item(const char *what, const char *item, int i, void *ctx, fg_err *err)
{
    int_range *r = ctx;
    return fg_parse_int(what, item, r->lo, r->hi, &r->out[i], err);
}

static int double_item(const char *what, const char *item, int i, void *ctx, fg_err *err)
{
    double_range *r = ctx;
    return fg_parse_double(what, item, r->lo, r->hi, &r->out[i], err);
}

int fg_parse_int_list(const char *what, const char *text, int lo, int hi, int *out, int max,
                      fg_err *err)
{
    int_range r = {lo, hi, out};
    return fg_parse_list(what, text, max, int_item, &r, err);
}

int fg_parse_double_list(const char *what, const char *text, double lo, double hi, double *out,
                         int max, fg_err *err)
{
    double_range r = {lo, hi, out};
    return fg_parse_list(what, text, max, double_item, &r, err);
}
