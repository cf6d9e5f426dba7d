/* log.h — leveled messages on stderr (LOG_LEVEL sets the threshold). */
#ifndef FLOWGATE_LOG_H
#define FLOWGATE_LOG_H

typedef enum fg_log_level { FG_LOG_ERROR, FG_LOG_WARN, FG_LOG_INFO, FG_LOG_DEBUG } fg_log_level;

extern fg_log_level fg_log_threshold;
/* One line (a newline is added when missing), written in one call so lines
 * from threads do not interleave. */
void fg_log(fg_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
