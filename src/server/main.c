/* main.c — `flowgate-functions`: argument parsing around the server
 * library. Node mode (--nodes FILE, the default with <data>/nodes.json) or
 * container mode (--function NAME --port P), or one node of a nodes file
 * (--node NAME [--port P] --peer OTHER=URL ..., one node per container,
 * the others reached by URL); --slowdown F slows every
 * function by a known factor (slowdown.h); --bandwidth-mbit/--latency-ms
 * set every node's link (node.c); --reference-errors makes a
 * container answer handled errors the reference's way (HTTP 200 +
 * "status":"error"). SIGINT/SIGTERM stop it
 * cleanly; bad arguments give one line and exit code 2. A driver that
 * starts the server passes --parent-pid so the kernel stops the server
 * when the driver dies, whatever killed it (PR_SET_PDEATHSIG). */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "flowgate/limits.h"
#include "flowgate/parse.h"
#include "flowgate/server.h"
#include "slowdown.h"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: flowgate-functions [--nodes FILE [--node NAME [--port P] --peer N=URL...]\n"
            "                           | --function NAME --port P]\n"
            "                          [--bind ADDR] [--data DIR] [--endpoints-out FILE]\n"
            "                          [--slowdown F] [--reference-errors]\n"
            "                          [--bandwidth-mbit X] [--latency-ms Y]\n"
            "  --nodes FILE          nodes file (default <data>/nodes.json)\n"
            "  --node NAME           serve only node NAME of the nodes file (one node per\n"
            "                        container); --port P overrides its port\n"
            "  --peer NAME=URL       with --node: where another node of the file answers\n"
            "                        (its blobs are fetched from URL/blob/KEY); one per node\n"
            "  --function NAME       container mode: serve one function, e.g. recognizer__adult\n"
            "  --port P              container mode port (0 = ephemeral)\n"
            "  --bind ADDR           IPv4 address to listen on (default 127.0.0.1)\n"
            "  --data DIR            data directory (dictionary, censor list)\n"
            "  --endpoints-out FILE  write the endpoints JSON once listening\n"
            "  --slowdown F          every function takes ~F x its real exec time (F >= 1):\n"
            "                        after the work it burns CPU for (F-1) x that time;\n"
            "                        overrides the nodes file's \"slowdown\" (known-effect knob)\n"
            "  --bandwidth-mbit X    node mode: every node's egress link, X Mbit/s shared by its\n"
            "                        concurrent responses (0: no cap); overrides the nodes file\n"
            "  --latency-ms Y        node mode: Y ms added to every response; overrides the file\n"
            "  --parent-pid PID      stop when process PID (the driver that started us) exits\n"
            "  --reference-errors    container mode: answer a handled error (bad input, bad\n"
            "                        image) HTTP 200 with \"status\":\"error\", as the reference\n"
            "                        containers do; a body that is not a JSON object gets 422,\n"
            "                        an internal error 500. Default: 400/404/413/500\n"
            "Container mode also takes the reference's input names (upload \"data\",\n"
            "extract/mosaic \"img_clean\", censor \"translated_text\") and sends\n"
            "server_timestamps in unix seconds like the reference (node mode: unix ms).\n");
}

static int bad(const char *fmt, const char *arg)
{
    fprintf(stderr, "flowgate-functions: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, " (--help for usage)\n");
    return 2;
}

int main(int argc, char **argv)
{
    fg_server_opts o = {.node_port = -1};
    int have_port = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            return 0;
        }
        if (strncmp(a, "--", 2) != 0) return bad("unexpected argument '%s'", a);
        if (!strcmp(a, "--reference-errors")) {   /* the one flag without a value */
            o.reference_errors = 1;
            continue;
        }
        if (i + 1 >= argc) return bad("%s needs a value", a);
        const char *v = argv[++i];
        if (!strcmp(a, "--nodes")) o.nodes_path = v;
        else if (!strcmp(a, "--function")) o.function = v;
        else if (!strcmp(a, "--node")) o.node = v;
        else if (!strcmp(a, "--peer")) {
            if (o.n_peers >= FG_MAX_NODES) return bad("%s", "--peer: more peers than a nodes file has nodes");
            o.peers[o.n_peers++] = v;
        }
        else if (!strcmp(a, "--bind")) o.bind_addr = v;
        else if (!strcmp(a, "--data")) o.data_dir = v;
        else if (!strcmp(a, "--endpoints-out")) o.endpoints_out = v;
        else if (!strcmp(a, "--slowdown")) {
            fg_err perr;
            if (fg_parse_double("--slowdown", v, 1, FG_SLOWDOWN_MAX, &o.slowdown, &perr) != 0)
                return bad("%s", perr.msg);
        }
        else if (!strcmp(a, "--bandwidth-mbit") || !strcmp(a, "--latency-ms")) {
            fg_err perr;
            int bw = !strcmp(a, "--bandwidth-mbit");
            if (!o.has_network) o.bandwidth_mbit = o.latency_ms = -1;
            o.has_network = 1;
            if (fg_parse_double(a, v, 0, bw ? FG_MAX_BANDWIDTH_MBIT : FG_MAX_LATENCY_MS,
                                bw ? &o.bandwidth_mbit : &o.latency_ms, &perr) != 0)
                return bad("%s", perr.msg);
        }
        else if (!strcmp(a, "--parent-pid")) {
            char *end;
            long pid = strtol(v, &end, 10);
            if (!*v || *end || pid <= 1) return bad("--parent-pid: '%s' is not a process id", v);
            /* SIGTERM takes the clean-stop path; checking getppid() after
             * arming covers a parent that died before prctl. */
            if (prctl(PR_SET_PDEATHSIG, SIGTERM) != 0 || getppid() != (pid_t)pid)
                return bad("--parent-pid: process %s is not our parent", v);
        } else if (!strcmp(a, "--port")) {
            char *end;
            long p = strtol(v, &end, 10);
            if (!*v || *end || p < 0 || p > 65535) return bad("--port: '%s' is not a port", v);
            o.port = (int)p;
            have_port = 1;
        } else {
            return bad("unknown option '%s'", a);
        }
    }
    if (o.nodes_path && o.function) return bad("%s", "--nodes and --function exclude each other");
    if (o.node && o.function) return bad("%s", "--node and --function exclude each other");
    if (o.n_peers && !o.node) return bad("%s", "--peer needs --node");
    if (o.function && !have_port) return bad("%s", "--function needs --port");
    if (have_port && !o.function && !o.node) return bad("%s", "--port needs --function or --node");
    if (o.has_network && o.function) return bad("%s", "--bandwidth-mbit/--latency-ms apply to --nodes");
    if (o.node) o.node_port = have_port ? o.port : -1;
    if (o.reference_errors && !o.function) return bad("%s", "--reference-errors needs --function");

    fg_err err;
    int rc = fg_server_run_foreground(&o, 0, &err);
    if (rc != 0) fprintf(stderr, "flowgate-functions: %s\n", err.msg);
    return rc;
}
