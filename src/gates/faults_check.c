/* faults_check.c — injected faults against the driver's counts
 * (faults_check.h): one equation per function and class, the first that
 * fails named with both numbers. */
#include "flowgate/faults_check.h"

#include <stdio.h>

static double count(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsNumber(v) ? v->valuedouble : 0;
}

static int check_function(const char *fn, const cJSON *inj, double server_inv,
                          const cJSON *stats, char *why, size_t size)
{
    const cJSON *errs = cJSON_GetObjectItemCaseSensitive(stats, "errors");
    static const struct { const char *kind, *class_; } same[] = {
        {"error_500", "http"}, {"error_status", "function"},
        {"wrong_type", "malformed"}, {"hang", "timeout"},
    };
    for (size_t k = 0; k < sizeof same / sizeof same[0]; k++) {
        double want = count(inj, same[k].kind), got = count(errs, same[k].class_);
        if (want != got) {
            snprintf(why, size, "%s: %.0f %s injected, %.0f %s errors counted", fn, want,
                     same[k].kind, got, same[k].class_);
            return -1;
        }
    }
    if (count(errs, "client") != 0) {
        snprintf(why, size, "%s: %.0f client errors, none injected", fn, count(errs, "client"));
        return -1;
    }
    double closed = count(inj, "reset") + count(inj, "down"), connect = count(errs, "connect");
    double resent = server_inv - count(stats, "invocations");
    if (connect > closed || resent != closed - connect) {
        snprintf(why, size, "%s: %.0f connections closed unanswered, %.0f connect errors counted "
                 "and %.0f invocations more at the server than sent (expected %.0f)", fn, closed,
                 connect, resent, closed - connect);
        return -1;
    }
    return 0;
}

int fg_faults_account(const cJSON *entry, const cJSON *seen, char *why, size_t why_size)
{
    const cJSON *fns = cJSON_GetObjectItemCaseSensitive(entry, "functions");
    const cJSON *inv = cJSON_GetObjectItemCaseSensitive(seen, "invocations");
    const cJSON *inj = cJSON_GetObjectItemCaseSensitive(seen, "injected");
    const cJSON *f;
    /* Every function the server ran, and every one the driver counted. */
    cJSON_ArrayForEach(f, inv) {
        const cJSON *stats = cJSON_GetObjectItemCaseSensitive(fns, f->string);
        if (!stats && count(inv, f->string) > 0) {
            snprintf(why, why_size, "%s: %.0f invocations at the server, none in the results",
                     f->string, count(inv, f->string));
            return -1;
        }
        if (stats && check_function(f->string, cJSON_GetObjectItemCaseSensitive(inj, f->string),
                                    count(inv, f->string), stats, why, why_size) != 0)
            return -1;
    }
    cJSON_ArrayForEach(f, fns)
        if (!cJSON_GetObjectItemCaseSensitive(inv, f->string) && count(f, "invocations") > 0) {
            snprintf(why, why_size, "%s: %.0f invocations sent, none seen by the servers",
                     f->string, count(f, "invocations"));
            return -1;
        }
    return 0;
}
