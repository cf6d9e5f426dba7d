/* jsonnum.c — ranged numbers of a JSON object (jsonnum.h). A value out of
 * range is an error, never clamped: a profile that says 0 workers or a
 * rate of 1.5 is a mistake to name, not a wish to guess at. */
#include "jsonnum.h"

#include <math.h>
#include <stdio.h>

/* A bound as a reader writes it: 1000000, not 1e+06. */
static const char *bound(double x, char *buf, size_t size)
{
    if (x == floor(x) && fabs(x) < 1e16) snprintf(buf, size, "%.0f", x);
    else snprintf(buf, size, "%g", x);
    return buf;
}

static int get(const cJSON *o, const char *key, double def, int required, double min,
               double max, double *out, const char *where, int whole, fg_err *err)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!v) {
        if (required) return fg_err_set(err, "%s: missing \"%s\"", where, key);
        *out = def;
        return 0;
    }
    char lo[32], hi[32];
    if (!cJSON_IsNumber(v) || !(v->valuedouble >= min && v->valuedouble <= max) ||
        (whole && v->valuedouble != floor(v->valuedouble)))
        return fg_err_set(err, "%s: \"%s\" must be %s in [%s, %s]", where, key,
                          whole ? "an integer" : "a number", bound(min, lo, sizeof lo),
                          bound(max, hi, sizeof hi));
    *out = v->valuedouble;
    return 0;
}

int fg_json_get_number(const cJSON *o, const char *key, double def, double min, double max,
                       double *out, const char *where, fg_err *err)
{
    return get(o, key, def, isnan(def), min, max, out, where, 0, err);
}

int fg_json_get_int(const cJSON *o, const char *key, double def, double min, double max,
                    double *out, const char *where, fg_err *err)
{
    return get(o, key, def, isnan(def), min, max, out, where, 1, err);
}

int fg_json_opt_number(const cJSON *o, const char *key, double min, double max, double *out,
                       const char *where, fg_err *err)
{
    return get(o, key, NAN, 0, min, max, out, where, 0, err);
}

int fg_json_opt_int(const cJSON *o, const char *key, double min, double max, double *out,
                    const char *where, fg_err *err)
{
    return get(o, key, NAN, 0, min, max, out, where, 1, err);
}
