/* cmd_thresholds.c — `flowgate thresholds suggest RESULTS.json...`: writes a
 * thresholds file whose per-cell bounds come from measured runs
 * (thresholds_suggest.h), keeping the default and category lists of the
 * file it starts from. The result is checked like any thresholds file
 * before it is written, so what it writes always loads. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>

#include "commands.h"
#include "flowgate/config.h"
#include "flowgate/thresholds_suggest.h"

#define MAX_FILES 256

static void usage(FILE *out)
{
    fprintf(out,
        "usage: flowgate thresholds suggest RESULTS.json... [--from F] [--out F]\n"
        "                                   [--p50 1.6] [--p95 2.5] [--throughput 0.6]\n"
        "  per experiment id over the runs given: the median of p50, p95 and throughput;\n"
        "  bounds p50_ms < P50 x median, p95_ms < P95 x median, throughput_rps > THROUGHPUT x\n"
        "  median (plus success_rate > 0.90, timeouts == 0) become that cell's list.\n"
        "  --from F  the thresholds file to start from (default <data>/thresholds.json): its\n"
        "            default and category lists are kept, its cells replaced where measured\n"
        "  --out F   write there (atomically); default: print to stdout\n");
}

int cmd_thresholds(int argc, char **argv)
{
    if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (strcmp(argv[1], "suggest")) {
        fprintf(stderr, "flowgate thresholds: unknown subcommand '%s' (known: suggest)\n", argv[1]);
        return 2;
    }
    fg_suggest_factors f;
    fg_suggest_factors_defaults(&f);
    const char *paths[MAX_FILES], *from = NULL, *out = NULL;
    int n = 0;
    fg_err err = {""};
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            return 0;
        }
        int is_num = !strcmp(a, "--p50") || !strcmp(a, "--p95") || !strcmp(a, "--throughput");
        if (is_num || !strcmp(a, "--from") || !strcmp(a, "--out")) {
            if (!v) {
                fprintf(stderr, "flowgate thresholds: %s needs a value\n", a);
                return 2;
            }
            i++;
            double *dst = !strcmp(a, "--p50") ? &f.p50 : !strcmp(a, "--p95") ? &f.p95
                        : &f.throughput;
            if (is_num && fg_parse_double(a, v, 1e-3, 100, dst, &err) != 0) {
                fprintf(stderr, "flowgate thresholds: %s\n", err.msg);
                return 2;
            }
            if (!strcmp(a, "--from")) from = v;
            if (!strcmp(a, "--out")) out = v;
            continue;
        }
        if (a[0] == '-') {
            fprintf(stderr, "flowgate thresholds: unknown option '%s' (--help lists them)\n", a);
            return 2;
        }
        if (n == MAX_FILES) {
            fprintf(stderr, "flowgate thresholds: more than %d results files\n", MAX_FILES);
            return 2;
        }
        paths[n++] = a;
    }
    if (n == 0) {
        fprintf(stderr, "flowgate thresholds suggest: no results files given\n");
        return 2;
    }
    char from_default[1024];
    if (!from) {
        snprintf(from_default, sizeof from_default, "%s/thresholds.json", fg_data_dir());
        from = from_default;
    }
    int rc = 2, written = 0;
    char *text = NULL;
    cJSON *doc = fg_thresholds_suggest_file(from, paths, n, &f, &written, &err);
    if (!doc) goto fail;
    if (!(text = cJSON_Print(doc))) {
        fg_err_set(&err, "out of memory");
        goto fail;
    }
    if (out) {
        size_t len = strlen(text);
        text[len] = '\n';   /* cJSON_Print's terminator becomes the file's last newline */
        if (fg_write_file_atomic(out, text, len + 1, &err) != 0) goto fail;
        fprintf(stderr, "flowgate thresholds: %d cell%s from %d file%s (p50 x%g, p95 x%g, "
                "throughput x%g) -> %s\n", written, written == 1 ? "" : "s", n, n == 1 ? "" : "s",
                f.p50, f.p95, f.throughput, out);
    } else {
        printf("%s\n", text);
    }
    rc = 0;
    goto done;
fail:
    fprintf(stderr, "flowgate thresholds: %s\n", err.msg);
done:
    free(text);
    cJSON_Delete(doc);
    return rc;
}
