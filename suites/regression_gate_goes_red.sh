#!/bin/sh
# regression_gate_goes_red.sh — proof that the regression gate can fail.
# The smoke cell runs (3 repeats) against the embedded nodes twice: once
# with the normal profile, once with every node given a large added
# latency. `flowgate compare normal slow` must exit 1 and name the cell as
# a regression *of its latency* (the added latency is what changed; a red
# verdict carried by throughput alone would not prove the latency test);
# `flowgate compare normal normal` must exit 0.
#
# Why the sizes: the latency test needs the lower bound of the bootstrap CI
# of p95(slow)/p95(normal) above 1.2. A busy machine gives the normal run a
# tail of stray slow requests, and the HD p95 of a few dozen samples follows
# that tail, so (a) the added latency (SLOW_NODES: 250 ms per node, paid on
# every response and blob fetch, ~1.3 s per workflow) is far larger than
# such a tail, and (b) the normal run, which is cheap (~0.2 s a workflow),
# takes more samples so that a short burst of load is a small share of
# them. The slow run mostly sleeps, so its 30 samples are steady. Both runs
# together take about 35 s on a quiet 2-core machine, where the CI of the
# ratio is about [4.5, 6.5].
# usage: regression_gate_goes_red.sh WORKDIR FLOWGATE_SUITE FLOWGATE NODES SLOW_NODES
set -u
work=$1 suite=$2 flowgate=$3 nodes=$4 slow=$5
cell=exp_input0.1mb_conc2_ours
rm -rf "$work" && mkdir -p "$work" || exit 2
unset FLOWGATE_ENDPOINTS
export FLOWGATE_SCHEDULERS=ours FLOWGATE_REQUEST_SCALE=1

run() {  # run NAME NODES_PROFILE REQUESTS WARMUP → prints the results file
    cat > "$work/$1.config.json" <<JSON
{"repeats": 3, "requests": $3, "warmup": $4, "nodes_profile": "$2"}
JSON
    FLOWGATE_CONFIG="$work/$1.config.json" FLOWGATE_RESULTS_DIR="$work/$1" \
        "$suite" smoke > "$work/$1.log" 2>&1
    # The suite's own thresholds may pass or fail; only its results matter here.
    file=$(ls "$work/$1"/*.json 2>/dev/null | grep -v thresholds | head -n 1)
    if [ -z "$file" ]; then
        echo "regression_gate_goes_red: the $1 run wrote no results; its log:" >&2
        cat "$work/$1.log" >&2
        exit 2
    fi
    echo "$file"
}
normal=$(run normal "$nodes" 40 2) || exit 2
slow=$(run slow "$slow" 10 1) || exit 2

"$flowgate" compare "$normal" "$slow" > "$work/compare.txt" 2>&1
rc=$?
cat "$work/compare.txt"
if [ $rc -ne 1 ]; then
    echo "regression_gate_goes_red: FAILED: compare normal vs slow exited $rc, expected 1" >&2
    exit 1
fi
if ! grep -q "^regression  *$cell: .*; latency regression," "$work/compare.txt"; then
    echo "regression_gate_goes_red: FAILED: no latency regression line for $cell" >&2
    exit 1
fi
"$flowgate" compare "$normal" "$normal" > "$work/compare_same.txt" 2>&1
rc=$?
if [ $rc -ne 0 ]; then
    cat "$work/compare_same.txt"
    echo "regression_gate_goes_red: FAILED: compare normal vs itself exited $rc, expected 0" >&2
    exit 1
fi
echo "regression_gate_goes_red: OK: the slow nodes are a latency regression, the same run is not"
