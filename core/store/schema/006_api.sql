-- Schema v6: the HTTP API: bearer tokens (core/http/tokens.c) and an index for the session
-- listing's pages.
--
-- A token is shown once, when `tandem tokens create` makes it; the database keeps only the
-- SHA-256 of its text, so a copy of tandem.db gives nobody access. The name is the actor of
-- every write made with the token, so names stay unique even after a revocation (a name in
-- the event log never means two tokens). Revoking sets revoked_at; the row stays.
CREATE TABLE api_tokens (
  id            INTEGER PRIMARY KEY,
  name          TEXT NOT NULL UNIQUE,
  scope         TEXT NOT NULL CHECK (scope = 'read' OR scope = 'manage' OR scope = 'admin'),
  hash          TEXT NOT NULL UNIQUE,          -- SHA-256 of the token's text, 64 hex digits
  created_at    TEXT NOT NULL,
  created_by    TEXT,
  revoked_at    TEXT,
  last_used_at  TEXT                           -- updated at most once a minute
);

-- The session listing's pages (GET /api/v1/sessions) walk sessions in (starts_at, id) order
-- and stop after a page: an index in that order lets SQLite stop too, instead of sorting
-- every session for each page. (id is the rowid, which every index carries last.)
CREATE INDEX sessions_start ON sessions(starts_at);
