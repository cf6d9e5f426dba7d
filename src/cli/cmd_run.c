/* cmd_run.c — `flowgate run`: builds the run configuration (defaults <
 * environment < category < --config file < flags) and hands it to the run
 * library: the matrix of cells (size × concurrency × scheduler,
 * matrix_run.h) or the scenarios (scenario_run.h), which print one line
 * per experiment, then check the thresholds (finish.h).
 *
 * `scale` runs large_input, high_concurrency and extreme in sequence into
 * one scale_experiment_results_<id>.json; `test` is smoke. The stop catcher
 * is the first thing installed and stays until the process exits: Ctrl-C
 * (or SIGTERM) at any moment ends the current experiment early (its
 * unfinished requests are reported as interrupted), keeps every finished
 * one, stops the embedded server and ends with one line on stderr,
 * "flowgate run: interrupted <where>; results: <path> (<cells>)"; a
 * second one kills. The results file exists (valid JSON) from the moment
 * the endpoints are healthy; a run stopped before that still leaves one
 * (finished, run.interrupted, no experiments); an interrupted run never
 * prints "all thresholds pass" and its file's run.outcome is "fail".
 * Exit: 0 all thresholds pass, 1 a threshold failed or the run was
 * interrupted, 2 bad input or setup, 3 no check failed but some were
 * inconclusive because other processes took more of the machine than the
 * bounds allow (thresholds.h); --inconclusive=pass (config "inconclusive",
 * FLOWGATE_INCONCLUSIVE) makes that 0.
 *
 * `flowgate run scenarios [NAME] [--override] [--ci]`: the scenario
 * experiments of data/scenarios.json (scenarios.h). The network changes per
 * scenario restart the embedded server, so scenarios need flowgate to start
 * it (no endpoints). Resume: the newest scenarios results file in the
 * results directory is read first and each cell it holds complete, with the
 * same identity, is copied rather than rerun; --override reruns them.
 * --ci: the file's scaled-down "ci" settings (what ctest runs). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "run_flags.h"
#include "flowgate/config.h"
#include "flowgate/finish.h"
#include "flowgate/stop.h"
#include "flowgate/matrix_run.h"
#include "flowgate/latest_results.h"
#include "flowgate/results.h"
#include "flowgate/scenario_run.h"
#include "flowgate/thresholds.h"


/* The shared flags (run_flags.h) and the one of run alone. */
typedef struct cmd_flags {
    run_flags run;
    int no_thresholds;
    int override;              /* scenarios: rerun cells an earlier run holds */
    int ci;                    /* scenarios: the file's scaled-down "ci" settings */
    const char *scenario;      /* scenarios: only this one */
    const char *segment;       /* --segment i/N: this driver's share of the open loop */
    const char *start_at;      /* --start-at T: unix time the first cell starts */
} cmd_flags;

static void usage(FILE *out)
{
    fprintf(out,
        "usage: flowgate run [standard|large_input|high_concurrency|extreme|scale|smoke|test|single]\n"
        "       flowgate run scenarios [NAME] [--override] [--ci] [flags]\n"
        "                    [--config F] [--endpoints F] [--schedulers a,b] [--sizes 0.1,1]\n"
        "                    [--concurrency 1,5] [--requests N] [--warmup N] [--warmup-s S]\n"
        "                    [--rate R --duration S [--max-inflight N] [--spin-us U]\n"
        "                     [--arrival constant|poisson] [--seed N]] [--timeout S]\n"
        "                    [--bandwidth-mbit X] [--latency-ms Y]\n"
        "                    [--retries N] [--inline] [--repeats N] [--transport auto|direct|libcurl]\n"
        "                    [--variant %s]\n"
        "                    [--results-dir D] [--nodes F] [--server-bin F] [--profile F]\n"
        "                    [--workflow F] [--data-dir D] [--no-thresholds]\n"
        "                    [--inconclusive=fail|pass]\n"
        "\n"
        "Runs the category's matrix (default standard) against the endpoints, or against\n"
        "embedded nodes started from data/nodes.json. Precedence: defaults < environment <\n"
        "category < --config file < flags. `scale` runs large_input, high_concurrency and\n"
        "extreme into one scale_experiment_results_<id>.json; `test` is smoke; `single`\n"
        "is one cell at $DEFAULT_INPUT_SIZE (1.0) x $DEFAULT_CONCURRENCY (5).\n"
        "`scenarios` runs data/scenarios.json (or one scenario by NAME): each cell R times\n"
        "(--repeats, $FLOWGATE_REPLICATES), mean, sd and 95 %% CI per cell; cells the latest\n"
        "scenarios results already hold (same identity) are kept, --override reruns them;\n"
        "--ci: the file's scaled-down \"ci\" settings (the ctest run).\n"
        "--workflow picks the workflow file (default data/workflows/recognizer.json); one\n"
        "whose payload is JSON or a file has no size axis: one cell per concurrency.\n"
        "--data-dir D: the system's data files come from D (nodes file, workflow and\n"
        "thresholds unless given, the embedded server's dictionary and censor list); the\n"
        "matrix and the generated images stay this data directory's.\n"
        "--rate/--duration switch to an open loop (latency from the intended send time);\n"
        "--max-inflight caps its instances in flight (default 1024); --arrival poisson draws\n"
        "exponential gaps from --seed (default %llu, recorded in the results).\n"
        "--spin-us U: the open loop polls instead of sleeping when a slot is due within U us\n"
        "(precise sends on a busy machine, at the cost of a core's CPU at high rates).\n"
        "--segment i/N: this driver sends only slots g of the schedule with g mod N == i\n"
        "(warm-up too); run N drivers 0/N..N-1/N together, then `flowgate merge` their files.\n"
        "--transport libcurl sends every request through libcurl; auto (default) sends plain\n"
        "http:// through the driver's own HTTP/1.1 (half the CPU a request) and https, a\n"
        "proxy or signing through libcurl.\n"
        "--start-at T: the first cell starts at unix time T (seconds), so N drivers begin\n"
        "their schedules together; a T already past is said and the run starts at once.\n"
        "--bandwidth-mbit/--latency-ms set every node's egress link (one shared token bucket\n"
        "per node) and added latency: the embedded server's, or by PUT /link those of\n"
        "flowgate-functions nodes named by --endpoints (restored after). Without --requests a\n"
        "cell measures at least 20 requests (p95 needs 20 samples) and at least C.\n"
"Time and rate bounds are widened by the contention measured during each cell\n"
        "(other processes' share of the cores, x 1/(1 - share), share capped at 0.25);\n"
        "beyond 0.25 a failing time or rate check is inconclusive, not failed.\n"
        "Ctrl-C (SIGTERM) at any moment: the run ends early, its results file (always\n"
        "written, marked interrupted) and one line on stderr saying where it stopped.\n"
        "Exit: 0 thresholds pass, 1 a threshold failed or the run was interrupted, 2 bad\n"
        "input or setup, 3 inconclusive (machine busy; --inconclusive=pass makes it 0).\n", fg_variant_list("|", (char[96]){""}, 96), (unsigned long long)FG_ARRIVAL_DEFAULT_SEED);
}

static int build_config(const char *category, const cmd_flags *f, fg_run_config *c, fg_err *err)
{
    if (run_flags_apply(&f->run, category, c, err) != 0) return -1;
    if (f->segment &&
        fg_segment_parse(f->segment, &c->segment_index, &c->segment_count, err) != 0)
        return -1;
    if (f->start_at && fg_start_at_parse(f->start_at, fg_now_unix_ms() / 1000.0,
                                         &c->start_at_unix_s, err) != 0)
        return -1;
    return fg_config_check(c, err);
}

static int parse_args(int argc, char **argv, const char **category, cmd_flags *f, fg_err *err)
{
    memset(f, 0, sizeof *f);
    run_flags_init(&f->run);
    *category = "standard";
    int have_category = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int taken = run_flags_take(&f->run, argc, argv, &i, err);
        if (taken < 0) return -1;
        if (taken) continue;
        if (!strcmp(a, "--no-thresholds")) { f->no_thresholds = 1; continue; }
        if (!strcmp(a, "--override")) { f->override = 1; continue; }
        if (!strcmp(a, "--ci")) { f->ci = 1; continue; }
        if (!strcmp(a, "--segment")) {
            if (i + 1 >= argc) return fg_err_set(err, "--segment needs a value (i/N, e.g. 0/2)");
            f->segment = argv[++i];
            continue;
        }
        if (!strcmp(a, "--start-at")) {
            if (i + 1 >= argc) return fg_err_set(err, "--start-at needs a unix time in seconds");
            f->start_at = argv[++i];
            continue;
        }
        if (a[0] == '-') return fg_err_set(err, "unknown option '%s' (flowgate run --help)", a);
        if (have_category && !strcmp(*category, "scenarios") && !f->scenario) {
            f->scenario = a;
            continue;
        }
        if (have_category) return fg_err_set(err, "more than one category ('%s')", a);
        *category = a;
        have_category = 1;
    }
    if (!strcmp(*category, "test")) *category = "smoke";
    if (f->segment && !strcmp(*category, "scenarios"))
        return fg_err_set(err, "--segment is for a matrix run's open loop, not scenarios");
    if ((f->override || f->ci) && strcmp(*category, "scenarios"))
        return fg_err_set(err, "%s is for scenarios; it needs the scenarios category",
                          f->override ? "--override" : "--ci");
    return 0;
}

/* The newest scenarios results in dir, to resume from; NULL with
 * --override or when there is none. */
static cJSON *load_prior(const char *dir, int override)
{
    char path[1024];
    fg_err err;
    if (override || fg_latest_results_with_cells(dir, "scenarios", path, sizeof path, &err) != 0)
        return NULL;
    cJSON *prior = fg_results_load(path, &err);
    if (prior) printf("resuming from %s (--override reruns every cell)\n", path);
    return prior;
}

/* `flowgate run scenarios [NAME]`: the plan of data/scenarios.json. */
static int run_scenarios(const cmd_flags *f)
{
    fg_err err = {{0}};
    fg_run_config cfg;
    if (build_config("scenarios", f, &cfg, &err) != 0) {
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
    if (fg_scenarios_load(NULL, f->scenario, &cfg, f->run.schedulers,
                          f->run.repeats > 0 ? f->run.repeats : 0, f->ci, &plan, &err) != 0) {
        fprintf(stderr, "flowgate run: %s\n", err.msg);
        return 2;
    }
    const fg_run_output o = {stdout, stderr, "flowgate run"};
    if (fg_run_preflight(&cfg, &run_flags_server_checks, &err) != 0) {
        fg_scenarios_free(&plan);
        if (fg_stop_requested()) return fg_run_stopped_early(&cfg, &o);
        fprintf(stderr, "flowgate run: %s\n", err.msg);
        return 2;
    }
    cJSON *thresholds = NULL;
    if (!f->no_thresholds && !(thresholds = fg_thresholds_load(cfg.thresholds, &err))) {
        fprintf(stderr, "flowgate run: thresholds: %s\n", err.msg);
        fg_scenarios_free(&plan);
        return 2;
    }
    printf("scenarios: %d cells x %d replicates, request scale %g\n", plan.n_cells,
           plan.replicates, plan.request_scale);
    cJSON *prior = load_prior(cfg.results_dir, f->override);
    int status = fg_scenarios_run(&cfg, &plan, prior, f->override, thresholds, &o);
    cJSON_Delete(prior);
    cJSON_Delete(thresholds);
    fg_scenarios_free(&plan);
    return status;
}

int cmd_run(int argc, char **argv)
{
    /* First: a stop at any moment from here ends as a stop (finish.h). */
    fg_run_catch_stop();
    for (int i = 1; i < argc; i++)
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            usage(stdout);
            return 0;
        }
    fg_err err = {{0}};
    const char *category;
    cmd_flags flags;
    if (parse_args(argc, argv, &category, &flags, &err) != 0) {
        fprintf(stderr, "flowgate run: %s\n", err.msg);
        return 2;
    }
    if (!strcmp(category, "scenarios")) return run_scenarios(&flags);
    static const char *const scale_parts[] = {"large_input", "high_concurrency", "extreme"};
    int scale = !strcmp(category, "scale");
    int n_parts = scale ? 3 : 1;
    fg_run_config parts[3];
    for (int i = 0; i < n_parts; i++)
        if (build_config(scale ? scale_parts[i] : category, &flags, &parts[i], &err) != 0) {
            fprintf(stderr, "flowgate run: %s\n", err.msg);
            return 2;
        }
    fg_run_config run_cfg = parts[0];
    if (scale) {
        snprintf(run_cfg.category, sizeof run_cfg.category, "scale");
        run_cfg.scale_prefix = 1;
    }
    fg_log_threshold = run_cfg.log_level;

    const fg_run_output o = {stdout, stderr, "flowgate run"};
    /* Every input before the machine probe (thresholds) and the server; a
     * stop that cut a check short is a stop, not bad input. */
    for (int i = 0; i < n_parts; i++)
        if (fg_run_preflight(&parts[i], &run_flags_server_checks, &err) != 0) {
            if (fg_stop_requested()) return fg_run_stopped_early(&run_cfg, &o);
            fprintf(stderr, "flowgate run: %s\n", err.msg);
            return 2;
        }
    cJSON *thresholds = NULL;
    if (!flags.no_thresholds && run_cfg.thresholds[0]) {
        /* Checked before the run, so a typo costs nothing. */
        thresholds = fg_thresholds_load(run_cfg.thresholds, &err);
        if (!thresholds) {
            fprintf(stderr, "flowgate run: thresholds: %s\n", err.msg);
            return 2;
        }
    }

    int status = fg_matrix_run(&run_cfg, parts, n_parts, thresholds, &o);
    cJSON_Delete(thresholds);
    return status;
}
