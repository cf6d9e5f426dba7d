/* answer.c — a function's reply read by events (yajl), so that the driver
 * pays for what it reads and nothing else.
 *
 * A reply carries the function's outputs, the server's accounting (exec,
 * queue, transfer, cold start, timestamps) and whatever else its author put
 * in (names, echoes, language tags). Building the whole cJSON tree of every
 * reply and freeing it again was the driver's largest cost per request
 * (a profile: a third of its user time in malloc/free, strtod and key
 * lookups). Here the top level is judged key by key as the parser
 * walks it: the success field and "message" are judged or copied on the
 * spot, the accounting numbers go straight into a struct
 * (server_report.h), the plan's output keys and, when the timeline wants
 * them, the server timestamps become a small cJSON object (the instance
 * and the timeline keep reading cJSON); every other value is skipped
 * without an allocation and its numbers are never converted. The parser
 * is kept from one reply to the next (yajl_allow_multiple_values, with
 * anything but blanks after the object refused here), and made anew after
 * a refusal.
 *
 * It agrees with cJSON on what it keeps: the first of duplicate keys wins
 * (cJSON's lookup finds the first), numbers go through strtod as cJSON's
 * do, strings are not checked for UTF-8 (cJSON does not either). An
 * escaped NUL stays in the text, where cJSON ended the string. It is
 * stricter in one way: text after the object is an error, as a function
 * that writes two bodies is broken. */
#include "answer.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_parse.h>

enum {
    ROLE_KEEP = 1,      /* an output's key, or the wanted timestamps: kept whole */
    ROLE_NUMBER = 2,    /* accounting: taken when a number */
    ROLE_BOOL = 4,      /* cold_start: taken when a boolean */
    ROLE_STATUS = 8,    /* the success field: judged */
    ROLE_MESSAGE = 16   /* copied when a string */
};

#define KEY(s) {s, sizeof s - 1}
static const struct { const char *name; size_t len; } number_keys[] = {
    KEY("exec_ms"), KEY("queue_ms"), KEY("transfer_ms"), KEY("transfer_bytes")};
#define N_NUMBER_KEYS ((int)(sizeof number_keys / sizeof number_keys[0]))

struct fg_answer_reader {
    yajl_handle h;                    /* NULL after an error: made anew */
    /* This read's. */
    const fg_answer_plan *plan;
    const char *field, *equals;
    size_t field_len, equals_len;
    int stamps;
    fg_answer *a;
    int depth;                        /* open containers; the root object is 1 */
    int root_done;                    /* the root object closed: nothing may follow */
    size_t root_end;                  /* the body's offset just past it */
    uint64_t key_lengths;             /* bit per length of a key judged (63: 63 and up) */
    int role;                         /* of the top-level key being read */
    const char *stable_key;           /* ROLE_KEEP: that key, when the plan holds it
                                         terminated (kept by reference, not copied) */
    int number;                       /* ROLE_NUMBER: which of number_keys */
    unsigned seen;                    /* judged top-level keys met already (first wins) */
    int sp;                           /* kept containers open below the root */
    int oom;
    /* Kept across reads. */
    char *key;                        /* the key for the next kept value */
    size_t key_size;
    cJSON *stack[FG_ANSWER_MAX_NESTING];
};

#define SEEN_STATUS (1u << N_NUMBER_KEYS)
#define SEEN_MESSAGE (SEEN_STATUS << 1)
#define SEEN_COLD (SEEN_STATUS << 2)

static uint64_t length_bit(size_t len)
{
    return (uint64_t)1 << (len < 63 ? len : 63);
}

/* m's reply path (the loader's src_field: "a.b" of "result.a.b") opens
 * with the key to keep. */
static int plan_add(fg_answer_plan *p, const fg_wf_mapping *m, const char *step_id, fg_err *err)
{
    const char *key = m->src_field;
    size_t len = strcspn(key, ".");
    for (int i = 0; i < p->n; i++)
        if (p->key[i].len == len && !memcmp(p->key[i].key, key, len)) return 0;
    if (p->n == FG_ANSWER_MAX_KEYS)
        return fg_err_set(err, "%s: outputs from more than %d reply fields", step_id,
                          FG_ANSWER_MAX_KEYS);
    p->key[p->n].key = key;
    p->key[p->n].len = len;
    p->key_lengths |= length_bit(len);
    p->n++;
    return 0;
}

int fg_answer_plan_step(fg_answer_plan *p, const fg_workflow *wf, int step, int by_ref,
                        fg_err *err)
{
    const fg_wf_step *s = &wf->steps[step];
    p->n = 0;
    /* The keys every reply is judged by; the plan's are added as they come. */
    p->key_lengths = length_bit(sizeof "message" - 1) | length_bit(sizeof "cold_start" - 1) |
                     length_bit(sizeof "server_timestamps" - 1);
    for (int i = 0; i < N_NUMBER_KEYS; i++) p->key_lengths |= length_bit(number_keys[i].len);
    for (int k = 0; k < s->n_out; k++)
        if (plan_add(p, &s->out[k], s->id, err) != 0) return -1;
    if (by_ref)
        for (int k = 0; k < s->n_blob_out; k++)
            if (plan_add(p, &s->blob_out[k], s->id, err) != 0) return -1;
    return 0;
}

static int text_is(const unsigned char *text, size_t len, const char *name, size_t name_len)
{
    return len == name_len && !memcmp(text, name, len);
}
#define TEXT_IS(text, len, literal) text_is(text, len, literal, sizeof literal - 1)

/* A top-level key: what is done with its value. Most keys of a reply are
 * none of the judged ones, and most differ from all of them in length. */
static void judge_key(fg_answer_reader *r, const unsigned char *key, size_t len)
{
    r->role = 0;
    r->stable_key = NULL;
    if (!(r->key_lengths & length_bit(len))) return;
    for (int i = 0; i < r->plan->n; i++)
        if (text_is(key, len, r->plan->key[i].key, r->plan->key[i].len)) {
            r->role |= ROLE_KEEP;
            /* "a" of src_field "a" is terminated; "a" of "a.b" is not */
            if (!r->plan->key[i].key[len]) r->stable_key = r->plan->key[i].key;
            break;
        }
    if (r->stamps && TEXT_IS(key, len, "server_timestamps")) {
        r->role |= ROLE_KEEP;
        r->stable_key = "server_timestamps";
    }
    for (int i = 0; i < N_NUMBER_KEYS; i++)
        if (text_is(key, len, number_keys[i].name, number_keys[i].len) &&
            !(r->seen & (1u << i))) {
            r->seen |= 1u << i;
            r->role |= ROLE_NUMBER;
            r->number = i;
        }
    if (TEXT_IS(key, len, "cold_start") && !(r->seen & SEEN_COLD)) {
        r->seen |= SEEN_COLD;
        r->role |= ROLE_BOOL;
    }
    if (text_is(key, len, r->field, r->field_len) && !(r->seen & SEEN_STATUS)) {
        r->seen |= SEEN_STATUS;
        r->role |= ROLE_STATUS;
    }
    if (TEXT_IS(key, len, "message") && !(r->seen & SEEN_MESSAGE)) {
        r->seen |= SEEN_MESSAGE;
        r->role |= ROLE_MESSAGE;
    }
}

static int set_key(fg_answer_reader *r, const unsigned char *key, size_t len)
{
    if (len + 1 > r->key_size) {
        char *k = realloc(r->key, len + 1);
        if (!k) return r->oom = 1, 0;
        r->key = k;
        r->key_size = len + 1;
    }
    memcpy(r->key, key, len);
    r->key[len] = 0;
    return 1;
}

/* A value kept whole: under a kept top-level key, or inside a kept one. */
static int keeping(const fg_answer_reader *r)
{
    return r->depth == 1 ? (r->role & ROLE_KEEP) != 0 : r->sp > 0;
}

/* A value at the top: the root object, or text after it (refused). */
static int at_top(const fg_answer_reader *r)
{
    return r->depth == 0;
}

/* Adds a new kept item to its parent: the root (under its key) or the
 * kept container open below it. */
static int place(fg_answer_reader *r, cJSON *item)
{
    if (!item) return r->oom = 1, 0;
    cJSON *parent = r->depth == 1 ? r->a->tree : r->stack[r->sp - 1];
    int added = cJSON_IsArray(parent)              ? cJSON_AddItemToArray(parent, item)
              : r->depth == 1 && r->stable_key ? cJSON_AddItemToObjectCS(parent, r->stable_key, item)
                                               : cJSON_AddItemToObject(parent, r->key, item);
    if (!added) {
        cJSON_Delete(item);
        return r->oom = 1, 0;
    }
    return 1;
}

static int on_null(void *ctx)
{
    fg_answer_reader *r = ctx;
    if (at_top(r)) return 0;
    return keeping(r) ? place(r, cJSON_CreateNull()) : 1;
}

static int on_boolean(void *ctx, int value)
{
    fg_answer_reader *r = ctx;
    if (at_top(r)) return 0;
    if (r->depth == 1 && (r->role & ROLE_BOOL)) r->a->report.cold_start = value != 0;
    return keeping(r) ? place(r, cJSON_CreateBool(value)) : 1;
}

/* The exact case of decimal to binary, which strtod itself tries first
 * (Clinger's fast path): a number whose digits, the point taken out, make
 * an integer below 2^53 and that has at most 22 decimals is that integer
 * divided by a power of ten, both exact in a double, so the one rounded
 * division gives strtod's correctly rounded result, bit for bit. The
 * accounting numbers (0.007, a timestamp's 1796611969.691251) are all of
 * this kind; strtod's locale and big-number machinery cost ~400
 * instructions each, a fifth of a reply's reading. Anything else
 * (exponents, 17 digits) goes to strtod. text is a number yajl accepted. */
static int number_exact(const char *text, size_t len, double *out)
{
    static const double pow10[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                   1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                   1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
    const uint64_t exact_below = (uint64_t)1 << 53;
    size_t i = text[0] == '-';
    uint64_t digits = 0;
    int decimals = -1;   /* -1: no point yet */
    for (; i < len; i++) {
        char c = text[i];
        if (c == '.') {
            decimals = 0;
            continue;
        }
        if (c < '0' || c > '9') return 0;   /* an exponent */
        if (digits >= exact_below / 10) return 0;
        digits = digits * 10 + (uint64_t)(c - '0');
        if (decimals >= 0) decimals++;
    }
    if (decimals > 22) return 0;
    double v = (double)digits;
    if (decimals > 0) v /= pow10[decimals];
    *out = text[0] == '-' ? -v : v;
    return 1;
}

static int on_number(void *ctx, const char *text, size_t len)
{
    fg_answer_reader *r = ctx;
    if (at_top(r)) return 0;
    int account = r->depth == 1 && (r->role & ROLE_NUMBER);
    if (!account && !keeping(r)) return 1;   /* skipped: never converted */
    double v;
    if (!number_exact(text, len, &v)) {
        char small[64];
        char *copy = len < sizeof small ? small : malloc(len + 1);
        if (!copy) return r->oom = 1, 0;
        memcpy(copy, text, len);
        copy[len] = 0;
        v = strtod(copy, NULL);   /* as cJSON converts its numbers */
        if (copy != small) free(copy);
    }
    if (account) {
        double *to[] = {&r->a->report.exec_ms, &r->a->report.queue_ms,
                        &r->a->report.transfer_ms, &r->a->report.transfer_bytes};
        *to[r->number] = v;
    }
    return keeping(r) ? place(r, cJSON_CreateNumber(v)) : 1;
}

/* A string item holding its own copy of len bytes: cJSON_CreateString
 * wants a terminated string, which would cost a second copy of a
 * megabyte image. A reference item made to own its value is an ordinary
 * string item, freed by cJSON_Delete (default hooks). */
static cJSON *string_item(const unsigned char *s, size_t len)
{
    char *copy = malloc(len + 1);
    if (!copy) return NULL;
    memcpy(copy, s, len);
    copy[len] = 0;
    cJSON *item = cJSON_CreateStringReference("");
    if (!item) {
        free(copy);
        return NULL;
    }
    item->type = cJSON_String;   /* no longer a reference: cJSON_Delete frees valuestring */
    item->valuestring = copy;
    return item;
}

static int on_string(void *ctx, const unsigned char *s, size_t len)
{
    fg_answer_reader *r = ctx;
    if (at_top(r)) return 0;
    if (r->depth == 1) {
        if (r->role & ROLE_STATUS)
            /* "error" first: a function that says so failed, whatever the
             * endpoint's success value. */
            r->a->status = TEXT_IS(s, len, "error") ? FG_ANSWER_STATUS_ERROR
                         : text_is(s, len, r->equals, r->equals_len) ? FG_ANSWER_STATUS_SUCCESS
                                                                     : FG_ANSWER_STATUS_OTHER;
        if (r->role & ROLE_MESSAGE) {
            size_t n = len < sizeof r->a->message ? len : sizeof r->a->message - 1;
            memcpy(r->a->message, s, n);
            r->a->message[n] = 0;
            r->a->has_message = 1;
        }
    }
    return keeping(r) ? place(r, string_item(s, len)) : 1;
}

static int open_container(fg_answer_reader *r, cJSON *(*create)(void))
{
    if (at_top(r)) {   /* the root: one object, or the reply is refused */
        if (r->root_done || create != cJSON_CreateObject) return 0;
        r->a->tree = cJSON_CreateObject();
        if (!r->a->tree) return r->oom = 1, 0;
        r->depth = 1;
        return 1;
    }
    if (keeping(r)) {
        if (r->sp == FG_ANSWER_MAX_NESTING) return 0;
        cJSON *c = create();
        if (!place(r, c)) return 0;
        r->stack[r->sp++] = c;
    }
    r->depth++;
    return 1;
}

static int close_container(fg_answer_reader *r)
{
    r->depth--;
    if (r->depth == 0) {
        r->root_done = 1;
        r->root_end = yajl_get_bytes_consumed(r->h);
    }
    else if (r->sp > 0) r->sp--;   /* inside a kept value every container is kept */
    return 1;
}

static int on_start_map(void *ctx) { return open_container(ctx, cJSON_CreateObject); }
static int on_start_array(void *ctx) { return open_container(ctx, cJSON_CreateArray); }
static int on_end(void *ctx) { return close_container(ctx); }

static int on_key(void *ctx, const unsigned char *key, size_t len)
{
    fg_answer_reader *r = ctx;
    if (r->depth == 1) judge_key(r, key, len);
    if (r->depth == 1 && r->stable_key) return 1;
    return keeping(r) ? set_key(r, key, len) : 1;   /* only a kept value needs its key */
}

static const yajl_callbacks callbacks = {
    .yajl_null = on_null,
    .yajl_boolean = on_boolean,
    .yajl_number = on_number,
    .yajl_string = on_string,
    .yajl_start_map = on_start_map,
    .yajl_map_key = on_key,
    .yajl_end_map = on_end,
    .yajl_start_array = on_start_array,
    .yajl_end_array = on_end,
};

fg_answer_reader *fg_answer_reader_new(void)
{
    return calloc(1, sizeof(fg_answer_reader));
}

void fg_answer_reader_free(fg_answer_reader *rd)
{
    if (!rd) return;
    if (rd->h) yajl_free(rd->h);
    free(rd->key);
    free(rd);
}

int fg_answer_read(fg_answer_reader *rd, const fg_answer_plan *p, const char *success_field,
                   const char *success_equals, int stamps, const char *body, size_t len,
                   fg_answer *a)
{
    /* Field by field: the message buffer is not zeroed for every reply. */
    a->tree = NULL;
    a->report = (fg_server_report)FG_SERVER_REPORT_NONE;
    a->status = FG_ANSWER_STATUS_ABSENT;
    a->has_message = 0;
    a->message[0] = 0;
    if (!rd->h) {
        rd->h = yajl_alloc(&callbacks, NULL, rd);
        if (!rd->h) return -2;
        /* No UTF-8 check (cJSON makes none); one reply after another. */
        yajl_config(rd->h, yajl_dont_validate_strings, 1);
        yajl_config(rd->h, yajl_allow_multiple_values, 1);
    }
    rd->plan = p;
    rd->field = success_field;
    rd->field_len = strlen(success_field);
    rd->equals = success_equals;
    rd->equals_len = strlen(success_equals);
    rd->stamps = stamps;
    rd->key_lengths = p->key_lengths | length_bit(rd->field_len);
    rd->a = a;
    rd->depth = rd->root_done = rd->role = rd->number = rd->sp = rd->oom = 0;
    rd->root_end = 0;
    rd->seen = 0;
    yajl_status st = yajl_parse(rd->h, (const unsigned char *)body, len);
    if (st == yajl_status_ok) st = yajl_complete_parse(rd->h);
    /* Only blanks may follow the object: yajl takes an unfinished token
     * after it (a lone '"') without a word, and would carry it into the
     * next reply. */
    size_t at = rd->root_end;
    while (rd->root_done && at < len && memchr(" \t\r\n", body[at], 4)) at++;
    if (st == yajl_status_ok && rd->root_done && at == len) return 0;
    /* The parser is left mid-value or in its error state: a new one next. */
    yajl_free(rd->h);
    rd->h = NULL;
    cJSON_Delete(a->tree);
    a->tree = NULL;
    return rd->oom ? -2 : -1;
}
