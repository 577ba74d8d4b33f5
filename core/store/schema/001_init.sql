-- Schema v1: the whole reverse-mentoring domain. Later versions only add.
-- Times are UTC, stored as ISO 8601 text ('2026-11-22T14:00:00Z'); dates as 'YYYY-MM-DD'.
-- Lists (skills, topics, languages) are JSON arrays of strings; free attributes a JSON object.

CREATE TABLE people (
  id            INTEGER PRIMARY KEY,
  external_id   TEXT NOT NULL UNIQUE,          -- the HR system's id
  name          TEXT NOT NULL,
  email         TEXT NOT NULL UNIQUE COLLATE NOCASE,
  title         TEXT,
  level         INTEGER CHECK (level BETWEEN 1 AND 9),
  department    TEXT,
  team          TEXT,
  location      TEXT,
  timezone      TEXT NOT NULL,                 -- IANA zone, e.g. 'Europe/Paris'
  manager_id    INTEGER REFERENCES people(id) ON DELETE SET NULL,
  birth_year    INTEGER,
  generation    TEXT CHECK (generation IN ('baby_boomer','gen_x','millennial','gen_z')),
  hire_date     TEXT,
  status        TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active','leave','terminated')),
  skills        TEXT NOT NULL DEFAULT '[]',    -- what they can teach
  topics_wanted TEXT NOT NULL DEFAULT '[]',    -- what they want to learn
  languages     TEXT NOT NULL DEFAULT '[]',
  attributes    TEXT NOT NULL DEFAULT '{}',    -- unmapped CSV columns and custom fields
  created_at    TEXT NOT NULL,
  updated_at    TEXT NOT NULL
);
CREATE INDEX people_manager ON people(manager_id);
CREATE INDEX people_department ON people(department);

-- Programs are declared in tandem.lua; this row is their persistent identity.
CREATE TABLE programs (
  id          INTEGER PRIMARY KEY,
  name        TEXT NOT NULL UNIQUE,
  title       TEXT,
  starts_on   TEXT,
  ends_on     TEXT,
  config      TEXT NOT NULL DEFAULT '{}',      -- the declaration as JSON, as last seen
  created_at  TEXT NOT NULL
);

CREATE TABLE enrollments (
  id              INTEGER PRIMARY KEY,
  program_id      INTEGER NOT NULL REFERENCES programs(id) ON DELETE CASCADE,
  person_id       INTEGER NOT NULL REFERENCES people(id) ON DELETE CASCADE,
  role            TEXT NOT NULL CHECK (role IN ('mentor','mentee','both')),
  capacity        INTEGER NOT NULL DEFAULT 1 CHECK (capacity >= 0),
  topics_offered  TEXT NOT NULL DEFAULT '[]',
  topics_wanted   TEXT NOT NULL DEFAULT '[]',
  availability    TEXT NOT NULL DEFAULT '[]',  -- e.g. ["mon-am","wed-pm"]
  consent         INTEGER NOT NULL DEFAULT 0 CHECK (consent IN (0,1)),
  attributes      TEXT NOT NULL DEFAULT '{}',
  created_at      TEXT NOT NULL,
  UNIQUE (program_id, person_id)
);
CREATE INDEX enrollments_person ON enrollments(person_id);

-- A match pairs a mentor with a mentee in a program. In reverse mentoring the
-- mentor is usually the junior. Proposed by a policy, reviewed by a human.
CREATE TABLE matches (
  id              INTEGER PRIMARY KEY,
  program_id      INTEGER NOT NULL REFERENCES programs(id) ON DELETE CASCADE,
  mentor_id       INTEGER NOT NULL REFERENCES people(id) ON DELETE CASCADE,
  mentee_id       INTEGER NOT NULL REFERENCES people(id) ON DELETE CASCADE,
  status          TEXT NOT NULL CHECK (status IN ('proposed','approved','rejected','active','ended')),
  pinned          INTEGER NOT NULL DEFAULT 0 CHECK (pinned IN (0,1)),
  score           REAL,
  explanation     TEXT NOT NULL DEFAULT '{}',  -- per-feature contributions, JSON
  policy_name     TEXT,
  policy_version  TEXT,
  run_id          TEXT,                        -- groups the proposals of one `match run`
  created_at      TEXT NOT NULL,
  decided_at      TEXT,
  decided_by      TEXT,
  CHECK (mentor_id <> mentee_id)
);
CREATE INDEX matches_program ON matches(program_id, status);
CREATE INDEX matches_mentor ON matches(mentor_id);
CREATE INDEX matches_mentee ON matches(mentee_id);

-- Pairs an administrator vetoed: never proposed again in that program.
CREATE TABLE vetoes (
  id          INTEGER PRIMARY KEY,
  program_id  INTEGER NOT NULL REFERENCES programs(id) ON DELETE CASCADE,
  mentor_id   INTEGER NOT NULL REFERENCES people(id) ON DELETE CASCADE,
  mentee_id   INTEGER NOT NULL REFERENCES people(id) ON DELETE CASCADE,
  reason      TEXT,
  created_at  TEXT NOT NULL,
  UNIQUE (program_id, mentor_id, mentee_id)
);

CREATE TABLE sessions (
  id           INTEGER PRIMARY KEY,
  match_id     INTEGER NOT NULL REFERENCES matches(id) ON DELETE CASCADE,
  starts_at    TEXT NOT NULL,                  -- UTC
  duration_min INTEGER NOT NULL DEFAULT 60 CHECK (duration_min > 0),
  status       TEXT NOT NULL DEFAULT 'planned' CHECK (status IN ('planned','held','missed','cancelled')),
  topic        TEXT,
  planned_by   TEXT,                           -- cadence plugin name
  created_at   TEXT NOT NULL,
  updated_at   TEXT NOT NULL
);
CREATE INDEX sessions_match ON sessions(match_id, starts_at);
CREATE INDEX sessions_due ON sessions(status, starts_at);

CREATE TABLE feedback (
  id          INTEGER PRIMARY KEY,
  session_id  INTEGER REFERENCES sessions(id) ON DELETE CASCADE,
  match_id    INTEGER NOT NULL REFERENCES matches(id) ON DELETE CASCADE,
  author_id   INTEGER NOT NULL REFERENCES people(id) ON DELETE CASCADE,
  rating      INTEGER CHECK (rating BETWEEN 1 AND 5),
  comment     TEXT,
  created_at  TEXT NOT NULL
);
CREATE INDEX feedback_match ON feedback(match_id);
CREATE INDEX feedback_author ON feedback(author_id);

-- Recognition for mentors: append-only ledger of points and badges.
CREATE TABLE reward_ledger (
  id          INTEGER PRIMARY KEY,
  person_id   INTEGER NOT NULL REFERENCES people(id) ON DELETE CASCADE,
  program_id  INTEGER REFERENCES programs(id) ON DELETE SET NULL,
  rule        TEXT NOT NULL,                   -- reward plugin name
  kind        TEXT NOT NULL CHECK (kind IN ('points','badge')),
  points      INTEGER NOT NULL DEFAULT 0,
  badge       TEXT,
  reason      TEXT,
  event_id    INTEGER REFERENCES events(id) ON DELETE SET NULL,
  created_at  TEXT NOT NULL
);
CREATE INDEX reward_person ON reward_ledger(person_id);

-- Append-only audit log. subject_id is a person where one is concerned; erasure
-- replaces the person's rows by a tombstone with a pseudonym (see people erase).
CREATE TABLE events (
  id          INTEGER PRIMARY KEY,
  at          TEXT NOT NULL,
  kind        TEXT NOT NULL,                   -- 'people.imported', 'match.proposed', ...
  actor       TEXT,
  subject_id  INTEGER,                         -- people.id, no FK: survives erasure as a number
  program_id  INTEGER,
  payload     TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX events_kind ON events(kind, id);
CREATE INDEX events_subject ON events(subject_id);

-- Scheduled work: a job is a recurring rule; occurrences are its due instances.
CREATE TABLE jobs (
  id          INTEGER PRIMARY KEY,
  name        TEXT NOT NULL UNIQUE,
  script      TEXT NOT NULL,                   -- plugin name or path
  program_id  INTEGER REFERENCES programs(id) ON DELETE CASCADE,
  schedule    TEXT NOT NULL,                   -- e.g. 'RRULE:FREQ=WEEKLY;BYDAY=MO' or 'every 1d'
  timezone    TEXT NOT NULL DEFAULT 'UTC',
  enabled     INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0,1)),
  created_at  TEXT NOT NULL
);

CREATE TABLE occurrences (
  id           INTEGER PRIMARY KEY,
  job_id       INTEGER NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
  due_at       TEXT NOT NULL,
  status       TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending','claimed','done','failed','skipped')),
  claimed_at   TEXT,
  finished_at  TEXT,
  attempts     INTEGER NOT NULL DEFAULT 0,
  error        TEXT,
  UNIQUE (job_id, due_at)
);
CREATE INDEX occurrences_due ON occurrences(status, due_at);

-- Messages waiting to be delivered by a notifier plugin.
CREATE TABLE outbox (
  id            INTEGER PRIMARY KEY,
  created_at    TEXT NOT NULL,
  channel       TEXT NOT NULL,                 -- 'email', 'chat', ...
  recipient_id  INTEGER REFERENCES people(id) ON DELETE CASCADE,
  subject       TEXT,
  body          TEXT NOT NULL,
  status        TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending','sent','failed')),
  sent_at       TEXT,
  attempts      INTEGER NOT NULL DEFAULT 0,
  event_id      INTEGER REFERENCES events(id) ON DELETE SET NULL
);
CREATE INDEX outbox_pending ON outbox(status, id);
