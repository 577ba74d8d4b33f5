-- Schema v14: a session's ratings become visible to everyone when both sides have rated or
-- SESSION_REVEAL_DAYS (7) days after its end (program/session_reveal.h). The second rating
-- raises feedback.given; the window closing raised nothing, so a reward rule reading the
-- visible ratings (top_mentor) never saw a one-sided rating become visible. The mark-missed
-- job now closes the windows (sched/reveal.c): revealed_at is when it did, and a session
-- with exactly one side's rating raises feedback.revealed then.
ALTER TABLE sessions ADD COLUMN revealed_at TEXT;
CREATE INDEX sessions_reveal ON sessions(starts_at)
  WHERE revealed_at IS NULL AND (status = 'held' OR status = 'missed');
-- Windows that closed before this version: closed now, without an event (their ratings have
-- been visible all along to every reader that asks).
UPDATE sessions SET revealed_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now')
  WHERE (status = 'held' OR status = 'missed')
    AND CAST(strftime('%s', starts_at) AS INTEGER) + 60 * duration_min + 86400 * 7
        <= CAST(strftime('%s', 'now') AS INTEGER);
