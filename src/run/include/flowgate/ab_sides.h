/* ab_sides.h — a whole A/B run against two real systems (ab_sides.c): the
 * procedure of ab.h with one runner per side, from the sides' flags to the
 * verdict files. `flowgate ab` parses its flags into fg_ab_sides_opts and
 * makes this one call.
 *
 * Systems: each side is an embedded server (its own flowgate-functions
 * process, `server`, started from the nodes file `nodes`) or an already
 * running deployment (`endpoints`). b_slowdown F makes B the profile (B's
 * own, else A's) with every node F times as slow (the server's known-effect
 * knob), written to <results>/ab-<id>/B-nodes.json and checked on B's
 * nodes once they run. Without system options A and B are two separate
 * servers of the same binary and profile: an A/A run, which must not fail.
 * The shared configuration's endpoints (FLOWGATE_ENDPOINTS, a config file)
 * are not used: one deployment cannot be both sides.
 *
 * Cells: (size, concurrency) as `flowgate run` orders them (a category's
 * explicit list, or the axes), each for every scheduler; pairs are the
 * repeats (every runner call is one, its repeat index the pair).
 *
 * Ctrl-C (or SIGTERM; the caller installed the catcher first,
 * fg_run_catch_stop): the running cell ends, marked interrupted; no other
 * starts; the run fails (exit 1) with one line on o->errs,
 * "<who>: interrupted <where>; results: <dir> (A: <cells>; B: <cells>)";
 * both sides' results files are marked interrupted, a side stopped before
 * it opened gets one with no cells, and a stop during the verdict has the
 * verdict files rewritten as interrupted. Writes <results>/ab-<id>/{A,B}/
 * (each side's results file), verdict.txt, verdict.json, junit.xml and,
 * with a thresholds file, B's threshold table against A. */
#ifndef FLOWGATE_AB_SIDES_H
#define FLOWGATE_AB_SIDES_H
#include "flowgate/ab.h"
#include "flowgate/config.h"
#include "flowgate/finish.h"
#include "flowgate/preflight.h"

typedef struct fg_ab_side {
    const char *nodes, *server, *endpoints, *data;   /* NULL: not given */
} fg_ab_side;

typedef struct fg_ab_sides_opts {
    const char *category;             /* the matrix's name (the header line) */
    const fg_run_config *base;        /* what both sides share (not yet fg_config_check'ed) */
    fg_ab_side side[2];               /* A, B; data: that side's data files, the matrix
                                       * and images staying the base's */
    double b_slowdown;                /* > 0: B as slow as that, relative to its profile */
    int min_pairs, max_pairs;
    double budget_s;
    double alpha, beta;               /* <= 0: the tolerances' or compare.h's defaults */
    const char *tolerances;           /* NULL: the default margins */
    const char *thresholds;           /* NULL: no threshold table */
    const fg_preflight_server *server; /* the embedded server's checks (preflight.h) */
} fg_ab_sides_opts;

/* Sets up both sides, runs fg_ab_run, prints the progress (each entry,
 * each look) and the verdict to o->out and writes the verdict files.
 * Returns the exit status: 0 no regression, 1 a regression (or a missing,
 * failed or interrupted cell, or a failing threshold check), 2 bad input
 * or setup (the error to o->errs), 3 inconclusive (0 with the base's
 * inconclusive_pass). */
int fg_ab_sides_run(const fg_ab_sides_opts *opts, const fg_run_output *o);

#endif
