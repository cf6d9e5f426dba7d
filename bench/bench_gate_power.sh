#!/bin/sh
# bench_gate_power.sh — the power table of the A/B gate (`flowgate ab`) on
# realistic changes, on this machine. A row is one change of system B: a
# nodes file derived from data/nodes.json by bench/gate_power_rows.py
# (B's --b-nodes; A is always data/nodes.json), and for *_noisy rows a noisy
# neighbour, one `yes > /dev/null` busy loop started before and killed after
# each trial (and on any exit). Rows:
#   aa_quiet      A/A: B's nodes file is A's (every FAIL is a false alarm)
#   aa_noisy      A/A with the busy loop
#   aa_noisy2     A/A with two busy loops (both cores of the reference machine)
#   every_fn_10   "slowdown": {"*": 1.1}            every function +10 %
#   plus10_noisy  every_fn_10 with the busy loop
#   extract_1_2   "slowdown": {"recognizer__extract": 1.2}
#   adult_1_5     "slowdown": {"recognizer__adult": 1.5}
#   node_1_3      the busiest node gets "slowdown": 1.3
#   latency_1ms   every node's "latency_ms" + 1
#   worker_fewer  the busiest node's "workers" - 1 (refused below 1)
#   tail_only     "tail_delay": {"every": 20, "add_ms": 50}
# The busiest node is the one running most invocations in the baseline: the
# sum of "nodes".<name>.invocations over A's results of this matrix's last
# trial (kept in results/bench/gate_power/busiest-<matrix>); before any
# trial of the matrix ran, the node with the most workers (node3 for
# data/nodes.json, which is also the busiest of `ours` on smoke); BENCH_BUSY_NODE
# overrides. Every nodes file is checked by starting flowgate-functions on it.
#
# A trial is one whole `flowgate ab MATRIX --b-nodes ROW.json` with its
# sequential stopping and budget, so its time is what a user waits for a
# verdict. Per trial the TSV keeps: outcome (PASS/FAIL/INCONCLUSIVE from
# verdict.json, ERROR when there is none), exit code, pairs, elapsed_s (ab's)
# and wall seconds, why it stopped, the end-to-end shift (geometric mean over
# cells of the B/A centre ratio; the ratio itself for one cell), the culprit
# named first (function and part of functions[0] of the first regressed
# cell) and the first critical-path part of that cell, and the change.
#
# Per row the summary gives: trials (errors apart), the median shift, the
# FAIL rate with its 95 % Wilson interval (detection rate; the false-alarm
# rate for aa_*), the PASS and INCONCLUSIVE shares, the most common culprit
# among the detections with its share, the median and maximum seconds per
# verdict; as a fixed-width table and as Markdown (for the README).
#
# Unattended and resumable: every finished trial is appended to
# results/bench/gate_power.tsv, keyed by tag, matrix and row; a rerun with
# the same tag only runs the trials still missing, and Ctrl-C loses at most
# the running trial (not recorded). Each trial's verdict.{txt,json} and log
# are kept in results/bench/gate_power/<tag>/, its results files deleted
# (BENCH_KEEP=1 keeps them); the row profiles are written to
# results/bench/gate_power/profiles/.
#
# usage: bench/bench_gate_power.sh [BUILD_DIR] [MATRIX:ROW:K ...]
#        e.g. bench/bench_gate_power.sh smoke:aa_quiet:20 gate:extract_1_2:5
#        MATRIX is a category of `flowgate ab` (smoke, gate, ...). Default list
#        (smoke ~25-60 s a trial, gate up to its budget; a few hours in all):
#          smoke: aa_quiet:20 aa_noisy:10 every_fn_10:20 plus10_noisy:10
#                 extract_1_2:10 adult_1_5:10 node_1_3:10 latency_1ms:10
#                 worker_fewer:10 tail_only:10
#          gate:  aa_quiet:5 every_fn_10:5 plus10_noisy:5 extract_1_2:5
#                 adult_1_5:5 node_1_3:5 latency_1ms:5 worker_fewer:5 tail_only:5
# env:   BENCH_TAG (default the source's git short hash), BENCH_BUDGET (s per
#        trial; default 120 for smoke, 300 otherwise), BENCH_BUSY_NODE,
#        BENCH_KEEP, BENCH_AB_ARGS (more flags for every `flowgate ab`)
set -eu

src=$(cd "$(dirname "$0")/.." && pwd)
rows_py=$src/bench/gate_power_rows.py
base=$src/data/nodes.json
build=$src/build
case ${1:-} in
    *:*|"") ;;
    *) build=$1; shift ;;
esac
if [ $# -eq 0 ]; then
    set --
    for r in aa_quiet:20 aa_noisy:10 every_fn_10:20 plus10_noisy:10 extract_1_2:10 \
             adult_1_5:10 node_1_3:10 latency_1ms:10 worker_fewer:10 tail_only:10; do
        set -- "$@" "smoke:$r"
    done
    for r in aa_quiet every_fn_10 plus10_noisy extract_1_2 adult_1_5 node_1_3 \
             latency_1ms worker_fewer tail_only; do
        set -- "$@" "gate:$r:5"
    done
fi
flowgate=$build/flowgate
server=$build/flowgate-functions
[ -x "$flowgate" ] && [ -x "$server" ] ||
    { echo "bench_gate_power: build $build first (flowgate and flowgate-functions)" >&2; exit 2; }
command -v python3 > /dev/null || { echo "bench_gate_power: needs python3" >&2; exit 2; }
known=" $(python3 "$rows_py" rows) "
for spec in "$@"; do
    rest=${spec#*:}
    row=${rest%%:*} k=${rest#*:}
    case $spec in
        *:*:*:*|:*|*::*) k=x ;;
        *:*:*) ;;
        *) k=x ;;
    esac
    case $k in
        ""|*[!0-9]*) echo "bench_gate_power: '$spec': expected MATRIX:ROW:K, e.g. smoke:aa_quiet:20" >&2; exit 2 ;;
    esac
    case $known in
        *" $row "*) ;;
        *) echo "bench_gate_power: '$spec': unknown row '$row' (known:${known% })" >&2; exit 2 ;;
    esac
done
tag=${BENCH_TAG:-$(git -C "$src" rev-parse --short HEAD 2>/dev/null || echo untagged)}
out=$src/results/bench
runs=$out/gate_power
tsv=$out/gate_power.tsv
mkdir -p "$runs/profiles"
header='tag	matrix	row	trial	outcome	exit	pairs	elapsed_s	seconds	stopped	shift	culprit	path_part	change'
if [ -s "$tsv" ] && [ "$(head -n 1 "$tsv")" != "$header" ]; then
    old=$out/gate_power.old-$(date +%Y%m%d-%H%M%S).tsv
    mv "$tsv" "$old"
    echo "bench_gate_power: $tsv had another layout (the effect table); moved to $old"
fi
[ -s "$tsv" ] || printf '%s\n' "$header" > "$tsv"

# The noisy neighbour: started before a *_noisy trial, killed after it, and
# on any exit of this script (error, Ctrl-C, set -e).
noise_pid=
noise_stop() {
    for p in $noise_pid; do
        kill "$p" 2>/dev/null || true
        wait "$p" 2>/dev/null || true
    done
    noise_pid=
}
check_pid=
cleanup() {
    noise_stop
    [ -z "$check_pid" ] || kill "$check_pid" 2>/dev/null || true
}
trap cleanup EXIT
# Ctrl-C / SIGTERM reach the running `flowgate ab` too (same process
# group): it stops its servers and exits; this script then stops as well,
# without recording the cut trial (the EXIT trap stops the busy loop).
stopping=0
trap 'stopping=1' INT TERM

done_trials() {  # done_trials MATRIX ROW → trials recorded for this tag
    awk -F'\t' -v t="$tag" -v m="$1" -v r="$2" \
        '$1 == t && $2 == m && $3 == r { n++ } END { print n + 0 }' "$tsv"
}

busy_node() {  # busy_node MATRIX → the baseline's busiest node
    if [ -n "${BENCH_BUSY_NODE:-}" ]; then echo "$BENCH_BUSY_NODE"
    elif [ -s "$runs/busiest-$1" ]; then cat "$runs/busiest-$1"
    else
        python3 -c 'import json, sys
n = json.load(open(sys.argv[1]))["nodes"]
print(max(n, key=lambda x: x.get("workers", 1))["name"])' "$base"
    fi
}

check_profile() {  # check_profile FILE: does the function server start on it?
    ep=$runs/profiles/.check.endpoints
    rm -f "$ep"
    "$server" --nodes "$1" --data "$src/data" --endpoints-out "$ep" \
        > "$ep.log" 2>&1 &
    check_pid=$!
    i=0
    while [ ! -s "$ep" ] && kill -0 "$check_pid" 2>/dev/null && [ $i -lt 100 ]; do
        sleep 0.1; i=$((i + 1))
    done
    ok=0
    [ -s "$ep" ] && kill -0 "$check_pid" 2>/dev/null && ok=1
    kill "$check_pid" 2>/dev/null || true
    wait "$check_pid" 2>/dev/null || true
    check_pid=
    rm -f "$ep"
    [ "$ok" = 1 ] || { echo "bench_gate_power: $1: the function server does not start on it:" >&2
                       cat "$ep.log" >&2; rm -f "$ep.log"; exit 2; }
    rm -f "$ep.log"
}

profile=
change=
make_profile() {  # make_profile MATRIX ROW → sets $profile, $change
    busy=$(busy_node "$1")
    profile=$runs/profiles/$1-$2.json
    python3 "$rows_py" profile "$base" "$2" "$busy" > "$profile.tmp"
    mv "$profile.tmp" "$profile"
    change=$(python3 "$rows_py" change "$base" "$2" "$busy")
    check_profile "$profile"
}

trial() {  # trial MATRIX ROW N
    matrix=$1 row=$2 n=$3
    name="$matrix-$row-$n"
    dir=$runs/$tag/$name
    rm -rf "$dir" && mkdir -p "$dir"
    budget=${BENCH_BUDGET:-}
    [ -n "$budget" ] || { [ "$matrix" = smoke ] && budget=120 || budget=300; }
    case $row in
        *_noisy) yes > /dev/null & noise_pid=$! ;;
        *_noisy2) yes > /dev/null & n1=$!; yes > /dev/null & noise_pid="$n1 $!" ;;
    esac
    t0=$(date +%s.%N)
    rc=0
    # shellcheck disable=SC2086  # BENCH_AB_ARGS are flag words
    "$flowgate" ab "$matrix" --b-nodes "$profile" --budget "$budget" --results-dir "$dir" \
        ${BENCH_AB_ARGS:-} > "$dir.log" 2>&1 || rc=$?
    t1=$(date +%s.%N)
    noise_stop
    if [ "$stopping" -ne 0 ]; then
        [ "${BENCH_KEEP:-0}" = 1 ] || rm -rf "$dir"
        echo "bench_gate_power: interrupted; $name not recorded"
        exit 130
    fi
    vdir=$(ls -d "$dir"/ab-* 2>/dev/null | head -n 1)
    fields="ERROR	-	-	error	-	-	-"
    if [ -n "$vdir" ] && [ -s "$vdir/verdict.json" ]; then
        cp "$vdir/verdict.json" "$dir.verdict.json"
        cp "$vdir/verdict.txt" "$dir.verdict.txt" 2>/dev/null || true
        fields=$(python3 "$rows_py" trial "$vdir/verdict.json")
        # The baseline's busiest node, from A's results (A is data/nodes.json).
        if [ -z "${BENCH_BUSY_NODE:-}" ]; then
            python3 "$rows_py" busiest "$vdir"/A/experiment_results_*.json \
                > "$runs/busiest-$matrix.tmp" 2>/dev/null &&
                mv "$runs/busiest-$matrix.tmp" "$runs/busiest-$matrix" ||
                rm -f "$runs/busiest-$matrix.tmp"
        fi
    elif [ "$rc" -ne 2 ]; then
        fields="ERROR	-	-	no_verdict	-	-	-"
    fi
    [ "${BENCH_KEEP:-0}" = 1 ] || rm -rf "$dir"
    secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')
    # fields: outcome pairs elapsed_s stopped shift culprit path_part
    printf '%s\n' "$fields" | awk -F'\t' -v OFS='\t' -v t="$tag" -v m="$matrix" -v r="$row" \
        -v n="$n" -v rc="$rc" -v s="$secs" -v c="$change" \
        '{ print t, m, r, n, $1, rc, $2, $3, s, $4, $5, $6, $7, c }' >> "$tsv"
    printf '%s\n' "$fields" | awk -F'\t' -v name="$name" -v rc="$rc" -v s="$secs" \
        '{ printf "%s: %s (exit %s), %s pairs, %s s, stopped: %s, shift %s, culprit %s, path %s\n",
                  name, $1, rc, $2, s, $4, $5, $6, $7 }'
    [ "$rc" -ne 2 ] || { echo "bench_gate_power: $name: flowgate ab exit 2:"; tail -n 3 "$dir.log"; }
}

for spec in "$@"; do
    matrix=${spec%%:*} rest=${spec#*:}
    row=${rest%%:*} k=${rest#*:}
    n=$(done_trials "$matrix" "$row")
    [ "$n" -lt "$k" ] || continue
    make_profile "$matrix" "$row"
    echo "== $matrix $row: $change ($profile; trials $((n + 1))..$k)"
    while [ "$n" -lt "$k" ]; do
        n=$((n + 1))
        trial "$matrix" "$row" "$n"
    done
done

# The table, from every trial of this tag (K is what was asked for; rows
# with more trials from earlier, larger runs show them all).
echo
echo "gate power ($tag; $tsv)"
awk -F'\t' -v t="$tag" '
    function wilson(x, n,   z, p, c, h) {
        z = 1.96; p = x / n
        c = (p + z * z / (2 * n)) / (1 + z * z / n)
        h = z * sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
        return sprintf("%.0f %% [%.0f, %.0f]", 100 * p, 100 * (c - h < 0 ? 0 : c - h),
                       100 * (c + h > 1 ? 1 : c + h))
    }
    function median(a, m,   i, j, x) {  # sorts a[1..m] in place
        for (i = 2; i <= m; i++) for (j = i; j > 1 && a[j - 1] > a[j]; j--) {
            x = a[j]; a[j] = a[j - 1]; a[j - 1] = x
        }
        return m % 2 ? a[(m + 1) / 2] : (a[m / 2] + a[m / 2 + 1]) / 2
    }
    function pct(x, n) { return sprintf("%.0f %%", 100 * x / n) }
    NR > 1 && $1 == t {
        key = $2 "\t" $3
        if (!(key in seen)) { seen[key] = 1; order[++nk] = key }
        change[key] = $14
        if ($5 == "ERROR") { err[key]++; next }
        m = ++n[key]
        fail[key] += ($5 == "FAIL"); pass[key] += ($5 == "PASS")
        inc[key] += ($5 == "INCONCLUSIVE")
        times[key, m] = $9
        if ($11 != "-") shifts[key, ++ns[key]] = $11
        if ($5 == "FAIL" && $12 != "-") {
            cul[key, $12]++
            if (cul[key, $12] > best[key]) { best[key] = cul[key, $12]; bestname[key] = $12 }
        }
    }
    END {
        hdr[1] = "matrix"; hdr[2] = "row"; hdr[3] = "trials"; hdr[4] = "e2e shift"
        hdr[5] = "FAIL [95 % Wilson]"; hdr[6] = "PASS"; hdr[7] = "INCONCL."
        hdr[8] = "culprit named first"; hdr[9] = "median s"; hdr[10] = "max s"
        hdr[11] = "errors"; hdr[12] = "change"
        for (i = 1; i <= nk; i++) {
            key = order[i]; split(key, f, "\t"); m = n[key] + 0
            cell[i, 1] = f[1]; cell[i, 2] = f[2]; cell[i, 3] = m
            cell[i, 11] = err[key] + 0; cell[i, 12] = change[key]
            if (m == 0) {
                for (c = 4; c <= 10; c++) cell[i, c] = "n/a"
                continue
            }
            k = ns[key] + 0
            for (a = 1; a <= k; a++) v[a] = shifts[key, a] + 0
            cell[i, 4] = k ? sprintf("x%.3f", median(v, k)) : "n/a"
            cell[i, 5] = fail[key] + 0 "/" m " " wilson(fail[key], m)
            cell[i, 6] = pct(pass[key], m); cell[i, 7] = pct(inc[key], m)
            cell[i, 8] = fail[key] ? (best[key] ? sprintf("%s (%d/%d)", bestname[key],
                                     best[key], fail[key]) : "none named") : "-"
            for (a = 1; a <= m; a++) v[a] = times[key, a] + 0
            cell[i, 9] = sprintf("%.1f", median(v, m)); cell[i, 10] = sprintf("%.1f", v[m])
        }
        for (c = 1; c <= 12; c++) {
            w[c] = length(hdr[c])
            for (i = 1; i <= nk; i++) if (length(cell[i, c]) > w[c]) w[c] = length(cell[i, c])
        }
        for (c = 1; c <= 12; c++) printf(c < 12 ? "%-" w[c] "s  " : "%s\n", hdr[c])
        for (i = 1; i <= nk; i++)
            for (c = 1; c <= 12; c++) printf(c < 12 ? "%-" w[c] "s  " : "%s\n", cell[i, c])
        print "FAIL = the gate failed: a detection, a false alarm for aa_* rows; e2e shift ="
        print "median B/A centre ratio (geometric mean over cells); culprit = functions[0] of the"
        print "first regressed cell, the most common among FAILs; s = wall seconds per verdict."
        print ""
        print "Markdown:"
        print ""
        line = "|"; sep = "|"
        for (c = 1; c <= 12; c++) { line = line " " hdr[c] " |"; sep = sep (c == 3 || (c >= 9 && c <= 11) ? "---:|" : "---|") }
        print line; print sep
        for (i = 1; i <= nk; i++) {
            line = "|"
            for (c = 1; c <= 12; c++) { x = cell[i, c]; gsub(/\|/, "\\|", x); line = line " " x " |" }
            print line
        }
    }' "$tsv"
