/* thresholds_suggest.c — per-cell bounds from measured runs (design in
 * thresholds_suggest.h). Entries are gathered per experiment_id in one
 * pass over every file, then each id's medians become three bounds. */
#include "flowgate/thresholds_suggest.h"
#include "flowgate/machine.h"
#include "flowgate/results.h"
#include "flowgate/thresholds.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void fg_suggest_factors_defaults(fg_suggest_factors *f)
{
    f->p50 = 1.6;
    f->p95 = 2.5;
    f->throughput = 0.6;
}

double fg_suggest_round(double v, int upward)
{
    if (!(v > 0) || !isfinite(v)) return v;
    double unit = pow(10, floor(log10(v)) - 1);   /* two significant digits */
    double q = v / unit;
    /* The epsilon keeps an exact 77.0 from becoming 78. */
    q = upward ? ceil(q - 1e-9) : floor(q + 1e-9);
    return q * unit;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* The values of one metric over an id's entries in every file. */
static int gather(const cJSON *const *results, int n, const char *id, const char *metric,
                  double *out, int max)
{
    int k = 0;
    for (int f = 0; f < n; f++) {
        const cJSON *e;
        cJSON_ArrayForEach(e, fg_results_experiments(results[f])) {
            const cJSON *eid = cJSON_GetObjectItemCaseSensitive(e, "experiment_id");
            if (!cJSON_IsString(eid) || strcmp(eid->valuestring, id)) continue;
            if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(e, "interrupted"))) continue;
            double v;
            if (fg_results_metric(e, metric, &v) == 0 && isfinite(v) && v > 0 && k < max)
                out[k++] = v;
        }
    }
    return k;
}

static void add_bound(cJSON *list, const char *metric, const char *op, double v)
{
    char text[96];
    snprintf(text, sizeof text, "%s %s %.10g", metric, op, v);
    cJSON_AddItemToArray(list, cJSON_CreateString(text));
}

#define SUGGEST_MAX_ENTRIES 4096

int fg_thresholds_suggest(const cJSON *const *results, int n, const fg_suggest_factors *f,
                          cJSON *cells_out, fg_err *err)
{
    if (!(f->p50 >= 1) || !(f->p95 >= 1) || !(f->throughput > 0 && f->throughput <= 1))
        return fg_err_set(err, "factors: p50 and p95 must be >= 1, throughput in (0, 1] "
                          "(got %g, %g, %g)", f->p50, f->p95, f->throughput);
    double *v = malloc(SUGGEST_MAX_ENTRIES * sizeof *v);
    if (!v) return fg_err_set(err, "out of memory");
    int written = 0;
    for (int fi = 0; fi < n; fi++) {
        const cJSON *e;
        cJSON_ArrayForEach(e, fg_results_experiments(results[fi])) {
            const cJSON *eid = cJSON_GetObjectItemCaseSensitive(e, "experiment_id");
            if (!cJSON_IsString(eid)) continue;
            const char *id = eid->valuestring;
            /* Once per id: at its first entry in the first file holding it. */
            int seen = 0;
            for (int g = 0; g <= fi && !seen; g++) {
                const cJSON *o;
                cJSON_ArrayForEach(o, fg_results_experiments(results[g])) {
                    if (g == fi && o == e) break;
                    const cJSON *oid = cJSON_GetObjectItemCaseSensitive(o, "experiment_id");
                    if (cJSON_IsString(oid) && !strcmp(oid->valuestring, id)) { seen = 1; break; }
                }
            }
            if (seen) continue;
            int k50 = gather(results, n, id, "p50_ms", v, SUGGEST_MAX_ENTRIES);
            if (k50 == 0) continue;   /* never measured: no bound to suggest */
            cJSON *list = cJSON_CreateArray();
            cJSON_AddItemToArray(list, cJSON_CreateString("success_rate > 0.90"));
            cJSON_AddItemToArray(list, cJSON_CreateString("timeouts == 0"));
            add_bound(list, "p50_ms", "<", fg_suggest_round(f->p50 * median(v, k50), 1));
            int k95 = gather(results, n, id, "p95_ms", v, SUGGEST_MAX_ENTRIES);
            if (k95) add_bound(list, "p95_ms", "<", fg_suggest_round(f->p95 * median(v, k95), 1));
            int kt = gather(results, n, id, "throughput_rps", v, SUGGEST_MAX_ENTRIES);
            if (kt)
                add_bound(list, "throughput_rps", ">",
                          fg_suggest_round(f->throughput * median(v, kt), 0));
            if (cJSON_GetObjectItemCaseSensitive(cells_out, id))
                cJSON_ReplaceItemInObjectCaseSensitive(cells_out, id, list);
            else
                cJSON_AddItemToObject(cells_out, id, list);
            written++;
        }
    }
    free(v);
    return written;
}

/* The runs were measured on this machine; the file's numbers are in its
 * "machine"'s units (thresholds.h). A file without one gets this machine's
 * probe; a file with one gets bounds converted to its units (the loader
 * has put this machine's factor in it), so the cells it already holds stay
 * comparable with the new ones. */
static int in_reference_units(cJSON *doc, fg_suggest_factors *f, fg_err *err)
{
    cJSON *m = cJSON_GetObjectItemCaseSensitive(doc, "machine");
    if (!m) {
        double probe = fg_machine_probe_ms();
        if (!(probe > 0)) return fg_err_set(err, "the machine probe failed (zlib)");
        m = cJSON_AddObjectToObject(doc, "machine");
        cJSON_AddNumberToObject(m, "probe_ms", round(probe * 100) / 100);
        cJSON_AddStringToObject(m, "probe", FG_MACHINE_PROBE_NAME);
        return 0;
    }
    const cJSON *factor = cJSON_GetObjectItemCaseSensitive(m, "factor");
    if (cJSON_IsNumber(factor)) {
        f->p50 /= factor->valuedouble;
        f->p95 /= factor->valuedouble;
        f->throughput *= factor->valuedouble;
    }
    cJSON_DeleteItemFromObjectCaseSensitive(m, "factor");   /* this machine's, not the file's */
    return 0;
}

cJSON *fg_thresholds_suggest_file(const char *from, const char *const *paths, int n,
                                  const fg_suggest_factors *f, int *written, fg_err *err)
{
    cJSON **runs = calloc((size_t)(n > 0 ? n : 1), sizeof *runs);
    cJSON *doc = runs ? fg_thresholds_load(from, err) : NULL;
    if (!runs) fg_err_set(err, "out of memory");
    int ok = doc != NULL;
    for (int i = 0; ok && i < n; i++) ok = (runs[i] = fg_results_load(paths[i], err)) != NULL;
    cJSON *cells = ok ? cJSON_GetObjectItemCaseSensitive(doc, "cells") : NULL;
    if (ok && !cells) cells = cJSON_AddObjectToObject(doc, "cells");
    fg_suggest_factors here = *f;
    ok = ok && in_reference_units(doc, &here, err) == 0;
    if (ok) *written = fg_thresholds_suggest((const cJSON *const *)runs, n, &here, cells, err);
    if (ok && *written < 0) ok = 0;
    if (ok && *written == 0) {
        fg_err_set(err, "no measured cell in the %d file%s given (every entry interrupted or "
                   "without latency samples)", n, n == 1 ? "" : "s");
        ok = 0;
    }
    ok = ok && fg_thresholds_check(doc, err) == 0;
    for (int i = 0; runs && i < n; i++) cJSON_Delete(runs[i]);
    free(runs);
    if (!ok) {
        cJSON_Delete(doc);
        return NULL;
    }
    return doc;
}
