#!/usr/bin/env bash
# End-to-end: the review loop cannot act on the wrong pair. A re-run supersedes the
# unreviewed proposals (kept as 'superseded' rows of their run, ids never reused);
# approving, rejecting or explaining a superseded id fails (exit 1), names the run
# that replaced it and changes nothing; an unknown id fails the same way.
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

# The current id still works.
run "$T" -C "$WS" match approve "$NEW_ID"
expect_rc approve-current 0

finish
