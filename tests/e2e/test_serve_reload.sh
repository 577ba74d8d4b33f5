#!/usr/bin/env bash
# tandem serve and SIGHUP: a Lua job whose script is removed (disabled) and then restored gets
# its next run at once, as do a job added and a job re-scheduled while the service runs, and
# the service's timer is armed for it (walk2 #3: the restored job had NEXT RUN "-" until the
# service stopped). Loopback only, no network; the virtual clock runs 120 times faster from
# about HH:03 of this hour, so the hourly job's next run at HH:50 ($NEXT, not the built-in
# jobs' :00) is about 23 s away and both reloads fall before it.
source "$(dirname "$0")/lib.sh"

WS=$(new_ws) || exit 1
LOG="$E2E_TMP/serve.log"
# --time-from T: virtual now = T + (real now - T) x N; T such that the virtual start is V.
N=120
R=$(date +%s)
V=$((R / 3600 * 3600 + 180))
T=$(((R * N - V) / (N - 1)))
NEXT=$(date -u -d "@$((V / 3600 * 3600 + 50 * 60))" +%Y-%m-%dT%H:%M:%SZ)

job() { # job NAME RULE: the script of a job emitting custom.NAME
  printf 'return tandem.job{ name = "%s", version = "1.0.0", api = 1, schedule = "%s",\n  run = function(ctx) return { {event = {kind = "custom.%s", payload = {due = ctx.due}}} } end }\n' \
    "$1" "$2" "$1"
}
q() { sqlite3 "$WS/tandem.db" "$1"; }
# pending NAME: the due instants of job NAME's pending occurrences.
pending() { q "select group_concat(o.due_at, ' ') from occurrences o join jobs j on j.id = o.job_id where j.name = '$1' and o.status = 'pending'"; }
# wait_until SECONDS COMMAND...: until COMMAND succeeds; 1 after SECONDS (wall time).
wait_until() {
  local end=$((SECONDS + $1)); shift
  until "$@"; do [ "$SECONDS" -ge "$end" ] && return 1; sleep 0.1; done
}
has_pending() { [ -n "$(pending "$1")" ]; }
no_pending() { [ -z "$(pending "$1")" ]; }
events() { q "select count(*) from events where kind = 'custom.$1'"; }
reloads() { grep -cF "SIGHUP: reloaded" "$LOG"; }
reloads_gt() { [ "$(reloads)" -gt "$1" ]; }
events_gt() { [ "$(events "$1")" -gt "$2" ]; }
# virtual_now_of TEXT: the [now ...] of the last log line holding TEXT.
virtual_now_of() { grep -F "$1" "$LOG" | tail -1 | sed -n 's/.*\[now \([^]]*\)\].*/\1/p'; }

job m "FREQ=HOURLY;BYMINUTE=50" >"$WS/scripts/m.lua"
"$TANDEM" -C "$WS" serve --time-scale "$N" --time-from "$T" 2>"$LOG" &
SERVE_PID=$!
wait_for "$LOG" "tandem serve started" 30 || fail "serve start" "$(head -c 600 "$LOG")"
wait_until 20 has_pending m && ok "job m has its next run" ||
  fail "job m has its next run" "none; $(tail -c 600 "$LOG")"

# Removed: disabled, its predicted next run closed with the reason.
rm "$WS/scripts/m.lua"
kill -HUP "$SERVE_PID"
wait_for "$LOG" "job m: the job was disabled" 20 && ok "removed script disables the job" ||
  fail "removed script disables the job" "$(tail -c 600 "$LOG")"
wait_until 10 no_pending m && ok "disabled job has no next run" || fail "disabled job has no next run" "$(pending m)"

# Restored before that run's instant: the run is back at once, and the timer is armed for it.
job m "FREQ=HOURLY;BYMINUTE=50" >"$WS/scripts/m.lua"
n=$(reloads)
lines=$(wc -l <"$LOG")
kill -HUP "$SERVE_PID"
wait_until 20 reloads_gt "$n" || fail "restore reload" "$(tail -c 600 "$LOG")"
at=$(virtual_now_of "SIGHUP: reloaded")
[[ "$at" < "$NEXT" ]] || echo "note: the restore's reload came at $at, after $NEXT: the machine is slow" >&2
wait_until 3 has_pending m && ok "restored job has its next run at once" ||
  fail "restored job has its next run at once" "pending: '$(pending m)'; $(tail -c 800 "$LOG")"
[ "$(pending m)" = "$NEXT" ] && ok "restored job's next run is the predicted one" ||
  fail "restored job's next run is the predicted one" "$(pending m)"
# The first wake planned after the restore is the job's (nothing else is due at :50).
first_wake() { tail -n +"$((lines + 1))" "$LOG" | grep -F "next wake at" | head -1; }
wait_until 10 eval '[ -n "$(first_wake)" ]'
case "$(first_wake)" in *"next wake at $NEXT"*) ok "timer armed for the restored job" ;;
  *) fail "timer armed for the restored job" "$(first_wake)" ;; esac

# A job added while the service runs gets its next run at the reload.
job n "FREQ=HOURLY;BYMINUTE=55" >"$WS/scripts/n.lua"
n=$(reloads)
kill -HUP "$SERVE_PID"
wait_until 20 reloads_gt "$n" || fail "add reload" "$(tail -c 600 "$LOG")"
wait_until 3 has_pending n && ok "added job has its next run" || fail "added job has its next run" "$(tail -c 600 "$LOG")"

# The restored job runs at its instant.
wait_until 60 events_gt m 0 && ok "restored job runs" ||
  fail "restored job runs" "$(events m) runs; $(tail -c 800 "$LOG")"

# Re-scheduled to :20: its next run is the new rule's, and it runs.
job m "FREQ=HOURLY;BYMINUTE=20" >"$WS/scripts/m.lua"
n=$(reloads)
kill -HUP "$SERVE_PID"
wait_until 20 reloads_gt "$n" || fail "reschedule reload" "$(tail -c 600 "$LOG")"
wait_until 3 has_pending m && ok "re-scheduled job has its next run" || fail "re-scheduled job has its next run" "$(pending m)"
case "$(pending m)" in *:20:00Z) ok "re-scheduled job's next run is at :20" ;;
  *) fail "re-scheduled job's next run is at :20" "$(pending m)" ;; esac
m0=$(events m)
wait_until 60 events_gt m "$m0" && ok "re-scheduled job runs" ||
  fail "re-scheduled job runs" "$(events m) runs; $(tail -c 800 "$LOG")"

kill -TERM "$SERVE_PID"
wait "$SERVE_PID"
RC=$?
[ "$RC" -eq 0 ] && ok "sigterm exit 0" || fail "sigterm exit 0" "exit $RC"
finish
