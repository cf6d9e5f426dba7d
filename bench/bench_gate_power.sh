#!/bin/sh
# bench_gate_power.sh — how well the A/B gate (`flowgate ab`) decides, on
# this machine: K A/A trials (A and B the same binary and profile: every
# failing verdict is a false alarm) and K A/B trials for each known
# slowdown of B (the server's --slowdown knob: +10 %, +25 %, +50 % by
# default; a failing verdict is a detection), on each matrix. Each trial is
# one whole `flowgate ab` run with its sequential stopping and budget, so
# the time per verdict is what a user waits.
#
# Prints one row per matrix and effect: trials, failing verdicts with the
# rate and its 95 % Wilson interval (false-alarm rate for A/A, detection
# rate for A/B), errors (exit 2, not in the rate), and the median and
# maximum wall time per verdict.
#
# Unattended and resumable: every finished trial is appended to
# results/bench/gate_power.tsv (tag, matrix, effect, trial, exit code,
# regression lines, seconds, pairs, why it stopped); a rerun with the same
# tag only runs the trials still missing, and Ctrl-C loses at most the
# running trial (an interrupted trial is not recorded). The tag defaults to
# the source's `git describe --always --dirty`, so a new build starts afresh.
# Each trial's verdict is kept in results/bench/gate_power/, its results
# files are deleted (BENCH_KEEP=1 keeps them).
#
# usage: bench/bench_gate_power.sh [BUILD_DIR] [MATRIX:K ...]
#        default: <source>/build smoke:20 standard:5
# env:   BENCH_EFFECTS (default "1.10 1.25 1.50"; the A/A trials always run),
#        BENCH_BUDGET (s per trial, default 300), BENCH_TAG, BENCH_KEEP,
#        BENCH_AB_ARGS (more flags for every `flowgate ab`, e.g. --alpha 0.05)
set -eu

src=$(cd "$(dirname "$0")/.." && pwd)
build=$src/build
case ${1:-} in
    *:*|"") ;;
    *) build=$1; shift ;;
esac
[ $# -gt 0 ] || set -- smoke:20 standard:5
flowgate=$build/flowgate
[ -x "$flowgate" ] && [ -x "$build/flowgate-functions" ] ||
    { echo "bench_gate_power: build $build first (flowgate and flowgate-functions)" >&2; exit 2; }
for spec in "$@"; do
    case $spec in
        *:*[!0-9]*|*:) echo "bench_gate_power: '$spec': expected MATRIX:K, e.g. smoke:20" >&2; exit 2 ;;
        *:*) ;;
        *) echo "bench_gate_power: '$spec': expected MATRIX:K, e.g. smoke:20" >&2; exit 2 ;;
    esac
done
effects="1.00 ${BENCH_EFFECTS:-1.10 1.25 1.50}"
budget=${BENCH_BUDGET:-300}
tag=${BENCH_TAG:-$(git -C "$src" describe --always --dirty 2>/dev/null || echo untagged)}
out=$src/results/bench
runs=$out/gate_power
tsv=$out/gate_power.tsv
mkdir -p "$runs"
[ -s "$tsv" ] || printf 'tag\tmatrix\teffect\ttrial\texit\tregressions\tseconds\tpairs\tstopped\n' > "$tsv"

# Ctrl-C / SIGTERM reach the running `flowgate ab` too (same process
# group): it stops its servers and exits; this script then stops as well,
# without recording the cut trial.
stopping=0
trap 'stopping=1' INT TERM

done_trials() {  # done_trials MATRIX EFFECT → trials recorded for this tag
    awk -F'\t' -v t="$tag" -v m="$1" -v e="$2" \
        '$1 == t && $2 == m && $3 == e { n++ } END { print n + 0 }' "$tsv"
}

trial() {  # trial MATRIX EFFECT N
    matrix=$1 effect=$2 n=$3
    name="$matrix-$effect-$n"
    dir=$runs/$name
    rm -rf "$dir" && mkdir -p "$dir"
    slow=""
    [ "$effect" = "1.00" ] || slow="--b-slowdown $effect"
    t0=$(date +%s.%N)
    rc=0
    # shellcheck disable=SC2086  # $slow and BENCH_AB_ARGS are flag words
    "$flowgate" ab "$matrix" $slow --budget "$budget" --results-dir "$dir" ${BENCH_AB_ARGS:-} \
        > "$dir.log" 2>&1 || rc=$?
    t1=$(date +%s.%N)
    [ "$stopping" -eq 0 ] || { echo "bench_gate_power: interrupted; $name not recorded"; exit 130; }
    verdict=$(ls "$dir"/ab-*/verdict.txt 2>/dev/null | head -n 1)
    regressions=0 pairs=- stopped=error
    if [ -n "$verdict" ]; then
        cp "$verdict" "$runs/$name.verdict.txt"
        regressions=$(grep -c '^regression ' "$verdict" || true)
        summary=$(grep '^ab: \(PASS\|FAIL\):' "$verdict" | tail -n 1)
        pairs=$(printf '%s\n' "$summary" | sed -n 's/.*; \([0-9]*\) pairs\{0,1\} in .*/\1/p')
        stopped=$(printf '%s\n' "$summary" | sed -n 's/.*; stopped: \([^;]*\);.*/\1/p' | tr ' ' '_')
    fi
    [ "${BENCH_KEEP:-0}" = 1 ] || rm -rf "$dir"
    secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$tag" "$matrix" "$effect" "$n" "$rc" \
        "$regressions" "$secs" "${pairs:--}" "${stopped:-?}" >> "$tsv"
    echo "$name: exit $rc, $regressions regression line(s), ${secs} s, ${pairs:--} pairs, stopped: ${stopped:-?}"
}

for spec in "$@"; do
    matrix=${spec%%:*} k=${spec#*:}
    for effect in $effects; do
        n=$(done_trials "$matrix" "$effect")
        while [ "$n" -lt "$k" ]; do
            n=$((n + 1))
            trial "$matrix" "$effect" "$n"
        done
    done
done

# The table, from every trial of this tag (K is what was asked for; rows
# with more trials from earlier, larger runs show them all).
echo
echo "gate power ($tag; budget ${budget} s per verdict; $tsv)"
awk -F'\t' -v t="$tag" '
    function wilson(x, n,   z, p, c, h) {
        z = 1.96; p = x / n
        c = (p + z * z / (2 * n)) / (1 + z * z / n)
        h = z * sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
        return sprintf("%5.1f %% [%5.1f, %5.1f]", 100 * p, 100 * (c - h < 0 ? 0 : c - h),
                       100 * (c + h > 1 ? 1 : c + h))
    }
    $1 == t {
        key = $2 "\t" $3
        if (!(key in seen)) { seen[key] = 1; order[++nk] = key }
        if ($5 == 2) { err[key]++; next }
        n[key]++; fail[key] += ($5 == 1)
        times[key, n[key]] = $7
    }
    END {
        printf "%-9s %-7s %6s  %-9s %-25s %6s  %9s %9s\n", "matrix", "effect", "trials",
               "failing", "rate [95 % Wilson]", "errors", "median s", "max s"
        for (i = 1; i <= nk; i++) {
            key = order[i]; split(key, f, "\t"); m = n[key] + 0
            label = f[2] == "1.00" ? "A/A" : sprintf("+%d %%", (f[2] - 1) * 100 + 0.5)
            if (m == 0) {
                printf "%-9s %-7s %6d  %-9s %-25s %6d  %9s %9s\n", f[1], label, 0, "-", "n/a",
                       err[key], "n/a", "n/a"
                continue
            }
            # insertion sort of this row times for the median
            for (a = 1; a <= m; a++) v[a] = times[key, a] + 0
            for (a = 2; a <= m; a++) for (b = a; b > 1 && v[b - 1] > v[b]; b--) {
                x = v[b]; v[b] = v[b - 1]; v[b - 1] = x
            }
            med = m % 2 ? v[(m + 1) / 2] : (v[m / 2] + v[m / 2 + 1]) / 2
            printf "%-9s %-7s %6d  %-9s %-25s %6d  %9.1f %9.1f\n", f[1], label, m,
                   fail[key] "/" m, wilson(fail[key], m), err[key], med, v[m]
        }
        print "failing = the gate failed (exit 1): a false alarm for A/A, a detection for A/B."
    }' "$tsv"
