/* cmd_calibrate.c — `flowgate calibrate`: fits the `ours` scheduler's cost
 * model t = alpha * size_mb ^ eta per function and node of a workflow
 * (default the recognizer; --workflow F), the method being the run
 * library's (calibrate.h), and writes it to results/profiles/<name>.json.
 * This file parses the flags, prints the fit with the points it rests on,
 * and saves the profile. Exit: 0 every function measured on every node, 1
 * some not (they use the fallback model), 2 bad input or setup. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "run_flags.h"
#include "flowgate/calibrate.h"
#include "flowgate/sched.h"
#include "flowgate/invoke.h"
#include "flowgate/embedded.h"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: flowgate calibrate [--name default] [--sizes 0.1,0.5,1,2,5] [--reps 3]\n"
            "                          [--endpoints FILE] [--workflow FILE] [--out FILE]\n"
            "  Fits exec_ms = alpha * size_mb^eta per function and node and writes\n"
            "  results/profiles/<name>.json for the `ours` scheduler.\n");
}

static void fmt_num(double v, const char *fmt, char *out, size_t size)
{
    if (isfinite(v)) snprintf(out, size, fmt, v);
    else snprintf(out, size, "n/a");
}

/* One row per function and node: the fit and the median of each size. */
static void print_fit(const fg_calibration *k, const fg_workflow *wf)
{
    const fg_profile *p = &k->profile;
    printf("%-24s %-10s %10s %8s %7s %6s  %s\n", "function", "node", "alpha_ms", "eta", "R2", "points",
           "median exec_ms per size");
    for (int f = 0; f < p->n_functions; f++)
        for (int n = 0; n < p->n_nodes; n++) {
            int np = k->n_points[f][n];
            char a[32], e[32], r[32], pts[400] = "";
            fmt_num(p->alpha[f][n], "%.4g", a, sizeof a);
            fmt_num(p->eta[f][n], "%.3f", e, sizeof e);
            fmt_num(p->r2[f][n], "%.4f", r, sizeof r);
            size_t used = 0;
            for (int i = 0; i < np && used < sizeof pts - 40; i++)
                used += (size_t)snprintf(pts + used, sizeof pts - used, "%s%.2fMB:%.4g", i ? " " : "",
                                         k->size_mb[f][n][i], k->exec_ms[f][n][i]);
            if (np == 0) snprintf(pts, sizeof pts, "not measured: %s", k->error[f][n]);
            printf("%-24s %-10s %10s %8s %7s %6d  %s\n", wf->steps[f].id, p->nodes[n], a, e, r, np, pts);
        }
}

int cmd_calibrate(int argc, char **argv)
{
    const char *name = "default", *endpoints = NULL, *out_path = NULL, *workflow = NULL;
    double sizes[FG_CALIBRATE_MAX_SIZES] = {0.1, 0.5, 1, 2, 5};
    int n_sizes = 5, reps = 3;
    fg_err err = {{0}};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int has_value = i + 1 < argc;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(a, "--name") && has_value) {
            name = argv[++i];
        } else if (!strcmp(a, "--endpoints") && has_value) {
            endpoints = argv[++i];
        } else if (!strcmp(a, "--workflow") && has_value) {
            workflow = argv[++i];
        } else if (!strcmp(a, "--out") && has_value) {
            out_path = argv[++i];
        } else if (!strcmp(a, "--sizes") && has_value) {
            if ((n_sizes = fg_parse_double_list(a, argv[++i], FG_CALIBRATE_MIN_MB,
                                                FG_CALIBRATE_MAX_MB, sizes,
                                                FG_CALIBRATE_MAX_SIZES, &err)) < 0) {
                fprintf(stderr, "flowgate calibrate: %s\n", err.msg);
                return 2;
            }
        } else if (!strcmp(a, "--reps") && has_value) {
            if (fg_parse_int(a, argv[++i], 1, FG_CALIBRATE_MAX_REPS, &reps, &err) != 0) {
                fprintf(stderr, "flowgate calibrate: %s\n", err.msg);
                return 2;
            }
        } else {
            fprintf(stderr, "flowgate calibrate: unknown or incomplete option '%s'\n", a);
            usage(stderr);
            return 2;
        }
    }
    if (!*name || strlen(name) >= 64 || strchr(name, '/')) {
        fprintf(stderr, "flowgate calibrate: --name: expected a plain name of at most 63 characters\n");
        return 2;
    }
    char default_out[512];
    snprintf(default_out, sizeof default_out, "results/profiles/%s.json", name);
    if (!out_path) out_path = default_out;

    fg_workflow wf;
    if (run_flags_load_workflow(workflow, &wf, &err) != 0) {
        fprintf(stderr, "flowgate calibrate: %s\n", err.msg);
        return 2;
    }
    const fg_calibrate_opts opts = {name, endpoints, &wf, sizes, n_sizes, reps};
    fg_calibration *k = fg_calibrate(&opts, stderr, &err);
    int rc = 2;
    if (!k) {
        fprintf(stderr, "flowgate calibrate: %s\n", err.msg);
    } else {
        print_fit(k, &wf);
        if (fg_profile_save(out_path, &k->profile, &err) != 0) {
            fprintf(stderr, "flowgate calibrate: %s\n", err.msg);
        } else {
            printf("\nwrote %s (%.0f s)%s\n", out_path, (fg_now_mono_ms() - k->started_ms) / 1000,
                   k->missing ? "; cells not measured use the fallback model" : "");
            rc = k->missing ? 1 : 0;
        }
    }
    free(k);
    fg_workflow_free(&wf);
    return rc;
}
