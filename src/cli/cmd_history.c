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
#include "flowgate/history_changes.h"
#include "flowgate/history_target.h"
#include "flowgate/outcome.h"
#include "flowgate/parse.h"
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

/* ---- changes and check ---------------------------------------------------- */

/* The options changes and check share, and check's own. */
typedef struct judge_flags {
    fg_history_query q;
    double margin;
    int window;
    int inconclusive_pass;
} judge_flags;

static int parse_judge_flags(const char *who, int argc, char **argv, int for_check, judge_flags *f)
{
    memset(f, 0, sizeof *f);
    f->margin = 0.05;
    fg_err err = {{0}};
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        int takes_value = 1, bad = 0;
        if (!strcmp(a, "--inconclusive=pass") || !strcmp(a, "--inconclusive=fail")) {
            f->inconclusive_pass = !strcmp(a, "--inconclusive=pass");
            takes_value = 0;
            if (!for_check) bad = fg_err_set(&err, "%s: only check takes it", a);
        } else if (!v) {
            bad = fg_err_set(&err, "%s: %s", a, !strncmp(a, "--", 2) ? "needs a value"
                                                   : "unexpected argument (--help lists them)");
        } else if (!strcmp(a, "--cell")) {
            f->q.experiment_id = v;
        } else if (!strcmp(a, "--category")) {
            f->q.category = v;
        } else if (!strcmp(a, "--metric")) {
            f->q.metric = v;
        } else if (!strcmp(a, "--since")) {
            f->q.since = v;
        } else if (!strcmp(a, "--max-p")) {
            bad = fg_parse_double("--max-p", v, 1e-12, 0.5, &f->q.cp.max_p, &err);
        } else if (for_check && !strcmp(a, "--margin")) {
            bad = fg_parse_double("--margin", v, 0, 10, &f->margin, &err);
        } else if (for_check && !strcmp(a, "--window")) {
            bad = fg_parse_int("--window", v, 1, 100000, &f->window, &err);
        } else {
            bad = fg_err_set(&err, "%s: unknown option (--help lists them)", a);
        }
        if (bad) {
            fprintf(stderr, "flowgate history %s: %s\n", who, err.msg);
            return -1;
        }
        i += takes_value;
    }
    return 0;
}

/* "standard/exp_input1.0mb_conc5_ours (recognizer, 2c vm, embedded x0.34)" */
static void series_name(const fg_history_key *k, char *out, size_t size)
{
    char scale[32] = "";
    if (k->request_scale != 1) snprintf(scale, sizeof scale, " x%g", k->request_scale);
    snprintf(out, size, "%s/%s (%s, %s, %s%s)", k->category, k->experiment_id, k->workflow,
             k->machine_key, k->endpoint_mode, scale);
}

static int history_changes(fg_history *h, int argc, char **argv)
{
    judge_flags f;
    if (parse_judge_flags("changes", argc, argv, 0, &f) != 0) return 2;
    fg_err err = {{0}};
    fg_history_change *ch;
    int n;
    if (fg_history_changes(h, &f.q, &ch, &n, &err) != 0) {
        fprintf(stderr, "flowgate history changes: %s\n", err.msg);
        return 2;
    }
    for (int i = 0; i < n; i++) {
        char name[1024];
        series_name(&ch[i].key, name, sizeof name);
        printf("%s %s: %+.1f %% [%+.1f, %+.1f] p=%.2g at %.10s (run %s, %s; run %d of %d), "
               "%.4g -> %.4g\n", name, ch[i].metric, 100 * ch[i].cp.change,
               100 * ch[i].cp.ci_lo, 100 * ch[i].cp.ci_hi, ch[i].cp.p,
               ch[i].first.git_commit[0] ? ch[i].first.git_commit : "-", ch[i].first.run_id,
               ch[i].first.started, (int)ch[i].cp.index + 1, ch[i].points, ch[i].cp.mean_before,
               ch[i].cp.mean_after);
    }
    printf("history changes: %d change point%s\n", n, n == 1 ? "" : "s");
    free(ch);
    return 0;
}

static int history_check(fg_history *h, int argc, char **argv)
{
    judge_flags f;
    if (parse_judge_flags("check", argc, argv, 1, &f) != 0) return 2;
    fg_err err = {{0}};
    fg_history_verdict *v;
    int n;
    if (fg_history_check(h, &f.q, f.margin, (size_t)f.window, &v, &n, &err) != 0) {
        fprintf(stderr, "flowgate history check: %s\n", err.msg);
        return 2;
    }
    int judged = 0, worse = 0;
    for (int i = 0; i < n; i++) {
        judged += v[i].judged;
        if (!v[i].v.worse) continue;
        worse++;
        char name[1024];
        series_name(&v[i].key, name, sizeof name);
        printf("regression  %s %s: %+.1f %% [%+.1f, %+.1f] beyond the %g %% margin; the level "
               "began at %.10s (run %s, %s), %d of %d runs since; before it up to %.10s\n",
               name, v[i].metric, 100 * v[i].v.change, 100 * v[i].v.ci_lo, 100 * v[i].v.ci_hi,
               100 * f.margin,
               v[i].level_first.git_commit[0] ? v[i].level_first.git_commit : "-",
               v[i].level_first.run_id, v[i].level_first.started,
               v[i].points - (int)v[i].v.level_from, v[i].points,
               v[i].reference_last.git_commit[0] ? v[i].reference_last.git_commit : "-");
    }
    fg_outcome outcome = worse ? FG_OUTCOME_FAIL : judged ? FG_OUTCOME_PASS
                                                          : FG_OUTCOME_INCONCLUSIVE;
    printf("history check: %s: %d series x metric%s judged, %d worse beyond %g %%; %d too short "
           "to judge (< 6 runs)\n", fg_outcome_label(outcome), judged, judged == 1 ? "" : "s",
           worse, 100 * f.margin, n - judged);
    if (outcome == FG_OUTCOME_INCONCLUSIVE)
        printf("history check: inconclusive: no series has enough runs to judge%s\n",
               f.inconclusive_pass ? "; --inconclusive=pass: exit 0" : " (exit 3)");
    free(v);
    return fg_outcome_exit(outcome, f.inconclusive_pass);
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
    {"changes", history_changes,
     "changes [--cell C] [--category K] [--metric M] [--since REV] [--max-p P]\n"
     "                       the change points of each cell x metric series (default\n"
     "                       metrics p50_ms, p95_ms, throughput_rps): magnitude, 95 %\n"
     "                       interval, p, the first commit of the new level"},
    {"check",  history_check,
     "check [same options] [--margin F] [--window N] [--inconclusive=pass]\n"
     "                       exit 1 when the newest runs (a level begun within the last N\n"
     "                       runs, default 10) are worse than the level before by more\n"
     "                       than F (default 0.05); 3 when no series is long enough"},
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
