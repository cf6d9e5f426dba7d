/* reference_check.c — the two steps of reference_containers.sh that need
 * JSON, kept free of jq and python:
 *
 *   suite_reference_check merge OUT IN...
 *       one "functions"-mode endpoints file from the one-function files that
 *       each container wrote with --endpoints-out.
 *   suite_reference_check timelines RESULTS UNIT
 *       every experiment of RESULTS has a timeline whose servers stamped in
 *       UNIT (s for reference-style containers) and whose spans are right
 *       once converted: 0 <= sent <= exec_start <= exec_end <= received, on
 *       one axis. A stamp read in the wrong unit lands decades away, so
 *       this fails loudly on any unit mix-up, and an ok span without server
 *       stamps fails too (nothing may vanish from the plot silently).
 *
 * Exit 0, 1 with one line per wrong span (the first few) or 2 on unusable
 * input. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "flowgate/json.h"
#include "flowgate/results.h"

/* Server and client clocks are the same clock here, read a few µs apart
 * at the experiment's start; stamps are rounded to µs (1e-3 ms). */
#define SLACK_MS 2.0
#define MAX_FILE (64u << 20)
#define MAX_REPORTED 5

static int merge(const char *out, char **in, int n)
{
    fg_err err;
    cJSON *all = cJSON_CreateObject();
    cJSON_AddStringToObject(all, "mode", "functions");
    cJSON *fns = cJSON_AddObjectToObject(all, "functions");
    int rc = 0;
    for (int i = 0; i < n && rc == 0; i++) {
        cJSON *one = fg_json_load_object(in[i], MAX_FILE, &err);
        const cJSON *f = one ? cJSON_GetObjectItemCaseSensitive(one, "functions") : NULL;
        if (!one) {
            fprintf(stderr, "suite_reference_check: %s\n", err.msg);
            rc = 2;
        } else if (!cJSON_IsObject(f) || !f->child) {
            fprintf(stderr, "suite_reference_check: %s: no \"functions\" object\n", in[i]);
            rc = 2;
        } else {
            for (const cJSON *e = f->child; e; e = e->next)
                cJSON_AddItemToObject(fns, e->string, cJSON_Duplicate(e, 1));
        }
        cJSON_Delete(one);
    }
    char *text = rc == 0 ? cJSON_Print(all) : NULL;
    if (rc == 0 && (!text || fg_write_file_atomic(out, text, strlen(text), &err) != 0)) {
        fprintf(stderr, "suite_reference_check: %s\n", text ? err.msg : "out of memory");
        rc = 2;
    }
    cJSON_free(text);
    cJSON_Delete(all);
    return rc;
}

/* Returns the number of wrong spans of one timeline; counts checked ones. */
static int check_timeline(const char *path, const cJSON *tl, const char *unit, int *checked)
{
    int bad = 0;
    const cJSON *seen = cJSON_GetObjectItemCaseSensitive(tl, "server_time_unit");
    if (!cJSON_IsString(seen) || strcmp(seen->valuestring, unit)) {
        printf("%s: server_time_unit %s, expected %s\n", path,
               cJSON_IsString(seen) ? seen->valuestring : "(absent)", unit);
        bad++;
    }
    const cJSON *req;
    cJSON_ArrayForEach(req, cJSON_GetObjectItemCaseSensitive(tl, "requests")) {
        const cJSON *span;
        cJSON_ArrayForEach(span, cJSON_GetObjectItemCaseSensitive(req, "spans")) {
            const cJSON *outcome = cJSON_GetObjectItemCaseSensitive(span, "outcome");
            if (!cJSON_IsString(outcome) || strcmp(outcome->valuestring, "ok")) continue;
            double t[4] = {fg_json_number(span, "sent"), fg_json_number(span, "exec_start"), fg_json_number(span, "exec_end"),
                           fg_json_number(span, "received")};
            int ok = t[0] >= 0;
            for (int k = 0; k < 4; k++) ok = ok && isfinite(t[k]);
            for (int k = 1; k < 4 && ok; k++) ok = t[k] >= t[k - 1] - SLACK_MS;
            (*checked)++;
            if (ok) continue;
            if (bad++ < MAX_REPORTED) {
                const cJSON *fn = cJSON_GetObjectItemCaseSensitive(span, "function");
                printf("%s: request %.0f %s: sent %.3f exec %.3f..%.3f received %.3f ms: "
                       "not in order on one axis\n",
                       path, fg_json_number(req, "request"), cJSON_IsString(fn) ? fn->valuestring : "?",
                       t[0], t[1], t[2], t[3]);
            }
        }
    }
    return bad;
}

static int timelines(const char *results, const char *unit)
{
    fg_err err;
    cJSON *root = fg_results_load(results, &err);
    if (!root) {
        fprintf(stderr, "suite_reference_check: %s\n", err.msg);
        return 2;
    }
    int bad = 0, checked = 0, files = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(root, "experiments")) {
        const cJSON *path = cJSON_GetObjectItemCaseSensitive(e, "timeline");
        if (!cJSON_IsString(path)) {
            printf("%s: an experiment has no timeline\n", results);
            bad++;
            continue;
        }
        cJSON *tl = fg_json_load_object(path->valuestring, MAX_FILE, &err);
        if (!tl) {
            printf("%s\n", err.msg);
            bad++;
            continue;
        }
        bad += check_timeline(path->valuestring, tl, unit, &checked);
        files++;
        cJSON_Delete(tl);
    }
    cJSON_Delete(root);
    if (checked == 0) {
        printf("%s: no ok span to check\n", results);
        return 1;
    }
    printf("timelines: %d file%s, %d ok spans, %d out of order or in the wrong unit\n", files,
           files == 1 ? "" : "s", checked, bad);
    return bad ? 1 : 0;
}

int main(int argc, char **argv)
{
    if (argc >= 4 && !strcmp(argv[1], "merge")) return merge(argv[2], argv + 3, argc - 3);
    if (argc == 4 && !strcmp(argv[1], "timelines")) return timelines(argv[2], argv[3]);
    fprintf(stderr, "usage: suite_reference_check merge OUT IN... | timelines RESULTS UNIT\n");
    return 2;
}
