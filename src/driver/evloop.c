/* evloop.c — epoll under libcurl's multi socket interface, as wrk's
 * event loop is under its own sockets.
 *
 * Why not curl_multi_poll: it builds a pollfd array of every transfer's
 * socket and curl_multi_perform walks every transfer, on each turn of the
 * loop — O(in flight) per event, and its timeout is whole milliseconds, so
 * an open-loop slot due in 0.3 ms was sent up to a millisecond late. Here
 * curl tells which sockets to watch (CURLMOPT_SOCKETFUNCTION) and when it
 * next needs a timeout action (CURLMOPT_TIMERFUNCTION); epoll reports only
 * the ready sockets and curl_multi_socket_action works on their transfers
 * alone; epoll_pwait2 sleeps to the nanosecond.
 *
 * The epoll set needs no per-socket state: a watch is changed with
 * EPOLL_CTL_MOD and added when the kernel says it is not there yet (a new
 * connection, once), and removed with EPOLL_CTL_DEL, whose failure on a
 * socket curl already closed is harmless.
 *
 * The driver's own sockets share the set: their epoll data is the address
 * of their handler, curl's the descriptor with the top bit set (no user
 * space pointer has it), so one wait serves both. */
#define _GNU_SOURCE
#include "flowgate/evloop.h"
#include "flowgate/common.h"

#include <errno.h>
#include <math.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#define MAX_EVENTS 256
#define CURL_SOCKET_TAG (1ULL << 63)

static int on_socket(CURL *easy, curl_socket_t s, int what, void *userp, void *socketp)
{
    (void)easy;
    (void)socketp;
    fg_evloop *l = userp;
    if (what == CURL_POLL_REMOVE) {
        epoll_ctl(l->epfd, EPOLL_CTL_DEL, s, NULL);
        return 0;
    }
    struct epoll_event ev = {0};
    ev.data.u64 = (uint64_t)(unsigned)s | CURL_SOCKET_TAG;
    if (what & CURL_POLL_IN) ev.events |= EPOLLIN;
    if (what & CURL_POLL_OUT) ev.events |= EPOLLOUT;
    if (epoll_ctl(l->epfd, EPOLL_CTL_MOD, s, &ev) != 0 && errno == ENOENT)
        epoll_ctl(l->epfd, EPOLL_CTL_ADD, s, &ev);
    return 0;
}

static int on_timer(CURLM *multi, long timeout_ms, void *userp)
{
    (void)multi;
    fg_evloop *l = userp;
    l->curl_due = timeout_ms < 0 ? INFINITY : fg_now_mono_ms() + (double)timeout_ms;
    return 0;
}

int fg_evloop_init(fg_evloop *l, CURLM *multi)
{
    l->multi = multi;
    l->curl_due = INFINITY;
    l->no_pwait2 = 0;
    l->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (l->epfd < 0) return -1;
    curl_multi_setopt(multi, CURLMOPT_SOCKETFUNCTION, on_socket);
    curl_multi_setopt(multi, CURLMOPT_SOCKETDATA, l);
    curl_multi_setopt(multi, CURLMOPT_TIMERFUNCTION, on_timer);
    curl_multi_setopt(multi, CURLMOPT_TIMERDATA, l);
    return 0;
}

void fg_evloop_run_due(fg_evloop *l)
{
    int running;
    /* The action may set a new timer, already due: run it too, but not
     * forever (curl's own 0 ms timers are for the same transfers). */
    for (int i = 0; i < 4 && l->curl_due < INFINITY && l->curl_due <= fg_now_mono_ms(); i++) {
        l->curl_due = INFINITY;
        curl_multi_socket_action(l->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    }
}

void fg_evloop_wait(fg_evloop *l, double deadline_ms)
{
    double until = fmin(deadline_ms, l->curl_due), wait_ms = until - fg_now_mono_ms();
    if (!(wait_ms > 0)) wait_ms = 0;
    if (wait_ms > 1e9) wait_ms = 1e9;
    struct timespec ts = {(time_t)(wait_ms / 1000.0), (long)(fmod(wait_ms, 1000.0) * 1e6)};
    struct epoll_event ev[MAX_EVENTS];
    /* Linux before 5.11 (RHEL 8's 4.18, say) has no epoll_pwait2, and an
     * older seccomp profile refuses it (EPERM): whole milliseconds then,
     * rounded up so that a wait is never cut short into a spin. */
    int n = -1;
    if (!l->no_pwait2) {
        n = epoll_pwait2(l->epfd, ev, MAX_EVENTS, &ts, NULL);
        if (n < 0 && (errno == ENOSYS || errno == EPERM)) l->no_pwait2 = 1;
    }
    if (l->no_pwait2) n = epoll_wait(l->epfd, ev, MAX_EVENTS, (int)ceil(wait_ms));
    int running;
    for (int i = 0; i < n; i++) {
        if (!(ev[i].data.u64 & CURL_SOCKET_TAG)) {
            fg_evloop_handler *h = ev[i].data.ptr;
            h->on_ready(h, ev[i].events);
            continue;
        }
        int mask = 0;
        if (ev[i].events & (EPOLLIN | EPOLLHUP)) mask |= CURL_CSELECT_IN;
        if (ev[i].events & EPOLLOUT) mask |= CURL_CSELECT_OUT;
        if (ev[i].events & EPOLLERR) mask |= CURL_CSELECT_ERR;
        curl_multi_socket_action(l->multi, (curl_socket_t)(ev[i].data.u64 & ~CURL_SOCKET_TAG),
                                 mask, &running);
    }
    fg_evloop_run_due(l);
}

int fg_evloop_watch(fg_evloop *l, int fd, uint32_t events, fg_evloop_handler *h)
{
    struct epoll_event ev = {.events = events, .data.ptr = h};
    if (epoll_ctl(l->epfd, EPOLL_CTL_MOD, fd, &ev) == 0) return 0;
    return errno == ENOENT ? epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev) : -1;
}

void fg_evloop_unwatch(fg_evloop *l, int fd)
{
    epoll_ctl(l->epfd, EPOLL_CTL_DEL, fd, NULL);
}

void fg_evloop_close(fg_evloop *l)
{
    if (l->epfd >= 0) close(l->epfd);
    l->epfd = -1;
}
