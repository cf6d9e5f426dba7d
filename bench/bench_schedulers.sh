#!/bin/sh
# bench_schedulers.sh — the four placement policies side by side on the
# heterogeneous 4-node setup of data/nodes.json: 2 MB images, concurrency
# 10, the same number of workflows each. One function server
# (bench_common.sh) serves the whole bench, so that every policy meets the
# same warm workers: the nodes are calibrated first (`ours` needs
# a cost profile; BENCH_PROFILE skips this), then a throwaway round-robin
# pass starts every worker's OCR engine (a cold start costs seconds and
# would otherwise fall on whichever policy runs first), then the measured
# run. Prints end-to-end p50/p95/p99 and throughput per scheduler from the
# results JSON, which stays in results/bench/runs/.
#
# usage: bench/bench_schedulers.sh [BUILD_DIR]      (default: <source>/build)
# env:   BENCH_REQUESTS (default 40), BENCH_PROFILE (skip calibration),
#        BENCH_SCHEDULERS (default ours,round_robin,faaspr,palette)
set -eu

src=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$src/build}
flowgate=$build/flowgate
server=$build/flowgate-functions
requests=${BENCH_REQUESTS:-40}
schedulers=${BENCH_SCHEDULERS:-ours,round_robin,faaspr,palette}
out=$src/results/bench
[ -x "$flowgate" ] && [ -x "$server" ] || { echo "bench_schedulers: build $build first" >&2; exit 2; }
command -v jq >/dev/null 2>&1 || { echo "bench_schedulers: jq is missing (apt-get install jq)" >&2; exit 2; }
mkdir -p "$out/profiles" "$out/runs"

bench_name=bench_schedulers
. "$src/bench/bench_common.sh"
start_nodes

profile=${BENCH_PROFILE:-}
if [ -z "$profile" ]; then
    profile=$out/profiles/bench.json
    echo "== calibrating the nodes (profile $profile)"
    # exit 1 = some cells not measured: they use the fallback model, go on
    "$flowgate" calibrate --endpoints "$work/endpoints.json" --name bench --out "$profile" || [ $? -eq 1 ]
fi
[ -r "$profile" ] || { echo "bench_schedulers: profile $profile not readable" >&2; exit 2; }

echo "== warming every worker (not measured)"
"$flowgate" run --endpoints "$work/endpoints.json" --sizes 2 --concurrency 10 --schedulers round_robin \
    --requests 20 --warmup 0 --no-thresholds --results-dir "$work/warm" >/dev/null

echo "== 2 MB, concurrency 10, $requests workflows per scheduler: $schedulers"
# thresholds are off: only a setup failure (exit 2) stops the script.
# The results file is the path the run printed: the newest file of a shared
# directory could be another run's, or a writer's temporary.
rc=0
"$flowgate" run --endpoints "$work/endpoints.json" --sizes 2 --concurrency 10 \
    --schedulers "$schedulers" --requests "$requests" --no-thresholds \
    --profile "$profile" --results-dir "$out/runs" > "$work/run.txt" 2>&1 || rc=$?
cat "$work/run.txt"
[ $rc -eq 0 ] || exit $rc
results=$(sed -n 's/^results: //p' "$work/run.txt" | tail -n 1)
[ -n "$results" ] || { echo "bench_schedulers: the run printed no results file" >&2; exit 2; }
echo
echo "results: $results"
# Missing figures (nothing measured) print as n/a, never as 0.
jq -r '
  def f(x; d): if x == null then "n/a" else (x * d | round / d | tostring) end;
  ["scheduler", "ok/sent", "p50_ms", "p95_ms", "p99_ms", "throughput_wf/s", "wall_s"],
  (.experiments[] | [
      .scheduler,
      "\(.requests.ok)/\(.requests.sent)",
      f(.latency_ms.p50; 10), f(.latency_ms.p95; 10), f(.latency_ms.p99; 10),
      f(.throughput_rps; 100), f(.wall_s; 10)
  ]) | @tsv' "$results" | awk -F '\t' '{ printf "%-12s %9s %9s %9s %9s %16s %8s\n", $1, $2, $3, $4, $5, $6, $7 }'
echo
echo "invocations per node (workers 3/2/1/4):"
jq -r '.experiments[] | "  \(.scheduler): " +
  ([.nodes | to_entries[] | "\(.key)=\(.value.invocations)"] | join(" "))' "$results"
