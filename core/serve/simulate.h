/*
 * serve/simulate: `tandem simulate`: months of a program in seconds, on a copy of the
 * workspace, with the service's own code and synthetic participants.
 *
 * For: cli/cmd_simulate.c (and embedders who want the same what-if).
 *
 * Contract:
 *  - The real workspace is only read: tandem.lua, plugins/, scripts/ and policies/ are
 *    copied into a new folder (a temporary one, removed at the end; or o->keep, which
 *    must not exist or be empty, and is kept), and the database is copied with VACUUM
 *    INTO from a read-only connection (a consistent snapshot even while `tandem serve`
 *    writes to it). Nothing is written to the real workspace.
 *  - The copy runs the service's code (serve/service.h: service_open, then per wake
 *    service_begin and service_step until nothing is due), so the same jobs, cadence
 *    and notifier plugins and Lua jobs run, on a virtual clock (base/clock.h) that
 *    starts at o->from and jumps straight to the next instant something is due (the
 *    service's next_due, the next end of a planned session, the next participant
 *    action), never sleeping, until o->from + o->months calendar months (UTC).
 *  - After each wake's steps, the synthetic participants (serve/simmodel.h) act through
 *    the session module's own functions (session_checkin, session_cancel,
 *    session_reschedule), so the events and rules of a real check-in apply. A wake, steps
 *    and participants, is one transaction (the service's own ones nest as savepoints).
 *    Deterministic: the same copy, seed, start and months give the same result.
 *  - The result is month by month for program o->program (which tandem.lua must
 *    declare): sessions by their start in the month; messages delivered that were
 *    about the program's sessions; pairs active at some time in the month; job runs of
 *    the whole workspace (the service runs every program's jobs); months whose reports
 *    the monthly-reports job published (in the copy's reports/ folder). And the pairs
 *    of the program that the planner left without sessions at their last plan, with
 *    why (matches.plan_note: no shared slot, or the cadence plugin's error with its
 *    FILE:LINE), so a program nobody can meet in does not look like a quiet one.
 *    And what failed, month by month (month.failed, and r->failures grouped by source,
 *    name and error): job runs that failed (a Lua job's error, any program's), report
 *    plugins that failed for the program (report.failed events: the monthly-reports
 *    job publishes the others and is itself done), and plan-sessions runs that skipped
 *    the program because its plan failed (a cadence that does not load), so a plugin
 *    that fails every month does not hide behind a done job.
 *  - 0, or -1 with a diag (a bad copy, a broken tandem.lua, an unknown program, a
 *    database error). The copy is removed on failure too, unless kept.
 */
#ifndef TANDEM_SERVE_SIMULATE_H
#define TANDEM_SERVE_SIMULATE_H

#include <stdint.h>
#include <time.h>

#include "base/diag.h"

enum { SIMULATE_MAX_MONTHS = 60 };

struct simulate_opts {
	const char *workspace; /* the real workspace folder */
	const char *db_path;   /* its database (usually WORKSPACE/tandem.db) */
	const char *program;   /* the program reported on */
	int months;            /* 1..SIMULATE_MAX_MONTHS */
	uint64_t seed;
	time_t from;           /* the virtual clock's start (UTC) */
	const char *keep;      /* NULL: a temporary copy; else the copy's folder, kept */
	/* Called after each wake (may be NULL): for a progress line. */
	void (*progress)(void *ud, time_t now, time_t from, time_t until);
	void *progress_ud;
};

struct simulate_month {
	time_t from, until;  /* [from, until) */
	long planned;        /* sessions starting in the month, except rows moved away */
	long held, missed, cancelled;
	long rescheduled;    /* rows moved to another time (their new row counts as planned) */
	long open;           /* still planned when the simulation ended */
	long ratings;        /* check-ins with a rating */
	double rating_sum;
	long messages_sent;  /* delivered messages about the program's sessions */
	long active_pairs;   /* the program's pairs active at some time in the month */
	long jobs_run;       /* job runs of the workspace that finished in the month */
	long reports;        /* months whose reports of the program were published in the month
				(the monthly-reports job: report/publish.h) */
	long failed;         /* runs that failed in the month: a Lua job's, a report plugin's
				for the program, the program's plan (simulate_failure) */
};

/* A pair of the program its last plan left without sessions. */
struct simulate_unplanned {
	int64_t match_id;
	char *mentor, *mentee; /* "EXTERNAL_ID Name" */
	char *reason;          /* matches.plan_note */
};

/* What failed in one month, one entry per month, source, name and error. */
struct simulate_failure {
	int month;     /* index into simulate_result.month */
	char *source;  /* "job" (a run that failed), "report" (a report plugin for the
			  program), "plan" (the program's plan: its cadence did not load) */
	char *name;    /* the job, the report plugin, or the plan-sessions job */
	char *error;
	long runs;     /* how many times in the month */
};

struct simulate_result {
	time_t from, until;
	int months;
	struct simulate_month *month; /* months entries */
	struct simulate_month total;  /* active_pairs: active at some time in the whole run */
	unsigned long wakes, steps;
	long checkins, cancels, moves; /* what the participants did */
	char copy[4096];               /* the kept copy's folder, "" when removed */
	struct simulate_unplanned *unplanned; /* by match id */
	size_t nunplanned;
	struct simulate_failure *failures;    /* by month, then first run */
	size_t nfailures;
};

int simulate_run(const struct simulate_opts *o, struct simulate_result *r, struct diag *d);
void simulate_result_fini(struct simulate_result *r);

/* t plus k calendar months in UTC, the day clamped to the month's length. */
time_t simulate_add_months(time_t t, int k);

#endif
