/* catalog.c — the recognizer's function names (catalog.h): the names
 * /invoke/<name> routes on, long and short. */
#include "catalog.h"

#include <string.h>

static const char *const names[FG_FN_COUNT][2] = {
    [FG_FN_UPLOAD]    = {"recognizer__upload", "upload"},
    [FG_FN_ADULT]     = {"recognizer__adult", "adult"},
    [FG_FN_VIOLENCE]  = {"recognizer__violence", "violence"},
    [FG_FN_EXTRACT]   = {"recognizer__extract", "extract"},
    [FG_FN_TRANSLATE] = {"recognizer__translate", "translate"},
    [FG_FN_CENSOR]    = {"recognizer__censor", "censor"},
    [FG_FN_MOSAIC]    = {"recognizer__mosaic", "mosaic"},
};

int fg_catalog_count(void) { return FG_FN_COUNT; }
const char *fg_catalog_name(int i) { return names[i][0]; }
const char *fg_catalog_short_name(int i) { return names[i][1]; }

int fg_catalog_find(const char *name)
{
    for (int i = 0; i < FG_FN_COUNT; i++)
        if (!strcmp(names[i][0], name) || !strcmp(names[i][1], name)) return i;
    return -1;
}
