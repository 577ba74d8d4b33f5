/*
 * sched/plan_fit: fitting a pair's planned instants into both people's time, for
 * sched/plan, after the cadence ran and before anything is written.
 *
 * - Busy time: every planned or held session starting on or after `from` minus a day,
 *   of any match of any program, as busy intervals of both its people (by external id),
 *   in (status, start, id) order, except the skip ids (copied): the sessions this run
 *   may move or cancel (those its cadence planned, still planned, past the keep time, of
 *   the pairs it plans), which their own pair's plan puts back. plan_busy_load only
 *   records where to read them: a person's are read when plan_fit first needs them
 *   (one indexed read each), and once a few hundred people were read, everybody's not
 *   read yet in one pass; either way a person's list is the same. plan_fit adds each
 *   instant it keeps, so the pairs planned later in the same run see them: the pairs
 *   are planned by match id, and the first one keeps a contested slot. The store must
 *   not change between plan_busy_load and the last plan_fit.
 * - plan_fit(b, p, match_id, res, from, until, keep, why): for each session of res with
 *   from <= start < until, in order:
 *    1. a session from an open weekday or hour (cadence_session.open) must fit both
 *       people's slots on their own clocks on its own date (time/slots): a week where
 *       only one side changed its clocks can move the repeated wall time out of one
 *       side's working hours;
 *    2. it must not overlap another session (of another match) of either person.
 *   A session that fails is moved to the first start on the same date (in the pair's
 *   zone) that passes both, searching from its own start to the day's end, then from
 *   the day's start; when none exists it is dropped (start set to 0) and *why, when
 *   still empty, says why ("no free slot on DATE: ..."). A session of the pair's own
 *   history at that instant starting before `keep` stays where it is (the pair may have
 *   arranged it already). res stays sorted, without duplicates and dropped sessions.
 * Returns 0, or -1 + diag (out of memory, a bad availability or zone, a database error).
 */
#ifndef TANDEM_SCHED_PLAN_FIT_H
#define TANDEM_SCHED_PLAN_FIT_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "base/diag.h"

struct store;
struct cadence_pair;
struct cadence_result;
struct plan_busy;

struct plan_busy *plan_busy_new(void);
void plan_busy_delete(struct plan_busy *b);
int plan_busy_load(struct plan_busy *b, struct store *st, time_t from, const int64_t *skip,
		   size_t nskip, struct diag *d);

int plan_fit(struct plan_busy *b, const struct cadence_pair *p, int64_t match_id,
	     struct cadence_result *res, time_t from, time_t until, time_t keep, char *why,
	     size_t why_size, struct diag *d);

#endif
