/* preflight.c — a run's inputs checked up front (preflight.h), by the same
 * loaders the run uses, so the check and the run can never disagree; what
 * they load is dropped again. */
#include "flowgate/preflight.h"

#include <stdio.h>

#include "flowgate/cluster.h"
#include "flowgate/payload.h"
#include "flowgate/workflow.h"

/* Functions mode: one URL per function, so every step needs its own. */
static int steps_have_urls(const fg_workflow *wf, const fg_cluster *c, const char *file,
                           fg_err *err)
{
    for (int s = 0; s < wf->n_steps; s++)
        if (fg_cluster_endpoint_index(c, 0, wf->steps[s].id) < 0)
            return fg_err_set(err, "%s: workflow step '%s' has no URL in the endpoints file %s",
                              wf->path, wf->steps[s].id, file);
    return 0;
}

static int steps_served(const fg_workflow *wf, const fg_preflight_server *server, fg_err *err)
{
    for (int s = 0; s < wf->n_steps; s++)
        if (!server->runs_function(wf->steps[s].id))
            return fg_err_set(err, "%s: workflow step '%s' is not a function flowgate-functions "
                              "runs (give an endpoints file for other functions)",
                              wf->path, wf->steps[s].id);
    return 0;
}

int fg_run_preflight(const fg_run_config *c, const fg_preflight_server *server, fg_err *err)
{
    char path[1024];
    fg_workflow wf;
    if (fg_workflow_load(fg_config_workflow_path(c, path, sizeof path), &wf, err) != 0) return -1;
    int rc = 0;
    if (wf.payload.kind != FG_PAYLOAD_IMAGE) {
        fg_payload p;
        if ((rc = fg_payload_load(&wf, NULL, 1, &p, err)) == 0) fg_payload_free(&p);
    }
    if (rc == 0 && c->endpoints[0]) {
        fg_cluster cl;
        rc = fg_cluster_load_endpoints(c->endpoints, &cl, err);
        if (rc == 0 && cl.mode == FG_CLUSTER_FUNCTIONS)
            rc = steps_have_urls(&wf, &cl, c->endpoints, err);
    } else if (rc == 0 && server) {
        if (server->check_nodes_file)
            rc = server->check_nodes_file(fg_config_nodes_file_path(c, path, sizeof path), err);
        if (rc == 0 && server->runs_function) rc = steps_served(&wf, server, err);
    }
    fg_workflow_free(&wf);
    return rc;
}
