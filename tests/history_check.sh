#!/bin/sh
# history_check.sh — `flowgate history check` over synthetic histories
# (tests/history_synth.sh): green on a flat one, red on a planted step and on
# a creep, naming the commit that began the worse level; inconclusive on one
# too short to judge; import idempotent; bad input one line, exit 2. Then
# the trend chart and the report page of the stepped history.
#
#   tests/history_check.sh FLOWGATE WORKDIR
set -u
flowgate=$1 work=$2
here=$(cd "$(dirname "$0")" && pwd)
rm -rf "$work" && mkdir -p "$work" || exit 2
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
# expect CODE HISTORY ARGS...: runs flowgate history, output in $work/out
expect() {
    want=$1 db=$2; shift 2
    "$flowgate" history --history "$work/$db.sqlite" "$@" >"$work/out" 2>&1
    got=$?
    [ "$got" -eq "$want" ] || { fail "history $* on $db: exit $got, expected $want"; cat "$work/out"; }
}

"$here/history_synth.sh" "$work/flat" 40 0 1 11
"$here/history_synth.sh" "$work/step" 40 36 1.15 12
"$here/history_synth.sh" "$work/creep" 40 31 1.01 13 creep
"$here/history_synth.sh" "$work/short" 4 0 1 14
for h in flat step creep short; do expect 0 "$h" import "$work/$h"; done

expect 0 flat import "$work/flat"
grep -q "imported 0 runs, 40 already there" "$work/out" || fail "a second import added runs: $(cat "$work/out")"
expect 0 flat runs
grep -q "^40 runs, 40 cells" "$work/out" || fail "flat history is not 40 runs: $(tail -1 "$work/out")"

expect 0 flat check
grep -q "history check: PASS" "$work/out" || fail "flat: no PASS line"
expect 0 flat changes
grep -q "history changes: 0 change points" "$work/out" || fail "flat: change points found: $(cat "$work/out")"

# The step began at run 36: check names its commit, changes too.
commit36=$(sed -n 's/.*"git_commit":"\([0-9a-f]*\)".*/\1/p' "$work/step/experiment_results_20260101-000036.json")
expect 1 step check
grep -q "^regression .*exp_input1.0mb_conc5_ours.* p50_ms: +1[0-9]\.[0-9] %.*began at $(echo "$commit36" | cut -c1-10)" "$work/out" ||
    fail "step: no regression line naming commit $commit36: $(cat "$work/out")"
grep -q "history check: FAIL" "$work/out" || fail "step: no FAIL line"
expect 0 step changes --metric p95_ms
grep -q "p95_ms: .* at $(echo "$commit36" | cut -c1-10)" "$work/out" || fail "step: changes misses the step: $(cat "$work/out")"
# From the step's commit on, 5 runs: too few to judge, said, not guessed.
expect 3 step check --since "$commit36"

expect 1 creep check --metric p50_ms
grep -q "^regression .* p50_ms: +" "$work/out" || fail "creep: not reported: $(cat "$work/out")"
# Each step of the creep is 1 %: a margin wider than the whole creep passes.
expect 0 creep check --metric p50_ms --margin 0.2

expect 3 short check
grep -q "inconclusive" "$work/out" || fail "short: no inconclusive line"
expect 0 short check --inconclusive=pass

expect 2 flat check --margin x
[ "$(wc -l <"$work/out")" -eq 1 ] || fail "bad --margin: not one line: $(cat "$work/out")"
expect 1 flat import "$work/nothere.json"
grep -q "nothere.json" "$work/out" || fail "missing file not named: $(cat "$work/out")"
printf '{"schema":"flowgate-results/1","run":' >"$work/broken.json"
expect 1 flat import "$work/broken.json"
grep -q "broken.json" "$work/out" || fail "broken file not named: $(cat "$work/out")"
expect 0 flat runs
grep -q "^40 runs, 40 cells" "$work/out" || fail "a failed import changed the history: $(tail -1 "$work/out")"

# The trend chart and the report page of the stepped history.
last="$work/step/experiment_results_20260101-000040.json"
FLOWGATE_HISTORY="$work/step.sqlite" "$flowgate" plot "$last" --out "$work/plots" --history \
    >"$work/out" 2>&1 || { fail "plot --history: $(cat "$work/out")"; }
grep -q "trend charts of 1 cell .*(3 change points)" "$work/out" || fail "plot --history: $(cat "$work/out")"
[ -s "$work/plots/trends/trend_synthetic_exp_input1.0mb_conc5_ours.svg" ] || fail "no trend chart"
grep -q "p50" "$work/plots/trends/trend_synthetic_exp_input1.0mb_conc5_ours.svg" ||
    fail "the trend chart does not mark the change"
FLOWGATE_HISTORY="$work/step.sqlite" "$flowgate" report "$last" --plots "$work/plots" \
    --out "$work/report.html" >"$work/out" 2>&1 || fail "report: $(cat "$work/out")"
grep -q "1 trend charts, change points listed" "$work/out" || fail "report: $(cat "$work/out")"
grep -q "$(echo "$commit36" | cut -c1-10)" "$work/report.html" || fail "report: the change's commit is not on the page"

[ "$fails" -eq 0 ] && { echo "history_check: all cases pass"; rm -rf "$work"; }
exit "$fails"
