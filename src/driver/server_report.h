/* server_report.h — what a function's server says of one invocation
 * beside its outputs (exec, queue and transfer time, bytes moved, a cold
 * start), as numbers: read once from the reply (answer.c), then handed to
 * the per-function accounting, the critical path and the warm-up without
 * a lookup by name. Internal to the driver (src/driver). */
#ifndef FLOWGATE_SERVER_REPORT_H
#define FLOWGATE_SERVER_REPORT_H
#include <math.h>

typedef struct fg_server_report {
    double exec_ms, queue_ms, transfer_ms;   /* NAN: not reported as a number */
    double transfer_bytes;                   /* NAN: not reported as a number */
    int cold_start;                          /* 1 or 0; -1: not reported as a boolean */
} fg_server_report;

/* Nothing reported. */
#define FG_SERVER_REPORT_NONE {NAN, NAN, NAN, NAN, -1}

#endif
