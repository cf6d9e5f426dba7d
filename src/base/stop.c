/* stop.c — the stop flag (stop.h): a sig_atomic_t, safe to set from a
 * signal handler and to read from any loop. */
#include "flowgate/stop.h"

#include <signal.h>

static volatile sig_atomic_t stop_requested;

void fg_stop_request(void) { stop_requested = 1; }
int fg_stop_requested(void) { return stop_requested != 0; }
