/* commands.h — the subcommands of `flowgate`. Each lives in its own
 * cmd_<name>.c, takes the arguments after its name, and returns the process
 * exit code: 0 success, 1 a threshold/gate failed, 2 bad input or setup. */
#ifndef FLOWGATE_CLI_COMMANDS_H
#define FLOWGATE_CLI_COMMANDS_H

int cmd_run(int argc, char **argv);
int cmd_check(int argc, char **argv);
int cmd_images(int argc, char **argv);
int cmd_calibrate(int argc, char **argv);
int cmd_serve(int argc, char **argv);
int cmd_plot(int argc, char **argv);
int cmd_compare(int argc, char **argv);
int cmd_baseline(int argc, char **argv);
int cmd_ab(int argc, char **argv);
int cmd_thresholds(int argc, char **argv);
int cmd_cluster(int argc, char **argv);

/* Shared by `flowgate run` and its scenarios (cmd_run.c, cmd_scenarios.c). */
#include <cjson/cJSON.h>
#include "run_flags.h"
int cmd_run_scenarios(const run_flags *f, const char *name, int override, int ci,
                      int no_thresholds);
/* One line per experiment entry: ok/sent, p50, p95, throughput. */
void run_print_summary(const cJSON *e);
/* Prints and saves the threshold table, writes each entry's outcome and
 * run.outcome into results; the number of failed checks, -1 on a bad
 * document; *outcome the run's (pass / fail / inconclusive). */
#include "flowgate/thresholds.h"
int run_report_thresholds(const cJSON *doc, cJSON *results, const char *dir, fg_outcome *outcome,
                          fg_err *err);
/* SIGINT/SIGTERM stop the running experiment (fg_stop_request); a
 * second one kills. The old handlers go to old_int, old_term. */
#include <signal.h>
void run_catch_stop(struct sigaction *old_int, struct sigaction *old_term);
/* The end of a run: the threshold table of what ran, the interrupted
 * verdict, the results file closed (r freed). Returns the exit status: 3
 * (FG_EXIT_INCONCLUSIVE) when the only open checks were left so by a busy
 * machine, 0 for that with inconclusive_pass. */
#include "flowgate/runner.h"
int run_finish(fg_runner *r, const cJSON *thresholds, const char *results_dir, int interrupted,
               int status, int inconclusive_pass);

#endif
