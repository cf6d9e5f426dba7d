/* slowdown.h — the known-effect knob: a function server that is slower by a
 * known factor, so the power of a regression gate can be measured (how
 * often does `flowgate ab` catch a 10 %, 25 %, 50 % slowdown?).
 *
 * A node with slowdown F (nodes profile "slowdown", top level or per node;
 * `flowgate-functions --slowdown F` overrides every node) runs a function's
 * real work, which took t ms, and then burns CPU for (F-1)*t ms on the same
 * worker slot before it replies: exec_ms becomes ~F*t. The extra time is
 * CPU work (a spin on the monotonic clock), not a sleep, so it competes for
 * the cores and holds the worker slot like the code of a slower build would:
 * queueing and contention grow as they would in a real regression. */
#ifndef FLOWGATE_SERVER_SLOWDOWN_H
#define FLOWGATE_SERVER_SLOWDOWN_H

#define FG_SLOWDOWN_MAX 100.0   /* beyond this it is a hang, not a regression */

/* Burns CPU until (factor-1)*work_ms have passed since now. factor <= 1
 * returns at once. */
void fg_slowdown_burn(double work_ms, double factor);

#endif
