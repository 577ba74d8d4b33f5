-- Schema v5: what a program does after the match: the match lifecycle, sessions and
-- check-ins, scheduled jobs and their occurrences, and the outbox of messages.
--
-- Why rebuilt rather than altered: the v1 tables `sessions`, `jobs`, `occurrences` and `outbox`
-- were placeholders no code wrote (checked: nothing inserts into them before v5), and their
-- constraints were wrong for the service (no natural key on sessions, no idempotency key on
-- messages, no lease). They are dropped and created again; `feedback`, which nothing wrote
-- either, becomes one check-in per side of a session. The status CHECKs are OR-chains, for the
-- reason given in 002. Migrations run with foreign keys off and a foreign_key_check before
-- commit (store.c).
--
-- The rules every writer keeps (see docs/data-model.md):
--  - A session's natural key is (match_id, starts_at): planning inserts with ON CONFLICT DO
--    NOTHING, so planning twice never makes two rows. A rescheduled session keeps its row
--    (status 'rescheduled', rescheduled_to = the new row); a cancelled one keeps its row too,
--    so its instant is never planned again.
--  - An occurrence's natural key is (job_id, due_at): the scheduler materializes occurrences
--    with ON CONFLICT DO NOTHING; claiming, the job's effects and 'done' commit together.
--  - An outbox message's natural key is its idempotency key ("reminder:SESSION:PERSON:KIND"):
--    enqueueing twice keeps one row; a crash while 'sending' leaves the row to become
--    'unknown' when its lease runs out.

-- The match lifecycle: approved -> active (when the program starts, or at once if it has)
-- -> ended (by `tandem match end`, by the program's end, or by erasure).
ALTER TABLE matches ADD COLUMN activated_at TEXT;
ALTER TABLE matches ADD COLUMN ended_at TEXT;
ALTER TABLE matches ADD COLUMN end_reason TEXT;
ALTER TABLE matches ADD COLUMN timezone TEXT;          -- the pair's agreed zone; NULL: the mentee's

DROP TABLE IF EXISTS sessions;
CREATE TABLE sessions (
  id             INTEGER PRIMARY KEY AUTOINCREMENT,
  match_id       INTEGER NOT NULL REFERENCES matches(id) ON DELETE CASCADE,
  starts_at      TEXT NOT NULL,                  -- UTC, 'YYYY-MM-DDTHH:MM:SSZ'
  duration_min   INTEGER NOT NULL DEFAULT 60 CHECK (duration_min > 0 AND duration_min <= 1440),
  timezone       TEXT NOT NULL,                  -- the zone the pair meets in (for calendars)
  status         TEXT NOT NULL DEFAULT 'planned'
                 CHECK (status = 'planned' OR status = 'held' OR status = 'missed'
                        OR status = 'cancelled' OR status = 'rescheduled'),
  planned_by     TEXT NOT NULL,                  -- cadence name, or 'manual' (a reschedule)
  topic          TEXT,
  agenda         TEXT NOT NULL DEFAULT '[]',     -- JSON array of suggested questions
  rescheduled_to INTEGER REFERENCES sessions(id) ON DELETE SET NULL,
  rescheduled_from INTEGER REFERENCES sessions(id) ON DELETE SET NULL,
  status_reason  TEXT,                           -- why cancelled/missed, free text
  sequence       INTEGER NOT NULL DEFAULT 0,     -- iCalendar SEQUENCE: bumped on every change
  created_at     TEXT NOT NULL,
  updated_at     TEXT NOT NULL,
  UNIQUE (match_id, starts_at)
);
CREATE INDEX sessions_due ON sessions(status, starts_at);

-- One check-in per side of a session: held or missed, an optional rating and notes.
DROP TABLE IF EXISTS feedback;
CREATE TABLE feedback (
  id          INTEGER PRIMARY KEY AUTOINCREMENT,
  session_id  INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
  match_id    INTEGER NOT NULL REFERENCES matches(id) ON DELETE CASCADE,
  author_id   INTEGER NOT NULL REFERENCES people(id) ON DELETE CASCADE,
  outcome     TEXT NOT NULL CHECK (outcome = 'held' OR outcome = 'missed'),
  rating      INTEGER CHECK (rating BETWEEN 1 AND 5),
  comment     TEXT,
  share_story INTEGER NOT NULL DEFAULT 0 CHECK (share_story = 0 OR share_story = 1),
  actor       TEXT,                            -- who recorded it (a user, a token, a link)
  created_at  TEXT NOT NULL,
  UNIQUE (session_id, author_id)
);
CREATE INDEX feedback_match ON feedback(match_id);
CREATE INDEX feedback_author ON feedback(author_id);

-- Scheduled work. A job is a schedule plus what to run (a built-in job or a Lua job plugin);
-- the service keeps the table in step with the built-ins and the workspace's scripts.
DROP TABLE IF EXISTS occurrences;
DROP TABLE IF EXISTS jobs;
CREATE TABLE jobs (
  id            INTEGER PRIMARY KEY AUTOINCREMENT,
  name          TEXT NOT NULL UNIQUE,
  kind          TEXT NOT NULL CHECK (kind = 'builtin' OR kind = 'lua'),
  script        TEXT,                          -- the job plugin's path (kind 'lua')
  program_id    INTEGER REFERENCES programs(id) ON DELETE CASCADE,
  schedule      TEXT NOT NULL,                 -- an RRULE, or 'every N minutes|hours|days'
  timezone      TEXT NOT NULL DEFAULT 'UTC',
  misfire       TEXT NOT NULL DEFAULT 'once'
                CHECK (misfire = 'once' OR misfire = 'all' OR misfire = 'skip'),
  grace_s       INTEGER NOT NULL DEFAULT 3600 CHECK (grace_s >= 0),
  overlap       INTEGER NOT NULL DEFAULT 0 CHECK (overlap = 0 OR overlap = 1),
  jitter_s      INTEGER NOT NULL DEFAULT 0 CHECK (jitter_s >= 0),
  max_lateness_s INTEGER NOT NULL DEFAULT 0 CHECK (max_lateness_s >= 0),  -- 0: no limit
  enabled       INTEGER NOT NULL DEFAULT 1 CHECK (enabled = 0 OR enabled = 1),
  enabled_at    TEXT NOT NULL,                 -- since when it runs: instants before are not owed
  created_at    TEXT NOT NULL,
  updated_at    TEXT NOT NULL
);

CREATE TABLE occurrences (
  id           INTEGER PRIMARY KEY AUTOINCREMENT,
  job_id       INTEGER NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
  due_at       TEXT NOT NULL,                  -- the schedule's instant (UTC)
  run_at       TEXT NOT NULL,                  -- due_at plus the job's jitter for this instant
  status       TEXT NOT NULL DEFAULT 'pending'
               CHECK (status = 'pending' OR status = 'running' OR status = 'done'
                      OR status = 'failed' OR status = 'skipped' OR status = 'missed'),
  claimed_at   TEXT,
  finished_at  TEXT,
  attempts     INTEGER NOT NULL DEFAULT 0,
  result       TEXT,                           -- JSON summary of what the run did
  reason       TEXT,                           -- why skipped/missed/failed
  covers       INTEGER NOT NULL DEFAULT 1,     -- missed instants this run stands for (misfire 'once')
  UNIQUE (job_id, due_at)
);
CREATE INDEX occurrences_due ON occurrences(status, run_at);

-- Every message leaves through here.
DROP TABLE IF EXISTS outbox;
CREATE TABLE outbox (
  id              INTEGER PRIMARY KEY AUTOINCREMENT,
  idempotency_key TEXT NOT NULL UNIQUE,
  kind            TEXT NOT NULL,               -- 'reminder', 'nudge', 'job', ...
  channel         TEXT NOT NULL,               -- notifier name: 'eml', 'jsonl', or a plugin
  recipient_id    INTEGER REFERENCES people(id) ON DELETE CASCADE,
  session_id      INTEGER REFERENCES sessions(id) ON DELETE CASCADE,
  subject         TEXT,
  body            TEXT NOT NULL,
  attachments     TEXT NOT NULL DEFAULT '[]',  -- JSON [{name, type, content}]
  status          TEXT NOT NULL DEFAULT 'pending'
                  CHECK (status = 'pending' OR status = 'sending' OR status = 'sent'
                         OR status = 'failed' OR status = 'expired' OR status = 'unknown'),
  not_before      TEXT NOT NULL,               -- send at or after (UTC)
  not_after       TEXT,                        -- useless after: becomes 'expired'
  lease_until     TEXT,                        -- while 'sending'
  attempts        INTEGER NOT NULL DEFAULT 0,
  last_error      TEXT,
  sent_at         TEXT,
  created_at      TEXT NOT NULL,
  event_id        INTEGER REFERENCES events(id) ON DELETE SET NULL
);
CREATE INDEX outbox_due ON outbox(status, not_before);
