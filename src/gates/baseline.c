/* baseline.c — a run promoted to the baseline (baseline.h): refuse what
 * cannot be judged against, then copy the file's bytes atomically. */
#include "flowgate/baseline.h"

#include <stdio.h>
#include <string.h>
#include <cjson/cJSON.h>

#include "flowgate/results.h"

static void parent_dir(const char *path, char *out, size_t size)
{
    const char *slash = strrchr(path, '/');
    size_t n = slash ? (size_t)(slash - path) : 0;
    if (n >= size) n = size - 1;
    memcpy(out, path, n);
    out[n] = 0;
}

/* -1 and err when the run cannot be a baseline. */
static int refuse(const char *src, const cJSON *run, const cJSON *exps, fg_err *err)
{
    if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(run, "interrupted")))
        return fg_err_set(err, "%s: the run was interrupted (run.interrupted): not a baseline; "
                          "promote a complete run", src);
    const cJSON *e;
    cJSON_ArrayForEach(e, exps) {
        if (!cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(e, "interrupted"))) continue;
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(e, "experiment_id");
        const cJSON *rep = cJSON_GetObjectItemCaseSensitive(e, "repeat");
        return fg_err_set(err, "%s: %s repeat %d was interrupted: not a baseline; promote a "
                          "complete run", src, cJSON_IsString(id) ? id->valuestring : "(no id)",
                          cJSON_IsNumber(rep) ? rep->valueint : 0);
    }
    if (cJSON_GetArraySize(exps) == 0)
        return fg_err_set(err, "%s: no experiments: nothing to gate against", src);
    return 0;
}

int fg_baseline_promote(const char *src, const char *dst, char *summary, size_t summary_size,
                        fg_err *err)
{
    cJSON *root = fg_results_load(src, err);
    if (!root) {
        if (!strstr(err->msg, src)) {
            char inner[sizeof err->msg];
            snprintf(inner, sizeof inner, "%s", err->msg);
            fg_err_set(err, "%s: %s", src, inner);
        }
        return -1;
    }
    const cJSON *run = cJSON_GetObjectItemCaseSensitive(root, "run");
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(run, "id");
    const cJSON *category = cJSON_GetObjectItemCaseSensitive(run, "category");
    const cJSON *exps = fg_results_experiments(root);
    if (refuse(src, run, exps, err) != 0) {
        cJSON_Delete(root);
        return -1;
    }
    snprintf(summary, summary_size, "run %s, %s, %d experiment entries",
             cJSON_IsString(id) ? id->valuestring : "(no id)",
             cJSON_IsString(category) ? category->valuestring : "no category",
             cJSON_GetArraySize(exps));
    cJSON_Delete(root);

    fg_buf bytes = {0};
    char dir[4096];
    parent_dir(dst, dir, sizeof dir);
    int rc = fg_read_file(src, 0, &bytes, err) != 0 || (*dir && fg_mkdirs(dir, err) != 0) ? -1
           : fg_write_file_atomic(dst, bytes.data, bytes.len, err);
    fg_buf_free(&bytes);
    return rc;
}
