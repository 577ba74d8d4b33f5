/*
 * sched/plan_internal: what sched/plan's files share (plan.c plans, plan_known.c reads
 * what the pairs already have). Not for other modules: plan.h is the contract.
 */
#ifndef TANDEM_SCHED_PLAN_INTERNAL_H
#define TANDEM_SCHED_PLAN_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "base/diag.h"

struct stmt;
struct store;

/* An ISO UTC time (as the store writes them) as an instant, 0 when NULL or not one. */
time_t plan__iso_time(const char *s);

enum { KNOWN_HAND = 0, KNOWN_OURS = 1, KNOWN_PREVIOUS = 2 };

/* A session of one of the program's active pairs, as history and for replanning. */
struct known {
	int64_t id, match_id;
	time_t start;
	int duration_min;
	char status[16];
	char *topic, *starts_at;
	/* Who planned it: KNOWN_OURS this cadence; KNOWN_PREVIOUS another cadence (one the
	 * program had before: replannable as this one's own); KNOWN_HAND 'manual' (a move). */
	int ours;
};

struct known_list {
	struct known *v;
	size_t n, cap;
};

void plan__known_fini(struct known_list *k);

/* The pairs an incremental plan reads (?1 the program, ?3 now, ?4 1 when the cadence reads
 * the history): those whose plan_next_at passed or was cleared, and those whose sessions
 * changed. Both are partial indexes of schema v11. */
#define PLAN_DUE_IDS                                                                          \
	"(SELECT id FROM matches WHERE program_id = ?1 AND status = 'active' AND "            \
	"plan_next_at < ?3 UNION SELECT id FROM matches WHERE ?4 AND program_id = ?1 AND "   \
	"status = 'active' AND plan_history = 1)"

/* Binds ?3 and ?4 of PLAN_DUE_IDS. 0 or -1 + diag. */
int plan__bind_due(struct stmt *s, time_t now, int history, struct diag *d);

/* The sessions of program_id's active pairs (incremental: of the pairs PLAN_DUE_IDS names
 * at now), by pair, start and id, into *k; ours says who planned it (KNOWN_*). 0 or -1 + diag. */
int plan__load_known(struct store *st, int64_t program_id, const char *cadence, int incremental,
		     time_t now, int history, struct known_list *k, struct diag *d);

/* What an incremental plan did not replan, as `tandem sessions plan` would count it: the
 * active pairs PLAN_DUE_IDS leaves out (*pairs), those of them whose last plan gave them
 * no session (*unplanned: a plan_note), and their sessions planned_by cadence (any state
 * but cancelled by a replanning) starting in each pair's window [max(now, activation),
 * min(until, its end)) (*sessions: the instants a full plan finds already there; exact for
 * a rule, while for a plan hook a session an earlier replan cancelled and a later plan
 * wants again, as after_miss does after a second miss, is counted by the full plan only).
 * 0 or -1 + diag. */
int plan__count_uptodate(struct store *st, int64_t program_id, const char *cadence, time_t now,
			 int history, time_t until, int out[3], struct diag *d);

#endif
