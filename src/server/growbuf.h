/* growbuf.h — one byte buffer filled as bytes arrive (a request body, a
 * blob fetched from a sibling node), reserved up front from a declared
 * length and doubled from there, never past a hard limit. */
#ifndef FLOWGATE_SERVER_GROWBUF_H
#define FLOWGATE_SERVER_GROWBUF_H
#include "flowgate/common.h"

/* The most a declared length reserves before any byte has arrived: a
 * client that declares 64 MiB and sends nothing pins at most this much. */
#define FG_GROWBUF_MAX_RESERVE ((size_t)16 << 20)

typedef struct fg_growbuf {
    fg_buf buf;         /* data NUL-terminated once anything is appended */
    size_t cap;
    size_t limit;       /* most bytes it may hold */
} fg_growbuf;

/* Reserves min(declared, limit, FG_GROWBUF_MAX_RESERVE) bytes (+1 for the
 * NUL). Returns -1 only when out of memory. */
int fg_growbuf_reserve(fg_growbuf *g, size_t declared);

/* Appends n bytes. Returns 0; 1 when they would exceed the limit; -1 when
 * out of memory (the buffer is left as it was). */
int fg_growbuf_append(fg_growbuf *g, const void *data, size_t n);

#endif
