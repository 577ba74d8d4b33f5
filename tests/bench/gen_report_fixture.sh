#!/usr/bin/env bash
# gen_report_fixture: a workspace for the report benchmarks (issue 10's figure: metrics and the
# HTML report of a program of 10,000 participants and 100,000 sessions under 1 s).
# Usage: tests/bench/gen_report_fixture.sh BUILD_DIR WORKSPACE_DIR [PAIRS]
# `tandem init` makes the workspace (its program digital-2027 moved to start 2025-01-06, so
# every session is in the past), then one SQL script writes straight into the tables, in one
# transaction (a few seconds), deterministic from the row ids:
#  - 2.4 x PAIRS people (12,000 for 5,000 pairs) across 8 departments, 10 locations, levels
#    1-9, birth years 1960-2004, some hired after the start, some terminated or on leave;
#  - 2 x PAIRS enrollments (the participants), PAIRS pairs: 9 in 10 active, 1 in 10 ended
#    with the program, activated in one of three months (the cohorts);
#  - 20 sessions per pair a week apart (100,000 for 5,000 pairs): held, missed, cancelled,
#    the last four still planned; check-ins of the held ones with ratings (some one-sided),
#    and the mentees' skill self-assessments at their 1st and 13th session.
# Prints the workspace's counts. The rows bypass the CLI on purpose: the benchmark times
# reading them, and the CLI's writers have their own benchmarks.
set -euo pipefail
BUILD=${1:?usage: gen_report_fixture.sh BUILD_DIR WORKSPACE_DIR [PAIRS]}
WS=${2:?usage: gen_report_fixture.sh BUILD_DIR WORKSPACE_DIR [PAIRS]}
PAIRS=${3:-5000}
TANDEM="$BUILD/tandem"
[ -x "$TANDEM" ] || { echo "gen_report_fixture: no tandem binary in $BUILD" >&2; exit 1; }
command -v sqlite3 >/dev/null || { echo "gen_report_fixture: sqlite3 shell not found" >&2; exit 1; }
[ -e "$WS/tandem.db" ] && { echo "gen_report_fixture: $WS already has a tandem.db" >&2; exit 1; }

"$TANDEM" init "$WS" >/dev/null
sed -i -e 's/starts = "[0-9-]*"/starts = "2025-01-06"/' -e 's/ends = "[0-9-]*"/ends = "2025-12-31"/' \
  "$WS/tandem.lua"
"$TANDEM" -C "$WS" programs list >/dev/null # saves the program's row from tandem.lua

sqlite3 "$WS/tandem.db" <<SQL
PRAGMA foreign_keys = ON;
BEGIN IMMEDIATE;
CREATE TEMP TABLE n(i INTEGER PRIMARY KEY);
WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < $PAIRS * 20)
INSERT INTO n SELECT i FROM c;

INSERT INTO people (id, external_id, name, email, title, level, department, location, timezone,
                    birth_year, hire_date, status, created_at, updated_at)
SELECT i, printf('B%06d', i), printf('Person %d', i), printf('p%d@bench.example', i), 'Staff',
       1 + i % 9,
       CASE i % 8 WHEN 0 THEN 'Engineering' WHEN 1 THEN 'Sales' WHEN 2 THEN 'Finance'
         WHEN 3 THEN 'HR' WHEN 4 THEN 'Marketing' WHEN 5 THEN 'Operations' WHEN 6 THEN 'Product'
         ELSE 'Data' END,
       CASE i % 10 WHEN 0 THEN 'Paris' WHEN 1 THEN 'New York' WHEN 2 THEN 'Bangalore'
         WHEN 3 THEN 'London' WHEN 4 THEN 'Berlin' WHEN 5 THEN 'Tokyo' WHEN 6 THEN 'Sydney'
         WHEN 7 THEN 'Singapore' WHEN 8 THEN 'Madrid' ELSE 'Toronto' END,
       'UTC', 1960 + i % 45, CASE WHEN i % 17 = 0 THEN '2025-06-01' ELSE '2018-03-01' END,
       CASE WHEN i % 19 = 0 THEN 'terminated' WHEN i % 23 = 0 THEN 'leave' ELSE 'active' END,
       'x', 'x'
FROM n WHERE i <= $PAIRS * 24 / 10;

INSERT INTO enrollments (program_id, person_id, role, consent, created_at)
SELECT p.id, n.i, CASE WHEN n.i % 2 = 1 THEN 'mentor' ELSE 'mentee' END, 1, 'x'
FROM n, programs p WHERE p.name = 'digital-2027' AND n.i <= $PAIRS * 2;

INSERT INTO matches (id, program_id, mentor_id, mentee_id, status, score, run_id, created_at,
                     decided_at, activated_at, ended_at, end_reason)
SELECT n.i, p.id, 2 * n.i - 1, 2 * n.i,
       CASE WHEN n.i % 10 = 0 THEN 'ended' ELSE 'active' END, 1.0, 'bench', 'x', 'x',
       CASE n.i % 3 WHEN 0 THEN '2025-01-06T09:00:00Z' WHEN 1 THEN '2025-02-03T09:00:00Z'
         ELSE '2025-03-03T09:00:00Z' END,
       CASE WHEN n.i % 10 = 0 THEN '2025-12-31T23:00:00Z' END,
       CASE WHEN n.i % 10 = 0 THEN 'program ended' END
FROM n, programs p WHERE p.name = 'digital-2027' AND n.i <= $PAIRS;

-- Session k (0-19) of pair m: id = 20 (m - 1) + k + 1.
INSERT INTO sessions (id, match_id, starts_at, duration_min, timezone, status, planned_by,
                      topic, created_at, updated_at)
SELECT n.i, m.id,
       strftime('%Y-%m-%dT10:00:00Z', m.activated_at, printf('+%d days', 1 + 7 * ((n.i - 1) % 20))),
       45, 'UTC',
       CASE WHEN (n.i - 1) % 20 >= 16 THEN 'planned' WHEN n.i % 10 = 9 THEN 'missed'
         WHEN n.i % 13 = 12 THEN 'cancelled' ELSE 'held' END,
       'weekly', 'ai_tools', 'x', 'x'
FROM n JOIN matches m ON m.id = (n.i - 1) / 20 + 1;

INSERT INTO feedback (session_id, match_id, author_id, outcome, rating, share_story, created_at)
SELECT s.id, s.match_id, m.mentor_id, 'held', CASE WHEN s.id % 3 <> 0 THEN 1 + s.id % 5 END,
       s.id % 29 = 0, 'x'
FROM sessions s JOIN matches m ON m.id = s.match_id WHERE s.status = 'held';
INSERT INTO feedback (session_id, match_id, author_id, outcome, rating, share_story, created_at)
SELECT s.id, s.match_id, m.mentee_id, 'held', CASE WHEN s.id % 4 <> 0 THEN 1 + (s.id * 7) % 5 END,
       0, 'x'
FROM sessions s JOIN matches m ON m.id = s.match_id WHERE s.status = 'held' AND s.id % 5 <> 0;

INSERT INTO skill_assessments (session_id, person_id, program_id, topic, level, created_at)
SELECT s.id, m.mentee_id, m.program_id, t.topic,
       CASE WHEN (s.id - 1) % 20 = 0 THEN 1 + m.id % 3 ELSE 2 + m.id % 4 END, 'x'
FROM sessions s JOIN matches m ON m.id = s.match_id,
     (SELECT 'ai_tools' AS topic UNION ALL SELECT 'data_literacy') t
WHERE (s.id - 1) % 20 IN (0, 12);
COMMIT;
SQL
sqlite3 "$WS/tandem.db" "SELECT 'fixture: ' || (SELECT count(*) FROM people) || ' people, '
  || (SELECT count(*) FROM enrollments) || ' participants, ' || (SELECT count(*) FROM matches)
  || ' pairs, ' || (SELECT count(*) FROM sessions) || ' sessions, '
  || (SELECT count(*) FROM feedback) || ' check-ins, '
  || (SELECT count(*) FROM skill_assessments) || ' skill assessments'"
