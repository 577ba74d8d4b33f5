#!/usr/bin/env bash
# The README's dashboard screenshot, docs/img/dashboard.png, taken from the demo's workspace:
# tests/browser/demo_screenshot.sh [BUILD_DIR] [OUT]. Runs scripts/demo.sh (make demo: 500
# people, matched, a month simulated) in a temporary folder, serves its simulated copy
# (sessions held, ratings, health) with `tandem serve --http 127.0.0.1:0`, signs in with a read
# token in headless chromium (shoot.mjs) and saves the overview, then checks it is under 200 KB
# and not blank. Needs what the browser tests need (tests/browser/setup.sh).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
BUILD=${1:-$src/build}
OUT=${2:-$src/docs/img/dashboard.png}
TANDEM=$(realpath "$BUILD/tandem")
bash "$here/setup.sh"
TMP=$(mktemp -d "${TMPDIR:-/tmp}/demo_screenshot.XXXXXX")
PID=
trap '[ -n "$PID" ] && kill "$PID" 2>/dev/null; wait 2>/dev/null; rm -rf "$TMP"' EXIT
(cd "$TMP" && DEMO_WS=demo bash "$src/scripts/demo.sh" "$TANDEM" >"$TMP/demo.log" 2>&1) ||
  { tail -20 "$TMP/demo.log" >&2; exit 1; }
WS=$TMP/demo/simulation
[ -e "$WS/tandem.db" ] || WS=$TMP/demo
TOKEN=$("$TANDEM" -C "$WS" tokens create screenshot --scope read | awk '{print $NF}' | tail -1)
timeout -k 5 300 "$TANDEM" -C "$WS" serve --http 127.0.0.1:0 >"$TMP/serve.log" 2>&1 &
PID=$!
for _ in $(seq 200); do grep -q 'http: listening on' "$TMP/serve.log" && break; sleep 0.05; done
PORT=$(sed -n 's/.*http: listening on .* (port \([0-9]*\)).*/\1/p' "$TMP/serve.log" | head -1)
[ -n "$PORT" ] || { echo "demo_screenshot: the server did not start: $(head -c 600 "$TMP/serve.log")" >&2; exit 1; }
mkdir -p "$(dirname "$OUT")"
node "$here/shoot.mjs" "http://127.0.0.1:$PORT" "$TOKEN" "$OUT" /
python3 "$src/tests/e2e/png_not_blank.py" "$OUT"
size=$(stat -c %s "$OUT")
echo "demo_screenshot: $OUT, $size bytes"
[ "$size" -lt 204800 ] || { echo "demo_screenshot: $OUT is over 200 KB" >&2; exit 1; }
