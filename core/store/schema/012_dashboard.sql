-- Schema v12: the dashboard's sign-in sessions (core/http/dash_session.c, docs/dashboard.md).
--
-- Signing in to the dashboard exchanges an API token (api_tokens) for a session cookie. As
-- with the tokens, only the SHA-256 of the cookie's random value is kept, so a copy of
-- tandem.db opens no session. A session belongs to the token it was opened with: revoking
-- the token ends it (the check joins api_tokens and wants revoked_at IS NULL); deleting it
-- is signing out. last_seen_at is written at most once a minute (idle expiry).
CREATE TABLE dash_sessions (
  id            INTEGER PRIMARY KEY,
  hash          TEXT NOT NULL UNIQUE,            -- SHA-256 of the cookie's value, 64 hex digits
  token_id      INTEGER NOT NULL REFERENCES api_tokens(id) ON DELETE CASCADE,
  created_at    TEXT NOT NULL,
  last_seen_at  TEXT NOT NULL
);
CREATE INDEX dash_sessions_token ON dash_sessions(token_id);
