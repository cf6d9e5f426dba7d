/* evloop.h — the engine's event loop: epoll driving a libcurl multi handle
 * through its socket interface (curl_multi_socket_action), and beside it
 * sockets of the driver's own (the plain HTTP/1.1 transport, h1.c), each
 * with a handler. Public so that bench/curl_floor.c measures libcurl under
 * the very loop the engine uses. */
#ifndef FLOWGATE_EVLOOP_H
#define FLOWGATE_EVLOOP_H
#include <curl/curl.h>

#include <stdint.h>

/* A socket of the driver's own: on_ready gets the epoll events. Embedded
 * in the owner's struct; its address is what epoll hands back. */
typedef struct fg_evloop_handler {
    void (*on_ready)(struct fg_evloop_handler *h, uint32_t events);
} fg_evloop_handler;

typedef struct fg_evloop {
    CURLM *multi;
    int epfd;
    int no_pwait2;     /* the kernel lacks epoll_pwait2 (before 5.11): epoll_wait */
    double curl_due;   /* monotonic ms when curl wants its timeout action; INFINITY: none */
} fg_evloop;

/* Takes over multi's socket and timer callbacks. 0, or -1 (errno set). */
int  fg_evloop_init(fg_evloop *l, CURLM *multi);
/* Runs curl's timeout action when it is due (e.g. handles just added). */
void fg_evloop_run_due(fg_evloop *l);
/* Sleeps until a socket is ready, curl's timer or deadline_ms (monotonic
 * ms, sub-millisecond precise) comes, whichever is first, and hands what
 * happened to curl. Returns early on a signal. */
void fg_evloop_wait(fg_evloop *l, double deadline_ms);
/* Watches fd for events (EPOLLIN, EPOLLOUT...) on h's behalf, or changes
 * what it waits for. 0, or -1 (errno set). */
int  fg_evloop_watch(fg_evloop *l, int fd, uint32_t events, fg_evloop_handler *h);
/* Before fd is closed. */
void fg_evloop_unwatch(fg_evloop *l, int fd);
/* After curl_multi_cleanup (whose last callbacks still use the epoll set). */
void fg_evloop_close(fg_evloop *l);

#endif
