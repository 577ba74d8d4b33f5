#!/usr/bin/env bash
# The service dies at every step boundary in turn, and nothing is lost or doubled.
#
# A workspace of a few approved pairs (notify = jsonl) with a Lua job that queues a message
# every hour is taken through two wakes of `tandem serve --once` on a virtual clock: at V1,
# the first HH:02 after the jobs were created (the matches are activated, sessions planned,
# reminders queued and delivered, the Lua job runs), and at V2, 10 to 31 days later and past
# the first midnight of a month in the program's zone (ten days or more of runs coalesced by
# the misfire policy, more sessions, the first ones marked missed, more reminders, and the
# monthly-reports job: the month's pages under reports/, their report.published events and
# the program manager's messages). For each wake, N = 1, 2, ...: a fresh copy
# runs it with TANDEM_CRASH_AT=N (core/base/crash.h: the process dies with _exit(137) at
# the N-th crash point it reaches), then runs again without the variable 11 virtual
# minutes later (past every lease: a claim or a send the crash interrupted is recovered);
# its database must then pass tests/e2e/serve_check.py (integrity, every occurrence done
# once, every session once, no key delivered twice, every report once and whole) and hold
# exactly what an uncrashed run holds (sessions, occurrences, outbox rows, delivered keys,
# event counts, report files). The walk
# ends at the first N the wake completes without reaching.
#
# Why the instants are safe to compare: a crashed wake finishes 11 minutes later than the
# uncrashed one, so V1 and V2 sit at HH:02, and every instant a result depends on (a job
# at HH:00, a session start or end on a quarter hour, a start 24 h ahead for reminders,
# an end 24 h back for missed sessions) is outside [HH:02, HH:13].
# The virtual clock is placed exactly: with --time-scale 2 --time-from 2r - V, a process
# started at real second r reads V (plus twice its start-up delay).
source "$(dirname "$0")/lib.sh"

T=$TANDEM
P=digital-2027
CHECK="/usr/bin/python3 $(dirname "$0")/serve_check.py"

BASE=$(new_ws) || exit 1
sed -i -e 's/starts = "[0-9-]*"/starts = "2020-01-06"/' -e 's/ends = "[0-9-]*"/ends = "2099-12-31"/' \
  -e 's|timezone = "Europe/Paris",|timezone = "Europe/Paris",\n  notify = "jsonl",|' \
  -e 's|^  name = "digital-2027",|&\n  manager = "E000001",|' "$BASE/tandem.lua"
"$T" gen-org --people 50 --seed 7 --out "$BASE/people.csv" --survey $P --survey-out "$BASE/survey.csv" >/dev/null 2>&1
"$T" -C "$BASE" import people people.csv >/dev/null 2>&1
"$T" -C "$BASE" import enrollments survey.csv --program $P >/dev/null 2>&1
"$T" -C "$BASE" match run --program $P >/dev/null 2>&1
run "$T" -C "$BASE" match approve --all --program $P
expect_rc approve 0
# The program has started: approving activates them at once (lifecycle.h).
NPAIRS=$(sqlite3 "$BASE/tandem.db" "SELECT count(*) FROM matches WHERE status = 'active'")
[ "$NPAIRS" -ge 3 ] && ok pairs || fail pairs "only $NPAIRS active matches"
cat >"$BASE/scripts/ping.lua" <<'LUA'
return tandem.job{ name = "ping", version = "1.0.0", api = 1, schedule = "every 1h",
  run = function(ctx)
    return { {event = {kind = "custom.ping", payload = {due = ctx.due}}},
             {message = {to = "E000001", subject = "ping", body = "due " .. ctx.due, key = ctx.due}} }
  end }
LUA

# at WS V [ARGS]: one wake of the service at virtual instant V (UTC seconds); exit in $RC.
at() {
  local ws=$1 v=$2 r
  shift 2
  r=$(date -u +%s)
  "$T" -C "$ws" serve --once --time-scale 2 --time-from $((2 * r - v)) "$@" 2>>"$ws/serve.log"
  RC=$?
}

# The jobs are created at the real now; the first wake at the next HH:02.
R0=$(date -u +%s)
at "$BASE" "$R0"
expect_rc "jobs created" 0
V1=$(((R0 / 3600 + 1) * 3600 + 120))
# V2: ten days on, and at least past the next first of a month at 00:00 in Paris (+2 min).
M=$(TZ=Europe/Paris date -d "$(TZ=Europe/Paris date -d "@$V1" +%Y-%m-01) +1 month" +%s)
V2=$((V1 + 10 * 86400))
[ $((M + 120)) -gt "$V2" ] && V2=$((M + 120))
LEASES=660 # more than the outbox's (300 s) and a Lua run's (600 s) lease

# walk NAME BASE V: the uncrashed reference at V, then a crash at every point N in turn.
# The reference's workspace is left in $E2E_TMP/ref-NAME (the next walk's base).
walk() {
  local name=$1 base=$2 v=$3 ref=$E2E_TMP/ref-$1 w=$E2E_TMP/w n problems
  rm -rf "$ref" && cp -a "$base" "$ref"
  at "$ref" "$v"
  at "$ref" $((v + LEASES))
  expect_rc "$name reference" 0
  problems=$($CHECK check "$ref" --custom custom.ping --snapshot-out "$E2E_TMP/ref-$name.snap")
  [ -z "$problems" ] && ok "$name reference checks" || fail "$name reference checks" "$problems"
  grep -q '^events custom.ping' "$E2E_TMP/ref-$name.snap" && grep -q '^delivered reminder:' "$E2E_TMP/ref-$name.snap" &&
    ok "$name reference did work" || fail "$name reference did work" "$(grep '^events' "$E2E_TMP/ref-$name.snap")"
  for ((n = 1; n <= 400; n++)); do
    rm -rf "$w" && cp -a "$base" "$w"
    TANDEM_CRASH_AT=$n at "$w" "$v"
    if [ "$RC" -eq 0 ]; then
      echo "$name: the wake passed $((n - 1)) crash points; each one crashed and recovered:"
      sort "$E2E_TMP/points-$name" | uniq -c | sed 's/ reached$//' | column -c 100
      [ "$n" -gt 10 ] && ok "$name points" || fail "$name points" "only $((n - 1)) crash points"
      problems=$($CHECK check "$w" --custom custom.ping --same-as "$E2E_TMP/ref-$name.snap")
      [ -z "$problems" ] && ok "$name uncrashed" || fail "$name uncrashed" "$problems"
      return
    fi
    if [ "$RC" -ne 137 ]; then
      fail "$name crash $n" "exit $RC: $(tail -c 600 "$w/serve.log")"
      return
    fi
    local where
    where=$(grep -o 'crash point [a-z_.]* reached' "$w/serve.log" | tail -1)
    echo "${where#crash point }" >>"$E2E_TMP/points-$name"
    at "$w" $((v + LEASES))
    if [ "$RC" -ne 0 ]; then
      fail "$name crash $n ($where) restart" "exit $RC: $(tail -c 600 "$w/serve.log")"
      continue
    fi
    problems=$($CHECK check "$w" --custom custom.ping --same-as "$E2E_TMP/ref-$name.snap")
    [ -z "$problems" ] && ok "$name crash $n" || fail "$name crash $n ($where)" "$problems"
  done
  fail "$name walk" "still crashing after $((n - 1)) points"
}

walk wake1 "$BASE" "$V1"
walk wake2 "$E2E_TMP/ref-wake1" "$V2"
grep -q '^session .* missed$' "$E2E_TMP/ref-wake2.snap" && ok "wake2 marks missed" ||
  fail "wake2 marks missed" "no missed session in the reference"
grep -q '^report file reports/.*/digital-2027/monthly-pulse.html$' "$E2E_TMP/ref-wake2.snap" &&
  grep -q '^outbox report:digital-2027:monthly-pulse:' "$E2E_TMP/ref-wake2.snap" &&
  ok "wake2 publishes the month's reports" ||
  fail "wake2 publishes the month's reports" "$(grep -e '^report' -e '^events report' "$E2E_TMP/ref-wake2.snap")"

finish
