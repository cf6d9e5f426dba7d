#!/bin/sh
# scenario_bottlenecks.sh — the bottleneck attribution names the known
# bottleneck of two scenarios, in the results suite_scenarios just wrote
# (CI scale, scheduler ours; no second run): Vary-Input sends 1-20 MB
# inline over 50 Mbit/s links with 30 ms added, so its service must come
# out network-bound (transfer); Vary-Concurrency runs 5 MB images on the
# uncapped links: compute or queue (exec, queue).
# usage: scenario_bottlenecks.sh RESULTS_DIR CHECK
set -u
results=$1 check=$2
rc=0
for spec in Vary-Input:transfer Vary-Concurrency:exec,queue; do
    name=${spec%%:*} parts=${spec#*:}
    "$check" "$results" "sc_${name}_" "$parts" || {
        echo "scenario_bottlenecks: FAILED: $name is not bound by $parts" >&2
        rc=1
    }
done
[ $rc -eq 0 ] && echo "scenario_bottlenecks: OK: Vary-Input network-bound, Vary-Concurrency compute/queue-bound"
exit $rc
