/* containers.c — bringing the node set up and down as Docker containers,
 * and checking it (containers.h).
 *
 * Every docker command runs by posix_spawnp with an argument vector: names,
 * labels and paths from the nodes file or the command line are arguments,
 * never parts of a shell string. The only shell string is the health command run
 * inside the container, built from a port number. Output is read through a
 * pipe with a deadline, so a hung engine cannot hang the tool. */
#include "flowgate/containers.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "flowgate/json.h"

extern char **environ;

#define DOCKER_TIMEOUT_MS 300000   /* vfs storage copies or deletes a whole image per container */
#define MAX_ARGS (16 + 2 * FG_MAX_NODES + 16)

/* Names that end up in container names and labels: a safe alphabet. */
static int safe_name(const char *s, size_t max)
{
    size_t n = strlen(s);
    return n > 0 && n < max && strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                          "0123456789_.-") == n && s[0] != '-' && s[0] != '.';
}

/* Runs docker with argv[1..] (argv[0] is "docker"); stdout and stderr
 * together into *out (NUL-terminated, caller frees). Returns the exit status,
 * -1 with err when it could not run or timed out. */
static int docker(char *const argv[], char **out, fg_err *err)
{
    *out = NULL;
    int fds[2];
    if (pipe(fds) != 0) return fg_err_set(err, "docker: pipe: %s", strerror(errno));
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
    posix_spawn_file_actions_adddup2(&fa, fds[1], 2);
    posix_spawn_file_actions_addclose(&fa, fds[0]);
    pid_t pid;
    int rc = posix_spawnp(&pid, "docker", &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(fds[1]);
    if (rc != 0) {
        close(fds[0]);
        return fg_err_set(err, "cannot run docker (the Docker client): %s", strerror(rc));
    }
    size_t len = 0, cap = 4096;
    char *buf = malloc(cap);
    double deadline = fg_now_mono_ms() + DOCKER_TIMEOUT_MS;
    int timed_out = 0;
    for (;;) {
        double left = deadline - fg_now_mono_ms();
        if (left <= 0) {
            timed_out = 1;
            break;
        }
        struct pollfd p = {fds[0], POLLIN, 0};
        if (poll(&p, 1, (int)left) <= 0) continue;
        if (buf && len + 1024 > cap) {
            char *grown = realloc(buf, cap * 2);
            if (grown) cap *= 2, buf = grown;
        }
        if (!buf || len + 1024 > cap) break;
        ssize_t got = read(fds[0], buf + len, cap - len - 1);
        if (got < 0 && errno == EINTR) continue;
        if (got <= 0) break;
        len += (size_t)got;
    }
    close(fds[0]);
    if (timed_out) kill(pid, SIGKILL);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
    if (!buf) return fg_err_set(err, "docker %s: out of memory", argv[1]);
    buf[len] = 0;
    *out = buf;
    if (timed_out)
        return fg_err_set(err, "docker %s: no answer within %d s", argv[1], DOCKER_TIMEOUT_MS / 1000);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

/* The first line of docker's output, for one-line errors. */
static const char *first_line(char *text)
{
    if (!text) return "";
    text[strcspn(text, "\n")] = 0;
    return text;
}

/* ---- the plan ------------------------------------------------------------ */

static double number_or(const cJSON *o, const char *key, double dflt)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsNumber(v) ? v->valuedouble : dflt;
}

int fg_containers_plan_make(const fg_containers_opts *o, fg_containers_plan *p, fg_err *err)
{
    memset(p, 0, sizeof *p);
    const char *id = o->id ? o->id : FG_CONTAINERS_DEFAULT_ID;
    if (!safe_name(id, sizeof p->id))
        return fg_err_set(err, "cluster id '%.60s': use 1..47 of a-z A-Z 0-9 _ . -", id);
    snprintf(p->id, sizeof p->id, "%s", id);
    const char *image = o->image ? o->image : FG_CONTAINERS_DEFAULT_IMAGE;
    if (!*image || strlen(image) >= sizeof p->image || image[0] == '-' ||
        strspn(image, "abcdefghijklmnopqrstuvwxyz0123456789_.-:/@") != strlen(image))
        return fg_err_set(err, "image '%.60s': not an image reference", image);
    snprintf(p->image, sizeof p->image, "%s", image);
    int base_port = o->base_port ? o->base_port : FG_CONTAINERS_DEFAULT_PORT;
    if (base_port < 1024 || base_port > 65535 - FG_MAX_NODES)
        return fg_err_set(err, "base port %d: must be 1024..%d", base_port, 65535 - FG_MAX_NODES);

    char dflt[1024];
    const char *path = o->nodes_file;
    if (!path) {
        snprintf(dflt, sizeof dflt, "%s/nodes.json", fg_data_dir());
        path = dflt;
    }
    /* Mounted into each container: docker wants an absolute path. */
    if (!realpath(path, p->nodes_file))
        return fg_err_set(err, "nodes file '%s': %s", path, strerror(errno));
    cJSON *root = fg_json_load_object(p->nodes_file, 1 << 20, err);
    if (!root) return -1;
    int rc = -1;
    const cJSON *nodes = cJSON_GetObjectItemCaseSensitive(root, "nodes");
    int count = cJSON_GetArraySize(nodes);
    if (!cJSON_IsArray(nodes) || count < 1 || count > FG_MAX_NODES) {
        fg_err_set(err, "%s: \"nodes\": expected 1..%d nodes", path, FG_MAX_NODES);
        goto out;
    }
    double total_cores = 0, total_workers = 0;
    int all_cores = 1;
    const cJSON *n;
    cJSON_ArrayForEach(n, nodes) {
        fg_container_plan *c = &p->c[p->n];
        const cJSON *name = cJSON_GetObjectItemCaseSensitive(n, "name");
        if (!cJSON_IsString(name) || !safe_name(name->valuestring, sizeof c->node)) {
            fg_err_set(err, "%s: nodes[%d].name: use 1..31 of a-z A-Z 0-9 _ . -", path, p->n);
            goto out;
        }
        snprintf(c->node, sizeof c->node, "%s", name->valuestring);
        snprintf(c->name, sizeof c->name, "flowgate-%s-%s", id, name->valuestring);
        c->port = base_port + p->n;
        c->workers = (int)number_or(n, "workers", 1);
        c->bandwidth_mbit = number_or(n, "bandwidth_mbit", 0);
        c->latency_ms = number_or(n, "latency_ms", 0);
        double cores = number_or(n, "cores", NAN);
        double mem = number_or(n, "memory_mb",
                               256 + 192.0 * c->workers + number_or(n, "blob_store_mb", 512));
        if (c->workers < 1 || c->workers > 256 || !(mem >= 64 && mem <= 1 << 20) ||
            (!isnan(cores) && !(cores > 0 && cores <= 4096))) {
            fg_err_set(err, "%s: nodes[%d] (%s): workers 1..256, memory_mb 64.., cores > 0",
                       path, p->n, c->node);
            goto out;
        }
        c->memory_mb = (long)mem;
        c->cpus = cores;   /* the raw share for now */
        if (isnan(cores)) all_cores = 0;
        else total_cores += cores;
        total_workers += c->workers;
        p->n++;
    }
    long online = sysconf(_SC_NPROCESSORS_ONLN);
    double machine = o->cpus_total > 0 ? o->cpus_total : (online > 0 ? (double)online : 1);
    for (int i = 0; i < p->n; i++) {
        double share = all_cores ? p->c[i].cpus / total_cores : p->c[i].workers / total_workers;
        /* docker refuses caps below 0.01 CPU; two decimals is its precision. */
        p->c[i].cpus = fmax(0.01, round(share * machine * 100) / 100);
    }
    rc = 0;
out:
    cJSON_Delete(root);
    return rc;
}

/* Appends printf-formatted text to the store; returns it, NULL when full. */
static char *stored(char **cursor, char *end, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static char *stored(char **cursor, char *end, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(*cursor, (size_t)(end - *cursor), fmt, ap);
    va_end(ap);
    if (n < 0 || n >= end - *cursor) return NULL;
    char *s = *cursor;
    *cursor += n + 1;
    return s;
}

int fg_containers_run_argv(const fg_containers_plan *p, int i, char *store, size_t store_size,
                           char **argv, int max_args)
{
    const fg_container_plan *c = &p->c[i];
    char *cur = store, *end = store + store_size;
    const char *fixed[] = {"docker", "run", "--detach", "--network", "host"};
    int n = 0;
#define ARG(...) do { \
        if (n + 2 > max_args || !(argv[n] = stored(&cur, end, __VA_ARGS__))) return -1; \
        n++; \
    } while (0)
    for (size_t k = 0; k < sizeof fixed / sizeof fixed[0]; k++) ARG("%s", fixed[k]);
    ARG("--name"); ARG("%s", c->name);
    ARG("--label"); ARG("flowgate.cluster=%s", p->id);
    ARG("--label"); ARG("flowgate.node=%s", c->node);
    ARG("--cpus"); ARG("%.2f", c->cpus);
    ARG("--memory"); ARG("%ldm", c->memory_mb);
    ARG("--health-cmd"); ARG("curl -fsS -o /dev/null http://127.0.0.1:%d/ || exit 1", c->port);
    /* Each check runs curl inside the container and is charged to its
     * cgroup: every 5 s keeps that small beside the node's own CPU. */
    ARG("--health-interval"); ARG("5s");
    ARG("--health-timeout"); ARG("2s");
    ARG("--health-retries"); ARG("3");
    ARG("--health-start-period"); ARG("10s");
    ARG("--volume"); ARG("%s:%s:ro", p->nodes_file, FG_CONTAINERS_NODES_FILE_PATH);
    ARG("%s", p->image);
    ARG("--nodes"); ARG("%s", FG_CONTAINERS_NODES_FILE_PATH);
    ARG("--node"); ARG("%s", c->node);
    ARG("--port"); ARG("%d", c->port);
    for (int k = 0; k < p->n; k++) {
        if (k == i) continue;
        ARG("--peer"); ARG("%s=http://127.0.0.1:%d", p->c[k].node, p->c[k].port);
    }
#undef ARG
    argv[n] = NULL;
    return n;
}

cJSON *fg_containers_endpoints_json(const fg_containers_plan *p)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "mode", "nodes");
    cJSON *k = cJSON_AddObjectToObject(o, "containers");
    cJSON_AddStringToObject(k, "cluster", p->id);
    cJSON_AddStringToObject(k, "image", p->image);
    cJSON *arr = cJSON_AddArrayToObject(o, "nodes");
    for (int i = 0; i < p->n; i++) {
        cJSON *e = cJSON_CreateObject();
        char url[64];
        snprintf(url, sizeof url, "http://127.0.0.1:%d", p->c[i].port);
        cJSON_AddStringToObject(e, "name", p->c[i].node);
        cJSON_AddStringToObject(e, "url", url);
        cJSON_AddNumberToObject(e, "workers", p->c[i].workers);
        cJSON_AddNumberToObject(e, "bandwidth_mbit", p->c[i].bandwidth_mbit);
        cJSON_AddNumberToObject(e, "latency_ms", p->c[i].latency_ms);
        cJSON_AddItemToArray(arr, e);
    }
    return o;
}

/* ---- inspecting ------------------------------------------------------------ */

/* `docker inspect` of every container (running or not) of cluster id, as
 * parsed JSON (an array, maybe empty). NULL with err when the engine cannot
 * be asked. */
static cJSON *inspect_cluster(const char *id, fg_err *err)
{
    char filter[96];
    snprintf(filter, sizeof filter, "label=flowgate.cluster=%s", id);
    char *ps_argv[] = {"docker", "ps", "--all", "--quiet", "--no-trunc", "--filter", filter, NULL};
    char *out = NULL;
    int st = docker(ps_argv, &out, err);
    if (st != 0) {
        if (st > 0) fg_err_set(err, "Docker engine not reachable: %s", first_line(out));
        free(out);
        return NULL;
    }
    char *argv[4 + FG_MAX_NODES * 4] = {"docker", "inspect"};
    int n = 2;
    for (char *tok = strtok(out, "\n"); tok && n < (int)(sizeof argv / sizeof argv[0]) - 1;
         tok = strtok(NULL, "\n"))
        argv[n++] = tok;
    argv[n] = NULL;
    if (n == 2) {
        free(out);
        return cJSON_CreateArray();
    }
    char *json = NULL;
    st = docker(argv, &json, err);
    free(out);
    cJSON *arr = st == 0 ? cJSON_Parse(json) : NULL;
    if (st > 0) fg_err_set(err, "docker inspect: %s", first_line(json));
    else if (st == 0 && !cJSON_IsArray(arr)) fg_err_set(err, "docker inspect: unreadable output");
    free(json);
    if (!cJSON_IsArray(arr)) {
        cJSON_Delete(arr);
        return NULL;
    }
    return arr;
}

static const char *path_str(const cJSON *o, const char *a, const char *b)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(o, a), b);
    return cJSON_IsString(v) ? v->valuestring : "";
}

static const char *label(const cJSON *container, const char *key)
{
    const cJSON *labels = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(container, "Config"), "Labels");
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(labels, key);
    return cJSON_IsString(v) ? v->valuestring : "";
}

static const char *health(const cJSON *container)
{
    const cJSON *h = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(container, "State"), "Health");
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(h, "Status");
    return cJSON_IsString(s) ? s->valuestring : "none";
}

int fg_containers_down(const char *id, int *removed, fg_err *err)
{
    *removed = 0;
    if (!safe_name(id, 48)) return fg_err_set(err, "cluster id '%.60s': use a-z A-Z 0-9 _ . -", id);
    cJSON *arr = inspect_cluster(id, err);
    if (!arr) return -1;
    /* One docker rm for all: the engine removes them side by side (with
     * vfs storage each removal deletes a whole copy of the image). */
    char *argv[8 + FG_MAX_NODES * 4] = {"docker", "rm", "--force", "--volumes"};
    int n = 4, max = (int)(sizeof argv / sizeof argv[0]) - 1;
    const cJSON *c;
    cJSON_ArrayForEach(c, arr) {
        const cJSON *cid = cJSON_GetObjectItemCaseSensitive(c, "Id");
        if (cJSON_IsString(cid) && n < max) argv[n++] = cid->valuestring;
    }
    argv[n] = NULL;
    int rc = 0;
    if (n > 4) {
        char *out = NULL;
        int st = docker(argv, &out, err);
        if (st > 0) fg_err_set(err, "docker rm: %s", first_line(out));
        free(out);
        if (st != 0) rc = -1;
        else *removed = n - 4;
    }
    cJSON_Delete(arr);
    return rc;
}

int fg_containers_check(const char *id, const char *image, const fg_cluster *cl, int verbose,
                        FILE *out)
{
    fg_err err;
    cJSON *arr = inspect_cluster(id, &err);
    if (!arr) {
        fprintf(out, "containers: cluster %s: %s\n", id, err.msg);
        return -1;
    }
    int problems = 0;
    for (int i = 0; i < cl->n_nodes; i++) {
        const char *node = cl->nodes[i].name;
        const cJSON *found = NULL, *c;
        cJSON_ArrayForEach(c, arr)
            if (!strcmp(label(c, "flowgate.node"), node)) found = c;
        if (!found) {
            fprintf(out, "containers: node %s: no container labelled flowgate.cluster=%s, "
                    "flowgate.node=%s\n", node, id, node);
            problems++;
            continue;
        }
        const char *name = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(found, "Name"));
        name = name ? name + (name[0] == '/') : "?";
        const char *state = path_str(found, "State", "Status");
        const char *img = path_str(found, "Config", "Image");
        const char *h = health(found);
        int bad = 0;
        if (strcmp(state, "running")) {
            fprintf(out, "containers: node %s: container %s is %s, not running\n", node, name, state);
            bad = 1;
        } else if (strcmp(h, "healthy")) {
            fprintf(out, "containers: node %s: container %s is %s, not healthy\n", node, name, h);
            bad = 1;
        }
        if (image && *image && strcmp(img, image)) {
            fprintf(out, "containers: node %s: container %s runs image %s, expected %s\n", node,
                    name, img, image);
            bad = 1;
        }
        if (!bad && verbose)
            fprintf(out, "containers: node %s: %s running, healthy, image %s\n", node, name, img);
        problems += bad;
    }
    cJSON_Delete(arr);
    return problems;
}

/* Waits until every container of the plan is healthy; err names the first
 * that is not (exited: its last log line). */
static int wait_healthy(const fg_containers_plan *p, double deadline_s, fg_err *err)
{
    double deadline = fg_now_mono_ms() + deadline_s * 1000;
    for (;;) {
        cJSON *arr = inspect_cluster(p->id, err);
        if (!arr) return -1;
        int healthy = 0;
        const cJSON *c;
        char why[300] = "";
        cJSON_ArrayForEach(c, arr) {
            const char *state = path_str(c, "State", "Status");
            const char *node = label(c, "flowgate.node");
            if (!strcmp(state, "exited") || !strcmp(state, "dead")) {
                const char *name = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(c, "Name"));
                char *argv[] = {"docker", "logs", "--tail", "1", (char *)(name ? name + 1 : node), NULL};
                char *log = NULL;
                fg_err ignored;
                docker(argv, &log, &ignored);
                fg_err_set(err, "node %s: container exited: %s", node, first_line(log));
                free(log);
                cJSON_Delete(arr);
                return -1;
            }
            if (!strcmp(health(c), "healthy")) healthy++;
            else if (!*why) snprintf(why, sizeof why, "node %s is %s", node, health(c));
        }
        cJSON_Delete(arr);
        if (healthy == p->n) return 0;
        if (fg_now_mono_ms() > deadline)
            return fg_err_set(err, "not healthy after %.0f s: %s", deadline_s, why);
        usleep(500 * 1000);
    }
}

int fg_containers_up(const fg_containers_opts *o, FILE *log, fg_err *err)
{
    fg_containers_plan p;
    if (fg_containers_plan_make(o, &p, err) != 0) return -1;
    int removed = 0;
    if (fg_containers_down(p.id, &removed, err) != 0) return -1;
    if (removed && log) fprintf(log, "cluster %s: removed %d old container(s)\n", p.id, removed);
    for (int i = 0; i < p.n; i++) {
        char store[8192], *argv[MAX_ARGS], *out = NULL;
        if (fg_containers_run_argv(&p, i, store, sizeof store, argv, MAX_ARGS) < 0) {
            fg_err_set(err, "node %s: docker run arguments too long", p.c[i].node);
            goto fail;
        }
        int st = docker(argv, &out, err);
        if (st > 0) fg_err_set(err, "node %s: docker run: %s", p.c[i].node, first_line(out));
        free(out);
        if (st != 0) goto fail;
        if (log)
            fprintf(log, "cluster %s: %s  %s  http://127.0.0.1:%d  cpus %.2f  memory %ld MB  workers %d\n",
                    p.id, p.c[i].node, p.c[i].name, p.c[i].port, p.c[i].cpus, p.c[i].memory_mb,
                    p.c[i].workers);
    }
    if (wait_healthy(&p, o->health_deadline_s > 0 ? o->health_deadline_s : 120, err) != 0)
        goto fail;
    if (o->endpoints_out) {
        cJSON *e = fg_containers_endpoints_json(&p);
        char *text = cJSON_Print(e);
        cJSON_Delete(e);
        int rc = text ? fg_write_file_atomic(o->endpoints_out, text, strlen(text), err)
                      : fg_err_set(err, "out of memory");
        free(text);
        if (rc != 0) goto fail;
    }
    if (log) fprintf(log, "cluster %s: %d container(s) healthy\n", p.id, p.n);
    return 0;
fail:;
    fg_err ignored;
    fg_containers_down(p.id, &removed, &ignored);
    return -1;
}
