#!/usr/bin/env bash
# End-to-end tests of `tandem plugins list|check` and the sandbox: every
# malicious fixture in tests/plugins/ is stopped within 2 s with its exact
# message, the command exits 1 (never a signal), and the workspace database is
# untouched; the good fixtures pass; discovery finds workspace plugins first.
. "$(dirname "$0")/lib.sh"

FIX="$TANDEM_SRCDIR/tests/plugins"
cd "$FIX" || exit 1

WS=$(new_ws) || WS=""
[ -n "$WS" ] && BEFORE=$(db_digest "$WS")

# Time bound for stopping a plugin: 2 s, or 5 s under AddressSanitizer (which
# slows the allocation-heavy fixtures down several times).
LIMIT_MS=2000
[ -n "${TANDEM_ASAN:-}" ] && LIMIT_MS=5000

# Every malicious fixture must be stopped with its exact message, exit 1 (never a
# signal), within LIMIT_MS. The checks run two at a time (each is timed on its
# own) to keep the suite short under ASan; results are compared afterwards.
RES="$E2E_TMP/res"
mkdir -p "$RES"
check_one() {
  local f=$1 t0
  t0=$(date +%s%N)
  timeout 10 "$TANDEM" plugins check "$f" >"$RES/$f.out" 2>"$RES/$f.err"
  echo $? >"$RES/$f.rc"
  echo $(( ($(date +%s%N) - t0) / 1000000 )) >"$RES/$f.ms"
}
export -f check_one
export RES TANDEM

# bad FIXTURE MESSAGE: the recorded run exited 1 in time with MESSAGE on stderr.
bad() {
  local f=$1 msg=$2 ms
  OUT="$RES/$f.out"; ERR="$RES/$f.err"; RC=$(cat "$RES/$f.rc"); ms=$(cat "$RES/$f.ms")
  expect_rc "$f exit" 1
  expect_err "$f message" "$msg"
  if [ "$ms" -ge "$LIMIT_MS" ]; then
    # The checks run two at a time beside other suites on a 2-core machine: a
    # slow run is timed once more, alone, before it counts as a failure.
    check_one "$f"
    ms=$(cat "$RES/$f.ms")
  fi
  if [ "$ms" -lt "$LIMIT_MS" ]; then ok "$f time"; else fail "$f time" "took $ms ms"; fi
}

BAD_FIXTURES="loop.lua loop_pcall.lua loop_xpcall.lua loop_at_load.lua alloc.lua alloc_tables.lua huge_rep.lua recurse.lua recurse_gsub.lua sort_error.lua pattern.lua pattern_at_load.lua io_open.lua os_execute.lua os_exit.lua os_getenv.lua debug_lib.lua package_lib.lua require_fn.lua dofile_fn.lua collectgarbage_fn.lua bytecode.lua string_dump.lua finalizer.lua finalizer_false.lua string_replace.lua string_rawset.lua string_metatable.lua string_setmetatable.lua tandem_write.lua tandem_rawset.lua error_table.lua hook_error.lua api_error.lua bad_field_type.lua bad_unknown_field.lua bad_api.lua bad_name.lua bad_version.lua bad_no_decl.lua bad_syntax.lua decl_meta_index.lua decl_meta_pairs.lua per_call.lua per_load.lua per_process.lua"
printf '%s\n' $BAD_FIXTURES | xargs -P 2 -I{} bash -c 'check_one "$1"' _ {}

bad loop.lua "tandem: loop.lua:5: instruction budget of 10000000 exhausted (in hook score)"
bad loop_pcall.lua "tandem: loop_pcall.lua:5: instruction budget of 10000000 exhausted (in hook score)"
bad loop_xpcall.lua "tandem: loop_xpcall.lua:5: instruction budget of 10000000 exhausted (in hook score)"
# At load time the declaration's limits are not known yet: the default budget
# (1e8 instructions) or the 1 s deadline, whichever comes first on this machine.
bad loop_at_load.lua "tandem: loop_at_load.lua:2: "
if grep -qE "instruction budget of 100000000 exhausted|wall-clock deadline of 1000 ms exceeded" "$ERR"; then
  ok "loop_at_load budget"; else fail "loop_at_load budget" "$(cat "$ERR")"; fi
bad alloc.lua "tandem: alloc.lua: memory budget of 64 MiB exhausted (in hook score)"
bad alloc_tables.lua "tandem: alloc_tables.lua: memory budget of 32 MiB exhausted (in hook score)"
bad huge_rep.lua "tandem: huge_rep.lua: memory budget of 256 MiB exhausted (in hook score)"
bad recurse.lua "tandem: recurse.lua:5: stack overflow (in hook score)"
bad recurse_gsub.lua "tandem: recurse_gsub.lua: C stack overflow (in hook score)"
bad sort_error.lua "tandem: sort_error.lua:5: comparator failed (in hook score)"
bad pattern.lua "tandem: plugin pattern.lua: hook score killed after 1000 ms wall-clock deadline"
bad pattern_at_load.lua "tandem: plugin pattern_at_load.lua: load killed after 1000 ms wall-clock deadline"
bad io_open.lua "tandem: io_open.lua:5: attempt to index a nil value (global 'io') (in hook score)"
bad os_execute.lua "tandem: os_execute.lua:5: attempt to call a nil value (field 'execute') (in hook score)"
bad os_exit.lua "tandem: os_exit.lua:5: attempt to call a nil value (field 'exit') (in hook score)"
bad os_getenv.lua "tandem: os_getenv.lua:5: attempt to call a nil value (field 'getenv') (in hook score)"
bad debug_lib.lua "tandem: debug_lib.lua:5: attempt to index a nil value (global 'debug') (in hook score)"
bad package_lib.lua "tandem: package_lib.lua:5: attempt to index a nil value (global 'package') (in hook score)"
bad require_fn.lua "tandem: require_fn.lua:5: attempt to call a nil value (global 'require') (in hook score)"
bad dofile_fn.lua "tandem: dofile_fn.lua:5: attempt to call a nil value (global 'dofile') (in hook score)"
bad collectgarbage_fn.lua "tandem: collectgarbage_fn.lua:5: attempt to call a nil value (global 'collectgarbage') (in hook score)"
bad bytecode.lua "tandem: bytecode.lua:5: attempt to load a binary chunk (mode is 't') (in hook score)"
bad string_dump.lua "tandem: string_dump.lua:5: attempt to call a nil value (field 'dump') (in hook score)"
bad finalizer.lua "tandem: finalizer.lua:5: finalizers (__gc) are not allowed (in hook score)"
bad finalizer_false.lua "tandem: finalizer_false.lua:5: finalizers (__gc) are not allowed (in hook score)"
bad string_replace.lua "tandem: string_replace.lua:5: attempt to modify read-only table 'string' (in hook score)"
bad string_rawset.lua "tandem: string_rawset.lua:5: attempt to modify read-only table 'string' (in hook score)"
bad string_metatable.lua "tandem: string_metatable.lua:5: attempt to index a string value (local 'mt') (in hook score)"
bad string_setmetatable.lua "tandem: string_setmetatable.lua:5: bad argument #1 to 'setmetatable' (table expected, got string) (in hook score)"
bad tandem_write.lua "tandem: tandem_write.lua:5: attempt to modify read-only table 'tandem.time' (in hook score)"
bad tandem_rawset.lua "tandem: tandem_rawset.lua:5: attempt to modify read-only table 'tandem' (in hook score)"
bad error_table.lua "tandem: error_table.lua: error raised with a table value instead of a message (in hook score)"
bad hook_error.lua "tandem: hook_error.lua:4: no score for Ana Silva (in hook score)"
bad api_error.lua "tandem: api_error.lua:4: bad time '2026-13-01': month out of range (in hook score)"
bad bad_field_type.lua "tandem: bad_field_type.lua:2: field 'plan' must be a function (got string)"
# The line of the misspelt field (line 3), not of the constructor (line 2).
bad bad_unknown_field.lua "tandem: bad_unknown_field.lua:3: unknown field 'shedule' in a job declaration (valid fields: name, version, api, description, limits, schedule, run, timezone, misfire, grace, overlap, jitter, max_lateness, needs)"
bad bad_api.lua "tandem: bad_api.lua:2: field 'api' is 2, but this host supports plugin API version 1"
bad bad_name.lua "tandem: bad_name.lua:2: field 'name' must be 1 to 64 characters of a-z, 0-9, '_' or '-' (got \"Bad Name\")"
bad bad_version.lua "tandem: bad_version.lua:2: field 'version' must look like \"1.2.0\" (got \"1.2\")"
bad bad_no_decl.lua "tandem: bad_no_decl.lua: the file must return a declaration made with tandem.policy{...}"
bad bad_syntax.lua "tandem: bad_syntax.lua:2: '}' expected near 'version'"
# Plugins that behave differently per load, per call or per process, and
# metatables on the declaration and on what hooks return: the host never runs
# the file or a metamethod, and names the file, line and hook.
bad decl_meta_index.lua "tandem: decl_meta_index.lua:10: missing field 'version' (a string)"
bad decl_meta_pairs.lua "tandem: decl_meta_pairs.lua:15: score must return a finite number (got table) (in hook score)"
bad per_call.lua "tandem: per_call.lua:16: instruction budget of 10000000 exhausted (in hook score)"
bad per_load.lua "tandem: plugin per_load.lua: hook capacity killed after 400 ms wall-clock deadline"
expect_err "per_load reloaded" "plugin per_load.lua: hook score not run: the file declared something else when it was loaded again"
bad per_process.lua "tandem: per_process.lua:11: refusing to score in a fresh process (clock 0.0) (in hook score)"

# A reward rule's `on` key that no event has (a typo) is a declaration error at the key's
# line listing the kinds (walk3 #3); custom.NAME (a job's event) is accepted.
RW="$E2E_TMP/rw"
mkdir -p "$RW"
rule() { # rule FILE KIND GRANT
  printf 'return tandem.reward{\n  name = "r", version = "1.0.0", api = 1,\n  on = {\n    ["%s"] = function(ev, ctx)\n      return { %s }\n    end,\n  },\n}\n' "$2" "$3" >"$RW/$1"
}
rule typo.lua session.canceled '{ person_id = ev.match.mentor_id, points = -5, reason = "x" }'
run "$TANDEM" plugins check "$RW/typo.lua"
expect_rc "on typo" 1
expect_err "on typo line" "typo.lua:4: field 'on[\"session.canceled\"]': no event has that kind (valid kinds: people.imported,"
expect_err "on typo lists" "session.cancelled,"
grep -q "RETURNED" "$OUT" && fail "on typo not run" "a sample event was made up: $(cat "$OUT")" || ok "on typo not run"
rule custom.lua custom.digest '{ person_id = 1, points = 1, reason = "x" }'
run "$TANDEM" plugins check "$RW/custom.lua"
expect_rc "on custom" 0
# A bad grant gives the handler's line, as dispatch does (walk3 #5).
rule noreason.lua session.held '{ person_id = ev.match.mentor_id, points = 5 }'
run "$TANDEM" plugins check "$RW/noreason.lua"
expect_rc "grant no reason" 1
expect_err "grant no reason line" "noreason.lua:4: grant 1: missing field 'reason' (in hook on[\"session.held\"])"
rule halfpoint.lua session.held '{ person_id = ev.match.mentor_id, points = -5.5, reason = "x" }'
run "$TANDEM" plugins check "$RW/halfpoint.lua"
expect_err "grant points line" "halfpoint.lua:4: grant 1: field 'points'"

# Nothing escaped the sandbox.
if [ -e /tmp/tandem-pwned ]; then fail "os.execute escaped" "/tmp/tandem-pwned exists"; else ok "no escape"; fi

# The good fixtures pass and show what each hook returned.
run "$TANDEM" plugins check good_policy.lua
expect_rc "good policy" 0
expect_out "good policy header" "good_policy.lua: policy 'good-policy' 1.2.0 (api 1)"
expect_out "good policy capacity" "capacity"
for f in good_cadence.lua good_reward.lua good_report.lua good_job.lua; do
  run "$TANDEM" plugins check "$f"
  expect_rc "$f" 0
done
run "$TANDEM" plugins check --json good_reward.lua
expect_rc "check json" 0
expect_out "check json value" '"value": "{{person_id=2, points=10, reason=\"session held\"}, {person_id=3, points=10, reason=\"session held\"}}"'
expect_out "check json ok" '"ok": true'
# Options after FILE work as in the other commands (walk3 #9).
run "$TANDEM" plugins check good_reward.lua --json
expect_rc "check json after file" 0
expect_out "check json after file ok" '"ok": true'
run "$TANDEM" plugins check good_reward.lua good_job.lua
expect_rc "check two files" 2
expect_err "check two files msg" "unexpected argument 'good_job.lua' (one FILE at a time)"
run "$TANDEM" plugins check --json
expect_rc "check no file" 2
expect_err "check no file msg" "missing FILE"
run "$TANDEM" plugins check --json hook_error.lua
expect_rc "check json failing" 1
expect_out "check json error" '"error": "hook_error.lua:4: no score for Ana Silva (in hook score)"'
run "$TANDEM" plugins check good_report.lua
expect_out "report value" 'title="Counts for pilot"'
# A report's queries are prepared against the schema: what the report would fail on
# fails the check, at the query's line; a good one passes (good_report above).
RQ="$E2E_TMP/rq"
mkdir -p "$RQ"
rq_case() { # rq_case NAME QUERY-CALL MESSAGE
  printf 'return tandem.report{ name = "%s", version = "1.0.0", api = 1,\n  build = function(metrics, q, ctx)\n    local r = %s\n    return { title = "t", sections = {} }\n  end }\n' \
    "$1" "$2" >"$RQ/$1.lua"
  run "$TANDEM" plugins check "$RQ/$1.lua"
  expect_rc "$1 rc" 1
  expect_err "$1 msg" "$3"
}
rq_case rq_table 'q.rows("SELECT count(*) FROM sesions")' "rq_table.lua:3: q.rows: no such table: sesions (in hook build)"
rq_case rq_column 'q.one("SELECT nme FROM people WHERE id = ?", 1)' "rq_column.lua:3: q.one: no such column: nme (in hook build)"
rq_case rq_args 'q.rows("SELECT id FROM people WHERE id = ?")' "rq_args.lua:3: q.rows: the query has 1 parameter, 0 values given (in hook build)"
rq_case rq_write 'q.rows("DELETE FROM people")' "rq_write.lua:3: q.rows: not allowed in a report (the query helper only reads): DELETE people (in hook build)"
printf 'return tandem.report{ name = "rq_ok", version = "1.0.0", api = 1,\n  build = function(metrics, q, ctx)\n    local r = q.one("SELECT count(*) AS n FROM sessions WHERE status = ?", "held")\n    return { title = "t", sections = {} }\n  end }\n' >"$RQ/rq_ok.lua"
run "$TANDEM" plugins check "$RQ/rq_ok.lua"
expect_rc "rq_ok" 0
run "$TANDEM" plugins check good_match.lua
expect_rc "match bindings" 0
expect_out "match bindings value" 'title="match"'

# `plugins check` holds policy hooks to what `match run` accepts: a score that is
# not a finite number (a numeric string included), a capacity that is not a
# whole number in range. The message names the line where the hook is defined.
RET="$E2E_TMP/ret"
mkdir -p "$RET"
ret_case() { # ret_case NAME HOOK-LINE MESSAGE
  printf 'return tandem.policy{ name = "%s", version = "1.0.0", api = 1,\n%s }\n' "$1" "$2" >"$RET/$1.lua"
  run "$TANDEM" plugins check "$RET/$1.lua"
  expect_rc "$1 exit" 1
  expect_err "$1 message" "$RET/$1.lua:2: $3"
}
ret_case ret_nan 'score = function(m, e, f) return 0/0 end' "score must return a finite number (got nan) (in hook score)"
ret_case ret_numstr 'score = function(m, e, f) return "1.5" end' 'score must return a finite number (got the string "1.5") (in hook score)'
ret_case ret_nil 'score = function(m, e, f) end' "score must return a finite number (got nil) (in hook score)"
ret_case ret_cap 'capacity = function(m) return 1.5 end' "capacity must return an integer in 0..1000000 (got 1.5) (in hook capacity)"
ret_case ret_pref 'method = "stable", prefer_mentee = function(m, e, f) return {} end' "prefer_mentee must return a finite number (got table) (in hook prefer_mentee)"

# `plugins check` holds a notifier's render to what a real send accepts (the same
# function, lua/notify_out): every one of these fails every real message (walk2 #9).
nt_case() { # nt_case NAME RETURNED MESSAGE
  printf 'return tandem.notifier{ name = "%s", version = "1.0.0", api = 1,\n  render = function(msg, ctx) return %s end }\n' "$1" "$2" >"$RET/$1.lua"
  run "$TANDEM" plugins check "$RET/$1.lua"
  expect_rc "$1 exit" 1
  expect_err "$1 message" "$RET/$1.lua:2: $3 (in hook render)"
}
nt_case nt_newline '{ subject = "line1\nline2", body = "x" }' "render's subject must be one line of at most 900 bytes (it holds a line break)"
nt_case nt_long '{ subject = string.rep("x", 2000), body = "x" }' "render's subject must be one line of at most 900 bytes (it is too long)"
nt_case nt_body '{ subject = "s", body = 42 }' "render must return strings subject and body (got string and number)"
nt_case nt_extra '{ subject = "s", body = "b", extra = 1 }' "render returned an unknown field 'extra' (valid: subject, body)"
nt_case nt_nil 'nil' "render must return a table {subject =, body =} (got nil)"
printf 'return tandem.notifier{ name = "nt_ok", version = "1.0.0", api = 1,\n  render = function(msg, ctx) return { subject = "[x] " .. msg.subject, body = msg.body } end }\n' >"$RET/nt_ok.lua"
run "$TANDEM" plugins check "$RET/nt_ok.lua"
expect_rc "nt_ok exit" 0

# `plugins check` holds a job's run to the actions a real run accepts (the same function,
# lua/job_out): every one of these fails every real run (walk4 #5). What needs the
# database (is there such a person or session) is left to the run.
job_case() { # job_case NAME ACTION MESSAGE
  printf 'return tandem.job{ name = "%s", version = "1.0.0", api = 1, schedule = "every 1h",\n  run = function(ctx) return { {event = {kind = "custom.ok"}}, %s } end }\n' "$1" "$2" >"$RET/$1.lua"
  run "$TANDEM" plugins check "$RET/$1.lua"
  expect_rc "$1 exit" 1
  expect_err "$1 message" "$RET/$1.lua:2: action 2: $3 (in hook run)"
}
job_case job_key '{message = {to = "E1", body = "b", key = "a b"}}' "field 'message.key' must be 1 to 150 characters of A-Z, a-z, 0-9, '.', '_', ':' or '-' (got \"a b\")"
job_case job_unknown '{bogus = 1}' "unknown action 'bogus' (valid: event, message, cancel_session, end_match)"
job_case job_kind '{event = {kind = "session.held"}}' "field 'event.kind' must be \"custom.\" and a name of a-z, 0-9, '_' or '.' (got \"session.held\")"
job_case job_reason '{cancel_session = 3}' "missing field 'reason' (a string)"
job_case job_two '{cancel_session = 3, end_match = 2, reason = "x"}' "must have exactly one action field (valid: event, message, cancel_session, end_match)"
job_case job_fn '{event = {kind = "custom.x", payload = {f = function() end}}}' "field 'event.payload.f' is a function, which cannot be passed"
printf 'return tandem.job{ name = "job_ok", version = "1.0.0", api = 1, schedule = "every 1h",\n  run = function(ctx) return { {message = {to = "E1", body = "b", key = "k:1"}}, {end_match = 99, reason = "r"} } end }\n' >"$RET/job_ok.lua"
run "$TANDEM" plugins check "$RET/job_ok.lua"
expect_rc "job_ok exit" 0

# A job script named like a built-in job: `plugins check` refuses it as the
# service's loading (and `jobs list`) does, by the same function (sched/job).
printf 'return tandem.job{ name = "send-reminders", version = "1.0.0", api = 1, schedule = "every hour",\n  run = function(ctx) return {} end }\n' >"$RET/send-reminders.lua"
run "$TANDEM" plugins check "$RET/send-reminders.lua"
expect_rc "builtin job name exit" 1
expect_err "builtin job name message" "$RET/send-reminders.lua: field 'name': job name 'send-reminders' is taken by a built-in job"
JWS=$(new_ws) || JWS=""
if [ -n "$JWS" ]; then
  mkdir -p "$JWS/scripts"
  cp "$RET/send-reminders.lua" "$JWS/scripts/"
  run "$TANDEM" -C "$JWS" jobs list
  expect_err "builtin job name in jobs list" "scripts/send-reminders.lua: field 'name': job name 'send-reminders' is taken by a built-in job"
fi

# Every complete example in docs/plugin-api.md (a ```lua block that returns a
# declaration) passes `plugins check`: the reference cannot drift from the host.
DOCEX="$E2E_TMP/docex"
mkdir -p "$DOCEX"
/usr/bin/python3 - "$TANDEM_SRCDIR/docs/plugin-api.md" "$DOCEX" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
for i, b in enumerate(re.findall(r"```lua\n(.*?)```", text, re.S)):
    if "return tandem." in b and "..." not in b:
        open("%s/example%d.lua" % (sys.argv[2], i), "w").write(b)
PY
NDOC=0
for f in "$DOCEX"/example*.lua; do
  [ -e "$f" ] || continue
  NDOC=$((NDOC + 1))
  run "$TANDEM" plugins check "$f"
  expect_rc "doc $(basename "$f")" 0
done
[ "$NDOC" -ge 6 ] && ok "doc examples" || fail "doc examples" "only $NDOC complete examples in docs/plugin-api.md"

# Usage and help.
run "$TANDEM" plugins --help
expect_rc "help" 0
expect_out "help text" "usage: tandem plugins list"
run "$TANDEM" plugins check --help
expect_rc "check help" 0
run "$TANDEM" plugins list --help
expect_rc "list help" 0
run "$TANDEM" plugins check
expect_rc "check without file" 2
run "$TANDEM" plugins list --kind nope
expect_rc "bad kind" 2
run "$TANDEM" plugins frobnicate
expect_rc "bad subcommand" 2
run "$TANDEM" plugins check no_such_file.lua
expect_rc "missing file" 1
expect_err "missing file message" "no_such_file.lua: cannot open"

# Discovery: a workspace plugin, a broken one, and a cadence.
if [ -n "$WS" ]; then
  mkdir -p "$WS/policies" "$WS/plugins/cadences"
  cp good_policy.lua "$WS/policies/mine.lua"
  cp hook_error.lua "$WS/policies/broken_at_run.lua"
  printf 'return 42\n' > "$WS/policies/not_a_plugin.lua"
  cp good_cadence.lua "$WS/plugins/cadences/biweekly.lua"
  run "$TANDEM" -C "$WS" plugins list
  expect_rc "list" 0
  expect_out "list header" "NAME"
  expect_out "list workspace policy" "good-policy"
  expect_out "list cadence" "biweekly"
  expect_out "list load error" "the file must return a declaration"
  run "$TANDEM" -C "$WS" plugins list --json --kind cadence
  expect_rc "list json" 0
  expect_out "list json cadence" '"name": "biweekly"'
  expect_out "list json source" '"source": "workspace"'
  if grep -q '"kind": "policy"' "$OUT"; then fail "list --kind filter" "policy listed"; else ok "list --kind"; fi
  AFTER=$(db_digest "$WS")
  if [ "$BEFORE" = "$AFTER" ]; then ok "db untouched"; else fail "db untouched" "digest changed"; fi
fi

finish
