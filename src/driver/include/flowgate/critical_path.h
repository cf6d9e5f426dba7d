/* critical_path.h — the "bottleneck" object of results entries, joined
 * across entries (attribution.c). Each object holds per-part means over
 * its "requests"; their sums (mean x requests) add, so the joined means
 * are the request-weighted means, the shares are recomputed from the
 * summed parts, and the dominant parts follow from them exactly as one
 * driver would have found them had it measured every request. */
#ifndef FLOWGATE_CRITICAL_PATH_H
#define FLOWGATE_CRITICAL_PATH_H
#include <cjson/cJSON.h>

/* The joined object of n "bottleneck" objects (NULL entries and objects
 * without requests are skipped); NULL when none attributed a request. */
cJSON *fg_bottleneck_merge(const cJSON *const *objs, int n);

#endif
