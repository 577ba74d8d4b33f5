/*
 * metrics: one program's metrics (metrics.h). This file reads the people side (the funnel,
 * enrollment, participation by group, retention) and assembles the object;
 * metrics_sessions.c reads the sessions side (states, months, held rate per pair, days to
 * the first session, cohorts), metrics_quality.c adds ratings, goals and rewards. docs/metrics.md defines every number in
 * words; the SQL here is the definition, kept in a few statements that each read the
 * program's rows once:
 *  - the people statement derives, per person of the HR import, their stage in the program
 *    (enrolled, matched, first session, active, completed) and whether they were employed
 *    at the program's start and are retained, then counts them by department, location,
 *    level, generation, overall (the funnel) and by participation (retention), in one pass
 *    over a materialized table of people;
 *  - metrics_sessions.c reads the program's sessions once, grouped by pair and month.
 */
#include "report/metrics.h"

#include <stdio.h>
#include <string.h>

#include "program/lifecycle.h"
#include "program/matches.h"
#include "report/metrics_internal.h"
#include "store/stmt.h"
#include "store/store.h"

json_t *
metrics_rate(double n, double den)
{
	return den > 0 ? json_real(n / den) : json_null();
}

int
metrics_put(json_t *o, const char *key, json_t *v, struct diag *d)
{
	if (v == NULL) /* the maker failed: keep its diag, if it left one */
		return d->code != DIAG_OK ? -1 : diag_set(d, DIAG_NOMEM, "metrics: out of memory");
	if (json_object_set_new(o, key, v) != 0)
		return diag_set(d, DIAG_NOMEM, "metrics: out of memory");
	return 0;
}

json_t *
metrics_cohort_entry(struct metrics_ctx *c, const char *key)
{
	return key ? json_object_get(c->cohorts, key) : NULL;
}

/* ---- people: funnel, enrollment, participation, retention --------------------------- */

/*
 * ?1 the program, ?2 LIFECYCLE_PROGRAM_ENDED, ?3 the program's start date (NULL: none).
 * A pair counts when it was decided (approved, active or ended); it "met" once one of its
 * sessions was held; it is "going" while active and "done" when it ended with the program.
 */
static const char people_sql[] =
    "WITH pairs AS ("
    " SELECT m.mentor_id, m.mentee_id,"
    "  (m.status = 'active' OR (m.status = 'ended' AND m.end_reason = ?2)) AS going,"
    "  (m.status = 'ended' AND m.end_reason = ?2) AS done,"
    "  EXISTS (SELECT 1 FROM sessions s WHERE s.match_id = m.id AND s.status = 'held') AS met"
    " FROM matches m WHERE m.program_id = ?1"
    "  AND m.status IN ('approved', 'active', 'ended')),"
    "sides AS (SELECT mentor_id AS person, going, done, met FROM pairs"
    " UNION ALL SELECT mentee_id, going, done, met FROM pairs),"
    "stage AS (SELECT person, max(met) AS met, max(met AND going) AS act,"
    " max(met AND done) AS comp FROM sides GROUP BY person),"
    "base AS MATERIALIZED ("
    " SELECT p.department AS department, p.location AS location,"
    "  CAST(p.level AS TEXT) AS level,"
    "  CASE WHEN p.birth_year IS NULL THEN coalesce(p.generation, 'unknown')"
    "   WHEN p.birth_year <= 1945 THEN 'silent' WHEN p.birth_year <= 1964 THEN 'baby_boomer'"
    "   WHEN p.birth_year <= 1980 THEN 'gen_x' WHEN p.birth_year <= 1996 THEN 'millennial'"
    "   WHEN p.birth_year <= 2012 THEN 'gen_z' ELSE 'gen_alpha' END AS generation,"
    "  e.id IS NOT NULL AS enrolled,"
    "  (e.id IS NOT NULL AND st.person IS NOT NULL) AS matched,"
    "  (e.id IS NOT NULL AND coalesce(st.met, 0)) AS met,"
    "  (e.id IS NOT NULL AND coalesce(st.act, 0)) AS act,"
    "  (e.id IS NOT NULL AND coalesce(st.comp, 0)) AS comp,"
    "  (p.hire_date IS NULL OR ?3 IS NULL OR p.hire_date <= ?3) AS employed,"
    "  p.status <> 'terminated' AS retained"
    " FROM people p LEFT JOIN enrollments e ON e.program_id = ?1 AND e.person_id = p.id"
    " LEFT JOIN stage st ON st.person = p.id),"
    "dims(dim) AS (VALUES ('department'), ('location'), ('level'), ('generation'),"
    " ('all'), ('retention'))"
    "SELECT dims.dim,"
    " CASE dims.dim WHEN 'department' THEN b.department WHEN 'location' THEN b.location"
    "  WHEN 'level' THEN b.level WHEN 'generation' THEN b.generation"
    "  WHEN 'retention' THEN CASE WHEN b.met THEN 'participants' ELSE 'non_participants' END"
    " END AS grp,"
    " count(*), sum(b.enrolled), sum(b.matched), sum(b.met), sum(b.act), sum(b.comp),"
    " sum(b.employed), sum(b.employed AND b.retained)"
    " FROM dims, base b GROUP BY dims.dim, grp ORDER BY dims.dim, grp";

/* Column indexes of people_sql's result. */
enum { P_DIM, P_GROUP, P_PEOPLE, P_ENROLLED, P_MATCHED, P_MET, P_ACTIVE, P_DONE, P_EMPLOYED,
       P_RETAINED };

struct people_out {
	json_t *funnel, *enrollment, *participation, *retention;
};

static int
people_row(struct stmt *s, struct people_out *o, struct diag *d)
{
	const char *dim = NULL, *grp = NULL;
	if (stmt_text(s, P_DIM, &dim, d) != 0 || stmt_text(s, P_GROUP, &grp, d) != 0)
		return -1;
	json_int_t enrolled = stmt_int64(s, P_ENROLLED), matched = stmt_int64(s, P_MATCHED);
	if (strcmp(dim, "all") == 0) {
		o->funnel = json_pack("{sI sI sI sI sI}", "enrolled", enrolled, "matched", matched,
				      "first_session", (json_int_t)stmt_int64(s, P_MET), "active",
				      (json_int_t)stmt_int64(s, P_ACTIVE), "completed",
				      (json_int_t)stmt_int64(s, P_DONE));
		o->enrollment = json_pack("{sI sI so sI}", "enrolled", enrolled, "matched", matched,
					  "match_rate", metrics_rate((double)matched, (double)enrolled),
					  "unmatched", enrolled - matched);
		return o->funnel && o->enrollment ? 0 : diag_set(d, DIAG_NOMEM, "out of memory");
	}
	if (strcmp(dim, "retention") == 0) {
		json_int_t n = stmt_int64(s, P_EMPLOYED), kept = stmt_int64(s, P_RETAINED);
		return metrics_put(o->retention, grp,
				   json_pack("{sI sI so}", "n", n, "retained", kept, "rate",
					     metrics_rate((double)kept, (double)n)),
				   d);
	}
	json_t *list = json_object_get(o->participation, dim);
	json_t *row = json_pack("{ss sI sI sI sI}", "group", grp ? grp : "(none)", "people",
				(json_int_t)stmt_int64(s, P_PEOPLE), "enrolled", enrolled, "matched",
				matched, "active", (json_int_t)stmt_int64(s, P_ACTIVE));
	if (row == NULL || json_array_append_new(list, row) != 0)
		return diag_set(d, DIAG_NOMEM, "out of memory");
	return 0;
}

static int
read_people(struct metrics_ctx *c, const char *starts_on, struct people_out *o, struct diag *d)
{
	o->participation = json_pack("{s[] s[] s[] s[]}", "department", "location", "level",
				     "generation");
	json_t *empty = json_pack("{sI sI so}", "n", (json_int_t)0, "retained", (json_int_t)0,
				  "rate", json_null());
	o->retention = json_pack("{sO so}", "participants", empty, "non_participants", empty);
	if (o->participation == NULL || o->retention == NULL)
		return diag_set(d, DIAG_NOMEM, "out of memory");
	struct stmt s = {0};
	int rc = stmt_prepare(&s, c->st, "counting the program's people", people_sql, d) ||
		 stmt_bind_int64(&s, 1, c->program_id, d) ||
		 stmt_bind_text(&s, 2, LIFECYCLE_PROGRAM_ENDED, d) ||
		 stmt_bind_text(&s, 3, starts_on, d);
	while (rc == 0 && (rc = stmt_step(&s, d)) == STMT_ROW)
		rc = people_row(&s, o, d);
	stmt_finalize(&s);
	if (rc != STMT_DONE)
		return -1;
	if (o->funnel == NULL) /* no people at all: the 'all' group is missing */
		return diag_set(d, DIAG_INTERNAL, "metrics: the people statement gave no total");
	return 0;
}

/* ---- assembly ---------------------------------------------------------------------- */

static int
program_start(struct store *st, int64_t id, char *buf, size_t size, struct diag *d)
{
	struct stmt s = {0};
	buf[0] = '\0';
	int rc = stmt_prepare(&s, st, "reading the program's start",
			      "SELECT starts_on FROM programs WHERE id = ?1", d) ||
			 stmt_bind_int64(&s, 1, id, d)
		     ? -1
		     : stmt_step(&s, d);
	if (rc == STMT_ROW) {
		const char *t = NULL;
		rc = stmt_text(&s, 0, &t, d);
		if (rc == 0 && t)
			snprintf(buf, size, "%s", t);
	}
	stmt_finalize(&s);
	return rc < 0 ? -1 : 0;
}

int
metrics_program(struct store *st, const struct config *cfg, const char *program, time_t now,
		json_t **out, struct diag *d)
{
	*out = NULL;
	(void)cfg; /* the declaration is read as saved in programs.config */
	struct metrics_ctx c = {.st = st, .now = now};
	char start[32], at[STORE_TIME_MAX];
	if (matches_program_id(st, program, &c.program_id, d) != 0 ||
	    program_start(st, c.program_id, start, sizeof(start), d) != 0)
		return -1;
	if (store_format_time(now, at) != 0)
		return diag_set(d, DIAG_INVALID, "metrics: the time %lld is out of range",
				(long long)now);
	struct people_out p = {0};
	json_t *m = json_object();
	c.cohorts = json_object();
	int rc = m == NULL ? diag_set(d, DIAG_NOMEM, "out of memory") : 0;
	if (rc == 0)
		rc = metrics_put(m, "program", json_string(program), d) ||
		     metrics_put(m, "generated_at", json_string(at), d) ||
		     read_people(&c, start[0] ? start : NULL, &p, d);
	struct metrics_sessions ses = {0};
	if (rc == 0) /* before ratings: they add to the cohorts */
		rc = metrics_sessions_read(&c, &ses, d);
	if (rc == 0) {
		rc = metrics_put(m, "funnel", json_incref(p.funnel), d) ||
		     metrics_put(m, "enrollment", json_incref(p.enrollment), d) ||
		     metrics_put(m, "first_session", json_incref(ses.first_session), d) ||
		     metrics_put(m, "sessions", json_incref(ses.sessions), d) ||
		     metrics_put(m, "ratings", metrics_ratings(&c, d), d) ||
		     metrics_put(m, "goals", metrics_goals(&c, d), d) ||
		     metrics_put(m, "participation", json_incref(p.participation), d) ||
		     metrics_put(m, "retention", json_incref(p.retention), d) ||
		     metrics_put(m, "rewards", metrics_rewards(&c, d), d) ||
		     metrics_put(m, "cohorts", json_incref(ses.cohorts), d);
	}
	metrics_sessions_fini(&ses);
	json_decref(p.funnel);
	json_decref(p.enrollment);
	json_decref(p.participation);
	json_decref(p.retention);
	json_decref(c.cohorts);
	if (rc != 0) {
		json_decref(m);
		return -1;
	}
	*out = m;
	return 0;
}

json_t *
metrics_cohort(json_t *m, const char *cohort)
{
	size_t i;
	json_t *e;
	json_array_foreach(json_object_get(m, "cohorts"), i, e)
	{
		if (strcmp(json_string_value(json_object_get(e, "cohort")), cohort) == 0)
			return e;
	}
	return NULL;
}
