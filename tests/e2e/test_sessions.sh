#!/usr/bin/env bash
# End-to-end: the life of a match and its sessions through the CLI. A workspace is seeded
# with gen-org, import, match run and approve; `match activate` makes the matches active
# only once the program has started; sessions are written straight into the table (the
# planner has its own suite) and then listed (filters, the pair's zone and UTC, JSON),
# checked in (each side once, identical repeats accepted, changes refused, no check-in
# before the start, ratings hidden from the other side), cancelled, rescheduled (old row
# kept and linked) and cancelled by `match end` (past ones kept). Refusals change nothing.
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
expect_rc match-run 0
run "$T" -C "$WS" match approve --all --program $P
expect_rc approve 0
NM=$(q "SELECT count(*) FROM matches WHERE status='approved'")
[ "${NM:-0}" -ge 3 ] && ok approved || fail approved "only ${NM:-0} approved matches"

# ---- activation --------------------------------------------------------------------
# The template's program starts in the future: nothing becomes active.
sed -i -e 's/starts = "[0-9-]*"/starts = "2099-01-04"/' -e 's/ends = "[0-9-]*"/ends = "2099-12-31"/' "$WS/tandem.lua"
run "$T" -C "$WS" match activate --program $P
expect_rc activate-future 0
expect_out activate-future-none "$P: 0 matches activated"
[ "$(q "SELECT count(*) FROM matches WHERE status='active'")" = 0 ] && ok none-active || fail none-active "a match became active"
# Once it has started, the approved matches become active, once.
sed -i 's/starts = "2099-01-04"/starts = "2020-01-06"/' "$WS/tandem.lua"
run "$T" -C "$WS" match activate --program $P --json
expect_rc activate 0
[ "$(jget "$OUT" 'd["activated"]')" = "$NM" ] && ok activate-count || fail activate-count "$(cat "$OUT")"
[ "$(q "SELECT count(*) FROM matches WHERE status='active' AND activated_at IS NOT NULL")" = "$NM" ] \
  && ok all-active || fail all-active "not every approved match is active"
[ "$(q "SELECT count(*) FROM events WHERE kind='match.activated'")" = "$NM" ] && ok activated-events || fail activated-events "events"
run "$T" -C "$WS" match activate --program $P
expect_out activate-again "$P: 0 matches activated"
run "$T" -C "$WS" match activate
expect_rc activate-no-program 2

# ---- sessions ----------------------------------------------------------------------
read -r M1 M2 M3 <<<"$(q "SELECT group_concat(id, ' ') FROM (SELECT id FROM matches WHERE status='active' ORDER BY id LIMIT 3)")"
MENTOR1=$(q "SELECT p.external_id FROM matches m JOIN people p ON p.id=m.mentor_id WHERE m.id=$M1")
MENTEE1=$(q "SELECT p.external_id FROM matches m JOIN people p ON p.id=m.mentee_id WHERE m.id=$M1")
MENTOR2=$(q "SELECT p.external_id FROM matches m JOIN people p ON p.id=m.mentor_id WHERE m.id=$M2")
# Per pair: one past session (2020-03-10 14:00 UTC) and two future ones, in the mentee's zone.
for m in $M1 $M2 $M3; do
  q "INSERT INTO sessions (match_id, starts_at, duration_min, timezone, planned_by, topic, agenda,
       created_at, updated_at)
     SELECT m.id, s.at, 45, p.timezone, 'weekly', 'ai_tools', '[\"What did you automate?\"]', 'now', 'now'
     FROM matches m JOIN people p ON p.id = m.mentee_id,
       (SELECT '2020-03-10T14:00:00Z' AS at UNION ALL SELECT '2099-03-10T14:00:00Z'
        UNION ALL SELECT '2099-03-17T14:00:00Z') s WHERE m.id = $m"
done
S_PAST=$(q "SELECT id FROM sessions WHERE match_id=$M1 AND starts_at LIKE '2020%'")
S_F1=$(q "SELECT id FROM sessions WHERE match_id=$M1 AND starts_at='2099-03-10T14:00:00Z'")
S_F2=$(q "SELECT id FROM sessions WHERE match_id=$M1 AND starts_at='2099-03-17T14:00:00Z'")
S2_PAST=$(q "SELECT id FROM sessions WHERE match_id=$M2 AND starts_at LIKE '2020%'")
S2_F1=$(q "SELECT id FROM sessions WHERE match_id=$M2 AND starts_at='2099-03-10T14:00:00Z'")
ZONE1=$(q "SELECT timezone FROM sessions WHERE id=$S_PAST")

run "$T" -C "$WS" sessions list
expect_rc list 0
[ "$(grep -c ' planned ' "$OUT")" = 9 ] && ok list-all || fail list-all "$(cat "$OUT")"
expect_out list-utc "2020-03-10 14:00 UTC"
expect_out list-zone "$ZONE1"
run "$T" -C "$WS" sessions list --person "$MENTEE1" --json
[ "$(jget "$OUT" 'len(d)')" = 3 ] && ok list-person || fail list-person "$(head -c 300 "$OUT")"
[ "$(jget "$OUT" 'd[0]["start"]')" = "2020-03-10T14:00:00Z" ] && ok list-json-start || fail list-json-start "order/start"
[ "$(jget "$OUT" 'd[0]["agenda"][0]')" = "What did you automate?" ] && ok list-json-agenda || fail list-json-agenda "agenda"
run "$T" -C "$WS" sessions list --program $P --from 2099-03-10 --to 2099-03-10 --json
[ "$(jget "$OUT" 'len(d)')" = 3 ] && ok list-range || fail list-range "$(jget "$OUT" 'len(d)')"
# A time --to includes a session starting at it: 14:00 .. 14:00 lists the 14:00 ones.
run "$T" -C "$WS" sessions list --program $P --from 2099-03-10T14:00 --to 2099-03-10T14:00 --json
[ "$(jget "$OUT" 'len(d)')" = 3 ] && ok list-range-time || fail list-range-time "$(jget "$OUT" 'len(d)')"
run "$T" -C "$WS" sessions list --program $P --from 2099-03-10T13:00 --to 2099-03-10T13:59 --json
[ "$(jget "$OUT" 'len(d)')" = 0 ] && ok list-range-before || fail list-range-before "$(jget "$OUT" 'len(d)')"
# --from after --to: a usage error naming both.
run "$T" -C "$WS" sessions list --from 2099-03-11 --to 2099-03-10
expect_rc list-from-after-to 2
expect_err list-from-after-to-msg "--from 2099-03-11 is after --to 2099-03-10"
run "$T" -C "$WS" sessions list --status bogus
expect_rc list-bad-status 2
expect_err list-bad-status-msg "unknown session status 'bogus'"
run "$T" -C "$WS" sessions list --program nope
expect_rc list-unknown-program 1

# ---- check-ins -----------------------------------------------------------------------
run "$T" -C "$WS" sessions checkin "$S_PAST" --held --as "$MENTOR1" --rating 4 --notes "we automated a report"
expect_rc checkin-mentor 0
expect_out checkin-mentor-text "session #$S_PAST: $MENTOR1 checked in 'held'; the session is held"
[ "$(q "SELECT status FROM sessions WHERE id=$S_PAST")" = held ] && ok held || fail held "status"
# The same again is accepted and changes nothing; another rating is refused.
D0=$(db_digest "$WS")
run "$T" -C "$WS" sessions checkin "$S_PAST" --held --as "$MENTOR1" --rating 4 --notes "we automated a report" --json
expect_rc checkin-repeat 0
[ "$(jget "$OUT" 'd["changed"]')" = False ] && ok checkin-repeat-unchanged || fail checkin-repeat-unchanged "$(head -c 200 "$OUT")"
run "$T" -C "$WS" sessions checkin "$S_PAST" --held --as "$MENTOR1" --rating 2
expect_rc checkin-change 1
expect_err checkin-change-msg "$MENTOR1 already checked in for session #$S_PAST at "
expect_err checkin-change-msg2 "(held, rating 4); a check-in cannot be changed"
[ "$(db_digest "$WS")" = "$D0" ] && ok checkin-refusals-unchanged || fail checkin-refusals-unchanged "db changed"
# Refusals: not a side, before the start, a rating without --as, no outcome.
run "$T" -C "$WS" sessions checkin "$S_PAST" --held --as "$MENTOR2"
expect_rc checkin-stranger 1
expect_err checkin-stranger-msg "$MENTOR2 is not a side of session #$S_PAST"
run "$T" -C "$WS" sessions checkin "$S_F1" --held --as "$MENTOR1"
expect_rc checkin-future 1
expect_err checkin-future-msg "starts at 2099-03-10T14:00:00Z: check in once it has started"
run "$T" -C "$WS" sessions checkin "$S_PAST" --held --rating 3
expect_rc checkin-rating-no-side 2
run "$T" -C "$WS" sessions checkin "$S_PAST" --as "$MENTEE1"
expect_rc checkin-no-outcome 2
run "$T" -C "$WS" sessions checkin "$S_PAST" --held --as "$MENTEE1" --rating 9
expect_rc checkin-rating-range 2
[ "$(db_digest "$WS")" = "$D0" ] && ok checkin-more-refusals-unchanged || fail checkin-more-refusals-unchanged "db changed"
# Visibility: the past session ended years ago, so its window has closed: both see it.
run "$T" -C "$WS" sessions show "$S_PAST" --as "$MENTEE1" --json
[ "$(jget "$OUT" 'd["mentor"]["rating"]')" = 4 ] && ok window-closed-visible || fail window-closed-visible "$(head -c 400 "$OUT")"
# Within the window (the session moved to an hour ago), the mentee and an organizer do not see it.
q "UPDATE sessions SET starts_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now', '-1 hour') WHERE id=$S_PAST"
run "$T" -C "$WS" sessions show "$S_PAST" --as "$MENTEE1" --json
[ "$(jget "$OUT" 'd["mentor"]["rating"]')" = None ] && ok hidden-from-other-side || fail hidden-from-other-side "$(head -c 600 "$OUT")"
[ "$(jget "$OUT" 'd["mentor"]["notes"]')" = None ] && ok notes-hidden || fail notes-hidden "notes shown"
[ "$(jget "$OUT" 'd["mentor"]["rating_hidden"]')" = True ] && ok rating-hidden-flag || fail rating-hidden-flag "flag"
run "$T" -C "$WS" sessions list --person "$MENTOR1" --json
[ "$(jget "$OUT" '[s for s in d if s["id"]=='"$S_PAST"'][0]["mentor"]["rating"]')" = None ] \
  && ok hidden-from-organizer || fail hidden-from-organizer "organizer sees the rating"
run "$T" -C "$WS" sessions show "$S_PAST" --as "$MENTOR1"
expect_out author-sees-own "held, rating 4/5"
run "$T" -C "$WS" sessions show "$S_PAST"
expect_out show-hidden-text "rating and notes hidden"
# A person's data export shows their own rating, and the partner's only once visible.
run "$T" -C "$WS" people export "$MENTEE1"
[ "$(jget "$OUT" '[(f["rating"], f["comment"], f["hidden"]) for f in d["feedback"] if f["session_id"]=='"$S_PAST"']')" = "[(None, None, 1)]" ] \
  && ok export-partner-hidden || fail export-partner-hidden "$(head -c 600 "$OUT")"
run "$T" -C "$WS" people export "$MENTOR1"
[ "$(jget "$OUT" '[(f["rating"], f["hidden"]) for f in d["feedback"] if f["session_id"]=='"$S_PAST"']')" = "[(4, 0)]" ] \
  && ok export-own-visible || fail export-own-visible "$(head -c 600 "$OUT")"
# The other side rates: both visible to everyone.
run "$T" -C "$WS" sessions checkin "$S_PAST" --held --as "$MENTEE1" --rating 5 --share-story
expect_rc checkin-mentee 0
run "$T" -C "$WS" sessions show "$S_PAST" --json
[ "$(jget "$OUT" '(d["mentor"]["rating"], d["mentee"]["rating"], d["mentee"]["share_story"])')" = "(4, 5, True)" ] \
  && ok both-rated-visible || fail both-rated-visible "$(head -c 600 "$OUT")"
[ "$(q "SELECT count(*) FROM events WHERE kind='feedback.given'")" = 2 ] && ok feedback-events || fail feedback-events "events"
q "SELECT payload FROM events WHERE kind='feedback.given'" | grep -q '"rating"' \
  && fail events-no-rating "an event carries a rating" || ok events-no-rating
# An organizer records the other pair's past session as missed.
run "$T" -C "$WS" sessions checkin "$S2_PAST" --missed
expect_rc organizer-missed 0
[ "$(q "SELECT status FROM sessions WHERE id=$S2_PAST")" = missed ] && ok missed || fail missed "status"

# ---- cancel and reschedule -----------------------------------------------------------
run "$T" -C "$WS" sessions cancel "$S2_F1" --reason "team offsite"
expect_rc cancel 0
expect_out cancel-text "session #$S2_F1 cancelled: team offsite"
run "$T" -C "$WS" sessions cancel "$S2_F1"
expect_rc cancel-again 1
expect_err cancel-again-msg "session #$S2_F1 is cancelled (team offsite): only a planned session can be cancelled"
# A reminder of the cancelled session expires when sent: news (info), not an error.
q "INSERT INTO outbox (idempotency_key, kind, channel, recipient_id, session_id, body, not_before, created_at)
   SELECT 'reminder:$S2_F1:' || m.mentor_id, 'reminder', 'eml', m.mentor_id, s.id, 'x', '2000-01-01T00:00:00Z', 'x'
   FROM sessions s JOIN matches m ON m.id = s.match_id WHERE s.id = $S2_F1"
run "$T" -C "$WS" outbox send
expect_rc send-expired 0
expect_out send-expired-count "expired 1"
expect_err send-expired-info "tandem: info: message 'reminder:$S2_F1:"
grep -q "error" "$ERR" && fail send-expired-not-error "$(cat "$ERR")" || ok send-expired-not-error
# A reminder whose not_after passed before it went out (its session began meanwhile): also
# an expiry, counted and said the same way (it was not counted: 'expired 0').
q "INSERT INTO outbox (idempotency_key, kind, channel, recipient_id, session_id, body, not_before, not_after, created_at)
   SELECT 'reminder:stale:' || m.mentor_id, 'reminder', 'eml', m.mentor_id, s.id, 'x', '2000-01-01T00:00:00Z',
          '2000-01-02T00:00:00Z', 'x'
   FROM sessions s JOIN matches m ON m.id = s.match_id WHERE s.id = $S_F2"
run "$T" -C "$WS" outbox send --json
expect_rc send-stale 0
[ "$(jget "$OUT" '(d["sent"], d["expired"])')" = "(0, 1)" ] && ok send-stale-count || fail send-stale-count "$(cat "$OUT")"
expect_err send-stale-info "tandem: info: message 'reminder:stale:"
expect_err send-stale-reason "not sent before its not_after time (expired)"
[ "$(q "SELECT status FROM outbox WHERE idempotency_key LIKE 'reminder:stale:%'")" = expired ] &&
  ok send-stale-row || fail send-stale-row "$(q "SELECT status FROM outbox WHERE idempotency_key LIKE 'reminder:stale:%'")"
# Local time in the pair's zone by default; the old row stays, linked.
run "$T" -C "$WS" sessions reschedule "$S_F1" --to 2099-03-11T09:30 --json
expect_rc reschedule 0
NEW=$(jget "$OUT" 'd["id"]')
[ "$(jget "$OUT" '(d["local"], d["planned_by"], d["sequence"], d["rescheduled_from"])')" = "('2099-03-11T09:30', 'manual', 1, $S_F1)" ] \
  && ok reschedule-new-row || fail reschedule-new-row "$(head -c 500 "$OUT")"
[ "$(q "SELECT status || ' ' || rescheduled_to FROM sessions WHERE id=$S_F1")" = "rescheduled $NEW" ] \
  && ok reschedule-old-linked || fail reschedule-old-linked "$(q "SELECT status, rescheduled_to FROM sessions WHERE id=$S_F1")"
run "$T" -C "$WS" sessions reschedule "$NEW" --to 2099-03-11T10:00Z
expect_rc reschedule-utc 0
expect_out reschedule-utc-text "(2099-03-11 10:00 UTC)"
NEW2=$(q "SELECT rescheduled_to FROM sessions WHERE id=$NEW")
run "$T" -C "$WS" sessions reschedule "$NEW2" --to 2099-03-17T14:00Z
expect_rc reschedule-onto-existing 1
expect_err reschedule-onto-existing-msg "already has session #$S_F2 at 2099-03-17T14:00:00Z"
run "$T" -C "$WS" sessions reschedule "$NEW2" --to 2000-01-01T10:00 --zone Europe/Paris
expect_rc reschedule-past 1
expect_err reschedule-past-msg "that is in the past"
# Never beyond the program's end (2099-12-31 in tandem.lua), the session's length counted.
D_END=$(db_digest "$WS")
run "$T" -C "$WS" sessions reschedule "$NEW2" --to 2100-03-01T10:00Z
expect_rc reschedule-after-end 1
expect_err reschedule-after-end-msg "would end after its program ends (2099-12-31 is its last day)"
run "$T" -C "$WS" sessions reschedule "$NEW2" --to 2099-12-31T23:30Z
expect_rc reschedule-ends-after-end 1
[ "$(db_digest "$WS")" = "$D_END" ] && ok reschedule-end-unchanged || fail reschedule-end-unchanged "db changed"
run "$T" -C "$WS" sessions reschedule "$NEW2" --to tomorrow
expect_rc reschedule-bad-time 2
expect_err reschedule-bad-time-msg "--to: 'tomorrow' is not a time YYYY-MM-DDTHH:MM"
run "$T" -C "$WS" sessions reschedule "$NEW2" --to 2099-02-30T10:00
expect_rc reschedule-no-such-day 2
run "$T" -C "$WS" sessions reschedule "$NEW2" --to 2099-03-20T10:00 --zone Mars/Base
expect_rc reschedule-bad-zone 2
expect_err reschedule-bad-zone-msg "unknown time zone 'Mars/Base'"
expect_err reschedule-bad-zone-names "--zone: unknown time zone"
# A bad --zone with a UTC --to is not ignored, and a good one with it is contradictory (walk3 #7).
D_Z=$(db_digest "$WS")
run "$T" -C "$WS" sessions reschedule "$NEW2" --to 2099-03-20T10:00Z --zone Mars/Base
expect_rc reschedule-bad-zone-utc 2
expect_err reschedule-bad-zone-utc-msg "--zone: unknown time zone 'Mars/Base'"
run "$T" -C "$WS" sessions reschedule "$NEW2" --to 2099-03-20T10:00Z --zone Europe/Paris
expect_rc reschedule-zone-and-utc 2
expect_err reschedule-zone-and-utc-msg "ends with Z) and --zone Europe/Paris a zone to read it in: give one or the other"
[ "$(db_digest "$WS")" = "$D_Z" ] && ok reschedule-zone-unchanged || fail reschedule-zone-unchanged "db changed"
run "$T" -C "$WS" sessions reschedule "$NEW2"
expect_rc reschedule-no-to 2

# ---- match end -------------------------------------------------------------------------
run "$T" -C "$WS" match end "$MENTOR1:$MENTEE1"
expect_rc end-no-reason 2
run "$T" -C "$WS" match end "$MENTOR1:$MENTEE1" --reason "mentor moved abroad"
expect_rc end 0
expect_out end-text "match #$M1 ended ($MENTOR1 -> $MENTEE1): mentor moved abroad; 2 planned sessions cancelled"
[ "$(q "SELECT status || '|' || end_reason FROM matches WHERE id=$M1")" = "ended|mentor moved abroad" ] \
  && ok end-row || fail end-row "$(q "SELECT status, end_reason FROM matches WHERE id=$M1")"
[ "$(q "SELECT count(*) FROM sessions WHERE match_id=$M1 AND status='cancelled' AND status_reason='match ended: mentor moved abroad'")" = 2 ] \
  && ok end-cancels-future || fail end-cancels-future "$(q "SELECT id, status, status_reason FROM sessions WHERE match_id=$M1")"
[ "$(q "SELECT status FROM sessions WHERE id=$S_PAST")" = held ] && ok end-keeps-past || fail end-keeps-past "past session changed"
[ "$(q "SELECT status FROM sessions WHERE id=$S_F1")" = rescheduled ] && ok end-keeps-history || fail end-keeps-history "old row changed"
D1=$(db_digest "$WS")
run "$T" -C "$WS" match end "$M1" --reason again
expect_rc end-again 1
expect_err end-again-msg "match #$M1 already ended at "
run "$T" -C "$WS" match end "$MENTOR1" --reason x
expect_rc end-bad-pair 1
expect_err end-bad-pair-msg "names no match: give a match id or MENTOR:MENTEE"
[ "$(db_digest "$WS")" = "$D1" ] && ok end-refusals-unchanged || fail end-refusals-unchanged "db changed"
run "$T" -C "$WS" match end "#$M3" --reason "done early" --json
expect_rc end-json 0
[ "$(jget "$OUT" '(d["match"], d["status"], d["sessions_cancelled"])')" = "($M3, 'ended', 2)" ] \
  && ok end-json-doc || fail end-json-doc "$(head -c 300 "$OUT")"

# ---- help -------------------------------------------------------------------------------
for c in "sessions" "sessions list" "sessions checkin" "sessions reschedule" "match end"; do
  # shellcheck disable=SC2086
  run "$T" $c --help
  expect_rc "'$c --help'" 0
done
run "$T" sessions
expect_rc sessions-bare 2
finish
