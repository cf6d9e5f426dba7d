#!/bin/sh
# ab_missing_cells.sh — proof that cells present on one side only fail the
# comparison. A real run of three cells (3 repeats each) is FULL; PART is
# the same file without two of them (suite_drop_cells). Then
#   flowgate compare FULL PART  must exit 1 with exactly one "missing" line
#                               for each removed cell and none for a kept one;
#   flowgate compare PART FULL  must exit 1 with one "extra" line each.
# usage: ab_missing_cells.sh WORKDIR FLOWGATE SUITE_DROP_CELLS
set -u
work=$1 flowgate=$2 drop=$3
rm -rf "$work" && mkdir -p "$work" || exit 2
unset FLOWGATE_ENDPOINTS
export FLOWGATE_SCHEDULERS=ours FLOWGATE_REQUEST_SCALE=1

if ! "$flowgate" run smoke --concurrency 1,2,3 --requests 5 --repeats 3 --no-thresholds \
        --results-dir "$work/run" > "$work/run.log" 2>&1; then
    cat "$work/run.log" >&2
    echo "ab_missing_cells: FAILED: the run of three cells failed" >&2
    exit 2
fi
# The path `flowgate run` printed, not a scan of the directory: a glob or
# newest-file pick could see a writer's temporary or another run's file.
full=$(sed -n 's/^results: //p' "$work/run.log" | tail -n 1)
[ -n "$full" ] || { echo "ab_missing_cells: the run wrote no results file" >&2; exit 2; }
kept=exp_input0.1mb_conc1_ours
removed="exp_input0.1mb_conc2_ours exp_input0.1mb_conc3_ours"
# shellcheck disable=SC2086  # the ids are words
"$drop" "$full" "$work/part.json" $removed || exit 2

status=0
check() {  # check BASE NEW VERDICT: exit 1, one VERDICT line per removed cell
    "$flowgate" compare "$1" "$2" > "$work/compare_$3.txt" 2>&1
    rc=$?
    cat "$work/compare_$3.txt"
    if [ $rc -ne 1 ]; then
        echo "ab_missing_cells: FAILED: compare with $3 cells exited $rc, expected 1" >&2
        status=1
    fi
    for id in $removed; do
        n=$(grep -c "^$3  *$id\b" "$work/compare_$3.txt")
        if [ "$n" -ne 1 ]; then
            echo "ab_missing_cells: FAILED: $n '$3' lines for $id, expected exactly 1" >&2
            status=1
        fi
    done
    if grep -q "^$3  *$kept\b" "$work/compare_$3.txt"; then
        echo "ab_missing_cells: FAILED: $kept is in both files but reported $3" >&2
        status=1
    fi
}
check "$full" "$work/part.json" missing
check "$work/part.json" "$full" extra
[ $status -eq 0 ] && echo "ab_missing_cells: OK: missing and extra cells fail the comparison, one line each"
exit $status
