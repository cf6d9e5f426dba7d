/* growbuf.c — a growing byte buffer with a hard limit.
 *
 * Growth doubles, clamped to the limit, so realloc moves fewer than 2N
 * bytes in all for a body of N (and glibc often grows large blocks in place
 * with mremap). The up-front reserve is capped because a declared
 * length is only a promise: past the cap, memory is committed as bytes
 * actually arrive, and a body at the cap or under it is written once. */
#include "growbuf.h"

#include <stdlib.h>
#include <string.h>

static int grow_to(fg_growbuf *g, size_t cap)
{
    unsigned char *p = realloc(g->buf.data, cap);
    if (!p) return -1;
    g->buf.data = p;
    g->cap = cap;
    return 0;
}

int fg_growbuf_reserve(fg_growbuf *g, size_t declared)
{
    size_t want = declared < g->limit ? declared : g->limit;
    if (want > FG_GROWBUF_MAX_RESERVE) want = FG_GROWBUF_MAX_RESERVE;
    if (want + 1 <= g->cap) return 0;
    return grow_to(g, want + 1);
}

int fg_growbuf_append(fg_growbuf *g, const void *data, size_t n)
{
    if (n > g->limit - g->buf.len) return 1;
    size_t need = g->buf.len + n + 1;   /* +1: the NUL */
    if (need > g->cap) {
        size_t cap = g->cap ? g->cap : 65536;
        while (cap < need) cap = cap > g->limit / 2 ? g->limit + 1 : cap * 2;
        if (grow_to(g, cap) != 0) return -1;
    }
    memcpy(g->buf.data + g->buf.len, data, n);
    g->buf.len += n;
    g->buf.data[g->buf.len] = 0;
    return 0;
}
