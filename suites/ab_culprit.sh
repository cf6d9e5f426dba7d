#!/bin/sh
# ab_culprit.sh — proof that a regressed cell names its culprit: B is A's
# nodes file with one function, recognizer__extract, 1.5x as slow (the
# server's per-function knob). `flowgate ab smoke` must exit 1 and the
# first function its culprit names (verdict.json: the regressed cell's
# functions[0], ranked by added time) must be recognizer__extract exec.
# Exit 3 (inconclusive: the machine too busy to show it in the budget) is
# passed through, and ctest shows it as skipped (suites.cmake).
# usage: ab_culprit.sh WORKDIR FLOWGATE DATA_DIR BUDGET_S
set -u
work=$1 flowgate=$2 data=$3 budget=$4
rm -rf "$work" && mkdir -p "$work" || exit 2
python3 - "$data/nodes.json" "$work/B-nodes.json" <<'PY' || exit 2
import json, sys
profile = json.load(open(sys.argv[1]))
profile["slowdown"] = {"recognizer__extract": 1.5}
json.dump(profile, open(sys.argv[2], "w"), indent=1)
PY
unset FLOWGATE_ENDPOINTS
"$flowgate" ab smoke --b-nodes "$work/B-nodes.json" --budget "$budget" --results-dir "$work" \
    > "$work/ab.txt" 2>&1
rc=$?
cat "$work/ab.txt"
[ $rc -eq 3 ] && { echo "ab_culprit: inconclusive: the busy machine could not show it" >&2; exit 3; }
if [ $rc -ne 1 ]; then
    echo "ab_culprit: FAILED: flowgate ab with extract 1.5x exited $rc, expected 1" >&2
    exit 1
fi
first=$(python3 - "$work"/ab-*/verdict.json <<'PY'
import json, sys
v = json.load(open(sys.argv[1]))
cells = [c for c in v["cells"] if c["verdict"] == "regression"]
f = cells[0].get("functions", []) if cells else []
print(f"{f[0]['function']} {f[0]['part']}" if f else "none")
PY
)
if [ "$first" != "recognizer__extract exec" ]; then
    echo "ab_culprit: FAILED: the culprit named first is '$first', expected 'recognizer__extract exec'" >&2
    exit 1
fi
echo "ab_culprit: OK: the regression names recognizer__extract exec first"
