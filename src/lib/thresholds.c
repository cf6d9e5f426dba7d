/* thresholds.c — k6-style gates over an experiment's metrics.
 *
 * An expression is "metric op number": the metric a threshold name or a
 * dotted path ([A-Za-z_][A-Za-z0-9_.]*, no empty segment), op one of
 * < <= > >= == !=, the number a finite decimal (exponents allowed, no hex,
 * nan or inf). The parser is a hand-written scanner over that grammar so
 * that each bad form gets its own message naming the expression.
 *
 * The thresholds document is checked as a whole on every lookup, so a typo
 * in any list fails every run, not only the runs that reach that cell.
 * Metric lookup is results.c's job (fg_results_metric); a missing metric is
 * a failure with actual NAN, never a silent pass. */
#include "flowgate/thresholds.h"
#include "flowgate/results.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const cmp_symbols[] = {"<", "<=", ">", ">=", "==", "!="};

const char *fg_cmp_symbol(fg_cmp cmp)
{
    return (unsigned)cmp < sizeof cmp_symbols / sizeof cmp_symbols[0] ? cmp_symbols[cmp] : "?";
}

static int bad(fg_err *err, const char *text, const char *problem)
{
    return fg_err_set(err, "bad threshold '%.200s': %s", text, problem);
}

static const char *skip_space(const char *p)
{
    while (*p && isspace((unsigned char)*p)) p++;
    return p;
}

static int is_metric_start(char c) { return isalpha((unsigned char)c) || c == '_'; }
static int is_metric_char(char c) { return isalnum((unsigned char)c) || c == '_' || c == '.'; }
static int is_op_char(char c) { return c == '<' || c == '>' || c == '=' || c == '!'; }

/* Reads an operator at *p; advances past it. */
static int parse_op(const char **p, fg_cmp *cmp)
{
    const char *s = *p;
    static const struct { const char *sym; fg_cmp cmp; } ops[] = {
        {"<=", FG_CMP_LE}, {">=", FG_CMP_GE}, {"==", FG_CMP_EQ}, {"!=", FG_CMP_NE},
        {"<", FG_CMP_LT},  {">", FG_CMP_GT},
    };
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) {
        size_t n = strlen(ops[i].sym);
        if (!strncmp(s, ops[i].sym, n)) {
            *p = s + n;
            *cmp = ops[i].cmp;
            return 0;
        }
    }
    return -1;
}

int fg_threshold_parse(const char *text, fg_threshold *t, fg_err *err)
{
    memset(t, 0, sizeof *t);
    if (!text) return bad(err, "", "empty expression");
    if (strlen(text) >= sizeof t->text) return bad(err, text, "expression too long");
    snprintf(t->text, sizeof t->text, "%s", text);

    const char *p = skip_space(text);
    if (!*p) return bad(err, text, "empty expression");
    if (is_op_char(*p)) return bad(err, text, "missing metric");
    if (!is_metric_start(*p)) return bad(err, text, "bad metric name (must start with a letter or '_')");

    const char *m = p;
    while (is_metric_char(*p)) p++;
    size_t mlen = (size_t)(p - m);
    if (*p && !isspace((unsigned char)*p) && !is_op_char(*p)) {
        char problem[96];
        snprintf(problem, sizeof problem, "bad metric name (character '%c' not allowed)", *p);
        return bad(err, text, problem);
    }
    if (mlen >= sizeof t->metric) return bad(err, text, "metric name too long");
    for (size_t i = 0; i < mlen; i++)
        if (m[i] == '.' && (i + 1 == mlen || m[i + 1] == '.'))
            return bad(err, text, "bad metric name (empty path segment)");
    memcpy(t->metric, m, mlen);
    t->metric[mlen] = 0;

    p = skip_space(p);
    if (!*p) return bad(err, text, "missing operator (one of < <= > >= == !=)");
    if (parse_op(&p, &t->cmp) != 0) {
        if (is_op_char(*p)) return bad(err, text, "unknown operator (use one of < <= > >= == !=)");
        return bad(err, text, "missing operator (one of < <= > >= == !=)");
    }

    /* "<>", "=<", "===": strncmp took a valid prefix; the rest is no limit. */
    if (is_op_char(*p)) return bad(err, text, "unknown operator (use one of < <= > >= == !=)");
    p = skip_space(p);
    if (!*p) return bad(err, text, "missing limit");
    /* Only decimal notation: strtod alone would also take hex, nan and inf. */
    const char *num = p;
    if (*p == '+' || *p == '-') p++;
    if (!isdigit((unsigned char)*p) && !(*p == '.' && isdigit((unsigned char)p[1])))
        return bad(err, text, "limit is not a number");
    char *end;
    double v = strtod(num, &end);
    for (const char *q = num; q < end; q++)
        if (!isdigit((unsigned char)*q) && !strchr("+-.eE", *q))
            return bad(err, text, "limit is not a decimal number");
    if (!isfinite(v)) return bad(err, text, "limit out of range");
    p = skip_space(end);
    if (*p) return bad(err, text, "unexpected text after the limit");
    t->limit = v;
    return 0;
}

/* Checks one list of the document; keypath names it in errors. */
static int parse_list(const cJSON *list, const char *keypath, fg_threshold *out, int max,
                      fg_err *err)
{
    if (!cJSON_IsArray(list))
        return fg_err_set(err, "thresholds: %s: not an array of expressions", keypath);
    /* An empty list would judge its cells by nothing: they could never fail. */
    if (cJSON_GetArraySize(list) == 0)
        return fg_err_set(err, "thresholds: %s: empty list (a cell without thresholds cannot fail)",
                          keypath);
    int n = 0;
    const cJSON *item;
    cJSON_ArrayForEach(item, list) {
        if (!cJSON_IsString(item))
            return fg_err_set(err, "thresholds: %s[%d]: not a string", keypath, n);
        fg_threshold t;
        fg_err e;
        if (fg_threshold_parse(item->valuestring, &t, &e) != 0)
            return fg_err_set(err, "thresholds: %s[%d]: %s", keypath, n, e.msg);
        if (out) {
            if (n >= max)
                return fg_err_set(err, "thresholds: %s: more than %d expressions", keypath, max);
            out[n] = t;
        }
        n++;
    }
    return n;
}

/* Checks every list in a {"name": [...]} section. */
static int check_section(const cJSON *doc, const char *section, fg_err *err)
{
    const cJSON *obj = cJSON_GetObjectItemCaseSensitive(doc, section);
    if (!obj) return 0;
    if (!cJSON_IsObject(obj)) return fg_err_set(err, "thresholds: %s: not an object", section);
    const cJSON *list;
    cJSON_ArrayForEach(list, obj) {
        if (list->string[0] == '_') continue;   /* comments */
        char keypath[256];
        snprintf(keypath, sizeof keypath, "%s.%s", section, list->string);
        if (parse_list(list, keypath, NULL, 0, err) < 0) return -1;
    }
    return 0;
}

int fg_thresholds_check(const cJSON *doc, fg_err *err)
{
    if (!cJSON_IsObject(doc)) return fg_err_set(err, "thresholds: document is not a JSON object");
    const cJSON *key;
    cJSON_ArrayForEach(key, doc) {
        const char *k = key->string;
        if (k[0] != '_' && strcmp(k, "default") && strcmp(k, "categories") && strcmp(k, "cells"))
            return fg_err_set(err, "thresholds: unknown key '%s' (expected default, categories, cells)", k);
    }
    const cJSON *def = cJSON_GetObjectItemCaseSensitive(doc, "default");
    if (def && parse_list(def, "default", NULL, 0, err) < 0) return -1;
    if (check_section(doc, "categories", err) != 0) return -1;
    return check_section(doc, "cells", err);
}

cJSON *fg_thresholds_load(const char *path, fg_err *err)
{
    fg_buf b;
    if (fg_read_file(path, 16u << 20, &b, err) != 0) return NULL;
    cJSON *doc = cJSON_ParseWithLength((const char *)b.data, b.len);
    fg_buf_free(&b);
    if (!doc) {
        fg_err_set(err, "%s: invalid JSON", path);
        return NULL;
    }
    fg_err e;
    if (fg_thresholds_check(doc, &e) != 0) {
        fg_err_set(err, "%s: %s", path, e.msg);
        cJSON_Delete(doc);
        return NULL;
    }
    return doc;
}

int fg_thresholds_for(const cJSON *doc, const char *category, const char *experiment_id,
                      fg_threshold *out, int max, fg_err *err)
{
    if (fg_thresholds_check(doc, err) != 0) return -1;
    const char *section[] = {"cells", "categories"};
    const char *name[] = {experiment_id, category};
    for (int i = 0; i < 2; i++) {
        if (!name[i]) continue;
        const cJSON *obj = cJSON_GetObjectItemCaseSensitive(doc, section[i]);
        const cJSON *list = cJSON_GetObjectItemCaseSensitive(obj, name[i]);
        if (list) {
            char keypath[256];
            snprintf(keypath, sizeof keypath, "%s.%s", section[i], name[i]);
            return parse_list(list, keypath, out, max, err);
        }
    }
    const cJSON *def = cJSON_GetObjectItemCaseSensitive(doc, "default");
    return def ? parse_list(def, "default", out, max, err) : 0;
}

static int holds(double actual, fg_cmp cmp, double limit)
{
    switch (cmp) {
    case FG_CMP_LT: return actual < limit;
    case FG_CMP_LE: return actual <= limit;
    case FG_CMP_GT: return actual > limit;
    case FG_CMP_GE: return actual >= limit;
    case FG_CMP_EQ: return actual == limit;
    case FG_CMP_NE: return actual != limit;
    }
    return 0;
}

int fg_thresholds_eval(const fg_threshold *ts, int n, const cJSON *experiment,
                       fg_threshold_verdict *out)
{
    int failed = 0;
    for (int i = 0; i < n; i++) {
        double actual;
        out[i].t = ts[i];
        if (fg_results_metric(experiment, ts[i].metric, &actual) != 0 || isnan(actual)) {
            out[i].actual = NAN;
            out[i].pass = 0;
        } else {
            out[i].actual = actual;
            out[i].pass = holds(actual, ts[i].cmp, ts[i].limit);
        }
        failed += !out[i].pass;
    }
    return failed;
}
