#!/usr/bin/env bash
# End-to-end tests of writing plugins: `tandem plugins new KIND NAME` writes a
# documented template into the workspace folder of its kind that passes
# `tandem plugins check` for every kind, refuses to overwrite, and rejects a bad
# kind or name with a clear usage error.
. "$(dirname "$0")/lib.sh"

WS=$(new_ws) || { fail "init" "no workspace"; finish; exit; }

for pair in policy:policies cadence:plugins/cadences reward:plugins/rewards \
            report:plugins/reports job:scripts; do
  kind=${pair%%:*} dir=${pair#*:}
  run "$TANDEM" -C "$WS" plugins new "$kind" "my_$kind"
  expect_rc "new $kind exit" 0
  expect_out "new $kind path" "$dir/my_$kind.lua"
  if [ -f "$WS/$dir/my_$kind.lua" ]; then ok "new $kind file"; else fail "new $kind file" "missing"; fi
  if grep -q -- "^  -- " "$WS/$dir/my_$kind.lua"; then ok "new $kind comments"; else fail "new $kind comments"; fi
  run "$TANDEM" plugins check "$WS/$dir/my_$kind.lua"
  expect_rc "check $kind exit" 0
  expect_out "check $kind decl" "$kind 'my_$kind' 0.1.0 (api 1)"
  # The workspace finds it by name.
  run "$TANDEM" -C "$WS" plugins list --kind "$kind"
  expect_out "list $kind" "my_$kind"
done

# Never overwrites without --force; --force rewrites the template.
echo "-- edited" >"$WS/policies/my_policy.lua"
run "$TANDEM" -C "$WS" plugins new policy my_policy
expect_rc "exists exit" 1
expect_err "exists message" "policies/my_policy.lua already exists (use --force to overwrite it)"
if [ "$(cat "$WS/policies/my_policy.lua")" = "-- edited" ]; then ok "exists kept"; else fail "exists kept"; fi
run "$TANDEM" -C "$WS" plugins new policy my_policy --force
expect_rc "force exit" 0
run "$TANDEM" plugins check "$WS/policies/my_policy.lua"
expect_rc "force check" 0

# Bad kind, bad name, missing arguments: usage errors (exit 2) that say what is wrong.
run "$TANDEM" -C "$WS" plugins new widget x
expect_rc "bad kind exit" 2
expect_err "bad kind message" "unknown kind 'widget' (policy, cadence, reward, report, job, notifier)"
run "$TANDEM" -C "$WS" plugins new policy "Bad Name"
expect_rc "bad name exit" 2
expect_err "bad name message" "invalid name 'Bad Name'"
run "$TANDEM" -C "$WS" plugins new policy ../evil
expect_rc "path name exit" 2
if [ ! -e "$WS/evil.lua" ]; then ok "path name nothing written"; else fail "path name nothing written"; fi
run "$TANDEM" -C "$WS" plugins new policy
expect_rc "missing name exit" 2
expect_err "missing name message" "expected KIND and NAME"
run "$TANDEM" plugins new --help
expect_rc "help exit" 0
expect_out "help text" "usage: tandem plugins new KIND NAME [--force]"

# The README tour: `plugins new policy mine` then `plugins check acme/policies/mine.lua`.
TOUR=$(mktemp -d "$E2E_TMP/tour.XXXXXX")
( cd "$TOUR" && "$TANDEM" init acme >/dev/null 2>&1 &&
  "$TANDEM" -C acme plugins new policy mine >/dev/null &&
  "$TANDEM" plugins check acme/policies/mine.lua >/dev/null )
RC=$?; ERR=/dev/null
expect_rc "readme tour new+check" 0
if grep -qF '$T -C acme plugins new policy mine' "$TANDEM_SRCDIR/README.md"; then
  ok "readme tour line"; else fail "readme tour line"; fi

# programs check: the init template names only plugins that exist; a policy or
# cadence that names no plugin is flagged with the line of its field.
PW=$(new_ws) || PW=""
run "$TANDEM" -C "$PW" programs check
expect_rc "template check exit" 0
expect_out "template check" "1 program checked"
# The template names the built-in biweekly cadence, which programs check finds.
if grep -q '^  cadence = "biweekly",' "$PW/tandem.lua"; then ok "template cadence"; else fail "template cadence" "not set to biweekly"; fi
LINE=$(grep -n '^  policy = ' "$PW/tandem.lua" | cut -d: -f1)
sed -i 's/^  policy = "digital_upskilling",/  policy = "nope",/; s/^  cadence = "biweekly",/  cadence = "fortnightly",/' "$PW/tandem.lua"
CLINE=$(grep -n '^  cadence = ' "$PW/tandem.lua" | cut -d: -f1)
run "$TANDEM" -C "$PW" programs check
expect_rc "missing plugins exit" 1
expect_err "missing policy line" "tandem.lua:$LINE: program 'digital-2027': field 'policy': no policy named 'nope'"
expect_err "missing policy hint" "(write one with \`tandem plugins new policy nope\`)"
expect_err "missing cadence line" "tandem.lua:$CLINE: program 'digital-2027': field 'cadence': no cadence named 'fortnightly'"
run "$TANDEM" -C "$PW" programs check nosuch
expect_rc "check unknown program" 1
expect_err "check unknown program message" "no program named 'nosuch'"
# match run refuses before running when the program's policy names no plugin.
run "$TANDEM" -C "$PW" match run --program digital-2027 --dry-run
expect_rc "match run missing policy exit" 1
expect_err "match run missing policy line" "tandem.lua:$LINE: program 'digital-2027': field 'policy': no policy named 'nope'"
expect_err "match run cadence warning" "warning: tandem.lua:$CLINE: program 'digital-2027': field 'cadence'"
# A missing cadence alone does not stop a run (the run does not use it): a warning.
sed -i 's/^  policy = "nope",/  policy = "digital_upskilling",/' "$PW/tandem.lua"
"$TANDEM" gen-org --people 60 --seed 3 --out "$PW/people.csv" --survey digital-2027 \
  --survey-out "$PW/survey.csv" >/dev/null 2>&1
"$TANDEM" -C "$PW" import people people.csv >/dev/null 2>&1
"$TANDEM" -C "$PW" import enrollments survey.csv --program digital-2027 >/dev/null 2>&1
run "$TANDEM" -C "$PW" match run --program digital-2027 --dry-run
expect_rc "match run cadence only exit" 0
expect_err "match run cadence only warning" "warning: tandem.lua:$CLINE: program 'digital-2027': field 'cadence'"
# --policy overrides the program's: its missing policy is not an error then.
sed -i 's/^  policy = "digital_upskilling",/  policy = "nope",/' "$PW/tandem.lua"
run "$TANDEM" -C "$PW" match run --program digital-2027 --dry-run --policy reciprocal
expect_rc "match run --policy override exit" 0
sed -i 's/^  policy = "nope",/  policy = "digital_upskilling",/' "$PW/tandem.lua"
# With the cadence written, everything is found.
run "$TANDEM" -C "$PW" plugins new cadence fortnightly
run "$TANDEM" -C "$PW" programs check digital-2027
expect_rc "fixed check exit" 0

# Declaration errors: each at the line of its field, all of them at once, in line order.
D=$(mktemp -d "$E2E_TMP/decl.XXXXXX")
cat >"$D/multi.lua" <<'LUA'
-- several mistakes at once
return tandem.cadence{
  name = "Multi",
  version = "1.2",
  api = 1,
  plan = "weekly",
  shedule = "x",
}
LUA
( cd "$D" && "$TANDEM" plugins check multi.lua >"$E2E_TMP/out" 2>"$E2E_TMP/err" ); RC=$?
OUT="$E2E_TMP/out"; ERR="$E2E_TMP/err"
expect_rc "multi exit" 1
expect_err "multi name line" "tandem: multi.lua:3: field 'name' must be 1 to 64 characters"
expect_err "multi version line" "multi.lua:4: field 'version' must look like \"1.2.0\" (got \"1.2\")"
expect_err "multi plan line" "multi.lua:6: field 'plan' must be a function (got string)"
expect_err "multi unknown line" "multi.lua:7: unknown field 'shedule' in a cadence declaration"
if [ "$(grep -o 'multi.lua:[0-9]*' "$ERR" | tr '\n' ' ')" = "multi.lua:3 multi.lua:4 multi.lua:6 multi.lua:7 " ]; then
  ok "multi order"; else fail "multi order" "$(cat "$ERR")"; fi
# A function field: the line where the function is defined.
cat >"$D/pol.lua" <<'LUA'
return tandem.policy{
  name = "p", version = "1.0.0", api = 1,
  weights = { topic_fit = 1 },

  prefer_mentor = function(a, b, f)
    return 1
  end,
}
LUA
( cd "$D" && "$TANDEM" plugins check pol.lua >"$OUT" 2>"$ERR" ); RC=$?
expect_rc "function field exit" 1
expect_err "function field line" "tandem: pol.lua:5: field 'prefer_mentor' only applies to method = \"stable\""
# A missing field has no line of its own: the constructor's.
printf -- '-- x\nreturn tandem.job{ name = "j", version = "1.0.0", api = 1,\n  schedule = "every 1d" }\n' >"$D/job.lua"
( cd "$D" && "$TANDEM" plugins check job.lua >"$OUT" 2>"$ERR" ); RC=$?
expect_rc "missing field exit" 1
expect_err "missing field line" "tandem: job.lua:2: missing field 'run' (a function)"
# --json carries every error too.
( cd "$D" && "$TANDEM" plugins check --json multi.lua >"$OUT" 2>"$ERR" ); RC=$?
expect_rc "multi json exit" 1
expect_out "multi json" 'multi.lua:3: field '"'"'name'"'"' must be'
expect_out "multi json all" 'multi.lua:7: unknown field'

# A policy's own fields: every problem at once, in line order, each at its field's line.
cat >"$D/pols.lua" <<'LUA'
return tandem.policy{
  name = "pols", version = "1.0.0", api = 1,
  method = "greedy",
  forbid = { "same_floor" },
  weights = {
    topic_fit = "high",
  },
  candidates = 0,
}
LUA
( cd "$D" && "$TANDEM" plugins check pols.lua >"$OUT" 2>"$ERR" ); RC=$?
expect_rc "policy fields exit" 1
expect_err "policy method line" "tandem: pols.lua:3: field 'method' must be \"optimal\" or \"stable\" (got \"greedy\")"
expect_err "policy forbid line" "pols.lua:4: field 'forbid': unknown constraint 'same_floor'"
expect_err "policy weights line" "pols.lua:5: field 'weights'.topic_fit must be a finite number (got string)"
expect_err "policy candidates line" "pols.lua:8: field 'candidates' must be an integer in 1..100000 (got 0)"
if [ "$(grep -o 'pols.lua:[0-9]*' "$ERR" | tr '\n' ' ')" = "pols.lua:3 pols.lua:4 pols.lua:5 pols.lua:8 " ]; then
  ok "policy fields order"; else fail "policy fields order" "$(cat "$ERR")"; fi
# tandem.lua: every problem of a program{} at once, each at its field's line.
CW=$(new_ws) || CW=""
sed -i 's/^  starts = "2027-01-11",/  starts = "2027-01-32",/; s/^  policy = "digital_upskilling",/  policy = 7,/' "$CW/tandem.lua"
L1=$(grep -n '^  starts = ' "$CW/tandem.lua" | cut -d: -f1)
L2=$(grep -n '^  policy = 7' "$CW/tandem.lua" | cut -d: -f1)
run "$TANDEM" -C "$CW" programs check
expect_rc "config fields exit" 1
expect_err "config starts line" "tandem.lua:$L1: program 'digital-2027': field 'starts': '2027-01-32' is not a date YYYY-MM-DD"
expect_err "config policy line" "tandem.lua:$L2: program 'digital-2027': field 'policy' must be a string (got number)"
if [ "$(grep -c 'tandem.lua:[0-9]*: program' "$ERR")" = 2 ]; then ok "config fields count"; else fail "config fields count" "$(cat "$ERR")"; fi

# Small points. A string where tandem.lua needs a number is refused, with file:line and field.
SW=$(new_ws) || SW=""
sed -i 's/sessions_per_month = 2,/sessions_per_month = "1",/' "$SW/tandem.lua"
# The line of the field, not the `program {` line.
SLINE=$(grep -n 'sessions_per_month = "1"' "$SW/tandem.lua" | head -1 | cut -d: -f1)
run "$TANDEM" -C "$SW" programs list
expect_rc "string sessions exit" 1
expect_err "string sessions message" "tandem.lua:$SLINE: program 'digital-2027': field 'sessions_per_month' must be a whole number from 1 to 31 (got string)"
# plugins check --json gives numbers as numbers.
run "$TANDEM" plugins check --json "$WS/policies/my_policy.lua"
expect_rc "json numbers exit" 0
expect_out "json number value" '"value": 2,'
if grep -q '"value": "2"' "$OUT"; then fail "json number not string"; else ok "json number not string"; fi
# From the source tree, the built-ins are labelled built-in, not workspace.
( cd "$TANDEM_SRCDIR" && "$TANDEM" plugins list --kind policy >"$E2E_TMP/out" 2>"$E2E_TMP/err" ); RC=$?
OUT="$E2E_TMP/out"
expect_rc "srcdir list exit" 0
if grep -E '^reciprocal ' "$OUT" | grep -q ' builtin '; then ok "srcdir builtin label"; else fail "srcdir builtin label" "$(cat "$OUT")"; fi
if grep -q ' workspace ' "$OUT"; then fail "srcdir no workspace label" "$(cat "$OUT")"; else ok "srcdir no workspace label"; fi

finish
