#!/usr/bin/env bash
# End-to-end: program health, overlapping programs and the rematch, through the CLI. A generated
# program is matched, approved and activated; its pairs get sessions in the past (written into
# the table: the planner has its own suite) that the sides check in to and cancel through
# `sessions checkin` / `sessions cancel --as`. `tandem health` (text, JSON, --status) must say
# at risk for the pair whose mentee cancelled twice (naming them), on track, overdue, stale goals
# (a mentee with no skill self-assessment 50 days after activation, until they check in with
# --skill), and no first session for the rest, with counts that add up to the active matches in the database. A second
# program on the same dates flags the people enrolled in both (health and `programs check`), a
# third after it flags nobody. Then `match end` + `match run --rematch` proposes a partner only
# for the freed mentee (never the former mentor), every other match unchanged, and a second
# rematch after approval proposes nothing.
. "$(dirname "$0")/lib.sh"

T=$TANDEM
P=digital-2027
WS=$(new_ws) || exit 1
DB=$WS/tandem.db
PY=/usr/bin/python3
q() { sqlite3 "$DB" "$1"; }

run "$T" gen-org --people 80 --seed 11 --out "$WS/people.csv" --survey $P --survey-out "$WS/survey.csv"
expect_rc gen-org 0
run "$T" -C "$WS" import people "$WS/people.csv"
expect_rc import-people 0
run "$T" -C "$WS" import enrollments "$WS/survey.csv" --program $P
expect_rc import-enrollments 0
sed -i -e 's/starts = "[0-9-]*"/starts = "2020-01-06"/' -e 's/ends = "[0-9-]*"/ends = "2099-06-30"/' "$WS/tandem.lua"
run "$T" -C "$WS" match run --program $P
expect_rc match-run 0
run "$T" -C "$WS" match approve --all --program $P
expect_rc approve 0
run "$T" -C "$WS" match activate --program $P
expect_rc activate 0
NA=$(q "SELECT count(*) FROM matches WHERE status='active'")
[ "${NA:-0}" -ge 5 ] && ok active || fail active "only ${NA:-0} active matches"
# Every pair was activated 60 days ago.
q "UPDATE matches SET activated_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now', '-60 days') WHERE status='active'"

read -r M1 M2 M3 <<<"$(q "SELECT group_concat(id, ' ') FROM (SELECT id FROM matches WHERE status='active' ORDER BY id LIMIT 3)")"
side() { q "SELECT p.$2 FROM matches m JOIN people p ON p.id=m.$3_id WHERE m.id=$1"; }
MENTOR1=$(side "$M1" external_id mentor); MENTEE1=$(side "$M1" external_id mentee)
NAME_E1=$(side "$M1" name mentee)
MENTOR2=$(side "$M2" external_id mentor); MENTEE2=$(side "$M2" external_id mentee)
# session MATCH DAYS_AGO: a planned session of MATCH that started DAYS_AGO days ago; prints its id.
session() {
  q "INSERT INTO sessions (match_id, starts_at, duration_min, timezone, planned_by, created_at, updated_at)
     VALUES ($1, strftime('%Y-%m-%dT%H:00:00Z', 'now', '-$2 days'), 60, 'UTC', 'biweekly', 'now', 'now');
     SELECT last_insert_rowid();"
}
# Pair 1: held 20 days ago (both rate 5), then two sessions its mentee cancelled.
S=$(session "$M1" 20)
run "$T" -C "$WS" sessions checkin "$S" --held --as "$MENTOR1" --rating 5
expect_rc checkin-1m 0
run "$T" -C "$WS" sessions checkin "$S" --held --as "$MENTEE1" --rating 5
expect_rc checkin-1e 0
for ago in 13 6; do
  S=$(session "$M1" $ago)
  run "$T" -C "$WS" sessions cancel "$S" --as "$MENTEE1" --reason "busy"
  expect_rc "cancel-$ago" 0
  expect_out "cancel-$ago-text" "session #$S cancelled by $MENTEE1: busy"
done
[ "$(q "SELECT count(*) FROM sessions s JOIN people p ON p.id = s.cancelled_by
        WHERE s.match_id=$M1 AND p.external_id='$MENTEE1'")" = 2 ] && ok cancelled-by || fail cancelled-by "not recorded"
# Someone who is not a side cannot cancel as themselves: refused, nothing changed.
S=$(session "$M1" 1)
run "$T" -C "$WS" sessions cancel "$S" --as "$MENTOR2"
expect_rc cancel-not-side 1
expect_err cancel-not-side-msg "$MENTOR2 is not a side of its pair"
[ "$(q "SELECT status FROM sessions WHERE id=$S")" = planned ] && ok cancel-not-side-unchanged || fail cancel-not-side-unchanged "changed"
q "DELETE FROM sessions WHERE id=$S"
# Pair 2: held 5 days ago, both rate 4: on track.
S=$(session "$M2" 5)
run "$T" -C "$WS" sessions checkin "$S" --held --as "$MENTOR2" --rating 4
run "$T" -C "$WS" sessions checkin "$S" --held --as "$MENTEE2" --rating 4 --skill ai_tools=2
expect_rc checkin-2 0
# Pair 3: held 40 days ago (an organizer's check-in, then the mentee's with a self-assessment):
# overdue for a biweekly program.
S=$(session "$M3" 40)
run "$T" -C "$WS" sessions checkin "$S" --held
expect_rc checkin-3 0
MENTEE3=$(side "$M3" external_id mentee)
run "$T" -C "$WS" sessions checkin "$S" --held --as "$MENTEE3" --skill ai_tools=3
expect_rc checkin-3e 0
# Pair 4: activated 50 days ago, held 5 days ago, both check in, but its mentee never assessed
# a skill: at risk for stale goals alone (docs/health.md: 42 days), until they do.
read -r M4 <<<"$(q "SELECT id FROM matches WHERE status='active' ORDER BY id LIMIT 1 OFFSET 3")"
MENTOR4=$(side "$M4" external_id mentor); MENTEE4=$(side "$M4" external_id mentee)
NAME_E4=$(side "$M4" name mentee)
q "UPDATE matches SET activated_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now', '-50 days') WHERE id=$M4"
S4=$(session "$M4" 5)
run "$T" -C "$WS" sessions checkin "$S4" --held --as "$MENTOR4" --rating 4
run "$T" -C "$WS" sessions checkin "$S4" --held --as "$MENTEE4" --rating 4
expect_rc checkin-4 0

# ---- tandem health ---------------------------------------------------------------------
run "$T" -C "$WS" health --program $P
expect_rc health 0
expect_out health-head "program $P: $NA active pairs (cadence biweekly, every 14 days)"
expect_out health-misses "2 consecutive missed sessions (cancelled by $NAME_E1) [checkin]"
expect_out health-overdue "no session held for 40 days"
expect_out health-first "no session held 60 days after activation (expected within 21 days); none planned [checkin]"
expect_out health-ontrack "1 session held, the last 5 days ago (cadence biweekly, every 14 days)"
expect_out health-stale "stale goals: $NAME_E4 recorded no skill self-assessment in the 50 days since activation (expected within 42: sessions checkin --skill) [checkin]"
grep -q "^at risk (" "$OUT" && ok health-group || fail health-group "$(head -c 400 "$OUT")"
# A pair whose activation is after the clock (a database read as of an earlier time): no
# negative age ("activated -3 days ago", walk4 #7), it says it was not yet activated.
ML=$(q "SELECT id FROM matches WHERE status='active' ORDER BY id DESC LIMIT 1")
q "UPDATE matches SET activated_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now', '+3 days') WHERE id = $ML"
ACT_DAY=$(q "SELECT substr(activated_at, 1, 10) FROM matches WHERE id = $ML")
run "$T" -C "$WS" health --program $P
expect_out health-not-yet "not yet activated (it was activated on $ACT_DAY), no session held yet"
grep -q "activated -" "$OUT" && fail health-no-negative-age "$(grep 'activated -' "$OUT")" || ok health-no-negative-age
q "UPDATE matches SET activated_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now', '-60 days') WHERE id = $ML"
# A plugin cadence with only a rule: the interval is the rule's (21 days), not 30 /
# sessions_per_month (15), in the headline, the pairs' texts and --json.
cp "$WS/tandem.lua" "$E2E_TMP/tandem.lua.rule"
mkdir -p "$WS/plugins/cadences"
printf '%s\n' 'return tandem.cadence{ name = "every_three_weeks", version = "1.0.0", api = 1,' \
  '  rule = "FREQ=WEEKLY;INTERVAL=3" }' >"$WS/plugins/cadences/every_three_weeks.lua"
sed -i 's/cadence = "biweekly"/cadence = "every_three_weeks"/' "$WS/tandem.lua"
run "$T" -C "$WS" health --program $P
expect_out health-rule-head "program $P: $NA active pairs (cadence every_three_weeks, every 21 days)"
expect_out health-rule-pair "1 session held, the last 5 days ago (cadence every_three_weeks, every 21 days)"
run "$T" -C "$WS" health --program $P --json
[ "$(jget "$OUT" '(d["cadence"]["interval_days"], sorted({(p["interval_days"], p["interval_from"]) for p in d["pairs"]}))')" = \
  "(21, [(21, 'cadence')])" ] && ok health-rule-json || fail health-rule-json "$(head -c 300 "$OUT")"
cp "$E2E_TMP/tandem.lua.rule" "$WS/tandem.lua"
run "$T" -C "$WS" health --program $P --json
expect_rc health-json 0
cp "$OUT" "$E2E_TMP/health.json"
H=$E2E_TMP/health.json
st() { jget "$H" "[p['status'] for p in d['pairs'] if p['match_id'] == $1][0]"; }
[ "$(st "$M1")" = at_risk ] && ok json-m1 || fail json-m1 "$(st "$M1")"
[ "$(st "$M2")" = on_track ] && ok json-m2 || fail json-m2 "$(st "$M2")"
[ "$(st "$M3")" = needs_checkin ] && ok json-m3 || fail json-m3 "$(st "$M3")"
[ "$(jget "$H" "[r['code'] for p in d['pairs'] if p['match_id'] == $M3 for r in p['reasons']]")" = "['overdue']" ] \
  && ok json-m3-code || fail json-m3-code "$(jget "$H" "[p for p in d['pairs'] if p['match_id'] == $M3]")"
[ "$(st "$M4")" = at_risk ] && ok json-m4 || fail json-m4 "$(st "$M4")"
[ "$(jget "$H" "[r['code'] for p in d['pairs'] if p['match_id'] == $M4 for r in p['reasons']]")" = "['stale_goals']" ] \
  && ok json-m4-code || fail json-m4-code "$(jget "$H" "[p for p in d['pairs'] if p['match_id'] == $M4]")"
[ "$(jget "$H" "d['thresholds']['stale_goals_days']")" = 42 ] && ok json-stale-threshold || fail json-stale-threshold "threshold"
# Every number against the database: the pairs are the active matches, the counts add up.
[ "$(jget "$H" "len(d['pairs'])")" = "$NA" ] && ok json-pairs || fail json-pairs "pairs"
[ "$(jget "$H" "sum(d['counts'].values())")" = "$NA" ] && ok json-counts || fail json-counts "$(jget "$H" "d['counts']")"
[ "$(jget "$H" "d['counts']['at_risk']")" = "$(jget "$H" "len([p for p in d['pairs'] if p['status'] == 'at_risk'])")" ] \
  && ok json-count-at-risk || fail json-count-at-risk "count"
[ "$(jget "$H" "d['counts']['at_risk']")" = "$((NA - 2))" ] && ok json-at-risk-n || fail json-at-risk-n "$(jget "$H" "d['counts']")"
[ "$(jget "$H" "[p['missed'] for p in d['pairs'] if p['match_id'] == $M1][0]")" = \
  "$(q "SELECT count(*) FROM sessions WHERE match_id=$M1 AND status='cancelled' AND cancelled_by IS NOT NULL")" ] \
  && ok json-missed || fail json-missed "missed"
[ "$(jget "$H" "d['overlaps']")" = "[]" ] && ok no-overlaps || fail no-overlaps "$(jget "$H" "d['overlaps']")"
# The mentee of pair 4 checks in to a new session with a self-assessment: the reason goes.
S4=$(session "$M4" 1)
run "$T" -C "$WS" sessions checkin "$S4" --held --as "$MENTEE4" --skill ai_tools=2
expect_rc checkin-4-skill 0
run "$T" -C "$WS" health --program $P --json
[ "$(jget "$OUT" "[p['status'] for p in d['pairs'] if p['match_id'] == $M4][0]")" = on_track ] \
  && ok stale-goals-gone || fail stale-goals-gone "$(jget "$OUT" "[p['reasons'] for p in d['pairs'] if p['match_id'] == $M4]")"
run "$T" -C "$WS" health --program $P --status on_track --json
[ "$(jget "$OUT" "[p['match_id'] for p in d['pairs']]")" = "[$M2, $M4]" ] && ok status-filter || fail status-filter "$(head -c 300 "$OUT")"
[ "$(jget "$OUT" "d['counts']['at_risk']")" = "$((NA - 3))" ] && ok status-filter-counts || fail status-filter-counts "counts"
run "$T" -C "$WS" health --program $P --status sleepy
expect_rc bad-status 2
expect_err bad-status-msg "unknown health status 'sleepy'"
run "$T" -C "$WS" health
expect_rc no-program 2
run "$T" -C "$WS" health --program nope
expect_rc unknown-program 1
D0=$(db_digest "$WS")
run "$T" -C "$WS" health --program $P
[ "$(db_digest "$WS")" = "$D0" ] && ok read-only || fail read-only "health wrote to the database"

# ---- overlapping programs --------------------------------------------------------------
cat >>"$WS/tandem.lua" <<'EOF'
program {
  name = "inclusion",
  title = "Inclusion listening",
  starts = "2099-06-30",
  policy = "inclusion_listening",
}
program {
  name = "later",
  title = "After the first",
  starts = "2099-07-01",
  ends = "2099-12-31",
  policy = "digital_upskilling",
}
EOF
run "$T" -C "$WS" match list --program inclusion
expect_rc sync-programs 0
IDI=$(q "SELECT id FROM programs WHERE name='inclusion'"); IDL=$(q "SELECT id FROM programs WHERE name='later'")
PM1=$(q "SELECT id FROM people WHERE external_id='$MENTOR1'"); PE2=$(q "SELECT id FROM people WHERE external_id='$MENTEE2'")
q "INSERT INTO enrollments (program_id, person_id, role, created_at) VALUES ($IDI, $PM1, 'mentor', 'now'), ($IDL, $PE2, 'mentee', 'now')"
run "$T" -C "$WS" health --program $P --json
[ "$(jget "$OUT" "[(o['person']['external_id'], [p['name'] for p in o['programs']]) for o in d['overlaps']]")" = \
  "[('$MENTOR1', ['$P', 'inclusion'])]" ] && ok overlap-json || fail overlap-json "$(jget "$OUT" "d['overlaps']")"
run "$T" -C "$WS" health --program $P
expect_out overlap-text "1 person is enrolled in programs that overlap in time (don't run programs on the same people at once):"
expect_out overlap-line "$P (2020-01-06..2099-06-30), inclusion (2099-06-30..open)"
run "$T" -C "$WS" programs check
expect_rc programs-check 0
expect_out programs-check-overlap "$MENTOR1"
expect_out programs-check-overlap-programs "$P, inclusion"
grep -qF "$MENTEE2" "$OUT" && fail programs-check-later "flagged a program that starts after" || ok programs-check-later

# ---- end and rematch -------------------------------------------------------------------
# Room for one more mentee at every mentor, and a policy that allows every pair, so the
# rematch has candidates whatever the generated people are like.
cat >"$WS/policies/open.lua" <<'LUA'
return tandem.policy{
  name = "open",
  version = "1.0.0",
  api = 1,
  weights = {topic_fit = 1},
}
LUA
q "UPDATE enrollments SET capacity = capacity + 1 WHERE program_id = (SELECT id FROM programs WHERE name='$P') AND role IN ('mentor', 'both')"
run "$T" -C "$WS" match end "$M1" --reason "the mentee cancelled twice"
expect_rc end 0
before() { q "SELECT id, mentor_id, mentee_id, status, pinned FROM matches WHERE id <> $M1 ORDER BY id"; }
B=$(before)
run "$T" -C "$WS" match unmatched --program $P --policy open --rematch --json
expect_rc unmatched-rematch 0
run "$T" -C "$WS" match run --program $P --policy open --rematch --dry-run --explain --json
expect_rc rematch-dry 0
[ "$(jget "$OUT" "[p['mentee']['id'] for p in d['pairs'] if not p['kept']]")" = "['$MENTEE1']" ] \
  && ok rematch-dry-pairs || fail rematch-dry-pairs "$(jget "$OUT" "[(p['mentor']['id'], p['mentee']['id']) for p in d['pairs'] if not p['kept']]")"
jget "$OUT" "[p['explanation'] for p in d['pairs'] if not p['kept']][0]" >/dev/null && ok rematch-explain || fail rematch-explain "no explanation"
# As text: only the freed mentee's new pair, not the kept ones.
run "$T" -C "$WS" match run --program $P --policy open --rematch --dry-run
expect_rc rematch-dry-text 0
expect_out rematch-dry-summary "1 new pair for the 1 freed mentee, 0 unmatched"
[ "$(grep -c "^E" "$OUT")" = 1 ] && grep -q "$MENTEE1" "$OUT" && ok rematch-dry-only-freed ||
  fail rematch-dry-only-freed "$(head -c 600 "$OUT")"
run "$T" -C "$WS" match run --program $P --policy open --rematch
expect_rc rematch 0
expect_out rematch-text ", rematch); "
expect_out rematch-singular "proposed 1 match in $P"
RUN=$(q "SELECT run_id FROM matches ORDER BY id DESC LIMIT 1")
[ "$(q "SELECT group_concat(p.external_id) FROM matches m JOIN people p ON p.id=m.mentee_id WHERE m.run_id='$RUN'")" = "$MENTEE1" ] \
  && ok rematch-only-freed || fail rematch-only-freed "$(q "SELECT mentor_id, mentee_id FROM matches WHERE run_id='$RUN'")"
[ "$(q "SELECT count(*) FROM matches m JOIN people p ON p.id=m.mentor_id WHERE m.run_id='$RUN' AND p.external_id='$MENTOR1'")" = 0 ] \
  && ok rematch-not-former || fail rematch-not-former "the former mentor was proposed again"
[ "$(q "SELECT id, mentor_id, mentee_id, status, pinned FROM matches WHERE id <> $M1 AND (run_id IS NULL OR run_id <> '$RUN') ORDER BY id")" = "$B" ] \
  && ok rematch-others-unchanged || fail rematch-others-unchanged "another match changed"
[ "$(q "SELECT json_extract(payload, '$.rematch') FROM events WHERE kind='match.proposed' ORDER BY id DESC LIMIT 1")" = 1 ] \
  && ok rematch-event || fail rematch-event "no rematch flag"
# Approved, the mentee is rematched: a second rematch proposes nothing.
NEW=$(q "SELECT id FROM matches WHERE run_id='$RUN'")
# A broken tandem.lua: the approval is refused before anything changes (it is read first).
cp "$WS/tandem.lua" "$E2E_TMP/tandem.lua.good"
echo 'program { name = ' >>"$WS/tandem.lua"
E1=$(q "SELECT max(id) FROM events")
run "$T" -C "$WS" match approve "$NEW"
expect_rc approve-broken-config 1
expect_err approve-broken-config-msg "tandem.lua:"
[ "$(q "SELECT status FROM matches WHERE id=$NEW")" = proposed ] && [ "$(q "SELECT max(id) FROM events")" = "$E1" ] &&
  ok approve-broken-config-nothing || fail approve-broken-config-nothing "$(q "SELECT status FROM matches WHERE id=$NEW")"
cp "$E2E_TMP/tandem.lua.good" "$WS/tandem.lua"
run "$T" -C "$WS" match approve "$NEW"
expect_rc approve-rematch 0
E0=$(q "SELECT max(id) FROM events")
run "$T" -C "$WS" match run --program $P --policy open --rematch
expect_rc rematch-again 0
expect_out rematch-again-none "no new partner to propose in $P (rematch"
[ "$(q "SELECT count(*) FROM events WHERE id > $E0")" = 0 ] && ok rematch-again-nothing-stored ||
  fail rematch-again-nothing-stored "$(q "SELECT kind FROM events WHERE id > $E0")"
run "$T" -C "$WS" match run --program $P --policy open --rematch --json
expect_rc rematch-again-json 0
[ "$(jget "$OUT" 'd["run_id"]')" = None ] && ok rematch-again-json-no-run || fail rematch-again-json-no-run "$(head -c 300 "$OUT")"

finish
