/*
 * metrics_quality: the parts of a program's metrics (metrics.h) that say how well pairs
 * did rather than how many took part: goal progress from the mentees' skill
 * self-assessments, and reward totals from the ledger (the ratings, read with the
 * sessions, are metrics_sessions.c's). Called by metrics.c only; each function returns the
 * value of one key of the object. docs/metrics.md has the words.
 */
#include <string.h>

#include "report/metrics_internal.h"
#include "store/stmt.h"

/* ---- goals ------------------------------------------------------------------------------ */

/*
 * Per topic, the mentees' self-assessments in the program ordered by their session's start
 * (then by row): a person's first is their start, their latest their end; only people with
 * two or more assessments of the topic count in n and the means. Topics in the order of
 * the program's library (programs.config, as tandem.lua last saved it), others by name.
 */
static const char goals_sql[] =
    "WITH a AS (SELECT k.person_id, k.topic, k.level,"
    "  row_number() OVER (PARTITION BY k.person_id, k.topic ORDER BY s.starts_at, k.id) AS i,"
    "  count(*) OVER (PARTITION BY k.person_id, k.topic) AS n"
    " FROM skill_assessments k JOIN sessions s ON s.id = k.session_id"
    " JOIN matches m ON m.id = s.match_id"
    " WHERE k.program_id = ?1 AND k.person_id = m.mentee_id)"
    "SELECT topic, count(DISTINCT person_id), sum(i = 1 AND n >= 2),"
    " avg(CASE WHEN i = 1 AND n >= 2 THEN level END),"
    " avg(CASE WHEN i = n AND n >= 2 THEN level END)"
    " FROM a GROUP BY topic"
    " ORDER BY coalesce((SELECT t.key FROM programs p, json_each(p.config, '$.topics') t"
    "  WHERE p.id = ?1 AND t.value = a.topic), 1e9), topic";

json_t *
metrics_goals(struct metrics_ctx *c, struct diag *d)
{
	json_t *list = json_array();
	struct stmt s = {0};
	int rc = list == NULL ? diag_set(d, DIAG_NOMEM, "out of memory")
			      : stmt_prepare(&s, c->st, "goal progress by topic", goals_sql, d) ||
				    stmt_bind_int64(&s, 1, c->program_id, d);
	while (rc == 0 && (rc = stmt_step(&s, d)) == STMT_ROW) {
		rc = 0; /* STMT_ROW: go on unless the row fails */
		const char *topic = NULL;
		if (stmt_text(&s, 0, &topic, d) != 0) {
			rc = -1;
			break;
		}
		int64_t n = stmt_int64(&s, 2);
		double a = stmt_double(&s, 3), b = stmt_double(&s, 4);
		json_t *g = json_pack("{ss sI sI so so so}", "topic", topic ? topic : "", "assessed",
				      (json_int_t)stmt_int64(&s, 1), "n", (json_int_t)n, "start_mean",
				      n ? json_real(a) : json_null(), "end_mean",
				      n ? json_real(b) : json_null(), "delta",
				      n ? json_real(b - a) : json_null());
		if (g == NULL || json_array_append_new(list, g) != 0)
			rc = diag_set(d, DIAG_NOMEM, "out of memory");
	}
	stmt_finalize(&s);
	if (rc != STMT_DONE) {
		json_decref(list);
		return NULL;
	}
	return list;
}

/* ---- rewards ---------------------------------------------------------------------------- */

/*
 * The ledger (owned by core/rewards, table `rewards`; absent before its migration: zeros).
 * points: the sum of every row (revocations carry negative points); grants, badges,
 * people: the grants no revocation compensates, those with a badge, their distinct people.
 */
static const char rewards_sql[] =
    "SELECT (SELECT coalesce(sum(points), 0) FROM rewards WHERE program_id = ?1),"
    " count(*), count(g.badge), count(DISTINCT g.person_id)"
    " FROM rewards g WHERE g.program_id = ?1 AND g.revokes IS NULL"
    " AND NOT EXISTS (SELECT 1 FROM rewards r WHERE r.revokes = g.id)";

json_t *
metrics_rewards(struct metrics_ctx *c, struct diag *d)
{
	int64_t has = 0, v[4] = {0};
	if (stmt_query_int64(c->st, "looking for the rewards ledger",
			     "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND "
			     "name = 'rewards'",
			     &has, d) != 0)
		return NULL;
	if (has) {
		struct stmt s = {0};
		int rc = stmt_prepare(&s, c->st, "reward totals", rewards_sql, d) ||
				 stmt_bind_int64(&s, 1, c->program_id, d)
			     ? -1
			     : stmt_step(&s, d);
		for (int i = 0; rc == STMT_ROW && i < 4; i++)
			v[i] = stmt_int64(&s, i);
		stmt_finalize(&s);
		if (rc == STMT_DONE)
			diag_set(d, DIAG_INTERNAL, "reward totals: no row");
		if (rc != STMT_ROW)
			return NULL;
	}
	json_t *o = json_pack("{sI sI sI sI}", "points", (json_int_t)v[0], "badges",
			      (json_int_t)v[2], "grants", (json_int_t)v[1], "people",
			      (json_int_t)v[3]);
	if (o == NULL)
		diag_set(d, DIAG_NOMEM, "out of memory");
	return o;
}
