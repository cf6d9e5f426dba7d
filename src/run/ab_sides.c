/* ab_sides.c — an A/B run against two real systems (design in
 * ab_sides.h): the procedure is ab.c's; here each side becomes a runner
 * with its own configuration and results directory, and the verdict
 * becomes files. Everything is checked before anything is created, so
 * bad input leaves no empty results/ab-<id> behind, and the stop catcher
 * is in place before the servers start, so a stop always ends in
 * fg_runner_close, which stops them. */
#include "flowgate/ab_sides.h"
#include "flowgate/preflight.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <cjson/cJSON.h>
#include <curl/curl.h>

#include "flowgate/compare.h"
#include "flowgate/engine.h"
#include "flowgate/history.h"
#include "flowgate/http_client.h"
#include "flowgate/log.h"
#include "flowgate/results.h"
#include "flowgate/runner.h"
#include "flowgate/thresholds.h"
#include "flowgate/stop.h"

/* snprintf into a path field; -1 and "what: path too long" when it does not fit. */
static int copy_path(char *dst, size_t size, const char *what, const char *src, fg_err *err)
{
    if ((size_t)snprintf(dst, size, "%s", src) >= size)
        return fg_err_set(err, "%s: path too long", what);
    return 0;
}

/* err's message prefixed with the side. */
static int side_error(int side, fg_err *err)
{
    char inner[sizeof err->msg];
    snprintf(inner, sizeof inner, "%s", err->msg);
    return fg_err_set(err, "side %c: %s", "AB"[side], inner);
}

/* A side's configuration: the shared one, its own results directory and
 * its system; one repeat per runner call (pairs are the repeats). */
static int side_config(const fg_run_config *base, const fg_ab_side *s, const char *dir,
                       fg_run_config *out, fg_err *err)
{
    *out = *base;
    out->repeats = 1;
    out->endpoints[0] = 0;
    if (copy_path(out->results_dir, sizeof out->results_dir, "results directory", dir, err))
        return -1;
    /* The side's data first: a profile given explicitly still wins. */
    if (s->data && fg_config_set_data_dir(out, "data directory", s->data, err) != 0)
        return -1;
    if (s->endpoints)
        return copy_path(out->endpoints, sizeof out->endpoints, "endpoints", s->endpoints, err);
    if (s->nodes && copy_path(out->nodes_file, sizeof out->nodes_file, "nodes", s->nodes, err))
        return -1;
    if (s->server && copy_path(out->server_bin, sizeof out->server_bin, "server", s->server, err))
        return -1;
    if (!out->nodes_file[0])
        snprintf(out->nodes_file, sizeof out->nodes_file, "%s/nodes.json",
                 fg_config_data_dir(out));
    return 0;
}

/* fg_config_check, its message prefixed with the side. */
static int check_side(const fg_run_config *c, int side, fg_err *err)
{
    if (fg_config_check(c, err) == 0) return 0;
    return side_error(side, err);
}

static double number_or(const cJSON *o, const char *key, double dflt)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsNumber(v) ? v->valuedouble : dflt;
}

static void set_number(cJSON *o, const char *key, double value)
{
    if (cJSON_GetObjectItemCaseSensitive(o, key))
        cJSON_ReplaceItemInObjectCaseSensitive(o, key, cJSON_CreateNumber(value));
    else
        cJSON_AddNumberToObject(o, key, value);
}

/* Writes `from` with every node's slowdown multiplied by factor (a node
 * without its own takes the profile's, default 1) into `to`, so B's
 * functions are factor times as slow as A's whatever A's profile says. */
static int write_slowdown_profile(const char *from, double factor, const char *to, fg_err *err)
{
    fg_buf text;
    if (fg_read_file(from, 1 << 20, &text, err) != 0) return -1;
    cJSON *root = cJSON_ParseWithLength((const char *)text.data, text.len);
    fg_buf_free(&text);
    cJSON *nodes = cJSON_GetObjectItemCaseSensitive(root, "nodes");
    if (!cJSON_IsObject(root) || !cJSON_IsArray(nodes)) {
        cJSON_Delete(root);
        return fg_err_set(err, "%s: not a nodes file (an object with a \"nodes\" array)", from);
    }
    double top = number_or(root, "slowdown", 1);
    cJSON *n;
    cJSON_ArrayForEach(n, nodes)
        if (cJSON_IsObject(n)) set_number(n, "slowdown", number_or(n, "slowdown", top) * factor);
    set_number(root, "slowdown", top * factor);
    char *out = cJSON_Print(root);
    cJSON_Delete(root);
    if (!out) return fg_err_set(err, "%s: out of memory", to);
    int rc = fg_write_file_atomic(to, out, strlen(out), err);
    free(out);
    return rc;
}

/* GET / of every node of B must report at least the slowdown asked for: a
 * server that predates the knob ignores the profile key and would make
 * an A/A run of what is meant to be a known slowdown. */
static int check_slowdown(const fg_cluster *c, double factor, fg_err *err)
{
    for (int i = 0; i < c->n_nodes; i++) {
        char url[300];
        snprintf(url, sizeof url, "%s/", c->nodes[i].url);
        fg_http_body body = {.limit = 1 << 20};
        CURL *h = curl_easy_init();
        if (!h) return fg_err_set(err, "out of memory");
        curl_easy_setopt(h, CURLOPT_URL, url);
        fg_http_loopback_only(h);
        curl_easy_setopt(h, CURLOPT_TIMEOUT, 10L);
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, fg_http_body_write);
        curl_easy_setopt(h, CURLOPT_WRITEDATA, &body);
        CURLcode rc = curl_easy_perform(h);
        curl_easy_cleanup(h);
        cJSON *o = rc == CURLE_OK && body.data ? cJSON_Parse(body.data) : NULL;
        fg_http_body_free(&body);
        const cJSON *f = cJSON_GetObjectItemCaseSensitive(o, "slowdown");
        double got = cJSON_IsNumber(f) ? f->valuedouble : NAN;
        cJSON_Delete(o);
        if (rc != CURLE_OK)
            return fg_err_set(err, "B node %s: GET %s: %s", c->nodes[i].name, url,
                              curl_easy_strerror(rc));
        if (isnan(got))
            return fg_err_set(err, "B node %s does not report a slowdown: its server predates "
                              "the knob, so --b-slowdown would change nothing", c->nodes[i].name);
        if (got < factor - 1e-9)
            return fg_err_set(err, "B node %s reports slowdown %g, expected at least %g",
                              c->nodes[i].name, got, factor);
    }
    return 0;
}

static void describe(const fg_run_config *c, char *out, size_t size)
{
    if (c->endpoints[0])
        snprintf(out, size, "endpoints %s", c->endpoints);
    else
        snprintf(out, size, "embedded %s, nodes %s", c->server_bin[0] ? c->server_bin
                 : "flowgate-functions", c->nodes_file);
}

/* results/ab-<stamp>[-n], claimed with mkdir so two runs never share it. */
static int make_ab_dir(const char *results_dir, char *id, size_t id_size, char *dir,
                       size_t dir_size, fg_err *err)
{
    if (fg_mkdirs(results_dir, err) != 0) return -1;
    char stamp[24];
    time_t now = time(NULL);
    struct tm tm;
    localtime_r(&now, &tm);
    strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", &tm);
    for (int n = 1; n < 1000; n++) {
        if (n == 1) snprintf(id, id_size, "%s", stamp);
        else snprintf(id, id_size, "%s-%d", stamp, n);
        if ((size_t)snprintf(dir, dir_size, "%s/ab-%s", results_dir, id) >= dir_size)
            return fg_err_set(err, "%s: path too long", results_dir);
        if (mkdir(dir, 0755) == 0) return 0;
        if (errno != EEXIST) return fg_err_set(err, "%s: cannot create: %s", dir, strerror(errno));
    }
    return fg_err_set(err, "%s/ab-%s: taken 1000 times over", results_dir, stamp);
}

/* ---- the two systems as fg_ab_systems: one runner per side -------------- */

typedef struct ab_cell {
    double mb;
    int concurrency;
    const char *scheduler;
} ab_cell;

typedef struct ab_sides {
    fg_runner *r[2];
    const ab_cell *cells;
    FILE *out;
    int opening;     /* the side whose runner is opening (the health wait's) */
    int last_side;   /* the side that ran the last cell, -1 none yet */
} ab_sides;

static int sides_run_cell(void *ctx, int side, int cell, int pair, const cJSON **entry,
                          fg_err *err)
{
    ab_sides *s = ctx;
    const ab_cell *c = &s->cells[cell];
    fg_runner_set_repeat(s->r[side], pair);
    s->last_side = side;
    *entry = NULL;
    return fg_runner_cell(s->r[side], c->mb, c->concurrency, c->scheduler, entry, err);
}

static const cJSON *sides_results(void *ctx, int side)
{
    return fg_runner_results(((ab_sides *)ctx)->r[side]);
}

static int sides_stop_requested(void *ctx)
{
    (void)ctx;
    return fg_stop_requested();
}

static double sides_now_ms(void *ctx)
{
    (void)ctx;
    return fg_now_mono_ms();
}

static void print_entry(void *ctx, int pair, int side, const cJSON *e)
{
    FILE *out = ((ab_sides *)ctx)->out;
    const cJSON *req = cJSON_GetObjectItemCaseSensitive(e, "requests");
    const cJSON *lat = cJSON_GetObjectItemCaseSensitive(e, "latency_ms");
    const cJSON *p95 = cJSON_GetObjectItemCaseSensitive(lat, "p95");
    const cJSON *p50 = cJSON_GetObjectItemCaseSensitive(lat, "p50");
    const char *id = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "experiment_id"));
    char a[32] = "n/a", b[32] = "n/a";
    if (cJSON_IsNumber(p50)) snprintf(a, sizeof a, "%.1f ms", p50->valuedouble);
    if (cJSON_IsNumber(p95)) snprintf(b, sizeof b, "%.1f ms", p95->valuedouble);
    fprintf(out, "pair %d %c %s  ok %.0f/%.0f  p50 %s  p95 %s%s\n", pair, "AB"[side],
            id ? id : "?", number_or(req, "ok", 0), number_or(req, "sent", 0), a, b,
            cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(e, "interrupted")) ? "  interrupted" : "");
    fflush(out);
}

static void print_look(void *ctx, int pairs, int decided, int cells, double elapsed_s)
{
    FILE *out = ((ab_sides *)ctx)->out;
    fprintf(out, "look after pair %d: %d of %d cell%s decided (%.0f s)\n", pairs, decided, cells,
            cells == 1 ? "" : "s", elapsed_s);
    fflush(out);
}

/* Prints the verdict (out NULL: not) and writes verdict.txt, verdict.json
 * and junit.xml into dir. */
static int write_verdict(const fg_ab_plan *plan, const fg_ab_result *res, const char *id,
                         char desc[][1200], const char *dir, FILE *out, fg_err *err)
{
    char *body = fg_ab_format(plan, res);
    cJSON *json = fg_ab_to_json(plan, res);
    char *json_text = json ? cJSON_Print(json) : NULL;
    cJSON_Delete(json);
    char *text = NULL;
    size_t text_len = 0;
    FILE *tf = body && json_text ? open_memstream(&text, &text_len) : NULL;
    if (!tf) {
        free(body);
        free(json_text);
        return fg_err_set(err, "out of memory");
    }
    fprintf(tf, "ab %s: A = %s\nab %s: B = %s\n%s", id, desc[0], id, desc[1], body);
    fclose(tf);
    free(body);
    if (out) fputs(text, out);
    char path[1024];
    snprintf(path, sizeof path, "%s/verdict.txt", dir);
    int rc = fg_write_file_atomic(path, text, strlen(text), err);
    snprintf(path, sizeof path, "%s/verdict.json", dir);
    if (rc == 0) rc = fg_write_file_atomic(path, json_text, strlen(json_text), err);
    char *junit = fg_ab_junit("ab", res);
    snprintf(path, sizeof path, "%s/junit.xml", dir);
    if (rc == 0 && !junit) rc = fg_err_set(err, "out of memory");
    if (rc == 0) rc = fg_write_file_atomic(path, junit, strlen(junit), err);
    free(junit);
    free(text);
    free(json_text);
    if (rc == 0 && out) fprintf(out, "verdict: %s/verdict.txt\n", dir);
    return rc;
}

/* ---- the run -------------------------------------------------------------- */

/* What one A/B run holds, so one cleanup releases it whatever failed. */
typedef struct ab_run {
    fg_ab_plan plan;
    cJSON *tol_doc, *thresholds_doc;
    ab_cell *cells;
    ab_sides sides;
    fg_run_config cfg[2];
    char id[32], dir[700], desc[2][1200];
} ab_run;

/* The plan: margins, levels and the look schedule; the cells, as `flowgate
 * run` orders them, each for every scheduler. */
static int plan_cells(const fg_ab_sides_opts *f, ab_run *a, fg_err *err)
{
    const fg_run_config *base = f->base;
    fg_ab_plan *plan = &a->plan;
    fg_ab_plan_defaults(plan);
    plan->min_pairs = f->min_pairs;
    plan->max_pairs = f->max_pairs;
    plan->budget_s = f->budget_s;
    if (f->tolerances && fg_compare_opts_load(f->tolerances, &plan->opts, &a->tol_doc, err) != 0)
        return -1;
    if (f->thresholds && !(a->thresholds_doc = fg_thresholds_load(f->thresholds, err))) return -1;
    if (f->alpha > 0) plan->opts.alpha = f->alpha;
    if (f->beta > 0) plan->opts.beta = f->beta;

    fg_cell grid[FG_MAX_CELLS * 4];
    int n_grid = fg_config_cells(base, grid, (int)(sizeof grid / sizeof grid[0]));
    plan->n_cells = n_grid * base->n_schedulers;
    if (plan->n_cells == 0) return fg_err_set(err, "the %s matrix has no cells", f->category);
    if (!(a->cells = calloc((size_t)plan->n_cells, sizeof *a->cells)))
        return fg_err_set(err, "out of memory");
    for (int g = 0, i = 0; g < n_grid; g++)
        for (int j = 0; j < base->n_schedulers; j++, i++)
            a->cells[i] = (ab_cell){grid[g].size_mb, grid[g].concurrency, base->schedulers[j]};
    a->sides.cells = a->cells;
    return 0;
}

/* Each side's configuration, checked; then results/ab-<id>/{A,B} and, for
 * b_slowdown, B's slowed profile. */
static int configure_sides(const fg_ab_sides_opts *f, ab_run *a, fg_err *err)
{
    const fg_run_config *base = f->base;
    fg_run_config *cfg = a->cfg;
    /* Checked before anything is created; the check repeats below with
     * the real results directories. */
    for (int s = 0; s < 2; s++) {
        if (side_config(base, &f->side[s], base->results_dir, &cfg[s], err) != 0 ||
            check_side(&cfg[s], s, err) != 0)
            return -1;
        if (fg_run_preflight(&cfg[s], f->server, err) != 0) return side_error(s, err);
    }
    if (make_ab_dir(base->results_dir, a->id, sizeof a->id, a->dir, sizeof a->dir, err) != 0)
        return -1;
    char sub[2][800];
    snprintf(sub[0], sizeof sub[0], "%s/A", a->dir);
    snprintf(sub[1], sizeof sub[1], "%s/B", a->dir);
    if (side_config(base, &f->side[0], sub[0], &cfg[0], err) != 0 ||
        side_config(base, &f->side[1], sub[1], &cfg[1], err) != 0)
        return -1;
    if (f->b_slowdown > 0) {
        /* B's own profile if given, else A's: "B is A, F times as slow". */
        const char *from = f->side[1].nodes ? cfg[1].nodes_file
                         : cfg[0].endpoints[0] ? NULL : cfg[0].nodes_file;
        if (!from)
            return fg_err_set(err, "--b-slowdown needs a nodes file to slow down: A is a "
                              "running deployment, so give B one with --b-nodes");
        char slow_profile[800];
        snprintf(slow_profile, sizeof slow_profile, "%s/B-nodes.json", a->dir);
        if (write_slowdown_profile(from, f->b_slowdown, slow_profile, err) != 0 ||
            copy_path(cfg[1].nodes_file, sizeof cfg[1].nodes_file, "B's nodes file",
                      slow_profile, err) != 0)
            return -1;
    }
    for (int s = 0; s < 2; s++)
        if (check_side(&cfg[s], s, err) != 0) return -1;
    return 0;
}

/* "ab <id>: A = ...", B, and the plan: cells, looks, budget, levels. */
static void print_header(const fg_ab_sides_opts *f, ab_run *a, FILE *out)
{
    const fg_ab_plan *plan = &a->plan;
    describe(&a->cfg[0], a->desc[0], sizeof a->desc[0]);
    describe(&a->cfg[1], a->desc[1], sizeof a->desc[1]);
    fprintf(out, "ab %s: A = %s\n", a->id, a->desc[0]);
    fprintf(out, "ab %s: B = %s%s\n", a->id, a->desc[1],
            strcmp(a->desc[0], a->desc[1]) ? "" : " (the same system: an A/A run)");
    fprintf(out, "ab %s: %s, %d cell%s; looks after pairs", a->id, f->category, plan->n_cells,
            plan->n_cells == 1 ? "" : "s");
    for (int p = plan->min_pairs; p <= plan->max_pairs; p++)
        if (fg_ab_is_look(p, plan->min_pairs, plan->max_pairs)) fprintf(out, " %d", p);
    fprintf(out, " (budget %.0f s); alpha %g over %d tests, beta %g\n", plan->budget_s,
            plan->opts.alpha, plan->n_cells * FG_METRIC_COUNT, plan->opts.beta);
    fflush(out);
}

/* The verdict's outcome with B's threshold table on top (per pair, so a
 * relative bound must hold in every pair: a statistical verdict is the
 * comparison's job, the table the user's fixed rule on top; an absolute
 * bound a busy machine left open makes the run inconclusive, not green).
 * The exit status, or -1 on an error. */
static int judge(const fg_ab_sides_opts *f, ab_run *a, const fg_ab_result *res, FILE *out,
                 fg_err *err)
{
    fg_outcome outcome = res->outcome;
    if (a->thresholds_doc) {
        fg_outcome table = FG_OUTCOME_PASS;
        /* With a base, B's results are only read: nothing is written into them. */
        int bad = fg_run_report_thresholds(a->thresholds_doc,
                                           (cJSON *)fg_runner_results(a->sides.r[1]),
                                           fg_runner_results(a->sides.r[0]), a->dir, out, &table,
                                           err);
        if (bad < 0) return -1;
        outcome = fg_outcome_combine(outcome, bad > 0 ? FG_OUTCOME_FAIL : table);
    }
    /* --inconclusive=pass, its config key or FLOWGATE_INCONCLUSIVE=pass. */
    int status = fg_outcome_exit(outcome, f->base->inconclusive_pass);
    if (outcome == FG_OUTCOME_INCONCLUSIVE && f->base->inconclusive_pass)
        fprintf(out, "ab: inconclusive, passed as asked (--inconclusive=pass)\n");
    return status;
}

/* Both runners, the pairs, the verdict. The exit status, or -1 on a
 * setup error. A stop before both runners are open returns 1 (the caller
 * says where). */
static int run_pairs(const fg_ab_sides_opts *f, ab_run *a, FILE *out, fg_err *err)
{
    ab_sides *sides = &a->sides;
    for (int s = 0; s < 2; s++) {
        sides->opening = s;
        if (fg_stop_requested()) return FG_EXIT_FAIL;
        if (!(sides->r[s] = fg_runner_open(&a->cfg[s], err)))
            return fg_stop_requested() ? FG_EXIT_FAIL : side_error(s, err);
    }
    if (f->b_slowdown > 0 && check_slowdown(fg_runner_cluster(sides->r[1]), f->b_slowdown, err) != 0)
        return fg_stop_requested() ? FG_EXIT_FAIL : -1;
    /* A fixed input (JSON, a file) has no size axis: the first size's
     * cells (sizes are the outer loop) are all there is. */
    if (!fg_runner_input_sized(sides->r[0]))
        a->plan.n_cells = f->base->n_concurrency * f->base->n_schedulers;
    print_header(f, a, out);

    fg_stop_set_phase(FG_RUN_PHASE_CELLS);
    fg_ab_systems sys = {sides_run_cell, sides_results, sides_stop_requested, sides_now_ms,
                         print_entry, print_look, sides};
    fg_ab_result res;
    memset(&res, 0, sizeof res);
    if (fg_ab_run(&a->plan, &sys, &res, err) != 0) return fg_stop_requested() ? FG_EXIT_FAIL : -1;
    fg_stop_set_phase(FG_RUN_PHASE_TABLE);
    int status = write_verdict(&a->plan, &res, a->id, a->desc, a->dir, out, err) == 0
               ? judge(f, a, &res, out, err) : -1;
    if (!res.interrupted && fg_stop_requested()) {
        /* The stop came during the verdict: its files say interrupted
         * (the verdict printed before stands on the screen only). */
        res.interrupted = 1;
        res.stop = "interrupted";
        res.outcome = FG_OUTCOME_FAIL;
        status = write_verdict(&a->plan, &res, a->id, a->desc, a->dir, NULL, err) == 0
               ? FG_EXIT_FAIL : -1;
    }
    fg_ab_result_free(&res);
    return status;
}

/* Where a stop came in an A/B run, in words (finish.h's, the side named). */
static void ab_stop_where(const ab_run *a, char *out, size_t size)
{
    int phase = fg_stop_phase_at_request();
    const ab_sides *sides = &a->sides;
    if (phase == FG_RUN_PHASE_HEALTH) {
        snprintf(out, size, "%s (side %c)", fg_run_phase_words(phase), "AB"[sides->opening]);
        return;
    }
    if (phase == FG_RUN_PHASE_TABLE) {
        snprintf(out, size, "during the verdict");
        return;
    }
    snprintf(out, size, "%s", fg_run_phase_words(phase));
    if (phase != FG_RUN_PHASE_CELLS) return;
    const cJSON *last[2] = {NULL, NULL};
    for (int s = 0; s < 2; s++) {
        const cJSON *exps = sides->r[s] ? fg_results_experiments(fg_runner_results(sides->r[s]))
                                        : NULL;
        last[s] = cJSON_GetArrayItem(exps, cJSON_GetArraySize(exps) - 1);
        char prefix[4] = {"AB"[s], ' ', 0, 0};
        if (last[s] && fg_run_entry_where(last[s], prefix, out, size)) return;
    }
    int s = sides->last_side;
    if (s < 0 || !last[s]) {
        snprintf(out, size, "before the first cell");
        return;
    }
    char prefix[4] = {"AB"[s], ' ', 0, 0}, name[200];
    fg_run_entry_name(last[s], prefix, name, sizeof name);
    snprintf(out, size, "between cells, after %s", name);
}

int fg_ab_sides_run(const fg_ab_sides_opts *f, const fg_run_output *o)
{
    if (f->base->endpoints[0])
        fprintf(o->errs, "%s: note: not using endpoints %s (FLOWGATE_ENDPOINTS or the config): "
                "each side's system comes from its --a-/--b- flags\n", o->who, f->base->endpoints);
    fg_err err = {{0}};
    ab_run *a = calloc(1, sizeof *a);
    if (!a) {
        fprintf(o->errs, "%s: out of memory\n", o->who);
        return FG_EXIT_BAD_INPUT;
    }
    a->sides.out = o->out;
    a->sides.last_side = -1;
    /* Bad input is said as such, stop or not; from the sides on, a stop
     * ends the run as interrupted, a failure after it taken as its. */
    int status = -1, set_up = plan_cells(f, a, &err) == 0 && configure_sides(f, a, &err) == 0;
    if (set_up) status = run_pairs(f, a, o->out, &err);
    int stopped = set_up && fg_stop_requested();
    if (status < 0 && stopped) fg_log(FG_LOG_DEBUG, "after the stop: %s", err.msg);
    if (status < 0 && !stopped) fprintf(o->errs, "%s: %s\n", o->who, err.msg);
    if (status < 0) status = stopped ? FG_EXIT_FAIL : FG_EXIT_BAD_INPUT;

    char where[300] = "", cells[2][64], path[1024];
    if (stopped) ab_stop_where(a, where, sizeof where);
    fg_stop_set_phase(FG_RUN_PHASE_SAVE);
    for (int s = 0; s < 2; s++) {
        fg_err close_err = {{0}};
        fg_runner *r = a->sides.r[s];
        if (r) {
            if (stopped) fg_run_mark_interrupted((cJSON *)fg_runner_results(r), where);
            fg_run_cells_words(fg_runner_results(r), cells[s], sizeof cells[s]);
            if (fg_runner_close(r, &close_err) != 0) {
                fprintf(o->errs, "%s: side %c: %s\n", o->who, "AB"[s], close_err.msg);
                status = FG_EXIT_BAD_INPUT;
            }
        } else if (stopped) {
            /* The side never opened: it still has its results file. */
            snprintf(cells[s], sizeof cells[s], "no cells");
            if (fg_run_write_stopped(&a->cfg[s], where, path, sizeof path, &close_err) != 0) {
                fprintf(o->errs, "%s: side %c: %s\n", o->who, "AB"[s], close_err.msg);
                status = FG_EXIT_BAD_INPUT;
            }
        }
    }
    /* With both sides' files closed, the verdict and the sides join the
     * history (a run stopped before its verdict has none to add). */
    char verdict_path[sizeof a->dir + 16];
    snprintf(verdict_path, sizeof verdict_path, "%s/verdict.json", a->dir);
    if (set_up && a->dir[0] && access(verdict_path, F_OK) == 0)
        fg_history_append_ab(f->base->results_dir, a->dir, o->errs);
    if (stopped) {
        fprintf(o->errs, "%s: interrupted %s; results: %s (A: %s; B: %s)\n", o->who, where, a->dir,
                cells[0], cells[1]);
        if (status != FG_EXIT_BAD_INPUT) status = FG_EXIT_FAIL;
    }
    free(a->cells);
    cJSON_Delete(a->tol_doc);
    cJSON_Delete(a->thresholds_doc);
    free(a);
    return status;
}
