-- Schema v4: match ids are never reused, and a re-run keeps the proposals it replaces.
--
-- Why: `match run` used to DELETE the program's unreviewed proposals and insert new ones. With
-- a plain INTEGER PRIMARY KEY SQLite hands out max(id)+1, so after the delete the new rows took
-- the old ids and `match approve 62` approved whatever pair now had id 62, not the one the
-- reviewer had read. Now the old proposals stay, with status 'superseded' and superseded_by =
-- the run that replaced them (so acting on such an id can say which run to look at), and the
-- id is AUTOINCREMENT: an id is never handed out twice, even after a row is deleted (a pin
-- still drops the mentee's other proposals; a person's erasure cascades).
--
-- The table is rebuilt the documented way (as in 002/003: migrations run with foreign_keys off
-- and a foreign_key_check before commit). Ids are copied, so sessions and feedback keep their
-- references; SQLite seeds sqlite_sequence with the largest copied id. The status CHECK is an
-- OR-chain, not IN (...), for the reason given in 002.

CREATE TABLE matches_v4 (
  id              INTEGER PRIMARY KEY AUTOINCREMENT,
  program_id      INTEGER NOT NULL REFERENCES programs(id) ON DELETE CASCADE,
  mentor_id       INTEGER NOT NULL REFERENCES people(id) ON DELETE CASCADE,
  mentee_id       INTEGER NOT NULL REFERENCES people(id) ON DELETE CASCADE,
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
  CHECK (mentor_id <> mentee_id)
);

INSERT INTO matches_v4 (id, program_id, mentor_id, mentee_id, status, pinned, score, explanation,
                        policy_name, policy_version, run_id, created_at, decided_at, decided_by)
  SELECT id, program_id, mentor_id, mentee_id, status, pinned, score, explanation, policy_name,
         policy_version, run_id, created_at, decided_at, decided_by
  FROM matches;

DROP TABLE matches;
ALTER TABLE matches_v4 RENAME TO matches;

CREATE INDEX matches_program ON matches(program_id, status);
CREATE INDEX matches_mentor ON matches(mentor_id);
CREATE INDEX matches_mentee ON matches(mentee_id);
