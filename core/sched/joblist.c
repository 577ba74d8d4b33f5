/*
 * sched/joblist: reading jobs and their occurrences for `tandem jobs list` and
 * `tandem jobs history` (sched_list, sched_history; see job.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sched/job.h"
#include "sched/sched_internal.h"
#include "store/stmt.h"

const char *const sched_status_names[6] = {"pending", "running", "done",
					   "failed",  "skipped", "missed"};

static char *
dup_col(struct stmt *q, int col, int *nomem, struct diag *d)
{
	const char *t;
	if (stmt_text(q, col, &t, d) != 0) {
		*nomem = 1;
		return NULL;
	}
	if (t == NULL)
		return NULL;
	char *c = strdup(t);
	if (c == NULL) {
		*nomem = 1;
		diag_set(d, DIAG_NOMEM, "out of memory listing jobs");
	}
	return c;
}

static void
occ_fini(struct sched_occ_info *o)
{
	free(o->due_at);
	free(o->run_at);
	free(o->status);
	free(o->finished_at);
	free(o->result);
	free(o->reason);
}

void
sched_occ_free(struct sched_occ_info *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		occ_fini(&v[i]);
	free(v);
}

void
sched_list_free(struct sched_job_info *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct sched_job_info *j = &v[i];
		free(j->name);
		free(j->kind);
		free(j->script);
		free(j->schedule);
		free(j->timezone);
		free(j->misfire);
		free(j->next_run);
		occ_fini(&j->last);
		sched_occ_free(j->missed, j->nmissed);
	}
	free(v);
}

#define OCC_COLS "id, due_at, run_at, status, finished_at, result, reason, covers, attempts"

/* The rows of a statement selecting OCC_COLS, appended to *v. */
static int
read_occs(struct stmt *q, struct sched_occ_info **v, size_t *n, struct diag *d)
{
	for (;;) {
		int r = stmt_step(q, d);
		if (r != STMT_ROW)
			return r < 0 ? -1 : 0;
		struct sched_occ_info *nv = realloc(*v, (*n + 1) * sizeof(**v));
		if (nv == NULL)
			return diag_set(d, DIAG_NOMEM, "out of memory listing occurrences");
		*v = nv;
		struct sched_occ_info *o = &nv[(*n)++];
		memset(o, 0, sizeof(*o));
		int nomem = 0;
		o->id = stmt_int64(q, 0);
		o->due_at = dup_col(q, 1, &nomem, d);
		o->run_at = dup_col(q, 2, &nomem, d);
		o->status = dup_col(q, 3, &nomem, d);
		o->finished_at = dup_col(q, 4, &nomem, d);
		o->result = dup_col(q, 5, &nomem, d);
		o->reason = dup_col(q, 6, &nomem, d);
		o->covers = (int)stmt_int64(q, 7);
		o->attempts = (int)stmt_int64(q, 8);
		if (nomem)
			return -1;
	}
}

static int
job_details(struct sched *s, struct sched_job_info *j, size_t recent, struct diag *d)
{
	struct stmt q = {0};
	int rc = stmt_prepare(&q, s->st, "counting a job's occurrences",
			      /* Skipped and missed: the instants (a backlog's summary row stands
			       * for many, sched/occur.h), each once; the others: the runs. */
			      "SELECT o.status, CASE WHEN o.status IN ('skipped', 'missed')"
			      " THEN sum(" SCHED_OWN_COVERS_SQL("o") ") ELSE count(*) END"
			      " FROM occurrences o WHERE o.job_id = ?1 GROUP BY o.status",
			      d);
	if (rc == 0)
		rc = stmt_bind_int64(&q, 1, j->id, d);
	while (rc == 0) {
		int r = stmt_step(&q, d);
		if (r != STMT_ROW) {
			rc = r < 0 ? -1 : 0;
			break;
		}
		const char *st;
		if ((rc = stmt_text(&q, 0, &st, d)) != 0)
			break;
		for (int k = 0; k < 6; k++)
			if (strcmp(st, sched_status_names[k]) == 0)
				j->counts[k] = stmt_int64(&q, 1);
	}
	stmt_finalize(&q);
	int nomem = 0;
	if (rc == 0)
		rc = stmt_prepare(&q, s->st, "finding a job's next run",
				  "SELECT min(run_at) FROM occurrences WHERE job_id = ?1 AND status = 'pending'",
				  d) || stmt_bind_int64(&q, 1, j->id, d);
	if (rc == 0 && stmt_step(&q, d) == STMT_ROW)
		j->next_run = dup_col(&q, 0, &nomem, d);
	stmt_finalize(&q);
	if (rc != 0 || nomem)
		return -1;
	struct sched_occ_info *v = NULL;
	size_t n = 0;
	rc = stmt_prepare(&q, s->st, "finding a job's last run",
			  "SELECT " OCC_COLS " FROM occurrences WHERE job_id = ?1"
			  " AND status IN ('done', 'failed') ORDER BY finished_at DESC, id DESC LIMIT 1",
			  d) ||
	     stmt_bind_int64(&q, 1, j->id, d) || read_occs(&q, &v, &n, d);
	stmt_finalize(&q);
	if (n > 0) {
		j->last = v[0];
		free(v);
	}
	if (rc != 0)
		return -1;
	rc = stmt_prepare(&q, s->st, "listing a job's missed runs",
			  "SELECT " OCC_COLS " FROM occurrences WHERE job_id = ?1"
			  " AND status IN ('skipped', 'missed') ORDER BY due_at DESC LIMIT ?2",
			  d) ||
	     stmt_bind_int64(&q, 1, j->id, d) || stmt_bind_int64(&q, 2, (int64_t)recent, d) ||
	     read_occs(&q, &j->missed, &j->nmissed, d);
	stmt_finalize(&q);
	return rc;
}

int
sched_list(struct sched *s, size_t recent, struct sched_job_info **out, size_t *n, struct diag *d)
{
	struct stmt q = {0};
	struct sched_job_info *v = NULL;
	size_t cnt = 0;
	*out = NULL;
	*n = 0;
	int rc = stmt_prepare(&q, s->st, "listing jobs",
			      "SELECT id, name, kind, script, schedule, timezone, misfire, grace_s,"
			      " jitter_s, max_lateness_s, overlap, enabled, (SELECT min(o.run_at) FROM"
			      " occurrences o WHERE o.job_id = jobs.id AND o.status = 'pending') AS nx"
			      " FROM jobs ORDER BY nx IS NULL, nx, name",
			      d);
	while (rc == 0) {
		int r = stmt_step(&q, d);
		if (r != STMT_ROW) {
			rc = r < 0 ? -1 : 0;
			break;
		}
		struct sched_job_info *nv = realloc(v, (cnt + 1) * sizeof(*v));
		if (nv == NULL) {
			rc = diag_set(d, DIAG_NOMEM, "out of memory listing jobs");
			break;
		}
		v = nv;
		struct sched_job_info *j = &v[cnt++];
		memset(j, 0, sizeof(*j));
		int nomem = 0;
		j->id = stmt_int64(&q, 0);
		j->name = dup_col(&q, 1, &nomem, d);
		j->kind = dup_col(&q, 2, &nomem, d);
		j->script = dup_col(&q, 3, &nomem, d);
		j->schedule = dup_col(&q, 4, &nomem, d);
		j->timezone = dup_col(&q, 5, &nomem, d);
		j->misfire = dup_col(&q, 6, &nomem, d);
		j->grace_s = stmt_int64(&q, 7);
		j->jitter_s = stmt_int64(&q, 8);
		j->max_lateness_s = stmt_int64(&q, 9);
		j->overlap = (int)stmt_int64(&q, 10);
		j->enabled = (int)stmt_int64(&q, 11);
		const struct sched_job_ops *ops =
		    j->kind != NULL && strcmp(j->kind, "builtin") == 0 && j->name != NULL
			? sched_builtin(s, j->name)
			: NULL;
		j->on_work = ops != NULL && ops->next_work != NULL;
		if (nomem)
			rc = -1;
	}
	stmt_finalize(&q);
	for (size_t i = 0; rc == 0 && i < cnt; i++)
		rc = job_details(s, &v[i], recent, d);
	if (rc != 0) {
		sched_list_free(v, cnt);
		return -1;
	}
	*out = v;
	*n = cnt;
	return 0;
}

int
sched_history(struct sched *s, const char *name, size_t limit, struct sched_occ_info **out,
	      size_t *n, struct diag *d)
{
	*out = NULL;
	*n = 0;
	int64_t id = 0;
	struct stmt q = {0};
	int rc = stmt_prepare(&q, s->st, "finding a job", "SELECT id FROM jobs WHERE name = ?1", d) ||
		 stmt_bind_text(&q, 1, name, d);
	int r = rc == 0 ? stmt_step(&q, d) : -1;
	if (r == STMT_ROW)
		id = stmt_int64(&q, 0);
	stmt_finalize(&q);
	if (r < 0)
		return -1;
	if (id == 0)
		return diag_set(d, DIAG_NOTFOUND, "no job named '%s' (see `tandem jobs list`)", name);
	rc = stmt_prepare(&q, s->st, "listing a job's occurrences",
			  "SELECT " OCC_COLS " FROM occurrences WHERE job_id = ?1"
			  " ORDER BY due_at DESC, id DESC LIMIT ?2",
			  d) ||
	     stmt_bind_int64(&q, 1, id, d) || stmt_bind_int64(&q, 2, (int64_t)limit, d) ||
	     read_occs(&q, out, n, d);
	stmt_finalize(&q);
	if (rc != 0) {
		sched_occ_free(*out, *n);
		*out = NULL;
		*n = 0;
	}
	return rc;
}

/* A stored JSON text as a value (a string if it does not parse). */
static json_t *
json_text(const char *t)
{
	if (t == NULL)
		return json_null();
	json_t *v = json_loads(t, 0, NULL);
	return v != NULL ? v : json_string(t);
}

json_t *
sched_occ_json(const struct sched_occ_info *o)
{
	json_t *v = json_pack("{s:I, s:s, s:s, s:s, s:i, s:i}", "id", (json_int_t)o->id, "due",
			      o->due_at, "run_at", o->run_at, "status", o->status, "covers",
			      o->covers, "attempts", o->attempts);
	json_object_set_new(v, "finished", o->finished_at ? json_string(o->finished_at) : json_null());
	json_object_set_new(v, "result", json_text(o->result));
	json_object_set_new(v, "reason", o->reason ? json_string(o->reason) : json_null());
	return v;
}

json_t *
sched_job_json(const struct sched_job_info *j)
{
	json_t *v = json_pack("{s:s, s:s, s:s, s:s, s:s, s:I, s:b, s:I, s:I, s:b}", "name", j->name,
			      "kind", j->kind, "schedule", j->schedule, "timezone", j->timezone,
			      "misfire", j->misfire, "grace_s", (json_int_t)j->grace_s, "overlap",
			      j->overlap, "jitter_s", (json_int_t)j->jitter_s, "max_lateness_s",
			      (json_int_t)j->max_lateness_s, "enabled", j->enabled);
	json_object_set_new(v, "script", j->script ? json_string(j->script) : json_null());
	json_object_set_new(v, "next_run", j->next_run ? json_string(j->next_run) : json_null());
	/* Runs only where it has work: a null next_run means "when work appears". */
	json_object_set_new(v, "runs_on_work", json_boolean(j->on_work));
	json_object_set_new(v, "last_run", j->last.id ? sched_occ_json(&j->last) : json_null());
	json_t *counts = json_object();
	for (int k = 0; k < 6; k++)
		json_object_set_new(counts, sched_status_names[k], json_integer(j->counts[k]));
	json_object_set_new(v, "counts", counts);
	json_t *missed = json_array();
	for (size_t i = 0; i < j->nmissed; i++)
		json_array_append_new(missed, sched_occ_json(&j->missed[i]));
	json_object_set_new(v, "recent_skipped_or_missed", missed);
	return v;
}
