/*
 * rrule: the whitelisted recurrence rules and their bounded expansion. See rrule.h.
 *
 * The text is parsed here, not by libical, so that every part is checked against the
 * list tandem documents and refused by name; the rule then reaches libical as the
 * canonical text we rebuild from the parsed fields (parsed once, in rrule_parse).
 *
 * Why the extra bookkeeping around libical 3.0.16 (measured, see the service notes):
 *  - icalrecur_iterator_next() has no end bound. For MINUTELY..WEEKLY an UNTIL in the
 *    rule stops its inner search, so we hand it our horizon as a floating UNTIL. For
 *    MONTHLY its inner month loop ignores UNTIL and runs to the year 2582 (0.3 s) when
 *    no month ahead matches: before each MONTHLY step we compute ourselves (rrule_month_days)
 *    whether the current month still holds an occurrence or a visited month ahead within
 *    the horizon matches, and stop otherwise.
 *  - a zoned DTSTART drifts across DST changes, so libical only sees floating wall times
 *    and tz converts them (gap: forward by the gap; overlap: the first instant).
 *    icalrecur_iterator_new() itself also searches for the first MONTHLY occurrence
 *    (0.2 s, then NULL, for FREQ=MONTHLY;INTERVAL=3;BYMONTH=1,4,12 from November), so the
 *    same check runs before the iterator is made.
 *  - a zoned DTSTART drifts across DST changes, so libical only sees floating wall times
 *    and tz converts them (gap: forward by the gap; overlap: the first instant).
 *  - COUNT is counted here (libical does not mix COUNT with our UNTIL bound), and the
 *    rule's UNTIL is compared in UTC here.
 *  - WEEKLY with INTERVAL > 1 is misaligned: FREQ=WEEKLY;INTERVAL=3;BYDAY=SU from a
 *    Tuesday skips the first week, and WKST other than MO or SU is ignored with one
 *    BYDAY. libical expands every week; rrule_expand keeps every INTERVAL-th (weeks
 *    starting on WKST, the week holding dtstart first), checked against a brute-force
 *    expansion in the unit tests.
 *  - BYDAY ordinals together with BYMONTHDAY make icalrecur_iterator_new() fail
 *    (MALFORMEDDATA): refused at parse time.
 */
#include "time/rrule.h"

#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libical/ical.h>

#include "base/buf.h"
#include "time/rrule_internal.h"

enum { P_FREQ, P_INTERVAL, P_COUNT, P_UNTIL, P_WKST, P_BYDAY, P_BYMONTHDAY, P_BYMONTH, P_BYHOUR,
       P_BYMINUTE, P_N };
static const char *const part_names[P_N] = {"FREQ",   "INTERVAL",   "COUNT",   "UNTIL",  "WKST",
					    "BYDAY",  "BYMONTHDAY", "BYMONTH", "BYHOUR", "BYMINUTE"};
static const char *const freq_names[] = {"MINUTELY", "HOURLY", "DAILY", "WEEKLY", "MONTHLY"};
static const char *const day_names[8] = {"", "MO", "TU", "WE", "TH", "FR", "SA", "SU"};

#define SUPPORTED                                                                              \
	"tandem supports FREQ (MINUTELY, HOURLY, DAILY, WEEKLY, MONTHLY), INTERVAL, BYDAY, "   \
	"BYMONTHDAY, BYMONTH, BYHOUR, BYMINUTE, COUNT, UNTIL, WKST, and \"every N "            \
	"minutes|hours|days\""

static int
bad(struct diag *d, const char *text, const char *fmt, const char *what)
{
	char msg[512];
	snprintf(msg, sizeof(msg), fmt, what);
	return diag_set(d, DIAG_INVALID, "rule '%.200s': %s", text, msg);
}

/* ---- parsing ------------------------------------------------------------------- */

/* A whole decimal number in [lo, hi] with an optional sign; 0 on success. */
static int
parse_int(const char *s, size_t len, long lo, long hi, long *out)
{
	char tmp[16];
	if (len == 0 || len >= sizeof(tmp))
		return -1;
	memcpy(tmp, s, len);
	tmp[len] = '\0';
	size_t i = (tmp[0] == '+' || tmp[0] == '-') ? 1 : 0;
	if (tmp[i] == '\0')
		return -1;
	for (; tmp[i]; i++)
		if (!isdigit((unsigned char)tmp[i]))
			return -1;
	errno = 0;
	long v = strtol(tmp, NULL, 10);
	if (errno || v < lo || v > hi)
		return -1;
	*out = v;
	return 0;
}

static int
weekday_of(const char *s, size_t len)
{
	if (len != 2)
		return 0;
	for (int w = 1; w <= 7; w++)
		if (toupper((unsigned char)s[0]) == day_names[w][0] &&
		    toupper((unsigned char)s[1]) == day_names[w][1])
			return w;
	return 0;
}

/* UNTIL: YYYYMMDD or YYYYMMDDTHHMMSSZ. */
static int
parse_until(struct rrule *r, const char *v, size_t len)
{
	long y, mo, dd, h = 0, mi = 0, s = 0;
	if (len != 8 && len != 16)
		return -1;
	if (parse_int(v, 4, 1900, 9999, &y) || parse_int(v + 4, 2, 1, 12, &mo) ||
	    parse_int(v + 6, 2, 1, 31, &dd) || dd > cal_days_in_month(y, (int)mo))
		return -1;
	if (len == 8) {
		r->until_kind = UNTIL_DATE;
		r->until_day = cal_days_from_civil(y, (int)mo, (int)dd);
		return 0;
	}
	if (toupper((unsigned char)v[8]) != 'T' || toupper((unsigned char)v[15]) != 'Z' ||
	    parse_int(v + 9, 2, 0, 23, &h) || parse_int(v + 11, 2, 0, 59, &mi) ||
	    parse_int(v + 13, 2, 0, 59, &s))
		return -1;
	struct cal_time w = {y, (int)mo, (int)dd, (int)h, (int)mi, (int)s};
	r->until_kind = UNTIL_UTC;
	r->until_utc = (time_t)cal_to_epoch(&w);
	return 0;
}

/* One comma list item of a BY part; item is NUL-free text of length len. */
static int
parse_item(struct rrule *r, int part, const char *it, size_t len, const char *text,
	   struct diag *d)
{
	long v;
	char item[24];
	snprintf(item, sizeof(item), "%.*s", (int)(len < 20 ? len : 20), it);
	switch (part) {
	case P_BYDAY: {
		int w = len >= 2 ? weekday_of(it + len - 2, 2) : 0;
		if (w == 0 || (len > 2 && parse_int(it, len - 2, -5, 5, &v)) || (len > 2 && v == 0))
			return bad(d, text, "BYDAY value '%s' is not a weekday (MO..SU, ordinals "
				   "1..5 or -1..-5 as in 2TU, -1FR)", item);
		if (len == 2) {
			r->byday |= 1u << w;
		} else if (r->freq != RRULE_MONTHLY) {
			return bad(d, text, "BYDAY '%s': ordinals are supported only with "
				   "FREQ=MONTHLY", item);
		} else {
			r->ord[w] |= v > 0 ? 1u << (v - 1) : 1u << (4 - v);
		}
		return 0;
	}
	case P_BYMONTHDAY:
		if (parse_int(it, len, -31, 31, &v) || v == 0)
			return bad(d, text, "BYMONTHDAY value '%s' is not 1..31 or -1..-31", item);
		if (v < 0 && r->freq != RRULE_MONTHLY)
			return bad(d, text, "BYMONTHDAY '%s': negative days are supported only "
				   "with FREQ=MONTHLY", item);
		if (v > 0)
			r->mday_pos |= 1u << v;
		else
			r->mday_neg |= 1u << -v;
		return 0;
	case P_BYMONTH:
		if (parse_int(it, len, 1, 12, &v))
			return bad(d, text, "BYMONTH value '%s' is not 1..12", item);
		r->bymonth |= 1u << v;
		return 0;
	case P_BYHOUR:
		if (parse_int(it, len, 0, 23, &v))
			return bad(d, text, "BYHOUR value '%s' is not 0..23", item);
		r->byhour |= 1u << v;
		return 0;
	default: /* P_BYMINUTE */
		if (parse_int(it, len, 0, 59, &v))
			return bad(d, text, "BYMINUTE value '%s' is not 0..59", item);
		r->byminute |= 1ull << v;
		return 0;
	}
}

static int
parse_part(struct rrule *r, const char *name, size_t nlen, const char *v, size_t vlen,
	   const char *text, struct diag *d)
{
	char pname[24];
	snprintf(pname, sizeof(pname), "%.*s", (int)(nlen < 20 ? nlen : 20), name);
	for (char *p = pname; *p; p++)
		*p = (char)toupper((unsigned char)*p);
	int part = -1;
	for (int i = 0; i < P_N; i++)
		if (strcmp(pname, part_names[i]) == 0)
			part = i;
	if (part < 0) {
		const char *why = "";
		if (strcmp(pname, "BYSETPOS") == 0)
			why = " (libical 3.0 ignores it with WEEKLY)";
		char msg[400];
		snprintf(msg, sizeof(msg), "part '%s' is not supported%s (" SUPPORTED ")", pname,
			 why);
		return diag_set(d, DIAG_INVALID, "rule '%.200s': %s", text, msg);
	}
	if (r->given & (1u << part))
		return bad(d, text, "part '%s' is given twice", pname);
	r->given |= 1u << part;
	long n;
	char val[40];
	snprintf(val, sizeof(val), "%.*s", (int)(vlen < 32 ? vlen : 32), v);
	switch (part) {
	case P_FREQ:
		for (int f = 0; f < 5; f++)
			if (strlen(freq_names[f]) == vlen && strncasecmp(v, freq_names[f], vlen) == 0) {
				r->freq = (enum rrule_freq)f;
				return 0;
			}
		return bad(d, text, "FREQ=%s is not supported (tandem supports MINUTELY, HOURLY, "
			   "DAILY, WEEKLY, MONTHLY)", val);
	case P_INTERVAL:
		if (parse_int(v, vlen, 1, 1000, &n))
			return bad(d, text, "INTERVAL=%s is not 1..1000", val);
		r->interval = (int)n;
		return 0;
	case P_COUNT:
		if (parse_int(v, vlen, 1, 100000, &n))
			return bad(d, text, "COUNT=%s is not 1..100000", val);
		r->count = (int)n;
		return 0;
	case P_UNTIL:
		if (parse_until(r, v, vlen))
			return bad(d, text, "UNTIL=%s is not a date YYYYMMDD or a UTC time "
				   "YYYYMMDDTHHMMSSZ", val);
		return 0;
	case P_WKST:
		if ((r->wkst = weekday_of(v, vlen)) == 0)
			return bad(d, text, "WKST=%s is not a weekday (MO..SU)", val);
		return 0;
	}
	if (vlen == 0)
		return bad(d, text, "part '%s' has no value", pname);
	for (const char *it = v, *end = v + vlen; it <= end;) {
		const char *c = memchr(it, ',', (size_t)(end - it));
		size_t len = c ? (size_t)(c - it) : (size_t)(end - it);
		if (parse_item(r, part, it, len, text, d))
			return -1;
		it += len + 1;
	}
	return 0;
}

/* "every N minutes|hours|days", N optional with the singular, units also min/m, h, d
 * ("every 15m", "every 7d"). 1 when text is not that form. */
static int
parse_every(struct rrule *r, const char *text, struct diag *d)
{
	if (strncasecmp(text, "every ", 6) != 0)
		return 1;
	const char *p = text + 6;
	long n = 1;
	int num = 0;
	if (isdigit((unsigned char)*p)) {
		const char *q = p;
		while (isdigit((unsigned char)*q))
			q++;
		if (parse_int(p, (size_t)(q - p), 1, 1000, &n))
			return bad(d, text, "%s", "want \"every N minutes|hours|days\" with N 1..1000");
		p = *q == ' ' ? q + 1 : q;
		num = 1;
	}
	/* unit names: singular (without N or N = 1), plural (with N), short (with N) */
	static const struct {
		const char *name;
		int freq, form; /* form: 0 singular, 1 plural, 2 short */
	} units[] = {
		{"minute", RRULE_MINUTELY, 0}, {"minutes", RRULE_MINUTELY, 1}, {"min", RRULE_MINUTELY, 2},
		{"m", RRULE_MINUTELY, 2},      {"hour", RRULE_HOURLY, 0},      {"hours", RRULE_HOURLY, 1},
		{"h", RRULE_HOURLY, 2},	       {"day", RRULE_DAILY, 0},	       {"days", RRULE_DAILY, 1},
		{"d", RRULE_DAILY, 2},
	};
	for (size_t u = 0; u < sizeof(units) / sizeof(units[0]); u++) {
		if (strcasecmp(p, units[u].name) != 0)
			continue;
		int ok = units[u].form == 0 ? n == 1 : num;
		if (!ok)
			break;
		r->freq = (enum rrule_freq)units[u].freq;
		r->interval = (int)n;
		r->given = 1u << P_FREQ | 1u << P_INTERVAL;
		return 0;
	}
	return bad(d, text, "%s", "want \"every N minutes|hours|days\" with N 1..1000");
}

/* ---- which days of a month match ------------------------------------------------ */

/* Bit k set for each day k (1..len) of a month of len days starting on weekday wd1 (1 =
 * Monday) that the rule's BYMONTHDAY and BYDAY (with ordinals) allow; the month filter
 * (BYMONTH) is the caller's. dday: dtstart's day, used when neither part is given and
 * the rule is MONTHLY (0 = any day: the static check, which has no dtstart). */
static uint32_t
month_mask(const struct rrule *r, int len, int wd1, int dday)
{
	uint32_t days = 0;
	int has_day = r->byday != 0;
	for (int w = 1; w <= 7; w++)
		has_day |= r->ord[w] != 0;
	for (int k = 1; k <= len; k++) {
		int ok;
		if (r->mday_pos | r->mday_neg)
			ok = (r->mday_pos >> k & 1) || (r->mday_neg >> (len + 1 - k) & 1);
		else
			ok = has_day || r->freq != RRULE_MONTHLY || dday == 0 || k == dday;
		if (ok && has_day) {
			int w = (wd1 - 1 + k - 1) % 7 + 1;
			int pos = (k - 1) / 7 + 1, neg = (len - k) / 7 + 1;
			ok = (r->byday >> w & 1) || (r->ord[w] >> (pos - 1) & 1) ||
			     (r->ord[w] >> (4 + neg) & 1);
		}
		if (ok)
			days |= 1u << k;
	}
	return days;
}

uint32_t
rrule_month_days(const struct rrule *r, int64_t y, int m, int dday)
{
	if (r->bymonth && !(r->bymonth >> m & 1))
		return 0;
	int wd1 = cal_weekday(cal_days_from_civil(y, m, 1));
	return month_mask(r, cal_days_in_month(y, m), wd1, dday);
}

/* 1 when some month of some year has a matching day (any length a month can have, any
 * first weekday). */
static int
possible_ever(const struct rrule *r)
{
	for (int m = 1; m <= 12; m++) {
		if (r->bymonth && !(r->bymonth >> m & 1))
			continue;
		int lens[2] = {cal_days_in_month(2023, m), cal_days_in_month(2024, m)};
		for (int l = 0; l < 2; l++)
			for (int wd1 = 1; wd1 <= 7; wd1++)
				if (month_mask(r, lens[l], wd1, 0))
					return 1;
	}
	return 0;
}

/* ---- canonical text -------------------------------------------------------------- */

static int
build_text(struct rrule *r, struct diag *d)
{
	struct buf b = {0};
	int rc = buf_printf(&b, d, "FREQ=%s", freq_names[r->freq]);
	if (!rc && r->interval > 1)
		rc = buf_printf(&b, d, ";INTERVAL=%d", r->interval);
	if (!rc && (r->byday || r->ord[1] | r->ord[2] | r->ord[3] | r->ord[4] | r->ord[5] |
				r->ord[6] | r->ord[7])) {
		const char *sep = ";BYDAY=";
		for (int w = 1; w <= 7 && !rc; w++) {
			if (r->byday >> w & 1) {
				rc = buf_printf(&b, d, "%s%s", sep, day_names[w]);
				sep = ",";
			}
			for (int p = 0; p < 10 && !rc; p++)
				if (r->ord[w] >> p & 1) {
					rc = buf_printf(&b, d, "%s%d%s", sep, p < 5 ? p + 1 : 4 - p,
							day_names[w]);
					sep = ",";
				}
		}
	}
	const char *sep = ";BYMONTHDAY=";
	for (int k = 1; k <= 31 && !rc; k++)
		if (r->mday_pos >> k & 1) {
			rc = buf_printf(&b, d, "%s%d", sep, k);
			sep = ",";
		}
	for (int k = 1; k <= 31 && !rc; k++)
		if (r->mday_neg >> k & 1) {
			rc = buf_printf(&b, d, "%s-%d", sep, k);
			sep = ",";
		}
	sep = ";BYMONTH=";
	for (int m = 1; m <= 12 && !rc; m++)
		if (r->bymonth >> m & 1) {
			rc = buf_printf(&b, d, "%s%d", sep, m);
			sep = ",";
		}
	sep = ";BYHOUR=";
	for (int h = 0; h < 24 && !rc; h++)
		if (r->byhour >> h & 1) {
			rc = buf_printf(&b, d, "%s%d", sep, h);
			sep = ",";
		}
	sep = ";BYMINUTE=";
	for (int m = 0; m < 60 && !rc; m++)
		if (r->byminute >> m & 1) {
			rc = buf_printf(&b, d, "%s%d", sep, m);
			sep = ",";
		}
	if (!rc && r->wkst != 1)
		rc = buf_printf(&b, d, ";WKST=%s", day_names[r->wkst]);
	/* Up to here the text is what libical sees; COUNT and UNTIL are ours. */
	size_t ical_len = b.len;
	if (!rc && r->count)
		rc = buf_printf(&b, d, ";COUNT=%d", r->count);
	if (!rc && r->until_kind == UNTIL_DATE) {
		int64_t y;
		int mo, dd;
		cal_civil_from_days(r->until_day, &y, &mo, &dd);
		rc = buf_printf(&b, d, ";UNTIL=%04lld%02d%02d", (long long)y, mo, dd);
	} else if (!rc && r->until_kind == UNTIL_UTC) {
		struct cal_time w;
		cal_from_epoch(r->until_utc, &w);
		rc = buf_printf(&b, d, ";UNTIL=%04lld%02d%02dT%02d%02d%02dZ", (long long)w.year,
				w.mon, w.day, w.hour, w.min, w.sec);
	}
	if (rc) {
		buf_fini(&b);
		return -1;
	}
	char save = b.data[ical_len];
	b.data[ical_len] = '\0';
	r->ical = icalrecurrencetype_from_string(b.data);
	b.data[ical_len] = save;
	if (r->ical.freq == ICAL_NO_RECURRENCE) {
		icalerror_clear_errno();
		buf_fini(&b);
		return diag_set(d, DIAG_INTERNAL, "libical refused the rule %s", b.data);
	}
	/* libical 3.0.16 aligns weekly INTERVAL>1 periods wrongly (measured: FREQ=WEEKLY;
	 * INTERVAL=3;BYDAY=SU from a Tuesday skips the first week, and WKST other than MO/SU
	 * is ignored): it expands every week, and rrule_expand keeps every INTERVAL-th. */
	if (r->freq == RRULE_WEEKLY)
		r->ical.interval = 1;
	r->text = buf_release(&b);
	return 0;
}

struct rrule *
rrule_parse(const char *text, struct diag *d)
{
	if (text == NULL || text[0] == '\0') {
		diag_set(d, DIAG_INVALID, "empty rule (want an RRULE like \"FREQ=WEEKLY;BYDAY=TU\" "
			 "or \"every 15 minutes\")");
		return NULL;
	}
	struct rrule *r = calloc(1, sizeof(*r));
	if (r == NULL) {
		diag_set(d, DIAG_NOMEM, "out of memory (rule)");
		return NULL;
	}
	r->interval = 1;
	r->wkst = 1;
	r->freq = RRULE_WEEKLY;
	const char *body = text;
	if (strncasecmp(body, "RRULE:", 6) == 0)
		body += 6;
	int rc = parse_every(r, text, d);
	if (rc == 1) {
		rc = 0;
		/* FREQ first, whatever its place: the other parts' checks depend on it. */
		const char *f = body;
		while (*f && strncasecmp(f, "FREQ=", 5) != 0)
			f += strcspn(f, ";") + (f[strcspn(f, ";")] == ';');
		if (*f) {
			size_t vl = strcspn(f + 5, ";");
			rc = parse_part(r, f, 4, f + 5, vl, text, d);
		} else {
			rc = bad(d, text, "%s", "part 'FREQ' is missing (" SUPPORTED ")");
		}
		for (const char *p = body; !rc && *p;) {
			size_t len = strcspn(p, ";");
			const char *eq = memchr(p, '=', len);
			if (eq == NULL) {
				char item[40];
				snprintf(item, sizeof(item), "%.*s", (int)(len < 32 ? len : 32), p);
				rc = bad(d, text, "'%s' is not a NAME=VALUE part", item);
				break;
			}
			size_t nlen = (size_t)(eq - p);
			if (p != f) /* FREQ was parsed first; a second one is refused as given twice */
				rc = parse_part(r, p, nlen, eq + 1, len - nlen - 1, text, d);
			p += len;
			if (*p == ';')
				p++;
		}
	}
	if (!rc && r->count && r->until_kind != UNTIL_NONE)
		rc = bad(d, text, "%s", "COUNT and UNTIL cannot both be given");
	int hm = r->freq == RRULE_MINUTELY || r->freq == RRULE_HOURLY;
	if (!rc && hm && (r->mday_pos | r->mday_neg | r->bymonth))
		rc = bad(d, text, "%s", "BYMONTHDAY and BYMONTH are not supported with FREQ=MINUTELY "
			 "or HOURLY (jobs: use DAILY with BYHOUR)");
	if (!rc && r->freq == RRULE_MINUTELY && r->byminute)
		rc = bad(d, text, "%s", "BYMINUTE is not supported with FREQ=MINUTELY");
	int ords = 0;
	for (int w = 1; w <= 7; w++)
		ords |= r->ord[w] != 0;
	if (!rc && ords && (r->mday_pos | r->mday_neg))
		rc = bad(d, text, "%s", "BYDAY ordinals (2TU, -1FR) cannot be combined with "
			 "BYMONTHDAY (libical 3.0 refuses it)");
	if (!rc && r->freq == RRULE_WEEKLY && (r->mday_pos | r->mday_neg))
		rc = bad(d, text, "%s", "BYMONTHDAY is not allowed with FREQ=WEEKLY (RFC 5545)");
	if (!rc && !possible_ever(r))
		rc = bad(d, text, "%s", "it can never occur (no month has such a day)");
	if (!rc)
		rc = build_text(r, d);
	if (rc) {
		rrule_delete(r);
		return NULL;
	}
	return r;
}

void
rrule_delete(struct rrule *r)
{
	if (r == NULL)
		return;
	free(r->text);
	free(r);
}

unsigned
rrule_open(const struct rrule *r)
{
	unsigned open = 0;
	int any_day = r->byday != 0;
	for (int w = 1; w <= 7; w++)
		any_day |= r->ord[w] != 0;
	if (r->freq == RRULE_WEEKLY && !any_day)
		open |= RRULE_OPEN_DAY;
	if (r->freq >= RRULE_DAILY && r->byhour == 0)
		open |= RRULE_OPEN_TIME;
	return open;
}

enum rrule_freq
rrule_freq(const struct rrule *r)
{
	return r->freq;
}

int
rrule_interval(const struct rrule *r)
{
	return r->interval;
}

int
rrule_count(const struct rrule *r)
{
	return r->count;
}

const char *
rrule_text(const struct rrule *r)
{
	return r->text;
}
