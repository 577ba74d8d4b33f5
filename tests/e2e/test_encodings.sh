#!/usr/bin/env bash
# HR exports as they come (issue 8): UTF-8 with or without a byte order mark, UTF-16 LE/BE with
# one, Windows-1252 through --encoding, ',' ';' or tab separators detected from the header.
# Each file of tests/data/encodings/ must import exactly like its UTF-8 comma twin; the error
# cases must name the line and say how to fix the call.
source "$(dirname "$0")/lib.sh"
T="$TANDEM"
D="$TANDEM_SRCDIR/tests/data/encodings"
PROG=digital-2027

# people_rows WS: the people as JSON, without the import timestamps.
people_rows() { "$T" -C "$1" people list --json | grep -v '"\(created\|updated\)_at"'; }
# enroll_rows WS: the enrollments as stored, without the timestamp.
enroll_rows() {
  sqlite3 "$1/tandem.db" "SELECT p.external_id, e.role, e.capacity, e.topics_offered,
    e.topics_wanted, e.availability, e.consent, e.attributes FROM enrollments e
    JOIN people p ON p.id = e.person_id ORDER BY p.external_id"
}

twin=$(new_ws) || exit 1
run "$T" -C "$twin" import people "$D/people_utf8_comma.csv"
expect_rc "twin people imports" 0
run "$T" -C "$twin" import enrollments --program "$PROG" "$D/enroll_utf8_comma.csv"
expect_rc "twin enrollments import" 0
want_people=$(people_rows "$twin")
want_enroll=$(enroll_rows "$twin")
case "$want_people" in *"Zoë Müller"*"François Œuvre"*) ok "twin has accented names" ;;
  *) fail "twin has accented names" "$want_people" ;; esac

# same_as_twin NAME FILE [OPTIONS...]: a fresh workspace imports FILE like the twin.
same_people() {
  local name=$1 file=$2; shift 2
  local ws; ws=$(new_ws) || return
  run "$T" -C "$ws" import people "$D/$file" "$@"
  expect_rc "$name: exit" 0
  if [ "$(people_rows "$ws")" = "$want_people" ]; then ok "$name"; else
    fail "$name" "people differ from the twin: $(people_rows "$ws" | head -c 400)"; fi
  LAST_WS=$ws
}
same_enroll() {
  local name=$1 file=$2; shift 2
  local ws; ws=$(new_ws) || return
  run "$T" -C "$ws" import people "$D/people_utf8_comma.csv"
  run "$T" -C "$ws" import enrollments --program "$PROG" "$D/$file" "$@"
  expect_rc "$name: exit" 0
  if [ "$(enroll_rows "$ws")" = "$want_enroll" ]; then ok "$name"; else
    fail "$name" "enrollments differ from the twin: $(enroll_rows "$ws")"; fi
}

same_people "people: UTF-8 with BOM" people_utf8_bom.csv
same_people "people: UTF-16 LE with BOM (tabs, as Excel writes it)" people_utf16le_bom.csv
same_people "people: UTF-16 BE with BOM" people_utf16be_bom.csv
same_people "people: UTF-16 LE without BOM" people_utf16le_nobom.csv
same_people "people: semicolons" people_semicolon.csv
same_people "people: tabs" people_tab.csv
same_people "people: --delimiter ';' forced" people_semicolon.csv --delimiter ';'
same_people "people: --delimiter tab forced" people_tab.csv --delimiter tab
same_people "people: Windows-1252 with --encoding" people_cp1252.csv --encoding windows-1252
same_people "people: Latin-1 name for it" people_cp1252.csv --encoding WINDOWS-1252
same_people "people: Windows-1252 and semicolons" people_cp1252_semicolon.csv --encoding cp1252
# Re-importing another encoding of the same people changes nothing.
run "$T" -C "$LAST_WS" import people "$D/people_utf16be_bom.csv"
expect_rc "re-import of UTF-16 BE" 0
expect_out "re-import of UTF-16 BE changes nothing" "0 new, 0 updated"

same_enroll "enrollments: UTF-8 with BOM" enroll_utf8_bom.csv
same_enroll "enrollments: UTF-16 LE with BOM" enroll_utf16le_bom.csv
same_enroll "enrollments: UTF-16 BE with BOM" enroll_utf16be_bom.csv
same_enroll "enrollments: UTF-16 BE without BOM, semicolons" enroll_utf16be_nobom.csv
same_enroll "enrollments: semicolons" enroll_semicolon.csv
same_enroll "enrollments: tabs" enroll_tab.csv
same_enroll "enrollments: Windows-1252 and semicolons" enroll_cp1252_semicolon.csv --encoding latin1

# Errors: all-or-nothing and line-precise, with the hint that fixes the call.
ws=$(new_ws) || exit 1
before=$(db_digest "$ws")
run "$T" -C "$ws" import people "$D/people_cp1252.csv"
expect_rc "Windows-1252 without --encoding fails" 1
expect_err "Windows-1252: line, column and hint" \
  "people_cp1252.csv:2:2: invalid UTF-8 (byte 3 of the field); if the file is Windows-1252 or Latin-1, pass --encoding windows-1252"
expect_err "Windows-1252: every bad line" "people_cp1252.csv:4:2: invalid UTF-8"
run "$T" -C "$ws" import people "$D/people_utf16le_unpaired.csv"
expect_rc "unpaired surrogate fails" 1
expect_err "unpaired surrogate: line and column" \
  "people_utf16le_unpaired.csv:3:4: invalid UTF-16: unpaired high surrogate 0xD800"
run "$T" -C "$ws" import people "$D/people_semicolon.csv" --delimiter ,
expect_rc "forced wrong delimiter fails" 1
expect_err "wrong delimiter: says what was used and how to override" \
  "people_semicolon.csv:1:1: missing required column 'id' (use --map COLUMN=id if the file names it differently); the header was split on ',' (--delimiter) but also contains 5 ';'; if that separates the columns, pass --delimiter ';'"
run "$T" -C "$ws" import people "$D/people_tab.csv" --delimiter ';'
expect_rc "tab file read with ';' fails" 1
expect_err "tab file: hint names tab" "pass --delimiter tab"
# A header with more ';' than ',' is detected as ';': when the columns then lack the required
# ones, the error says so.
printf 'id,name;email,timezone;x;y\ne1,A;a@x.com,UTC;1;2\n' >"$E2E_TMP/mixed.csv"
run "$T" -C "$ws" import people "$E2E_TMP/mixed.csv"
expect_rc "mixed header fails" 1
expect_err "mixed header: detected ';', hint ','" \
  "the header was split on ';' (detected) but also contains 2 ','; if that separates the columns, pass --delimiter ','"
run "$T" -C "$ws" import people "$D/people_utf8_comma.csv" --encoding no-such-charset
expect_rc "unknown encoding is a usage error" 2
expect_err "unknown encoding lists examples" "unknown encoding 'no-such-charset' (examples: windows-1252, latin1"
run "$T" -C "$ws" import people "$D/people_utf8_comma.csv" --delimiter '|'
expect_rc "bad delimiter is a usage error" 2
expect_err "bad delimiter message" "--delimiter expects ',', ';' or tab, got '|'"
if [ "$(db_digest "$ws")" = "$before" ]; then ok "failed imports wrote nothing"; else
  fail "failed imports wrote nothing" "database changed"; fi

run "$T" -C "$ws" import people "$D/people_utf8_comma.csv"
before=$(db_digest "$ws")
run "$T" -C "$ws" import enrollments --program "$PROG" "$D/enroll_semicolon.csv" --delimiter ,
expect_rc "enrollments: wrong delimiter fails" 1
expect_err "enrollments: delimiter hint" \
  "missing required column 'person' (use --map COLUMN=person to rename one); the header was split on ',' (--delimiter) but also contains 3 ';'; if that separates the columns, pass --delimiter ';'"
run "$T" -C "$ws" import enrollments --program "$PROG" "$D/enroll_cp1252_semicolon.csv" --encoding nope
expect_rc "enrollments: unknown encoding" 2
if [ "$(db_digest "$ws")" = "$before" ]; then ok "failed enrollment imports wrote nothing"; else
  fail "failed enrollment imports wrote nothing" "database changed"; fi

run "$T" import people --help
expect_out "people help names --encoding" "--encoding NAME"
expect_out "people help names --delimiter" "--delimiter D"
run "$T" import enrollments --help
expect_out "enrollments help names --encoding" "--encoding NAME"

finish
