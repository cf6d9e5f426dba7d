/* check.c — every step on every node once (check.h): the test image, the
 * cluster and the payload set up as a run would, then one probe pass per
 * node; the caller prints each answer as it comes. */
#include "flowgate/check.h"

#include <stdio.h>
#include <string.h>

#include "flowgate/embedded.h"
#include "flowgate/imagegen.h"
#include "flowgate/probe.h"

#define CHECK_TIMEOUT_S 120.0
#define CHECK_SETUP_DEADLINE_S 10.0   /* endpoints healthy / embedded server up */

typedef struct check_pass {
    const fg_check_opts *o;
    const fg_check_ops *ops;
    void *ctx;
    const fg_check_target *t;
    int node;
    fg_check_tally *tally;
} check_pass;

static void pass_invoke(void *ctx, int step, const char *body, size_t len, double input_mb,
                        fg_invoke_result *r)
{
    (void)input_mb;
    check_pass *k = ctx;
    const char *name = k->o->wf->steps[step].id;
    char url[512];
    if (k->t->c->mode == FG_CLUSTER_FUNCTIONS &&
        fg_cluster_invoke_url(k->t->c, k->node, name, url, sizeof url) != 0) {
        snprintf(r->error, sizeof r->error, "no URL in the endpoints file");
        return;
    }
    fg_cluster_invoke(k->t->c, k->node, name, body, len, CHECK_TIMEOUT_S, r);
}

static void pass_report(void *ctx, int step, const fg_invoke_result *r)
{
    check_pass *k = ctx;
    k->tally->total++;
    k->tally->ok += r->ok;
    if (!r->ok) k->tally->works_everywhere[step] = 0;
    if (k->ops->result) k->ops->result(k->ctx, k->t, k->node, step, r);
}

int fg_check(const fg_check_opts *o, const fg_check_ops *ops, void *ctx, fg_check_tally *tally,
             fg_err *err)
{
    memset(tally, 0, sizeof *tally);
    for (int s = 0; s < o->wf->n_steps; s++) tally->works_everywhere[s] = 1;
    char images_dir[1024], png_path[1200] = "";
    snprintf(images_dir, sizeof images_dir, "%s/images", fg_data_dir());
    int created = 0, image = o->wf->payload.kind == FG_PAYLOAD_IMAGE;
    if (image && (fg_mkdirs(images_dir, err) != 0 ||
                  fg_imagegen_ensure(images_dir, o->size_mb, FG_VARIANT_CLEAN, png_path,
                                     sizeof png_path, &created, err) != 0)) {
        char inner[sizeof err->msg];
        snprintf(inner, sizeof inner, "%s", err->msg);
        return fg_err_set(err, "test image: %s", inner);
    }
    fg_cluster c;
    if (fg_cluster_resolve(o->endpoints, NULL, CHECK_SETUP_DEADLINE_S, &c, err) != 0) return -1;
    /* Node mode passes blobs by reference on the node itself; function
     * endpoints keep none, so everything travels inline. */
    fg_payload p;
    if (fg_payload_load(o->wf, image ? png_path : NULL, c.mode != FG_CLUSTER_NODES, &p, err) != 0) {
        fg_cluster_stop(&c);
        return -1;
    }
    const fg_check_target t = {o->wf, &c, &p, png_path, created};
    if (ops->begin) ops->begin(ctx, &t);
    check_pass k = {o, ops, ctx, &t, 0, tally};
    const fg_probe_ops probe = {pass_invoke, pass_report};
    int rc = 0;
    for (int n = 0; n < c.n_nodes && rc == 0; n++) {
        k.node = n;
        if (fg_probe_run(o->wf, &p, &probe, &k, err) < 0) rc = -1;
    }
    fg_payload_free(&p);
    fg_cluster_stop(&c);
    return rc;
}
