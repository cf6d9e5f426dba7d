#!/bin/sh
# scenario_bottlenecks.sh — the bottleneck attribution names the known
# bottleneck of two scenarios (scaled down as in CI, scheduler ours):
# Vary-Input sends 1-20 MB inline over 50 Mbit/s links with 30 ms added:
# its service must come out network-bound (transfer); Vary-Concurrency
# runs 5 MB images on the uncapped links: compute or queue (exec, queue).
# usage: scenario_bottlenecks.sh WORKDIR FLOWGATE CHECK
set -u
work=$1 flowgate=$2 check=$3
rm -rf "$work" && mkdir -p "$work" || exit 2
unset FLOWGATE_ENDPOINTS FLOWGATE_CONFIG
rc=0
for spec in Vary-Input:transfer Vary-Concurrency:exec,queue; do
    name=${spec%%:*} parts=${spec#*:}
    "$flowgate" run scenarios "$name" --ci --override --results-dir "$work/$name" \
        > "$work/$name.txt" 2>&1
    run_rc=$?
    grep "^sc_" "$work/$name.txt" | grep -v "  [a-z_0-9]* [<>=]" 
    if [ $run_rc -ne 0 ]; then
        echo "scenario_bottlenecks: FAILED: flowgate run scenarios $name exited $run_rc" >&2
        tail -n 20 "$work/$name.txt" >&2
        rc=1
        continue
    fi
    results=$(ls "$work/$name"/*.json | head -n 1)
    "$check" "$results" "sc_${name}_" "$parts" || {
        echo "scenario_bottlenecks: FAILED: $name is not bound by $parts" >&2
        rc=1
    }
done
[ $rc -eq 0 ] && echo "scenario_bottlenecks: OK: Vary-Input network-bound, Vary-Concurrency compute/queue-bound"
exit $rc
