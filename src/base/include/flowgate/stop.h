/* stop.h — the process's one stop request (Ctrl-C, SIGTERM). A signal
 * handler calls fg_stop_request (it only sets a flag); every loop that can
 * wait long (the engine's event loop, health waits, the embedded server's
 * start-up, the runner's matrix) polls fg_stop_requested. It lives at the
 * bottom of the house so that the layers polling it need not know each
 * other. A request cannot be taken back.
 *
 * The phase says what the process is doing, in its caller's own numbering
 * (0 until set; a run's phases are runner.h's fg_run_phase), so the line a
 * stopped command ends with can say where the stop came: the first
 * request records the phase in force at that moment. All of it is
 * sig_atomic_t, safe from a handler. */
#ifndef FLOWGATE_STOP_H
#define FLOWGATE_STOP_H

void fg_stop_request(void);
int  fg_stop_requested(void);

void fg_stop_set_phase(int phase);
int  fg_stop_phase(void);
/* The phase when the first stop was requested (0 when none was). */
int  fg_stop_phase_at_request(void);

#endif
