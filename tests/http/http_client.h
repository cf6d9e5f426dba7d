/* http_client.h — the small blocking HTTP client the HTTP tests share
 * (libcurl easy): one request, status, body, and the Allow header. */
#ifndef FLOWGATE_TESTS_HTTP_CLIENT_H
#define FLOWGATE_TESTS_HTTP_CLIENT_H
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <curl/curl.h>
#include <cjson/cJSON.h>

typedef struct http_resp {
    long status;
    char *body;
    size_t len;
    char allow[64];
    int curl_rc;
} http_resp;

static inline size_t http_body_cb(char *p, size_t size, size_t n, void *ud)
{
    http_resp *r = ud;
    size_t add = size * n;
    char *grown = realloc(r->body, r->len + add + 1);
    if (!grown) return 0;
    memcpy(grown + r->len, p, add);
    r->body = grown;
    r->len += add;
    r->body[r->len] = 0;
    return add;
}

/* When header line p (len bytes) is `name` (e.g. "Allow:"), its value,
 * trimmed, into dst. */
static inline void http_header_value(const char *p, size_t len, const char *name, char *dst,
                                     size_t size)
{
    size_t k = strlen(name);
    if (len <= k || strncasecmp(p, name, k)) return;
    size_t v = len - k;
    const char *s = p + k;
    while (v && *s == ' ') { s++; v--; }
    while (v && (s[v - 1] == '\r' || s[v - 1] == '\n')) v--;
    if (v >= size) v = size - 1;
    memcpy(dst, s, v);
    dst[v] = 0;
}

static inline size_t http_header_cb(char *p, size_t size, size_t n, void *ud)
{
    http_resp *r = ud;
    http_header_value(p, size * n, "Allow:", r->allow, sizeof r->allow);
    return size * n;
}

/* Prepares a handle; the caller may add options before http_perform. */
static inline CURL *http_handle(const char *method, const char *url, http_resp *r)
{
    memset(r, 0, sizeof *r);
    CURL *h = curl_easy_init();
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, http_body_cb);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, r);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, http_header_cb);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, r);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, 120L);
    return h;
}

static inline void http_perform(CURL *h, http_resp *r)
{
    r->curl_rc = curl_easy_perform(h);
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r->status);
    curl_easy_cleanup(h);
}

static inline void http_request(const char *method, const char *url, const void *body, size_t len,
                         http_resp *r)
{
    CURL *h = http_handle(method, url, r);
    struct curl_slist *hdrs = NULL;
    if (body) {
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
        hdrs = curl_slist_append(hdrs, "Content-Type: application/json");
        hdrs = curl_slist_append(hdrs, "Expect:");
        curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
    }
    http_perform(h, r);
    curl_slist_free_all(hdrs);
}

static inline void http_resp_free(http_resp *r)
{
    free(r->body);
    r->body = NULL;
}

/* POSTs the printed req (deleted) and parses the reply (NULL if not JSON). */
static inline cJSON *http_post_json(const char *url, cJSON *req, long *status)
{
    char *text = cJSON_PrintUnformatted(req);
    cJSON_Delete(req);
    http_resp r;
    http_request("POST", url, text, strlen(text), &r);
    free(text);
    *status = r.status;
    cJSON *out = r.body ? cJSON_Parse(r.body) : NULL;
    http_resp_free(&r);
    return out;
}

#endif
