-- Schema v20: what `people erase` leaves behind on purpose (core/privacy/erase.h).
--
-- erased_certificates: one row per completion certificate of an erased person, so that
-- `tandem rewards verify CODE` can say the holder was erased instead of "not issued by this
-- workspace". Nothing personal: the SHA-256 of the code as issued (hex), the program's
-- name and the grant's date. The code cannot be read back from it; it is looked up by
-- hashing the code presented.
CREATE TABLE erased_certificates (
  code_sha256 TEXT PRIMARY KEY,
  program     TEXT NOT NULL,
  issued_on   TEXT NOT NULL,      -- YYYY-MM-DD, the grant's date
  erased_at   TEXT NOT NULL
);

-- erasure_files: the file work of an erasure whose rows are gone but whose files (outbox
-- copies, published reports, certificates) are not all dealt with yet. Written in the
-- erasure's transaction, deleted in a second one once every file is removed or scrubbed,
-- so a crash in between leaves the work here, and the next `tandem people erase` finishes
-- it. `work` holds the name and e-mail to scrub (JSON): personal data, kept only that long.
CREATE TABLE erasure_files (
  id          INTEGER PRIMARY KEY AUTOINCREMENT,
  pseudonym   TEXT NOT NULL,
  work        TEXT NOT NULL,
  created_at  TEXT NOT NULL
);
