/* cluster_internal.h — what embedded.c and http_client.c share inside the
 * library: the sleep of their polling loops (waiting for the server to come
 * up, for an endpoint to turn healthy, for a child to exit). */
#ifndef FLOWGATE_CLUSTER_INTERNAL_H
#define FLOWGATE_CLUSTER_INTERNAL_H
#include <errno.h>
#include <time.h>

/* Sleeps ms milliseconds; a signal does not cut it short. */
static inline void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {}
}

#endif
