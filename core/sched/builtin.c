/*
 * sched/builtin: the table of built-in jobs (see builtin.h).
 *
 * The jobs the service runs by itself, each wired here once its body is part of
 * the build:
 *   activate-matches  hourly      lifecycle_activate_due: approved matches of started
 *                                 programs become active; matches of ended programs end
 *   plan-sessions     hourly      plan_all: every program's active pairs planned by
 *                                 its cadence up to PLAN_HORIZON_DAYS ahead (idempotent)
 *   send-reminders    hourly      remind_due: one message per side of each session
 *                                 starting within REMIND_LEAD_HOURS, through the outbox
 *   mark-missed       hourly      session_mark_missed: planned sessions still without a
 *                                 check-in SCHED_MISSED_GRACE_H hours after their end
 *   dispatch-events   every 15 min rewards_dispatch: the new events to every reward rule,
 *                                 grants into the ledger (rewards/dispatch.h); a rule
 *                                 that stops at an event is counted in "failed" and
 *                                 retried there at the next run, the others go on
 * The order is the order a wake runs them when several are due at the same instant:
 * activation before planning (new pairs get sessions at once), planning before
 * reminders, and dispatch last (it sees the events the others just wrote). Dispatch runs
 * every 15 minutes rather than when events appear: the scheduler wakes on time only, and
 * 15 minutes keeps recognition prompt without an occurrence row a minute (and keeps up
 * with `tandem serve --time-scale 3600`).
 * Every body runs inside its occurrence's transaction and writes a one-line JSON
 * summary of what it did, which `tandem jobs list` shows as the run's result.
 */
#include "sched/builtin.h"

#include <stdio.h>

#include "program/lifecycle.h"
#include "rewards/dispatch.h"
#include "sched/plan.h"
#include "sched/remind.h"
#include "sched/session.h"

static int
run_activate(struct sched_run *r, struct diag *d)
{
	int activated = 0, ended = 0;
	if (r->cfg != NULL &&
	    lifecycle_run_due(r->st, r->cfg, r->now, &activated, &ended, d) != 0)
		return -1;
	snprintf(r->result, sizeof(r->result), "{\"activated\":%d,\"ended\":%d}", activated, ended);
	return 0;
}

static int
run_mark_missed(struct sched_run *r, struct diag *d)
{
	int count = 0;
	if (session_mark_missed(r->st, r->now, SCHED_MISSED_GRACE_H, &count, d) != 0)
		return -1;
	snprintf(r->result, sizeof(r->result), "{\"missed\":%d}", count);
	return 0;
}

static int
run_plan(struct sched_run *r, struct diag *d)
{
	int planned = 0, existing = 0;
	if (r->cfg != NULL) {
		struct plan_ctx ctx = {.st = r->st, .cfg = r->cfg, .ws = sched_ws(r->sched)};
		if (plan_all(&ctx, r->now, 0, &planned, &existing, d) != 0)
			return -1;
	}
	snprintf(r->result, sizeof(r->result), "{\"planned\":%d,\"existing\":%d}", planned,
		 existing);
	return 0;
}

static int
run_dispatch(struct sched_run *r, struct diag *d)
{
	struct dispatch_opts o = {.ws = sched_ws(r->sched), .cfg = r->cfg};
	struct dispatch_result res;
	if (rewards_dispatch(r->st, &o, r->now, &res, d) != 0) {
		dispatch_result_fini(&res);
		return -1;
	}
	snprintf(r->result, sizeof(r->result),
		 "{\"delivered\":%ld,\"granted\":%ld,\"revoked\":%ld,\"failed\":%d}",
		 res.delivered, res.granted, res.revoked, res.failed);
	dispatch_result_fini(&res);
	return 0;
}

static const struct sched_job_ops jobs[] = {
	{"activate-matches", "FREQ=HOURLY", run_activate, NULL},
	{"plan-sessions", "FREQ=HOURLY", run_plan, NULL},
	{"send-reminders", "FREQ=HOURLY", remind_job, NULL},
	{"mark-missed", "FREQ=HOURLY", run_mark_missed, NULL},
	{"dispatch-events", "FREQ=MINUTELY;INTERVAL=15", run_dispatch, NULL},
};

const struct sched_job_ops *
sched_builtin_jobs(size_t *n)
{
	*n = sizeof(jobs) / sizeof(jobs[0]);
	return jobs;
}
