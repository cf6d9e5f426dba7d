#!/bin/sh
# bench_soak.sh — the driver's memory stays bounded on a long open-loop run
# (issue 18, "load at scale"). One `flowgate run single` at a fixed rate
# (default 3000/s for 600 s, 1.8 M workflows) against recognizer__translate
# served alone in container mode (bench_common.sh's start_function), so the
# run is cheap per request and long in requests: whatever the driver keeps
# per request (samples, timelines, connection state, results) shows as
# growth. The server is its own process, so its memory is not the driver's;
# it is sampled too, as a second line.
#
# Once a second the driver's and the server's VmRSS (/proc/PID/status) go to
# results/bench/soak_rss.tsv (t_s since the driver started, driver_rss_kib,
# server_rss_kib). Peak RSS is the kernel's VmHWM, read with each sample, so a
# spike between two samples still counts. Targets (issue 18), each printed
# met / not met:
#   peak RSS <= 64 MiB;
#   flat after the first minute (the warm-up, connection pool, histograms and
#     sample reservoirs fill in it): RSS at the end - RSS at 60 s <= 2 MiB AND
#     the least-squares slope from 60 s on <= 0.5 MiB/min. At 3000/s over the
#     nine minutes after the first, 2 MiB is a leak of ~1.3 bytes per request
#     and 0.5 MiB/min one of ~3 bytes, while one leaked malloc chunk is 32
#     bytes at least (glibc): either catches one leak in ten requests, and
#     both stay above the allocator's page-sized steps. Both, because a slope
#     alone misses a late step and a difference alone misses a leak that a
#     late drop (memory given back to the system) hides. "The end" is the
#     end of the measured window (the results' window.end_unix_ms): what
#     the driver allocates afterwards to write its results is one-off, and
#     counts towards the peak only;
#   the results file (experiment_results_*.json) <= 5 MB (5 x 10^6 bytes, the
#     stricter reading): results must not grow with the run's length either.
# Runs shorter than two minutes (smoke checks) take half the run as the
# settling time instead of 60 s, and say so.
#
# A gate: memory is not timing noise, so a missed target exits 1. Exit 2:
# the setup failed (build, tools, server) or the run did not complete. One
# row per run is appended to results/bench/soak.tsv (tag, date, rate,
# duration, requests ok and scheduled, dropped, throughput, peak, RSS at the
# settling time and at the end, slope, results bytes, verdict), and
# plots/soak_rss.gp draws plots/bench/soak_rss.{png,svg}: driver RSS (MiB)
# against time, the 64 MiB bound dashed, the server's RSS beside it.
#
# usage: bench/bench_soak.sh [BUILD_DIR]      (default: <source>/build)
# env:   BENCH_RATE (workflows/s, default 3000), BENCH_SOAK_S (s, default 600)
set -eu

src=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$src/build}
flowgate=$build/flowgate
server=$build/flowgate-functions
rate=${BENCH_RATE:-3000}
duration=${BENCH_SOAK_S:-600}
function=recognizer__translate
workflow=$src/data/workflows/single.json
peak_limit_kib=$((64 * 1024))
growth_limit_kib=$((2 * 1024))
slope_limit_kib_min=512
results_limit_bytes=5000000
bench_name=bench_soak

[ -x "$flowgate" ] && [ -x "$server" ] || { echo "$bench_name: build $build first" >&2; exit 2; }
command -v gnuplot >/dev/null 2>&1 || { echo "$bench_name: gnuplot is missing (apt-get install gnuplot-nox)" >&2; exit 2; }
for n in "$rate" "$duration"; do
    case $n in ''|*[!0-9]*|0) echo "$bench_name: BENCH_RATE and BENCH_SOAK_S must be positive integers" >&2; exit 2 ;; esac
done
# gnuplot gets the paths inside '...' strings
case $src in *"'"*) echo "$bench_name: a source path with a quote cannot be given to gnuplot" >&2; exit 2 ;; esac
settle=60
[ "$duration" -ge $((2 * settle)) ] || settle=$((duration / 2))

. "$src/bench/bench_common.sh"
start_function "$function" "$workflow"

# kib PID FIELD: a "FIELD: N kB" line of /proc/PID/status, empty when the process is gone.
kib() { sed -n "s/^$2:[[:space:]]*\([0-9]*\) kB\$/\1/p" "/proc/$1/status" 2>/dev/null || true; }
# unix time in ms: the results' window is on that clock
now_ms() { date +%s%3N; }

tag=$(git -C "$src" rev-parse --short HEAD 2>/dev/null || echo untagged)
date=$(date -u +%Y-%m-%dT%H:%M:%SZ)
echo "soak: $function at $function_url, open loop $rate/s for $duration s; $tag, $date"
tsv=$work/soak_rss.tsv
printf 't_s\tdriver_rss_kib\tserver_rss_kib\n' >"$tsv"
t0=$(now_ms)
FLOWGATE_DATA="$src/data" FLOWGATE_HISTORY=off "$flowgate" run single --workflow "$workflow" \
    --endpoints "$work/endpoints.json" --rate "$rate" --duration "$duration" --warmup 100 \
    --concurrency 8 --results-dir "$work/res" --no-thresholds >"$work/run.out" 2>&1 &
driver_pid=$!
bench_pids=$driver_pid
hwm=0
# Until the driver exits: an exited child is a zombie until waited for,
# which has no VmRSS line, so the empty read ends the loop.
while :; do
    rss=$(kib "$driver_pid" VmRSS)
    [ -n "$rss" ] || break
    h=$(kib "$driver_pid" VmHWM)
    [ -z "$h" ] || hwm=$h
    srv=$(kib "$server_pid" VmRSS)
    t=$(($(now_ms) - t0))
    printf '%d.%03d\t%s\t%s\n' $((t / 1000)) $((t % 1000)) "$rss" "${srv:-?}" >>"$tsv"
    sleep 1
done
rc=0
wait "$driver_pid" || rc=$?
bench_pids=

out=$src/results/bench
mkdir -p "$out"
cp "$tsv" "$out/soak_rss.tsv"
if [ "$rc" -ne 0 ]; then
    echo "$bench_name: flowgate run exited $rc (samples kept in $out/soak_rss.tsv):" >&2
    tail -n 20 "$work/run.out" >&2
    exit 2
fi
cat "$work/run.out"
set -- "$work/res"/experiment_results_*.json
[ $# -eq 1 ] && [ -f "$1" ] || { echo "$bench_name: no results file from flowgate" >&2; exit 2; }
results=$1
results_bytes=$(wc -c <"$results" | tr -d ' ')
counts=$(jq -r '.experiments[0] | "\(.requests.ok) \(.requests.scheduled) \(.requests.dropped // 0) \(.throughput_rps)"' "$results") ||
    { echo "$bench_name: cannot read $results" >&2; exit 2; }
set -- $counts
ok=$1 scheduled=$2 dropped=$3 throughput=$(printf '%.1f' "$4")
runid=$(jq -r '.run.id // "?"' "$results")
# The end of the measured window on the samples' clock (s since t0): after it
# the driver only writes its results, which the peak covers but the flatness
# must not take for growth over the run.
window_end=$(jq -r --arg t0 "$t0" '.experiments[0].window.end_unix_ms - ($t0 | tonumber) | . / 1000' "$results") ||
    { echo "$bench_name: no measured window in $results" >&2; exit 2; }

# peak (KiB, max of VmHWM and the samples), RSS at the settling time (the
# first sample at or after it) and at the window's end (the last sample in
# it), the least-squares slope between the two (KiB/min; "?" with fewer than
# 3 samples there).
set -- $(awk -F '\t' -v settle="$settle" -v wend="$window_end" -v hwm="$hwm" '
    NR == 1 { next }
    { if ($2 > peak) peak = $2 }
    $1 >= settle && $1 <= wend {
        if (at == "") at = $2
        last = $2
        n++; sx += $1; sy += $2; sxx += $1 * $1; sxy += $1 * $2
    }
    END {
        if (hwm > peak) peak = hwm
        d = n * sxx - sx * sx
        slope = (n >= 3 && d > 0) ? sprintf("%.1f", 60 * (n * sxy - sx * sy) / d) : "?"
        print peak + 0, (at == "" ? "?" : at), (last == "" ? "?" : last), slope, NR - 1
    }' "$tsv")
peak=$1 at=$2 last=$3 slope=$4 samples=$5

mib() { case $1 in '?') echo '?' ;; *) awk -v k="$1" 'BEGIN { printf "%.1f MiB", k / 1024 }' ;; esac; }
status=0 verdict=met
check() {   # check NAME OK(0/1) DETAIL
    if [ "$2" -eq 1 ]; then r=met; else r="not met"; status=1; verdict="not met"; fi
    printf '  %-34s %-8s %s\n' "$1" "$r" "$3"
}
echo "requests ok $ok of $scheduled scheduled ($dropped dropped); throughput $throughput wf/s (rate $rate/s)"
printf 'driver RSS: peak %s, at %s s %s, at the window end (%.1f s) %s, slope from %s s %s KiB/min (%s samples in all)\n' \
    "$(mib "$peak")" "$settle" "$(mib "$at")" "$window_end" "$(mib "$last")" "$settle" "$slope" "$samples"
[ "$settle" -eq 60 ] || echo "  (a run shorter than 120 s: the settling time is half the run, ${settle} s, not 60 s)"
echo "results file: $results_bytes bytes"
echo "targets:"
check "peak RSS <= 64 MiB" "$([ "$peak" -le "$peak_limit_kib" ] && echo 1 || echo 0)" "$(mib "$peak")"
if [ "$slope" = '?' ]; then
    check "flat after ${settle} s" 0 "not measured: fewer than 3 samples between ${settle} s and the window end"
else
    growth=$((last - at))
    flat=$(awk -v g="$growth" -v s="$slope" -v gl="$growth_limit_kib" -v sl="$slope_limit_kib_min" \
        'BEGIN { print (g <= gl && s <= sl) ? 1 : 0 }')
    check "flat after ${settle} s" "$flat" \
        "end - ${settle} s: $growth KiB (<= $growth_limit_kib), slope $slope KiB/min (<= $slope_limit_kib_min)"
fi
check "results file <= 5 MB" "$([ "$results_bytes" -le "$results_limit_bytes" ] && echo 1 || echo 0)" \
    "$results_bytes bytes"

row=$out/soak.tsv
[ -s "$row" ] || printf 'tag\tdate\trate\tduration_s\tok\tscheduled\tdropped\tthroughput_rps\tpeak_kib\tsettle_s\trss_settle_kib\trss_end_kib\tslope_kib_min\tresults_bytes\tverdict\n' >"$row"
printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$tag" "$date" "$rate" "$duration" \
    "$ok" "$scheduled" "$dropped" "$throughput" "$peak" "$settle" "$at" "$last" "$slope" \
    "$results_bytes" "$verdict" >>"$row"

mkdir -p "$src/plots/bench"
gnuplot -e "plotsdir='$src/plots'; outdir='$src/plots/bench'; datafile='$out/soak_rss.tsv';
    category='single'; runid='$runid'; rate=$rate; duration=$duration; settle=$settle;
    window_end=$window_end; limit_mib=$((peak_limit_kib / 1024))" "$src/plots/soak_rss.gp" ||
    echo "$bench_name: warn: gnuplot failed, no chart" >&2
echo "samples: $out/soak_rss.tsv; summary row: $row; chart: $src/plots/bench/soak_rss.png"
exit $status
