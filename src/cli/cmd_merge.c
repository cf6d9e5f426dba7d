/* cmd_merge.c — `flowgate merge A.json B.json … [-o ALL.json]`: one run's
 * results from the files of its segments (`flowgate run --segment i/N` on
 * N drivers; merge.h says what must agree and how each figure is joined).
 * The merged results go to stdout, or atomically to -o's file. Exit 0, or
 * 2 with one line naming the file at fault. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "flowgate/merge.h"
#include "flowgate/results.h"

static void usage(FILE *out)
{
    fprintf(out, "usage: flowgate merge SEGMENT.json... [-o MERGED.json]\n"
                 "  joins the results of one run's N segments (flowgate run --segment i/N),\n"
                 "  each segment 0..N-1 once: counts and histograms exactly, percentiles from\n"
                 "  the merged histogram, throughput over the union of the windows; writes\n"
                 "  flowgate-results/1 to stdout (or -o's file)\n");
}

int cmd_merge(int argc, char **argv)
{
    const char *out_path = NULL;
    const char **paths = calloc(argc > 0 ? (size_t)argc : 1, sizeof *paths);
    int n = 0;
    if (!paths) return 2;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            usage(stdout);
            free(paths);
            return 0;
        } else if (!strcmp(argv[i], "-o")) {
            if (i + 1 >= argc || !*argv[i + 1]) {
                fprintf(stderr, "flowgate merge: -o needs a path\n");
                free(paths);
                return 2;
            }
            out_path = argv[++i];
        } else if (argv[i][0] == '-' && argv[i][1]) {
            fprintf(stderr, "flowgate merge: unknown option '%s' (--help lists them)\n", argv[i]);
            free(paths);
            return 2;
        } else {
            paths[n++] = argv[i];
        }
    }
    if (n == 0) {
        usage(stderr);
        free(paths);
        return 2;
    }
    fg_err err = {{0}};
    cJSON *merged = fg_merge_files(paths, n, &err);
    free(paths);
    int rc = merged ? 0 : -1;
    if (merged && out_path) {
        rc = fg_results_save(out_path, merged, &err);
    } else if (merged) {
        size_t len;
        char *text = fg_results_text(merged, &len, &err);
        if (!text || fwrite(text, 1, len, stdout) != len || fflush(stdout) != 0)
            rc = text ? fg_err_set(&err, "cannot write the merged results to stdout") : -1;
        free(text);
    }
    cJSON_Delete(merged);
    if (rc != 0) {
        fprintf(stderr, "flowgate merge: %s\n", err.msg);
        return 2;
    }
    return 0;
}
