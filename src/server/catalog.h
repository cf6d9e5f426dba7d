/* catalog.h — the names of the functions this server runs, by index. The
 * bottom of the server: the profile's knobs (slowdown.c) and the
 * invocation table (functions.c) both index per-function data by it, and
 * neither needs the other to read a name. */
#ifndef FLOWGATE_SERVER_CATALOG_H
#define FLOWGATE_SERVER_CATALOG_H

/* The table's order; functions.c builds its own table on these indices. */
enum {
    FG_FN_UPLOAD, FG_FN_ADULT, FG_FN_VIOLENCE, FG_FN_EXTRACT, FG_FN_TRANSLATE,
    FG_FN_CENSOR, FG_FN_MOSAIC, FG_FN_COUNT
};

int fg_catalog_count(void);
const char *fg_catalog_name(int i);         /* "recognizer__adult" */
const char *fg_catalog_short_name(int i);   /* "adult" */
/* Accepts "recognizer__adult" or "adult"; -1 when unknown. */
int fg_catalog_find(const char *name);

#endif
