#!/usr/bin/env bash
# End-to-end tests of `tandem import people` and `tandem people list|show|export|erase`:
# every kind of bad input fails with FILE:LINE:COLUMN and leaves the database unchanged;
# good files (BOM, CRLF, quoted newlines) import; upsert, dry run, JSON output, erasure.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
PY=/usr/bin/python3

WS=$(new_ws) || { echo "cannot create a workspace with 'tandem init'"; exit 1; }
T() { "$TANDEM" -C "$WS" "$@"; }

# --- a good file: BOM, CRLF, quotes, embedded newline, unknown column -> attributes
printf '\xEF\xBB\xBFid,name,email,title,level,department,location,timezone,manager,birth_year,skills,topics_wanted,Shirt\r\n' >"$WS/people.csv"
printf 'E1,Alice Boss,alice@example.com,CEO,9,Exec,Paris,Europe/Paris,,1960,strategy;finance,ai,L\r\n' >>"$WS/people.csv"
printf 'E2,"Smith, Bob",bob@example.com,"Lead ""Core""",6,Eng,Berlin,Europe/Berlin,alice@example.com,1985,python; sql,,M\r\n' >>"$WS/people.csv"
printf 'E3,Carol,carol@example.com,,2,Eng,NYC,America/New_York,E2,1999,,"tiktok;\r\nculture",S\r\n' >>"$WS/people.csv"

run T import people people.csv --dry-run
expect_rc "dry run" 0
expect_out "dry run summary" "would import 3 people: 3 new, 0 updated"
[ "$(sqlite3 "$WS/tandem.db" 'SELECT count(*) FROM people')" = 0 ] && ok dry-nothing || fail "dry run wrote rows"

run T import people people.csv
expect_rc "import" 0
expect_out "import summary" "imported 3 people (3 new, 0 updated)"
[ "$(sqlite3 "$WS/tandem.db" "SELECT coalesce(title, '') || '|' || topics_wanted || '|' || attributes FROM people WHERE external_id='E3' OR external_id='E2' ORDER BY external_id")" = \
  "$(printf 'Lead "Core"|[]|{"Shirt":"M"}\n|["tiktok","culture"]|{"Shirt":"S"}')" ] && ok stored || fail stored "$(sqlite3 "$WS/tandem.db" 'SELECT * FROM people')"
[ "$(sqlite3 "$WS/tandem.db" "SELECT count(*) FROM events WHERE kind='people.imported' AND instr(payload, '@') = 0")" = 1 ] && ok event || fail event "no people.imported event (or it holds an e-mail)"

# --- the same file again: no person is written (updated_at kept), only the import event
BEFORE=$(sqlite3 "$WS/tandem.db" "SELECT group_concat(updated_at || name, ',') FROM people")
run T import people people.csv
expect_rc "re-import" 0
expect_out "re-import summary" "imported 3 people (0 new, 0 updated, 3 unchanged)"
[ "$(sqlite3 "$WS/tandem.db" "SELECT group_concat(updated_at || name, ',') FROM people")" = "$BEFORE" ] && ok reimport-untouched || fail reimport-untouched

# --- upsert: E3 updated (kept columns survive), E4 added
printf 'id,name,email,timezone,manager\nE3,Carol Jones,carol@example.com,Europe/Paris,bob@example.com\nE4,Dan,dan@example.com,UTC,E3\n' >"$WS/up.csv"
run T import people up.csv
expect_rc "upsert" 0
expect_out "upsert summary" "imported 2 people (1 new, 1 updated)"
[ "$(sqlite3 "$WS/tandem.db" "SELECT name || '|' || level || '|' || timezone FROM people WHERE external_id='E3'")" = "Carol Jones|2|Europe/Paris" ] && ok upsert-kept || fail upsert-kept

# --- bad input: one file per kind. bad NAME FILE-CONTENT EXPECTED-STDERR [extra args]
DIGEST=$(db_digest "$WS")
bad() {
  local name=$1 content=$2 want=$3; shift 3
  printf '%b' "$content" >"$WS/bad.csv"
  run T import people bad.csv "$@"
  expect_rc "$name: exit" 1
  expect_err "$name: message" "$want"
  [ "$(db_digest "$WS")" = "$DIGEST" ] && ok "$name: unchanged" || fail "$name: unchanged" "database changed"
}
H='id,name,email,timezone,level,manager,hire_date,status,generation,birth_year\n'
bad "empty file" '' 'bad.csv:1:1: empty file'
bad "missing column" 'id,name,timezone\nE9,X,UTC\n' "bad.csv:1:1: missing required column 'email'"
bad "missing field" "${H}E9,,x@example.com,UTC,,,,,,\n" 'bad.csv:2:2: name: missing (required)'
bad "duplicate id" "${H}E9,X,x@example.com,UTC,,,,,,\nE9,Y,y@example.com,UTC,,,,,,\n" "bad.csv:3:1: id: duplicate id 'E9' (also on line 2)"
bad "duplicate email in file" "${H}E9,X,x@example.com,UTC,,,,,,\nE8,Y,X@example.com,UTC,,,,,,\n" "bad.csv:3:3: email: 'X@example.com' is already the e-mail of id 'E9' (line 2)"
bad "duplicate email in db" "${H}E9,X,alice@example.com,UTC,,,,,,\n" "bad.csv:2:3: email: 'alice@example.com' is already the e-mail of id 'E1' in the database"
bad "unknown manager" "${H}E9,X,x@example.com,UTC,,nobody@example.com,,,,\n" "bad.csv:2:6: manager: 'nobody@example.com' is neither the id nor the e-mail"
bad "manager cycle" "${H}E9,X,x@example.com,UTC,,E8,,,,\nE8,Y,y@example.com,UTC,,E9,,,,\n" 'bad.csv:2:6: manager: manager cycle: E9 -> E8 -> E9'
bad "cycle through db" "${H}E1,Alice Boss,alice@example.com,UTC,,E4,,,,\n" 'bad.csv:2:6: manager: manager cycle: E1 -> E4 -> E3 -> E2 -> E1'
bad "self manager" "${H}E9,X,x@example.com,UTC,,E9,,,,\n" "bad.csv:2:6: manager: 'E9' is the person themself"
bad "bad email" "${H}E9,X,bob@,UTC,,,,,,\n" "bad.csv:2:3: email: 'bob@' is not a valid e-mail address"
bad "bad timezone" "${H}E9,X,x@example.com,Europe/Pariss,,,,,,\n" "bad.csv:2:4: timezone: 'Europe/Pariss' is not an IANA time zone"
bad "bad level" "${H}E9,X,x@example.com,UTC,12,,,,,\n" "bad.csv:2:5: level: '12' is not a whole number from 1 to 9"
bad "bad date" "${H}E9,X,x@example.com,UTC,,,2023-13-01,,,\n" "bad.csv:2:7: hire_date: '2023-13-01' is not a valid date"
bad "bad status" "${H}E9,X,x@example.com,UTC,,,,fired,,\n" "bad.csv:2:8: status: 'fired' is not one of active, leave, terminated"
bad "bad generation" "${H}E9,X,x@example.com,UTC,,,,,boomers,\n" "bad.csv:2:9: generation: 'boomers' is not one of"
bad "bad birth year" "${H}E9,X,x@example.com,UTC,,,,,,18xx\n" "bad.csv:2:10: birth_year: '18xx' is not a year"
bad "invalid utf-8" "${H}E9,X\xff,x@example.com,UTC,,,,,,\n" 'bad.csv:2:2: invalid UTF-8'
bad "nul byte" "${H}E9,X\x00Y,x@example.com,UTC,,,,,,\n" 'bad.csv:2:2: NUL byte in field'
bad "stray quote" "${H}E9,X\"Y,x@example.com,UTC,,,,,,\n" 'bad.csv:2:2: quote (") in an unquoted field'
bad "unterminated quote" "${H}E9,\"X,x@example.com,UTC,,,,,,\n" 'bad.csv:2:2: unterminated quoted field'
bad "field count" "${H}E9,X,x@example.com,UTC\n" 'bad.csv:2:5: the record has 4 fields, the header has 10'
bad "unmapped --map target" 'id,name,Mail,timezone\nE9,X,x@example.com,UTC\n' "bad.csv:1:3: --map 'Mail=e-mail': 'e-mail' is not a person field" --map Mail=e-mail
LONG=$(head -c 70000 /dev/zero | tr '\0' x)
bad "over-long field" "id,name,email,timezone\nE9,$LONG,x@example.com,UTC\n" 'bad.csv:2:2: field longer than 65536 bytes'
# All errors of a file are reported, then a count.
bad "many errors" "${H}E9,X,bad1,UTC,,,,,,\nE8,Y,bad2,UTC,0,,,,,\n" 'bad.csv: 3 errors; nothing was imported'
expect_err "many errors: first" "bad.csv:2:3: email: 'bad1'"
expect_err "many errors: last" "bad.csv:3:5: level: '0'"
# The printed list is capped at 50, then "... and N more".
{ printf 'id,name,email,timezone\n'; for i in $(seq 1 60); do echo "X$i,N,bad$i,UTC"; done; } >"$WS/many.csv"
run T import people many.csv
expect_rc "cap: exit" 1
expect_err "cap: more" "... and 10 more"
[ "$(grep -c '^many.csv:' "$ERR")" = 50 ] && ok cap-50 || fail cap-50 "$(grep -c '^many.csv:' "$ERR") lines"

# --map renames columns.
printf 'Employee ID,name,Mail,timezone\nE5,Eve,eve@example.com,UTC\n' >"$WS/map.csv"
run T import people map.csv --map 'Employee ID=id' --map Mail=email
expect_rc "map" 0
expect_out "map summary" "imported 1 people (1 new, 0 updated)"

# --- list / show / export
run T people list
expect_rc "list" 0
expect_out "list table" "E2  Smith, Bob"
head -n1 "$OUT" | grep -q '^ID  *NAME  *EMAIL  *LEVEL  *DEPARTMENT  *LOCATION  *TIMEZONE$' && ok "list header" ||
  fail "list header" "$(head -n1 "$OUT")"
run T people list --json
expect_rc "list json" 0
$PY -c 'import json,sys; a=json.load(open(sys.argv[1])); assert len(a)==5, a; b=[p for p in a if p["id"]=="E2"][0]; assert b["manager"]=="E1" and b["skills"]==["python","sql"], b' "$OUT" && ok list-json || fail list-json "$(head -c 300 "$OUT")"
run T people show bob@example.com --json
expect_rc "show json" 0
$PY -c 'import json,sys; p=json.load(open(sys.argv[1])); assert p["id"]=="E2" and p["manager"]=={"id":"E1","name":"Alice Boss"}, p' "$OUT" && ok show-json || fail show-json "$(head -c 300 "$OUT")"
run T people show E3
expect_out "show text" "manager:"
expect_out "show text manager" "E2 (Smith, Bob)"
run T people show nobody
expect_rc "show unknown" 1
expect_err "show unknown message" "no person with id or e-mail 'nobody'"

# Activity about Bob in other tables, to export and then erase.
sqlite3 "$WS/tandem.db" "PRAGMA foreign_keys=ON;
INSERT INTO programs(id, name, created_at) VALUES (100, 'e2e', 't');
INSERT INTO enrollments(program_id, person_id, role, created_at) SELECT 100, id, 'mentor', 't' FROM people WHERE external_id IN ('E1','E2');
INSERT INTO matches(id, program_id, mentor_id, mentee_id, status, created_at) VALUES (100, 100, (SELECT id FROM people WHERE external_id='E2'), (SELECT id FROM people WHERE external_id='E1'), 'active', 't');
INSERT INTO sessions(id, match_id, starts_at, timezone, planned_by, created_at, updated_at) VALUES (100, 100, 's', 'UTC', 'weekly', 't', 't');
INSERT INTO feedback(session_id, match_id, author_id, outcome, rating, created_at) VALUES (100, 100, (SELECT id FROM people WHERE external_id='E2'), 'held', 5, 't');
INSERT INTO rewards(award_key, person_id, plugin, points, reason, at) VALUES ('r:1:1', (SELECT id FROM people WHERE external_id='E2'), 'r', 5, 'x', 't');
INSERT INTO events(at, kind, subject_id, payload) VALUES ('t', 'match.proposed', (SELECT id FROM people WHERE external_id='E2'), '{\"to\":\"bob@example.com\"}');
INSERT INTO outbox(idempotency_key, kind, not_before, created_at, channel, recipient_id, body) VALUES ('k1', 'nudge', 't', 't', 'eml', (SELECT id FROM people WHERE external_id='E2'), 'Dear bob@example.com');" || fail seed "sqlite3 failed"
run T people export E2
expect_rc "export" 0
$PY -c '
import json,sys
x=json.load(open(sys.argv[1]))
assert x["person"]["email"]=="bob@example.com", x["person"]
for t,n in [("enrollments",1),("matches",1),("sessions",1),("feedback",1),("rewards",1),("events",1),("outbox",1)]:
    assert len(x[t])==n, (t, x[t])
assert x["events"][0]["payload"]=={"to":"bob@example.com"}
' "$OUT" && ok export-json || fail export-json "$(head -c 400 "$OUT")"

# --- erase
run T people erase E2
expect_rc "erase without --yes" 2
run T people erase bob@example.com --yes
expect_rc "erase" 0
expect_out "erase summary" "erased E2:"
n=$(cat "$WS/tandem.db" "$WS/tandem.db-wal" 2>/dev/null | grep -c -a 'bob@example.com')
[ "$n" = 0 ] && ok erase-grep || fail erase-grep "e-mail still found $n times"
for f in "$WS/tandem.db" "$WS/tandem.db-wal"; do
  [ -e "$f" ] || continue
  c=$(grep -c -a 'bob@example.com' "$f"); [ "$c" = 0 ] && ok "erase-grep $f" || fail "erase-grep $f" "$c"
done
[ "$(sqlite3 "$WS/tandem.db" "SELECT count(*) FROM events WHERE kind='people.erased' AND payload LIKE '{\"pseudonym\":\"%'")" = 1 ] && ok tombstone || fail tombstone
[ "$(sqlite3 "$WS/tandem.db" "SELECT count(*) FROM people WHERE external_id='E3' AND manager_id IS NULL")" = 1 ] && ok reports-detached || fail reports-detached
[ "$(sqlite3 "$WS/tandem.db" "SELECT (SELECT count(*) FROM matches WHERE id=100 AND NOT (status='ended' AND end_reason='partner erased' AND mentor_id IS NULL)) + (SELECT count(*) FROM outbox) + (SELECT count(*) FROM rewards)")" = 0 ] && ok cascades || fail cascades
# Their active match ended (partner erased) and stays detached for the partner's calendar.
[ "$(sqlite3 "$WS/tandem.db" "SELECT count(*) FROM matches WHERE id=100 AND status='ended' AND mentor_id IS NULL")" = 1 ] && ok match-kept-detached || fail match-kept-detached
run T people show E2
expect_rc "erased is gone" 1

# --- usage errors and help
for args in "people" "people bogus" "import people" "import people a.csv b.csv" "people show" \
            "people list --bogus" "people show E1 E3" "import people people.csv --bogus" \
            "import people people.csv --map noequals"; do
  run T $args
  expect_rc "usage: $args" 2
done
for args in "people --help" "people list --help" "people erase --help" "import people --help"; do
  run T $args
  expect_rc "help: $args" 0
  expect_out "help text: $args" "usage:"
done
run T import people --help
expect_out "help lists attributes" "attributes"

# No workspace: a clear message.
run "$TANDEM" -C "$E2E_TMP/nowhere" people list
expect_rc "no workspace" 1
expect_err "no workspace message" "no workspace at"

finish
