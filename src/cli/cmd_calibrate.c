/* cmd_calibrate.c — `flowgate calibrate`: measures exec time of every
 * function on every node at several input sizes and fits the `ours`
 * scheduler's cost model t = alpha * size_mb ^ eta (profile.c) per function
 * and node, written to results/profiles/<name>.json.
 *
 * Each point is the median of --reps invocations of the server's own
 * exec_ms (queueing and network excluded: the scheduler models those
 * separately). Requests are sent one at a time so a measurement never
 * competes with another. Answers marked cold_start (a worker's first use,
 * e.g. loading the OCR engine) are discarded and repeated, since the model
 * is for warm workers, and so is the first warm answer per function and
 * node (a worker's first real use still loads lazily). The server hands
 * sequential requests to the same idle worker, so that worker is the one
 * measured. The image functions read upload's stored image by
 * reference on the same node, as in a run. translate and censor work on the
 * image's text, whose length does not grow with the image, so they are
 * measured once at the first size and get eta = 0 (alpha = their median;
 * R² does not apply and is left null). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "flowgate/b64.h"
#include "flowgate/cluster.h"
#include "flowgate/config.h"
#include "flowgate/imagegen.h"
#include "flowgate/sched.h"

#define CAL_TIMEOUT_S 120.0
#define CAL_MAX_SIZES 12
#define CAL_MAX_REPS 50
#define CAL_MIN_MB 0.05      /* the image generator's limits */
#define CAL_MAX_MB 64.0
#define N_CAL_FUNCTIONS 7

static const char *const cal_functions[N_CAL_FUNCTIONS] = {
    "recognizer__upload", "recognizer__adult", "recognizer__violence", "recognizer__extract",
    "recognizer__translate", "recognizer__censor", "recognizer__mosaic",
};

static int is_text_function(const char *fn)
{
    return !strcmp(fn, "recognizer__translate") || !strcmp(fn, "recognizer__censor");
}

static void usage(FILE *out)
{
    fprintf(out,
            "usage: flowgate calibrate [--name default] [--sizes 0.1,0.5,1,2,5] [--reps 3]\n"
            "                          [--endpoints FILE] [--out FILE]\n"
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
    int reps;
    const char *banner;
    /* points[f][n]: one median per size */
    double size[N_CAL_FUNCTIONS][FG_MAX_NODES][CAL_MAX_SIZES];
    double ms[N_CAL_FUNCTIONS][FG_MAX_NODES][CAL_MAX_SIZES];
    int n_points[N_CAL_FUNCTIONS][FG_MAX_NODES];
    char last_error[N_CAL_FUNCTIONS][FG_MAX_NODES][200];
    int warmed[N_CAL_FUNCTIONS][FG_MAX_NODES];
} calib;

/* Median warm exec_ms of `reps` invocations; NAN when none succeeded.
 * *keep receives the last successful response (upload's ref) if asked. */
static double measure(calib *k, int f, int node, const char *body, size_t len, cJSON **keep)
{
    double samples[CAL_MAX_REPS];
    int got = 0;
    for (int attempt = 0; got < k->reps && attempt < k->reps * 3 + 8; attempt++) {
        fg_invoke_result r;
        fg_cluster_invoke(k->c, node, cal_functions[f], body, len, CAL_TIMEOUT_S, &r);
        if (!r.ok) {
            snprintf(k->last_error[f][node], sizeof k->last_error[f][node], "%.190s", r.error);
            fg_invoke_result_free(&r);
            if (r.http_code == 0) break;   /* unreachable: do not insist */
            continue;
        }
        if (keep) {
            cJSON_Delete(*keep);
            *keep = r.response;
            r.response = NULL;
        }
        /* the first warm answer is thrown away too: a fresh worker's
         * first real use (lazy model loading, caches) is slower still */
        if (!r.cold_start && !k->warmed[f][node]) k->warmed[f][node] = 1;
        else if (!r.cold_start && isfinite(r.exec_ms)) samples[got++] = r.exec_ms;
        fg_invoke_result_free(&r);
    }
    return median(samples, got);
}

static void add_point(calib *k, int f, int node, double size_mb, double ms)
{
    if (!isfinite(ms)) return;
    int i = k->n_points[f][node]++;
    k->size[f][node][i] = size_mb;
    k->ms[f][node][i] = ms;
}

static char *body_of(cJSON *body, size_t *len)
{
    char *text = cJSON_PrintUnformatted(body);
    cJSON_Delete(body);
    *len = text ? strlen(text) : 0;
    return text;
}

/* All functions on one node at one size. */
static void measure_node(calib *k, int node, double size_mb, const char *img_b64, int text_too)
{
    int nodes_mode = k->c->mode == FG_CLUSTER_NODES;
    size_t len;
    cJSON *b = cJSON_CreateObject();
    cJSON_AddItemToObject(b, "img_b64", cJSON_CreateStringReference(img_b64));
    cJSON_AddBoolToObject(b, "by_ref", nodes_mode);
    char *body = body_of(b, &len);
    cJSON *upload = NULL;
    if (body) add_point(k, 0, node, size_mb, measure(k, 0, node, body, len, &upload));
    free(body);

    const cJSON *ref = cJSON_GetObjectItemCaseSensitive(upload, "ref");
    const cJSON *clean = cJSON_GetObjectItemCaseSensitive(upload, "img_clean_b64");
    for (int f = 1; f < N_CAL_FUNCTIONS; f++) {
        const char *fn = cal_functions[f];
        if (is_text_function(fn) && !text_too) continue;
        b = cJSON_CreateObject();
        if (!strcmp(fn, "recognizer__translate")) {
            cJSON_AddStringToObject(b, "text", k->banner);
            cJSON_AddStringToObject(b, "target_lang", "en");
        } else if (!strcmp(fn, "recognizer__censor")) {
            cJSON_AddStringToObject(b, "text", k->banner);
        } else if (nodes_mode && cJSON_IsObject(ref)) {
            cJSON_AddItemToObject(b, "input_ref", cJSON_Duplicate(ref, 1));
            if (!strcmp(fn, "recognizer__mosaic")) cJSON_AddBoolToObject(b, "by_ref", 1);
        } else {
            const char *img = cJSON_IsString(clean) ? clean->valuestring : img_b64;
            cJSON_AddItemToObject(b, "img_b64", cJSON_CreateStringReference(img));
        }
        body = body_of(b, &len);
        if (body) add_point(k, f, node, size_mb, measure(k, f, node, body, len, NULL));
        free(body);
    }
    cJSON_Delete(upload);
}

static void fmt_num(double v, const char *fmt, char *out, size_t size)
{
    if (isfinite(v)) snprintf(out, size, fmt, v);
    else snprintf(out, size, "n/a");
}

int cmd_calibrate(int argc, char **argv)
{
    const char *name = "default", *endpoints = NULL, *out_path = NULL;
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

    char images_dir[1024];
    snprintf(images_dir, sizeof images_dir, "%s/images", fg_data_dir());
    if (fg_mkdirs(images_dir, &err) != 0) {
        fprintf(stderr, "flowgate calibrate: %s\n", err.msg);
        return 2;
    }
    fg_cluster c;
    if (fg_cluster_resolve(endpoints, NULL, 30.0, &c, &err) != 0) {
        fprintf(stderr, "flowgate calibrate: %s\n", err.msg);
        return 2;
    }
    calib *k = calloc(1, sizeof *k);
    if (!k) {
        fg_cluster_stop(&c);
        fprintf(stderr, "flowgate calibrate: out of memory\n");
        return 2;
    }
    k->c = &c;
    k->reps = reps;
    k->banner = fg_variant_banner(FG_VARIANT_CLEAN);

    double t0 = fg_now_mono_ms();
    int rc = 0;
    for (int s = 0; s < n_sizes && rc == 0; s++) {
        char png_path[1200];
        int created;
        fg_buf png = {0};
        if (fg_imagegen_ensure(images_dir, sizes[s], FG_VARIANT_CLEAN, png_path, sizeof png_path, &created, &err) != 0 ||
            fg_read_file(png_path, 0, &png, &err) != 0) {
            fprintf(stderr, "flowgate calibrate: test image: %s\n", err.msg);
            rc = 2;
            break;
        }
        /* The model's size is the actual image size, not the nominal one. */
        double mb = png.len / FG_MB;
        size_t b64_len;
        char *img_b64 = fg_b64_encode(png.data, png.len, &b64_len);
        fg_buf_free(&png);
        if (!img_b64) {
            fprintf(stderr, "flowgate calibrate: out of memory\n");
            rc = 2;
            break;
        }
        fprintf(stderr, "calibrate: %.2f MB image on %d node(s), %d rep(s) each (%.0f s so far)\n", mb,
                c.n_nodes, reps, (fg_now_mono_ms() - t0) / 1000);
        for (int n = 0; n < c.n_nodes && n < FG_MAX_NODES; n++) measure_node(k, n, mb, img_b64, s == 0);
        free(img_b64);
    }

    fg_profile *p = calloc(1, sizeof *p);
    int missing = 0;
    if (rc == 0 && p) {
        snprintf(p->name, sizeof p->name, "%s", name);
        p->calibrated = 1;
        p->n_nodes = c.n_nodes < FG_MAX_NODES ? c.n_nodes : FG_MAX_NODES;
        for (int n = 0; n < p->n_nodes; n++) snprintf(p->nodes[n], sizeof p->nodes[n], "%s", c.nodes[n].name);
        p->n_functions = N_CAL_FUNCTIONS;
        printf("%-24s %-10s %10s %8s %7s %6s  %s\n", "function", "node", "alpha_ms", "eta", "R2", "points",
               "median exec_ms per size");
        for (int f = 0; f < N_CAL_FUNCTIONS; f++) {
            snprintf(p->functions[f], sizeof p->functions[f], "%s", cal_functions[f]);
            for (int n = 0; n < p->n_nodes; n++) {
                int np = k->n_points[f][n];
                double alpha = NAN, eta = NAN, r2 = NAN;
                if (is_text_function(cal_functions[f]) && np > 0) {
                    alpha = k->ms[f][n][0];
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
                printf("%-24s %-10s %10s %8s %7s %6d  %s\n", cal_functions[f], c.nodes[n].name, a, e, r, np, pts);
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
    if (rc) return rc;
    return missing ? 1 : 0;
}
