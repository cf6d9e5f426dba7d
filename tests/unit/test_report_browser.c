/* test_report_browser.c — the report page in a real browser: headless
 * Chromium, the network blocked, renders a real page (../report_fixture.h,
 * gnuplot's SVGs inlined) and takes a 1280x4000 screenshot. The page
 * passes when Chromium logged no console message (this version logs every
 * console call on stderr as "CONSOLE", whatever its level), loaded no file
 * but the page (FileURLLoader lines of --vmodule=file_url_loader_factory=1,
 * a missing one named "Failed to load"), fetched nothing from the network
 * (its net log has no request of the page's resource loader, traffic
 * annotation 101845102), and the screenshot decodes at the size asked, not
 * blank (>= 1 % non-white pixels, several colours). The check is shown to
 * fail: a page calling console.error, one with a missing image, one
 * fetching a URL and a blank one are each flagged. Skipped without
 * /usr/bin/chromium. FLOWGATE_REPORT_SCREENSHOT=FILE keeps the real page's
 * screenshot. */
#define _GNU_SOURCE /* strcasestr */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

#include "../report_fixture.h"
#include "flowgate/image.h"
#include "flowgate/report_page.h"

#define CHROMIUM "/usr/bin/chromium"
#define WIDTH 1280
#define HEIGHT 4000
#define BLINK_RESOURCE_LOADER "\"traffic_annotation\":101845102"

extern char **environ;
static char work[64];

static int setup(void **state)
{
    (void)state;
    snprintf(work, sizeof work, "/tmp/fg-browser-XXXXXX");
    return mkdtemp(work) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    return fx_rm(work);
}

/* Runs Chromium on page; its stderr into <work>/<name>.log, its net log
 * into <work>/<name>.net, the screenshot into <work>/<name>.png. */
static int chromium(const char *page, const char *name)
{
    char log[256], net[256], shot[256], profile[256], url[512];
    char a_net[300], a_shot[300], a_profile[300];
    snprintf(log, sizeof log, "%s/%s.log", work, name);
    snprintf(net, sizeof net, "%s/%s.net", work, name);
    snprintf(shot, sizeof shot, "%s/%s.png", work, name);
    snprintf(profile, sizeof profile, "%s/profile-%s", work, name);
    snprintf(url, sizeof url, "file://%s", page);
    snprintf(a_net, sizeof a_net, "--log-net-log=%s", net);
    snprintf(a_shot, sizeof a_shot, "--screenshot=%s", shot);
    snprintf(a_profile, sizeof a_profile, "--user-data-dir=%s", profile);
    char *argv[] = {"chromium", "--headless", "--disable-gpu", "--no-first-run",
                    "--disable-background-networking", "--disable-component-update",
                    "--disable-sync", "--host-resolver-rules=MAP * ~NOTFOUND",
                    "--enable-logging=stderr", "--v=0", "--vmodule=file_url_loader_factory=1",
                    a_net, a_shot, a_profile, "--window-size=1280,4000",
                    geteuid() == 0 ? "--no-sandbox" : "--headless", url, NULL};
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 2, log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    pid_t pid;
    int rc = posix_spawn(&pid, CHROMIUM, &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0) return -1;
    int status = 0;
    for (int waited = 0; waitpid(pid, &status, WNOHANG) == 0; waited += 50) {
        if (waited > 60000) {   /* a hung browser fails the test, never hangs it */
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            return -1;
        }
        usleep(50000);
    }
    return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

/* What is wrong with the page as Chromium saw it, into why ("" nothing). */
static void problems(const char *page, const char *name, char *why, size_t size)
{
    char path[256];
    size_t len = 0;
    why[0] = 0;
    snprintf(path, sizeof path, "%s/%s.log", work, name);
    char *log = fx_slurp(path);
    if (!log) {
        snprintf(why, size, "no log");
        return;
    }
    char *save = NULL;
    for (char *line = strtok_r(log, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        const char *c = strstr(line, ":CONSOLE");
        const char *start = strstr(line, "FileURLLoader::Start: file://");
        if (c && len < size) len += (size_t)snprintf(why + len, size - len, "console:%s; ", c + 8);
        if (start) {
            const char *file = start + strlen("FileURLLoader::Start: file://");
            if (strcmp(file, page) && len < size)
                len += (size_t)snprintf(why + len, size - len, "%s %s; ",
                                        access(file, R_OK) ? "Failed to load" : "loads", file);
        }
    }
    free(log);
    snprintf(path, sizeof path, "%s/%s.net", work, name);
    char *net = fx_slurp(path);
    if (net && strstr(net, BLINK_RESOURCE_LOADER) && len < size)
        len += (size_t)snprintf(why + len, size - len, "fetches from the network; ");
    free(net);
}

/* The screenshot: its size, and that something was drawn. */
static void screenshot_ok(const char *name, char *why, size_t size)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s.png", work, name);
    fg_buf png = {0};
    fg_image img = {0};
    fg_err err = {{0}};
    why[0] = 0;
    if (fg_read_file(path, 0, &png, &err) != 0 ||
        fg_png_decode(png.data, png.len, FG_DEFAULT_MAX_PIXELS, &img, &err) != 0) {
        snprintf(why, size, "%s", err.msg);
        fg_buf_free(&png);
        return;
    }
    fg_buf_free(&png);
    size_t pixels = (size_t)img.w * (size_t)img.h, inked = 0;
    unsigned colours[64];
    int n_colours = 0;
    for (size_t i = 0; i < pixels; i++) {
        const unsigned char *p = img.rgb + 3 * i;
        if (p[0] < 245 || p[1] < 245 || p[2] < 245) inked++;
        unsigned rgb = (unsigned)p[0] << 16 | (unsigned)p[1] << 8 | p[2];
        int seen = 0;
        for (int k = 0; k < n_colours && !seen; k++) seen = colours[k] == rgb;
        if (!seen && n_colours < 64) colours[n_colours++] = rgb;
    }
    if (img.w != WIDTH || img.h != HEIGHT)
        snprintf(why, size, "screenshot %dx%d, asked %dx%d", img.w, img.h, WIDTH, HEIGHT);
    else if (inked * 100 < pixels)
        snprintf(why, size, "blank: %.2f %% non-white", 100.0 * (double)inked / (double)pixels);
    else if (n_colours < 8)
        snprintf(why, size, "%d colours only", n_colours);
    fg_image_free(&img);
}

static int have_chromium(void)
{
    return access(CHROMIUM, X_OK) == 0;
}

static void real_report_renders_clean(void **state)
{
    (void)state;
    if (!have_chromium()) skip();
    assert_int_equal(fx_run(work, 1), 0);
    char results[256], plots[256];
    snprintf(results, sizeof results, "%s/results/experiment_results_" FX_RUN_ID ".json", work);
    snprintf(plots, sizeof plots, "%s/plots", work);
    fg_report_opts o = {.results_path = results, .plots_dir = plots};
    fg_report_summary s;
    fg_err err = {{0}};
    if (fg_report_page(&o, &s, &err) != 0) fail_msg("%s", err.msg);
    assert_int_equal(s.charts + s.trend_charts, 3);
    assert_int_equal(chromium(s.path, "real"), 0);
    char why[2048];
    problems(s.path, "real", why, sizeof why);
    if (why[0]) fail_msg("the page: %s", why);
    screenshot_ok("real", why, sizeof why);
    if (why[0]) fail_msg("the screenshot: %s", why);
    const char *keep = getenv("FLOWGATE_REPORT_SCREENSHOT");
    if (keep && *keep) {
        char cmd[700];
        snprintf(cmd, sizeof cmd, "cp '%s/real.png' '%s'", work, keep);
        assert_int_equal(system(cmd), 0);
    }
}

/* A page with its own body, checked the same way: what is flagged. */
static void flagged(const char *name, const char *html, const char *expect_page,
                    const char *expect_shot)
{
    char rel[64], page[256], why[2048];
    snprintf(rel, sizeof rel, "%s.html", name);
    assert_int_equal(fx_write(work, rel, html), 0);
    snprintf(page, sizeof page, "%s/%s", work, rel);
    assert_int_equal(chromium(page, name), 0);
    problems(page, name, why, sizeof why);
    if (expect_page && !strstr(why, expect_page)) fail_msg("%s: not flagged (%s)", name, why);
    if (!expect_page && why[0]) fail_msg("%s: flagged: %s", name, why);
    screenshot_ok(name, why, sizeof why);
    if (expect_shot && !strstr(why, expect_shot)) fail_msg("%s: screenshot not flagged (%s)", name, why);
}

static void the_check_can_fail(void **state)
{
    (void)state;
    if (!have_chromium()) skip();
    flagged("console", "<!DOCTYPE html><html><body><h1>x</h1><script>console.error('boom')"
            "</script></body></html>", "\"boom\"", NULL);
    flagged("image", "<!DOCTYPE html><html><body><img src=\"missing.png\"></body></html>",
            "Failed to load", "blank");
    flagged("fetch", "<!DOCTYPE html><html><body><img src=\"http://example.com/x.png\">"
            "</body></html>", "fetches from the network", NULL);
    flagged("blank", "<!DOCTYPE html><html><body></body></html>", NULL, "blank");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(real_report_renders_clean),
        cmocka_unit_test(the_check_can_fail),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
