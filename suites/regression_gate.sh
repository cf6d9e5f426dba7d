#!/bin/sh
# regression_gate.sh — the baseline gate: `flowgate compare` of
# results/baseline.json against the newest results file of the same
# category. Without a baseline there is nothing to compare: exit 77, which
# ctest reports as skipped (SKIP_RETURN_CODE), saying why.
# usage: regression_gate.sh RESULTS_DIR FLOWGATE_SUITE FLOWGATE
set -u
results=$1 suite=$2 flowgate=$3
baseline="$results/baseline.json"
if [ ! -f "$baseline" ]; then
    echo "regression_gate: SKIPPED: no $baseline (promote a run with: flowgate baseline RESULTS.json)"
    exit 77
fi
latest=$("$suite" --latest-like "$baseline") || {
    echo "regression_gate: SKIPPED: no results file of the baseline's category in $results"
    exit 77
}
echo "regression_gate: $baseline vs $latest"
exec "$flowgate" compare "$baseline" "$latest"
