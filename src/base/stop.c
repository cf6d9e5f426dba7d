/* stop.c — the stop flag and the phase (stop.h): sig_atomic_t, safe to
 * set from a signal handler and to read from any loop. */
#include "flowgate/stop.h"

#include <signal.h>

static volatile sig_atomic_t stop_requested, phase, phase_at_request;

void fg_stop_request(void)
{
    if (!stop_requested) phase_at_request = phase;
    stop_requested = 1;
}

int fg_stop_requested(void) { return stop_requested != 0; }

void fg_stop_set_phase(int p) { phase = p; }
int fg_stop_phase(void) { return phase; }
int fg_stop_phase_at_request(void) { return stop_requested ? phase_at_request : 0; }
