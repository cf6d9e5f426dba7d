/* curl_floor.c — the least a libcurl-multi driver can cost: C connections,
 * each POSTing the same small JSON body again as soon as its answer is in,
 * nothing parsed, nothing recorded; the same event loop as the engine
 * (src/driver/evloop.c). bench_vs_wrk.sh runs it beside wrk and flowgate,
 * so the driver's cost splits into libcurl's (this) and flowgate's own
 * (the rest).
 *
 * usage: curl_floor URL CONNECTIONS REQUESTS BODY
 * prints: requests, seconds, requests/s */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flowgate/evloop.h"
#include "flowgate/common.h"

static size_t discard(char *p, size_t size, size_t n, void *u)
{
    (void)p;
    (void)u;
    return size * n;
}

int main(int argc, char **argv)
{
    if (argc != 5) {
        fprintf(stderr, "usage: curl_floor URL CONNECTIONS REQUESTS BODY\n");
        return 2;
    }
    const char *url = argv[1], *body = argv[4];
    int conns = atoi(argv[2]);
    long total = atol(argv[3]), started = 0, done = 0, failed = 0;
    if (conns < 1 || total < conns) {
        fprintf(stderr, "curl_floor: CONNECTIONS >= 1 and REQUESTS >= CONNECTIONS\n");
        return 2;
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    CURLM *multi = curl_multi_init();
    fg_evloop loop;
    if (!multi || fg_evloop_init(&loop, multi) != 0) return 2;
    struct curl_slist *hdr = curl_slist_append(NULL, "Content-Type: application/json");
    double t0 = fg_now_mono_ms();
    for (int i = 0; i < conns; i++, started++) {
        CURL *h = curl_easy_init();
        curl_easy_setopt(h, CURLOPT_URL, url);
        curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(body));
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard);
        curl_easy_setopt(h, CURLOPT_TCP_NODELAY, 1L);
        curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);   /* as the engine: no sigaction per transfer */
        curl_multi_add_handle(multi, h);
    }
    while (done < total) {
        fg_evloop_run_due(&loop);
        CURLMsg *m;
        int left, handled = 0;
        while ((m = curl_multi_info_read(multi, &left))) {
            if (m->msg != CURLMSG_DONE) continue;
            CURL *h = m->easy_handle;
            done++;
            handled++;
            if (m->data.result != CURLE_OK) failed++;
            curl_multi_remove_handle(multi, h);
            if (started < total) {
                started++;
                curl_multi_add_handle(multi, h);   /* same handle: same connection */
            } else {
                curl_easy_cleanup(h);
            }
        }
        if (!handled) fg_evloop_wait(&loop, fg_now_mono_ms() + 100);
    }
    double s = (fg_now_mono_ms() - t0) / 1000.0;
    printf("requests %ld failed %ld seconds %.3f rps %.1f\n", done, failed, s, done / s);
    curl_multi_cleanup(multi);
    fg_evloop_close(&loop);
    curl_slist_free_all(hdr);
    return failed ? 1 : 0;
}
