/* test_cluster.c — endpoints files (each form, each malformed case, the
 * URL rules: any http/https host, a bad scheme or credentials refused;
 * endpoint settings: ${ENV} headers and an unset variable, header values
 * never in an error, TLS files, path templates, success rules; repeated
 * keys), invocation URLs, docker mode without an
 * engine, health of a closed port, Ctrl-C during the health wait (of an
 * endpoints file and of the embedded server), and /proc sampling. No
 * function server is needed: the embedded server is covered by
 * tests/http/test_cluster_embedded.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "flowgate/cluster.h"
#include "flowgate/engine.h"
#include "flowgate/stop.h"
#include "flowgate/embedded.h"

static char dir[64];
static char path[128];

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/test_cluster_XXXXXX");
    if (!mkdtemp(dir)) return -1;
    snprintf(path, sizeof path, "%s/endpoints.json", dir);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    unlink(path);
    rmdir(dir);
    return 0;
}

static void write_endpoints(const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

/* Loads text and expects failure with a message containing each fragment. */
static void assert_refused(const char *text, const char *frag1, const char *frag2)
{
    write_endpoints(text);
    fg_cluster c;
    fg_err err = {{0}};
    assert_int_equal(fg_cluster_load_endpoints(path, &c, &err), -1);
    if (!strstr(err.msg, path)) fail_msg("message lacks the file name: %s", err.msg);
    if (frag1 && !strstr(err.msg, frag1)) fail_msg("message lacks '%s': %s", frag1, err.msg);
    if (frag2 && !strstr(err.msg, frag2)) fail_msg("message lacks '%s': %s", frag2, err.msg);
    assert_null(strchr(err.msg, '\n'));
    assert_int_equal(c.n_nodes, 0);
}

static void test_nodes_form(void **state)
{
    (void)state;
    write_endpoints("{\"mode\":\"nodes\",\"nodes\":["
                    "{\"name\":\"node0\",\"url\":\"http://127.0.0.1:8101/\",\"workers\":3,\"bandwidth_mbit\":1000,\"latency_ms\":0.2},"
                    "{\"name\":\"node1\",\"url\":\"http://localhost:8102\",\"workers\":1},"
                    "{\"name\":\"node2\",\"url\":\"http://[::1]:8103\"}]}");
    fg_cluster c;
    fg_err err = {{0}};
    if (fg_cluster_load_endpoints(path, &c, &err) != 0) fail_msg("%s", err.msg);
    assert_int_equal(c.mode, FG_CLUSTER_NODES);
    assert_int_equal(c.n_nodes, 3);
    assert_string_equal(c.nodes[0].name, "node0");
    assert_string_equal(c.nodes[0].url, "http://127.0.0.1:8101");   /* trailing slash dropped */
    assert_int_equal(c.nodes[0].workers, 3);
    assert_true(c.nodes[0].bandwidth_mbit == 1000);
    assert_true(c.nodes[0].latency_ms == 0.2);
    assert_int_equal(c.nodes[1].workers, 1);
    assert_true(c.nodes[2].bandwidth_mbit == 0);   /* not emulated */
    assert_int_equal(c.nodes[2].workers, 1);
    assert_int_equal(c.server_pid, 0);

    char url[512];
    assert_int_equal(fg_cluster_invoke_url(&c, 1, "recognizer__extract", url, sizeof url), 0);
    assert_string_equal(url, "http://localhost:8102/invoke/recognizer__extract");
    assert_int_equal(fg_cluster_invoke_url(&c, 3, "recognizer__extract", url, sizeof url), -1);
    assert_int_equal(fg_cluster_invoke_url(&c, -1, "recognizer__extract", url, sizeof url), -1);
    assert_int_equal(fg_cluster_invoke_url(&c, 0, "recognizer__extract", url, 10), -1);
}

static void test_functions_form(void **state)
{
    (void)state;
    write_endpoints("{\"mode\":\"functions\",\"functions\":{"
                    "\"recognizer__upload\":\"http://127.0.0.1:8001\","
                    "\"recognizer__adult\":\"http://localhost:8002/\"}}");
    fg_cluster c;
    fg_err err = {{0}};
    if (fg_cluster_load_endpoints(path, &c, &err) != 0) fail_msg("%s", err.msg);
    assert_int_equal(c.mode, FG_CLUSTER_FUNCTIONS);
    assert_int_equal(c.n_functions, 2);
    assert_int_equal(c.n_nodes, 1);   /* the scheduler's one pseudo-node */
    char url[512];
    assert_int_equal(fg_cluster_invoke_url(&c, 0, "recognizer__adult", url, sizeof url), 0);
    assert_string_equal(url, "http://localhost:8002/invoke");
    assert_int_equal(fg_cluster_invoke_url(&c, 5, "recognizer__upload", url, sizeof url), 0);
    assert_string_equal(url, "http://127.0.0.1:8001/invoke");
    assert_int_equal(fg_cluster_invoke_url(&c, 0, "recognizer__mosaic", url, sizeof url), -1);
}

static void test_malformed_files(void **state)
{
    (void)state;
    assert_refused("{\"mode\":\"nodes\",", "invalid JSON", NULL);
    assert_refused("[1,2]", "expected a JSON object", NULL);
    assert_refused("{\"nodes\":[]}", "\"mode\"", NULL);
    assert_refused("{\"mode\":\"cluster\"}", "\"mode\"", "cluster");
    assert_refused("{\"mode\":\"nodes\"}", "\"nodes\"", NULL);
    assert_refused("{\"mode\":\"nodes\",\"nodes\":[]}", "\"nodes\"", "empty");
    assert_refused("{\"mode\":\"nodes\",\"nodes\":[{\"url\":\"http://127.0.0.1:1\"}]}", "nodes[0].name", NULL);
    assert_refused("{\"mode\":\"nodes\",\"nodes\":[{\"name\":\"a\",\"url\":\"http://127.0.0.1:1\"},{\"name\":\"b\"}]}",
                   "nodes[1].url", NULL);
    assert_refused("{\"mode\":\"nodes\",\"nodes\":[{\"name\":\"a\",\"url\":\"http://127.0.0.1:1\"},"
                   "{\"name\":\"a\",\"url\":\"http://127.0.0.1:2\"}]}", "nodes[1].name", "twice");
    assert_refused("{\"mode\":\"nodes\",\"nodes\":[{\"name\":\"a\",\"url\":\"http://127.0.0.1:1\",\"workers\":0}]}",
                   "nodes[0].workers", NULL);
    assert_refused("{\"mode\":\"nodes\",\"nodes\":[{\"name\":\"a\",\"url\":\"http://127.0.0.1:1\",\"workers\":2.5}]}",
                   "nodes[0].workers", NULL);
    assert_refused("{\"mode\":\"nodes\",\"nodes\":[{\"name\":\"a\",\"url\":\"http://127.0.0.1:1\",\"bandwidth_mbit\":\"fast\"}]}",
                   "nodes[0].bandwidth_mbit", NULL);
    assert_refused("{\"mode\":\"nodes\",\"nodes\":[{\"name\":\"a\",\"url\":\"http://127.0.0.1:1\",\"latency_ms\":-1}]}",
                   "nodes[0].latency_ms", NULL);
    assert_refused("{\"mode\":\"functions\",\"functions\":[\"http://127.0.0.1:1\"]}", "\"functions\"", NULL);
    assert_refused("{\"mode\":\"functions\",\"functions\":{}}", "\"functions\"", "empty");
    assert_refused("{\"mode\":\"functions\",\"functions\":{\"recognizer__upload\":8001}}",
                   "functions.recognizer__upload", NULL);
    assert_refused("{\"mode\":\"docker\",\"label\":\"x; rm -rf /\"}", "\"label\"", NULL);

    fg_cluster c;
    fg_err err = {{0}};
    assert_int_equal(fg_cluster_load_endpoints("/nonexistent/endpoints.json", &c, &err), -1);
    assert_non_null(strstr(err.msg, "/nonexistent/endpoints.json"));
}

static void test_url_rules(void **state)
{
    (void)state;
    /* Refused: not http(s), malformed, or credentials/query the results would show. */
    static const struct { const char *url, *why; } bad[] = {
        {"ftp://127.0.0.1", "scheme"}, {"127.0.0.1:8000", "URL"}, {"http://", "URL"},
        {"http://127.0.0.1:99999", "URL"}, {"https://user:pw@fn.example.com", "user:password"},
        {"https://fn.example.com/?a=1", "query"}, {"file:///etc/passwd", "scheme"},
    };
    char text[512];
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        snprintf(text, sizeof text, "{\"mode\":\"nodes\",\"nodes\":[{\"name\":\"n\",\"url\":\"%s\"}]}", bad[i].url);
        assert_refused(text, "nodes[0].url", bad[i].why);
        snprintf(text, sizeof text, "{\"mode\":\"functions\",\"functions\":{\"recognizer__adult\":\"%s\"}}", bad[i].url);
        assert_refused(text, "recognizer__adult", bad[i].why);
    }
    /* Accepted: https, remote hosts, a base path. */
    write_endpoints("{\"mode\":\"nodes\",\"nodes\":["
                    "{\"name\":\"a\",\"url\":\"https://127.0.0.1:8443\"},"
                    "{\"name\":\"b\",\"url\":\"http://10.0.0.5:8101/\"},"
                    "{\"name\":\"c\",\"url\":\"https://fn.example.com/base\"}]}");
    fg_cluster c;
    fg_err err = {{0}};
    if (fg_cluster_load_endpoints(path, &c, &err) != 0) fail_msg("%s", err.msg);
    assert_int_equal(c.n_nodes, 3);
    char url[512];
    assert_int_equal(fg_cluster_invoke_url(&c, 0, "recognizer__adult", url, sizeof url), 0);
    assert_string_equal(url, "https://127.0.0.1:8443/invoke/recognizer__adult");
    assert_int_equal(fg_cluster_invoke_url(&c, 1, "recognizer__adult", url, sizeof url), 0);
    assert_string_equal(url, "http://10.0.0.5:8101/invoke/recognizer__adult");
    assert_int_equal(fg_cluster_invoke_url(&c, 2, "recognizer__adult", url, sizeof url), 0);
    assert_string_equal(url, "https://fn.example.com/base/invoke/recognizer__adult");
    /* Defaults: verified TLS, no extra headers, the "status" rule. */
    assert_int_equal(c.endpoint[0].insecure, 0);
    assert_int_equal(c.endpoint[0].n_headers, 0);
    assert_int_equal(c.endpoint[0].success, FG_SUCCESS_FIELD);
    /* The loopback test still tells this machine apart (DOCKER_HOST). */
    assert_false(fg_cluster_url_is_loopback("http://10.0.0.5:8101"));
    assert_false(fg_cluster_url_is_loopback("http://127.0.0.1@evil.example:80"));
    assert_true(fg_cluster_url_is_loopback("http://127.0.0.1"));
    assert_true(fg_cluster_url_is_loopback("http://[::1]:1"));
}

/* Header n of an endpoint's packed list. */
static const char *header_at(const fg_endpoint_opts *o, int n)
{
    const char *h = o->headers;
    for (int i = 0; i < n; i++) h += strlen(h) + 1;
    return h;
}

static void test_headers_from_env(void **state)
{
    (void)state;
    setenv("FG_TEST_TOKEN", "tok-123", 1);
    unsetenv("FG_TEST_UNSET");
    /* File-wide headers, merged by name with a function's own. */
    write_endpoints("{\"mode\":\"functions\",\"headers\":{\"Authorization\":\"Bearer ${FG_TEST_TOKEN}\","
                    "\"X-Team\":\"perf\"},\"functions\":{"
                    "\"recognizer__upload\":\"https://fn.example.com\","
                    "\"recognizer__adult\":{\"url\":\"https://other.example.com\","
                    "\"headers\":{\"authorization\":\"Key ${FG_TEST_TOKEN}-2\",\"Host\":\"fn.example.com\"}}}}");
    fg_cluster c;
    fg_err err = {{0}};
    if (fg_cluster_load_endpoints(path, &c, &err) != 0) fail_msg("%s", err.msg);
    assert_int_equal(c.endpoint[0].n_headers, 2);
    assert_string_equal(header_at(&c.endpoint[0], 0), "Authorization: Bearer tok-123");
    assert_string_equal(header_at(&c.endpoint[0], 1), "X-Team: perf");
    assert_int_equal(c.endpoint[1].n_headers, 3);
    assert_string_equal(header_at(&c.endpoint[1], 0), "X-Team: perf");
    assert_string_equal(header_at(&c.endpoint[1], 1), "authorization: Key tok-123-2");
    assert_string_equal(header_at(&c.endpoint[1], 2), "Host: fn.example.com");

    /* An unset variable is named; a malformed reference too. */
    assert_refused("{\"mode\":\"nodes\",\"nodes\":[{\"name\":\"n\",\"url\":\"https://x.example\","
                   "\"headers\":{\"Authorization\":\"Bearer ${FG_TEST_UNSET}\"}}]}",
                   "nodes[0].headers.Authorization", "FG_TEST_UNSET is not set");
    assert_refused("{\"mode\":\"nodes\",\"headers\":{\"Authorization\":\"${FG_TEST_UNSET}\"},"
                   "\"nodes\":[{\"name\":\"n\",\"url\":\"https://x.example\"}]}",
                   "headers.Authorization", "FG_TEST_UNSET");
    assert_refused("{\"mode\":\"nodes\",\"nodes\":[{\"name\":\"n\",\"url\":\"https://x.example\","
                   "\"headers\":{\"X\":\"${FG_TEST_TOKEN\"}}]}", "headers.X", "malformed");
    assert_refused("{\"mode\":\"nodes\",\"nodes\":[{\"name\":\"n\",\"url\":\"https://x.example\","
                   "\"headers\":{\"Bad Name\":\"v\"}}]}", "not a valid header name", NULL);
    assert_refused("{\"mode\":\"functions\",\"functions\":{\"recognizer__adult\":{\"url\":\"https://x.example\","
                   "\"header\":{}}}}", "functions.recognizer__adult", "unknown key 'header'");
    unsetenv("FG_TEST_TOKEN");
}

static void test_header_values_redacted(void **state)
{
    (void)state;
    /* A secret that breaks a header (a line break: header injection) is
     * refused by name; neither the literal nor the expanded value shows. */
    setenv("FG_TEST_SECRET", "s3cr3t-value\r\nX-Injected: 1", 1);
    write_endpoints("{\"mode\":\"nodes\",\"nodes\":[{\"name\":\"n\",\"url\":\"https://x.example\","
                    "\"headers\":{\"Authorization\":\"Bearer hunter2-${FG_TEST_SECRET}\"}}]}");
    fg_cluster c;
    fg_err err = {{0}};
    assert_int_equal(fg_cluster_load_endpoints(path, &c, &err), -1);
    assert_non_null(strstr(err.msg, "headers.Authorization"));
    assert_non_null(strstr(err.msg, "line break"));
    assert_null(strstr(err.msg, "s3cr3t"));
    assert_null(strstr(err.msg, "hunter2"));
    assert_null(strchr(err.msg, '\n'));
    /* AWS credentials are secrets too; sigv4 needs them. */
    setenv("FG_TEST_SECRET", "AKIAEXAMPLE", 1);
    write_endpoints("{\"mode\":\"nodes\",\"nodes\":[{\"name\":\"n\",\"url\":\"https://x.example\","
                    "\"aws_sigv4\":\"aws:amz:us-east-1:lambda\",\"aws_credentials\":\"${FG_TEST_SECRET}\"}]}");
    assert_int_equal(fg_cluster_load_endpoints(path, &c, &err), -1);
    assert_non_null(strstr(err.msg, "aws_credentials"));
    assert_null(strstr(err.msg, "AKIA"));
    assert_refused("{\"mode\":\"nodes\",\"nodes\":[{\"name\":\"n\",\"url\":\"https://x.example\","
                   "\"aws_sigv4\":\"aws:amz:us-east-1:lambda\"}]}", "aws_sigv4 needs aws_credentials", NULL);
    write_endpoints("{\"mode\":\"nodes\",\"nodes\":[{\"name\":\"n\",\"url\":\"https://x.lambda-url.us-east-1.on.aws\","
                    "\"aws_sigv4\":\"aws:amz:us-east-1:lambda\",\"aws_credentials\":\"${FG_TEST_SECRET}:sec\"}]}");
    if (fg_cluster_load_endpoints(path, &c, &err) != 0) fail_msg("%s", err.msg);
    assert_string_equal(c.endpoint[0].aws_sigv4, "aws:amz:us-east-1:lambda");
    assert_string_equal(c.endpoint[0].aws_userpwd, "AKIAEXAMPLE:sec");
    unsetenv("FG_TEST_SECRET");
}

/* A throwaway certificate and key (plain, and the key encrypted) made by
 * the openssl tool into dir; 0 when made. */
static int make_tls_files(const char *cert, const char *key, const char *enc_key)
{
    char cmd[1200];
    snprintf(cmd, sizeof cmd,
             "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1 "
             "-keyout '%s' -out '%s' 2>/dev/null && "
             "openssl pkey -in '%s' -out '%s' -aes256 -passout pass:secret 2>/dev/null",
             key, cert, key, enc_key);
    return system(cmd) == 0 ? 0 : -1;
}

static void test_tls_settings(void **state)
{
    (void)state;
    char ca[192], garbage[192], key[192], enc_key[192], text[1400];
    snprintf(ca, sizeof ca, "%s/ca.pem", dir);
    snprintf(garbage, sizeof garbage, "%s/garbage.pem", dir);
    snprintf(key, sizeof key, "%s/key.pem", dir);
    snprintf(enc_key, sizeof enc_key, "%s/enc_key.pem", dir);
    if (make_tls_files(ca, key, enc_key) != 0) fail_msg("openssl could not make a certificate");
    FILE *f = fopen(garbage, "w");
    assert_non_null(f);
    fputs("-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----\n", f);
    fclose(f);
    snprintf(text, sizeof text, "{\"mode\":\"nodes\",\"tls\":{\"ca_file\":\"%s\"},\"nodes\":["
             "{\"name\":\"a\",\"url\":\"https://127.0.0.1:8443\"},"
             "{\"name\":\"b\",\"url\":\"https://127.0.0.1:8444\",\"tls\":{\"insecure\":true,"
             "\"cert_file\":\"%s\",\"key_file\":\"%s\"}}]}", ca, ca, key);
    write_endpoints(text);
    fg_cluster c;
    fg_err err = {{0}};
    if (fg_cluster_load_endpoints(path, &c, &err) != 0) fail_msg("%s", err.msg);
    assert_string_equal(c.endpoint[0].ca_file, ca);
    assert_int_equal(c.endpoint[0].insecure, 0);
    assert_int_equal(c.endpoint[1].insecure, 1);
    assert_string_equal(c.endpoint[1].ca_file, ca);   /* the file's, kept */
    assert_string_equal(c.endpoint[1].key_file, key);

    assert_refused("{\"mode\":\"nodes\",\"tls\":{\"ca_file\":\"/nonexistent/ca.pem\"},"
                   "\"nodes\":[{\"name\":\"a\",\"url\":\"https://127.0.0.1:8443\"}]}",
                   "tls.ca_file", "/nonexistent/ca.pem");
    /* Files that exist but hold no certificate or key: refused at load,
     * not retried as failed handshakes until the health wait gives up. */
    snprintf(text, sizeof text, "{\"mode\":\"nodes\",\"tls\":{\"ca_file\":\"%s\"},"
             "\"nodes\":[{\"name\":\"a\",\"url\":\"https://127.0.0.1:8443\"}]}", garbage);
    assert_refused(text, "tls.ca_file", "no PEM certificate in it");
    snprintf(text, sizeof text, "{\"mode\":\"nodes\",\"nodes\":[{\"name\":\"a\",\"url\":"
             "\"https://127.0.0.1:8443\",\"tls\":{\"cert_file\":\"%s\",\"key_file\":\"%s\"}}]}",
             key, key);
    assert_refused(text, "nodes[0].tls.cert_file", "no PEM certificate in it");
    snprintf(text, sizeof text, "{\"mode\":\"nodes\",\"nodes\":[{\"name\":\"a\",\"url\":"
             "\"https://127.0.0.1:8443\",\"tls\":{\"cert_file\":\"%s\",\"key_file\":\"%s\"}}]}",
             ca, ca);
    assert_refused(text, "nodes[0].tls.key_file", "no PEM private key in it");
    snprintf(text, sizeof text, "{\"mode\":\"nodes\",\"nodes\":[{\"name\":\"a\",\"url\":"
             "\"https://127.0.0.1:8443\",\"tls\":{\"cert_file\":\"%s\",\"key_file\":\"%s\"}}]}",
             ca, enc_key);
    assert_refused(text, "nodes[0].tls.key_file", "encrypted");
    assert_refused("{\"mode\":\"nodes\",\"nodes\":[{\"name\":\"a\",\"url\":\"https://127.0.0.1:8443\","
                   "\"tls\":{\"cert_file\":\"/nonexistent/c.pem\",\"key_file\":\"/nonexistent/k.pem\"}}]}",
                   "nodes[0].tls.cert_file", "cannot be read");
    snprintf(text, sizeof text, "{\"mode\":\"nodes\",\"nodes\":[{\"name\":\"a\",\"url\":\"https://127.0.0.1:8443\","
             "\"tls\":{\"key_file\":\"%s\"}}]}", key);
    assert_refused(text, "key_file", "without cert_file");
    assert_refused("{\"mode\":\"nodes\",\"nodes\":[{\"name\":\"a\",\"url\":\"https://127.0.0.1:8443\","
                   "\"tls\":{\"insecure\":\"yes\"}}]}", "tls.insecure", NULL);
    assert_refused("{\"mode\":\"nodes\",\"nodes\":[{\"name\":\"a\",\"url\":\"https://127.0.0.1:8443\","
                   "\"tls\":{\"verify\":false}}]}", "tls", "unknown key 'verify'");
    unlink(ca);
    unlink(garbage);
    unlink(key);
    unlink(enc_key);
}

static void test_path_and_success(void **state)
{
    (void)state;
    write_endpoints("{\"mode\":\"functions\",\"path\":\"/function/{function}\",\"success\":\"http2xx\","
                    "\"functions\":{\"recognizer__upload\":\"https://gw.example.com:8080\","
                    "\"recognizer__adult\":{\"url\":\"https://lambda.example.com\",\"path\":\"/\","
                    "\"success\":{\"field\":\"state\",\"equals\":\"done\"}}}}");
    fg_cluster c;
    fg_err err = {{0}};
    if (fg_cluster_load_endpoints(path, &c, &err) != 0) fail_msg("%s", err.msg);
    char url[512];
    assert_int_equal(fg_cluster_invoke_url(&c, 0, "recognizer__upload", url, sizeof url), 0);
    assert_string_equal(url, "https://gw.example.com:8080/function/recognizer__upload");
    assert_int_equal(fg_cluster_invoke_url(&c, 0, "recognizer__adult", url, sizeof url), 0);
    assert_string_equal(url, "https://lambda.example.com/");
    assert_int_equal(fg_cluster_invoke_url(&c, 0, "recognizer__upload", url, 40), -1);   /* too small */

    /* The rules decide a reply. */
    const fg_endpoint_opts *any2xx = fg_cluster_endpoint(&c, 0), *field = fg_cluster_endpoint(&c, 1);
    cJSON *done = cJSON_Parse("{\"state\":\"done\"}"), *legacy = cJSON_Parse("{\"status\":\"success\"}");
    assert_true(fg_endpoint_reply_ok(any2xx, 204, NULL));
    assert_false(fg_endpoint_reply_ok(any2xx, 500, done));
    assert_true(fg_endpoint_reply_ok(field, 200, done));
    assert_false(fg_endpoint_reply_ok(field, 200, legacy));
    assert_false(fg_endpoint_reply_ok(field, 200, NULL));
    assert_true(fg_endpoint_reply_ok(fg_cluster_endpoint(&c, -1), 200, legacy));   /* the default */
    assert_false(fg_endpoint_reply_ok(fg_cluster_endpoint(&c, -1), 200, done));
    cJSON_Delete(done);
    cJSON_Delete(legacy);

    /* A nodes file with a template of its own. */
    write_endpoints("{\"mode\":\"nodes\",\"nodes\":[{\"name\":\"n\",\"url\":\"http://10.1.2.3:8080\","
                    "\"path\":\"/2015-03-31/functions/{function}/invocations\"}]}");
    if (fg_cluster_load_endpoints(path, &c, &err) != 0) fail_msg("%s", err.msg);
    assert_int_equal(fg_cluster_invoke_url(&c, 0, "recognizer__censor", url, sizeof url), 0);
    assert_string_equal(url, "http://10.1.2.3:8080/2015-03-31/functions/recognizer__censor/invocations");

    assert_refused("{\"mode\":\"nodes\",\"path\":\"invoke\",\"nodes\":[{\"name\":\"n\",\"url\":\"http://h.example\"}]}",
                   "path", "starting with '/'");
    assert_refused("{\"mode\":\"nodes\",\"nodes\":[{\"name\":\"n\",\"url\":\"http://h.example\",\"path\":\"/x/{fn}\"}]}",
                   "nodes[0].path", "{function}");
    assert_refused("{\"mode\":\"nodes\",\"nodes\":[{\"name\":\"n\",\"url\":\"http://h.example\",\"success\":\"2xx\"}]}",
                   "nodes[0].success", "http2xx");
    assert_refused("{\"mode\":\"nodes\",\"nodes\":[{\"name\":\"n\",\"url\":\"http://h.example\",\"success\":{\"field\":\"status\"}}]}",
                   "nodes[0].success", NULL);
}

static void on_alarm(int sig)
{
    (void)sig;
    static const char msg[] = "test_cluster: docker mode hung\n";
    (void)!write(2, msg, sizeof msg - 1);
    _exit(3);
}

static void test_docker_without_engine(void **state)
{
    (void)state;
    /* This machine has the docker client but no engine; the client must
     * fail fast with one plain line. The alarm turns a hang into a failure. */
    signal(SIGALRM, on_alarm);
    alarm(40);
    write_endpoints("{\"mode\":\"docker\",\"label\":\"flowgate.function\"}");
    fg_cluster c;
    fg_err err = {{0}};
    assert_int_equal(fg_cluster_load_endpoints(path, &c, &err), -1);
    alarm(0);
    const char *prefix = "docker mode: no Docker engine reachable (docker ps: ";
    if (strncmp(err.msg, prefix, strlen(prefix)) != 0) fail_msg("unexpected: %s", err.msg);
    assert_int_equal(err.msg[strlen(err.msg) - 1], ')');
    assert_null(strchr(err.msg, '\n'));
    assert_int_equal(c.n_functions, 0);
}

static void test_docker_ps_parsing(void **state)
{
    (void)state;
    fg_cluster c;
    fg_err err = {{0}};
    const char *out =
        "rec-upload 0.0.0.0:8001->8001/tcp, :::8001->8001/tcp recognizer__upload\n"
        "rec-adult 127.0.0.1:8002->8080/tcp recognizer__adult\n"
        "rec-mosaic [::]:8007->80/tcp \n";
    if (fg_cluster_parse_docker_ps(out, "flowgate.function", &c, &err) != 0) fail_msg("%s", err.msg);
    assert_int_equal(c.mode, FG_CLUSTER_FUNCTIONS);
    assert_int_equal(c.n_functions, 3);
    assert_string_equal(c.function_names[0], "recognizer__upload");
    assert_string_equal(c.function_urls[0], "http://127.0.0.1:8001");
    assert_string_equal(c.function_urls[1], "http://127.0.0.1:8002");
    assert_string_equal(c.function_names[2], "rec-mosaic");   /* empty label: container name */
    assert_string_equal(c.function_urls[2], "http://127.0.0.1:8007");

    assert_int_equal(fg_cluster_parse_docker_ps("rec-x  recognizer__x\n", "l", &c, &err), -1);
    assert_non_null(strstr(err.msg, "publishes no port"));
    assert_int_equal(fg_cluster_parse_docker_ps("", "flowgate.function", &c, &err), -1);
    assert_non_null(strstr(err.msg, "no running container has the label 'flowgate.function'"));
}

static void test_health_names_unhealthy_endpoint(void **state)
{
    (void)state;
    /* port 1 on loopback: nothing listens there */
    write_endpoints("{\"mode\":\"functions\",\"functions\":{\"recognizer__censor\":\"http://127.0.0.1:1\"}}");
    fg_cluster c;
    fg_err err = {{0}};
    if (fg_cluster_load_endpoints(path, &c, &err) != 0) fail_msg("%s", err.msg);
    double t0 = fg_now_mono_ms();
    assert_int_equal(fg_cluster_health(&c, 0.3, &err), -1);
    assert_true(fg_now_mono_ms() - t0 < 3000);
    assert_non_null(strstr(err.msg, "recognizer__censor"));
    assert_non_null(strstr(err.msg, "http://127.0.0.1:1/"));
    assert_non_null(strstr(err.msg, "not healthy"));
}

static void test_duplicate_keys_refused(void **state)
{
    (void)state;
    /* cJSON keeps both; the second "url" would be ignored without a word */
    assert_refused("{\"mode\":\"nodes\",\"nodes\":[{\"name\":\"n0\",\"url\":\"http://127.0.0.1:1\","
                   "\"url\":\"http://127.0.0.1:2\"}]}", "duplicate key 'url'", NULL);
    assert_refused("{\"mode\":\"functions\",\"mode\":\"nodes\",\"functions\":{}}",
                   "duplicate key 'mode'", NULL);
}

/* ---- Ctrl-C during the health wait --------------------------------------
 * The stop flag is process-wide and never cleared, so each case runs in a
 * child: SIGALRM (setitimer) calls fg_stop_request as Ctrl-C does,
 * 300 ms into a wait whose deadline is 30 s. The child exits 0 when the
 * wait ended within 3 s with the interrupted message. */

static void stop_on_alarm(int sig)
{
    (void)sig;
    fg_stop_request();
}

static void arm_stop_in_300ms(void)
{
    signal(SIGALRM, stop_on_alarm);
    struct itimerval t = {{0, 0}, {0, 300000}};
    setitimer(ITIMER_REAL, &t, NULL);
}

typedef int (*child_fn)(void *ctx, char *msg, size_t size);

static void expect_child_ok(child_fn fn, void *ctx)
{
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(fds[0]);
        char msg[600] = "";
        int rc = fn(ctx, msg, sizeof msg);
        (void)!write(fds[1], msg, strlen(msg));
        _exit(rc);
    }
    close(fds[1]);
    char msg[600] = "";
    ssize_t n = read(fds[0], msg, sizeof msg - 1);
    msg[n > 0 ? n : 0] = 0;
    close(fds[0]);
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) fail_msg("child: %s", msg);
}

static int health_interrupted(void *ctx, char *msg, size_t size)
{
    fg_cluster *c = ctx;
    arm_stop_in_300ms();
    fg_err err = {{0}};
    double t0 = fg_now_mono_ms();
    int rc = fg_cluster_health(c, 30.0, &err);
    double ms = fg_now_mono_ms() - t0;
    snprintf(msg, size, "rc %d after %.0f ms: %s", rc, ms, err.msg);
    return rc == -1 && ms < 3000 && !strcmp(err.msg, FG_HEALTH_INTERRUPTED) ? 0 : 1;
}

static void test_health_wait_interrupted(void **state)
{
    (void)state;
    /* Nothing listens: every attempt is refused at once, the loop retries. */
    write_endpoints("{\"mode\":\"nodes\",\"nodes\":[{\"name\":\"n0\",\"url\":\"http://127.0.0.1:1\"}]}");
    fg_cluster c;
    fg_err err = {{0}};
    if (fg_cluster_load_endpoints(path, &c, &err) != 0) fail_msg("%s", err.msg);
    expect_child_ok(health_interrupted, &c);

    /* A listener that never answers: one attempt waits up to 2 s inside
     * libcurl, which the stop must cut short too. */
    int s = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(s >= 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(bind(s, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(s, 8), 0);
    socklen_t len = sizeof a;
    assert_int_equal(getsockname(s, (struct sockaddr *)&a, &len), 0);
    char text[256];
    snprintf(text, sizeof text,
             "{\"mode\":\"nodes\",\"nodes\":[{\"name\":\"n0\",\"url\":\"http://127.0.0.1:%d\"}]}",
             ntohs(a.sin_port));
    write_endpoints(text);
    if (fg_cluster_load_endpoints(path, &c, &err) != 0) fail_msg("%s", err.msg);
    expect_child_ok(health_interrupted, &c);
    close(s);
}

static int embedded_interrupted(void *ctx, char *msg, size_t size)
{
    const char *script = ctx;
    char profile[1024];
    snprintf(profile, sizeof profile, "%s/nodes.json", fg_data_dir());
    arm_stop_in_300ms();
    fg_cluster c;
    fg_err err = {{0}};
    double t0 = fg_now_mono_ms();
    int rc = fg_cluster_start_embedded(profile, script, 30.0, &c, &err);
    double ms = fg_now_mono_ms() - t0;
    /* The would-be server was stopped and reaped: no child is left. */
    errno = 0;
    int left = waitpid(-1, NULL, WNOHANG) != -1 || errno != ECHILD;
    snprintf(msg, size, "rc %d after %.0f ms, child left %d: %s", rc, ms, left, err.msg);
    return rc == -1 && ms < 3000 && !left && !strcmp(err.msg, FG_HEALTH_INTERRUPTED) &&
           c.server_pid == 0 ? 0 : 1;
}

static void test_embedded_wait_interrupted(void **state)
{
    (void)state;
    /* A "server" that never comes up: it writes no endpoints file. */
    char script[128];
    snprintf(script, sizeof script, "%s/never-up.sh", dir);
    FILE *f = fopen(script, "w");
    assert_non_null(f);
    fputs("#!/bin/sh\nexec sleep 60\n", f);
    fclose(f);
    assert_int_equal(chmod(script, 0755), 0);
    expect_child_ok(embedded_interrupted, script);
    unlink(script);
}

static void test_proc_sample(void **state)
{
    (void)state;
    fg_cluster c;
    memset(&c, 0, sizeof c);
    fg_proc_sample s = {0, 0, 0};
    assert_int_equal(fg_cluster_proc_sample(&c, &s), -1);   /* not started by us */
    assert_int_equal(fg_cluster_reset_peak_rss(&c), -1);
    fg_cluster_stop(&c);                                      /* a no-op */

    c.server_pid = getpid();
    volatile double x = 0;
    for (int i = 0; i < 20000000; i++) x += i * 0.5;          /* some CPU time */
    (void)x;
    assert_int_equal(fg_cluster_proc_sample(&c, &s), 0);
    assert_true(s.cpu_s > 0);
    assert_true(s.rss_kb > 0);
    assert_true(s.peak_rss_kb >= s.rss_kb);

    /* a 64 MB spike raises the peak; after the reset the peak is back near
     * the current RSS */
    size_t len = 64u << 20;
    char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    assert_true(p != MAP_FAILED);
    memset(p, 1, len);
    munmap(p, len);
    fg_proc_sample spiked;
    assert_int_equal(fg_cluster_proc_sample(&c, &spiked), 0);
    assert_true(spiked.peak_rss_kb >= spiked.rss_kb + 60 * 1024);
    assert_int_equal(fg_cluster_reset_peak_rss(&c), 0);
    fg_proc_sample after;
    assert_int_equal(fg_cluster_proc_sample(&c, &after), 0);
    assert_true(after.peak_rss_kb < spiked.peak_rss_kb - 50 * 1024);
    c.server_pid = 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_nodes_form),
        cmocka_unit_test(test_functions_form),
        cmocka_unit_test(test_malformed_files),
        cmocka_unit_test(test_url_rules),
        cmocka_unit_test(test_headers_from_env),
        cmocka_unit_test(test_header_values_redacted),
        cmocka_unit_test(test_tls_settings),
        cmocka_unit_test(test_path_and_success),
        cmocka_unit_test(test_docker_without_engine),
        cmocka_unit_test(test_docker_ps_parsing),
        cmocka_unit_test(test_health_names_unhealthy_endpoint),
        cmocka_unit_test(test_duplicate_keys_refused),
        cmocka_unit_test(test_health_wait_interrupted),
        cmocka_unit_test(test_embedded_wait_interrupted),
        cmocka_unit_test(test_proc_sample),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
