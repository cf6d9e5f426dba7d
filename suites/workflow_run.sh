#!/bin/sh
# workflow_run.sh — a workflow other than the recognizer runs end to end:
# `flowgate run single --workflow FILE` against the embedded server it
# starts on 127.0.0.1, a small request count, the shipped default
# thresholds. It must exit 0, every measured request must succeed, and the
# results file must name the workflow and its payload kind in the run and
# in every experiment. `flowgate check --workflow FILE` then invokes each
# of its functions once on each embedded node and must find them all working.
# usage: workflow_run.sh WORKDIR FLOWGATE WORKFLOW_FILE NAME KIND
set -u
work=$1 flowgate=$2 workflow=$3 name=$4 kind=$5
requests=30
rm -rf "$work" && mkdir -p "$work" || exit 2
unset FLOWGATE_ENDPOINTS FLOWGATE_CONFIG FLOWGATE_BASELINE
fail() { echo "workflow_run $name: FAILED: $*" >&2; exit 1; }
"$flowgate" run single --workflow "$workflow" --requests $requests --concurrency 2 \
    --schedulers ours --results-dir "$work" > "$work/run.txt" 2>&1
rc=$?
cat "$work/run.txt"
[ $rc -eq 0 ] || fail "flowgate run exited $rc, expected 0"
grep -q "^exp_${kind}_conc2_ours  ok $requests/$requests (100.0 %)" "$work/run.txt" ||
    fail "no line 'exp_${kind}_conc2_ours  ok $requests/$requests (100.0 %)'"
# The path `flowgate run` printed, not a scan of the directory: a glob or
# newest-file pick could see a writer's temporary or another run's file.
results=$(sed -n 's/^results: //p' "$work/run.txt" | tail -n 1)
[ -n "$results" ] || fail "no results file in $work"
# cJSON_Print writes one key per line: "key":<TAB>value.
n_wf=$(grep -c "\"workflow\":[[:space:]]*\"$name\"" "$results")
n_kind=$(grep -c "\"payload_kind\":[[:space:]]*\"$kind\"" "$results")
n_exp=$(grep -c "\"experiment_id\":" "$results")
[ "$n_exp" -ge 1 ] || fail "$results has no experiment"
# run.workflow + every experiment's (run.config.workflow holds the path).
[ "$n_wf" -eq $((n_exp + 1)) ] || fail "$results names workflow '$name' $n_wf times for $n_exp experiments"
[ "$n_kind" -eq $((n_exp + 1)) ] || fail "$results names payload kind '$kind' $n_kind times for $n_exp experiments"
"$flowgate" check --workflow "$workflow" > "$work/check.txt" 2>&1
rc=$?
cat "$work/check.txt"
[ $rc -eq 0 ] || fail "flowgate check exited $rc, expected 0"
grep -q "every function works on every node" "$work/check.txt" || fail "flowgate check: not every function works"
echo "workflow_run $name: OK: $requests/$requests requests, results name workflow '$name' ($kind payload)"
