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

/* Bounds shared by every layer (environment, config file, flags). */
#define FG_MAX_CONCURRENCY 10000
#define FG_MAX_REQUESTS 10000000
#define FG_MAX_INPUT_MB 1024.0
#define FG_MIN_POSITIVE 0.001   /* smallest size, rate, duration, timeout or scale */

/* Number and list parsing for flags, environment variables and lists such
 * as "--sizes 0.1,1,2". The whole text must be the number (no unit, no
 * leading space); the value must lie in [lo, hi]. `what` names the flag or
 * variable; errors are one line, e.g.
 *   "--requests: expected an integer from 1 to 10000000, got 'ten'". */
int fg_parse_int(const char *what, const char *text, int lo, int hi, int *out, fg_err *err);
int fg_parse_double(const char *what, const char *text, double lo, double hi, double *out,
                    fg_err *err);
/* Comma-separated items, spaces around an item ignored; an empty list, an
 * empty item or more than max items is refused. `one` gets each item and
 * its index (and fills err on failure). Returns the count, or -1. */
typedef int (*fg_list_item_fn)(const char *what, const char *item, int index, void *ctx,
                               fg_err *err);
int fg_parse_list(const char *what, const char *text, int max, fg_list_item_fn one, void *ctx,
                  fg_err *err);
int fg_parse_int_list(const char *what, const char *text, int lo, int hi, int *out, int max,
                      fg_err *err);
int fg_parse_double_list(const char *what, const char *text, double lo, double hi, double *out,
                         int max, fg_err *err);

void fg_config_defaults(fg_run_config *c);
int  fg_config_apply_env(fg_run_config *c, fg_err *err);
int  fg_config_apply_category(fg_run_config *c, const char *name, fg_err *err);
int  fg_config_apply_file(fg_run_config *c, const char *path, fg_err *err);
/* Replaces c's schedulers with a comma-separated list of known, distinct
 * names (FLOWGATE_SCHEDULERS, --schedulers); `what` prefixes errors. */
int  fg_config_set_schedulers(fg_run_config *c, const char *what, const char *list, fg_err *err);
/* Requests for a cell: explicit or max(default_requests, 3*C), times scale. */
int  fg_config_requests_for(const fg_run_config *c, int concurrency);
/* "1.0" for 1, "0.1" for 0.1: the size as it appears in experiment ids. */
void fg_format_mb(double mb, char *out, size_t out_size);

extern fg_log_level fg_log_threshold;
void fg_log(fg_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
