/* workflow.h — the workflow DAG (data/workflows/<name>.json) and its switch
 * conditions. The loader validates everything the orchestrator relies on:
 * known step ids, no cycles, every step reachable from an entry step, and
 * parsable conditions; errors name the file and the element.
 *
 * Words: a "step" is an element of the DAG (it calls the function named by
 * its id); a "node" is a host that runs functions (cluster.h, nodes.json).
 *
 * File format (see data/workflows/recognizer.json):
 *   { "name": "recognizer", "inputs": {"img": "blob"},
 *     "steps": [ { "id": "recognizer__upload",
 *                  "in":  { "img_b64": "$inputs.img" },          request field <- source
 *                  "out": { "img_b64": {"from": "result.img_clean_b64", "type": "blob"} },
 *                                                  output name <- response path, and its type
 *                  "blob_out": { "img_b64": "result.ref" } }, ... ],  same output, by reference
 *     "payload": {"kind": "image"},                                what the inputs are (below)
 *     "edges": [ { "type": "parallel",   "from": "a", "to": ["b","c"], "shuffle_mb": 3.05 },
 *                { "type": "sequential", "from": "c", "to": "d",       "shuffle_mb": 0.002 },
 *                { "type": "switch", "condition": "b.is_adult OR c.illegal",
 *                  "then": [ {"from": ["b","c"], "to": "e",   "shuffle_mb": 0.0002} ],
 *                  "else": [ {"from": ["b","c"], "to": "END", "shuffle_mb": 0.0003} ] } ] }
 *
 * Output types. An "out" entry is {"from": "result.<path>", "type": T} or,
 * untyped, the bare path string (older files; still read). T is one of
 *   "string"   a JSON string (text)
 *   "number"   a JSON number
 *   "boolean"  true or false
 *   "object"   a JSON object
 *   "array"    a JSON array
 *   "blob"     binary data (an image): inline a base64 string (RFC 4648,
 *              padded); when the run passes data by reference and the step
 *              names the output in "blob_out", the blob reference found
 *              there, {"node": string, "key": string, ...}
 * Every answer is checked against the types of the step's outputs before
 * anything reads them, the last step's too: a mapped field of another type
 * makes the invocation "malformed", charged to the step that answered. An
 * untyped output that another step reads must be a string (what the
 * function API takes); an untyped output nobody reads may be anything. An
 * output listed in "blob_out" is of type blob (declared or not; another
 * declared type is an error at load). A "blob_out" entry is a bare path.
 *
 * "steps" was called "nodes" in older files: the loader accepts either
 * spelling (errors then name the elements as the file does), never both.
 *
 * A step may also carry "cost_ms": its expected execution time in ms for a
 * 1 MB input on an average node, the `ours` scheduler's cost model before
 * calibration (profile.c); absent, a middling 50 ms.
 *
 * "payload" says where the workflow inputs come from (absent: image):
 *   {"kind": "image"}                      the run's generated test image of
 *                                          the cell's input size (one input)
 *   {"kind": "json", "value": {...}}       inline: one field per input
 *   {"kind": "json_file", "path": "F"}     the same object read from a file
 *   {"kind": "file", "path": "F"}          a file's bytes as base64 (one input)
 * Relative paths are read from the workflow file's directory. Only the image
 * kind follows the input-size axis; the others are one fixed input.
 *
 * Semantics the orchestrator follows: entry steps (no incoming link) start at
 * once; a link fires when all its `from` steps have completed; a switch is
 * evaluated once all steps its condition and links name have completed, and
 * only the taken branch's links fire; a step runs when any link into it has
 * fired; the workflow ends when nothing runs and nothing is ready. */
#ifndef FLOWGATE_WORKFLOW_H
#define FLOWGATE_WORKFLOW_H
#include <cjson/cJSON.h>
#include "flowgate/common.h"

#define FG_WF_MAX_STEPS 32
#define FG_WF_MAX_FANIN 8
#define FG_WF_MAX_EDGES 64
#define FG_WF_END (-1)
#define FG_WF_INPUTS (-2)

/* The type an output is declared with ("type" of an "out" entry). */
typedef enum fg_wf_type {
    FG_WF_ANY = 0,     /* untyped (a bare path) */
    FG_WF_STRING, FG_WF_NUMBER, FG_WF_BOOLEAN, FG_WF_OBJECT, FG_WF_ARRAY, FG_WF_BLOB
} fg_wf_type;

/* "string", ...; "any" for FG_WF_ANY; NULL out of range. */
const char *fg_wf_type_name(fg_wf_type t);

typedef struct fg_wf_mapping {
    char *name;        /* request field (in) or output name (out) */
    char *source;      /* as written: "$step.output", "$inputs.x", "result.a.b" */
    int src_step;      /* in: producing step index, or FG_WF_INPUTS;
                          out/blob_out: the step itself */
    char *src_field;   /* in: output name of the producer (or input name);
                          out/blob_out: response path after "result." ("a.b") */
    fg_wf_type type;   /* out: the declared type (FG_WF_ANY when untyped);
                          in, blob_out: FG_WF_ANY */
} fg_wf_mapping;

typedef struct fg_wf_step {
    char *id;
    double cost_ms;          /* expected ms at 1 MB; 0: not given */
    fg_wf_mapping *in;       int n_in;
    fg_wf_mapping *out;      int n_out;
    fg_wf_mapping *blob_out; int n_blob_out;  /* outputs that can travel by reference */
} fg_wf_step;

typedef struct fg_wf_link {
    int from[FG_WF_MAX_FANIN];
    int n_from;
    int to;              /* step index or FG_WF_END */
    double shuffle_mb;
} fg_wf_link;

typedef enum fg_edge_type { FG_EDGE_PARALLEL, FG_EDGE_SEQUENTIAL, FG_EDGE_SWITCH } fg_edge_type;

typedef struct fg_cond fg_cond;   /* parsed condition (AST) */

typedef struct fg_wf_edge {
    fg_edge_type type;
    fg_wf_link *links;      int n_links;       /* parallel / sequential */
    char *cond_text;        fg_cond *cond;     /* switch */
    fg_wf_link *then_links; int n_then;
    fg_wf_link *else_links; int n_else;
} fg_wf_edge;

typedef enum fg_payload_kind {
    FG_PAYLOAD_IMAGE, FG_PAYLOAD_JSON, FG_PAYLOAD_JSON_FILE, FG_PAYLOAD_FILE
} fg_payload_kind;

typedef struct fg_wf_payload {
    fg_payload_kind kind;
    char *path;             /* json_file, file: resolved against the workflow's directory */
    cJSON *value;           /* json: the inputs object */
} fg_wf_payload;

/* "image", "json", ... */
const char *fg_payload_kind_name(fg_payload_kind k);

typedef struct fg_workflow {
    char *name;
    char *path;
    char **inputs;          int n_inputs;
    fg_wf_step *steps;      int n_steps;
    fg_wf_edge *edges;      int n_edges;
    fg_wf_payload payload;
    int max_parallel;       /* most steps of one instance in flight at once: the
                             * widest set of steps no link path orders (every
                             * switch branch counted as if taken: an upper
                             * bound); set by the loader */
} fg_workflow;

int  fg_workflow_load(const char *path, fg_workflow *wf, fg_err *err);
int  fg_workflow_parse(const char *json_text, const char *path_for_errors,
                       fg_workflow *wf, fg_err *err);
void fg_workflow_free(fg_workflow *wf);
int  fg_workflow_step_index(const fg_workflow *wf, const char *id);  /* -1 if unknown */
/* A JSON payload's value: an object with exactly the declared inputs as
 * fields; errors start with `where`. */
int  fg_workflow_inputs_check(const fg_workflow *wf, const cJSON *value, const char *where,
                              fg_err *err);

/* Conditions: OR, AND, NOT (also ||, &&, !), parentheses, comparisons
 * == != < <= > >= against numbers, true/false and 'strings'; a bare
 * reference is truthy when it is true, a non-zero number or a non-empty
 * string. References are "<step id>.<output name>". */
fg_cond *fg_cond_parse(const char *text, const fg_workflow *wf, fg_err *err);
void fg_cond_free(fg_cond *c);

/* Looks up a step's output by name; returns NULL when missing. */
typedef const cJSON *(*fg_cond_lookup)(void *ctx, int step, const char *output);
/* 1 true, 0 false, -1 when a referenced output is missing (err says which). */
int fg_cond_eval(const fg_cond *c, fg_cond_lookup lookup, void *ctx, fg_err *err);

/* The steps a condition reads, for readiness checks. Returns the count. */
int fg_cond_steps(const fg_cond *c, int *steps, int max);

#endif
