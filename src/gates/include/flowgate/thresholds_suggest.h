/* thresholds_suggest.h — per-cell threshold bounds from measured runs, so
 * the shipped (or a user's) thresholds catch a known slowdown on the
 * machine they were measured on instead of only breakage.
 *
 * For every experiment_id in the given results files (all categories and
 * repeats together; interrupted entries and entries without a latency
 * sample skipped) the median over its entries of p50, p95 and throughput;
 * bounds are factor × median: "p50_ms < 1.6 × median p50" etc. The median
 * over entries, not the worst, so one noisy run does not loosen the bound;
 * the factors carry the run-to-run noise. A cell's list always starts with
 * "success_rate > 0.90" and "timeouts == 0" (a cell's list replaces its
 * category's, so it must say everything). */
#ifndef FLOWGATE_THRESHOLDS_SUGGEST_H
#define FLOWGATE_THRESHOLDS_SUGGEST_H
#include <cjson/cJSON.h>
#include "flowgate/common.h"

typedef struct fg_suggest_factors {
    double p50;          /* 1.6: a 2x slowdown of the centre fails */
    double p95;          /* 2.5: the tail of 20 samples is noisy; catches a 2.5x one */
    double throughput;   /* 0.6: a halved throughput fails */
} fg_suggest_factors;

void fg_suggest_factors_defaults(fg_suggest_factors *f);

/* Adds to cells_out (a JSON object) one array of threshold strings per
 * experiment_id found in the n results roots; an id already in cells_out
 * is replaced. Returns the number of cells written, -1 on a bad factor. */
int fg_thresholds_suggest(const cJSON *const *results, int n, const fg_suggest_factors *f,
                          cJSON *cells_out, fg_err *err);

/* The whole method of `flowgate thresholds suggest`: the thresholds file
 * `from` with its cells replaced by bounds from the n results files where
 * measured (its default and category lists kept), in the units of its
 * "machine" (a file without one gets this machine's probe), checked like
 * any thresholds file so what it returns always loads. *written: the cells
 * written. NULL and err otherwise. */
cJSON *fg_thresholds_suggest_file(const char *from, const char *const *paths, int n,
                                  const fg_suggest_factors *f, int *written, fg_err *err);

/* A bound rounded outward to two significant digits, so the file reads
 * "p50_ms < 77" rather than "p50_ms < 76.5568": up for an upper bound,
 * down for a lower one. */
double fg_suggest_round(double v, int upward);

#endif
