/* calibrate.c — the cost model's measurement and fit (design in
 * calibrate.h). The probe (probe.c) walks the workflow; its invoke hook
 * repeats each call until `reps` warm answers, its report hook keeps the
 * median as one point. Points are kept per function and node, so the
 * caller can show what each fit rests on. */
#include "flowgate/calibrate.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "flowgate/imagegen.h"
#include "flowgate/payload.h"
#include "flowgate/probe.h"
#include "flowgate/invoke.h"
#include "flowgate/embedded.h"

#define CAL_TIMEOUT_S 120.0
#define CAL_MIN_SPAN 1.5     /* max/min input size below which no slope is fitted */

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
    int warmed[FG_MAX_FUNCTIONS][FG_MAX_NODES];
    fg_calibration *out;     /* the points */
} calib;

/* The median warm exec_ms of `reps` invocations into k->median_ms (NAN
 * when none succeeded); *r keeps the last successful answer, which the
 * later functions read. */
static void cal_invoke(void *ctx, int f, const char *body, size_t len, double input_mb,
                       fg_invoke_result *r)
{
    calib *k = ctx;
    int node = k->node;
    double samples[FG_CALIBRATE_MAX_REPS];
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
    fg_calibration *o = k->out;
    int node = k->node;
    if (!r->ok || !isfinite(k->median_ms)) {
        snprintf(o->error[f][node], sizeof o->error[f][node], "%.190s",
                 r->ok ? "no warm answer" : r->error);
        return;
    }
    int i = o->n_points[f][node]++;
    /* A text or flag input counts as a token size, as the scheduler does. */
    o->size_mb[f][node][i] = k->input_mb > 1e-3 ? k->input_mb : 1e-3;
    o->exec_ms[f][node][i] = k->median_ms;
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

/* Every point: each size's payload through the probe on every node. */
static int measure(calib *k, const char *images_dir, const double *sizes, int n_sizes, int image,
                   FILE *progress, fg_err *err)
{
    const fg_cluster *c = k->c;
    const fg_probe_ops ops = {cal_invoke, cal_report};
    for (int s = 0; s < n_sizes; s++) {
        char png_path[1200];
        int created;
        if (image && fg_imagegen_ensure(images_dir, sizes[s], FG_VARIANT_CLEAN, png_path,
                                        sizeof png_path, &created, err) != 0) {
            char inner[sizeof err->msg];
            snprintf(inner, sizeof inner, "%s", err->msg);
            return fg_err_set(err, "test image: %s", inner);
        }
        /* By reference in node mode: the blobs stay on the node measured. */
        fg_payload pl;
        if (fg_payload_load(k->wf, image ? png_path : NULL, c->mode != FG_CLUSTER_NODES, &pl,
                            err) != 0)
            return -1;
        if (progress)
            fprintf(progress, "calibrate: %.2f MB %s input on %d node(s), %d rep(s) each "
                    "(%.0f s so far)\n", pl.mb, fg_payload_kind_name(pl.kind), c->n_nodes,
                    k->reps, (fg_now_mono_ms() - k->out->started_ms) / 1000);
        int rc = 0;
        for (int n = 0; n < c->n_nodes && n < FG_MAX_NODES && rc == 0; n++) {
            k->node = n;
            if (fg_probe_run(k->wf, &pl, &ops, k, err) < 0) rc = -1;
        }
        fg_payload_free(&pl);
        if (rc != 0) return -1;
    }
    return 0;
}

/* alpha, eta, R² of every function and node from its points. */
static void fit(fg_calibration *o, const char *name, const fg_cluster *c, const fg_workflow *wf)
{
    fg_profile *p = &o->profile;
    snprintf(p->name, sizeof p->name, "%s", name);
    p->calibrated = 1;
    p->n_nodes = c->n_nodes < FG_MAX_NODES ? c->n_nodes : FG_MAX_NODES;
    for (int n = 0; n < p->n_nodes; n++) snprintf(p->nodes[n], sizeof p->nodes[n], "%s", c->nodes[n].name);
    p->n_functions = wf->n_steps;
    for (int f = 0; f < wf->n_steps; f++) {
        snprintf(p->functions[f], sizeof p->functions[f], "%s", wf->steps[f].id);
        for (int n = 0; n < p->n_nodes; n++) {
            int np = o->n_points[f][n];
            double alpha = NAN, eta = NAN, r2 = NAN;
            if (np > 0 && !sizes_span(o->size_mb[f][n], np)) {
                double copy[FG_CALIBRATE_MAX_SIZES];   /* median sorts; the points stay in size order */
                memcpy(copy, o->exec_ms[f][n], sizeof copy[0] * (size_t)np);
                alpha = median(copy, np);
                eta = 0;
            } else if (np > 0) {
                r2 = fg_fit_power_law(o->size_mb[f][n], o->exec_ms[f][n], np, &alpha, &eta);
            }
            p->alpha[f][n] = alpha;
            p->eta[f][n] = eta;
            p->r2[f][n] = r2;
            if (np == 0) {
                o->missing++;
                if (!o->error[f][n][0])
                    snprintf(o->error[f][n], sizeof o->error[f][n], "no warm answer");
            }
        }
    }
}

fg_calibration *fg_calibrate(const fg_calibrate_opts *o, FILE *progress, fg_err *err)
{
    const fg_workflow *wf = o->wf;
    if (wf->n_steps > FG_MAX_FUNCTIONS) {
        fg_err_set(err, "%s: %d functions, a profile holds at most %d", wf->path, wf->n_steps,
                   FG_MAX_FUNCTIONS);
        return NULL;
    }
    double sizes[FG_CALIBRATE_MAX_SIZES];
    int n_sizes = o->n_sizes < FG_CALIBRATE_MAX_SIZES ? o->n_sizes : FG_CALIBRATE_MAX_SIZES;
    memcpy(sizes, o->sizes_mb, sizeof sizes[0] * (size_t)n_sizes);
    qsort(sizes, (size_t)n_sizes, sizeof sizes[0], cmp_double);
    /* A fixed input (JSON, a file) has no size axis: one pass. */
    int image = wf->payload.kind == FG_PAYLOAD_IMAGE;
    if (!image) n_sizes = 1;
    char images_dir[1024];
    snprintf(images_dir, sizeof images_dir, "%s/images", fg_data_dir());
    if (image && fg_mkdirs(images_dir, err) != 0) return NULL;
    fg_cluster c;
    if (fg_cluster_resolve(o->endpoints, NULL, 30.0, &c, err) != 0) return NULL;
    fg_calibration *out = calloc(1, sizeof *out);
    int rc = -1;
    if (!out) {
        fg_err_set(err, "out of memory");
    } else {
        calib k = {.c = &c, .wf = wf, .reps = o->reps, .out = out};
        out->started_ms = fg_now_mono_ms();
        rc = measure(&k, images_dir, sizes, n_sizes, image, progress, err);
        if (rc == 0) fit(out, o->name, &c, wf);
    }
    fg_cluster_stop(&c);
    if (rc != 0) {
        free(out);
        return NULL;
    }
    return out;
}
