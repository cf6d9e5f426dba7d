/* import.c — a results document (flowgate-results/1) into the history:
 * one runs row, a cells row per experiments[] entry, and a metrics row per
 * numeric leaf of each entry (history.h).
 *
 * The document is checked whole before the first row is written, and the
 * rows go in one transaction, so a bad file leaves nothing behind. The
 * runs row goes first with ON CONFLICT DO NOTHING: when its run_key is
 * taken the run is there already (or a concurrent importer is writing it,
 * and the insert waits for it), and the import ends there. Metrics go in
 * batches of rows per statement: a run has thousands of them, and one
 * round trip each would be the whole cost of an import on PostgreSQL. */
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flowgate/results.h"
#include "schema.h"
#include "store.h"

enum { METRICS_PER_STATEMENT = 200, PATH_MAX_CHARS = 480 };

static const char *str_or(const cJSON *obj, const char *key, const char *dflt)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    return cJSON_IsString(v) && v->valuestring ? v->valuestring : dflt;
}

/* A number as a parameter: NULL (SQL NULL) when absent or not finite. */
static const char *num_param(const cJSON *obj, const char *key, char *buf, size_t size)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble)) return NULL;
    fg_history_format_double(v->valuedouble, buf, size);
    return buf;
}

/* An integer column's parameter: NULL unless a whole number in range. */
static const char *int_param(const cJSON *obj, const char *key, char *buf, size_t size)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!cJSON_IsNumber(v) || !(fabs(v->valuedouble) < INT_MAX) ||
        v->valuedouble != floor(v->valuedouble))
        return NULL;
    snprintf(buf, size, "%d", (int)v->valuedouble);
    return buf;
}

/* ---- the metrics of a cell ----------------------------------------------- */

/* The metrics rows waiting for their statement: params[0] is the cell id,
 * then name, value per row. */
typedef struct metric_batch {
    fg_db *db;
    const char *cell;
    char *params[1 + 2 * METRICS_PER_STATEMENT];
    int rows;
} metric_batch;

static void batch_clear(metric_batch *b)
{
    for (int i = 1; i < 1 + 2 * b->rows; i++) free(b->params[i]);
    b->rows = 0;
}

static int batch_flush(metric_batch *b, fg_err *err)
{
    if (b->rows == 0) return 0;
    char sql[64 + METRICS_PER_STATEMENT * 32];
    size_t len = (size_t)snprintf(sql, sizeof sql, "INSERT INTO metrics (cell, name, value) VALUES ");
    for (int r = 0; r < b->rows; r++)
        len += (size_t)snprintf(sql + len, sizeof sql - len, "%s($1, $%d, $%d)", r ? ", " : "",
                                2 + 2 * r, 3 + 2 * r);
    /* A name twice in one entry (a key that contains a dot meeting a
     * nested one) keeps its first value. */
    snprintf(sql + len, sizeof sql - len, " ON CONFLICT DO NOTHING");
    b->params[0] = (char *)b->cell;
    int rc = fg_db_query(b->db, sql, 1 + 2 * b->rows, (const char *const *)b->params, NULL, err);
    batch_clear(b);
    return rc;
}

static int batch_add(metric_batch *b, const char *name, double value, fg_err *err)
{
    char text[40];
    fg_history_format_double(value, text, sizeof text);
    char *n = strdup(name), *v = strdup(text);
    if (!n || !v) {
        free(n);
        free(v);
        return fg_err_set(err, "out of memory");
    }
    b->params[1 + 2 * b->rows] = n;
    b->params[2 + 2 * b->rows] = v;
    if (++b->rows == METRICS_PER_STATEMENT) return batch_flush(b, err);
    return 0;
}

/* Bulky per-request or per-second data, and samples: not numbers to trend. */
static int left_out(const char *top_key)
{
    return !strcmp(top_key, "resources") || !strcmp(top_key, "timeline") ||
           !strcmp(top_key, "latency_samples_ms");
}

/* Whole histograms ("latency_hist", "functions.f.exec_hist", …) are there
 * for merging; their statistics beside them ("latency_ms") are what trends. */
static int is_histogram(const char *key)
{
    size_t n = strlen(key);
    return n >= 5 && !strcmp(key + n - 5, "_hist");
}

static int add_leaves(metric_batch *b, const cJSON *obj, char *path, size_t len, fg_err *err)
{
    for (const cJSON *c = obj->child; c; c = c->next) {
        if (!c->string || (len == 0 && left_out(c->string)) || is_histogram(c->string)) continue;
        size_t klen = strlen(c->string), next = len + (len ? 1 : 0) + klen;
        if (next > PATH_MAX_CHARS) continue;
        if (len) path[len] = '.';
        memcpy(path + len + (len ? 1 : 0), c->string, klen + 1);
        int rc = 0;
        if (cJSON_IsNumber(c) && isfinite(c->valuedouble)) rc = batch_add(b, path, c->valuedouble, err);
        else if (cJSON_IsObject(c)) rc = add_leaves(b, c, path, next, err);
        path[len] = 0;
        if (rc != 0) return -1;
    }
    return 0;
}

/* Cells after which an import fails (tests: a failure half-way); -1 never. */
static int fail_after_cells = -1;

void fg_history_test_fail_after_cells(int cells)
{
    fail_after_cells = cells;
}

/* ---- the rows -------------------------------------------------------------- */

/* The fields a run's import needs, checked before anything is written. */
static int check_document(const cJSON *root, const char *path, const char *kind, fg_err *err)
{
    const cJSON *schema = cJSON_GetObjectItemCaseSensitive(root, "schema");
    const cJSON *run = cJSON_GetObjectItemCaseSensitive(root, "run");
    if (!cJSON_IsObject(root) || !cJSON_IsString(schema) || strcmp(schema->valuestring, FG_RESULTS_SCHEMA))
        return fg_err_set(err, "%s: not a %s results document", path, FG_RESULTS_SCHEMA);
    if (!cJSON_IsObject(run)) return fg_err_set(err, "%s: missing \"run\" object", path);
    if (!str_or(run, "id", NULL) || !str_or(run, "started", NULL))
        return fg_err_set(err, "%s: run has no \"id\" or \"started\"", path);
    if (strcmp(kind, "run") && strcmp(kind, "suite") && strcmp(kind, "ab"))
        return fg_err_set(err, "%s: unknown kind '%s' (run, suite, ab)", path, kind);
    const cJSON *exps = fg_results_experiments(root);
    if (!cJSON_IsArray(exps)) return fg_err_set(err, "%s: missing \"experiments\" array", path);
    int i = 0;
    for (const cJSON *e = exps->child; e; e = e->next, i++) {
        if (!cJSON_IsObject(e) || !str_or(e, "experiment_id", NULL))
            return fg_err_set(err, "%s: experiments[%d] has no \"experiment_id\"", path, i);
        const cJSON *repeat = cJSON_GetObjectItemCaseSensitive(e, "repeat");
        char whole[16];
        if (repeat && !int_param(e, "repeat", whole, sizeof whole))
            return fg_err_set(err, "%s: experiments[%d]: \"repeat\" is not a whole number", path,
                              i);
    }
    return 0;
}

/* "<cores>c <cpu model>", else "<cores>c <host>" (history.h). */
static void machine_key(const cJSON *run, char *out, size_t size)
{
    char cores[16] = "0";
    int_param(run, "cores", cores, sizeof cores);
    snprintf(out, size, "%sc %s", cores, str_or(run, "cpu_model", str_or(run, "host", "")));
}

int fg_history_key_of(const cJSON *root, const cJSON *experiment, fg_history_key *key)
{
    const cJSON *run = cJSON_GetObjectItemCaseSensitive(root, "run");
    if (!cJSON_IsObject(run) || !str_or(experiment, "experiment_id", NULL)) return -1;
    memset(key, 0, sizeof *key);
    snprintf(key->workflow, sizeof key->workflow, "%s", str_or(run, "workflow", ""));
    snprintf(key->category, sizeof key->category, "%s",
             str_or(experiment, "category", str_or(run, "category", "")));
    snprintf(key->experiment_id, sizeof key->experiment_id, "%s",
             str_or(experiment, "experiment_id", ""));
    machine_key(run, key->machine_key, sizeof key->machine_key);
    snprintf(key->endpoint_mode, sizeof key->endpoint_mode, "%s",
             str_or(cJSON_GetObjectItemCaseSensitive(run, "endpoints"), "mode", ""));
    const cJSON *scale = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(run, "config"), "request_scale");
    key->request_scale = cJSON_IsNumber(scale) && isfinite(scale->valuedouble)
                             ? scale->valuedouble : 1;
    return 0;
}

/* Inserts the runs row; *id gets its id, "" when the run is there already. */
static int insert_run(fg_db *db, const cJSON *root, const char *source, const char *kind,
                      const char *tag, char *id, size_t id_size, fg_err *err)
{
    const cJSON *run = cJSON_GetObjectItemCaseSensitive(root, "run");
    const cJSON *config = cJSON_GetObjectItemCaseSensitive(run, "config");
    const cJSON *noise = cJSON_GetObjectItemCaseSensitive(run, "noise");
    const char *host = str_or(run, "host", ""), *category = str_or(run, "category", "");
    const char *run_id = str_or(run, "id", ""), *started = str_or(run, "started", "");
    const char *branch = str_or(run, "git_branch", NULL);
    if (!branch) branch = getenv("FLOWGATE_BRANCH");
    char key[1024], machine[256], cores[16] = "0", scale[40] = "1", nb[40], nm[40], na[40], now[40];
    snprintf(key, sizeof key, "%s|%s|%s|%s%s%s", host, run_id, started, category, tag ? "|" : "",
             tag ? tag : "");
    int_param(run, "cores", cores, sizeof cores);
    machine_key(run, machine, sizeof machine);
    num_param(config, "request_scale", scale, sizeof scale);
    fg_history_now_utc(now, sizeof now);
    const char *params[] = {
        key, kind, run_id, category, str_or(run, "workflow", ""), str_or(run, "git_commit", ""),
        branch ? branch : "", started, str_or(run, "finished", ""), host, cores, machine,
        str_or(cJSON_GetObjectItemCaseSensitive(run, "endpoints"), "mode", ""), scale,
        num_param(noise, "before", nb, sizeof nb), num_param(noise, "max_during", nm, sizeof nm),
        num_param(noise, "after", na, sizeof na), str_or(run, "outcome", ""),
        cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(run, "interrupted")) ? "1" : "0", source, now,
    };
    fg_db_rows rows;
    int rc = fg_db_query(db,
        "INSERT INTO runs (run_key, kind, run_id, category, workflow, git_commit, branch, started,"
        " finished, host, cores, machine_key, endpoint_mode, request_scale, noise_before,"
        " noise_max, noise_after, outcome, interrupted, source, imported_at)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17,"
        " $18, $19, $20, $21) ON CONFLICT DO NOTHING RETURNING id",
        (int)(sizeof params / sizeof params[0]), params, &rows, err);
    snprintf(id, id_size, "%s", rc == 0 && fg_db_get(&rows, 0, 0) ? fg_db_get(&rows, 0, 0) : "");
    fg_db_rows_free(&rows);
    return rc;
}

static int insert_cell(fg_db *db, const char *run, const cJSON *run_obj, const cJSON *e,
                       fg_err *err)
{
    char repeat[16] = "0", mb[40], conc[16], path[PATH_MAX_CHARS + 64] = "";
    int_param(e, "repeat", repeat, sizeof repeat);
    const char *params[] = {
        run, str_or(e, "category", str_or(run_obj, "category", "")), str_or(e, "experiment_id", ""),
        repeat, str_or(e, "scheduler", ""), num_param(e, "input_mb", mb, sizeof mb),
        int_param(e, "concurrency", conc, sizeof conc), str_or(e, "mode", ""),
        str_or(e, "outcome", ""),
    };
    fg_db_rows rows;
    if (fg_db_query(db,
            "INSERT INTO cells (run, category, experiment_id, repeat, scheduler, input_mb,"
            " concurrency, mode, outcome) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
            " ON CONFLICT DO NOTHING RETURNING id",
            (int)(sizeof params / sizeof params[0]), params, &rows, err) != 0) {
        fg_db_rows_free(&rows);
        return -1;
    }
    /* No id: the same cell twice in one file; its first entry stands. */
    metric_batch b = {.db = db, .cell = fg_db_get(&rows, 0, 0)};
    int rc = 0;
    if (b.cell) rc = add_leaves(&b, e, path, 0, err) == 0 ? batch_flush(&b, err) : -1;
    batch_clear(&b);
    fg_db_rows_free(&rows);
    return rc;
}

int fg_history_import_tagged(fg_history *h, const cJSON *root, const char *path,
                             const char *kind, const char *tag, fg_err *err)
{
    if (!path) path = "(results)";
    if (!kind) kind = "run";
    if (check_document(root, path, kind, err) != 0) return -1;
    char source[4096];
    if (!realpath(path, source)) snprintf(source, sizeof source, "%s", path);
    fg_db *db = h->db;
    fg_err why = {{0}};
    char run[32];
    db->unique_violation = 0;
    if (fg_db_begin(db, &why) != 0) goto failed;
    if (insert_run(db, root, source, kind, tag, run, sizeof run, &why) != 0) goto failed;
    if (!run[0]) {
        fg_db_rollback(db);
        return FG_HISTORY_ALREADY;
    }
    const cJSON *run_obj = cJSON_GetObjectItemCaseSensitive(root, "run");
    int cells = 0;
    for (const cJSON *e = fg_results_experiments(root)->child; e; e = e->next, cells++) {
        if (cells == fail_after_cells) {
            fg_err_set(&why, "failure injected after %d cells", cells);
            goto failed;
        }
        if (insert_cell(db, run, run_obj, e, &why) != 0) goto failed;
    }
    if (fg_db_commit(db, &why) != 0) goto failed;
    return FG_HISTORY_IMPORTED;
failed:
    fg_db_rollback(db);
    /* A concurrent importer of the same run won the race. */
    if (db->unique_violation) return FG_HISTORY_ALREADY;
    return fg_err_set(err, "%s: %s", path, why.msg);
}

int fg_history_import_results(fg_history *h, const cJSON *root, const char *path,
                              const char *kind, fg_err *err)
{
    return fg_history_import_tagged(h, root, path, kind, NULL, err);
}

int fg_history_import_file(fg_history *h, const char *path, fg_err *err)
{
    cJSON *root = fg_results_load(path, err);
    if (!root) return -1;
    int rc = fg_history_import_results(h, root, path, "run", err);
    cJSON_Delete(root);
    return rc;
}
