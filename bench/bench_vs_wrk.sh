#!/bin/sh
# bench_vs_wrk.sh — flowgate as a plain HTTP load generator, against wrk, on
# the same endpoint (issue 18, "load at scale"). One function,
# recognizer__translate, served alone in container mode by flowgate-functions
# (bench_common.sh's start_function); both tools POST the same JSON body (the
# payload of data/workflows/single.json) to its /invoke with 8 requests in
# flight (wrk -c8, flowgate --concurrency 8, both closed loops) from one
# thread (wrk -t1; flowgate is one event loop). The server is the same for
# both, so what differs is the driver: its throughput, and the CPU it burns
# per request — on a small machine a driver's CPU is taken from the server.
#
# Paired rounds, alternating order (wrk first in odd rounds, flowgate first in
# even ones): a machine that drifts (heat, a neighbour) moves both sides of a
# round alike, and the order effect cancels over two rounds. The summary is
# the median of the per-round ratios (flowgate wf/s / wrk req/s), not a
# ratio of means, so one disturbed round does not move it.
#
# CPU: each driver runs under `perf stat -e task-clock` (its threads and
# children), or /usr/bin/time (user + sys, 10 ms resolution) when perf is
# missing or not allowed. It is the whole process: for flowgate that includes
# start-up, the warm-up (100 requests, not counted in requests.ok) and
# writing the results file, so with the default 150000 requests those fixed
# costs are small but not zero; wrk's is its whole run. Throughput: wrk's
# "Requests/sec" (requests / run time); flowgate's throughput_rps (ok /
# measurement window, warm-up excluded).
#
# The third contender, bench/curl_floor.c (target curl_floor, built here),
# is libcurl alone under the engine's own event loop: the same POST again
# on each connection as soon as its answer is in, nothing parsed or
# recorded. It splits flowgate's distance to wrk into libcurl's share
# (floor/wrk) and flowgate's own work on top (flowgate/floor).
#
# A measurement, not a gate: exit 0 whatever the ratio ("target >= 0.9x
# wrk: met/not met" says where it stands), 2 when the setup fails (build,
# tools, server, a run that did not complete). Every round is appended to
# results/bench/vs_wrk.tsv (tag = git short hash, date, round, wrk_rps,
# fg_rps, ratio, wrk_cpu_us, fg_cpu_us, floor_rps, floor_cpu_us). hey would be a third contender; it
# is not packaged here, so it is left out.
#
# usage: bench/bench_vs_wrk.sh [BUILD_DIR]      (default: <source>/build)
# env:   BENCH_ROUNDS (default 3), BENCH_WRK_S (wrk's seconds a round,
#        default 5), BENCH_REQUESTS (flowgate's measured requests a round,
#        default 150000: a few seconds at the rates of a 2-core machine, like
#        wrk's 5 s), BENCH_TRANSPORT (flowgate's --transport, default auto;
#        another one is tagged on the rows, e.g. 4b8aa45/direct).
set -eu

src=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$src/build}
flowgate=$build/flowgate
server=$build/flowgate-functions
rounds=${BENCH_ROUNDS:-3}
wrk_s=${BENCH_WRK_S:-5}
requests=${BENCH_REQUESTS:-150000}
transport=${BENCH_TRANSPORT:-auto}
function=recognizer__translate
workflow=$src/data/workflows/single.json
target=0.9
bench_name=bench_vs_wrk

[ -x "$flowgate" ] && [ -x "$server" ] || { echo "$bench_name: build $build first" >&2; exit 2; }
floor=$build/curl_floor
cmake --build "$build" --target curl_floor >/dev/null || { echo "$bench_name: cannot build curl_floor" >&2; exit 2; }
command -v wrk >/dev/null 2>&1 || { echo "$bench_name: wrk is missing (apt-get install wrk)" >&2; exit 2; }
for n in "$rounds" "$wrk_s" "$requests"; do
    case $n in ''|*[!0-9]*|0) echo "$bench_name: BENCH_ROUNDS, BENCH_WRK_S, BENCH_REQUESTS must be positive integers" >&2; exit 2 ;; esac
done

. "$src/bench/bench_common.sh"

# The CPU meter: perf when it can count this user's processes (a probe, since
# perf_event_paranoid or a perf without tools for this kernel can refuse).
if command -v perf >/dev/null 2>&1 &&
   LC_ALL=C perf stat -e task-clock -x, -o "$work/probe.cpu" -- true >/dev/null 2>&1 &&
   grep -q ',task-clock,' "$work/probe.cpu"; then
    meter=perf
elif [ -x /usr/bin/time ]; then
    meter="time"
else
    echo "$bench_name: neither perf nor /usr/bin/time (apt-get install time)" >&2
    exit 2
fi

start_function "$function" "$workflow"

# wrk sends the body start_function checked; a Lua long string needs no escaping.
{
    echo 'wrk.method = "POST"'
    echo 'wrk.headers["Content-Type"] = "application/json"'
    printf 'wrk.body = [==[%s]==]\n' "$(cat "$work/body.json")"
} >"$work/post.lua"

export FLOWGATE_DATA="$src/data" FLOWGATE_HISTORY=off

# measured CPUFILE OUT CMD...: runs CMD (stdout and stderr to OUT) under the meter.
measured() {
    cpu=$1 out=$2; shift 2
    if [ "$meter" = perf ]; then
        LC_ALL=C perf stat -e task-clock -x, -o "$cpu" -- "$@" >"$out" 2>&1
    else
        /usr/bin/time -f '%U %S' -o "$cpu" "$@" >"$out" 2>&1
    fi
}
# cpu_ms CPUFILE: the CPU milliseconds the meter wrote (perf: task-clock in
# msec; time: its last line, user and sys seconds).
cpu_ms() {
    if [ "$meter" = perf ]; then
        awk -F, '$3 == "task-clock" && $1 ~ /^[0-9.]+$/ { print $1; n++ } END { exit n != 1 }' "$1"
    else
        tail -n 1 "$1" | awk 'NF == 2 { printf "%.1f\n", ($1 + $2) * 1000; n++ } END { exit n != 1 }'
    fi
}
fail() { echo "$bench_name: $1" >&2; [ -f "$2" ] && tail -n 20 "$2" >&2; exit 2; }

run_wrk() {   # run_wrk ROUND: sets wrk_rps wrk_cpu_us
    o=$work/wrk-$1.out
    measured "$work/wrk-$1.cpu" "$o" wrk -t1 -c8 -d"${wrk_s}s" -s "$work/post.lua" "$function_url/invoke" ||
        fail "wrk failed (round $1)" "$o"
    n=$(sed -n 's/^[[:space:]]*\([0-9][0-9]*\) requests in .*/\1/p' "$o")
    wrk_rps=$(sed -n 's/^Requests\/sec:[[:space:]]*\([0-9.]*\).*/\1/p' "$o")
    [ -n "$n" ] && [ "$n" -gt 0 ] && [ -n "$wrk_rps" ] || fail "no request count in wrk's output (round $1)" "$o"
    bad=$(sed -n 's/^[[:space:]]*Non-2xx or 3xx responses:[[:space:]]*//p' "$o")
    [ -z "$bad" ] || echo "  warn: wrk got $bad non-2xx responses of $n: its rate counts them"
    ms=$(cpu_ms "$work/wrk-$1.cpu") || fail "no CPU figure for wrk (round $1)" "$work/wrk-$1.cpu"
    wrk_cpu_us=$(awk -v ms="$ms" -v n="$n" 'BEGIN { printf "%.2f", ms * 1000 / n }')
}

run_flowgate() {   # run_flowgate ROUND: sets fg_rps fg_cpu_us
    round=$1 o=$work/fg-$1.out res=$work/res-$1
    measured "$work/fg-$1.cpu" "$o" "$flowgate" run single --workflow "$workflow" \
        --endpoints "$work/endpoints.json" --concurrency 8 --requests "$requests" --warmup 100 \
        --transport "$transport" \
        --results-dir "$res" --no-thresholds || fail "flowgate run failed (round $round)" "$o"
    set -- "$res"/experiment_results_*.json
    [ $# -eq 1 ] && [ -f "$1" ] || fail "no results file from flowgate (round $round)" "$o"
    line=$(jq -r 'if (.experiments | length) == 1
                  then .experiments[0] | "\(.requests.ok) \(.throughput_rps)" else empty end' "$1")
    n=${line% *} fg_rps=${line#* }
    [ -n "$line" ] && [ "$n" -gt 0 ] || fail "no single entry with requests in $1" "$o"
    [ "$n" -eq "$requests" ] || echo "  warn: flowgate: $n of $requests requests ok"
    ms=$(cpu_ms "$work/fg-$round.cpu") || fail "no CPU figure for flowgate (round $round)" "$work/fg-$round.cpu"
    fg_cpu_us=$(awk -v ms="$ms" -v n="$n" 'BEGIN { printf "%.2f", ms * 1000 / n }')
}

run_floor() {   # run_floor ROUND: sets floor_rps floor_cpu_us
    o=$work/floor-$1.out
    measured "$work/floor-$1.cpu" "$o" "$floor" "$function_url/invoke" 8 "$requests" "$(cat "$work/body.json")" ||
        fail "curl_floor failed (round $1)" "$o"
    floor_rps=$(sed -n 's/.* rps \([0-9.]*\)$/\1/p' "$o")
    [ -n "$floor_rps" ] || fail "no rate in curl_floor's output (round $1)" "$o"
    ms=$(cpu_ms "$work/floor-$1.cpu") || fail "no CPU figure for curl_floor (round $1)" "$work/floor-$1.cpu"
    floor_cpu_us=$(awk -v ms="$ms" -v n="$requests" 'BEGIN { printf "%.2f", ms * 1000 / n }')
}

tag=$(git -C "$src" rev-parse --short HEAD 2>/dev/null || echo untagged)
[ "$transport" = auto ] || tag=$tag/$transport
date=$(date -u +%Y-%m-%dT%H:%M:%SZ)
echo "flowgate vs wrk: $function at $function_url, 8 in flight, $rounds rounds" \
     "(wrk ${wrk_s} s, flowgate $requests requests), CPU by $meter; $tag, $date"
: >"$work/rounds.tsv"
r=1
while [ "$r" -le "$rounds" ]; do
    if [ $((r % 2)) -eq 1 ]; then
        order="wrk first"; run_wrk "$r"; run_flowgate "$r"; run_floor "$r"
    else
        order="flowgate first"; run_floor "$r"; run_flowgate "$r"; run_wrk "$r"
    fi
    ratio=$(awk -v f="$fg_rps" -v w="$wrk_rps" 'BEGIN { printf "%.3f", f / w }')
    printf '%s\t%s\t%d\t%.1f\t%.1f\t%s\t%s\t%s\t%.1f\t%s\n' "$tag" "$date" "$r" "$wrk_rps" "$fg_rps" \
        "$ratio" "$wrk_cpu_us" "$fg_cpu_us" "$floor_rps" "$floor_cpu_us" >>"$work/rounds.tsv"
    printf 'round %d/%d (%s): wrk %.0f req/s, flowgate %.0f wf/s, ratio %s; libcurl floor %.0f req/s; CPU per request: wrk %s us, flowgate %s us, floor %s us\n' \
        "$r" "$rounds" "$order" "$wrk_rps" "$fg_rps" "$ratio" "$floor_rps" "$wrk_cpu_us" "$fg_cpu_us" "$floor_cpu_us"
    r=$((r + 1))
done

# median COLUMN: the median of a column of the rounds (mean of the middle two when even).
median() {
    cut -f "$1" "$work/rounds.tsv" | sort -g |
        awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
ratio=$(median 6)
range=$(cut -f 6 "$work/rounds.tsv" | sort -g | awk 'NR == 1 { lo = $1 } { hi = $1 } END { print lo "-" hi }')
echo "median ratio flowgate/wrk: $ratio (min-max $range over $rounds rounds)"
echo "median CPU per request: wrk $(median 7) us, flowgate $(median 8) us, libcurl floor $(median 10) us"
echo "libcurl floor: $(median 9) req/s, $(awk -v f="$(median 9)" -v w="$(median 4)" 'BEGIN { printf "%.3f", f / w }')x wrk;" \
     "flowgate at $(awk -v g="$(median 5)" -v f="$(median 9)" 'BEGIN { printf "%.3f", g / f }')x the floor (medians)"
if awk -v r="$ratio" -v t="$target" 'BEGIN { exit !(r >= t) }'; then met=met; else met="not met"; fi
echo "target >= ${target}x wrk: $met"

mkdir -p "$src/results/bench"
tsv=$src/results/bench/vs_wrk.tsv
[ -s "$tsv" ] || printf 'tag\tdate\tround\twrk_rps\tfg_rps\tratio\twrk_cpu_us\tfg_cpu_us\tfloor_rps\tfloor_cpu_us\n' >"$tsv"
cat "$work/rounds.tsv" >>"$tsv"
echo "rounds appended to $tsv"
exit 0
