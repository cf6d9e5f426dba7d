/* workflow.c — loads a workflow DAG (format in workflow.h) and validates
 * everything the orchestrator relies on, so that a broken file fails at
 * load time with one line naming the file and the element:
 *
 *   data/workflows/x.json: edges[2].to: unknown step 'recognizer__foo'
 *
 * Checks, in order: JSON shape and known keys (typos do not pass silently;
 * keys starting with '_' are comments), step ids (unique, plain names),
 * mappings ("in" reads "$inputs.x" or "$step.output" of a known output,
 * "out"/"blob_out" read "result.<path>", an "out" entry may declare its
 * type, and a blob_out output is a blob), edges (known steps, END only as
 * a target, fan-in and size limits), conditions (parsed by cond.c), then
 * the graph: no cycle, every step reachable (a step without incoming link
 * is an entry step and may read only $inputs), and every "$step.output"
 * produced by a step that has completed on every path to the reader. The
 * loader also records how many steps of one instance can be in flight at
 * once (max_parallel, for the driver's descriptor budget).
 * The list of steps is "steps", or "nodes" in older files (workflow.h):
 * errors name its elements by the key the file uses.
 * The payload is checked here as far as the file alone allows (kind, keys,
 * an inline value's fields against the declared inputs); files it names
 * are read by payload.c, once per run. */
#include "flowgate/workflow.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WF_MAX_FILE_BYTES (1u << 20)

typedef struct loader {
    const char *path;
    const char *steps_key;   /* "steps", or the older "nodes": as the file spells it */
    fg_workflow *wf;
    fg_err *err;
} loader;

__attribute__((format(printf, 2, 3)))
static int wf_fail(loader *ld, const char *fmt, ...)
{
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return fg_err_set(ld->err, "%s: %s", ld->path, msg);
}

static int is_name(const char *s)
{
    if (!s || !*s) return 0;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
              (*s >= '0' && *s <= '9') || *s == '_' || *s == '-'))
            return 0;
    return 1;
}

/* Rejects keys other than the allowed ones; '_' keys are comments. */
static int check_keys(loader *ld, const cJSON *obj, const char *where, const char *const *allowed)
{
    for (const cJSON *k = obj->child; k; k = k->next) {
        if (k->string[0] == '_') continue;
        int ok = 0;
        for (int i = 0; allowed[i]; i++)
            if (!strcmp(k->string, allowed[i])) ok = 1;
        if (!ok) {
            char list[200] = "";
            for (int i = 0; allowed[i]; i++) {
                strncat(list, i ? ", " : "", sizeof list - strlen(list) - 1);
                strncat(list, allowed[i], sizeof list - strlen(list) - 1);
            }
            return wf_fail(ld, "%s: unknown key '%s' (known: %s)", where, k->string, list);
        }
    }
    return 0;
}

int fg_workflow_step_index(const fg_workflow *wf, const char *id)
{
    for (int i = 0; wf && id && i < wf->n_steps; i++)
        if (wf->steps[i].id && !strcmp(wf->steps[i].id, id)) return i;
    return -1;
}

static int find_mapping(const fg_wf_mapping *m, int n, const char *name)
{
    for (int i = 0; i < n; i++)
        if (m[i].name && !strcmp(m[i].name, name)) return i;
    return -1;
}

static int input_index(const fg_workflow *wf, const char *name)
{
    for (int i = 0; i < wf->n_inputs; i++)
        if (!strcmp(wf->inputs[i], name)) return i;
    return -1;
}

/* "result.a.b": non-empty segments of name characters. */
static int is_result_path(const char *s)
{
    if (strncmp(s, "result.", 7)) return 0;
    const char *p = s + 7;
    char seg[256];
    if (!*p) return 0;
    while (*p) {
        size_t n = strcspn(p, ".");
        if (n == 0 || n >= sizeof seg) return 0;
        memcpy(seg, p, n);
        seg[n] = 0;
        if (!is_name(seg)) return 0;
        p += n;
        if (*p == '.') {
            p++;
            if (!*p) return 0;
        }
    }
    return 1;
}

const char *fg_wf_type_name(fg_wf_type t)
{
    static const char *const names[] = {"any", "string", "number", "boolean", "object",
                                        "array", "blob"};
    return (unsigned)t < sizeof names / sizeof names[0] ? names[t] : NULL;
}

/* A typed "out" entry: {"from": "result.<path>", "type": "<type>"}. */
static int parse_typed(loader *ld, const cJSON *m, const char *where, const cJSON **from,
                       fg_wf_type *type)
{
    static const char *const keys[] = {"from", "type", NULL};
    if (check_keys(ld, m, where, keys)) return -1;
    *from = cJSON_GetObjectItemCaseSensitive(m, "from");
    if (!*from) return wf_fail(ld, "%s: missing 'from'", where);
    if (!cJSON_IsString(*from)) return wf_fail(ld, "%s.from: must be a string", where);
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(m, "type");
    if (!t) return wf_fail(ld, "%s: missing 'type'", where);
    for (int i = FG_WF_STRING; cJSON_IsString(t) && fg_wf_type_name((fg_wf_type)i); i++)
        if (!strcmp(t->valuestring, fg_wf_type_name((fg_wf_type)i))) {
            *type = (fg_wf_type)i;
            return 0;
        }
    return wf_fail(ld, "%s.type: unknown type '%s' (known: string, number, boolean, object, "
                   "array, blob)", where, cJSON_IsString(t) ? t->valuestring : "(not a string)");
}

/* Parses an "in"/"out"/"blob_out" object into mappings; references of
 * "in" are resolved later, once every step's outputs are known. */
static int parse_mappings(loader *ld, int step, const cJSON *obj, const char *key,
                          fg_wf_mapping **out, int *n_out)
{
    char where[160];
    snprintf(where, sizeof where, "%s[%d].%s", ld->steps_key, step, key);
    if (!cJSON_IsObject(obj)) return wf_fail(ld, "%s: must be an object", where);
    int n = cJSON_GetArraySize(obj);
    *out = calloc((size_t)(n ? n : 1), sizeof **out);
    if (!*out) return wf_fail(ld, "%s: out of memory", where);
    for (const cJSON *m = obj->child; m; m = m->next) {
        if (m->string[0] == '_') continue;
        if (!is_name(m->string))
            return wf_fail(ld, "%s: bad name '%s' (letters, digits, '_' and '-')", where, m->string);
        fg_wf_type type = FG_WF_ANY;
        const cJSON *from = m;
        if (!strcmp(key, "out") && cJSON_IsObject(m)) {
            char at[200];
            snprintf(at, sizeof at, "%s.%s", where, m->string);
            if (parse_typed(ld, m, at, &from, &type)) return -1;
        } else if (!cJSON_IsString(m)) {
            return wf_fail(ld, "%s.%s: must be a string%s", where, m->string,
                           strcmp(key, "out") ? ""
                           : " or {\"from\": \"result.<field>\", \"type\": \"<type>\"}");
        }
        fg_wf_mapping *mp = &(*out)[*n_out];
        mp->name = strdup(m->string);
        mp->source = strdup(from->valuestring);
        mp->src_step = step;
        mp->type = type;
        (*n_out)++;
        if (!mp->name || !mp->source) return wf_fail(ld, "%s: out of memory", where);
        if (strcmp(key, "in")) {
            if (!is_result_path(mp->source))
                return wf_fail(ld, "%s.%s: bad mapping '%s', expected 'result.<field>[.<field>...]'",
                               where, m->string, mp->source);
            mp->src_field = strdup(mp->source + 7);
            if (!mp->src_field) return wf_fail(ld, "%s: out of memory", where);
        }
    }
    return 0;
}

static int resolve_in(loader *ld, int step)
{
    fg_workflow *wf = ld->wf;
    fg_wf_step *st = &wf->steps[step];
    const char *key = ld->steps_key;
    for (int i = 0; i < st->n_in; i++) {
        fg_wf_mapping *m = &st->in[i];
        const char *s = m->source;
        const char *dot = s[0] == '$' ? strchr(s, '.') : NULL;
        if (!dot || dot == s + 1 || !dot[1] || strchr(dot + 1, '.'))
            return wf_fail(ld, "%s[%d].in.%s: bad mapping '%s', expected '$step.output' or '$inputs.name'",
                           key, step, m->name, s);
        char producer[128];
        size_t n = (size_t)(dot - s - 1);
        if (n >= sizeof producer)
            return wf_fail(ld, "%s[%d].in.%s: '%s': step id too long", key, step, m->name, s);
        memcpy(producer, s + 1, n);
        producer[n] = 0;
        const char *field = dot + 1;
        if (!strcmp(producer, "inputs")) {
            if (input_index(wf, field) < 0)
                return wf_fail(ld, "%s[%d].in.%s: '%s': the workflow has no input '%s'",
                               key, step, m->name, s, field);
            m->src_step = FG_WF_INPUTS;
        } else {
            int p = fg_workflow_step_index(wf, producer);
            if (p < 0)
                return wf_fail(ld, "%s[%d].in.%s: '%s': unknown step '%s'", key, step, m->name, s,
                               producer);
            if (find_mapping(wf->steps[p].out, wf->steps[p].n_out, field) < 0)
                return wf_fail(ld, "%s[%d].in.%s: '%s': step '%s' has no output '%s'",
                               key, step, m->name, s, producer, field);
            m->src_step = p;
        }
        m->src_field = strdup(field);
        if (!m->src_field) return wf_fail(ld, "out of memory");
    }
    return 0;
}

static int parse_steps(loader *ld, const cJSON *steps)
{
    static const char *const keys[] = {"id", "in", "out", "blob_out", "cost_ms", NULL};
    fg_workflow *wf = ld->wf;
    const char *key = ld->steps_key;
    if (!cJSON_IsArray(steps)) return wf_fail(ld, "%s: missing or not an array", key);
    int n = cJSON_GetArraySize(steps);
    if (n == 0) return wf_fail(ld, "%s: empty", key);
    if (n > FG_WF_MAX_STEPS)
        return wf_fail(ld, "%s: %d steps, over the limit of %d", key, n, FG_WF_MAX_STEPS);
    wf->steps = calloc((size_t)n, sizeof *wf->steps);
    if (!wf->steps) return wf_fail(ld, "out of memory");
    int i = 0;
    for (const cJSON *jn = steps->child; jn; jn = jn->next, i++) {
        char where[32];
        snprintf(where, sizeof where, "%s[%d]", key, i);
        if (!cJSON_IsObject(jn)) return wf_fail(ld, "%s: must be an object", where);
        if (check_keys(ld, jn, where, keys)) return -1;
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(jn, "id");
        if (!id) return wf_fail(ld, "%s: missing 'id'", where);
        if (!cJSON_IsString(id) || !is_name(id->valuestring))
            return wf_fail(ld, "%s.id: must be a name of letters, digits, '_' and '-'", where);
        if (!strcmp(id->valuestring, "END") || !strcmp(id->valuestring, "inputs"))
            return wf_fail(ld, "%s.id: '%s' is reserved", where, id->valuestring);
        if (fg_workflow_step_index(wf, id->valuestring) >= 0)
            return wf_fail(ld, "%s.id: duplicate step id '%s'", where, id->valuestring);
        fg_wf_step *st = &wf->steps[i];
        wf->n_steps = i + 1;
        st->id = strdup(id->valuestring);
        if (!st->id) return wf_fail(ld, "out of memory");
        const cJSON *cost = cJSON_GetObjectItemCaseSensitive(jn, "cost_ms");
        if (cost) {
            if (!cJSON_IsNumber(cost) || !(cost->valuedouble > 0) || !(cost->valuedouble < 1e9))
                return wf_fail(ld, "%s (%s).cost_ms: must be a number > 0", where, st->id);
            st->cost_ms = cost->valuedouble;
        }
        const cJSON *in = cJSON_GetObjectItemCaseSensitive(jn, "in");
        const cJSON *out = cJSON_GetObjectItemCaseSensitive(jn, "out");
        const cJSON *blob = cJSON_GetObjectItemCaseSensitive(jn, "blob_out");
        if (!in) return wf_fail(ld, "%s (%s): missing 'in'", where, st->id);
        if (!out) return wf_fail(ld, "%s (%s): missing 'out'", where, st->id);
        if (parse_mappings(ld, i, in, "in", &st->in, &st->n_in) ||
            parse_mappings(ld, i, out, "out", &st->out, &st->n_out))
            return -1;
        if (blob) {
            if (parse_mappings(ld, i, blob, "blob_out", &st->blob_out, &st->n_blob_out)) return -1;
            for (int b = 0; b < st->n_blob_out; b++) {
                int o = find_mapping(st->out, st->n_out, st->blob_out[b].name);
                if (o < 0)
                    return wf_fail(ld, "%s[%d].blob_out.%s: no output '%s' in \"out\"",
                                   key, i, st->blob_out[b].name, st->blob_out[b].name);
                if (st->out[o].type != FG_WF_ANY && st->out[o].type != FG_WF_BLOB)
                    return wf_fail(ld, "%s[%d].out.%s: type '%s', but it is in \"blob_out\": "
                                   "an output passed by reference is a blob", key, i,
                                   st->out[o].name, fg_wf_type_name(st->out[o].type));
            }
        }
    }
    for (i = 0; i < wf->n_steps; i++)
        if (resolve_in(ld, i)) return -1;
    return 0;
}

/* "from": a step id or an array of them (fan-in). */
static int parse_from(loader *ld, const cJSON *from, const char *where, fg_wf_link *link)
{
    if (!from) return wf_fail(ld, "%s: missing 'from'", where);
    const cJSON *one = cJSON_IsString(from) ? from : NULL;
    if (!one && !cJSON_IsArray(from))
        return wf_fail(ld, "%s.from: must be a step id or an array of step ids", where);
    int n = one ? 1 : cJSON_GetArraySize(from);
    if (n == 0) return wf_fail(ld, "%s.from: empty", where);
    if (n > FG_WF_MAX_FANIN)
        return wf_fail(ld, "%s.from: %d steps, over the fan-in limit of %d", where, n, FG_WF_MAX_FANIN);
    int k = 0;
    for (const cJSON *f = one ? one : from->child; f; f = one ? NULL : f->next, k++) {
        if (!cJSON_IsString(f)) return wf_fail(ld, "%s.from[%d]: must be a step id", where, k);
        int idx = fg_workflow_step_index(ld->wf, f->valuestring);
        if (idx < 0) {
            if (!strcmp(f->valuestring, "END"))
                return wf_fail(ld, "%s.from: END can only be a target", where);
            return wf_fail(ld, "%s.from: unknown step '%s'", where, f->valuestring);
        }
        for (int j = 0; j < k; j++)
            if (link->from[j] == idx)
                return wf_fail(ld, "%s.from: '%s' listed twice", where, f->valuestring);
        link->from[k] = idx;
    }
    link->n_from = n;
    return 0;
}

/* One link object ({from, to, shuffle_mb}); an array "to" fans out into one
 * link per target. Appends to *links. */
static int parse_links(loader *ld, const cJSON *obj, const char *where,
                       fg_wf_link **links, int *n_links)
{
    fg_wf_link base = {.n_from = 0};
    if (parse_from(ld, cJSON_GetObjectItemCaseSensitive(obj, "from"), where, &base)) return -1;
    const cJSON *shuffle = cJSON_GetObjectItemCaseSensitive(obj, "shuffle_mb");
    if (shuffle) {
        if (!cJSON_IsNumber(shuffle) || shuffle->valuedouble < 0)
            return wf_fail(ld, "%s.shuffle_mb: must be a number >= 0", where);
        base.shuffle_mb = shuffle->valuedouble;
    }
    const cJSON *to = cJSON_GetObjectItemCaseSensitive(obj, "to");
    if (!to) return wf_fail(ld, "%s: missing 'to'", where);
    const cJSON *one = cJSON_IsString(to) ? to : NULL;
    if (!one && !cJSON_IsArray(to))
        return wf_fail(ld, "%s.to: must be a step id, END or an array of them", where);
    int n = one ? 1 : cJSON_GetArraySize(to);
    if (n == 0) return wf_fail(ld, "%s.to: empty", where);
    if (*n_links + n > FG_WF_MAX_STEPS * 2)
        return wf_fail(ld, "%s.to: over the limit of %d links per edge", where, FG_WF_MAX_STEPS * 2);
    fg_wf_link *grown = realloc(*links, (size_t)(*n_links + n) * sizeof *grown);
    if (!grown) return wf_fail(ld, "out of memory");
    *links = grown;
    int k = 0;
    for (const cJSON *t = one ? one : to->child; t; t = one ? NULL : t->next, k++) {
        if (!cJSON_IsString(t)) return wf_fail(ld, "%s.to[%d]: must be a step id or END", where, k);
        int idx = strcmp(t->valuestring, "END") ? fg_workflow_step_index(ld->wf, t->valuestring)
                                                 : FG_WF_END;
        if (idx == -1 && strcmp(t->valuestring, "END"))
            return wf_fail(ld, "%s.to: unknown step '%s'", where, t->valuestring);
        for (int j = 0; j < *n_links; j++)
            if ((*links)[j].to == idx && idx != FG_WF_END && (*links)[j].n_from == base.n_from &&
                !memcmp((*links)[j].from, base.from, sizeof base.from[0] * (size_t)base.n_from))
                return wf_fail(ld, "%s.to: '%s' listed twice", where, t->valuestring);
        fg_wf_link *l = &(*links)[(*n_links)++];
        *l = base;
        l->to = idx;
    }
    return 0;
}

static int parse_branch(loader *ld, const cJSON *edge, const char *key, const char *where,
                        fg_wf_link **links, int *n_links)
{
    static const char *const keys[] = {"from", "to", "shuffle_mb", NULL};
    const cJSON *arr = cJSON_GetObjectItemCaseSensitive(edge, key);
    if (!arr) return wf_fail(ld, "%s: missing '%s'", where, key);
    if (!cJSON_IsArray(arr)) return wf_fail(ld, "%s.%s: must be an array of links", where, key);
    int k = 0;
    for (const cJSON *l = arr->child; l; l = l->next, k++) {
        char lw[96];
        snprintf(lw, sizeof lw, "%s.%s[%d]", where, key, k);
        if (!cJSON_IsObject(l)) return wf_fail(ld, "%s: must be an object", lw);
        if (check_keys(ld, l, lw, keys) || parse_links(ld, l, lw, links, n_links)) return -1;
    }
    return 0;
}

static int parse_edges(loader *ld, const cJSON *edges)
{
    static const char *const link_keys[] = {"type", "from", "to", "shuffle_mb", NULL};
    static const char *const switch_keys[] = {"type", "condition", "then", "else", NULL};
    fg_workflow *wf = ld->wf;
    if (!cJSON_IsArray(edges)) return wf_fail(ld, "edges: missing or not an array");
    int n = cJSON_GetArraySize(edges);
    if (n > FG_WF_MAX_EDGES)
        return wf_fail(ld, "edges: %d edges, over the limit of %d", n, FG_WF_MAX_EDGES);
    wf->edges = calloc((size_t)(n ? n : 1), sizeof *wf->edges);
    if (!wf->edges) return wf_fail(ld, "out of memory");
    int i = 0;
    for (const cJSON *je = edges->child; je; je = je->next, i++) {
        char where[32];
        snprintf(where, sizeof where, "edges[%d]", i);
        if (!cJSON_IsObject(je)) return wf_fail(ld, "%s: must be an object", where);
        fg_wf_edge *e = &wf->edges[i];
        wf->n_edges = i + 1;
        const cJSON *type = cJSON_GetObjectItemCaseSensitive(je, "type");
        if (!type) return wf_fail(ld, "%s: missing 'type'", where);
        const char *t = cJSON_IsString(type) ? type->valuestring : "";
        if (!strcmp(t, "parallel") || !strcmp(t, "sequential")) {
            e->type = t[0] == 'p' ? FG_EDGE_PARALLEL : FG_EDGE_SEQUENTIAL;
            if (check_keys(ld, je, where, link_keys) ||
                parse_links(ld, je, where, &e->links, &e->n_links))
                return -1;
        } else if (!strcmp(t, "switch")) {
            e->type = FG_EDGE_SWITCH;
            if (check_keys(ld, je, where, switch_keys)) return -1;
            const cJSON *cond = cJSON_GetObjectItemCaseSensitive(je, "condition");
            if (!cond) return wf_fail(ld, "%s: missing 'condition'", where);
            if (!cJSON_IsString(cond)) return wf_fail(ld, "%s.condition: must be a string", where);
            e->cond_text = strdup(cond->valuestring);
            if (!e->cond_text) return wf_fail(ld, "out of memory");
            fg_err cerr = {""};
            e->cond = fg_cond_parse(cond->valuestring, wf, &cerr);
            if (!e->cond) return wf_fail(ld, "%s.%s", where, cerr.msg);
            if (parse_branch(ld, je, "then", where, &e->then_links, &e->n_then) ||
                parse_branch(ld, je, "else", where, &e->else_links, &e->n_else))
                return -1;
            if (e->n_then + e->n_else == 0)
                return wf_fail(ld, "%s: a switch needs at least one link in 'then' or 'else'", where);
        } else {
            return wf_fail(ld, "%s.type: '%s', expected parallel, sequential or switch",
                           where, cJSON_IsString(type) ? t : "(not a string)");
        }
    }
    return 0;
}

/* Calls fn for every link of the workflow. */
static void each_link(const fg_workflow *wf, void (*fn)(const fg_wf_link *, void *), void *arg)
{
    for (int e = 0; e < wf->n_edges; e++) {
        const fg_wf_edge *ed = &wf->edges[e];
        for (int i = 0; i < ed->n_links; i++) fn(&ed->links[i], arg);
        for (int i = 0; i < ed->n_then; i++) fn(&ed->then_links[i], arg);
        for (int i = 0; i < ed->n_else; i++) fn(&ed->else_links[i], arg);
    }
}

typedef struct graph {
    uint32_t succ[FG_WF_MAX_STEPS];    /* bit j: a link from i to j */
    int incoming[FG_WF_MAX_STEPS];
    int mentioned[FG_WF_MAX_STEPS];
} graph;

static void add_link(const fg_wf_link *l, void *arg)
{
    graph *g = arg;
    for (int f = 0; f < l->n_from; f++) {
        g->mentioned[l->from[f]] = 1;
        if (l->to >= 0) g->succ[l->from[f]] |= 1u << l->to;
    }
    if (l->to >= 0) {
        g->incoming[l->to]++;
        g->mentioned[l->to] = 1;
    }
}

/* Depth-first search; on a back edge prints the cycle from the stack. */
static int find_cycle(loader *ld, const graph *g, int v, int *state, int *stack, int depth)
{
    state[v] = 1;
    stack[depth] = v;
    for (int w = 0; w < ld->wf->n_steps; w++) {
        if (!(g->succ[v] & (1u << w))) continue;
        if (state[w] == 1) {
            char path[400] = "";
            int start = 0;
            while (stack[start] != w) start++;
            for (int k = start; k <= depth; k++) {
                strncat(path, ld->wf->steps[stack[k]].id, sizeof path - strlen(path) - 1);
                strncat(path, " → ", sizeof path - strlen(path) - 1);
            }
            strncat(path, ld->wf->steps[w].id, sizeof path - strlen(path) - 1);
            return wf_fail(ld, "edges: cycle through %s", path);
        }
        if (state[w] == 0 && find_cycle(ld, g, w, state, stack, depth + 1)) return -1;
    }
    state[v] = 2;
    return 0;
}

/* Kuhn's augmenting path from left vertex v over the pairs "u before w". */
static int augment(const uint32_t *before, int n, int v, uint32_t *seen, int *match)
{
    for (int w = 0; w < n; w++) {
        if (!(before[v] & (1u << w)) || (*seen & (1u << w))) continue;
        *seen |= 1u << w;
        if (match[w] < 0 || augment(before, n, match[w], seen, match)) {
            match[w] = v;
            return 1;
        }
    }
    return 0;
}

/* The most steps that can be in flight at once: the width of the order
 * "a link path leads from u to w", which by Dilworth's theorem is n minus
 * a maximum matching of the pairs (u before w). */
static int max_parallel(const fg_workflow *wf, const graph *g)
{
    int n = wf->n_steps;
    uint32_t before[FG_WF_MAX_STEPS];
    for (int v = 0; v < n; v++) before[v] = g->succ[v];
    for (int k = 0; k < n; k++)   /* transitive closure */
        for (int v = 0; v < n; v++)
            if (before[v] & (1u << k)) before[v] |= before[k];
    int match[FG_WF_MAX_STEPS], matched = 0;
    for (int w = 0; w < n; w++) match[w] = -1;
    for (int v = 0; v < n; v++) {
        uint32_t seen = 0;
        matched += augment(before, n, v, &seen, match);
    }
    return n - matched;
}

static int check_graph(loader *ld)
{
    fg_workflow *wf = ld->wf;
    graph g;
    memset(&g, 0, sizeof g);
    each_link(wf, add_link, &g);

    int state[FG_WF_MAX_STEPS] = {0}, stack[FG_WF_MAX_STEPS + 1];
    for (int v = 0; v < wf->n_steps; v++)
        if (state[v] == 0 && find_cycle(ld, &g, v, state, stack, 0)) return -1;
    wf->max_parallel = max_parallel(wf, &g);

    /* Without cycles every step is reachable from some entry step by walking
     * links backwards; what remains is to check each entry step is a real
     * entry: it must be connected and read nothing but the inputs. */
    for (int v = 0; v < wf->n_steps; v++) {
        if (g.incoming[v]) continue;
        if (!g.mentioned[v] && wf->n_steps > 1)
            return wf_fail(ld, "%s[%d] '%s': unreachable: no edge leads to or from it",
                           ld->steps_key, v, wf->steps[v].id);
        for (int i = 0; i < wf->steps[v].n_in; i++)
            if (wf->steps[v].in[i].src_step >= 0)
                return wf_fail(ld, "%s[%d] '%s': unreachable: no edge leads to it, yet it reads '%s'",
                               ld->steps_key, v, wf->steps[v].id, wf->steps[v].in[i].source);
    }

    /* done_before[v]: steps certain to have completed whenever v runs. A
     * step runs when any link into it fires, so this is the intersection
     * over its incoming links of what each link's sources guarantee. */
    uint32_t done_before[FG_WF_MAX_STEPS] = {0};
    int order[FG_WF_MAX_STEPS], n_order = 0, indeg[FG_WF_MAX_STEPS] = {0};
    for (int v = 0; v < wf->n_steps; v++)
        for (int w = 0; w < wf->n_steps; w++)
            if (g.succ[v] & (1u << w)) indeg[w]++;
    for (int v = 0; v < wf->n_steps; v++)
        if (!indeg[v]) order[n_order++] = v;
    for (int k = 0; k < n_order; k++)
        for (int w = 0; w < wf->n_steps; w++)
            if ((g.succ[order[k]] & (1u << w)) && --indeg[w] == 0) order[n_order++] = w;
    for (int k = 0; k < n_order; k++) {
        int v = order[k];
        done_before[v] = g.incoming[v] ? ~0u : 0;
        for (int e = 0; e < wf->n_edges; e++) {
            const fg_wf_edge *ed = &wf->edges[e];
            const fg_wf_link *lists[3] = {ed->links, ed->then_links, ed->else_links};
            int counts[3] = {ed->n_links, ed->n_then, ed->n_else};
            for (int l = 0; l < 3; l++)
                for (int i = 0; i < counts[l]; i++) {
                    if (lists[l][i].to != v) continue;
                    uint32_t via = 0;
                    for (int f = 0; f < lists[l][i].n_from; f++)
                        via |= done_before[lists[l][i].from[f]] | (1u << lists[l][i].from[f]);
                    done_before[v] &= via;
                }
        }
    }
    for (int v = 0; v < wf->n_steps; v++)
        for (int i = 0; i < wf->steps[v].n_in; i++) {
            int p = wf->steps[v].in[i].src_step;
            if (p >= 0 && !(done_before[v] & (1u << p)))
                return wf_fail(ld, "%s[%d].in.%s: '%s': step '%s' does not always run before '%s'",
                               ld->steps_key, v, wf->steps[v].in[i].name, wf->steps[v].in[i].source,
                               wf->steps[p].id, wf->steps[v].id);
        }
    return 0;
}

const char *fg_payload_kind_name(fg_payload_kind k)
{
    static const char *const names[] = {"image", "json", "json_file", "file"};
    return (unsigned)k < sizeof names / sizeof names[0] ? names[k] : NULL;
}

int fg_workflow_inputs_check(const fg_workflow *wf, const cJSON *value, const char *where,
                             fg_err *err)
{
    if (!cJSON_IsObject(value))
        return fg_err_set(err, "%s: must be a JSON object with one field per workflow input", where);
    for (const cJSON *f = value->child; f; f = f->next)
        if (input_index(wf, f->string) < 0)
            return fg_err_set(err, "%s: field '%s' is not an input of workflow '%s'", where,
                              f->string, wf->name);
    for (int i = 0; i < wf->n_inputs; i++)
        if (!cJSON_GetObjectItemCaseSensitive(value, wf->inputs[i]))
            return fg_err_set(err, "%s: missing input '%s'", where, wf->inputs[i]);
    return 0;
}

/* "path" relative to the workflow file's directory (absolute: as is). */
static int payload_path(loader *ld, const cJSON *path)
{
    if (!path) return wf_fail(ld, "payload: missing 'path'");
    if (!cJSON_IsString(path) || !path->valuestring[0])
        return wf_fail(ld, "payload.path: must be a non-empty string");
    const char *slash = strrchr(ld->path, '/');
    int dir_len = path->valuestring[0] == '/' || !slash ? 0 : (int)(slash - ld->path + 1);
    size_t n = (size_t)dir_len + strlen(path->valuestring) + 1;
    ld->wf->payload.path = malloc(n);
    if (!ld->wf->payload.path) return wf_fail(ld, "out of memory");
    snprintf(ld->wf->payload.path, n, "%.*s%s", dir_len, ld->path, path->valuestring);
    return 0;
}

/* The "payload" object; absent: the generated test image. */
static int parse_payload(loader *ld, const cJSON *p)
{
    static const char *const image_keys[] = {"kind", NULL};
    static const char *const json_keys[] = {"kind", "value", NULL};
    static const char *const path_keys[] = {"kind", "path", NULL};
    static const char *const *const keys[] = {image_keys, json_keys, path_keys, path_keys};
    fg_workflow *wf = ld->wf;
    wf->payload.kind = FG_PAYLOAD_IMAGE;
    if (!p) return 0;
    if (!cJSON_IsObject(p)) return wf_fail(ld, "payload: must be an object {\"kind\": ...}");
    const cJSON *kind = cJSON_GetObjectItemCaseSensitive(p, "kind");
    if (!kind) return wf_fail(ld, "payload: missing 'kind' (image, json, json_file or file)");
    int k = -1;
    for (int i = 0; cJSON_IsString(kind) && fg_payload_kind_name((fg_payload_kind)i); i++)
        if (!strcmp(kind->valuestring, fg_payload_kind_name((fg_payload_kind)i))) k = i;
    if (k < 0)
        return wf_fail(ld, "payload.kind: unknown kind '%s' (known: image, json, json_file, file)",
                       cJSON_IsString(kind) ? kind->valuestring : "(not a string)");
    wf->payload.kind = (fg_payload_kind)k;
    if (check_keys(ld, p, "payload", keys[k])) return -1;
    if (k == FG_PAYLOAD_IMAGE || k == FG_PAYLOAD_FILE) {
        if (wf->n_inputs != 1)
            return wf_fail(ld, "payload: kind '%s' is one input, the workflow declares %d",
                           kind->valuestring, wf->n_inputs);
    }
    if (k == FG_PAYLOAD_JSON_FILE || k == FG_PAYLOAD_FILE)
        return payload_path(ld, cJSON_GetObjectItemCaseSensitive(p, "path"));
    if (k == FG_PAYLOAD_JSON) {
        const cJSON *value = cJSON_GetObjectItemCaseSensitive(p, "value");
        if (!value) return wf_fail(ld, "payload: missing 'value'");
        fg_err why = {""};
        if (fg_workflow_inputs_check(wf, value, "payload.value", &why))
            return wf_fail(ld, "%s", why.msg);
        wf->payload.value = cJSON_Duplicate(value, 1);
        if (!wf->payload.value) return wf_fail(ld, "out of memory");
    }
    return 0;
}

static int parse_root(loader *ld, const cJSON *root)
{
    static const char *const keys[] = {"name", "inputs", "payload", "steps", "nodes", "edges",
                                       NULL};
    fg_workflow *wf = ld->wf;
    if (!cJSON_IsObject(root)) return wf_fail(ld, "not a JSON object");
    if (check_keys(ld, root, "workflow", keys)) return -1;
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(root, "name");
    if (!name) return wf_fail(ld, "missing 'name'");
    if (!cJSON_IsString(name) || !name->valuestring[0])
        return wf_fail(ld, "name: must be a non-empty string");
    wf->name = strdup(name->valuestring);
    if (!wf->name) return wf_fail(ld, "out of memory");

    const cJSON *inputs = cJSON_GetObjectItemCaseSensitive(root, "inputs");
    if (!inputs) return wf_fail(ld, "missing 'inputs'");
    if (!cJSON_IsObject(inputs)) return wf_fail(ld, "inputs: must be an object {name: type}");
    int n = cJSON_GetArraySize(inputs);
    wf->inputs = calloc((size_t)(n ? n : 1), sizeof *wf->inputs);
    if (!wf->inputs) return wf_fail(ld, "out of memory");
    for (const cJSON *in = inputs->child; in; in = in->next) {
        if (in->string[0] == '_') continue;
        if (!is_name(in->string)) return wf_fail(ld, "inputs: bad name '%s'", in->string);
        if (!cJSON_IsString(in)) return wf_fail(ld, "inputs.%s: must be a type string", in->string);
        wf->inputs[wf->n_inputs] = strdup(in->string);
        if (!wf->inputs[wf->n_inputs++]) return wf_fail(ld, "out of memory");
    }

    if (parse_payload(ld, cJSON_GetObjectItemCaseSensitive(root, "payload"))) return -1;
    const cJSON *steps = cJSON_GetObjectItemCaseSensitive(root, "steps");
    const cJSON *older = cJSON_GetObjectItemCaseSensitive(root, "nodes");
    if (steps && older)
        return wf_fail(ld, "both 'steps' and 'nodes' (its older spelling): keep one");
    if (!steps && !older) return wf_fail(ld, "missing 'steps'");
    ld->steps_key = steps ? "steps" : "nodes";
    if (parse_steps(ld, steps ? steps : older)) return -1;
    if (!cJSON_GetObjectItemCaseSensitive(root, "edges")) return wf_fail(ld, "missing 'edges'");
    if (parse_edges(ld, cJSON_GetObjectItemCaseSensitive(root, "edges"))) return -1;
    return check_graph(ld);
}

int fg_workflow_parse(const char *json_text, const char *path_for_errors,
                      fg_workflow *wf, fg_err *err)
{
    memset(wf, 0, sizeof *wf);
    const char *path = path_for_errors ? path_for_errors : "workflow";
    loader ld = {.path = path, .steps_key = "steps", .wf = wf, .err = err};
    cJSON *root = cJSON_ParseWithOpts(json_text ? json_text : "", NULL, 1);
    if (!root) {
        const char *at = cJSON_GetErrorPtr();
        long off = at && json_text && at >= json_text ? (long)(at - json_text) : 0;
        return wf_fail(&ld, "invalid JSON near byte %ld", off);
    }
    wf->path = strdup(path);
    int rc = wf->path ? parse_root(&ld, root) : wf_fail(&ld, "out of memory");
    cJSON_Delete(root);
    if (rc) fg_workflow_free(wf);
    return rc;
}

int fg_workflow_load(const char *path, fg_workflow *wf, fg_err *err)
{
    memset(wf, 0, sizeof *wf);
    fg_buf buf;
    if (fg_read_file(path, WF_MAX_FILE_BYTES, &buf, err)) return -1;
    int rc = fg_workflow_parse((const char *)buf.data, path, wf, err);
    fg_buf_free(&buf);
    return rc;
}

static void free_mappings(fg_wf_mapping *m, int n)
{
    for (int i = 0; i < n; i++) {
        free(m[i].name);
        free(m[i].source);
        free(m[i].src_field);
    }
    free(m);
}

void fg_workflow_free(fg_workflow *wf)
{
    if (!wf) return;
    for (int i = 0; i < wf->n_steps; i++) {
        free(wf->steps[i].id);
        free_mappings(wf->steps[i].in, wf->steps[i].n_in);
        free_mappings(wf->steps[i].out, wf->steps[i].n_out);
        free_mappings(wf->steps[i].blob_out, wf->steps[i].n_blob_out);
    }
    free(wf->steps);
    for (int i = 0; i < wf->n_edges; i++) {
        free(wf->edges[i].links);
        free(wf->edges[i].cond_text);
        fg_cond_free(wf->edges[i].cond);
        free(wf->edges[i].then_links);
        free(wf->edges[i].else_links);
    }
    free(wf->edges);
    for (int i = 0; i < wf->n_inputs; i++) free(wf->inputs[i]);
    free(wf->inputs);
    free(wf->payload.path);
    cJSON_Delete(wf->payload.value);
    free(wf->name);
    free(wf->path);
    memset(wf, 0, sizeof *wf);
}
