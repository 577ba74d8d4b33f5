/*
 * metrics_quality: the reward totals of a program's metrics (metrics.h), from the ledger
 * (the ratings and the goal progress, read with the sessions, are metrics_sessions.c's).
 * Called by metrics.c only; returns the value of its key of the object. docs/metrics.md
 * has the words.
 */
#include <string.h>

#include "report/metrics_internal.h"
#include "store/stmt.h"

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
