-- Schema v8: skill self-assessments, collected through check-ins (goal progress of issue 10).
--
-- A mentee's check-in of a held session may rate their own level in topics of the program's
-- library, 1 (novice) to 5 (expert): `tandem sessions checkin ID --held --as MENTEE --skill
-- TOPIC=N`. One row per (session, person, topic), written with the feedback row in one
-- transaction by sched/session, so a retry of the same check-in adds nothing. report/metrics
-- reads a person's first assessment of a topic in a program as "start" and the latest as "end".
-- program_id is copied from the match so metrics group by program without joining sessions;
-- every reference cascades, so erasing a person or a program removes their assessments.

CREATE TABLE skill_assessments (
  id          INTEGER PRIMARY KEY AUTOINCREMENT,
  session_id  INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
  person_id   INTEGER NOT NULL REFERENCES people(id) ON DELETE CASCADE,
  program_id  INTEGER NOT NULL REFERENCES programs(id) ON DELETE CASCADE,
  topic       TEXT NOT NULL,
  level       INTEGER NOT NULL CHECK (level BETWEEN 1 AND 5),
  created_at  TEXT NOT NULL,
  UNIQUE (session_id, person_id, topic)
);
CREATE INDEX skill_assessments_program ON skill_assessments(program_id, topic, person_id);
CREATE INDEX skill_assessments_person ON skill_assessments(person_id);
