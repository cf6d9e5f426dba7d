/* finish.c — the end of a run and what surrounds its cells (design in
 * finish.h). Everything prints through the caller's FILE *, so the
 * library decides what a run says and the tool only where it goes. */
#include "flowgate/finish.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "flowgate/engine.h"
#include "flowgate/history.h"
#include "flowgate/json.h"
#include "flowgate/machine.h"
#include "flowgate/report.h"
#include "flowgate/results.h"
#include "flowgate/stop.h"

#include "git_info.h"

/* When the catcher was installed: a run's start, for a results file
 * written before the run could open one. */
static time_t started;

static void on_stop_signal(int sig)
{
    (void)sig;
    fg_stop_request();
}

void fg_run_catch_stop(void)
{
    static const int sigs[] = {SIGINT, SIGTERM};
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop_signal;
    /* A second signal kills; a call the signal interrupts resumes. */
    sa.sa_flags = SA_RESETHAND | SA_RESTART;
    sigemptyset(&sa.sa_mask);
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++) {
        struct sigaction old;
        /* Ignored at start (a `&` job of a script ignores SIGINT): kept so. */
        if (sigaction(sigs[i], NULL, &old) == 0 && old.sa_handler == SIG_IGN) continue;
        sigaction(sigs[i], &sa, NULL);
    }
    fg_stop_set_phase(FG_RUN_PHASE_SETUP);
    started = time(NULL);
}

void fg_run_entry_name(const cJSON *e, const char *prefix, char *out, size_t size)
{
    const char *id = fg_json_string(e, "experiment_id");
    double repeat = fg_json_number(e, "repeat");
    if (repeat > 0) snprintf(out, size, "%s%s #%.0f", prefix, id ? id : "?", repeat);
    else snprintf(out, size, "%s%s", prefix, id ? id : "?");
}

int fg_run_entry_where(const cJSON *e, const char *prefix, char *out, size_t size)
{
    if (!cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(e, "interrupted"))) return 0;
    char name[200];
    fg_run_entry_name(e, prefix, name, sizeof name);
    /* The warm-up ended when it has a stop reason (none asked for: "count"). */
    const cJSON *warm = cJSON_GetObjectItemCaseSensitive(e, "warmup");
    if (fg_json_string(warm, "stop_reason")) snprintf(out, size, "during %s", name);
    else snprintf(out, size, "during the warm-up of %s", name);
    return 1;
}

const char *fg_run_phase_words(int phase)
{
    switch (phase) {
    case FG_RUN_PHASE_HEALTH: return "during the health wait";
    case FG_RUN_PHASE_CELLS:  return "during the cells";
    case FG_RUN_PHASE_TABLE:  return "during the threshold table";
    case FG_RUN_PHASE_SAVE:   return "while saving the results";
    default:                  return "during setup, before the first request";
    }
}

void fg_run_stop_where(const cJSON *results, int all_cells_run, char *out, size_t size)
{
    int phase = fg_stop_phase_at_request();
    snprintf(out, size, "%s", fg_run_phase_words(phase));
    if (phase != FG_RUN_PHASE_CELLS) return;
    const cJSON *exps = fg_results_experiments(results);
    int n = cJSON_GetArraySize(exps);
    const cJSON *last = n > 0 ? cJSON_GetArrayItem(exps, n - 1) : NULL;
    char name[200];
    if (last && fg_run_entry_where(last, "", out, size)) return;
    if (!last) {
        snprintf(out, size, "before the first cell");
    } else if (all_cells_run) {
        snprintf(out, size, "after the last cell");
    } else {
        fg_run_entry_name(last, "", name, sizeof name);
        snprintf(out, size, "between cells, after %s", name);
    }
}

void fg_run_cells_words(const cJSON *results, char *out, size_t size)
{
    const cJSON *exps = fg_results_experiments(results);
    int n = cJSON_GetArraySize(exps);
    int cut = n > 0 && cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(
                          cJSON_GetArrayItem(exps, n - 1), "interrupted"));
    if (n == 0) snprintf(out, size, "no cells");
    else if (n == 1) snprintf(out, size, "1 cell%s", cut ? ", cut short" : "");
    else snprintf(out, size, "%d cells%s", n, cut ? ", the last cut short" : "");
}

void fg_run_mark_interrupted(cJSON *results, const char *where)
{
    cJSON *run = cJSON_GetObjectItemCaseSensitive(results, "run");
    if (!run) return;
    cJSON_DeleteItemFromObjectCaseSensitive(run, "interrupted");
    cJSON_AddTrueToObject(run, "interrupted");
    cJSON_DeleteItemFromObjectCaseSensitive(run, "interrupted_during");
    cJSON_AddStringToObject(run, "interrupted_during", where);
    /* No verdict, and never a pass. */
    cJSON_DeleteItemFromObjectCaseSensitive(run, "outcome");
    cJSON_AddStringToObject(run, "outcome", fg_outcome_name(FG_OUTCOME_FAIL));
}

static void iso_time(time_t t, char *out, size_t size)
{
    struct tm tm;
    localtime_r(&t, &tm);
    strftime(out, size, "%Y-%m-%dT%H:%M:%S%z", &tm);
}

int fg_run_write_stopped(const fg_run_config *c, const char *where, char *path, size_t size,
                         fg_err *err)
{
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "schema", FG_RESULTS_SCHEMA);
    cJSON *run = cJSON_AddObjectToObject(root, "run");
    cJSON_AddStringToObject(run, "id", "");
    cJSON_AddStringToObject(run, "category", c->category);
    char stamp[64];
    iso_time(started ? started : time(NULL), stamp, sizeof stamp);
    cJSON_AddStringToObject(run, "started", stamp);
    iso_time(time(NULL), stamp, sizeof stamp);
    cJSON_AddStringToObject(run, "finished", stamp);
    char host[256] = "unknown";
    gethostname(host, sizeof host - 1);
    cJSON_AddStringToObject(run, "host", host);
    cJSON_AddNumberToObject(run, "cores", (double)sysconf(_SC_NPROCESSORS_ONLN));
    /* The same identity as a run the runner opened (runner.c), so a run
     * stopped early still lands in its machine's and branch's history. */
    char cpu[256], commit[128], branch[256];
    if (fg_machine_cpu_model(cpu, sizeof cpu) == 0) cJSON_AddStringToObject(run, "cpu_model", cpu);
    if (fg_git_info(commit, sizeof commit, branch, sizeof branch) == 0)
        cJSON_AddStringToObject(run, "git_commit", commit);
    if (branch[0]) cJSON_AddStringToObject(run, "git_branch", branch);
    fg_run_mark_interrupted(root, where);
    cJSON_AddArrayToObject(root, "experiments");
    int rc = fg_results_create_run(c->results_dir, c->scale_prefix, root, path, size, err);
    cJSON_Delete(root);
    return rc;
}

int fg_run_stopped_early(const fg_run_config *c, const fg_run_output *o)
{
    char where[160], path[1100];
    fg_err err = {{0}};
    snprintf(where, sizeof where, "%s", fg_run_phase_words(fg_stop_phase_at_request()));
    if (fg_run_write_stopped(c, where, path, sizeof path, &err) != 0) {
        fprintf(o->errs, "%s: interrupted %s; no results file: %s\n", o->who, where, err.msg);
        return FG_EXIT_BAD_INPUT;
    }
    fprintf(o->out, "results: %s\n", path);
    fflush(o->out);
    fprintf(o->errs, "%s: interrupted %s; results: %s (no cells)\n", o->who, where, path);
    return FG_EXIT_FAIL;
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
    /* Open loop (pace.h): the rate sent, how late, and a driver that fell
     * behind its schedule said in capitals, never silently. */
    const cJSON *sched = cJSON_GetObjectItemCaseSensitive(e, "schedule");
    const cJSON *achieved = cJSON_GetObjectItemCaseSensitive(sched, "achieved_rps");
    const cJSON *target = cJSON_GetObjectItemCaseSensitive(sched, "target_rps");
    const cJSON *late = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(sched, "lateness_ms"), "p99");
    if (cJSON_IsNumber(achieved) && cJSON_IsNumber(target))
        fprintf(out, "  sent %.0f/s of %.0f/s", achieved->valuedouble, target->valuedouble);
    if (cJSON_IsNumber(late))
        fprintf(out, "%slate p99 %.2f ms", cJSON_IsNumber(achieved) && cJSON_IsNumber(target) ? ", " : "  ",
                late->valuedouble);
    const cJSON *behind = cJSON_GetObjectItemCaseSensitive(sched, "behind");
    if (cJSON_IsString(behind)) fprintf(out, "  DRIVER BEHIND SCHEDULE (%s)", behind->valuestring);
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
        if (out) {
            fputs(t.text, out);
            fprintf(out, "threshold table%s: %s\n", base ? " (B against A)" : "", path);
            fflush(out);
        }
        if (!base) fg_report_mark_outcomes(&t, results);
        *outcome = t.outcome;
        rc = t.failed;
    }
    fg_threshold_table_free(&t);
    return rc;
}

/* The results file after it was saved says the run was interrupted. */
static int saved_interrupted(const char *path)
{
    cJSON *root = fg_results_load(path, NULL);
    int yes = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(root, "run"), "interrupted"));
    cJSON_Delete(root);
    return yes;
}

int fg_run_finish(fg_runner *r, const cJSON *thresholds, const char *results_dir, int all_cells_run,
                  int status, int inconclusive_pass, const fg_run_output *o)
{
    fg_err err = {{0}};
    /* The second after the last cell is measured before anything is
     * judged, so that after the table only the save is left. */
    fg_runner_end_cells(r);
    /* run.interrupted follows the stop flag in the document the table is
     * made from (fg_runner_results), so an interrupted run's table carries
     * a failing row and no pass. The outcomes are written into it. */
    cJSON *results = (cJSON *)fg_runner_results(r);
    int n_exps = cJSON_GetArraySize(fg_results_experiments(results));
    int stopped = fg_stop_requested(), failed = 0, judged = 0;
    fg_outcome outcome = FG_OUTCOME_PASS;
    if (status == 0 && thresholds && n_exps > 0) {
        fg_stop_set_phase(FG_RUN_PHASE_TABLE);
        failed = fg_run_report_thresholds(thresholds, results, NULL, results_dir, o->out,
                                          &outcome, &err);
        if (!stopped && fg_stop_requested()) {
            /* The stop came during the table: its file and the outcomes are
             * made again from the document marked interrupted, not printed. */
            results = (cJSON *)fg_runner_results(r);
            failed = fg_run_report_thresholds(thresholds, results, NULL, results_dir, NULL,
                                              &outcome, &err);
        }
        if (failed < 0) {
            fprintf(o->errs, "%s: thresholds: %s\n", o->who, err.msg);
            status = FG_EXIT_BAD_INPUT;
        }
        judged = failed >= 0;
    }
    fg_stop_set_phase(FG_RUN_PHASE_SAVE);
    char where[300] = "", cells[64], path[1024];
    stopped = fg_stop_requested();
    if (stopped) {
        fg_run_stop_where(results, all_cells_run, where, sizeof where);
        fg_run_mark_interrupted(results, where);
    }
    fg_run_cells_words(results, cells, sizeof cells);
    snprintf(path, sizeof path, "%s", fg_runner_results_path(r));
    if (fg_runner_close(r, &err) != 0) {
        fprintf(o->errs, "%s: %s\n", o->who, err.msg);
        return FG_EXIT_BAD_INPUT;
    }
    /* A stop during the save counts if the file caught it. */
    if (!stopped && fg_stop_requested() && saved_interrupted(path)) {
        stopped = 1;
        snprintf(where, sizeof where, "%s", fg_run_phase_words(FG_RUN_PHASE_SAVE));
    }
    /* The history gets the file as saved, outcomes and all; a history that
     * cannot be written is said on one line and changes no exit status. */
    fg_history_append_run(results_dir, path, "run", o->errs);
    if (judged && failed > 0) {
        fprintf(o->out, "%d threshold%s failed\n", failed, failed == 1 ? "" : "s");
        status = FG_EXIT_FAIL;
    } else if (judged && !stopped && outcome == FG_OUTCOME_INCONCLUSIVE) {
        status = fg_outcome_exit(outcome, inconclusive_pass);
        fprintf(o->out, "inconclusive: the machine was too busy to judge some time bounds (no "
                "check failed); %s\n", inconclusive_pass ? "--inconclusive=pass: exit 0"
                                                      : "exit 3 (--inconclusive=pass: 0)");
    } else if (judged && !stopped) {
        fprintf(o->out, "all thresholds pass\n");
    }
    fprintf(o->out, "results: %s\n", path);
    fflush(o->out);
    if (stopped) {
        fprintf(o->errs, "%s: interrupted %s; results: %s (%s)\n", o->who, where, path, cells);
        if (status != FG_EXIT_BAD_INPUT) status = FG_EXIT_FAIL;
    }
    return status;
}
