/* test_sched.c — each placement policy on constructed node states, the
 * power-law fit, and calibration profiles (save/load, fallback). The
 * workflow is built in memory with the recognizer's shape so that these
 * tests depend on the scheduler alone; one test also derives the faaspr
 * groups from data/workflows/recognizer.json. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "flowgate/sched.h"

enum { UPLOAD, ADULT, VIOLENCE, EXTRACT, TRANSLATE, CENSOR, MOSAIC, N_FN };

static char *fn_ids[N_FN] = {"recognizer__upload", "recognizer__adult", "recognizer__violence",
                             "recognizer__extract", "recognizer__translate", "recognizer__censor",
                             "recognizer__mosaic"};
/* The workflow file's "cost_ms" (as in recognizer.json): the fallback's base costs. */
static const double fn_cost_ms[N_FN] = {50, 60, 60, 450, 0.1, 0.1, 110};
static fg_wf_step wf_steps[N_FN];
static fg_wf_link par_links[2], then1[1], else1[1], seq1[1], seq2[1], then2[1], else2[1];
static fg_wf_edge wf_edges[5];
static fg_workflow wf;

static fg_wf_link link1(int from, int to)
{
    fg_wf_link l = {.n_from = 1, .to = to};
    l.from[0] = from;
    return l;
}

static fg_wf_link link2(int a, int b, int to)
{
    fg_wf_link l = {.n_from = 2, .to = to};
    l.from[0] = a;
    l.from[1] = b;
    return l;
}

/* upload → (adult ∥ violence) → switch → mosaic | extract → translate → censor → switch → mosaic | END */
static void build_workflow(void)
{
    memset(&wf, 0, sizeof wf);
    for (int i = 0; i < N_FN; i++)
        wf_steps[i] = (fg_wf_step){.id = fn_ids[i], .cost_ms = fn_cost_ms[i]};
    par_links[0] = link1(UPLOAD, ADULT);
    par_links[1] = link1(UPLOAD, VIOLENCE);
    then1[0] = link2(ADULT, VIOLENCE, MOSAIC);
    else1[0] = link2(ADULT, VIOLENCE, EXTRACT);
    seq1[0] = link1(EXTRACT, TRANSLATE);
    seq2[0] = link1(TRANSLATE, CENSOR);
    then2[0] = link1(CENSOR, MOSAIC);
    else2[0] = link1(CENSOR, FG_WF_END);
    wf_edges[0] = (fg_wf_edge){.type = FG_EDGE_PARALLEL, .links = par_links, .n_links = 2};
    wf_edges[1] = (fg_wf_edge){.type = FG_EDGE_SWITCH, .then_links = then1, .n_then = 1,
                               .else_links = else1, .n_else = 1};
    wf_edges[2] = (fg_wf_edge){.type = FG_EDGE_SEQUENTIAL, .links = seq1, .n_links = 1};
    wf_edges[3] = (fg_wf_edge){.type = FG_EDGE_SEQUENTIAL, .links = seq2, .n_links = 1};
    wf_edges[4] = (fg_wf_edge){.type = FG_EDGE_SWITCH, .then_links = then2, .n_then = 1,
                               .else_links = else2, .n_else = 1};
    wf.name = "recognizer";
    wf.steps = wf_steps;
    wf.n_steps = N_FN;
    wf.edges = wf_edges;
    wf.n_edges = 5;
}

/* The 4-node heterogeneous layout of data/nodes.json, or uniform nodes. */
static void build_cluster(fg_cluster *c, fg_node_state *st, int uniform)
{
    static const int workers[4] = {3, 2, 1, 4};
    static const double bw[4] = {4000, 2000, 1000, 8000};
    memset(c, 0, sizeof *c);
    c->mode = FG_CLUSTER_NODES;
    c->n_nodes = 4;
    for (int i = 0; i < 4; i++) {
        snprintf(c->nodes[i].name, sizeof c->nodes[i].name, "node%d", i);
        snprintf(c->nodes[i].url, sizeof c->nodes[i].url, "http://127.0.0.1:%d", 8100 + i);
        c->nodes[i].workers = uniform ? 2 : workers[i];
        c->nodes[i].bandwidth_mbit = uniform ? 1000 : bw[i];
        c->nodes[i].latency_ms = uniform ? 0.5 : 0.1 * (i + 1);
        st[i] = (fg_node_state){.inflight = 0, .capacity = c->nodes[i].workers,
                                .bandwidth_mbit = c->nodes[i].bandwidth_mbit,
                                .latency_ms = c->nodes[i].latency_ms, .up = 1};
    }
}

static fg_sched_request request(uint64_t id, int step, int input_node, double mb)
{
    fg_sched_request r = {.request_id = id, .step = step, .function = fn_ids[step], .prev_node = -1};
    r.inputs[0] = (fg_sched_input){.node = input_node, .mb = mb};
    r.n_inputs = 1;
    return r;
}

static fg_scheduler *new_sched(const char *name, const fg_cluster *c, const fg_profile *p)
{
    fg_err err = {{0}};
    fg_scheduler *s = fg_sched_new(name, &wf, c, p, &err);
    if (!s) fail_msg("fg_sched_new(%s): %s", name, err.msg);
    assert_string_equal(fg_sched_name(s), name);
    return s;
}

static int setup(void **state)
{
    (void)state;
    build_workflow();
    return 0;
}

static void test_unknown_scheduler(void **state)
{
    (void)state;
    fg_cluster c;
    fg_node_state st[4];
    build_cluster(&c, st, 0);
    fg_err err = {{0}};
    assert_null(fg_sched_new("fastest", &wf, &c, NULL, &err));
    assert_string_equal(err.msg, "unknown scheduler 'fastest' (known: ours, faaspr, palette, round_robin)");
    for (int i = 0; fg_sched_names[i]; i++) {
        fg_scheduler *s = new_sched(fg_sched_names[i], &c, NULL);
        fg_sched_free(s);
    }
}

static void test_round_robin_cycles_and_skips_down(void **state)
{
    (void)state;
    fg_cluster c;
    fg_node_state st[4];
    build_cluster(&c, st, 0);
    fg_scheduler *s = new_sched("round_robin", &c, NULL);
    fg_sched_request r = request(1, UPLOAD, -1, 1.0);
    int expect[] = {0, 1, 2, 3, 0, 1};
    for (int i = 0; i < 6; i++) assert_int_equal(fg_sched_pick(s, &r, st, 4), expect[i]);
    /* cursor is at node 2; node 2 goes down */
    st[2].up = 0;
    int expect_down[] = {3, 0, 1, 3, 0, 1};
    for (int i = 0; i < 6; i++) assert_int_equal(fg_sched_pick(s, &r, st, 4), expect_down[i]);
    /* nothing up: still cycles over all of them */
    for (int i = 0; i < 4; i++) st[i].up = 0;
    int seen[4] = {0};
    for (int i = 0; i < 4; i++) seen[fg_sched_pick(s, &r, st, 4)]++;
    for (int i = 0; i < 4; i++) assert_int_equal(seen[i], 1);
    fg_sched_free(s);
}

static void test_palette_sticks_per_request_and_moves_off_down(void **state)
{
    (void)state;
    fg_cluster c;
    fg_node_state st[4];
    build_cluster(&c, st, 0);
    fg_scheduler *s = new_sched("palette", &c, NULL);
    int per_node[4] = {0};
    for (uint64_t id = 1; id <= 2000; id++) {
        fg_sched_request r = request(id, UPLOAD, -1, 1.0);
        int home = fg_sched_pick(s, &r, st, 4);
        assert_in_range(home, 0, 3);
        per_node[home]++;
        /* every function of the request, whatever the load, stays home */
        st[home].inflight = 50;
        for (int fn = 0; fn < N_FN; fn++) {
            fg_sched_request rf = request(id, fn, home, 1.0);
            assert_int_equal(fg_sched_pick(s, &rf, st, 4), home);
        }
        st[home].inflight = 0;
    }
    /* colours follow capacity: node3 (4 workers) beats node2 (1 worker) */
    for (int i = 0; i < 4; i++) assert_true(per_node[i] > 0);
    assert_true(per_node[3] > 2 * per_node[2]);

    /* find a request whose home is node 1; node 1 goes down → next up node */
    uint64_t id = 1;
    fg_sched_request r;
    for (;; id++) {
        r = request(id, UPLOAD, -1, 1.0);
        if (fg_sched_pick(s, &r, st, 4) == 1) break;
    }
    st[1].up = 0;
    assert_int_equal(fg_sched_pick(s, &r, st, 4), 2);
    st[2].up = 0;
    assert_int_equal(fg_sched_pick(s, &r, st, 4), 3);
    st[1].up = 1;
    assert_int_equal(fg_sched_pick(s, &r, st, 4), 1);
    fg_sched_free(s);
}

static void test_faaspr_groups_critical_path(void **state)
{
    (void)state;
    fg_cluster c;
    fg_node_state st[4];
    build_cluster(&c, st, 0);
    fg_scheduler *s = new_sched("faaspr", &c, NULL);
    /* the longest path by cost runs through OCR: upload → adult → extract →
     * translate → censor → mosaic; violence (parallel to adult) is apart */
    int g = fg_sched_group_of(s, UPLOAD);
    assert_int_equal(g, 0);
    assert_int_equal(fg_sched_group_of(s, ADULT), 0);
    assert_int_equal(fg_sched_group_of(s, EXTRACT), 0);
    assert_int_equal(fg_sched_group_of(s, TRANSLATE), 0);
    assert_int_equal(fg_sched_group_of(s, CENSOR), 0);
    assert_int_equal(fg_sched_group_of(s, MOSAIC), 0);
    assert_int_equal(fg_sched_group_of(s, VIOLENCE), 1);
    fg_sched_free(s);
    s = new_sched("round_robin", &c, NULL);
    assert_int_equal(fg_sched_group_of(s, UPLOAD), -1);
    fg_sched_free(s);
}

static void test_faaspr_recognizer_file_groups(void **state)
{
    (void)state;
    char path[1024];
    snprintf(path, sizeof path, "%s/workflows/recognizer.json", fg_data_dir());
    fg_workflow real;
    fg_err err = {{0}};
    if (fg_workflow_load(path, &real, &err) != 0) fail_msg("%s", err.msg);
    fg_cluster c;
    fg_node_state st[4];
    build_cluster(&c, st, 0);
    fg_scheduler *s = fg_sched_new("faaspr", &real, &c, NULL, &err);
    assert_non_null(s);
    int extract = fg_workflow_step_index(&real, "recognizer__extract");
    int censor = fg_workflow_step_index(&real, "recognizer__censor");
    int upload = fg_workflow_step_index(&real, "recognizer__upload");
    int violence = fg_workflow_step_index(&real, "recognizer__violence");
    assert_int_equal(fg_sched_group_of(s, extract), 0);
    assert_int_equal(fg_sched_group_of(s, censor), 0);
    assert_int_equal(fg_sched_group_of(s, upload), 0);
    assert_int_not_equal(fg_sched_group_of(s, violence), 0);
    fg_sched_free(s);
    fg_workflow_free(&real);
}

static void test_faaspr_keeps_group_on_freest_node(void **state)
{
    (void)state;
    fg_cluster c;
    fg_node_state st[4];
    build_cluster(&c, st, 0);
    fg_scheduler *s = new_sched("faaspr", &c, NULL);
    /* free workers: node0 3-2=1, node1 2-0=2, node2 1-1=0, node3 4-3=1 */
    st[0].inflight = 2; st[1].inflight = 0; st[2].inflight = 1; st[3].inflight = 3;
    fg_sched_request up = request(7, UPLOAD, -1, 2.0);
    assert_int_equal(fg_sched_pick(s, &up, st, 4), 1);
    /* node1 is now the busiest; the rest of group 0 stays there */
    st[1].inflight = 9;
    fg_sched_request adult = request(7, ADULT, 1, 2.0);
    fg_sched_request extract = request(7, EXTRACT, 1, 2.0);
    assert_int_equal(fg_sched_pick(s, &adult, st, 4), 1);
    assert_int_equal(fg_sched_pick(s, &extract, st, 4), 1);
    /* violence is group 1: placed now, on the freest node (node0 and node3
     * have 1 free each → the one with more workers, node3) */
    fg_sched_request violence = request(7, VIOLENCE, 1, 2.0);
    assert_int_equal(fg_sched_pick(s, &violence, st, 4), 3);
    st[3].inflight = 0;
    assert_int_equal(fg_sched_pick(s, &violence, st, 4), 3);
    /* another request is placed afresh: node3 is now the freest */
    fg_sched_request other = request(8, UPLOAD, -1, 2.0);
    assert_int_equal(fg_sched_pick(s, &other, st, 4), 3);
    /* group's node goes down → the group moves to the freest up node */
    st[1].up = 0;
    st[3].inflight = 4;
    assert_int_equal(fg_sched_pick(s, &extract, st, 4), 0);
    st[1].up = 1;
    assert_int_equal(fg_sched_pick(s, &extract, st, 4), 0);
    fg_sched_free(s);
}

static void test_faaspr_saturated_routes_by_capacity(void **state)
{
    (void)state;
    fg_cluster c;
    fg_node_state st[4];
    build_cluster(&c, st, 0);
    fg_scheduler *s = new_sched("faaspr", &c, NULL);
    for (int i = 0; i < 4; i++) st[i].inflight = st[i].capacity + 5;
    int count[4] = {0};
    for (uint64_t id = 100; id < 100 + 10 * 10; id++) {   /* 10 rounds of total weight 10 */
        fg_sched_request r = request(id, UPLOAD, -1, 1.0);
        count[fg_sched_pick(s, &r, st, 4)]++;
    }
    assert_int_equal(count[0], 30);
    assert_int_equal(count[1], 20);
    assert_int_equal(count[2], 10);
    assert_int_equal(count[3], 40);
    fg_sched_free(s);
}

static void test_ours_follows_data_when_transfer_dominates(void **state)
{
    (void)state;
    fg_cluster c;
    fg_node_state st[4];
    build_cluster(&c, st, 1);      /* identical nodes: only the data differs */
    for (int i = 0; i < 4; i++) st[i].bandwidth_mbit = 100;
    fg_scheduler *s = new_sched("ours", &c, NULL);
    fg_sched_request r = request(1, MOSAIC, 2, 20.0);   /* 20 MB on node2: ~1.7 s away */
    assert_int_equal(fg_sched_pick(s, &r, st, 4), 2);
    r.inputs[0].node = 3;
    assert_int_equal(fg_sched_pick(s, &r, st, 4), 3);
    /* inline input: all equal, the lowest index wins the tie */
    r.inputs[0].node = -1;
    assert_int_equal(fg_sched_pick(s, &r, st, 4), 0);
    /* the data's node is down → not chosen */
    r.inputs[0].node = 2;
    st[2].up = 0;
    assert_int_not_equal(fg_sched_pick(s, &r, st, 4), 2);
    fg_sched_free(s);
}

static void test_ours_avoids_queues(void **state)
{
    (void)state;
    fg_cluster c;
    fg_node_state st[4];
    build_cluster(&c, st, 1);
    fg_scheduler *s = new_sched("ours", &c, NULL);
    /* small input on node1, but node1 is 20 deep; node2 idle */
    st[0].inflight = 3; st[1].inflight = 20; st[2].inflight = 0; st[3].inflight = 2;
    fg_sched_request r = request(1, EXTRACT, 1, 0.1);
    assert_int_equal(fg_sched_pick(s, &r, st, 4), 2);
    /* busy but not queued (inflight < capacity) costs nothing extra */
    st[2].inflight = 1;
    st[0].inflight = 0;
    assert_int_equal(fg_sched_pick(s, &r, st, 4), 0);
    fg_sched_free(s);
}

static void test_ours_weighs_the_work_in_flight(void **state)
{
    (void)state;
    fg_cluster c;
    fg_node_state st[4];
    build_cluster(&c, st, 1);      /* 2 workers each */
    fg_scheduler *s = new_sched("ours", &c, NULL);
    /* three OCR jobs placed on node0 (the only node up), three uploads on node1 */
    st[1].up = st[2].up = st[3].up = 0;
    for (int i = 0; i < 3; i++) {
        fg_sched_request r = request(10 + i, EXTRACT, -1, 1.0);
        assert_int_equal(fg_sched_pick(s, &r, st, 4), 0);
        st[0].inflight++;
    }
    st[0].up = 0;
    st[1].up = 1;
    for (int i = 0; i < 3; i++) {
        fg_sched_request r = request(20 + i, UPLOAD, -1, 1.0);
        assert_int_equal(fg_sched_pick(s, &r, st, 4), 1);
        st[1].inflight++;
    }
    st[0].up = 1;
    /* same depth on both, but the wait behind OCR is longer */
    fg_sched_request next = request(30, UPLOAD, -1, 1.0);
    assert_int_equal(fg_sched_pick(s, &next, st, 4), 1);
    /* a scheduler that placed none of it sees equal queues: lowest index */
    fg_scheduler *fresh = new_sched("ours", &c, NULL);
    assert_int_equal(fg_sched_pick(fresh, &next, st, 4), 0);
    fg_sched_free(fresh);
    fg_sched_free(s);
}

static void test_ours_respects_alpha(void **state)
{
    (void)state;
    fg_cluster c;
    fg_node_state st[4];
    build_cluster(&c, st, 1);
    fg_profile p;
    fg_profile_fallback(&p, &c, &wf);
    int f = EXTRACT;
    for (int n = 0; n < 4; n++) p.alpha[f][n] = 400;
    p.alpha[f][3] = 100;            /* node3 runs OCR four times faster */
    p.calibrated = 1;
    fg_scheduler *s = new_sched("ours", &c, &p);
    fg_sched_request r = request(1, EXTRACT, -1, 1.0);
    assert_int_equal(fg_sched_pick(s, &r, st, 4), 3);
    /* ... until its queue outweighs that: 7 ahead × 100/2 = 350, + 100 > 400 */
    st[3].inflight = 8;
    assert_int_equal(fg_sched_pick(s, &r, st, 4), 0);
    /* eta matters: with eta 2 at 0.1 MB node 3 stays cheap */
    st[3].inflight = 0;
    for (int n = 0; n < 4; n++) p.eta[f][n] = 2;
    fg_sched_free(s);
    s = new_sched("ours", &c, &p);
    r.inputs[0].mb = 0.1;
    assert_int_equal(fg_sched_pick(s, &r, st, 4), 3);
    fg_sched_free(s);

    /* the fallback prefers the node with more workers when all are idle */
    fg_node_state hs[4];
    build_cluster(&c, hs, 0);
    s = new_sched("ours", &c, NULL);
    assert_int_equal(fg_sched_pick(s, &r, hs, 4), 3);
    fg_sched_free(s);
}

static void test_single_node_and_empty(void **state)
{
    (void)state;
    fg_cluster c;
    fg_node_state st[4];
    build_cluster(&c, st, 0);
    for (int i = 0; fg_sched_names[i]; i++) {
        fg_scheduler *s = new_sched(fg_sched_names[i], &c, NULL);
        fg_sched_request r = request(3, UPLOAD, -1, 1.0);
        assert_int_equal(fg_sched_pick(s, &r, st, 1), 0);
        assert_int_equal(fg_sched_pick(s, &r, st, 0), -1);
        fg_sched_free(s);
    }
}

static void test_fit_exact(void **state)
{
    (void)state;
    double sizes[] = {0.1, 0.5, 1, 2, 5};
    double ms[5];
    for (int i = 0; i < 5; i++) ms[i] = 120.0 * pow(sizes[i], 0.8);
    double alpha = 0, eta = 0;
    double r2 = fg_fit_power_law(sizes, ms, 5, &alpha, &eta);
    assert_true(fabs(alpha - 120.0) < 1e-9);
    assert_true(fabs(eta - 0.8) < 1e-12);
    assert_true(fabs(r2 - 1.0) < 1e-12);
}

static void test_fit_noisy_and_degenerate(void **state)
{
    (void)state;
    double sizes[] = {0.1, 0.5, 1, 2, 5, 10};
    double noise[] = {1.3, 0.7, 1.25, 0.8, 1.2, 0.75};
    double ms[6];
    for (int i = 0; i < 6; i++) ms[i] = 50.0 * sizes[i] * noise[i];
    double alpha, eta;
    double r2 = fg_fit_power_law(sizes, ms, 6, &alpha, &eta);
    assert_true(r2 < 0.999);
    assert_true(r2 > 0.5);
    assert_true(eta > 0.7 && eta < 1.3);

    /* one point: no slope, the time is a constant */
    r2 = fg_fit_power_law(sizes + 2, ms + 2, 1, &alpha, &eta);
    assert_true(isnan(r2));
    assert_true(eta == 0);
    assert_true(fabs(alpha - ms[2]) < 1e-9);
    /* one size repeated: same */
    double same[] = {2, 2, 2}, t[] = {10, 20, 40};
    r2 = fg_fit_power_law(same, t, 3, &alpha, &eta);
    assert_true(isnan(r2));
    assert_true(eta == 0);
    assert_true(fabs(alpha - 20.0) < 1e-9);   /* geometric mean */
    /* constant time over sizes: flat line, exact */
    double flat[] = {7, 7, 7};
    double sz[] = {0.1, 1, 10};
    r2 = fg_fit_power_law(sz, flat, 3, &alpha, &eta);
    assert_true(fabs(eta) < 1e-12);
    assert_true(fabs(alpha - 7) < 1e-9);
    assert_true(r2 == 1.0);
    /* nothing usable */
    double zero[] = {0, -1};
    r2 = fg_fit_power_law(zero, zero, 2, &alpha, &eta);
    assert_true(isnan(r2) && isnan(alpha) && isnan(eta));
}

static void test_profile_round_trip(void **state)
{
    (void)state;
    fg_cluster c;
    fg_node_state st[4];
    build_cluster(&c, st, 0);
    fg_profile p, q;
    fg_profile_fallback(&p, &c, &wf);
    snprintf(p.name, sizeof p.name, "roundtrip");
    p.calibrated = 1;
    p.alpha[EXTRACT][2] = 812.25;
    p.eta[EXTRACT][2] = 0.93;
    p.r2[EXTRACT][2] = 0.998;
    p.eta[CENSOR][1] = 0;
    char dir[] = "/tmp/test_sched_XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[256];
    snprintf(path, sizeof path, "%s/profiles/roundtrip.json", dir);   /* profiles/ created */
    fg_err err = {{0}};
    if (fg_profile_save(path, &p, &err) != 0) fail_msg("%s", err.msg);
    if (fg_profile_load(path, &q, &err) != 0) fail_msg("%s", err.msg);
    assert_string_equal(q.name, "roundtrip");
    assert_int_equal(q.calibrated, 1);
    assert_int_equal(q.n_nodes, 4);
    assert_int_equal(q.n_functions, N_FN);
    for (int f = 0; f < N_FN; f++) {
        assert_string_equal(q.functions[f], fn_ids[f]);
        for (int n = 0; n < 4; n++) {
            assert_true(fabs(q.alpha[f][n] - p.alpha[f][n]) < 1e-9 * p.alpha[f][n]);
            assert_true(fabs(q.eta[f][n] - p.eta[f][n]) < 1e-12);
            assert_true(isnan(p.r2[f][n]) ? isnan(q.r2[f][n]) : fabs(q.r2[f][n] - p.r2[f][n]) < 1e-12);
        }
    }

    /* a malformed profile names the key */
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fputs("{\"name\":\"x\",\"calibrated\":true,\"nodes\":[\"node0\"],"
          "\"functions\":{\"recognizer__extract\":{\"node0\":{\"alpha\":-3,\"eta\":1}}}}", fp);
    fclose(fp);
    assert_int_equal(fg_profile_load(path, &q, &err), -1);
    assert_non_null(strstr(err.msg, "functions.recognizer__extract.node0.alpha"));
    fp = fopen(path, "w");
    fputs("{\"name\":\"x\",\"nodes\":[\"node0\"],"
          "\"functions\":{\"recognizer__extract\":{\"node9\":{\"alpha\":3,\"eta\":1}}}}", fp);
    fclose(fp);
    assert_int_equal(fg_profile_load(path, &q, &err), -1);
    assert_non_null(strstr(err.msg, "node9"));
    fp = fopen(path, "w");
    fputs("{\"name\":", fp);
    fclose(fp);
    assert_int_equal(fg_profile_load(path, &q, &err), -1);
    assert_non_null(strstr(err.msg, "invalid JSON"));
    unlink(path);
    char sub[256];
    snprintf(sub, sizeof sub, "%s/profiles", dir);
    rmdir(sub);
    rmdir(dir);
}

static void test_fallback(void **state)
{
    (void)state;
    fg_cluster c;
    fg_node_state st[4];
    build_cluster(&c, st, 0);   /* workers 3, 2, 1, 4: mean 2.5 */
    fg_profile p;
    fg_profile_fallback(&p, &c, &wf);
    assert_int_equal(p.calibrated, 0);
    assert_int_equal(p.n_functions, N_FN);
    assert_int_equal(p.n_nodes, 4);
    for (int n = 0; n < 4; n++) {
        for (int f = 0; f < N_FN; f++) {
            assert_true(p.eta[f][n] == 1.0);
            if (f != EXTRACT) assert_true(p.alpha[EXTRACT][n] > p.alpha[f][n]);
        }
    }
    /* alpha = the node's cost_ms / (workers / mean workers) */
    for (int f = 0; f < N_FN; f++) {
        assert_true(fabs(p.alpha[f][2] / p.alpha[f][3] - 4.0) < 1e-9);
        assert_true(fabs(p.alpha[f][0] * 3 - p.alpha[f][1] * 2) < 1e-9);
        assert_true(fabs(p.alpha[f][0] - fn_cost_ms[f] / (3 / 2.5)) < 1e-9);
    }
    /* A node without cost_ms gets the middling 50 ms, whatever its name. */
    wf_steps[EXTRACT].cost_ms = 0;
    fg_profile_fallback(&p, &c, &wf);
    wf_steps[EXTRACT].cost_ms = fn_cost_ms[EXTRACT];
    assert_true(fabs(p.alpha[EXTRACT][0] - 50 / (3 / 2.5)) < 1e-9);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_unknown_scheduler),
        cmocka_unit_test(test_round_robin_cycles_and_skips_down),
        cmocka_unit_test(test_palette_sticks_per_request_and_moves_off_down),
        cmocka_unit_test(test_faaspr_groups_critical_path),
        cmocka_unit_test(test_faaspr_recognizer_file_groups),
        cmocka_unit_test(test_faaspr_keeps_group_on_freest_node),
        cmocka_unit_test(test_faaspr_saturated_routes_by_capacity),
        cmocka_unit_test(test_ours_follows_data_when_transfer_dominates),
        cmocka_unit_test(test_ours_avoids_queues),
        cmocka_unit_test(test_ours_weighs_the_work_in_flight),
        cmocka_unit_test(test_ours_respects_alpha),
        cmocka_unit_test(test_single_node_and_empty),
        cmocka_unit_test(test_fit_exact),
        cmocka_unit_test(test_fit_noisy_and_degenerate),
        cmocka_unit_test(test_profile_round_trip),
        cmocka_unit_test(test_fallback),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
