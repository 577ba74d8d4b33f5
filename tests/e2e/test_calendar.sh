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

finish
