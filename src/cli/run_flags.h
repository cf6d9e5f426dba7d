/* run_flags.h — the flags `flowgate run` and `flowgate ab` share: what to
 * run (category matrix, sizes, schedulers, ...) and how to load it
 * (requests, warm-up, open loop, ...). Parsed and applied here once, so
 * both commands read a flag the same way and give the same errors.
 * Precedence: defaults < environment < category < --config file < flags.
 * check and calibrate load --workflow here too, with the same default. */
#ifndef FLOWGATE_CLI_RUN_FLAGS_H
#define FLOWGATE_CLI_RUN_FLAGS_H
#include "flowgate/config.h"
#include "flowgate/workflow.h"

typedef struct run_flags {
    const char *config, *endpoints, *schedulers, *sizes, *concurrency, *variant;
    const char *results_dir, *nodes, *profile, *server_bin, *arrival, *transport, *workflow, *data_dir;
    int requests, warmup, repeats, retries, max_inflight;   /* -1: not given */
    double rate, duration, timeout, warmup_s;               /* < 0: not given */
    double seed, bandwidth_mbit, latency_ms, spin_us;       /* < 0: not given */
    int inline_data;
    const char *inconclusive;   /* --inconclusive=fail|pass; NULL: not given */
} run_flags;

void run_flags_init(run_flags *f);

/* When argv[*i] is a shared flag, takes it (and its value, advancing *i):
 * 1; not a shared flag: 0; a bad or missing value: -1 and err. */
int run_flags_take(run_flags *f, int argc, char **argv, int *i, fg_err *err);

/* The category's configuration with the environment, the --config file and
 * the flags applied (not yet fg_config_check'ed: a caller may still change
 * it, as `flowgate ab` does per side). */
int run_flags_apply(const run_flags *f, const char *category, fg_run_config *c, fg_err *err);

/* snprintf into a path field; -1 and "FLAG: path too long" when it does not fit. */
int run_flags_copy_path(char *dst, size_t size, const char *flag, const char *src, fg_err *err);

/* The workflow at path, or the default one (the config default) when
 * path is NULL; for the commands that take --workflow outside a run. */
int run_flags_load_workflow(const char *path, fg_workflow *wf, fg_err *err);

/* The embedded server's checks for fg_run_preflight: the tool links the
 * server, the run library does not. */
#include "flowgate/preflight.h"
extern const fg_preflight_server run_flags_server_checks;

#endif
