/* cmd_check.c — `flowgate check`: invoke each of the workflow's seven
 * functions once on each node with realistic input and print what happened,
 * the by-hand smoke test of a cluster.
 *
 * Per node, upload runs first; the image functions then read its stored
 * image by reference (node mode) or get its cleaned image inline (function
 * mode, where the containers keep no blobs); translate gets extract's text
 * and censor the translation, falling back to the image's banner text when
 * the step before failed, so one broken function does not hide the others.
 * Exit: 0 all work, 1 some fail, 2 setup error (one line). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "flowgate/b64.h"
#include "flowgate/cluster.h"
#include "flowgate/config.h"
#include "flowgate/imagegen.h"

#define CHECK_TIMEOUT_S 120.0
#define CHECK_SETUP_DEADLINE_S 10.0   /* endpoints healthy / embedded server up */
#define N_CHECK_FUNCTIONS 7
#define CHECK_MIN_MB 0.05   /* the image generator's limits */
#define CHECK_MAX_MB 64.0

static const char *const check_functions[N_CHECK_FUNCTIONS] = {
    "recognizer__upload", "recognizer__adult", "recognizer__violence", "recognizer__extract",
    "recognizer__translate", "recognizer__censor", "recognizer__mosaic",
};

static void usage(FILE *out)
{
    fprintf(out,
            "usage: flowgate check [--endpoints FILE] [--working] [--size MB]\n"
            "  Invokes each function once on each node and prints status, HTTP code,\n"
            "  round-trip time and the server's exec time.\n"
            "  --endpoints FILE  the cluster (default $FLOWGATE_ENDPOINTS, else the\n"
            "                    embedded server with data/nodes.json)\n"
            "  --working         list only the functions that work on every node\n"
            "  --size MB         input image size (default $DEFAULT_INPUT_SIZE or 0.1)\n");
}

static char *print_body(cJSON *body, size_t *len)
{
    char *text = cJSON_PrintUnformatted(body);
    cJSON_Delete(body);
    *len = text ? strlen(text) : 0;
    return text;
}

/* The body for `function`, given what upload and the text steps produced. */
static char *request_body(int fn_index, const fg_cluster *c, const char *img_b64,
                          const cJSON *upload_resp, const char *text_in, size_t *len)
{
    cJSON *body = cJSON_CreateObject();
    const char *fn = check_functions[fn_index];
    int nodes_mode = c->mode == FG_CLUSTER_NODES;
    if (!strcmp(fn, "recognizer__upload")) {
        cJSON_AddItemToObject(body, "img_b64", cJSON_CreateStringReference(img_b64));
        cJSON_AddBoolToObject(body, "by_ref", nodes_mode);
    } else if (!strcmp(fn, "recognizer__translate")) {
        cJSON_AddStringToObject(body, "text", text_in);
        cJSON_AddStringToObject(body, "target_lang", "en");
    } else if (!strcmp(fn, "recognizer__censor")) {
        cJSON_AddStringToObject(body, "text", text_in);
    } else {
        const cJSON *ref = cJSON_GetObjectItemCaseSensitive(upload_resp, "ref");
        const cJSON *clean = cJSON_GetObjectItemCaseSensitive(upload_resp, "img_clean_b64");
        if (nodes_mode && cJSON_IsObject(ref))
            cJSON_AddItemToObject(body, "input_ref", cJSON_Duplicate(ref, 1));
        else if (cJSON_IsString(clean))
            cJSON_AddItemToObject(body, "img_b64", cJSON_CreateStringReference(clean->valuestring));
        else
            cJSON_AddItemToObject(body, "img_b64", cJSON_CreateStringReference(img_b64));
        if (nodes_mode && !strcmp(fn, "recognizer__mosaic")) cJSON_AddBoolToObject(body, "by_ref", 1);
    }
    return print_body(body, len);
}

static void fmt_ms(double ms, char *out, size_t size)
{
    /* sub-millisecond figures keep their digits rather than read as 0.0 */
    if (isfinite(ms)) snprintf(out, size, ms < 1 ? "%.3f" : "%.1f", ms);
    else snprintf(out, size, "n/a");
}

int cmd_check(int argc, char **argv)
{
    const char *endpoints = NULL;
    int working_only = 0;
    fg_err err = {{0}};
    double size_mb = 0.1;
    const char *env_size = getenv("DEFAULT_INPUT_SIZE");
    if (env_size && *env_size &&
        fg_parse_double("DEFAULT_INPUT_SIZE (MB)", env_size, CHECK_MIN_MB, CHECK_MAX_MB, &size_mb, &err)) {
        fprintf(stderr, "flowgate check: %s\n", err.msg);
        return 2;
    }
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(argv[i], "--endpoints") && i + 1 < argc) {
            endpoints = argv[++i];
        } else if (!strcmp(argv[i], "--working")) {
            working_only = 1;
        } else if (!strcmp(argv[i], "--size") && i + 1 < argc) {
            if (fg_parse_double("--size (MB)", argv[++i], CHECK_MIN_MB, CHECK_MAX_MB, &size_mb, &err)) {
                fprintf(stderr, "flowgate check: %s\n", err.msg);
                return 2;
            }
        } else {
            fprintf(stderr, "flowgate check: unknown or incomplete option '%s'\n", argv[i]);
            usage(stderr);
            return 2;
        }
    }

    char images_dir[1024], png_path[1200];
    snprintf(images_dir, sizeof images_dir, "%s/images", fg_data_dir());
    int created = 0;
    fg_buf png = {0};
    if (fg_mkdirs(images_dir, &err) != 0 ||
        fg_imagegen_ensure(images_dir, size_mb, FG_VARIANT_CLEAN, png_path, sizeof png_path, &created, &err) != 0 ||
        fg_read_file(png_path, 0, &png, &err) != 0) {
        fprintf(stderr, "flowgate check: test image: %s\n", err.msg);
        return 2;
    }
    size_t b64_len = 0;
    char *img_b64 = fg_b64_encode(png.data, png.len, &b64_len);
    size_t png_bytes = png.len;
    fg_buf_free(&png);
    if (!img_b64) {
        fprintf(stderr, "flowgate check: out of memory encoding the test image\n");
        return 2;
    }

    fg_cluster c;
    if (fg_cluster_resolve(endpoints, NULL, CHECK_SETUP_DEADLINE_S, &c, &err) != 0) {
        fprintf(stderr, "flowgate check: %s\n", err.msg);
        free(img_b64);
        return 2;
    }
    const char *source = c.server_pid > 0 ? "embedded server" : "endpoints file";
    if (!working_only) {
        if (c.mode == FG_CLUSTER_NODES)
            printf("flowgate check: %d nodes (%s), ", c.n_nodes, source);
        else
            printf("flowgate check: %d function endpoints (%s), ", c.n_functions, source);
        printf("input %.2f MB (%s%s)\n\n", png_bytes / FG_MB, png_path, created ? ", created" : "");
        printf("%-24s %-10s %-6s %5s %10s %10s  %s\n", "function", "node", "status", "http", "rtt_ms",
               "exec_ms", "error");
    }

    const char *banner = fg_variant_banner(FG_VARIANT_CLEAN);
    int works_everywhere[N_CHECK_FUNCTIONS];
    for (int f = 0; f < N_CHECK_FUNCTIONS; f++) works_everywhere[f] = 1;
    int total = 0, ok = 0;
    for (int n = 0; n < c.n_nodes; n++) {
        cJSON *upload_resp = NULL;
        char *text = strdup(banner);
        for (int f = 0; f < N_CHECK_FUNCTIONS; f++) {
            const char *fn = check_functions[f];
            if (c.mode == FG_CLUSTER_FUNCTIONS) {
                char url[512];
                if (fg_cluster_invoke_url(&c, n, fn, url, sizeof url) != 0) {
                    works_everywhere[f] = 0;
                    total++;
                    if (!working_only)
                        printf("%-24s %-10s %-6s %5s %10s %10s  %s\n", fn, c.nodes[n].name, "FAIL", "-",
                               "n/a", "n/a", "no URL in the endpoints file");
                    continue;
                }
            }
            size_t len = 0;
            char *body = request_body(f, &c, img_b64, upload_resp, text ? text : banner, &len);
            fg_invoke_result r;
            if (!body) {
                memset(&r, 0, sizeof r);
                r.exec_ms = r.rtt_ms = NAN;
                snprintf(r.error, sizeof r.error, "out of memory building the request");
            } else {
                fg_cluster_invoke(&c, n, fn, body, len, CHECK_TIMEOUT_S, &r);
            }
            free(body);
            total++;
            ok += r.ok;
            if (!r.ok) works_everywhere[f] = 0;
            char rtt[32], exec[32], http[16];
            fmt_ms(r.rtt_ms, rtt, sizeof rtt);
            fmt_ms(r.exec_ms, exec, sizeof exec);
            if (r.http_code) snprintf(http, sizeof http, "%ld", r.http_code);
            else snprintf(http, sizeof http, "-");
            if (!working_only)
                printf("%-24s %-10s %-6s %5s %10s %10s  %s\n", fn, c.nodes[n].name, r.ok ? "ok" : "FAIL",
                       http, rtt, exec, r.ok ? "" : r.error);
            fflush(stdout);
            /* What the next steps read. */
            const char *next_text = NULL;
            if (r.ok && !strcmp(fn, "recognizer__upload")) {
                upload_resp = r.response;
                r.response = NULL;
            } else if (r.ok && !strcmp(fn, "recognizer__extract")) {
                const cJSON *t = cJSON_GetObjectItemCaseSensitive(r.response, "text");
                if (cJSON_IsString(t) && *t->valuestring) next_text = t->valuestring;
            } else if (r.ok && !strcmp(fn, "recognizer__translate")) {
                const cJSON *t = cJSON_GetObjectItemCaseSensitive(r.response, "translated_text");
                if (cJSON_IsString(t) && *t->valuestring) next_text = t->valuestring;
            }
            if (next_text) {
                free(text);
                text = strdup(next_text);
            }
            fg_invoke_result_free(&r);
        }
        cJSON_Delete(upload_resp);
        free(text);
    }
    free(img_b64);
    fg_cluster_stop(&c);

    if (working_only) {
        for (int f = 0; f < N_CHECK_FUNCTIONS; f++)
            if (works_everywhere[f]) printf("%s\n", check_functions[f]);
    } else {
        printf("\n%d/%d invocations succeeded%s\n", ok, total,
               ok == total ? "; every function works on every node." : ".");
    }
    return ok == total ? 0 : 1;
}
