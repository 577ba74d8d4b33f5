/*
 * serve/simnotes: the pairs a simulated plan left out, and what failed month by month
 * (see simnotes.h). One query per month: three sources in a UNION, grouped.
 */
#include "serve/simnotes.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "serve/simulate.h"
#include "store/stmt.h"
#include "store/store.h"

int
simnotes_unplanned(struct store *st, int64_t program_id, struct simulate_result *r, struct diag *d)
{
	struct stmt q = {0};
	int rc =
	    stmt_prepare(&q, st, "reading the pairs that could not be planned",
			 "SELECT m.id, a.external_id || ' ' || a.name, b.external_id || ' ' || "
			 "b.name, m.plan_note FROM matches m JOIN people a ON a.id = m.mentor_id "
			 "JOIN people b ON b.id = m.mentee_id WHERE m.program_id = ?1 AND "
			 "m.plan_note <> '' ORDER BY m.id",
			 d) ||
		    stmt_bind_int64(&q, 1, program_id, d)
		? -1
		: 0;
	while (rc == 0 && (rc = stmt_step(&q, d)) == STMT_ROW) {
		struct simulate_unplanned *v =
		    realloc(r->unplanned, (r->nunplanned + 1) * sizeof(*v));
		if (v == NULL) {
			rc = diag_set(d, DIAG_NOMEM, "out of memory");
			break;
		}
		r->unplanned = v;
		struct simulate_unplanned *u = &v[r->nunplanned++];
		u->match_id = stmt_int64(&q, 0);
		const char *t[3];
		rc = 0;
		for (int i = 0; i < 3; i++)
			t[i] = (const char *)sqlite3_column_text(q.s, i + 1);
		u->mentor = strdup(t[0] ? t[0] : "");
		u->mentee = strdup(t[1] ? t[1] : "");
		u->reason = strdup(t[2] ? t[2] : "");
		if (u->mentor == NULL || u->mentee == NULL || u->reason == NULL)
			rc = diag_set(d, DIAG_NOMEM, "out of memory");
	}
	stmt_finalize(&q);
	return rc == STMT_DONE ? 0 : -1;
}

/* One month's failures: source, name, error, runs, ordered by their first run. */
#define FAILURES_SQL                                                                               \
	"SELECT source, name, error, count(*) FROM ("                                              \
	"SELECT 'job' AS source, j.name AS name, coalesce(o.reason, '') AS error, "                \
	"o.finished_at AS at FROM occurrences o JOIN jobs j ON j.id = o.job_id "                   \
	"WHERE o.status = 'failed' AND o.finished_at >= ?2 AND o.finished_at < ?3 "                \
	"UNION ALL SELECT 'report', coalesce(json_extract(e.payload, '$.plugin'), ''), "           \
	"coalesce(json_extract(e.payload, '$.error'), ''), e.at FROM events e "                    \
	"WHERE e.kind = 'report.failed' AND e.program_id = ?1 AND e.at >= ?2 AND e.at < ?3 "       \
	"UNION ALL SELECT 'plan', j.name, json_extract(k.value, '$.why'), o.finished_at "          \
	"FROM occurrences o JOIN jobs j ON j.id = o.job_id, json_each(CASE WHEN "                  \
	"json_valid(o.result) THEN o.result ELSE '{}' END, '$.skipped') k "                        \
	"WHERE j.name = 'plan-sessions' AND o.status = 'done' AND o.finished_at >= ?2 AND "        \
	"o.finished_at < ?3 AND json_extract(k.value, '$.program') = ?4 AND "                      \
	"json_extract(k.value, '$.why') NOT LIKE 'ended (%') "                                     \
	"GROUP BY source, name, error ORDER BY min(at), source, name, error"

static int
add_failure(struct simulate_result *r, int month, struct stmt *q, struct diag *d)
{
	struct simulate_failure *v = realloc(r->failures, (r->nfailures + 1) * sizeof(*v));
	if (v == NULL)
		return diag_set(d, DIAG_NOMEM, "out of memory");
	r->failures = v;
	struct simulate_failure *f = &v[r->nfailures++];
	const char *t[3];
	for (int i = 0; i < 3; i++)
		t[i] = (const char *)sqlite3_column_text(q->s, i);
	f->month = month;
	f->source = strdup(t[0] ? t[0] : "");
	f->name = strdup(t[1] ? t[1] : "");
	f->error = strdup(t[2] ? t[2] : "");
	f->runs = (long)stmt_int64(q, 3);
	if (f->source == NULL || f->name == NULL || f->error == NULL)
		return diag_set(d, DIAG_NOMEM, "out of memory");
	r->month[month].failed += f->runs;
	r->total.failed += f->runs;
	return 0;
}

int
simnotes_failures(struct store *st, int64_t program_id, const char *program,
		  struct simulate_result *r, struct diag *d)
{
	struct stmt q = {0};
	if (stmt_prepare(&q, st, "reading what failed", FAILURES_SQL, d) != 0)
		return -1;
	int rc = 0;
	for (int i = 0; rc == 0 && i < r->months; i++) {
		char from[STORE_TIME_MAX], until[STORE_TIME_MAX];
		if (store_format_time(r->month[i].from, from) != 0 ||
		    store_format_time(r->month[i].until, until) != 0) {
			rc = diag_set(d, DIAG_INVALID, "simulate: a month is out of range");
			break;
		}
		rc = (i > 0 && stmt_reset(&q, d) != 0) || stmt_bind_int64(&q, 1, program_id, d) ||
			     stmt_bind_text(&q, 2, from, d) || stmt_bind_text(&q, 3, until, d) ||
			     stmt_bind_text(&q, 4, program, d)
			 ? -1
			 : 0;
		while (rc == 0 && (rc = stmt_step(&q, d)) == STMT_ROW)
			rc = add_failure(r, i, &q, d);
		rc = rc == STMT_DONE ? 0 : -1;
	}
	stmt_finalize(&q);
	return rc;
}

/* s without every "dir/" in it (in place). */
static void
strip_dir(char *s, const char *dir, size_t n)
{
	char *at, *from = s;
	while (n > 0 && (at = strstr(from, dir)) != NULL) {
		if (at[n] == '/')
			memmove(at, at + n + 1, strlen(at + n + 1) + 1);
		else
			from = at + 1;
	}
}

void
simnotes_relative(struct simulate_result *r, const char *dir)
{
	size_t n = strlen(dir);
	for (size_t i = 0; i < r->nunplanned; i++)
		strip_dir(r->unplanned[i].reason, dir, n);
	for (size_t i = 0; i < r->nfailures; i++)
		strip_dir(r->failures[i].error, dir, n);
}

void
simnotes_fini(struct simulate_result *r)
{
	for (size_t i = 0; i < r->nfailures; i++) {
		free(r->failures[i].source);
		free(r->failures[i].name);
		free(r->failures[i].error);
	}
	free(r->failures);
	r->failures = NULL;
	r->nfailures = 0;
	for (size_t i = 0; i < r->nunplanned; i++) {
		free(r->unplanned[i].mentor);
		free(r->unplanned[i].mentee);
		free(r->unplanned[i].reason);
	}
	free(r->unplanned);
	r->unplanned = NULL;
	r->nunplanned = 0;
}
