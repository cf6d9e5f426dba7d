/* cmd_serve.c — `flowgate serve`: runs the embedded nodes in the foreground
 * through the server library until Ctrl-C (SIGINT) or SIGTERM. */
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "flowgate/server.h"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: flowgate serve [--nodes FILE] [--endpoints-out FILE] [--bind ADDR] [--data DIR]\n"
            "  runs every node of the nodes file (default <data>/nodes.json) until Ctrl-C\n");
}

int cmd_serve(int argc, char **argv)
{
    fg_server_opts o = {0};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            return 0;
        }
        const char **slot = !strcmp(a, "--nodes")         ? &o.nodes_path
                          : !strcmp(a, "--endpoints-out") ? &o.endpoints_out
                          : !strcmp(a, "--bind")          ? &o.bind_addr
                          : !strcmp(a, "--data")          ? &o.data_dir
                                                          : NULL;
        if (!slot) {
            fprintf(stderr, "flowgate serve: unknown option '%s' (--help for usage)\n", a);
            return 2;
        }
        if (i + 1 >= argc) {
            fprintf(stderr, "flowgate serve: %s needs a value\n", a);
            return 2;
        }
        *slot = argv[++i];
    }
    fg_err err;
    int rc = fg_server_run_foreground(&o, 1, &err);
    if (rc != 0) fprintf(stderr, "flowgate serve: %s\n", err.msg);
    return rc;
}
