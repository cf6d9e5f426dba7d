/* suite_main.c — `flowgate-suite <category>`: the performance suite of one
 * category as a cmocka group. The tests are built at run time from the
 * category's matrix (data/categories.json through the config, so
 * FLOWGATE_CONFIG and FLOWGATE_SCHEDULERS apply): one cmocka test per cell
 * and scheduler, named by its experiment id. Cells are ordered size,
 * concurrency, then scheduler, so the schedulers of a cell run back to back
 * under the same machine conditions.
 *
 * `flowgate-suite scenarios [NAME] [--override] [--ci]`: the scenario cells of
 * data/scenarios.json (scenarios.h), one cmocka test per cell and
 * scheduler, each running its replicates; cells the newest scenarios
 * results already hold are kept unless --override; --ci applies the
 * file's scaled-down "ci" settings.
 *
 * `flowgate-suite --latest-like BASE.json` prints the newest results file
 * next to BASE of the same category (what the regression gate compares).
 *
 * FLOWGATE_BASELINE=<results file>: relative thresholds ("p95_ms < 1.25 *
 * base.p95_ms") are judged against the like cell of that file (fixture.h).
 * Exit 1 when a cell failed, setup or teardown failed, or the run was
 * interrupted (even before its first cell); 2 on bad input; 3 when no cell
 * failed but some were inconclusive (the machine busier than the bounds
 * allow; skipped tests, <skipped message="inconclusive: ..."/> in the
 * JUnit XML), 0 for that with FLOWGATE_INCONCLUSIVE=pass. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fixture.h"
#include "flowgate/latest_results.h"
#include "flowgate/results.h"

static int usage(void)
{
    fprintf(stderr,
            "usage: flowgate-suite CATEGORY        run the category's cells as cmocka tests\n"
            "       flowgate-suite scenarios [NAME] [--override] [--ci]\n"
            "       flowgate-suite --latest-like BASE.json\n"
            "categories: smoke, standard, large_input, high_concurrency, extreme (data/categories.json)\n"
            "     FLOWGATE_REPLICATES (scenarios: replicates per cell)\n"
            "env: FLOWGATE_ENDPOINTS, FLOWGATE_SCHEDULERS, FLOWGATE_REQUEST_SCALE, FLOWGATE_CONFIG,\n"
            "     FLOWGATE_RESULTS_DIR, FLOWGATE_BASELINE (results file: base of relative thresholds),\n"
            "     FLOWGATE_INCONCLUSIVE=pass (a cell left open by a busy machine: exit 0, not 3),\n"
            "     CMOCKA_MESSAGE_OUTPUT=xml + CMOCKA_XML_FILE for JUnit XML\n");
    return 2;
}

static int latest_like(const char *base_path)
{
    fg_err err = {{0}};
    cJSON *base = fg_results_load(base_path, &err);
    if (!base) {
        fprintf(stderr, "flowgate-suite: %s\n", err.msg);
        return 2;
    }
    const cJSON *cat = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(base, "run"),
                                                        "category");
    char category[64] = "";
    if (cJSON_IsString(cat)) snprintf(category, sizeof category, "%s", cat->valuestring);
    cJSON_Delete(base);

    char dir[1024];
    snprintf(dir, sizeof dir, "%s", base_path);
    char *slash = strrchr(dir, '/');
    if (slash) *slash = 0;
    else snprintf(dir, sizeof dir, ".");
    char found[1024];
    if (fg_plot_latest_results(dir, category, found, sizeof found, &err) != 0) {
        fprintf(stderr, "flowgate-suite: %s\n", err.msg);
        return 2;
    }
    printf("%s\n", found);
    return 0;
}

/* After the group: the inconclusive cells named in the JUnit XML, one
 * line saying what the exit status means, the status. */
static int finish(fixture *fx, const char *group, int failed)
{
    fg_err err = {{0}};
    if (fixture_junit_mark(fx, group, NULL, &err) != 0)
        fprintf(stderr, "flowgate-suite %s: JUnit XML: %s\n", group, err.msg);
    int status = fixture_exit_status(fx, failed);
    if (fx->cells_inconclusive && !failed && !fx->interrupted)
        printf("%s: %d cell%s inconclusive (machine busy), none failed: exit %d%s\n", group,
               fx->cells_inconclusive, fx->cells_inconclusive == 1 ? "" : "s", status,
               status ? " (FLOWGATE_INCONCLUSIVE=pass: 0)" : " (FLOWGATE_INCONCLUSIVE=pass)");
    return status;
}

/* The scenario cells as one cmocka group (category "scenarios"). */
static int scenarios(int argc, char **argv)
{
    const char *only = NULL;
    int override = 0, ci = 0;
    for (int i = 2; i < argc; i++) {
        if (!strcmp(argv[i], "--override")) override = 1;
        else if (!strcmp(argv[i], "--ci")) ci = 1;
        else if (argv[i][0] != '-' && !only) only = argv[i];
        else return usage();
    }
    fg_run_config cfg;
    fg_err err = {{0}};
    fg_scenario_plan plan;
    if (fixture_config("scenarios", &cfg, &err) != 0 ||
        fg_scenarios_load(NULL, only, &cfg, NULL, 0, ci, &plan, &err) != 0 ||
        fixture_junit_prepare(NULL, &err) != 0) {
        fprintf(stderr, "flowgate-suite scenarios: %s\n", err.msg);
        return 2;
    }
    cJSON *prior = NULL;
    char path[1024];
    if (!override && fg_plot_latest_results(cfg.results_dir, "scenarios", path, sizeof path,
                                            &err) == 0 &&
        (prior = fg_results_load(path, &err)))
        printf("scenarios: keeping the cells %s holds (--override reruns them)\n", path);
    printf("scenarios: %d cells x %d replicates, request scale %g\n", plan.n_cells,
           plan.replicates, plan.request_scale);
    fixture_scenario_cell *cells = calloc((size_t)plan.n_cells, sizeof *cells);
    struct CMUnitTest *tests = calloc((size_t)plan.n_cells, sizeof *tests);
    fixture *fx = calloc(1, sizeof *fx);
    if (!cells || !tests || !fx) {
        fprintf(stderr, "flowgate-suite: out of memory\n");
        return 2;
    }
    for (int k = 0; k < plan.n_cells; k++) {
        cells[k] = (fixture_scenario_cell){fx, &plan, &plan.cells[k], prior, override};
        tests[k].name = plan.cells[k].id;
        tests[k].test_func = fixture_scenario_cell_test;
        tests[k].initial_state = &cells[k];
    }
    fixture_select(fx, "scenarios");
    int failed = _cmocka_run_group_tests("scenarios", tests, (size_t)plan.n_cells,
                                         fixture_group_setup, fixture_group_teardown);
    int interrupted = fx->interrupted;
    if (interrupted) fprintf(stderr, "flowgate-suite scenarios: interrupted: no verdict\n");
    int status = finish(fx, "scenarios", failed);
    free(tests);
    free(cells);
    free(fx->inconclusive_log);
    free(fx);
    cJSON_Delete(prior);
    fg_scenarios_free(&plan);
    return status;
}

int main(int argc, char **argv)
{
    if (argc == 3 && !strcmp(argv[1], "--latest-like")) return latest_like(argv[2]);
    if (argc >= 2 && !strcmp(argv[1], "scenarios")) return scenarios(argc, argv);
    if (argc != 2 || argv[1][0] == '-') return usage();
    const char *category = argv[1];

    fg_run_config cfg;
    fg_err err = {{0}};
    if (fixture_config(category, &cfg, &err) != 0) {
        fprintf(stderr, "flowgate-suite %s: %s\n", category, err.msg);
        return 2;
    }
    if (cfg.n_sizes == 0 || cfg.n_concurrency == 0 || cfg.n_schedulers == 0) {
        fprintf(stderr, "flowgate-suite %s: the category has no cells (sizes %d, concurrency levels %d, schedulers %d)\n",
                category, cfg.n_sizes, cfg.n_concurrency, cfg.n_schedulers);
        return 2;
    }
    if (fixture_junit_prepare(NULL, &err) != 0) {
        fprintf(stderr, "flowgate-suite %s: %s\n", category, err.msg);
        return 2;
    }

    /* The category's cells: an explicit list (the gate's diagonal) or the
     * cross product, as `flowgate run` runs them. */
    static fg_cell matrix[FG_MAX_CELLS_AXIS * FG_MAX_CELLS_AXIS];
    int n_matrix = fg_config_cells(&cfg, matrix, (int)(sizeof matrix / sizeof matrix[0]));
    size_t n = (size_t)n_matrix * cfg.n_schedulers;
    fixture_cell *cells = calloc(n, sizeof *cells);
    struct CMUnitTest *tests = calloc(n, sizeof *tests);
    fixture *fx = calloc(1, sizeof *fx);
    if (!cells || !tests || !fx) {
        fprintf(stderr, "flowgate-suite: out of memory\n");
        return 2;
    }
    size_t k = 0;
    for (int m = 0; m < n_matrix; m++)
        for (int s = 0; s < cfg.n_schedulers; s++, k++) {
            fixture_cell *cell = &cells[k];
            cell->fx = fx;
            cell->input_mb = matrix[m].size_mb;
            cell->concurrency = matrix[m].concurrency;
            snprintf(cell->scheduler, sizeof cell->scheduler, "%s", cfg.schedulers[s]);
            fixture_experiment_id(cell->input_mb, cell->concurrency, cell->scheduler, cell->id,
                                  sizeof cell->id);
            tests[k].name = cell->id;
            tests[k].test_func = fixture_cell_test;
            tests[k].initial_state = cell;
        }

    fixture_select(fx, category);
    int failed = _cmocka_run_group_tests(category, tests, n, fixture_group_setup,
                                         fixture_group_teardown);
    /* A failed teardown (e.g. an interrupted run) may not reach cmocka's
     * count: the fixture's own record decides too. */
    int interrupted = fx->interrupted;
    if (interrupted) fprintf(stderr, "flowgate-suite %s: interrupted: no verdict\n", category);
    int status = finish(fx, category, failed);
    free(tests);
    free(cells);
    free(fx->inconclusive_log);
    free(fx);
    return status;
}
