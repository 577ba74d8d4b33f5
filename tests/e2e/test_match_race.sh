#!/usr/bin/env bash
# End-to-end: a person erased while `match run` computes. The run reads its cohort, then
# spends seconds in a policy's score hook (it spins until a fixed time); meanwhile the test
# erases one of the cohort's mentees. Storing must then fail naming that person, write
# nothing, and say to run again (before, it failed with "storing a proposal: FOREIGN KEY
# constraint failed"). Ordered, not timed: the erase starts once the run shows on its
# progress line (a terminal, through script(1)) that the Lua scores started.
. "$(dirname "$0")/lib.sh"

T=$TANDEM
P=digital-2027
if ! command -v script >/dev/null 2>&1; then
  echo "script(1) not found: skipped"
  finish
  exit $?
fi
WS=$(new_ws) || exit 1
DB=$WS/tandem.db

run "$T" gen-org --people 120 --seed 5 --out "$WS/people.csv" --survey $P --survey-out "$WS/survey.csv"
expect_rc gen-org 0
run "$T" -C "$WS" import people "$WS/people.csv"
expect_rc import-people 0
run "$T" -C "$WS" import enrollments "$WS/survey.csv" --program $P
expect_rc import-enrollments 0

# The hook spins until UNTIL (epoch seconds): the run stays between its cohort and its
# store until then. Budgets raised so that the spin is not stopped.
UNTIL=$(($(date +%s) + 6))
cat >"$WS/policies/slow.lua" <<LUA
return tandem.policy{
  name = "slow",
  version = "1.0.0",
  api = 1,
  limits = {instructions = 10000000000, deadline_ms = 30000, batch_deadline_ms = 60000},
  require = {topic_fit = {min = 0.01}},
  weights = {topic_fit = 1},
  score = function(m, e, f)
    while os.time() < $UNTIL do end
    return 0
  end,
}
LUA
VICTIM=$(sqlite3 "$DB" "SELECT p.external_id FROM enrollments e JOIN people p ON p.id = e.person_id JOIN programs g ON g.id = e.program_id WHERE g.name = '$P' AND e.role = 'mentee' AND e.consent = 1 AND p.status = 'active' ORDER BY p.external_id LIMIT 1")
[ -n "$VICTIM" ] && ok victim || fail victim "no consenting mentee"
D0=$(sqlite3 "$DB" "SELECT count(*) FROM matches"):$(sqlite3 "$DB" "SELECT count(*) FROM events WHERE kind = 'match.proposed'")

script -qfec "'$T' -C '$WS' match run --program $P --policy slow >'$E2E_TMP/race-out'" /dev/null \
  >"$E2E_TMP/race-tty" 2>&1 &
BG=$!
started=0
for _ in $(seq 1 100); do
  if grep -qF "Lua scores (pairs)" "$E2E_TMP/race-tty"; then started=1; break; fi
  sleep 0.05
done
[ "$started" = 1 ] && ok run-computing || fail run-computing "no Lua progress: $(head -c 300 "$E2E_TMP/race-tty")"
run "$T" -C "$WS" people erase "$VICTIM" --yes
expect_rc erase 0
[ "$(date +%s)" -lt "$UNTIL" ] && ok erased-while-computing || fail erased-while-computing "the erase ended after the hook"
wait "$BG"
RC=$?
expect_rc run-fails 1
grep -qF "tandem: person $VICTIM was erased or unenrolled while the run computed; nothing was stored; run \`tandem match run --program $P\` again" "$E2E_TMP/race-tty" \
  && ok run-names-person || fail run-names-person "$(tr -d '\r' <"$E2E_TMP/race-tty" | tail -c 600)"
grep -qF "FOREIGN KEY" "$E2E_TMP/race-tty" && fail no-fk-message "$(tail -c 300 "$E2E_TMP/race-tty")" || ok no-fk-message
[ "$(sqlite3 "$DB" "SELECT count(*) FROM matches"):$(sqlite3 "$DB" "SELECT count(*) FROM events WHERE kind = 'match.proposed'")" = "$D0" ] \
  && ok nothing-stored || fail nothing-stored "matches/events changed"

# Run again, as the message says: it stores, without the erased person.
run "$T" -C "$WS" match run --program $P
expect_rc run-again 0
expect_out run-again-says "proposed "

finish
