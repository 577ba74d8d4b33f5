#!/usr/bin/env bash
# End-to-end: `tandem simulate` on a small seeded workspace (gen-org, import, match run,
# approve; the program's own dates, so the simulated activate-matches job activates the
# pairs at the program's start; one month each run): the months add up (held + missed + cancelled <= planned,
# the total is the sum), the same seed gives the same document, another seed another one,
# the real workspace is untouched (database bytes and mtime, no -wal/-shm left, no outbox),
# the temporary copy is removed and --keep keeps it (check-ins, missed sessions without a
# check-in for the mark-missed job, cancelled and moved ones), --json parses, the text
# table, the kept copy's report as of its last simulated day (report --as-of), refused
# check-ins skipped alone (the wake's batch done again), a database
# of an older schema is simulated on a migrated copy (the real one keeps its version), a
# cadence that fails for every pair lists the pairs and the plugin's error after the table,
# a report plugin and a Lua job that fail are counted (FAILED) and named month by month,
# and bad arguments exit 2 with a message naming the option.
. "$(dirname "$0")/lib.sh"

T=$TANDEM
P=digital-2027
PY=/usr/bin/python3

WS=$(new_ws) || exit 1
DB=$WS/tandem.db
"$T" gen-org --people 90 --seed 5 --out "$WS/people.csv" --survey $P --survey-out "$WS/survey.csv" >/dev/null 2>&1
"$T" -C "$WS" import people people.csv >/dev/null 2>&1
"$T" -C "$WS" import enrollments survey.csv --program $P >/dev/null 2>&1
"$T" -C "$WS" match run --program $P >/dev/null 2>&1
run "$T" -C "$WS" match approve --all --program $P
expect_rc approve 0
NPAIRS=$(sqlite3 "$DB" "SELECT count(*) FROM matches WHERE status = 'approved'")
[ "$NPAIRS" -ge 4 ] && ok "approved pairs" || fail "approved pairs" "$NPAIRS"

# The template's program starts on 2027-01-11; the simulation starts a week before.
FROM=2027-01-04
SUM0=$(sha256sum "$DB" | cut -d' ' -f1)
MT0=$(stat -c %Y "$DB")
export TMPDIR=$E2E_TMP/tmp
mkdir -p "$TMPDIR"

run "$T" -C "$WS" simulate --program $P --months 1 --seed 1 --from $FROM --json
expect_rc "simulate json" 0
cp "$OUT" "$E2E_TMP/a.json"
$PY - "$E2E_TMP/a.json" "$NPAIRS" >"$E2E_TMP/checks" 2>&1 <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
npairs = int(sys.argv[2])
bad = []
months = doc["months"]
if len(months) != 1: bad.append("months: %d" % len(months))
if doc["from"] != "2027-01-04T00:00:00Z" or doc["until"] != "2027-02-04T00:00:00Z":
    bad.append("window %s %s" % (doc["from"], doc["until"]))
if (months[0]["from"], months[0]["until"]) != (doc["from"], doc["until"]): bad.append("month bounds")
keys = ["planned", "held", "missed", "cancelled", "rescheduled", "open", "ratings",
        "messages_sent", "jobs_run"]
for m in months + [doc["total"]]:
    if m["held"] + m["missed"] + m["cancelled"] + m["open"] != m["planned"]:
        bad.append("does not add up: %s" % m)
    if m["held"] + m["missed"] + m["cancelled"] > m["planned"]: bad.append("over: %s" % m)
    if m["held"] + m["missed"] and abs(m["held_rate"] - m["held"] / (m["held"] + m["missed"])) > 1e-9:
        bad.append("held_rate %s" % m)
    if m["ratings"] and not 1 <= m["mean_rating"] <= 5: bad.append("mean_rating %s" % m)
for k in keys:
    if sum(m[k] for m in months) != doc["total"][k]: bad.append("total %s" % k)
t = doc["total"]
if t["active_pairs"] != npairs: bad.append("active pairs %d, want %d" % (t["active_pairs"], npairs))
if months[0]["active_pairs"] != npairs: bad.append("month 1 pairs %d" % months[0]["active_pairs"])
if t["held"] == 0 or t["missed"] == 0: bad.append("no held or no missed: %s" % t)
if t["messages_sent"] == 0: bad.append("no reminders delivered")
# The four hourly built-in jobs over a month, at the hours where they had work only (each
# week's plan, reminders and missed sessions: far fewer than 4 * 24 * 30), and the
# participants checked in.
if not 8 <= t["jobs_run"] < 4 * 24 * 30 // 4: bad.append("jobs_run %d" % t["jobs_run"])
if doc["participants"]["checkins"] < t["held"]: bad.append("checkins %s" % doc["participants"])
if doc["copy"] is not None: bad.append("copy %s" % doc["copy"])
if doc["seed"] != "1" or doc["program"] != "digital-2027": bad.append("header")
print("\n".join(bad) if bad else "ok")
PY
[ "$(cat "$E2E_TMP/checks")" = ok ] && ok "months add up" || fail "months add up" "$(head -c 1500 "$E2E_TMP/checks")"

[ "$(sha256sum "$DB" | cut -d' ' -f1)" = "$SUM0" ] && ok "database bytes unchanged" || fail "database bytes unchanged"
[ "$(stat -c %Y "$DB")" = "$MT0" ] && ok "database mtime unchanged" || fail "database mtime unchanged"
[ ! -e "$DB-wal" ] && [ ! -e "$DB-shm" ] && ok "no -wal/-shm left" || fail "no -wal/-shm left" "$(ls "$WS")"
[ ! -e "$WS/outbox" ] && ok "no outbox in the workspace" || fail "no outbox in the workspace"
[ -z "$(ls -A "$TMPDIR")" ] && ok "copy removed" || fail "copy removed" "$(ls -A "$TMPDIR")"

# The same seed: the same document (this run keeps its copy, named in "copy"); the copy
# has the simulated sessions.
KEEP=$E2E_TMP/kept
run "$T" -C "$WS" simulate --program $P --months 1 --seed 1 --from $FROM --json --keep "$KEEP"
expect_rc "simulate keep" 0
$PY - "$OUT" "$E2E_TMP/a.json" "$KEEP" >"$E2E_TMP/checks" 2>&1 <<'PY'
import json, sys
b, a = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
bad = []
if b.pop("copy") != sys.argv[3]: bad.append("copy not named")
a.pop("copy")
if a != b: bad.append("differs: %s vs %s" % (a["total"], b["total"]))
print("\n".join(bad) if bad else "ok")
PY
[ "$(cat "$E2E_TMP/checks")" = ok ] && ok "same seed, same output" || fail "same seed, same output" "$(head -c 1500 "$E2E_TMP/checks")"
HELD=$($PY -c 'import json,sys; print(json.load(open(sys.argv[1]))["total"]["held"])' "$E2E_TMP/a.json")
[ "$(sqlite3 "$KEEP/tandem.db" "SELECT count(*) FROM sessions WHERE status = 'held' AND starts_at < '2027-02-04'")" = "$HELD" ] &&
  ok "kept copy has the held sessions" || fail "kept copy has the held sessions"
# Sessions nobody checked in: missed by the mark-missed job; check-ins by both sides.
[ "$(sqlite3 "$KEEP/tandem.db" "SELECT count(*) FROM sessions s WHERE status = 'missed' AND NOT EXISTS (SELECT 1 FROM feedback f WHERE f.session_id = s.id)")" -gt 0 ] &&
  ok "mark-missed had work" || fail "mark-missed had work"
[ "$(sqlite3 "$KEEP/tandem.db" "SELECT count(*) FROM feedback WHERE actor = 'simulate' AND rating BETWEEN 1 AND 5")" -gt 0 ] &&
  ok "rated check-ins" || fail "rated check-ins"
# The participants act at a session's end: the copy wakes then (not at the next job's hour).
late=$(sqlite3 "$KEEP/tandem.db" "SELECT count(*) FROM feedback f JOIN sessions s ON s.id = f.session_id
  WHERE f.actor = 'simulate' AND strftime('%s', f.created_at) - strftime('%s', s.starts_at) <> 60 * s.duration_min")
[ "$late" = 0 ] && ok "check-ins at the session's end" || fail "check-ins at the session's end" "$late late"
[ "$(sqlite3 "$KEEP/tandem.db" "SELECT count(*) FROM events WHERE kind = 'session.held'")" -gt 0 ] &&
  ok "check-in events" || fail "check-in events"
[ "$(sqlite3 "$KEEP/tandem.db" "SELECT count(*) FROM sessions WHERE status IN ('cancelled', 'rescheduled')")" -gt 0 ] &&
  ok "cancelled or moved sessions" || fail "cancelled or moved sessions"

# Goals: the mentee of each held session assessed its topic (a library one), 1..5, so the
# report's Goals and health have a starting point.
NSK=$(sqlite3 "$KEEP/tandem.db" "SELECT count(*) FROM skill_assessments")
[ "$NSK" -gt 0 ] && ok "simulated self-assessments" || fail "simulated self-assessments" "none"
[ "$(sqlite3 "$KEEP/tandem.db" "SELECT count(*) FROM skill_assessments k JOIN sessions s ON s.id = k.session_id
  JOIN matches m ON m.id = s.match_id WHERE s.status <> 'held' OR k.person_id <> m.mentee_id
  OR k.topic IS NOT s.topic OR k.level NOT BETWEEN 1 AND 5")" = 0 ] &&
  ok "self-assessments: the mentee, a held session, its topic" || fail "self-assessments: the mentee, a held session, its topic"
[ "$(sqlite3 "$KEEP/tandem.db" "SELECT count(*) FROM sessions s JOIN matches m ON m.id = s.match_id
  JOIN programs p ON p.id = m.program_id WHERE s.status = 'held'
  AND EXISTS (SELECT 1 FROM json_each(p.config, '$.topics') t WHERE t.value = s.topic)
  AND NOT EXISTS (SELECT 1 FROM skill_assessments k WHERE k.session_id = s.id)")" = 0 ] &&
  ok "self-assessments: every held session with a library topic" ||
  fail "self-assessments: every held session with a library topic"
run "$T" -C "$KEEP" report --program $P --format json --as-of 2027-02-03
$PY -c 'import json,sys; doc = json.load(open(sys.argv[1]))
print(any(s.get("heading") == "Goals" and s["table"]["rows"] for s in doc["sections"]))' "$OUT" | grep -q True &&
  ok "report has goals" || fail "report has goals" "$(head -c 400 "$OUT")"

# Another seed, one month, as text: the table, and a first month other than seed 1's.
run "$T" -C "$WS" simulate --program $P --months 1 --seed 2 --from $FROM
expect_rc "simulate text" 0
expect_out "text header" "MONTH"
expect_out "text total" "total"
expect_out "text removed" "on a copy (removed)"
ROW1=$($PY -c 'import json,sys; m = json.load(open(sys.argv[1]))["months"][0]
print(" ".join(str(m[k]) for k in ("planned", "held", "missed", "cancelled", "rescheduled")))' "$E2E_TMP/a.json")
ROW2=$(awk '$1 == "2027-01-04" { print $2, $3, $4, $5, $6 }' "$OUT")
[ -n "$ROW2" ] && ok "text first month" || fail "text first month" "$(head -c 600 "$OUT")"
[ "$ROW1" != "$ROW2" ] && ok "another seed differs" || fail "another seed differs" "$ROW1 = $ROW2"
run "$T" -C "$KEEP" sessions list --program $P --status held
expect_rc "kept copy is a workspace" 0
# The kept copy's calendar: one event per reschedule chain (more than 16: the export's
# arrays grow past their first allocation).
run "$T" -C "$KEEP" calendar export --program $P --out "$E2E_TMP/kept.ics"
expect_rc "kept copy calendar" 0
NEV=$(grep -c '^BEGIN:VEVENT' "$E2E_TMP/kept.ics")
NCH=$(sqlite3 "$KEEP/tandem.db" "SELECT count(*) FROM sessions WHERE rescheduled_from IS NULL")
[ "$NEV" = "$NCH" ] && [ "$NEV" -gt 16 ] && ok "kept copy calendar events" ||
  fail "kept copy calendar events" "$NEV events, $NCH chains"
# The kept copy's report as of its last simulated day (the copy ran to 2027-02-04), not as
# of today; a date that does not exist is a usage error naming the option.
run "$T" -C "$KEEP" report --program $P --format json --as-of 2027-02-03
expect_rc "report as of" 0
expect_out "report as of subtitle" "as of 2027-02-03"
run "$T" -C "$KEEP" report --program $P --format json --as-of 2027-02-03T12:00Z
expect_out "report as of an instant" "as of 2027-02-03"
run "$T" -C "$KEEP" report --program $P --as-of 2027-02-30
expect_rc "report as-of bad date" 2
expect_err "report as-of message" "--as-of '2027-02-30' is not a date (YYYY-MM-DD)"
run "$T" -C "$WS" simulate --program $P --months 1 --keep "$KEEP"
expect_rc "keep non-empty" 1
expect_err "keep non-empty text" "is not empty"

# A database of the previous schema (v10: before the planner's per-pair state) is simulated on a
# migrated copy; the real one keeps its version and its bytes.
# A refused check-in (a trigger of the test's refuses those of every fifth session): the
# wake's check-ins, done in one batch, are done again one level each, so the refused ones
# are skipped alone, the others kept, and the count says what landed.
WSR=$E2E_TMP/wsr
cp -r "$WS" "$WSR"
rm -rf "$WSR/outbox"
sqlite3 "$WSR/tandem.db" "CREATE TRIGGER test_refuse BEFORE INSERT ON feedback
  WHEN NEW.session_id % 5 = 2 BEGIN SELECT RAISE(ABORT, 'refused by the test'); END;"
KEEPR=$E2E_TMP/keptr
run "$T" -C "$WSR" simulate --program $P --months 1 --seed 1 --from $FROM --json --keep "$KEEPR"
expect_rc "refused check-ins" 0
NCHK=$($PY -c 'import json,sys; print(json.load(open(sys.argv[1]))["participants"]["checkins"])' "$OUT")
[ "$(sqlite3 "$KEEPR/tandem.db" "SELECT count(*) FROM feedback WHERE actor = 'simulate'")" = "$NCHK" ] &&
  [ "$NCHK" -gt 0 ] && ok "refused check-ins: the count is what landed" ||
  fail "refused check-ins: the count is what landed" "$NCHK"
[ "$(sqlite3 "$KEEPR/tandem.db" "SELECT count(*) FROM feedback WHERE session_id % 5 = 2")" = 0 ] &&
  ok "refused check-ins skipped" || fail "refused check-ins skipped"
[ "$(sqlite3 "$KEEPR/tandem.db" "SELECT count(*) FROM (SELECT session_id FROM feedback
  GROUP BY session_id HAVING count(*) <> 2)")" = 0 ] &&
  ok "refused check-ins: the others have both sides" || fail "refused check-ins: the others have both sides"
[ "$(sqlite3 "$KEEPR/tandem.db" "SELECT count(*) FROM sessions WHERE id % 5 = 2 AND status = 'held'")" = 0 ] &&
  [ "$(sqlite3 "$KEEPR/tandem.db" "SELECT count(*) FROM sessions WHERE id % 5 <> 2 AND status = 'held'")" -gt 0 ] &&
  ok "refused check-ins: held only where they landed" || fail "refused check-ins: held only where they landed"

WS9=$E2E_TMP/ws10
cp -r "$WS" "$WS9"
rm -rf "$WS9/outbox"
sqlite3 "$WS9/tandem.db" "DROP TRIGGER plan_match_changed; DROP TRIGGER plan_person_changed;
  DROP TRIGGER plan_enrollment_changed; DROP TRIGGER plan_enrollment_added;
  DROP TRIGGER plan_enrollment_removed; DROP TRIGGER plan_session_added;
  DROP TRIGGER plan_session_changed; DROP TRIGGER plan_session_removed;
  DROP INDEX matches_plan_next; DROP INDEX matches_plan_history; DROP TABLE plan_programs;
  ALTER TABLE matches DROP COLUMN plan_next_at; ALTER TABLE matches DROP COLUMN plan_history;
  ALTER TABLE matches DROP COLUMN plan_note;
  DROP TABLE dash_sessions; ALTER TABLE jobs DROP COLUMN considered_until;
  DROP INDEX sessions_reveal; ALTER TABLE sessions DROP COLUMN revealed_at;
  DROP TRIGGER people_matches_gone; DROP TABLE erased_certificates; DROP TABLE erasure_files;
  DROP TRIGGER session_change_noted; DROP TABLE session_changes;
  PRAGMA user_version = 10;"
SUM9=$(sha256sum "$WS9/tandem.db" | cut -d' ' -f1)
run "$T" -C "$WS9" simulate --program $P --months 1 --from $FROM --seed 1 --json
expect_rc "older schema simulated" 0
[ "$($PY -c 'import json,sys; print(json.load(open(sys.argv[1]))["total"]["held"] > 0)' "$OUT")" = True ] &&
  ok "older schema: sessions held" || fail "older schema: sessions held" "$(head -c 400 "$OUT")"
[ "$(sqlite3 "$WS9/tandem.db" 'PRAGMA user_version')" = 10 ] && [ "$(sha256sum "$WS9/tandem.db" | cut -d' ' -f1)" = "$SUM9" ] &&
  ok "older schema: real database unchanged" || fail "older schema: real database unchanged"

# --from before the workspace's jobs were synced (a `jobs list` at the real now): the copy's
# jobs still start at --from, so the months are those of a workspace never synced.
WSF=$(new_ws) || exit 1
cp "$DB" "$WSF/tandem.db"
cp "$WS/tandem.lua" "$WSF/tandem.lua"
sed -i -e "s/starts = \"[0-9-]*\"/starts = \"$(date -u -d '-10 days' +%F)\"/" "$WSF/tandem.lua"
PAST=$(date -u -d '-20 days' +%F)
run "$T" -C "$WSF" simulate --program $P --months 1 --seed 3 --from "$PAST" --json
expect_rc "past from, unsynced" 0
cp "$OUT" "$E2E_TMP/past_a.json"
run "$T" -C "$WSF" jobs list
expect_rc "jobs list syncs" 0
run "$T" -C "$WSF" simulate --program $P --months 1 --seed 3 --from "$PAST" --json
expect_rc "past from, synced" 0
months() { $PY -c 'import json,sys; d = json.load(open(sys.argv[1])); print(json.dumps(d["months"], sort_keys=True))' "$1"; }
[ "$(months "$E2E_TMP/past_a.json")" = "$(months "$OUT")" ] && ok "past from: jobs start at --from" ||
  fail "past from: jobs start at --from" "$(months "$E2E_TMP/past_a.json") vs $(months "$OUT")"
[ "$($PY -c 'import json,sys; print(json.load(open(sys.argv[1]))["total"]["planned"] > 0)' "$OUT")" = True ] &&
  ok "past from: sessions planned" || fail "past from: sessions planned" "$(head -c 400 "$OUT")"

# A cadence plugin that fails for every pair: no session, but the pairs are listed after the
# table with the plugin's FILE:LINE (and in --json), so it does not look like a quiet program;
# exit 0. A pair without a shared slot is listed the same way (the tutorial's test has those).
WSB=$E2E_TMP/wsbad
cp -r "$WS" "$WSB"
cat >"$WSB/plugins/cadences/oops.lua" <<'LUA'
return tandem.cadence{ name = "oops", version = "1.0.0", api = 1,
  plan = function(pair, history, ctx) return "oops" end }
LUA
sed -i 's/cadence = "biweekly"/cadence = "oops"/' "$WSB/tandem.lua"
run "$T" -C "$WSB" simulate --program $P --months 1 --seed 1 --from $FROM
expect_rc "failing cadence" 0
expect_out "failing cadence: pairs listed" "$NPAIRS pairs could not be planned (as of their last plan):"
expect_out "failing cadence: the plugin's line" "oops.lua:2: plan must return a list of sessions and rule segments (got string) (in hook plan)"
run "$T" -C "$WSB" simulate --program $P --months 1 --seed 1 --from $FROM --json
expect_rc "failing cadence json" 0
[ "$(jget "$OUT" 'len(d["unplanned"])')" = "$NPAIRS" ] && ok "failing cadence: json unplanned" ||
  fail "failing cadence: json unplanned" "$(head -c 600 "$OUT")"

# A report plugin that fails every month and a Lua job that fails every run (walk2 #15: the
# simulation said nothing, REPORTS 1 per month, exit 0): the FAILED column counts their runs,
# a line per month names each one with its error, and --json has them.
WSR=$E2E_TMP/wsfail
cp -r "$WS" "$WSR"
mkdir -p "$WSR/plugins/reports" "$WSR/scripts"
cat >"$WSR/plugins/reports/broken.lua" <<'LUA'
return tandem.report{ name = "broken", version = "1.0.0", api = 1, title = "Broken",
  publish = "monthly",
  build = function(metrics, q, ctx) return { title = "Broken", sections = {{heading = 5}} } end }
LUA
cat >"$WSR/scripts/boom.lua" <<'LUA'
return tandem.job{ name = "boom", version = "1.0.0", api = 1, schedule = "every 7d",
  run = function(ctx) error("boom") end }
LUA
run "$T" -C "$WSR" simulate --program $P --months 2 --seed 1 --from $FROM
expect_rc "failing plugins" 0
cp "$OUT" "$E2E_TMP/fail.txt"
expect_out "failing plugins: header" "FAILED"
expect_out "failing plugins: report, January" "2027-01-04 report broken: plugins/reports/broken.lua:"
expect_out "failing plugins: report, February" "2027-02-04 report broken: plugins/reports/broken.lua:"
expect_out "failing plugins: the report's field" "heading"
expect_out "failing plugins: the job" "job boom: "
expect_out "failing plugins: the job's error" "job boom: scripts/boom.lua:2: boom"
run "$T" -C "$WSR" simulate --program $P --months 2 --seed 1 --from $FROM --json
expect_rc "failing plugins json" 0
$PY - "$OUT" >"$E2E_TMP/checks" 2>&1 <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
bad = []
f = doc["failures"]
rep = [x for x in f if x["source"] == "report" and x["name"] == "broken"]
job = [x for x in f if x["source"] == "job" and x["name"] == "boom"]
if [(x["month"], x["runs"]) for x in rep] != [("2027-01-04T00:00:00Z", 1), ("2027-02-04T00:00:00Z", 1)]:
    bad.append("report failures %s" % rep)
if not rep or "heading" not in rep[0]["error"]: bad.append("report error %s" % rep)
if len(job) != 2 or not all("boom" in x["error"] for x in job): bad.append("job failures %s" % job)
for i, m in enumerate(doc["months"]):
    n = sum(x["runs"] for x in f if x["month"] == m["from"])
    if m["failed"] != n or n == 0: bad.append("month %d failed %d, listed %d" % (i, m["failed"], n))
if doc["total"]["failed"] != sum(x["runs"] for x in f): bad.append("total failed")
print("\n".join(bad) if bad else "ok")
PY
[ "$(cat "$E2E_TMP/checks")" = ok ] && ok "failing plugins: json" || fail "failing plugins: json" "$(head -c 1500 "$E2E_TMP/checks")"
[ "$(jget "$E2E_TMP/a.json" 'd["total"]["failed"], d["failures"]')" = "(0, [])" ] && ok "nothing failed: no failures" ||
  fail "nothing failed: no failures" "$(jget "$OUT" 'd["failures"]')"

# Bad arguments: exit 2, naming the option; an unknown program: exit 1 naming it.
for args in "--months 2" "--program $P" "--program $P --months 0" "--program $P --months 61" \
            "--program $P --months x" "--program $P --months 1 --seed -3" \
            "--program $P --months 1 --from 2027-13-01" "--program $P --months 1 --from yesterday" \
            "--program $P --months 1 extra" "--program $P --months 1 --bogus"; do
  run "$T" -C "$WS" simulate $args
  expect_rc "usage: $args" 2
done
run "$T" -C "$WS" simulate --months 2
expect_err "usage names --program" "--program"
run "$T" -C "$WS" simulate --program $P --months 1 --bogus
[ "$(grep -c -- "--bogus" "$ERR")" = 1 ] && grep -q "^tandem simulate: unknown option '--bogus'" "$ERR" &&
  ok "simulate --bogus named once" || fail "simulate --bogus named once" "$(cat "$ERR")"
run "$T" -C "$WS" simulate --program $P --months 1 --from
expect_rc "simulate --from without a value" 2
expect_err "simulate --from needs a value" "tandem simulate: --from needs a value"
run "$T" -C "$WS" calendar export --out
expect_rc "calendar --out without a value" 2
expect_err "calendar --out needs a value" "tandem calendar export: --out needs a value"
run "$T" -C "$WS" simulate --program $P --months 61
expect_err "usage names --months" "--months"
run "$T" -C "$WS" simulate --program nope --months 1
expect_rc "unknown program" 1
expect_err "unknown program text" "nope"
run "$T" -C "$E2E_TMP" simulate --program $P --months 1
expect_rc "no workspace" 1
run "$T" simulate --help
expect_rc help 0
expect_out "help usage" "usage: tandem simulate --program P --months N"

finish
