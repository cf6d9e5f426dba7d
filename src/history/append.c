/* append.c — the writers' side: `flowgate run`, the suites and `flowgate
 * ab` each add what they measured with one call. The history is a record,
 * not a gate: when it cannot be written the run says so in one line and
 * keeps its own verdict and exit status. */
#include <stdio.h>

#include "flowgate/history.h"
#include "flowgate/history_target.h"
#include "flowgate/results.h"

/* Opens the history of results_dir: NULL with *off set when it is off. */
static fg_history *open_for(const char *results_dir, int *off, FILE *errs)
{
    char buf[1024];
    const char *target = fg_history_target(results_dir, buf, sizeof buf);
    *off = !target;
    if (!target) return NULL;
    fg_err err = {{0}};
    fg_history *h = fg_history_open(target, &err);
    if (!h && errs) fprintf(errs, "history: %s\n", err.msg);
    return h;
}

int fg_history_append_run(const char *results_dir, const char *results_path, const char *kind,
                          FILE *errs)
{
    if (!results_path || !*results_path) {
        if (errs) fprintf(errs, "history: no results file to add\n");
        return -1;
    }
    int off;
    fg_history *h = open_for(results_dir, &off, errs);
    if (!h) return off ? 0 : -1;
    fg_err err = {{0}};
    cJSON *root = fg_results_load(results_path, &err);
    int rc = root ? fg_history_import_results(h, root, results_path, kind, &err) : -1;
    cJSON_Delete(root);
    fg_history_close(h);
    if (rc < 0 && errs) fprintf(errs, "history: %s\n", err.msg);
    return rc < 0 ? -1 : 0;
}

int fg_history_append_ab(const char *results_dir, const char *ab_dir, FILE *errs)
{
    int off;
    fg_history *h = open_for(results_dir, &off, errs);
    if (!h) return off ? 0 : -1;
    fg_err err = {{0}};
    int rc = fg_history_import_ab(h, ab_dir, &err);
    fg_history_close(h);
    if (rc < 0 && errs) fprintf(errs, "history: %s\n", err.msg);
    return rc < 0 ? -1 : 0;
}
