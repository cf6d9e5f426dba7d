/* results.c — the one reader and writer of results JSON (schema
 * "flowgate-results/1"). Loading checks the schema tag and the two
 * top-level members everything else relies on, so a wrong file fails with
 * one line instead of producing empty plots. Saving is atomic (temp file +
 * rename), so a crash mid-run never leaves half a results file; creating
 * is atomic and exclusive too (temp file + link, which fails when the name
 * is taken), so a new run's file is never visible empty.
 *
 * A cell is (category, experiment_id): a scale file repeats an id under
 * several categories. fg_results_find ignores the category (first match).
 *
 * Metrics are read by threshold name (aliases below) or by a dotted path
 * into the experiment object; only numbers and booleans are metrics. */
#include "flowgate/results.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

const char *const fg_fail_class_names[FG_FAIL_CLASSES] = {
    "timeout", "connect", "http", "malformed", "function", "client"
};

/* Results carry every latency sample; stay generous but bounded. */
#define RESULTS_MAX_BYTES ((size_t)1 << 30)

cJSON *fg_results_load(const char *path, fg_err *err)
{
    fg_buf buf;
    if (fg_read_file(path, RESULTS_MAX_BYTES, &buf, err)) return NULL;
    cJSON *root = cJSON_ParseWithLength((const char *)buf.data, buf.len);
    if (!root) {
        const char *at = cJSON_GetErrorPtr();
        long off = at && at >= (const char *)buf.data ? (long)(at - (const char *)buf.data) : 0;
        fg_buf_free(&buf);
        fg_err_set(err, "%s: invalid JSON near byte %ld", path, off);
        return NULL;
    }
    fg_buf_free(&buf);
    const cJSON *schema = cJSON_GetObjectItemCaseSensitive(root, "schema");
    const char *why = NULL;
    char detail[160];
    if (!cJSON_IsObject(root)) {
        why = "not a JSON object";
    } else if (!schema) {
        why = "no \"schema\": not a flowgate results file";
    } else if (!cJSON_IsString(schema) || strcmp(schema->valuestring, FG_RESULTS_SCHEMA)) {
        snprintf(detail, sizeof detail, "schema '%.80s', expected '%s'",
                 cJSON_IsString(schema) ? schema->valuestring : "(not a string)", FG_RESULTS_SCHEMA);
        why = detail;
    } else if (!cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(root, "run"))) {
        why = "missing \"run\" object";
    } else if (!cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(root, "experiments"))) {
        why = "missing \"experiments\" array";
    }
    if (why) {
        fg_err_set(err, "%s: %s", path, why);
        cJSON_Delete(root);
        return NULL;
    }
    return root;
}

/* The document as text ending in a newline, its parent directory made. */
static char *serialise(const char *path, const cJSON *root, size_t *len, fg_err *err)
{
    if (!root) {
        fg_err_set(err, "%s: nothing to save", path);
        return NULL;
    }
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", path);   /* "": no directory to make */
    char *slash = strrchr(dir, '/');
    if (slash && slash != dir) {
        *slash = 0;
        if (fg_mkdirs(dir, err)) return NULL;
    }
    char *text = cJSON_Print(root);
    if (!text) {
        fg_err_set(err, "%s: cannot serialise results (out of memory)", path);
        return NULL;
    }
    *len = strlen(text);
    /* End with a newline like any text file; the NUL slot is ours. */
    char *with_nl = realloc(text, *len + 2);
    if (!with_nl) {
        free(text);
        fg_err_set(err, "%s: out of memory", path);
        return NULL;
    }
    with_nl[(*len)++] = '\n';
    with_nl[*len] = 0;
    return with_nl;
}

char *fg_results_text(const cJSON *root, size_t *len, fg_err *err)
{
    return serialise("", root, len, err);
}

int fg_results_save(const char *path, const cJSON *root, fg_err *err)
{
    size_t len;
    char *text = serialise(path, root, &len, err);
    if (!text) return -1;
    int rc = fg_write_file_atomic(path, text, len, err);
    free(text);
    return rc;
}

int fg_results_is_file_name(const char *name)
{
    static const char scale[] = "scale_", stem[] = "experiment_results_", ext[] = ".json";
    if (!strncmp(name, scale, sizeof scale - 1)) name += sizeof scale - 1;
    if (strncmp(name, stem, sizeof stem - 1)) return 0;
    const char *id = name + sizeof stem - 1;
    size_t len = strlen(id);
    if (len <= sizeof ext - 1 || strcmp(id + len - (sizeof ext - 1), ext)) return 0;
    for (size_t i = 0; i < len - (sizeof ext - 1); i++)
        if (!(id[i] >= '0' && id[i] <= '9') && id[i] != '-') return 0;
    return 1;
}

int fg_results_create(const char *path, const cJSON *root, fg_err *err)
{
    size_t len;
    char *text = serialise(path, root, &len, err);
    if (!text) return -1;
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.new.%ld", path, (long)getpid());
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) {
        free(text);
        return fg_err_set(err, "%s: cannot create: %s", tmp, strerror(errno));
    }
    size_t off = 0;
    while (off < len) {
        ssize_t w = write(fd, text + off, len - off);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) break;
        off += (size_t)w;
    }
    free(text);
    int write_errno = off < len ? errno : 0;
    if (close(fd) != 0 && !write_errno) write_errno = errno;
    if (write_errno) {
        unlink(tmp);
        return fg_err_set(err, "%s: cannot write: %s", tmp, strerror(write_errno));
    }
    /* link() is the exclusive step: it never replaces an existing name. */
    int rc = 0;
    if (link(tmp, path) != 0) {
        if (errno == EEXIST) {
            rc = 1;
        } else if (errno == EPERM || errno == ENOTSUP || errno == ENOSYS) {
            /* A file system without hard links: claim the name, then replace
             * the empty claim at once. */
            int claim = open(path, O_WRONLY | O_CREAT | O_EXCL, 0644);
            if (claim < 0) rc = errno == EEXIST ? 1 : fg_err_set(err, "%s: cannot create: %s",
                                                                  path, strerror(errno));
            else {
                close(claim);
                if (rename(tmp, path) != 0)
                    rc = fg_err_set(err, "%s: cannot create: %s", path, strerror(errno));
            }
        } else {
            rc = fg_err_set(err, "%s: cannot create: %s", path, strerror(errno));
        }
    }
    unlink(tmp);
    return rc;
}

int fg_results_create_run(const char *dir, int scale_prefix, cJSON *root, char *path,
                          size_t path_size, fg_err *err)
{
    cJSON *run = cJSON_GetObjectItemCaseSensitive(root, "run");
    if (!cJSON_IsObject(run)) return fg_err_set(err, "results: no run object");
    if (fg_mkdirs(dir, err) != 0) return -1;
    time_t now = time(NULL);
    struct tm tm;
    localtime_r(&now, &tm);
    char stamp[24], id[40];
    strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", &tm);
    for (int n = 1; n <= 1000; n++) {
        if (n == 1) snprintf(id, sizeof id, "%s", stamp);
        else snprintf(id, sizeof id, "%s-%d", stamp, n);
        if ((size_t)snprintf(path, path_size, "%s/%sexperiment_results_%s.json", dir,
                             scale_prefix ? "scale_" : "", id) >= path_size)
            return fg_err_set(err, "%s: path too long", dir);
        cJSON *v = cJSON_CreateString(id);
        if (cJSON_GetObjectItemCaseSensitive(run, "id"))
            cJSON_ReplaceItemInObjectCaseSensitive(run, "id", v);
        else
            cJSON_AddItemToObject(run, "id", v);
        int rc = fg_results_create(path, root, err);
        if (rc <= 0) return rc;
    }
    return fg_err_set(err, "%s: cannot create: 1000 runs in one second", path);
}

const cJSON *fg_results_experiments(const cJSON *root)
{
    const cJSON *x = cJSON_GetObjectItemCaseSensitive(root, "experiments");
    return cJSON_IsArray(x) ? x : NULL;
}

const char *fg_results_category(const cJSON *experiment)
{
    const cJSON *c = cJSON_GetObjectItemCaseSensitive(experiment, "category");
    if (!c) return "";
    return cJSON_IsString(c) ? c->valuestring : NULL;
}

const cJSON *fg_results_find_in(const cJSON *root, const char *category,
                                const char *experiment_id, int repeat)
{
    const cJSON *x;
    cJSON_ArrayForEach(x, fg_results_experiments(root)) {
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(x, "experiment_id");
        if (!cJSON_IsString(id) || strcmp(id->valuestring, experiment_id)) continue;
        const char *cat = category ? fg_results_category(x) : NULL;
        if (category && (!cat || strcmp(cat, category))) continue;
        const cJSON *r = cJSON_GetObjectItemCaseSensitive(x, "repeat");
        int rep = cJSON_IsNumber(r) ? r->valueint : 0;
        if (rep == repeat) return x;
    }
    return NULL;
}

const cJSON *fg_results_find(const cJSON *root, const char *experiment_id, int repeat)
{
    return fg_results_find_in(root, NULL, experiment_id, repeat);
}

static const struct { const char *name, *path; } metric_aliases[] = {
    {"timeouts", "requests.timed_out"},
    {"failed", "requests.failed"},
    {"sent", "requests.sent"},
    {"ok", "requests.ok"},
    {"min_ms", "latency_ms.min"},
    {"mean_ms", "latency_ms.mean"},
    {"p50_ms", "latency_ms.p50"},
    {"p90_ms", "latency_ms.p90"},
    {"p95_ms", "latency_ms.p95"},
    {"p99_ms", "latency_ms.p99"},
    {"max_ms", "latency_ms.max"},
    /* success_rate, throughput_rps and wall_s are top-level names already. */
};

int fg_results_metric(const cJSON *experiment, const char *name, double *out)
{
    if (!experiment || !name || !*name) return -1;
    const char *path = name;
    for (size_t i = 0; i < sizeof metric_aliases / sizeof metric_aliases[0]; i++)
        if (!strcmp(name, metric_aliases[i].name)) path = metric_aliases[i].path;

    const cJSON *node = experiment;
    char seg[128];
    for (const char *p = path; node; ) {
        size_t n = strcspn(p, ".");
        if (n == 0 || n >= sizeof seg) return -1;
        memcpy(seg, p, n);
        seg[n] = 0;
        if (cJSON_IsArray(node) && strspn(seg, "0123456789") == n)
            node = cJSON_GetArrayItem(node, atoi(seg));
        else
            node = cJSON_IsObject(node) ? cJSON_GetObjectItemCaseSensitive(node, seg) : NULL;
        p += n;
        if (!*p) break;
        p++;
    }
    if (cJSON_IsNumber(node)) {
        *out = node->valuedouble;
        return 0;
    }
    if (cJSON_IsBool(node)) {
        *out = cJSON_IsTrue(node) ? 1 : 0;
        return 0;
    }
    return -1;
}
