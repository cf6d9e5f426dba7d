/* run_flags.c — the flags `flowgate run` and `flowgate ab` share (design in
 * run_flags.h). Upper bounds are the same as a config file's. */
#include "run_flags.h"
#include "flowgate/server.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

#define MAX_TIMEOUT_S 86400.0
#define MAX_DURATION_S 86400.0
#define MAX_RATE_RPS 1e6

void run_flags_init(run_flags *f)
{
    memset(f, 0, sizeof *f);
    f->requests = f->warmup = f->repeats = f->retries = f->max_inflight = -1;
    f->rate = f->duration = f->timeout = f->warmup_s = -1;
    f->seed = f->bandwidth_mbit = f->latency_ms = f->spin_us = -1;
}

int run_flags_take(run_flags *f, int argc, char **argv, int *i, fg_err *err)
{
    const char *a = argv[*i];
    const char *v = *i + 1 < argc ? argv[*i + 1] : NULL;
    static const struct { const char *name; size_t off; } strs[] = {
        {"--config", offsetof(run_flags, config)},
        {"--endpoints", offsetof(run_flags, endpoints)},
        {"--schedulers", offsetof(run_flags, schedulers)},
        {"--sizes", offsetof(run_flags, sizes)},
        {"--concurrency", offsetof(run_flags, concurrency)},
        {"--variant", offsetof(run_flags, variant)},
        {"--results-dir", offsetof(run_flags, results_dir)},
        {"--nodes", offsetof(run_flags, nodes)},
        {"--profile", offsetof(run_flags, profile)},
        {"--server-bin", offsetof(run_flags, server_bin)},
        {"--arrival", offsetof(run_flags, arrival)},
        {"--transport", offsetof(run_flags, transport)},
        {"--workflow", offsetof(run_flags, workflow)},
        {"--data-dir", offsetof(run_flags, data_dir)},
    };
    static const struct { const char *name; size_t off; int lo, hi; } ints[] = {
        {"--requests", offsetof(run_flags, requests), 1, FG_MAX_REQUESTS},
        {"--warmup", offsetof(run_flags, warmup), 0, FG_MAX_REQUESTS},
        {"--repeats", offsetof(run_flags, repeats), 1, 1000},
        {"--retries", offsetof(run_flags, retries), 0, 10},
        {"--max-inflight", offsetof(run_flags, max_inflight), 1, FG_MAX_INFLIGHT},
    };
    static const struct { const char *name; size_t off; double hi; } nums[] = {
        {"--rate", offsetof(run_flags, rate), MAX_RATE_RPS},
        {"--duration", offsetof(run_flags, duration), MAX_DURATION_S},
        {"--timeout", offsetof(run_flags, timeout), MAX_TIMEOUT_S},
        {"--warmup-s", offsetof(run_flags, warmup_s), FG_MAX_WARMUP_S},
    };
    /* Values where 0 means something (no cap, no latency, seed 0). */
    static const struct { const char *name; size_t off; double hi; } zero_ok[] = {
        {"--seed", offsetof(run_flags, seed), FG_MAX_SEED},
        {"--bandwidth-mbit", offsetof(run_flags, bandwidth_mbit), FG_MAX_BANDWIDTH_MBIT},
        {"--latency-ms", offsetof(run_flags, latency_ms), FG_MAX_LATENCY_MS},
        {"--spin-us", offsetof(run_flags, spin_us), FG_MAX_SPIN_US},
    };
    for (size_t k = 0; k < sizeof zero_ok / sizeof zero_ok[0]; k++)
        if (!strcmp(a, zero_ok[k].name)) {
            double *dst = (double *)((char *)f + zero_ok[k].off);
            if (!v) return fg_err_set(err, "%s needs a value", a);
            if (fg_parse_double(a, v, 0, zero_ok[k].hi, dst, err)) return -1;
            if (dst == &f->seed && f->seed != (double)(uint64_t)f->seed)
                return fg_err_set(err, "%s: '%s' is not an integer", a, v);
            ++*i;
            return 1;
        }
    /* --inconclusive=pass or --inconclusive pass: what a verdict the
     * machine's load left open exits with (checked in run_flags_apply). */
    if (!strncmp(a, "--inconclusive=", 15)) {
        f->inconclusive = a + 15;
        return 1;
    }
    if (!strcmp(a, "--inconclusive")) {
        if (!v) return fg_err_set(err, "%s needs a value (fail or pass)", a);
        f->inconclusive = v;
        ++*i;
        return 1;
    }
    if (!strcmp(a, "--inline")) {
        f->inline_data = 1;
        return 1;
    }
    char *base = (char *)f;
    for (size_t k = 0; k < sizeof strs / sizeof strs[0]; k++)
        if (!strcmp(a, strs[k].name)) {
            if (!v) return fg_err_set(err, "%s needs a value", a);
            *(const char **)(base + strs[k].off) = v;
            ++*i;
            return 1;
        }
    for (size_t k = 0; k < sizeof ints / sizeof ints[0]; k++)
        if (!strcmp(a, ints[k].name)) {
            if (!v) return fg_err_set(err, "%s needs a value", a);
            if (fg_parse_int(a, v, ints[k].lo, ints[k].hi, (int *)(base + ints[k].off), err))
                return -1;
            ++*i;
            return 1;
        }
    for (size_t k = 0; k < sizeof nums / sizeof nums[0]; k++)
        if (!strcmp(a, nums[k].name)) {
            if (!v) return fg_err_set(err, "%s needs a value", a);
            if (fg_parse_double(a, v, FG_MIN_POSITIVE, nums[k].hi, (double *)(base + nums[k].off),
                                err))
                return -1;
            ++*i;
            return 1;
        }
    return 0;
}

int run_flags_copy_path(char *dst, size_t size, const char *flag, const char *src, fg_err *err)
{
    if ((size_t)snprintf(dst, size, "%s", src) >= size)
        return fg_err_set(err, "%s: path too long", flag);
    return 0;
}

int run_flags_apply(const run_flags *f, const char *category, fg_run_config *c, fg_err *err)
{
    fg_config_defaults(c);
    if (fg_config_apply_env(c, err) != 0) return -1;
    if (fg_config_apply_category(c, category, err) != 0) return -1;
    if (f->config && fg_config_apply_file(c, f->config, err) != 0) return -1;
    int n;
    if (f->sizes) {
        if ((n = fg_parse_double_list("--sizes", f->sizes, FG_MIN_POSITIVE, FG_MAX_INPUT_MB,
                                      c->sizes_mb, FG_MAX_CELLS_AXIS, err)) < 0)
            return -1;
        c->n_sizes = n;
        c->n_cells = 0;   /* an explicit axis: a cross product again */
    }
    if (f->concurrency) {
        if ((n = fg_parse_int_list("--concurrency", f->concurrency, 1, FG_MAX_CONCURRENCY,
                                   c->concurrency, FG_MAX_CELLS_AXIS, err)) < 0)
            return -1;
        c->n_concurrency = n;
        c->n_cells = 0;
    }
    if (f->schedulers && fg_config_set_schedulers(c, "--schedulers", f->schedulers, err) != 0)
        return -1;
    const struct { const char *flag, *value; char *dst; size_t size; } paths[] = {
        {"--endpoints", f->endpoints, c->endpoints, sizeof c->endpoints},
        {"--results-dir", f->results_dir, c->results_dir, sizeof c->results_dir},
        {"--nodes", f->nodes, c->nodes_file, sizeof c->nodes_file},
        {"--profile", f->profile, c->profile, sizeof c->profile},
        {"--server-bin", f->server_bin, c->server_bin, sizeof c->server_bin},
        {"--workflow", f->workflow, c->workflow, sizeof c->workflow},
    };
    for (size_t k = 0; k < sizeof paths / sizeof paths[0]; k++)
        if (paths[k].value &&
            run_flags_copy_path(paths[k].dst, paths[k].size, paths[k].flag, paths[k].value, err))
            return -1;
    /* After the path flags: --nodes/--workflow given beside it stay. */
    if (f->data_dir && fg_config_set_data_dir(c, "--data-dir", f->data_dir, err) != 0) return -1;
    char variants[96];
    if (f->variant && fg_variant_parse(f->variant, &c->variant) != 0)
        return fg_err_set(err, "--variant: unknown variant '%s' (known: %s)", f->variant,
                          fg_variant_list(", ", variants, sizeof variants));
    if (f->requests >= 0) c->requests = f->requests;
    if (f->warmup >= 0) c->warmup = f->warmup;
    if (f->repeats >= 0) c->repeats = f->repeats;
    if (f->retries >= 0) c->retries = f->retries;
    if (f->timeout > 0) c->timeout_s = f->timeout;
    if (f->rate > 0) c->rate_rps = f->rate;
    if (f->duration > 0) c->duration_s = f->duration;
    if (f->warmup_s >= 0) c->warmup_s = f->warmup_s;
    if (f->max_inflight >= 0) c->max_inflight = f->max_inflight;
    if (f->inline_data) c->inline_data = 1;
    if (f->inconclusive &&
        fg_config_parse_inconclusive("--inconclusive", f->inconclusive, &c->inconclusive_pass, err))
        return -1;
    if (f->arrival && fg_arrival_kind_parse(f->arrival, &c->arrival) != 0)
        return fg_err_set(err, "--arrival: unknown process '%s' (known: constant, poisson)",
                          f->arrival);
    if (f->transport && fg_transport_parse(f->transport, &c->transport) != 0)
        return fg_err_set(err, "--transport: unknown transport '%s' (known: auto, direct, libcurl)",
                          f->transport);
    if (f->seed >= 0) c->seed = (uint64_t)f->seed;
    if (f->bandwidth_mbit >= 0) c->bandwidth_mbit = f->bandwidth_mbit;
    if (f->latency_ms >= 0) c->latency_ms = f->latency_ms;
    if (f->spin_us >= 0) c->spin_us = f->spin_us;
    /* Named by flag when a flag is the half that is there. */
    if (f->rate > 0 && !(c->duration_s > 0))
        return fg_err_set(err, "--rate needs --duration (seconds of open-loop load)");
    if (f->duration > 0 && !(c->rate_rps > 0))
        return fg_err_set(err, "--duration needs --rate (requests per second): without a rate "
                          "the run is a closed loop of --requests, which has no duration");
    if (f->max_inflight > 0 && !(c->rate_rps > 0))
        return fg_err_set(err, "--max-inflight caps an open loop only: it needs --rate and "
                          "--duration");
    if (f->spin_us > 0 && !(c->rate_rps > 0))
        return fg_err_set(err, "--spin-us paces an open loop only: it needs --rate and --duration");
    return 0;
}

int run_flags_load_workflow(const char *path, fg_workflow *wf, fg_err *err)
{
    fg_run_config defaults;
    fg_config_defaults(&defaults);
    return fg_workflow_load(path ? path : defaults.workflow, wf, err);
}

const fg_preflight_server run_flags_server_checks = {fg_server_check_nodes_file,
                                                     fg_server_runs_function};
