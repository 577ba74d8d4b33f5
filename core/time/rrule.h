/*
 * rrule: recurrence rules (RFC 5545 RRULE, a documented subset) expanded into UTC instants.
 *
 * For: cadences (sched/cadence, sched/plan: when a pair meets) and jobs (sched/job,
 * sched/occur: when a job is due). libical 3.0 does the calendar expansion; this module
 * decides which rules reach it and keeps every expansion bounded, because libical 3.0.16
 * gets some rules silently wrong and searches for centuries on impossible ones (see
 * docs/plugin-api.md "Recurrence rules" and the service notes).
 *
 * Rules accepted by rrule_parse (anything else is DIAG_INVALID naming the part and listing
 * the supported ones):
 *  - FREQ=MINUTELY|HOURLY|DAILY|WEEKLY|MONTHLY (required; MINUTELY and HOURLY are meant for
 *    jobs and take only INTERVAL, COUNT, UNTIL, WKST, BYDAY without ordinals, BYHOUR and,
 *    for HOURLY, BYMINUTE);
 *  - INTERVAL=1..1000, COUNT=1..100000, WKST=MO..SU;
 *  - UNTIL=YYYYMMDDTHHMMSSZ (an instant, applied in UTC, inclusive) or UNTIL=YYYYMMDD (the
 *    last local day, inclusive); a floating UNTIL is refused (ambiguous with a zone);
 *  - BYDAY=MO,TU,...; ordinals (2TU, -1FR, 1..5 either sign) only with FREQ=MONTHLY;
 *  - BYMONTHDAY=1..31 with DAILY or MONTHLY; -1..-31 only with MONTHLY; never with WEEKLY
 *    (RFC 5545 forbids it);
 *  - BYMONTH=1..12 (DAILY, WEEKLY, MONTHLY), BYHOUR=0..23, BYMINUTE=0..59.
 *  Refused by name: BYSETPOS (libical 3.0 ignores it with WEEKLY), BYSECOND, BYYEARDAY,
 *  BYWEEKNO, FREQ=YEARLY|SECONDLY, RSCALE, SKIP, X- parts; a part given twice; COUNT with
 *  UNTIL. A rule that can never occur in any year (BYMONTHDAY=31;BYMONTH=4, 30 or 31 in
 *  February, the 5th Monday in a month list that never has one) is refused at parse time.
 *  Names are case-insensitive; spaces around ';', '=' and ',' are not allowed.
 *
 * The job form "every N minutes|hours|days" (also "every minute|hour|day", and the short
 * units "every 15m", "every 30 min", "every 2h", "every 7d"; N = 1..1000) is accepted too
 * and means FREQ=MINUTELY|HOURLY|DAILY;INTERVAL=N (its start is the caller's dtstart).
 *
 * Expansion (rrule_expand): RFC 5545 semantics, with the rule's missing parts taken from
 * dtstart: the weekday of a WEEKLY rule without BYDAY, the day of a MONTHLY rule without
 * BYMONTHDAY or BYDAY (months without that day are skipped), the hour without BYHOUR, the
 * minute without BYMINUTE, the second. Unlike RFC 5545, dtstart is an occurrence only
 * when it matches the rule (libical's behaviour; planners pass the start of their window).
 * Occurrences are generated as floating wall times, then converted by tz (a wall time in
 * a DST gap moves forward by the gap; one in the repeated hour takes the first instant),
 * so a daily or weekly rule keeps its wall time across DST changes. COUNT counts
 * occurrences from dtstart (before `from` too); UNTIL is applied by us in UTC. The result
 * is sorted and without duplicates (two wall times can meet in a gap).
 * Bounds: the expansion never runs past `until` (plus two days of wall-time slack) and at
 * most RRULE_MAX_STEPS occurrences are generated from dtstart (DIAG_INVALID beyond: move
 * dtstart closer); before a MONTHLY step the module checks itself that a month ahead of
 * the current one within the horizon can match, so libical never searches beyond it.
 * Rules without COUNT are moved forward by whole periods when dtstart is far before
 * `from`, so a job anchored long ago costs what its window costs.
 *
 * Thread-safety: a parsed rule is immutable and may be shared; libical is called on the
 * caller's thread (keep all libical use on one thread, as the service notes advise).
 */
#ifndef TANDEM_RRULE_H
#define TANDEM_RRULE_H

#include <stddef.h>
#include <time.h>

#include "base/diag.h"
#include "time/cal.h"

struct rrule;

enum rrule_freq { RRULE_MINUTELY, RRULE_HOURLY, RRULE_DAILY, RRULE_WEEKLY, RRULE_MONTHLY };

/* Flags of rrule_open. */
enum {
	RRULE_OPEN_DAY = 1,  /* a WEEKLY rule without BYDAY: the weekday comes from dtstart */
	RRULE_OPEN_TIME = 2, /* DAILY/WEEKLY/MONTHLY without BYHOUR: the time comes from dtstart */
};

/* Occurrences generated from dtstart at most, per expansion. */
enum { RRULE_MAX_STEPS = 200000 };

/* A parsed rule (whitelisted parts only), or NULL with DIAG_INVALID
 * "rule 'X': part 'BYSETPOS' is not supported (tandem supports FREQ, ...)". */
struct rrule *rrule_parse(const char *text, struct diag *d);
void rrule_delete(struct rrule *r);

/* Which of day and time the rule leaves to dtstart (RRULE_OPEN_* flags), so a planner
 * knows what to choose from the pair's shared availability. */
unsigned rrule_open(const struct rrule *r);

enum rrule_freq rrule_freq(const struct rrule *r);
int rrule_interval(const struct rrule *r);
/* COUNT, or 0 when the rule has none. */
int rrule_count(const struct rrule *r);

/* The rule in canonical RRULE form ("FREQ=WEEKLY;INTERVAL=2;BYDAY=TU;BYHOUR=10"): parts
 * in a fixed order, defaults left out; the job form reads "FREQ=MINUTELY;INTERVAL=15".
 * Owned by r. Parsing it again gives the same rule. */
const char *rrule_text(const struct rrule *r);

/* The instants of r from wall time dtstart in zone (NULL: UTC) with from <= t < until, at
 * most max of them (the first ones), into *out (malloc'd, sorted, unique; NULL when
 * *n == 0). 0, or -1 with a diag (unknown zone, bad dtstart, from >= until, more than
 * RRULE_MAX_STEPS occurrences needed). */
int rrule_expand(const struct rrule *r, const struct cal_time *dtstart, const char *zone,
		 time_t from, time_t until, size_t max, time_t **out, size_t *n, struct diag *d);

#endif
