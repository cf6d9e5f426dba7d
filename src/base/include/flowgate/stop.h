/* stop.h — the process's one stop request (Ctrl-C, SIGTERM). A signal
 * handler calls fg_stop_request (it only sets a flag); every loop that can
 * wait long (the engine's event loop, health waits, the embedded server's
 * start-up, the runner's matrix) polls fg_stop_requested. It lives at the
 * bottom of the house so that the layers polling it need not know each
 * other. A request cannot be taken back. */
#ifndef FLOWGATE_STOP_H
#define FLOWGATE_STOP_H

void fg_stop_request(void);
int  fg_stop_requested(void);

#endif
