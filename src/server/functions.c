/* functions.c — the seven recognizer functions and the one invocation path.
 *
 * An invocation parses the body (and frees it at once), checks the fields,
 * resolves an input_ref (I/O, outside the worker slot), then takes a slot:
 * base64 and PNG decoding and the compute run inside it and make exec_ms.
 * Payloads are never copied beyond decoding: the decoded PNG of an upload
 * is handed to the blob store as is, encoded output is referenced (not
 * copied) by the reply tree, and the base64 text is dropped from the
 * request tree as soon as it is decoded. PNGs are probed before decoding so
 * a decompression bomb is refused (413) before any pixel is allocated.
 * A function with a slowdown factor on its node burns CPU after the work,
 * and the tail knob's counted invocations sleep after that, both still
 * inside the slot and in exec_ms (slowdown.h).
 *
 * The wrong_type fault (faults.h) swaps every field the function added
 * for a value of another type, in the reply tree before printing: the
 * reply stays valid JSON with its identity and timings real.
 *
 * Container mode is a drop-in for a reference container: it also takes the
 * reference's input names (upload "data", extract/mosaic "img_clean",
 * censor "translated_text"), renamed to ours before the checks; stamps
 * server_timestamps in unix seconds as the reference does (time.time()),
 * with its "sent"; and with reference_errors answers a handled error
 * HTTP 200 + "status":"error" (422 for a body that is not a JSON object,
 * 500 stays 500). Node mode keeps unix ms: it is flowgate's own protocol,
 * the driver reads either unit (timeline.c), and ms keep the node
 * timelines exact to the microsecond without a fraction of a second. */
#include "functions.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "blobref.h"
#include "catalog.h"
#include "slowdown.h"
#include "flowgate/b64.h"
#include "flowgate/image.h"
#include "flowgate/imgproc.h"
#include "flowgate/censor.h"
#include "flowgate/ocr.h"
#include "flowgate/translate.h"

#define OCR_MAX_SIDE 1600
#define MOSAIC_MAX_SIDE 1024
#define MOSAIC_BLOCK 8
#define MOSAIC_JPEG_QUALITY 90

typedef struct call {
    fg_node *node;
    const fg_function *fn;
    fg_worker *worker;
    cJSON *req;
    fg_input in;
    int cold_start;
    char *out_b64;          /* referenced by the reply tree; freed after printing */
    fg_err err;
} call;

typedef int (*run_fn)(call *c, cJSON *res);

/* Indexed as the catalog (catalog.h), which holds the names. */
struct fg_function {
    int image_input;        /* img_b64, or input_ref when accepts_ref */
    int accepts_ref;
    int text_input;
    run_fn run;
};

/* --- helpers --- */

static double ms3(double ms) { return round(ms * 1000.0) / 1000.0; }

/* Decodes img_b64 (unless the input came by reference) and the PNG. */
static int load_png(call *c, fg_image *img)
{
    fg_err e;
    if (!c->in.from_ref) {
        const cJSON *b64 = cJSON_GetObjectItemCaseSensitive(c->req, "img_b64");
        const char *s = cJSON_GetStringValue(b64);
        if (fg_b64_decode(s, strlen(s), &c->in.owned, &e) != 0)
            return fg_fail(&c->err, 400, "img_b64: %s", e.msg);
        cJSON_DeleteItemFromObjectCaseSensitive(c->req, "img_b64");
        c->in.data = c->in.owned.data;
        c->in.len = c->in.owned.len;
    }
    const char *src = c->in.from_ref ? "input_ref" : "img_b64";
    const unsigned char *data = c->in.data ? c->in.data : (const unsigned char *)"";
    uint64_t limit = c->node->site->profile.max_pixels;
    int w, h;
    if (fg_png_probe(data, c->in.len, &w, &h, &e) != 0)
        return fg_fail(&c->err, 400, "%s: %s", src, e.msg);
    if ((uint64_t)w * (uint64_t)h > limit)
        return fg_fail(&c->err, 413, "%s: PNG is %dx%d = %llu pixels, over the limit of %llu",
                       src, w, h, (unsigned long long)w * (unsigned long long)h,
                       (unsigned long long)limit);
    if (fg_png_decode(data, c->in.len, limit, img, &e) != 0)
        return fg_fail(&c->err, 400, "%s: %s", src, e.msg);
    return 0;
}

/* Hands buf to the node's blob store (no copy) and adds "ref". */
static int store_blob(call *c, fg_buf *buf, cJSON *res)
{
    char key[32];
    fg_err e;
    size_t len = buf->len;
    if (fg_blobstore_put(c->node->blobs, buf->data, len, key, &e) != 0)
        return fg_fail(&c->err, 500, "blob store: %s", e.msg);
    buf->data = NULL;
    buf->len = 0;
    cJSON *ref = cJSON_AddObjectToObject(res, "ref");
    cJSON_AddStringToObject(ref, "node", c->node->prof.name);
    cJSON_AddStringToObject(ref, "key", key);
    cJSON_AddNumberToObject(ref, "bytes", (double)len);
    return 0;
}

static int add_b64(call *c, cJSON *res, const char *field, const void *data, size_t len)
{
    c->out_b64 = fg_b64_encode(data, len, NULL);
    if (!c->out_b64) return fg_fail(&c->err, 500, "out of memory encoding %zu bytes", len);
    cJSON_AddItemToObject(res, field, cJSON_CreateStringReference(c->out_b64));
    return 0;
}

static int by_ref(const call *c)
{
    return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(c->req, "by_ref"));
}

static const char *text_field(const call *c)
{
    return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(c->req, "text"));
}

/* --- the functions --- */

static int run_upload(call *c, cJSON *res)
{
    fg_image img;
    int status = load_png(c, &img);
    if (status) return status;
    cJSON_AddNumberToObject(res, "width", img.w);
    cJSON_AddNumberToObject(res, "height", img.h);
    fg_image_free(&img);
    if (!by_ref(c) && (status = add_b64(c, res, "img_clean_b64", c->in.data, c->in.len)))
        return status;
    c->in.data = NULL;   /* the store owns the bytes from here */
    return store_blob(c, &c->in.owned, res);
}

static int run_detector(call *c, cJSON *res, fg_detection (*detect)(const fg_image *),
                        const char *flag)
{
    fg_image img;
    int status = load_png(c, &img);
    if (status) return status;
    fg_detection d = detect(&img);
    fg_image_free(&img);
    cJSON_AddBoolToObject(res, flag, d.flagged);
    cJSON_AddNumberToObject(res, "confidence", d.confidence);
    return 0;
}

static int run_adult(call *c, cJSON *res) { return run_detector(c, res, fg_detect_adult, "is_adult"); }
static int run_violence(call *c, cJSON *res) { return run_detector(c, res, fg_detect_violence, "illegal"); }

static void add_lines(cJSON *arr, const char *text)
{
    while (*text) {
        size_t n = strcspn(text, "\n");
        const char *a = text, *b = text + n;
        while (a < b && (*a == ' ' || *a == '\t' || *a == '\r' || *a == '\f')) a++;
        while (b > a && (b[-1] == ' ' || b[-1] == '\t' || b[-1] == '\r' || b[-1] == '\f')) b--;
        if (b > a) {
            char *line = strndup(a, (size_t)(b - a));
            if (line) cJSON_AddItemToArray(arr, cJSON_CreateString(line));
            free(line);
        }
        text += n + (text[n] == '\n');
    }
}

static int run_extract(call *c, cJSON *res)
{
    fg_image img;
    int status = load_png(c, &img);
    if (status) return status;
    fg_err e;
    if (!c->worker->ocr) {
        c->worker->ocr = fg_ocr_new("eng", &e);
        if (!c->worker->ocr) {
            fg_image_free(&img);
            return fg_fail(&c->err, 500, "OCR engine: %s", e.msg);
        }
        c->cold_start = 1;
    }
    char *text = NULL;
    int rc = fg_ocr_read(c->worker->ocr, &img, OCR_MAX_SIDE, &text, &e);
    fg_image_free(&img);
    if (rc != 0) return fg_fail(&c->err, 500, "OCR: %s", e.msg);
    cJSON_AddStringToObject(res, "text", text);
    add_lines(cJSON_AddArrayToObject(res, "text_chunks"), text);
    free(text);
    return 0;
}

static int run_translate(call *c, cJSON *res)
{
    char *out = fg_translate(c->node->site->dict, text_field(c));
    if (!out) return fg_fail(&c->err, 500, "out of memory translating");
    cJSON_AddStringToObject(res, "translated_text", out);
    cJSON_AddStringToObject(res, "target_lang", "en");
    free(out);
    return 0;
}

static int run_censor(call *c, cJSON *res)
{
    size_t matches = 0;
    char *out = fg_censor_filter(c->node->site->censor, text_field(c), &matches);
    if (!out) return fg_fail(&c->err, 500, "out of memory filtering");
    cJSON_AddBoolToObject(res, "illegal", matches > 0);
    cJSON_AddStringToObject(res, "filtered_text", out);
    cJSON_AddNumberToObject(res, "filter_count", (double)matches);
    free(out);
    return 0;
}

static int run_mosaic(call *c, cJSON *res)
{
    fg_image img, fitted;
    int status = load_png(c, &img);
    if (status) return status;
    if (img.w <= MOSAIC_MAX_SIDE && img.h <= MOSAIC_MAX_SIDE) {
        fitted = img;   /* pixelated in place: fg_image_fit would copy it */
    } else {
        int rc = fg_image_fit(&img, MOSAIC_MAX_SIDE, MOSAIC_MAX_SIDE, &fitted);
        fg_image_free(&img);
        if (rc != 0) return fg_fail(&c->err, 500, "mosaic: cannot resize");
    }
    fg_pixelate(&fitted, MOSAIC_BLOCK);
    fg_buf jpeg;
    fg_err e;
    int rc = fg_jpeg_encode(&fitted, MOSAIC_JPEG_QUALITY, &jpeg, &e);
    cJSON_AddNumberToObject(res, "width", fitted.w);
    cJSON_AddNumberToObject(res, "height", fitted.h);
    fg_image_free(&fitted);
    if (rc != 0) return fg_fail(&c->err, 500, "mosaic: %s", e.msg);
    status = by_ref(c) ? store_blob(c, &jpeg, res)
                       : add_b64(c, res, "mosaic_img_b64", jpeg.data, jpeg.len);
    fg_buf_free(&jpeg);
    return status;
}

static const fg_function functions[FG_FN_COUNT] = {
    [FG_FN_UPLOAD]    = {1, 0, 0, run_upload},
    [FG_FN_ADULT]     = {1, 1, 0, run_adult},
    [FG_FN_VIOLENCE]  = {1, 1, 0, run_violence},
    [FG_FN_EXTRACT]   = {1, 1, 0, run_extract},
    [FG_FN_TRANSLATE] = {0, 0, 1, run_translate},
    [FG_FN_CENSOR]    = {0, 0, 1, run_censor},
    [FG_FN_MOSAIC]    = {1, 1, 0, run_mosaic},
};

int fg_function_count(void) { return FG_FN_COUNT; }
const fg_function *fg_function_at(int i) { return &functions[i]; }
int fg_function_index(const fg_function *fn) { return (int)(fn - functions); }
const char *fg_function_name(const fg_function *fn) { return fg_catalog_name(fg_function_index(fn)); }

const fg_function *fg_function_find(const char *name)
{
    int i = fg_catalog_find(name);
    return i < 0 ? NULL : &functions[i];
}

/* --- the invocation path --- */

static int container_mode(const call *c) { return c->node->site->only != NULL; }

/* The reference containers' other names for our inputs (container mode). */
static const struct { run_fn fn; const char *alias, *field; } input_aliases[] = {
    {run_upload, "data", "img_b64"},
    {run_extract, "img_clean", "img_b64"},
    {run_mosaic, "img_clean", "img_b64"},
    {run_censor, "translated_text", "text"},
};

/* Renames an alias to our field when ours is absent. Returns the alias
 * taken (for error messages) or NULL. */
static const char *take_alias(call *c)
{
    for (size_t i = 0; i < sizeof input_aliases / sizeof input_aliases[0]; i++) {
        if (input_aliases[i].fn != c->fn->run) continue;
        const char *field = input_aliases[i].field, *alias = input_aliases[i].alias;
        if (cJSON_GetObjectItemCaseSensitive(c->req, field)) return NULL;
        cJSON *v = cJSON_DetachItemFromObjectCaseSensitive(c->req, alias);
        if (!v) return NULL;
        cJSON_AddItemToObject(c->req, field, v);
        return alias;
    }
    return NULL;
}

static const char *alias_of(const call *c, const char *field)
{
    for (size_t i = 0; i < sizeof input_aliases / sizeof input_aliases[0]; i++)
        if (input_aliases[i].fn == c->fn->run && !strcmp(input_aliases[i].field, field))
            return input_aliases[i].alias;
    return NULL;
}

/* Field checks that need no worker: 0 or 400 with c->err set. */
static int check_fields(call *c)
{
    const fg_function *fn = c->fn;
    const char *alias = NULL, *taken = NULL;
    if (container_mode(c)) {
        taken = take_alias(c);
        alias = alias_of(c, fn->text_input ? "text" : "img_b64");
        /* The reference reads img_path/img_clean paths from its own disk;
         * a server reading files a request names is not one to copy. */
        if (!fn->text_input && !cJSON_GetObjectItemCaseSensitive(c->req, "img_b64") &&
            cJSON_GetObjectItemCaseSensitive(c->req, "img_path"))
            return fg_fail(&c->err, 400, "field \"img_path\" is not supported (no files are "
                           "read from the server's disk): send the image as \"img_b64\"");
    }
    /* Errors name the field the client sent. */
    const char *got = taken;
    char either[64] = "";
    if (alias) snprintf(either, sizeof either, " (or \"%s\")", alias);
    if (fn->text_input) {
        const cJSON *text = cJSON_GetObjectItemCaseSensitive(c->req, "text");
        if (!text) return fg_fail(&c->err, 400, "missing field \"text\"%s", either);
        if (!cJSON_IsString(text))
            return fg_fail(&c->err, 400, "field \"%s\" must be a string", got ? got : "text");
        const cJSON *lang = cJSON_GetObjectItemCaseSensitive(c->req, "target_lang");
        if (fn->run == run_translate && lang &&
            (!cJSON_IsString(lang) || strcmp(lang->valuestring, "en") != 0))
            return fg_fail(&c->err, 400, "unsupported target_lang \"%.32s\" (only \"en\")",
                           cJSON_IsString(lang) ? lang->valuestring : "?");
        return 0;
    }
    const cJSON *b64 = cJSON_GetObjectItemCaseSensitive(c->req, "img_b64");
    const cJSON *ref = cJSON_GetObjectItemCaseSensitive(c->req, "input_ref");
    if (ref && fn->accepts_ref) return 0;
    if (!b64)
        return fg_fail(&c->err, 400, "missing field \"img_b64\"%s%s", either,
                       fn->accepts_ref ? " or \"input_ref\"" : "");
    if (!cJSON_IsString(b64))
        return fg_fail(&c->err, 400, "field \"%s\" must be a string", got ? got : "img_b64");
    return 0;
}

/* Identity first, so a reply reads top-down; timings once they are known. */
static void add_identity(call *c, cJSON *res)
{
    cJSON_AddStringToObject(res, "status", "success");
    cJSON_AddStringToObject(res, "function", fg_function_name(c->fn));
    cJSON_AddStringToObject(res, "node", c->node->prof.name);
    const cJSON *rid = cJSON_GetObjectItemCaseSensitive(c->req, "request_id");
    if (cJSON_IsString(rid) || cJSON_IsNumber(rid))
        cJSON_AddItemToObject(res, "request_id", cJSON_Duplicate(rid, 0));
}

static void add_timings(call *c, cJSON *res, double recv_ms, double queue_ms,
                        double exec_start, double exec_end, double exec_ms)
{
    cJSON_AddNumberToObject(res, "exec_ms", ms3(exec_ms));
    cJSON_AddNumberToObject(res, "queue_ms", ms3(queue_ms));
    cJSON *ts = cJSON_AddObjectToObject(res, "server_timestamps");
    if (container_mode(c)) {
        /* The reference's unit: unix seconds, to the microsecond. */
        cJSON_AddNumberToObject(ts, "recv", ms3(recv_ms) / 1000.0);
        cJSON_AddNumberToObject(ts, "exec_start", ms3(exec_start) / 1000.0);
        cJSON_AddNumberToObject(ts, "exec_end", ms3(exec_end) / 1000.0);
        cJSON_AddNumberToObject(ts, "sent", ms3(fg_now_unix_ms()) / 1000.0);
    } else {
        cJSON_AddNumberToObject(ts, "recv", ms3(recv_ms));
        cJSON_AddNumberToObject(ts, "exec_start", ms3(exec_start));
        cJSON_AddNumberToObject(ts, "exec_end", ms3(exec_end));
    }
    cJSON_AddBoolToObject(res, "cold_start", c->cold_start);
    if (c->in.from_ref) {
        cJSON_AddNumberToObject(res, "transfer_ms", ms3(c->in.transfer_ms));
        cJSON_AddNumberToObject(res, "transfer_bytes", (double)c->in.transfer_bytes);
    }
}

/* Replaces every field after `after` (the function's outputs) with a value
 * of another type: whichever of them a workflow maps, it is wrong, so the
 * fault is malformed for every workflow. 1 when at least one was. */
static int swap_type(cJSON *res, cJSON *after)
{
    int swapped = 0;
    for (cJSON *field = after ? after->next : NULL, *next; field; field = next) {
        next = field->next;
        cJSON *wrong = cJSON_IsNumber(field) ? cJSON_CreateString("42") : cJSON_CreateNumber(42);
        if (wrong && (wrong->string = strdup(field->string)) &&
            cJSON_ReplaceItemViaPointer(res, field, wrong)) {
            swapped = 1;
            continue;
        }
        cJSON_Delete(wrong);
    }
    return swapped;
}

static int invoke(fg_node *node, const fg_function *fn, fg_buf *body, double recv_ms,
                  int wrong_type, fg_reply *out)
{
    call c = {.node = node, .fn = fn};
    int swapped = 0;
    double cpu0 = fg_now_thread_cpu_ms();
    c.req = cJSON_ParseWithLength((const char *)body->data, body->len);
    fg_buf_free(body);
    int status;
    if (!cJSON_IsObject(c.req)) {
        /* The reference (FastAPI) answers 422 to a body that is not a JSON
         * object, whatever the error convention. */
        status = fg_fail(&c.err, node->site->reference_errors ? 422 : 400,
                         c.req ? "invalid JSON body: not a JSON object" : "invalid JSON body");
        goto fail;
    }
    if ((status = check_fields(&c)) != 0) goto fail;
    const cJSON *ref = cJSON_GetObjectItemCaseSensitive(c.req, "input_ref");
    if (fn->accepts_ref && ref &&
        (status = fg_blobref_resolve(node, ref, &c.in, &c.err)) != 0)
        goto fail;

    double queue_ms;
    c.worker = fg_node_acquire(node, &queue_ms);
    double exec_start = fg_now_unix_ms(), t0 = fg_now_mono_ms();
    cJSON *res = cJSON_CreateObject();
    cJSON *identity_end = NULL;     /* the last identity field */
    if (res) {
        add_identity(&c, res);
        identity_end = res->child ? res->child->prev : NULL;
    }
    status = res ? fn->run(&c, res) : fg_fail(&c.err, 500, "out of memory");
    /* Inside the slot, like the code of a slower build (slowdown.h). */
    double slowdown_ms =
        fg_slowdown_burn(fg_now_mono_ms() - t0, node->prof.fn_slowdown[fg_function_index(fn)]);
    /* The tail is a sleep, not a burn: real tails are mostly waiting (a GC
     * pause, a page-in, a stalled disk or neighbour), and a sleep adds
     * exactly add_ms of latency without taking a core from the other
     * functions, so the knob moves the tail alone; it still holds the slot,
     * so requests behind it queue as they would. */
    fg_node_tail(node, fg_function_index(fn));
    double exec_ms = fg_now_mono_ms() - t0, exec_end = fg_now_unix_ms();
    fg_node_release(node, c.worker);
    fg_input_release(&c.in);
    if (status) {
        cJSON_Delete(res);
        goto fail;
    }
    if (wrong_type) swapped = swap_type(res, identity_end);
    add_timings(&c, res, recv_ms, queue_ms, exec_start, exec_end, exec_ms);
    /* What the knob added, inside exec_ms: the known effect, shown so a test
     * or a user can tell it from the work (absent when the knob is off). */
    if (slowdown_ms > 0) cJSON_AddNumberToObject(res, "slowdown_ms", ms3(slowdown_ms));
    fg_reply_json(out, 200, res);
    fg_node_count(node, fg_function_index(fn), 1, c.cold_start, fg_now_thread_cpu_ms() - cpu0);
    free(c.out_b64);
    cJSON_Delete(c.req);
    return swapped;
fail:
    fg_node_count(node, fg_function_index(fn), 0, c.cold_start, fg_now_thread_cpu_ms() - cpu0);
    fg_input_release(&c.in);
    free(c.out_b64);
    cJSON_Delete(c.req);
    /* Reference convention: a handled error is a 200 whose status says
     * "error"; 422 and an internal 500 keep their codes. */
    if (node->site->reference_errors && status != 422 && status < 500) status = 200;
    fg_reply_error(out, status, fg_function_name(fn), node->prof.name, "%s", c.err.msg);
    return 0;
}

void fg_invoke(fg_node *node, const fg_function *fn, fg_buf *body, double recv_ms,
               fg_reply *out)
{
    invoke(node, fn, body, recv_ms, 0, out);
}

int fg_invoke_wrong_type(fg_node *node, const fg_function *fn, fg_buf *body, double recv_ms,
                         fg_reply *out)
{
    return invoke(node, fn, body, recv_ms, 1, out);
}
