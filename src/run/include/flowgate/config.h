/* config.h — what one run does: the experiment matrix and its knobs.
 * Precedence, lowest to highest: built-in defaults < environment
 * (LOG_LEVEL, DEFAULT_INPUT_SIZE, DEFAULT_CONCURRENCY, DEFAULT_REQUESTS,
 * FLOWGATE_SCHEDULERS, FLOWGATE_ENDPOINTS, FLOWGATE_REQUEST_SCALE)
 * < config file (--config custom.json) < command-line flags.
 * Categories (standard, large_input, high_concurrency, extreme, smoke) come
 * from data/categories.json. */
#ifndef FLOWGATE_CONFIG_H
#define FLOWGATE_CONFIG_H
#include "flowgate/arrival.h"
#include "flowgate/engine.h"
#include "flowgate/common.h"
#include "flowgate/limits.h"
#include "flowgate/json.h"
#include "flowgate/log.h"
#include "flowgate/parse.h"
#include <cjson/cJSON.h>
#include "flowgate/variant.h"

#define FG_MAX_CELLS_AXIS 16
#define FG_MAX_SCHEDULERS 8
#define FG_MAX_CELLS 64   /* an explicit cell list (a category's "cells") */

/* One cell of the matrix: an input size and a concurrency. */
typedef struct fg_cell { double size_mb; int concurrency; } fg_cell;


typedef struct fg_run_config {
    char category[32];                 /* standard, scale prefixes: see below */
    double sizes_mb[FG_MAX_CELLS_AXIS]; int n_sizes;
    int concurrency[FG_MAX_CELLS_AXIS]; int n_concurrency;
    /* n_cells > 0: exactly these cells (a category's "cells", e.g. the
     * gate's diagonal), not sizes x concurrency; the axes then hold the
     * distinct values. --sizes/--concurrency or the file's axes clear it. */
    fg_cell cells[FG_MAX_CELLS]; int n_cells;
    char schedulers[FG_MAX_SCHEDULERS][32]; int n_schedulers;
    int requests;          /* per experiment; 0 = not set (a file or flag cannot
                            * set 0): max(default_requests, 3*C), then at least
                            * FG_MIN_CELL_REQUESTS (see requests_for); run.config
                            * records the counts used (requests_by_concurrency) */
    int default_requests;  /* DEFAULT_REQUESTS, 20 */
    int warmup;            /* requests excluded from the statistics, default 2 */
    double request_scale;  /* multiplies request counts (CI uses < 1), >= 1 request stays */
    double rate_rps;       /* > 0: open loop at this rate ... */
    double duration_s;     /* ... for this long */
    double warmup_s;       /* warm-up time cap in s; 0 = the engine's default (30 s) */
    int max_inflight;      /* open loop: most instances in flight; 0 = default (1024) */
    fg_arrival_kind arrival;   /* open loop: constant (default) or poisson */
    uint64_t seed;         /* Poisson's seed, FG_ARRIVAL_DEFAULT_SEED unless set */
    int segment_index, segment_count;   /* --segment i/N: this driver's share of the open
                                         * loop's schedule (arrival.h); count 0: none */
    double spin_us;        /* open loop: no sleep when a slot is due within this (µs); 0: sleep */
    double start_at_unix_s;   /* --start-at T: the first cell starts at unix time T; 0: now */
    double bandwidth_mbit; /* >= 0: every embedded node's egress cap (0: none); -1 = the nodes file's */
    double latency_ms;     /* >= 0: every embedded node's added latency; -1 = the nodes file's */
    double timeout_s;      /* per invocation, default 60 */
    fg_transport transport;   /* auto (default: plain http:// by the driver's own HTTP/1.1) or libcurl */
    int retries;           /* default 0 */
    int inline_data;       /* 1: send img_b64 inline (seed-style containers) */
    fg_variant variant;    /* image variant, default clean */
    int repeats;           /* runs per cell (regression gate uses >= 3), default 1 */
    double default_input_mb;   /* DEFAULT_INPUT_SIZE, for single-cell commands */
    int default_concurrency;   /* DEFAULT_CONCURRENCY */
    fg_log_level log_level;
    int scale_prefix;      /* results file gets the scale_ prefix */
    int inconclusive_pass; /* "inconclusive": "pass" (FLOWGATE_INCONCLUSIVE, --inconclusive):
                            * a run whose verdict the machine's load left open
                            * exits 0 instead of 3 (default "fail") */
    char endpoints[512];   /* empty: start the embedded server */
    char nodes_file[512];  /* the embedded server's nodes (data/nodes.json): config key
                            * "nodes_file" (older spelling "nodes_profile"), --nodes */
    char workflow[512];
    char profile[512];     /* calibration profile for `ours`; empty: fallback */
    char thresholds[512];
    char results_dir[512];
    char images_dir[512];
    char server_bin[512];  /* flowgate-functions to start; empty: next to the
                            * flowgate binary, then $FLOWGATE_BIN */
    char data_dir[512];    /* the system's data files (nodes file, workflow,
                            * thresholds, the server's dictionary and censor
                            * list); empty: fg_data_dir(). Set it with
                            * fg_config_set_data_dir so the defaults follow. */
} fg_run_config;

/* Measured requests per cell unless `requests` is set explicitly: p95
 * needs 20 samples to be resolved at all (README "Results"). */
#define FG_MIN_CELL_REQUESTS 20

/* The body limit assumed for endpoints whose limit is unknown (an
 * endpoints file): the server's default max_body_mb. */
#define FG_DEFAULT_MAX_BODY_MB 64.0


void fg_config_defaults(fg_run_config *c);
int  fg_config_apply_env(fg_run_config *c, fg_err *err);
int  fg_config_apply_category(fg_run_config *c, const char *name, fg_err *err);
/* "fail" -> *pass 0, "pass" -> 1 (FLOWGATE_INCONCLUSIVE, the config key
 * "inconclusive", --inconclusive); anything else an error naming `what`. */
int  fg_config_parse_inconclusive(const char *what, const char *value, int *pass, fg_err *err);
int  fg_config_apply_file(fg_run_config *c, const char *path, fg_err *err);
/* Replaces c's schedulers with a comma-separated list of known, distinct
 * names (FLOWGATE_SCHEDULERS, --schedulers); `what` prefixes errors. */
int  fg_config_set_schedulers(fg_run_config *c, const char *what, const char *list, fg_err *err);
/* Checks across fields and layers, once every layer is applied (the CLI
 * after its flags, the suites after $FLOWGATE_CONFIG): an open loop needs
 * both rate_rps and duration_s; max_inflight is for an open loop only;
 * server_bin only when flowgate starts the server; every input size's
 * upload body fits the server's body limit (fg_config_body_limit). */
int  fg_config_check(const fg_run_config *c, fg_err *err);
/* The server's request body limit in bytes: max_body_mb of the nodes
 * file when flowgate starts the server itself (64 when the file does
 * not set it), FG_DEFAULT_MAX_BODY_MB for an endpoints file (the limit of
 * separately started servers is not known). `source` names where it came
 * from. -1 only when the nodes file cannot be read or is not JSON. */
int  fg_config_body_limit(const fg_run_config *c, double *limit_bytes, char *source,
                          size_t source_size, fg_err *err);
/* The largest upload request body of an input of size_mb: the image
 * generator's PNG is within +-3 % of the size, sent base64-encoded (4/3)
 * inside {"img_b64":"...","by_ref":false}. */
double fg_upload_body_max_bytes(double size_mb);
/* Requests for a cell: explicit `requests` times scale (at least
 * min(requests, C)); otherwise max(default_requests, 3*C) times scale, but
 * never below FG_MIN_CELL_REQUESTS nor below C. */
int  fg_config_requests_for(const fg_run_config *c, int concurrency);

/* Sets data_dir and moves the nodes file, workflow and thresholds that
 * still hold the defaults of the current data directory to dir's; a path
 * set explicitly (key or flag) stays, whichever layer set it first. The
 * matrix (categories.json), scenarios and generated images stay the
 * driver's (fg_data_dir()): both sides of an A/B must run the same cells on
 * the same inputs. Used by the `data_dir` key, --data-dir and the per-side
 * data of `flowgate ab`. */
int  fg_config_set_data_dir(fg_run_config *c, const char *what, const char *dir, fg_err *err);
/* data_dir when set, else fg_data_dir(). */
const char *fg_config_data_dir(const fg_run_config *c);
/* The workflow file and the nodes file the run uses: the path set, else the
 * data directory's default. Written to out, which is returned. */
const char *fg_config_workflow_path(const fg_run_config *c, char *out, size_t size);
const char *fg_config_nodes_file_path(const fg_run_config *c, char *out, size_t size);

/* The cells a run measures, in order: the explicit list when n_cells > 0,
 * else sizes x concurrency (size outer). Returns the count, at most max. */
int  fg_config_cells(const fg_run_config *c, fg_cell *out, int max);


#endif
