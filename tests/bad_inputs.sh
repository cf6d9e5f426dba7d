#!/bin/sh
# bad_inputs.sh FLOWGATE — every bad input of a run is one line on stderr and
# exit 2, found before anything is measured: no "info:" line of the machine
# probe first, no server started, no results file written. The run's
# default matrix is smoke, so a check that slipped past would start a run.
# With $FLOWGATE_ENDPOINTS (the HTTP test server, nodes mode) it also checks
# that a step no node runs is refused after the health wait, before a
# request. Traffic only to 127.0.0.1.
set -u
bin=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export FLOWGATE_RESULTS_DIR="$tmp/results"
remote=${FLOWGATE_ENDPOINTS:-}
unset FLOWGATE_ENDPOINTS TOKEN
data=${FLOWGATE_DATA:?FLOWGATE_DATA must point at data/}
failures=0

# case_ NAME FRAGMENT CATEGORY ARGS...: `flowgate run CATEGORY ARGS...` exits 2
# with one stderr line holding FRAGMENT.
case_() {
    name=$1 fragment=$2
    shift 2
    "$bin" run "$@" >"$tmp/out" 2>"$tmp/err"
    rc=$?
    # Only a check that needs the cluster may follow the machine probe's
    # info line (the thresholds load, before the server starts).
    if [ -n "${after_probe:-}" ]; then grep -v '^info: thresholds: ' "$tmp/err" >"$tmp/err2"
    else cp "$tmp/err" "$tmp/err2"; fi
    mv "$tmp/err2" "$tmp/err"
    lines=$(wc -l <"$tmp/err")
    why=""
    [ "$rc" -eq 2 ] || why="exit $rc, expected 2"
    [ -z "$why" ] && [ "$lines" -ne 1 ] && why="$lines lines on stderr, expected 1"
    [ -z "$why" ] && ! grep -qF -- "$fragment" "$tmp/err" && why="no '$fragment' in the message"
    [ -z "$why" ] && ls "$FLOWGATE_RESULTS_DIR"/*.json >/dev/null 2>&1 && why="a results file was written"
    if [ -n "$why" ]; then
        echo "FAIL $name: $why"; sed 's/^/    stderr: /' "$tmp/err"; failures=$((failures + 1))
    else
        echo "ok   $name: $(cat "$tmp/err")"
    fi
    rm -rf "$FLOWGATE_RESULTS_DIR"
}

wf() { printf '%s' "$2" >"$tmp/$1.json"; echo "$tmp/$1.json"; }
cp "$data/workflows/recognizer.json" "$tmp/ok.json"
printf 'this is not a certificate\n' >"$tmp/garbage.pem"
printf '{"max_body_mb": 64, "nodes": [{"name": "n0", "port": 0, "workers": 0}]}' >"$tmp/zero.json"
printf '{"requests": "many"' >"$tmp/config.json"

case_ "segment index too large" "below 2" single --rate 5 --duration 1 --segment 2/2
case_ "segment not i/N" "not i/N" single --rate 5 --duration 1 --segment x
case_ "segment count 0" "count must be" single --rate 5 --duration 1 --segment 1/0
case_ "segment of a closed loop" "open loop" single --segment 0/2
case_ "missing workflow file" "no-such-workflow.json" smoke --workflow "$tmp/no-such-workflow.json"
case_ "workflow cycle" "cycle" smoke --workflow "$(wf cycle '{"name":"c","inputs":{"img":"blob"},"steps":[
  {"id":"recognizer__upload","in":{"img_b64":"$inputs.img"},"out":{"x":"result.x"}},
  {"id":"recognizer__adult","in":{"img_b64":"$recognizer__upload.x"},"out":{"y":"result.y"}}],
  "edges":[{"type":"sequential","from":"recognizer__upload","to":"recognizer__adult"},
           {"type":"sequential","from":"recognizer__adult","to":"recognizer__upload"}]}')"
case_ "workflow not JSON" "wf-bad.json" smoke --workflow "$(wf wf-bad '{"name": ')"
case_ "unknown function (embedded)" "recognizer__nosuch" smoke --workflow "$(wf nosuch '{"name":"n","inputs":{"img":"blob"},"steps":[
  {"id":"recognizer__nosuch","in":{"img_b64":"$inputs.img"},"out":{"x":"result.x"}}],"edges":[]}')"
case_ "unknown function (functions mode)" "recognizer__nosuch" smoke \
    --workflow "$tmp/nosuch.json" --endpoints "$(wf fns '{"mode":"functions","functions":{"recognizer__upload":"http://127.0.0.1:1"}}')"
case_ "credentials in a URL" "nodes[0].url" smoke --endpoints "$(wf creds '{"mode":"nodes","nodes":[{"name":"a","url":"http://user:pass@127.0.0.1:1"}]}')"
case_ "unset \${TOKEN}" "TOKEN" smoke --endpoints "$(wf token '{"mode":"nodes","headers":{"Authorization":"Bearer ${TOKEN}"},"nodes":[{"name":"a","url":"http://127.0.0.1:1"}]}')"
case_ "garbage CA file" "no PEM certificate" smoke --endpoints "$(wf ca "{\"mode\":\"nodes\",\"tls\":{\"ca_file\":\"$tmp/garbage.pem\"},\"nodes\":[{\"name\":\"a\",\"url\":\"https://127.0.0.1:1\"}]}")"
case_ "missing CA file" "cannot be read" smoke --endpoints "$(wf ca2 '{"mode":"nodes","tls":{"ca_file":"/nonexistent/ca.pem"},"nodes":[{"name":"a","url":"https://127.0.0.1:1"}]}')"
case_ "missing endpoints file" "no-such-endpoints.json" smoke --endpoints "$tmp/no-such-endpoints.json"
case_ "0 workers in the nodes file" "workers" smoke --nodes "$tmp/zero.json"
case_ "missing nodes file" "no-such-nodes.json" smoke --nodes "$tmp/no-such-nodes.json"
case_ "malformed config file" "config.json" smoke --config "$tmp/config.json"
case_ "unknown scheduler" "nosuch" smoke --schedulers nosuch
case_ "bad number" "--concurrency" smoke --concurrency 0
case_ "unknown category" "nosuchcategory" nosuchcategory
case_ "missing input file" "no-such-input.json" smoke --workflow "$(wf input "{\"name\":\"t\",\"inputs\":{\"text\":\"string\"},\"payload\":{\"kind\":\"json_file\",\"path\":\"$tmp/no-such-input.json\"},\"steps\":[
  {\"id\":\"recognizer__translate\",\"in\":{\"text\":\"\$inputs.text\"},\"out\":{\"t\":\"result.translated_text\"}}],\"edges\":[]}")"

if [ -n "$remote" ]; then
    # After the health wait, before any request: the nodes list their functions.
    after_probe=1 case_ "unknown function (remote nodes)" "is not a function node" smoke \
        --workflow "$tmp/nosuch.json" --endpoints "$remote"
fi

[ "$failures" -eq 0 ] || { echo "$failures bad input(s) not refused as they should be"; exit 1; }
echo "every bad input refused with one line, before anything was measured"
