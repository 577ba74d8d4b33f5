/*
 * sched/plan_end: a program's bounds (plan_program_end, plan_program_window) and the
 * planned sessions beyond them (plan_beyond_end), for sched/plan and the session
 * writers. See plan.h for the contract.
 */
#include "sched/plan.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lua/cadence_out.h"
#include "program/config.h"
#include "sched/session.h"
#include "store/stmt.h"
#include "store/store.h"
#include "time/cal.h"

/* The instant the program's last day (YYYY-MM-DD) ends, in the workspace zone. */
int
plan_program_end(const char *ends, const char *zone, time_t *out, struct diag *d)
{
	int64_t y;
	int m, day;
	if (sscanf(ends, "%lld-%d-%d", (long long *)&y, &m, &day) != 3)
		return diag_set(d, DIAG_INVALID, "program end '%s' is not a date", ends);
	cal_civil_from_days(cal_days_from_civil(y, m, day) + 1, &y, &m, &day);
	char next[32];
	snprintf(next, sizeof(next), "%04lld-%02d-%02d", (long long)y, m, day);
	int64_t t;
	if (cadence_out_time(next, zone, 1, &t, d) != 0)
		return -1;
	*out = (time_t)t;
	return 0;
}

int
plan_program_window(const struct config *cfg, const char *program, struct session_window *w,
		    struct diag *d)
{
	memset(w, 0, sizeof(*w));
	struct diag ignored; /* a program no longer in tandem.lua: no bounds of its own */
	const struct config_program *p =
	    cfg != NULL && program != NULL ? config_find_program(cfg, program, &ignored) : NULL;
	if (p == NULL)
		return 0;
	w->starts_on = p->starts;
	w->ends_on = p->ends;
	int64_t t;
	if (p->starts != NULL) {
		if (cadence_out_time(p->starts, cfg->timezone, 1, &t, d) != 0)
			return -1;
		w->lo = (time_t)t;
	}
	return p->ends != NULL ? plan_program_end(p->ends, cfg->timezone, &w->hi, d) : 0;
}

int
plan_beyond_end(struct store *st, int64_t program_id, time_t end, struct plan_late **out,
		size_t *n, struct diag *d)
{
	*out = NULL;
	*n = 0;
	char ts[STORE_TIME_MAX] = "";
	if (end != 0 && store_format_time(end, ts) != 0)
		return diag_set(d, DIAG_INVALID, "planning: the program's end is out of range");
	struct stmt s = {0};
	/* Two reads, each on an index: the planned sessions from the program's end on
	 * (sessions_due), and those of the program's active pairs from their own end on
	 * (matches_program, then the pair's sessions; the + keeps SQLite off sessions_due,
	 * which would walk every planned session). As one OR, SQLite walked every planned
	 * session at every plan (~6 ms a run at 1,300 pairs). */
	int rc = stmt_prepare(&s, st, "finding sessions after the end",
			      "SELECT s.id, s.starts_at >= m.ended_at FROM sessions s "
			      "JOIN matches m ON m.id = s.match_id WHERE ?2 <> '' AND "
			      "s.status = 'planned' AND s.starts_at >= ?2 AND m.program_id = ?1 AND "
			      "m.status = 'active' "
			      "UNION SELECT s.id, s.starts_at >= m.ended_at FROM matches m "
			      "JOIN sessions s ON s.match_id = m.id WHERE m.program_id = ?1 AND "
			      "m.status = 'active' AND m.ended_at IS NOT NULL AND m.ended_at <> '' "
			      "AND +s.status = 'planned' AND s.starts_at >= m.ended_at ORDER BY 1",
			      d) ||
			 stmt_bind_int64(&s, 1, program_id, d) || stmt_bind_text(&s, 2, ts, d)
		     ? -1
		     : 0;
	size_t cap = 0;
	while (rc == 0 && (rc = stmt_step(&s, d)) == STMT_ROW) {
		rc = 0;
		if (*n == cap) {
			size_t nc = cap ? cap * 2 : 16;
			struct plan_late *v = realloc(*out, nc * sizeof(*v));
			if (v == NULL) {
				rc = diag_set(d, DIAG_NOMEM, "out of memory planning sessions");
				break;
			}
			*out = v;
			cap = nc;
		}
		(*out)[(*n)++] = (struct plan_late){stmt_int64(&s, 0), (int)stmt_int64(&s, 1)};
	}
	stmt_finalize(&s);
	if (rc < 0) {
		free(*out);
		*out = NULL;
		*n = 0;
		return -1;
	}
	return 0;
}
