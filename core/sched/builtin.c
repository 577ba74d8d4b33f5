/*
 * sched/builtin: the table of built-in jobs (see builtin.h).
 *
 * The jobs the service runs by itself, once their bodies are part of the build:
 * plan-sessions (hourly: plan_program for each program), send-reminders (every
 * 15 minutes: remind_due), mark-missed (hourly: session_mark_missed) and
 * activate-matches (hourly: lifecycle_activate_due). Each is added to `jobs`
 * below together with its body.
 */
#include "sched/builtin.h"

static const struct sched_job_ops *const jobs = NULL;
static const size_t njobs = 0;

const struct sched_job_ops *
sched_builtin_jobs(size_t *n)
{
	*n = njobs;
	return jobs;
}
