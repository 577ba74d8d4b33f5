/*
 * rrule_expand: the bounded expansion of a parsed rule into UTC instants. See rrule.h for
 * the contract and rrule.c for why libical 3.0.16 is driven this way.
 */
#include <stdint.h>
#include <stdlib.h>

#include <libical/ical.h>

#include "time/cal.h"
#include "time/rrule_internal.h"
#include "time/tz.h"

/* 1900-01-01T00:00:00Z and 9999-12-31T23:59:59Z. */
#define TIME_MIN_1900 ((time_t)-2208988800LL)
#define TIME_MAX_9999 ((time_t)253402300799LL)

static struct icaltimetype
ical_wall(int64_t wall)
{
	struct cal_time w;
	cal_from_epoch(wall, &w);
	struct icaltimetype t = icaltime_null_time();
	t.year = (int)w.year;
	t.month = w.mon;
	t.day = w.day;
	t.hour = w.hour;
	t.minute = w.min;
	t.second = w.sec;
	t.is_date = 0;
	t.zone = NULL; /* floating: libical does no zone arithmetic at all */
	return t;
}

static int64_t
wall_of_ical(struct icaltimetype t)
{
	struct cal_time w = {t.year, t.month, t.day, t.hour, t.minute, t.second};
	return cal_to_epoch(&w);
}

static int
month_index(const struct cal_time *w)
{
	return (int)(w->year * 12 + w->mon - 1);
}

static int
has_day_rule(const struct rrule *r)
{
	int any = r->byday || r->mday_pos || r->mday_neg;
	for (int w = 1; w <= 7; w++)
		any |= r->ord[w] != 0;
	return any;
}

/* dtstart moved forward by whole periods to at most the wall time lo, for rules without
 * COUNT (with COUNT every occurrence from dtstart counts). Whole periods keep the
 * rule's alignment (weekly intervals, WKST). */
static int64_t
skip_ahead(const struct rrule *r, int64_t dt, int64_t lo)
{
	if (r->count || dt >= lo)
		return dt;
	struct cal_time w, l;
	cal_from_epoch(dt, &w);
	cal_from_epoch(lo, &l);
	int64_t tod = dt - cal_days_from_civil(w.year, w.mon, w.day) * 86400;
	switch (r->freq) {
	case RRULE_MINUTELY:
	case RRULE_HOURLY: {
		int64_t p = (int64_t)r->interval * (r->freq == RRULE_MINUTELY ? 60 : 3600);
		return dt + (lo - dt) / p * p;
	}
	case RRULE_DAILY:
	case RRULE_WEEKLY: {
		int64_t p = (int64_t)r->interval * (r->freq == RRULE_DAILY ? 1 : 7);
		int64_t d0 = cal_days_from_civil(w.year, w.mon, w.day);
		int64_t d1 = cal_days_from_civil(l.year, l.mon, l.day);
		return (d0 + (d1 - d0) / p * p) * 86400 + tod;
	}
	case RRULE_MONTHLY: {
		int64_t k = (month_index(&l) - month_index(&w)) / r->interval - 1;
		if (k <= 0)
			return dt;
		int64_t mi = month_index(&w) + k * r->interval;
		int64_t y = mi / 12;
		int m = (int)(mi % 12) + 1;
		int day = w.day;
		if (has_day_rule(r))
			day = 1; /* the day only bounds the first month, which is before lo */
		else if (day > cal_days_in_month(y, m))
			return dt; /* that month is skipped anyway: keep the rule's own start */
		return cal_days_from_civil(y, m, day) * 86400 + tod;
	}
	}
	return dt;
}

/* MONTHLY only: 1 when libical's next step finds an occurrence at a wall time before
 * month start > end: one later in the month of `at` (strictly after it, or at it when
 * first), or a matching visited month starting by `end`. */
static int
monthly_more(const struct rrule *r, const struct cal_time *dt, const struct cal_time *at,
	     int first, int64_t end)
{
	uint32_t hours = r->byhour ? r->byhour : 1u << dt->hour;
	uint64_t mins = r->byminute ? r->byminute : 1ull << dt->min;
	uint32_t days = rrule_month_days(r, at->year, at->mon, dt->day);
	if ((uint64_t)days >> (at->day + 1))
		return 1;
	if (days >> at->day & 1) {
		for (int h = at->hour; h < 24; h++)
			for (int m = h == at->hour ? at->min : 0; m < 60; m++)
				if ((hours >> h & 1) && (mins >> m & 1) &&
				    (first || h != at->hour || m != at->min))
					return 1;
	}
	for (int64_t mi = month_index(at) + r->interval;; mi += r->interval) {
		int64_t y = mi / 12;
		int m = (int)(mi % 12) + 1;
		if (cal_days_from_civil(y, m, 1) * 86400 > end)
			return 0;
		if (rrule_month_days(r, y, m, dt->day))
			return 1;
	}
}

static int
cmp_time(const void *a, const void *b)
{
	time_t x = *(const time_t *)a, y = *(const time_t *)b;
	return (x > y) - (x < y);
}

struct expansion {
	const struct rrule *r;
	const char *zone;
	time_t from, end; /* from <= t < end */
	int64_t walls[256];
	size_t nwalls;
	time_t *out;
	size_t n, cap;
};

/* Converts the buffered wall times in one entered zone and keeps those in the window. */
static int
flush(struct expansion *x, struct diag *d)
{
	if (x->nwalls == 0)
		return 0;
	if (x->n + x->nwalls > x->cap) {
		size_t cap = x->cap ? x->cap * 2 : 64;
		while (cap < x->n + x->nwalls)
			cap *= 2;
		time_t *p = realloc(x->out, cap * sizeof(*p));
		if (p == NULL)
			return diag_set(d, DIAG_NOMEM, "out of memory (rule expansion)");
		x->out = p;
		x->cap = cap;
	}
	struct tz_switch sw;
	if (tz_enter(&sw, x->zone, d) != 0)
		return -1;
	for (size_t i = 0; i < x->nwalls; i++) {
		struct tm tm = {0};
		struct cal_time w;
		cal_from_epoch(x->walls[i], &w);
		tm.tm_year = (int)(w.year - 1900);
		tm.tm_mon = w.mon - 1;
		tm.tm_mday = w.day;
		tm.tm_hour = w.hour;
		tm.tm_min = w.min;
		tm.tm_sec = w.sec;
		time_t t = tz_to_utc(&sw, &tm);
		if (t >= x->from && t < x->end)
			x->out[x->n++] = t;
	}
	tz_leave(&sw);
	x->nwalls = 0;
	return 0;
}

int
rrule_expand(const struct rrule *r, const struct cal_time *dtstart, const char *zone,
	     time_t from, time_t until, size_t max, time_t **out, size_t *n, struct diag *d)
{
	*out = NULL;
	*n = 0;
	if (dtstart->year < 1900 || dtstart->year > 9999 || dtstart->mon < 1 || dtstart->mon > 12 ||
	    dtstart->day < 1 || dtstart->day > cal_days_in_month(dtstart->year, dtstart->mon) ||
	    dtstart->hour < 0 || dtstart->hour > 23 || dtstart->min < 0 || dtstart->min > 59 ||
	    dtstart->sec < 0 || dtstart->sec > 59)
		return diag_set(d, DIAG_INVALID, "rule '%s': bad start %04lld-%02d-%02d %02d:%02d:%02d",
				r->text, (long long)dtstart->year, dtstart->mon, dtstart->day,
				dtstart->hour, dtstart->min, dtstart->sec);
	if (tz_check(zone, d) != 0)
		return -1;
	/* Years 1900..9999 (what dtstart may be): the slack added below cannot overflow. */
	if (from < TIME_MIN_1900)
		from = TIME_MIN_1900;
	if (until > TIME_MAX_9999)
		until = TIME_MAX_9999;
	if (from >= until || max == 0)
		return 0;
	struct expansion x = {.r = r, .zone = zone, .from = from, .end = until};
	if (r->until_kind == UNTIL_UTC && r->until_utc < until)
		x.end = r->until_utc + 1; /* UNTIL is inclusive */
	if (x.end <= from)
		return 0;
	/* Wall times are within a day of their instants (offsets are -12 h .. +14 h). */
	int64_t wall_end = (int64_t)x.end + 2 * 86400;
	if (r->until_kind == UNTIL_DATE && (r->until_day + 1) * 86400 - 1 < wall_end)
		wall_end = (r->until_day + 1) * 86400 - 1;
	int64_t dt0 = cal_to_epoch(dtstart);
	int64_t dt = skip_ahead(r, dt0, (int64_t)from - 2 * 86400);
	if (dt > wall_end)
		return 0;
	struct cal_time dtw;
	cal_from_epoch(dt, &dtw);

	struct icalrecurrencetype rule = r->ical;
	rule.count = 0;
	rule.until = ical_wall(wall_end);
	/* libical's iterator_new searches for the first MONTHLY occurrence itself (0.2 s
	 * when there is none, then NULL): ask our month check first. */
	if (r->freq == RRULE_MONTHLY && !monthly_more(r, &dtw, &dtw, 1, wall_end))
		return 0;
	icalrecur_iterator *it = icalrecur_iterator_new(rule, ical_wall(dt));
	if (it == NULL) {
		icalerror_clear_errno();
		return diag_set(d, DIAG_INTERNAL, "rule '%s': libical refused to expand it from "
				"%04lld-%02d-%02d", r->text, (long long)dtw.year, dtw.mon, dtw.day);
	}
	/* WEEKLY INTERVAL: weeks start on WKST; the week holding dtstart is period 0. */
	int64_t dt_day = cal_days_from_civil(dtw.year, dtw.mon, dtw.day);
	int64_t week0 = dt_day - (cal_weekday(dt_day) - r->wkst + 7) % 7;
	int rc = 0;
	long steps = 0, occ = 0;
	int64_t stop_wall = INT64_MAX; /* set once max instants are in: a little past them */
	struct cal_time at = dtw;
	int first = 1;
	for (;;) {
		if (r->freq == RRULE_MONTHLY && !monthly_more(r, &dtw, &at, first, wall_end))
			break;
		struct icaltimetype t = icalrecur_iterator_next(it);
		if (icaltime_is_null_time(t))
			break;
		int64_t wall = wall_of_ical(t);
		if (wall > wall_end || wall > stop_wall)
			break;
		if (r->freq == RRULE_WEEKLY && r->interval > 1) {
			int64_t day = wall >= 0 ? wall / 86400 : -((-wall + 86399) / 86400);
			int64_t week = day - (cal_weekday(day) - r->wkst + 7) % 7;
			if ((week - week0) / 7 % r->interval != 0) {
				if (++steps > RRULE_MAX_STEPS)
					goto too_many;
				continue;
			}
		}
		if (++steps > RRULE_MAX_STEPS) {
		too_many:
			rc = diag_set(d, DIAG_INVALID, "rule '%s': more than %d occurrences from the "
				      "start %04lld-%02d-%02d to the end of the window (start later)",
				      r->text, RRULE_MAX_STEPS, (long long)dtstart->year,
				      dtstart->mon, dtstart->day);
			break;
		}
		if (r->count && ++occ > r->count)
			break;
		cal_from_epoch(wall, &at);
		first = 0;
		x.walls[x.nwalls++] = wall;
		if (x.nwalls == sizeof(x.walls) / sizeof(x.walls[0]) && (rc = flush(&x, d)) != 0)
			break;
		/* Two wall times can swap or meet in a DST gap: keep going three hours. */
		if (stop_wall == INT64_MAX && x.n + x.nwalls >= max) {
			if ((rc = flush(&x, d)) != 0)
				break;
			if (x.n >= max)
				stop_wall = wall + 3 * 3600;
		}
	}
	icalrecur_iterator_free(it);
	if (rc == 0)
		rc = flush(&x, d);
	if (rc != 0) {
		free(x.out);
		return -1;
	}
	if (x.n > 1)
		qsort(x.out, x.n, sizeof(*x.out), cmp_time);
	size_t k = 0;
	for (size_t i = 0; i < x.n; i++)
		if (k == 0 || x.out[i] != x.out[k - 1])
			x.out[k++] = x.out[i];
	if (k > max)
		k = max;
	if (k == 0) {
		free(x.out);
		x.out = NULL;
	}
	*out = x.out;
	*n = k;
	return 0;
}
