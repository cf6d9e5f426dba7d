#!/bin/sh
# reference_containers.sh — flowgate drives a deployment shaped like the
# reference system's: one container per function (`flowgate-functions
# --function NAME --reference-errors`, which answers like the reference's
# Python containers: their input names, HTTP 200 + "status":"error" for
# handled errors, server_timestamps in unix seconds). `flowgate run smoke`
# in "functions" mode must complete every request, and its timelines must
# read the seconds as seconds: every ok span in order on one axis.
# usage: reference_containers.sh WORKDIR FLOWGATE FUNCTIONS_BIN CHECK DATA
set -u
work=$1 flowgate=$2 server=$3 check=$4 data=$5
ctl=$(dirname "$0")/../tests/server_ctl.sh
functions="upload adult violence extract translate censor mosaic"
rm -rf "$work" && mkdir -p "$work" || exit 2

stop_all() { for f in $functions; do "$ctl" stop "$work/$f"; done; }
trap stop_all EXIT INT TERM

files=""
for f in $functions; do
    "$ctl" start "$work/$f" "$server" --function "recognizer__$f" --port 0 \
        --data "$data" --reference-errors || exit 1
    files="$files $work/$f/endpoints.json"
done
# shellcheck disable=SC2086  # one argument per file
"$check" merge "$work/endpoints.json" $files || exit 1

# The shipped bounds are the embedded nodes' (by-reference data); here
# every request carries its image inline, so the gate is: all complete.
printf '{"default": ["success_rate > 0.99", "timeouts == 0"]}\n' > "$work/thresholds.json"
printf '{"thresholds": "%s/thresholds.json"}\n' "$work" > "$work/config.json"
unset FLOWGATE_CONFIG FLOWGATE_ENDPOINTS
"$flowgate" run smoke --config "$work/config.json" --endpoints "$work/endpoints.json" \
    --results-dir "$work/results" > "$work/run.txt" 2>&1
rc=$?
cat "$work/run.txt"
if [ $rc -ne 0 ]; then
    echo "reference_containers: FAILED: flowgate run smoke against the containers exited $rc" >&2
    exit 1
fi
# The path `flowgate run` printed, not a scan of the directory: a glob or
# newest-file pick could see a writer's temporary or another run's file.
results=$(sed -n 's/^results: //p' "$work/run.txt" | tail -n 1)
[ -n "$results" ] || { echo "reference_containers: FAILED: no results file" >&2; exit 1; }
"$check" timelines "$results" s || {
    echo "reference_containers: FAILED: the timelines do not read the containers' seconds right" >&2
    exit 1
}
echo "reference_containers: OK: one container per function, reference error convention, timelines in order"
