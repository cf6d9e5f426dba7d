/* log.c — one line per message on stderr, at or above a threshold. */
#include "flowgate/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

fg_log_level fg_log_threshold = FG_LOG_INFO;

void fg_log(fg_log_level level, const char *fmt, ...)
{
    static const char *const prefix[] = {"error", "warn", "info", "debug"};
    if (level > fg_log_threshold) return;
    char line[2048];
    int n = snprintf(line, sizeof line, "%s: ", prefix[level < 0 || level > FG_LOG_DEBUG ? 0 : level]);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line + n, sizeof line - (size_t)n, fmt, ap);
    va_end(ap);
    size_t len = strlen(line);
    if (len && line[len - 1] != '\n' && len + 1 < sizeof line) {
        line[len++] = '\n';
        line[len] = 0;
    }
    fputs(line, stderr);   /* one call: lines from threads do not interleave */
}
