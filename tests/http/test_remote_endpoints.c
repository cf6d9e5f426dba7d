/* test_remote_endpoints.c — an endpoints file pointing at an https
 * endpoint that wants a bearer token, driven through the engine and the
 * blocking client. The test starts its own libmicrohttpd server with TLS on
 * 127.0.0.1 (a throwaway self-signed certificate made by openssl into a
 * temporary directory), which checks "Authorization: Bearer <token>" and
 * answers the recognizer's functions with canned flowgate-style replies
 * (the clean path). The token comes from an environment variable through
 * ${NAME} in the file. It checks:
 *   - with the certificate as ca_file: health, one invocation and a whole
 *     experiment succeed, every request carried the token, and an
 *     https_proxy in the environment is ignored;
 *   - without the CA, verification fails with one line; "insecure" works;
 *   - a wrong token: every invocation is an "http" failure with code 401;
 *   - 429 + Retry-After (seconds, then an HTTP date) is waited out, resent
 *     and counted in retries_429_503, its wait inside the latency; one
 *     that would outlast the timeout is an http 429 failure. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include "../entry_check.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "flowgate/common.h"
#include "flowgate/engine.h"
#include "flowgate/http_client.h"
#include "flowgate/image.h"
#include "flowgate/invoke.h"

#define TOKEN_VAR "FG_TEST_REMOTE_TOKEN"
#define TOKEN "t0k3n-remote-test"

static fg_workflow wf;
static char dir[64], cert_path[128], key_path[128], endpoints[128];
static char *cert_pem, *key_pem;

/* ---- the TLS function server ------------------------------------------ */

static struct {
    struct MHD_Daemon *d;
    int port;
    pthread_mutex_t lock;
    int requests, authorized, unauthorized;
    int throttle;            /* the next n invocations answer 429 */
    int throttle_date;       /* the second and later ones say it as an HTTP date */
    int retry_after_s;
    int throttled;
} srv = {.lock = PTHREAD_MUTEX_INITIALIZER};

typedef struct req_body { size_t len; } req_body;

static const char *reply_for(const char *fn)
{
    if (!strcmp(fn, "recognizer__upload"))
        return "{\"status\":\"success\",\"exec_ms\":1.0,\"cold_start\":false,"
               "\"ref\":{\"node\":\"node0\",\"key\":\"k1\",\"bytes\":100}}";
    if (!strcmp(fn, "recognizer__adult"))
        return "{\"status\":\"success\",\"exec_ms\":1.0,\"cold_start\":false,\"is_adult\":false,\"confidence\":0.1}";
    if (!strcmp(fn, "recognizer__violence"))
        return "{\"status\":\"success\",\"exec_ms\":1.0,\"cold_start\":false,\"illegal\":false,\"confidence\":0.1}";
    if (!strcmp(fn, "recognizer__extract"))
        return "{\"status\":\"success\",\"exec_ms\":1.0,\"cold_start\":false,\"text\":\"HOLA MUNDO\"}";
    if (!strcmp(fn, "recognizer__translate"))
        return "{\"status\":\"success\",\"exec_ms\":1.0,\"cold_start\":false,\"translated_text\":\"hello world\"}";
    if (!strcmp(fn, "recognizer__censor"))
        return "{\"status\":\"success\",\"exec_ms\":1.0,\"cold_start\":false,\"illegal\":false,"
               "\"filtered_text\":\"hello world\"}";
    return NULL;
}

static enum MHD_Result answer(struct MHD_Connection *conn, unsigned status, const char *body,
                              const char *retry_after)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(strlen(body), (void *)body,
                                                             MHD_RESPMEM_MUST_COPY);
    MHD_add_response_header(r, "Content-Type", "application/json");
    if (retry_after) MHD_add_response_header(r, "Retry-After", retry_after);
    enum MHD_Result ret = MHD_queue_response(conn, status, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *conn, const char *url,
                              const char *method, const char *version, const char *upload,
                              size_t *upload_size, void **con_cls)
{
    (void)cls;
    (void)version;
    (void)upload;
    if (!*con_cls) {   /* first call: headers only */
        req_body *b = calloc(1, sizeof *b);
        if (!b) return MHD_NO;
        *con_cls = b;
        return MHD_YES;
    }
    req_body *b = *con_cls;
    if (*upload_size) {   /* the body is read, not decoded */
        b->len += *upload_size;
        *upload_size = 0;
        return MHD_YES;
    }
    const char *auth = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Authorization");
    int ok = auth && !strcmp(auth, "Bearer " TOKEN);
    pthread_mutex_lock(&srv.lock);
    srv.requests++;
    if (ok) srv.authorized++;
    else srv.unauthorized++;
    int throttle = ok && !strcmp(method, "POST") && srv.throttle > 0;
    int as_date = 0;
    if (throttle) {
        srv.throttle--;
        as_date = srv.throttle_date && srv.throttled > 0;
        srv.throttled++;
    }
    int retry_after_s = srv.retry_after_s;
    pthread_mutex_unlock(&srv.lock);

    if (!ok) return answer(conn, 401, "{\"status\":\"error\",\"message\":\"unauthorized\"}", NULL);
    if (!strcmp(method, "GET") && !strcmp(url, "/"))
        return answer(conn, 200, "{\"status\":\"healthy\",\"node\":\"node0\"}", NULL);
    if (throttle) {
        char when[64];
        if (as_date) {
            time_t t = time(NULL) + retry_after_s;
            struct tm tm;
            strftime(when, sizeof when, "%a, %d %b %Y %H:%M:%S GMT", gmtime_r(&t, &tm));
        } else {
            snprintf(when, sizeof when, "%d", retry_after_s);
        }
        return answer(conn, 429, "{\"status\":\"error\",\"message\":\"slow down\"}", when);
    }
    const char *reply = !strncmp(url, "/invoke/", 8) ? reply_for(url + 8) : NULL;
    if (!reply) return answer(conn, 404, "{\"status\":\"error\",\"message\":\"no such function\"}", NULL);
    return answer(conn, 200, reply, NULL);
}

static void completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                      enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)conn;
    (void)toe;
    free(*con_cls);
    *con_cls = NULL;
}

static void server_reset(int throttle, int throttle_date, int retry_after_s)
{
    pthread_mutex_lock(&srv.lock);
    srv.requests = srv.authorized = srv.unauthorized = srv.throttled = 0;
    srv.throttle = throttle;
    srv.throttle_date = throttle_date;
    srv.retry_after_s = retry_after_s;
    pthread_mutex_unlock(&srv.lock);
}

/* ---- fixtures --------------------------------------------------------- */

static char *slurp(const char *p)
{
    fg_buf b;
    fg_err err;
    if (fg_read_file(p, 1 << 20, &b, &err) != 0) return NULL;
    char *s = malloc(b.len + 1);
    if (s) {
        memcpy(s, b.data, b.len);
        s[b.len] = 0;
    }
    fg_buf_free(&b);
    return s;
}

static int setup(void **state)
{
    (void)state;
    if (recognizer_workflow_load(&wf) != 0) return -1;
    snprintf(dir, sizeof dir, "/tmp/test_remote_XXXXXX");
    if (!mkdtemp(dir)) return -1;
    snprintf(cert_path, sizeof cert_path, "%s/cert.pem", dir);
    snprintf(key_path, sizeof key_path, "%s/key.pem", dir);
    snprintf(endpoints, sizeof endpoints, "%s/endpoints.json", dir);
    char cmd[512];
    snprintf(cmd, sizeof cmd,
             "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1 "
             "-addext subjectAltName=IP:127.0.0.1 -keyout %s -out %s >/dev/null 2>&1",
             key_path, cert_path);
    if (system(cmd) != 0 || !(cert_pem = slurp(cert_path)) || !(key_pem = slurp(key_path))) {
        fprintf(stderr, "setup: openssl could not make a certificate\n");
        return -1;
    }
    /* 127.0.0.1 only, an ephemeral port. */
    static struct sockaddr_in loopback;
    loopback.sin_family = AF_INET;
    loopback.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    srv.d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION | MHD_USE_TLS,
                             0, NULL, NULL, handle, NULL,
                             MHD_OPTION_HTTPS_MEM_KEY, key_pem, MHD_OPTION_HTTPS_MEM_CERT, cert_pem,
                             MHD_OPTION_NOTIFY_COMPLETED, completed, NULL,
                             MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&loopback, MHD_OPTION_END);
    if (!srv.d) {
        fprintf(stderr, "setup: libmicrohttpd did not start with TLS\n");
        return -1;
    }
    srv.port = MHD_get_daemon_info(srv.d, MHD_DAEMON_INFO_BIND_PORT)->port;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    if (srv.d) MHD_stop_daemon(srv.d);
    fg_workflow_free(&wf);
    unlink(cert_path);
    unlink(key_path);
    unlink(endpoints);
    rmdir(dir);
    free(cert_pem);
    free(key_pem);
    return 0;
}

/* Writes the endpoints file: one node at the server; tls as given ("" none). */
static void load_cluster(const char *tls, fg_cluster *c)
{
    FILE *f = fopen(endpoints, "w");
    assert_non_null(f);
    fprintf(f, "{\"mode\":\"nodes\",\"headers\":{\"Authorization\":\"Bearer ${" TOKEN_VAR "}\"}%s%s,"
            "\"nodes\":[{\"name\":\"node0\",\"url\":\"https://127.0.0.1:%d\",\"workers\":2}]}",
            *tls ? ",\"tls\":" : "", tls, srv.port);
    fclose(f);
    fg_err err = {""};
    if (fg_cluster_load_endpoints(endpoints, c, &err) != 0) fail_msg("%s", err.msg);
}

static void with_ca(fg_cluster *c)
{
    char tls[256];
    snprintf(tls, sizeof tls, "{\"ca_file\":\"%s\"}", cert_path);
    load_cluster(tls, c);
}

/* A small real PNG (by reference), loaded the normal way. */
static void small_payload(fg_payload *p)
{
    fg_image img;
    assert_int_equal(fg_image_alloc(&img, 16, 16), 0);
    memset(img.rgb, 200, 16 * 16 * 3);
    fg_buf png;
    assert_int_equal(fg_png_encode(&img, 6, &png, NULL), 0);
    fg_image_free(&img);
    char path[256];
    snprintf(path, sizeof path, "%s/p.png", dir);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(png.data, 1, png.len, f), png.len);
    fclose(f);
    fg_buf_free(&png);
    fg_err err = {""};
    assert_int_equal(fg_payload_load(&wf, path, 0, p, &err), 0);
    unlink(path);
}

static cJSON *run(const fg_cluster *c, int requests, double timeout_s)
{
    fg_payload p;
    small_payload(&p);
    fg_experiment x;
    memset(&x, 0, sizeof x);
    snprintf(x.id, sizeof x.id, "exp_remote_conc1_round_robin");
    snprintf(x.category, sizeof x.category, "http_test");
    snprintf(x.scheduler, sizeof x.scheduler, "round_robin");
    x.concurrency = 1;
    x.requests = requests;
    x.warmup = 0;   /* every instance measured: counters are exact */
    x.timeout_s = timeout_s;
    cJSON *entry = NULL;
    fg_err err = {""};
    int rc = fg_experiment_run(&x, &wf, c, &p, NULL, &entry, &err);
    fg_payload_free(&p);
    if (rc) fail_msg("%s", err.msg);
    check_accounting(entry);
    return entry;
}

static const char *upload_body = "{\"img_b64\":\"\",\"by_ref\":true}";

/* ---- tests ------------------------------------------------------------ */

static void test_https_with_token(void **state)
{
    (void)state;
    setenv(TOKEN_VAR, TOKEN, 1);
    /* A proxy variable left in the shell must not apply (nothing listens there). */
    setenv("https_proxy", "http://127.0.0.1:9", 1);
    setenv("HTTPS_PROXY", "http://127.0.0.1:9", 1);
    server_reset(0, 0, 0);
    fg_cluster c;
    with_ca(&c);
    fg_err err = {""};
    if (fg_cluster_health(&c, 60, &err) != 0) fail_msg("%s", err.msg);

    fg_invoke_result r;
    fg_cluster_invoke(&c, 0, "recognizer__adult", upload_body, strlen(upload_body), 60, &r);
    if (!r.ok) fail_msg("%s", r.error);
    assert_int_equal(r.http_code, 200);
    fg_invoke_result_free(&r);

    cJSON *e = run(&c, 3, 60);
    assert_int_equal(num(e, "requests/ok"), 3);
    assert_int_equal(num(e, "functions/recognizer__censor/invocations"), 3);
    assert_int_equal(num(e, "functions/recognizer__upload/retries_429_503"), 0);
    assert_int_equal(cJSON_GetArraySize(at(e, "errors")), 0);
    /* The token is a secret: nowhere in the results entry. */
    char *text = cJSON_PrintUnformatted(e);
    assert_null(strstr(text, TOKEN));
    free(text);
    cJSON_Delete(e);
    pthread_mutex_lock(&srv.lock);
    assert_int_equal(srv.unauthorized, 0);
    assert_true(srv.authorized >= 2 + 3 * 6);   /* health, invoke, 6 functions per instance */
    pthread_mutex_unlock(&srv.lock);
    unsetenv("https_proxy");
    unsetenv("HTTPS_PROXY");
}

static void test_verification(void **state)
{
    (void)state;
    setenv(TOKEN_VAR, TOKEN, 1);
    server_reset(0, 0, 0);
    /* No CA: the self-signed certificate is refused, in one line, at once.
     * The deadlines are long because a starved machine may take seconds to
     * finish a handshake; a refusal ends the wait, so they cost nothing. */
    fg_cluster c;
    load_cluster("", &c);
    fg_err err = {""};
    double started = fg_now_mono_ms();
    assert_int_equal(fg_cluster_health(&c, 60, &err), -1);
    if (fg_now_mono_ms() - started > 50000) fail_msg("a refused certificate was retried: %s", err.msg);
    if (!strstr(err.msg, "certificate")) fail_msg("no certificate in: %s", err.msg);
    assert_null(strchr(err.msg, '\n'));
    fg_invoke_result r;
    assert_int_equal(fg_cluster_invoke(&c, 0, "recognizer__adult", upload_body, strlen(upload_body), 60, &r), -1);
    assert_int_equal(r.http_code, 0);
    assert_null(strchr(r.error, '\n'));
    fg_invoke_result_free(&r);
    /* The engine: every instance fails, none on our side ("client"). */
    cJSON *e = run(&c, 2, 60);
    assert_int_equal(num(e, "requests/ok"), 0);
    assert_int_equal(num(e, "requests/failed"), 2);
    assert_int_equal(num(e, "functions/recognizer__upload/errors/connect"), 2);
    cJSON_Delete(e);

    /* "insecure": the explicit switch. */
    load_cluster("{\"insecure\":true}", &c);
    if (fg_cluster_health(&c, 60, &err) != 0) fail_msg("%s", err.msg);
    e = run(&c, 2, 60);
    assert_int_equal(num(e, "requests/ok"), 2);
    cJSON_Delete(e);
}

static void test_wrong_token(void **state)
{
    (void)state;
    setenv(TOKEN_VAR, "not-the-token", 1);
    server_reset(0, 0, 0);
    fg_cluster c;
    with_ca(&c);
    fg_invoke_result r;
    assert_int_equal(fg_cluster_invoke(&c, 0, "recognizer__adult", upload_body, strlen(upload_body), 60, &r), -1);
    assert_int_equal(r.http_code, 401);
    assert_null(strstr(r.error, "not-the-token"));
    fg_invoke_result_free(&r);
    cJSON *e = run(&c, 2, 60);
    assert_int_equal(num(e, "requests/failed"), 2);
    assert_int_equal(num(e, "functions/recognizer__upload/errors/http"), 2);
    const cJSON *first = cJSON_GetArrayItem(at(e, "errors"), 0);
    assert_string_equal(str(first, "class"), "http");
    if (!strstr(str(first, "message"), "HTTP 401")) fail_msg("%s", str(first, "message"));
    char *text = cJSON_PrintUnformatted(e);
    assert_null(strstr(text, "not-the-token"));
    free(text);
    cJSON_Delete(e);
    pthread_mutex_lock(&srv.lock);
    assert_int_equal(srv.authorized, 0);
    assert_true(srv.unauthorized >= 3);
    pthread_mutex_unlock(&srv.lock);
}

static void test_retry_after(void **state)
{
    (void)state;
    setenv(TOKEN_VAR, TOKEN, 1);
    fg_cluster c;
    with_ca(&c);
    /* Blocking client: one 429 "Retry-After: 1", then the answer. */
    server_reset(1, 0, 1);
    fg_invoke_result r;
    fg_cluster_invoke(&c, 0, "recognizer__adult", upload_body, strlen(upload_body), 60, &r);
    if (!r.ok) fail_msg("%s", r.error);
    assert_int_equal(r.retries, 1);
    assert_true(r.rtt_ms >= 900);   /* the wait is in the round trip */
    fg_invoke_result_free(&r);

    /* Engine: the first two invocations (both the upload) answer 429, in
     * seconds and then as an HTTP date; each is waited out and counted. */
    server_reset(2, 1, 1);
    cJSON *e = run(&c, 2, 60);
    assert_int_equal(num(e, "requests/ok"), 2);
    assert_int_equal(num(e, "functions/recognizer__upload/retries_429_503"), 2);
    assert_int_equal(num(e, "functions/recognizer__adult/retries_429_503"), 0);
    assert_int_equal(num(e, "functions/recognizer__upload/invocations"), 2);   /* resends are not invocations */
    assert_int_equal(num(e, "functions/recognizer__upload/errors/http"), 0);
    /* The waits are in the latency, never hidden: the first instance waited
     * ~1 s, then a date ~0-1 s ahead (whole seconds). */
    assert_true(num(e, "functions/recognizer__upload/latency_ms/max") >= 900);
    assert_true(num(e, "latency_ms/max") >= 900);
    cJSON_Delete(e);

    /* A wait longer than the timeout allows: an http 429 failure. A wait
     * at the cap (FG_RETRY_AFTER_CAP_MS, 5 s) outlasts any timeout under it,
     * and 4.5 s leaves a slow machine room to deliver the 429 itself. */
    server_reset(1, 0, (int)(FG_RETRY_AFTER_CAP_MS / 1000));
    e = run(&c, 1, 4.5);
    assert_int_equal(num(e, "requests/failed"), 1);
    assert_int_equal(num(e, "functions/recognizer__upload/errors/http"), 1);
    assert_int_equal(num(e, "functions/recognizer__upload/retries_429_503"), 0);
    if (!strstr(str(cJSON_GetArrayItem(at(e, "errors"), 0), "message"), "HTTP 429"))
        fail_msg("expected HTTP 429");
    cJSON_Delete(e);
    unsetenv(TOKEN_VAR);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_https_with_token),
        cmocka_unit_test(test_verification),
        cmocka_unit_test(test_wrong_token),
        cmocka_unit_test(test_retry_after),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
