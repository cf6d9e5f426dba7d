/* test_workflow.c — the workflow loader: the real recognizer DAG loads with
 * the structure the orchestrator expects, and each kind of broken file is
 * refused with a message naming the file and the element. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flowgate/probe.h"
#include "flowgate/workflow.h"

/* Test JSON is written with ' for " to stay readable. */
static char *dq(const char *s)
{
    char *out = strdup(s);
    for (char *p = out; *p; p++)
        if (*p == '\'') *p = '"';
    return out;
}

#define STEPS_ABC \
    "{'id':'a','in':{'x':'$inputs.img'},'out':{'y':'result.y'}}," \
    "{'id':'b','in':{'x':'$a.y'},'out':{'flag':'result.flag'}}," \
    "{'id':'c','in':{'x':'$a.y'},'out':{'z':'result.z'}}"
#define SWITCH_BC \
    "{'type':'switch','condition':'b.flag','then':[{'from':'b','to':'c'}],'else':[{'from':'b','to':'END'}]}"

static const char *GOOD =
    "{'name':'t','inputs':{'img':'blob'},'steps':[" STEPS_ABC "],"
    "'edges':[{'type':'sequential','from':'a','to':'b','shuffle_mb':1.5}," SWITCH_BC "]}";

/* Parses s (with ' for "); returns rc and leaves the message in err. */
static int parse(const char *s, fg_workflow *wf, fg_err *err)
{
    char *json = dq(s);
    err->msg[0] = 0;
    int rc = fg_workflow_parse(json, "t.json", wf, err);
    free(json);
    return rc;
}

static void expect_error(const char *s, const char *needle)
{
    fg_workflow wf;
    fg_err err;
    int rc = parse(s, &wf, &err);
    if (rc == 0 || !strstr(err.msg, needle) || strncmp(err.msg, "t.json: ", 8)) {
        print_error("input:    %s\nexpected: %s\ngot:      rc=%d '%s'\n", s, needle, rc, err.msg);
        fail();
    }
    /* A failed load leaves nothing allocated behind. */
    assert_null(wf.steps);
    assert_int_equal(wf.n_steps, 0);
}

/* Loads data/workflows/<file>, which must load. */
static void load_shipped(const char *file, fg_workflow *wf)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/workflows/%s", fg_data_dir(), file);
    fg_err err = {""};
    int rc = fg_workflow_load(path, wf, &err);
    if (rc) print_error("%s\n", err.msg);
    assert_int_equal(rc, 0);
}

static void test_recognizer_structure(void **state)
{
    (void)state;
    fg_workflow wf;
    load_shipped("recognizer.json", &wf);
    assert_string_equal(wf.name, "recognizer");
    assert_int_equal(wf.n_inputs, 1);
    assert_string_equal(wf.inputs[0], "img");
    assert_int_equal(wf.n_steps, 7);

    int up = fg_workflow_step_index(&wf, "recognizer__upload");
    int adult = fg_workflow_step_index(&wf, "recognizer__adult");
    int viol = fg_workflow_step_index(&wf, "recognizer__violence");
    int ext = fg_workflow_step_index(&wf, "recognizer__extract");
    int tr = fg_workflow_step_index(&wf, "recognizer__translate");
    int cen = fg_workflow_step_index(&wf, "recognizer__censor");
    int mos = fg_workflow_step_index(&wf, "recognizer__mosaic");
    assert_true(up >= 0 && adult >= 0 && viol >= 0 && ext >= 0 && tr >= 0 && cen >= 0 && mos >= 0);
    assert_int_equal(fg_workflow_step_index(&wf, "recognizer__nope"), -1);

    /* Mappings: upload reads the workflow input, translate reads extract. */
    assert_int_equal(wf.steps[up].n_in, 1);
    assert_int_equal(wf.steps[up].in[0].src_step, FG_WF_INPUTS);
    assert_string_equal(wf.steps[up].in[0].src_field, "img");
    assert_string_equal(wf.steps[up].out[0].src_field, "img_clean_b64");
    assert_int_equal(wf.steps[up].n_blob_out, 1);
    assert_string_equal(wf.steps[up].blob_out[0].src_field, "ref");
    assert_int_equal(wf.steps[tr].in[0].src_step, ext);
    assert_string_equal(wf.steps[tr].in[0].src_field, "text");
    assert_int_equal(wf.steps[cen].in[0].src_step, tr);
    assert_string_equal(wf.steps[cen].in[0].src_field, "translated_text");
    assert_int_equal(wf.steps[mos].in[0].src_step, up);
    assert_string_equal(wf.steps[mos].blob_out[0].name, "mosaic");
    assert_int_equal(wf.steps[cen].n_out, 2);
    assert_string_equal(wf.steps[cen].out[0].name, "illegal_text");
    assert_string_equal(wf.steps[cen].out[0].src_field, "illegal");

    assert_int_equal(wf.n_edges, 6);
    const fg_wf_edge *par = &wf.edges[0];
    assert_int_equal(par->type, FG_EDGE_PARALLEL);
    assert_int_equal(par->n_links, 2);
    assert_int_equal(par->links[0].n_from, 1);
    assert_int_equal(par->links[0].from[0], up);
    assert_int_equal(par->links[0].to, adult);
    assert_int_equal(par->links[1].to, viol);
    assert_true(par->links[0].shuffle_mb == 3.05);

    const fg_wf_edge *sw = &wf.edges[1];
    assert_int_equal(sw->type, FG_EDGE_SWITCH);
    assert_string_equal(sw->cond_text, "recognizer__adult.is_adult OR recognizer__violence.illegal");
    assert_non_null(sw->cond);
    int steps[4];
    assert_int_equal(fg_cond_steps(sw->cond, steps, 4), 2);
    assert_int_equal(steps[0], adult);
    assert_int_equal(steps[1], viol);
    assert_int_equal(sw->n_then, 1);
    assert_int_equal(sw->then_links[0].n_from, 2);
    assert_int_equal(sw->then_links[0].to, mos);
    assert_true(sw->then_links[0].shuffle_mb == 0.0002);
    assert_int_equal(sw->n_else, 1);
    assert_int_equal(sw->else_links[0].to, ext);
    assert_true(sw->else_links[0].shuffle_mb == 3.05);

    assert_int_equal(wf.edges[2].type, FG_EDGE_SEQUENTIAL);
    assert_int_equal(wf.edges[2].links[0].from[0], ext);
    assert_int_equal(wf.edges[2].links[0].to, tr);
    assert_int_equal(wf.edges[3].links[0].to, cen);
    const fg_wf_edge *sw2 = &wf.edges[4];
    assert_int_equal(sw2->type, FG_EDGE_SWITCH);
    assert_int_equal(sw2->then_links[0].to, mos);
    assert_int_equal(sw2->else_links[0].to, FG_WF_END);
    assert_int_equal(wf.edges[5].links[0].from[0], mos);
    assert_int_equal(wf.edges[5].links[0].to, FG_WF_END);
    assert_true(wf.edges[5].links[0].shuffle_mb == 2.0);

    fg_workflow_free(&wf);
    assert_null(wf.steps);
}

static void test_good_inline(void **state)
{
    (void)state;
    fg_workflow wf;
    fg_err err;
    assert_int_equal(parse(GOOD, &wf, &err), 0);
    assert_int_equal(wf.n_steps, 3);
    assert_string_equal(wf.path, "t.json");
    assert_true(wf.edges[0].links[0].shuffle_mb == 1.5);
    assert_true(wf.edges[1].then_links[0].shuffle_mb == 0);
    fg_workflow_free(&wf);
}

/* "nodes" is the older spelling of "steps": the same DAG, errors named as
 * the file names them; a file with both is refused. */
static void test_steps_older_spelling(void **state)
{
    (void)state;
    const char *older =
        "{'name':'t','inputs':{'img':'blob'},'nodes':[" STEPS_ABC "],"
        "'edges':[{'type':'sequential','from':'a','to':'b','shuffle_mb':1.5}," SWITCH_BC "]}";
    fg_workflow wf;
    fg_err err;
    assert_int_equal(parse(older, &wf, &err), 0);
    assert_int_equal(wf.n_steps, 3);
    assert_string_equal(wf.steps[1].id, "b");
    assert_int_equal(wf.steps[1].in[0].src_step, 0);
    assert_int_equal(wf.edges[1].then_links[0].to, 2);
    fg_workflow_free(&wf);

    expect_error("{'name':'t','inputs':{},'nodes':[{'id':'a','in':{},'out':{}},"
                 "{'id':'a','in':{},'out':{}}],'edges':[]}",
                 "t.json: nodes[1].id: duplicate step id 'a'");
    expect_error("{'name':'t','inputs':{},'nodes':[],'edges':[]}", "t.json: nodes: empty");
    expect_error("{'name':'t','inputs':{'img':'blob'},'steps':[" STEPS_ABC "],"
                 "'nodes':[" STEPS_ABC "],'edges':[]}",
                 "t.json: both 'steps' and 'nodes' (its older spelling): keep one");
    expect_error("{'name':'t','inputs':{},'steps':[],'nodes':[],'edges':[]}",
                 "both 'steps' and 'nodes'");
}

/* The blob probe's two functions come from the workflow: the first step
 * storing an input as a blob and the first step reading only that. */
static void test_blob_probe_from_workflow(void **state)
{
    (void)state;
    fg_workflow wf;
    load_shipped("recognizer.json", &wf);
    fg_blob_probe p;
    assert_int_equal(fg_blob_probe_from_workflow(&wf, &p), 0);
    assert_string_equal(p.upload, "recognizer__upload");
    assert_string_equal(p.field, "img_b64");
    assert_string_equal(p.ref_path, "ref");
    assert_string_equal(p.reader, "recognizer__adult");
    fg_workflow_free(&wf);

    /* No blob outputs: nothing to probe. */
    load_shipped("text.json", &wf);
    assert_int_equal(fg_blob_probe_from_workflow(&wf, &p), -1);
    fg_workflow_free(&wf);

    /* A reader of the blob beside another input is passed over; a nested
     * reference path is kept as written after "result.". */
    fg_err err;
    assert_int_equal(parse("{'name':'t','inputs':{'img':'blob'},'steps':["
                           "{'id':'up','in':{'f':'$inputs.img'},'out':{'o':'result.img'},"
                           "'blob_out':{'o':'result.stored.ref'}},"
                           "{'id':'x','in':{'f':'$inputs.img'},'out':{'p':'result.p'}},"
                           "{'id':'both','in':{'a':'$up.o','b':'$x.p'},'out':{}},"
                           "{'id':'one','in':{'a':'$up.o'},'out':{}}],"
                           "'edges':[{'type':'parallel','from':['up','x'],'to':'both'},"
                           "{'type':'sequential','from':'up','to':'one'}]}", &wf, &err), 0);
    assert_int_equal(fg_blob_probe_from_workflow(&wf, &p), 0);
    assert_string_equal(p.upload, "up");
    assert_string_equal(p.field, "f");
    assert_string_equal(p.ref_path, "stored.ref");
    assert_string_equal(p.reader, "one");
    fg_workflow_free(&wf);
}

static void test_missing_file(void **state)
{
    (void)state;
    fg_workflow wf;
    fg_err err = {""};
    assert_int_equal(fg_workflow_load("/nonexistent/wf.json", &wf, &err), -1);
    assert_non_null(strstr(err.msg, "/nonexistent/wf.json"));
}

static void test_invalid_json(void **state)
{
    (void)state;
    expect_error("{'name':'t',", "invalid JSON");
    expect_error("[1,2]", "not a JSON object");
    expect_error("{} trailing", "invalid JSON");
}

static void test_unknown_step_in_edge(void **state)
{
    (void)state;
    expect_error("{'name':'t','inputs':{'img':'blob'},'steps':[" STEPS_ABC "],"
                 "'edges':[{'type':'sequential','from':'a','to':'recognizer__foo'}," SWITCH_BC "]}",
                 "t.json: edges[0].to: unknown step 'recognizer__foo'");
    expect_error("{'name':'t','inputs':{'img':'blob'},'steps':[" STEPS_ABC "],"
                 "'edges':[{'type':'sequential','from':'zz','to':'b'}," SWITCH_BC "]}",
                 "edges[0].from: unknown step 'zz'");
    expect_error("{'name':'t','inputs':{'img':'blob'},'steps':[" STEPS_ABC "],"
                 "'edges':[{'type':'sequential','from':'a','to':'b'},"
                 "{'type':'switch','condition':'b.flag','then':[{'from':'b','to':'c'}],"
                 "'else':[{'from':['b','q'],'to':'END'}]}]}",
                 "edges[1].else[0].from: unknown step 'q'");
    expect_error("{'name':'t','inputs':{'img':'blob'},'steps':[" STEPS_ABC "],"
                 "'edges':[{'type':'sequential','from':'END','to':'b'}," SWITCH_BC "]}",
                 "edges[0].from: END can only be a target");
}

static void test_mappings(void **state)
{
    (void)state;
    const char *edges = "'edges':[{'type':'sequential','from':'a','to':'b'}]}";
    char buf[1024];
#define WF2(b_in, b_out) \
    (snprintf(buf, sizeof buf, "{'name':'t','inputs':{'img':'blob'},'steps':[" \
              "{'id':'a','in':{'x':'$inputs.img'},'out':{'y':'result.y'}}," \
              "{'id':'b','in':%s,'out':%s}],%s", b_in, b_out, edges), buf)
    expect_error(WF2("{'x':'$q.y'}", "{}"), "t.json: steps[1].in.x: '$q.y': unknown step 'q'");
    expect_error(WF2("{'x':'$a.nope'}", "{}"), "steps[1].in.x: '$a.nope': step 'a' has no output 'nope'");
    expect_error(WF2("{'x':'$inputs.nope'}", "{}"), "the workflow has no input 'nope'");
    expect_error(WF2("{'x':'a.y'}", "{}"), "steps[1].in.x: bad mapping 'a.y'");
    expect_error(WF2("{'x':'$a'}", "{}"), "steps[1].in.x: bad mapping '$a'");
    expect_error(WF2("{'x':'$a.y.z'}", "{}"), "bad mapping '$a.y.z'");
    expect_error(WF2("{'x':3}", "{}"), "steps[1].in.x: must be a string");
    expect_error(WF2("{'x':'$a.y'}", "{'o':'y'}"), "steps[1].out.o: bad mapping 'y'");
    expect_error(WF2("{'x':'$a.y'}", "{'o':'result.'}"), "steps[1].out.o: bad mapping");
    expect_error(WF2("{'x':'$a.y'}", "{'o':'result.a..b'}"), "steps[1].out.o: bad mapping");
    expect_error(WF2("{'x':'$a.y'}", "[]"), "steps[1].out: must be an object");
    /* A step may not read its own output. */
    expect_error(WF2("{'x':'$b.o'}", "{'o':'result.o'}"), "step 'b' does not always run before 'b'");
    /* Nested result paths are fine. */
    fg_workflow wf;
    fg_err err;
    assert_int_equal(parse(WF2("{'x':'$a.y'}", "{'o':'result.a.b'}"), &wf, &err), 0);
    assert_string_equal(wf.steps[1].out[0].src_field, "a.b");
    fg_workflow_free(&wf);
#undef WF2
}

/* "out" entries carry their type: {"from": path, "type": T}; the bare path
 * (older files) is untyped. Every mistake is named. */
static void test_output_types(void **state)
{
    (void)state;
    char buf[1024];
#define WF_OUT(out, blob) \
    (snprintf(buf, sizeof buf, "{'name':'t','inputs':{'img':'blob'},'steps':[" \
              "{'id':'a','in':{'x':'$inputs.img'},'out':%s%s}],'edges':[]}", out, blob), buf)
    fg_workflow wf;
    fg_err err;
    assert_int_equal(parse(WF_OUT("{'s':{'from':'result.s','type':'string'},"
                                  "'n':{'type':'number','from':'result.a.n'},"
                                  "'b':{'from':'result.b','type':'boolean'},"
                                  "'o':{'from':'result.o','type':'object'},"
                                  "'l':{'from':'result.l','type':'array'},"
                                  "'i':{'from':'result.i','type':'blob'},"
                                  "'u':'result.u'}", ",'blob_out':{'i':'result.ref'}"),
                           &wf, &err), 0);
    static const fg_wf_type want[] = {FG_WF_STRING, FG_WF_NUMBER, FG_WF_BOOLEAN, FG_WF_OBJECT,
                                      FG_WF_ARRAY, FG_WF_BLOB, FG_WF_ANY};
    assert_int_equal(wf.steps[0].n_out, 7);
    for (int i = 0; i < 7; i++) assert_int_equal(wf.steps[0].out[i].type, want[i]);
    assert_string_equal(wf.steps[0].out[1].src_field, "a.n");
    assert_string_equal(wf.steps[0].out[6].src_field, "u");
    assert_int_equal(wf.steps[0].blob_out[0].type, FG_WF_ANY);
    assert_string_equal(fg_wf_type_name(FG_WF_BLOB), "blob");
    fg_workflow_free(&wf);

    expect_error(WF_OUT("{'s':{'from':'result.s','type':'text'}}", ""),
                 "steps[0].out.s.type: unknown type 'text' (known: string, number, boolean, "
                 "object, array, blob)");
    expect_error(WF_OUT("{'s':{'from':'result.s','type':7}}", ""), "unknown type '(not a string)'");
    expect_error(WF_OUT("{'s':{'from':'result.s','type':'any'}}", ""), "unknown type 'any'");
    expect_error(WF_OUT("{'s':{'from':'result.s'}}", ""), "steps[0].out.s: missing 'type'");
    expect_error(WF_OUT("{'s':{'type':'string'}}", ""), "steps[0].out.s: missing 'from'");
    expect_error(WF_OUT("{'s':{'from':1,'type':'string'}}", ""), "steps[0].out.s.from: must be a string");
    expect_error(WF_OUT("{'s':{'from':'s','type':'string'}}", ""), "steps[0].out.s: bad mapping 's'");
    expect_error(WF_OUT("{'s':{'from':'result.s','type':'string','size':3}}", ""),
                 "steps[0].out.s: unknown key 'size' (known: from, type)");
    expect_error(WF_OUT("{'s':3}", ""), "steps[0].out.s: must be a string or {");
    /* An output passed by reference is a blob. */
    expect_error(WF_OUT("{'i':{'from':'result.i','type':'string'}}", ",'blob_out':{'i':'result.ref'}"),
                 "steps[0].out.i: type 'string', but it is in \"blob_out\"");
    /* Only "out" takes types: "in" and "blob_out" stay paths. */
    expect_error(WF_OUT("{'i':'result.i'}", ",'blob_out':{'i':{'from':'result.ref','type':'blob'}}"),
                 "steps[0].blob_out.i: must be a string");
#undef WF_OUT
}

/* The most steps of one instance in flight at once (what the descriptor
 * budget multiplies the load by): the widest set no link path orders. */
static void test_max_parallel(void **state)
{
    (void)state;
    static const struct { const char *file; int width; } shipped[] = {
        {"recognizer.json", 2},   /* adult with violence */
        {"text.json", 1}, {"single.json", 1}};
    for (int i = 0; i < 3; i++) {
        fg_workflow wf;
        load_shipped(shipped[i].file, &wf);
        assert_int_equal(wf.max_parallel, shipped[i].width);
        fg_workflow_free(&wf);
    }
    fg_workflow wf;
    fg_err err;
    assert_int_equal(parse(GOOD, &wf, &err), 0);
    assert_int_equal(wf.max_parallel, 1);   /* a -> b -> (switch) c: a chain */
    fg_workflow_free(&wf);
    assert_int_equal(parse("{'name':'t','inputs':{'img':'blob'},'steps':["
                           "{'id':'a','in':{'x':'$inputs.img'},'out':{'y':'result.y'}},"
                           "{'id':'b','in':{'x':'$a.y'},'out':{}},"
                           "{'id':'c','in':{'x':'$a.y'},'out':{'z':'result.z'}},"
                           "{'id':'d','in':{'x':'$c.z'},'out':{}},"
                           "{'id':'e','in':{'x':'$a.y'},'out':{}}],"
                           "'edges':[{'type':'parallel','from':'a','to':['b','c','e']},"
                           "{'type':'sequential','from':'c','to':'d'}]}", &wf, &err), 0);
    /* a fans out to b, c and e, c leads to d: b, c (or d) and e at once */
    assert_int_equal(wf.max_parallel, 3);
    fg_workflow_free(&wf);
}

/* The shipped workflows declare every output's type. */
static void test_shipped_outputs_typed(void **state)
{
    (void)state;
    static const char *const files[] = {"recognizer.json", "text.json", "single.json"};
    for (int f = 0; f < 3; f++) {
        fg_workflow wf;
        load_shipped(files[f], &wf);
        for (int i = 0; i < wf.n_steps; i++)
            for (int k = 0; k < wf.steps[i].n_out; k++)
                if (wf.steps[i].out[k].type == FG_WF_ANY)
                    fail_msg("%s: %s.%s has no type", files[f], wf.steps[i].id,
                             wf.steps[i].out[k].name);
        fg_workflow_free(&wf);
    }
    fg_workflow wf;
    load_shipped("recognizer.json", &wf);
    int up = fg_workflow_step_index(&wf, "recognizer__upload");
    int cen = fg_workflow_step_index(&wf, "recognizer__censor");
    assert_int_equal(wf.steps[up].out[0].type, FG_WF_BLOB);
    assert_int_equal(wf.steps[cen].out[0].type, FG_WF_BOOLEAN);
    assert_int_equal(wf.steps[cen].out[1].type, FG_WF_STRING);
    fg_workflow_free(&wf);
}

static void test_blob_out_must_name_an_output(void **state)
{
    (void)state;
    expect_error("{'name':'t','inputs':{'img':'blob'},'steps':["
                 "{'id':'a','in':{'x':'$inputs.img'},'out':{'y':'result.y'},'blob_out':{'w':'result.ref'}}],"
                 "'edges':[]}",
                 "steps[0].blob_out.w: no output 'w'");
}

static void test_cycle(void **state)
{
    (void)state;
    expect_error("{'name':'t','inputs':{'img':'blob'},'steps':[" STEPS_ABC "],"
                 "'edges':[{'type':'sequential','from':'a','to':'b'}," SWITCH_BC ","
                 "{'type':'sequential','from':'c','to':'b'}]}",
                 "t.json: edges: cycle through b → c → b");
    expect_error("{'name':'t','inputs':{'img':'blob'},'steps':[" STEPS_ABC "],"
                 "'edges':[{'type':'sequential','from':'a','to':'b'}," SWITCH_BC ","
                 "{'type':'sequential','from':'c','to':'c'}]}",
                 "cycle through c → c");
}

static void test_unreachable(void **state)
{
    (void)state;
    /* d appears in no edge. */
    expect_error("{'name':'t','inputs':{'img':'blob'},'steps':[" STEPS_ABC ","
                 "{'id':'d','in':{'x':'$inputs.img'},'out':{}}],"
                 "'edges':[{'type':'sequential','from':'a','to':'b'}," SWITCH_BC "]}",
                 "t.json: steps[3] 'd': unreachable: no edge leads to or from it");
    /* Nothing leads to b, which needs a's output: it could never start. */
    expect_error("{'name':'t','inputs':{'img':'blob'},'steps':[" STEPS_ABC "],"
                 "'edges':[{'type':'sequential','from':'a','to':'c'}," SWITCH_BC "]}",
                 "steps[1] 'b': unreachable: no edge leads to it, yet it reads '$a.y'");
    /* c runs after a, but reads b's flag on a path that skips b. */
    expect_error("{'name':'t','inputs':{'img':'blob'},'steps':["
                 "{'id':'a','in':{'x':'$inputs.img'},'out':{'y':'result.y'}},"
                 "{'id':'b','in':{'x':'$a.y'},'out':{'flag':'result.flag'}},"
                 "{'id':'c','in':{'x':'$b.flag'},'out':{}}],"
                 "'edges':[{'type':'parallel','from':'a','to':['b','c']}]}",
                 "steps[2].in.x: '$b.flag': step 'b' does not always run before 'c'");
    /* d can be reached through b or through c; only one path runs c. */
    expect_error("{'name':'t','inputs':{'img':'blob'},'steps':[" STEPS_ABC ","
                 "{'id':'d','in':{'x':'$c.z'},'out':{}}],"
                 "'edges':[{'type':'sequential','from':'a','to':'b'},"
                 "{'type':'switch','condition':'b.flag','then':[{'from':'b','to':'c'}],"
                 "'else':[{'from':'b','to':'d'}]},"
                 "{'type':'sequential','from':'c','to':'d'}]}",
                 "steps[3].in.x: '$c.z': step 'c' does not always run before 'd'");
    /* Reading a's output there is fine: a precedes d on every path. */
    fg_workflow wf;
    fg_err err;
    assert_int_equal(parse("{'name':'t','inputs':{'img':'blob'},'steps':[" STEPS_ABC ","
                           "{'id':'d','in':{'x':'$a.y','f':'$b.flag'},'out':{}}],"
                           "'edges':[{'type':'sequential','from':'a','to':'b'},"
                           "{'type':'switch','condition':'b.flag','then':[{'from':'b','to':'c'}],"
                           "'else':[{'from':'b','to':'d'}]},"
                           "{'type':'sequential','from':'c','to':'d'}]}", &wf, &err), 0);
    fg_workflow_free(&wf);
}

static void test_bad_condition(void **state)
{
    (void)state;
    expect_error("{'name':'t','inputs':{'img':'blob'},'steps':[" STEPS_ABC "],"
                 "'edges':[{'type':'sequential','from':'a','to':'b'},"
                 "{'type':'switch','condition':'b.flag AND','then':[{'from':'b','to':'c'}],'else':[]}]}",
                 "t.json: edges[1].condition 'b.flag AND': at position 11:");
    expect_error("{'name':'t','inputs':{'img':'blob'},'steps':[" STEPS_ABC "],"
                 "'edges':[{'type':'sequential','from':'a','to':'b'},"
                 "{'type':'switch','condition':'b.flg','then':[{'from':'b','to':'c'}],'else':[]}]}",
                 "edges[1].condition 'b.flg': at position 1: step 'b' has no output 'flg'");
    expect_error("{'name':'t','inputs':{'img':'blob'},'steps':[" STEPS_ABC "],"
                 "'edges':[{'type':'sequential','from':'a','to':'b'},"
                 "{'type':'switch','condition':'x.flag','then':[{'from':'b','to':'c'}],'else':[]}]}",
                 "unknown step 'x'");
}

static void test_missing_fields(void **state)
{
    (void)state;
    expect_error("{'inputs':{},'steps':[],'edges':[]}", "t.json: missing 'name'");
    expect_error("{'name':'t','steps':[],'edges':[]}", "missing 'inputs'");
    expect_error("{'name':'t','inputs':{},'edges':[]}", "missing 'steps'");
    expect_error("{'name':'t','inputs':{'img':'blob'},'steps':[" STEPS_ABC "]}", "missing 'edges'");
    expect_error("{'name':'t','inputs':{},'steps':[],'edges':[]}", "steps: empty");
    expect_error("{'name':'t','inputs':{},'steps':[{'in':{},'out':{}}],'edges':[]}",
                 "t.json: steps[0]: missing 'id'");
    expect_error("{'name':'t','inputs':{},'steps':[{'id':'a','out':{}}],'edges':[]}",
                 "steps[0] (a): missing 'in'");
    expect_error("{'name':'t','inputs':{},'steps':[{'id':'a','in':{}}],'edges':[]}",
                 "steps[0] (a): missing 'out'");
    expect_error("{'name':'t','inputs':{'img':'blob'},'steps':[" STEPS_ABC "],"
                 "'edges':[{'from':'a','to':'b'}]}", "edges[0]: missing 'type'");
    expect_error("{'name':'t','inputs':{'img':'blob'},'steps':[" STEPS_ABC "],"
                 "'edges':[{'type':'sequential','to':'b'}]}", "edges[0]: missing 'from'");
    expect_error("{'name':'t','inputs':{'img':'blob'},'steps':[" STEPS_ABC "],"
                 "'edges':[{'type':'sequential','from':'a'}]}", "edges[0]: missing 'to'");
    expect_error("{'name':'t','inputs':{'img':'blob'},'steps':[" STEPS_ABC "],"
                 "'edges':[{'type':'switch','then':[],'else':[]}]}", "edges[0]: missing 'condition'");
    expect_error("{'name':'t','inputs':{'img':'blob'},'steps':[" STEPS_ABC "],"
                 "'edges':[{'type':'switch','condition':'b.flag','then':[]}]}", "edges[0]: missing 'else'");
    expect_error("{'name':'t','inputs':{'img':'blob'},'steps':[" STEPS_ABC "],"
                 "'edges':[{'type':'fork','from':'a','to':'b'}]}",
                 "edges[0].type: 'fork', expected parallel, sequential or switch");
}

static void test_duplicate_and_unknown_keys(void **state)
{
    (void)state;
    expect_error("{'name':'t','inputs':{},'steps':[{'id':'a','in':{},'out':{}},"
                 "{'id':'a','in':{},'out':{}}],'edges':[]}",
                 "t.json: steps[1].id: duplicate step id 'a'");
    expect_error("{'name':'t','inputs':{},'steps':[{'id':'END','in':{},'out':{}}],'edges':[]}",
                 "steps[0].id: 'END' is reserved");
    expect_error("{'name':'t','inputs':{},'steps':[{'id':'a.b','in':{},'out':{}}],'edges':[]}",
                 "steps[0].id: must be a name");
    expect_error("{'name':'t','inputs':{},'steps':[{'id':'a','in':{},'out':{},'outs':{}}],'edges':[]}",
                 "steps[0]: unknown key 'outs'");
    expect_error("{'name':'t','inputs':{'img':'blob'},'steps':[" STEPS_ABC "],"
                 "'edges':[{'type':'sequential','from':'a','to':'b','shufle_mb':1}]}",
                 "edges[0]: unknown key 'shufle_mb'");
    expect_error("{'name':'t','inputs':{},'steps':[{'id':'a','in':{},'out':{}}],'edges':[],'edge':[]}",
                 "workflow: unknown key 'edge'");
    /* '_' keys are comments. */
    fg_workflow wf;
    fg_err err;
    assert_int_equal(parse("{'_comment':'x','name':'t','inputs':{},"
                           "'steps':[{'_c':1,'id':'a','in':{},'out':{}}],'edges':[]}", &wf, &err), 0);
    fg_workflow_free(&wf);
}

static void test_limits_and_types(void **state)
{
    (void)state;
    char buf[8192];
    int n = snprintf(buf, sizeof buf, "{'name':'t','inputs':{},'steps':[");
    for (int i = 0; i <= FG_WF_MAX_STEPS; i++)
        n += snprintf(buf + n, sizeof buf - (size_t)n, "%s{'id':'n%d','in':{},'out':{}}", i ? "," : "", i);
    snprintf(buf + n, sizeof buf - (size_t)n, "],'edges':[]}");
    expect_error(buf, "steps: 33 steps, over the limit of 32");

    n = snprintf(buf, sizeof buf, "{'name':'t','inputs':{},'steps':[");
    for (int i = 0; i < 10; i++)
        n += snprintf(buf + n, sizeof buf - (size_t)n, "{'id':'n%d','in':{},'out':{}},", i);
    n += snprintf(buf + n, sizeof buf - (size_t)n, "{'id':'sink','in':{},'out':{}}],"
                  "'edges':[{'type':'sequential','to':'sink','from':[");
    for (int i = 0; i < 10; i++)
        n += snprintf(buf + n, sizeof buf - (size_t)n, "%s'n%d'", i ? "," : "", i);
    snprintf(buf + n, sizeof buf - (size_t)n, "]}]}");
    expect_error(buf, "edges[0].from: 10 steps, over the fan-in limit of 8");

    expect_error("{'name':'t','inputs':{'img':'blob'},'steps':[" STEPS_ABC "],"
                 "'edges':[{'type':'sequential','from':'a','to':'b','shuffle_mb':-1}]}",
                 "edges[0].shuffle_mb: must be a number >= 0");
    expect_error("{'name':'t','inputs':{'img':'blob'},'steps':[" STEPS_ABC "],"
                 "'edges':[{'type':'sequential','from':['a','a'],'to':'b'}]}",
                 "edges[0].from: 'a' listed twice");
    expect_error("{'name':'t','inputs':{'img':'blob'},'steps':[" STEPS_ABC "],"
                 "'edges':[{'type':'parallel','from':'a','to':['b','b']}]}",
                 "edges[0].to: 'b' listed twice");
    expect_error("{'name':'t','inputs':{'img':'blob'},'steps':[" STEPS_ABC "],'edges':{}}",
                 "edges: missing or not an array");
}

/* One entry step reading the inputs, with a payload object spliced in. */
#define WF_PAYLOAD(inputs, payload) \
    "{'name':'t','inputs':" inputs ",'payload':" payload ",'steps':[" \
    "{'id':'a','cost_ms':12.5,'in':{'text':'$inputs.text'},'out':{'y':'result.y'}}],'edges':[]}"

static void test_payload_kinds(void **state)
{
    (void)state;
    fg_workflow wf;
    fg_err err;
    /* Absent: the generated test image, as the recognizer always had. */
    assert_int_equal(parse(GOOD, &wf, &err), 0);
    assert_int_equal(wf.payload.kind, FG_PAYLOAD_IMAGE);
    assert_true(wf.steps[0].cost_ms == 0);
    fg_workflow_free(&wf);

    assert_int_equal(parse(WF_PAYLOAD("{'text':'string'}", "{'kind':'json','value':{'text':'hola'}}"),
                           &wf, &err), 0);
    assert_int_equal(wf.payload.kind, FG_PAYLOAD_JSON);
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(wf.payload.value, "text")->valuestring, "hola");
    assert_true(wf.steps[0].cost_ms == 12.5);
    assert_null(wf.payload.path);
    fg_workflow_free(&wf);

    /* Relative paths are read from the workflow file's directory. */
    char *json = dq(WF_PAYLOAD("{'text':'string'}", "{'kind':'json_file','path':'../in/x.json'}"));
    assert_int_equal(fg_workflow_parse(json, "data/workflows/t.json", &wf, &err), 0);
    free(json);
    assert_int_equal(wf.payload.kind, FG_PAYLOAD_JSON_FILE);
    assert_string_equal(wf.payload.path, "data/workflows/../in/x.json");
    fg_workflow_free(&wf);
    json = dq(WF_PAYLOAD("{'text':'blob'}", "{'kind':'file','path':'/abs/f.bin'}"));
    assert_int_equal(fg_workflow_parse(json, "data/workflows/t.json", &wf, &err), 0);
    free(json);
    assert_int_equal(wf.payload.kind, FG_PAYLOAD_FILE);
    assert_string_equal(wf.payload.path, "/abs/f.bin");
    fg_workflow_free(&wf);

    assert_string_equal(fg_payload_kind_name(FG_PAYLOAD_JSON_FILE), "json_file");
    assert_null(fg_payload_kind_name((fg_payload_kind)99));
}

/* Each bad payload is refused at load with one line naming the problem. */
static void test_payload_bad(void **state)
{
    (void)state;
#define TEXT1 "{'text':'string'}"
    static const struct { const char *workflow, *says; } cases[] = {
        {WF_PAYLOAD(TEXT1, "{'kind':'yaml'}"),
         "payload.kind: unknown kind 'yaml' (known: image, json, json_file, file)"},
        {WF_PAYLOAD(TEXT1, "{'kind':3}"), "unknown kind '(not a string)'"},
        {WF_PAYLOAD(TEXT1, "{'value':{}}"), "payload: missing 'kind'"},
        {WF_PAYLOAD(TEXT1, "'json'"), "payload: must be an object"},
        {WF_PAYLOAD(TEXT1, "{'kind':'json'}"), "payload: missing 'value'"},
        {WF_PAYLOAD(TEXT1, "{'kind':'json','value':'hola'}"), "payload.value: must be a JSON object"},
        {WF_PAYLOAD(TEXT1, "{'kind':'json','value':{}}"), "payload.value: missing input 'text'"},
        {WF_PAYLOAD(TEXT1, "{'kind':'json','value':{'text':'a','txet':'b'}}"),
         "payload.value: field 'txet' is not an input of workflow 't'"},
        {WF_PAYLOAD(TEXT1, "{'kind':'json_file'}"), "payload: missing 'path'"},
        {WF_PAYLOAD(TEXT1, "{'kind':'file','path':''}"), "payload.path: must be a non-empty string"},
        {WF_PAYLOAD(TEXT1, "{'kind':'image','path':'x.png'}"),
         "payload: unknown key 'path' (known: kind)"},
        {WF_PAYLOAD("{'text':'string','lang':'string'}", "{'kind':'image'}"),
         "payload: kind 'image' is one input, the workflow declares 2"},
        {"{'name':'t','inputs':{'text':'s'},'steps':[{'id':'a','cost_ms':0,"
         "'in':{'text':'$inputs.text'},'out':{}}],'edges':[]}",
         "steps[0] (a).cost_ms: must be a number > 0"},
        {"{'name':'t','inputs':{'text':'s'},'steps':[{'id':'a','cost_ms':'5',"
         "'in':{'text':'$inputs.text'},'out':{}}],'edges':[]}",
         "steps[0] (a).cost_ms: must be a number > 0"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        expect_error(cases[i].workflow, cases[i].says);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_recognizer_structure),
        cmocka_unit_test(test_good_inline),
        cmocka_unit_test(test_steps_older_spelling),
        cmocka_unit_test(test_blob_probe_from_workflow),
        cmocka_unit_test(test_missing_file),
        cmocka_unit_test(test_invalid_json),
        cmocka_unit_test(test_unknown_step_in_edge),
        cmocka_unit_test(test_mappings),
        cmocka_unit_test(test_output_types),
        cmocka_unit_test(test_shipped_outputs_typed),
        cmocka_unit_test(test_max_parallel),
        cmocka_unit_test(test_blob_out_must_name_an_output),
        cmocka_unit_test(test_cycle),
        cmocka_unit_test(test_unreachable),
        cmocka_unit_test(test_bad_condition),
        cmocka_unit_test(test_missing_fields),
        cmocka_unit_test(test_duplicate_and_unknown_keys),
        cmocka_unit_test(test_limits_and_types),
        cmocka_unit_test(test_payload_kinds),
        cmocka_unit_test(test_payload_bad),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
