#!/usr/bin/env bash
# End-to-end: `tandem calendar export`. A person without sessions gets no calendar (RFC 5545
# wants at least one component): exit 1, a clear message, nothing written, to a file or to
# stdout. A program's export parses with python3-icalendar; its UIDs carry the workspace's
# id: an ASCII organization keeps the form it always had, one with non-ASCII letters gets a
# hash of the whole name, so two such names stay distinct.
. "$(dirname "$0")/lib.sh"

T=$TANDEM
P=digital-2027
PY=/usr/bin/python3
WS=$(new_ws) || exit 1
DB=$WS/tandem.db
q() { sqlite3 "$DB" "$1"; }
sed -i -e 's/starts = "[0-9-]*"/starts = "2020-01-06"/' -e 's/ends = "[0-9-]*"/ends = "2099-06-30"/' "$WS/tandem.lua"
seed_pairs "$WS" $P 60 5 || { finish; exit; }
run "$T" -C "$WS" sessions plan --program $P
expect_rc plan 0
[ "$(q "SELECT count(*) FROM sessions")" -gt 0 ] && ok planned || fail planned "no session"

# ---- a person without sessions: refused, nothing written ----------------------------------
LONE=$(q "SELECT external_id FROM people p WHERE NOT EXISTS (SELECT 1 FROM matches m
  WHERE m.status = 'active' AND (m.mentor_id = p.id OR m.mentee_id = p.id)) ORDER BY id LIMIT 1")
[ -n "$LONE" ] && ok lone-person || fail lone-person "everyone has a pair"
run "$T" -C "$WS" calendar export --person "$LONE" --out "$WS/lone.ics"
expect_rc empty-refused 1
expect_err empty-message "no session to export for $LONE: a calendar needs at least one event (RFC 5545); nothing written"
[ ! -e "$WS/lone.ics" ] && ok empty-nothing-written || fail empty-nothing-written "lone.ics written"
run "$T" -C "$WS" calendar export --person "$LONE"
expect_rc empty-stdout-refused 1
[ ! -s "$OUT" ] && ok empty-stdout-nothing || fail empty-stdout-nothing "$(head -c 200 "$OUT")"

# ---- a program's calendar parses; UIDs by the organization's name ------------------------
uids() {
  $PY - "$1" <<'PY'
import sys, icalendar
cal = icalendar.Calendar.from_ical(open(sys.argv[1], "rb").read())
hosts = {str(e["UID"]).split("@", 1)[1] for e in cal.walk("VEVENT")}
print(" ".join(sorted(hosts)))
PY
}
run "$T" -C "$WS" calendar export --program $P --out "$WS/all.ics"
expect_rc export 0
[ "$(uids "$WS/all.ics")" = example-corp ] && ok uid-ascii-unchanged || fail uid-ascii-unchanged "$(uids "$WS/all.ics")"
MENTOR=$(q "SELECT p.external_id FROM sessions s JOIN matches m ON m.id = s.match_id JOIN people p ON p.id = m.mentor_id ORDER BY s.id LIMIT 1")
run "$T" -C "$WS" calendar export --person "$MENTOR" --out "$WS/one.ics"
expect_rc export-person 0
[ "$(uids "$WS/one.ics")" = example-corp ] && ok person-parses || fail person-parses "$(head -c 300 "$ERR")"

sed -i 's/organization = "Example Corp"/organization = "Ünïcode, Inc.; R\&D"/' "$WS/tandem.lua"
run "$T" -C "$WS" calendar export --program $P --out "$WS/u1.ics"
expect_rc export-unicode 0
H1=$(uids "$WS/u1.ics")
sed -i 's/organization = "Ünïcode, Inc.; R&D"/organization = "Ònïcode, Inc.; R\&D"/' "$WS/tandem.lua"
run "$T" -C "$WS" calendar export --program $P --out "$WS/u2.ics"
expect_rc export-unicode-2 0
H2=$(uids "$WS/u2.ics")
[[ "$H1" =~ ^n-code-inc-r-d-[0-9a-f]{8}$ ]] && ok uid-unicode-form || fail uid-unicode-form "$H1"
[ -n "$H2" ] && [ "$H1" != "$H2" ] && ok uid-unicode-distinct || fail uid-unicode-distinct "$H1 = $H2"

# ---- a reminded session cancelled or moved: each side's calendar gets an update ----------
# The reminder's .ics put the meeting in the recipients' calendars; `outbox remind` then
# queues an update with the same UID, a higher SEQUENCE and STATUS:CANCELLED (or the new
# time), once, and `outbox send` delivers it.
sed -i 's/organization = "Ònïcode, Inc.; R&D"/organization = "Example Corp"/' "$WS/tandem.lua"
read -r S1 S2 <<<"$(q "SELECT group_concat(id, ' ') FROM (SELECT id FROM sessions
  WHERE status = 'planned' ORDER BY starts_at, id LIMIT 2)")"
LEAD=$(q "SELECT CAST((julianday(max(starts_at)) - julianday('now')) * 24 + 2 AS INTEGER)
  FROM sessions WHERE id IN ($S1, $S2)")
run "$T" -C "$WS" outbox remind --lead "$LEAD"
expect_rc remind 0
run "$T" -C "$WS" outbox send
expect_rc send 0
[ "$(q "SELECT count(*) FROM outbox WHERE session_id IN ($S1, $S2) AND status = 'sent'")" = 4 ] &&
  ok reminders-sent || fail reminders-sent "$(q "SELECT idempotency_key, status FROM outbox")"
run "$T" -C "$WS" sessions cancel "$S1" --reason "team offsite"
expect_rc cancel 0
NEW=$(q "SELECT strftime('%Y-%m-%dT%H:%M', starts_at, '+1 day', '+1 hour') FROM sessions WHERE id = $S2")
run "$T" -C "$WS" sessions reschedule "$S2" --to "$NEW" --zone UTC
expect_rc reschedule 0
run "$T" -C "$WS" outbox remind --lead 1 --json
expect_rc updates-queued 0
[ "$(jget "$OUT" 'd["updates"]')" = 4 ] && ok four-updates || fail four-updates "$(cat "$OUT")"
run "$T" -C "$WS" outbox remind --lead 1 --json
[ "$(jget "$OUT" 'd["updates"]')" = 0 ] && ok updates-once || fail updates-once "$(cat "$OUT")"
run "$T" -C "$WS" outbox send
expect_rc send-updates 0
# Each side's reminder and update: the same UID, the update's SEQUENCE higher, cancelled
# (S1) or at the new time (S2).
check_update() { # SESSION EXPECT: compares the reminders' .ics and the updates' (eml files)
  $PY - "$WS/outbox" "$1" "$2" "$NEW" <<'PY'
import datetime, email, email.policy, glob, sys, icalendar
folder, sid, want, new = sys.argv[1:]
def ics(kind):
    out = {}
    for f in glob.glob(folder + "/*.eml"):
        m = email.message_from_binary_file(open(f, "rb"), policy=email.policy.default)
        key = m["X-Tandem-Key"] or ""
        if not key.startswith(kind + ":"):
            continue
        for part in m.walk():
            if part.get_content_type() == "text/calendar":
                ev = icalendar.Calendar.from_ical(part.get_payload(decode=True)).walk("VEVENT")[0]
                out[str(m["To"])] = (str(ev["UID"]), int(ev["SEQUENCE"]), str(ev["STATUS"]),
                                    ev["DTSTART"].dt.astimezone(datetime.timezone.utc), str(m["Subject"]))
    return out
rem = {k: v for k, v in ics("reminder").items()}
upd = ics("update")
n = 0
for to, (uid, seq, status, start, subject) in upd.items():
    if to not in rem or rem[to][0] != uid or not uid.startswith("session-%s@" % sid):
        continue
    r = rem[to]
    assert seq > r[1], (seq, r)
    if want == "cancelled":
        if status != "CANCELLED" or not subject.startswith("Cancelled:"):
            continue
    else:
        if status != "CONFIRMED" or start.strftime("%Y-%m-%dT%H:%M") != new or not subject.startswith("Moved:"):
            continue
    n += 1
print(n)
PY
}
[ "$(check_update "$S1" cancelled)" -ge 2 ] && ok update-cancelled || fail update-cancelled "$(ls "$WS/outbox" | head)"
[ "$(check_update "$S2" moved)" -ge 2 ] && ok update-moved || fail update-moved "$(ls "$WS/outbox" | head)"
[ "$(q "SELECT count(*) FROM session_changes")" = 0 ] && ok notes-forgotten || fail notes-forgotten

finish
