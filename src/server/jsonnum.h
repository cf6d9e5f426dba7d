/* jsonnum.h — one number of a JSON object (a profile, a control body),
 * in range, with a one-line error naming where and which key: the one
 * way every knob of the server reads its numbers. */
#ifndef FLOWGATE_SERVER_JSONNUM_H
#define FLOWGATE_SERVER_JSONNUM_H
#include <cjson/cJSON.h>
#include "flowgate/common.h"

/* o's member key into *out: def when absent (a NAN def: the key is
 * required), else a number in [min, max]. -1 with err "WHERE: \"key\"
 * must be a number in [min, max]" (or "missing") otherwise. */
int fg_json_get_number(const cJSON *o, const char *key, double def, double min, double max,
                       double *out, const char *where, fg_err *err);

/* The same for a whole number: "must be an integer in [min, max]". */
int fg_json_get_int(const cJSON *o, const char *key, double def, double min, double max,
                    double *out, const char *where, fg_err *err);

/* Optional keys with no default: NAN when absent. */
int fg_json_opt_number(const cJSON *o, const char *key, double min, double max, double *out,
                       const char *where, fg_err *err);
int fg_json_opt_int(const cJSON *o, const char *key, double min, double max, double *out,
                    const char *where, fg_err *err);

#endif
