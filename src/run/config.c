/* config.c — the run configuration, assembled in layers. Precedence, lowest
 * to highest:
 *
 *   1. built-in defaults            fg_config_defaults
 *   2. environment                  fg_config_apply_env
 *   3. config file (--config F)     fg_config_apply_file (its "category"
 *                                   is applied first, then its other keys)
 *   4. command-line flags           set by the CLI on the struct last
 *
 * Each layer only overrides what it names. Every bad value — a malformed
 * environment variable, an unknown or mistyped key in a config file, an
 * unknown scheduler or category — is refused with one line naming the
 * variable or file and key: a typo must never fall back to a default
 * silently. An empty environment variable counts as unset.
 *
 * A repeated key in a config file is refused too (cJSON keeps both and a
 * lookup sees only the first, so the second would be ignored silently).
 * Once every layer is applied, fg_config_check refuses combinations no
 * single layer can see: a duration without a rate, an in-flight cap for a
 * closed loop, an input size the server's body limit can never accept.
 *
 * Paths in a config file are used as written (relative to the working
 * directory), like paths given on the command line. "nodes_file" (the
 * embedded server's nodes) was "nodes_profile" in older files; either
 * spelling is read, both at once are refused. "profile" is the calibration
 * profile of the `ours` scheduler, a different file.
 *
 * A category is either axes (input_sizes_mb x concurrency) or an explicit
 * "cells" list of [size_mb, concurrency] pairs: a matrix that spans sizes
 * and concurrency in a few cells (the CI gate's diagonal) is not a cross
 * product. `data_dir` swaps the system's data files as a whole (the A side
 * of a gate is the previous commit's server and data). */
#include "flowgate/config.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cjson/cJSON.h>

#include "flowgate/sched.h"


static void set_path(char *dst, size_t size, const char *a, const char *b)
{
    snprintf(dst, size, "%s%s", a, b);
}

/* The defaults that follow data_dir (fg_config_set_data_dir). Images do
 * not: they are the driver's generated inputs, the same for every system. */
static const struct { size_t off; const char *file; } data_defaults[] = {
    {offsetof(fg_run_config, nodes_file), "/nodes.json"},
    {offsetof(fg_run_config, workflow), "/workflows/recognizer.json"},
    {offsetof(fg_run_config, thresholds), "/thresholds.json"},
};
#define N_DATA_DEFAULTS (sizeof data_defaults / sizeof data_defaults[0])
#define FIELD_SIZE sizeof ((fg_run_config *)0)->nodes_file

const char *fg_config_data_dir(const fg_run_config *c)
{
    return c->data_dir[0] ? c->data_dir : fg_data_dir();
}

/* An explicit path, else the data directory's default for that field. */
static const char *path_or_default(const fg_run_config *c, const char *field, const char *file,
                                   char *out, size_t size)
{
    if (field[0]) snprintf(out, size, "%s", field);
    else snprintf(out, size, "%s%s", fg_config_data_dir(c), file);
    return out;
}

const char *fg_config_workflow_path(const fg_run_config *c, char *out, size_t size)
{
    return path_or_default(c, c->workflow, "/workflows/recognizer.json", out, size);
}

const char *fg_config_nodes_file_path(const fg_run_config *c, char *out, size_t size)
{
    return path_or_default(c, c->nodes_file, "/nodes.json", out, size);
}

int fg_config_set_data_dir(fg_run_config *c, const char *what, const char *dir, fg_err *err)
{
    if (!*dir) return fg_err_set(err, "%s: empty data directory", what);
    if (strlen(dir) + sizeof "/workflows/recognizer.json" > FIELD_SIZE)
        return fg_err_set(err, "%s: path longer than %zu bytes", what,
                          FIELD_SIZE - sizeof "/workflows/recognizer.json");
    const char *old = fg_config_data_dir(c);
    char was[FIELD_SIZE];
    for (size_t i = 0; i < N_DATA_DEFAULTS; i++) {
        char *field = (char *)c + data_defaults[i].off;
        set_path(was, sizeof was, old, data_defaults[i].file);
        if (!strcmp(field, was)) set_path(field, FIELD_SIZE, dir, data_defaults[i].file);
    }
    snprintf(c->data_dir, sizeof c->data_dir, "%s", dir);
    return 0;
}

int fg_config_cells(const fg_run_config *c, fg_cell *out, int max)
{
    int n = 0;
    if (c->n_cells > 0) {
        for (int i = 0; i < c->n_cells && n < max; i++) out[n++] = c->cells[i];
        return n;
    }
    for (int s = 0; s < c->n_sizes; s++)
        for (int k = 0; k < c->n_concurrency && n < max; k++)
            out[n++] = (fg_cell){c->sizes_mb[s], c->concurrency[k]};
    return n;
}

void fg_config_defaults(fg_run_config *c)
{
    /* The matrix mirrors "standard" in data/categories.json (a unit test
     * keeps the two equal) so that defaults never depend on file I/O. */
    static const double sizes[] = {0.1, 1.0, 2.0};
    static const int conc[] = {1, 5, 10};
    memset(c, 0, sizeof *c);
    snprintf(c->category, sizeof c->category, "standard");
    c->n_sizes = 3;
    memcpy(c->sizes_mb, sizes, sizeof sizes);
    c->n_concurrency = 3;
    memcpy(c->concurrency, conc, sizeof conc);
    snprintf(c->schedulers[0], sizeof c->schedulers[0], "ours");
    c->n_schedulers = 1;
    c->requests = 0;
    c->default_requests = FG_MIN_CELL_REQUESTS;
    c->warmup = 2;
    c->request_scale = 1.0;
    c->timeout_s = 60;
    c->retries = 0;
    c->inline_data = 0;
    c->variant = FG_VARIANT_CLEAN;
    c->repeats = 1;
    c->arrival = FG_ARRIVAL_CONSTANT;
    c->seed = FG_ARRIVAL_DEFAULT_SEED;
    c->bandwidth_mbit = c->latency_ms = -1;
    c->default_input_mb = 1.0;
    c->default_concurrency = 5;
    c->log_level = FG_LOG_INFO;
    const char *data = fg_data_dir();
    for (size_t i = 0; i < N_DATA_DEFAULTS; i++)
        set_path((char *)c + data_defaults[i].off, FIELD_SIZE, data, data_defaults[i].file);
    set_path(c->images_dir, sizeof c->images_dir, data, "/images");
    snprintf(c->results_dir, sizeof c->results_dir, "results");
}

/* ---- numbers and lists: env, flags and the CLI's lists ---------------- */

/* strtol/strtod accept leading spaces and stop at the first bad byte: the
 * checks below insist that the whole text is the number, so "5x", " 5" and
 * "1MB" are refused rather than read as 5 or 1. */
static int scheduler_known(const char *name)
{
    for (int i = 0; fg_sched_names[i]; i++)
        if (!strcmp(name, fg_sched_names[i])) return 1;
    return 0;
}

/* Adds a scheduler to a list being built; `where` prefixes errors. */
static int add_scheduler(char (*list)[32], int *n, const char *name, const char *where, fg_err *err)
{
    if (!scheduler_known(name))
        return fg_err_set(err, "%s: unknown scheduler '%s' (known: ours, faaspr, palette, round_robin)",
                          where, name);
    for (int i = 0; i < *n; i++)
        if (!strcmp(list[i], name))
            return fg_err_set(err, "%s: scheduler '%s' listed twice", where, name);
    if (*n >= FG_MAX_SCHEDULERS)
        return fg_err_set(err, "%s: more than %d schedulers", where, FG_MAX_SCHEDULERS);
    snprintf(list[(*n)++], 32, "%s", name);
    return 0;
}

static int parse_log_level(const char *s, fg_log_level *out)
{
    static const char *const names[] = {"error", "warn", "info", "debug"};
    for (int i = 0; i < 4; i++)
        if (!strcasecmp(s, names[i])) {
            *out = (fg_log_level)i;
            return 0;
        }
    if (!strcasecmp(s, "warning")) {
        *out = FG_LOG_WARN;
        return 0;
    }
    return -1;
}

/* ---- environment ------------------------------------------------------ */

static const char *env(const char *name)
{
    const char *v = getenv(name);
    return v && *v ? v : NULL;
}

static int env_path(const char *name, char *dst, size_t size, fg_err *err)
{
    const char *v = env(name);
    if (!v) return 0;
    if (strlen(v) >= size)
        return fg_err_set(err, "%s: path longer than %zu bytes", name, size - 1);
    snprintf(dst, size, "%s", v);
    return 0;
}

typedef struct sched_list { char names[FG_MAX_SCHEDULERS][32]; int n; } sched_list;

static int sched_item(const char *what, const char *item, int i, void *ctx, fg_err *err)
{
    (void)i;
    sched_list *l = ctx;
    return add_scheduler(l->names, &l->n, item, what, err);
}

int fg_config_set_schedulers(fg_run_config *c, const char *what, const char *list, fg_err *err)
{
    sched_list l = {.n = 0};
    if (fg_parse_list(what, list, FG_MAX_SCHEDULERS, sched_item, &l, err) < 0) return -1;
    memcpy(c->schedulers, l.names, sizeof l.names);
    c->n_schedulers = l.n;
    return 0;
}

int fg_config_parse_inconclusive(const char *what, const char *value, int *pass, fg_err *err)
{
    if (!strcmp(value, "fail")) *pass = 0;
    else if (!strcmp(value, "pass")) *pass = 1;
    else return fg_err_set(err, "%s: expected fail or pass, got '%.100s'", what, value);
    return 0;
}

int fg_config_apply_env(fg_run_config *out, fg_err *err)
{
    fg_run_config next = *out, *c = &next;   /* all or nothing */
    const char *v;
    if ((v = env("LOG_LEVEL")) && parse_log_level(v, &c->log_level))
        return fg_err_set(err, "LOG_LEVEL: expected error, warn, info or debug, got '%.100s'", v);
    if ((v = env("DEFAULT_INPUT_SIZE")) &&
        fg_parse_double("DEFAULT_INPUT_SIZE (MB)", v, FG_MIN_POSITIVE, FG_MAX_INPUT_MB,
                        &c->default_input_mb, err))
        return -1;
    if ((v = env("DEFAULT_CONCURRENCY")) &&
        fg_parse_int("DEFAULT_CONCURRENCY", v, 1, FG_MAX_CONCURRENCY, &c->default_concurrency, err))
        return -1;
    if ((v = env("DEFAULT_REQUESTS")) &&
        fg_parse_int("DEFAULT_REQUESTS", v, 1, FG_MAX_REQUESTS, &c->default_requests, err))
        return -1;
    if ((v = env("FLOWGATE_REQUEST_SCALE")) &&
        fg_parse_double("FLOWGATE_REQUEST_SCALE", v, FG_MIN_POSITIVE, 1000, &c->request_scale, err))
        return -1;
    if ((v = env("FLOWGATE_SCHEDULERS")) && fg_config_set_schedulers(c, "FLOWGATE_SCHEDULERS", v, err))
        return -1;
    if ((v = env("FLOWGATE_INCONCLUSIVE")) &&
        fg_config_parse_inconclusive("FLOWGATE_INCONCLUSIVE", v, &c->inconclusive_pass, err))
        return -1;
    if (env_path("FLOWGATE_ENDPOINTS", c->endpoints, sizeof c->endpoints, err) ||
        env_path("FLOWGATE_RESULTS_DIR", c->results_dir, sizeof c->results_dir, err))
        return -1;
    *out = next;
    return 0;
}

/* ---- categories ------------------------------------------------------- */

/* Reads a JSON array of numbers into out[]; integers only when `integral`. */
static int number_array(const cJSON *arr, const char *where, int integral, double lo, double hi,
                        double *out, int *n_out, fg_err *err)
{
    if (!cJSON_IsArray(arr)) return fg_err_set(err, "%s: expected an array of numbers", where);
    int n = cJSON_GetArraySize(arr);
    if (n == 0) return fg_err_set(err, "%s: empty", where);
    if (n > FG_MAX_CELLS_AXIS)
        return fg_err_set(err, "%s: %d values, over the limit of %d", where, n, FG_MAX_CELLS_AXIS);
    int i = 0;
    const cJSON *x;
    cJSON_ArrayForEach(x, arr) {
        double v = cJSON_IsNumber(x) ? x->valuedouble : NAN;
        if (!(v >= lo && v <= hi) || (integral && v != floor(v))) {
            char *text = cJSON_PrintUnformatted(x);
            fg_err_set(err, "%s[%d]: expected %s from %g to %g, got %s", where, i,
                       integral ? "an integer" : "a number", lo, hi, text ? text : "?");
            free(text);
            return -1;
        }
        out[i++] = v;
    }
    *n_out = n;
    return 0;
}

static int set_sizes(fg_run_config *c, const cJSON *arr, const char *where, fg_err *err)
{
    double v[FG_MAX_CELLS_AXIS];
    int n;
    if (number_array(arr, where, 0, FG_MIN_POSITIVE, FG_MAX_INPUT_MB, v, &n, err)) return -1;
    memcpy(c->sizes_mb, v, sizeof v[0] * (size_t)n);
    c->n_sizes = n;
    return 0;
}

static int set_concurrency(fg_run_config *c, const cJSON *arr, const char *where, fg_err *err)
{
    double v[FG_MAX_CELLS_AXIS];
    int n;
    if (number_array(arr, where, 1, 1, FG_MAX_CONCURRENCY, v, &n, err)) return -1;
    for (int i = 0; i < n; i++) c->concurrency[i] = (int)v[i];
    c->n_concurrency = n;
    return 0;
}

/* A category's "cells": [[size_mb, concurrency], ...], distinct pairs. The
 * axes become the distinct values, in order of first use, so whatever
 * reads them (labels, body limits) sees every size and concurrency. */
static int set_cells(fg_run_config *c, const cJSON *arr, const char *where, fg_err *err)
{
    if (!cJSON_IsArray(arr) || cJSON_GetArraySize(arr) == 0)
        return fg_err_set(err, "%s: expected a non-empty array of [size_mb, concurrency] pairs", where);
    if (cJSON_GetArraySize(arr) > FG_MAX_CELLS)
        return fg_err_set(err, "%s: %d cells, over the limit of %d", where,
                          cJSON_GetArraySize(arr), FG_MAX_CELLS);
    fg_run_config next = *c;
    next.n_cells = next.n_sizes = next.n_concurrency = 0;
    const cJSON *pair;
    int i = 0;
    cJSON_ArrayForEach(pair, arr) {
        const cJSON *mb = cJSON_GetArrayItem(pair, 0), *conc = cJSON_GetArrayItem(pair, 1);
        double size = cJSON_IsNumber(mb) ? mb->valuedouble : NAN;
        double k = cJSON_IsNumber(conc) ? conc->valuedouble : NAN;
        if (!cJSON_IsArray(pair) || cJSON_GetArraySize(pair) != 2 ||
            !(size >= FG_MIN_POSITIVE && size <= FG_MAX_INPUT_MB) ||
            !(k >= 1 && k <= FG_MAX_CONCURRENCY) || k != floor(k))
            return fg_err_set(err, "%s[%d]: expected [size_mb %g..%g, concurrency 1..%d]", where, i,
                              FG_MIN_POSITIVE, FG_MAX_INPUT_MB, FG_MAX_CONCURRENCY);
        fg_cell cell = {size, (int)k};
        int seen_size = 0, seen_conc = 0;
        for (int j = 0; j < next.n_cells; j++)
            if (next.cells[j].size_mb == size && next.cells[j].concurrency == cell.concurrency)
                return fg_err_set(err, "%s[%d]: cell [%g, %d] listed twice", where, i, size,
                                  cell.concurrency);
        for (int j = 0; j < next.n_sizes; j++) seen_size |= next.sizes_mb[j] == size;
        for (int j = 0; j < next.n_concurrency; j++) seen_conc |= next.concurrency[j] == cell.concurrency;
        if ((!seen_size && next.n_sizes == FG_MAX_CELLS_AXIS) ||
            (!seen_conc && next.n_concurrency == FG_MAX_CELLS_AXIS))
            return fg_err_set(err, "%s: more than %d distinct sizes or concurrencies", where,
                              FG_MAX_CELLS_AXIS);
        if (!seen_size) next.sizes_mb[next.n_sizes++] = size;
        if (!seen_conc) next.concurrency[next.n_concurrency++] = cell.concurrency;
        next.cells[next.n_cells++] = cell;
        i++;
    }
    *c = next;
    return 0;
}

int fg_config_apply_category(fg_run_config *c, const char *name, fg_err *err)
{
    /* "single": one cell at DEFAULT_INPUT_SIZE x DEFAULT_CONCURRENCY — the
     * reference system's default experiment, set from the environment. */
    /* "scenarios": the matrix comes from data/scenarios.json (scenarios.h). */
    if (name && !strcmp(name, "scenarios")) {
        snprintf(c->category, sizeof c->category, "scenarios");
        c->scale_prefix = 0;
        return 0;
    }
    if (name && !strcmp(name, "single")) {
        snprintf(c->category, sizeof c->category, "single");
        c->sizes_mb[0] = c->default_input_mb;
        c->n_sizes = 1;
        c->concurrency[0] = c->default_concurrency;
        c->n_concurrency = 1;
        c->n_cells = 0;
        c->scale_prefix = 0;
        return 0;
    }
    char path[4096];
    snprintf(path, sizeof path, "%s/categories.json", fg_data_dir());
    cJSON *root = fg_json_load_object(path, 1 << 20, err);
    if (!root) return -1;
    const cJSON *cat = NULL;
    char known[256] = "";
    for (const cJSON *k = root->child; k; k = k->next) {
        if (k->string[0] == '_') continue;
        if (name && !strcmp(k->string, name)) cat = k;
        strncat(known, known[0] ? ", " : "", sizeof known - strlen(known) - 1);
        strncat(known, k->string, sizeof known - strlen(known) - 1);
    }
    int rc = 0;
    char where[4200];
    if (!cat) {
        rc = fg_err_set(err, "unknown category '%s' (known: %s, single)", name ? name : "", known);
    } else if (!cJSON_IsObject(cat)) {
        rc = fg_err_set(err, "%s: %s: expected an object", path, name);
    } else if (strlen(name) >= sizeof c->category) {
        rc = fg_err_set(err, "%s: category name '%s' too long", path, name);
    } else {
        fg_run_config next = *c;   /* all or nothing */
        const cJSON *scale = cJSON_GetObjectItemCaseSensitive(cat, "scale");
        const cJSON *cells = cJSON_GetObjectItemCaseSensitive(cat, "cells");
        next.n_cells = 0;
        if (cells && (cJSON_GetObjectItemCaseSensitive(cat, "input_sizes_mb") ||
                      cJSON_GetObjectItemCaseSensitive(cat, "concurrency"))) {
            rc = fg_err_set(err, "%s: %s: either cells or input_sizes_mb x concurrency, not both",
                            path, name);
        } else if (cells) {
            snprintf(where, sizeof where, "%s: %s.cells", path, name);
            rc = set_cells(&next, cells, where, err);
        } else {
            snprintf(where, sizeof where, "%s: %s.input_sizes_mb", path, name);
            rc = set_sizes(&next, cJSON_GetObjectItemCaseSensitive(cat, "input_sizes_mb"), where, err);
            snprintf(where, sizeof where, "%s: %s.concurrency", path, name);
            if (!rc) rc = set_concurrency(&next, cJSON_GetObjectItemCaseSensitive(cat, "concurrency"), where, err);
        }
        if (!rc && scale && !cJSON_IsBool(scale))
            rc = fg_err_set(err, "%s: %s.scale: expected true or false", path, name);
        if (!rc) {
            snprintf(next.category, sizeof next.category, "%s", name);
            next.scale_prefix = cJSON_IsTrue(scale);
            *c = next;
        }
    }
    cJSON_Delete(root);
    return rc;
}

/* ---- config file ------------------------------------------------------ */

typedef struct file_ctx {
    const char *path;
    fg_err *err;
} file_ctx;

__attribute__((format(printf, 3, 4)))
static int key_fail(file_ctx *f, const char *key, const char *fmt, ...)
{
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return fg_err_set(f->err, "%s: %s: %s", f->path, key, msg);
}

static int file_int(file_ctx *f, const cJSON *v, long lo, long hi, int *out)
{
    if (!cJSON_IsNumber(v) || v->valuedouble != floor(v->valuedouble) ||
        v->valuedouble < (double)lo || v->valuedouble > (double)hi)
        return key_fail(f, v->string, "expected an integer from %ld to %ld", lo, hi);
    *out = (int)v->valuedouble;
    return 0;
}

static int file_num(file_ctx *f, const cJSON *v, double lo, double hi, double *out)
{
    if (!cJSON_IsNumber(v) || !(v->valuedouble >= lo && v->valuedouble <= hi))
        return key_fail(f, v->string, "expected a number from %g to %g", lo, hi);
    *out = v->valuedouble;
    return 0;
}

static int file_str(file_ctx *f, const cJSON *v, char *dst, size_t size)
{
    if (!cJSON_IsString(v)) return key_fail(f, v->string, "expected a string");
    if (strlen(v->valuestring) >= size)
        return key_fail(f, v->string, "longer than %zu bytes", size - 1);
    snprintf(dst, size, "%s", v->valuestring);
    return 0;
}

static int apply_key(fg_run_config *c, file_ctx *f, const cJSON *v)
{
    const char *k = v->string;
    char where[4200];
    snprintf(where, sizeof where, "%s: %s", f->path, k);
    if (!strcmp(k, "category")) return 0;   /* applied first, see below */
    /* An axis given explicitly makes the matrix a cross product again. */
    if (!strcmp(k, "input_sizes_mb")) return c->n_cells = 0, set_sizes(c, v, where, f->err);
    if (!strcmp(k, "concurrency")) return c->n_cells = 0, set_concurrency(c, v, where, f->err);
    if (!strcmp(k, "data_dir")) {
        char dir[sizeof c->data_dir];
        if (file_str(f, v, dir, sizeof dir)) return -1;
        return fg_config_set_data_dir(c, where, dir, f->err);
    }
    if (!strcmp(k, "schedulers")) {
        if (!cJSON_IsArray(v) || cJSON_GetArraySize(v) == 0)
            return key_fail(f, k, "expected a non-empty array of scheduler names");
        char list[FG_MAX_SCHEDULERS][32];
        int n = 0;
        const cJSON *s;
        cJSON_ArrayForEach(s, v) {
            if (!cJSON_IsString(s)) return key_fail(f, k, "expected scheduler names (strings)");
            if (add_scheduler(list, &n, s->valuestring, where, f->err)) return -1;
        }
        memcpy(c->schedulers, list, sizeof list);
        c->n_schedulers = n;
        return 0;
    }
    if (!strcmp(k, "requests")) {
        /* 0 used to mean "the default" silently; omitting the key says that. */
        if (cJSON_IsNumber(v) && v->valuedouble == 0)
            return key_fail(f, k, "0 measures nothing; omit the key for the default "
                            "(max(DEFAULT_REQUESTS, 3 x concurrency))");
        return file_int(f, v, 1, FG_MAX_REQUESTS, &c->requests);
    }
    if (!strcmp(k, "warmup")) return file_int(f, v, 0, FG_MAX_REQUESTS, &c->warmup);
    if (!strcmp(k, "retries")) return file_int(f, v, 0, 10, &c->retries);
    if (!strcmp(k, "repeats")) return file_int(f, v, 1, 1000, &c->repeats);
    if (!strcmp(k, "warmup_s")) return file_num(f, v, 0, FG_MAX_WARMUP_S, &c->warmup_s);
    if (!strcmp(k, "max_inflight")) return file_int(f, v, 0, FG_MAX_INFLIGHT, &c->max_inflight);
    if (!strcmp(k, "rate_rps")) return file_num(f, v, 0, 1e6, &c->rate_rps);
    if (!strcmp(k, "duration_s")) return file_num(f, v, 0, 86400, &c->duration_s);
    if (!strcmp(k, "spin_us")) return file_num(f, v, 0, FG_MAX_SPIN_US, &c->spin_us);
    if (!strcmp(k, "timeout_s")) {
        if (file_num(f, v, 0, 86400, &c->timeout_s)) return -1;
        return c->timeout_s > 0 ? 0 : key_fail(f, k, "expected a number > 0");
    }
    if (!strcmp(k, "arrival")) {
        if (!cJSON_IsString(v) || fg_arrival_kind_parse(v->valuestring, &c->arrival))
            return key_fail(f, k, "expected \"constant\" or \"poisson\"");
        return 0;
    }
    if (!strcmp(k, "transport")) {
        if (!cJSON_IsString(v) || fg_transport_parse(v->valuestring, &c->transport))
            return key_fail(f, k, "expected \"auto\", \"direct\" or \"libcurl\"");
        return 0;
    }
    if (!strcmp(k, "seed")) {
        double seed = 0;
        if (file_num(f, v, 0, FG_MAX_SEED, &seed)) return -1;
        if (seed != floor(seed)) return key_fail(f, k, "expected an integer");
        c->seed = (uint64_t)seed;
        return 0;
    }
    if (!strcmp(k, "bandwidth_mbit"))
        return file_num(f, v, 0, FG_MAX_BANDWIDTH_MBIT, &c->bandwidth_mbit);
    if (!strcmp(k, "latency_ms")) return file_num(f, v, 0, FG_MAX_LATENCY_MS, &c->latency_ms);
    if (!strcmp(k, "inline")) {
        if (!cJSON_IsBool(v)) return key_fail(f, k, "expected true or false");
        c->inline_data = cJSON_IsTrue(v);
        return 0;
    }
    if (!strcmp(k, "inconclusive")) {
        if (!cJSON_IsString(v) ||
            fg_config_parse_inconclusive(where, v->valuestring, &c->inconclusive_pass, NULL))
            return key_fail(f, k, "expected \"fail\" or \"pass\"");
        return 0;
    }
    if (!strcmp(k, "variant")) {
        char names[96];
        if (!cJSON_IsString(v) || fg_variant_parse(v->valuestring, &c->variant))
            return key_fail(f, k, "expected one of %s", fg_variant_list(", ", names, sizeof names));
        return 0;
    }
    static const struct { const char *key; size_t off; } paths[] = {
        {"endpoints", offsetof(fg_run_config, endpoints)},
        {"nodes_file", offsetof(fg_run_config, nodes_file)},
        {"nodes_profile", offsetof(fg_run_config, nodes_file)},   /* the older spelling */
        {"workflow", offsetof(fg_run_config, workflow)},
        {"profile", offsetof(fg_run_config, profile)},
        {"thresholds", offsetof(fg_run_config, thresholds)},
        {"results_dir", offsetof(fg_run_config, results_dir)},
        {"images_dir", offsetof(fg_run_config, images_dir)},
        {"server_bin", offsetof(fg_run_config, server_bin)},
    };
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++)
        if (!strcmp(k, paths[i].key))
            return file_str(f, v, (char *)c + paths[i].off, sizeof c->endpoints);
    return key_fail(f, k, "unknown key (known: category, input_sizes_mb, concurrency, schedulers, "
                    "requests, warmup, warmup_s, max_inflight, rate_rps, duration_s, spin_us, arrival, seed, "
                    "bandwidth_mbit, latency_ms, timeout_s, transport, retries, inline, variant, repeats, inconclusive, endpoints, nodes_file, workflow, profile, "
                    "thresholds, results_dir, images_dir, server_bin, data_dir)");
}

int fg_config_apply_file(fg_run_config *c, const char *path, fg_err *err)
{
    cJSON *root = fg_json_load_object(path, 1 << 20, err);
    if (!root) return -1;
    file_ctx f = {.path = path, .err = err};
    fg_run_config next = *c;   /* all or nothing */
    int rc = 0;
    /* The category sets the matrix; explicit axes in the same file refine it. */
    const cJSON *cat = rc ? NULL : cJSON_GetObjectItemCaseSensitive(root, "category");
    if (cat) {
        if (!cJSON_IsString(cat)) rc = key_fail(&f, "category", "expected a string");
        else if (fg_config_apply_category(&next, cat->valuestring, err)) {
            char inner[sizeof err->msg];
            snprintf(inner, sizeof inner, "%s", err ? err->msg : "");
            rc = fg_err_set(err, "%s: category: %s", path, inner);
        }
    }
    /* "nodes_profile" is the older spelling of "nodes_file": one of them. */
    if (!rc && cJSON_GetObjectItemCaseSensitive(root, "nodes_file") &&
        cJSON_GetObjectItemCaseSensitive(root, "nodes_profile"))
        rc = key_fail(&f, "nodes_profile", "the older spelling of nodes_file, which is set too: "
                      "keep one");
    for (const cJSON *v = rc ? NULL : root->child; v && !rc; v = v->next)
        if (v->string[0] != '_') rc = apply_key(&next, &f, v);
    /* Open loop takes both; either alone (or "rate_rps": 0 beside a
     * duration) would silently run a closed loop or fail later. */
    if (!rc && next.rate_rps > 0 && next.duration_s <= 0)
        rc = fg_err_set(err, "%s: rate_rps: open loop needs duration_s > 0 as well", path);
    if (!rc && next.duration_s > 0 && !(next.rate_rps > 0))
        rc = fg_err_set(err, "%s: duration_s: needs rate_rps > 0 (open loop); a closed loop runs "
                        "a number of requests, not a duration", path);
    if (!rc) *c = next;
    cJSON_Delete(root);
    return rc;
}

/* ---- checks across layers --------------------------------------------- */


/* The JSON around the base64 of an upload body (payload.c). */
#define UPLOAD_FRAME_BYTES (sizeof "{\"img_b64\":\"\",\"by_ref\":false}" - 1)
#define IMAGEGEN_TOLERANCE 1.03   /* imagegen: a PNG within +-3 % of its size */

double fg_upload_body_max_bytes(double size_mb)
{
    double png = ceil(size_mb * FG_MB * IMAGEGEN_TOLERANCE);
    return 4.0 * ceil(png / 3.0) + (double)UPLOAD_FRAME_BYTES;
}

int fg_config_body_limit(const fg_run_config *c, double *limit_bytes, char *source,
                         size_t source_size, fg_err *err)
{
    *limit_bytes = FG_DEFAULT_MAX_BODY_MB * FG_MB;
    if (c->endpoints[0]) {
        /* Separately started servers do not tell their limit up front;
         * 64 MiB is flowgate-functions' default. */
        snprintf(source, source_size, "the default for endpoints of unknown limit");
        return 0;
    }
    char path[1024];
    cJSON *root = fg_json_load_object(fg_config_nodes_file_path(c, path, sizeof path), 1 << 20, err);
    if (!root) return -1;
    const cJSON *mb = cJSON_GetObjectItemCaseSensitive(root, "max_body_mb");
    if (cJSON_IsNumber(mb) && mb->valuedouble > 0) {
        *limit_bytes = mb->valuedouble * FG_MB;
        snprintf(source, source_size, "max_body_mb in %s", path);
    } else {
        snprintf(source, source_size, "the server's default; %s sets no max_body_mb", path);
    }
    cJSON_Delete(root);
    return 0;
}

int fg_config_check(const fg_run_config *c, fg_err *err)
{
    if (c->rate_rps > 0 && !(c->duration_s > 0))
        return fg_err_set(err, "rate_rps %g (--rate): open loop needs duration_s (--duration) "
                          "as well", c->rate_rps);
    if (c->duration_s > 0 && !(c->rate_rps > 0))
        return fg_err_set(err, "duration_s %g (--duration) needs rate_rps > 0 (--rate): a "
                          "closed loop runs a number of requests, not a duration", c->duration_s);
    if (c->max_inflight > 0 && !(c->rate_rps > 0))
        return fg_err_set(err, "max_inflight %d (--max-inflight) caps an open loop only; a "
                          "closed loop keeps exactly its concurrency in flight (set rate_rps and "
                          "duration_s, or drop it)", c->max_inflight);
    if (c->spin_us > 0 && !(c->rate_rps > 0))
        return fg_err_set(err, "spin_us %g (--spin-us) paces an open loop only; a closed loop "
                          "sends when an answer comes (set rate_rps and duration_s, or drop it)",
                          c->spin_us);
    /* A closed loop has no schedule to split: N drivers each holding C/N in
     * flight is another experiment (the system sees the same C, but each
     * driver's measured N and drain differ, and their windows do not add
     * up to one closed loop's). Refused rather than silently changed. */
    if (c->segment_count > 0 && !(c->rate_rps > 0))
        return fg_err_set(err, "segment %d/%d (--segment) splits an open loop's schedule: set "
                          "rate_rps and duration_s (--rate, --duration); a closed loop has no "
                          "schedule to split", c->segment_index, c->segment_count);
    if (c->arrival == FG_ARRIVAL_POISSON && !(c->rate_rps > 0))
        return fg_err_set(err, "arrival poisson (--arrival) shapes an open loop only: set "
                          "rate_rps and duration_s (--rate, --duration)");
    if ((c->bandwidth_mbit >= 0 || c->latency_ms >= 0) && c->endpoints[0])
        return fg_err_set(err, "bandwidth_mbit/latency_ms (--bandwidth-mbit, --latency-ms) set "
                          "the embedded server's links, but endpoints are set (%s)", c->endpoints);
    if (c->server_bin[0] && c->endpoints[0])
        return fg_err_set(err, "server_bin '%s' (--server-bin) is only used when flowgate starts "
                          "the server itself, but endpoints are set (%s)", c->server_bin,
                          c->endpoints);
    struct stat st;
    if (c->data_dir[0] && (stat(c->data_dir, &st) != 0 || !S_ISDIR(st.st_mode)))
        return fg_err_set(err, "data_dir '%s' (--data-dir): not a directory", c->data_dir);
    double limit;
    char source[1200];
    fg_err why;
    /* An unreadable nodes file is reported by the server start, with its path. */
    if (fg_config_body_limit(c, &limit, source, sizeof source, &why) != 0) return 0;
    for (int i = 0; i < c->n_sizes; i++) {
        double body = fg_upload_body_max_bytes(c->sizes_mb[i]);
        if (body <= limit) continue;
        /* The largest size that fits, rounded down to 0.1 MB. */
        double fit = floor((limit - (double)UPLOAD_FRAME_BYTES - 4) * 0.75 / IMAGEGEN_TOLERANCE /
                           FG_MB * 10) / 10;
        char mb[32];
        fg_format_mb(c->sizes_mb[i], mb, sizeof mb);
        return fg_err_set(err, "input size %s MB can never be sent: its PNG (up to %.1f MiB, "
                          "+-3 %%) base64-encoded is an upload body of up to %.1f MiB, over the "
                          "server's %.0f MiB body limit (%s); sizes up to %.1f MB fit",
                          mb, c->sizes_mb[i] * IMAGEGEN_TOLERANCE, body / FG_MB, limit / FG_MB, source, fit);
    }
    return 0;
}

/* ---- derived values --------------------------------------------------- */

int fg_config_requests_for(const fg_run_config *c, int concurrency)
{
    int explicit_count = c->requests > 0;
    int base = explicit_count ? c->requests
             : (c->default_requests > 3 * concurrency ? c->default_requests : 3 * concurrency);
    double scale = c->request_scale > 0 ? c->request_scale : 1.0;
    /* The epsilon keeps 10 * 0.3 from becoming 4. */
    double scaled = ceil((double)base * scale - 1e-9);
    /* Scaling down (CI) never leaves fewer requests than the concurrency,
     * so every level is really exercised, nor (unless the user chose the
     * count) fewer than p95 needs; an explicit smaller count stays. */
    int floor_requests = base < concurrency ? base : concurrency;
    if (!explicit_count) {
        floor_requests = concurrency;
        if (floor_requests < FG_MIN_CELL_REQUESTS) floor_requests = FG_MIN_CELL_REQUESTS;
    }
    if (floor_requests < 1) floor_requests = 1;
    if (scaled < floor_requests) scaled = floor_requests;
    return scaled > FG_MAX_REQUESTS ? FG_MAX_REQUESTS : (int)scaled;
}


