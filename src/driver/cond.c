/* cond.c — switch conditions of a workflow: a recursive-descent parser into
 * a small AST and its evaluator.
 *
 *   or      := and  (("OR"  | "||") and)*
 *   and     := not  (("AND" | "&&") not)*
 *   not     := ("NOT" | "!") not | cmp
 *   cmp     := primary (("==" | "!=" | "<" | "<=" | ">" | ">=") primary)?
 *   primary := "(" or ")" | number | true | false | 'string' | step.output
 *
 * Keywords are case-insensitive. References are checked against the
 * workflow at parse time (known step, one of its "out" names), so a typo
 * fails when the workflow loads, not in the middle of a run. Parse errors
 * carry the 1-based character position.
 *
 * Evaluation reads step outputs through a lookup callback. Both sides of
 * AND/OR are always evaluated: a missing output is a malformed function
 * response and is reported even when the other side already decides. */
#include "flowgate/workflow.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

typedef enum cond_kind {
    C_OR, C_AND, C_NOT, C_CMP, C_REF, C_NUM, C_BOOL, C_STR
} cond_kind;

typedef enum cond_cmp { CMP_EQ, CMP_NE, CMP_LT, CMP_LE, CMP_GT, CMP_GE } cond_cmp;

struct fg_cond {
    cond_kind kind;
    cond_cmp cmp;
    fg_cond *a, *b;
    int step;          /* C_REF */
    char *ref;         /* C_REF: "step.output" as written */
    const char *output;/* C_REF: points into ref, after the dot */
    double num;        /* C_NUM, C_BOOL (0/1) */
    char *str;         /* C_STR */
};

/* ---- tokens ---------------------------------------------------------- */

typedef enum tok_kind {
    T_END, T_LPAREN, T_RPAREN, T_OR, T_AND, T_NOT, T_CMP, T_NUM, T_TRUE, T_FALSE,
    T_STR, T_IDENT, T_BAD
} tok_kind;

typedef struct parser {
    const char *text;
    const fg_workflow *wf;
    fg_err *err;
    size_t pos;          /* start of the current token */
    size_t next;         /* just after it */
    tok_kind tok;
    cond_cmp cmp;
    int failed;
} parser;

static int is_ident_char(int c) { return isalnum(c) || c == '_' || c == '-' || c == '.'; }

static int word_is(const char *s, size_t n, const char *kw)
{
    return strlen(kw) == n && strncasecmp(s, kw, n) == 0;
}

static void advance(parser *p)
{
    const char *t = p->text;
    size_t i = p->next;
    while (t[i] && isspace((unsigned char)t[i])) i++;
    p->pos = i;
    char c = t[i];
    if (!c) { p->tok = T_END; p->next = i; return; }
    if (c == '(') { p->tok = T_LPAREN; p->next = i + 1; return; }
    if (c == ')') { p->tok = T_RPAREN; p->next = i + 1; return; }
    if (c == '|' && t[i + 1] == '|') { p->tok = T_OR; p->next = i + 2; return; }
    if (c == '&' && t[i + 1] == '&') { p->tok = T_AND; p->next = i + 2; return; }
    if (c == '=' && t[i + 1] == '=') { p->tok = T_CMP; p->cmp = CMP_EQ; p->next = i + 2; return; }
    if (c == '!' && t[i + 1] == '=') { p->tok = T_CMP; p->cmp = CMP_NE; p->next = i + 2; return; }
    if (c == '!') { p->tok = T_NOT; p->next = i + 1; return; }
    if (c == '<' || c == '>') {
        int eq = t[i + 1] == '=';
        p->tok = T_CMP;
        p->cmp = c == '<' ? (eq ? CMP_LE : CMP_LT) : (eq ? CMP_GE : CMP_GT);
        p->next = i + 1 + eq;
        return;
    }
    if (c == '\'') {
        size_t j = i + 1;
        while (t[j] && t[j] != '\'') j++;
        if (!t[j]) { p->tok = T_BAD; p->next = j; return; }
        p->tok = T_STR;
        p->next = j + 1;
        return;
    }
    if (isdigit((unsigned char)c) || ((c == '-' || c == '.') && isdigit((unsigned char)t[i + 1]))) {
        char *end;
        strtod(t + i, &end);
        p->tok = T_NUM;
        p->next = (size_t)(end - t);
        return;
    }
    if (isalpha((unsigned char)c) || c == '_') {
        size_t j = i;
        while (t[j] && is_ident_char((unsigned char)t[j])) j++;
        size_t n = j - i;
        p->next = j;
        if (word_is(t + i, n, "OR")) p->tok = T_OR;
        else if (word_is(t + i, n, "AND")) p->tok = T_AND;
        else if (word_is(t + i, n, "NOT")) p->tok = T_NOT;
        else if (word_is(t + i, n, "true")) p->tok = T_TRUE;
        else if (word_is(t + i, n, "false")) p->tok = T_FALSE;
        else p->tok = T_IDENT;
        return;
    }
    p->tok = T_BAD;
    p->next = i + 1;
}

static fg_cond *fail(parser *p, const char *what)
{
    if (!p->failed) {
        p->failed = 1;
        if (p->tok == T_END)
            fg_err_set(p->err, "condition '%s': at position %zu: %s, found the end",
                       p->text, p->pos + 1, what);
        else
            fg_err_set(p->err, "condition '%s': at position %zu: %s, found '%.*s'",
                       p->text, p->pos + 1, what,
                       (int)(p->next > p->pos ? p->next - p->pos : 1), p->text + p->pos);
    }
    return NULL;
}

static fg_cond *cond_new(cond_kind k)
{
    fg_cond *c = calloc(1, sizeof *c);
    if (c) { c->kind = k; c->step = -1; }
    return c;
}

static fg_cond *binary(cond_kind k, fg_cond *a, fg_cond *b)
{
    if (!a || !b) { fg_cond_free(a); fg_cond_free(b); return NULL; }
    fg_cond *c = cond_new(k);
    if (!c) { fg_cond_free(a); fg_cond_free(b); return NULL; }
    c->a = a;
    c->b = b;
    return c;
}

static fg_cond *parse_or(parser *p);

static fg_cond *parse_ref(parser *p)
{
    const char *s = p->text + p->pos;
    size_t n = p->next - p->pos;
    const char *dot = memchr(s, '.', n);
    if (!dot || dot == s || dot == s + n - 1 || memchr(dot + 1, '.', (size_t)(s + n - dot - 1)))
        return fail(p, "expected a reference 'step.output'");
    size_t id_len = (size_t)(dot - s);
    const fg_workflow *wf = p->wf;
    int step = -1;
    for (int i = 0; wf && i < wf->n_steps; i++)
        if (strlen(wf->steps[i].id) == id_len && !strncmp(wf->steps[i].id, s, id_len))
            step = i;
    if (step < 0) {
        if (!p->failed) {
            p->failed = 1;
            fg_err_set(p->err, "condition '%s': at position %zu: unknown step '%.*s'",
                       p->text, p->pos + 1, (int)id_len, s);
        }
        return NULL;
    }
    const char *out = dot + 1;
    size_t out_len = n - id_len - 1;
    int known = 0;
    for (int i = 0; i < wf->steps[step].n_out; i++)
        if (strlen(wf->steps[step].out[i].name) == out_len &&
            !strncmp(wf->steps[step].out[i].name, out, out_len))
            known = 1;
    if (!known) {
        if (!p->failed) {
            p->failed = 1;
            fg_err_set(p->err, "condition '%s': at position %zu: step '%s' has no output '%.*s'",
                       p->text, p->pos + 1, wf->steps[step].id, (int)out_len, out);
        }
        return NULL;
    }
    fg_cond *c = cond_new(C_REF);
    if (!c) return NULL;
    c->step = step;
    c->ref = strndup(s, n);
    if (!c->ref) { free(c); return NULL; }
    c->output = c->ref + id_len + 1;
    advance(p);
    return c;
}

static fg_cond *parse_primary(parser *p)
{
    fg_cond *c;
    switch (p->tok) {
    case T_LPAREN:
        advance(p);
        c = parse_or(p);
        if (!c) return NULL;
        if (p->tok != T_RPAREN) { fg_cond_free(c); return fail(p, "expected ')'"); }
        advance(p);
        return c;
    case T_NUM:
        c = cond_new(C_NUM);
        if (!c) return NULL;
        c->num = strtod(p->text + p->pos, NULL);
        advance(p);
        return c;
    case T_TRUE:
    case T_FALSE:
        c = cond_new(C_BOOL);
        if (!c) return NULL;
        c->num = p->tok == T_TRUE;
        advance(p);
        return c;
    case T_STR:
        c = cond_new(C_STR);
        if (!c) return NULL;
        c->str = strndup(p->text + p->pos + 1, p->next - p->pos - 2);
        if (!c->str) { free(c); return NULL; }
        advance(p);
        return c;
    case T_IDENT:
        return parse_ref(p);
    case T_BAD:
        if (p->text[p->pos] == '\'') return fail(p, "unterminated string");
        return fail(p, "unexpected character");
    default:
        return fail(p, "expected a reference, a number, true, false, a 'string' or '('");
    }
}

static fg_cond *parse_cmp(parser *p)
{
    fg_cond *a = parse_primary(p);
    if (!a || p->tok != T_CMP) return a;
    cond_cmp op = p->cmp;
    advance(p);
    fg_cond *c = binary(C_CMP, a, parse_primary(p));
    if (!c) return NULL;
    c->cmp = op;
    if (p->tok == T_CMP) {     /* a < b < c reads as something it is not */
        fg_cond_free(c);
        return fail(p, "comparisons do not chain; use AND");
    }
    return c;
}

static fg_cond *parse_not(parser *p)
{
    if (p->tok != T_NOT) return parse_cmp(p);
    advance(p);
    fg_cond *a = parse_not(p);
    if (!a) return NULL;
    fg_cond *c = cond_new(C_NOT);
    if (!c) { fg_cond_free(a); return NULL; }
    c->a = a;
    return c;
}

static fg_cond *parse_and(parser *p)
{
    fg_cond *c = parse_not(p);
    while (c && p->tok == T_AND) {
        advance(p);
        c = binary(C_AND, c, parse_not(p));
    }
    return c;
}

static fg_cond *parse_or(parser *p)
{
    fg_cond *c = parse_and(p);
    while (c && p->tok == T_OR) {
        advance(p);
        c = binary(C_OR, c, parse_and(p));
    }
    return c;
}

fg_cond *fg_cond_parse(const char *text, const fg_workflow *wf, fg_err *err)
{
    if (!text) { fg_err_set(err, "condition: missing"); return NULL; }
    parser p = {.text = text, .wf = wf, .err = err};
    advance(&p);
    if (p.tok == T_END) { fg_err_set(err, "condition '%s': empty", text); return NULL; }
    fg_cond *c = parse_or(&p);
    if (c && p.tok != T_END) {
        fg_cond_free(c);
        return fail(&p, "expected OR, AND or the end");
    }
    if (!c && !p.failed) fg_err_set(err, "condition '%s': out of memory", text);
    return c;
}

void fg_cond_free(fg_cond *c)
{
    if (!c) return;
    fg_cond_free(c->a);
    fg_cond_free(c->b);
    free(c->ref);
    free(c->str);
    free(c);
}

/* ---- evaluation ------------------------------------------------------ */

typedef enum val_kind { V_NULL, V_BOOL, V_NUM, V_STR, V_OTHER } val_kind;

typedef struct value {
    val_kind kind;
    double num;          /* V_BOOL: 0/1, V_NUM */
    const char *str;
    int truthy;          /* V_OTHER (arrays, objects): non-empty */
} value;

static int truthy(const value *v)
{
    switch (v->kind) {
    case V_BOOL:
    case V_NUM: return v->num != 0;
    case V_STR: return v->str[0] != 0;
    case V_OTHER: return v->truthy;
    default: return 0;
    }
}

typedef struct evaluator {
    fg_cond_lookup lookup;
    void *ctx;
    fg_err *err;
    int failed;
} evaluator;

static int eval(const fg_cond *c, evaluator *e);

static int eval_value(const fg_cond *c, evaluator *e, value *out)
{
    memset(out, 0, sizeof *out);
    switch (c->kind) {
    case C_NUM: out->kind = V_NUM; out->num = c->num; return 0;
    case C_BOOL: out->kind = V_BOOL; out->num = c->num; return 0;
    case C_STR: out->kind = V_STR; out->str = c->str; return 0;
    case C_REF: {
        const cJSON *j = e->lookup ? e->lookup(e->ctx, c->step, c->output) : NULL;
        if (!j) {
            if (!e->failed) fg_err_set(e->err, "condition: output %s is missing", c->ref);
            e->failed = 1;
            return -1;
        }
        if (cJSON_IsBool(j)) { out->kind = V_BOOL; out->num = cJSON_IsTrue(j); }
        else if (cJSON_IsNumber(j)) { out->kind = V_NUM; out->num = j->valuedouble; }
        else if (cJSON_IsString(j)) { out->kind = V_STR; out->str = j->valuestring; }
        else if (cJSON_IsNull(j)) out->kind = V_NULL;
        else { out->kind = V_OTHER; out->truthy = j->child != NULL; }
        return 0;
    }
    default: {
        /* A logical sub-expression used as an operand is a boolean. */
        int r = eval(c, e);
        if (r < 0) return -1;
        out->kind = V_BOOL;
        out->num = r;
        return 0;
    }
    }
}

static const char *kind_name(val_kind k)
{
    static const char *names[] = {"null", "boolean", "number", "string", "array/object"};
    return names[k];
}

static int compare(const fg_cond *c, evaluator *e)
{
    value a, b;
    int ra = eval_value(c->a, e, &a);
    int rb = eval_value(c->b, e, &b);
    if (ra < 0 || rb < 0) return -1;
    int order;                   /* <0, 0, >0; equality-only when unordered */
    int comparable = 1;
    int numeric_a = a.kind == V_NUM || a.kind == V_BOOL;
    int numeric_b = b.kind == V_NUM || b.kind == V_BOOL;
    if (numeric_a && numeric_b) {
        order = (a.num > b.num) - (a.num < b.num);
    } else if (a.kind == V_STR && b.kind == V_STR) {
        order = strcmp(a.str, b.str);
    } else {
        comparable = 0;
        order = !(a.kind == V_NULL && b.kind == V_NULL);
    }
    if (!comparable && c->cmp != CMP_EQ && c->cmp != CMP_NE) {
        if (!e->failed)
            fg_err_set(e->err, "condition: cannot order a %s against a %s",
                       kind_name(a.kind), kind_name(b.kind));
        e->failed = 1;
        return -1;
    }
    switch (c->cmp) {
    case CMP_EQ: return order == 0;
    case CMP_NE: return order != 0;
    case CMP_LT: return order < 0;
    case CMP_LE: return order <= 0;
    case CMP_GT: return order > 0;
    default: return order >= 0;
    }
}

static int eval(const fg_cond *c, evaluator *e)
{
    switch (c->kind) {
    case C_OR:
    case C_AND: {
        int a = eval(c->a, e);
        int b = eval(c->b, e);
        if (a < 0 || b < 0) return -1;
        return c->kind == C_OR ? (a || b) : (a && b);
    }
    case C_NOT: {
        int a = eval(c->a, e);
        return a < 0 ? -1 : !a;
    }
    case C_CMP:
        return compare(c, e);
    default: {
        value v;
        if (eval_value(c, e, &v) < 0) return -1;
        return truthy(&v);
    }
    }
}

int fg_cond_eval(const fg_cond *c, fg_cond_lookup lookup, void *ctx, fg_err *err)
{
    if (!c) return fg_err_set(err, "condition: none");
    evaluator e = {.lookup = lookup, .ctx = ctx, .err = err};
    return eval(c, &e);
}

static void collect(const fg_cond *c, int *steps, int max, int *n)
{
    if (!c) return;
    if (c->kind == C_REF) {
        for (int i = 0; i < *n; i++)
            if (steps[i] == c->step) return;
        if (*n < max) steps[(*n)++] = c->step;
        return;
    }
    collect(c->a, steps, max, n);
    collect(c->b, steps, max, n);
}

int fg_cond_steps(const fg_cond *c, int *steps, int max)
{
    int n = 0;
    collect(c, steps, max, &n);
    return n;
}
