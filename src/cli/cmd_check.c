/* cmd_check.c — `flowgate check`: invoke each function of a workflow
 * (default the recognizer; --workflow F) once on each node with realistic
 * input and print what happened, the by-hand smoke test of a cluster.
 *
 * The requests are those of a run (probe.c): the workflow's payload (for
 * the image kind a test image of --size MB) into the functions reading the
 * inputs, then each function fed the real outputs of those it reads, blob
 * outputs by reference in node mode (each node keeps its own blobs) and
 * inline in function mode (the containers keep none). Every branch of
 * every switch is taken, so every function runs; one whose input's
 * producer failed is listed as not run, naming it.
 * Exit: 0 all work, 1 some fail, 2 setup error (one line). */
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
#include "flowgate/invoke.h"
#include "flowgate/embedded.h"

#define CHECK_TIMEOUT_S 120.0
#define CHECK_SETUP_DEADLINE_S 10.0   /* endpoints healthy / embedded server up */
#define CHECK_MIN_MB 0.05   /* the image generator's limits */
#define CHECK_MAX_MB 64.0

static void usage(FILE *out)
{
    fprintf(out,
            "usage: flowgate check [--endpoints FILE] [--workflow FILE] [--working] [--size MB]\n"
            "  Invokes each function of the workflow once on each node and prints status,\n"
            "  HTTP code, round-trip time and the server's exec time.\n"
            "  --endpoints FILE  the cluster (default $FLOWGATE_ENDPOINTS, else the\n"
            "                    embedded server with data/nodes.json)\n"
            "  --workflow FILE   the workflow (default data/workflows/recognizer.json)\n"
            "  --working         list only the functions that work on every node\n"
            "  --size MB         input image size (default $DEFAULT_INPUT_SIZE or 0.1)\n");
}

static void fmt_ms(double ms, char *out, size_t size)
{
    /* sub-millisecond figures keep their digits rather than read as 0.0 */
    if (isfinite(ms)) snprintf(out, size, ms < 1 ? "%.3f" : "%.1f", ms);
    else snprintf(out, size, "n/a");
}

typedef struct check_ctx {
    const fg_cluster *c;
    const fg_workflow *wf;
    int node;
    int working_only;
    int works_everywhere[FG_WF_MAX_STEPS];
    int total, ok;
} check_ctx;

static void check_invoke(void *ctx, int step, const char *body, size_t len, double input_mb,
                         fg_invoke_result *r)
{
    (void)input_mb;
    check_ctx *k = ctx;
    const char *name = k->wf->steps[step].id;
    char url[512];
    if (k->c->mode == FG_CLUSTER_FUNCTIONS &&
        fg_cluster_invoke_url(k->c, k->node, name, url, sizeof url) != 0) {
        snprintf(r->error, sizeof r->error, "no URL in the endpoints file");
        return;
    }
    fg_cluster_invoke(k->c, k->node, name, body, len, CHECK_TIMEOUT_S, r);
}

static void check_report(void *ctx, int step, const fg_invoke_result *r)
{
    check_ctx *k = ctx;
    k->total++;
    k->ok += r->ok;
    if (!r->ok) k->works_everywhere[step] = 0;
    if (k->working_only) return;
    char rtt[32], exec[32], http[16];
    fmt_ms(r->rtt_ms, rtt, sizeof rtt);
    fmt_ms(r->exec_ms, exec, sizeof exec);
    if (r->http_code) snprintf(http, sizeof http, "%ld", r->http_code);
    else snprintf(http, sizeof http, "-");
    printf("%-24s %-10s %-6s %5s %10s %10s  %s\n", k->wf->steps[step].id, k->c->nodes[k->node].name,
           r->ok ? "ok" : "FAIL", http, rtt, exec, r->ok ? "" : r->error);
    fflush(stdout);
}

int cmd_check(int argc, char **argv)
{
    const char *endpoints = NULL, *workflow = NULL;
    int working_only = 0;
    fg_err err = {{0}};
    double size_mb = 0.1;
    const char *env_size = getenv("DEFAULT_INPUT_SIZE");
    if (env_size && *env_size &&
        fg_parse_double("DEFAULT_INPUT_SIZE (MB)", env_size, CHECK_MIN_MB, CHECK_MAX_MB, &size_mb, &err)) {
        fprintf(stderr, "flowgate check: %s\n", err.msg);
        return 2;
    }
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(argv[i], "--endpoints") && i + 1 < argc) {
            endpoints = argv[++i];
        } else if (!strcmp(argv[i], "--workflow") && i + 1 < argc) {
            workflow = argv[++i];
        } else if (!strcmp(argv[i], "--working")) {
            working_only = 1;
        } else if (!strcmp(argv[i], "--size") && i + 1 < argc) {
            if (fg_parse_double("--size (MB)", argv[++i], CHECK_MIN_MB, CHECK_MAX_MB, &size_mb, &err)) {
                fprintf(stderr, "flowgate check: %s\n", err.msg);
                return 2;
            }
        } else {
            fprintf(stderr, "flowgate check: unknown or incomplete option '%s'\n", argv[i]);
            usage(stderr);
            return 2;
        }
    }

    fg_workflow wf;
    if (run_flags_load_workflow(workflow, &wf, &err) != 0) {
        fprintf(stderr, "flowgate check: %s\n", err.msg);
        return 2;
    }
    char images_dir[1024], png_path[1200] = "";
    snprintf(images_dir, sizeof images_dir, "%s/images", fg_data_dir());
    int created = 0, image = wf.payload.kind == FG_PAYLOAD_IMAGE;
    if (image && (fg_mkdirs(images_dir, &err) != 0 ||
                  fg_imagegen_ensure(images_dir, size_mb, FG_VARIANT_CLEAN, png_path,
                                     sizeof png_path, &created, &err) != 0)) {
        fprintf(stderr, "flowgate check: test image: %s\n", err.msg);
        fg_workflow_free(&wf);
        return 2;
    }
    fg_cluster c;
    if (fg_cluster_resolve(endpoints, NULL, CHECK_SETUP_DEADLINE_S, &c, &err) != 0) {
        fprintf(stderr, "flowgate check: %s\n", err.msg);
        fg_workflow_free(&wf);
        return 2;
    }
    /* Node mode passes blobs by reference on the node itself; function
     * endpoints keep none, so everything travels inline. */
    fg_payload p;
    if (fg_payload_load(&wf, image ? png_path : NULL, c.mode != FG_CLUSTER_NODES, &p, &err) != 0) {
        fprintf(stderr, "flowgate check: %s\n", err.msg);
        fg_cluster_stop(&c);
        fg_workflow_free(&wf);
        return 2;
    }
    const char *source = c.server_pid > 0 ? "embedded server" : "endpoints file";
    if (!working_only) {
        if (c.mode == FG_CLUSTER_NODES)
            printf("flowgate check: %d nodes (%s), ", c.n_nodes, source);
        else
            printf("flowgate check: %d function endpoints (%s), ", c.n_functions, source);
        if (image)
            printf("workflow %s, input %.2f MB (%s%s)\n\n", wf.name, p.mb, png_path,
                   created ? ", created" : "");
        else
            printf("workflow %s, input %zu bytes (%s)\n\n", wf.name, p.input_len,
                   fg_payload_kind_name(p.kind));
        printf("%-24s %-10s %-6s %5s %10s %10s  %s\n", "function", "node", "status", "http", "rtt_ms",
               "exec_ms", "error");
    }

    check_ctx k = {.c = &c, .wf = &wf, .working_only = working_only};
    for (int f = 0; f < wf.n_steps; f++) k.works_everywhere[f] = 1;
    const fg_probe_ops ops = {check_invoke, check_report};
    int rc = 0;
    for (int n = 0; n < c.n_nodes && rc == 0; n++) {
        k.node = n;
        if (fg_probe_run(&wf, &p, &ops, &k, &err) < 0) {
            fprintf(stderr, "flowgate check: %s\n", err.msg);
            rc = 2;
        }
    }
    fg_payload_free(&p);
    fg_cluster_stop(&c);

    if (rc == 0 && working_only) {
        for (int f = 0; f < wf.n_steps; f++)
            if (k.works_everywhere[f]) printf("%s\n", wf.steps[f].id);
    } else if (rc == 0) {
        printf("\n%d/%d invocations succeeded%s\n", k.ok, k.total,
               k.ok == k.total ? "; every function works on every node." : ".");
    }
    fg_workflow_free(&wf);
    return rc ? rc : k.ok == k.total ? 0 : 1;
}
