# bench_common.sh — sourced by the bench scripts: a scratch directory and
# one function server that lives as long as the script: node mode
# (start_nodes, data/nodes.json) or one function in container mode
# (start_function, the server behind a `functions` endpoints file). The
# server runs in its own process so that its memory and CPU are not counted
# as the driver's, and every policy of a bench meets the same warm workers.
# Exits (the EXIT trap) and Ctrl-C/SIGTERM stop the processes listed in
# $bench_pids (a script's own children: drivers, samplers), then the
# server, and remove the directory; nothing is left behind.
#
# needs: $src (source tree), $server (flowgate-functions), $bench_name.
# sets:  $work (scratch dir), $work/endpoints.json once the server listens;
#        start_function also sets $function_url and $work/body.json.

work=$(mktemp -d "${TMPDIR:-/tmp}/flowgate-bench.XXXXXX")
server_pid=
bench_pids=
bench_cleanup() {
    for p in $bench_pids $server_pid; do
        kill "$p" 2>/dev/null || true
        wait "$p" 2>/dev/null || true
    done
    rm -rf "$work"
}
trap bench_cleanup EXIT
# a handler that returned would let the script run on: exit, which runs the EXIT trap
trap 'exit 130' INT
trap 'exit 143' TERM

# server_wait WHAT: waits (10 s at most) for the started server's endpoints file.
server_wait() {
    for _ in $(seq 100); do
        [ -s "$work/endpoints.json" ] && return 0
        kill -0 "$server_pid" 2>/dev/null || break
        sleep 0.1
    done
    echo "$bench_name: $1 did not start: $(tail -n 1 "$work/server.log")" >&2
    exit 2
}

# start_nodes: starts the nodes of data/nodes.json and waits for them.
start_nodes() {
    "$server" --nodes "$src/data/nodes.json" --data "$src/data" \
        --endpoints-out "$work/endpoints.json" >"$work/server.log" 2>&1 &
    server_pid=$!
    server_wait "function nodes"
}

# start_function NAME WORKFLOW: serves function NAME alone in container mode
# (`POST /invoke`) on an ephemeral port, as a wrk-style HTTP endpoint.
# $work/body.json is WORKFLOW's JSON payload — for a one-step workflow whose
# step takes the inputs as they are (data/workflows/single.json) exactly the
# body flowgate sends, so other load tools can send the same request. One
# request checks that the function answers it with success: a wrong body
# would otherwise be measured as fast errors. --parent-pid: the server goes
# even when this script is killed with no chance to run its trap.
start_function() {
    command -v jq >/dev/null 2>&1 || { echo "$bench_name: jq is missing (apt-get install jq)" >&2; exit 2; }
    command -v curl >/dev/null 2>&1 || { echo "$bench_name: curl is missing (apt-get install curl)" >&2; exit 2; }
    jq -ce '.payload | select(.kind == "json") | .value' "$2" >"$work/body.json" || {
        echo "$bench_name: $2 has no JSON payload" >&2; exit 2; }
    "$server" --function "$1" --port 0 --data "$src/data" --parent-pid $$ \
        --endpoints-out "$work/endpoints.json" >"$work/server.log" 2>&1 &
    server_pid=$!
    server_wait "function $1"
    function_url=$(jq -r --arg f "$1" '.functions[$f] // empty' "$work/endpoints.json")
    [ -n "$function_url" ] || { echo "$bench_name: no URL for $1 in the endpoints file" >&2; exit 2; }
    reply=$(curl -sS --max-time 10 -H 'Content-Type: application/json' \
        --data-binary @"$work/body.json" "$function_url/invoke" 2>&1) || true
    case $reply in
        *'"status":"success"'*) ;;
        *) echo "$bench_name: $1 did not answer the body with success: $reply" >&2; exit 2 ;;
    esac
}
