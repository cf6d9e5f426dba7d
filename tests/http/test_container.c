/* test_container.c — container mode: `flowgate-functions --function
 * recognizer__censor --port 0 --endpoints-out F` serves one function like a
 * reference container (GET / names it, POST /invoke runs it), and refuses
 * a function that does not exist with one line and exit code 2. One node
 * per process (--node NAME --peer OTHER=URL, the cluster's containers): a
 * blob uploaded to one process is read by the other over HTTP. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "flowgate/b64.h"
#include "flowgate/common.h"
#include "flowgate/imagegen.h"
#include "http_client.h"

static void server_path(char *out, size_t size)
{
    const char *bin = getenv("FLOWGATE_BIN");
    snprintf(out, size, "%s/flowgate-functions", bin ? bin : ".");
}

static pid_t spawn(char *const argv[], const char *stderr_path)
{
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        if (stderr_path) {
            FILE *f = freopen(stderr_path, "w", stderr);
            (void)f;
        }
        execv(argv[0], argv);
        _exit(127);
    }
    return pid;
}

/* The endpoints file a server writes once it listens. */
static cJSON *wait_endpoints(const char *path)
{
    fg_buf text = {0};
    for (int i = 0; i < 300 && fg_read_file(path, 1 << 16, &text, NULL) != 0; i++)
        usleep(50 * 1000);
    assert_non_null(text.data);
    cJSON *root = cJSON_ParseWithLength((const char *)text.data, text.len);
    fg_buf_free(&text);
    assert_non_null(root);
    return root;
}

static void stop_server(pid_t pid)
{
    assert_int_equal(kill(pid, SIGTERM), 0);
    int wstatus = 0;
    assert_int_equal(waitpid(pid, &wstatus, 0), pid);
    assert_true(WIFEXITED(wstatus));
    assert_int_equal(WEXITSTATUS(wstatus), 0);
}

static void test_container_censor(void **state)
{
    (void)state;
    char bin[1024], endpoints[256];
    server_path(bin, sizeof bin);
    snprintf(endpoints, sizeof endpoints, "container-endpoints.%d.json", (int)getpid());
    unlink(endpoints);
    char *argv[] = {bin, "--function", "recognizer__censor", "--port", "0",
                    "--endpoints-out", endpoints, NULL};
    pid_t pid = spawn(argv, NULL);
    cJSON *root = wait_endpoints(endpoints);
    assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(root, "mode")), "functions");
    const char *base = cJSON_GetStringValue(
        cJSON_GetObjectItem(cJSON_GetObjectItem(root, "functions"), "recognizer__censor"));
    assert_non_null(base);
    assert_non_null(strstr(base, "http://127.0.0.1:"));
    assert_true(atoi(strrchr(base, ':') + 1) > 0);
    char url[300];

    snprintf(url, sizeof url, "%s/", base);
    http_resp r;
    http_request("GET", url, NULL, 0, &r);
    assert_int_equal(r.status, 200);
    cJSON *h = cJSON_Parse(r.body);
    http_resp_free(&r);
    assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(h, "status")), "healthy");
    assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(h, "service")),
                        "recognizer__censor");
    cJSON_Delete(h);

    snprintf(url, sizeof url, "%s/invoke", base);
    cJSON *req = cJSON_CreateObject();
    cJSON_AddStringToObject(req, "text", "nothing to hide here");
    long status = 0;
    cJSON *res = http_post_json(url, req, &status);
    assert_int_equal(status, 200);
    assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(res, "status")), "success");
    assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(res, "function")),
                        "recognizer__censor");
    assert_true(cJSON_IsFalse(cJSON_GetObjectItem(res, "illegal")));
    assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(res, "filtered_text")),
                        "nothing to hide here");
    cJSON_Delete(res);

    /* Only the hosted function is served. */
    snprintf(url, sizeof url, "%s/invoke/recognizer__adult", base);
    req = cJSON_CreateObject();
    res = http_post_json(url, req, &status);
    assert_int_equal(status, 404);
    cJSON_Delete(res);
    cJSON_Delete(root);
    stop_server(pid);
    unlink(endpoints);
}

/* Starts node NAME of the two-node profile as its own process; returns
 * its URL (from the endpoints file) in url. */
static pid_t start_node(const char *profile, const char *name, const char *peer, char *url,
                        size_t url_size)
{
    char bin[1024], endpoints[256];
    server_path(bin, sizeof bin);
    snprintf(endpoints, sizeof endpoints, "node-endpoints.%s.%d.json", name, (int)getpid());
    unlink(endpoints);
    char *argv[] = {bin, "--nodes", (char *)profile, "--node", (char *)name, "--port", "0",
                    "--peer", (char *)peer, "--endpoints-out", endpoints, NULL};
    pid_t pid = spawn(argv, NULL);
    cJSON *root = wait_endpoints(endpoints);
    const cJSON *nodes = cJSON_GetObjectItem(root, "nodes");
    /* Only the chosen node is served here. */
    assert_int_equal(cJSON_GetArraySize(nodes), 1);
    const cJSON *n = cJSON_GetArrayItem(nodes, 0);
    assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(n, "name")), name);
    snprintf(url, url_size, "%s", cJSON_GetStringValue(cJSON_GetObjectItem(n, "url")));
    cJSON_Delete(root);
    unlink(endpoints);
    return pid;
}

static void test_node_per_process(void **state)
{
    (void)state;
    char profile[64];
    snprintf(profile, sizeof profile, "two-nodes.%d.json", (int)getpid());
    const char *json = "{\"nodes\":[{\"name\":\"na\",\"workers\":1},"
                       "{\"name\":\"nb\",\"workers\":1}]}";
    assert_int_equal(fg_write_file_atomic(profile, json, strlen(json), NULL), 0);
    /* nb never fetches from na here, so its peer URL need not answer. */
    char url_a[160], url_b[160], peer[200];
    pid_t b = start_node(profile, "nb", "na=http://127.0.0.1:9", url_b, sizeof url_b);
    snprintf(peer, sizeof peer, "nb=%s", url_b);
    pid_t a = start_node(profile, "na", peer, url_a, sizeof url_a);

    fg_buf png;
    fg_err err;
    if (fg_imagegen_png(0.1, FG_VARIANT_CLEAN, 7, &png, &err) != 0) fail_msg("%s", err.msg);
    char *b64 = fg_b64_encode(png.data, png.len, NULL);
    char url[300];
    snprintf(url, sizeof url, "%s/invoke/recognizer__upload", url_b);
    cJSON *req = cJSON_CreateObject();
    cJSON_AddStringToObject(req, "img_b64", b64);
    long status = 0;
    cJSON *up = http_post_json(url, req, &status);
    assert_int_equal(status, 200);
    const cJSON *ref = cJSON_GetObjectItem(up, "ref");
    assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(ref, "node")), "nb");

    /* na reads nb's blob by URL and says how many bytes came over. */
    snprintf(url, sizeof url, "%s/invoke/recognizer__adult", url_a);
    req = cJSON_CreateObject();
    cJSON_AddItemToObject(req, "input_ref", cJSON_Duplicate(ref, 1));
    cJSON *res = http_post_json(url, req, &status);
    assert_int_equal(status, 200);
    assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(res, "status")), "success");
    assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(res, "node")), "na");
    assert_int_equal((size_t)cJSON_GetNumberValue(cJSON_GetObjectItem(res, "transfer_bytes")),
                     png.len);
    cJSON_Delete(res);
    cJSON_Delete(up);
    free(b64);
    fg_buf_free(&png);
    stop_server(a);
    stop_server(b);
    unlink(profile);
}

static void expect_exit_2(char *argv[], const char *message_part)
{
    char errfile[64];
    snprintf(errfile, sizeof errfile, "container-stderr.%d.txt", (int)getpid());
    pid_t pid = spawn(argv, errfile);
    int wstatus = 0;
    assert_int_equal(waitpid(pid, &wstatus, 0), pid);
    assert_true(WIFEXITED(wstatus));
    assert_int_equal(WEXITSTATUS(wstatus), 2);
    fg_buf text;
    assert_int_equal(fg_read_file(errfile, 1 << 16, &text, NULL), 0);
    const char *s = (const char *)text.data;
    assert_non_null(strstr(s, message_part));
    /* exactly one line */
    assert_int_equal(strchr(s, '\n') - s + 1, (long)text.len);
    fg_buf_free(&text);
    unlink(errfile);
}

static void test_bad_arguments(void **state)
{
    (void)state;
    char bin[1024];
    server_path(bin, sizeof bin);
    char *unknown[] = {bin, "--function", "recognizer__nope", "--port", "0", NULL};
    expect_exit_2(unknown, "unknown function \"recognizer__nope\"");
    char *no_port[] = {bin, "--function", "recognizer__censor", NULL};
    expect_exit_2(no_port, "--function needs --port");
    char *bad_port[] = {bin, "--function", "recognizer__censor", "--port", "70000", NULL};
    expect_exit_2(bad_port, "--port: '70000' is not a port");
    char *bad_opt[] = {bin, "--frobnicate", "1", NULL};
    expect_exit_2(bad_opt, "unknown option '--frobnicate'");
    /* One node per process: the node must exist, every other node needs a
     * peer URL, and a peer must be another node of the profile. */
    char profile[1024];
    snprintf(profile, sizeof profile, "%s/nodes.json", fg_data_dir());
    char *no_node[] = {bin, "--nodes", profile, "--node", "nodeX", NULL};
    expect_exit_2(no_node, "--node: no node \"nodeX\" in the nodes file");
    char *no_peer[] = {bin, "--nodes", profile, "--node", "node1", "--port", "0", NULL};
    expect_exit_2(no_peer, "node node0 of the nodes file has no --peer URL");
    char *bad_peer[] = {bin, "--nodes", profile, "--node", "node1", "--peer", "node0", NULL};
    expect_exit_2(bad_peer, "--peer 'node0': expected NAME=http://HOST:PORT");
    char *self_peer[] = {bin, "--nodes", profile, "--node", "node1", "--peer",
                         "node1=http://127.0.0.1:1", NULL};
    expect_exit_2(self_peer, "not another node of the nodes file");
    char *stray_peer[] = {bin, "--peer", "node1=http://127.0.0.1:1", NULL};
    expect_exit_2(stray_peer, "--peer needs --node");
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_container_censor),
        cmocka_unit_test(test_node_per_process),
        cmocka_unit_test(test_bad_arguments),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    curl_global_cleanup();
    return rc;
}
