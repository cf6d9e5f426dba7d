/* reply.h — an HTTP reply in the making: status plus a heap JSON body,
 * printed by cJSON. Error bodies are {"status":"error","message":...} plus
 * "function"/"node" when known. */
#ifndef FLOWGATE_SERVER_REPLY_H
#define FLOWGATE_SERVER_REPLY_H
#include <stddef.h>
#include <cjson/cJSON.h>

typedef struct fg_reply {
    int status;
    char *body;     /* heap, NUL-terminated; owned by the reply */
    size_t len;
} fg_reply;

/* Prints and deletes obj. Falls back to a 500 if printing fails. */
void fg_reply_json(fg_reply *r, int status, cJSON *obj);

void fg_reply_error(fg_reply *r, int status, const char *function, const char *node,
                    const char *fmt, ...) __attribute__((format(printf, 5, 6)));

void fg_reply_free(fg_reply *r);

/* Sets err and returns status: `return fg_fail(err, 404, "...")`. */
struct fg_err;
int fg_fail(struct fg_err *err, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
