/* inject.c — injected faults on the wire (inject.h).
 *
 * Both run in the connection's own thread (a thread per connection), so
 * holding or pacing blocks no one else and takes no worker slot; both wait
 * through fg_faults_wait, so a stopping server ends them at once.
 * A drip hands out a twentieth of a second's bytes per call of the content
 * reader, each due at start + bytes sent / rate: the pace holds whatever
 * the scheduler does, and the client sees many small writes, as from a
 * slow link. */
#include "inject.h"

#include <stdlib.h>
#include <string.h>

enum MHD_Result fg_inject_hold(fg_node *n, struct MHD_Connection *conn, double hang_ms)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
    fg_faults_wait(&n->faults, ci ? ci->connect_fd : -1, hang_ms);
    return MHD_NO;
}

typedef struct drip {
    fg_faults *faults;
    char *body;
    size_t len;
    double bytes_per_s, start_ms;
} drip;

static ssize_t drip_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    drip *d = cls;
    if (pos >= d->len) return MHD_CONTENT_READER_END_OF_STREAM;
    if (d->start_ms == 0) d->start_ms = fg_now_mono_ms();
    size_t chunk = (size_t)(d->bytes_per_s / 20);
    if (chunk < 1) chunk = 1;
    if (chunk > max) chunk = max;
    if (chunk > d->len - pos) chunk = d->len - (size_t)pos;
    double due = d->start_ms + (double)(pos + chunk) * 1000.0 / d->bytes_per_s;
    if (fg_faults_wait(d->faults, -1, due - fg_now_mono_ms()))
        return MHD_CONTENT_READER_END_WITH_ERROR;
    memcpy(buf, d->body + pos, chunk);
    return (ssize_t)chunk;
}

static void drip_free(void *cls)
{
    drip *d = cls;
    free(d->body);
    free(d);
}

struct MHD_Response *fg_inject_drip(fg_node *n, char *body, size_t len, double bytes_per_s)
{
    drip *d = calloc(1, sizeof *d);
    if (!d) {
        free(body);
        return NULL;
    }
    *d = (drip){&n->faults, body, len, bytes_per_s, 0};
    struct MHD_Response *r = MHD_create_response_from_callback(len, 4096, drip_read, d,
                                                               drip_free);
    if (!r) drip_free(d);
    return r;
}
