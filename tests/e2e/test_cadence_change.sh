#!/usr/bin/env bash
# End-to-end: changing a program's `cadence` in tandem.lua. The sessions the previous cadence
# planned are replanned as the new one's own (docs/plugin-api.md, "Replanning"): biweekly ->
# weekly keeps the biweekly sessions (weekly has their instants) and adds the others; weekly
# -> biweekly cancels the weekly-only ones more than 24 hours away ("... (the program's cadence
# changed)", counted apart in the text and --json), so the pairs meet every two weeks again; a
# cadence with other instants (a plugin rule) cancels the old series instead of doubling it.
# Held and missed sessions, sessions moved by hand and the next 24 hours are never touched; a
# reminded session cancelled that way gets its calendar update; the service's plan-sessions
# job counts the same.
. "$(dirname "$0")/lib.sh"

T=$TANDEM
P=digital-2027
PY=/usr/bin/python3
WS=$(new_ws) || exit 1
DB=$WS/tandem.db
q() { sqlite3 "$DB" "$1"; }
sed -i -e 's/starts = "[0-9-]*"/starts = "2020-01-06"/' -e 's/ends = "[0-9-]*"/ends = "2099-12-31"/' "$WS/tandem.lua"
grep -q 'cadence = "biweekly"' "$WS/tandem.lua" && ok template-biweekly || fail template-biweekly "$(grep cadence "$WS/tandem.lua")"
seed_pairs "$WS" $P 120 11 || { finish; exit; }
cadence() { sed -i "s/cadence = \"[a-z0-9_]*\"/cadence = \"$1\"/" "$WS/tandem.lua"; }
planned_by() { q "SELECT coalesce(group_concat(planned_by || ':' || n, ' '), '') FROM (SELECT planned_by, count(*) n
  FROM sessions WHERE status = 'planned' AND starts_at > strftime('%Y-%m-%dT%H:%M:%SZ', 'now', '+1 day')
  GROUP BY planned_by ORDER BY planned_by)"; }

run "$T" -C "$WS" sessions plan --program $P
expect_rc plan-biweekly 0
NB=$(q "SELECT count(*) FROM sessions WHERE planned_by = 'biweekly'")
[ "$NB" -gt 4 ] && ok biweekly-planned || fail biweekly-planned "$NB"

# A past held and a past missed session (moved into the past), and one session moved by hand.
read -r H M <<<"$(q "SELECT group_concat(id, ' ') FROM (SELECT id FROM sessions ORDER BY starts_at DESC, id LIMIT 2)")"
q "UPDATE sessions SET starts_at = strftime('%Y-%m-%dT%H:00:00Z', 'now', '-3 days'), status = 'held' WHERE id = $H;
   UPDATE sessions SET starts_at = strftime('%Y-%m-%dT%H:00:00Z', 'now', '-4 days'), status = 'missed' WHERE id = $M"
MV=$(q "SELECT id FROM sessions WHERE status = 'planned' AND starts_at > strftime('%Y-%m-%dT%H:%M:%SZ', 'now', '+3 days') ORDER BY starts_at, id LIMIT 1")
TO=$(q "SELECT strftime('%Y-%m-%dT%H:%M', starts_at, '+1 day') FROM sessions WHERE id = $MV")
run "$T" -C "$WS" sessions reschedule "$MV" --to "$TO" --zone UTC
expect_rc reschedule 0
MANUAL=$(q "SELECT id FROM sessions WHERE planned_by = 'manual'")
[ -n "$MANUAL" ] && ok manual-session || fail manual-session "none"
keep() { q "SELECT group_concat(id || status || starts_at, ' ') FROM sessions WHERE id IN ($H, $M, $MANUAL) ORDER BY id"; }
KEEP=$(keep)
# The instants moved away are biweekly's again (before the change: not the subject here).
run "$T" -C "$WS" sessions plan --program $P
expect_rc plan-refill 0
BASE=$(planned_by)
[[ "$BASE" =~ ^biweekly:[0-9]+\ manual:1$ ]] && ok base || fail base "$BASE"

# ---- biweekly -> weekly: the biweekly sessions are weekly instants, kept -------------------
cadence weekly
run "$T" -C "$WS" sessions plan --program $P --json
expect_rc plan-weekly 0
[ "$(jget "$OUT" '(d["cancelled"], d["cancelled_cadence_changed"])')" = "(0, 0)" ] &&
  ok weekly-nothing-cancelled || fail weekly-nothing-cancelled "$(head -c 300 "$OUT")"
NW=$(q "SELECT count(*) FROM sessions WHERE planned_by = 'weekly' AND status = 'planned'")
[ "$NW" -gt 4 ] && ok weekly-added || fail weekly-added "$NW"

# A weekly-only session more than a day away is reminded (each side gets its .ics, sent).
read -r S SH <<<"$(q "SELECT id || ' ' || CAST((julianday(starts_at) - julianday('now')) * 24 + 2 AS INTEGER) FROM sessions
  WHERE planned_by = 'weekly' AND status = 'planned' AND starts_at > strftime('%Y-%m-%dT%H:%M:%SZ', 'now', '+26 hours')
  ORDER BY starts_at, id LIMIT 1")"
run "$T" -C "$WS" outbox remind --lead "$SH"
expect_rc remind 0
run "$T" -C "$WS" outbox send
expect_rc send 0
[ "$(q "SELECT count(*) FROM outbox WHERE session_id = $S AND idempotency_key LIKE 'reminder:%' AND status = 'sent'")" = 2 ] &&
  ok reminded || fail reminded "$(q "SELECT idempotency_key FROM outbox WHERE session_id = $S")"

# ---- weekly -> biweekly: the weekly-only sessions go ---------------------------------------
NEAR=$(q "SELECT count(*) FROM sessions WHERE planned_by = 'weekly' AND status = 'planned'
  AND starts_at <= strftime('%Y-%m-%dT%H:%M:%SZ', 'now', '+24 hours')")
cadence biweekly
run "$T" -C "$WS" sessions plan --program $P
expect_rc plan-back 0
NC=$((NW - NEAR))
expect_out back-text "0 sessions planned, "
expect_out back-count "$NC cancelled (0 replanned, $NC because the program's cadence changed)"
[ "$(planned_by)" = "$BASE" ] && ok back-biweekly-only || fail back-biweekly-only "$(planned_by) (want $BASE)"
[ "$(q "SELECT DISTINCT status_reason FROM sessions WHERE planned_by = 'weekly' AND status = 'cancelled'")" = \
  "replanned by cadence biweekly (the program's cadence changed)" ] && ok back-reason || fail back-reason
[ "$(keep)" = "$KEEP" ] && ok back-held-missed-manual-kept || fail back-held-missed-manual-kept "$(keep)"
# The reminded one's cancellation reaches both calendars.
run "$T" -C "$WS" outbox remind --lead 1 --json
expect_rc updates 0
[ "$(q "SELECT count(*) FROM outbox WHERE session_id = $S AND idempotency_key LIKE 'update:%'")" = 2 ] &&
  ok calendar-updates || fail calendar-updates "$(q "SELECT idempotency_key FROM outbox WHERE session_id = $S")"
# Planning again changes nothing.
D1=$(db_digest "$WS")
run "$T" -C "$WS" sessions plan --program $P
expect_out again-count "0 sessions planned, "
[ "$(db_digest "$WS")" = "$D1" ] && ok again-unchanged || fail again-unchanged "database changed"

# ---- a cadence with other instants (Tuesdays 08:00 UTC): the old series goes --------------
mkdir -p "$WS/plugins/cadences"
cat >"$WS/plugins/cadences/tue8.lua" <<'LUA'
return tandem.cadence{ name = "tue8", version = "1.0.0", api = 1,
  rule = "FREQ=WEEKLY;BYDAY=TU;BYHOUR=8;BYMINUTE=0", zone = "mentor" }
LUA
FAR=$(q "SELECT count(*) FROM sessions WHERE planned_by = 'biweekly' AND status = 'planned'
  AND starts_at > strftime('%Y-%m-%dT%H:%M:%SZ', 'now', '+24 hours')")
cadence tue8
run "$T" -C "$WS" jobs run plan-sessions
expect_rc job 0
expect_out job-count "\"cancelled_cadence_changed\":$FAR,"
[ "$(planned_by)" != "" ] && [ "$(q "SELECT count(*) FROM sessions WHERE planned_by = 'biweekly' AND status = 'planned'
  AND starts_at > strftime('%Y-%m-%dT%H:%M:%SZ', 'now', '+24 hours')")" = 0 ] && ok job-old-series-gone ||
  fail job-old-series-gone "$(planned_by)"
[ "$(keep)" = "$KEEP" ] && ok job-held-missed-manual-kept || fail job-held-missed-manual-kept "$(keep)"
run "$T" -C "$WS" sessions plan --program $P --json
[ "$(jget "$OUT" '(d["planned"], d["cancelled"], d["cancelled_cadence_changed"])')" = "(0, 0, 0)" ] &&
  ok job-then-plan-nothing || fail job-then-plan-nothing "$(head -c 300 "$OUT")"

finish
