-- Schema v2: the same people table, with CHECK constraints SQLite evaluates cheaply.
--
-- Why: SQLite compiles `x IN ('a','b','c')` inside a CHECK constraint into code that builds a
-- temporary b-tree of the list for every row written (no build-once guard in constraint code:
-- a pager opened, filled and freed twice per INSERT or UPDATE of people). On a 100k-row import
-- that was about a quarter of the whole command's CPU time. The same rules written as OR-chains
-- of equalities cost a few comparisons. A NULL generation still passes (NULL OR ... is NULL).
--
-- SQLite cannot alter a CHECK constraint, so the table is rebuilt the documented way: new table,
-- copy, drop, rename, indexes again. The store runs migrations with foreign_keys off (so the drop
-- cascades nothing) and runs PRAGMA foreign_key_check before committing. Column names, order,
-- types, defaults and meanings are unchanged, and so are the ids that other tables reference.

CREATE TABLE people_v2 (
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

INSERT INTO people_v2 (id, external_id, name, email, title, level, department, team, location,
                       timezone, manager_id, birth_year, generation, hire_date, status, skills,
                       topics_wanted, languages, attributes, created_at, updated_at)
  SELECT id, external_id, name, email, title, level, department, team, location,
         timezone, manager_id, birth_year, generation, hire_date, status, skills,
         topics_wanted, languages, attributes, created_at, updated_at
  FROM people ORDER BY id;

DROP TABLE people;
ALTER TABLE people_v2 RENAME TO people;
CREATE INDEX people_manager ON people(manager_id);
CREATE INDEX people_department ON people(department);
