#!/usr/bin/env bash
# End-to-end: `tandem people erase` of one side of an active pair (walk2 #4). The pair ends as
# `match end` would (reason "partner erased": match.ended, the later planned sessions
# cancelled with their events and a bumped SEQUENCE); the match row stays with the erased
# side NULL, so the partner's calendar still carries the sessions, the later ones
# STATUS:CANCELLED, without the erased person's name or address.
. "$(dirname "$0")/lib.sh"

T=$TANDEM
P=digital-2027
WS=$(new_ws) || exit 1
DB=$WS/tandem.db
q() { sqlite3 "$DB" "$1"; }
sed -i -e 's/starts = "[0-9-]*"/starts = "2020-01-06"/' -e 's/ends = "[0-9-]*"/ends = "2099-06-30"/' "$WS/tandem.lua"
seed_pairs "$WS" $P 60 5 || { finish; exit; }
run "$T" -C "$WS" sessions plan --program $P
expect_rc plan 0

# The first active match with at least two sessions after now.
M=$(q "SELECT m.id FROM matches m JOIN sessions s ON s.match_id = m.id
  WHERE m.status = 'active' AND s.status = 'planned' AND s.starts_at > strftime('%Y-%m-%dT%H:%M:%SZ','now')
  GROUP BY m.id HAVING count(*) >= 2 ORDER BY m.id LIMIT 1")
[ -n "$M" ] && ok pair-found || { fail pair-found "no active match with later sessions"; finish; exit; }
MENTOR=$(q "SELECT p.external_id FROM matches m JOIN people p ON p.id = m.mentor_id WHERE m.id = $M")
MENTEE=$(q "SELECT p.external_id FROM matches m JOIN people p ON p.id = m.mentee_id WHERE m.id = $M")
MAIL=$(q "SELECT p.email FROM matches m JOIN people p ON p.id = m.mentee_id WHERE m.id = $M")
NAME=$(q "SELECT p.name FROM matches m JOIN people p ON p.id = m.mentee_id WHERE m.id = $M")
LATER=$(q "SELECT count(*) FROM sessions WHERE match_id = $M AND status = 'planned'
  AND starts_at > strftime('%Y-%m-%dT%H:%M:%SZ','now')")
ALL=$(q "SELECT count(*) FROM sessions WHERE match_id = $M AND status <> 'rescheduled'")
LAST=$(q "SELECT max(id) FROM events")

run "$T" -C "$WS" people erase "$MENTEE" --yes
expect_rc erase 0
expect_out erase-summary "erased $MENTEE:"

# The events: match.ended (partner erased) and one session.cancelled per later session.
[ "$(q "SELECT count(*) FROM events WHERE id > $LAST AND kind = 'match.ended'
  AND json_extract(payload, '\$.match') = $M AND json_extract(payload, '\$.reason') = 'partner erased'")" = 1 ] \
  && ok match-ended-event || fail match-ended-event "$(q "SELECT kind, payload FROM events WHERE id > $LAST")"
[ "$(q "SELECT count(*) FROM events WHERE id > $LAST AND kind = 'session.cancelled'
  AND json_extract(payload, '\$.match') = $M")" = "$LATER" ] \
  && ok session-cancelled-events || fail session-cancelled-events "want $LATER"

# The match stays, ended and detached; its sessions stay, the later ones cancelled.
[ "$(q "SELECT status || '|' || end_reason || '|' || (mentee_id IS NULL) FROM matches WHERE id = $M")" = "ended|partner erased|1" ] \
  && ok match-detached || fail match-detached "$(q "SELECT * FROM matches WHERE id = $M")"
[ "$(q "SELECT count(*) FROM sessions WHERE match_id = $M AND status = 'cancelled' AND sequence >= 1")" = "$LATER" ] \
  && ok sessions-cancelled || fail sessions-cancelled "$(q "SELECT id, status, sequence FROM sessions WHERE match_id = $M")"
[ -z "$(q "PRAGMA foreign_key_check")" ] && ok fk-check || fail fk-check "$(q "PRAGMA foreign_key_check")"

# What metrics count can be listed (walk3 #2): the kept match and its sessions, with
# "(erased)" for the missing side in text and null in --json.
run "$T" -C "$WS" match list --program $P --status ended
expect_rc list-ended 0
grep -qE "^$M +$MENTOR +\(erased\) +ended" "$OUT" && ok list-ended-row || fail list-ended-row "$(cat "$OUT")"
run "$T" -C "$WS" match list --program $P --status ended --json
[ "$(jget "$OUT" "[(m['mentee']['id'], m['mentee']['name'], m['mentor']['id']) for m in d if m['id'] == $M]")" = "[(None, None, '$MENTOR')]" ] \
  && ok list-ended-json || fail list-ended-json "$(head -c 400 "$OUT")"
run "$T" -C "$WS" match explain $M
expect_rc explain-kept 0
expect_out explain-kept-line "mentee (erased), ended"
S1=$(q "SELECT min(id) FROM sessions WHERE match_id = $M")
run "$T" -C "$WS" sessions show "$S1"
expect_rc show-kept 0
expect_out show-kept-erased "mentee:     (erased)"
run "$T" -C "$WS" sessions show "$S1" --json
[ "$(jget "$OUT" "(d['mentee']['id'], d['mentee']['name'], d['mentor']['external_id'])")" = "(None, None, '$MENTOR')" ] \
  && ok show-kept-json || fail show-kept-json "$(head -c 400 "$OUT")"
run "$T" -C "$WS" sessions list --person "$MENTOR" --json
[ "$(jget "$OUT" "len([s for s in d if s['match'] == $M])")" = "$ALL" ] \
  && ok list-person-kept || fail list-person-kept "want $ALL of match $M: $(head -c 300 "$OUT")"
run "$T" -C "$WS" sessions list --program $P --json
LISTED=$(jget "$OUT" "len([s for s in d if s['status'] != 'rescheduled'])")
run "$T" -C "$WS" metrics --program $P --json
COUNTED=$(jget "$OUT" "sum(d['sessions'][k] for k in ('planned', 'held', 'missed', 'cancelled'))" 2>/dev/null)
[ "$LISTED" = "$COUNTED" ] && ok listed-as-counted || fail listed-as-counted "listed $LISTED, metrics $COUNTED"

# The mentor's calendar: every session of the pair, the later ones cancelled, no trace of the mentee.
run "$T" -C "$WS" calendar export --person "$MENTOR" --out "$WS/after.ics"
expect_rc export-after 0
N=$(grep -c '^BEGIN:VEVENT' "$WS/after.ics")
[ "$N" -ge "$ALL" ] && ok calendar-keeps-sessions || fail calendar-keeps-sessions "$N events, want >= $ALL"
C=$(grep -c '^STATUS:CANCELLED' "$WS/after.ics")
[ "$C" -ge "$LATER" ] && ok calendar-cancelled || fail calendar-cancelled "$C cancelled, want >= $LATER"
grep -q "(erased)" "$WS/after.ics" && ok calendar-says-erased || fail calendar-says-erased "$(grep SUMMARY "$WS/after.ics" | head -3)"
! grep -qF "$MAIL" "$WS/after.ics" && ! grep -qF "$NAME" "$WS/after.ics" \
  && ok calendar-no-trace || fail calendar-no-trace "the erased mentee is still named"

# `match unmatched`: a person left without a partner by the erasure is not "lost to a better use".
run "$T" -C "$WS" match unmatched --program $P
expect_rc unmatched 0
line=$(grep -E "^  (mentor|mentee) $MENTOR " "$OUT")
if [ -n "$line" ]; then
  [[ "$line" == *"their partner was erased (match #$M ended)"* ]] && ok unmatched-reason || fail unmatched-reason "$line"
else
  ok unmatched-reason-not-listed
fi
run "$T" -C "$WS" match unmatched --program $P --json
expect_rc unmatched-json 0
python3 - "$OUT" <<'PY' && ok unmatched-totals || fail unmatched-totals "$(head -c 300 "$OUT")"
import json, sys
d = json.load(open(sys.argv[1]))
for side in ("mentees", "mentors"):
    c = d[side]
    assert c["total"] == sum(v for k, v in c.items() if k != "total"), c
PY

# The whole program's calendar and the database: the e-mail is gone for good.
run "$T" -C "$WS" calendar export --program $P --out "$WS/all.ics"
expect_rc export-program 0
n=$(grep -c -a -F "$MAIL" "$DB" "$WS/all.ics" | awk -F: '{s+=$2} END {print s}')
[ "$n" = 0 ] && ok erase-grep || fail erase-grep "e-mail found $n times"

# A pair's past sessions still planned when one side is erased: the partner can still check
# one in, and the mark-missed job marks the other (both read the pair with the erased side
# missing; they said "no match #N", and the job failed at every run, marking nothing).
M2=$(q "SELECT m.id FROM matches m JOIN sessions s ON s.match_id = m.id WHERE m.status = 'active'
  AND s.status = 'planned' GROUP BY m.id HAVING count(*) >= 2 ORDER BY m.id LIMIT 1")
MENTOR2=$(q "SELECT p.external_id FROM matches m JOIN people p ON p.id = m.mentor_id WHERE m.id = $M2")
MENTEE2=$(q "SELECT p.external_id FROM matches m JOIN people p ON p.id = m.mentee_id WHERE m.id = $M2")
S1=$(q "SELECT id FROM sessions WHERE match_id = $M2 AND status = 'planned' ORDER BY starts_at LIMIT 1")
S2=$(q "SELECT id FROM sessions WHERE match_id = $M2 AND status = 'planned' ORDER BY starts_at LIMIT 1 OFFSET 1")
q "UPDATE sessions SET starts_at = strftime('%Y-%m-%dT%H:00:00Z', 'now', '-4 days') WHERE id = $S1;
   UPDATE sessions SET starts_at = strftime('%Y-%m-%dT%H:00:00Z', 'now', '-3 days') WHERE id = $S2"
run "$T" -C "$WS" people erase "$MENTEE2" --yes
expect_rc erase-2 0
run "$T" -C "$WS" sessions checkin "$S1" --held --as "$MENTOR2" --rating 4
expect_rc past-checkin-partner 0
[ "$(q "SELECT status FROM sessions WHERE id = $S1")" = held ] && ok past-checkin-held || fail past-checkin-held "$(q "SELECT status FROM sessions WHERE id = $S1")"
run "$T" -C "$WS" jobs run mark-missed
expect_rc mark-missed-detached 0
[ "$(q "SELECT status FROM sessions WHERE id = $S2")" = missed ] && ok past-marked-missed || fail past-marked-missed "$(q "SELECT status FROM sessions WHERE id = $S2"): $(cat "$ERR")"

finish
