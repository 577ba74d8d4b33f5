-- Schema v13: a built-in job that knows when it has work (sched/nextwork.h) is materialized
-- only at the grid instants where it has some, so the idle service does not wake hourly to
-- do nothing. jobs.considered_until is the instant (UTC text) up to which the scheduler has
-- looked at the job's grid instants: one without a row at or before it was judged to have
-- nothing to do, which is neither a missed run nor a skipped one after an outage. NULL: never
-- considered that way (a Lua job, or a built-in before its first such materialization).
ALTER TABLE jobs ADD COLUMN considered_until TEXT;
