/*
 * sched/run: running one occurrence: sched_run_one and sched_run_job (see
 * occur.h for the contract).
 *
 * The shape of a built-in run, all in one transaction:
 *
 *     BEGIN IMMEDIATE
 *       pick the earliest due pending occurrence (the month's reports    sched.claimed
 *       last); claim it ('running')
 *       lateness / overlap checks (-> 'missed' / 'skipped')
 *       SAVEPOINT: the job's body (its writes, its events)               sched.effects
 *       'done' (or 'failed' after rolling the savepoint back) + job.* event
 *                                                                        sched.before_commit
 *     COMMIT                                                             sched.committed
 *
 * so a process that dies anywhere before COMMIT leaves the occurrence pending
 * with nothing of its effects, and one that dies after leaves it done with all of
 * them. A Lua run commits its claim first (the plugin must not run while the
 * write lock is held: it may take a second, and other processes write too), then
 * calls the plugin, then does the rest in a second transaction that first checks
 * the claim is still its own.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/crash.h"
#include "events/events.h"
#include "sched/occur.h"
#include "sched/sched_internal.h"
#include "store/stmt.h"

/* The occurrence picked to run. */
struct occ {
	int64_t id, job_id;
	char due_at[STORE_TIME_MAX], run_at[STORE_TIME_MAX];
	time_t due, run;
	int covers;
	int64_t attempts; /* after the claim */
	char name[128], kind[16];
	int overlap;
	int64_t max_lateness_s;
};

static int
copy_text(struct stmt *q, int col, char *buf, size_t size, struct diag *d)
{
	const char *t;
	if (stmt_text(q, col, &t, d) != 0)
		return -1;
	snprintf(buf, size, "%s", t != NULL ? t : "");
	return 0;
}

/* The pending occurrence `id`, or (id 0) the earliest with run_at <= now, the
 * monthly-reports ones after all others (occur.h: they read what the others catch up;
 * none while s->hold_reports). 1 = none. */
static int
pick(struct sched *s, int64_t id, time_t now, struct occ *o, struct diag *d)
{
	char ts[STORE_TIME_MAX];
	if (store_format_time(now, ts) != 0)
		return diag_set(d, DIAG_INTERNAL, "running jobs: the clock is out of range");
	struct stmt q = {0};
	int rc = stmt_prepare(&q, s->st, "picking the next occurrence",
			      "SELECT o.id, o.job_id, o.due_at, o.run_at, o.covers, o.attempts,"
			      " j.name, j.kind, j.overlap, j.max_lateness_s"
			      " FROM occurrences o JOIN jobs j ON j.id = o.job_id"
			      " WHERE o.status = 'pending' AND"
			      " (CASE WHEN ?1 > 0 THEN o.id = ?1 ELSE j.enabled = 1 AND o.run_at <= ?2"
			      "  AND NOT (?3 AND " SCHED_REPORTS_SQL("j") ") END)"
			      " ORDER BY " SCHED_REPORTS_SQL("j") ", o.run_at, o.id LIMIT 1",
			      d);
	if (rc == 0)
		rc = stmt_bind_int64(&q, 1, id, d) || stmt_bind_text(&q, 2, ts, d) ||
		     stmt_bind_int64(&q, 3, s->hold_reports, d);
	int r = rc == 0 ? stmt_step(&q, d) : -1;
	if (r == STMT_ROW) {
		memset(o, 0, sizeof(*o));
		o->id = stmt_int64(&q, 0);
		o->job_id = stmt_int64(&q, 1);
		o->covers = (int)stmt_int64(&q, 4);
		o->attempts = stmt_int64(&q, 5) + 1;
		o->overlap = (int)stmt_int64(&q, 8);
		o->max_lateness_s = stmt_int64(&q, 9);
		if (copy_text(&q, 2, o->due_at, sizeof(o->due_at), d) ||
		    copy_text(&q, 3, o->run_at, sizeof(o->run_at), d) ||
		    copy_text(&q, 6, o->name, sizeof(o->name), d) ||
		    copy_text(&q, 7, o->kind, sizeof(o->kind), d))
			r = -1;
		else if (sched_parse_time(o->due_at, &o->due) != 0 ||
			 sched_parse_time(o->run_at, &o->run) != 0)
			r = diag_set(d, DIAG_DB, "occurrence %lld: bad time '%s'", (long long)o->id,
				     o->due_at);
	}
	stmt_finalize(&q);
	return r < 0 ? -1 : r == STMT_ROW ? 0 : 1;
}

static int
claim(struct sched *s, const struct occ *o, time_t now, struct diag *d)
{
	char ts[STORE_TIME_MAX];
	store_format_time(now, ts);
	struct stmt u = {0};
	int rc = stmt_prepare(&u, s->st, "claiming an occurrence",
			      "UPDATE occurrences SET status = 'running', claimed_at = ?2,"
			      " attempts = attempts + 1 WHERE id = ?1 AND status = 'pending'",
			      d);
	if (rc == 0)
		rc = stmt_bind_int64(&u, 1, o->id, d) || stmt_bind_text(&u, 2, ts, d) ||
		     stmt_run(&u, d);
	stmt_finalize(&u);
	if (rc == 0 && sqlite3_changes(store_db(s->st)) != 1)
		rc = diag_set(d, DIAG_INTERNAL, "occurrence %lld was not pending when claimed",
			      (long long)o->id);
	return rc;
}

/* The job.* event of a finished occurrence. */
static int
append_event(struct sched *s, const struct occ *o, const char *kind, const char *status,
	     const char *result, const char *reason, struct diag *d)
{
	json_t *res = NULL;
	if (result != NULL && result[0] != '\0')
		res = json_loads(result, 0, NULL);
	json_t *ev = json_pack("{s:s, s:I, s:s, s:i, s:s}", "job", o->name, "occurrence",
			       (json_int_t)o->id, "due", o->due_at, "covers", o->covers, "status",
			       status);
	if (ev != NULL && res != NULL)
		json_object_set_new(ev, "result", res);
	else
		json_decref(res);
	if (ev != NULL && reason != NULL)
		json_object_set_new(ev, "reason", json_string(reason));
	char *text = ev != NULL ? json_dumps(ev, JSON_COMPACT) : NULL;
	json_decref(ev);
	if (text == NULL)
		return diag_set(d, DIAG_NOMEM, "out of memory writing a job event");
	struct event e = {kind, "scheduler", 0, 0, text};
	int rc = events_append(s->st, &e, NULL, d);
	free(text);
	return rc;
}

/* Marks o finished with status (done failed skipped missed) and appends its event. */
static int
finish(struct sched *s, const struct occ *o, time_t now, const char *status, const char *result,
       const char *reason, struct diag *d)
{
	char ts[STORE_TIME_MAX];
	store_format_time(now, ts);
	struct stmt u = {0};
	int rc = stmt_prepare(&u, s->st, "completing an occurrence",
			      "UPDATE occurrences SET status = ?2, finished_at = ?3, result = ?4,"
			      " reason = ?5 WHERE id = ?1",
			      d);
	if (rc == 0)
		rc = stmt_bind_int64(&u, 1, o->id, d) || stmt_bind_text(&u, 2, status, d) ||
		     stmt_bind_text(&u, 3, ts, d) ||
		     stmt_bind_text(&u, 4, result != NULL && result[0] ? result : NULL, d) ||
		     stmt_bind_text(&u, 5, reason, d) || stmt_run(&u, d);
	stmt_finalize(&u);
	if (rc != 0)
		return -1;
	const char *kind = strcmp(status, "done") == 0	   ? "job.ran"
			   : strcmp(status, "failed") == 0 ? "job.failed"
							   : "job.skipped";
	if (strcmp(status, "failed") == 0) {
		s->runs_failed++;
		sched__log(s, TLOG_WARN, "job %s (due %s) failed: %s", o->name, o->due_at, reason);
	}
	else if (strcmp(status, "done") != 0)
		sched__log(s, TLOG_INFO, "job %s (due %s) %s: %s", o->name, o->due_at, status, reason);
	return append_event(s, o, kind, status, result, reason, d);
}

static void
fmt_late(int64_t late, char *buf, size_t size)
{
	if (late >= 3600)
		snprintf(buf, size, "%lldh %02lldm", (long long)(late / 3600),
			 (long long)(late % 3600 / 60));
	else if (late >= 60)
		snprintf(buf, size, "%lldm %02llds", (long long)(late / 60), (long long)(late % 60));
	else
		snprintf(buf, size, "%llds", (long long)late);
}

/*
 * The checks before running: too late (-> missed) or overlapping a run of the same job
 * (-> skipped). 1 when o was finished here, 0 to run it, -1 on a store failure.
 */
static int
refuse(struct sched *s, const struct occ *o, time_t now, struct diag *d)
{
	char reason[256];
	int64_t late = (int64_t)(now - o->run);
	if (o->max_lateness_s > 0 && late > o->max_lateness_s) {
		char a[32], b[32];
		fmt_late(late, a, sizeof(a));
		fmt_late(o->max_lateness_s, b, sizeof(b));
		snprintf(reason, sizeof(reason), "started %s late, more than its max_lateness of %s", a,
			 b);
		return finish(s, o, now, "missed", NULL, reason, d) != 0 ? -1 : 1;
	}
	if (o->overlap)
		return 0;
	char cut[STORE_TIME_MAX];
	store_format_time(now - SCHED_LEASE_S, cut);
	struct stmt q = {0};
	int rc = stmt_prepare(&q, s->st, "checking for an overlapping run",
			      "SELECT due_at FROM occurrences WHERE job_id = ?1 AND id <> ?2"
			      " AND status = 'running' AND claimed_at >= ?3 LIMIT 1",
			      d);
	if (rc == 0)
		rc = stmt_bind_int64(&q, 1, o->job_id, d) || stmt_bind_int64(&q, 2, o->id, d) ||
		     stmt_bind_text(&q, 3, cut, d);
	int r = rc == 0 ? stmt_step(&q, d) : -1;
	if (r == STMT_ROW) {
		const char *other;
		if (stmt_text(&q, 0, &other, d) != 0)
			r = -1;
		else
			snprintf(reason, sizeof(reason),
				 "the run due at %s was still running (overlap = false)", other);
	}
	stmt_finalize(&q);
	if (r < 0)
		return -1;
	if (r != STMT_ROW)
		return 0;
	return finish(s, o, now, "skipped", NULL, reason, d) != 0 ? -1 : 1;
}

/* A built-in body in a savepoint of the run's transaction; done or failed. */
static int
run_builtin(struct sched *s, const struct occ *o, time_t now, struct diag *d)
{
	const struct sched_job_ops *ops = sched_builtin(s, o->name);
	if (ops == NULL || ops->run == NULL) {
		char reason[256];
		snprintf(reason, sizeof(reason), "this build has no built-in job '%s'", o->name);
		return finish(s, o, now, "failed", NULL, reason, d);
	}
	struct sched_run r;
	memset(&r, 0, sizeof(r));
	r.sched = s;
	r.st = s->st;
	r.cfg = s->cfg;
	r.job = o->name;
	r.occurrence_id = o->id;
	r.due = o->due;
	r.now = now;
	r.covers = o->covers;
	struct diag e;
	diag_clear(&e);
	if (store_begin(s->st, d) != 0)
		return -1;
	if (ops->run(&r, &e) != 0) {
		store_rollback(s->st);
		return finish(s, o, now, "failed", NULL, e.msg[0] ? e.msg : "the job failed", d);
	}
	if (store_commit(s->st, &e) != 0)
		return finish(s, o, now, "failed", NULL, e.msg, d);
	crash_point("sched.effects");
	if (r.failures > 0) {
		s->parts_failed += (unsigned long)r.failures;
		sched__log(s, TLOG_WARN, "job %s (due %s) done with %d failure(s): %s", o->name,
			   o->due_at, r.failures, r.result);
	}
	return finish(s, o, now, "done", r.result[0] ? r.result : "{}", NULL, d);
}

/* After the plugin ran: is the occurrence still running under our claim? */
static int
still_ours(struct sched *s, const struct occ *o, struct diag *d)
{
	struct stmt q = {0};
	int rc = stmt_prepare(&q, s->st, "re-checking a claimed occurrence",
			      "SELECT status = 'running' AND attempts = ?2 FROM occurrences WHERE id = ?1",
			      d);
	if (rc == 0)
		rc = stmt_bind_int64(&q, 1, o->id, d) || stmt_bind_int64(&q, 2, o->attempts, d);
	int r = rc == 0 ? stmt_step(&q, d) : -1;
	int ours = r == STMT_ROW && stmt_int64(&q, 0) == 1;
	stmt_finalize(&q);
	return r < 0 ? -1 : ours;
}

/* A Lua run: the claim is committed; the plugin runs now; the rest in a new transaction. */
static int
run_lua(struct sched *s, const struct occ *o, time_t now, struct diag *d)
{
	struct sched_script *sc = sched__script(s, o->name);
	struct buf actions;
	buf_init(&actions);
	struct diag e;
	diag_clear(&e);
	int called = -1;
	if (sc == NULL)
		diag_set(&e, DIAG_NOTFOUND, "the job's script is not loaded (see `tandem jobs list`)");
	else
		called = sched__lua_call(s, sc, o->id, o->due, now, o->covers, &actions, &e);
	if (store_begin(s->st, d) != 0) {
		buf_fini(&actions);
		return -1;
	}
	int rc = 0;
	int ours = still_ours(s, o, d);
	char result[512] = "";
	if (ours < 0) {
		rc = -1;
	} else if (!ours) {
		sched__log(s, TLOG_WARN,
			   "job %s (due %s): the occurrence was taken over while the plugin ran; "
			   "this run's actions are dropped",
			   o->name, o->due_at);
	} else if (called != 0) {
		rc = finish(s, o, now, "failed", NULL, e.msg, d);
	} else if ((rc = store_begin(s->st, d)) == 0) {
		if (sched__apply_actions(s, sc, &actions, now, result, sizeof(result), &e) != 0) {
			store_rollback(s->st);
			rc = e.code == DIAG_DB || e.code == DIAG_NOMEM
				     ? (*d = e, -1)
				     : finish(s, o, now, "failed", NULL, e.msg, d);
		} else if ((rc = store_commit(s->st, d)) == 0) {
			crash_point("sched.effects");
			rc = finish(s, o, now, "done", result[0] ? result : "{}", NULL, d);
		}
	}
	buf_fini(&actions);
	if (rc != 0) {
		store_rollback(s->st);
		return -1;
	}
	crash_point("sched.before_commit");
	if (store_commit(s->st, d) != 0)
		return -1;
	crash_point("sched.committed");
	return 0;
}

/* Runs occurrence id (0: the earliest due at now). *ran = 1 if one was handled. */
static int
run_occurrence(struct sched *s, int64_t id, time_t now, int *ran, struct diag *d)
{
	struct occ o;
	*ran = 0;
	if (store_begin(s->st, d) != 0)
		return -1;
	int r = pick(s, id, now, &o, d);
	if (r != 0) {
		store_rollback(s->st);
		return r < 0 ? -1 : 0;
	}
	*ran = 1;
	if (claim(s, &o, now, d) != 0)
		goto fail;
	int lua = strcmp(o.kind, "lua") == 0;
	if (!lua)
		crash_point("sched.claimed");
	r = refuse(s, &o, now, d);
	if (r < 0)
		goto fail;
	if (r == 0 && lua) {
		if (store_commit(s->st, d) != 0)
			return -1;
		crash_point("sched.claimed");
		return run_lua(s, &o, now, d);
	}
	if (r == 0 && run_builtin(s, &o, now, d) != 0)
		goto fail;
	crash_point("sched.before_commit");
	if (store_commit(s->st, d) != 0)
		return -1;
	crash_point("sched.committed");
	return 0;
fail:
	store_rollback(s->st);
	return diag_prefix(d, "running job %s (due %s)", o.name, o.due_at);
}

int
sched_run_one(struct sched *s, time_t now, int *ran, struct diag *d)
{
	*ran = 0;
	if (sched_materialize(s, now, d) != 0)
		return -1;
	int rc = run_occurrence(s, 0, now, ran, d);
	/* What it wrote may give a job work (an activation, pairs to plan; sessions to
	 * remind): the next step materializes again, at the same now (occur.h). */
	if (*ran)
		s->materialized = 0;
	return rc;
}

void
sched_hold_reports(struct sched *s, int hold)
{
	s->hold_reports = hold != 0;
}

int
sched_holds_reports(const struct sched *s)
{
	return s->hold_reports;
}

unsigned long
sched_failed_runs(const struct sched *s)
{
	return s->runs_failed;
}

unsigned long
sched_failed_parts(const struct sched *s)
{
	return s->parts_failed;
}

int
sched_run_job(struct sched *s, const char *name, time_t now, int64_t *occ_id, struct diag *d)
{
	*occ_id = 0;
	/* Everything owed up to now first, so the manual row never hides a scheduled one. */
	if (sched_materialize(s, now, d) != 0)
		return -1;
	char ts[STORE_TIME_MAX];
	if (store_format_time(now, ts) != 0)
		return diag_set(d, DIAG_INTERNAL, "running a job: the clock is out of range");
	if (store_begin(s->st, d) != 0)
		return -1;
	struct stmt q = {0};
	int rc = stmt_prepare(&q, s->st, "adding a manual run",
			      "INSERT INTO occurrences (job_id, due_at, run_at, status)"
			      " SELECT id, ?2, ?2, 'pending' FROM jobs WHERE name = ?1 AND enabled = 1"
			      " ON CONFLICT (job_id, due_at) DO NOTHING",
			      d);
	if (rc == 0)
		rc = stmt_bind_text(&q, 1, name, d) || stmt_bind_text(&q, 2, ts, d) || stmt_run(&q, d);
	stmt_finalize(&q);
	int64_t id = 0;
	const char *status = NULL;
	int r = -1;
	if (rc == 0)
		rc = stmt_prepare(&q, s->st, "finding a manual run",
				  "SELECT o.id, o.status FROM occurrences o JOIN jobs j ON j.id = o.job_id"
				  " WHERE j.name = ?1 AND j.enabled = 1 AND o.due_at = ?2",
				  d);
	if (rc == 0 && (rc = stmt_bind_text(&q, 1, name, d) || stmt_bind_text(&q, 2, ts, d)) == 0)
		r = stmt_step(&q, d);
	if (r == STMT_ROW && (rc = stmt_text(&q, 1, &status, d)) == 0) {
		id = stmt_int64(&q, 0);
		if (strcmp(status, "pending") != 0)
			rc = diag_set(d, DIAG_CONFLICT,
				      "job %s already ran at %s (%s): a job's runs are one per second "
				      "(keyed by job and instant), so run it again in a second",
				      name, ts, status);
	} else if (r == STMT_DONE) {
		rc = diag_set(d, DIAG_NOTFOUND, "no enabled job named '%s' (see `tandem jobs list`)",
			      name);
	} else {
		rc = -1;
	}
	stmt_finalize(&q);
	if (rc != 0) {
		store_rollback(s->st);
		return -1;
	}
	if (store_commit(s->st, d) != 0)
		return -1;
	*occ_id = id;
	int ran;
	s->materialized = 0;
	return run_occurrence(s, id, now, &ran, d);
}
