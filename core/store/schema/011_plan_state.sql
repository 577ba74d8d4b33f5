-- Schema v11: what the planner knows of each pair since it last planned it, so the service's
-- hourly plan-sessions job plans only the pairs whose plan can have changed (sched/plan.h):
--  - matches.plan_next_at: the instant (UTC text) after which planning this pair again would
--    add a session (its next cadence instant minus the horizon); '' = plan it at the next run
--    (never planned, or something it depends on changed); '9999-12-31T23:59:59Z' = nothing
--    more to plan (no shared slot, or the window ends at the program's or the match's end).
--  - matches.plan_history: 1 when the pair's sessions changed since its last plan (a check-in,
--    a cancellation, a move): a cadence with a plan hook reads that history, a rule does not.
--  - plan_programs.signature: what the last plan of a program assumed of its configuration
--    (cadence and its file, dates, session length, horizon, zone); a different one plans every
--    pair again.
-- The triggers below keep the first two true whoever writes: the planner itself resets them
-- after its own writes, in the same transaction.
ALTER TABLE matches ADD COLUMN plan_next_at TEXT NOT NULL DEFAULT '';
ALTER TABLE matches ADD COLUMN plan_history INTEGER NOT NULL DEFAULT 1
  CHECK (plan_history = 0 OR plan_history = 1);
CREATE INDEX matches_plan_next ON matches(program_id, plan_next_at) WHERE status = 'active';
CREATE INDEX matches_plan_history ON matches(program_id) WHERE status = 'active' AND plan_history = 1;

CREATE TABLE plan_programs (
  program_id  INTEGER PRIMARY KEY REFERENCES programs(id) ON DELETE CASCADE,
  signature   TEXT NOT NULL,
  updated_at  TEXT NOT NULL
);

CREATE TRIGGER plan_match_changed AFTER UPDATE OF program_id, mentor_id, mentee_id, status,
  score, activated_at, ended_at, timezone ON matches
BEGIN
  UPDATE matches SET plan_next_at = '' WHERE id = NEW.id AND plan_next_at <> '';
END;

CREATE TRIGGER plan_person_changed AFTER UPDATE ON people
BEGIN
  UPDATE matches SET plan_next_at = '' WHERE status = 'active' AND plan_next_at <> ''
    AND (mentor_id = NEW.id OR mentee_id = NEW.id);
END;

CREATE TRIGGER plan_enrollment_changed AFTER UPDATE ON enrollments
BEGIN
  UPDATE matches SET plan_next_at = '' WHERE status = 'active' AND plan_next_at <> ''
    AND program_id = NEW.program_id AND (mentor_id = NEW.person_id OR mentee_id = NEW.person_id);
END;

CREATE TRIGGER plan_enrollment_added AFTER INSERT ON enrollments
BEGIN
  UPDATE matches SET plan_next_at = '' WHERE status = 'active' AND plan_next_at <> ''
    AND program_id = NEW.program_id AND (mentor_id = NEW.person_id OR mentee_id = NEW.person_id);
END;

CREATE TRIGGER plan_enrollment_removed AFTER DELETE ON enrollments
BEGIN
  UPDATE matches SET plan_next_at = '' WHERE status = 'active' AND plan_next_at <> ''
    AND program_id = OLD.program_id AND (mentor_id = OLD.person_id OR mentee_id = OLD.person_id);
END;

CREATE TRIGGER plan_session_added AFTER INSERT ON sessions
BEGIN
  UPDATE matches SET plan_history = 1 WHERE id = NEW.match_id AND plan_history = 0;
END;

CREATE TRIGGER plan_session_changed AFTER UPDATE OF match_id, starts_at, duration_min, status,
  topic ON sessions
BEGIN
  UPDATE matches SET plan_history = 1 WHERE id IN (OLD.match_id, NEW.match_id)
    AND plan_history = 0;
END;

CREATE TRIGGER plan_session_removed AFTER DELETE ON sessions
BEGIN
  UPDATE matches SET plan_history = 1 WHERE id = OLD.match_id AND plan_history = 0;
END;
