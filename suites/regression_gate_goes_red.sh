#!/bin/sh
# regression_gate_goes_red.sh — proof that the regression gate can fail.
# The smoke cell runs (repeats >= 3) against the embedded nodes twice: once
# with the normal profile, once with every node given a large added
# latency. `flowgate compare normal slow` must exit 1 and name the cell as
# a regression; `flowgate compare normal normal` must exit 0.
# usage: regression_gate_goes_red.sh WORKDIR FLOWGATE_SUITE FLOWGATE NODES SLOW_NODES
set -u
work=$1 suite=$2 flowgate=$3 nodes=$4 slow=$5
cell=exp_input0.1mb_conc2_ours
rm -rf "$work" && mkdir -p "$work" || exit 2
unset FLOWGATE_ENDPOINTS
export FLOWGATE_SCHEDULERS=ours FLOWGATE_REQUEST_SCALE=1

run() {  # run NAME NODES_PROFILE → prints the results file
    cat > "$work/$1.config.json" <<JSON
{"repeats": 3, "requests": 16, "warmup": 2, "nodes_profile": "$2"}
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
normal=$(run normal "$nodes") || exit 2
slow=$(run slow "$slow") || exit 2

"$flowgate" compare "$normal" "$slow" > "$work/compare.txt" 2>&1
rc=$?
cat "$work/compare.txt"
if [ $rc -ne 1 ]; then
    echo "regression_gate_goes_red: FAILED: compare normal vs slow exited $rc, expected 1" >&2
    exit 1
fi
if ! grep -q "^regression  *$cell" "$work/compare.txt"; then
    echo "regression_gate_goes_red: FAILED: no regression line for $cell" >&2
    exit 1
fi
"$flowgate" compare "$normal" "$normal" > "$work/compare_same.txt" 2>&1
rc=$?
if [ $rc -ne 0 ]; then
    cat "$work/compare_same.txt"
    echo "regression_gate_goes_red: FAILED: compare normal vs itself exited $rc, expected 0" >&2
    exit 1
fi
echo "regression_gate_goes_red: OK: the slow nodes are reported as a regression, the same run is not"
