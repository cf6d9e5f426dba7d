/* main.c — `flowgate`: a thin dispatcher over the library; each command is
 * in its own file. */
#include <stdio.h>
#include <string.h>

#include "commands.h"

static const struct {
    const char *name;
    int (*fn)(int, char **);
    const char *help;
} commands[] = {
    {"run",       cmd_run,       "run [standard|large_input|high_concurrency|extreme|scale|smoke|test|single] [--config F] ..."},
    {"check",     cmd_check,     "check [--working]      invoke each function once, print status and time"},
    {"images",    cmd_images,    "images [--sizes 0.1,1,...] [--variants ...]  create the test images"},
    {"calibrate", cmd_calibrate, "calibrate [--name N]   fit exec time = alpha*size^eta per function and node"},
    {"serve",     cmd_serve,     "serve [--nodes data/nodes.json]  run the embedded nodes in the foreground"},
    {"plot",      cmd_plot,      "plot RESULTS.json      render gnuplot charts into plots/<run-id>/"},
    {"compare",   cmd_compare,   "compare BASE.json NEW.json  regression verdict per cell"},
    {"merge",     cmd_merge,     "merge SEGMENT.json... [-o F]  one run's results from its --segment i/N files"},
    {"baseline",  cmd_baseline,  "baseline RESULTS.json  promote a run to results/baseline.json"},
    {"ab",        cmd_ab,        "ab [smoke|standard|...] [--a-server BIN --b-server BIN | --b-slowdown F ...]  A/B regression gate"},
    {"cluster",   cmd_cluster,   "cluster up|down|status [--nodes F] [--image I] [--id ID]  the nodes as Docker containers"},
    {"history",   cmd_history,   "history import FILE|DIR... | runs  the performance history of every run"},
    {"thresholds", cmd_thresholds, "thresholds suggest RESULTS.json...  per-cell bounds from measured runs"},
    {"report",    cmd_report,    "report [RESULTS.json] [--ab DIR] [--out FILE] [--plots DIR]  the run's self-contained HTML page"},
};

static void usage(FILE *out)
{
    fprintf(out, "usage: flowgate <command> [options]\n\ncommands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(out, "  %s\n", commands[i].help);
    fprintf(out, "\n`flowgate <command> --help` for its options.\n");
}

int main(int argc, char **argv)
{
    if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (!strcmp(argv[1], commands[i].name))
            return commands[i].fn(argc - 1, argv + 1);
    fprintf(stderr, "flowgate: unknown command '%s' (flowgate --help lists them)\n", argv[1]);
    return 2;
}
