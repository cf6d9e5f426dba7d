#!/bin/sh
# pg_ctl.sh — a throw-away PostgreSQL server for the history's tests (ctest
# fixture postgres_server). Both verbs are idempotent.
#   pg_ctl.sh start DIR   a new cluster in DIR/data (an old one, running or
#                         not, is stopped and removed first), listening on
#                         127.0.0.1 only, on a free port; database
#                         flowgate_test; its URL in DIR/url
#   pg_ctl.sh stop DIR    stops the server (fast, then immediate) and
#                         removes DIR/data and DIR/url
# PostgreSQL refuses to run as root: as root, the server's commands run as
# the user postgres (runuser), which owns DIR. Trust authentication on the
# loopback address: the cluster lives as long as the tests.
set -u

usage() { echo "usage: pg_ctl.sh start|stop DIR" >&2; exit 2; }
[ $# -eq 2 ] || usage
verb=$1 dir=$2
data=$dir/data
log=$dir/server.log

bindir=
# The directory of the real binaries (PATH may hold links to some of them).
for d in "$(command -v pg_ctl 2>/dev/null | xargs -r readlink -f | xargs -r dirname)" \
         /usr/lib/postgresql/*/bin; do
    if [ -n "$d" ] && [ -x "$d/pg_ctl" ] && [ -x "$d/initdb" ] && [ -x "$d/psql" ]; then
        bindir=$d
        break
    fi
done
[ -n "$bindir" ] || { echo "pg_ctl.sh: no PostgreSQL server binaries (initdb, pg_ctl)" >&2; exit 2; }

as_server() {
    if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

stop() {
    if [ -f "$data/postmaster.pid" ]; then
        as_server "$bindir/pg_ctl" -D "$data" -m fast -w -t 20 stop >/dev/null 2>&1 ||
            as_server "$bindir/pg_ctl" -D "$data" -m immediate -w -t 10 stop >/dev/null 2>&1
        # A server that ignored both: its pid is the postmaster.pid's first line.
        if [ -f "$data/postmaster.pid" ]; then
            pid=$(head -n 1 "$data/postmaster.pid")
            [ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null
        fi
    fi
    rm -rf "$data" "$dir/url"
}

case $verb in
start)
    mkdir -p "$dir" || exit 2
    stop
    cd "$dir" || exit 2        # initdb as postgres must be able to stand in its directory
    if [ "$(id -u)" -eq 0 ]; then chown postgres "$dir" || exit 2; fi
    if ! as_server "$bindir/initdb" -D "$data" -U postgres -A trust -E UTF8 --locale=C \
            --no-sync >"$dir/initdb.log" 2>&1; then
        echo "pg_ctl.sh: initdb failed; log tail:" >&2
        tail -n 20 "$dir/initdb.log" >&2
        exit 1
    fi
    # A free port: try a few at random; a port taken makes the start fail.
    tries=0
    while [ $tries -lt 10 ]; do
        port=$(( 20000 + $(od -An -N2 -tu2 /dev/urandom | tr -d ' ') % 40000 ))
        if as_server "$bindir/pg_ctl" -D "$data" -l "$log" -w -t 30 \
                -o "-p $port -c listen_addresses=127.0.0.1 -c unix_socket_directories= -c fsync=off" \
                start >/dev/null 2>&1; then
            url="postgresql://postgres@127.0.0.1:$port/flowgate_test?sslmode=disable"
            if "$bindir/psql" -q -X -h 127.0.0.1 -p "$port" -U postgres -d postgres \
                    -c "CREATE DATABASE flowgate_test" >/dev/null; then
                echo "$url" >"$dir/url"
                exit 0
            fi
            echo "pg_ctl.sh: cannot create the database; log tail:" >&2
            tail -n 20 "$log" >&2
            stop
            exit 1
        fi
        tries=$((tries + 1))
    done
    echo "pg_ctl.sh: the server did not start on any of 10 ports; log tail:" >&2
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
