/* http_client.c — flowgate's blocking HTTP requests (libcurl easy): one
 * POST per invocation, GET / health checks, and the pieces every transfer
 * shares: an endpoint's settings (fg_http_endpoint, fg_http_endpoint_headers),
 * Retry-After, and the bounded response body.
 *
 * Blocking suits the callers: the CLI's check and calibrate, and the health
 * wait before a run. The load generator has its own event loop (engine.c)
 * and takes the shared pieces from here. Requests go to the http or https
 * URL the endpoints file names, any host; never through a proxy unless the
 * file names one ("proxy"): an http_proxy variable left in a shell would
 * otherwise put a proxy silently between the driver and what it measures.
 * TLS is verified unless the file says "insecure". Header values are
 * secrets: they are handed to libcurl and never written anywhere else.
 *
 * The health wait gives up as soon as a stop is requested (Ctrl-C sets the
 * engine's flag): between attempts, and inside an attempt through
 * libcurl's progress callback, so a 30 s wait on a hung endpoint never
 * outlives the user's patience. */
#include "flowgate/cluster.h"
#include "cluster_internal.h"
#include "flowgate/engine.h"

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static void curl_init_once(void) { curl_global_init(CURL_GLOBAL_DEFAULT); }

void fg_http_endpoint(void *easy, const fg_endpoint_opts *o)
{
    curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https");
    /* "" = no proxy at all, whatever http_proxy/https_proxy/ALL_PROXY say. */
    curl_easy_setopt(easy, CURLOPT_PROXY, o && o->proxy[0] ? o->proxy : "");
    curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
    int insecure = o && o->insecure;
    curl_easy_setopt(easy, CURLOPT_SSL_VERIFYPEER, insecure ? 0L : 1L);
    curl_easy_setopt(easy, CURLOPT_SSL_VERIFYHOST, insecure ? 0L : 2L);
    if (!o) return;
    if (o->ca_file[0]) curl_easy_setopt(easy, CURLOPT_CAINFO, o->ca_file);
    if (o->cert_file[0]) curl_easy_setopt(easy, CURLOPT_SSLCERT, o->cert_file);
    if (o->key_file[0]) curl_easy_setopt(easy, CURLOPT_SSLKEY, o->key_file);
    if (o->aws_sigv4[0]) {
        curl_easy_setopt(easy, CURLOPT_AWS_SIGV4, o->aws_sigv4);
        curl_easy_setopt(easy, CURLOPT_USERPWD, o->aws_userpwd);
    }
}

void *fg_http_endpoint_headers(const fg_endpoint_opts *o)
{
    int own_type = 0;
    const char *h = o ? o->headers : "";
    for (int i = 0; o && i < o->n_headers; i++, h += strlen(h) + 1)
        if (!strncasecmp(h, "Content-Type", 12) && (h[12] == ':' || h[12] == ';')) own_type = 1;
    struct curl_slist *list = NULL, *next;
    if (!own_type && !(list = curl_slist_append(list, "Content-Type: application/json"))) return NULL;
    if (!(next = curl_slist_append(list, "Expect:"))) goto fail;   /* no 100-continue round trip */
    list = next;
    h = o ? o->headers : "";
    for (int i = 0; o && i < o->n_headers; i++, h += strlen(h) + 1) {
        if (!(next = curl_slist_append(list, h))) goto fail;
        list = next;
    }
    return list;
fail:
    curl_slist_free_all(list);
    return NULL;
}

double fg_http_retry_after_ms(void *easy)
{
    long code = 0;
    curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &code);
    if (code != 429 && code != 503) return -1;
    struct curl_header *hh;
    if (curl_easy_header(easy, "Retry-After", 0, CURLH_HEADER, -1, &hh) != CURLHE_OK) return -1;
    /* libcurl reads both forms, seconds and an HTTP date (0 when past). */
    curl_off_t s = 0;
    if (curl_easy_getinfo(easy, CURLINFO_RETRY_AFTER, &s) != CURLE_OK || s < 0) s = 0;
    return (double)s * 1000.0;
}

void fg_http_loopback_only(void *easy)
{
    curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http");
    curl_easy_setopt(easy, CURLOPT_PROXY, "");          /* never through a proxy */
    curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
}

size_t fg_http_body_write(char *data, size_t size, size_t nmemb, void *userp)
{
    fg_http_body *b = userp;
    size_t n = size * nmemb;
    if (b->limit && b->len + n > b->limit) {
        b->overflow = 1;
        return 0;   /* aborts the transfer: CURLE_WRITE_ERROR */
    }
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + n + 1) cap *= 2;
        char *grown = realloc(b->data, cap);
        if (!grown) return 0;
        b->data = grown;
        b->cap = cap;
    }
    memcpy(b->data + b->len, data, n);
    b->len += n;
    b->data[b->len] = 0;
    return n;
}

void fg_http_body_free(fg_http_body *b)
{
    free(b->data);
    memset(b, 0, sizeof *b);
}

static CURL *easy_for(const char *url, const fg_endpoint_opts *opts, double timeout_s,
                      fg_http_body *resp)
{
    pthread_once(&curl_once, curl_init_once);
    CURL *h = curl_easy_init();
    if (!h) return NULL;
    long ms = (long)(timeout_s * 1000);
    curl_easy_setopt(h, CURLOPT_URL, url);
    fg_http_endpoint(h, opts);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, ms < 1 ? 1L : ms);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, fg_http_body_write);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, resp);
    return h;
}

/* The POST (or, with method, e.g. PUT, that request with a body) behind
 * fg_http_post_opts; *retry_after_ms (when not NULL) gets
 * fg_http_retry_after_ms of the answer. */
static int send_body(const char *method, const char *url, const fg_endpoint_opts *opts,
                     const char *body, size_t len, double timeout_s, fg_buf *resp,
                     long *http_code, double *retry_after_ms, fg_err *err)
{
    resp->data = NULL;
    resp->len = 0;
    *http_code = 0;
    if (retry_after_ms) *retry_after_ms = -1;
    fg_http_body got = {.limit = FG_MAX_RESPONSE_BYTES};
    CURL *h = easy_for(url, opts, timeout_s, &got);
    struct curl_slist *hdr = h ? fg_http_endpoint_headers(opts) : NULL;
    if (!h || !hdr) {
        if (h) curl_easy_cleanup(h);
        return fg_err_set(err, "%s: cannot create a curl handle", url);
    }
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    if (method) curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
    CURLcode rc = curl_easy_perform(h);
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, http_code);
    if (retry_after_ms && rc == CURLE_OK) *retry_after_ms = fg_http_retry_after_ms(h);
    curl_slist_free_all(hdr);
    curl_easy_cleanup(h);
    if (rc != CURLE_OK) {
        int overflow = got.overflow;
        fg_http_body_free(&got);
        if (overflow)
            return fg_err_set(err, "%s: response larger than %zu bytes", url, FG_MAX_RESPONSE_BYTES);
        return fg_err_set(err, "%s: %s", url, curl_easy_strerror(rc));
    }
    resp->data = (unsigned char *)got.data;
    resp->len = got.len;
    return 0;
}

int fg_http_post_opts(const char *url, const fg_endpoint_opts *opts, const char *body,
                      size_t len, double timeout_s, fg_buf *resp, long *http_code, fg_err *err)
{
    return send_body(NULL, url, opts, body, len, timeout_s, resp, http_code, NULL, err);
}

int fg_http_put_opts(const char *url, const fg_endpoint_opts *opts, const char *body,
                     size_t len, double timeout_s, fg_buf *resp, long *http_code, fg_err *err)
{
    return send_body("PUT", url, opts, body, len, timeout_s, resp, http_code, NULL, err);
}

int fg_cluster_post(const char *url, const char *body, size_t len, double timeout_s,
                    fg_buf *resp, long *http_code, fg_err *err)
{
    return send_body(NULL, url, NULL, body, len, timeout_s, resp, http_code, NULL, err);
}

/* ---- GET ---------------------------------------------------------------- */

/* libcurl calls this many times a second while a transfer waits: a
 * nonzero return aborts it (CURLE_ABORTED_BY_CALLBACK). */
static int abort_on_stop(void *p, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
    (void)p; (void)dt; (void)dn; (void)ut; (void)un;
    return fg_engine_stop_requested();
}

int fg_http_get_json(const char *url, double timeout_s, long *http_code, cJSON **out, fg_err *err)
{
    return fg_http_get_json_opts(url, NULL, 1, timeout_s, http_code, out, err);
}

int fg_http_get_json_opts(const char *url, const fg_endpoint_opts *opts, int json_required,
                          double timeout_s, long *http_code, cJSON **out, fg_err *err)
{
    *out = NULL;
    *http_code = 0;
    fg_http_body resp = {.limit = 1 << 20};   /* GET / answers are a few hundred bytes */
    CURL *h = easy_for(url, opts, timeout_s, &resp);
    if (!h) return fg_err_set(err, "%s: cannot create a curl handle", url);
    /* The endpoint's headers (authorization) without the JSON body ones. */
    struct curl_slist *hdr = NULL, *next;
    const char *hv = opts ? opts->headers : "";
    for (int i = 0; opts && i < opts->n_headers; i++, hv += strlen(hv) + 1)
        if ((next = curl_slist_append(hdr, hv))) hdr = next;
    if (hdr) curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
    curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, abort_on_stop);
    /* curl's detail (e.g. which certificate check failed) makes the one line useful. */
    char errbuf[CURL_ERROR_SIZE] = "";
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
    CURLcode rc = curl_easy_perform(h);
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, http_code);
    curl_easy_cleanup(h);
    curl_slist_free_all(hdr);
    int ret = 0;
    if (rc == CURLE_ABORTED_BY_CALLBACK)
        ret = fg_err_set(err, "%s: interrupted", url);
    else if (rc != CURLE_OK)
        ret = fg_err_set(err, "%s%s%s", curl_easy_strerror(rc), errbuf[0] ? ": " : "", errbuf);
    else if (json_required ? *http_code != 200 : (*http_code < 200 || *http_code > 299))
        ret = fg_err_set(err, "HTTP %ld", *http_code);
    else if (!(*out = resp.data ? cJSON_ParseWithLength(resp.data, resp.len) : NULL) && json_required)
        ret = fg_err_set(err, "answer is not JSON");
    fg_http_body_free(&resp);
    return ret;
}

/* ---- health ------------------------------------------------------------- */

/* One GET /; on failure why names the reason. An endpoint whose success
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
    if (fg_http_get_json_opts(url, o, !any_2xx, timeout_s, &code, &j, &e) != 0) {
        snprintf(why, why_size, "%.200s", e.msg);
        return -1;
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
        if (fg_engine_stop_requested()) return fg_err_set(err, "%s", FG_HEALTH_INTERRUPTED);
        double left = deadline_ms - fg_now_mono_ms();
        double attempt_s = left / 1000.0;
        if (attempt_s > 2.0) attempt_s = 2.0;
        if (attempt_s < 0.2) attempt_s = 0.2;
        char last[256];
        if (health_once(base, o, attempt_s, last, sizeof last) == 0) return 0;
        /* The attempt the deadline cuts short can only say "timed out": it
         * does not replace the reason a whole attempt gave (a refused
         * certificate, an HTTP error) on a machine slow to answer. */
        int cut_short = strstr(last, "Timeout was reached") != NULL;
        if (!cut_short || !strcmp(why, "no attempt made")) snprintf(why, sizeof why, "%s", last);
        if (fg_engine_stop_requested()) return fg_err_set(err, "%s", FG_HEALTH_INTERRUPTED);
        if (fg_now_mono_ms() + 50 >= deadline_ms) break;
        sleep_ms(50);
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

/* ---- one invocation ----------------------------------------------------- */

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
        rc = send_body(NULL, url, o, body, len, left_s > 0.001 ? left_s : 0.001, &resp, &r->http_code, &wait_ms, &err);
        if (rc != 0 || wait_ms < 0) break;
        if (wait_ms > FG_RETRY_AFTER_CAP_MS) wait_ms = FG_RETRY_AFTER_CAP_MS;
        if (fg_now_mono_ms() + wait_ms - t0 >= timeout_s * 1000.0 || fg_engine_stop_requested()) break;
        fg_buf_free(&resp);
        r->retries++;
        sleep_ms((int)wait_ms);
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
