/*
 * sched/nextwork: when each built-in job next has work (see nextwork.h).
 *
 * Each answer mirrors its body's own test, read with the body's indexes, so that it
 * costs a few indexed lookups per program, not a scan: a wake asks every one of them.
 */
#include "sched/nextwork.h"

#include <stdio.h>
#include <string.h>

#include "program/config.h"
#include "program/matches.h"
#include "sched/builtin.h"
#include "sched/cadence.h"
#include "sched/occur.h"
#include "sched/plan.h"
#include "sched/remind.h"
#include "sched/reveal.h"
#include "sched/sched_internal.h"
#include "store/stmt.h"
#include "time/tz.h"

/* Keeps the earliest of the answers: *have says whether *at holds one. */
static void
keep(time_t t, time_t *at, int *have)
{
	if (!*have || t < *at)
		*at = t;
	*have = 1;
}

/*
 * One integer column of sql's first row, ?1 bound to text a (if not NULL) and ?2 to the
 * integer b: 0 with *out, 1 when there is no row or the value is NULL, -1 + diag.
 */
static int
query_int(struct store *st, const char *name, const char *sql, const char *a, int64_t b,
	  int64_t *out, struct diag *d)
{
	struct stmt q = {0};
	int rc = stmt_prepare(&q, st, name, sql, d);
	if (rc == 0 && a != NULL)
		rc = stmt_bind_text(&q, 1, a, d);
	if (rc == 0 && stmt_param_count(&q) >= 2)
		rc = stmt_bind_int64(&q, 2, b, d);
	int r = rc == 0 ? stmt_step(&q, d) : -1;
	int none = r == STMT_DONE || (r == STMT_ROW && stmt_is_null(&q, 0));
	if (r == STMT_ROW && !none)
		*out = stmt_int64(&q, 0);
	stmt_finalize(&q);
	return r < 0 ? -1 : none;
}

/* ---- activate-matches --------------------------------------------------------------- */

/* The instant local midnight starts day `date` (YYYY-MM-DD) in zone; after = 1: the day after. */
static int
midnight(const char *date, const char *zone, int after, time_t *out, struct diag *d)
{
	if (after)
		return plan_program_end(date, zone, out, d);
	struct tm w;
	memset(&w, 0, sizeof(w));
	if (sscanf(date, "%d-%d-%d", &w.tm_year, &w.tm_mon, &w.tm_mday) != 3)
		return diag_set(d, DIAG_INVALID, "program start '%s' is not a date", date);
	w.tm_year -= 1900;
	w.tm_mon -= 1;
	return tz_local_to_utc(zone, &w, out, d);
}

/* 1 when program pid has an event of kind, 0 when not, -1 on error. */
static int
has_event(struct store *st, int64_t pid, const char *kind, struct diag *d)
{
	int64_t one = 0;
	int r = query_int(st, "looking for the program's event",
			  "SELECT 1 FROM events WHERE kind = ?1 AND program_id = ?2 LIMIT 1", kind,
			  pid, &one, d);
	return r < 0 ? -1 : r == 0;
}

/* 1 when program pid has a match in state `state`, or in `or` when not NULL; 0 when not,
 * -1 on error. One seek of matches_program (program_id, status) per state: a test of
 * every match's status walked all the program's pairs at every wake. */
static int
has_match(struct store *st, int64_t pid, const char *state, const char *or, struct diag *d)
{
	int64_t one = 0;
	int r = query_int(st, "looking for the program's matches",
			  "SELECT 1 FROM matches WHERE program_id = ?2 AND status = ?1 LIMIT 1",
			  state, pid, &one, d);
	if (r == 1 && or != NULL)
		return has_match(st, pid, or, NULL, d);
	return r < 0 ? -1 : r == 0;
}

int
nextwork_activate(struct sched *s, time_t now, time_t *at, struct diag *d)
{
	const struct config *cfg = s->cfg;
	int have = 0;
	if (cfg == NULL)
		return 1; /* the body does nothing without tandem.lua */
	const char *zone = cfg->timezone != NULL ? cfg->timezone : "UTC";
	for (int i = 0; i < cfg->nprograms; i++) {
		const struct config_program *p = &cfg->programs[i];
		int64_t pid;
		struct diag nf;
		diag_clear(&nf);
		if (matches_program_id(s->st, p->name, &pid, &nf) != 0) {
			if (nf.code == DIAG_NOTFOUND)
				continue; /* the body skips it too */
			*d = nf;
			return -1;
		}
		time_t end = 0, start = 0;
		if (p->ends != NULL && midnight(p->ends, zone, 1, &end, d) != 0)
			return -1;
		if (p->starts != NULL && midnight(p->starts, zone, 0, &start, d) != 0)
			return -1;
		/* The ending branch: once the last day is over. */
		if (p->ends != NULL) {
			int ev = has_event(s->st, pid, "program.ended", d);
			int m = ev < 0 ? -1 : has_match(s->st, pid, "approved", "active", d);
			if (m < 0)
				return -1;
			if (!ev || m)
				keep(end, at, &have);
			if (now >= end)
				continue; /* the starting branch no longer runs */
		}
		/* The starting branch: from the first day on, until the end. */
		int ev = has_event(s->st, pid, "program.started", d);
		int m = ev < 0 ? -1 : has_match(s->st, pid, "approved", NULL, d);
		if (m < 0)
			return -1;
		if (!ev || m)
			keep(p->starts != NULL ? start : now, at, &have);
	}
	return have ? 0 : 1;
}

/* ---- plan-sessions ------------------------------------------------------------------ */

int
nextwork_plan(struct sched *s, time_t now, time_t *at, struct diag *d)
{
	const struct config *cfg = s->cfg;
	int have = 0;
	if (cfg == NULL)
		return 1;
	struct plan_ctx ctx = {.st = s->st, .cfg = cfg, .ws = s->ws, .incremental = 1};
	if ((ctx.cadences = sched__cadences(s, d)) == NULL)
		return -1;
	for (int i = 0; i < cfg->nprograms; i++) {
		const struct config_program *p = &cfg->programs[i];
		time_t until = now + (time_t)PLAN_HORIZON_DAYS * 86400, end;
		if (p->ends != NULL) {
			if (plan_program_end(p->ends, cfg->timezone, &end, d) != 0)
				return -1;
			if (end < until)
				until = end;
		}
		if (until <= now)
			continue; /* its window is closed for good */
		int64_t pid;
		struct diag e;
		diag_clear(&e);
		if (matches_program_id(s->st, p->name, &pid, &e) != 0) {
			if (e.code != DIAG_NOTFOUND) {
				*d = e;
				return -1;
			}
			continue; /* the plan fails on it too ("not saved yet") */
		}
		const char *from;
		const char *ref = plan_program_cadence(p, &from);
		struct cadence *cad = cadence_cache_get(ctx.cadences, s->ws, ref, &e);
		if (cad == NULL) {
			if (e.code == DIAG_DB || e.code == DIAG_NOMEM) {
				*d = e;
				return -1;
			}
			continue; /* the plan logs it and skips the program: so do we */
		}
		char sig[SHA256_HEX_LEN];
		int same = 0;
		if (plan_signature(&ctx, p, ref, cad, PLAN_HORIZON_DAYS, pid, sig, &same, d) != 0)
			return -1;
		int64_t v = 0;
		int r;
		if (!same) {
			keep(now, at, &have);
			continue;
		}
		if (cadence_has_plan(cad)) {
			r = query_int(s->st, "looking for pairs whose sessions changed",
				      "SELECT 1 FROM matches WHERE program_id = ?2 AND status = 'active'"
				      " AND plan_history = 1 LIMIT 1",
				      NULL, pid, &v, d);
			if (r < 0)
				return -1;
			if (r == 0) {
				keep(now, at, &have);
				continue;
			}
		}
		/* The incremental plan takes the pairs whose plan_next_at < now ('' first). */
		const char *next = NULL;
		struct stmt q = {0};
		r = stmt_prepare(&q, s->st, "finding the next pair to plan",
				 "SELECT min(plan_next_at) FROM matches WHERE program_id = ?1"
				 " AND status = 'active' AND plan_next_at < '9999'",
				 d) || stmt_bind_int64(&q, 1, pid, d)
			? -1
			: stmt_step(&q, d);
		if (r == STMT_ROW)
			r = stmt_text(&q, 0, &next, d) ? -1 : STMT_ROW;
		time_t t = 0;
		int parsed = r == STMT_ROW && next != NULL && next[0] != '\0'
				 ? sched_parse_time(next, &t)
				 : 0;
		if (r == STMT_ROW && next != NULL && parsed == 0)
			keep(next[0] == '\0' ? now : t + 1, at, &have);
		stmt_finalize(&q);
		if (r < 0)
			return -1;
		if (parsed != 0)
			keep(now, at, &have); /* unreadable: planning again rewrites it */
	}
	return have ? 0 : 1;
}

/* ---- send-reminders and mark-missed -------------------------------------------------- */

int
nextwork_remind(struct sched *s, time_t now, time_t *at, struct diag *d)
{
	char ts[STORE_TIME_MAX];
	if (store_format_time(now, ts) != 0)
		return diag_set(d, DIAG_INVALID, "reminders: the clock is out of range");
	/* A session cancelled or moved since its reminder: its update is due now. */
	int64_t noted = 0;
	int r = query_int(s->st, "finding changed sessions",
			  "SELECT 1 FROM session_changes LIMIT 1", NULL, 0, &noted, d);
	if (r < 0)
		return -1;
	if (r == 0) {
		*at = now;
		return 0;
	}
	int64_t start = 0;
	r = query_int(
	    s->st, "finding the next session to remind",
	    "SELECT CAST(strftime('%s', s.starts_at) AS INTEGER) FROM sessions s"
	    " JOIN matches m ON m.id = s.match_id"
	    " WHERE s.status = 'planned' AND s.starts_at > ?1"
	    "  AND (m.status = 'active' OR m.status = 'approved')"
	    "  AND (NOT " REMIND_KNOWN_SQL("('reminder:' || s.id || ':' || m.mentor_id)")
	    "    OR NOT " REMIND_KNOWN_SQL("('reminder:' || s.id || ':' || m.mentee_id)") ")"
	    " ORDER BY s.starts_at LIMIT 1",
	    ts, REMIND_LEAD_HOURS, &start, d);
	if (r != 0)
		return r;
	*at = (time_t)start - (time_t)REMIND_LEAD_HOURS * 3600;
	return 0;
}

int
sched__earliest_end(struct store *st, const char *name, const char *sql, time_t *at,
		    struct diag *d)
{
	struct stmt q = {0};
	int r = stmt_prepare(&q, st, name, sql, d) ? -1 : STMT_ROW;
	int have = 0, first = 1;
	int64_t best = 0;
	while (r == STMT_ROW && (r = stmt_step(&q, d)) == STMT_ROW) {
		if (stmt_is_null(&q, 0)) {
			if (first)
				break;
			continue;
		}
		first = 0;
		if (have && stmt_int64(&q, 0) > best)
			break;
		if (!stmt_is_null(&q, 1) && (!have || stmt_int64(&q, 1) < best)) {
			best = stmt_int64(&q, 1);
			have = 1;
		}
	}
	stmt_finalize(&q);
	if (r < 0)
		return -1;
	if (have)
		*at = (time_t)best;
	return !have;
}

int
nextwork_missed(struct sched *s, time_t now, time_t *at, struct diag *d)
{
	(void)now;
	/* The earliest end of the planned sessions, read on sessions_due in start order. */
	time_t end = 0;
	int r = sched__earliest_end(s->st, "finding the next session to mark missed",
				    "SELECT CAST(strftime('%s', starts_at) AS INTEGER),"
				    " CAST(strftime('%s', starts_at) AS INTEGER) + 60 * duration_min"
				    " FROM sessions WHERE status = 'planned' ORDER BY starts_at",
				    &end, d);
	/* The same job closes the rating windows (sched/reveal.h). */
	time_t closes = 0;
	int w = r < 0 ? -1 : reveal_next(s->st, &closes, d);
	if (r < 0 || w < 0)
		return -1;
	if (r == 1 && w == 1)
		return 1;
	time_t missed = end + (time_t)SCHED_MISSED_GRACE_H * 3600;
	*at = r == 1 ? closes : w == 1 ? missed : missed < closes ? missed : closes;
	return 0;
}
