/* invoke.c — one synchronous invocation (invoke.h): POST the body, wait out
 * 429/503 Retry-After within the timeout, and judge the answer by the
 * endpoint's success rule, naming what was wrong in one line. */
#include "flowgate/invoke.h"
#include "flowgate/http_client.h"
#include "flowgate/stop.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

int fg_cluster_invoke(const fg_cluster *c, int node, const char *function,
                      const char *body, size_t len, double timeout_s, fg_invoke_result *r)
{
    memset(r, 0, sizeof *r);
    r->exec_ms = NAN;
    r->rtt_ms = NAN;
    char url[512];
    if (fg_cluster_invoke_url(c, node, function, url, sizeof url) != 0) {
        snprintf(r->error, sizeof r->error, "no URL for %s", function);
        return -1;
    }
    const fg_endpoint_opts *o = fg_cluster_endpoint(c, fg_cluster_endpoint_index(c, node, function));
    fg_buf resp;
    fg_err err;
    double t0 = fg_now_mono_ms(), wait_ms;
    int rc;
    /* 429/503 with Retry-After: wait as told (at most FG_RETRY_AFTER_CAP_MS
     * a time) while the timeout allows; rtt_ms then includes the waits. */
    for (;;) {
        double left_s = timeout_s - (fg_now_mono_ms() - t0) / 1000.0;
        rc = fg_http_send(NULL, url, o, body, len, left_s > 0.001 ? left_s : 0.001, &resp, &r->http_code, &wait_ms, &err);
        if (rc != 0 || wait_ms < 0) break;
        if (wait_ms > FG_RETRY_AFTER_CAP_MS) wait_ms = FG_RETRY_AFTER_CAP_MS;
        if (fg_now_mono_ms() + wait_ms - t0 >= timeout_s * 1000.0 || fg_stop_requested()) break;
        fg_buf_free(&resp);
        r->retries++;
        fg_sleep_ms((int)wait_ms);
    }
    r->rtt_ms = fg_now_mono_ms() - t0;
    if (rc != 0) {
        snprintf(r->error, sizeof r->error, "%s", err.msg);
        return -1;
    }
    r->response = resp.data ? cJSON_ParseWithLength((const char *)resp.data, resp.len) : NULL;
    fg_buf_free(&resp);
    const cJSON *message = cJSON_GetObjectItemCaseSensitive(r->response, "message");
    const cJSON *exec = cJSON_GetObjectItemCaseSensitive(r->response, "exec_ms");
    if (cJSON_IsNumber(exec)) r->exec_ms = exec->valuedouble;
    r->cold_start = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(r->response, "cold_start"));
    int http2xx = o->success == FG_SUCCESS_HTTP2XX;
    if (!r->response && !(http2xx && fg_endpoint_reply_ok(o, r->http_code, NULL))) {
        snprintf(r->error, sizeof r->error, "HTTP %ld with a body that is not JSON", r->http_code);
    } else if (!fg_endpoint_reply_ok(o, r->http_code, r->response)) {
        /* a 200 with "status":"error" is a failure too */
        snprintf(r->error, sizeof r->error, "HTTP %ld: %s", r->http_code,
                 cJSON_IsString(message) ? message->valuestring
                 : http2xx ? "not a 2xx answer" : "the answer does not satisfy the success rule");
        if (!http2xx && !cJSON_IsString(message))
            snprintf(r->error, sizeof r->error, "HTTP %ld: no \"%.60s\":\"%.60s\" in the answer",
                     r->http_code, fg_endpoint_success_field(o), fg_endpoint_success_equals(o));
    } else {
        /* an endpoints file that maps a function to the wrong container */
        const cJSON *fn = cJSON_GetObjectItemCaseSensitive(r->response, "function");
        if (cJSON_IsString(fn) && strcmp(fn->valuestring, function))
            snprintf(r->error, sizeof r->error, "answered by %.100s, not %.100s", fn->valuestring, function);
        else
            r->ok = 1;
    }
    return r->ok ? 0 : -1;
}

void fg_invoke_result_free(fg_invoke_result *r)
{
    cJSON_Delete(r->response);
    r->response = NULL;
}
