#!/usr/bin/env bash
# End-to-end: `tandem metrics` on a generated program. A workspace is seeded with gen-org,
# import, match run, approve and activate; sessions are written into the table at past
# instants (the planner has its own suite) and a few are checked in through the CLI, with
# ratings (both sides, one side in an open window, one side in a closed one), missed
# check-ins and the mentees' --skill self-assessments; one pair ends with the program,
# one is ended early, some people are terminated. Then every number of `metrics --json` is
# recomputed by a Python script from the raw rows (its own reading of docs/metrics.md, not
# the C SQL) and compared. Also: --skill refusals change nothing, the text output, --cohort,
# usage and unknown-program errors.
. "$(dirname "$0")/lib.sh"

T=$TANDEM
P=digital-2027
WS=$(new_ws) || exit 1
DB=$WS/tandem.db
PY=/usr/bin/python3
q() { sqlite3 "$DB" "$1"; }

run "$T" gen-org --people 120 --seed 11 --out "$WS/people.csv" --survey $P --survey-out "$WS/survey.csv"
expect_rc gen-org 0
run "$T" -C "$WS" import people "$WS/people.csv"
expect_rc import-people 0
run "$T" -C "$WS" import enrollments "$WS/survey.csv" --program $P
expect_rc import-enrollments 0
run "$T" -C "$WS" match run --program $P
expect_rc match-run 0
run "$T" -C "$WS" match approve --all --program $P
expect_rc approve 0
sed -i -e 's/starts = "[0-9-]*"/starts = "2025-01-06"/' -e 's/ends = "[0-9-]*"/ends = "2099-12-31"/' "$WS/tandem.lua"
run "$T" -C "$WS" match activate --program $P
expect_rc activate 0
NP=$(q "SELECT count(*) FROM matches WHERE status='active'")
[ "${NP:-0}" -ge 6 ] && ok pairs || fail pairs "only ${NP:-0} active pairs"

# Activation instants spread over two months (two cohorts), as if activated then.
q "UPDATE matches SET activated_at = CASE WHEN id % 2 = 0 THEN '2025-01-06T08:00:00Z'
   ELSE '2025-02-03T08:00:00Z' END WHERE status = 'active'"
# Per pair: four past sessions a fortnight apart from a day after activation, one yesterday
# and one far ahead.
YESTERDAY=$(date -u -d '-1 day' +%Y-%m-%dT10:00:00Z)
q "INSERT INTO sessions (match_id, starts_at, duration_min, timezone, planned_by, created_at, updated_at)
   SELECT m.id, strftime('%Y-%m-%dT10:00:00Z', m.activated_at, '+' || (1 + 14 * k.n) || ' days'), 45, 'UTC',
          'biweekly', 'x', 'x'
   FROM matches m, (SELECT 0 AS n UNION ALL SELECT 1 UNION ALL SELECT 2 UNION ALL SELECT 3) k
   WHERE m.status = 'active';
   INSERT INTO sessions (match_id, starts_at, duration_min, timezone, planned_by, created_at, updated_at)
   SELECT id, '$YESTERDAY', 45, 'UTC', 'biweekly', 'x', 'x' FROM matches WHERE status = 'active';
   INSERT INTO sessions (match_id, starts_at, duration_min, timezone, planned_by, created_at, updated_at)
   SELECT id, '2099-03-10T10:00:00Z', 45, 'UTC', 'biweekly', 'x', 'x' FROM matches WHERE status = 'active'"

mapfile -t PAIRS < <(q "SELECT id FROM matches WHERE status='active' ORDER BY id")
side() { q "SELECT p.external_id FROM matches m JOIN people p ON p.id = m.$2 WHERE m.id = $1"; }
sess() { q "SELECT id FROM sessions WHERE match_id = $1 ORDER BY starts_at LIMIT 1 OFFSET $2"; }
ci() { "$T" -C "$WS" sessions checkin "$@" >/dev/null 2>"$E2E_TMP/ci.err" || fail "checkin $*" "$(cat "$E2E_TMP/ci.err")"; }
TOPIC1=$(q "SELECT json_extract(config, '\$.topics[0]') FROM programs WHERE name = '$P'")
TOPIC2=$(q "SELECT json_extract(config, '\$.topics[1]') FROM programs WHERE name = '$P'")
i=0
for m in "${PAIRS[@]}"; do
  MR=$(side "$m" mentor_id); ME=$(side "$m" mentee_id)
  S0=$(sess "$m" 0); S1=$(sess "$m" 1); S2=$(sess "$m" 2); S3=$(sess "$m" 3); SY=$(sess "$m" 4)
  case $((i % 4)) in
  0) # both sides rate the first; the mentee assesses two topics at the first and one at the third
     ci "$S0" --held --as "$MR" --rating $((3 + i % 3))
     ci "$S0" --held --as "$ME" --rating 4 --skill "$TOPIC1=2" --skill "$TOPIC2=1"
     ci "$S1" --missed --as "$MR"; ci "$S1" --missed --as "$ME"
     ci "$S2" --held --as "$ME" --rating 5 --skill "$TOPIC1=4"
     ci "$SY" --held --as "$MR" --rating 2 ;;          # one side, window open: hidden
  1) ci "$S0" --held --as "$ME" --rating 3 --skill "$TOPIC1=3"   # one side, window closed: counted
     ci "$S1" --held
     ci "$S2" --held --as "$ME" --skill "$TOPIC1=3"
     "$T" -C "$WS" sessions cancel "$S3" >/dev/null ;;
  2) ci "$S0" --missed
     ci "$S1" --held --as "$MR" --rating 1; ci "$S1" --held --as "$ME" --rating 2 ;;
  3) ;; # never met
  esac
  i=$((i + 1))
done

# --skill refusals: nothing written.
M0=${PAIRS[0]}; MR0=$(side "$M0" mentor_id); ME0=$(side "$M0" mentee_id); S03=$(sess "$M0" 3)
BEFORE=$(db_digest "$WS")
run "$T" -C "$WS" sessions checkin "$S03" --held --as "$ME0" --skill nope=3
expect_rc skill-unknown-topic 1
expect_err skill-unknown-topic-msg "skill 'nope': not a topic of the program (topics: $TOPIC1, $TOPIC2"
run "$T" -C "$WS" sessions checkin "$S03" --held --as "$MR0" --skill "$TOPIC1=3"
expect_rc skill-mentor 1
expect_err skill-mentor-msg "is the mentor of session #$S03; a self-assessment is the mentee's"
run "$T" -C "$WS" sessions checkin "$S03" --held --as "$ME0" --skill "$TOPIC1=3" --skill "$TOPIC1=4"
expect_rc skill-twice 1
expect_err skill-twice-msg "skill '$TOPIC1': assessed twice in one check-in"
run "$T" -C "$WS" sessions checkin "$S03" --missed --as "$ME0" --skill "$TOPIC1=3"
expect_rc skill-missed 1
run "$T" -C "$WS" sessions checkin "$S03" --held --as "$ME0" --skill "$TOPIC1=6"
expect_rc skill-level 2
run "$T" -C "$WS" sessions checkin "$S03" --held --skill "$TOPIC1=3"
expect_rc skill-no-side 2
run "$T" -C "$WS" sessions checkin "$S03" --held --as "$ME0" --skill "$TOPIC1"
expect_rc skill-form 2
[ "$(db_digest "$WS")" = "$BEFORE" ] && ok skill-refusals-change-nothing || fail skill-refusals-change-nothing "database changed"
# A retry of a check-in with skills is the same check-in only with the same skills.
S00=$(sess "$M0" 0)
run "$T" -C "$WS" sessions checkin "$S00" --held --as "$ME0" --rating 4 --skill "$TOPIC1=2" --skill "$TOPIC2=1"
expect_rc skill-retry-same 0
expect_out skill-retry-same-msg "nothing changed"
run "$T" -C "$WS" sessions checkin "$S00" --held --as "$ME0" --rating 4 --skill "$TOPIC1=3" --skill "$TOPIC2=1"
expect_rc skill-retry-different 1
run "$T" -C "$WS" sessions show "$S00"
expect_out show-skills "skills: $TOPIC1 2/5"
run "$T" -C "$WS" sessions show "$S00" --json
[ "$(jget "$OUT" 'd["mentee"]["skills"][0]["level"]')" = 2 ] && ok show-skills-json || fail show-skills-json "$(head -c 400 "$OUT")"

# The second pair ends with the program (completed), the first early but completed, the fourth
# early for another reason; a few people leave.
q "UPDATE matches SET status = 'ended', ended_at = '2025-06-30T22:00:00Z', end_reason = 'program ended'
   WHERE id = ${PAIRS[1]};
   UPDATE matches SET status = 'ended', ended_at = '2025-03-01T10:00:00Z', end_reason = 'moved teams'
   WHERE id = ${PAIRS[3]};
   UPDATE matches SET status = 'ended', ended_at = '2025-04-01T10:00:00Z',
   end_reason = 'completed early, goals met' WHERE id = ${PAIRS[0]};
   UPDATE people SET status = 'terminated' WHERE id % 7 = 0;
   UPDATE people SET status = 'leave' WHERE id % 11 = 0;
   UPDATE people SET hire_date = '2025-06-01' WHERE id % 13 = 0"

run "$T" -C "$WS" metrics --program $P --json
expect_rc metrics-json 0
cp "$OUT" "$E2E_TMP/m.json"

# ---- every number, recomputed from the raw rows ---------------------------------------
cat >"$E2E_TMP/expect.py" <<'PYEOF'
import json, sqlite3, sys, calendar, time
from statistics import median
db, program, got = sys.argv[1], sys.argv[2], json.load(open(sys.argv[3]))
c = sqlite3.connect(db)
rows = lambda sql, *a: c.execute(sql, a).fetchall()
pid, starts_on, cfg = rows("SELECT id, starts_on, config FROM programs WHERE name = ?", program)[0]
now = calendar.timegm(time.strptime(got["generated_at"], "%Y-%m-%dT%H:%M:%SZ"))
ts = lambda s: calendar.timegm(time.strptime(s, "%Y-%m-%dT%H:%M:%SZ"))
rate = lambda n, d: n / d if d else None
mean = lambda v: sum(v) / len(v) if v else None

people = {r[0]: r for r in rows("SELECT id, department, location, level, birth_year, generation, hire_date, status FROM people")}
enrolled = {r[0] for r in rows("SELECT person_id FROM enrollments WHERE program_id = ?", pid)}
matches = {r[0]: r for r in rows("SELECT id, mentor_id, mentee_id, status, activated_at, end_reason FROM matches WHERE program_id = ?", pid)}
sessions = [r for r in rows("SELECT id, match_id, starts_at, duration_min, status FROM sessions") if r[1] in matches]
fb = {(r[0], r[1]): r[2] for r in rows("SELECT session_id, author_id, rating FROM feedback")}
decided = {m for m, r in matches.items() if r[3] in ("approved", "active", "ended")}
held = {m: 0 for m in matches}
for s in sessions:
    if s[4] == "held": held[s[1]] += 1
def sides(pred):
    out = set()
    for m in decided:
        if pred(matches[m]): out |= {matches[m][1], matches[m][2]}
    return out & enrolled
done = lambda r: r[3] == "ended" and (r[5] == "program ended" or (r[5] or "").startswith("completed"))
matched = sides(lambda r: True)
met = sides(lambda r: held[r[0]] > 0)
active = sides(lambda r: held[r[0]] > 0 and (r[3] == "active" or done(r)))
completed = sides(lambda r: held[r[0]] > 0 and done(r))
exp = {"program": program, "generated_at": got["generated_at"]}
exp["funnel"] = {"enrolled": len(enrolled), "matched": len(matched), "first_session": len(met),
                 "active": len(active), "completed": len(completed)}
exp["enrollment"] = {"enrolled": len(enrolled), "matched": len(matched),
                     "match_rate": rate(len(matched), len(enrolled)), "unmatched": len(enrolled) - len(matched)}
days = sorted((min(ts(s[2]) for s in sessions if s[1] == m and s[4] == "held") - ts(matches[m][4])) / 86400
              for m in matches if matches[m][4] and held[m] > 0)
exp["first_session"] = {"pairs": len(days), "median_days": median(days) if days else None, "mean_days": mean(days)}
def counts(ss, keys=("planned", "held", "missed", "cancelled")):
    return {k: sum(1 for s in ss if s[4] == k) for k in keys}
tot = counts(sessions, ("planned", "held", "missed", "cancelled", "rescheduled"))
tot["held_rate"] = rate(tot["held"], tot["held"] + tot["missed"])
tot["per_month"] = [dict(month=mo, **counts([s for s in sessions if s[2][:7] == mo]))
                    for mo in sorted({s[2][:7] for s in sessions})]
pr = []
for m in matches:
    h = sum(1 for s in sessions if s[1] == m and s[4] == "held")
    x = sum(1 for s in sessions if s[1] == m and s[4] == "missed")
    if h + x: pr.append(h / (h + x))
tot["per_pair_held_rate"] = {"pairs": len(pr), "mean": mean(pr), "min": min(pr) if pr else None, "max": max(pr) if pr else None}
exp["sessions"] = tot
vis, hidden = [], 0   # (side, rating, cohort)
for s in sessions:
    m = matches[s[1]]
    a, b = fb.get((s[0], m[1])), fb.get((s[0], m[2]))
    shown = (a is not None and b is not None) or now >= ts(s[2]) + 60 * s[3] + 7 * 86400
    for side, r in (("mentor", a), ("mentee", b)):
        if r is None: continue
        if shown: vis.append((side, r, m[4][:7] if m[4] else None))
        else: hidden += 1
exp["ratings"] = {"count": len(vis), "mean": mean([v[1] for v in vis]),
                  "distribution": [sum(1 for v in vis if v[1] == k) for k in range(1, 6)], "hidden": hidden,
                  "mentor": {"count": sum(1 for v in vis if v[0] == "mentor"), "mean": mean([v[1] for v in vis if v[0] == "mentor"])},
                  "mentee": {"count": sum(1 for v in vis if v[0] == "mentee"), "mean": mean([v[1] for v in vis if v[0] == "mentee"])}}
start_of = {s[0]: s[2] for s in sessions}
series = {}
for kid, sid, person, topic, level in rows("SELECT id, session_id, person_id, topic, level FROM skill_assessments WHERE program_id = ?", pid):
    m = matches[[s for s in sessions if s[0] == sid][0][1]]
    if person != m[2]: continue
    series.setdefault((topic, person), []).append((start_of[sid], kid, level))
library = json.loads(cfg).get("topics", [])
goals = []
for topic in sorted({t for t, _ in series}, key=lambda t: (library.index(t) if t in library else 1e9, t)):
    ps = [sorted(v) for (t, _), v in series.items() if t == topic]
    two = [p for p in ps if len(p) >= 2]
    sm, em = mean([p[0][2] for p in two]), mean([p[-1][2] for p in two])
    goals.append({"topic": topic, "assessed": len(ps), "n": len(two), "start_mean": sm, "end_mean": em,
                  "delta": em - sm if two else None})
exp["goals"] = goals
def gen(p):
    y = p[4]
    if y is None: return p[5] or "unknown"
    for lim, name in ((1945, "silent"), (1964, "baby_boomer"), (1980, "gen_x"), (1996, "millennial"), (2012, "gen_z")):
        if y <= lim: return name
    return "gen_alpha"
keyf = {"department": lambda p: p[1], "location": lambda p: p[2],
        "level": lambda p: None if p[3] is None else str(p[3]), "generation": gen}
part = {}
for dim, f in keyf.items():
    groups = {}
    for p in people.values(): groups.setdefault(f(p), []).append(p[0])
    part[dim] = [{"group": "(none)" if g is None else g, "people": len(ids),
                  "enrolled": sum(1 for i in ids if i in enrolled), "matched": sum(1 for i in ids if i in matched),
                  "active": sum(1 for i in ids if i in active)}
                 for g, ids in sorted(groups.items(), key=lambda kv: (kv[0] is not None, kv[0] or ""))]
exp["participation"] = part
pop = [p for p in people.values() if p[6] is None or starts_on is None or p[6] <= starts_on]
def ret(ps):
    n, k = len(ps), sum(1 for p in ps if p[7] != "terminated")
    return {"n": n, "retained": k, "rate": rate(k, n)}
exp["retention"] = {"participants": ret([p for p in pop if p[0] in met]),
                    "non_participants": ret([p for p in pop if p[0] not in met])}
if rows("SELECT count(*) FROM sqlite_master WHERE name = 'rewards'")[0][0]:
    rw = rows("SELECT id, person_id, points, badge, revokes FROM rewards WHERE program_id = ?", pid)
    revoked = {r[4] for r in rows("SELECT revokes FROM rewards WHERE revokes IS NOT NULL")}
    g = [r for r in rw if r[4] is None and r[0] not in revoked]
    exp["rewards"] = {"points": sum(r[2] for r in rw), "badges": sum(1 for r in g if r[3] is not None),
                      "grants": len(g), "people": len({r[1] for r in g})}
else:
    exp["rewards"] = {"points": 0, "badges": 0, "grants": 0, "people": 0}
cohorts = []
for co in sorted({m[4][:7] for m in matches.values() if m[4]}):
    ms = {m for m, r in matches.items() if r[4] and r[4][:7] == co}
    ss = [s for s in sessions if s[1] in ms]
    cs = counts(ss)
    cs["held_rate"] = rate(cs["held"], cs["held"] + cs["missed"])
    rv = [v[1] for v in vis if v[2] == co]
    cohorts.append({"cohort": co, "pairs": len(ms), "sessions": cs, "ratings": {"count": len(rv), "mean": mean(rv)}})
exp["cohorts"] = cohorts

bad = []
def cmp(path, e, g):
    if isinstance(e, dict):
        if not isinstance(g, dict): return bad.append(f"{path}: got {g!r}")
        for k in e: cmp(f"{path}.{k}", e[k], g.get(k, "<missing>"))
        for k in g:
            if k not in e: bad.append(f"{path}.{k}: not expected")
    elif isinstance(e, list):
        if not isinstance(g, list) or len(g) != len(e): return bad.append(f"{path}: got {g!r}, want {e!r}")
        for i, (x, y) in enumerate(zip(e, g)): cmp(f"{path}[{i}]", x, y)
    elif isinstance(e, float) or isinstance(g, float):
        if e is None or g is None or abs(e - g) > 1e-9: bad.append(f"{path}: got {g!r}, want {e!r}")
    elif e != g or type(e) != type(g):
        bad.append(f"{path}: got {g!r}, want {e!r}")
cmp("metrics", exp, got)
print("\n".join(bad[:20]) if bad else "ok")
# What the run must have exercised for the comparison to mean something.
need = {"hidden": hidden >= 1, "visible one side": any(fb.get((s[0], matches[s[1]][2])) and fb.get((s[0], matches[s[1]][1])) is None and now >= ts(s[2]) + 60 * s[3] + 7 * 86400 for s in sessions),
        "completed": len(completed) > 0, "goal delta": any(g["n"] for g in goals), "two cohorts": len(cohorts) >= 2,
        "terminated participant": any(people[i][7] == "terminated" for i in met) or any(p[7] == "terminated" for p in pop)}
missing = [k for k, v in need.items() if not v]
if missing: print("fixture lacks: " + ", ".join(missing))
PYEOF
RES=$($PY "$E2E_TMP/expect.py" "$DB" $P "$E2E_TMP/m.json" 2>&1)
[ "$RES" = ok ] && ok every-number || fail every-number "$RES"

# Spot checks that do not go through the script: the hidden rule and the cohort list.
HID=$(q "SELECT count(*) FROM feedback f JOIN sessions s ON s.id = f.session_id
         WHERE s.starts_at = '$YESTERDAY' AND f.rating IS NOT NULL")
[ "$(jget "$E2E_TMP/m.json" 'd["ratings"]["hidden"]')" = "$HID" ] && ok hidden-count || fail hidden-count "want $HID: $(jget "$E2E_TMP/m.json" 'd["ratings"]')"
[ "$(jget "$E2E_TMP/m.json" '[c["cohort"] for c in d["cohorts"]]')" = "['2025-01', '2025-02']" ] && ok cohorts || fail cohorts "$(jget "$E2E_TMP/m.json" 'd["cohorts"]')"

# ---- text, --cohort, errors -----------------------------------------------------------
run "$T" -C "$WS" metrics --program $P
expect_rc metrics-text 0
expect_out text-funnel "Funnel: enrolled $(jget "$E2E_TMP/m.json" 'd["funnel"]["enrolled"]') -> matched"
expect_out text-goals "Goals (mentees' self-assessment"
expect_out text-cohort "2025-02"
expect_out text-retention "Retention (employed at the program's start"
run "$T" -C "$WS" metrics --program $P --cohort 2025-01 --json
expect_rc cohort-json 0
[ "$(jget "$OUT" 'd["cohort"]')" = "$(jget "$E2E_TMP/m.json" '[c for c in d["cohorts"] if c["cohort"] == "2025-01"][0]')" ] \
  && ok cohort-same || fail cohort-same "$(cat "$OUT")"
run "$T" -C "$WS" metrics --program $P --cohort 2025-02
expect_rc cohort-text 0
expect_out cohort-text-row "2025-02"
run "$T" -C "$WS" metrics --program $P --cohort 1999-01
expect_rc cohort-unknown 1
expect_err cohort-unknown-msg "no such cohort (cohorts: 2025-01, 2025-02)"
run "$T" -C "$WS" metrics --program nope
expect_rc unknown-program 1
expect_err unknown-program-msg "no program named 'nope' (declared:"
# A malformed month is a usage error (walk3 #14); a well-formed one without a cohort exits 1 (above).
for bad in bogus 2025-13 2025-1 2025-01-01; do
  run "$T" -C "$WS" metrics --program $P --cohort "$bad"
  expect_rc "cohort-malformed $bad" 2
  expect_err "cohort-malformed-msg $bad" "--cohort wants a month YYYY-MM, got '$bad'"
done
run "$T" -C "$WS" metrics
expect_rc no-program 2
run "$T" -C "$WS" metrics --program $P --bogus
expect_rc bad-option 2
run "$T" metrics --help
expect_rc help 0
expect_out help-usage "usage: tandem metrics --program P"
# Metrics write nothing.
BEFORE=$(db_digest "$WS")
run "$T" -C "$WS" metrics --program $P --json
[ "$(db_digest "$WS")" = "$BEFORE" ] && ok read-only || fail read-only "metrics changed the database"

# A new workspace (nobody imported yet): zeros and '-', not an error; so is the report.
EMPTY=$(new_ws) || exit 1
run "$T" -C "$EMPTY" metrics --program $P --json
expect_rc empty-metrics 0
[ "$(jget "$OUT" 'd["funnel"]["enrolled"] == 0 and d["retention"]["participants"]["rate"] is None')" = True ] &&
  ok empty-metrics-zeros || fail empty-metrics-zeros "$(head -c 300 "$OUT")"
for f in html md csv json; do
  run "$T" -C "$EMPTY" report --program $P --format $f --out "$EMPTY/r.$f"
  expect_rc "empty-report-$f" 0
done
finish
