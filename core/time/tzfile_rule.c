/*
 * tzfile_rule: the POSIX TZ rule strings of TZif footers (RFC 8536 section 3.3), parsed and
 * evaluated. See tzfile.h for the contract; tzfile.c calls these through tzfile_internal.h.
 *
 * A rule is "std offset [dst [offset] [,start[/time],end[/time]]]". Names are three or more
 * letters, or <...> quoted letters, digits, '+' and '-'. Offsets are [+-]hh[:mm[:ss]] WEST
 * of UTC (hours 0-24); rule times [+-]hhh[:mm[:ss]] with hours -167..167 (version 3), 02:00
 * by default. Dates: Jn (1-365, February 29 never counted), n (0-365, counted), Mm.w.d
 * (day d, 0 = Sunday, of week w, 5 = the last, of month m). DST without a rule follows
 * M3.2.0,M11.1.0, as glibc does without a posixrules file.
 *
 * Evaluation follows glibc's: the start and end changes of the instant's UTC year, the
 * start read in standard time and the end in daylight time; when the start falls after the
 * end in that year (southern hemisphere), DST is outside [end, start).
 */
#include "time/tzfile_internal.h"

#include <stdint.h>
#include <string.h>

#include "time/cal.h"

static int
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static int
is_alpha(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

static const char *
parse_name(const char *p, char *out)
{
	const char *s = p;
	size_t n;
	if (*p == '<') {
		s = ++p;
		while (is_alpha(*p) || is_digit(*p) || *p == '+' || *p == '-')
			p++;
		if (*p != '>')
			return NULL;
		n = (size_t)(p - s);
		p++;
	} else {
		while (is_alpha(*p))
			p++;
		n = (size_t)(p - s);
	}
	if (n < 3 || n >= TZFILE_ABBR_MAX)
		return NULL;
	memcpy(out, s, n);
	out[n] = '\0';
	return p;
}

/* An unsigned number of 1 to maxdig digits. */
static const char *
parse_num(const char *p, int maxdig, int *out)
{
	int v = 0, n = 0;
	while (is_digit(*p)) {
		if (++n > maxdig)
			return NULL;
		v = v * 10 + (*p++ - '0');
	}
	if (n == 0)
		return NULL;
	*out = v;
	return p;
}

/* [+-]h[h[h]][:mm[:ss]] with hours at most maxh; seconds, signed. */
static const char *
parse_hms(const char *p, int maxh, int32_t *out)
{
	int sign = 1, h, m = 0, s = 0;
	if (*p == '+' || *p == '-')
		sign = *p++ == '-' ? -1 : 1;
	if ((p = parse_num(p, 3, &h)) == NULL || h > maxh)
		return NULL;
	if (*p == ':') {
		if ((p = parse_num(p + 1, 2, &m)) == NULL || m > 59)
			return NULL;
		if (*p == ':' && ((p = parse_num(p + 1, 2, &s)) == NULL || s > 59))
			return NULL;
	}
	*out = sign * (h * 3600 + m * 60 + s);
	return p;
}

static const char *
parse_date(const char *p, struct tzfile_rule_date *r)
{
	int n;
	r->m = r->w = r->d = 0;
	if (*p == 'J') {
		if ((p = parse_num(p + 1, 3, &n)) == NULL || n < 1 || n > 365)
			return NULL;
		r->kind = 'J';
		r->d = n;
	} else if (*p == 'M') {
		if ((p = parse_num(p + 1, 2, &r->m)) == NULL || r->m < 1 || r->m > 12 || *p != '.')
			return NULL;
		if ((p = parse_num(p + 1, 1, &r->w)) == NULL || r->w < 1 || r->w > 5 || *p != '.')
			return NULL;
		if ((p = parse_num(p + 1, 1, &r->d)) == NULL || r->d > 6)
			return NULL;
		r->kind = 'M';
	} else {
		if ((p = parse_num(p, 3, &n)) == NULL || n > 365)
			return NULL;
		r->kind = 'D';
		r->d = n;
	}
	r->secs = 7200;
	if (*p == '/')
		p = parse_hms(p + 1, 167, &r->secs);
	return p;
}

int
tzfile_rule_parse(const char *s, struct tzfile_rule *r, const char **why)
{
	memset(r, 0, sizeof(*r));
	int32_t v;
	const char *p = parse_name(s, r->std_name);
	if (p == NULL)
		return *why = "standard time name", -1;
	if ((p = parse_hms(p, 24, &v)) == NULL)
		return *why = "standard time offset", -1;
	r->std_off = -v;
	r->present = 1;
	if (*p == '\0')
		return 0;
	if ((p = parse_name(p, r->dst_name)) == NULL)
		return *why = "daylight time name", -1;
	r->has_dst = 1;
	r->dst_off = r->std_off + 3600;
	if (*p != '\0' && *p != ',') {
		if ((p = parse_hms(p, 24, &v)) == NULL)
			return *why = "daylight time offset", -1;
		r->dst_off = -v;
	}
	if (*p == '\0') {
		r->start = (struct tzfile_rule_date){'M', 3, 2, 0, 7200};
		r->end = (struct tzfile_rule_date){'M', 11, 1, 0, 7200};
		return 0;
	}
	if (*p != ',' || (p = parse_date(p + 1, &r->start)) == NULL)
		return *why = "daylight time start", -1;
	if (*p != ',' || (p = parse_date(p + 1, &r->end)) == NULL)
		return *why = "daylight time end", -1;
	if (*p != '\0')
		return *why = "text after the rule", -1;
	return 0;
}

/* The instant of a change in a year: the date's midnight plus the rule time, read at off. */
static int64_t
change_at(int64_t year, const struct tzfile_rule_date *r, int32_t off)
{
	int64_t days = cal_days_from_civil(year, 1, 1);
	if (r->kind == 'J') {
		days += r->d - 1 + (cal_is_leap(year) && r->d >= 60);
	} else if (r->kind == 'D') {
		days += r->d;
	} else {
		int64_t first = cal_days_from_civil(year, r->m, 1);
		int day = r->d - cal_weekday(first) % 7; /* cal_weekday: 7 = Sunday */
		if (day < 0)
			day += 7;
		int dim = cal_days_in_month(year, r->m);
		for (int i = 1; i < r->w && day + 7 < dim; i++)
			day += 7;
		days = first + day;
	}
	return days * 86400 + r->secs - off;
}

void
tzfile_rule_eval(const struct tzfile_rule *r, int64_t t, struct tzfile_info *out, int64_t *until)
{
	if (!r->has_dst) {
		*out = (struct tzfile_info){r->std_off, 0, r->std_name};
		*until = INT64_MAX;
		return;
	}
	int64_t year;
	int mon, day;
	cal_civil_from_days(t >= 0 ? t / 86400 : -((-t + 86399) / 86400), &year, &mon, &day);
	int64_t start = change_at(year, &r->start, r->std_off);
	int64_t end = change_at(year, &r->end, r->dst_off);
	int dst = start > end ? (t < end || t >= start) : (t >= start && t < end);
	int64_t next = cal_days_from_civil(year + 1, 1, 1) * 86400;
	if (start > t && start < next)
		next = start;
	if (end > t && end < next)
		next = end;
	*until = next;
	if (dst)
		*out = (struct tzfile_info){r->dst_off, 1, r->dst_name};
	else
		*out = (struct tzfile_info){r->std_off, 0, r->std_name};
}
