#!/bin/sh
# thresholds_catch_2x.sh — proof that the shipped thresholds decide: the
# smoke cell against the default node profile with every function twice as
# slow (the server's "slowdown" knob) must fail data/thresholds.json on its
# median, with the table naming p50_ms. (The same cell at normal speed is
# suite_smoke, which must pass them.)
# usage: thresholds_catch_2x.sh WORKDIR FLOWGATE DATA_DIR
set -u
work=$1 flowgate=$2 data=$3
cell=exp_input0.1mb_conc2_ours
rm -rf "$work" && mkdir -p "$work" || exit 2
sed 's/^{/{ "slowdown": 2,/' "$data/nodes.json" > "$work/nodes-2x.json" || exit 2
unset FLOWGATE_ENDPOINTS FLOWGATE_CONFIG
"$flowgate" run smoke --nodes "$work/nodes-2x.json" --results-dir "$work" > "$work/run.txt" 2>&1
rc=$?
cat "$work/run.txt"
if [ $rc -ne 1 ]; then
    echo "thresholds_catch_2x: FAILED: a 2x slower smoke run exited $rc, expected 1" >&2
    exit 1
fi
if ! grep -q "^$cell  *p50_ms < [0-9.]*  *[0-9.]*  *FAIL" "$work/run.txt"; then
    echo "thresholds_catch_2x: FAILED: no failing p50_ms row for $cell" >&2
    exit 1
fi
echo "thresholds_catch_2x: OK: the shipped thresholds fail a 2x slowdown of the smoke cell"
