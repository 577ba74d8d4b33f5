/*
 * sched/builtin: the table of built-in jobs (see builtin.h).
 *
 * The jobs the service runs by itself, each wired here once its body is part of
 * the build:
 *   activate-matches  hourly      lifecycle_activate_due: approved matches of started
 *                                 programs become active; matches of ended programs end
 *   plan-sessions     hourly      plan_all: every program's active pairs planned by
 *                                 its cadence up to PLAN_HORIZON_DAYS ahead (idempotent);
 *                                 incremental: only the pairs whose plan can have
 *                                 changed (sched/plan.h), cadences kept loaded; its
 *                                 result counts as `tandem sessions plan` would at the
 *                                 same moment, and names the programs it skipped
 *   send-reminders    hourly      remind_due: one message per side of each session
 *                                 starting within REMIND_LEAD_HOURS, through the outbox
 *   mark-missed       hourly      session_mark_missed: planned sessions still without a
 *                                 check-in SCHED_MISSED_GRACE_H hours after their end;
 *                                 reveal_due: the rating windows that closed
 *                                 (sched/reveal.h)
 *   monthly-reports   the 1st,    report_publish_job (report/publish.h, wired through
 *                     00:00       sched_opts.reports: the report layer is above this one):
 *                                 the report plugins that declare publish = "monthly",
 *                                 for every running program, for the month just ended
 * The four hourly jobs run only at the hours where they have work (sched/nextwork.h:
 * the grid stays hourly, the hours without work get no occurrence), so an idle service
 * sleeps until the next session's reminder, end or plan instead of waking every hour.
 * The order is the order a wake runs them when several are due at the same instant:
 * activation before planning (new pairs get sessions at once), planning before
 * reminders, and the month's reports last (after the month's sessions were marked); the
 * reports come last in a wake even when due earlier than the others' catch-up runs (an
 * outage across a month's end: sched/occur.h, sched_run_one).
 * Every body runs inside its occurrence's transaction and writes a one-line JSON
 * summary of what it did, which `tandem jobs list` shows as the run's result.
 */
#include "sched/builtin.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "program/lifecycle.h"
#include "sched/nextwork.h"
#include "sched/plan.h"
#include "sched/remind.h"
#include "sched/reveal.h"
#include "sched/sched_internal.h"
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
	int count = 0, revealed = 0;
	if (session_mark_missed(r->st, r->now, SCHED_MISSED_GRACE_H, &count, d) != 0 ||
	    reveal_due(r->st, r->now, &revealed, d) != 0)
		return -1;
	snprintf(r->result, sizeof(r->result), "{\"missed\":%d,\"revealed\":%d}", count,
		 revealed);
	return 0;
}

/* The summary as the run's result: {"planned", "existing", "cancelled", "pairs",
 * "replanned", "unplanned", "refused", "programs", "skipped": [{"program", "why"}]}, the
 * skipped ones' reasons cut short to fit the result's 512 bytes. */
static int
plan_result(const struct plan_summary *s, char *out, size_t size, struct diag *d)
{
	for (int cut = 160; cut >= 0; cut -= 40) {
		json_t *skipped = json_array();
		for (int i = 0; skipped != NULL && i < s->nskipped && i < PLAN_SKIPPED_KEEP; i++)
			json_array_append_new(skipped,
					      json_pack("{s:s, s:s%}", "program", s->skipped[i].program,
							"why", s->skipped[i].why,
							strnlen(s->skipped[i].why, (size_t)cut)));
		json_t *o = skipped == NULL ? NULL
			    : json_pack("{s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:o}",
					"planned", s->planned, "existing", s->existing, "cancelled",
					s->cancelled, "pairs", s->pairs, "replanned", s->replanned,
					"unplanned", s->unplanned, "refused", s->refused,
					"cancelled_cadence_changed", s->changed, "programs", s->programs,
					"skipped", skipped);
		char *text = o != NULL ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
		json_decref(o);
		if (text == NULL)
			return diag_set(d, DIAG_NOMEM, "out of memory writing the plan's result");
		size_t n = strlen(text);
		if (n < size || cut == 0) {
			snprintf(out, size, "%s", n < size ? text : "{}");
			free(text);
			return 0;
		}
		free(text);
	}
	return 0;
}

static int
run_plan(struct sched_run *r, struct diag *d)
{
	struct plan_summary sum;
	memset(&sum, 0, sizeof(sum));
	if (r->cfg != NULL) {
		/* Only the pairs whose plan can have changed, with the cadences kept loaded. */
		struct plan_ctx ctx = {.st = r->st, .cfg = r->cfg, .ws = sched_ws(r->sched),
				       .incremental = 1};
		if ((ctx.cadences = sched__cadences(r->sched, d)) == NULL)
			return -1;
		if (plan_all(&ctx, r->now, 0, &sum, d) != 0)
			return -1;
	}
	return plan_result(&sum, r->result, sizeof(r->result), d);
}

/* The body lives in report/publish; the creator of the struct sched gives it. */
static int
run_reports(struct sched_run *r, struct diag *d)
{
	int (*body)(struct sched_run *, struct diag *) = sched_reports_body(r->sched);
	if (body == NULL)
		return diag_set(d, DIAG_INTERNAL,
				"the monthly reports are not wired in this process (tandem serve, "
				"tandem simulate and tandem jobs run publish them)");
	return body(r, d);
}

static const struct sched_job_ops jobs[] = {
	{"activate-matches", "FREQ=HOURLY", run_activate, NULL, nextwork_activate},
	{"plan-sessions", "FREQ=HOURLY", run_plan, NULL, nextwork_plan},
	{"send-reminders", "FREQ=HOURLY", remind_job, NULL, nextwork_remind},
	{"mark-missed", "FREQ=HOURLY", run_mark_missed, NULL, nextwork_missed},
	{"monthly-reports", "FREQ=MONTHLY;BYMONTHDAY=1;BYHOUR=0;BYMINUTE=0", run_reports, NULL,
	 NULL},
};

const struct sched_job_ops *
sched_builtin_jobs(size_t *n)
{
	*n = sizeof(jobs) / sizeof(jobs[0]);
	return jobs;
}
