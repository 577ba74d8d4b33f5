-- Schema v3: people.manager_id is checked when the transaction commits (DEFERRABLE INITIALLY
-- DEFERRED), not after each statement.
--
-- Why: an import writes a report before its manager as often as after, so it always deferred
-- the check (PRAGMA defer_foreign_keys). But SQLite decides at prepare time, from the schema
-- alone, whether a statement may have to be undone on its own; an immediate foreign key makes
-- every INSERT into people keep a statement journal: a copy of each page it touches, which for
-- a multi-row INSERT spills to a temporary file (190k extra writes for 100k people). With the
-- key deferred (and OR ROLLBACK on the import's statements) no statement journal is needed.
-- Nothing else changes: a missing manager still fails, at COMMIT; outside an explicit
-- transaction that is the end of the statement, as before. ON DELETE SET NULL is unchanged.
--
-- The table is rebuilt as in 002 (the store runs migrations with foreign keys off and checks
-- them before committing); columns, ids, CHECKs and indexes are the same as in v2.

CREATE TABLE people_v3 (
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
  manager_id    INTEGER REFERENCES people(id) ON DELETE SET NULL DEFERRABLE INITIALLY DEFERRED,
  birth_year    INTEGER,
  generation    TEXT CHECK (generation = 'baby_boomer' OR generation = 'gen_x'
                            OR generation = 'millennial' OR generation = 'gen_z'),
  hire_date     TEXT,
  status        TEXT NOT NULL DEFAULT 'active'
                CHECK (status = 'active' OR status = 'leave' OR status = 'terminated'),
  skills        TEXT NOT NULL DEFAULT '[]',    -- what they can teach
  topics_wanted TEXT NOT NULL DEFAULT '[]',    -- what they want to learn
  languages     TEXT NOT NULL DEFAULT '[]',
  attributes    TEXT NOT NULL DEFAULT '{}',    -- unmapped CSV columns and custom fields
  created_at    TEXT NOT NULL,
  updated_at    TEXT NOT NULL
);

INSERT INTO people_v3 (id, external_id, name, email, title, level, department, team, location,
                       timezone, manager_id, birth_year, generation, hire_date, status, skills,
                       topics_wanted, languages, attributes, created_at, updated_at)
  SELECT id, external_id, name, email, title, level, department, team, location,
         timezone, manager_id, birth_year, generation, hire_date, status, skills,
         topics_wanted, languages, attributes, created_at, updated_at
  FROM people ORDER BY id;

DROP TABLE people;
ALTER TABLE people_v3 RENAME TO people;
CREATE INDEX people_manager ON people(manager_id);
CREATE INDEX people_department ON people(department);
