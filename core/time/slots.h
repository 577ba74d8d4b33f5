/*
 * slots: a pair's shared availability, from each person's weekly slots in their own zone.
 *
 * For: the session planner (sched/plan), when a cadence rule leaves the weekday or the
 * hour open (rrule_open), and anyone who needs "when can these two meet". Pure
 * computation over tz; no store, no libical.
 *
 * Working hours (documented in docs/plugin-api.md, "Recurrence rules"): an availability
 * slot is DAY-PART, DAY one of mon tue wed thu fri sat sun, PART one of
 *   am  = 09:00-12:00,  pm = 13:00-17:00,  eve = 17:00-20:00
 * in the person's own zone (the wall clock of that day, whatever its UTC offset). Slots
 * next to each other join (pm + eve = 13:00-20:00). An empty list means the default
 * working week: mon-fri am and pm.
 *
 * Contract:
 *  - slots_parse reads the stored form of an enrollment's availability: a JSON array of
 *    names (["mon-am","wed-pm"]) or names separated by ';', ',' or spaces; NULL, "" and
 *    "[]" are the empty list. An unknown name is DIAG_INVALID naming it.
 *  - A session of duration_min fits a person when [start, start + duration) lies inside
 *    their slots (joined) on their own clock. Candidate starts are on the quarter hour
 *    (UTC; every current zone offset is a multiple of 15 minutes, so also local).
 *  - slots_common: every candidate start t with week_start <= t < week_start + 7 days
 *    that fits both people, sorted, into *out (malloc'd; NULL when *n == 0).
 *  - slots_pick: the first candidate start t with from <= t < until that fits both and
 *    that the optional want accepts (weekday and/or wall time in want->zone): 0 with
 *    *out, 1 when none exists (the planner reports "no shared slot"), -1 on error.
 *    A Paris and a New York person share only what overlaps: 15:00-17:00 Paris time
 *    (09:00-11:00 New York) outside the weeks where only one side has moved its clocks.
 *  - Times in a DST gap or overlap follow tz (slot edges are wall times; 09:00-20:00
 *    never meets a change in any current zone, which happen at night).
 */
#ifndef TANDEM_SLOTS_H
#define TANDEM_SLOTS_H

#include <stddef.h>
#include <time.h>

#include "base/diag.h"

enum slots_part { SLOTS_AM, SLOTS_PM, SLOTS_EVE };

/* Availability as a bit set: bit (weekday - 1) * 3 + part, weekday 1 = Monday ... 7. */
unsigned slots_bit(int weekday, enum slots_part part);
/* mon-fri am and pm, what an empty list means. */
unsigned slots_default(void);

/* The bit set of a stored availability (see the contract); empty gives 0. */
int slots_parse(const char *text, unsigned *mask, struct diag *d);

struct slots_person {
	const char *zone; /* IANA zone of the person; NULL: UTC */
	unsigned mask;	  /* from slots_parse; 0: the default working week */
};

int slots_common(const struct slots_person *a, const struct slots_person *b, time_t week_start,
		 int duration_min, time_t **out, size_t *n, struct diag *d);

/* What the rule already fixed: the planner asks for a slot on those weekdays and/or at
 * that wall time, in zone (the pair's zone). */
struct slots_want {
	const char *zone;  /* NULL: UTC */
	unsigned weekdays; /* bit w for weekday w (1 = Monday ... 7); 0: any day */
	int hour, minute;  /* -1: any */
};

int slots_pick(const struct slots_person *a, const struct slots_person *b, time_t from,
	       time_t until, int duration_min, const struct slots_want *want, time_t *out,
	       struct diag *d);

#endif
