/* target.c — which history a process writes to and reads from. The
 * environment decides so that CI (a shared PostgreSQL) and a laptop (a
 * SQLite file beside the results) run the same commands. */
#include "flowgate/history_target.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int fg_history_target_is_postgres(const char *target)
{
    return target && (strncmp(target, "postgresql://", 13) == 0 ||
                      strncmp(target, "postgres://", 11) == 0);
}

const char *fg_history_target(const char *results_dir, char *buf, size_t size)
{
    const char *env = getenv("FLOWGATE_HISTORY");
    if (env) {
        if (!*env || strcmp(env, "off") == 0) return NULL;
        snprintf(buf, size, "%s", env);
        return buf;
    }
    snprintf(buf, size, "%s/history.sqlite", results_dir && *results_dir ? results_dir : "results");
    return buf;
}
