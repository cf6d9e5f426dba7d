/* instance.c — one workflow instance as a state machine over the DAG.
 *
 * Each step is idle, ready, running or done. Completing a step
 * stores its outputs (taken out of the response by the step's mappings)
 * and rescans the edges: a plain link fires when all its sources are done;
 * a switch is evaluated once every step its condition and its links read is
 * done, on the real outputs, and only the taken branch's links fire. A step
 * runs at most once, when the first link into it fires. The instance is
 * finished when nothing runs and nothing is ready — which after a failure
 * means when the functions still in flight have answered. No I/O here: the
 * engine feeds responses in, the unit tests feed canned ones.
 *
 * A reply is checked when it arrives: every mapped output present and of
 * its type (workflow.h, "Output types": declared in the workflow file; an
 * untyped one another function reads must be a string, what the function
 * API takes; by reference a blob reference {"node": string, "key": string}).
 * So a reply with a missing or wrong-typed field is charged to the step that
 * produced it — the last step of the workflow too — not to the next one,
 * whose request would have been refused. */
#include "instance.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int fg_instance_check_workflow(const fg_workflow *wf, fg_err *err)
{
    if (wf->n_steps > FG_WF_MAX_STEPS)
        return fg_err_set(err, "%s: %d steps, more than %d", wf->path ? wf->path : wf->name,
                          wf->n_steps, FG_WF_MAX_STEPS);
    if (wf->n_edges > FG_WF_MAX_EDGES)
        return fg_err_set(err, "%s: %d edges, more than %d", wf->path ? wf->path : wf->name,
                          wf->n_edges, FG_WF_MAX_EDGES);
    for (int i = 0; i < wf->n_steps; i++) {
        const fg_wf_step *n = &wf->steps[i];
        if (n->n_in > FG_WF_MAX_FANIN)
            return fg_err_set(err, "%s: more than %d inputs", n->id, FG_WF_MAX_FANIN);
        for (int k = 0; k < n->n_in; k++)
            if ((n->in[k].src_step == FG_WF_INPUTS) != (n->in[0].src_step == FG_WF_INPUTS))
                return fg_err_set(err, "%s: reads the workflow inputs together with other "
                                  "steps' outputs; its body is built once from the inputs",
                                  n->id);
    }
    return 0;
}

static int has_incoming(const fg_workflow *wf, int step)
{
    for (int e = 0; e < wf->n_edges; e++) {
        const fg_wf_edge *ed = &wf->edges[e];
        for (int l = 0; l < ed->n_links; l++) if (ed->links[l].to == step) return 1;
        for (int l = 0; l < ed->n_then; l++) if (ed->then_links[l].to == step) return 1;
        for (int l = 0; l < ed->n_else; l++) if (ed->else_links[l].to == step) return 1;
    }
    return 0;
}

int fg_instance_init(fg_instance *in, const fg_workflow *wf, int by_ref, fg_err *err)
{
    memset(in, 0, sizeof *in);
    if (fg_instance_check_workflow(wf, err) != 0) return -1;
    in->wf = wf;
    in->by_ref = by_ref;
    memset(in->branch, -1, sizeof in->branch);
    for (int i = 0; i < wf->n_steps; i++)
        in->step_state[i] = has_incoming(wf, i) ? FG_STEP_IDLE : FG_STEP_READY;
    return 0;
}

void fg_instance_free(fg_instance *in)
{
    if (!in || !in->wf) return;
    for (int i = 0; i < in->wf->n_steps; i++) cJSON_Delete(in->outputs[i]);
    memset(in, 0, sizeof *in);
}

int fg_instance_next_ready(fg_instance *in)
{
    if (in->failed) return -1;
    for (int i = 0; i < in->wf->n_steps; i++)
        if (in->step_state[i] == FG_STEP_READY) {
            in->step_state[i] = FG_STEP_RUNNING;
            in->n_running++;
            return i;
        }
    return -1;
}

static const fg_wf_mapping *find_mapping(const fg_wf_mapping *m, int n, const char *name)
{
    for (int i = 0; i < n; i++) if (!strcmp(m[i].name, name)) return &m[i];
    return NULL;
}

/* m's response field (its src_field, "a.b" of "result.a.b"): the item
 * and its parent object. The last key is looked up in place (terminated
 * already); only the ones before a dot are copied out. */
static cJSON *response_item(cJSON *response, const fg_wf_mapping *m, cJSON **parent)
{
    cJSON *cur = response;
    *parent = NULL;
    for (const char *path = m->src_field; cur && *path;) {
        const char *dot = strchr(path, '.');
        if (dot == path || !cJSON_IsObject(cur)) return NULL;
        *parent = cur;
        if (!dot) return cJSON_GetObjectItemCaseSensitive(cur, path);
        char key[128];
        size_t len = (size_t)(dot - path);
        if (len >= sizeof key) return NULL;
        memcpy(key, path, len);
        key[len] = 0;
        cur = cJSON_GetObjectItemCaseSensitive(cur, key);
        path = dot + 1;
    }
    return cur;
}

/* Takes output `name` (from m's field) out of the response; a second
 * output with the same source shares the value already taken. Names are
 * the workflow's, which outlives every instance: kept by reference (a
 * copy per output per request showed in the profile). */
static int take_output(fg_instance *in, int step, cJSON *response, const char *name,
                       const fg_wf_mapping *m, fg_err *err)
{
    cJSON *outs = in->outputs[step];
    cJSON *parent;
    cJSON *item = response_item(response, m, &parent);
    if (!item) {
        /* Already taken by an earlier output of this step with the same source? */
        const fg_wf_step *n = &in->wf->steps[step];
        for (int k = 0; k < n->n_out + n->n_blob_out; k++) {
            const fg_wf_mapping *o = k < n->n_out ? &n->out[k] : &n->blob_out[k - n->n_out];
            const cJSON *got = cJSON_GetObjectItemCaseSensitive(outs, o->name);
            if (got && !strcmp(o->source, m->source) && strcmp(o->name, name)) {
                cJSON *copy = cJSON_Duplicate(got, 1);
                if (!copy || !cJSON_AddItemToObjectCS(outs, name, copy)) {
                    cJSON_Delete(copy);
                    return fg_err_set(err, "out of memory");
                }
                return 0;
            }
        }
        return fg_err_set(err, "%s: response lacks %s (output '%s')",
                          in->wf->steps[step].id, m->source, name);
    }
    cJSON_DetachItemViaPointer(parent, item);
    cJSON_AddItemToObjectCS(outs, name, item);
    return 0;
}

/* Every output the response must carry, checked before anything changes,
 * so that a bad response leaves the step running (it may be re-sent). */
static int outputs_present(const fg_instance *in, int step, cJSON *response, fg_err *err)
{
    const fg_wf_step *n = &in->wf->steps[step];
    cJSON *parent;
    for (int k = 0; k < n->n_out; k++) {
        const fg_wf_mapping *blob =
            in->by_ref ? find_mapping(n->blob_out, n->n_blob_out, n->out[k].name) : NULL;
        const fg_wf_mapping *m = blob ? blob : &n->out[k];
        if (!response_item(response, m, &parent))
            return fg_err_set(err, "%s: response lacks %s (output '%s')", n->id, m->source,
                              n->out[k].name);
    }
    if (in->by_ref)
        for (int k = 0; k < n->n_blob_out; k++)
            if (!response_item(response, &n->blob_out[k], &parent))
                return fg_err_set(err, "%s: response lacks %s (output '%s')", n->id,
                                  n->blob_out[k].source, n->blob_out[k].name);
    return 0;
}

static const char *json_type(const cJSON *v)
{
    return cJSON_IsString(v) ? "a string" : cJSON_IsNumber(v) ? "a number"
         : cJSON_IsBool(v) ? "a boolean" : cJSON_IsNull(v) ? "null"
         : cJSON_IsArray(v) ? "an array" : cJSON_IsObject(v) ? "an object" : "invalid";
}

/* Standard base64 with its padding (RFC 4648): what a "blob" output is
 * inline. One pass over the characters, no decoding. */
static int is_base64(const char *s)
{
    size_t n = 0, pad = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++, n++) {
        int alpha = (*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
                    (*p >= '0' && *p <= '9') || *p == '+' || *p == '/';
        if (*p == '=') pad++;
        else if (!alpha || pad) return 0;   /* padding only at the end */
    }
    return n % 4 == 0 && pad <= 2;
}

static int is_blob_ref(const cJSON *v)
{
    return cJSON_IsObject(v) &&
           cJSON_IsString(cJSON_GetObjectItemCaseSensitive(v, "node")) &&
           cJSON_IsString(cJSON_GetObjectItemCaseSensitive(v, "key"));
}

/* The first step reading output `name` of step, or NULL. */
static const fg_wf_step *reader_of(const fg_workflow *wf, int step, const char *name)
{
    for (int j = 0; j < wf->n_steps; j++)
        for (int k = 0; k < wf->steps[j].n_in; k++)
            if (wf->steps[j].in[k].src_step == step && !strcmp(wf->steps[j].in[k].src_field, name))
                return &wf->steps[j];
    return NULL;
}


/* What v should have been for a declared type, or NULL when it is one. */
static const char *type_mismatch(fg_wf_type type, const cJSON *v)
{
    switch (type) {
    case FG_WF_ANY:
        return NULL;
    case FG_WF_STRING:
        return cJSON_IsString(v) ? NULL : "a string";
    case FG_WF_NUMBER:
        return cJSON_IsNumber(v) ? NULL : "a number";
    case FG_WF_BOOLEAN:
        return cJSON_IsBool(v) ? NULL : "a boolean";
    case FG_WF_OBJECT:
        return cJSON_IsObject(v) ? NULL : "an object";
    case FG_WF_ARRAY:
        return cJSON_IsArray(v) ? NULL : "an array";
    case FG_WF_BLOB:
        return cJSON_IsString(v) && is_base64(v->valuestring) ? NULL
               : "a blob (a padded base64 string)";
    }
    return NULL;
}

/* Every output of step checked against its type before anything reads it
 * (workflow.h, "Output types"): the declared one; untyped, a string when
 * another step sends it on, anything when none does; by reference, a blob
 * reference. */
static int outputs_typed(const fg_instance *in, int step, cJSON *response, fg_err *err)
{
    const fg_wf_step *n = &in->wf->steps[step];
    cJSON *parent;
    for (int k = 0; k < n->n_out; k++) {
        const fg_wf_mapping *out = &n->out[k];
        const fg_wf_mapping *blob =
            in->by_ref ? find_mapping(n->blob_out, n->n_blob_out, out->name) : NULL;
        const char *source = blob ? blob->source : out->source;
        const cJSON *v = response_item(response, blob ? blob : out, &parent);
        if (!v) continue;   /* absence is outputs_present's to report */
        /* Who reads it matters only to an untyped output, and to the message. */
        const fg_wf_step *reader = out->type == FG_WF_ANY ? reader_of(in->wf, step, out->name) : NULL;
        fg_wf_type type = out->type == FG_WF_ANY && reader ? FG_WF_STRING : out->type;
        const char *want = blob ? (is_blob_ref(v) ? NULL : "a blob reference {\"node\":…,\"key\":…}")
                                : type_mismatch(type, v);
        if (!want) continue;
        if (!reader) reader = reader_of(in->wf, step, out->name);
        char who[160] = "";
        if (reader) snprintf(who, sizeof who, ", read by %s", reader->id);
        return fg_err_set(err, "%s: %s (output '%s'%s) must be %s, got %s", n->id, source,
                          out->name, who, want,
                          !blob && type == FG_WF_BLOB && cJSON_IsString(v)
                              ? "a string that is not base64" : json_type(v));
    }
    return 0;
}

static int map_outputs(fg_instance *in, int step, cJSON *response, fg_err *err)
{
    const fg_wf_step *n = &in->wf->steps[step];
    in->outputs[step] = cJSON_CreateObject();
    if (!in->outputs[step]) return fg_err_set(err, "out of memory");
    for (int k = 0; k < n->n_out; k++) {
        const fg_wf_mapping *blob =
            in->by_ref ? find_mapping(n->blob_out, n->n_blob_out, n->out[k].name) : NULL;
        if (take_output(in, step, response, n->out[k].name, blob ? blob : &n->out[k], err) != 0)
            return -1;
    }
    if (in->by_ref)
        for (int k = 0; k < n->n_blob_out; k++)
            if (!find_mapping(n->out, n->n_out, n->blob_out[k].name) &&
                take_output(in, step, response, n->blob_out[k].name, &n->blob_out[k], err) != 0)
                return -1;
    return 0;
}

static const cJSON *lookup_output(void *ctx, int step, const char *output)
{
    const fg_instance *in = ctx;
    if (step < 0 || step >= in->wf->n_steps || !in->outputs[step]) return NULL;
    return cJSON_GetObjectItemCaseSensitive(in->outputs[step], output);
}

static int sources_done(const fg_instance *in, const fg_wf_link *l)
{
    for (int i = 0; i < l->n_from; i++)
        if (l->from[i] < 0 || in->step_state[l->from[i]] != FG_STEP_DONE) return 0;
    return 1;
}

static void fire(fg_instance *in, const fg_wf_link *l)
{
    if (l->to >= 0 && sources_done(in, l) && in->step_state[l->to] == FG_STEP_IDLE)
        in->step_state[l->to] = FG_STEP_READY;
}

static int switch_inputs_done(const fg_instance *in, const fg_wf_edge *ed)
{
    int steps[FG_WF_MAX_STEPS];
    int n = fg_cond_steps(ed->cond, steps, FG_WF_MAX_STEPS);
    for (int i = 0; i < n; i++)
        if (steps[i] < 0 || in->step_state[steps[i]] != FG_STEP_DONE) return 0;
    for (int l = 0; l < ed->n_then; l++) if (!sources_done(in, &ed->then_links[l])) return 0;
    for (int l = 0; l < ed->n_else; l++) if (!sources_done(in, &ed->else_links[l])) return 0;
    return 1;
}

static int advance(fg_instance *in, fg_err *err)
{
    for (int e = 0; e < in->wf->n_edges; e++) {
        const fg_wf_edge *ed = &in->wf->edges[e];
        if (ed->type != FG_EDGE_SWITCH) {
            for (int l = 0; l < ed->n_links; l++) fire(in, &ed->links[l]);
            continue;
        }
        if (in->branch[e] >= 0 || !switch_inputs_done(in, ed)) continue;
        fg_err cond_err;
        cond_err.msg[0] = 0;
        int taken = fg_cond_eval(ed->cond, lookup_output, in, &cond_err);
        if (taken < 0)
            return fg_err_set(err, "switch '%s': %s", ed->cond_text, cond_err.msg);
        in->branch[e] = (signed char)(taken ? 1 : 0);
        const fg_wf_link *links = taken ? ed->then_links : ed->else_links;
        int n = taken ? ed->n_then : ed->n_else;
        for (int l = 0; l < n; l++) fire(in, &links[l]);
    }
    return 0;
}

int fg_instance_complete(fg_instance *in, int step, cJSON *response, fg_err *err)
{
    if (step < 0 || step >= in->wf->n_steps || in->step_state[step] != FG_STEP_RUNNING)
        return fg_err_set(err, "step %d completed but was not running", step);
    if (!cJSON_IsObject(response) || outputs_present(in, step, response, err) != 0 ||
        outputs_typed(in, step, response, err) != 0) {
        if (!cJSON_IsObject(response))
            fg_err_set(err, "%s: response is not a JSON object", in->wf->steps[step].id);
        return -1;
    }
    in->step_state[step] = FG_STEP_DONE;
    in->n_running--;
    if (map_outputs(in, step, response, err) != 0 || (!in->failed && advance(in, err) != 0)) {
        in->failed = 1;
        return -2;
    }
    return 0;
}

void fg_instance_fail(fg_instance *in, int step)
{
    if (step >= 0 && step < in->wf->n_steps && in->step_state[step] == FG_STEP_RUNNING) {
        in->step_state[step] = FG_STEP_DONE;
        in->n_running--;
    }
    in->failed = 1;
}

int fg_instance_finished(const fg_instance *in)
{
    if (in->n_running > 0) return 0;
    if (in->failed) return 1;
    for (int i = 0; i < in->wf->n_steps; i++)
        if (in->step_state[i] == FG_STEP_READY) return 0;
    return 1;
}

int fg_instance_branch(const fg_instance *in, int edge)
{
    if (edge < 0 || edge >= in->wf->n_edges) return -1;
    return in->branch[edge];
}

int fg_instance_request(const fg_instance *in, int step, const char *request_id,
                        cJSON **body, int *uses_payload,
                        fg_instance_input *inputs, int *n_inputs, fg_err *err)
{
    const fg_wf_step *n = &in->wf->steps[step];
    *body = NULL;
    *uses_payload = 0;
    *n_inputs = 0;
    if (n->n_in >= 1 && n->in[0].src_step == FG_WF_INPUTS) {
        *uses_payload = 1;
        inputs[0] = (fg_instance_input){NULL, -1.0};
        *n_inputs = 1;
        return 0;
    }
    cJSON *b = cJSON_CreateObject();
    if (!b) return fg_err_set(err, "out of memory");
    for (int k = 0; k < n->n_in && k < FG_WF_MAX_FANIN; k++) {
        const fg_wf_mapping *m = &n->in[k];
        int src = m->src_step;
        const cJSON *value = (src >= 0 && src < in->wf->n_steps && in->outputs[src])
            ? cJSON_GetObjectItemCaseSensitive(in->outputs[src], m->src_field) : NULL;
        if (!value) {
            cJSON_Delete(b);
            return fg_err_set(err, "%s: input '%s' (%s) has not been produced", n->id,
                              m->name, m->source);
        }
        const fg_wf_step *producer = &in->wf->steps[src];
        int as_ref = in->by_ref && find_mapping(producer->blob_out, producer->n_blob_out,
                                                m->src_field);
        fg_instance_input where = {NULL, 0.0};
        if (as_ref) {
            const cJSON *node = cJSON_GetObjectItemCaseSensitive(value, "node");
            const cJSON *bytes = cJSON_GetObjectItemCaseSensitive(value, "bytes");
            where.node_name = cJSON_IsString(node) ? node->valuestring : NULL;
            where.mb = cJSON_IsNumber(bytes) ? bytes->valuedouble / FG_MB : 0.0;
        } else if (cJSON_IsString(value)) {
            where.mb = (double)strlen(value->valuestring) / FG_MB;
        }
        /* Strings (an inline image can be megabytes) are referenced, not copied. */
        cJSON *copy = cJSON_IsString(value) ? cJSON_CreateStringReference(value->valuestring)
                                            : cJSON_Duplicate(value, 1);
        if (!copy || !cJSON_AddItemToObject(b, as_ref ? "input_ref" : m->name, copy)) {
            cJSON_Delete(copy);
            cJSON_Delete(b);
            return fg_err_set(err, "out of memory");
        }
        inputs[(*n_inputs)++] = where;
    }
    if (request_id) cJSON_AddStringToObject(b, "request_id", request_id);
    if (in->by_ref && n->n_blob_out > 0) cJSON_AddTrueToObject(b, "by_ref");
    *body = b;
    return 0;
}
