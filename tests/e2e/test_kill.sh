#!/usr/bin/env bash
# The kill test: `tandem serve --time-scale 3600` on a workspace of 50 active pairs is
# SIGKILLed at 200 random moments (20-300 ms after each start, counted from the spawn for
# one kill in four and from the service's "started" line for the others; the seed is
# printed, set TANDEM_KILL_SEED to replay the sleeps) and restarted each time; then the service runs once more
# at a fixed virtual instant V, and the database must hold what an unkilled service holds.
#
# The virtual timeline across restarts: every start passes the same --time-from TF, and
# serve/timescale.h defines virtual now = TF + (real now - TF) x 3600 from the real clock
# alone, so a restarted service continues the one timeline where it stands now: no replay
# of a stretch already lived, and the real downtime of a restart (milliseconds) is a
# virtual gap (minutes) that the jobs' misfire policy covers like any outage.
#
# After the kills, V is the second full hour ahead plus 2 minutes (HH:02: every job is due
# at HH:00 and every session starts and ends on a quarter hour, so a few seconds of clock
# placement change nothing); one `serve --once` runs what is owed up to V (--time-scale 2
# --time-from 2r - V places a process started at real second r at V). Checks:
#  - tests/e2e/serve_check.py: integrity_check ok, foreign_key_check empty, every job
#    occurrence unique by (job, due), none running or failed, each done one with exactly
#    one job.ran event, each Lua run exactly one custom event; every session once with one
#    session.planned event; no message left sending or unknown, no key delivered twice
#    (X-Tandem-Key of the .eml files), the keys delivered = the rows sent;
#  - the expected sessions, computed apart: a copy of the workspace as it was before the
#    first start, never killed, wakes at the instants the killed service created its jobs,
#    activated the matches and first planned, and at V; from that first planning on, both hold the same
#    sessions (pair, start, status) -- planned hourly under kills or twice in peace;
#  - no session starts before the first planning (never planned in the past); every
#    session from the first reminder run to V + 24 h has its two reminders, sent (or
#    expired, when it started before the message could leave);
#  - the jobs kept their rhythm: each built-in job has one occurrence per hour, no hour
#    missing, from its first to its last.
# Under ASan (TANDEM_ASAN=1) the loop kills 40 times unless TANDEM_KILLS says otherwise.
source "$(dirname "$0")/lib.sh"

T=$TANDEM
P=digital-2027
CHECK="/usr/bin/python3 $(dirname "$0")/serve_check.py"
if [ -n "${TANDEM_ASAN:-}" ]; then KILLS=${TANDEM_KILLS:-40}; else KILLS=${TANDEM_KILLS:-200}; fi
SEED=${TANDEM_KILL_SEED:-$(($(date +%s) % 32768))}
echo "kill test: $KILLS kills, seed $SEED (TANDEM_KILL_SEED=$SEED replays the sleeps)"
RANDOM=$SEED

# utc SECONDS: the stored form of an instant. secs TEXT: back to seconds.
utc() { date -u -d "@$1" +%Y-%m-%dT%H:%M:%SZ; }
secs() { date -u -d "$1" +%s; }
q() { sqlite3 "$1/tandem.db" "$2"; }

# The workspace: 50 approved pairs of a program that started long ago, messages as .eml
# files, and a Lua job that queues a message every hour.
WS0=$(new_ws) || exit 1
sed -i -e 's/starts = "[0-9-]*"/starts = "2020-01-06"/' -e 's/ends = "[0-9-]*"/ends = "2099-12-31"/' \
  -e 's|timezone = "Europe/Paris",|timezone = "Europe/Paris",\n  notify = "eml",|' "$WS0/tandem.lua"
"$T" gen-org --people 400 --seed 11 --out "$WS0/people.csv" --survey $P --survey-out "$WS0/survey.csv" >/dev/null 2>&1
"$T" -C "$WS0" import people people.csv >/dev/null 2>&1
"$T" -C "$WS0" import enrollments survey.csv --program $P >/dev/null 2>&1
"$T" -C "$WS0" match run --program $P >/dev/null 2>&1
run "$T" -C "$WS0" match approve $(q "$WS0" "SELECT id FROM matches WHERE status = 'proposed' ORDER BY id LIMIT 50")
expect_rc approve 0
# The program has started: approving activates them at once (lifecycle.h).
[ "$(q "$WS0" "SELECT count(*) FROM matches WHERE status = 'active'")" = 50 ] && ok "50 pairs" ||
  fail "50 pairs" "$(q "$WS0" "SELECT status, count(*) FROM matches GROUP BY 1")"
cat >"$WS0/scripts/ping.lua" <<'LUA'
return tandem.job{ name = "ping", version = "1.0.0", api = 1, schedule = "every 1h",
  run = function(ctx)
    return { {event = {kind = "custom.ping", payload = {due = ctx.due}}},
             {message = {to = "E000001", subject = "ping", body = "due " .. ctx.due, key = ctx.due}} }
  end }
LUA
WS=$E2E_TMP/killed
cp -a "$WS0" "$WS"

# at WS V: one wake at virtual instant V (UTC seconds); exit status in $RC.
at() {
  local r
  r=$(date -u +%s)
  "$T" -C "$1" serve --once --time-scale 2 --time-from $((2 * r - $2)) 2>>"$1/serve.log"
  RC=$?
}

# ---- 200 kills -----------------------------------------------------------------------
TF=$(date -u +%s)
died=0
started=0
for ((i = 1; i <= KILLS; i++)); do
  "$T" -C "$WS" serve --time-scale 3600 --time-from "$TF" 2>>"$WS/serve.log" &
  pid=$!
  # One kill in four counts its sleep from the spawn (it may fall in the start-up: the
  # lock, opening the store, reading tandem.lua); the others from the line saying the
  # service started, so that on a slow machine most of them still fall in the work.
  if ((i % 4)); then
    for ((j = 0; j < 1000; j++)); do
      [ "$(grep -c 'tandem serve started' "$WS/serve.log")" -gt "$started" ] && break
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.01
    done
  fi
  ms=$((20 + RANDOM % 281))
  sleep "$((ms / 1000)).$(printf %03d $((ms % 1000)))"
  kill -KILL "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
  rc=$?
  started=$(grep -c 'tandem serve started' "$WS/serve.log")
  # 137: killed. Anything else: it stopped by itself (an error at start, the lock).
  [ "$rc" -eq 137 ] || { died=$((died + 1)); echo "start $i: exit $rc" >&2; }
done
[ "$died" -eq 0 ] && ok "every start killed" || fail "every start killed" "$died starts exited by themselves: $(grep -E ' error: ' "$WS/serve.log" | tail -3)"
# The services' clocks read milliseconds: one killed in the second that `date +%s` truncates
# lived up to 3,600 virtual seconds past TF + (that second - TF) x 3600, and a message it
# claimed there holds a lease 300 s beyond. So VNOW rounds the real second up: an upper
# bound of every killed service's virtual clock, and V below lies past every lease.
VNOW=$((TF + ($(date -u +%s) + 1 - TF) * 3600))
echo "after the kills: virtual $(utc "$TF") -> $(utc "$VNOW"); $(grep -c 'tandem serve started' "$WS/serve.log") starts logged," \
  "$(q "$WS" "SELECT count(*) FROM occurrences WHERE status = 'done'") job runs done," \
  "$(q "$WS" "SELECT count(*) FROM sessions") sessions, $(q "$WS" "SELECT count(*) FROM outbox WHERE status = 'sent'") messages sent," \
  "$(q "$WS" "SELECT count(*) FROM outbox WHERE status IN ('sending', 'unknown')") sending or unknown," \
  "$(grep -c 'recovered [0-9]* interrupted job run' "$WS/serve.log") Lua runs recovered"
# VNOW bounds what the killed services lived: no lease taken, no job run claimed after it.
late=$(q "$WS" "SELECT (SELECT count(*) FROM outbox WHERE lease_until > '$(utc $((VNOW + 300)))')
  + (SELECT count(*) FROM occurrences WHERE claimed_at > '$(utc "$VNOW")')")
[ "$late" = 0 ] && ok "virtual clock bound" || fail "virtual clock bound" "$late rows written past $(utc "$VNOW")"
[ "$(q "$WS" "SELECT count(*) FROM occurrences WHERE status = 'done'")" -gt 0 ] && ok "work under kills" ||
  fail "work under kills" "no job ran before the final wake: the starts are slower than the kills"

# ---- the final wake at V, and the checks ---------------------------------------------------
V=$(((VNOW + 900) / 3600 * 3600 + 3600 + 120))
at "$WS" "$V"
expect_rc "final wake" 0
problems=$($CHECK check "$WS" --custom custom.ping)
[ -z "$problems" ] && ok "invariants" || fail "invariants" "$problems"
tmp_left=$(find "$WS/outbox" -name '.tmp-*' | wc -l)
echo "final wake at $(utc "$V"): $(q "$WS" "SELECT count(*) FROM sessions") sessions," \
  "$(q "$WS" "SELECT count(*) FROM outbox WHERE status = 'sent'") messages sent," \
  "$(ls "$WS/outbox" | grep -c '\.eml$') .eml files, $tmp_left temporary files left by kills"

# The reference: the untouched copy wakes when the killed service created its jobs, when it
# activated the matches (the planner takes an open weekday and hour from the first shared
# slot after the activation), at its first planning run, and at V.
E=$(q "$WS" "SELECT min(enabled_at) FROM jobs")
A=$(q "$WS" "SELECT min(activated_at) FROM matches")
P0=$(q "$WS" "SELECT min(o.claimed_at) FROM occurrences o JOIN jobs j ON j.id = o.job_id
  WHERE j.name = 'plan-sessions' AND o.status = 'done'")
R1=$(q "$WS" "SELECT min(o.claimed_at) FROM occurrences o JOIN jobs j ON j.id = o.job_id
  WHERE j.name = 'send-reminders' AND o.status = 'done'")
REF=$E2E_TMP/reference
cp -a "$WS0" "$REF"
for t in "$E" "$A" "$P0"; do
  at "$REF" "$(secs "$t")"
  [ "$RC" -eq 0 ] || break
done
[ "$RC" -eq 0 ] && at "$REF" "$V"
expect_rc "reference wakes" 0
FROM=$(utc $(($(secs "$P0") + 60)))
sessions() { q "$1" "SELECT match_id || ' ' || starts_at || ' ' || status FROM sessions WHERE starts_at >= '$FROM' ORDER BY 1"; }
if diff <(sessions "$REF") <(sessions "$WS") >"$E2E_TMP/sessions.diff"; then
  ok "expected sessions"
else
  fail "expected sessions" "reference (<) vs killed (>): $(head -20 "$E2E_TMP/sessions.diff")"
fi
echo "sessions from $FROM: $(sessions "$WS" | wc -l) in both;" \
  "$(q "$WS" "SELECT count(*) FROM sessions WHERE status = 'missed'") marked missed"
[ "$(sessions "$WS" | wc -l)" -gt 100 ] && ok "sessions compared" || fail "sessions compared" "too few"
[ "$(q "$WS" "SELECT count(*) FROM sessions WHERE starts_at < '$P0'")" = 0 ] && ok "never in the past" ||
  fail "never in the past" "$(q "$WS" "SELECT id, starts_at FROM sessions WHERE starts_at < '$P0' LIMIT 5")"

# Every session from the first reminder run to V + 24 h: two reminders, one per side.
UNTIL=$(utc $((V + 86400)))
unreminded=$(q "$WS" "SELECT s.id || ' ' || s.starts_at || ': ' || (SELECT group_concat(o.status)
  FROM outbox o WHERE o.session_id = s.id AND o.kind = 'reminder') FROM sessions s
  WHERE s.starts_at > '$R1' AND s.starts_at <= '$UNTIL' AND (SELECT count(*) FROM outbox o
  WHERE o.session_id = s.id AND o.kind = 'reminder' AND o.status IN ('sent', 'expired')) <> 2 LIMIT 10")
[ -z "$unreminded" ] && ok "every session reminded" || fail "every session reminded" "$unreminded"
echo "reminders: $(q "$WS" "SELECT group_concat(n, ', ') FROM (SELECT count(*) || ' ' || status AS n
  FROM outbox WHERE kind = 'reminder' GROUP BY status)")"

# The hourly jobs' rhythm: they run only at the hours where they have work (sched/nextwork.h),
# always on the hour (their grid), once per hour at most, whatever became of each run
# (monthly-reports is monthly: serve_check.py checks its reports once and whole).
offgrid=$(q "$WS" "SELECT j.name || ' ' || o.due_at FROM occurrences o JOIN jobs j ON j.id = o.job_id
  WHERE j.schedule = 'FREQ=HOURLY' AND strftime('%M:%S', o.due_at) <> '00:00' LIMIT 5")
[ -z "$offgrid" ] && ok "hourly grid" || fail "hourly grid" "$offgrid"
hours=$(q "$WS" "SELECT count(*) FROM occurrences o JOIN jobs j ON j.id = o.job_id
  WHERE j.name = 'mark-missed'")
span=$(q "$WS" "SELECT (strftime('%s', max(o.due_at)) - strftime('%s', min(o.due_at))) / 3600 + 1
  FROM occurrences o JOIN jobs j ON j.id = o.job_id WHERE j.schedule = 'FREQ=HOURLY'")
echo "mark-missed: $hours occurrences over $span hours"
[ "$hours" -le "$span" ] && ok "once per hour at most" || fail "once per hour at most" "$hours > $span"

finish
