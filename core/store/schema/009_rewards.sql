-- Schema v9: reward rules and their ledger (issue 10), the hook cursors of event dispatch,
-- leaderboard consent per enrollment, and the workspace's secrets.
--
-- The v1 table `reward_ledger` was a placeholder nothing wrote (checked: no INSERT before v6);
-- it is dropped for `rewards`, whose shape the issue's contract fixes:
--  - append-only: a grant is a row; a revocation is another row with the negative points and
--    `revokes` = the id of the grant it compensates. A person's total is SUM(points).
--  - award_key is UNIQUE: dispatch inserts with INSERT OR IGNORE under the key
--    "PLUGIN:EVENT_ID:INDEX" (or "PLUGIN:KEY" for a grant that names its own key), so
--    delivering an event twice never grants twice. A revocation's key is "revoke:" + the
--    revoked grant's key, so a grant is revoked at most once.
--  - person_id cascades: erasing a person erases their ledger rows with them.
DROP TABLE IF EXISTS reward_ledger;

CREATE TABLE rewards (
  id          INTEGER PRIMARY KEY AUTOINCREMENT,
  award_key   TEXT NOT NULL UNIQUE,
  person_id   INTEGER NOT NULL REFERENCES people(id) ON DELETE CASCADE,
  program_id  INTEGER REFERENCES programs(id) ON DELETE SET NULL,
  points      INTEGER NOT NULL DEFAULT 0,
  badge       TEXT,
  reason      TEXT NOT NULL,
  plugin      TEXT NOT NULL,                   -- the reward rule's name
  event_id    INTEGER REFERENCES events(id) ON DELETE SET NULL,
  revokes     INTEGER,                         -- rewards.id compensated; NULL for a grant
  at          TEXT NOT NULL
);
CREATE INDEX rewards_person ON rewards(person_id);
CREATE INDEX rewards_program ON rewards(program_id, person_id);
CREATE INDEX rewards_revokes ON rewards(revokes) WHERE revokes IS NOT NULL;

-- One row per reward rule: the id of the last event delivered to it (delivery is in event-id
-- order). An invalid result stops the rule at that event: stopped_at and error say where and
-- why, and the next dispatch tries the same event again. `kinds` lets the service's job see
-- that no rule has anything new without starting a worker.
CREATE TABLE hook_cursors (
  plugin      TEXT PRIMARY KEY,
  event_id    INTEGER NOT NULL DEFAULT 0,
  kinds       TEXT NOT NULL DEFAULT '[]',      -- the event kinds it has handlers for (JSON)
  stopped_at  INTEGER,
  error       TEXT,
  updated_at  TEXT NOT NULL
);

-- Leaderboard consent: 1 when the person agreed to appear on the program's leaderboards
-- (enrollment import column `leaderboard`, yes/no, default no).
ALTER TABLE enrollments ADD COLUMN leaderboard INTEGER NOT NULL DEFAULT 0
  CHECK (leaderboard = 0 OR leaderboard = 1);

-- Secrets of this workspace, made on first use (certificate_key: the HMAC-SHA256 key of
-- completion certificates' verification codes). Never exported, never in an event.
CREATE TABLE secrets (
  name        TEXT PRIMARY KEY,
  value       TEXT NOT NULL,
  created_at  TEXT NOT NULL
);
