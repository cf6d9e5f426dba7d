/* cmd_history.c — `flowgate history <subcommand>`: the performance history
 * (flowgate/history.h). Each subcommand is one function in the table
 * below; they share the option that says which history (--history, else
 * $FLOWGATE_HISTORY, else <results dir>/history.sqlite) and get it open. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "commands.h"
#include "flowgate/history.h"
#include "flowgate/history_target.h"
#include "flowgate/results.h"

/* ---- import ---------------------------------------------------------------- */

typedef struct import_tally {
    int imported, already, failed;
} import_tally;

static void count(import_tally *t, int rc, const fg_err *err)
{
    if (rc == FG_HISTORY_IMPORTED) t->imported++;
    else if (rc == FG_HISTORY_ALREADY) t->already++;
    else {
        t->failed++;
        fprintf(stderr, "flowgate history import: %s\n", err->msg);
    }
}

static int has_verdict(const char *dir)
{
    char path[4096];
    if ((size_t)snprintf(path, sizeof path, "%s/verdict.json", dir) >= sizeof path) return 0;
    return access(path, F_OK) == 0;
}

/* A directory: an A/B run's (it has a verdict.json), or one that holds
 * results files and A/B runs' directories (a results directory). */
static void import_dir(fg_history *h, const char *dir, import_tally *t)
{
    fg_err err = {{0}};
    if (has_verdict(dir)) {
        count(t, fg_history_import_ab(h, dir, &err), &err);
        return;
    }
    struct dirent **names = NULL;
    int n = scandir(dir, &names, NULL, alphasort);
    if (n < 0) {
        fg_err_set(&err, "%s: cannot read the directory", dir);
        count(t, -1, &err);
        return;
    }
    for (int i = 0; i < n; i++) {
        char path[4096];
        struct stat st;
        if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, names[i]->d_name) >= sizeof path) {
            fg_err_set(&err, "%s/%s: path too long", dir, names[i]->d_name);
            count(t, -1, &err);
        } else if (fg_results_is_file_name(names[i]->d_name)) {
            count(t, fg_history_import_file(h, path, &err), &err);
        } else if (names[i]->d_name[0] != '.' && stat(path, &st) == 0 && S_ISDIR(st.st_mode) &&
                   has_verdict(path)) {
            count(t, fg_history_import_ab(h, path, &err), &err);
        }
        free(names[i]);
    }
    free(names);
}

static int history_import(fg_history *h, int argc, char **argv)
{
    if (argc < 1) {
        fprintf(stderr, "flowgate history import: no files or directories given\n");
        return 2;
    }
    import_tally t = {0, 0, 0};
    for (int i = 0; i < argc; i++) {
        struct stat st;
        fg_err err = {{0}};
        const char *base = strrchr(argv[i], '/');
        base = base ? base + 1 : argv[i];
        if (stat(argv[i], &st) != 0) {
            fg_err_set(&err, "%s: no such file or directory", argv[i]);
            count(&t, -1, &err);
        } else if (S_ISDIR(st.st_mode)) {
            import_dir(h, argv[i], &t);
        } else if (!strcmp(base, "verdict.json")) {
            char dir[4096];
            snprintf(dir, sizeof dir, "%.*s", (int)(base - argv[i]), argv[i]);
            count(&t, fg_history_import_ab(h, dir[0] ? dir : ".", &err), &err);
        } else {
            count(&t, fg_history_import_file(h, argv[i], &err), &err);
        }
    }
    printf("imported %d run%s, %d already there\n", t.imported, t.imported == 1 ? "" : "s",
           t.already);
    return t.failed ? 1 : 0;
}

/* ---- runs ------------------------------------------------------------------ */

static int history_runs(fg_history *h, int argc, char **argv)
{
    (void)argv;
    if (argc > 0) {
        fprintf(stderr, "flowgate history runs: takes no arguments\n");
        return 2;
    }
    fg_err err = {{0}};
    fg_history_run *runs;
    int n;
    if (fg_history_runs(h, &runs, &n, &err) != 0) {
        fprintf(stderr, "flowgate history runs: %s\n", err.msg);
        return 2;
    }
    printf("%-22s %-5s %-12s %-18s %5s  %s\n", "run", "kind", "commit", "category", "cells",
           "outcome");
    for (int i = 0; i < n; i++)
        printf("%-22s %-5s %-12.12s %-18s %5d  %s%s\n", runs[i].run_id, runs[i].kind,
               runs[i].git_commit[0] ? runs[i].git_commit : "-", runs[i].category, runs[i].cells,
               runs[i].outcome[0] ? runs[i].outcome : "-", runs[i].interrupted ? " (interrupted)" : "");
    long n_runs = 0, n_cells = 0, n_metrics = 0;
    if (fg_history_counts(h, &n_runs, &n_cells, &n_metrics, &err) == 0)
        printf("%ld runs, %ld cells, %ld metrics\n", n_runs, n_cells, n_metrics);
    free(runs);
    return 0;
}

/* ---- the table ------------------------------------------------------------- */

static const struct {
    const char *name;
    int (*fn)(fg_history *h, int argc, char **argv);   /* argv: after the name */
    const char *help;
} subcommands[] = {
    {"import", history_import, "import FILE|DIR...   add results files, A/B run directories and the\n"
                               "                       results files and A/B runs in a directory"},
    {"runs",   history_runs,   "runs                 list the runs: id, kind, commit, category, cells,\n"
                               "                       outcome"},
};

static void usage(FILE *out)
{
    fprintf(out, "usage: flowgate history [--history TARGET] <subcommand> ...\n");
    for (size_t i = 0; i < sizeof subcommands / sizeof subcommands[0]; i++)
        fprintf(out, "  %s\n", subcommands[i].help);
    fprintf(out, "  --history TARGET  a SQLite file or a postgresql:// URL (default:\n"
                 "                    $FLOWGATE_HISTORY, else $FLOWGATE_RESULTS_DIR/history.sqlite,\n"
                 "                    else results/history.sqlite)\n");
}

int cmd_history(int argc, char **argv)
{
    const char *target = NULL;
    int i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            usage(stdout);
            return 0;
        }
        if (strcmp(argv[i], "--history") || i + 1 >= argc) {
            fprintf(stderr, "flowgate history: %s\n", strcmp(argv[i], "--history")
                    ? "unknown option (--help lists them)" : "--history needs a value");
            return 2;
        }
        target = argv[++i];
    }
    if (i >= argc) {
        usage(stderr);
        return 2;
    }
    for (size_t s = 0; s < sizeof subcommands / sizeof subcommands[0]; s++) {
        if (strcmp(argv[i], subcommands[s].name)) continue;
        char buf[1024];
        if (!target) {
            const char *dir = getenv("FLOWGATE_RESULTS_DIR");
            target = fg_history_target(dir && *dir ? dir : "results", buf, sizeof buf);
        }
        if (!target) {
            fprintf(stderr, "flowgate history: the history is off (FLOWGATE_HISTORY=off)\n");
            return 2;
        }
        fg_err err = {{0}};
        fg_history *h = fg_history_open(target, &err);
        if (!h) {
            fprintf(stderr, "flowgate history: %s\n", err.msg);
            return 2;
        }
        int rc = subcommands[s].fn(h, argc - i - 1, argv + i + 1);
        fg_history_close(h);
        return rc;
    }
    fprintf(stderr, "flowgate history: unknown subcommand '%s' (--help lists them)\n", argv[i]);
    return 2;
}
