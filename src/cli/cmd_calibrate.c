/* cmd_calibrate.c — `flowgate calibrate`: measures exec time of every
 * function of a workflow (default the recognizer; --workflow F) on every
 * node at several input sizes and fits the `ours` scheduler's cost model
 * t = alpha * size_mb ^ eta (profile.c) per function and node, written to
 * results/profiles/<name>.json.
 *
 * The requests are those of a run (probe.c): the payload (for the image
 * kind the test image of each size) into the functions reading the inputs,
 * each later function fed the real outputs of those it reads, by reference
 * on the same node. The size of a point is the function's own input size,
 * as the scheduler counts it when it places the function. Each point is
 * the median of --reps invocations of the server's own exec_ms (queueing
 * and network excluded: the scheduler models those separately). Requests
 * are sent one at a time so a measurement never competes with another.
 * Answers marked cold_start (a worker's first use, e.g. loading the OCR
 * engine) are discarded and repeated, since the model is for warm workers,
 * and so is the first warm answer per function and node (a worker's first
 * real use still loads lazily). The server hands sequential requests to
 * the same idle worker, so that worker is the one measured. A function
 * whose input does not grow with the workflow's (its sizes span less than
 * CAL_MIN_SPAN, e.g. the recognizer's text steps, or any function of a
 * fixed JSON input) has no slope to fit: eta = 0 and alpha = the median of
 * its points (R² does not apply and is left null). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "run_flags.h"
#include "flowgate/cluster.h"
#include "flowgate/config.h"
#include "flowgate/imagegen.h"
#include "flowgate/probe.h"
#include "flowgate/sched.h"
#include "flowgate/invoke.h"
#include "flowgate/embedded.h"

#define CAL_TIMEOUT_S 120.0
#define CAL_MAX_SIZES 12
#define CAL_MAX_REPS 50
#define CAL_MIN_MB 0.05      /* the image generator's limits */
#define CAL_MAX_MB 64.0
#define CAL_MIN_SPAN 1.5     /* max/min input size below which no slope is fitted */

static void usage(FILE *out)
{
    fprintf(out,
            "usage: flowgate calibrate [--name default] [--sizes 0.1,0.5,1,2,5] [--reps 3]\n"
            "                          [--endpoints FILE] [--workflow FILE] [--out FILE]\n"
            "  Fits exec_ms = alpha * size_mb^eta per function and node and writes\n"
            "  results/profiles/<name>.json for the `ours` scheduler.\n");
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n)
{
    if (n == 0) return NAN;
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

typedef struct calib {
    const fg_cluster *c;
    const fg_workflow *wf;
    int reps;
    int node;
    double median_ms;        /* of the invocation being reported */
    double input_mb;
    /* points[f][n]: one median per size */
    double size[FG_MAX_FUNCTIONS][FG_MAX_NODES][CAL_MAX_SIZES];
    double ms[FG_MAX_FUNCTIONS][FG_MAX_NODES][CAL_MAX_SIZES];
    int n_points[FG_MAX_FUNCTIONS][FG_MAX_NODES];
    char last_error[FG_MAX_FUNCTIONS][FG_MAX_NODES][200];
    int warmed[FG_MAX_FUNCTIONS][FG_MAX_NODES];
} calib;

/* The median warm exec_ms of `reps` invocations into k->median_ms (NAN
 * when none succeeded); *r keeps the last successful answer, which the
 * later functions read. */
static void cal_invoke(void *ctx, int f, const char *body, size_t len, double input_mb,
                       fg_invoke_result *r)
{
    calib *k = ctx;
    int node = k->node;
    double samples[CAL_MAX_REPS];
    int got = 0;
    k->input_mb = input_mb;
    for (int attempt = 0; got < k->reps && attempt < k->reps * 3 + 8; attempt++) {
        fg_invoke_result one;
        fg_cluster_invoke(k->c, node, k->wf->steps[f].id, body, len, CAL_TIMEOUT_S, &one);
        if (!one.ok) {
            if (!r->ok) {
                fg_invoke_result_free(r);
                *r = one;
            } else {
                fg_invoke_result_free(&one);
            }
            if (one.http_code == 0) break;   /* unreachable: do not insist */
            continue;
        }
        /* the first warm answer is thrown away too: a fresh worker's
         * first real use (lazy model loading, caches) is slower still */
        if (!one.cold_start && !k->warmed[f][node]) k->warmed[f][node] = 1;
        else if (!one.cold_start && isfinite(one.exec_ms)) samples[got++] = one.exec_ms;
        fg_invoke_result_free(r);
        *r = one;
    }
    k->median_ms = median(samples, got);
    if (r->ok && got == 0) snprintf(r->error, sizeof r->error, "no warm answer");
}

static void cal_report(void *ctx, int f, const fg_invoke_result *r)
{
    calib *k = ctx;
    int node = k->node;
    if (!r->ok || !isfinite(k->median_ms)) {
        snprintf(k->last_error[f][node], sizeof k->last_error[f][node], "%.190s",
                 r->ok ? "no warm answer" : r->error);
        return;
    }
    int i = k->n_points[f][node]++;
    /* A text or flag input counts as a token size, as the scheduler does. */
    k->size[f][node][i] = k->input_mb > 1e-3 ? k->input_mb : 1e-3;
    k->ms[f][node][i] = k->median_ms;
    k->median_ms = NAN;
}

/* Whether the function's input sizes span enough to fit a slope. */
static int sizes_span(const double *size, int n)
{
    double lo = INFINITY, hi = 0;
    for (int i = 0; i < n; i++) {
        if (size[i] < lo) lo = size[i];
        if (size[i] > hi) hi = size[i];
    }
    return n >= 2 && hi >= CAL_MIN_SPAN * lo;
}

static void fmt_num(double v, const char *fmt, char *out, size_t size)
{
    if (isfinite(v)) snprintf(out, size, fmt, v);
    else snprintf(out, size, "n/a");
}

int cmd_calibrate(int argc, char **argv)
{
    const char *name = "default", *endpoints = NULL, *out_path = NULL, *workflow = NULL;
    double sizes[CAL_MAX_SIZES] = {0.1, 0.5, 1, 2, 5};
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
            if ((n_sizes = fg_parse_double_list(a, argv[++i], CAL_MIN_MB, CAL_MAX_MB, sizes,
                                                CAL_MAX_SIZES, &err)) < 0) {
                fprintf(stderr, "flowgate calibrate: %s\n", err.msg);
                return 2;
            }
        } else if (!strcmp(a, "--reps") && has_value) {
            if (fg_parse_int(a, argv[++i], 1, CAL_MAX_REPS, &reps, &err) != 0) {
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
    qsort(sizes, (size_t)n_sizes, sizeof sizes[0], cmp_double);
    char default_out[512];
    snprintf(default_out, sizeof default_out, "results/profiles/%s.json", name);
    if (!out_path) out_path = default_out;

    fg_workflow wf;
    if (run_flags_load_workflow(workflow, &wf, &err) != 0) {
        fprintf(stderr, "flowgate calibrate: %s\n", err.msg);
        return 2;
    }
    if (wf.n_steps > FG_MAX_FUNCTIONS) {
        fprintf(stderr, "flowgate calibrate: %s: %d functions, a profile holds at most %d\n",
                wf.path, wf.n_steps, FG_MAX_FUNCTIONS);
        fg_workflow_free(&wf);
        return 2;
    }
    /* A fixed input (JSON, a file) has no size axis: one pass. */
    int image = wf.payload.kind == FG_PAYLOAD_IMAGE;
    if (!image) n_sizes = 1;
    char images_dir[1024];
    snprintf(images_dir, sizeof images_dir, "%s/images", fg_data_dir());
    if (image && fg_mkdirs(images_dir, &err) != 0) {
        fprintf(stderr, "flowgate calibrate: %s\n", err.msg);
        fg_workflow_free(&wf);
        return 2;
    }
    fg_cluster c;
    if (fg_cluster_resolve(endpoints, NULL, 30.0, &c, &err) != 0) {
        fprintf(stderr, "flowgate calibrate: %s\n", err.msg);
        fg_workflow_free(&wf);
        return 2;
    }
    calib *k = calloc(1, sizeof *k);
    if (!k) {
        fg_cluster_stop(&c);
        fg_workflow_free(&wf);
        fprintf(stderr, "flowgate calibrate: out of memory\n");
        return 2;
    }
    k->c = &c;
    k->wf = &wf;
    k->reps = reps;
    const fg_probe_ops ops = {cal_invoke, cal_report};

    double t0 = fg_now_mono_ms();
    int rc = 0;
    for (int s = 0; s < n_sizes && rc == 0; s++) {
        char png_path[1200];
        int created;
        if (image && fg_imagegen_ensure(images_dir, sizes[s], FG_VARIANT_CLEAN, png_path,
                                        sizeof png_path, &created, &err) != 0) {
            fprintf(stderr, "flowgate calibrate: test image: %s\n", err.msg);
            rc = 2;
            break;
        }
        /* By reference in node mode: the blobs stay on the node measured. */
        fg_payload pl;
        if (fg_payload_load(&wf, image ? png_path : NULL, c.mode != FG_CLUSTER_NODES, &pl,
                            &err) != 0) {
            fprintf(stderr, "flowgate calibrate: %s\n", err.msg);
            rc = 2;
            break;
        }
        fprintf(stderr, "calibrate: %.2f MB %s input on %d node(s), %d rep(s) each (%.0f s so far)\n",
                pl.mb, fg_payload_kind_name(pl.kind), c.n_nodes, reps, (fg_now_mono_ms() - t0) / 1000);
        for (int n = 0; n < c.n_nodes && n < FG_MAX_NODES && rc == 0; n++) {
            k->node = n;
            if (fg_probe_run(&wf, &pl, &ops, k, &err) < 0) {
                fprintf(stderr, "flowgate calibrate: %s\n", err.msg);
                rc = 2;
            }
        }
        fg_payload_free(&pl);
    }

    fg_profile *p = calloc(1, sizeof *p);
    int missing = 0;
    if (rc == 0 && p) {
        snprintf(p->name, sizeof p->name, "%s", name);
        p->calibrated = 1;
        p->n_nodes = c.n_nodes < FG_MAX_NODES ? c.n_nodes : FG_MAX_NODES;
        for (int n = 0; n < p->n_nodes; n++) snprintf(p->nodes[n], sizeof p->nodes[n], "%s", c.nodes[n].name);
        p->n_functions = wf.n_steps;
        printf("%-24s %-10s %10s %8s %7s %6s  %s\n", "function", "node", "alpha_ms", "eta", "R2", "points",
               "median exec_ms per size");
        for (int f = 0; f < wf.n_steps; f++) {
            snprintf(p->functions[f], sizeof p->functions[f], "%s", wf.steps[f].id);
            for (int n = 0; n < p->n_nodes; n++) {
                int np = k->n_points[f][n];
                double alpha = NAN, eta = NAN, r2 = NAN;
                if (np > 0 && !sizes_span(k->size[f][n], np)) {
                    double copy[CAL_MAX_SIZES];   /* median sorts; the points print in size order */
                    memcpy(copy, k->ms[f][n], sizeof copy[0] * (size_t)np);
                    alpha = median(copy, np);
                    eta = 0;
                } else if (np > 0) {
                    r2 = fg_fit_power_law(k->size[f][n], k->ms[f][n], np, &alpha, &eta);
                }
                p->alpha[f][n] = alpha;
                p->eta[f][n] = eta;
                p->r2[f][n] = r2;
                char a[32], e[32], r[32], pts[400] = "";
                fmt_num(alpha, "%.4g", a, sizeof a);
                fmt_num(eta, "%.3f", e, sizeof e);
                fmt_num(r2, "%.4f", r, sizeof r);
                size_t used = 0;
                for (int i = 0; i < np && used < sizeof pts - 40; i++)
                    used += (size_t)snprintf(pts + used, sizeof pts - used, "%s%.2fMB:%.4g", i ? " " : "",
                                             k->size[f][n][i], k->ms[f][n][i]);
                if (np == 0) {
                    missing++;
                    snprintf(pts, sizeof pts, "not measured: %s",
                             k->last_error[f][n][0] ? k->last_error[f][n] : "no warm answer");
                }
                printf("%-24s %-10s %10s %8s %7s %6d  %s\n", wf.steps[f].id, c.nodes[n].name, a, e, r, np, pts);
            }
        }
        if (fg_profile_save(out_path, p, &err) != 0) {
            fprintf(stderr, "flowgate calibrate: %s\n", err.msg);
            rc = 2;
        } else {
            printf("\nwrote %s (%.0f s)%s\n", out_path, (fg_now_mono_ms() - t0) / 1000,
                   missing ? "; cells not measured use the fallback model" : "");
        }
    } else if (!p) {
        fprintf(stderr, "flowgate calibrate: out of memory\n");
        rc = 2;
    }
    free(p);
    free(k);
    fg_cluster_stop(&c);
    fg_workflow_free(&wf);
    if (rc) return rc;
    return missing ? 1 : 0;
}
