#!/usr/bin/env bash
# flowgate.sh — the README's two quick-start commands, idempotent:
#
#   ./flowgate.sh run    install what is missing, build, run the standard category
#                        on the embedded server, write results/ and plots/
#   ./flowgate.sh test   install what is missing, build, run every test through ctest:
#                        unit + HTTP + PostgreSQL tests under AddressSanitizer, the
#                        fuzzer (bounded),
#                        then the perf suites (smoke, standard, scale categories),
#                        the six scenarios scaled down (label scenarios), then
#                        smoke + standard against the nodes as Docker containers
#                        (a project-owned engine when none runs), and two
#                        drivers as a Docker Swarm service, merged
#
# Each step does nothing when its work is already done: packages already
# installed are not touched, builds are incremental. CI (.ci/run) calls
# `./flowgate.sh test`; with CI=true the scale categories run with fewer
# requests (FLOWGATE_REQUEST_SCALE) so the whole run stays under 20 minutes.
set -euo pipefail
cd "$(dirname "$0")"

PACKAGES=(
  build-essential cmake pkg-config clang libclang-rt-14-dev
  libcmocka-dev libcurl4-openssl-dev libcjson-dev libmicrohttpd-dev libssl-dev libhttp-parser-dev libyajl-dev liburing-dev
  libpng-dev zlib1g-dev libturbojpeg0-dev libtesseract-dev tesseract-ocr-eng
  libcairo2-dev fonts-dejavu-core gnuplot-nox curl time jq wrk
  docker.io docker-compose mmdebstrap libyaml-dev
  libsqlite3-dev libpq-dev postgresql chromium
)
JOBS=$(nproc 2>/dev/null || echo 2)

install_missing() {
  local missing=()
  for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "flowgate: installing ${missing[*]}"
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

# build DIR [cmake options...] [-- targets...]
build() {
  local dir=$1; shift
  local opts=() targets=()
  while [ $# -gt 0 ] && [ "$1" != "--" ]; do opts+=("$1"); shift; done
  [ $# -gt 0 ] && { shift; targets=(--target "$@"); }
  cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=Release "${opts[@]}" >/dev/null
  cmake --build "$dir" -j "$JOBS" "${targets[@]}"
}

cmd_run() {
  install_missing
  build build
  local rc=0
  # Ctrl-C: flowgate finishes its results file and exits 1; the script then
  # stops too, instead of going on to plot the interrupted run.
  trap 'exit 130' INT TERM
  ./build/flowgate run standard "$@" || rc=$?
  trap - INT TERM
  # Plots are rendered even when a gate failed: they show why. The run was
  # appended to results/history.sqlite: its cells' trend charts and the
  # report page (results/report_<run-id>.html) read it.
  local post=0
  ./build/flowgate plot --latest --history || post=$?
  ./build/flowgate report || post=$?
  [ $rc -eq 0 ] && rc=$post
  return $rc
}

cmd_test() {
  install_missing
  build build
  # The measuring tree is Release, as images and users build it (and it
  # must build under -Werror there); the tests' tree keeps symbols.
  build build-asan -DFLOWGATE_ASAN=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo
  build build-fuzz -DFLOWGATE_FUZZ=ON -DCMAKE_C_COMPILER=clang -- fuzz_request fuzz_answer
  # CI runs the scale categories with a third of their requests (never
  # fewer than their concurrency); everything else runs at full size.
  local scale=${FLOWGATE_REQUEST_SCALE:-1}
  [ "${CI:-}" = "true" ] && [ -z "${FLOWGATE_REQUEST_SCALE:-}" ] && scale=0.34
  local rc=0
  ctest --test-dir build-asan -L 'unit|http|postgres' --output-on-failure -j "$JOBS" || rc=1
  ctest --test-dir build-fuzz -L fuzz --output-on-failure || rc=1
  # The perf runs append to a history in the build tree (CI's own runs,
  # imported again below: an import is idempotent).
  export FLOWGATE_HISTORY="$PWD/build/history.sqlite"
  ctest --test-dir build -L perf -LE scale --output-on-failure || rc=1
  FLOWGATE_REQUEST_SCALE=$scale ctest --test-dir build -L scale --output-on-failure || rc=1
  # The scenarios (the two fault ones too), scaled down by the test itself
  # (suites/suites.cmake).
  ctest --test-dir build -L scenarios --output-on-failure || rc=1
  # The node set as containers: the fixture starts a Docker engine when none
  # answers and stops it after (fixtures/containers/ctest.sh).
  ctest --test-dir build -L docker --output-on-failure || rc=1
  ./build/flowgate history import results || rc=1
  ./build/flowgate history runs | tail -n 1
  ./build/flowgate history changes | tail -n 1
  return $rc
}

case "${1:-}" in
  run)  shift; cmd_run "$@" ;;
  test) shift; cmd_test "$@" ;;
  *) echo "usage: ./flowgate.sh run|test" >&2; exit 2 ;;
esac
