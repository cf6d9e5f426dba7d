/* plot_scenarios.c — the scenario cells' chart data (plot.h): one row per
 * cell of "scenario_cells" with the mean of p50 and of throughput over its
 * replicates and their 95 % confidence intervals, which plots/scenarios.gp
 * draws as error bars. Only what the summary holds is written: a metric
 * with no mean has no value ("?"), a cell of one replicate no interval. */
#include "flowgate/plot.h"

#include <stdio.h>
#include <string.h>

static void put(FILE *out, const cJSON *cell, const char *metric)
{
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(cell, "metrics"), metric);
    const cJSON *mean = cJSON_GetObjectItemCaseSensitive(m, "mean");
    const cJSON *ci = cJSON_GetObjectItemCaseSensitive(m, "ci95");
    if (cJSON_IsNumber(mean)) fprintf(out, " %.6g", mean->valuedouble);
    else fprintf(out, " ?");
    if (cJSON_GetArraySize(ci) == 2)
        fprintf(out, " %.6g %.6g", cJSON_GetArrayItem(ci, 0)->valuedouble,
                cJSON_GetArrayItem(ci, 1)->valuedouble);
    else
        fprintf(out, " ? ?");
}

int fg_plot_write_scenarios(const cJSON *results, const char *dir, fg_plot_summary *s,
                            fg_err *err)
{
    s->scenario_rows = 0;
    const cJSON *cells = cJSON_GetObjectItemCaseSensitive(results, "scenario_cells");
    if (cJSON_GetArraySize(cells) == 0) return 0;
    char path[1200];
    snprintf(path, sizeof path, "%s/scenarios.dat", dir);
    FILE *out = fopen(path, "w");
    if (!out) return fg_err_set(err, "%s: cannot write", path);
    fprintf(out, "# index label p50_mean p50_lo p50_hi rps_mean rps_lo rps_hi\n");
    const cJSON *c;
    cJSON_ArrayForEach(c, cells) {
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(c, "experiment_id");
        if (!cJSON_IsString(id) || strchr(id->valuestring, '"')) continue;
        /* "sc_<scenario>_..." reads better without the prefix */
        const char *label = strncmp(id->valuestring, "sc_", 3) ? id->valuestring : id->valuestring + 3;
        fprintf(out, "%d \"%s\"", s->scenario_rows, label);
        put(out, c, "p50_ms");
        put(out, c, "throughput_rps");
        fprintf(out, "\n");
        s->scenario_rows++;
    }
    if (fclose(out) != 0) return fg_err_set(err, "%s: write failed", path);
    return 0;
}
