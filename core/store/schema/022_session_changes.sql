-- Schema v22: the sessions whose calendar entry may need an update (sched/remind_update).
--
-- Why: a reminder carries its session's .ics, so its recipient's calendar has the meeting.
-- When that session is cancelled or moved later (by a participant, a replan, a match that
-- ends, an erased partner), nothing told the calendar: the meeting stayed CONFIRMED at its
-- old time until the recipient imported `calendar export` again. Now every planned session
-- that becomes cancelled or rescheduled, by whatever path, is noted here by a trigger, and
-- the send-reminders job sends each side that got a message about the meeting an update
-- with the current .ics (the same UID, a higher SEQUENCE: STATUS:CANCELLED, or the new
-- time), then forgets the note. The note is in the same transaction as the change, so a
-- crash cannot lose it; the update's idempotency key makes sending it twice impossible.
CREATE TABLE session_changes (
  session_id  INTEGER PRIMARY KEY REFERENCES sessions(id) ON DELETE CASCADE
);
CREATE TRIGGER session_change_noted AFTER UPDATE OF status ON sessions
  WHEN OLD.status = 'planned' AND (NEW.status = 'cancelled' OR NEW.status = 'rescheduled')
BEGIN
  INSERT OR IGNORE INTO session_changes(session_id) VALUES (NEW.id);
END;
