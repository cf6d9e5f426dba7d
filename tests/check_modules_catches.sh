#!/bin/sh
# The module check can go red: in a copy of the tree, the server includes a
# driver header and a test reaches into src/ by a relative path; the check
# must fail and name both lines.
set -eu
src=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cp -r "$src/src" "$src/tests" "$src/fixtures" "$src/suites" "$src/bench" "$src/README.md" "$tmp/"
mkdir -p "$tmp/.ci" && cp "$src/.ci/check-modules" "$tmp/.ci/"
"$tmp/.ci/check-modules" "$tmp" >/dev/null || { echo "the clean copy must pass"; exit 1; }
printf '#include "flowgate/engine.h"\n' >> "$tmp/src/server/catalog.c"
printf '#include "../../src/driver/metrics.h"\n' >> "$tmp/tests/unit/test_hist.c"
set +e
out=$("$tmp/.ci/check-modules" "$tmp" 2>&1); rc=$?
set -e
echo "$out"
[ "$rc" -eq 1 ] || { echo "expected exit 1, got $rc"; exit 1; }
echo "$out" | grep -q 'src/server/catalog.c:[0-9]*: #include "flowgate/engine.h": server may not include driver' ||
    { echo "the server's line is not named"; exit 1; }
echo "$out" | grep -q 'tests/unit/test_hist.c:[0-9]*: #include "../../src/driver/metrics.h"' ||
    { echo "the test's line is not named"; exit 1; }
echo "check-modules caught both lines"
