#!/usr/bin/env bash
# bench_rewards: event dispatch to three reward rules (issue 10: >= 20,000 events/s).
# A workspace with N held sessions (default 100,000) over N/50 active pairs of 50 people
# each side, one session.held event each, in time order (the pairs' sessions interleave
# as a real log's do), and three rules listening to session.held: the built-ins
# session_points and streaks, and a third points rule with its own keys. Times
# `tandem rewards dispatch` end to end (rules loaded, every event built, run in the
# rules' workers, every grant written with its reward.granted event) and prints
# events/s = N / seconds, wall and CPU, and their ratios to the target. Then dispatches again (nothing new)
# and checks the ledger: exactly 4 grants per session (2 + 2), 2 streak badges per pair
# per level reached.
# Usage: tests/bench/bench_rewards.sh BUILD_DIR [N]. Exits 0 even when under target.
set -euo pipefail

BUILD=${1:?usage: bench_rewards.sh BUILD_DIR [N]}
N=${2:-100000}
T="$BUILD/tandem"
[ -x "$T" ] || { echo "bench_rewards: no tandem binary in $BUILD" >&2; exit 1; }
TMP=$(mktemp -d "${TMPDIR:-/tmp}/bench_rewards.XXXXXX")
[ -n "${BENCH_KEEP:-}" ] || trap 'rm -rf "$TMP"' EXIT
WS=$TMP/ws
"$T" init "$WS" >/dev/null
PAIRS=$(( (N + 49) / 50 ))
echo "== bench_rewards: $N session.held events over $PAIRS pairs, 3 reward rules"
sqlite3 "$WS/tandem.db" "
PRAGMA synchronous=OFF;
BEGIN;
INSERT INTO programs (name, created_at) VALUES ('bench', 't');
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2 * $PAIRS)
INSERT INTO people (id, external_id, name, email, timezone, created_at, updated_at)
SELECT i, 'E' || i, 'Person ' || i, 'p' || i || '@bench.example', 'UTC', 't', 't' FROM n;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $PAIRS)
INSERT INTO matches (id, program_id, mentor_id, mentee_id, status, created_at)
SELECT i, (SELECT id FROM programs WHERE name = 'bench'), i, $PAIRS + i, 'active', 't' FROM n;
WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < $N - 1)
INSERT INTO sessions (id, match_id, starts_at, duration_min, timezone, planned_by, status, created_at, updated_at)
SELECT i + 1, 1 + (i % $PAIRS), strftime('%Y-%m-%dT%H:%M:%SZ', '2021-01-01', '+' || (i / $PAIRS) || ' days', '+' || (i % 1440) || ' minutes'),
       30, 'UTC', 'bench', 'held', 't', 't' FROM n;
-- A held session's updated_at is when it was recorded held (the rules read it as status_at):
-- an hour after it started.
UPDATE sessions SET updated_at = strftime('%Y-%m-%dT%H:%M:%SZ', starts_at, '+1 hours');
INSERT INTO events (at, kind, program_id, payload)
SELECT '2026-01-01T00:00:00Z', 'session.held', (SELECT id FROM programs WHERE name = 'bench'), json_object('session', id, 'match', match_id, 'starts_at', starts_at)
FROM sessions ORDER BY id;
COMMIT;"
mkdir -p "$WS/plugins/rewards"
cat >"$WS/plugins/rewards/bench_points.lua" <<'LUA'
return tandem.reward{ name = "bench_points", version = "1.0.0", api = 1,
  on = { ["session.held"] = function(ev, ctx)
    local m = ev.match
    return { { person_id = m.mentor_id, points = 5, reason = "bench", key = "s" .. ev.payload.session .. ":a" },
             { person_id = m.mentee_id, points = 5, reason = "bench", key = "s" .. ev.payload.session .. ":b" } }
  end } }
LUA
# Wall seconds and CPU seconds (user + system, the rules' workers included): on a shared
# machine the CPU figure is the steadier one; both are printed with their ratio.
/usr/bin/time -f '%e %U %S' -o "$TMP/time" "$T" -C "$WS" rewards dispatch >"$TMP/out" 2>"$TMP/err" \
  || { cat "$TMP/err" >&2; exit 1; }
cat "$TMP/out"
/usr/bin/python3 - "$N" "$TMP/time" <<'PY'
import sys
n = int(sys.argv[1])
wall, user, system = (float(x) for x in open(sys.argv[2]).read().split()[-3:])
cpu = user + system
load = open("/proc/loadavg").read().split()[0]
print(f"dispatch: {n} events to 3 rules in {wall:.2f} s wall = {n / wall:,.0f} events/s "
      f"(target 20,000: ratio {n / wall / 20000:.2f}); {cpu:.2f} s CPU = {n / cpu:,.0f} events/s "
      f"per CPU second (ratio {n / cpu / 20000:.2f}); load average {load}")
PY
t0=$(date +%s.%N)
"$T" -C "$WS" rewards dispatch >/dev/null
t1=$(date +%s.%N)
echo "again (nothing new): $(/usr/bin/python3 -c "print(f'{$t1 - $t0:.2f}')") s"
G=$(sqlite3 "$WS/tandem.db" "SELECT count(*) FROM rewards WHERE plugin IN ('session_points', 'bench_points')")
[ "$G" = $((4 * N)) ] && echo "ledger: $G point grants (4 per session): ok" || { echo "ledger: $G point grants, want $((4 * N))" >&2; exit 1; }
S=$(sqlite3 "$WS/tandem.db" "SELECT count(*) FROM rewards WHERE plugin = 'streaks'")
[ "$S" = $((6 * PAIRS)) ] && echo "ledger: $S streak badges (3 levels x 2 sides per pair): ok" || { echo "ledger: $S streak badges, want $((6 * PAIRS))" >&2; exit 1; }
