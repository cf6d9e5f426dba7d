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
int cmd_merge(int argc, char **argv);
int cmd_ab(int argc, char **argv);
int cmd_thresholds(int argc, char **argv);
int cmd_cluster(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_history(int argc, char **argv);

#endif
