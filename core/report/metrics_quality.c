/*
 * metrics_quality: the parts of a program's metrics (metrics.h) that say how well pairs
 * did rather than how many took part: ratings under the visibility rule, goal progress
 * from the mentees' skill self-assessments, and reward totals from the ledger. Called by metrics.c only; each
 * function returns the value of one key of the object. docs/metrics.md has the words.
 */
#include <string.h>

#include "report/metrics_internal.h"
#include "sched/session.h"
#include "store/stmt.h"

/* ---- ratings --------------------------------------------------------------------------- */

/*
 * Every session of the program with a rating, grouped by the pair's cohort, whether its
 * ratings are visible at ?2 (SESSION_REVEALED_SQL: both sides rated, or the window closed)
 * and the two sides' ratings (NULL: none): one pass, a few hundred rows.
 */
static const char ratings_sql[] =
    "SELECT substr(m.activated_at, 1, 7), "
    SESSION_REVEALED_SQL("s", "fr", "fe", "?2") ", fr.rating, fe.rating, count(*)"
    " FROM matches m JOIN sessions s ON s.match_id = m.id"
    " LEFT JOIN feedback fr ON fr.session_id = s.id AND fr.author_id = m.mentor_id"
    " LEFT JOIN feedback fe ON fe.session_id = s.id AND fe.author_id = m.mentee_id"
    " WHERE m.program_id = ?1 AND (fr.rating IS NOT NULL OR fe.rating IS NOT NULL)"
    " GROUP BY 1, 2, 3, 4";

/* Adds n ratings of value r to a cohort entry's {count, mean} (the mean kept as a sum until
 * finish_cohorts). */
static int
cohort_add(struct metrics_ctx *c, const char *cohort, int64_t r, int64_t n)
{
	json_t *e = metrics_cohort_entry(c, cohort);
	json_t *rt = json_object_get(e, "ratings");
	if (rt == NULL) /* a pair never activated: in no cohort */
		return 0;
	json_int_t count = json_integer_value(json_object_get(rt, "count")) + n;
	double sum = json_real_value(json_object_get(rt, "sum")) + (double)(r * n);
	return json_object_set_new(rt, "count", json_integer(count)) ||
	       json_object_set_new(rt, "sum", json_real(sum));
}

/* Turns each cohort's rating sum into its mean. */
static int
finish_cohorts(struct metrics_ctx *c)
{
	const char *key;
	json_t *e;
	json_object_foreach(c->cohorts, key, e)
	{
		json_t *rt = json_object_get(e, "ratings");
		double sum = json_real_value(json_object_get(rt, "sum"));
		json_int_t n = json_integer_value(json_object_get(rt, "count"));
		json_object_del(rt, "sum");
		if (json_object_set_new(rt, "mean", metrics_rate(sum, (double)n)) != 0)
			return -1;
	}
	return 0;
}

json_t *
metrics_ratings(struct metrics_ctx *c, struct diag *d)
{
	int64_t dist[5] = {0}, side_n[2] = {0}, side_sum[2] = {0}, hidden = 0;
	struct stmt s = {0};
	int rc = stmt_prepare(&s, c->st, "counting the visible ratings", ratings_sql, d) ||
		 stmt_bind_int64(&s, 1, c->program_id, d) ||
		 stmt_bind_int64(&s, 2, (int64_t)c->now, d);
	while (rc == 0 && (rc = stmt_step(&s, d)) == STMT_ROW) {
		rc = 0; /* STMT_ROW: go on unless the row fails */
		int shown = stmt_int64(&s, 1) != 0;
		int64_t n = stmt_int64(&s, 4);
		const char *cohort = NULL;
		if (stmt_text(&s, 0, &cohort, d) != 0) {
			rc = -1;
			break;
		}
		for (int side = 0; rc == 0 && side < 2; side++) {
			if (stmt_is_null(&s, 2 + side))
				continue;
			int64_t r = stmt_int64(&s, 2 + side);
			if (!shown) { /* not visible yet: counted as hidden, nowhere else */
				hidden += n;
				continue;
			}
			if (r < 1 || r > 5) {
				rc = diag_set(d, DIAG_INTERNAL, "metrics: a rating of %lld",
					      (long long)r);
				break;
			}
			dist[r - 1] += n;
			side_n[side] += n;
			side_sum[side] += r * n;
			if (cohort_add(c, cohort, r, n) != 0)
				rc = diag_set(d, DIAG_NOMEM, "out of memory");
		}
	}
	stmt_finalize(&s);
	if (rc != STMT_DONE)
		return NULL;
	if (finish_cohorts(c) != 0) {
		diag_set(d, DIAG_NOMEM, "out of memory");
		return NULL;
	}
	int64_t n = side_n[0] + side_n[1], sum = side_sum[0] + side_sum[1];
	json_t *o = json_pack(
	    "{sI so s[IIIII] sI s{sI so} s{sI so}}", "count", (json_int_t)n, "mean",
	    metrics_rate((double)sum, (double)n), "distribution", (json_int_t)dist[0],
	    (json_int_t)dist[1], (json_int_t)dist[2], (json_int_t)dist[3], (json_int_t)dist[4],
	    "hidden", (json_int_t)hidden, "mentor", "count", (json_int_t)side_n[0], "mean",
	    metrics_rate((double)side_sum[0], (double)side_n[0]), "mentee", "count",
	    (json_int_t)side_n[1], "mean", metrics_rate((double)side_sum[1], (double)side_n[1]));
	if (o == NULL)
		diag_set(d, DIAG_NOMEM, "out of memory");
	return o;
}

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
