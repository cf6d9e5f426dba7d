#!/bin/sh
# ab_slowdown.sh — proof that the A/B gate catches a real, modest
# regression: B is A's nodes file with every function 1.5x as slow (the
# server's --slowdown knob, as CPU work). `flowgate ab smoke` must exit 1
# and name the smoke cell a regression; the relative threshold of THRESHOLDS
# (B's median under 1.25x A's, pair by pair) must fail.
# Which metric shows the regression first is the sequential test's business:
# it stops at the first look where one is shown (centre, throughput or the
# watched tail). Any is the gate catching the slowdown; the latency side is
# proved by the relative p50 threshold below.
# usage: ab_slowdown.sh WORKDIR FLOWGATE BUDGET_S THRESHOLDS
set -u
work=$1 flowgate=$2 budget=$3 thresholds=$4
cell=exp_input0.1mb_conc2_ours
rm -rf "$work" && mkdir -p "$work" || exit 2
unset FLOWGATE_ENDPOINTS
"$flowgate" ab smoke --b-slowdown 1.5 --budget "$budget" --results-dir "$work" \
    --thresholds "$thresholds" \
    > "$work/ab.txt" 2>&1
rc=$?
cat "$work/ab.txt"
if [ $rc -ne 1 ]; then
    echo "ab_slowdown: FAILED: flowgate ab --b-slowdown 1.5 exited $rc, expected 1" >&2
    exit 1
fi
if ! grep -Eq "^regression +$cell\b.*(centre|throughput|tail) x[0-9.]+ CI \[[0-9.]+, [0-9.]+\] worse" "$work/ab.txt"; then
    echo "ab_slowdown: FAILED: no regression line with a worse metric for $cell" >&2
    exit 1
fi
if ! grep -q "^$cell (repeat [0-9]*)  *p50_ms < 1.25 \* base.p50_ms .*FAIL" "$work/ab.txt"; then
    echo "ab_slowdown: FAILED: the relative threshold against A did not fail for $cell" >&2
    exit 1
fi
echo "ab_slowdown: OK: a 1.5x slowdown fails the A/B gate and breaks the relative threshold"
