/* cmd_baseline.c — `flowgate baseline RESULTS.json [--to results/baseline.json]`:
 * promotes a run to the baseline that `flowgate compare` gates against
 * (baseline.h says what is refused and why). The default target is
 * baseline.json in $FLOWGATE_RESULTS_DIR (as for `flowgate run`), else in
 * results/. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "flowgate/baseline.h"

static void usage(FILE *out)
{
    fprintf(out, "usage: flowgate baseline RESULTS.json [--to results/baseline.json]\n"
                 "  validates a results file and copies it atomically to the baseline path\n"
                 "  (default: $FLOWGATE_RESULTS_DIR/baseline.json, else results/baseline.json)\n");
}

/* The directory part of path ("" when none). */
int cmd_baseline(int argc, char **argv)
{
    const char *src = NULL, *dst = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(argv[i], "--to")) {
            if (i + 1 >= argc || !*argv[i + 1]) {
                fprintf(stderr, "flowgate baseline: --to needs a path\n");
                return 2;
            }
            dst = argv[++i];
        } else if (argv[i][0] == '-' && argv[i][1]) {
            fprintf(stderr, "flowgate baseline: unknown option '%s' (--help lists them)\n", argv[i]);
            return 2;
        } else if (!src) {
            src = argv[i];
        } else {
            fprintf(stderr, "flowgate baseline: unexpected argument '%s'\n", argv[i]);
            return 2;
        }
    }
    if (!src) {
        usage(stderr);
        return 2;
    }
    char default_dst[4096];
    if (!dst) {
        const char *dir = getenv("FLOWGATE_RESULTS_DIR");
        snprintf(default_dst, sizeof default_dst, "%s/baseline.json", dir && *dir ? dir : "results");
        dst = default_dst;
    }

    fg_err err;
    char summary[256];
    if (fg_baseline_promote(src, dst, summary, sizeof summary, &err) != 0) {
        fprintf(stderr, "flowgate baseline: %s\n", err.msg);
        return 2;
    }
    printf("baseline: copied %s (%s) to %s\n", src, summary, dst);
    return 0;
}
