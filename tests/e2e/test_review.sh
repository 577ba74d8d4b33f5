#!/usr/bin/env bash
# End-to-end: the review loop cannot act on the wrong pair. A re-run supersedes the
# unreviewed proposals (kept as 'superseded' rows of their run, ids never reused);
# approving, rejecting or explaining a superseded id fails (exit 1), names the run
# that replaced it and changes nothing; an unknown id fails the same way. Decisions
# print what they did with names; veto is checked like pin; bulk decisions (--run,
# --all --program) are all-or-nothing; list shows names and departments, export writes
# the current matches as CSV or JSON. The --replace rule: a run whose policy allows no
# pair, or that proposes fewer than half of the unreviewed proposals, exits 1, names the
# constraints and changes nothing unless --replace is given. Explaining an approved pair
# does not find it forbidden by its own match (previously_paired).
. "$(dirname "$0")/lib.sh"

T=$TANDEM
P=digital-2027
WS=$(new_ws) || exit 1
DB=$WS/tandem.db
PY=/usr/bin/python3

run "$T" gen-org --people 120 --seed 5 --out "$WS/people.csv" --survey $P --survey-out "$WS/survey.csv"
expect_rc gen-org 0
run "$T" -C "$WS" import people "$WS/people.csv"
expect_rc import-people 0
run "$T" -C "$WS" import enrollments "$WS/survey.csv" --program $P
expect_rc import-enrollments 0

# ---- superseded proposals --------------------------------------------------------
run "$T" -C "$WS" match run --program $P
expect_rc run1 0
run "$T" -C "$WS" match list --program $P --status proposed --json
expect_rc list1 0
OLD_ID=$($PY -c 'import json,sys; print(json.load(open(sys.argv[1]))[0]["id"])' "$OUT")
RUN1=$($PY -c 'import json,sys; print(json.load(open(sys.argv[1]))[0]["run_id"])' "$OUT")
N1=$($PY -c 'import json,sys; print(len(json.load(open(sys.argv[1]))))' "$OUT")
MAX1=$(sqlite3 "$DB" "SELECT max(id) FROM matches")
[ "${N1:-0}" -gt 5 ] && ok run1-proposes || fail run1-proposes "only ${N1:-0} proposals"

run "$T" -C "$WS" match run --program $P
expect_rc run2 0
RUN2=$(sqlite3 "$DB" "SELECT run_id FROM matches WHERE status='proposed' LIMIT 1")
[ -n "$RUN2" ] && [ "$RUN2" != "$RUN1" ] && ok run2-new-run || fail run2-new-run "run ids '$RUN1' '$RUN2'"
# The first run's proposals are kept, superseded by the second run.
[ "$(sqlite3 "$DB" "SELECT count(*) FROM matches WHERE run_id='$RUN1' AND status='superseded' AND superseded_by='$RUN2'")" = "$N1" ] \
  && ok run1-superseded || fail run1-superseded "first run's rows not all superseded"
# No id of the new run was ever used before.
[ "$(sqlite3 "$DB" "SELECT count(*) FROM matches WHERE run_id='$RUN2' AND id <= $MAX1")" = 0 ] \
  && ok ids-not-reused || fail ids-not-reused "an id of run 1 was handed out again"
# The default list hides superseded rows; --status superseded shows them.
run "$T" -C "$WS" match list --program $P --json
$PY -c 'import json,sys; sys.exit(any(m["status"]=="superseded" for m in json.load(open(sys.argv[1]))))' "$OUT" \
  && ok list-hides-superseded || fail list-hides-superseded "superseded rows in the default list"
run "$T" -C "$WS" match list --program $P --status superseded --json
expect_rc list-superseded 0
expect_out list-superseded-has "\"id\": $OLD_ID"

# Acting on the old id: exit 1, names the replacing run, nothing changes.
D0=$(db_digest "$WS")
run "$T" -C "$WS" match approve "$OLD_ID"
expect_rc approve-superseded 1
expect_err approve-superseded-msg "match #$OLD_ID was superseded by run $RUN2"
[ "$(db_digest "$WS")" = "$D0" ] && ok approve-superseded-unchanged || fail approve-superseded-unchanged "db changed"
[ "$(sqlite3 "$DB" "SELECT count(*) FROM matches WHERE status='approved'")" = 0 ] \
  && ok nothing-approved || fail nothing-approved "a match was approved"
run "$T" -C "$WS" match reject "$OLD_ID"
expect_rc reject-superseded 1
expect_err reject-superseded-msg "superseded by run $RUN2"
run "$T" -C "$WS" match explain "$OLD_ID"
expect_rc explain-superseded 1
expect_err explain-superseded-msg "superseded by run $RUN2"
# A list with one current and one superseded id is all-or-nothing.
NEW_ID=$(sqlite3 "$DB" "SELECT min(id) FROM matches WHERE status='proposed'")
run "$T" -C "$WS" match approve "$NEW_ID" "$OLD_ID"
expect_rc approve-mixed 1
[ "$(db_digest "$WS")" = "$D0" ] && ok approve-mixed-unchanged || fail approve-mixed-unchanged "db changed"

# Unknown ids fail with exit 1.
run "$T" -C "$WS" match approve 987654
expect_rc approve-unknown 1
expect_err approve-unknown-msg "no match #987654"
run "$T" -C "$WS" match explain 987654
expect_rc explain-unknown 1
[ "$(db_digest "$WS")" = "$D0" ] && ok unknown-unchanged || fail unknown-unchanged "db changed"

# ---- decisions print what they did, with names ---------------------------------------
# name_of ID ROLE: the name of a match's mentor or mentee.
name_of() { sqlite3 "$DB" "SELECT p.name FROM matches m JOIN people p ON p.id = m.${2}_id WHERE m.id = $1"; }
ext_of() { sqlite3 "$DB" "SELECT p.external_id FROM matches m JOIN people p ON p.id = m.${2}_id WHERE m.id = $1"; }
run "$T" -C "$WS" match approve "$NEW_ID"
expect_rc approve-current 0
expect_out approve-says "approved #$NEW_ID: $(name_of "$NEW_ID" mentor) (mentor) - $(name_of "$NEW_ID" mentee) (mentee), score "
REJ_ID=$(sqlite3 "$DB" "SELECT min(id) FROM matches WHERE status='proposed'")
run "$T" -C "$WS" match reject "$REJ_ID" --json
expect_rc reject-json 0
$PY -c 'import json,sys; d=json.load(open(sys.argv[1])); sys.exit(not (d["action"]=="rejected" and d["count"]==1 and d["matches"][0]["id"]==int(sys.argv[2]) and d["matches"][0]["status"]=="rejected" and "mentor_department" in d["matches"][0]))' "$OUT" "$REJ_ID" \
  && ok reject-json-doc || fail reject-json-doc "$(head -c 400 "$OUT")"

# Veto is checked like pin: a pair whose roles are one-sided, given the right way round
# and swapped.
VID=$(sqlite3 "$DB" "SELECT m.id FROM matches m JOIN enrollments a ON a.person_id = m.mentor_id AND a.program_id = m.program_id AND a.role = 'mentor' JOIN enrollments b ON b.person_id = m.mentee_id AND b.program_id = m.program_id AND b.role = 'mentee' WHERE m.status = 'proposed' ORDER BY m.id LIMIT 1")
VM=$(ext_of "$VID" mentor) VE=$(ext_of "$VID" mentee)
D1=$(db_digest "$WS")
run "$T" -C "$WS" match veto "$VM" "$VM" --program $P
expect_rc veto-self 1
expect_err veto-self-msg "a person cannot mentor themself"
run "$T" -C "$WS" match veto "$VE" "$VM" --program $P
expect_rc veto-swapped 1
expect_err veto-swapped-msg "is enrolled as a mentee, not as a mentor"
run "$T" -C "$WS" match veto NOBODY "$VE" --program $P
expect_rc veto-unknown 1
expect_err veto-unknown-msg "no person with id or e-mail 'NOBODY'"
[ "$(db_digest "$WS")" = "$D1" ] && ok veto-refused-unchanged || fail veto-refused-unchanged "db changed"
run "$T" -C "$WS" match veto "$VM" "$VE" --program $P --reason "same team"
expect_rc veto 0
expect_out veto-says "vetoed $(name_of "$VID" mentor) (mentor) - $(name_of "$VID" mentee) (mentee) in $P; rejected 1 match of the pair"
[ "$(sqlite3 "$DB" "SELECT status FROM matches WHERE id = $VID")" = rejected ] && ok veto-rejects || fail veto-rejects "match $VID not rejected"

# Pin prints the match with names; --json gives the match.
PID=$(sqlite3 "$DB" "SELECT min(id) FROM matches WHERE status='proposed'")
run "$T" -C "$WS" match pin "$(ext_of "$PID" mentor)" "$(ext_of "$PID" mentee)" --program $P
expect_rc pin 0
expect_out pin-says "pinned match #$PID: $(name_of "$PID" mentor) (mentor) - $(name_of "$PID" mentee) (mentee)"

# ---- bulk decisions -------------------------------------------------------------------
run "$T" -C "$WS" match approve --all
expect_rc bulk-all-no-program 2
run "$T" -C "$WS" match approve "$PID" --run "$RUN2"
expect_rc bulk-ids-and-run 2
D2=$(db_digest "$WS")
run "$T" -C "$WS" match approve --run "$RUN1"
expect_rc bulk-superseded-run 1
expect_err bulk-superseded-run-msg "run $RUN1 was superseded by run $RUN2"
run "$T" -C "$WS" match approve --run no-such-run
expect_rc bulk-unknown-run 1
[ "$(db_digest "$WS")" = "$D2" ] && ok bulk-refused-unchanged || fail bulk-refused-unchanged "db changed"

run "$T" -C "$WS" match run --program $P
expect_rc run3 0
RUN3=$(sqlite3 "$DB" "SELECT run_id FROM matches WHERE status='proposed' ORDER BY id DESC LIMIT 1")
N3=$(sqlite3 "$DB" "SELECT count(*) FROM matches WHERE status='proposed' AND run_id='$RUN3'")
# Atomic: a proposal that cannot be approved (its mentee already has an approved match)
# makes the whole run's approval fail, and nothing is approved.
sqlite3 "$DB" "INSERT INTO matches (program_id, mentor_id, mentee_id, status, score, run_id, created_at) SELECT program_id, (SELECT mentor_id FROM matches WHERE run_id='$RUN3' AND mentor_id <> m.mentor_id AND mentor_id <> m.mentee_id LIMIT 1), mentee_id, 'proposed', 0.5, '$RUN3', created_at FROM matches m WHERE id = $NEW_ID"
D3=$(db_digest "$WS")
run "$T" -C "$WS" match approve --run "$RUN3"
expect_rc bulk-conflict 1
expect_err bulk-conflict-msg "the mentee already has approved match #$NEW_ID"
[ "$(db_digest "$WS")" = "$D3" ] && ok bulk-conflict-unchanged || fail bulk-conflict-unchanged "db changed"
sqlite3 "$DB" "DELETE FROM matches WHERE id = (SELECT max(id) FROM matches)"
run "$T" -C "$WS" match approve --run "$RUN3"
expect_rc bulk-run 0
expect_out bulk-run-says "approved $N3 proposal"
[ "$(sqlite3 "$DB" "SELECT count(*) FROM matches WHERE status='approved' AND run_id='$RUN3'")" = "$N3" ] \
  && ok bulk-run-count || fail bulk-run-count "not $N3 approved"

# --all --program: every proposal of the program; --json gives the count.
sqlite3 "$DB" "UPDATE matches SET status='proposed' WHERE run_id='$RUN3'"
run "$T" -C "$WS" match reject --all --program $P --json
expect_rc bulk-reject-all 0
$PY -c 'import json,sys; d=json.load(open(sys.argv[1])); sys.exit(not (d["action"]=="rejected" and d["count"]==int(sys.argv[2]) and d["program"]==sys.argv[3]))' "$OUT" "$N3" "$P" \
  && ok bulk-reject-all-json || fail bulk-reject-all-json "$(head -c 300 "$OUT")"
[ "$(sqlite3 "$DB" "SELECT count(*) FROM matches WHERE status='proposed'")" = 0 ] \
  && ok bulk-reject-all-none-left || fail bulk-reject-all-none-left "proposals left"
run "$T" -C "$WS" match approve --all --program $P
expect_rc bulk-nothing 0
expect_out bulk-nothing-says "approved 0 proposals of program $P"

# ---- list with names; export for the client ---------------------------------------------
AID=$(sqlite3 "$DB" "SELECT min(id) FROM matches WHERE status='approved'")
AMD=$(sqlite3 "$DB" "SELECT p.department FROM matches m JOIN people p ON p.id = m.mentor_id WHERE m.id = $AID")
run "$T" -C "$WS" match list --program $P --status approved
expect_rc list-names 0
expect_out list-names-header "MENTOR NAME"
grep -E "^$AID +$(ext_of "$AID" mentor) +$(ext_of "$AID" mentee) +approved .*$(name_of "$AID" mentor) +$AMD +$(name_of "$AID" mentee)" "$OUT" >/dev/null \
  && ok list-names-row || fail list-names-row "$(head -c 600 "$OUT")"

NCUR=$(sqlite3 "$DB" "SELECT count(*) FROM matches WHERE program_id = (SELECT id FROM programs WHERE name='$P') AND status IN ('proposed','approved','active')")
run "$T" -C "$WS" match export --program $P --format csv
expect_rc export-csv 0
expect_out export-csv-header "match_id,status,mentor_id,mentor_name,mentor_department,mentee_id,mentee_name,mentee_department,score,pinned,policy,policy_version,run_id"
[ "$(($(wc -l <"$OUT") - 1))" = "$NCUR" ] && ok export-csv-rows || fail export-csv-rows "want $NCUR rows: $(wc -l <"$OUT") lines"
$PY -c 'import csv,sys; r=list(csv.DictReader(open(sys.argv[1], newline="", encoding="utf-8"))); m=[x for x in r if x["match_id"]==sys.argv[2]]; sys.exit(not (m and m[0]["mentor_name"]==sys.argv[3] and m[0]["mentor_department"]==sys.argv[4] and m[0]["status"]=="approved"))' "$OUT" "$AID" "$(name_of "$AID" mentor)" "$AMD" \
  && ok export-csv-parses || fail export-csv-parses "$(head -c 600 "$OUT")"
run "$T" -C "$WS" match export --program $P --format json --out "$WS/out.json"
expect_rc export-json-file 0
expect_err export-json-says "exported $NCUR matches of $P to $WS/out.json"
$PY -c 'import json,sys; d=json.load(open(sys.argv[1])); sys.exit(not (d["program"]==sys.argv[2] and d["count"]==int(sys.argv[3])==len(d["matches"]) and all(m["status"] in ("proposed","approved","active") for m in d["matches"])))' "$WS/out.json" "$P" "$NCUR" \
  && ok export-json-doc || fail export-json-doc "$(head -c 400 "$WS/out.json")"
ls "$WS" | grep -q '\.tmp\.' && fail export-no-temp "temporary file left" || ok export-no-temp
run "$T" -C "$WS" match export --program $P --format xml
expect_rc export-bad-format 2
run "$T" -C "$WS" match export --program $P --format csv --out "$WS/no/such/dir/x.csv"
expect_rc export-bad-out 1
run "$T" -C "$WS" match export --program nope --format csv
expect_rc export-unknown-program 1

# ---- the --replace rule ------------------------------------------------------------------
WS2=$(new_ws) || exit 1
DB2=$WS2/tandem.db
run "$T" -C "$WS2" import people "$WS/people.csv"
expect_rc r-import-people 0
run "$T" -C "$WS2" import enrollments "$WS/survey.csv" --program $P
expect_rc r-import-enrollments 0
cur() { sqlite3 "$DB2" "SELECT count(*) FROM matches WHERE status='proposed' AND pinned=0"; }
cat >"$WS2/policies/nobody.lua" <<'LUA'
return tandem.policy{
  name = "nobody",
  version = "1.0.0",
  api = 1,
  require = {topic_fit = {min = 2}},
  weights = {topic_fit = 1},
}
LUA
cat >"$WS2/policies/few.lua" <<'LUA'
return tandem.policy{
  name = "few",
  version = "1.0.0",
  api = 1,
  require = {level_gap = {min = 7}, topic_fit = {min = 0.01}},
  weights = {topic_fit = 1},
}
LUA
# A first run with no unreviewed proposals is never refused for being fewer.
run "$T" -C "$WS2" match run --program $P --policy few
expect_rc r-first-few 0
run "$T" -C "$WS2" match reject --all --program $P
expect_rc r-reject-first 0
run "$T" -C "$WS2" match run --program $P
expect_rc r-run1 0
NC=$(cur)
[ "$NC" -gt 5 ] && ok r-run1-proposes || fail r-run1-proposes "$NC proposals"

# No pair allowed: exit 1, the constraint named, nothing written (no proposal, no event).
D5=$(db_digest "$WS2")
run "$T" -C "$WS2" match run --program $P --policy nobody
expect_rc r-nobody 1
expect_err r-nobody-msg "policy nobody 1.0.0 allows no pair"
expect_err r-nobody-left "$NC unreviewed proposals of $P are left in place and nothing was stored"
expect_err r-nobody-constraint "topic_fit outside the required range: "
expect_err r-nobody-hint "run again with --replace to replace them"
[ "$(db_digest "$WS2")" = "$D5" ] && ok r-nobody-unchanged || fail r-nobody-unchanged "db changed"
run "$T" -C "$WS2" match run --program $P --policy nobody --json
expect_rc r-nobody-json 1
$PY - "$OUT" "$NC" <<'PYEOF' && ok r-nobody-json-doc || fail r-nobody-json-doc "$(head -c 600 "$OUT")"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["refused"] is True and d["reason"] == "no_allowed_pair", d
assert d["current_proposals"] == int(sys.argv[2]) and d["proposed"] == 0 and d["allowed_pairs"] == 0, d
assert d["removed"]["topic_fit outside the required range"] > 0, d
assert d["mentees_without_allowed_partner"] > 0 and "--replace" in d["message"], d
PYEOF
[ "$(db_digest "$WS2")" = "$D5" ] && ok r-nobody-json-unchanged || fail r-nobody-json-unchanged "db changed"
# A dry run is never refused.
run "$T" -C "$WS2" match run --program $P --policy nobody --dry-run
expect_rc r-nobody-dry 0

# Fewer than half: the premise first (the policy proposes fewer than half of them).
run "$T" -C "$WS2" match run --program $P --policy few --dry-run --json
NF=$($PY -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["pairs"]))' "$OUT")
[ $((2 * NF)) -lt "$NC" ] && ok r-few-premise || fail r-few-premise "few proposes $NF of $NC"
run "$T" -C "$WS2" match run --program $P --policy few
expect_rc r-few 1
expect_err r-few-msg "policy few 1.0.0 proposes $NF pairs, fewer than half of the $NC unreviewed proposals of $P"
expect_err r-few-constraint "level_gap outside the required range: "
expect_err r-few-hint "run again with --replace to replace them"
[ "$(db_digest "$WS2")" = "$D5" ] && ok r-few-unchanged || fail r-few-unchanged "db changed"
run "$T" -C "$WS2" match run --program $P --policy few --json
expect_rc r-few-json 1
$PY -c 'import json,sys; d=json.load(open(sys.argv[1])); sys.exit(not (d["reason"]=="fewer_than_half" and d["proposed"]==int(sys.argv[2]) and d["current_proposals"]==int(sys.argv[3])))' "$OUT" "$NF" "$NC" \
  && ok r-few-json-doc || fail r-few-json-doc "$(head -c 600 "$OUT")"

# --replace proceeds as before: the old proposals are superseded by the new run.
run "$T" -C "$WS2" match run --program $P --policy few --replace
expect_rc r-few-replace 0
expect_out r-few-replace-says "proposed $NF matches in $P"
[ "$(cur)" = "$NF" ] && ok r-few-replace-count || fail r-few-replace-count "$(cur) proposals, want $NF"
[ "$(sqlite3 "$DB2" "SELECT count(*) FROM matches WHERE status='superseded'")" -ge "$NC" ] \
  && ok r-few-replace-superseded || fail r-few-replace-superseded "old proposals not superseded"
run "$T" -C "$WS2" match run --program $P --policy nobody --replace
expect_rc r-nobody-replace 0
expect_out r-nobody-replace-says "proposed 0 matches in $P"
[ "$(cur)" = 0 ] && ok r-nobody-replace-count || fail r-nobody-replace-count "$(cur) proposals left"
# Nothing left to replace: still refused, and says how to store it anyway.
run "$T" -C "$WS2" match run --program $P --policy nobody
expect_rc r-nobody-empty 1
expect_err r-nobody-empty-hint "run again with --replace to store it anyway"

# ---- explain of an approved pair: not forbidden by its own match ------------------------
run "$T" -C "$WS2" match run --program $P
expect_rc x-run 0
XID=$(sqlite3 "$DB2" "SELECT min(id) FROM matches WHERE status='proposed'")
XM=$(sqlite3 "$DB2" "SELECT p.external_id FROM matches m JOIN people p ON p.id = m.mentor_id WHERE m.id = $XID")
XE=$(sqlite3 "$DB2" "SELECT p.external_id FROM matches m JOIN people p ON p.id = m.mentee_id WHERE m.id = $XID")
run "$T" -C "$WS2" match approve "$XID"
expect_rc x-approve 0
run "$T" -C "$WS2" match explain --program $P "$XM" "$XE"
expect_rc x-explain 0
expect_out x-explain-matched "this pair is matched in $P"
expect_out x-explain-not-previously "previously_paired=no (forbid)"
grep -qF "previously_paired=yes" "$OUT" && fail x-explain-no-self-history "$(cat "$OUT")" || ok x-explain-no-self-history
run "$T" -C "$WS2" match explain --program $P "$XM" "$XE" --json
$PY -c 'import json,sys; d=json.load(open(sys.argv[1])); sys.exit(not (d["allowed"] and d["chosen"] and not d["constraints"]["previously_paired"]["holds"]))' "$OUT" \
  && ok x-explain-json || fail x-explain-json "$(head -c 600 "$OUT")"

finish
