/* bench_functions.c — per-function throughput and latency of one node of
 * flowgate-functions. A closed loop on a curl multi event loop keeps
 * `concurrency` requests in flight per function until max_requests are
 * done or max_seconds have passed (measured requests only, after a warm-up
 * round that creates the warm OCR engines). req/s = completed requests /
 * measured wall time; latency runs from the moment a request is handed to
 * curl to its last byte; p50/p90 come from the sorted samples. A request
 * counts as ok only on HTTP 200 with "status":"success".
 *
 * usage: bench_functions URL SIZE_MB CONCURRENCY MAX_SECONDS MAX_REQUESTS */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <curl/curl.h>
#include <cjson/cJSON.h>

#include "flowgate/b64.h"
#include "flowgate/common.h"
#include "flowgate/http_client.h"
#include "flowgate/stats.h"
#include "flowgate/imagegen.h"

typedef struct slot {
    CURL *h;
    double t0;
    fg_http_body resp;
} slot;

static void start(CURLM *m, slot *s, const char *url, const char *body, size_t len,
                  struct curl_slist *hdrs)
{
    s->h = curl_easy_init();
    s->resp.len = 0;
    if (s->resp.data) s->resp.data[0] = 0;   /* an empty reply must not read as the last one */
    s->resp.limit = FG_MAX_RESPONSE_BYTES;
    fg_http_loopback_only(s->h);
    curl_easy_setopt(s->h, CURLOPT_URL, url);
    curl_easy_setopt(s->h, CURLOPT_POSTFIELDS, body);   /* not copied */
    curl_easy_setopt(s->h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    curl_easy_setopt(s->h, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(s->h, CURLOPT_WRITEFUNCTION, fg_http_body_write);
    curl_easy_setopt(s->h, CURLOPT_WRITEDATA, &s->resp);
    curl_easy_setopt(s->h, CURLOPT_PRIVATE, s);
    curl_easy_setopt(s->h, CURLOPT_TIMEOUT, 120L);
    s->t0 = fg_now_mono_ms();
    curl_multi_add_handle(m, s->h);
}

/* Runs up to max_requests (all of them when max_s <= 0) with conc in
 * flight; fills samples of the ok ones. Returns the wall time in ms. */
static double run(const char *url, const char *body, size_t len, int conc, double max_s,
                  int max_requests, double *samples, int *ok, int *failed)
{
    CURLM *m = curl_multi_init();
    struct curl_slist *hdrs = curl_slist_append(NULL, "Content-Type: application/json");
    hdrs = curl_slist_append(hdrs, "Expect:");
    slot *slots = calloc((size_t)conc, sizeof *slots);
    int issued = 0, running = 0;
    *ok = *failed = 0;
    double t0 = fg_now_mono_ms();
    for (int i = 0; i < conc && issued < max_requests; i++, issued++, running++)
        start(m, &slots[i], url, body, len, hdrs);
    while (running > 0) {
        int still;
        curl_multi_perform(m, &still);
        CURLMsg *msg;
        int left;
        while ((msg = curl_multi_info_read(m, &left))) {
            if (msg->msg != CURLMSG_DONE) continue;
            slot *s;
            curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&s);
            long status = 0;
            curl_easy_getinfo(s->h, CURLINFO_RESPONSE_CODE, &status);
            double ms = fg_now_mono_ms() - s->t0;
            int good = msg->data.result == CURLE_OK && status == 200 && s->resp.data &&
                       strstr(s->resp.data, "\"status\":\"success\"");
            if (good) samples[(*ok)++] = ms;
            else {
                (*failed)++;
                if (*failed <= 3)
                    fprintf(stderr, "bench: %s: HTTP %ld: %.200s\n", url, status,
                            s->resp.data ? s->resp.data : curl_easy_strerror(msg->data.result));
            }
            curl_multi_remove_handle(m, s->h);
            curl_easy_cleanup(s->h);
            running--;
            int time_left = max_s <= 0 || fg_now_mono_ms() - t0 < max_s * 1000.0;
            if (issued < max_requests && time_left) {
                start(m, s, url, body, len, hdrs);
                issued++;
                running++;
            }
        }
        if (running > 0) curl_multi_poll(m, NULL, 0, 100, NULL);
    }
    double wall = fg_now_mono_ms() - t0;
    for (int i = 0; i < conc; i++) fg_http_body_free(&slots[i].resp);
    free(slots);
    curl_slist_free_all(hdrs);
    curl_multi_cleanup(m);
    return wall;
}

static char *request_body(const char *fn, const char *img_b64, const char *text)
{
    cJSON *o = cJSON_CreateObject();
    if (!strcmp(fn, "translate") || !strcmp(fn, "censor"))
        cJSON_AddStringToObject(o, "text", text);
    else
        cJSON_AddItemToObject(o, "img_b64", cJSON_CreateStringReference(img_b64));
    char *s = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    return s;
}

int main(int argc, char **argv)
{
    if (argc != 6) {
        fprintf(stderr, "usage: bench_functions URL SIZE_MB CONCURRENCY MAX_SECONDS MAX_REQUESTS\n");
        return 2;
    }
    const char *base = argv[1];
    double size_mb = atof(argv[2]), max_s = atof(argv[4]);
    int conc = atoi(argv[3]), max_requests = atoi(argv[5]);
    if (size_mb <= 0 || conc < 1 || max_s <= 0 || max_requests < 1) {
        fprintf(stderr, "bench_functions: bad arguments\n");
        return 2;
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    fg_buf png;
    fg_err err;
    if (fg_imagegen_png(size_mb, FG_VARIANT_CLEAN, 1, &png, &err) != 0) {
        fprintf(stderr, "bench_functions: %s\n", err.msg);
        return 2;
    }
    char *b64 = fg_b64_encode(png.data, png.len, NULL);
    const char *text = fg_variant_banner(FG_VARIANT_ILLEGAL_TEXT);
    printf("image %.2f MB (%zu bytes PNG), concurrency %d, up to %d requests or %.0f s per function\n",
           png.len / FG_MB, png.len, conc, max_requests, max_s);
    printf("%-10s %8s %7s %8s %9s %9s %9s\n", "function", "requests", "failed", "wall_s",
           "req/s", "p50_ms", "p90_ms");
    static const char *fns[] = {"upload", "adult", "violence", "extract", "translate",
                                "censor", "mosaic"};
    double *samples = malloc(sizeof(double) * (size_t)max_requests);
    int any_failed = 0;
    for (size_t i = 0; i < sizeof fns / sizeof fns[0]; i++) {
        char url[512];
        snprintf(url, sizeof url, "%s/invoke/recognizer__%s", base, fns[i]);
        char *body = request_body(fns[i], b64, text);
        int ok, failed;
        /* Warm-up, not measured: one request per worker. */
        run(url, body, strlen(body), conc, 0, conc, samples, &ok, &failed);
        double wall = run(url, body, strlen(body), conc, max_s, max_requests, samples, &ok, &failed);
        any_failed |= failed > 0;
        qsort(samples, (size_t)ok, sizeof *samples, fg_cmp_double);
        if (ok > 0 && wall > 0)
            /* %g: sub-millisecond functions keep their digits, never "0.0". */
            printf("%-10s %8d %7d %8.3g %9.4g %9.3g %9.3g\n", fns[i], ok, failed, wall / 1000,
                   ok / (wall / 1000), samples[(ok - 1) / 2], samples[(int)((ok - 1) * 0.9)]);
        else
            printf("%-10s %8d %7d %8s %9s %9s %9s\n", fns[i], ok, failed, "n/a", "n/a", "n/a", "n/a");
        fflush(stdout);
        free(body);
    }
    free(samples);
    free(b64);
    fg_buf_free(&png);
    curl_global_cleanup();
    return any_failed ? 1 : 0;
}
