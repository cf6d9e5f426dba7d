/* faults.c — the faults block and a node's fault state (faults.h has the
 * format and the kinds).
 *
 * The decision is a pure function of the block, the seed, the node's name
 * and the order of the invocations: the generator is a counter mixed by
 * splitmix64 (draw k of a node is mix(base + k)), every rate draws once per
 * invocation and every counter counts each one, whichever fires first. So
 * two runs that send the same invocations in the same order see the same
 * faults on the same calls, and one entry's fault never shifts another's.
 * State and counts sit under one lock per node, taken once per invocation.
 *
 * Waiting (a hang's hold, a drip's pacing) polls a pipe the server writes
 * once when it stops, so no held request delays a stop, and the client's
 * socket for a hang-up, so a client that gives up frees its thread. */
#define _GNU_SOURCE
#include "faults.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "catalog.h"
#include "jsonnum.h"

static const char *const kind_names[FG_FAULT_KINDS] = {
    [FG_FAULT_NONE] = "none", [FG_FAULT_ERROR_500] = "error_500",
    [FG_FAULT_ERROR_STATUS] = "error_status", [FG_FAULT_HANG] = "hang",
    [FG_FAULT_DRIP] = "drip", [FG_FAULT_WRONG_TYPE] = "wrong_type",
    [FG_FAULT_RESET] = "reset", [FG_FAULT_DOWN] = "down",
};

#define KIND_LIST "error_500, error_status, hang, drip, wrong_type, reset"

const char *fg_fault_kind_name(int kind)
{
    return kind >= 0 && kind < FG_FAULT_KINDS ? kind_names[kind] : "?";
}

/* --- the block --- */

static int parse_fault(const cJSON *o, const char *where, fg_fault *out, fg_err *err)
{
    if (!cJSON_IsObject(o))
        return fg_err_set(err, "%s: must be an object {\"kind\": K, \"rate\": R or \"every\": N}",
                          where);
    const cJSON *kind = cJSON_GetObjectItemCaseSensitive(o, "kind");
    if (!kind) return fg_err_set(err, "%s: missing \"kind\" (" KIND_LIST ")", where);
    int k = FG_FAULT_NONE;
    for (int i = FG_FAULT_ERROR_500; i <= FG_FAULT_RESET && cJSON_IsString(kind); i++)
        if (!strcmp(kind->valuestring, kind_names[i])) k = i;
    if (k == FG_FAULT_NONE)
        return fg_err_set(err, "%s: unknown kind \"%.32s\" (" KIND_LIST ")", where,
                          cJSON_IsString(kind) ? kind->valuestring : "?");
    for (const cJSON *key = o->child; key; key = key->next) {
        const char *s = key->string;
        if (!strcmp(s, "kind") || !strcmp(s, "rate") || !strcmp(s, "every") ||
            (k == FG_FAULT_HANG && !strcmp(s, "hang_ms")) ||
            (k == FG_FAULT_DRIP && !strcmp(s, "bytes_per_s")))
            continue;
        if (!strcmp(s, "hang_ms") || !strcmp(s, "bytes_per_s"))
            return fg_err_set(err, "%s: \"%s\" belongs to kind \"%s\", not \"%s\"", where, s,
                              s[0] == 'h' ? "hang" : "drip", kind_names[k]);
        return fg_err_set(err, "%s: unknown key \"%.32s\" (kind, rate, every, hang_ms, "
                          "bytes_per_s)", where, s);
    }
    double rate, every;
    fg_fault f = {.kind = k};
    if (fg_json_opt_number(o, "rate", 0, 1, &rate, where, err) ||
        fg_json_opt_int(o, "every", 1, FG_FAULT_EVERY_MAX, &every, where, err) ||
        fg_json_get_number(o, "hang_ms", FG_FAULT_HANG_MS_DEFAULT, 1, FG_FAULT_HANG_MS_MAX,
                           &f.hang_ms, where, err) ||
        fg_json_get_number(o, "bytes_per_s", FG_FAULT_DRIP_DEFAULT, 1, 1e9, &f.bytes_per_s,
                           where, err))
        return -1;
    if (isnan(rate) == isnan(every))
        return fg_err_set(err, "%s: give either \"rate\" (in [0, 1]) or \"every\" (an integer "
                          "N: every Nth invocation)", where);
    f.rate = isnan(rate) ? 0 : rate;
    f.every = isnan(every) ? 0 : (int)every;
    *out = f;
    return 0;
}

static int parse_list(const cJSON *v, const char *where, const char *name, fg_fault_list *l,
                      fg_err *err)
{
    if (!cJSON_IsArray(v) || cJSON_GetArraySize(v) > FG_FAULTS_PER_FUNCTION)
        return fg_err_set(err, "%s: \"functions\": \"%.64s\" must be an array of at most %d "
                          "faults", where, name, FG_FAULTS_PER_FUNCTION);
    l->n = 0;
    const cJSON *o;
    cJSON_ArrayForEach(o, v) {
        char at[320];
        snprintf(at, sizeof at, "%s: \"functions\": \"%.64s\"[%d]", where, name, l->n);
        if (parse_fault(o, at, &l->f[l->n], err) != 0) return -1;
        l->n++;
    }
    return 0;
}

static int parse_functions(const cJSON *v, const char *where, fg_fault_spec *s, fg_err *err)
{
    if (!v) return 0;
    if (!cJSON_IsObject(v))
        return fg_err_set(err, "%s: \"functions\" must be an object of function names (or "
                          "\"*\") to lists of faults", where);
    for (const cJSON *k = v->child; k; k = k->next) {
        int *has = &s->has_all;
        fg_fault_list *l = &s->all;
        if (strcmp(k->string, "*") != 0) {
            int fn = fg_catalog_find(k->string);
            if (fn < 0)
                return fg_err_set(err, "%s: \"functions\": unknown function \"%.64s\" (a name "
                                  "/invoke/ takes, e.g. recognizer__extract, or \"*\")", where,
                                  k->string);
            has = &s->has_fn[fn];
            l = &s->fn[fn];
        }
        if (*has)
            return fg_err_set(err, "%s: \"functions\": \"%.64s\" names a function given "
                              "before", where, k->string);
        if (parse_list(k, where, k->string, l, err) != 0) return -1;
        *has = 1;
    }
    return 0;
}

int fg_fault_spec_parse(const cJSON *v, const char *where, fg_fault_spec *s, fg_err *err)
{
    if (!v) return 0;
    fg_fault_spec out;
    memset(&out, 0, sizeof out);
    if (cJSON_IsNull(v)) {
        *s = out;
        return 0;
    }
    if (!cJSON_IsObject(v))
        return fg_err_set(err, "%s: must be null or an object {\"seed\", \"down_s\", "
                          "\"functions\"}", where);
    for (const cJSON *k = v->child; k; k = k->next)
        if (strcmp(k->string, "seed") && strcmp(k->string, "down_s") &&
            strcmp(k->string, "functions"))
            return fg_err_set(err, "%s: unknown key \"%.32s\" (seed, down_s, functions)", where,
                              k->string);
    if (fg_json_get_int(v, "seed", 1, 0, FG_MAX_SEED, &out.seed, where, err) ||
        fg_json_get_number(v, "down_s", 0, 0, FG_FAULT_DOWN_S_MAX, &out.down_s, where, err) ||
        parse_functions(cJSON_GetObjectItemCaseSensitive(v, "functions"), where, &out, err))
        return -1;
    out.set = 1;
    *s = out;
    return 0;
}

static cJSON *list_json(const fg_fault_list *l)
{
    cJSON *arr = cJSON_CreateArray();
    for (int i = 0; i < l->n; i++) {
        const fg_fault *f = &l->f[i];
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "kind", kind_names[f->kind]);
        if (f->every) cJSON_AddNumberToObject(o, "every", f->every);
        else cJSON_AddNumberToObject(o, "rate", f->rate);
        if (f->kind == FG_FAULT_HANG) cJSON_AddNumberToObject(o, "hang_ms", f->hang_ms);
        if (f->kind == FG_FAULT_DRIP) cJSON_AddNumberToObject(o, "bytes_per_s", f->bytes_per_s);
        cJSON_AddItemToArray(arr, o);
    }
    return arr;
}

cJSON *fg_fault_spec_json(const fg_fault_spec *s)
{
    if (!s->set) return cJSON_CreateNull();
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "seed", s->seed);
    cJSON_AddNumberToObject(o, "down_s", s->down_s);
    cJSON *fns = cJSON_AddObjectToObject(o, "functions");
    if (s->has_all) cJSON_AddItemToObject(fns, "*", list_json(&s->all));
    for (int i = 0; i < fg_catalog_count(); i++)
        if (s->has_fn[i]) cJSON_AddItemToObject(fns, fg_catalog_name(i), list_json(&s->fn[i]));
    return o;
}

/* --- at run time --- */

int fg_faults_init(fg_faults *f, const fg_fault_spec *spec, const char *node, fg_err *err)
{
    memset(f, 0, sizeof *f);
    f->wake[0] = f->wake[1] = -1;
    pthread_mutex_init(&f->mu, NULL);
    if (pipe2(f->wake, O_CLOEXEC | O_NONBLOCK) != 0) {
        f->wake[0] = f->wake[1] = -1;
        return fg_err_set(err, "%s: cannot create a pipe: %s", node, strerror(errno));
    }
    fg_faults_set(f, spec, node);
    return 0;
}

void fg_faults_destroy(fg_faults *f)
{
    for (int i = 0; i < 2; i++)
        if (f->wake[i] >= 0) close(f->wake[i]);
    f->wake[0] = f->wake[1] = -1;
    pthread_mutex_destroy(&f->mu);
}

/* FNV-1a: the node's name in the seed, so nodes draw different faults. */
static uint64_t name_hash(const char *s)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 0x100000001b3ull;
    return h;
}

void fg_faults_set(fg_faults *f, const fg_fault_spec *spec, const char *node)
{
    pthread_mutex_lock(&f->mu);
    f->spec = *spec;
    f->rng = fg_mix64((uint64_t)spec->seed) ^ name_hash(node);
    f->draws = 0;
    f->set_unix_ms = fg_now_unix_ms();
    f->down_until_ms = spec->down_s > 0 ? fg_now_mono_ms() + spec->down_s * 1000.0 : 0;
    memset(f->seen, 0, sizeof f->seen);
    memset(f->injected, 0, sizeof f->injected);
    f->refused_down = 0;
    pthread_mutex_unlock(&f->mu);
}

int fg_faults_set_json(fg_faults *f, const char *json, size_t len, const char *node,
                       fg_err *err)
{
    cJSON *v = cJSON_ParseWithLength(json, len);
    if (!v) return fg_err_set(err, "faults: the body is not JSON");
    fg_fault_spec spec;
    memset(&spec, 0, sizeof spec);
    int rc = fg_fault_spec_parse(v, "faults", &spec, err);
    cJSON_Delete(v);
    if (rc == 0) fg_faults_set(f, &spec, node);
    return rc;
}

int fg_faults_refuse_down(fg_faults *f, int fn)
{
    pthread_mutex_lock(&f->mu);
    int down = f->down_until_ms > 0 && fg_now_mono_ms() < f->down_until_ms;
    if (down) {
        f->refused_down++;
        if (fn >= 0 && fn < FG_MAX_FUNCTIONS) f->injected[fn][FG_FAULT_DOWN]++;
    }
    pthread_mutex_unlock(&f->mu);
    return down;
}

fg_fault fg_faults_pick(fg_faults *f, int fn)
{
    fg_fault out = {.kind = FG_FAULT_NONE};
    if (fn < 0 || fn >= FG_MAX_FUNCTIONS) return out;
    pthread_mutex_lock(&f->mu);
    const fg_fault_spec *s = &f->spec;
    const fg_fault_list *l = s->has_fn[fn] ? &s->fn[fn] : s->has_all ? &s->all : NULL;
    uint64_t seen = ++f->seen[fn];
    for (int i = 0; l && i < l->n; i++) {
        const fg_fault *c = &l->f[i];
        int fires;
        if (c->every) {
            fires = seen % (uint64_t)c->every == 0;
        } else {
            double u = (double)(fg_mix64(f->rng + f->draws++) >> 11) * 0x1p-53;
            fires = u < c->rate;
        }
        if (fires && out.kind == FG_FAULT_NONE) out = *c;
    }
    pthread_mutex_unlock(&f->mu);
    return out;
}

void fg_faults_count(fg_faults *f, int fn, int kind)
{
    if (fn < 0 || fn >= FG_MAX_FUNCTIONS || kind <= FG_FAULT_NONE || kind >= FG_FAULT_KINDS)
        return;
    pthread_mutex_lock(&f->mu);
    f->injected[fn][kind]++;
    pthread_mutex_unlock(&f->mu);
}

cJSON *fg_faults_json(fg_faults *f, int only)
{
    cJSON *o = cJSON_CreateObject();
    pthread_mutex_lock(&f->mu);
    cJSON_AddItemToObject(o, "faults", fg_fault_spec_json(&f->spec));
    double left = f->down_until_ms > 0 ? (f->down_until_ms - fg_now_mono_ms()) / 1000.0 : 0;
    cJSON_AddNumberToObject(o, "down_left_s", left > 0 ? left : 0);
    cJSON_AddNumberToObject(o, "set_unix_ms", f->set_unix_ms);
    cJSON *seen = cJSON_AddObjectToObject(o, "invocations");
    cJSON *inj = cJSON_AddObjectToObject(o, "injected");
    uint64_t total = 0;
    for (int i = 0; i < fg_catalog_count(); i++) {
        if (only >= 0 && i != only) continue;
        cJSON_AddNumberToObject(seen, fg_catalog_name(i), (double)f->seen[i]);
        cJSON *kinds = cJSON_AddObjectToObject(inj, fg_catalog_name(i));
        for (int k = FG_FAULT_NONE + 1; k < FG_FAULT_KINDS; k++)
            if (f->injected[i][k]) {
                cJSON_AddNumberToObject(kinds, kind_names[k], (double)f->injected[i][k]);
                total += f->injected[i][k];
            }
    }
    cJSON_AddNumberToObject(o, "injected_total", (double)total);
    cJSON_AddNumberToObject(o, "refused_down", (double)f->refused_down);
    pthread_mutex_unlock(&f->mu);
    return o;
}

void fg_faults_describe(cJSON *o, fg_faults *f)
{
    pthread_mutex_lock(&f->mu);
    uint64_t total = 0;
    for (int i = 0; i < FG_MAX_FUNCTIONS; i++)
        for (int k = FG_FAULT_NONE + 1; k < FG_FAULT_KINDS; k++) total += f->injected[i][k];
    cJSON_AddItemToObject(o, "faults", fg_fault_spec_json(&f->spec));
    cJSON_AddNumberToObject(o, "faults_injected", (double)total);
    pthread_mutex_unlock(&f->mu);
}

int fg_faults_wait(fg_faults *f, int fd, double ms)
{
    double end = fg_now_mono_ms() + ms;
    for (;;) {
        double left = end - fg_now_mono_ms();
        if (left <= 0) return 0;
        struct pollfd p[2] = {{.fd = f->wake[0], .events = POLLIN},
                              {.fd = fd, .events = POLLRDHUP}};
        int n = poll(p, fd >= 0 ? 2 : 1, (int)ceil(fmin(left, 1e9)));
        if (n > 0 || (n < 0 && errno != EINTR)) return 1;
    }
}

void fg_faults_stop(fg_faults *f)
{
    if (f->wake[1] >= 0) {
        ssize_t w = write(f->wake[1], "x", 1);
        (void)w;
    }
}
