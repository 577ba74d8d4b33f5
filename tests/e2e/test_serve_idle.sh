#!/usr/bin/env bash
# The idle service wakes only when something is due (issue 9: no periodic polling), and a
# command run beside it wakes it without a timer (serve/dbwatch).
#
# `tandem serve` on the real clock, on a workspace of a started program with active pairs
# and their sessions planned, and a webhook declared (which used to mean a 1 s watch
# timer). Once it has settled, with no announced wake within the window, its wakeups are
# counted over a quiet window of QUIET seconds (voluntary_ctxt_switches summed over
# /proc/PID/task/*/status: a thread that wakes from epoll_wait and sleeps again switches
# once): ~0 expected. Then `tandem sessions reschedule` moves a session to start in two
# hours, within the 24-hour reminder lead: the service, woken by the database's change, must
# queue and deliver both sides' reminders (and the webhook its row for the event) within a
# few seconds, with no hourly tick to wait for. Its own writes must not wake it again: a
# second quiet window after that. Loopback only (the webhook points at a port where nothing
# listens, with an hour's backoff); every wait has a deadline; the service is stopped.
source "$(dirname "$0")/lib.sh"

T=$TANDEM
P=digital-2027
QUIET=${QUIET:-10}
WS=$(new_ws) || exit 1
DB=$WS/tandem.db
LOG=$E2E_TMP/serve.log
q() { sqlite3 -cmd ".timeout 10000" "$DB" "$1"; }
SERVE_PID=
cleanup() {
  [ -n "$SERVE_PID" ] && kill -TERM "$SERVE_PID" 2>/dev/null && wait "$SERVE_PID" 2>/dev/null
  rm -rf "$E2E_TMP"
}
trap cleanup EXIT
until_true() {
  local i n=$(($1 * 10)); shift
  for ((i = 0; i < n; i++)); do "$@" && return 0; sleep 0.1; done
  return 1
}
switches() {
  local n=0 f v
  for f in /proc/"$1"/task/*/status; do
    v=$(awk '/^voluntary_ctxt_switches/ {print $2}' "$f" 2>/dev/null)
    n=$((n + ${v:-0}))
  done
  echo "$n"
}

sed -i -e 's/starts = "[0-9-]*"/starts = "2020-01-06"/' -e 's/ends = "[0-9-]*"/ends = "2099-12-31"/' "$WS/tandem.lua"
DEAD=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
printf '\nwebhook { name = "idle", url = "http://127.0.0.1:%s/h", secret = "idle-secret-0123456789",\n  events = { "session.rescheduled" }, attempts = 2, backoff = 3600 }\n' "$DEAD" >>"$WS/tandem.lua"
(
  cd "$WS" &&
    "$T" gen-org --people 200 --seed 3 --out people.csv --survey $P --survey-out survey.csv &&
    "$T" import people people.csv && "$T" import enrollments survey.csv --program $P &&
    "$T" match run --program $P && "$T" match approve --all --program $P &&
    "$T" match activate --program $P && "$T" sessions plan --program $P
) >/dev/null 2>"$E2E_TMP/setup.err" && ok setup || fail setup "$(tail -5 "$E2E_TMP/setup.err")"
# The sessions of the next 26 hours were held: no reminder is due when the service starts,
# so this hour's send-reminders instant is still free when the reschedule below needs it
# (an hour whose instant ran already waits for the next one: the grid is hourly).
q "UPDATE sessions SET status = 'held' WHERE status = 'planned'
  AND starts_at <= strftime('%Y-%m-%dT%H:%M:%SZ', 'now', '+26 hours')"
# A service that has run for a while: its jobs exist since two hours ago (a fresh one's
# jobs are enabled at its start, and the hour's instant before that is not theirs to run).
"$T" -C "$WS" jobs list >/dev/null 2>&1
q "UPDATE jobs SET enabled_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now', '-2 hours')"
NPAIRS=$(q "SELECT count(*) FROM matches WHERE status = 'active'")
[ "$NPAIRS" -ge 5 ] && ok "active pairs" || fail "active pairs" "$NPAIRS"

"$T" -C "$WS" serve 2>"$LOG" &
SERVE_PID=$!
settled() { grep -qE 'next wake at|nothing is due' "$LOG"; }
until_true 60 settled && ok settled || fail settled "$(tail -5 "$LOG")"

# The next wake the service announced, in UTC seconds (far away when none).
next_wake() {
  local t
  t=$(grep -oE 'next wake at [0-9TZ:-]+|nothing is due' "$LOG" | tail -1 | awk '{print $4}')
  [ -n "$t" ] && date -u -d "$t" +%s || echo 9999999999
}
# quiet_window NAME: waits until no announced wake falls within the window, then counts.
quiet_window() {
  local i w now s0 s1
  for ((i = 0; i < 5; i++)); do
    now=$(date -u +%s)
    w=$(next_wake)
    [ "$w" -gt $((now + QUIET + 2)) ] && break
    sleep $((w - now + 2 > 0 ? w - now + 2 : 1))
  done
  sleep 1
  s0=$(switches "$SERVE_PID")
  sleep "$QUIET"
  s1=$(switches "$SERVE_PID")
  echo "$1: $((s1 - s0)) wakeups in $QUIET s (next wake announced: $(grep -oE 'next wake at [0-9TZ:-]+|nothing is due' "$LOG" | tail -1))"
  [ $((s1 - s0)) -le 2 ] && ok "$1: no wakeup" || fail "$1: no wakeup" "$((s1 - s0)) wakeups"
}
quiet_window "quiet window"
# No hourly tick announced: the next wake is the next work, not the next hour.
echo "wakes logged: $(grep -c 'next wake at\|nothing is due' "$LOG")"

# ---- a command makes something due now: the service acts without a timer ------------
S=$(q "SELECT s.id FROM sessions s JOIN matches m ON m.id = s.match_id WHERE s.status = 'planned'
  AND m.status = 'active' AND s.starts_at > strftime('%Y-%m-%dT%H:%M:%SZ', 'now', '+3 days')
  ORDER BY s.starts_at DESC LIMIT 1")
TO=$(date -u -d '+2 hours' +%Y-%m-%dT%H:%M)
B0=$(grep -c 'next wake at\|nothing is due' "$LOG")
T0=$(date +%s.%N)
run "$T" -C "$WS" sessions reschedule "$S" --to "$TO"
expect_rc reschedule 0
NEW=$(q "SELECT rescheduled_to FROM sessions WHERE id = $S")
reminded() {
  [ "$(q "SELECT count(*) FROM outbox WHERE session_id = $NEW AND kind = 'reminder' AND status = 'sent'")" = 2 ]
}
if until_true 10 reminded; then
  ok "rescheduled session reminded"
  echo "reminded $(echo "$(date +%s.%N) - $T0" | bc) s after the command"
else
  fail "rescheduled session reminded" "$(q "SELECT group_concat(status) FROM outbox WHERE session_id = $NEW"); $(tail -5 "$LOG")"
fi
hooked() { [ "$(q "SELECT count(*) FROM outbox WHERE channel = 'webhook'")" -ge 1 ]; }
until_true 10 hooked && ok "webhook row queued" || fail "webhook row queued" "none"
B1=$(grep -c 'next wake at\|nothing is due' "$LOG")
[ "$B1" -gt "$B0" ] && ok "woken by the change" || fail "woken by the change" "$B0 -> $B1 wakes"

# Its own writes do not wake it again.
quiet_window "after the change"

kill -TERM "$SERVE_PID"
wait "$SERVE_PID"
RC=$?
SERVE_PID=
[ "$RC" = 0 ] && ok "stopped" || fail "stopped" "exit $RC"
[ "$(q 'PRAGMA integrity_check')" = ok ] && ok integrity || fail integrity
finish
