#!/usr/bin/env bash
# End-to-end: `tandem jobs list|run|history` with the built-in jobs and Lua jobs in scripts/:
# a job is listed with its next run, runs by hand with its action applied, shows in its
# history; a bad declaration and a bad action are reported precisely; a removed script's
# job is disabled; the list is sorted by next due, then by name.
. "$(dirname "$0")/lib.sh"

WS=$(new_ws) || exit 1

run "$TANDEM" -C "$WS" jobs list
expect_rc "list fresh" 0
expect_out "list: activate-matches" "activate-matches"
expect_out "list: mark-missed" "mark-missed"
expect_out "list: header" "NEXT RUN"
expect_out "list: a job without work" "when work appears"

cat >"$WS/scripts/digest.lua" <<'LUA'
return tandem.job{ name = "digest", version = "1.0.0", api = 1,
  schedule = "every 1h", timezone = "Europe/Paris", misfire = "skip", jitter = "5m",
  needs = {"sessions", "matches"},
  run = function(ctx)
    return { {event = {kind = "custom.digest",
                       payload = {covers = ctx.covers, sessions = #ctx.sessions}}} }
  end }
LUA
run "$TANDEM" -C "$WS" jobs list --json
expect_rc "list json" 0
if python3 - "$OUT" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
jobs = {j["name"]: j for j in doc["jobs"]}
d = jobs["digest"]
assert d["kind"] == "lua" and d["enabled"] and d["misfire"] == "skip", d
assert d["timezone"] == "Europe/Paris" and d["jitter_s"] == 300, d
assert d["next_run"] and d["script"].endswith("scripts/digest.lua"), d
assert doc["errors"] == [], doc
assert set(jobs) >= {"digest", "activate-matches", "mark-missed"}, jobs
PY
then ok "list json shape"; else fail "list json shape" "$(head -c 600 "$OUT")"; fi

# Sorted by next due, then by name; a job with no next run (disabled) last.
cat >"$WS/scripts/monthly.lua" <<'LUA'
return tandem.job{ name = "a-monthly", version = "1.0.0", api = 1,
  schedule = "FREQ=MONTHLY;BYMONTHDAY=28;BYHOUR=23;BYMINUTE=0", timezone = "UTC",
  run = function(ctx) return {} end }
LUA
run "$TANDEM" -C "$WS" jobs list --json
if python3 - "$OUT" <<'PY'
import json, sys
jobs = json.load(open(sys.argv[1]))["jobs"]
key = [(j["next_run"] is None, j["next_run"] or "", j["name"]) for j in jobs]
assert key == sorted(key), key
names = [j["name"] for j in jobs]
assert names.index("a-monthly") > names.index("digest"), names
# The built-in hourly jobs run where they have work: no session, no reminder to send nor
# session to mark missed ("when work appears").
for j in jobs:
    if j["kind"] == "builtin" and j["schedule"] == "FREQ=HOURLY":
        assert j["runs_on_work"], j
    if j["name"] in ("send-reminders", "mark-missed"):
        assert j["next_run"] is None, j
PY
then ok "list sorted by next due"; else fail "list sorted by next due" "$(head -c 600 "$OUT")"; fi
rm "$WS/scripts/monthly.lua"

run "$TANDEM" -C "$WS" jobs run digest
expect_rc "run digest" 0
expect_out "run digest: done" "job digest: done"
expect_out "run digest: result" '"events":1'
n=$(sqlite3 "$WS/tandem.db" "SELECT count(*) FROM events WHERE kind = 'custom.digest' AND actor = 'job:digest'")
[ "$n" = 1 ] && ok "run digest: event" || fail "run digest: event" "got $n"

run "$TANDEM" -C "$WS" jobs history digest
expect_rc "history" 0
expect_out "history: done" "done"
run "$TANDEM" -C "$WS" jobs history digest --json
expect_rc "history json" 0
if python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["job"]=="digest" and any(r["status"]=="done" and r["result"]["events"]==1 for r in d["runs"])' "$OUT"
then ok "history json"; else fail "history json" "$(head -c 600 "$OUT")"; fi

run "$TANDEM" -C "$WS" jobs run built-in-nope
expect_rc "run unknown" 1
expect_err "run unknown: message" "no enabled job named 'built-in-nope'"

run "$TANDEM" -C "$WS" jobs run mark-missed
expect_rc "run mark-missed" 0
expect_out "run mark-missed: result" '"missed":0'

# A bad declaration: reported with file, line and field; list exits 1, the others still listed.
cat >"$WS/scripts/bad.lua" <<'LUA'
return tandem.job{ name = "bad", version = "1.0.0", api = 1,
  schedule = "every 1h",
  misfire = "twice",
  run = function(ctx) end }
LUA
run "$TANDEM" -C "$WS" jobs list
expect_rc "bad decl: list exit" 1
expect_err "bad decl: message" "scripts/bad.lua:3: field 'misfire' must be \"once\", \"all\" or \"skip\" (got \"twice\")"
expect_out "bad decl: others listed" "digest"
rm "$WS/scripts/bad.lua"

# A bad action: the run fails, names the script, the action and the field, applies nothing.
cat >"$WS/scripts/badact.lua" <<'LUA'
return tandem.job{ name = "badact", version = "1.0.0", api = 1, schedule = "every 1d",
  run = function(ctx)
    return { {event = {kind = "custom.fine"}}, {event = {kind = "session.held"}} }
  end }
LUA
run "$TANDEM" -C "$WS" jobs run badact
expect_rc "bad action: exit" 1
expect_err "bad action: message" "scripts/badact.lua: action 2: field 'event.kind' must be \"custom.\" and a name of a-z, 0-9, '_' or '.' (got \"session.held\")"
n=$(sqlite3 "$WS/tandem.db" "SELECT count(*) FROM events WHERE kind = 'custom.fine'")
[ "$n" = 0 ] && ok "bad action: nothing applied" || fail "bad action: nothing applied" "got $n"
run "$TANDEM" -C "$WS" jobs list
expect_out "bad action: last run failed" "failed"

# Removed: disabled, history kept.
rm "$WS/scripts/digest.lua"
run "$TANDEM" -C "$WS" jobs list
expect_rc "removed: list" 0
expect_out "removed: disabled" "lua (disabled)"
run "$TANDEM" -C "$WS" jobs history digest
expect_rc "removed: history" 0
expect_out "removed: history kept" "done"

# A 30-year outage (issue 9: "never silently disabled by a long backlog"): the service's
# first run on the real clock, then one 30 years later (--time-scale 2 from 30 years ago). The
# backlog of an hourly job (a Lua one: the built-in hourly jobs run only where they have work,
# and this workspace has none) is coalesced by its policy (misfire once) into about a
# thousand rows, not 262,980, and `jobs list` says how many runs the summary row stands for.
WS30=$(new_ws) || exit 1
cat >"$WS30/scripts/tick.lua" <<'LUA'
return tandem.job{ name = "tick", version = "1.0.0", api = 1, schedule = "FREQ=HOURLY",
  timezone = "UTC", misfire = "once", run = function(ctx) return {} end }
LUA
run "$TANDEM" -C "$WS30" serve --once
expect_rc "30 years: first run" 0
run "$TANDEM" -C "$WS30" serve --once --time-scale 2 \
  --time-from "$(date -u -d '-30 years' +%Y-%m-%dT%H:%M:%SZ)"
expect_rc "30 years: catch-up" 0
rows=$(sqlite3 "$WS30/tandem.db" "SELECT count(*) FROM occurrences o JOIN jobs j ON j.id = o.job_id
  WHERE j.name = 'tick'")
[ "$rows" -lt 1100 ] && ok "30 years: rows bounded" || fail "30 years: rows bounded" "$rows rows"
covered=$(sqlite3 "$WS30/tandem.db" "SELECT max(covers) FROM occurrences o JOIN jobs j ON j.id = o.job_id
  WHERE j.name = 'tick' AND o.status = 'done'")
[ "$covered" -gt 262000 ] && ok "30 years: one run covers the backlog" ||
  fail "30 years: one run covers the backlog" "covers $covered"
run sqlite3 "$WS30/tandem.db" "SELECT enabled FROM jobs WHERE name = 'tick'"
expect_out "30 years: still enabled" "1"
# No session: the jobs about sessions had no work in 30 years, so no occurrence at all.
late=$(sqlite3 "$WS30/tandem.db" "SELECT count(*) FROM occurrences o JOIN jobs j ON j.id = o.job_id
  WHERE j.name IN ('send-reminders', 'mark-missed')")
[ "$late" = 0 ] && ok "30 years: hours without work are not missed runs" ||
  fail "30 years: hours without work are not missed runs" "$late rows"
run "$TANDEM" -C "$WS30" jobs list
expect_out "30 years: jobs list counts the skipped instants" "/0/2629"
expect_out "30 years: and says why" "tick: skipped run due"

# Usage.
run "$TANDEM" -C "$WS" jobs run
expect_rc "usage: run without NAME" 2
run "$TANDEM" -C "$WS" jobs history digest --limit 0
expect_rc "usage: limit 0" 2
run "$TANDEM" -C "$WS" jobs frobnicate
expect_rc "usage: unknown sub" 2

# A job's message action: its message.queued event names the job as its actor (plugin-api.md:
# every event a job causes names it; it said 'outbox').
run "$TANDEM" gen-org --people 2 --seed 1 --out "$E2E_TMP/p.csv"
run "$TANDEM" -C "$WS" import people "$E2E_TMP/p.csv"
expect_rc "mailer: people" 0
cat >"$WS/scripts/mailer.lua" <<'LUA'
return tandem.job{ name = "mailer", version = "1.0.0", api = 1, schedule = "every 1h",
  run = function(ctx)
    return { {message = {to = "E000001", subject = "Hi", body = "Hello", key = "hi"}} }
  end }
LUA
run "$TANDEM" -C "$WS" jobs run mailer
expect_rc "mailer: run" 0
a=$(sqlite3 "$WS/tandem.db" "SELECT group_concat(actor) FROM events WHERE kind = 'message.queued'")
[ "$a" = "job:mailer" ] && ok "mailer: message.queued actor" || fail "mailer: message.queued actor" "$a"

finish
