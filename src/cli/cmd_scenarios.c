/* cmd_scenarios.c — `flowgate run scenarios [NAME] [--override]`: the
 * scenario experiments of data/scenarios.json (scenarios.h) through one
 * runner, so one results file holds them all (experiment entries plus
 * "scenario_cells": mean, sd and 95 % CI per cell). The network changes per
 * scenario restart the embedded server, so scenarios need flowgate to start
 * it (no endpoints). Resume: the newest scenarios results file in the
 * results directory is read first and each cell it holds complete, with the
 * same identity, is copied rather than rerun; --override reruns them.
 * --ci: the file's scaled-down "ci" settings (what ctest runs).
 * Prints one line per replicate and one per cell (mean ± sd [CI]), then the
 * threshold table; exit codes as `flowgate run`. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "flowgate/engine.h"
#include "flowgate/latest_results.h"
#include "flowgate/results.h"
#include "flowgate/runner.h"
#include "flowgate/scenarios.h"
#include "flowgate/thresholds.h"
#include "flowgate/stop.h"

/* "p50 812.3 ± 40.1 ms [CI 712.7, 911.9]" from a cell summary. */
static void print_cell(const char *id, const cJSON *summary, int resumed)
{
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(summary, "metrics");
    printf("%s%s:", id, resumed ? " (kept from the earlier run)" : "");
    static const char *const show[] = {"p50_ms", "p95_ms", "throughput_rps"};
    for (int i = 0; i < 3; i++) {
        const cJSON *s = cJSON_GetObjectItemCaseSensitive(m, show[i]);
        const cJSON *mean = cJSON_GetObjectItemCaseSensitive(s, "mean");
        const cJSON *sd = cJSON_GetObjectItemCaseSensitive(s, "sd");
        const cJSON *ci = cJSON_GetObjectItemCaseSensitive(s, "ci95");
        if (!cJSON_IsNumber(mean)) {
            printf("  %s n/a", show[i]);
            continue;
        }
        printf("  %s %.4g", show[i], mean->valuedouble);
        if (cJSON_IsNumber(sd))
            printf(" ± %.3g [CI %.4g, %.4g]", sd->valuedouble,
                   cJSON_GetArrayItem(ci, 0)->valuedouble, cJSON_GetArrayItem(ci, 1)->valuedouble);
    }
    printf("\n");
    fflush(stdout);
}

static cJSON *load_prior(const char *dir, int override)
{
    char path[1024];
    fg_err err;
    if (override || fg_plot_latest_results(dir, "scenarios", path, sizeof path, &err) != 0)
        return NULL;
    cJSON *prior = fg_results_load(path, &err);
    if (prior) printf("resuming from %s (--override reruns every cell)\n", path);
    return prior;
}

int cmd_run_scenarios(const run_flags *f, const char *name, int override, int ci,
                      int no_thresholds)
{
    fg_err err = {{0}};
    fg_run_config cfg;
    if (run_flags_apply(f, "scenarios", &cfg, &err) != 0 || fg_config_check(&cfg, &err) != 0) {
        fprintf(stderr, "flowgate run: %s\n", err.msg);
        return 2;
    }
    if (cfg.endpoints[0]) {
        fprintf(stderr, "flowgate run: scenarios set each node's network, so flowgate starts "
                "its own server; endpoints (%s) cannot be used\n", cfg.endpoints);
        return 2;
    }
    fg_log_threshold = cfg.log_level;
    fg_scenario_plan plan;
    if (fg_scenarios_load(NULL, name, &cfg, f->schedulers, f->repeats > 0 ? f->repeats : 0, ci,
                          &plan, &err) != 0) {
        fprintf(stderr, "flowgate run: %s\n", err.msg);
        return 2;
    }
    cJSON *thresholds = NULL;
    if (!no_thresholds && !(thresholds = fg_thresholds_load(cfg.thresholds, &err))) {
        fprintf(stderr, "flowgate run: thresholds: %s\n", err.msg);
        fg_scenarios_free(&plan);
        return 2;
    }
    printf("scenarios: %d cells x %d replicates, request scale %g\n", plan.n_cells,
           plan.replicates, plan.request_scale);
    cJSON *prior = load_prior(cfg.results_dir, override);

    struct sigaction old_int, old_term;
    run_catch_stop(&old_int, &old_term);

    /* The first cell's network from the start: no restart for it. */
    cfg.bandwidth_mbit = plan.cells[0].bandwidth_mbit;
    cfg.latency_ms = plan.cells[0].latency_ms;
    int status = 0;
    fg_runner *r = fg_runner_open(&cfg, &err);
    if (!r) {
        fprintf(stderr, "flowgate run: %s\n", err.msg);
        status = fg_stop_requested() ? 1 : 2;
        goto out;
    }
    for (int i = 0; i < plan.n_cells && !fg_stop_requested(); i++) {
        int resumed, first, count;
        if (fg_scenario_run_cell(r, &plan, &plan.cells[i], prior, override, &resumed, &first,
                                 &count, &err) != 0) {
            fprintf(stderr, "flowgate run: %s\n", err.msg);
            status = 2;
            break;
        }
        const cJSON *exps = fg_results_experiments(fg_runner_results(r));
        if (!resumed)
            for (int k = first; k < first + count; k++)
                run_print_summary(cJSON_GetArrayItem(exps, k));
        const cJSON *cells = cJSON_GetObjectItemCaseSensitive(fg_runner_results(r),
                                                              "scenario_cells");
        print_cell(plan.cells[i].id, cJSON_GetArrayItem(cells, cJSON_GetArraySize(cells) - 1),
                   resumed);
    }
    status = run_finish(r, thresholds, cfg.results_dir, fg_stop_requested(), status,
                        cfg.inconclusive_pass);
out:
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    cJSON_Delete(prior);
    cJSON_Delete(thresholds);
    fg_scenarios_free(&plan);
    return status;
}
