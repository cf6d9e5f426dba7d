/* finish.c — the end of a run and what surrounds its cells (design in
 * finish.h). Everything prints through the caller's FILE *, so the
 * library decides what a run says and the tool only where it goes. */
#include "flowgate/finish.h"

#include <stdio.h>
#include <string.h>

#include "flowgate/engine.h"
#include "flowgate/report.h"
#include "flowgate/stop.h"

static void on_stop_signal(int sig)
{
    (void)sig;
    fg_stop_request();
}

void fg_run_catch_stop(fg_run_stop *s)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop_signal;
    sa.sa_flags = SA_RESETHAND;   /* a second Ctrl-C kills */
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &s->old_int);
    sigaction(SIGTERM, &sa, &s->old_term);
}

void fg_run_release_stop(const fg_run_stop *s)
{
    sigaction(SIGINT, &s->old_int, NULL);
    sigaction(SIGTERM, &s->old_term, NULL);
}

static void fmt_ms(char *out, size_t size, const cJSON *stats, const char *field)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(stats, field);
    if (cJSON_IsNumber(v)) snprintf(out, size, "%.1f ms", v->valuedouble);
    else snprintf(out, size, "n/a");
}

static int count_of(const cJSON *obj, const char *field)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, field);
    return cJSON_IsNumber(v) ? v->valueint : 0;
}

void fg_run_print_summary(FILE *out, const cJSON *e)
{
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(e, "experiment_id");
    const cJSON *req = cJSON_GetObjectItemCaseSensitive(e, "requests");
    const cJSON *lat = cJSON_GetObjectItemCaseSensitive(e, "latency_ms");
    const cJSON *rate = cJSON_GetObjectItemCaseSensitive(e, "success_rate");
    const cJSON *tput = cJSON_GetObjectItemCaseSensitive(e, "throughput_rps");
    int repeat = count_of(e, "repeat");
    char pct[32], p50[32], p95[32], thr[32], rep[16] = "";
    if (cJSON_IsNumber(rate)) snprintf(pct, sizeof pct, "%.1f %%", rate->valuedouble * 100);
    else snprintf(pct, sizeof pct, "n/a");
    fmt_ms(p50, sizeof p50, lat, "p50");
    fmt_ms(p95, sizeof p95, lat, "p95");
    if (cJSON_IsNumber(tput)) snprintf(thr, sizeof thr, "%.2f wf/s", tput->valuedouble);
    else snprintf(thr, sizeof thr, "n/a");
    if (repeat > 0) snprintf(rep, sizeof rep, " #%d", repeat);
    fprintf(out, "%s%s  ok %d/%d (%s)  p50 %s  p95 %s  throughput %s",
            cJSON_IsString(id) ? id->valuestring : "?", rep, count_of(req, "ok"),
            count_of(req, "sent"), pct, p50, p95, thr);
    if (count_of(req, "failed")) fprintf(out, "  failed %d", count_of(req, "failed"));
    if (count_of(req, "timed_out")) fprintf(out, "  timed out %d", count_of(req, "timed_out"));
    if (count_of(req, "interrupted")) fprintf(out, "  interrupted %d", count_of(req, "interrupted"));
    /* The critical path's largest part (attribution.h): where time went. */
    const cJSON *b = cJSON_GetObjectItemCaseSensitive(e, "bottleneck");
    const cJSON *dom = cJSON_GetObjectItemCaseSensitive(b, "dominant");
    const cJSON *share = cJSON_IsString(dom)
        ? cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(b, "share"),
                                           dom->valuestring) : NULL;
    if (cJSON_IsNumber(share))
        fprintf(out, "  bound by %s (%.0f %%)", dom->valuestring, share->valuedouble * 100);
    /* Saturated: the slot wait hides the cause, which is the service's. */
    const cJSON *service = cJSON_GetObjectItemCaseSensitive(b, "service_dominant");
    if (cJSON_IsNumber(share) && cJSON_IsString(service) && strcmp(service->valuestring, dom->valuestring))
        fprintf(out, ", service bound by %s", service->valuestring);
    /* Measured contention (noise.h): what the time bounds are widened by. */
    const cJSON *busy = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(e, "noise"), "foreign_cpu_share");
    if (cJSON_IsNumber(busy)) fprintf(out, "  other processes %.0f %%", busy->valuedouble * 100);
    fprintf(out, "\n");
    fflush(out);
}

/* The same report the suites write, so a run's table reads as theirs. */
int fg_run_report_thresholds(const cJSON *doc, cJSON *results, const cJSON *base, const char *dir,
                             FILE *out, fg_outcome *outcome, fg_err *err)
{
    fg_threshold_table t;
    memset(&t, 0, sizeof t);
    char path[1024];
    *outcome = FG_OUTCOME_FAIL;
    int rc = fg_report_thresholds_base(results, base, doc, &t, err);
    if (rc == 0) rc = fg_report_write_thresholds(&t, results, dir, path, sizeof path, err);
    if (rc == 0) {
        fputs(t.text, out);
        fprintf(out, "threshold table%s: %s\n", base ? " (B against A)" : "", path);
        if (!base) fg_report_mark_outcomes(&t, results);
        *outcome = t.outcome;
        rc = t.failed;
    }
    fg_threshold_table_free(&t);
    return rc;
}

int fg_run_finish(fg_runner *r, const cJSON *thresholds, const char *results_dir, int interrupted,
                  int status, int inconclusive_pass, const fg_run_output *o)
{
    fg_err err = {{0}};
    /* run.interrupted is set in the document the table is made from, so
     * the table of an interrupted run does not read as a pass. The
     * outcomes are written into it (the runner saves it on close). */
    cJSON *results = (cJSON *)fg_runner_results(r);
    int n_exps = cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(results, "experiments"));
    if (status == 0 && thresholds && n_exps > 0) {
        fg_outcome outcome;
        int failed = fg_run_report_thresholds(thresholds, results, NULL, results_dir, o->out,
                                              &outcome, &err);
        if (failed < 0) {
            fprintf(o->errs, "%s: thresholds: %s\n", o->who, err.msg);
            status = 2;
        } else if (failed > 0) {
            fprintf(o->out, "%d threshold%s failed\n", failed, failed == 1 ? "" : "s");
            status = 1;
        } else if (outcome == FG_OUTCOME_INCONCLUSIVE) {
            status = fg_outcome_exit(outcome, inconclusive_pass);
            fprintf(o->out, "inconclusive: the machine was too busy to judge some time bounds (no "
                    "check failed); %s\n", inconclusive_pass ? "--inconclusive=pass: exit 0"
                                                          : "exit 3 (--inconclusive=pass: 0)");
        } else if (!interrupted) {
            fprintf(o->out, "all thresholds pass\n");
        }
    }
    if (interrupted && status != 2) {
        if (n_exps == 0)
            fprintf(o->out, "interrupted before the first cell finished: no threshold verdict\n");
        else
            fprintf(o->out, "interrupted: no verdict for the cells not run; unfinished requests "
                    "are reported as interrupted\n");
        status = 1;
    }
    char path[1024];
    snprintf(path, sizeof path, "%s", fg_runner_results_path(r));
    if (fg_runner_close(r, &err) != 0) {
        fprintf(o->errs, "%s: %s\n", o->who, err.msg);
        status = 2;
    } else {
        fprintf(o->out, "results: %s\n", path);
    }
    return status;
}
