/* ab.c — the A/B regression gate's procedure (the design is in ab.h):
 * pairs in ABBA order, looks on a fixed schedule, each judged by compare.c
 * at the levels its information fraction spends, cells frozen once
 * decided, and the verdict as text and JSON. No servers here: the caller's
 * fg_ab_systems runs the cells. */
#include "flowgate/ab.h"
#include "flowgate/xml.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void fg_ab_plan_defaults(fg_ab_plan *p)
{
    memset(p, 0, sizeof *p);
    p->min_pairs = FG_AB_DEFAULT_MIN_PAIRS;
    p->max_pairs = FG_AB_DEFAULT_MAX_PAIRS;
    p->budget_s = FG_AB_DEFAULT_BUDGET_S;
    fg_compare_opts_defaults(&p->opts);
}

static int next_look(int l)
{
    int n = (int)ceil(l * 1.5);
    return n > l ? n : l + 1;
}

int fg_ab_is_look(int pairs, int min_pairs, int max_pairs)
{
    if (pairs == max_pairs) return 1;
    if (pairs > max_pairs) return 0;
    int l = min_pairs;
    while (l < pairs) l = next_look(l);
    return l == pairs;
}

/* One cell of the matrix across pairs. */
typedef struct ab_cell {
    char id[128];                 /* experiment_id, from its first entry */
    int decided_at;               /* pairs at the look that decided it; 0: open */
    double last_pair_ms;          /* both sides, the latest pair it ran in */
    fg_cell_compare frozen;       /* its verdict as decided */
} ab_cell;

typedef struct ab_state {
    const fg_ab_plan *plan;
    const fg_ab_systems *sys;
    ab_cell *cells;
    fg_compare_report rep;        /* the latest look's */
    int have_rep;
    int pairs, looks;
    int last_look, last_final;    /* pairs at the latest look; was it final */
} ab_state;

static int open_cells(const ab_state *st)
{
    int open = 0;
    for (int c = 0; c < st->plan->n_cells; c++) open += !st->cells[c].decided_at;
    return open;
}

static const fg_cell_compare *report_cell(const fg_compare_report *rep, const char *id)
{
    for (int k = 0; k < rep->n; k++)
        if (!strcmp(rep->cells[k].experiment_id, id)) return &rep->cells[k];
    return NULL;
}

/* Judges everything run so far at this look's levels and freezes the
 * cells it decides. */
static int look(ab_state *st, int final, fg_err *err)
{
    const fg_ab_plan *p = st->plan;
    fg_compare_opts o = p->opts;
    o.paired = 1;
    o.tests = p->n_cells * FG_METRIC_COUNT;
    o.look.t_prev = (double)st->last_look / p->max_pairs;
    o.look.t = (double)st->pairs / p->max_pairs;
    o.look.final = final;
    o.effect_sizes = final;
    if (st->have_rep) fg_compare_report_free(&st->rep);
    st->have_rep = 0;
    if (fg_compare_results(st->sys->results(st->sys->ctx, 0), "A",
                           st->sys->results(st->sys->ctx, 1), "B", &o, &st->rep, err) != 0)
        return -1;
    st->have_rep = 1;
    st->looks++;
    st->last_look = st->pairs;
    st->last_final = final;
    for (int c = 0; c < p->n_cells; c++) {
        ab_cell *cell = &st->cells[c];
        if (cell->decided_at || !cell->id[0]) continue;
        const fg_cell_compare *rc = report_cell(&st->rep, cell->id);
        if (!rc || rc->verdict == FG_VERDICT_INCONCLUSIVE) continue;
        cell->frozen = *rc;
        cell->decided_at = st->pairs;
    }
    return 0;
}

static int regression_shown(const ab_state *st)
{
    for (int c = 0; c < st->plan->n_cells; c++)
        if (st->cells[c].decided_at && st->cells[c].frozen.verdict == FG_VERDICT_REGRESSION)
            return 1;
    return 0;
}

/* The stops that decided every cell there was to decide: compared by
 * address, so no string comparison can be misjudged as constant. */
static const char stop_regression[] = "a regression is shown", stop_decided[] = "every cell decided";

/* The pairs, until a stop (ab.h). */
static int run_pairs(ab_state *st, double t0, const char **stop, fg_err *err)
{
    const fg_ab_plan *p = st->plan;
    const fg_ab_systems *sys = st->sys;
    *stop = "max pairs";
    while (st->pairs < p->max_pairs) {
        /* Each undecided cell's latest pair estimates the next one. */
        double next_ms = 0;
        for (int c = 0; c < p->n_cells; c++)
            if (!st->cells[c].decided_at) next_ms += st->cells[c].last_pair_ms;
        if (sys->now_ms(sys->ctx) - t0 + next_ms > p->budget_s * 1000.0) {
            *stop = "budget";
            return 0;
        }
        int pair = st->pairs, first = pair % 2;   /* ABBA: B first in odd pairs */
        for (int c = 0; c < p->n_cells && !sys->stop_requested(sys->ctx); c++) {
            ab_cell *cell = &st->cells[c];
            if (cell->decided_at) continue;
            double c0 = sys->now_ms(sys->ctx);
            for (int k = 0; k < 2 && !sys->stop_requested(sys->ctx); k++) {
                int side = k ? !first : first;
                const cJSON *entry = NULL;
                if (sys->run_cell(sys->ctx, side, c, pair, &entry, err) != 0) return -1;
                if (!entry) continue;
                const char *id = cJSON_GetStringValue(
                    cJSON_GetObjectItemCaseSensitive(entry, "experiment_id"));
                if (id && !cell->id[0]) snprintf(cell->id, sizeof cell->id, "%s", id);
                if (sys->on_entry) sys->on_entry(sys->ctx, pair, side, entry);
            }
            cell->last_pair_ms = sys->now_ms(sys->ctx) - c0;
        }
        st->pairs++;   /* a cut pair too: its entries are in the results */
        if (sys->stop_requested(sys->ctx)) {
            *stop = "interrupted";
            return 0;
        }
        if (st->pairs < p->min_pairs || !fg_ab_is_look(st->pairs, p->min_pairs, p->max_pairs))
            continue;
        if (look(st, st->pairs == p->max_pairs, err) != 0) return -1;
        int open = open_cells(st);
        if (sys->on_look)
            sys->on_look(sys->ctx, st->pairs, p->n_cells - open, p->n_cells,
                         (sys->now_ms(sys->ctx) - t0) / 1000.0);
        if (regression_shown(st)) {
            *stop = stop_regression;
            return 0;
        }
        if (open == 0) {
            *stop = stop_decided;
            return 0;
        }
    }
    return 0;
}

/* Mean and max foreign CPU share over both sides' entries. */
static void contention(const fg_ab_systems *sys, fg_ab_result *out)
{
    double sum = 0, max = NAN;
    int n = 0;
    for (int side = 0; side < 2; side++) {
        const cJSON *e;
        cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(sys->results(sys->ctx, side),
                                                              "experiments")) {
            const cJSON *v = cJSON_GetObjectItemCaseSensitive(
                cJSON_GetObjectItemCaseSensitive(e, "noise"), "foreign_cpu_share");
            if (!cJSON_IsNumber(v)) continue;
            sum += v->valuedouble;
            if (!(v->valuedouble <= max)) max = v->valuedouble;
            n++;
        }
    }
    out->foreign_share_mean = n ? sum / n : NAN;
    out->foreign_share_max = max;
}

int fg_ab_run(const fg_ab_plan *plan, const fg_ab_systems *sys, fg_ab_result *out, fg_err *err)
{
    memset(out, 0, sizeof *out);
    if (plan->n_cells <= 0) return fg_err_set(err, "the matrix has no cells");
    if (plan->min_pairs < 2 || plan->min_pairs > plan->max_pairs)
        return fg_err_set(err, "pairs: need 2 <= min_pairs (%d) <= max_pairs (%d)",
                          plan->min_pairs, plan->max_pairs);
    ab_state st;
    memset(&st, 0, sizeof st);
    st.plan = plan;
    st.sys = sys;
    st.cells = calloc((size_t)plan->n_cells, sizeof *st.cells);
    if (!st.cells) return fg_err_set(err, "out of memory");
    double t0 = sys->now_ms(sys->ctx);
    const char *stop;
    int rc = run_pairs(&st, t0, &stop, err);
    /* A stop off the schedule (budget, request, a look that was not the
     * last) ends with a final look spending what is left. */
    int decided_stop = stop == stop_regression || stop == stop_decided;
    if (rc == 0 && !decided_stop && st.pairs > 0 && !(st.last_look == st.pairs && st.last_final))
        rc = look(&st, 1, err);
    if (rc != 0) {
        if (st.have_rep) fg_compare_report_free(&st.rep);
        free(st.cells);
        return -1;
    }
    if (!st.have_rep) {
        /* Not one pair fitted: an empty comparison, which fails. */
        fg_compare_opts o = plan->opts;
        o.paired = 1;
        cJSON *empty = cJSON_Parse("{\"experiments\":[]}");
        rc = fg_compare_results(empty, "A", empty, "B", &o, &st.rep, err);
        cJSON_Delete(empty);
        if (rc != 0) {
            free(st.cells);
            return -1;
        }
    }
    /* Decided cells as they were decided, not as later data would judge them. */
    out->decided_at = calloc(st.rep.n ? (size_t)st.rep.n : 1, sizeof *out->decided_at);
    if (!out->decided_at) {
        fg_compare_report_free(&st.rep);
        free(st.cells);
        return fg_err_set(err, "out of memory");
    }
    for (int c = 0; c < plan->n_cells; c++) {
        if (!st.cells[c].decided_at) continue;
        for (int k = 0; k < st.rep.n; k++)
            if (!strcmp(st.rep.cells[k].experiment_id, st.cells[c].id)) {
                st.rep.cells[k] = st.cells[c].frozen;
                out->decided_at[k] = st.cells[c].decided_at;
            }
    }
    fg_compare_report_recount(&st.rep);
    out->rep = st.rep;
    out->pairs = st.pairs;
    out->looks = st.looks;
    out->stop = stop;
    out->elapsed_s = (sys->now_ms(sys->ctx) - t0) / 1000.0;
    out->interrupted = !strcmp(stop, "interrupted");
    out->outcome = out->interrupted ? FG_OUTCOME_FAIL : st.rep.outcome;
    contention(sys, out);
    free(st.cells);
    return 0;
}

void fg_ab_result_free(fg_ab_result *r)
{
    fg_compare_report_free(&r->rep);
    free(r->decided_at);
    memset(r, 0, sizeof *r);
}

/* ---- the verdict --------------------------------------------------------- */

char *fg_ab_format(const fg_ab_plan *plan, const fg_ab_result *r)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (!f) return NULL;
    const fg_compare_report *rep = &r->rep;
    char line[2048];
    for (int i = 0; i < rep->n; i++) {
        const fg_cell_compare *c = &rep->cells[i];
        fg_compare_format(c, line, sizeof line);
        fprintf(f, "%s", line);
        if (r->decided_at && r->decided_at[i])
            fprintf(f, " [decided after %d pairs]", r->decided_at[i]);
        fputc('\n', f);
        if (c->verdict == FG_VERDICT_REGRESSION) {
            char culprit[4096];
            fg_compare_format_culprit(c, culprit, sizeof culprit);
            fputs(culprit, f);
        }
    }
    if (rep->reason[0]) fprintf(f, "ab: %s\n", rep->reason);
    fprintf(f, "ab: %s: %d cell%s (", fg_outcome_label(r->outcome), rep->n, rep->n == 1 ? "" : "s");
    for (int v = 0, any = 0; v < FG_VERDICT_COUNT; v++)
        if (rep->count[v]) {
            fprintf(f, "%s%d %s", any ? ", " : "", rep->count[v], fg_verdict_name((fg_verdict)v));
            any = 1;
        }
    const fg_compare_opts *o = &plan->opts;
    char tail[32] = "watched";
    if (o->p95_margin > 0) snprintf(tail, sizeof tail, "%.0f %%", 100 * o->p95_margin);
    fprintf(f, "); %d pair%s, %d look%s in %.0f s; stopped: %s; alpha %g over %d tests, beta %g; "
            "margins centre %.0f %%, throughput %.0f %%, tail %s\n", r->pairs,
            r->pairs == 1 ? "" : "s", r->looks, r->looks == 1 ? "" : "s", r->elapsed_s, r->stop,
            o->alpha, rep->tests, o->beta, 100 * o->p50_margin, 100 * o->throughput_margin, tail);
    if (isfinite(r->foreign_share_mean))
        fprintf(f, "ab: the machine: other processes used %.0f %% of the cores on average during "
                "the cells, %.0f %% at most\n", 100 * r->foreign_share_mean,
                100 * r->foreign_share_max);
    if (r->outcome == FG_OUTCOME_INCONCLUSIVE)
        fprintf(f, "ab: inconclusive: %s before every cell was decided; more pairs (--max-pairs, "
                "--budget) or a quieter machine would tell\n",
                !strcmp(r->stop, "budget") ? "the budget ran out" : "the pairs ran out");
    fclose(f);
    return text;
}

static cJSON *number_or_null(double v)
{
    return isfinite(v) ? cJSON_CreateNumber(v) : cJSON_CreateNull();
}

static cJSON *culprit_json(const fg_culprit *p)
{
    cJSON *o = cJSON_CreateObject();
    if (p->function[0]) cJSON_AddStringToObject(o, "function", p->function);
    cJSON_AddStringToObject(o, "part", p->part);
    cJSON_AddItemToObject(o, "added_ms", number_or_null(p->added_ms));
    cJSON *ci = cJSON_AddArrayToObject(o, "added_ci_ms");
    cJSON_AddItemToArray(ci, number_or_null(p->added_lo));
    cJSON_AddItemToArray(ci, number_or_null(p->added_hi));
    cJSON_AddItemToObject(o, "ratio", number_or_null(p->ratio));
    ci = cJSON_AddArrayToObject(o, "ratio_ci");
    cJSON_AddItemToArray(ci, number_or_null(p->ci_lo));
    cJSON_AddItemToArray(ci, number_or_null(p->ci_hi));
    cJSON_AddItemToObject(o, "share", number_or_null(p->share));
    return o;
}

cJSON *fg_ab_to_json(const fg_ab_plan *plan, const fg_ab_result *r)
{
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "outcome", fg_outcome_label(r->outcome));
    cJSON_AddStringToObject(root, "stopped", r->stop ? r->stop : "");
    cJSON_AddNumberToObject(root, "pairs", r->pairs);
    cJSON_AddNumberToObject(root, "looks", r->looks);
    cJSON_AddNumberToObject(root, "elapsed_s", r->elapsed_s);
    cJSON_AddNumberToObject(root, "alpha", plan->opts.alpha);
    cJSON_AddNumberToObject(root, "beta", plan->opts.beta);
    cJSON_AddNumberToObject(root, "tests", r->rep.tests);
    cJSON_AddItemToObject(root, "foreign_cpu_share_mean", number_or_null(r->foreign_share_mean));
    cJSON_AddItemToObject(root, "foreign_cpu_share_max", number_or_null(r->foreign_share_max));
    if (r->rep.reason[0]) cJSON_AddStringToObject(root, "reason", r->rep.reason);
    cJSON *cells = cJSON_AddArrayToObject(root, "cells");
    for (int i = 0; i < r->rep.n; i++) {
        const fg_cell_compare *c = &r->rep.cells[i];
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "experiment_id", c->experiment_id);
        cJSON_AddStringToObject(o, "verdict", fg_verdict_name(c->verdict));
        if (r->decided_at && r->decided_at[i])
            cJSON_AddNumberToObject(o, "decided_after_pairs", r->decided_at[i]);
        if (c->reason[0]) cJSON_AddStringToObject(o, "reason", c->reason);
        cJSON_AddNumberToObject(o, "pairs", c->pairs);
        cJSON *metrics = cJSON_AddObjectToObject(o, "metrics");
        for (int k = 0; k < FG_METRIC_COUNT; k++) {
            const fg_metric_compare *m = &c->metric[k];
            cJSON *mo = cJSON_AddObjectToObject(metrics, fg_metric_names[k]);
            cJSON_AddStringToObject(mo, "verdict", fg_verdict_name(m->verdict));
            cJSON_AddItemToObject(mo, "ratio", number_or_null(m->ratio));
            cJSON *ci = cJSON_AddArrayToObject(mo, "ci");
            cJSON_AddItemToArray(ci, number_or_null(m->ci_lo));
            cJSON_AddItemToArray(ci, number_or_null(m->ci_hi));
            cJSON_AddItemToObject(mo, "margin", number_or_null(m->margin));
            cJSON_AddItemToObject(mo, "p_regression", number_or_null(m->p_regression));
            cJSON_AddItemToObject(mo, "p_no_regression", number_or_null(m->p_no_regression));
            cJSON_AddItemToObject(mo, "alpha_level", number_or_null(m->alpha_level));
            cJSON_AddItemToObject(mo, "beta_level", number_or_null(m->beta_level));
        }
        if (isfinite(c->added_ms)) {
            cJSON_AddNumberToObject(o, "added_ms", c->added_ms);
            cJSON *path = cJSON_AddArrayToObject(o, "critical_path");
            for (int k = 0; k < c->n_path; k++) cJSON_AddItemToArray(path, culprit_json(&c->path[k]));
            cJSON *fns = cJSON_AddArrayToObject(o, "functions");
            for (int k = 0; k < c->n_fn; k++) cJSON_AddItemToArray(fns, culprit_json(&c->fn[k]));
        }
        cJSON_AddItemToArray(cells, o);
    }
    return root;
}

char *fg_ab_junit(const char *suite, const fg_ab_result *r)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (!f) return NULL;
    const fg_compare_report *rep = &r->rep;
    int failures = 0, skipped = 0;
    for (int i = 0; i < rep->n; i++) {
        fg_verdict v = rep->cells[i].verdict;
        failures += v != FG_VERDICT_NO_REGRESSION && v != FG_VERDICT_INCONCLUSIVE;
        skipped += v == FG_VERDICT_INCONCLUSIVE;
    }
    fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites>\n<testsuite name=\"", f);
    fg_xml_escape(f, suite);
    fprintf(f, "\" tests=\"%d\" failures=\"%d\" skipped=\"%d\" time=\"%.3f\">\n", rep->n,
            failures, skipped, r->elapsed_s);
    char line[2048];
    for (int i = 0; i < rep->n; i++) {
        const fg_cell_compare *c = &rep->cells[i];
        fputs("  <testcase classname=\"", f);
        fg_xml_escape(f, suite);
        fputs("\" name=\"", f);
        fg_xml_escape(f, c->experiment_id);
        fputs("\">", f);
        fg_compare_format(c, line, sizeof line);
        if (c->verdict == FG_VERDICT_INCONCLUSIVE) {
            fputs("<skipped message=\"inconclusive: ", f);
            fg_xml_escape(f, c->reason[0] ? c->reason : "not decided");
            fputs("\"/>", f);
        } else if (c->verdict != FG_VERDICT_NO_REGRESSION) {
            fputs("<failure type=\"", f);
            fg_xml_escape(f, fg_verdict_name(c->verdict));
            fputs("\" message=\"", f);
            fg_xml_escape(f, line);
            fputs("\">", f);
            char culprit[4096];
            fg_compare_format_culprit(c, culprit, sizeof culprit);
            fg_xml_escape(f, culprit);
            fputs("</failure>", f);
        }
        fputs("</testcase>\n", f);
    }
    fputs("</testsuite>\n</testsuites>\n", f);
    fclose(f);
    return text;
}
