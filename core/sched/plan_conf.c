/*
 * sched/plan_conf: what the planner reads of a program's configuration (plan.h): the
 * cadence it names (plan_program_cadence) and the signature of what a plan assumed
 * (plan_signature). Its dates as instants are sched/plan_end's.
 */
#include "sched/plan.h"

#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

#include "base/sha256.h"
#include "program/config.h"
#include "sched/cadence.h"
#include "store/stmt.h"

const char *
plan_program_cadence(const struct config_program *p, const char **from)
{
	if (p->cadence != NULL && p->cadence[0]) {
		*from = "program";
		return p->cadence;
	}
	*from = "sessions_per_month";
	switch (p->sessions_per_month) {
	case 1:
		return "monthly";
	case 2:
		return "biweekly";
	case 4:
		return "weekly";
	default:
		*from = "default";
		return "biweekly";
	}
}

int
plan_signature(const struct plan_ctx *ctx, const struct config_program *p, const char *ref,
	       const struct cadence *cad, int horizon_days, int64_t program_id,
	       char sig[SHA256_HEX_LEN], int *same, struct diag *d)
{
	char file[4200];
	cadence_file_id(cad, file, sizeof(file));
	char text[8192];
	int n = snprintf(text, sizeof(text), "1|%s|%s|%s|%s|%s|%d|%d|%s|%s", ref,
			 cadence_name(cad), file, p->starts ? p->starts : "",
			 p->ends ? p->ends : "", p->minutes_per_session, horizon_days,
			 ctx->cfg->timezone ? ctx->cfg->timezone : "", p->title ? p->title : "");
	sha256_hex(text, n > 0 && (size_t)n < sizeof(text) ? (size_t)n : strlen(text), sig);
	struct stmt q = {0};
	int rc = stmt_prepare(&q, ctx->st, "reading the program's plan signature",
			      "SELECT signature FROM plan_programs WHERE program_id = ?1", d) ||
			 stmt_bind_int64(&q, 1, program_id, d)
		     ? -1
		     : stmt_step(&q, d);
	*same = rc == STMT_ROW && file[0] &&
		strcmp((const char *)sqlite3_column_text(q.s, 0), sig) == 0;
	stmt_finalize(&q);
	return rc != STMT_ROW && rc != STMT_DONE ? -1 : 0;
}
