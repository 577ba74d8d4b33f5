#!/usr/bin/env bash
# bench_http: the HTTP API under wrk over loopback, on a workspace with 100,000 sessions.
# Usage: tests/bench/bench_http.sh BUILD_DIR [SESSIONS] [SECONDS]
#
# The workspace: gen-org people, their survey, one match run, every proposal approved, then
# SESSIONS sessions spread over the approved matches (weekly, from 2027-01-04) inserted by one
# SQL statement: the rows session_insert would write (status planned, the pair's zone), without
# its per-row events, which the listing does not read. The service runs on a 60x clock with a
# Lua job every virtual minute (a job run every second of real time) so the scheduler keeps
# working during the load; the bench checks it did. The load starts after the first wake (the
# built-in jobs' first runs) is over.
#
# In the same run, each for SECONDS (default 10) with wrk (1 thread, 50 keep-alive
# connections), one after the other:
#   healthz   GET /healthz
#   sessions  GET /api/v1/sessions?program=P&limit=50 with a read token (wrk sends no
#             If-None-Match: every answer is a full 200 with its body; the token is checked
#             on each; the page itself comes from http/cache.c while the database does not
#             change and for at most 1 s, so it is rebuilt about once a second, and at every
#             job run, which commits)
# Before the load, the cost of building a page: 40 distinct pages (following next), each
# asked once, one at a time; the mean and median latency.
# Prints req/s and p99 of each, the ratio sessions/healthz, and the targets (ratio >= 0.5,
# sessions >= 20,000 req/s, p99 < 10 ms) with MET / NOT MET. wrk shares the machine's cores
# with the server. Exits 0 even when a target is not met; non-zero only when something fails.
set -euo pipefail

BUILD=${1:?usage: bench_http.sh BUILD_DIR [SESSIONS] [SECONDS]}
NSESS=${2:-100000}
SECS=${3:-10}
TANDEM="$BUILD/tandem"
P=digital-2027
[ -x "$TANDEM" ] || { echo "bench_http: no tandem binary in $BUILD" >&2; exit 1; }
command -v wrk >/dev/null || { echo "bench_http: wrk not found (scripts/deps.sh --bench)" >&2; exit 1; }

TMP=$(mktemp -d "${TMPDIR:-/tmp}/bench_http.XXXXXX")
PID=
trap '[ -n "$PID" ] && kill -TERM $PID 2>/dev/null; wait 2>/dev/null; rm -rf "$TMP"' EXIT
WS=$TMP/ws
DB=$WS/tandem.db
"$TANDEM" init "$WS" >/dev/null
"$TANDEM" gen-org --people 1000 --seed 3 --out "$WS/people.csv" --survey $P --survey-out "$WS/survey.csv"
"$TANDEM" -C "$WS" import people "$WS/people.csv" >/dev/null
"$TANDEM" -C "$WS" import enrollments "$WS/survey.csv" --program $P >/dev/null
"$TANDEM" -C "$WS" match run --program $P >/dev/null
"$TANDEM" -C "$WS" match approve --all --program $P >/dev/null
NM=$(sqlite3 "$DB" "SELECT count(*) FROM matches WHERE status='approved'")
PER=$(((NSESS + NM - 1) / NM))
t0=$(date +%s.%N)
sqlite3 "$DB" "
  WITH RECURSIVE k(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM k WHERE n + 1 < $PER),
  m AS (SELECT m.id, p.timezone AS zone, row_number() OVER (ORDER BY m.id) AS r
        FROM matches m JOIN people p ON p.id = m.mentee_id WHERE m.status = 'approved')
  INSERT INTO sessions (match_id, starts_at, duration_min, timezone, planned_by, agenda,
                        created_at, updated_at)
  SELECT m.id, strftime('%Y-%m-%dT%H:%M:%SZ', '2027-01-04 08:00:00',
                        '+' || (k.n * 7) || ' days', '+' || (m.r % 480) || ' minutes'),
         45, m.zone, 'weekly', '[]', '2027-01-01T00:00:00Z', '2027-01-01T00:00:00Z'
  FROM m, k ORDER BY m.r, k.n LIMIT $NSESS;"
t1=$(date +%s.%N)
GOT=$(sqlite3 "$DB" "SELECT count(*) FROM sessions")
printf 'workspace: %d people, %d approved matches, %d sessions (inserted in %.1f s)\n' \
  "$(sqlite3 "$DB" 'SELECT count(*) FROM people')" "$NM" "$GOT" "$(echo "$t1 - $t0" | bc -l)"

cat >"$WS/scripts/tick.lua" <<'LUA'
return tandem.job{ name = "tick", version = "1.0.0", api = 1, schedule = "every 1m",
  run = function(ctx) return { {event = {kind = "custom.tick", payload = {v = 1}}} } end }
LUA
TOKEN=$("$TANDEM" -C "$WS" tokens create bench --scope read --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
"$TANDEM" -C "$WS" serve --http 127.0.0.1:0 --time-scale 60 2>"$TMP/serve.log" &
PID=$!
for _ in $(seq 1 600); do grep -q "next wake at" "$TMP/serve.log" && break; sleep 0.1; done
PORT=$(sed -n 's/.*http: listening on .* (port \([0-9]*\)).*/\1/p' "$TMP/serve.log" | head -1)
[ -n "$PORT" ] || { echo "bench_http: the server did not start" >&2; cat "$TMP/serve.log" >&2; exit 1; }
B=http://127.0.0.1:$PORT
SURL="$B/api/v1/sessions?program=$P&limit=50"
N50=$(curl -s --max-time 10 -H "Authorization: Bearer $TOKEN" "$SURL" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["data"]))')
[ "$N50" = 50 ] || { echo "bench_http: the sessions page has $N50 rows, not 50" >&2; exit 1; }

ticks() { sqlite3 "$DB" "SELECT count(*) FROM events WHERE kind = 'custom.tick'"; }
# load NAME URL [HEADER]: wrk's req/s and p99 (ms) into NAME_rps, NAME_p99.
load() {
  local name=$1 url=$2; shift 2
  wrk -t1 -c50 -d"${SECS}s" --latency "$@" "$url" >"$TMP/wrk.$name" 2>&1
  local rps p99
  rps=$(awk '/^Requests\/sec:/ { print $2 }' "$TMP/wrk.$name")
  p99=$(awk '$1 == "99%" { v = $2; if (v ~ /us$/) { sub(/us$/, "", v); v /= 1000 }
                          else if (v ~ /ms$/) sub(/ms$/, "", v);
                          else if (v ~ /s$/) { sub(/s$/, "", v); v *= 1000 } print v }' "$TMP/wrk.$name")
  if grep -q "Non-2xx" "$TMP/wrk.$name"; then
    echo "bench_http: $name: non-2xx answers:" >&2; cat "$TMP/wrk.$name" >&2; exit 1
  fi
  printf -v "${name}_rps" '%s' "$rps"
  printf -v "${name}_p99" '%s' "$p99"
}
# Pages built, not kept: 40 distinct pages, each asked once (following next), one at a time.
cold=$(python3 - "$B" "$SURL" "$TOKEN" <<'PY'
import json, sys, time, urllib.request
base, url, tok = sys.argv[1:]
times = []
for _ in range(40):
    req = urllib.request.Request(url, headers={"Authorization": "Bearer " + tok})
    t = time.perf_counter()
    body = urllib.request.urlopen(req, timeout=30).read()
    times.append(time.perf_counter() - t)
    url = base + json.loads(body)["next"]
times.sort()
print("%.2f %.2f" % (1000 * sum(times) / len(times), 1000 * times[len(times) // 2]))
PY
)
k0=$(ticks)
load healthz "$B/healthz"
load sessions "$SURL" -H "Authorization: Bearer $TOKEN"
k1=$(ticks)

ratio=$(echo "$sessions_rps / $healthz_rps" | bc -l)
met() { if [ "$(echo "$1" | bc -l)" = 1 ]; then echo MET; else echo "NOT MET"; fi; }
printf 'healthz:  %10.0f req/s  p99 %6.2f ms\n' "$healthz_rps" "$healthz_p99"
printf 'sessions: %10.0f req/s  p99 %6.2f ms  (limit=50 of %d sessions)\n' "$sessions_rps" "$sessions_p99" "$GOT"
read -r cold_mean cold_median <<<"$cold"
printf 'sessions, pages built (40 distinct pages, one request at a time): mean %s ms, median %s ms\n' \
  "$cold_mean" "$cold_median"
printf 'ratio sessions/healthz: %.2f (target >= 0.5: %s)\n' "$ratio" "$(met "$ratio >= 0.5")"
printf 'sessions throughput: target >= 20000 req/s: %s; p99 < 10 ms: %s\n' \
  "$(met "$sessions_rps >= 20000")" "$(met "$sessions_p99 < 10")"
printf 'scheduler during the load: %d job runs (one a second of real time is due)\n' $((k1 - k0))
[ $((k1 - k0)) -gt 0 ] || { echo "bench_http: no job ran during the load" >&2; exit 1; }
kill -TERM $PID; wait $PID; PID=
