#!/bin/sh
# server_ctl.sh — start/stop a function server for the HTTP tests (ctest
# fixture http_server). Both verbs are idempotent.
#   server_ctl.sh start DIR BIN ARGS...   runs BIN ARGS --endpoints-out DIR/endpoints.json
#                                         in the background (DIR/server.log, DIR/server.pid),
#                                         waits up to 30 s for the endpoints file and for
#                                         every endpoint to answer GET /
#   server_ctl.sh stop DIR                SIGTERM, wait up to 10 s, then SIGKILL
set -u

usage() { echo "usage: server_ctl.sh start DIR BIN [ARGS...] | stop DIR" >&2; exit 2; }
[ $# -ge 2 ] || usage
verb=$1 dir=$2
shift 2
pidfile=$dir/server.pid
endpoints=$dir/endpoints.json
log=$dir/server.log

# Alive and not a zombie (an orphan waits for init to reap it).
alive() {
    kill -0 "$1" 2>/dev/null || return 1
    case $(ps -o stat= -p "$1" 2>/dev/null) in Z*) return 1 ;; esac
    return 0
}
running() { [ -f "$pidfile" ] && alive "$(cat "$pidfile")"; }

# Every "url" in the endpoints file (both the nodes and the functions form).
urls() { grep -o '"http://[^"]*"' "$endpoints" | tr -d '"'; }

all_healthy() {
    [ -s "$endpoints" ] || return 1
    for u in $(urls); do curl -sf -m 2 "$u/" >/dev/null || return 1; done
    return 0
}

stop() {
    running || { rm -f "$pidfile"; return 0; }
    pid=$(cat "$pidfile")
    kill -TERM "$pid" 2>/dev/null
    i=0
    while alive "$pid" && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
    if alive "$pid"; then
        echo "server_ctl: $pid ignored SIGTERM for 10 s, killing it" >&2
        kill -KILL "$pid" 2>/dev/null
    fi
    rm -f "$pidfile"
    return 0
}

case $verb in
start)
    [ $# -ge 1 ] || usage
    mkdir -p "$dir" || exit 2
    if running && all_healthy; then exit 0; fi
    stop
    rm -f "$endpoints"
    "$@" --endpoints-out "$endpoints" >"$log" 2>&1 &
    echo $! >"$pidfile"
    i=0
    while [ $i -lt 300 ]; do
        if ! running; then
            echo "server_ctl: server exited during start-up; log tail:" >&2
            tail -n 20 "$log" >&2
            rm -f "$pidfile"
            exit 1
        fi
        all_healthy && exit 0
        sleep 0.1
        i=$((i + 1))
    done
    echo "server_ctl: not healthy after 30 s; log tail:" >&2
    tail -n 20 "$log" >&2
    stop
    exit 1
    ;;
stop)
    stop
    ;;
*)
    usage
    ;;
esac
