#!/bin/sh
# bench_noise_thresholds.sh — do the absolute thresholds stay honest on a
# busy machine? `flowgate run CATEGORY` (embedded server, shipped
# thresholds) K times in each condition, and the outcomes counted:
#   quiet      nothing else started by this script
#   one_busy   one `yes > /dev/null` busy loop (a noisy neighbour on one core)
#   two_busy   two of them (both cores of the reference machine)
#   slow2x     quiet, with every function twice as slow (the server's
#              "slowdown" knob): the thresholds must still go red
# Targets (README, Contention): 0 FAIL in one_busy and two_busy (an
# INCONCLUSIVE is allowed: the run said it could not tell), FAIL in slow2x.
# Per run the TSV keeps the condition, exit code, outcome, the largest
# foreign CPU share measured during a cell, the cells that passed, failed
# and were inconclusive, and the wall seconds. Busy loops are killed after
# each run and on any exit. Resumable: runs already in the TSV count.
# usage: bench/bench_noise_thresholds.sh [BUILD_DIR] [CATEGORY] [COND:K ...]
#   default: build standard quiet:5 one_busy:20 two_busy:20 slow2x:5
set -u
src=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$src/build}
category=${2:-standard}
[ $# -ge 2 ] && shift 2 || set --
[ $# -eq 0 ] && set -- quiet:5 one_busy:20 two_busy:20 slow2x:5
flowgate=$build/flowgate
[ -x "$flowgate" ] || { echo "bench_noise_thresholds: no $flowgate (build first)" >&2; exit 2; }
out=$src/results/bench
tsv=$out/noise_thresholds.tsv
work=$out/noise_thresholds
mkdir -p "$work" || exit 2
[ -s "$tsv" ] || printf 'tag\tcategory\tcondition\trun\texit\toutcome\tmax_foreign\tpass\tfail\tinconclusive\twall_s\n' > "$tsv"
tag=${BENCH_TAG:-$(git -C "$src" rev-parse --short HEAD 2>/dev/null || echo unknown)}
busy=""
stop_busy() {
    for p in $busy; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
    busy=""
}
trap stop_busy EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
sed 's/^{/{ "slowdown": 2,/' "$src/data/nodes.json" > "$work/nodes-2x.json" || exit 2

for spec in "$@"; do
    cond=${spec%%:*} k=${spec#*:}
    case $cond in quiet|one_busy|two_busy|slow2x) ;; *)
        echo "bench_noise_thresholds: unknown condition '$cond'" >&2; exit 2 ;; esac
    done_runs=$(awk -F'\t' -v t="$tag" -v c="$category" -v d="$cond" \
        '$1==t && $2==c && $3==d' "$tsv" | wc -l)
    i=$done_runs
    while [ "$i" -lt "$k" ]; do
        case $cond in
            one_busy) yes > /dev/null & busy=$! ;;
            two_busy) yes > /dev/null & b1=$!; yes > /dev/null & busy="$b1 $!" ;;
        esac
        extra=""
        [ "$cond" = slow2x ] && extra="--nodes $work/nodes-2x.json"
        rm -rf "$work/run"
        t0=$(date +%s.%N)
        # shellcheck disable=SC2086
        FLOWGATE_ENDPOINTS= FLOWGATE_CONFIG= "$flowgate" run "$category" $extra \
            --results-dir "$work/run" > "$work/last.txt" 2>&1
        rc=$?
        t1=$(date +%s.%N)
        stop_busy
        results=$(sed -n 's/^results: //p' "$work/last.txt" | head -n 1)
        line=$(python3 - "$results" <<'PY'
import json, sys
try:
    d = json.load(open(sys.argv[1]))
except Exception:
    print("ERROR\tnan\t0\t0\t0"); sys.exit()
es = d.get("experiments", [])
share = max([e.get("noise", {}).get("foreign_cpu_share", float("nan")) for e in es] or [float("nan")])
oc = [e.get("outcome", "?") for e in es]
print("%s\t%.3f\t%d\t%d\t%d" % (d.get("run", {}).get("outcome", "?"), share,
      oc.count("pass"), oc.count("fail"), oc.count("inconclusive")))
PY
)
        printf '%s\t%s\t%s\t%d\t%d\t%s\t%.1f\n' "$tag" "$category" "$cond" "$i" "$rc" "$line" \
            "$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')" >> "$tsv"
        echo "bench_noise_thresholds: $category $cond run $i: exit $rc, $line"
        i=$((i + 1))
    done
done

# The summary: per condition, runs and outcomes.
awk -F'\t' -v t="$tag" -v c="$category" '
$1==t && $2==c { n[$3]++; o[$3, $6]++; if ($7 > mx[$3]) mx[$3] = $7 }
END {
    printf "| condition | runs | pass | fail | inconclusive | max foreign share |\n|---|---:|---:|---:|---:|---:|\n"
    split("quiet one_busy two_busy slow2x", order, " ")
    for (i = 1; i <= 4; i++) { d = order[i]; if (!n[d]) continue
        printf "| %s | %d | %d | %d | %d | %.2f |\n", d, n[d], o[d, "pass"], o[d, "fail"], o[d, "inconclusive"], mx[d] }
}' "$tsv"
