#!/bin/sh
# ab_gate.sh — the CI regression gate: `flowgate ab` of HEAD's function
# server (B) against the previous commit's (A, built by prev_server.sh, the
# ab_prev_server fixture), on the smoke matrix, within a time budget. Exit
# as flowgate ab: 0 pass, 1 HEAD regressed (or the comparison failed:
# insufficient data, a failed cell), 2 bad input or setup.
# usage: ab_gate.sh FLOWGATE PREV_WORK HEAD_SERVER RESULTS_DIR BUDGET_S
set -u
flowgate=$1 work=$2 head_server=$3 results=$4 budget=$5
a_server=$(cat "$work/a_server" 2>/dev/null) || {
    echo "ab_gate: no $work/a_server: the ab_prev_server fixture did not run" >&2
    exit 2
}
echo "ab_gate: $(cat "$work/a_note"); B is HEAD ($head_server)"
unset FLOWGATE_ENDPOINTS
exec "$flowgate" ab smoke --a-server "$a_server" --b-server "$head_server" \
    --budget "$budget" --results-dir "$results"
