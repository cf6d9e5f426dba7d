/* engine.h — running experiments. One experiment drives many instances of
 * the workflow through a libcurl multi event loop (no thread per request):
 * closed loop (C instances in flight, N in all) or open loop (R/s for D s,
 * latency from the intended send time). It returns the experiment's entry
 * of the results JSON (schema in README "Results").
 *
 * The runner wraps a whole run — config, cluster (started or found), the
 * images, the matrix of cells — and is the one code path behind both
 * `flowgate run` and the cmocka suites, so they produce the same JSON. */
#ifndef FLOWGATE_ENGINE_H
#define FLOWGATE_ENGINE_H
#include <cjson/cJSON.h>
#include "flowgate/config.h"
#include "flowgate/cluster.h"
#include "flowgate/sched.h"
#include "flowgate/workflow.h"

/* The input image, loaded once and shared by every request: the
 * ready-made upload request body (base64 inside), never copied. The PNG
 * itself is checked (fully decoded) once at load and then dropped, so the
 * body is the only copy held during the run. */
typedef struct fg_payload {
    size_t png_len;        /* bytes of the PNG file */
    char sha256[65];       /* hex SHA-256 of the PNG file's bytes; "" when unknown */
    char *body;            /* {"img_b64":"...","by_ref":true|false} */
    size_t body_len;
    double mb;
    fg_variant variant;
} fg_payload;

/* Errors name the file: unreadable, empty, not a PNG, truncated or
 * corrupt PNG, over the pixel limit. */
int  fg_payload_load(const char *png_path, int inline_data, fg_payload *p, fg_err *err);
void fg_payload_free(fg_payload *p);

typedef struct fg_experiment {
    char id[128];          /* exp_input<size>mb_conc<c>_<scheduler> */
    char category[32];
    double input_mb;
    fg_variant variant;
    int concurrency;
    int requests;          /* measured requests (closed loop) */
    int warmup;            /* at least this many warm-up instances */
    double warmup_s;       /* warm-up time cap in seconds; 0: default 30 s */
    int max_inflight;      /* open loop: most instances in flight; 0: default 1024 */
    double rate_rps, duration_s;   /* open loop when rate_rps > 0 */
    char scheduler[32];
    double timeout_s;
    int retries;
    int inline_data;
    int repeat;            /* 0-based repeat index */
    int progress;          /* print a progress line to stderr */
    char timeline_path[512];   /* empty: no timeline written */
} fg_experiment;

/* Runs one experiment; *entry receives the results JSON entry (caller
 * frees). Fails only when the experiment could not run at all (e.g.
 * unknown scheduler); failed requests are results, not errors. */
int fg_experiment_run(const fg_experiment *x, const fg_workflow *wf,
                      const fg_cluster *c, const fg_payload *p,
                      const fg_profile *profile, cJSON **entry, fg_err *err);

/* Ctrl-C: a signal handler may call fg_engine_request_stop (it only sets a
 * flag). The running experiment then aborts its in-flight requests and
 * reports them as "requests.interrupted" (apart from sent = ok + failed +
 * timed_out) with "interrupted": true; no new experiment should start. */
void fg_engine_request_stop(void);
int  fg_engine_stop_requested(void);

typedef struct fg_runner fg_runner;

/* Loads the workflow, resolves or starts the cluster, health-checks it. */
fg_runner *fg_runner_open(const fg_run_config *cfg, fg_err *err);
/* Runs one cell (ensures its image) and appends the entry to the run's
 * results, rewriting the results file atomically. *entry is borrowed. */
int fg_runner_cell(fg_runner *r, double input_mb, int concurrency,
                   const char *scheduler, const cJSON **entry, fg_err *err);
const char *fg_runner_results_path(const fg_runner *r);
/* The cluster the runner found or started (already health-checked). */
const fg_cluster *fg_runner_cluster(const fg_runner *r);
/* Category recorded in the following cells' entries (a `scale` run goes
 * through several categories into one results file). */
void fg_runner_set_category(fg_runner *r, const char *category);
/* The repeat index recorded by the following fg_runner_cell calls starts at
 * first_repeat (A/B runs run one repeat per call and set the pair index). */
void fg_runner_set_repeat(fg_runner *r, int first_repeat);
const cJSON *fg_runner_results(const fg_runner *r);
/* Writes the final results file, stops what open started. */
int fg_runner_close(fg_runner *r, fg_err *err);

#endif
