#!/usr/bin/env bash
# End-to-end: events, reward rules and the ledger through the CLI. A program with active
# pairs; past sessions checked in held (with ratings) by both sides; `tandem events`
# filters; `tandem rewards dispatch` runs the built-in rules (points per held session,
# streak badges, the top-mentor badge, completion certificates) once per grant however
# often it runs; a person who did not opt in never appears on a leaderboard (text or
# JSON) while --as shows their own standing; revocation; a broken workspace rule stops at
# its event and says where; certificates verify, tampered codes do not; a dispatch killed
# at every crash point, and by SIGKILL at random moments, never doubles a grant.
. "$(dirname "$0")/lib.sh"

T=$TANDEM
P=digital-2027
WS=$(new_ws) || exit 1
DB=$WS/tandem.db
PY=/usr/bin/python3
q() { sqlite3 "$DB" "$1"; }

run "$T" gen-org --people 60 --seed 5 --out "$WS/people.csv" --survey $P --survey-out "$WS/survey.csv"
expect_rc gen-org 0
run "$T" -C "$WS" import people "$WS/people.csv"
expect_rc import-people 0
run "$T" -C "$WS" import enrollments "$WS/survey.csv" --program $P
expect_rc import-enrollments 0
run "$T" -C "$WS" match run --program $P
run "$T" -C "$WS" match approve --all --program $P
sed -i -e 's/starts = "[0-9-]*"/starts = "2020-01-06"/' -e 's/ends = "[0-9-]*"/ends = "2099-12-31"/' "$WS/tandem.lua"
run "$T" -C "$WS" match activate --program $P
expect_rc activate 0

read -r M1 M2 <<<"$(q "SELECT group_concat(id, ' ') FROM (SELECT id FROM matches WHERE status='active' ORDER BY id LIMIT 2)")"
ext() { q "SELECT p.external_id FROM matches m JOIN people p ON p.id=m.$2_id WHERE m.id=$1"; }
MENTOR1=$(ext "$M1" mentor); MENTEE1=$(ext "$M1" mentee); MENTOR2=$(ext "$M2" mentor)
NAME_MENTEE1=$(q "SELECT name FROM people WHERE external_id='$MENTEE1'")
for m in $M1 $M2; do
  q "INSERT INTO sessions (match_id, starts_at, duration_min, timezone, planned_by, created_at, updated_at)
     SELECT $m, s.at, 45, 'UTC', 'weekly', 'now', 'now' FROM (SELECT '2020-03-10T14:00:00Z' AS at
     UNION ALL SELECT '2020-03-17T14:00:00Z' UNION ALL SELECT '2020-03-24T14:00:00Z') s"
done
for s in $(q "SELECT id FROM sessions WHERE match_id=$M1 ORDER BY starts_at"); do
  run "$T" -C "$WS" sessions checkin "$s" --held --as "$MENTOR1" --rating 5
  run "$T" -C "$WS" sessions checkin "$s" --held --as "$MENTEE1" --rating 5
  expect_rc "checkin $s" 0
done
S2=$(q "SELECT id FROM sessions WHERE match_id=$M2 ORDER BY starts_at LIMIT 1")
run "$T" -C "$WS" sessions checkin "$S2" --held --as "$MENTOR2"
expect_rc checkin-m2 0

# ---- events -------------------------------------------------------------------------
run "$T" -C "$WS" events --kind session --json
expect_rc events-kind 0
[ "$(jget "$OUT" 'len(d)')" = 4 ] && ok events-session-prefix || fail events-session-prefix "$(head -c 300 "$OUT")"
[ "$(jget "$OUT" 'sorted(set(e["kind"] for e in d))')" = "['session.held']" ] && ok events-held || fail events-held "$(head -c 300 "$OUT")"
run "$T" -C "$WS" events --kind program.started
expect_out events-program-started "program.started"
# A kind no event has (a typo) is a usage error listing the kinds, not an empty table (walk3 #14).
run "$T" -C "$WS" events --kind sesion.held
expect_rc events-kind-typo 2
expect_err events-kind-typo-msg "--kind: no event has the kind 'sesion.held' (kinds: people.imported,"
run "$T" -C "$WS" events --kind custom.anything
expect_rc events-kind-custom 0
run "$T" -C "$WS" events --kind session.
expect_rc events-kind-domain 0
FIRST=$(q "SELECT min(id) FROM events WHERE kind='feedback.given'")
run "$T" -C "$WS" events --since "$FIRST" --kind feedback.given --json
[ "$(jget "$OUT" 'len(d)')" = 6 ] && ok events-since || fail events-since "$(head -c 300 "$OUT")"
[ "$(jget "$OUT" 'all(e["subject_id"] for e in d)')" = True ] && ok events-subject || fail events-subject "$(head -c 300 "$OUT")"
run "$T" -C "$WS" events --program nope
expect_rc events-unknown-program 1
run "$T" -C "$WS" events --limit 0
expect_rc events-bad-limit 2
# No e-mail in any payload.
[ "$(q "SELECT count(*) FROM events e, people p WHERE instr(e.payload, p.email) > 0")" = 0 ] && ok no-email || fail no-email "an e-mail in a payload"

# ---- dispatch ------------------------------------------------------------------------
run "$T" -C "$WS" rewards dispatch --json
expect_rc dispatch 0
# session_points: 2 per held session (3 of M1, 1 of M2); streaks: streak-3 to both of M1;
# top_mentor: M1's mentor (3 visible ratings of 5 by the mentee).
[ "$(q "SELECT count(*) FROM rewards WHERE plugin='session_points'")" = 8 ] && ok points-grants || fail points-grants "$(q "SELECT count(*) FROM rewards")"
[ "$(q "SELECT count(*) FROM rewards WHERE badge='streak-3'")" = 2 ] && ok streak-badges || fail streak-badges
[ "$(q "SELECT p.external_id FROM rewards r JOIN people p ON p.id=r.person_id WHERE badge='top-mentor'")" = "$MENTOR1" ] && ok top-mentor || fail top-mentor "$(q "SELECT * FROM rewards WHERE badge='top-mentor'")"
N1=$(q "SELECT count(*) FROM rewards")
run "$T" -C "$WS" rewards dispatch
expect_rc dispatch-again 0
q "DELETE FROM hook_cursors"
run "$T" -C "$WS" rewards dispatch
expect_rc dispatch-from-zero 0
[ "$(q "SELECT count(*) FROM rewards")" = "$N1" ] && ok idempotent || fail idempotent "$N1 -> $(q "SELECT count(*) FROM rewards")"
[ "$(q "SELECT count(*) FROM events WHERE kind='reward.granted'")" = "$N1" ] && ok granted-events || fail granted-events

# ---- leaderboard: consent --------------------------------------------------------------
# MENTOR1 and MENTOR2 opt in through the enrollment import; MENTEE1 does not.
{ echo "person,role,consent,leaderboard"
  q "SELECT p.external_id || ',' || e.role || ',yes,' || CASE WHEN p.external_id IN ('$MENTOR1','$MENTOR2') THEN 'yes' ELSE 'no' END
     FROM enrollments e JOIN people p ON p.id=e.person_id"; } >"$WS/board.csv"
run "$T" -C "$WS" import enrollments "$WS/board.csv" --program $P
expect_rc import-leaderboard 0
[ "$(q "SELECT count(*) FROM enrollments WHERE leaderboard=1")" = 2 ] && ok consent-stored || fail consent-stored
run "$T" -C "$WS" rewards leaderboard --program $P
expect_rc leaderboard 0
expect_out leaderboard-mentor "$MENTOR1"
grep -qF "$MENTEE1" "$OUT" && fail leaderboard-no-mentee "$(cat "$OUT")" || ok leaderboard-no-mentee
grep -qF "$NAME_MENTEE1" "$OUT" && fail leaderboard-no-name "$(cat "$OUT")" || ok leaderboard-no-name
run "$T" -C "$WS" rewards leaderboard --program $P --json
grep -qF "$MENTEE1" "$OUT" && fail leaderboard-json-no-mentee "$(cat "$OUT")" || ok leaderboard-json-no-mentee
[ "$(jget "$OUT" 'len(d["entries"])')" = 2 ] && ok leaderboard-two || fail leaderboard-two "$(head -c 400 "$OUT")"
run "$T" -C "$WS" rewards leaderboard --json
grep -qF "$MENTEE1" "$OUT" && fail leaderboard-all-no-mentee || ok leaderboard-all-no-mentee
run "$T" -C "$WS" rewards leaderboard --program $P --as "$MENTEE1"
expect_out as-own "you ($MENTEE1): 30 points"
expect_out as-not-opted "did not opt in"
run "$T" -C "$WS" rewards leaderboard --program $P --as "$MENTEE1" --json
[ "$(jget "$OUT" 'd["you"]["points"], d["you"]["on_board"], len(d["entries"])')" = "(30, False, 2)" ] && ok as-json || fail as-json "$(head -c 400 "$OUT")"
# A person who opted in but has no points yet is listed at 0, tied last (walk4 #6: left out,
# and --as said "you did not opt in").
ZERO=$(q "SELECT p.external_id FROM enrollments e JOIN people p ON p.id = e.person_id
  WHERE NOT EXISTS (SELECT 1 FROM rewards r WHERE r.person_id = p.id) ORDER BY p.id LIMIT 1")
q "UPDATE enrollments SET leaderboard = 1 WHERE person_id = (SELECT id FROM people WHERE external_id = '$ZERO')"
run "$T" -C "$WS" rewards leaderboard --program $P --json
[ "$(jget "$OUT" '[(e["rank"], e["points"]) for e in d["entries"] if e["person"]=="'"$ZERO"'"], len(d["entries"])')" = "([(3, 0)], 3)" ] &&
  ok leaderboard-zero-listed || fail leaderboard-zero-listed "$ZERO: $(head -c 400 "$OUT")"
run "$T" -C "$WS" rewards leaderboard --program $P --as "$ZERO"
expect_out as-zero "you ($ZERO): 0 points, rank 3"
grep -qF "did not opt in" "$OUT" && fail as-zero-opted "$(tail -1 "$OUT")" || ok as-zero-opted
q "UPDATE enrollments SET leaderboard = 0 WHERE person_id = (SELECT id FROM people WHERE external_id = '$ZERO')"

# ---- revocation ------------------------------------------------------------------------
KEY=$(q "SELECT award_key FROM rewards WHERE badge='top-mentor'")
run "$T" -C "$WS" rewards revoke "$KEY" --reason "rating dispute"
expect_rc revoke 0
[ "$(q "SELECT points FROM rewards WHERE award_key='revoke:$KEY'")" = -50 ] && ok revoke-negative || fail revoke-negative
run "$T" -C "$WS" rewards revoke "$KEY" --reason again
expect_out revoke-twice "already revoked"
run "$T" -C "$WS" rewards leaderboard --program $P --json
[ "$(jget "$OUT" '[e["badges"] for e in d["entries"] if e["person"]=="'"$MENTOR1"'"][0]')" = "['streak-3']" ] && ok revoked-badge-gone || fail revoked-badge-gone "$(head -c 400 "$OUT")"
run "$T" -C "$WS" rewards revoke nope --reason x
expect_rc revoke-unknown 1
run "$T" -C "$WS" rewards revoke "$KEY"
expect_rc revoke-no-reason 2

# ---- a broken rule stops at its event ----------------------------------------------------
cat >"$WS/plugins/rewards/broken.lua" <<'LUA'
return tandem.reward{ name = "broken", version = "1.0.0", api = 1,
  on = { ["session.held"] = function(ev, ctx)
    return { { person_id = 999999, points = 5, reason = "x" } }
  end } }
LUA
run "$T" -C "$WS" rewards dispatch --rule broken
expect_rc broken-exit 1
FIRST_HELD=$(q "SELECT min(id) FROM events WHERE kind='session.held'")
expect_err broken-where "broken.lua: event $FIRST_HELD (handler result): grant 1: field 'person_id': no such person"
[ "$(q "SELECT stopped_at FROM hook_cursors WHERE plugin='broken'")" = "$FIRST_HELD" ] && ok broken-stopped || fail broken-stopped
rm "$WS/plugins/rewards/broken.lua"

# ---- certificates ------------------------------------------------------------------------
run "$T" -C "$WS" match end "$M1" --reason "completed the program"
expect_rc match-end 0
run "$T" -C "$WS" rewards dispatch
expect_rc dispatch-completion 0
[ "$(q "SELECT count(*) FROM rewards WHERE badge='certificate'")" = 2 ] && ok certificates || fail certificates
run "$T" -C "$WS" rewards certificate "$MENTOR1" --out "$WS/cert.html"
expect_rc certificate 0
CODE=$(grep -o 'TC-[0-9]*-[0-9a-f]*' "$WS/cert.html" | head -1)
[ -n "$CODE" ] && ok cert-code || fail cert-code "no code in the page"
grep -qiE 'https?://|src=|<script|@import|url\(' "$WS/cert.html" && fail cert-self-contained "$(grep -iE 'https?://|src=' "$WS/cert.html")" || ok cert-self-contained
$PY -c 'import html.parser,sys; p=html.parser.HTMLParser(); p.feed(open(sys.argv[1]).read()); p.close()' "$WS/cert.html" && ok cert-parses || fail cert-parses
run "$T" -C "$WS" rewards verify "$CODE"
expect_rc verify 0
expect_out verify-who "($MENTOR1) completed"
run "$T" -C "$WS" rewards verify "$CODE" --json
[ "$(jget "$OUT" 'd["valid"], d["person"]')" = "(True, '$MENTOR1')" ] && ok verify-json || fail verify-json "$(cat "$OUT")"
LAST=${CODE: -1}; [ "$LAST" = 0 ] && NEW=1 || NEW=0
run "$T" -C "$WS" rewards verify "${CODE%?}$NEW"
expect_rc verify-tampered 1
expect_err verify-tampered-msg "is not a valid certificate code"
ID=$(echo "$CODE" | cut -d- -f2)
run "$T" -C "$WS" rewards verify "TC-$((ID + 1))-${CODE##*-}"
expect_rc verify-other-id 1
run "$T" -C "$WS" rewards verify garbage
expect_rc verify-garbage 1
# The code is compared as issued: a leading zero in the number or uppercase hex is another spelling.
run "$T" -C "$WS" rewards verify "TC-0$ID-${CODE##*-}"
expect_rc verify-leading-zero 1
expect_err verify-leading-zero-msg "is not a certificate code as issued"
run "$T" -C "$WS" rewards verify "TC-$ID-$(echo "${CODE##*-}" | tr a-f A-F)"
expect_rc verify-uppercase 1
expect_err verify-uppercase-msg "is not a certificate code as issued"
run "$T" -C "$WS" rewards certificate "$MENTOR2"
expect_rc no-certificate 1
expect_err no-certificate-msg "has no certificate"
# A person who does not exist is named as in every command (walk3 #14).
run "$T" -C "$WS" rewards certificate NOPE
expect_rc certificate-no-person 1
expect_err certificate-no-person-msg "no person with id or e-mail 'NOPE'"

# ---- killed dispatch never doubles a grant -------------------------------------------------
# 100 more pairs with 30 held sessions each, events written as the sessions module writes them.
q "INSERT INTO matches (program_id, mentor_id, mentee_id, status, created_at)
   WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 100)
   SELECT (SELECT id FROM programs WHERE name='$P'), 1 + (i % 30), 31 + (i % 29), 'active', 'bulk' FROM n;
   INSERT INTO sessions (match_id, starts_at, duration_min, timezone, planned_by, status, created_at, updated_at)
   WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 30)
   SELECT m.id, strftime('%Y-%m-%dT%H:%M:%SZ', '2021-01-01', '+' || n.i || ' days'), 30, 'UTC', 'bulk', 'held', 'now', 'now'
   FROM matches m, n WHERE m.created_at = 'bulk';
   INSERT INTO events (at, kind, program_id, payload)
   SELECT '2026-01-01T00:00:00Z', 'session.held', m.program_id, json_object('session', s.id, 'match', s.match_id, 'starts_at', s.starts_at)
   FROM sessions s JOIN matches m ON m.id = s.match_id WHERE s.planned_by = 'bulk' ORDER BY s.id;"
for point in rewards.hooks_ran rewards.applied rewards.before_commit rewards.committed rewards.committed:2; do
  TANDEM_CRASH_AT=$point "$T" -C "$WS" rewards dispatch --rule session_points >/dev/null 2>&1
  rc=$?
  [ "$rc" = 137 ] && ok "crash $point" || fail "crash $point" "exit $rc"
done
for i in $(seq 1 12); do
  "$T" -C "$WS" rewards dispatch --rule session_points >/dev/null 2>&1 &
  pid=$!
  sleep "0.$((RANDOM % 4))$((RANDOM % 10))"
  kill -9 "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
done
run "$T" -C "$WS" rewards dispatch
expect_rc final-dispatch 0
[ "$(q "SELECT count(*) FROM rewards WHERE plugin='session_points'")" = $((8 + 6000)) ] && ok killed-no-double || fail killed-no-double "$(q "SELECT count(*) FROM rewards WHERE plugin='session_points'")"
[ "$(q "SELECT count(*) FROM rewards WHERE revokes IS NULL")" = "$(q "SELECT count(*) FROM events WHERE kind='reward.granted'")" ] && ok each-grant-one-event || fail each-grant-one-event
[ "$(q "SELECT count(*) FROM (SELECT award_key FROM rewards GROUP BY award_key HAVING count(*) > 1)")" = 0 ] && ok unique-keys || fail unique-keys

# ---- usage ---------------------------------------------------------------------------
run "$T" -C "$WS" rewards
expect_rc bare 2
run "$T" -C "$WS" rewards list --as x
expect_rc list-bad-option 2
run "$T" -C "$WS" rewards list --person "$MENTOR1" --json
[ "$(jget "$OUT" 'all(r["person"]=="'"$MENTOR1"'" for r in d) and len(d) > 0')" = True ] && ok list-person || fail list-person "$(head -c 300 "$OUT")"

# The read-only commands leave no -wal or -shm behind (a connection opened
# SQLITE_OPEN_READONLY made them and could not remove them).
rm -f "$WS/tandem.db-wal" "$WS/tandem.db-shm"
for cmd in "events" "rewards list" "rewards leaderboard" "rewards verify NOPE-0000"; do
  # shellcheck disable=SC2086
  "$T" -C "$WS" $cmd >/dev/null 2>&1
  if [ -e "$WS/tandem.db-wal" ] || [ -e "$WS/tandem.db-shm" ]; then
    fail "no-wal-left: $cmd" "$(ls "$WS")"
  else
    ok "no-wal-left: $cmd"
  fi
done
finish
