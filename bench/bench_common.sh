# bench_common.sh — sourced by the bench scripts: a scratch directory and
# one function server (node mode, data/nodes.json) that lives as long as the
# script. The nodes run in their own process so that their memory and CPU
# are not counted as the driver's, and every policy of a bench meets the
# same warm workers. Exits (the EXIT trap) and Ctrl-C/SIGTERM stop the
# server and remove the directory; nothing is left behind.
#
# needs: $src (source tree), $server (flowgate-functions), $bench_name.
# sets:  $work (scratch dir), $work/endpoints.json once the nodes listen.

work=$(mktemp -d "${TMPDIR:-/tmp}/flowgate-bench.XXXXXX")
server_pid=
bench_cleanup() {
    if [ -n "$server_pid" ]; then
        kill "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap bench_cleanup EXIT
# a handler that returned would let the script run on: exit, which runs the EXIT trap
trap 'exit 130' INT
trap 'exit 143' TERM

# start_nodes: starts the server and waits (10 s at most) for its endpoints file.
start_nodes() {
    "$server" --nodes "$src/data/nodes.json" --data "$src/data" \
        --endpoints-out "$work/endpoints.json" >"$work/server.log" 2>&1 &
    server_pid=$!
    for _ in $(seq 100); do
        [ -s "$work/endpoints.json" ] && return 0
        kill -0 "$server_pid" 2>/dev/null || break
        sleep 0.1
    done
    echo "$bench_name: function nodes did not start: $(tail -n 1 "$work/server.log")" >&2
    exit 2
}
