/* test_container.c — container mode: `flowgate-functions --function
 * recognizer__censor --port 0 --endpoints-out F` serves one function like a
 * reference container (GET / names it, POST /invoke runs it), and refuses
 * a function that does not exist with one line and exit code 2. */
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

#include "flowgate/common.h"
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

    /* The endpoints file appears once the daemon listens. */
    fg_buf text = {0};
    for (int i = 0; i < 300 && fg_read_file(endpoints, 1 << 16, &text, NULL) != 0; i++)
        usleep(50 * 1000);
    assert_non_null(text.data);
    cJSON *root = cJSON_ParseWithLength((const char *)text.data, text.len);
    fg_buf_free(&text);
    assert_non_null(root);
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

    assert_int_equal(kill(pid, SIGTERM), 0);
    int wstatus = 0;
    assert_int_equal(waitpid(pid, &wstatus, 0), pid);
    assert_true(WIFEXITED(wstatus));
    assert_int_equal(WEXITSTATUS(wstatus), 0);
    unlink(endpoints);
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
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_container_censor),
        cmocka_unit_test(test_bad_arguments),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    curl_global_cleanup();
    return rc;
}
