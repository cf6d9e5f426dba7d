#!/bin/sh
# bench_functions.sh — per-function req/s and latency of one flowgate-functions
# node (workers = nproc, no egress emulation) on a generated 1 MB image.
# Builds into $BUILD (default <repo>/build-bench), never into the source tree.
#   bench/bench_functions.sh [SIZE_MB] [MAX_SECONDS_PER_FUNCTION] [MAX_REQUESTS]
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$ROOT/build-bench}
SIZE_MB=${1:-1}
MAX_S=${2:-8}
MAX_N=${3:-2000}
CORES=$(nproc)

cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$BUILD" -j2 --target flowgate-functions bench_functions >/dev/null

sed "s/\"workers\": *[0-9]*/\"workers\": $CORES/" "$ROOT/bench/one_node.json" >"$BUILD/one_node.json"
SERVER_DIR=$BUILD/bench-server
trap '"$ROOT/tests/server_ctl.sh" stop "$SERVER_DIR"' EXIT INT TERM
"$ROOT/tests/server_ctl.sh" start "$SERVER_DIR" "$BUILD/flowgate-functions" \
    --nodes "$BUILD/one_node.json" --data "$ROOT/data"
URL=$(grep -o '"http://[^"]*"' "$SERVER_DIR/endpoints.json" | head -n 1 | tr -d '"')

echo "flowgate-functions, 1 node, $CORES workers, $URL ($(date -u +%Y-%m-%dT%H:%M:%SZ))"
"$BUILD/bench_functions" "$URL" "$SIZE_MB" "$CORES" "$MAX_S" "$MAX_N"
