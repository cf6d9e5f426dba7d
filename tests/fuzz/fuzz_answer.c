/* fuzz_answer.c — libFuzzer over the driver's reply reader (answer.h),
 * the code that meets whatever a function sends back. One reader reads
 * every input twice in a row (it keeps its parser between replies).
 * Oracles: no crash or leak; both reads agree; and a reply it accepts
 * that cJSON parses too is an object there, with every kept key equal to
 * cJSON's first one of that name and every accounting number equal to
 * cJSON's. */
#define _GNU_SOURCE   /* memmem */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>

#include "driver/answer.h"

static fg_workflow wf;
static fg_answer_plan plan;
static fg_answer_reader *reader;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc; (void)argv;
    fg_err err;
    const char *text =
        "{\"name\":\"f\",\"inputs\":{\"t\":\"string\"},\"payload\":{\"kind\":\"json\","
        "\"value\":{\"t\":\"x\"}},\"steps\":[{\"id\":\"a\",\"in\":{\"t\":\"$inputs.t\"},"
        "\"out\":{\"o\":\"result.o\",\"d\":\"result.n.x\",\"q\":\"result.queue_ms\"}}],"
        "\"edges\":[]}";
    if (fg_workflow_parse(text, "fuzz.json", &wf, &err) != 0 ||
        fg_answer_plan_step(&plan, &wf, 0, 0, &err) != 0 || !(reader = fg_answer_reader_new())) {
        fprintf(stderr, "fuzz_answer: setup: %s\n", err.msg);
        abort();
    }
    return 0;
}

/* Equal as printed: cJSON_Compare looks keys up by name, which with
 * duplicate keys compares a later one with the first. */
static int same_json(const cJSON *a, const cJSON *b)
{
    char *pa = cJSON_PrintUnformatted(a), *pb = cJSON_PrintUnformatted(b);
    int same = pa && pb && !strcmp(pa, pb);
    free(pa);
    free(pb);
    return same;
}

static void same_number(double got, const cJSON *full, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(full, key);
    double want = cJSON_IsNumber(v) ? v->valuedouble : NAN;
    if (!(got == want || (isnan(got) && isnan(want)))) abort();
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    fg_answer a, b;
    int ra = fg_answer_read(reader, &plan, "status", "success", 1, (const char *)data, size, &a);
    int rb = fg_answer_read(reader, &plan, "status", "success", 1, (const char *)data, size, &b);
    if (ra != rb || a.status != b.status || a.has_message != b.has_message) abort();
    if (ra == 0 && !same_json(a.tree, b.tree)) abort();
    /* Where cJSON refuses what yajl takes (nesting past cJSON's limit, a
     * raw control character in a string) there is nothing to compare; nor
     * with an escaped NUL, which yajl keeps in the text and cJSON ends a
     * string at (so "a\u0000" is the key "a" to cJSON only). */
    int nul = memmem(data, size, "\\u0000", 6) != NULL;
    cJSON *full = ra == 0 && !nul ? cJSON_ParseWithLength((const char *)data, size) : NULL;
    if (full) {
        if (!cJSON_IsObject(full)) abort();
        for (const cJSON *kept = a.tree->child; kept; kept = kept->next) {
            const cJSON *want = cJSON_GetObjectItemCaseSensitive(full, kept->string);
            /* Duplicates are kept in order; the lookup finds the first. */
            if (kept == cJSON_GetObjectItemCaseSensitive(a.tree, kept->string) &&
                !same_json(want, kept))
                abort();
        }
        same_number(a.report.exec_ms, full, "exec_ms");
        same_number(a.report.queue_ms, full, "queue_ms");
        same_number(a.report.transfer_ms, full, "transfer_ms");
        same_number(a.report.transfer_bytes, full, "transfer_bytes");
        const cJSON *cold = cJSON_GetObjectItemCaseSensitive(full, "cold_start");
        if (a.report.cold_start != (cJSON_IsBool(cold) ? cJSON_IsTrue(cold) : -1)) abort();
    }
    cJSON_Delete(full);
    cJSON_Delete(a.tree);
    cJSON_Delete(b.tree);
    return 0;
}
