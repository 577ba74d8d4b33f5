#!/usr/bin/env bash
# End-to-end: cadences through the CLI. The built-in cadence plugins pass `plugins check`
# and `programs check` finds the template's; a workspace is seeded (gen-org, import,
# match run, approve, activate) and `sessions plan` plans every active pair by the
# program's cadence: never in the past, within the horizon, inside both people's working
# hours in their own zones, two weeks apart (biweekly), pairs without a shared slot named
# with the reason; planning again changes nothing; --json; the cadence derived from
# sessions_per_month; a workspace cadence returning bad values reported per pair with
# FILE:LINE; usage errors.
. "$(dirname "$0")/lib.sh"

T=$TANDEM
P=digital-2027
PY=/usr/bin/python3

for f in weekly biweekly monthly taper after_miss; do
  run "$T" plugins check "$TANDEM_SRCDIR/plugins/cadences/$f.lua"
  expect_rc "builtin $f checks" 0
done

WS=$(new_ws) || exit 1
DB=$WS/tandem.db
q() { sqlite3 "$DB" "$1"; }
run "$T" -C "$WS" programs check
expect_rc "template cadence found" 0
expect_out "template cadence found text" "1 program checked"
# A notifier that does not exist: named with tandem.lua's line, exit 1; a built-in passes.
cp "$WS/tandem.lua" "$E2E_TMP/tandem.lua.good"
sed -i 's|timezone = "Europe/Paris",|timezone = "Europe/Paris",\n  notify = "pigeon",|' "$WS/tandem.lua"
NL=$(grep -n 'notify = "pigeon"' "$WS/tandem.lua" | cut -d: -f1)
run "$T" -C "$WS" programs check
expect_rc "unknown notifier" 1
expect_err "unknown notifier text" "tandem.lua:$NL: workspace: field 'notify': no notifier named 'pigeon'"
sed -i 's|notify = "pigeon"|notify = "jsonl"|' "$WS/tandem.lua"
run "$T" -C "$WS" programs check
expect_rc "built-in notifier" 0
cp "$E2E_TMP/tandem.lua.good" "$WS/tandem.lua"

# The program started long ago and ends far ahead: the horizon is what clips.
sed -i -e 's/starts = "[0-9-]*"/starts = "2020-01-06"/' -e 's/ends = "[0-9-]*"/ends = "2099-12-31"/' "$WS/tandem.lua"
seed_pairs "$WS" $P 120 11
NACT=$(q "SELECT count(*) FROM matches WHERE status = 'active'")
[ "$NACT" -ge 5 ] && ok "active pairs" || fail "active pairs" "$NACT"

NOW=$(date -u +%s)
run "$T" -C "$WS" sessions plan --program $P
expect_rc plan 0
expect_out "plan cadence" "program $P: cadence biweekly (tandem.lua)"
expect_out "plan pairs" "$NACT active pairs:"
NS=$(q "SELECT count(*) FROM sessions")
expect_out "plan count" "$NS sessions planned, 0 already there"
[ "$NS" -gt 0 ] && ok "sessions planned" || fail "sessions planned" "none"
[ "$(q "SELECT count(DISTINCT planned_by) || planned_by FROM sessions")" = "1biweekly" ] &&
  ok "planned_by" || fail "planned_by" "$(q "SELECT DISTINCT planned_by FROM sessions")"

# Never in the past, never beyond 8 weeks; two weeks apart (an hour either way across a DST
# change); inside both people's working hours (09:00-20:00) on their own clocks.
$PY - "$DB" "$NOW" >"$E2E_TMP/checks" 2>&1 <<'PY'
import sqlite3, sys, datetime, zoneinfo
db, now = sys.argv[1], int(sys.argv[2])
c = sqlite3.connect(db)
rows = c.execute("""SELECT s.match_id, s.starts_at, s.duration_min, a.timezone, b.timezone
  FROM sessions s JOIN matches m ON m.id = s.match_id JOIN people a ON a.id = m.mentor_id
  JOIN people b ON b.id = m.mentee_id ORDER BY s.match_id, s.starts_at""").fetchall()
bad, last = [], {}
for mid, at, dur, za, zb in rows:
    t = datetime.datetime.strptime(at, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=datetime.timezone.utc)
    ts = int(t.timestamp())
    if ts < now - 120: bad.append(f"past {mid} {at}")
    if ts >= now + 56 * 86400 + 120: bad.append(f"beyond horizon {mid} {at}")
    for z in (za, zb):
        lt = t.astimezone(zoneinfo.ZoneInfo(z))
        end = lt + datetime.timedelta(minutes=dur)
        if lt.hour < 9 or (end.hour, end.minute) > (20, 0) or end.date() != lt.date():
            bad.append(f"outside working hours {mid} {at} {z} {lt}")
    if mid in last and abs(ts - last[mid] - 14 * 86400) > 3600:
        bad.append(f"not biweekly {mid} {at}")
    last[mid] = ts
print("\n".join(bad) if bad else "ok")
PY
[ "$(cat "$E2E_TMP/checks")" = "ok" ] && ok "session times" || fail "session times" "$(head -5 "$E2E_TMP/checks")"

# Pairs without a session are named, with the reason ("N pairs could not be planned:"); the
# others all got one.
NONE=$(q "SELECT count(*) FROM matches m WHERE status = 'active' AND NOT EXISTS
  (SELECT 1 FROM sessions s WHERE s.match_id = m.id)")
if [ "$NONE" -gt 0 ]; then
  expect_out "unplanned header" "$NONE pair$([ "$NONE" = 1 ] || echo s) could not be planned:"
  N1=$(grep -c ": no shared slot: " "$OUT")
  [ "$N1" = "$NONE" ] && ok "unplanned listed" || fail "unplanned listed" "$N1 of $NONE"
else
  ok "unplanned header"; ok "unplanned listed"
fi

# Planning again changes nothing.
D1=$(db_digest "$WS")
run "$T" -C "$WS" sessions plan --program $P --json
expect_rc "replan" 0
[ "$(db_digest "$WS")" = "$D1" ] && ok "replan unchanged" || fail "replan unchanged" "database changed"
$PY - "$OUT" "$NS" "$NONE" >"$E2E_TMP/checks" 2>&1 <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
ok = (d["planned"] == 0 and d["existing"] == int(sys.argv[2]) and d["cancelled"] == 0
      and len(d["unplanned"]) == int(sys.argv[3]) and d["cadence"] == "biweekly"
      and d["cadence_from"] == "program"
      and all(set(u) == {"match", "mentor", "mentee", "reason"} for u in d["unplanned"]))
print("ok" if ok else d)
PY
[ "$(cat "$E2E_TMP/checks")" = "ok" ] && ok "replan json" || fail "replan json" "$(cat "$E2E_TMP/checks")"
run "$T" -C "$WS" sessions list --program $P --json
[ "$($PY -c 'import json,sys; print(len(json.load(open(sys.argv[1]))))' "$OUT")" = "$NS" ] &&
  ok "list planned" || fail "list planned" "$(head -c 300 "$OUT")"

# The service's plan-sessions job at the same moment says what `sessions plan` says (it plans
# only the pairs whose plan can have changed: none here, yet it counts the others' sessions).
run "$T" -C "$WS" jobs run plan-sessions
expect_rc "plan-sessions job" 0
expect_out "plan-sessions job: as sessions plan says" \
  "{\"planned\":0,\"existing\":$NS,\"cancelled\":0,\"pairs\":$NACT,"
expect_out "plan-sessions job: the unplanned pairs" "\"unplanned\":$NONE,\"refused\":0,\"cancelled_cadence_changed\":0,\"programs\":1,\"skipped\":[]}"

# No cadence in tandem.lua: sessions_per_month decides (4 -> weekly).
sed -i -e 's/^  cadence = "biweekly",//' -e 's/sessions_per_month = 2/sessions_per_month = 4/' "$WS/tandem.lua"
run "$T" -C "$WS" sessions plan --program $P --horizon 3w
expect_rc "derived plan" 0
expect_out "derived cadence" "cadence weekly (from sessions_per_month)"
W=$(q "SELECT count(*) FROM sessions WHERE planned_by = 'weekly'")
[ "$W" -gt 0 ] && ok "weekly planned" || fail "weekly planned" "none"
[ "$(q "SELECT count(*) FROM sessions WHERE status = 'cancelled'")" = 0 ] &&
  ok "biweekly instants are weekly's: none cancelled" || fail "biweekly instants are weekly's: none cancelled" "cancelled rows"

# A workspace cadence that returns bad values: every pair reported, at the hook's line.
mkdir -p "$WS/plugins/cadences"
cat >"$WS/plugins/cadences/broken.lua" <<'LUA'
return tandem.cadence{
  name = "broken", version = "1.0.0", api = 1,
  plan = function(pair, history, ctx)
    return { { start = "2027-02-30T10:00" } }
  end,
}
LUA
sed -i 's/^  policy = \(.*\)$/  policy = \1\n  cadence = "broken",/' "$WS/tandem.lua"
run "$T" -C "$WS" sessions plan --program $P
expect_rc "broken plan exit" 0
expect_out "broken cadence" "cadence broken (tandem.lua)"
expect_out "broken message" "plugins/cadences/broken.lua:3: plan returned a bad session 1: field 'start': bad time '2027-02-30T10:00': no such date or time"
NB=$(grep -c "broken.lua:3: plan returned a bad session 1" "$OUT")
[ "$NB" = "$NACT" ] && ok "broken per pair" || fail "broken per pair" "$NB of $NACT"

# Usage and refusals.
run "$T" -C "$WS" sessions plan
expect_rc "no program" 2
expect_err "no program message" "--program P is required"
run "$T" -C "$WS" sessions plan --program $P --horizon 2x
expect_rc "bad horizon" 2
expect_err "bad horizon message" "--horizon wants Nw or Nd (1 day to 520 weeks), got '2x'"
run "$T" -C "$WS" sessions plan --program nosuch
expect_rc "unknown program" 1
expect_err "unknown program message" "no program named 'nosuch'"
sed -i 's/cadence = "broken"/cadence = "nowhere"/' "$WS/tandem.lua"
run "$T" -C "$WS" sessions plan --program $P
expect_rc "missing cadence" 1
expect_err "missing cadence message" "program '$P': cadence 'nowhere': no cadence named 'nowhere'"
run "$T" sessions plan --help
expect_rc "plan help" 0
expect_out "plan help text" "usage: tandem sessions plan --program P [--horizon 8w|56d] [--json]"

finish
