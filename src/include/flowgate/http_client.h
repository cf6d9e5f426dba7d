/* http_client.h — the HTTP pieces every transfer of flowgate shares, and one
 * blocking POST (src/lib/http_client.c). Included by cluster.h. */
#ifndef FLOWGATE_HTTP_CLIENT_H
#define FLOWGATE_HTTP_CLIENT_H
#include <stddef.h>
#include <cjson/cJSON.h>
#include "flowgate/common.h"

/* Every HTTP transfer of flowgate, blocking here or in the engine's event
 * loop, shares these two pieces. fg_http_loopback_only sets what keeps the
 * traffic on this machine whatever the environment says: http only (no
 * redirects to elsewhere), no proxy (http_proxy would send loopback
 * requests to it), no signals (threads). `easy` is a CURL *. */
void fg_http_loopback_only(void *easy);

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

/* One blocking POST of a JSON body (loopback only, no proxy). *http_code is
 * 0 when no response arrived; *resp receives the body. Returns -1 with the
 * transport error in err when the request could not complete. */
int fg_cluster_post(const char *url, const char *body, size_t len, double timeout_s,
                    fg_buf *resp, long *http_code, fg_err *err);

/* One blocking GET of a JSON document (loopback only, no proxy), e.g. a
 * node's GET /. 0 and *out (caller frees) on HTTP 200 with a JSON body;
 * else -1 with one line in err: the transport error, "HTTP <code>", "answer
 * is not JSON", or "<url>: interrupted" when a stop was requested
 * (fg_engine_request_stop) while it waited. */
int fg_http_get_json(const char *url, double timeout_s, long *http_code, cJSON **out,
                     fg_err *err);

#endif
