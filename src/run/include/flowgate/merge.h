/* merge.h — one run's results from the files of its segments (`flowgate
 * run --segment i/N` on N drivers; `flowgate merge`, merge.c).
 *
 * The files must be one run cut in N: each says run.segment {index,
 * count}, the counts agree, the indices are 0..N-1 each once, run.config
 * (but results_dir), the category and the workflow are the same, and so
 * are the cells (category + experiment_id + repeat) and each cell's
 * identity (mode, rate, duration, arrival with its seed, concurrency,
 * scheduler, input, workflow, inline data). A file whose run was
 * interrupted, or a cell of it cut short or with an accounting error, is
 * refused: a segment missing part of its slots would make the merged
 * schedule silently smaller. Any of these is one line naming the file.
 *
 * Merged exactly, per cell: every count (requests.*, warmup.*, drain,
 * cold starts, per-function invocations, errors by class and resends,
 * branches, node invocations); the histograms bucket by bucket, the
 * statistics (p50 … p99, mean, min, max) then read from the merged one —
 * never an average of percentiles; the bottleneck parts weighted by their
 * request counts (critical_path.h); the raw samples as a uniform sample of
 * the union (reservoir.h), latency_samples_total their sum. The window is
 * the union of the segments' windows on the wall clock (earliest start to
 * latest end; window.*_unix_ms), so throughput_rps = merged ok / that span:
 * drivers started apart lower it, as they should — the system was not
 * under the whole load the whole time. A cell's noise is its noisiest
 * segment's. The open loop's schedule: slots and rates add (the drivers
 * ran side by side), lateness merges by bucket, keeps_up only if every
 * segment kept up, "behind" names each one that did not. Resource
 * series, timelines and outcomes are left out (per
 * driver; the segment files keep them; the merged file is judged anew).
 * The run object is segment 0's with run.merge {segments, sources} instead
 * of run.segment, and id "<id>-merge<N>". */
#ifndef FLOWGATE_MERGE_H
#define FLOWGATE_MERGE_H
#include <cjson/cJSON.h>
#include "flowgate/common.h"

/* The merged results (caller frees) of n loaded results roots; names[i]
 * (a path) names roots[i] in errors and in run.merge.sources. NULL with
 * one line in err naming the offending file (or the missing segment). */
cJSON *fg_merge_results(const cJSON *const *roots, const char *const *names, int n,
                        fg_err *err);

/* The same from files (fg_results_load). */
cJSON *fg_merge_files(const char *const *paths, int n, fg_err *err);

#endif
