#!/bin/sh
# history_demo.sh — a real performance history with a planted slowdown, the
# source of the README's trend chart and report page: BEFORE runs of the
# smoke cell on the embedded nodes, then AFTER runs on the same nodes made
# FACTOR times slower (the nodes file's "slowdown" knob), then one A/B run
# of the two (`flowgate ab --b-slowdown`). Every run is appended to
# OUT/history.sqlite as `flowgate run` always does; the script then prints
# `history changes` and `history check`, draws the trend charts
# (`plot --history`) and writes the report page, and takes a screenshot
# of it with headless Chromium when there is one.
#
#   bench/history_demo.sh BUILD OUT [BEFORE [AFTER [FACTOR]]]   (24 8 1.15)
set -eu
build=$1 out=$2 before=${3:-24} after=${4:-8} factor=${5:-1.15}
src=$(cd "$(dirname "$0")/.." && pwd)
flowgate="$build/flowgate"
rm -rf "$out" && mkdir -p "$out/results"
export FLOWGATE_HISTORY="$out/history.sqlite"
# A run whose thresholds fail (the slowed ones may) is still history.
run() { "$flowgate" run smoke --results-dir "$out/results" --inconclusive=pass "$@" >>"$out/runs.log" 2>&1 || true; }
i=0
while [ $i -lt "$before" ]; do run; i=$((i + 1)); done
jq --argjson f "$factor" '.slowdown = $f' "$src/data/nodes.json" >"$out/nodes-slowed.json"
i=0
while [ $i -lt "$after" ]; do run --nodes "$out/nodes-slowed.json"; i=$((i + 1)); done
"$flowgate" ab smoke --b-slowdown "$factor" --results-dir "$out/results" >"$out/ab.log" 2>&1 || true
tail -n 2 "$out/ab.log"
"$flowgate" history runs | tail -n 1
"$flowgate" history changes
"$flowgate" history check || true
"$flowgate" plot --latest --results "$out/results" --out "$out/plots" --history
latest=$(ls "$out"/results/experiment_results_*.json | tail -n 1)
"$flowgate" report "$latest" --plots "$out/plots" --out "$out/report.html"
if command -v chromium >/dev/null 2>&1; then
    profile=$(mktemp -d)
    chromium --headless --no-sandbox --disable-gpu --no-first-run --user-data-dir="$profile" \
        --host-resolver-rules="MAP * ~NOTFOUND" --hide-scrollbars --window-size=1280,2600 \
        --screenshot="$out/report.png" "file://$(cd "$out" && pwd)/report.html" >/dev/null 2>&1 || true
    rm -rf "$profile"
    [ -s "$out/report.png" ] && echo "screenshot: $out/report.png"
fi
