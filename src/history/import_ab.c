/* import_ab.c — an A/B run's directory into the history: the results of
 * its sides A/ and B/ (runs of kind 'ab') and its verdict.json (ab_runs,
 * ab_cells). B's commit is what a verdict says something about, so it is
 * read from B's results file: the verdict itself does not name commits. */
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flowgate/results.h"
#include "store.h"

enum { VERDICT_MAX_BYTES = 64 << 20 };

/* The side's results file (the first by name: a side has one), loaded;
 * NULL when the side has none. */
static cJSON *load_side(const char *ab_dir, const char *side, char *path, size_t size, fg_err *err)
{
    char dir[700];
    snprintf(dir, sizeof dir, "%.690s/%s", ab_dir, side);
    DIR *d = opendir(dir);
    if (!d) return NULL;
    char best[sizeof ((struct dirent *)0)->d_name] = "";
    for (struct dirent *ent; (ent = readdir(d));)
        if (fg_results_is_file_name(ent->d_name) && (!best[0] || strcmp(ent->d_name, best) < 0))
            memcpy(best, ent->d_name, sizeof best);
    closedir(d);
    if (!best[0]) return NULL;
    if ((size_t)snprintf(path, size, "%s/%.255s", dir, best) >= size) {
        fg_err_set(err, "%s: path too long", dir);
        return NULL;
    }
    return fg_results_load(path, err);
}

static const char *str_or(const cJSON *obj, const char *key, const char *dflt)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    return cJSON_IsString(v) && v->valuestring ? v->valuestring : dflt;
}

static const char *num_text(const cJSON *v, char *buf, size_t size)
{
    if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble)) return NULL;
    fg_history_format_double(v->valuedouble, buf, size);
    return buf;
}

static int insert_cell(fg_db *db, const char *ab_run, const cJSON *cell, fg_err *err)
{
    const cJSON *centre = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(cell, "metrics"), "centre");
    const cJSON *ci = cJSON_GetObjectItemCaseSensitive(centre, "ci");
    const char *verdict = str_or(cell, "verdict", "");
    /* The culprit is named only for a regression: otherwise the first
     * function is merely the largest of several nothings. */
    const cJSON *culprit = !strcmp(verdict, "regression")
        ? cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(cell, "functions"), 0) : NULL;
    char ratio[40], lo[40], hi[40], added[40];
    const char *params[] = {
        ab_run, str_or(cell, "experiment_id", ""), verdict,
        num_text(cJSON_GetObjectItemCaseSensitive(centre, "ratio"), ratio, sizeof ratio),
        num_text(cJSON_GetArrayItem(ci, 0), lo, sizeof lo),
        num_text(cJSON_GetArrayItem(ci, 1), hi, sizeof hi),
        str_or(culprit, "function", ""), str_or(culprit, "part", ""),
        num_text(cJSON_GetObjectItemCaseSensitive(culprit, "added_ms"), added, sizeof added),
    };
    return fg_db_query(db,
        "INSERT INTO ab_cells (ab_run, experiment_id, verdict, centre_ratio, centre_ci_lo,"
        " centre_ci_hi, culprit_function, culprit_part, culprit_added_ms)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT DO NOTHING",
        (int)(sizeof params / sizeof params[0]), params, NULL, err);
}

/* The verdict's rows, in one transaction. 0, 1 already there, -1. */
static int insert_verdict(fg_db *db, const cJSON *verdict, const char *ab_id, const cJSON *run_a,
                          const cJSON *run_b, const char *source, fg_err *err)
{
    const char *host = str_or(run_a, "host", str_or(run_b, "host", ""));
    char key[512], pairs[16] = "0", now[40];
    snprintf(key, sizeof key, "%s|%s", host, ab_id);
    const cJSON *n = cJSON_GetObjectItemCaseSensitive(verdict, "pairs");
    if (cJSON_IsNumber(n)) snprintf(pairs, sizeof pairs, "%d", n->valueint);
    fg_history_now_utc(now, sizeof now);
    const char *params[] = {
        key, ab_id, host, str_or(run_a, "started", ""), str_or(run_a, "git_commit", ""),
        str_or(run_b, "git_commit", ""), str_or(verdict, "outcome", ""),
        str_or(verdict, "stopped", ""), pairs, source, now,
    };
    fg_db_rows rows;
    db->unique_violation = 0;
    if (fg_db_begin(db, err) != 0) return -1;
    int rc = fg_db_query(db,
        "INSERT INTO ab_runs (ab_key, ab_id, host, started, commit_a, commit_b, outcome, stopped,"
        " pairs, source, imported_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
        " ON CONFLICT DO NOTHING RETURNING id",
        (int)(sizeof params / sizeof params[0]), params, &rows, err);
    const char *id = fg_db_get(&rows, 0, 0);
    if (rc == 0 && !id) rc = FG_HISTORY_ALREADY;
    const cJSON *cells = cJSON_GetObjectItemCaseSensitive(verdict, "cells");
    for (const cJSON *c = cells ? cells->child : NULL; rc == 0 && c; c = c->next)
        rc = insert_cell(db, id, c, err);
    if (rc == 0) rc = fg_db_commit(db, err);
    fg_db_rows_free(&rows);
    if (rc != 0) fg_db_rollback(db);
    if (rc < 0 && db->unique_violation) rc = FG_HISTORY_ALREADY;
    return rc;
}

static int check_verdict(const cJSON *v, const char *path, fg_err *err)
{
    const cJSON *cells = cJSON_GetObjectItemCaseSensitive(v, "cells");
    if (!cJSON_IsObject(v) || !cJSON_IsString(cJSON_GetObjectItemCaseSensitive(v, "outcome")) ||
        !cJSON_IsArray(cells))
        return fg_err_set(err, "%s: not an A/B verdict (no \"outcome\" or \"cells\")", path);
    int i = 0;
    for (const cJSON *c = cells->child; c; c = c->next, i++)
        if (!cJSON_IsObject(c) || !str_or(c, "experiment_id", NULL))
            return fg_err_set(err, "%s: cells[%d] has no \"experiment_id\"", path, i);
    return 0;
}

int fg_history_import_ab(fg_history *h, const char *ab_dir, fg_err *err)
{
    char path[1024], side_path[2][1024], dir[1024];
    snprintf(dir, sizeof dir, "%s", ab_dir);
    for (size_t n = strlen(dir); n > 1 && dir[n - 1] == '/'; n--) dir[n - 1] = 0;
    snprintf(path, sizeof path, "%s/verdict.json", dir);
    fg_buf buf;
    if (fg_read_file(path, VERDICT_MAX_BYTES, &buf, err) != 0) return -1;
    cJSON *verdict = cJSON_ParseWithLength((const char *)buf.data, buf.len);
    fg_buf_free(&buf);
    if (!verdict) return fg_err_set(err, "%s: invalid JSON", path);
    cJSON *side[2] = {NULL, NULL};
    int rc = check_verdict(verdict, path, err);
    for (int s = 0; rc == 0 && s < 2; s++) {
        fg_err side_err = {{0}};
        side[s] = load_side(dir, s ? "B" : "A", side_path[s], sizeof side_path[s], &side_err);
        if (!side[s] && side_err.msg[0]) rc = fg_err_set(err, "%s", side_err.msg);
    }
    /* The sides first, each its own import: a verdict in the history has
     * its runs there too. */
    for (int s = 0; rc == 0 && s < 2; s++)
        if (side[s] && fg_history_import_tagged(h, side[s], side_path[s], "ab", s ? "B" : "A", err) < 0)
            rc = -1;
    if (rc == 0) {
        const char *slash = strrchr(dir, '/');
        char source[4096];
        if (!realpath(path, source)) snprintf(source, sizeof source, "%s", path);
        fg_err why = {{0}};
        rc = insert_verdict(h->db, verdict, slash ? slash + 1 : dir,
                            cJSON_GetObjectItemCaseSensitive(side[0], "run"),
                            cJSON_GetObjectItemCaseSensitive(side[1], "run"), source, &why);
        if (rc < 0) fg_err_set(err, "%s: %s", path, why.msg);
    }
    cJSON_Delete(side[0]);
    cJSON_Delete(side[1]);
    cJSON_Delete(verdict);
    return rc;
}
