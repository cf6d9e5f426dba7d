/* latest_results.c — the newest results file of a category
 * (latest_results.h). The candidates are sorted newest first before any
 * is loaded to read its category, so the usual case loads one file. */
#include "flowgate/latest_results.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "flowgate/json.h"
#include "flowgate/results.h"

typedef struct candidate { char path[1024]; struct timespec mtime; } candidate;

static int newer_first(const void *a, const void *b)
{
    const struct timespec *x = &((const candidate *)a)->mtime, *y = &((const candidate *)b)->mtime;
    if (x->tv_sec != y->tv_sec) return x->tv_sec < y->tv_sec ? 1 : -1;
    return (x->tv_nsec < y->tv_nsec) - (x->tv_nsec > y->tv_nsec);
}

/* The newest of category; with_cells: only a file holding experiments. */
static int latest(const char *dir, const char *category, int with_cells, char *path,
                  size_t path_size, fg_err *err)
{
    DIR *d = opendir(dir);
    if (!d) return fg_err_set(err, "%s: cannot open: %s", dir, strerror(errno));
    candidate *list = NULL;
    size_t n = 0, cap = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        size_t len = strlen(de->d_name);
        if (len < 6 || strcmp(de->d_name + len - 5, ".json") || !strcmp(de->d_name, "baseline.json"))
            continue;
        if (n == cap) {
            cap = cap ? 2 * cap : 32;
            candidate *grown = realloc(list, cap * sizeof *list);
            if (!grown) break;
            list = grown;
        }
        struct stat st;
        snprintf(list[n].path, sizeof list[n].path, "%s/%s", dir, de->d_name);
        if (stat(list[n].path, &st) == 0 && S_ISREG(st.st_mode)) {
            list[n].mtime = st.st_mtim;
            n++;
        }
    }
    closedir(d);
    qsort(list, n, sizeof *list, newer_first);
    int rc = -1;
    for (size_t i = 0; i < n && rc != 0; i++) {
        cJSON *root = fg_results_load(list[i].path, NULL);
        if (!root) continue;
        const char *cat = fg_json_string(cJSON_GetObjectItemCaseSensitive(root, "run"), "category");
        if ((!category || !*category || (cat && !strcmp(cat, category))) &&
            (!with_cells || cJSON_GetArraySize(fg_results_experiments(root)) > 0)) {
            snprintf(path, path_size, "%s", list[i].path);
            rc = 0;
        }
        cJSON_Delete(root);
    }
    free(list);
    if (rc != 0)
        fg_err_set(err, "%s: no results file%s%s%s", dir, with_cells ? " with experiments" : "",
                   category && *category ? " of category " : "", category && *category ? category : "");
    return rc;
}

int fg_plot_latest_results(const char *dir, const char *category, char *path, size_t path_size,
                           fg_err *err)
{
    return latest(dir, category, 0, path, path_size, err);
}

int fg_latest_results_with_cells(const char *dir, const char *category, char *path,
                                 size_t path_size, fg_err *err)
{
    return latest(dir, category, 1, path, path_size, err);
}
