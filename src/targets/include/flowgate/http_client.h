/* http_client.h — the HTTP pieces every transfer of flowgate shares, and the
 * blocking requests (src/targets/http_client.c). */
#ifndef FLOWGATE_HTTP_CLIENT_H
#define FLOWGATE_HTTP_CLIENT_H
#include <stddef.h>
#include <cjson/cJSON.h>
#include "flowgate/common.h"

struct fg_endpoint_opts;   /* cluster.h */

/* Every HTTP transfer of flowgate, blocking here or in the engine's event
 * loop, shares these pieces. `easy` is a CURL *.
 *
 * fg_http_endpoint sets how to talk to one configured endpoint: http and
 * https only, TLS verified unless the file says "insecure", its client
 * certificate and CA file, its proxy or none (proxy variables in the
 * environment are ignored: a benchmark must not silently go through a
 * proxy), AWS SigV4 signing, no signals (threads). opts NULL: defaults.
 * Headers are separate (fg_http_endpoint_headers) because the engine
 * keeps one list per endpoint for its pooled handles.
 *
 * fg_http_loopback_only is the older, stricter form for traffic that must
 * stay on this machine (the embedded server, benchmarks): plain http only,
 * no proxy, no signals. */
void fg_http_endpoint(void *easy, const struct fg_endpoint_opts *opts);
void fg_http_loopback_only(void *easy);

/* Content-Type: application/json, no "Expect: 100-continue", then the
 * endpoint's own headers. A struct curl_slist * (free with
 * curl_slist_free_all), NULL when out of memory. */
void *fg_http_endpoint_headers(const struct fg_endpoint_opts *opts);

/* A 429 or 503 answer's Retry-After (delta seconds or an HTTP date), in
 * ms, after the transfer; -1 when the answer is neither or has no
 * Retry-After. Callers wait at most FG_RETRY_AFTER_CAP_MS at a time and
 * never past their own timeout. */
#define FG_RETRY_AFTER_CAP_MS 5000.0
double fg_http_retry_after_ms(void *easy);

/* A response body as libcurl delivers it: CURLOPT_WRITEFUNCTION =
 * fg_http_body_write, CURLOPT_WRITEDATA = the struct. It grows by doubling
 * and stays NUL-terminated; past `limit` bytes (0 = no limit) the write
 * fails, so the transfer ends with CURLE_WRITE_ERROR and `overflow` set. */
typedef struct fg_http_body {
    char *data;
    size_t len, cap, limit;
    int overflow;
} fg_http_body;
#define FG_MAX_RESPONSE_BYTES ((size_t)512 << 20)
size_t fg_http_body_write(char *data, size_t size, size_t nmemb, void *userp);
void   fg_http_body_free(fg_http_body *b);

/* One blocking request with a JSON body: POST (method NULL) or `method`
 * (e.g. "PUT"). *retry_after_ms, when not NULL, gets the answer's
 * fg_http_retry_after_ms. The forms below are its usual uses. */
int fg_http_send(const char *method, const char *url, const struct fg_endpoint_opts *opts,
                 const char *body, size_t len, double timeout_s, fg_buf *resp,
                 long *http_code, double *retry_after_ms, fg_err *err);

/* One blocking POST of a JSON body to an endpoint with settings opts (NULL:
 * defaults). *http_code is 0 when no response arrived; *resp receives the
 * body. Returns -1 with the transport error in err when the request could
 * not complete. */
int fg_cluster_post(const char *url, const char *body, size_t len, double timeout_s,
                    fg_buf *resp, long *http_code, fg_err *err);
int fg_http_post_opts(const char *url, const struct fg_endpoint_opts *opts, const char *body,
                      size_t len, double timeout_s, fg_buf *resp, long *http_code, fg_err *err);
/* The same request as a PUT. */
int fg_http_put_opts(const char *url, const struct fg_endpoint_opts *opts, const char *body,
                     size_t len, double timeout_s, fg_buf *resp, long *http_code, fg_err *err);

/* One blocking GET of a JSON document, e.g. a node's GET /. 0 and *out
 * (caller frees) on HTTP 200 with a JSON body; else -1 with one line in
 * err: the transport error, "HTTP <code>", "answer is not JSON", or "<url>:
 * interrupted" when a stop was requested (fg_stop_request) while it
 * waited. The _opts form uses an endpoint's settings (NULL: defaults) and,
 * with json_required 0, accepts any 2xx (then *out may be NULL).
 * FG_HTTP_PERMANENT (-2) instead of -1 when waiting cannot help: the peer's
 * TLS certificate or key was refused (wrong CA, pin, client certificate). */
#define FG_HTTP_PERMANENT (-2)
int fg_http_get_json(const char *url, double timeout_s, long *http_code, cJSON **out,
                     fg_err *err);
int fg_http_get_json_opts(const char *url, const struct fg_endpoint_opts *opts,
                          int json_required, double timeout_s, long *http_code, cJSON **out,
                          fg_err *err);

#endif
