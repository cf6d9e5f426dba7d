/* cmd_cluster.c — `flowgate cluster up|down|status`: the node set as Docker
 * containers (the work is in src/targets/containers.c). `up` writes the
 * endpoints file that `flowgate run --endpoints` and the suites use;
 * `status` checks the containers that file names. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "flowgate/containers.h"
#include "flowgate/http_client.h"
#include "flowgate/parse.h"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: flowgate cluster up [--nodes F] [--image I] [--id ID] [--base-port P]\n"
            "                           [--cpus-total N] [--endpoints-out F] [--deadline S]\n"
            "       flowgate cluster down [--id ID]\n"
            "       flowgate cluster status [--endpoints F]\n"
            "  up      one container per node of the nodes file (default <data>/nodes.json)\n"
            "          from the image (default " FG_CONTAINERS_DEFAULT_IMAGE "), --network host,\n"
            "          node i on 127.0.0.1:(base port + i) (default %d), CPU caps = the nodes'\n"
            "          \"cores\" shares of N cores (default: this machine's), memory caps =\n"
            "          \"memory_mb\"; waits until healthy; writes the endpoints file\n"
            "          (default results/cluster-<id>.json)\n"
            "  down    removes the containers labelled flowgate.cluster=ID (default " FG_CONTAINERS_DEFAULT_ID ")\n"
            "  status  checks the cluster of an endpoints file (default $FLOWGATE_ENDPOINTS):\n"
            "          one line per node; exit 1 when a container is missing, not running,\n"
            "          not healthy or from another image\n"
            "The Docker client runs against DOCKER_HOST (fixtures/containers/engine.sh starts\n"
            "a project-owned engine).\n",
            FG_CONTAINERS_DEFAULT_PORT);
}

static int bad(const char *what)
{
    fprintf(stderr, "flowgate cluster: %s (--help for usage)\n", what);
    return 2;
}

static int up(int argc, char **argv)
{
    fg_containers_opts o = {0};
    char dflt_out[128];
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (i + 1 >= argc) {
            fprintf(stderr, "flowgate cluster up: %s needs a value\n", a);
            return 2;
        }
        const char *v = argv[++i];
        fg_err perr;
        double d = 0;
        if (!strcmp(a, "--nodes")) o.nodes_file = v;
        else if (!strcmp(a, "--image")) o.image = v;
        else if (!strcmp(a, "--id")) o.id = v;
        else if (!strcmp(a, "--endpoints-out")) o.endpoints_out = v;
        else if (!strcmp(a, "--base-port") || !strcmp(a, "--cpus-total") || !strcmp(a, "--deadline")) {
            double lo = !strcmp(a, "--base-port") ? 1024 : 0.01;
            double hi = !strcmp(a, "--base-port") ? 65535 : 4096;
            if (fg_parse_double(a, v, lo, hi, &d, &perr) != 0) return bad(perr.msg);
            if (!strcmp(a, "--base-port")) o.base_port = (int)d;
            else if (!strcmp(a, "--cpus-total")) o.cpus_total = d;
            else o.health_deadline_s = d;
        } else {
            fprintf(stderr, "flowgate cluster up: unknown option '%s' (--help for usage)\n", a);
            return 2;
        }
    }
    fg_err err;
    if (!o.endpoints_out) {
        snprintf(dflt_out, sizeof dflt_out, "results/cluster-%.60s.json",
                 o.id ? o.id : FG_CONTAINERS_DEFAULT_ID);
        o.endpoints_out = dflt_out;
        if (fg_mkdirs("results", &err) != 0) {
            fprintf(stderr, "flowgate cluster up: %s\n", err.msg);
            return 2;
        }
    }
    if (fg_containers_up(&o, stdout, &err) != 0) {
        fprintf(stderr, "flowgate cluster up: %s\n", err.msg);
        return 2;
    }
    printf("endpoints: %s\n", o.endpoints_out);
    return 0;
}

static int down(int argc, char **argv)
{
    const char *id = FG_CONTAINERS_DEFAULT_ID;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--id") || i + 1 >= argc) return bad("down takes only --id ID");
        id = argv[++i];
    }
    fg_err err;
    int removed = 0;
    if (fg_containers_down(id, &removed, &err) != 0) {
        fprintf(stderr, "flowgate cluster down: %s\n", err.msg);
        return 2;
    }
    printf("cluster %s: removed %d container(s)\n", id, removed);
    return 0;
}

static int status(int argc, char **argv)
{
    const char *path = getenv("FLOWGATE_ENDPOINTS");
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--endpoints") || i + 1 >= argc)
            return bad("status takes only --endpoints F");
        path = argv[++i];
    }
    if (!path || !*path) return bad("status needs --endpoints F (or FLOWGATE_ENDPOINTS)");
    fg_cluster c;
    fg_err err;
    if (fg_cluster_load_endpoints(path, &c, &err) != 0) {
        fprintf(stderr, "flowgate cluster status: %s\n", err.msg);
        return 2;
    }
    if (!c.containers_cluster[0]) {
        fprintf(stderr, "flowgate cluster status: %s names no container cluster "
                "(written by flowgate cluster up?)\n", path);
        return 2;
    }
    int problems = fg_containers_check(c.containers_cluster, c.containers_image, &c, 1, stdout);
    if (problems < 0) return 2;
    /* The link each node emulates now: a scenario run sets it and puts it
     * back; this shows which is in force. */
    for (int i = 0; i < c.n_nodes && problems == 0; i++) {
        char url[300];
        snprintf(url, sizeof url, "%s/link", c.nodes[i].url);
        cJSON *link = NULL;
        long code;
        if (fg_http_get_json(url, 5, &code, &link, &err) != 0) {
            printf("  %s link: %s\n", c.nodes[i].name, err.msg);
            continue;
        }
        printf("  %s link: %g Mbit/s (0 = uncapped), +%g ms\n", c.nodes[i].name,
               cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(link, "bandwidth_mbit")),
               cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(link, "latency_ms")));
        cJSON_Delete(link);
    }
    printf("cluster %s: %d of %d node(s) with a problem\n", c.containers_cluster, problems,
           c.n_nodes);
    return problems ? 1 : 0;
}

int cmd_cluster(int argc, char **argv)
{
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (!strcmp(argv[1], "up")) return up(argc - 1, argv + 1);
    if (!strcmp(argv[1], "down")) return down(argc - 1, argv + 1);
    if (!strcmp(argv[1], "status")) return status(argc - 1, argv + 1);
    fprintf(stderr, "flowgate cluster: unknown action '%s' (up, down or status)\n", argv[1]);
    return 2;
}
