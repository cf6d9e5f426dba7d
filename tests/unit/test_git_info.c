/* test_git_info.c — the commit and branch a run records, read from fake
 * .git trees built in a temporary directory: a detached HEAD; HEAD naming
 * a branch with a loose ref; a branch only in packed-refs (with the
 * comment and peeled-tag lines git writes there); a branch with no commit
 * yet; a git worktree, whose .git is a file pointing at its gitdir, whose
 * commondir holds the branches (absolute and relative gitdir); no .git at
 * all. Then the environment, which wins over .git in the order CI systems
 * spell it, and this very tree (a checkout or a worktree) as the build
 * saw it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "run/git_info.h"

#define SHA_A "0123456789abcdef0123456789abcdef01234567"
#define SHA_B "89abcdef0123456789abcdef0123456789abcdef"

static const char *const ci_vars[] = {"FLOWGATE_GIT_COMMIT", "GITHUB_SHA",      "CI_COMMIT_SHA",
                                      "FLOWGATE_BRANCH",     "GITHUB_REF_NAME", "CI_COMMIT_REF_NAME"};

static char tmp[1024];   /* short of PATH_MAX, so tmp/<rel> always fits */

/* The tests run under CI, whose own variables would override every fake
 * tree: none of them is set while a test runs. */
static void clear_env(void)
{
    for (size_t i = 0; i < sizeof ci_vars / sizeof ci_vars[0]; i++) unsetenv(ci_vars[i]);
}

static int setup(void **state)
{
    (void)state;
    clear_env();
    char cwd[900];
    if (!getcwd(cwd, sizeof cwd)) return -1;
    snprintf(tmp, sizeof tmp, "%s/test_git_info_tmp.XXXXXX", cwd);
    return mkdtemp(tmp) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[sizeof tmp + 16];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
    return system(cmd) == 0 ? 0 : -1;
}

static void path_of(char *out, size_t size, const char *rel)
{
    snprintf(out, size, "%s/%s", tmp, rel);
}

/* tmp/rel holding text, with every directory on the way made. */
static void write_file(const char *rel, const char *text)
{
    char path[PATH_MAX];
    path_of(path, sizeof path, rel);
    for (char *p = path + strlen(tmp) + 1; (p = strchr(p, '/')); p++) {
        *p = 0;
        mkdir(path, 0755);
        *p = '/';
    }
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void make_dir(const char *rel)
{
    write_file(rel, "");   /* makes the parents */
    char path[PATH_MAX];
    path_of(path, sizeof path, rel);
    unlink(path);
    mkdir(path, 0755);
}

static int info(const char *repo_rel, char *commit, char *branch)
{
    char repo[PATH_MAX];
    path_of(repo, sizeof repo, repo_rel);
    return fg_git_info_at(repo, commit, 64, branch, 256);
}

static void test_detached_head(void **state)
{
    (void)state;
    write_file("detached/.git/HEAD", SHA_A "\n");
    char commit[64], branch[256];
    assert_int_equal(info("detached", commit, branch), 0);
    assert_string_equal(commit, SHA_A);
    assert_string_equal(branch, "");
}

static void test_loose_ref(void **state)
{
    (void)state;
    write_file("loose/.git/HEAD", "ref: refs/heads/main\n");
    write_file("loose/.git/refs/heads/main", SHA_A "\n");
    /* A stale packed copy loses to the loose ref, as in git. */
    write_file("loose/.git/packed-refs", SHA_B " refs/heads/main\n");
    char commit[64], branch[256];
    assert_int_equal(info("loose", commit, branch), 0);
    assert_string_equal(commit, SHA_A);
    assert_string_equal(branch, "main");
}

static void test_packed_ref(void **state)
{
    (void)state;
    write_file("packed/.git/HEAD", "ref: refs/heads/feature/x\n");
    make_dir("packed/.git/refs/heads");
    write_file("packed/.git/packed-refs",
               "# pack-refs with: peeled fully-peeled sorted \n"
               SHA_B " refs/heads/feature\n"
               SHA_A " refs/heads/feature/x\n"
               SHA_B " refs/tags/v1\n"
               "^" SHA_A "\n");
    char commit[64], branch[256];
    assert_int_equal(info("packed", commit, branch), 0);
    assert_string_equal(commit, SHA_A);
    assert_string_equal(branch, "feature/x");
}

static void test_branch_without_commit(void **state)
{
    (void)state;
    write_file("fresh/.git/HEAD", "ref: refs/heads/main\n");
    make_dir("fresh/.git/refs/heads");
    char commit[64] = "x", branch[256];
    assert_int_equal(info("fresh", commit, branch), -1);
    assert_string_equal(commit, "");
    assert_string_equal(branch, "main");
}

static void test_worktree(void **state)
{
    (void)state;
    /* The main checkout keeps every branch; the worktree's gitdir only its
     * HEAD and a commondir that leads back. */
    write_file("main/.git/HEAD", "ref: refs/heads/main\n");
    write_file("main/.git/refs/heads/main", SHA_B "\n");
    write_file("main/.git/refs/heads/wt", SHA_A "\n");
    write_file("main/.git/packed-refs", SHA_B " refs/heads/packed-wt\n");
    write_file("main/.git/worktrees/wt/HEAD", "ref: refs/heads/wt\n");
    write_file("main/.git/worktrees/wt/commondir", "../..\n");
    char gitdir_line[sizeof tmp + 64];
    snprintf(gitdir_line, sizeof gitdir_line, "gitdir: %s/main/.git/worktrees/wt\n", tmp);
    write_file("wt/.git", gitdir_line);
    char commit[64], branch[256];
    assert_int_equal(info("wt", commit, branch), 0);
    assert_string_equal(commit, SHA_A);
    assert_string_equal(branch, "wt");

    /* A relative gitdir (git worktree --relative-paths), and a branch the
     * common dir has only packed. */
    write_file("main/.git/worktrees/wt2/HEAD", "ref: refs/heads/packed-wt\n");
    write_file("main/.git/worktrees/wt2/commondir", "../..\n");
    write_file("wt2/.git", "gitdir: ../main/.git/worktrees/wt2\n");
    assert_int_equal(info("wt2", commit, branch), 0);
    assert_string_equal(commit, SHA_B);
    assert_string_equal(branch, "packed-wt");

    /* A detached worktree: HEAD holds the sha in its own gitdir. */
    write_file("main/.git/worktrees/wt3/HEAD", SHA_B "\n");
    write_file("main/.git/worktrees/wt3/commondir", "../..\n");
    write_file("wt3/.git", "gitdir: ../main/.git/worktrees/wt3\n");
    assert_int_equal(info("wt3", commit, branch), 0);
    assert_string_equal(commit, SHA_B);
    assert_string_equal(branch, "");
}

static void test_no_git(void **state)
{
    (void)state;
    make_dir("plain");
    char commit[64] = "x", branch[256] = "y";
    assert_int_equal(info("plain", commit, branch), -1);
    assert_string_equal(commit, "");
    assert_string_equal(branch, "");
    /* Not a gitdir line: nothing, rather than a guess. */
    write_file("odd/.git", "something else\n");
    assert_int_equal(info("odd", commit, branch), -1);
    assert_int_equal(fg_git_info_at(NULL, commit, sizeof commit, branch, sizeof branch), -1);
}

static void test_environment_wins(void **state)
{
    (void)state;
    write_file("ci/.git/HEAD", SHA_A "\n");
    char commit[64], branch[256];

    setenv("CI_COMMIT_SHA", "c0ffee", 1);
    setenv("CI_COMMIT_REF_NAME", "gitlab-branch", 1);
    assert_int_equal(info("ci", commit, branch), 0);
    assert_string_equal(commit, "c0ffee");
    assert_string_equal(branch, "gitlab-branch");

    setenv("GITHUB_SHA", SHA_B, 1);
    setenv("GITHUB_REF_NAME", "gh-branch", 1);
    assert_int_equal(info("ci", commit, branch), 0);
    assert_string_equal(commit, SHA_B);
    assert_string_equal(branch, "gh-branch");

    setenv("FLOWGATE_GIT_COMMIT", "deadbeef", 1);
    setenv("FLOWGATE_BRANCH", "release", 1);
    assert_int_equal(info("ci", commit, branch), 0);
    assert_string_equal(commit, "deadbeef");
    assert_string_equal(branch, "release");

    /* Set but empty is unset. Each on its own: the commit from .git, the
     * branch still from the environment. */
    clear_env();
    setenv("FLOWGATE_GIT_COMMIT", "", 1);
    setenv("FLOWGATE_BRANCH", "only-branch", 1);
    assert_int_equal(info("ci", commit, branch), 0);
    assert_string_equal(commit, SHA_A);
    assert_string_equal(branch, "only-branch");

    /* No .git at all: the environment alone. */
    setenv("FLOWGATE_GIT_COMMIT", SHA_B, 1);
    assert_int_equal(fg_git_info_at(NULL, commit, sizeof commit, branch, sizeof branch), 0);
    assert_string_equal(commit, SHA_B);
    assert_string_equal(branch, "only-branch");
    clear_env();
}

/* The tree this test was built from: a checkout or a worktree, with a
 * commit. A source tarball (no .git) has nothing to check. */
static void test_this_tree(void **state)
{
    (void)state;
#ifdef FLOWGATE_SOURCE_DIR
    struct stat st;
    if (stat(FLOWGATE_SOURCE_DIR "/.git", &st) != 0) skip();
    char commit[64], branch[256];
    assert_int_equal(fg_git_info(commit, sizeof commit, branch, sizeof branch), 0);
    assert_int_equal(strlen(commit), 40);
    assert_int_equal(strspn(commit, "0123456789abcdef"), 40);
#else
    skip();
#endif
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_detached_head),
        cmocka_unit_test(test_loose_ref),
        cmocka_unit_test(test_packed_ref),
        cmocka_unit_test(test_branch_without_commit),
        cmocka_unit_test(test_worktree),
        cmocka_unit_test(test_no_git),
        cmocka_unit_test(test_environment_wins),
        cmocka_unit_test(test_this_tree),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
