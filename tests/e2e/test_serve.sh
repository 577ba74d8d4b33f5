#!/usr/bin/env bash
# tandem serve: the single-instance lock, SIGTERM/SIGINT exit 0 after the running step,
# SIGHUP reloads (a broken tandem.lua keeps the loaded one and the log says why), --once,
# text and JSON log lines, a CLI command while the service runs, option errors.
source "$(dirname "$0")/lib.sh"

WS=$(new_ws) || exit 1


# start_serve LOG ARGS...: starts the service in the background; its pid in $SERVE_PID.
start_serve() {
  local log=$1; shift
  "$TANDEM" -C "$WS" serve "$@" 2>"$log" &
  SERVE_PID=$!
  wait_for "$log" "tandem serve started" || fail "serve start" "$(head -c 600 "$log")"
}

# stop_serve SIGNAL: sends SIGNAL and waits; the exit status in $RC.
stop_serve() {
  kill -"$1" "$SERVE_PID"
  wait "$SERVE_PID"
  RC=$?
}

# --once: runs what is due and exits 0.
run "$TANDEM" -C "$WS" serve --once
expect_rc "once exit" 0
expect_err "once started" "tandem serve started"
expect_err "once stopped" "tandem serve stopped"
grep -q " error: " "$ERR" && fail "once no error" "$(grep ' error: ' "$ERR")" || ok "once no error"
[ -e "$WS/.tandem-serve.lock" ] && ok "lock file" || fail "lock file" "missing"

# The lock: a second service exits 1 and names the first one's pid; --once too.
LOG1="$E2E_TMP/serve1.log"
start_serve "$LOG1"
run "$TANDEM" -C "$WS" serve
expect_rc "second serve" 1
expect_err "second serve message" "another tandem serve (pid $SERVE_PID) is running on $WS"
run "$TANDEM" -C "$WS" serve --once
expect_rc "second serve --once" 1
# Named by its absolute path (-C relative here), with the tandem: prefix.
pushd "$(dirname "$WS")" >/dev/null
run "$TANDEM" -C "$(basename "$WS")" serve
popd >/dev/null
expect_rc "second serve, relative -C" 1
expect_err "second serve names the absolute path" \
  "tandem: error: another tandem serve (pid $SERVE_PID) is running on $(realpath "$WS")"
# A bad option is named once, with the prefix.
run "$TANDEM" -C "$WS" serve --bogus
expect_rc "serve --bogus" 2
[ "$(grep -c -- "--bogus" "$ERR")" = 1 ] && grep -q "^tandem serve: unknown option '--bogus'" "$ERR" &&
  ok "serve --bogus named once" || fail "serve --bogus named once" "$(cat "$ERR")"
[ "$(cat "$WS/.tandem-serve.lock")" = "$SERVE_PID" ] && ok "pid in lock file" ||
  fail "pid in lock file" "$(cat "$WS/.tandem-serve.lock")"

# Another workspace serving this one's database (--db) is refused too: the lock of the
# database's folder is taken as well.
WS2=$(new_ws) || exit 1
run "$TANDEM" -C "$WS2" --db "$WS/tandem.db" serve --once
expect_rc "second serve on the database" 1
expect_err "second serve on the database: pid" "pid $SERVE_PID) is running on the database $WS/tandem.db"
run "$TANDEM" -C "$WS2" --db "$WS/tandem.db" programs list
expect_rc "other workspace's command on the database" 0

# A command while the service runs: it reads and writes the same database.
run "$TANDEM" -C "$WS" programs list
expect_rc "command during serve" 0
run "$TANDEM" -C "$WS" gen-org --people 20 --seed 1 --out "$WS/people.csv"
run "$TANDEM" -C "$WS" import people "$WS/people.csv"
expect_rc "import during serve" 0
run sqlite3 "$WS/tandem.db" "select count(*) from people"
expect_out "import committed" "20"

# SIGHUP: a good tandem.lua reloads; a broken one keeps the loaded version, the log says why.
kill -HUP "$SERVE_PID"
wait_for "$LOG1" "SIGHUP: reloaded" && ok "sighup reload" || fail "sighup reload" "$(tail -c 600 "$LOG1")"
cp "$WS/tandem.lua" "$E2E_TMP/tandem.lua.good"
printf 'program{ name = "broken", \n' >>"$WS/tandem.lua"
kill -HUP "$SERVE_PID"
wait_for "$LOG1" "reload failed, keeping the previous version" && ok "sighup broken" ||
  fail "sighup broken" "$(tail -c 600 "$LOG1")"
grep -F "reload failed" "$LOG1" | grep -qF "tandem.lua" && ok "broken names file" ||
  fail "broken names file" "$(grep -F 'reload failed' "$LOG1")"
kill -0 "$SERVE_PID" 2>/dev/null && ok "alive after broken reload" || fail "alive after broken reload"
cp "$E2E_TMP/tandem.lua.good" "$WS/tandem.lua"

# SIGTERM: exit 0, and the lock is free again at once.
stop_serve TERM
[ "$RC" -eq 0 ] && ok "sigterm exit 0" || fail "sigterm exit 0" "exit $RC"
expect_log() { grep -qF -- "$2" "$3" && ok "$1" || fail "$1" "log lacks '$2': $(tail -c 600 "$3")"; }
expect_log "sigterm logged" "SIGTERM: stopping" "$LOG1"
expect_log "stopped logged" "tandem serve stopped" "$LOG1"

# SIGINT: exit 0 too. JSON log lines: every line one object with ts, level, msg.
LOG2="$E2E_TMP/serve2.log"
start_serve "$LOG2" --log-format json
stop_serve INT
[ "$RC" -eq 0 ] && ok "sigint exit 0" || fail "sigint exit 0" "exit $RC"
if python3 - "$LOG2" <<'PY'
import json, sys
lines = open(sys.argv[1]).read().splitlines()
assert lines, "no lines"
for l in lines:
    o = json.loads(l)
    assert set(o) >= {"ts", "level", "msg"}, o
    assert o["ts"].endswith("Z")
assert any("SIGINT: stopping" in json.loads(l)["msg"] for l in lines)
PY
then ok "json log lines"; else fail "json log lines" "$(head -c 600 "$LOG2")"; fi

# A scaled clock shows the virtual now in each line.
run "$TANDEM" -C "$WS" serve --once --time-scale 3600 --log-format json
expect_rc "scaled once" 0
expect_err "scaled now field" '"now":"'
# The origin is a real time: an hour ago at 60x puts the virtual now 60 h ahead, a short
# backlog for the hourly built-in jobs (an origin months back would owe them years of runs).
run "$TANDEM" -C "$WS" serve --once --time-scale 60 --time-from "$(date -u -d '-1 hour' +%Y-%m-%dT%H:%M:%SZ)"
expect_rc "time-from" 0
expect_err "time-from text" "[now "

# A Lua job in scripts/ runs on the scaled clock (every 15 virtual minutes = 0.25 s);
# SIGHUP with the script broken keeps the loaded version running and the log says why.
cat >"$WS/scripts/tick.lua" <<'LUA'
return tandem.job{ name = "tick", version = "1.0.0", api = 1, schedule = "every 15m",
  run = function(ctx) return { {event = {kind = "custom.tick", payload = {v = 1}}} } end }
LUA
ticks() { sqlite3 "$WS/tandem.db" "select count(*) from events where kind = '$1'"; }
LOG3="$E2E_TMP/serve3.log"
start_serve "$LOG3" --time-scale 3600
for _ in $(seq 1 60); do [ "$(ticks custom.tick)" -ge 3 ] && break; sleep 0.1; done
[ "$(ticks custom.tick)" -ge 3 ] && ok "lua job runs" || fail "lua job runs" "$(ticks custom.tick) ticks; $(tail -c 800 "$LOG3")"
printf 'return tandem.job{ name = "tick", schedule = \n' >"$WS/scripts/tick.lua"
kill -HUP "$SERVE_PID"
wait_for "$LOG3" "reload failed, keeping the previous version" && ok "broken script reload" ||
  fail "broken script reload" "$(tail -c 800 "$LOG3")"
grep -F "reload failed" "$LOG3" | grep -qF "tick.lua" && ok "broken script named" ||
  fail "broken script named" "$(grep -F 'reload failed' "$LOG3")"
n0=$(ticks custom.tick)
for _ in $(seq 1 60); do [ "$(ticks custom.tick)" -ge $((n0 + 3)) ] && break; sleep 0.1; done
[ "$(ticks custom.tick)" -ge $((n0 + 3)) ] && ok "old version keeps running" ||
  fail "old version keeps running" "$(ticks custom.tick) ticks after $n0"
stop_serve TERM
[ "$RC" -eq 0 ] && ok "scaled sigterm exit 0" || fail "scaled sigterm exit 0" "exit $RC"
rm -f "$WS/scripts/tick.lua"

# SIGHUP with a reward rule broken: the loaded version keeps granting, the log says which
# rule, where and why (docs/service.md "Signals").
cat >"$WS/scripts/tick.lua" <<'LUA'
return tandem.job{ name = "tick", version = "1.0.0", api = 1, schedule = "every 15m",
  run = function(ctx) return { {event = {kind = "custom.tick", payload = {v = 1}}} } end }
LUA
mkdir -p "$WS/plugins/rewards"
PERSON=$(sqlite3 "$WS/tandem.db" "select min(id) from people")
cat >"$WS/plugins/rewards/bonus.lua" <<LUA
return tandem.reward{ name = "bonus", version = "1.0.0", api = 1,
  on = { ["custom.tick"] = function(ev, ctx)
    return { { person_id = $PERSON, points = 1, reason = "tick", key = "tick:" .. ev.id } } end } }
LUA
grants() { sqlite3 "$WS/tandem.db" "select count(*) from rewards where reason = 'tick'"; }
LOG5="$E2E_TMP/serve5.log"
start_serve "$LOG5" --time-scale 3600
for _ in $(seq 1 100); do [ "$(grants)" -ge 2 ] && break; sleep 0.1; done
[ "$(grants)" -ge 2 ] && ok "rule grants" || fail "rule grants" "$(grants) grants; $(grep -v "next wake" "$LOG5" | tail -c 1500)"
printf 'return tandem.reward{ name = "bonus", on = {\n' >"$WS/plugins/rewards/bonus.lua"
kill -HUP "$SERVE_PID"
wait_for "$LOG5" "reward rule 'bonus' keeps its loaded version" && ok "broken rule kept" ||
  fail "broken rule kept" "$(tail -c 800 "$LOG5")"
grep -F "keeps its loaded version" "$LOG5" | grep -qF "bonus.lua:" && ok "broken rule named" ||
  fail "broken rule named" "$(grep -F 'keeps its loaded' "$LOG5")"
g0=$(grants)
for _ in $(seq 1 100); do [ "$(grants)" -ge $((g0 + 2)) ] && break; sleep 0.1; done
[ "$(grants)" -ge $((g0 + 2)) ] && ok "old rule keeps granting" ||
  fail "old rule keeps granting" "$(grants) grants after $g0; $(tail -c 800 "$LOG5")"
stop_serve TERM
[ "$RC" -eq 0 ] && ok "rule sigterm exit 0" || fail "rule sigterm exit 0" "exit $RC"
rm -rf "$WS/scripts/tick.lua" "$WS/plugins/rewards"

# SIGHUP gives the notifier tandem.lua's new mail_from: a Lua job queues a message every 15
# virtual minutes; the .eml files written after the reload come from the new address.
sed -i 's|^  timezone = "Europe/Paris",|  timezone = "Europe/Paris",\n  mail_from = "before@example.org",|' \
  "$WS/tandem.lua"
cat >"$WS/scripts/mail.lua" <<'LUA'
return tandem.job{ name = "mail", version = "1.0.0", api = 1, schedule = "every 15m",
  run = function(ctx)
    return { {message = {to = "E000001", subject = "Hi", body = "Hello", key = "mail:" .. ctx.due}} }
  end }
LUA
froms() { cat "$WS"/outbox/job_mail_*.eml 2>/dev/null | grep -c "^From: $1" || true; }
LOG4="$E2E_TMP/serve4.log"
start_serve "$LOG4" --time-scale 3600
for _ in $(seq 1 60); do [ "$(froms before@example.org)" -ge 1 ] && break; sleep 0.1; done
[ "$(froms before@example.org)" -ge 1 ] && ok "mail_from at start" ||
  fail "mail_from at start" "$(ls "$WS/outbox" 2>&1 | head -5); $(tail -c 800 "$LOG4")"
sed -i 's|mail_from = "before@example.org"|mail_from = "after@example.org"|' "$WS/tandem.lua"
kill -HUP "$SERVE_PID"
wait_for "$LOG4" "SIGHUP: reloaded" || fail "mail_from reload" "$(tail -c 600 "$LOG4")"
for _ in $(seq 1 60); do [ "$(froms after@example.org)" -ge 1 ] && break; sleep 0.1; done
[ "$(froms after@example.org)" -ge 1 ] && ok "mail_from after SIGHUP" ||
  fail "mail_from after SIGHUP" "$(froms before@example.org) from before, none from after; $(tail -c 800 "$LOG4")"
stop_serve TERM
rm -f "$WS/scripts/mail.lua"

# A reward rule that does not load: an error in the log and in the exit summary's count.
mkdir -p "$WS/plugins/rewards"
printf 'return tandem.reward{\n name = "bad", on = { ["session.held"] = function(ev, ctx) return {} end }\n' \
  >"$WS/plugins/rewards/bad.lua"
run "$TANDEM" -C "$WS" serve --once
expect_rc "broken rule once" 0
expect_err "broken rule logged" "error: reward rule bad: plugins/rewards/bad.lua:3:"
grep -q "tandem serve stopped: .*, [1-9][0-9]* errors" "$ERR" && ok "broken rule counted" ||
  fail "broken rule counted" "$(grep 'serve stopped' "$ERR")"
rm -f "$WS/plugins/rewards/bad.lua"

# Option errors: usage (exit 2).
run "$TANDEM" -C "$WS" serve --log-format xml
expect_rc "bad log format" 2
expect_err "bad log format message" "--log-format must be text or json"
run "$TANDEM" -C "$WS" serve --time-scale 0.5
expect_rc "bad scale" 2
run "$TANDEM" -C "$WS" serve --time-from 2026-01-01T00:00:00Z
expect_rc "time-from without scale" 2
run "$TANDEM" -C "$E2E_TMP/nowhere" serve --once
expect_rc "no workspace" 1

finish
