#!/usr/bin/env bash
# End-to-end: the built-in `streaks` rule returns a badge at the event where it is reached
# (not at every later session), and its ledger is the one the rule that returned every
# badge already reached made (the award key ignored the repeats). Two workspaces replay the
# same random histories, step by step as the core writes them (a session's status and
# updated_at, then its session.held / session.missed event, the store's clock moving 0-3 s
# a step so that ties and near-ties happen), with dispatches in between: workspace A has
# that earlier rule as a workspace file (which replaces the built-in), B the built-in.
# Sessions are recorded out of order (late check-ins) and missed ones corrected to held.
# The two ledgers of `streaks` must be identical: keys, people, badges, reasons and the
# events that earned them.
. "$(dirname "$0")/lib.sh"

T=$TANDEM
PY=/usr/bin/python3
A=$(new_ws) || exit 1
B=$(new_ws) || exit 1
mkdir -p "$A/plugins/rewards"
# The rule as it was before it returned only what an event reaches.
cat >"$A/plugins/rewards/streaks.lua" <<'LUA'
local LEVELS = { 3, 6, 12 }
local function streak_at(sessions, session_id)
  local n = 0
  for _, s in ipairs(sessions) do
    if s.status == "held" then n = n + 1 elseif s.status == "missed" then n = 0 end
    if s.id == session_id then return n end
  end
  return 0
end
return tandem.reward{ name = "streaks", version = "1.0.0", api = 1,
  on = { ["session.held"] = function(ev, ctx)
    local m = ev.match
    if not m or not m.sessions then return nil end
    local n = streak_at(m.sessions, ev.payload.session)
    local grants = {}
    for _, level in ipairs(LEVELS) do
      if n >= level then
        for _, who in ipairs({ m.mentor_id, m.mentee_id }) do
          grants[#grants + 1] = { person_id = who, badge = "streak-" .. level,
            reason = level .. " sessions in a row", key = "streak-" .. level .. ":" .. m.id .. ":" .. who }
        end
      end
    end
    return grants
  end } }
LUA

# The replay: PAIRS pairs of 16 weekly sessions; STEPS random steps, identical in A and B.
"$PY" - "$T" "$A" "$B" >"$E2E_TMP/replay.out" 2>&1 <<'PY'
import random, sqlite3, subprocess, sys, datetime
T, A, B = sys.argv[1:4]
PAIRS, SESSIONS, STEPS = 12, 16, 900
dbs = [sqlite3.connect(ws + "/tandem.db", isolation_level=None) for ws in (A, B)]
for db in dbs:
    db.executescript(f"""
      BEGIN;
      INSERT INTO programs (name, created_at) VALUES ('replay', 't');
      WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {2 * PAIRS})
      INSERT INTO people (id, external_id, name, email, timezone, created_at, updated_at)
      SELECT i, 'E' || i, 'P' || i, 'p' || i || '@x.example', 'UTC', 't', 't' FROM n;
      WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {PAIRS})
      INSERT INTO matches (id, program_id, mentor_id, mentee_id, status, created_at)
      SELECT i, (SELECT id FROM programs WHERE name = 'replay'), i, {PAIRS} + i, 'active', 't' FROM n;
      WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < {PAIRS * SESSIONS - 1})
      INSERT INTO sessions (id, match_id, starts_at, duration_min, timezone, planned_by, status,
                            created_at, updated_at)
      SELECT i + 1, 1 + i / {SESSIONS}, strftime('%Y-%m-%dT%H:%M:%SZ', '2026-01-05',
             '+' || (7 * (i % {SESSIONS})) || ' days'), 30, 'UTC', 'x', 'planned', 't',
             '2026-01-01T00:00:00Z' FROM n;
      COMMIT;""")
rnd = random.Random(20261207)
clock = datetime.datetime(2026, 1, 5, 12, 0, 0)
status = {}  # session id -> status
def iso(t): return t.strftime("%Y-%m-%dT%H:%M:%SZ")
def set_status(sid, to):
    global clock
    at1 = iso(clock)
    if rnd.random() < 0.15:  # the event's clock read crosses a second
        clock += datetime.timedelta(seconds=1)
    at2 = iso(clock)
    m = (sid - 1) // SESSIONS + 1
    for db in dbs:
        db.execute("BEGIN")
        db.execute("UPDATE sessions SET status = ?, updated_at = ? WHERE id = ?", (to, at1, sid))
        db.execute("INSERT INTO events (at, kind, program_id, payload) VALUES (?, ?, "
                   "(SELECT id FROM programs WHERE name = 'replay'), "
                   "json_object('session', ?, 'match', ?, 'starts_at', "
                   "(SELECT starts_at FROM sessions WHERE id = ?)))",
                   (at2, "session." + to, sid, m, sid))
        db.execute("COMMIT")
    status[sid] = to
def dispatch():
    for ws in (A, B):
        r = subprocess.run([T, "-C", ws, "rewards", "dispatch", "--rule", "streaks"],
                           capture_output=True, text=True)
        if r.returncode != 0:
            sys.exit(f"dispatch in {ws}: exit {r.returncode}: {r.stderr}")
dispatches = 0
for step in range(STEPS):
    clock += datetime.timedelta(seconds=rnd.choice([0, 0, 1, 1, 2, 3]))
    m = rnd.randrange(PAIRS)
    ids = [m * SESSIONS + k + 1 for k in range(SESSIONS)]
    planned = [s for s in ids if s not in status]
    missed = [s for s in ids if status.get(s) == "missed"]
    r = rnd.random()
    if r < 0.08 and missed:
        set_status(rnd.choice(missed), "held")          # a missed one corrected to held
    elif planned:
        # mostly the earliest planned session (in time), sometimes a later one first
        k = 0 if rnd.random() < 0.7 else rnd.randrange(len(planned))
        set_status(planned[k], "missed" if rnd.random() < 0.1 else "held")
    if rnd.random() < 0.12:
        dispatch(); dispatches += 1
dispatch(); dispatches += 1
held = sum(1 for v in status.values() if v == "held")
print(f"replayed {STEPS} steps, {held} sessions held, {dispatches} dispatches")
PY
RC=$?
[ "$RC" = 0 ] && ok replay || fail replay "$(tail -c 600 "$E2E_TMP/replay.out")"
ledger() {
  sqlite3 "$1/tandem.db" "SELECT award_key, person_id, badge, points, reason, event_id FROM rewards
                          WHERE plugin = 'streaks' ORDER BY award_key"
}
ledger "$A" >"$E2E_TMP/a.ledger"
ledger "$B" >"$E2E_TMP/b.ledger"
NA=$(wc -l <"$E2E_TMP/a.ledger")
# Enough badges to mean something: most pairs reach streak-3, some streak-6.
[ "$NA" -ge 20 ] && grep -q "streak-6" "$E2E_TMP/a.ledger" && ok ledger-not-trivial \
  || fail ledger-not-trivial "$NA rows: $(head -c 300 "$E2E_TMP/a.ledger")"
cmp -s "$E2E_TMP/a.ledger" "$E2E_TMP/b.ledger" && ok ledger-identical \
  || fail ledger-identical "$(diff "$E2E_TMP/a.ledger" "$E2E_TMP/b.ledger" | head -20)"
# The built-in returns fewer entries: each (pair, level) at most at a few events, where
# the earlier rule returned it at every later held session of the streak.
EA=$(sqlite3 "$A/tandem.db" "SELECT count(*) FROM events WHERE kind = 'session.held'")
[ "$EA" -ge 150 ] && ok enough-events || fail enough-events "$EA session.held events"
echo "$(cat "$E2E_TMP/replay.out"); $NA streak badges"

echo "$E2E_PASS passed, $E2E_FAIL failed"
[ "$E2E_FAIL" -eq 0 ]
