/* http_client.c — flowgate's blocking HTTP requests (libcurl easy): a
 * POST or PUT with a body, a GET of a JSON document, and the pieces every
 * transfer shares: an endpoint's settings (fg_http_endpoint, fg_http_endpoint_headers),
 * Retry-After, and the bounded response body.
 *
 * Blocking suits the callers: one invocation for check and calibrate
 * (invoke.c), the health wait before a run (cluster.c), link control. The load generator has its own event loop (engine.c)
 * and takes the shared pieces from here. Requests go to the http or https
 * URL the endpoints file names, any host; never through a proxy unless the
 * file names one ("proxy"): an http_proxy variable left in a shell would
 * otherwise put a proxy silently between the driver and what it measures.
 * TLS is verified unless the file says "insecure". Header values are
 * secrets: they are handed to libcurl and never written anywhere else.
 *
 * A GET gives up as soon as a stop is requested (Ctrl-C, stop.h) through
 * libcurl's progress callback, so a 30 s wait on a hung endpoint never
 * outlives the user's patience. */
#include "flowgate/http_client.h"
#include "flowgate/cluster.h"
#include "flowgate/stop.h"

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

int fg_http_send(const char *method, const char *url, const fg_endpoint_opts *opts,
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
    return fg_http_send(NULL, url, opts, body, len, timeout_s, resp, http_code, NULL, err);
}

int fg_http_put_opts(const char *url, const fg_endpoint_opts *opts, const char *body,
                     size_t len, double timeout_s, fg_buf *resp, long *http_code, fg_err *err)
{
    return fg_http_send("PUT", url, opts, body, len, timeout_s, resp, http_code, NULL, err);
}

int fg_cluster_post(const char *url, const char *body, size_t len, double timeout_s,
                    fg_buf *resp, long *http_code, fg_err *err)
{
    return fg_http_send(NULL, url, NULL, body, len, timeout_s, resp, http_code, NULL, err);
}

/* ---- GET ---------------------------------------------------------------- */

/* libcurl calls this many times a second while a transfer waits: a
 * nonzero return aborts it (CURLE_ABORTED_BY_CALLBACK). */
static int abort_on_stop(void *p, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
    (void)p; (void)dt; (void)dn; (void)ut; (void)un;
    return fg_stop_requested();
}

int fg_http_get_json(const char *url, double timeout_s, long *http_code, cJSON **out, fg_err *err)
{
    return fg_http_get_json_opts(url, NULL, 1, timeout_s, http_code, out, err);
}

/* A refused certificate or key stays refused however long one waits. */
static int tls_refused(CURLcode rc)
{
    return rc == CURLE_PEER_FAILED_VERIFICATION || rc == CURLE_SSL_CACERT_BADFILE ||
           rc == CURLE_SSL_CERTPROBLEM || rc == CURLE_SSL_ISSUER_ERROR ||
           rc == CURLE_SSL_PINNEDPUBKEYNOTMATCH || rc == CURLE_SSL_CRL_BADFILE;
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
    else if (rc != CURLE_OK) {
        ret = fg_err_set(err, "%s%s%s", curl_easy_strerror(rc), errbuf[0] ? ": " : "", errbuf);
        if (tls_refused(rc)) ret = FG_HTTP_PERMANENT;
    } else if (json_required ? *http_code != 200 : (*http_code < 200 || *http_code > 299))
        ret = fg_err_set(err, "HTTP %ld", *http_code);
    else if (!(*out = resp.data ? cJSON_ParseWithLength(resp.data, resp.len) : NULL) && json_required)
        ret = fg_err_set(err, "answer is not JSON");
    fg_http_body_free(&resp);
    return ret;
}
