#!/bin/sh
# bench_driver.sh — the load generator's own cost. Measures the peak RSS of
# `flowgate run` at 10 MB x concurrency 50 (limit 256 MiB: one payload copy,
# bodies shared, an event loop instead of threads) and the wall time of the
# standard category. The function nodes run in their own process, started
# here, so that their memory is not counted as the driver's.
#
# usage: bench/bench_driver.sh [BUILD_DIR]      (default: <source>/build)
# env:   BENCH_SKIP_STANDARD=1 skips the standard-category timing.
set -eu

src=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$src/build}
flowgate=$build/flowgate
server=$build/flowgate-functions
limit_kb=$((256 * 1024))
[ -x "$flowgate" ] && [ -x "$server" ] || { echo "bench_driver: build $build first" >&2; exit 2; }
[ -x /usr/bin/time ] || { echo "bench_driver: /usr/bin/time is missing (apt-get install time)" >&2; exit 2; }

bench_name=bench_driver
. "$src/bench/bench_common.sh"
start_nodes

export FLOWGATE_DATA="$src/data"
run() {   # run NAME ARGS...: flowgate run under /usr/bin/time -v
    name=$1; shift
    /usr/bin/time -v -o "$work/$name.time" "$flowgate" run "$@" \
        --endpoints "$work/endpoints.json" --results-dir "$work/results" --no-thresholds \
        >"$work/$name.out" 2>"$work/$name.err" || {
        echo "bench_driver: flowgate run $* failed:" >&2
        cat "$work/$name.out" "$work/$name.err" >&2
        exit 1
    }
}
field() { sed -n "s/^[[:space:]]*$2: //p" "$work/$1.time"; }

echo "== driver peak RSS: 10 MB x concurrency 50, 50 requests"
run rss --sizes 10 --concurrency 50 --requests 50 --warmup 0 --schedulers ours
cat "$work/rss.out"
rss_kb=$(field rss "Maximum resident set size (kbytes)")
echo "driver peak RSS: $rss_kb KiB ($((rss_kb / 1024)) MiB), limit $((limit_kb / 1024)) MiB"
echo "driver wall time: $(field rss 'Elapsed (wall clock) time (h:mm:ss or m:ss)')"
status=0
if [ "$rss_kb" -gt "$limit_kb" ]; then
    echo "FAIL driver peak RSS over the limit"
    status=1
fi

if [ "${BENCH_SKIP_STANDARD:-0}" != 1 ]; then
    echo "== standard category"
    run standard standard
    cat "$work/standard.out"
    echo "standard wall time: $(field standard 'Elapsed (wall clock) time (h:mm:ss or m:ss)')," \
         "driver peak RSS $(field standard 'Maximum resident set size (kbytes)') KiB"
fi
exit $status
