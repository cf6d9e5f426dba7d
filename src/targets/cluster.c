/* cluster.c — the cluster as a whole: the health wait that tells "every
 * endpoint answers" before the first request is timed.
 *
 * The health wait gives up as soon as a stop is requested (Ctrl-C, stop.h):
 * between attempts, and inside one through the GET's own check, so a
 * 30 s wait on a hung endpoint never outlives the user's patience. A refused
 * TLS certificate ends the wait at once: it is a setting, not a slow start. */
#include "flowgate/cluster.h"
#include "flowgate/http_client.h"
#include "flowgate/stop.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <string.h>

/* One GET /; on failure why names the reason (FG_HTTP_PERMANENT when
 * retrying cannot help). An endpoint whose success
 * rule is "http2xx" is healthy on any 2xx: such platforms have no health
 * document. */
static int health_once(const char *base, const fg_endpoint_opts *o, double timeout_s, char *why,
                       size_t why_size)
{
    char url[300];
    snprintf(url, sizeof url, "%s/", base);
    long code;
    cJSON *j;
    fg_err e;
    int any_2xx = o && o->success == FG_SUCCESS_HTTP2XX;
    int rc = fg_http_get_json_opts(url, o, !any_2xx, timeout_s, &code, &j, &e);
    if (rc != 0) {
        snprintf(why, why_size, "%.200s", e.msg);
        return rc;
    }
    if (any_2xx) {
        cJSON_Delete(j);
        return 0;
    }
    const cJSON *st = cJSON_GetObjectItemCaseSensitive(j, "status");
    int ok = cJSON_IsString(st) && !strcmp(st->valuestring, "healthy") ? 0 : -1;
    if (ok) snprintf(why, why_size, "answer is not {\"status\":\"healthy\"}");
    cJSON_Delete(j);
    return ok;
}

/* Retries one endpoint until healthy or until the absolute deadline. */
static int health_until(const char *label, const char *base, const fg_endpoint_opts *o,
                        double deadline_ms, fg_err *err)
{
    char why[256] = "no attempt made";
    for (;;) {
        if (fg_stop_requested()) return fg_err_set(err, "%s", FG_HEALTH_INTERRUPTED);
        double left = deadline_ms - fg_now_mono_ms();
        double attempt_s = left / 1000.0;
        if (attempt_s > 2.0) attempt_s = 2.0;
        if (attempt_s < 0.2) attempt_s = 0.2;
        char last[256];
        int rc = health_once(base, o, attempt_s, last, sizeof last);
        if (rc == 0) return 0;
        if (rc == FG_HTTP_PERMANENT) {   /* a refused certificate: waiting cannot help */
            snprintf(why, sizeof why, "%s", last);
            break;
        }
        /* The attempt the deadline cuts short can only say "timed out": it
         * does not replace the reason a whole attempt gave (a refused
         * certificate, an HTTP error) on a machine slow to answer. */
        int cut_short = strstr(last, "Timeout was reached") != NULL;
        if (!cut_short || !strcmp(why, "no attempt made")) snprintf(why, sizeof why, "%s", last);
        if (fg_stop_requested()) return fg_err_set(err, "%s", FG_HEALTH_INTERRUPTED);
        if (fg_now_mono_ms() + 50 >= deadline_ms) break;
        fg_sleep_ms(50);
    }
    return fg_err_set(err, "endpoint %s (%s/) not healthy: %s", label, base, why);
}

int fg_cluster_health(const fg_cluster *c, double deadline_s, fg_err *err)
{
    double deadline_ms = fg_now_mono_ms() + deadline_s * 1000.0;
    if (c->mode == FG_CLUSTER_FUNCTIONS) {
        if (c->n_functions == 0) return fg_err_set(err, "no function endpoints configured");
        for (int i = 0; i < c->n_functions; i++)
            if (health_until(c->function_names[i], c->function_urls[i], &c->endpoint[i], deadline_ms,
                             err) != 0)
                return -1;
        return 0;
    }
    if (c->n_nodes == 0) return fg_err_set(err, "no nodes configured");
    for (int i = 0; i < c->n_nodes; i++)
        if (health_until(c->nodes[i].name, c->nodes[i].url, &c->endpoint[i], deadline_ms, err) != 0)
            return -1;
    return 0;
}
