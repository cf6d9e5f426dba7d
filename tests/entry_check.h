/* entry_check.h — test support for the engine's cmocka tests: load the
 * recognizer workflow, run an experiment that must run, read its entry by
 * path ("requests/sent") and assert the accounting identities every entry
 * must keep, whatever the test did to it. Header-only (static); include
 * after <cmocka.h>. */
#ifndef FLOWGATE_TEST_ENTRY_CHECK_H
#define FLOWGATE_TEST_ENTRY_CHECK_H
#include <stdio.h>
#include <string.h>
#include <cjson/cJSON.h>
#include "flowgate/limits.h"
#include "flowgate/engine.h"
#include "flowgate/workflow.h"

/* data/workflows/recognizer.json into wf: 0, or -1 with the reason on stderr
 * (for a group setup). */
static inline int recognizer_workflow_load(fg_workflow *wf)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/workflows/recognizer.json", fg_data_dir());
    fg_err err = {""};
    if (fg_workflow_load(path, wf, &err) != 0) {
        fprintf(stderr, "%s\n", err.msg);
        return -1;
    }
    return 0;
}

/* Runs an experiment that must run (failed requests are results); the entry
 * is the caller's. */
static inline cJSON *run_entry(const fg_experiment *x, const fg_workflow *wf, const fg_cluster *c,
                               const fg_payload *p)
{
    cJSON *entry = NULL;
    fg_err err = {""};
    int rc = fg_experiment_run(x, wf, c, p, NULL, &entry, &err);
    if (rc) fprintf(stderr, "%s\n", err.msg);
    assert_int_equal(rc, 0);
    assert_non_null(entry);
    return entry;
}

/* The value at a "/"-separated path, or NULL. */
static inline const cJSON *at(const cJSON *o, const char *path)
{
    char buf[256];
    snprintf(buf, sizeof buf, "%s", path);
    const cJSON *cur = o;
    for (char *save = NULL, *k = strtok_r(buf, "/", &save); k; k = strtok_r(NULL, "/", &save))
        cur = cJSON_GetObjectItemCaseSensitive(cur, k);
    return cur;
}

/* The number at path; the test fails when there is none. */
static inline double num(const cJSON *o, const char *path)
{
    const cJSON *v = at(o, path);
    if (!cJSON_IsNumber(v)) {
        print_error("%s is not a number\n", path);
        fail();
    }
    return v->valuedouble;
}

static inline const char *str(const cJSON *o, const char *path)
{
    const cJSON *v = at(o, path);
    if (!cJSON_IsString(v)) {
        print_error("%s is not a string\n", path);
        fail();
    }
    return v->valuestring;
}

/* The identities every entry keeps (README "Results"), closed and open
 * loop, whatever the test did to it: sent = ok + failed + timed_out +
 * interrupted (measured and warm-up), scheduled = sent + dropped + unsent;
 * no accounting_error; every function invocation ran on some node; one
 * latency sample per ok request. */
static inline void check_accounting(const cJSON *e)
{
    if (cJSON_IsString(at(e, "accounting_error"))) {
        print_error("accounting_error: %s\n", str(e, "accounting_error"));
        fail();
    }
    static const char *const phases[] = {"requests", "warmup"};
    for (int i = 0; i < 2; i++) {
        char p[4][64];
        static const char *const terms[] = {"ok", "failed", "timed_out", "interrupted"};
        double sum = 0;
        for (int k = 0; k < 4; k++) {
            snprintf(p[k], sizeof p[k], "%s/%s", phases[i], terms[k]);
            sum += num(e, p[k]);
        }
        snprintf(p[0], sizeof p[0], "%s/sent", phases[i]);
        assert_int_equal(num(e, p[0]), sum);
        snprintf(p[0], sizeof p[0], "%s/dropped", phases[i]);
        assert_true(num(e, p[0]) >= 0);
    }
    assert_int_equal(num(e, "requests/scheduled"),
                     num(e, "requests/sent") + num(e, "requests/dropped") +
                     num(e, "requests/unsent"));
    if (!strcmp(str(e, "mode"), "closed")) assert_int_equal(num(e, "requests/dropped"), 0);
    double fn_total = 0, node_total = 0;
    const cJSON *f, *n;
    cJSON_ArrayForEach(f, at(e, "functions")) fn_total += num(f, "invocations");
    cJSON_ArrayForEach(n, at(e, "nodes")) node_total += num(n, "invocations");
    assert_int_equal(fn_total, node_total);
    assert_int_equal(num(e, "latency_ms/count"), num(e, "requests/ok"));
    /* The samples: all of them up to the cap, a uniform sample past it. */
    assert_int_equal(num(e, "latency_samples_total"), num(e, "requests/ok"));
    assert_int_equal(cJSON_GetArraySize(at(e, "latency_samples_ms")),
                     num(e, "requests/ok") < FG_MAX_LATENCY_SAMPLES ? num(e, "requests/ok")
                                                                   : FG_MAX_LATENCY_SAMPLES);
}

#endif
