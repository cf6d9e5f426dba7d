#!/bin/sh
# ab_gate.sh — the CI regression gate: `flowgate ab` of HEAD (B) against the
# previous commit (A: its function server and its data files — dictionary,
# censor list, nodes file, workflow — built and extracted by
# prev_server.sh, the ab_prev_server fixture), on the `gate` category (the
# diagonal of standard: 0.1 MB c1, 1 MB c5, 2 MB c10, spanning size and
# concurrency in 3 cells), within a time budget. B's data is HEAD's
# ($FLOWGATE_DATA); the matrix and the generated images are the driver's,
# the same for both sides. Exit as flowgate ab: 0 no regression, 1 HEAD
# regressed (or a cell failed), 2 bad input or setup, 3 inconclusive (ctest
# shows that as skipped: suites.cmake says why).
# usage: ab_gate.sh FLOWGATE PREV_WORK HEAD_SERVER RESULTS_DIR BUDGET_S
set -u
flowgate=$1 work=$2 head_server=$3 results=$4 budget=$5
a_server=$(cat "$work/a_server" 2>/dev/null) && a_data=$(cat "$work/a_data" 2>/dev/null) || {
    echo "ab_gate: no $work/a_server or a_data: the ab_prev_server fixture did not run" >&2
    exit 2
}
echo "ab_gate: $(cat "$work/a_note"); B is HEAD ($head_server, ${FLOWGATE_DATA:-data})"
unset FLOWGATE_ENDPOINTS
# --a-nodes as well as --a-data: A's nodes file whatever order ab applies its
# side flags in (a path given explicitly always wins over a data default).
set -- gate --a-server "$a_server" --a-data "$a_data" --a-nodes "$a_data/nodes.json" \
    --b-server "$head_server" --budget "$budget" --results-dir "$results"
echo "ab_gate: $flowgate ab $*"
exec "$flowgate" ab "$@"
