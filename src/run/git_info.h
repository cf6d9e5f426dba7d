/* git_info.h — which commit and branch the source tree is at, for a run's
 * results (run.git_commit, run.git_branch). The performance history keys
 * and labels its series by them (flowgate/history.h), so a run must say
 * where it came from even on a CI runner's detached checkout.
 *
 * Read from the files under .git, never by running git: a run must not
 * depend on a git binary, and a process per run would only cost time.
 * Both layouts are understood: .git as a directory, and .git as a file
 * ("gitdir: <path>", a `git worktree` or a submodule), where HEAD lives in
 * that gitdir and the branches in the common dir its "commondir" names.
 *
 * The environment wins over .git, because CI checks out a detached head
 * and knows the branch only by name: FLOWGATE_GIT_COMMIT, else GITHUB_SHA,
 * else CI_COMMIT_SHA for the commit; FLOWGATE_BRANCH, else GITHUB_REF_NAME,
 * else CI_COMMIT_REF_NAME for the branch. Each is taken on its own: a
 * commit from the environment with the branch from .git is allowed. */
#ifndef FLOWGATE_RUN_GIT_INFO_H
#define FLOWGATE_RUN_GIT_INFO_H
#include <stddef.h>

/* The commit (40 hex digits from .git, as given from the environment) and
 * the branch (the name after refs/heads/ when HEAD is a symbolic ref; ""
 * when detached or unknown) of the tree this binary was built from
 * (FLOWGATE_SOURCE_DIR). 0 when the commit is known, -1 when not (no .git,
 * no commit yet); branch is filled either way. */
int fg_git_info(char *commit, size_t csize, char *branch, size_t bsize);

/* The same for the repository whose work tree is repo_dir (NULL: the
 * environment only). For tests, which build fake .git trees. */
int fg_git_info_at(const char *repo_dir, char *commit, size_t csize, char *branch,
                   size_t bsize);

#endif
