/*
 * sched/plan_check: what the planner holds a pair's cadence result to before it writes
 * a session (the cadence's own checks, lua/cadence_out, hold each entry to its type;
 * these hold the sessions to the pair's calendar):
 *  - a session must end by the window's hard end (the program's end or the match's end,
 *    whichever comes first): start + duration > end is refused, not only a start after
 *    it. A rule's instant (a rule segment's, or the cadence's own rule) that would run
 *    past the end is dropped quietly, as an instant past the end is: it is the rule's
 *    last occurrence meeting the end, not a mistake. A session the plan hook named
 *    itself is refused with a note.
 *  - a session must not overlap another of the same pair: the pair's stored sessions
 *    that are planned or held (except those this plan cancels) and the result's other
 *    sessions, earliest first (the later one of two is refused). A result's session at
 *    the instant of a stored one is that stored session (planning is idempotent), so it
 *    is never checked against it. [start, start + duration) intervals: back to back is
 *    no overlap.
 * Each refusal drops that session and says why, as the cadence's own checks do: the
 * plan hook's FILE:LINE, the entry (its 1-based position in plan's result) and the
 * field, e.g.
 *   "plugins/cadences/mine.lua:2: plan returned a bad session 2: field 'start':
 *    2027-01-22T11:00Z (60 minutes) overlaps session 1 of the same result
 *    (2027-01-22T10:00Z, 1440 minutes) (in hook plan)"
 * A rule's instant names its segment ("plan returned a bad rule segment 2: field
 * 'rule': its session at ...") or, for the cadence's own rule, the cadence's file.
 *
 * Who calls it: sched/plan, for each pair, on the sessions it is about to insert.
 */
#ifndef TANDEM_SCHED_PLAN_CHECK_H
#define TANDEM_SCHED_PLAN_CHECK_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "base/diag.h"

struct cadence_result;

/* A stored session of the pair that stays planned or held after this plan. */
struct plan_held {
	int64_t id;
	time_t start;
	int duration_min;
	const char *status;
};

struct plan_check {
	const char *path;       /* the cadence's file */
	const char *rule;       /* the cadence's own rule, NULL when none */
	time_t end;             /* sessions end by then; 0: no end */
	const char *end_what;   /* "the program's end" or "the match's end" */
	time_t until;           /* only sessions starting before until are checked */
	const struct plan_held *held;
	size_t nheld;
	const time_t *stored;   /* the starts of every stored session of the pair (any state) */
	size_t nstored;
};

/* Called with each refusal's message; nonzero stops the check with that return. */
typedef int (*plan_refuse_fn)(void *ud, const char *why, struct diag *d);

/*
 * Removes from res (sorted by start, one session per instant, as cadence_run returns
 * it) the sessions starting before c->until that the rules above refuse, calling
 * refuse for each. 0, or -1 with a diag (out of memory, or refuse's).
 */
int plan_check_result(const struct plan_check *c, struct cadence_result *res,
		      plan_refuse_fn refuse, void *ud, struct diag *d);

#endif
