/*
 * sched/nextwork: when each built-in job will next have something to do, read from
 * the store: the data-driven schedule that lets the idle service sleep until then.
 *
 * Why: the built-in jobs are on an hourly grid (sched/builtin.h). Run at every grid
 * instant, an idle service wakes 24 times a day to find nothing to do: that is
 * polling. Each function below answers "the earliest instant at which this job's
 * body, run then, would do something", from the same rows the body reads; the
 * scheduler (sched/occur.h) then materializes only the job's first grid instant at
 * or after that answer, and nothing when the answer is "never, as things stand".
 * Anything that changes the answer is a write to the store, which wakes the service
 * (serve/dbwatch for other processes' writes; the scheduler asks again after each of
 * its own runs).
 *
 * Contract (each function): 0 and *at = the instant (it may be <= now: work is due
 * already), 1 when the job has nothing to do until something is written, -1 + diag
 * (a store failure). An answer may be early (the body then finds nothing and the job
 * is asked again), never late: work the body would find at a grid instant is never
 * put after it. The answers, job by job:
 *  - activate-matches: for each program of tandem.lua that has a row, the local
 *    midnight (workspace zone) its first day starts, when at that time it will have an
 *    approved match to activate or its program.started event still unwritten; the
 *    midnight after its last day, when it will then have approved or active matches to
 *    end or its program.ended event still unwritten (lifecycle_run_due's two branches).
 *  - plan-sessions: for each program whose window [now, min(now + horizon, its end))
 *    is open: now when its plan signature changed (tandem.lua's dates, cadence or its
 *    file, session length, zone: plan_signature) or, for a cadence with a plan hook, a
 *    pair's sessions changed; else one second after the earliest plan_next_at of its
 *    active pairs ('' = now), the instant the incremental plan picks the pair again.
 *  - send-reminders: now when a session was cancelled or moved since the last run
 *    (session_changes has a note: its calendar update, sched/remind.h "Updates"); else
 *    the earliest start of a planned session of an active or approved match, still to
 *    come, missing a side's reminder, less REMIND_LEAD_HOURS.
 *  - mark-missed: the earliest end of a planned session plus SCHED_MISSED_GRACE_H, or
 *    the next rating window to close (sched/reveal.h), whichever is first.
 * monthly-reports keeps its monthly schedule (a wake a month; whether a report plugin
 * publishes monthly is known only by loading the plugins in their workers).
 *
 * Who calls it: sched/builtin's table (struct sched_job_ops.next_work), read by
 * sched_materialize; tests.
 */
#ifndef TANDEM_SCHED_NEXTWORK_H
#define TANDEM_SCHED_NEXTWORK_H

#include <time.h>

#include "base/diag.h"

struct sched;

int nextwork_activate(struct sched *s, time_t now, time_t *at, struct diag *d);
int nextwork_plan(struct sched *s, time_t now, time_t *at, struct diag *d);
int nextwork_remind(struct sched *s, time_t now, time_t *at, struct diag *d);
int nextwork_missed(struct sched *s, time_t now, time_t *at, struct diag *d);

#endif
