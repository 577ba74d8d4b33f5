#!/usr/bin/env bash
# bench_soak: `tandem serve --http` under a long mixed load, loopback only, bounded in time.
# Usage: tests/bench/bench_soak.sh BUILD_DIR   (SOAK_SECONDS, default 600: the load's length)
#
# The workspace: gen-org's 1,000 people, one match run approved, 20,000 sessions (as
# bench_http.sh builds them), a read token; the service on a 60x clock with a Lua job every
# virtual minute, so the scheduler commits about once a second all along.
# For SOAK_SECONDS, at the same time:
#   wrk        1 thread, 50 keep-alive connections, GET /api/v1/sessions?program=P&limit=50
#   idle       500 connections that send nothing; the server closes them after its idle
#              timeout (30 s) and the client opens them again at once (500 held throughout)
#   mixed      ~100 requests/s, each on a new connection: 99 % valid reads (people pages,
#              sessions, events, healthz) that must answer 200, and 1 % bad ones in turn:
#              malformed (a request line or header MHD cannot parse), oversized (a body whose
#              Content-Length is over 1 MiB, a 100 KiB URL), slow (slowloris: a header line one
#              byte a second, up to 45 s, until the server closes it)
# Every 5 s: the server's VmRSS from /proc/PID/status, and the valid reads answered in that
# window. Prints RSS first (once the whole load has run max(30 s, a tenth of the soak))/last
# (the last while wrk ran)/max and whether max and last are within 5 % of first, and every sample; wrk's req/s, p99 and errors; the mixed client's counts, its emptiest
# 5-second window (> 0: other clients were served throughout) and what the bad requests got.
# Exits 1 when the server died or a valid read failed; over-target RSS is reported, not fatal.
set -euo pipefail

BUILD=${1:?usage: bench_soak.sh BUILD_DIR}
SECS=${SOAK_SECONDS:-600}
TANDEM="$BUILD/tandem"
P=digital-2027
[ -x "$TANDEM" ] || { echo "bench_soak: no tandem binary in $BUILD" >&2; exit 1; }
command -v wrk >/dev/null || { echo "bench_soak: wrk not found (scripts/deps.sh --bench)" >&2; exit 1; }
[ "$SECS" -ge 30 ] || { echo "bench_soak: SOAK_SECONDS must be 30 or more" >&2; exit 1; }

TMP=$(mktemp -d "${TMPDIR:-/tmp}/bench_soak.XXXXXX")
PID=
KIDS=()
cleanup() {
  local k
  for k in "${KIDS[@]}"; do kill "$k" 2>/dev/null || true; done
  [ -n "$PID" ] && kill -TERM "$PID" 2>/dev/null
  wait 2>/dev/null
  rm -rf "$TMP"
}
trap cleanup EXIT
WS=$TMP/ws
DB=$WS/tandem.db
"$TANDEM" init "$WS" >/dev/null
"$TANDEM" gen-org --people 1000 --seed 3 --out "$WS/people.csv" --survey $P --survey-out "$WS/survey.csv" >/dev/null
"$TANDEM" -C "$WS" import people "$WS/people.csv" >/dev/null
"$TANDEM" -C "$WS" import enrollments "$WS/survey.csv" --program $P >/dev/null
"$TANDEM" -C "$WS" match run --program $P >/dev/null
"$TANDEM" -C "$WS" match approve --all --program $P >/dev/null
sqlite3 "$DB" "
  WITH RECURSIVE k(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM k WHERE n + 1 < 200),
  m AS (SELECT m.id, p.timezone AS zone, row_number() OVER (ORDER BY m.id) AS r
        FROM matches m JOIN people p ON p.id = m.mentee_id WHERE m.status = 'approved')
  INSERT INTO sessions (match_id, starts_at, duration_min, timezone, planned_by, agenda,
                        created_at, updated_at)
  SELECT m.id, strftime('%Y-%m-%dT%H:%M:%SZ', '2027-01-04 08:00:00',
                        '+' || (k.n * 7) || ' days', '+' || (m.r % 480) || ' minutes'),
         45, m.zone, 'weekly', '[]', '2027-01-01T00:00:00Z', '2027-01-01T00:00:00Z'
  FROM m, k ORDER BY m.r, k.n LIMIT 20000;"
cat >"$WS/scripts/tick.lua" <<'LUA'
return tandem.job{ name = "tick", version = "1.0.0", api = 1, schedule = "every 1m",
  run = function(ctx) return { {event = {kind = "custom.tick", payload = {v = 1}}} } end }
LUA
TOKEN=$("$TANDEM" -C "$WS" tokens create soak --scope read --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
"$TANDEM" -C "$WS" serve --http 127.0.0.1:0 --time-scale 60 2>"$TMP/serve.log" &
PID=$!
for _ in $(seq 1 600); do grep -q "next wake at" "$TMP/serve.log" && break; sleep 0.1; done
PORT=$(sed -n 's/.*http: listening on .* (port \([0-9]*\)).*/\1/p' "$TMP/serve.log" | head -1)
[ -n "$PORT" ] || { echo "bench_soak: the server did not start" >&2; cat "$TMP/serve.log" >&2; exit 1; }
B=http://127.0.0.1:$PORT
printf 'workspace: %d people, %d sessions; load for %d s (SOAK_SECONDS); server pid %d, port %d\n' \
  "$(sqlite3 "$DB" 'SELECT count(*) FROM people')" "$(sqlite3 "$DB" 'SELECT count(*) FROM sessions')" \
  "$SECS" "$PID" "$PORT"
ticks() { sqlite3 -cmd ".timeout 5000" "$DB" "SELECT count(*) FROM events WHERE kind = 'custom.tick'"; }
k0=$(ticks)

# RSS every 5 s (seconds since the load started, kB), while the server lives.
T0=$(date +%s)
( while kill -0 "$PID" 2>/dev/null; do
    r=$(awk '/^VmRSS:/ { print $2 }' "/proc/$PID/status" 2>/dev/null || true)
    [ -n "$r" ] && echo "$(($(date +%s) - T0)) $r"
    sleep 5
  done ) >"$TMP/rss" &
KIDS+=($!)

python3 - "$PORT" "$TOKEN" "$SECS" "$P" >"$TMP/mixed.json" 2>"$TMP/mixed.err" <<'PY' &
import asyncio, json, sys, time
port, token, secs, prog = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), sys.argv[4]
auth = "Authorization: Bearer %s\r\n" % token
stats = {"valid_ok": 0, "valid_failed": 0, "failures": [], "windows": [], "idle_reopened": 0,
         "idle_open_min": None, "bad": {}}
window = [0]
idle_open = [0]
start = time.monotonic()
end = start + secs

def bad_result(kind, what):
    d = stats["bad"].setdefault(kind, {})
    d[what] = d.get(what, 0) + 1

async def status_of(reader, limit=30):
    line = await asyncio.wait_for(reader.readline(), limit)
    return line.split(b" ")[1].decode() if line.startswith(b"HTTP/1.1 ") else ("closed" if not line else "junk")

async def idle_conn():
    first = True
    while time.monotonic() < end:
        try:
            r, w = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            await asyncio.sleep(0.5)
            continue
        if not first:
            stats["idle_reopened"] += 1
        first = False
        idle_open[0] += 1
        try:
            await asyncio.wait_for(r.read(), max(0.1, end - time.monotonic()))
        except (asyncio.TimeoutError, OSError):
            pass
        idle_open[0] -= 1
        w.close()

VALID = ["/healthz", "/api/v1/people?limit=20", "/api/v1/sessions?program=%s&limit=20" % prog,
         "/api/v1/events?limit=20", "/api/v1/matches?program=%s&limit=10" % prog]

async def valid(i):
    path = VALID[i % len(VALID)]
    try:
        r, w = await asyncio.open_connection("127.0.0.1", port)
        w.write(("GET %s HTTP/1.1\r\nHost: x\r\n%sConnection: close\r\n\r\n" % (path, auth)).encode())
        s = await status_of(r)
        await asyncio.wait_for(r.read(), 30)
        w.close()
    except Exception as e:
        s = type(e).__name__
    if s == "200":
        stats["valid_ok"] += 1
        window[0] += 1
    else:
        stats["valid_failed"] += 1
        if len(stats["failures"]) < 20:
            stats["failures"].append("%s %s at %.0f s" % (path, s, time.monotonic() - start))

async def bad(kind):
    try:
        r, w = await asyncio.open_connection("127.0.0.1", port)
        if kind == "malformed":
            w.write(b"GET /healthz HTTP/1.1\r\nHost: x\r\nNo colon here\r\n\r\n")
        elif kind == "garbage":
            w.write(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03 not http at all\r\n\r\n")
        elif kind == "oversized-body":
            w.write(("POST /api/v1/feedback HTTP/1.1\r\nHost: x\r\n%sContent-Type: application/json\r\n"
                     "Content-Length: 2000000\r\n\r\n" % auth).encode() + b"{" * 65536)
        elif kind == "long-url":
            w.write(("GET /healthz?x=%s HTTP/1.1\r\nHost: x\r\n\r\n" % ("a" * 100000)).encode())
        elif kind == "slow":
            w.write(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ")
            t0 = time.monotonic()
            while time.monotonic() - t0 < 45 and time.monotonic() < end:
                await asyncio.sleep(1)
                w.write(b"a")
                await w.drain()
                if r.at_eof():
                    break
            bad_result(kind, "closed by server after %d s" % (10 * int((time.monotonic() - t0) / 10)) if r.at_eof() else "gave up")
            w.close()
            return
        await w.drain()
        s = await status_of(r)
        w.close()
    except Exception as e:
        s = type(e).__name__
    bad_result(kind, s)

BAD = ["malformed", "oversized-body", "slow", "garbage", "long-url"]

async def mixed():
    i = 0
    tasks = set()
    next_window = start + 5
    while time.monotonic() < end:
        now = time.monotonic()
        if now >= next_window:
            stats["windows"].append(window[0])
            stats["idle_open_min"] = idle_open[0] if stats["idle_open_min"] is None or now - start < 10 else min(stats["idle_open_min"], idle_open[0])
            window[0] = 0
            next_window += 5
        i += 1
        t = asyncio.ensure_future(bad(BAD[(i // 100) % len(BAD)]) if i % 100 == 0 else valid(i))
        tasks.add(t)
        t.add_done_callback(tasks.discard)
        await asyncio.sleep(0.01)
    await asyncio.gather(*tasks, return_exceptions=True)

async def main():
    idles = [asyncio.ensure_future(idle_conn()) for _ in range(500)]
    await mixed()
    await asyncio.gather(*idles, return_exceptions=True)

asyncio.run(main())
print(json.dumps(stats))
PY
MIXED=$!
KIDS+=($MIXED)
sleep 20 # warm-up: the idle connections open, the caches fill
wrk -t1 -c50 -d"$((SECS - 25))s" --timeout 10s --latency -H "Authorization: Bearer $TOKEN" \
  "$B/api/v1/sessions?program=$P&limit=50" >"$TMP/wrk" 2>&1 || true
wait "$MIXED" || true
k1=$(ticks)
alive=yes
kill -0 "$PID" 2>/dev/null || alive=no

rc=0
python3 - "$TMP/rss" "$TMP/wrk" "$TMP/mixed.json" "$alive" $((k1 - k0)) "$SECS" <<'PY' || rc=$?
import json, re, sys
rss_f, wrk_f, mixed_f, alive, ticks, secs = sys.argv[1:]
# Only the samples taken while the whole load ran: wrk starts 20 s after the idle
# connections and the mixed client and stops 5 s before them (the sampler goes on until the
# server stops, and RSS falls when wrk's connections close: not what is measured). The first
# sample counted is taken once wrk has run for max(30 s, a tenth of the soak).
pairs = [tuple(int(x) for x in l.split()) for l in open(rss_f) if len(l.split()) == 2]
rss = [k for t, k in pairs if t <= int(secs) - 5]
warm = [k for t, k in pairs if 20 + max(30, int(secs) // 10) <= t <= int(secs) - 5]
if len(warm) < 3:
    warm = rss
first, last, peak = warm[0], warm[-1], max(warm)
within = peak <= first * 1.05 and abs(last - first) <= first * 0.05
print("server alive at the end: %s; scheduler: %s job runs during the soak" % (alive, ticks))
print("RSS (every 5 s, %d samples after warm-up): first %.1f MiB, last %.1f MiB, max %.1f MiB: "
      "%s 5%% of first" % (len(warm), first / 1024, last / 1024, peak / 1024, "within" if within else "NOT within"))
print("RSS samples (MiB): " + " ".join("%.1f" % (k / 1024) for k in rss))
w = open(wrk_f).read()
rps = re.search(r"Requests/sec:\s+([\d.]+)", w)
p99 = re.search(r"^\s+99%\s+(\S+)", w, re.M)
total = re.search(r"(\d+) requests in", w)
non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", w)
sock = re.search(r"Socket errors: (.*)", w)
print("wrk sessions page: %s req/s, p99 %s, %s requests, non-2xx %s, socket errors: %s" % (
    rps.group(1) if rps else "?", p99.group(1) if p99 else "?", total.group(1) if total else "?",
    non2xx.group(1) if non2xx else 0, sock.group(1) if sock else "none"))
try:
    m = json.load(open(mixed_f))
except Exception:
    print("mixed client: no report"); sys.exit(1)
win = m["windows"][1:] or [0]
print("mixed client: %d valid reads answered 200, %d failed; fewest in a 5-s window: %d (of %d windows); "
      "idle connections held: at least %s of 500 after warm-up, reopened %d times after the server's idle timeout" % (
    m["valid_ok"], m["valid_failed"], min(win), len(win), m["idle_open_min"], m["idle_reopened"]))
for f in m["failures"]:
    print("  failed:", f)
for kind, got in sorted(m["bad"].items()):
    print("  bad %-15s %s" % (kind, ", ".join("%s x%d" % kv for kv in sorted(got.items()))))
print("valid reads answered per 5-s window: " + " ".join(str(x) for x in m["windows"]))
ok = alive == "yes" and m["valid_failed"] == 0 and min(win) > 0 and not non2xx
print("served throughout: %s" % ("yes" if ok else "NO"))
sys.exit(0 if ok else 1)
PY
kill -TERM "$PID"; wait "$PID" || rc=1; PID=
grep -E " (warn|warning|error): |http: " "$TMP/serve.log" | tail -8
exit $rc
