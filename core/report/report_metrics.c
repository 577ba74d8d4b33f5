/*
 * report/report_metrics: the metrics a report's build receives (report.h).
 *
 * The program's health is report/health's document (health_program), under
 * "health".
 *
 * INTERIM: until report/metrics (metrics_program) lands on main, this computes
 * the part of the metrics contract (program, generated_at, funnel, enrollment,
 * sessions with per_month, ratings) with the definitions below, straight from
 * the store. When it lands, report_metrics becomes metrics_program plus health.
 *
 * Definitions (program P):
 *   enrolled       enrollments of P
 *   matched        distinct people on a side of a match of P that is approved,
 *                  active or ended
 *   first_session  distinct people on a side of such a match with a held session
 *   active         distinct people on a side of an active match of P
 *   completed      distinct people on a side of an ended match with a held session
 *   sessions       sessions of P's matches by status; per_month by the month
 *                  (UTC) of starts_at; held_rate = held / (held + missed), 0 if none
 *   ratings        feedback ratings on P's matches: count, mean, distribution 1..5
 */
#include "report/report.h"

#include <stdio.h>
#include <string.h>

#include "report/health.h"
#include "store/stmt.h"
#include "time/cal.h"

static const char people_sql[] =
	"WITH m AS (SELECT * FROM matches WHERE program_id = ?1), "
	"sides(person, mid, status) AS (SELECT mentor_id, id, status FROM m UNION ALL "
	"SELECT mentee_id, id, status FROM m), "
	"held(mid) AS (SELECT DISTINCT match_id FROM sessions WHERE status = 'held' AND match_id IN "
	"(SELECT id FROM m)) "
	"SELECT (SELECT count(*) FROM enrollments WHERE program_id = ?1), "
	"(SELECT count(DISTINCT person) FROM sides WHERE status IN ('approved','active','ended')), "
	"(SELECT count(DISTINCT person) FROM sides WHERE status IN ('approved','active','ended') "
	"AND mid IN (SELECT mid FROM held)), "
	"(SELECT count(DISTINCT person) FROM sides WHERE status = 'active'), "
	"(SELECT count(DISTINCT person) FROM sides WHERE status = 'ended' AND mid IN (SELECT mid FROM held))";

static const char month_sql[] =
	"SELECT substr(s.starts_at, 1, 7) AS month, "
	"sum(s.status = 'planned'), sum(s.status = 'held'), sum(s.status = 'missed'), "
	"sum(s.status = 'cancelled') FROM sessions s JOIN matches m ON m.id = s.match_id "
	"WHERE m.program_id = ?1 GROUP BY month ORDER BY month";

static const char rating_sql[] =
	"SELECT f.rating, count(*) FROM feedback f JOIN matches m ON m.id = f.match_id "
	"WHERE m.program_id = ?1 AND f.rating IS NOT NULL GROUP BY f.rating";

static int
set(json_t *o, const char *k, json_t *v, struct diag *d)
{
	if (v == NULL || json_object_set_new(o, k, v) != 0)
		return diag_set(d, DIAG_NOMEM, "out of memory building metrics");
	return 0;
}

static int
funnel(struct store *st, int64_t pid, json_t *m, struct diag *d)
{
	struct stmt s = {0};
	int rc = stmt_prepare(&s, st, "counting the program's people", people_sql, d);
	if (rc == 0)
		rc = stmt_bind_int64(&s, 1, pid, d);
	if (rc == 0 && stmt_step(&s, d) != STMT_ROW)
		rc = -1;
	if (rc == 0) {
		json_int_t v[5];
		for (int i = 0; i < 5; i++)
			v[i] = (json_int_t)stmt_int64(&s, i);
		rc = set(m, "funnel",
			 json_pack("{s:I, s:I, s:I, s:I, s:I}", "enrolled", v[0], "matched", v[1],
				   "first_session", v[2], "active", v[3], "completed", v[4]),
			 d);
		if (rc == 0)
			rc = set(m, "enrollment",
				 json_pack("{s:I, s:I, s:f, s:I}", "enrolled", v[0], "matched", v[1],
					   "match_rate", v[0] ? (double)v[1] / (double)v[0] : 0.0,
					   "unmatched", v[0] > v[1] ? v[0] - v[1] : 0),
				 d);
	}
	stmt_finalize(&s);
	return rc;
}

static int
sessions(struct store *st, int64_t pid, json_t *m, struct diag *d)
{
	struct stmt s = {0};
	json_t *months = json_array();
	json_int_t tot[4] = {0, 0, 0, 0};
	int rc = months != NULL ? 0 : diag_set(d, DIAG_NOMEM, "out of memory building metrics");
	if (rc == 0)
		rc = stmt_prepare(&s, st, "counting the program's sessions", month_sql, d);
	if (rc == 0)
		rc = stmt_bind_int64(&s, 1, pid, d);
	while (rc == 0) {
		int r = stmt_step(&s, d);
		if (r != STMT_ROW) {
			rc = r < 0 ? -1 : 0;
			break;
		}
		const char *month;
		if (stmt_text(&s, 0, &month, d) != 0) {
			rc = -1;
			break;
		}
		json_int_t v[4];
		for (int i = 0; i < 4; i++)
			tot[i] += v[i] = (json_int_t)stmt_int64(&s, i + 1);
		if (json_array_append_new(months,
					  json_pack("{s:s, s:I, s:I, s:I, s:I}", "month", month ? month : "",
						    "planned", v[0], "held", v[1], "missed", v[2],
						    "cancelled", v[3])) != 0)
			rc = diag_set(d, DIAG_NOMEM, "out of memory building metrics");
	}
	stmt_finalize(&s);
	if (rc != 0) {
		json_decref(months);
		return -1;
	}
	double rate = tot[1] + tot[2] ? (double)tot[1] / (double)(tot[1] + tot[2]) : 0.0;
	return set(m, "sessions",
		   json_pack("{s:I, s:I, s:I, s:I, s:f, s:o}", "planned", tot[0], "held", tot[1], "missed",
			     tot[2], "cancelled", tot[3], "held_rate", rate, "per_month", months),
		   d);
}

static int
ratings(struct store *st, int64_t pid, json_t *m, struct diag *d)
{
	struct stmt s = {0};
	json_int_t dist[5] = {0, 0, 0, 0, 0}, count = 0, sum = 0;
	int rc = stmt_prepare(&s, st, "counting the program's ratings", rating_sql, d);
	if (rc == 0)
		rc = stmt_bind_int64(&s, 1, pid, d);
	while (rc == 0) {
		int r = stmt_step(&s, d);
		if (r != STMT_ROW) {
			rc = r < 0 ? -1 : 0;
			break;
		}
		int64_t rating = stmt_int64(&s, 0), n = stmt_int64(&s, 1);
		if (rating >= 1 && rating <= 5) {
			dist[rating - 1] += n;
			count += n;
			sum += rating * n;
		}
	}
	stmt_finalize(&s);
	if (rc != 0)
		return -1;
	return set(m, "ratings",
		   json_pack("{s:I, s:f, s:[I,I,I,I,I]}", "count", count, "mean",
			     count ? (double)sum / (double)count : 0.0, "distribution", dist[0], dist[1],
			     dist[2], dist[3], dist[4]),
		   d);
}

int
report_metrics(struct store *st, const struct config *cfg, const char *program, time_t now,
	       json_t **out, struct diag *d)
{
	*out = NULL;
	int64_t pid;
	if (config_program_id(st, cfg, program, &pid, d) != 0)
		return -1;
	char iso[32];
	struct cal_time w;
	cal_from_epoch((int64_t)now, &w);
	snprintf(iso, sizeof(iso), "%04lld-%02d-%02dT%02d:%02d:%02dZ", (long long)w.year, w.mon, w.day,
		 w.hour, w.min, w.sec);
	json_t *m = json_pack("{s:s, s:s}", "program", program, "generated_at", iso);
	if (m == NULL)
		return diag_set(d, DIAG_NOMEM, "out of memory building metrics");
	if (funnel(st, pid, m, d) != 0 || sessions(st, pid, m, d) != 0 || ratings(st, pid, m, d) != 0) {
		json_decref(m);
		return diag_prefix(d, "metrics of program '%s'", program);
	}
	json_t *h = NULL;
	if (health_program(st, cfg, program, now, &h, d) != 0 || set(m, "health", h, d) != 0) {
		json_decref(m);
		return -1;
	}
	*out = m;
	return 0;
}
