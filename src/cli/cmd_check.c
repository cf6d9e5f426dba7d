/* cmd_check.c — `flowgate check`: flags, then fg_check (check.h: every
 * step of the workflow, default the recognizer, once on each node with
 * realistic input), one line per answer as it comes.
 * Exit: 0 all work, 1 some fail, 2 setup error (one line). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "run_flags.h"
#include "flowgate/check.h"

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

typedef struct check_print { int working_only; } check_print;

static void print_begin(void *ctx, const fg_check_target *t)
{
    const check_print *k = ctx;
    if (k->working_only) return;
    const fg_cluster *c = t->c;
    const char *source = c->server_pid > 0 ? "embedded server" : "endpoints file";
    if (c->mode == FG_CLUSTER_NODES)
        printf("flowgate check: %d nodes (%s), ", c->n_nodes, source);
    else
        printf("flowgate check: %d function endpoints (%s), ", c->n_functions, source);
    if (t->image_path[0])
        printf("workflow %s, input %.2f MB (%s%s)\n\n", t->wf->name, t->p->mb, t->image_path,
               t->image_created ? ", created" : "");
    else
        printf("workflow %s, input %zu bytes (%s)\n\n", t->wf->name, t->p->input_len,
               fg_payload_kind_name(t->p->kind));
    printf("%-24s %-10s %-6s %5s %10s %10s  %s\n", "function", "node", "status", "http", "rtt_ms",
           "exec_ms", "error");
}

static void print_result(void *ctx, const fg_check_target *t, int node, int step,
                         const fg_invoke_result *r)
{
    const check_print *k = ctx;
    if (k->working_only) return;
    char rtt[32], exec[32], http[16];
    fmt_ms(r->rtt_ms, rtt, sizeof rtt);
    fmt_ms(r->exec_ms, exec, sizeof exec);
    if (r->http_code) snprintf(http, sizeof http, "%ld", r->http_code);
    else snprintf(http, sizeof http, "-");
    printf("%-24s %-10s %-6s %5s %10s %10s  %s\n", t->wf->steps[step].id,
           t->c->nodes[node].name, r->ok ? "ok" : "FAIL", http, rtt, exec, r->ok ? "" : r->error);
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
        fg_parse_double("DEFAULT_INPUT_SIZE (MB)", env_size, FG_CHECK_MIN_MB, FG_CHECK_MAX_MB, &size_mb, &err)) {
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
            if (fg_parse_double("--size (MB)", argv[++i], FG_CHECK_MIN_MB, FG_CHECK_MAX_MB, &size_mb, &err)) {
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
    check_print k = {working_only};
    const fg_check_opts opts = {endpoints, &wf, size_mb};
    const fg_check_ops ops = {print_begin, print_result};
    fg_check_tally tally;
    int rc = fg_check(&opts, &ops, &k, &tally, &err) == 0 ? 0 : 2;
    if (rc) fprintf(stderr, "flowgate check: %s\n", err.msg);
    if (rc == 0 && working_only) {
        for (int s = 0; s < wf.n_steps; s++)
            if (tally.works_everywhere[s]) printf("%s\n", wf.steps[s].id);
    } else if (rc == 0) {
        printf("\n%d/%d invocations succeeded%s\n", tally.ok, tally.total,
               tally.ok == tally.total ? "; every function works on every node." : ".");
    }
    fg_workflow_free(&wf);
    return rc ? rc : tally.ok == tally.total ? 0 : 1;
}
