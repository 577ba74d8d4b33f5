-- Schema v19 (after v18, which rebuilds matches): why the planner left a pair without sessions, kept on the pair so that
-- `tandem health` and `tandem simulate` can say it (sched/plan.h):
--  - matches.plan_note: the reason the pair's last plan gave it no session (no shared slot,
--    naming both people and their availability; or the cadence plugin's error with its
--    FILE:LINE); '' when its last plan had nothing to say (it got sessions, or its window
--    is closed). The planner writes it with plan_next_at, in the same transaction; no
--    trigger reads it.
ALTER TABLE matches ADD COLUMN plan_note TEXT NOT NULL DEFAULT '';
