-- Schema v18: a match outlives the erasure of one of its two people.
--
-- Why: `people erase` used to delete every match of the erased person by cascade, and with it
-- the partner's sessions: the partner's calendar lost them without a STATUS:CANCELLED, so a
-- calendar client that had imported them kept the meetings. Now the erasure first ends the
-- person's approved and active matches ("partner erased": match.ended, the later planned
-- sessions cancelled with a bumped SEQUENCE) and those rows stay, detached: mentor_id or
-- mentee_id becomes NULL (ON DELETE SET NULL). Every other match of the person (proposed,
-- rejected, superseded, ended before) is still deleted with them: by people_erase itself
-- (program/people_erase.c) and, whoever deletes a person, by the trigger people_matches_gone
-- below, which keeps the cascade the table had for every match but those. A NULL side means
-- "erased"; nothing else writes one.
--
-- The table is rebuilt the documented way (as in 004): migrations run with foreign_keys off
-- and a foreign_key_check before commit. Ids are copied, so sessions, feedback and check-ins
-- keep their references. The triggers on other tables that update matches keep naming it
-- (legacy_alter_table: the rename neither checks nor rewrites them); the one on matches
-- itself goes with the old table and is created again.
PRAGMA legacy_alter_table = ON;

CREATE TABLE matches_v18 (
  id              INTEGER PRIMARY KEY AUTOINCREMENT,
  program_id      INTEGER NOT NULL REFERENCES programs(id) ON DELETE CASCADE,
  mentor_id       INTEGER REFERENCES people(id) ON DELETE SET NULL,
  mentee_id       INTEGER REFERENCES people(id) ON DELETE SET NULL,
  status          TEXT NOT NULL CHECK (status = 'proposed' OR status = 'approved'
                                       OR status = 'rejected' OR status = 'active'
                                       OR status = 'ended' OR status = 'superseded'),
  pinned          INTEGER NOT NULL DEFAULT 0 CHECK (pinned = 0 OR pinned = 1),
  score           REAL,
  explanation     TEXT NOT NULL DEFAULT '{}',  -- per-feature contributions, JSON
  policy_name     TEXT,
  policy_version  TEXT,
  run_id          TEXT,                        -- groups the proposals of one `match run`
  created_at      TEXT NOT NULL,
  decided_at      TEXT,
  decided_by      TEXT,
  superseded_by   TEXT,                        -- run_id of the run that replaced a proposal
  activated_at    TEXT,
  ended_at        TEXT,
  end_reason      TEXT,
  timezone        TEXT,                        -- the pair's agreed zone; NULL: the mentee's
  plan_next_at    TEXT NOT NULL DEFAULT '',
  plan_history    INTEGER NOT NULL DEFAULT 1 CHECK (plan_history = 0 OR plan_history = 1),
  CHECK (mentor_id <> mentee_id),
  -- only an ended match can have lost a side
  CHECK ((mentor_id IS NOT NULL AND mentee_id IS NOT NULL) OR status = 'ended')
);

INSERT INTO matches_v18 (id, program_id, mentor_id, mentee_id, status, pinned, score,
                         explanation, policy_name, policy_version, run_id, created_at,
                         decided_at, decided_by, superseded_by, activated_at, ended_at,
                         end_reason, timezone, plan_next_at, plan_history)
  SELECT id, program_id, mentor_id, mentee_id, status, pinned, score, explanation,
         policy_name, policy_version, run_id, created_at, decided_at, decided_by,
         superseded_by, activated_at, ended_at, end_reason, timezone, plan_next_at,
         plan_history
  FROM matches;

DROP TABLE matches;
ALTER TABLE matches_v18 RENAME TO matches;
PRAGMA legacy_alter_table = OFF;

CREATE INDEX matches_program ON matches(program_id, status);
CREATE INDEX matches_mentor ON matches(mentor_id);
CREATE INDEX matches_mentee ON matches(mentee_id);
CREATE INDEX matches_plan_next ON matches(program_id, plan_next_at) WHERE status = 'active';
CREATE INDEX matches_plan_history ON matches(program_id) WHERE status = 'active' AND plan_history = 1;

CREATE TRIGGER plan_match_changed AFTER UPDATE OF program_id, mentor_id, mentee_id, status,
  score, activated_at, ended_at, timezone ON matches
BEGIN
  UPDATE matches SET plan_next_at = '' WHERE id = NEW.id AND plan_next_at <> '';
END;

-- The cascade for every match of a deleted person but the ones an erasure ended (and whose
-- other side is still there): those alone survive, detached.
CREATE TRIGGER people_matches_gone BEFORE DELETE ON people
BEGIN
  DELETE FROM matches WHERE (mentor_id = OLD.id OR mentee_id = OLD.id)
    AND NOT (status = 'ended' AND end_reason = 'partner erased'
             AND mentor_id IS NOT NULL AND mentee_id IS NOT NULL);
END;
