/* git_info.c — the commit and branch of the source tree, read from .git
 * (design in git_info.h). What is read, in order:
 *
 *   <repo>/.git            a directory: the gitdir and the common dir both;
 *                          a file "gitdir: <path>": that path (relative to
 *                          <repo>) is the gitdir, and <gitdir>/commondir,
 *                          when present, names the common dir (relative to
 *                          the gitdir)
 *   <gitdir>/HEAD          a sha (detached), or "ref: refs/heads/<branch>"
 *   the ref, loose         <gitdir>/<ref>, then <common>/<ref>: branches are
 *                          shared by all worktrees and live in the common dir
 *   the ref, packed        <common>/packed-refs, "<sha> <ref>" lines, where
 *                          `git gc` moves loose refs
 *
 * A branch with no commit yet (a fresh `git init`) has a branch and no
 * commit: that is what it is, not an error. */
#include "git_info.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { GIT_PATH_MAX = 4096, GIT_LINE_MAX = 1024 };

static int is_sha(const char *s)
{
    if (strlen(s) != 40) return 0;
    for (const char *p = s; *p; p++)
        if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f'))) return 0;
    return 1;
}

static void trim_end(char *s)
{
    size_t n = strlen(s);
    while (n && (s[n - 1] == '\n' || s[n - 1] == '\r' || s[n - 1] == ' ' || s[n - 1] == '\t'))
        s[--n] = 0;
}

/* The first line of a file, trimmed; 0 when it cannot be read. */
static int first_line(const char *path, char *line, size_t size)
{
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    int got = fgets(line, (int)size, f) != NULL;
    fclose(f);
    if (got) trim_end(line);
    return got;
}

/* dir/name, or name alone when it is absolute; 0 when it does not fit
 * (a cut path would name some other file). */
static int join(char *out, size_t size, const char *dir, const char *name)
{
    int n = name[0] == '/' ? snprintf(out, size, "%s", name)
                           : snprintf(out, size, "%s/%s", dir, name);
    return n >= 0 && (size_t)n < size;
}

/* Where HEAD and the refs are: gitdir and common dir; 0 when the tree has
 * no .git this can read. */
static int find_git_dirs(const char *repo_dir, char *gitdir, char *common, size_t size)
{
    char dotgit[GIT_PATH_MAX], line[GIT_LINE_MAX];
    if (!join(dotgit, sizeof dotgit, repo_dir, ".git")) return 0;
    FILE *f = fopen(dotgit, "r");
    if (!f) return 0;
    /* A directory opens but does not read (EISDIR): the plain layout. */
    int is_file = fgets(line, sizeof line, f) != NULL;
    fclose(f);
    if (!is_file) {
        snprintf(gitdir, size, "%s", dotgit);
        snprintf(common, size, "%s", dotgit);
        return 1;
    }
    trim_end(line);
    if (strncmp(line, "gitdir:", 7)) return 0;
    const char *target = line + 7;
    while (*target == ' ') target++;
    if (!join(gitdir, size, repo_dir, target)) return 0;
    char path[GIT_PATH_MAX], named[GIT_LINE_MAX];
    if (join(path, sizeof path, gitdir, "commondir") && first_line(path, named, sizeof named) &&
        named[0])
        return join(common, size, gitdir, named);
    /* No commondir: a submodule's gitdir, which holds its own refs. */
    snprintf(common, size, "%s", gitdir);
    return 1;
}

/* The sha a loose ref file holds; 0 when absent. */
static int loose_ref(const char *dir, const char *ref, char *sha, size_t size)
{
    char path[GIT_PATH_MAX], line[GIT_LINE_MAX];
    if (!join(path, sizeof path, dir, ref) || !first_line(path, line, sizeof line) ||
        !is_sha(line))
        return 0;
    snprintf(sha, size, "%s", line);
    return 1;
}

/* The sha packed-refs gives the ref; 0 when it is not there. Lines are
 * "<sha> <ref>", with "#" comments and "^<sha>" peeled tags between. */
static int packed_ref(const char *common, const char *ref, char *sha, size_t size)
{
    char path[GIT_PATH_MAX], line[GIT_LINE_MAX];
    if (!join(path, sizeof path, common, "packed-refs")) return 0;
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    int found = 0;
    while (!found && fgets(line, sizeof line, f)) {
        trim_end(line);
        char *space = strchr(line, ' ');
        if (!space || strcmp(space + 1, ref)) continue;
        *space = 0;
        if (is_sha(line)) {
            snprintf(sha, size, "%s", line);
            found = 1;
        }
    }
    fclose(f);
    return found;
}

/* What .git says: commit ("" unknown) and branch ("" detached). */
static void read_dot_git(const char *repo_dir, char *commit, size_t csize, char *branch,
                         size_t bsize)
{
    char gitdir[GIT_PATH_MAX], common[GIT_PATH_MAX], path[GIT_PATH_MAX], head[GIT_LINE_MAX];
    if (!find_git_dirs(repo_dir, gitdir, common, sizeof gitdir)) return;
    if (!join(path, sizeof path, gitdir, "HEAD") || !first_line(path, head, sizeof head)) return;
    if (is_sha(head)) {
        snprintf(commit, csize, "%s", head);
        return;
    }
    if (strncmp(head, "ref: ", 5)) return;
    const char *ref = head + 5;
    if (!strncmp(ref, "refs/heads/", 11)) snprintf(branch, bsize, "%s", ref + 11);
    /* The gitdir first: refs of one worktree's own (refs/bisect) live there. */
    if (!loose_ref(gitdir, ref, commit, csize) && !loose_ref(common, ref, commit, csize))
        packed_ref(common, ref, commit, csize);
}

/* The first of the variables that is set and not empty; NULL if none. */
static const char *first_env(const char *const *names)
{
    for (; *names; names++) {
        const char *v = getenv(*names);
        if (v && v[0]) return v;
    }
    return NULL;
}

int fg_git_info_at(const char *repo_dir, char *commit, size_t csize, char *branch, size_t bsize)
{
    static const char *const commit_vars[] = {"FLOWGATE_GIT_COMMIT", "GITHUB_SHA", "CI_COMMIT_SHA",
                                              NULL};
    static const char *const branch_vars[] = {"FLOWGATE_BRANCH", "GITHUB_REF_NAME",
                                              "CI_COMMIT_REF_NAME", NULL};
    if (csize) commit[0] = 0;
    if (bsize) branch[0] = 0;
    if (repo_dir && csize && bsize) read_dot_git(repo_dir, commit, csize, branch, bsize);
    const char *v;
    if ((v = first_env(commit_vars)) && csize) snprintf(commit, csize, "%s", v);
    if ((v = first_env(branch_vars)) && bsize) snprintf(branch, bsize, "%s", v);
    return csize && commit[0] ? 0 : -1;
}

int fg_git_info(char *commit, size_t csize, char *branch, size_t bsize)
{
#ifdef FLOWGATE_SOURCE_DIR
    return fg_git_info_at(FLOWGATE_SOURCE_DIR, commit, csize, branch, bsize);
#else
    return fg_git_info_at(NULL, commit, csize, branch, bsize);
#endif
}
