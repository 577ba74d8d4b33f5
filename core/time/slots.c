/*
 * slots: shared availability of two people in their own zones. See slots.h.
 *
 * Each person's slots become UTC intervals for the days around the asked window (each
 * slot edge converted from that day's wall clock in one entered zone (tz_enter) per person), the
 * two interval lists are intersected, and candidate starts are read off on the quarter
 * hour. A week has at most 21 slots a person, so the lists stay tiny.
 */
#include "time/slots.h"

#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "time/cal.h"
#include "time/tz.h"

static const char *const day_names[8] = {"", "mon", "tue", "wed", "thu", "fri", "sat", "sun"};
static const char *const part_names[3] = {"am", "pm", "eve"};
/* Working hours per part, minutes after local midnight. */
static const int part_start[3] = {9 * 60, 13 * 60, 17 * 60};
static const int part_end[3] = {12 * 60, 17 * 60, 20 * 60};

enum { QUARTER = 15 * 60 };

unsigned
slots_bit(int weekday, enum slots_part part)
{
	return 1u << ((weekday - 1) * 3 + (int)part);
}

unsigned
slots_default(void)
{
	unsigned m = 0;
	for (int w = 1; w <= 5; w++)
		m |= slots_bit(w, SLOTS_AM) | slots_bit(w, SLOTS_PM);
	return m;
}

int
slots_parse(const char *text, unsigned *mask, struct diag *d)
{
	*mask = 0;
	if (text == NULL)
		return 0;
	for (const char *p = text; *p;) {
		/* Names are letters and '-'; JSON brackets, quotes and separators are skipped. */
		if (!isalpha((unsigned char)*p)) {
			if (strchr("[]\", ;\t\r\n", *p) == NULL)
				return diag_set(d, DIAG_INVALID, "availability '%.100s': unexpected "
						"'%c' (want slots like mon-am, wed-pm, fri-eve)", text, *p);
			p++;
			continue;
		}
		size_t len = 0;
		while (isalpha((unsigned char)p[len]) || p[len] == '-')
			len++;
		int found = 0;
		for (int w = 1; w <= 7 && !found; w++)
			for (int k = 0; k < 3 && !found; k++)
				if (len == 4 + strlen(part_names[k]) && strncmp(p, day_names[w], 3) == 0 &&
				    p[3] == '-' && strncmp(p + 4, part_names[k], len - 4) == 0) {
					*mask |= slots_bit(w, (enum slots_part)k);
					found = 1;
				}
		if (!found)
			return diag_set(d, DIAG_INVALID, "availability: unknown slot '%.*s' (want DAY-PART, "
					"DAY mon..sun, PART am, pm or eve)", (int)(len < 40 ? len : 40), p);
		p += len;
	}
	return 0;
}

struct span {
	time_t s, e;
};

struct spans {
	struct span *v;
	size_t n, cap;
};

static int
spans_add(struct spans *x, time_t s, time_t e, struct diag *d)
{
	if (e <= s)
		return 0;
	if (x->n > 0 && x->v[x->n - 1].e >= s) { /* pm + eve: joined */
		if (e > x->v[x->n - 1].e)
			x->v[x->n - 1].e = e;
		return 0;
	}
	if (x->n == x->cap) {
		size_t cap = x->cap ? x->cap * 2 : 32;
		struct span *v = realloc(x->v, cap * sizeof(*v));
		if (v == NULL)
			return diag_set(d, DIAG_NOMEM, "out of memory (slots)");
		x->v = v;
		x->cap = cap;
	}
	x->v[x->n++] = (struct span){s, e};
	return 0;
}

/* The person's available UTC intervals touching [lo, hi), sorted and joined. */
static int
person_spans(const struct slots_person *p, time_t lo, time_t hi, struct spans *out,
	     struct diag *d)
{
	unsigned mask = p->mask ? p->mask : slots_default();
	struct tz_switch sw;
	if (tz_enter(&sw, p->zone, d) != 0)
		return -1;
	/* Local days from two days before lo (offsets reach 14 h) to two days after hi. */
	int64_t d0 = ((int64_t)lo - 2 * 86400) / 86400, d1 = ((int64_t)hi + 2 * 86400) / 86400;
	int rc = 0;
	for (int64_t day = d0; day <= d1 && rc == 0; day++) {
		int w = cal_weekday(day);
		int64_t y;
		int mo, dd;
		cal_civil_from_days(day, &y, &mo, &dd);
		for (int k = 0; k < 3 && rc == 0; k++) {
			if (!(mask & slots_bit(w, (enum slots_part)k)))
				continue;
			struct tm a = {.tm_year = (int)(y - 1900), .tm_mon = mo - 1, .tm_mday = dd};
			struct tm b = a;
			a.tm_hour = part_start[k] / 60;
			a.tm_min = part_start[k] % 60;
			b.tm_hour = part_end[k] / 60;
			b.tm_min = part_end[k] % 60;
			time_t s = tz_to_utc(&sw, &a), e = tz_to_utc(&sw, &b);
			if (e > lo && s < hi)
				rc = spans_add(out, s, e, d);
		}
	}
	tz_leave(&sw);
	return rc;
}

/* The intersection of both people's intervals touching [lo, hi). */
static int
shared_spans(const struct slots_person *a, const struct slots_person *b, time_t lo, time_t hi,
	     struct spans *out, struct diag *d)
{
	struct spans x = {0}, y = {0};
	int rc = person_spans(a, lo, hi, &x, d);
	if (rc == 0)
		rc = person_spans(b, lo, hi, &y, d);
	for (size_t i = 0, j = 0; rc == 0 && i < x.n && j < y.n;) {
		time_t s = x.v[i].s > y.v[j].s ? x.v[i].s : y.v[j].s;
		time_t e = x.v[i].e < y.v[j].e ? x.v[i].e : y.v[j].e;
		if (s < e)
			rc = spans_add(out, s, e, d);
		if (x.v[i].e < y.v[j].e)
			i++;
		else
			j++;
	}
	free(x.v);
	free(y.v);
	return rc;
}

static time_t
quarter_up(time_t t)
{
	int64_t r = ((int64_t)t % QUARTER + QUARTER) % QUARTER;
	return r ? t + (QUARTER - r) : t;
}

static int
check_args(const struct slots_person *a, const struct slots_person *b, int duration_min,
	   struct diag *d)
{
	if (duration_min < 1 || duration_min > 11 * 60)
		return diag_set(d, DIAG_INVALID, "session duration %d min is not 1..660", duration_min);
	if (tz_check(a->zone, d) != 0 || tz_check(b->zone, d) != 0)
		return -1;
	return 0;
}

/* Candidate starts t, lo <= t < hi, fitting both people; sorted. */
static int
candidates(const struct slots_person *a, const struct slots_person *b, time_t lo, time_t hi,
	   time_t dur, time_t **out, size_t *n, struct diag *d)
{
	*out = NULL;
	*n = 0;
	struct spans sh = {0};
	if (shared_spans(a, b, lo, hi, &sh, d) != 0) {
		free(sh.v);
		return -1;
	}
	time_t *v = NULL;
	size_t cnt = 0, cap = 0;
	int rc = 0;
	for (size_t i = 0; i < sh.n && rc == 0; i++) {
		time_t t = quarter_up(sh.v[i].s < lo ? lo : sh.v[i].s);
		for (; t + dur <= sh.v[i].e && t < hi; t += QUARTER) {
			if (cnt == cap) {
				size_t nc = cap ? cap * 2 : 64;
				time_t *nv = realloc(v, nc * sizeof(*nv));
				if (nv == NULL) {
					rc = diag_set(d, DIAG_NOMEM, "out of memory (slots)");
					break;
				}
				v = nv;
				cap = nc;
			}
			v[cnt++] = t;
		}
	}
	free(sh.v);
	if (rc != 0) {
		free(v);
		return -1;
	}
	*out = v;
	*n = cnt;
	return 0;
}

int
slots_common(const struct slots_person *a, const struct slots_person *b, time_t week_start,
	     int duration_min, time_t **out, size_t *n, struct diag *d)
{
	*out = NULL;
	*n = 0;
	if (check_args(a, b, duration_min, d) != 0)
		return -1;
	if (week_start < (time_t)-2208988800LL || week_start > (time_t)253402300799LL)
		return diag_set(d, DIAG_INVALID, "week start %lld is outside the years 1900-9999",
				(long long)week_start);
	return candidates(a, b, week_start, week_start + 7 * 86400, (time_t)duration_min * 60, out,
			  n, d);
}

int
slots_pick(const struct slots_person *a, const struct slots_person *b, time_t from,
	   time_t until, int duration_min, const struct slots_want *want, time_t *out,
	   struct diag *d)
{
	if (check_args(a, b, duration_min, d) != 0)
		return -1;
	if (want != NULL && tz_check(want->zone, d) != 0)
		return -1;
	/* Far ends are cut to 1900..9999, so the week steps below cannot overflow. */
	if (from < (time_t)-2208988800LL)
		from = (time_t)-2208988800LL;
	if (until > (time_t)253402300799LL)
		until = (time_t)253402300799LL;
	/* A week at a time: the planner's windows are weeks to months. */
	for (time_t lo = from; lo < until; lo += 7 * 86400) {
		time_t hi = until - lo > 7 * 86400 ? lo + 7 * 86400 : until;
		time_t *v;
		size_t n;
		if (candidates(a, b, lo, hi, (time_t)duration_min * 60, &v, &n, d) != 0)
			return -1;
		long hit = n > 0 ? 0 : -1;
		if (want != NULL && n > 0) {
			/* One switch for the week's candidates: nothing else runs under it. */
			struct tz_switch sw;
			if (tz_enter(&sw, want->zone, d) != 0) {
				free(v);
				return -1;
			}
			hit = -1;
			for (size_t i = 0; i < n && hit < 0; i++) {
				struct tm tm;
				if (tz_to_local(&sw, v[i], &tm, NULL) != 0)
					continue;
				int w = tm.tm_wday == 0 ? 7 : tm.tm_wday;
				if ((!want->weekdays || (want->weekdays >> w & 1)) &&
				    (want->hour < 0 || tm.tm_hour == want->hour) &&
				    (want->minute < 0 || tm.tm_min == want->minute))
					hit = (long)i;
			}
			tz_leave(&sw);
		}
		if (hit >= 0)
			*out = v[hit];
		free(v);
		if (hit >= 0)
			return 0;
	}
	return 1;
}
