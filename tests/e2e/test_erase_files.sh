#!/usr/bin/env bash
# End-to-end: `tandem people erase` leaves no copy of the person's name or e-mail in the
# workspace (walk2 #5): their reminders' .eml copies, the partner's reminders and the
# manager's monthly-report mail that name them (rows scrubbed, copies removed), the
# published reports (scrubbed to "(erased)"), their certificate page (removed; `rewards
# verify` of its code says the holder was erased), and the database. The HR export in the
# workspace is listed as left, not touched. A crash between the erasure's commit and its
# file work, or between the file work and its close, is finished by `people erase --finish`.
. "$(dirname "$0")/lib.sh"

T=$TANDEM
P=digital-2027
WS=$(new_ws) || exit 1
DB=$WS/tandem.db
q() { sqlite3 "$DB" "$1"; }
sed -i -e 's/starts = "[0-9-]*"/starts = "2020-01-06"/' -e 's/ends = "[0-9-]*"/ends = "2099-06-30"/' \
  -e 's/^  title = "Digital reverse mentoring 2027",/&\n  manager = "E000001",/' "$WS/tandem.lua"
seed_pairs "$WS" $P 60 5 || { finish; exit; }
run "$T" -C "$WS" sessions plan --program $P
expect_rc plan 0

# Two pairs with later sessions: the mentee of the first (X) is erased, the second (Z) is
# erased in the crash checks.
mapfile -t MS < <(q "SELECT m.id FROM matches m JOIN sessions s ON s.match_id = m.id
  JOIN people a ON a.id = m.mentor_id JOIN people b ON b.id = m.mentee_id
  WHERE m.status = 'active' AND s.status = 'planned' AND a.external_id <> 'E000001'
  AND b.external_id <> 'E000001' GROUP BY m.id ORDER BY m.id LIMIT 2")
[ "${#MS[@]}" = 2 ] && ok pairs || { fail pairs "${#MS[@]} pairs"; finish; exit; }
M=${MS[0]}
X=$(q "SELECT p.external_id FROM matches m JOIN people p ON p.id = m.mentee_id WHERE m.id = $M")
NAME=$(q "SELECT name FROM people WHERE external_id = '$X'")
MAIL=$(q "SELECT email FROM people WHERE external_id = '$X'")

# Last month: a held session of each pair, so the monthly pulse names both sides.
LASTMONTH=$(date -u -d "$(date -u +%Y-%m-15) -1 month" +%Y-%m-10T10:00:00Z)
for m in "${MS[@]}"; do
  q "INSERT INTO sessions (match_id, starts_at, duration_min, timezone, planned_by, status, created_at, updated_at)
     VALUES ($m, '$LASTMONTH', 45, 'UTC', 'test', 'held', 'x', 'x')"
done
run "$T" -C "$WS" jobs run monthly-reports
expect_rc monthly-reports 0
grep -rqF "$NAME" "$WS/reports" && ok report-names-them || fail report-names-them "$(find "$WS/reports" -type f)"
# Reminders for the planned sessions, delivered as .eml files (theirs and the partner's).
run "$T" -C "$WS" outbox remind --lead 2000
expect_rc remind 0
run "$T" -C "$WS" outbox send
expect_rc send 0
grep -lF "$MAIL" "$WS"/outbox/*.eml >/dev/null 2>&1 && ok eml-names-them || fail eml-names-them "$(ls "$WS/outbox" | head)"
# A completion certificate: the pair ends completed, the rule grants, the page is written.
run "$T" -C "$WS" match end "$M" --reason "completed early, goals met"
expect_rc end 0
run "$T" -C "$WS" rewards dispatch
expect_rc dispatch 0
run "$T" -C "$WS" rewards certificate "$X"
expect_rc certificate 0
CODE=$(grep -o 'TC-[0-9]*-[0-9a-f]*' "$WS"/certificates/*-"$X".html | head -1)
[ -n "$CODE" ] && ok cert-code || fail cert-code "$(ls "$WS/certificates")"

run "$T" -C "$WS" people erase "$X" --yes
expect_rc erase 0
expect_out erase-reports "scrubbed reports/"
expect_out erase-report-mail "removed outbox/report_${P}_monthly-pulse_"
expect_out erase-reminder "removed outbox/reminder_"
expect_out erase-certificate "removed certificates/"
expect_out erase-tombstone "kept 1 certificate tombstone"
expect_out erase-left "people.csv"
# Nowhere in the workspace but the HR export (survey.csv has ids only), nor in the database.
LEFT=$(grep -rlF -e "$NAME" -e "$MAIL" "$WS" | sed "s|^$WS/||" | sort | tr '\n' ' ')
[ "$LEFT" = "people.csv " ] && ok grep-workspace || fail grep-workspace "still in: $LEFT"
[ "$(sqlite3 "$DB" .dump | grep -cF -e "$NAME" -e "$MAIL")" = 0 ] && ok sqlite-dump \
  || fail sqlite-dump "$(sqlite3 "$DB" .dump | grep -F -e "$NAME" -e "$MAIL" | cut -c1-200 | head -3)"
[ "$(q "SELECT count(*) FROM erasure_files")" = 0 ] && ok work-closed || fail work-closed
# The scrubbed report still reads: the erased side says so.
grep -rqF "(erased)" "$WS/reports" && ok report-scrubbed || fail report-scrubbed
[ "$(q "SELECT count(*) FROM outbox WHERE attachments LIKE '%(erased)%'")" -ge 1 ] && ok mail-row-scrubbed \
  || fail mail-row-scrubbed "$(q "SELECT id, idempotency_key FROM outbox WHERE kind = 'report'")"
run "$T" -C "$WS" rewards verify "$CODE"
expect_rc verify-erased 1
expect_err verify-erased-msg "but its holder was erased"
# Running it again changes nothing (no such person; no work left).
run "$T" -C "$WS" people erase "$X" --yes
expect_rc erase-again 1
run "$T" -C "$WS" people erase --finish
expect_rc finish-nothing 0
expect_out finish-nothing-msg "0 erasures had file work left"

# ---- crashes: the rows are gone, the files not yet; --finish (or the next erase) ends it.
M2=${MS[1]}
Z=$(q "SELECT p.external_id FROM matches m JOIN people p ON p.id = m.mentee_id WHERE m.id = $M2")
ZNAME=$(q "SELECT name FROM people WHERE external_id = '$Z'")
ZMAIL=$(q "SELECT email FROM people WHERE external_id = '$Z'")
grep -rqF "$ZNAME" "$WS/reports" && ok z-in-report || fail z-in-report
for point in erase.committed erase.files; do
  cp -r "$WS" "$E2E_TMP/c" && rm -f "$E2E_TMP/c/.tandem-serve.lock"
  TANDEM_CRASH_AT=$point "$T" -C "$E2E_TMP/c" people erase "$Z" --yes >/dev/null 2>&1
  RC=$?; expect_rc "crash $point" 137
  [ "$(sqlite3 "$E2E_TMP/c/tandem.db" "SELECT count(*) FROM people WHERE external_id = '$Z'")" = 0 ] \
    && ok "crash $point: rows gone" || fail "crash $point: rows gone"
  [ "$(sqlite3 "$E2E_TMP/c/tandem.db" "SELECT count(*) FROM erasure_files")" = 1 ] \
    && ok "crash $point: work kept" || fail "crash $point: work kept"
  run "$T" -C "$E2E_TMP/c" people erase --finish
  expect_rc "finish after $point" 0
  expect_out "finish after $point: msg" "1 erasure had file work left"
  LEFT=$(grep -rlF -e "$ZNAME" -e "$ZMAIL" "$E2E_TMP/c" | sed "s|^$E2E_TMP/c/||" | sort | tr '\n' ' ')
  [ "$LEFT" = "people.csv " ] && ok "finish after $point: clean" || fail "finish after $point: clean" "still in: $LEFT"
  [ "$(sqlite3 "$E2E_TMP/c/tandem.db" .dump | grep -cF -e "$ZNAME" -e "$ZMAIL")" = 0 ] \
    && ok "finish after $point: dump" || fail "finish after $point: dump"
  rm -rf "$E2E_TMP/c"
done
# A file that cannot be removed (a folder in its place): exit 1 naming it, the work kept;
# once it can be, --finish completes.
cp -r "$WS" "$E2E_TMP/c"
ZID=$(q "SELECT id FROM people WHERE external_id = '$Z'")
EML=$(cd "$E2E_TMP/c/outbox" && ls reminder_*_"${ZID}".*.eml | head -1)
[ -n "$EML" ] && rm "$E2E_TMP/c/outbox/$EML" && mkdir "$E2E_TMP/c/outbox/$EML" && ok stuck-file || fail stuck-file "no reminder of $Z"
run "$T" -C "$E2E_TMP/c" people erase "$Z" --yes
expect_rc stuck-erase 1
expect_err stuck-named "outbox/$EML: Is a directory"
expect_err stuck-how "people erase --finish"
[ "$(sqlite3 "$E2E_TMP/c/tandem.db" "SELECT count(*) FROM erasure_files")" = 1 ] && ok stuck-kept || fail stuck-kept
run "$T" -C "$E2E_TMP/c" people erase --finish
expect_rc stuck-again 1
rmdir "$E2E_TMP/c/outbox/$EML"
run "$T" -C "$E2E_TMP/c" people erase --finish
expect_rc stuck-finish 0
[ "$(sqlite3 "$E2E_TMP/c/tandem.db" "SELECT count(*) FROM erasure_files")" = 0 ] && ok stuck-closed || fail stuck-closed
[ "$(sqlite3 "$E2E_TMP/c/tandem.db" .dump | grep -cF -e "$ZNAME" -e "$ZMAIL")" = 0 ] && ok stuck-dump || fail stuck-dump
finish
