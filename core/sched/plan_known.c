/*
 * sched/plan_known: what the planner reads of the pairs it plans (plan_internal.h): their
 * sessions so far (history, and what a replanning may cancel), and for an incremental
 * plan what it leaves alone, counted as a full plan would count it.
 */
#include "sched/plan_internal.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lua/cadence_out.h"
#include "store/stmt.h"
#include "store/store.h"

time_t
plan__iso_time(const char *s)
{
	int64_t t = 0;
	if (s == NULL || cadence_out_time(s, NULL, 1, &t, NULL) != 0)
		return 0;
	return (time_t)t;
}

void
plan__known_fini(struct known_list *k)
{
	for (size_t i = 0; i < k->n; i++) {
		free(k->v[i].topic);
		free(k->v[i].starts_at);
	}
	free(k->v);
}

/* Binds ?3 and ?4 of PLAN_DUE_IDS. */
int
plan__bind_due(struct stmt *s, time_t now, int history, struct diag *d)
{
	char ts[STORE_TIME_MAX];
	if (store_format_time(now, ts) != 0)
		return diag_set(d, DIAG_INVALID, "planning: the clock is out of range");
	return stmt_bind_text_copy(s, 3, ts, d) || stmt_bind_int64(s, 4, history, d) ? -1 : 0;
}

/* KNOWN_OURS, KNOWN_HAND or KNOWN_PREVIOUS from planned_by (?2 the cadence's name). */
#define KNOWN_BY                                                                              \
	"CASE coalesce(s.planned_by, 'manual') WHEN ?2 THEN 1 WHEN 'manual' THEN 0 ELSE 2 END"

int
plan__load_known(struct store *st, int64_t program_id, const char *cadence, int incremental,
		 time_t now, int history, struct known_list *k, struct diag *d)
{
	struct stmt s = {0};
	if (stmt_prepare(&s, st, "reading the program's sessions",
			 incremental ? "SELECT s.id, s.match_id, s.starts_at, s.duration_min, s.status, "
				       "s.topic, " KNOWN_BY " FROM sessions s "
				       "WHERE s.match_id IN " PLAN_DUE_IDS " "
				       "ORDER BY s.match_id, s.starts_at, s.id"
				     : "SELECT s.id, s.match_id, s.starts_at, s.duration_min, s.status, "
				       "s.topic, " KNOWN_BY " FROM sessions s JOIN matches m ON "
				       "m.id = s.match_id WHERE m.program_id = ?1 AND "
				       "m.status = 'active' ORDER BY s.match_id, s.starts_at, s.id",
			 d) != 0)
		return -1;
	int rc = stmt_bind_int64(&s, 1, program_id, d) || stmt_bind_text(&s, 2, cadence, d) ||
			 (incremental && plan__bind_due(&s, now, history, d))
		     ? -1
		     : 0;
	while (rc == 0 && (rc = stmt_step(&s, d)) == STMT_ROW) {
		rc = 0;
		if (k->n == k->cap) {
			size_t nc = k->cap ? k->cap * 2 : 256;
			struct known *v = realloc(k->v, nc * sizeof(*v));
			if (v == NULL) {
				rc = diag_set(d, DIAG_NOMEM, "out of memory reading sessions");
				break;
			}
			k->v = v;
			k->cap = nc;
		}
		struct known *e = &k->v[k->n++];
		memset(e, 0, sizeof(*e));
		e->id = stmt_int64(&s, 0);
		e->match_id = stmt_int64(&s, 1);
		const char *at = (const char *)sqlite3_column_text(s.s, 2);
		const char *status = (const char *)sqlite3_column_text(s.s, 4);
		const char *topic = (const char *)sqlite3_column_text(s.s, 5);
		e->starts_at = strdup(at != NULL ? at : "");
		e->topic = topic != NULL ? strdup(topic) : NULL;
		e->start = plan__iso_time(at);
		e->duration_min = (int)stmt_int64(&s, 3);
		snprintf(e->status, sizeof(e->status), "%s", status != NULL ? status : "");
		e->ours = (int)stmt_int64(&s, 6);
		if (e->starts_at == NULL || (topic != NULL && e->topic == NULL))
			rc = diag_set(d, DIAG_NOMEM, "out of memory reading sessions");
	}
	stmt_finalize(&s);
	return rc < 0 ? -1 : 0;
}

int
plan__count_uptodate(struct store *st, int64_t program_id, const char *cadence, time_t now,
		     int history, time_t until, int out[3], struct diag *d)
{
	out[0] = out[1] = out[2] = 0;
	char end[STORE_TIME_MAX];
	if (store_format_time(until, end) != 0)
		return diag_set(d, DIAG_INVALID, "planning: the window is out of range");
	struct stmt s = {0};
	int rc = stmt_prepare(
		     &s, st, "counting the pairs left as they are",
		     "SELECT (SELECT count(*) FROM matches WHERE program_id = ?1 AND status = "
		     "'active' AND id NOT IN " PLAN_DUE_IDS "), (SELECT count(*) FROM matches WHERE "
		     "program_id = ?1 AND status = 'active' AND plan_note <> '' AND id NOT IN "
		     PLAN_DUE_IDS "), (SELECT count(*) FROM sessions s "
		     "JOIN matches m ON m.id = s.match_id WHERE m.program_id = ?1 AND m.status = "
		     "'active' AND m.id NOT IN " PLAN_DUE_IDS " AND s.planned_by = ?2 AND NOT "
		     "(s.status = 'cancelled' AND s.status_reason = 'replanned by cadence ' || ?2) "
		     "AND s.starts_at >= max(?3, coalesce(m.activated_at, ?3)) AND s.starts_at < "
		     "min(?5, coalesce(m.ended_at, ?5)))",
		     d) ||
			 stmt_bind_int64(&s, 1, program_id, d) ||
			 stmt_bind_text(&s, 2, cadence, d) || plan__bind_due(&s, now, history, d) ||
			 stmt_bind_text(&s, 5, end, d)
		     ? -1
		     : stmt_step(&s, d);
	if (rc == STMT_ROW) {
		for (int i = 0; i < 3; i++)
			out[i] = (int)stmt_int64(&s, i);
		rc = 0;
	} else if (rc == STMT_DONE) {
		rc = diag_set(d, DIAG_INTERNAL, "counting the pairs left as they are: no row");
	}
	stmt_finalize(&s);
	return rc;
}
