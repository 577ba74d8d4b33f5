/*
 * rrule_internal: what rrule.c (parsing) and rrule_expand.c (expansion) share: the parsed
 * rule and the month check. Not for other modules: they use time/rrule.h.
 */
#ifndef TANDEM_RRULE_INTERNAL_H
#define TANDEM_RRULE_INTERNAL_H

#include <stdint.h>
#include <time.h>

#include <libical/ical.h>

#include "time/rrule.h"

enum { UNTIL_NONE, UNTIL_UTC, UNTIL_DATE };

struct rrule {
	enum rrule_freq freq;
	int interval, count, wkst; /* wkst: 1 = Monday ... 7 = Sunday */
	int until_kind;
	time_t until_utc;
	int64_t until_day; /* UNTIL_DATE: days since 1970-01-01 of the last local day */
	unsigned byday;    /* bit w (1..7): plain weekday w */
	unsigned ord[8];   /* ord[w]: bit p-1 for ordinal p (1..5), bit 4+k for -k (1..5) */
	uint32_t mday_pos, mday_neg; /* bit k: BYMONTHDAY k / -k */
	unsigned bymonth;            /* bit m: month m */
	uint32_t byhour;
	uint64_t byminute;
	unsigned given; /* bit per part seen (P_*) */
	char *text;     /* canonical */
	struct icalrecurrencetype ical;
};

/* Bit k (1..31) for each day of month m of year y that r allows (BYMONTH, BYMONTHDAY,
 * BYDAY with ordinals); dday is dtstart's day, used by a MONTHLY rule without either. */
uint32_t rrule_month_days(const struct rrule *r, int64_t y, int m, int dday);

#endif
