/* reply.c — JSON reply bodies. One printing path (cJSON) for successes and
 * errors, and a static last-resort body when even that runs out of memory,
 * so every request still gets exactly one well-formed answer. */
#include "reply.h"
#include "flowgate/common.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char oom_body[] = "{\"status\":\"error\",\"message\":\"out of memory\"}";

static void reply_oom(fg_reply *r)
{
    r->status = 500;
    r->body = strdup(oom_body);   /* may be NULL: the sender then uses oom_body */
    r->len = r->body ? strlen(r->body) : 0;
}

void fg_reply_json(fg_reply *r, int status, cJSON *obj)
{
    char *text = obj ? cJSON_PrintUnformatted(obj) : NULL;
    cJSON_Delete(obj);
    if (!text) {
        reply_oom(r);
        return;
    }
    r->status = status;
    r->body = text;
    r->len = strlen(text);
}

void fg_reply_error(fg_reply *r, int status, const char *function, const char *node,
                    const char *fmt, ...)
{
    char message[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(message, sizeof message, fmt, ap);
    va_end(ap);
    /* One line, whatever a library put in it. */
    for (char *p = message; *p; p++)
        if (*p == '\n' || *p == '\r') *p = ' ';
    cJSON *o = cJSON_CreateObject();
    if (o) {
        cJSON_AddStringToObject(o, "status", "error");
        cJSON_AddStringToObject(o, "message", message);
        if (function) cJSON_AddStringToObject(o, "function", function);
        if (node) cJSON_AddStringToObject(o, "node", node);
    }
    fg_reply_json(r, status, o);
}

void fg_reply_free(fg_reply *r)
{
    free(r->body);
    r->body = NULL;
    r->len = 0;
}

int fg_fail(fg_err *err, int status, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
    }
    return status;
}
