/* config.h — what one run does: the experiment matrix and its knobs.
 * Precedence, lowest to highest: built-in defaults < environment
 * (LOG_LEVEL, DEFAULT_INPUT_SIZE, DEFAULT_CONCURRENCY, DEFAULT_REQUESTS,
 * FLOWGATE_SCHEDULERS, FLOWGATE_ENDPOINTS, FLOWGATE_REQUEST_SCALE)
 * < config file (--config custom.json) < command-line flags.
 * Categories (standard, large_input, high_concurrency, extreme, smoke) come
 * from data/categories.json. */
#ifndef FLOWGATE_CONFIG_H
#define FLOWGATE_CONFIG_H
#include "flowgate/common.h"
#include "flowgate/imagegen.h"

#define FG_MAX_CELLS_AXIS 16
#define FG_MAX_SCHEDULERS 8

typedef enum fg_log_level { FG_LOG_ERROR, FG_LOG_WARN, FG_LOG_INFO, FG_LOG_DEBUG } fg_log_level;

typedef struct fg_run_config {
    char category[32];                 /* standard, scale prefixes: see below */
    double sizes_mb[FG_MAX_CELLS_AXIS]; int n_sizes;
    int concurrency[FG_MAX_CELLS_AXIS]; int n_concurrency;
    char schedulers[FG_MAX_SCHEDULERS][32]; int n_schedulers;
    int requests;          /* per experiment; 0 = max(default_requests, 3*C) */
    int default_requests;  /* DEFAULT_REQUESTS, 10 */
    int warmup;            /* requests excluded from the statistics, default 2 */
    double request_scale;  /* multiplies request counts (CI uses < 1), >= 1 request stays */
    double rate_rps;       /* > 0: open loop at this rate ... */
    double duration_s;     /* ... for this long */
    double timeout_s;      /* per invocation, default 60 */
    int retries;           /* default 0 */
    int inline_data;       /* 1: send img_b64 inline (seed-style containers) */
    fg_variant variant;    /* image variant, default clean */
    int repeats;           /* runs per cell (regression gate uses >= 3), default 1 */
    double default_input_mb;   /* DEFAULT_INPUT_SIZE, for single-cell commands */
    int default_concurrency;   /* DEFAULT_CONCURRENCY */
    fg_log_level log_level;
    int scale_prefix;      /* results file gets the scale_ prefix */
    char endpoints[512];   /* empty: start the embedded server */
    char nodes_profile[512];
    char workflow[512];
    char profile[512];     /* calibration profile for `ours`; empty: fallback */
    char thresholds[512];
    char results_dir[512];
    char images_dir[512];
} fg_run_config;

void fg_config_defaults(fg_run_config *c);
int  fg_config_apply_env(fg_run_config *c, fg_err *err);
int  fg_config_apply_category(fg_run_config *c, const char *name, fg_err *err);
int  fg_config_apply_file(fg_run_config *c, const char *path, fg_err *err);
/* Requests for a cell: explicit or max(default_requests, 3*C), times scale. */
int  fg_config_requests_for(const fg_run_config *c, int concurrency);
/* "1.0" for 1, "0.1" for 0.1: the size as it appears in experiment ids. */
void fg_format_mb(double mb, char *out, size_t out_size);

extern fg_log_level fg_log_threshold;
void fg_log(fg_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
