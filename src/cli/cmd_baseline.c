/* cmd_baseline.c — `flowgate baseline RESULTS.json [--to results/baseline.json]`:
 * promotes a run to the baseline that `flowgate compare` gates against.
 * The default target is baseline.json in $FLOWGATE_RESULTS_DIR (as for
 * `flowgate run`), else in results/.
 * The file is validated first (fg_results_load) and then copied byte for
 * byte (not re-serialised) with an atomic rename, so a crash never leaves a
 * half-written baseline and the baseline is exactly the run's file.
 * An interrupted run (run.interrupted, or any entry marked interrupted) or
 * one without experiments is refused: a baseline missing cells, or holding
 * a half-measured one, would make every later gate fail or judge against
 * the wrong numbers. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "flowgate/results.h"

static void usage(FILE *out)
{
    fprintf(out, "usage: flowgate baseline RESULTS.json [--to results/baseline.json]\n"
                 "  validates a results file and copies it atomically to the baseline path\n"
                 "  (default: $FLOWGATE_RESULTS_DIR/baseline.json, else results/baseline.json)\n");
}

/* The directory part of path ("" when none). */
static void parent_dir(const char *path, char *out, size_t size)
{
    const char *slash = strrchr(path, '/');
    size_t n = slash ? (size_t)(slash - path) : 0;
    if (n >= size) n = size - 1;
    memcpy(out, path, n);
    out[n] = 0;
}

/* One line and -1 when the run cannot be a baseline. */
static int refuse(const char *src, const cJSON *run, const cJSON *exps)
{
    if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(run, "interrupted"))) {
        fprintf(stderr, "flowgate baseline: %s: the run was interrupted (run.interrupted): "
                        "not a baseline; promote a complete run\n", src);
        return -1;
    }
    const cJSON *e;
    cJSON_ArrayForEach(e, exps) {
        if (!cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(e, "interrupted"))) continue;
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(e, "experiment_id");
        const cJSON *rep = cJSON_GetObjectItemCaseSensitive(e, "repeat");
        fprintf(stderr, "flowgate baseline: %s: %s repeat %d was interrupted: not a baseline; "
                        "promote a complete run\n", src,
                cJSON_IsString(id) ? id->valuestring : "(no id)",
                cJSON_IsNumber(rep) ? rep->valueint : 0);
        return -1;
    }
    if (cJSON_GetArraySize(exps) == 0) {
        fprintf(stderr, "flowgate baseline: %s: no experiments: nothing to gate against\n", src);
        return -1;
    }
    return 0;
}

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
    cJSON *root = fg_results_load(src, &err);
    if (!root) {
        if (strstr(err.msg, src))
            fprintf(stderr, "flowgate baseline: %s\n", err.msg);
        else
            fprintf(stderr, "flowgate baseline: %s: %s\n", src, err.msg);
        return 2;
    }
    const cJSON *run = cJSON_GetObjectItemCaseSensitive(root, "run");
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(run, "id");
    const cJSON *category = cJSON_GetObjectItemCaseSensitive(run, "category");
    const cJSON *exps = fg_results_experiments(root);
    if (refuse(src, run, exps) != 0) {
        cJSON_Delete(root);
        return 2;
    }
    char summary[256];
    snprintf(summary, sizeof summary, "run %s, %s, %d experiment entries",
             cJSON_IsString(id) ? id->valuestring : "(no id)",
             cJSON_IsString(category) ? category->valuestring : "no category",
             cJSON_GetArraySize(exps));
    cJSON_Delete(root);

    fg_buf bytes;
    char dir[4096];
    parent_dir(dst, dir, sizeof dir);
    if (fg_read_file(src, 0, &bytes, &err) != 0 || (*dir && fg_mkdirs(dir, &err) != 0)) {
        fprintf(stderr, "flowgate baseline: %s\n", err.msg);
        fg_buf_free(&bytes);
        return 2;
    }
    int rc = fg_write_file_atomic(dst, bytes.data, bytes.len, &err);
    fg_buf_free(&bytes);
    if (rc != 0) {
        fprintf(stderr, "flowgate baseline: %s\n", err.msg);
        return 2;
    }
    printf("baseline: copied %s (%s) to %s\n", src, summary, dst);
    return 0;
}
