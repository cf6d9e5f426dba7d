/* drop_cells.c — `suite_drop_cells IN.json OUT.json ID...`: a copy of a
 * results file without the entries of the given experiment ids (every
 * repeat and category), through the library's results reader and writer.
 * The proof that missing and extra cells fail `flowgate compare`
 * (ab_missing_cells.sh) needs a real results file with cells removed; this
 * keeps that step free of jq and python. Exit 0, or 2 with one line when a
 * file cannot be read or written or an id is not in the file. */
#include <stdio.h>
#include <string.h>

#include "flowgate/results.h"

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: suite_drop_cells IN.json OUT.json EXPERIMENT_ID...\n");
        return 2;
    }
    fg_err err;
    cJSON *root = fg_results_load(argv[1], &err);
    if (!root) {
        fprintf(stderr, "suite_drop_cells: %s\n", err.msg);
        return 2;
    }
    cJSON *exps = cJSON_GetObjectItemCaseSensitive(root, "experiments");
    int rc = 0;
    for (int a = 3; a < argc && rc == 0; a++) {
        int dropped = 0;
        for (int i = cJSON_GetArraySize(exps) - 1; i >= 0; i--) {
            const cJSON *id = cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(exps, i),
                                                               "experiment_id");
            if (cJSON_IsString(id) && !strcmp(id->valuestring, argv[a])) {
                cJSON_DeleteItemFromArray(exps, i);
                dropped++;
            }
        }
        if (!dropped) {
            fprintf(stderr, "suite_drop_cells: %s: no experiment %s\n", argv[1], argv[a]);
            rc = 2;
        }
    }
    if (rc == 0 && fg_results_save(argv[2], root, &err) != 0) {
        fprintf(stderr, "suite_drop_cells: %s\n", err.msg);
        rc = 2;
    }
    cJSON_Delete(root);
    return rc;
}
