-- Schema v7: which side of a pair cancelled a session.
--
-- Why: program health (report/health) names who cancelled when a pair misses sessions in a
-- row ("2 consecutive missed sessions (cancelled by Ana Ruiz)"). The session.cancelled event
-- records the actor, which is whoever typed the command (an organizer, a job), not the side
-- of the pair that called the meeting off. `tandem sessions cancel ID --as PERSON` records
-- that side here; NULL when an organizer, a job or the match's end cancelled it. A person's
-- erasure deletes their people row and sets this to NULL (the pair's sessions go with their
-- match anyway).

ALTER TABLE sessions ADD COLUMN cancelled_by INTEGER REFERENCES people(id) ON DELETE SET NULL;
