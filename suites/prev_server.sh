#!/bin/sh
# prev_server.sh — the A side of the CI regression gate (ab_gate): the
# previous commit's flowgate-functions and data files (WORK/src/data: the
# dictionary, censor list, nodes file, workflows and thresholds, as that
# commit shipped them), built from `git archive HEAD~1` into WORK/src and
# WORK/build (only that target, with the B side's build type:
# an A/B of two optimisation levels would gate the compiler, not the change).
# It runs as a ctest fixture setup (ab_prev_server), so `ctest -L perf` is
# complete on its own, whoever calls it; the fixture is also why it is not a
# build step of flowgate.sh: a failure to build the previous commit is then a
# red test with its log, not an aborted script.
# Idempotent: nothing is rebuilt or extracted again while WORK/commit names
# HEAD~1 and the binary and data exist (a new commit moves HEAD~1, and then
# it rebuilds).
# Without a previous commit (the first commit, a shallow clone with depth 1,
# a tarball without .git) A is HEAD's own server: the gate then still runs,
# as an A/A comparison, and says so; WORK/a_note holds that line.
# Writes WORK/a_server (the binary for --a-server), WORK/a_data (the data
# directory for --a-data) and WORK/a_note.
# usage: prev_server.sh SOURCE_DIR WORK HEAD_SERVER BUILD_TYPE
set -u
src=$1 work=$2 head_server=$3 build_type=${4:-Release}
mkdir -p "$work" || exit 2

use_head() {
    printf '%s\n' "$head_server" > "$work/a_server"
    printf '%s\n' "$src/data" > "$work/a_data"
    printf 'A is HEAD'"'"'s own server (%s): an A/A run, not a regression gate\n' "$1" > "$work/a_note"
    echo "prev_server: $(cat "$work/a_note")"
    exit 0
}

command -v git >/dev/null 2>&1 || use_head "git is not installed"
git -C "$src" rev-parse --git-dir >/dev/null 2>&1 || use_head "$src is not a git checkout"
prev=$(git -C "$src" rev-parse --verify -q 'HEAD~1^{commit}') ||
    use_head "no previous commit (the first commit, or a shallow clone of depth 1)"
bin="$work/build/flowgate-functions"
short=$(printf '%s' "$prev" | cut -c1-12)

if [ -x "$bin" ] && [ -f "$work/src/data/nodes.json" ] &&
   [ "$(cat "$work/commit" 2>/dev/null)" = "$prev $build_type" ]; then
    echo "prev_server: the server and data of HEAD~1 ($short) are already there: $bin, $work/src/data"
else
    echo "prev_server: building flowgate-functions of HEAD~1 ($short) in $work"
    rm -rf "$work/src" "$work/commit" && mkdir -p "$work/src" || exit 2
    if ! git -C "$src" archive "$prev" | tar -x -C "$work/src"; then
        echo "prev_server: git archive $short failed" >&2
        exit 1
    fi
    log="$work/build.log"
    jobs=$(nproc 2>/dev/null || echo 2)
    if ! { cmake -S "$work/src" -B "$work/build" -DCMAKE_BUILD_TYPE="$build_type" &&
           cmake --build "$work/build" -j "$jobs" --target flowgate-functions; } > "$log" 2>&1; then
        echo "prev_server: HEAD~1 ($short) does not build flowgate-functions; the gate cannot run. Log tail:" >&2
        tail -n 30 "$log" >&2
        exit 1
    fi
    printf '%s\n' "$prev $build_type" > "$work/commit"
fi
printf '%s\n' "$bin" > "$work/a_server"
printf '%s\n' "$work/src/data" > "$work/a_data"
printf 'A is HEAD~1 (%s): its server and data files\n' "$short" > "$work/a_note"
exit 0
