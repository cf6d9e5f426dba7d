/* bottleneck_check.c — `suite_bottleneck_check RESULTS PREFIX PART[,PART...]`:
 * every experiment of RESULTS (a results file, or a directory: its newest
 * scenarios results) whose id starts with PREFIX has a
 * "bottleneck" whose service_dominant (the largest part of the service
 * along the critical path, attribution.h) is one of the PARTs. The proof
 * that the attribution names the known bottleneck of a scenario
 * (scenario_bottlenecks.sh). Exit 0; 1 with one line per cell that names
 * another part or none; 2 on unusable input or no such cell. */
#include <stdio.h>
#include <string.h>

#include <sys/stat.h>

#include "flowgate/json.h"
#include "flowgate/latest_results.h"
#include "flowgate/results.h"

static int listed(const char *list, const char *part)
{
    size_t n = strlen(part);
    for (const char *p = list; (p = strstr(p, part)); p += n)
        if ((p == list || p[-1] == ',') && (p[n] == ',' || p[n] == 0)) return 1;
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: suite_bottleneck_check RESULTS PREFIX PART[,PART...]\n");
        return 2;
    }
    fg_err err;
    char path[4096];
    struct stat st;
    snprintf(path, sizeof path, "%s", argv[1]);
    if (stat(argv[1], &st) == 0 && S_ISDIR(st.st_mode) &&
        fg_plot_latest_results(argv[1], "scenarios", path, sizeof path, &err) != 0) {
        fprintf(stderr, "suite_bottleneck_check: %s\n", err.msg);
        return 2;
    }
    printf("%s\n", path);
    cJSON *root = fg_results_load(path, &err);
    if (!root) {
        fprintf(stderr, "suite_bottleneck_check: %s\n", err.msg);
        return 2;
    }
    int cells = 0, wrong = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, fg_results_experiments(root)) {
        const char *id = fg_json_string(e, "experiment_id");
        if (!id || strncmp(id, argv[2], strlen(argv[2]))) continue;
        cells++;
        const cJSON *b = cJSON_GetObjectItemCaseSensitive(e, "bottleneck");
        const char *service = fg_json_string(b, "service_dominant");
        const cJSON *mean = cJSON_GetObjectItemCaseSensitive(b, "mean_ms");
        printf("%s: service bound by %s (exec %.0f, transfer %.0f, queue %.0f of which slot "
               "wait %.0f, driver %.0f ms)\n", id, service ? service : "nothing",
               fg_json_number(mean, "exec"), fg_json_number(mean, "transfer"),
               fg_json_number(mean, "queue"), fg_json_number(b, "slot_wait_ms"),
               fg_json_number(mean, "driver"));
        if (!service || !listed(argv[3], service)) {
            printf("%s: expected %s\n", id, argv[3]);
            wrong++;
        }
    }
    cJSON_Delete(root);
    if (!cells) {
        fprintf(stderr, "suite_bottleneck_check: %s: no experiment starting with %s\n", path, argv[2]);
        return 2;
    }
    return wrong ? 1 : 0;
}
