/*
 * sched/builtin: the table of built-in jobs (see builtin.h).
 *
 * The jobs the service runs by itself, each wired here once its body is part of
 * the build:
 *   activate-matches  hourly      lifecycle_activate_due: approved matches of started
 *                                 programs become active; matches of ended programs end
 *   mark-missed       hourly      session_mark_missed: planned sessions still without a
 *                                 check-in SCHED_MISSED_GRACE_H hours after their end
 * Planning (plan_program) and reminders (remind_due) join the table the same way.
 * Every body runs inside its occurrence's transaction and writes a one-line JSON
 * summary of what it did, which `tandem jobs list` shows as the run's result.
 */
#include "sched/builtin.h"

#include <stdio.h>

#include "program/lifecycle.h"
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

static const struct sched_job_ops jobs[] = {
	{"activate-matches", "FREQ=HOURLY", run_activate, NULL},
	{"mark-missed", "FREQ=HOURLY", run_mark_missed, NULL},
};

const struct sched_job_ops *
sched_builtin_jobs(size_t *n)
{
	*n = sizeof(jobs) / sizeof(jobs[0]);
	return jobs;
}
