/*
 * lua/api_time: tandem.time and its C functions. See api_time.h.
 *
 * Parsing and UTC formatting are pure arithmetic on the proleptic Gregorian
 * calendar (days_from_civil below). Zones use glibc under a temporary TZ switch;
 * local wall times are mapped back to instants by resolve_local(), which does not
 * rely on mktime's handling of gaps and overlaps.
 */
#include "lua/api_time.h"

#include "time/tz.h"

#include <ctype.h>
#include <lauxlib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* ---- calendar arithmetic ------------------------------------------------------ */

static int
is_leap(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int
days_in_month(int64_t y, int m)
{
	static const int dm[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	return m == 2 && is_leap(y) ? 29 : dm[m - 1];
}

/* Days since 1970-01-01 of a civil date (eras of 400 years, March-based years). */
static int64_t
days_from_civil(int64_t y, int m, int d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;
	int64_t mp = (m + 9) % 12;
	int64_t doy = (153 * mp + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

/* Local wall time, as plain fields. */
struct wall {
	int64_t y;
	int mon, day, hour, min, sec;
};

static int64_t
wall_as_utc(const struct wall *w)
{
	return days_from_civil(w->y, w->mon, w->day) * 86400 + w->hour * 3600 + w->min * 60 +
	       w->sec;
}

/* ---- zones ------------------------------------------------------------------- */

static int
is_utc(const char *zone)
{
	return zone == NULL || strcmp(zone, "UTC") == 0 || strcmp(zone, "Z") == 0 ||
	       strcmp(zone, "Etc/UTC") == 0;
}

int
api_time_check_zone(const char *zone, struct diag *d)
{
	/* tz_valid caches its answers: format/add/weekday call this for every use. */
	if (is_utc(zone) || tz_valid(zone))
		return 0;
	return diag_set(d, DIAG_INVALID, "unknown time zone '%s' (want an IANA name like "
			"\"Europe/Paris\")", zone);
}

/*
 * The TZ switch. Not thread-safe: TZ is process-wide. zone_enter saves the
 * current TZ and installs the zone; zone_leave restores.
 */
struct tz_saved {
	char value[256];
	int had;
};

static void
zone_enter(const char *zone, struct tz_saved *s)
{
	const char *old = getenv("TZ");
	s->had = old != NULL;
	snprintf(s->value, sizeof(s->value), "%s", old ? old : "");
	char tz[160];
	snprintf(tz, sizeof(tz), ":%s", zone);
	setenv("TZ", tz, 1);
	tzset();
}

static void
zone_leave(const struct tz_saved *s)
{
	if (s->had)
		setenv("TZ", s->value, 1);
	else
		unsetenv("TZ");
	tzset();
}

/* UTC offset (seconds east) at instant t; the zone must be entered. */
static long
offset_at(int64_t t)
{
	time_t tt = (time_t)t;
	struct tm tm;
	if (localtime_r(&tt, &tm) == NULL)
		return 0;
	return tm.tm_gmtoff;
}

static void
to_wall(int64_t t, long off, struct wall *w)
{
	int64_t s = t + off;
	int64_t days = s >= 0 ? s / 86400 : -((-s + 86399) / 86400);
	int64_t rem = s - days * 86400;
	/* civil_from_days */
	int64_t z = days + 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	int64_t doe = z - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t mp = (5 * doy + 2) / 153;
	w->day = (int)(doy - (153 * mp + 2) / 5 + 1);
	w->mon = (int)(mp < 10 ? mp + 3 : mp - 9);
	w->y = yoe + era * 400 + (w->mon <= 2);
	w->hour = (int)(rem / 3600);
	w->min = (int)(rem / 60 % 60);
	w->sec = (int)(rem % 60);
}

/*
 * The instant showing wall time w in the entered zone. Transitions are at least
 * days apart, so the offsets a day before and a day after cover both sides of
 * any transition near w. Both valid (the repeated hour): take the earlier. None
 * valid (a gap): use the offset before the gap, which moves the wall time
 * forward by the gap's length.
 */
static int64_t
resolve_local(const struct wall *w)
{
	int64_t u = wall_as_utc(w);
	long before = offset_at(u - 86400), after = offset_at(u + 86400);
	int64_t t1 = u - before, t2 = u - after;
	int ok1 = offset_at(t1) == before, ok2 = offset_at(t2) == after;
	if (ok1 && ok2)
		return t1 < t2 ? t1 : t2;
	if (ok1)
		return t1;
	if (ok2)
		return t2;
	return t1;
}

/* ---- the C API ---------------------------------------------------------------- */

static int
digits(const char **p, int n, int *out)
{
	int v = 0;
	for (int i = 0; i < n; i++) {
		if (!isdigit((unsigned char)(*p)[i]))
			return -1;
		v = v * 10 + ((*p)[i] - '0');
	}
	*p += n;
	*out = v;
	return 0;
}

int
api_time_parse(const char *s, int64_t *out, struct diag *d)
{
	const char *p = s;
	struct wall w = {0};
	int y, off_h = 0, off_m = 0, sign = 0;
#define BAD(why) diag_set(d, DIAG_INVALID, "bad time '%.64s': %s", s, why)
	if (digits(&p, 4, &y) || *p++ != '-' || digits(&p, 2, &w.mon) || *p++ != '-' ||
	    digits(&p, 2, &w.day))
		return BAD("want YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ (or an offset like +01:00)");
	w.y = y;
	if (w.mon < 1 || w.mon > 12)
		return BAD("month out of range");
	if (w.day < 1 || w.day > days_in_month(w.y, w.mon))
		return BAD("day out of range for the month");
	if (*p != '\0') {
		if ((*p != 'T' && *p != ' ') || (p++, digits(&p, 2, &w.hour)) || *p++ != ':' ||
		    digits(&p, 2, &w.min))
			return BAD("want THH:MM:SS after the date");
		if (*p == ':' && (p++, digits(&p, 2, &w.sec)))
			return BAD("bad seconds");
		if (w.hour > 23 || w.min > 59 || w.sec > 59)
			return BAD("time of day out of range");
		if (*p == 'Z' || *p == 'z') {
			p++;
		} else if (*p == '+' || *p == '-') {
			sign = *p++ == '-' ? -1 : 1;
			if (digits(&p, 2, &off_h) || (*p == ':' && (p++, 0)) || digits(&p, 2, &off_m))
				return BAD("bad UTC offset (want +HH:MM)");
			if (off_h > 23 || off_m > 59)
				return BAD("UTC offset out of range");
		} else {
			return BAD("missing zone designator (Z or an offset like +01:00)");
		}
		if (*p != '\0')
			return BAD("unexpected characters at the end");
	}
#undef BAD
	*out = wall_as_utc(&w) - sign * (off_h * 3600 + off_m * 60);
	return 0;
}

int
api_time_format(int64_t t, const char *zone, char *buf, size_t size, struct diag *d)
{
	if (api_time_check_zone(zone, d) != 0)
		return -1;
	long off = 0;
	if (!is_utc(zone)) {
		struct tz_saved s;
		zone_enter(zone, &s);
		off = offset_at(t);
		zone_leave(&s);
	}
	struct wall w;
	to_wall(t, off, &w);
	int n = snprintf(buf, size, "%04lld-%02d-%02dT%02d:%02d:%02d", (long long)w.y, w.mon, w.day,
			 w.hour, w.min, w.sec);
	if (is_utc(zone))
		snprintf(buf + n, size > (size_t)n ? size - (size_t)n : 0, "Z");
	else
		snprintf(buf + n, size > (size_t)n ? size - (size_t)n : 0, "%c%02ld:%02ld",
			 off < 0 ? '-' : '+', labs(off) / 3600, labs(off) / 60 % 60);
	return 0;
}

int
api_time_unit_parse(const char *s, enum api_time_unit *out)
{
	static const struct {
		const char *name;
		enum api_time_unit unit;
	} units[] = {
		{"seconds", API_TIME_SECONDS}, {"second", API_TIME_SECONDS},
		{"minutes", API_TIME_MINUTES}, {"minute", API_TIME_MINUTES},
		{"hours", API_TIME_HOURS},     {"hour", API_TIME_HOURS},
		{"days", API_TIME_DAYS},       {"day", API_TIME_DAYS},
		{"weeks", API_TIME_WEEKS},     {"week", API_TIME_WEEKS},
		{"months", API_TIME_MONTHS},   {"month", API_TIME_MONTHS},
	};
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcmp(s, units[i].name) == 0) {
			*out = units[i].unit;
			return 0;
		}
	}
	return -1;
}

int
api_time_add(int64_t t, int64_t n, enum api_time_unit unit, const char *zone, int64_t *out,
	     struct diag *d)
{
	static const int64_t plain[] = {[API_TIME_SECONDS] = 1, [API_TIME_MINUTES] = 60,
					[API_TIME_HOURS] = 3600};
	if (n > 1000000 || n < -1000000)
		return diag_set(d, DIAG_INVALID, "time.add: %lld is too large a count", (long long)n);
	if (unit <= API_TIME_HOURS) {
		*out = t + n * plain[unit];
		return 0;
	}
	if (api_time_check_zone(zone, d) != 0)
		return -1;
	struct tz_saved s;
	int utc = is_utc(zone);
	if (!utc)
		zone_enter(zone, &s);
	struct wall w;
	to_wall(t, utc ? 0 : offset_at(t), &w);
	if (unit == API_TIME_MONTHS) {
		int64_t m = w.y * 12 + (w.mon - 1) + n;
		w.y = m >= 0 ? m / 12 : -((-m + 11) / 12);
		w.mon = (int)(m - w.y * 12) + 1;
		int last = days_in_month(w.y, w.mon);
		if (w.day > last)
			w.day = last;
	} else {
		/* Move the date by whole days through the day count, keep the wall clock. */
		int64_t days = days_from_civil(w.y, w.mon, w.day) + n * (unit == API_TIME_WEEKS ? 7 : 1);
		struct wall dw;
		to_wall(days * 86400, 0, &dw);
		w.y = dw.y;
		w.mon = dw.mon;
		w.day = dw.day;
	}
	*out = utc ? wall_as_utc(&w) : resolve_local(&w);
	if (!utc)
		zone_leave(&s);
	return 0;
}

int
api_time_weekday(int64_t t, const char *zone, struct diag *d)
{
	if (api_time_check_zone(zone, d) != 0)
		return -1;
	long off = 0;
	if (!is_utc(zone)) {
		struct tz_saved s;
		zone_enter(zone, &s);
		off = offset_at(t);
		zone_leave(&s);
	}
	struct wall w;
	to_wall(t, off, &w);
	int64_t days = days_from_civil(w.y, w.mon, w.day);
	/* 1970-01-01 was a Thursday (ISO 4). */
	int64_t wd = ((days % 7) + 7 + 3) % 7;
	return (int)wd + 1;
}

/* ---- Lua bindings ------------------------------------------------------------- */

static int64_t
check_time(lua_State *L, int arg)
{
	int ok = 0;
	lua_Integer t = lua_tointegerx(L, arg, &ok);
	if (!ok)
		luaL_argerror(L, arg, "expected a time (integer epoch seconds)");
	return t;
}

static const char *
opt_zone(lua_State *L, int arg)
{
	const char *zone = luaL_optstring(L, arg, NULL);
	struct diag d;
	if (api_time_check_zone(zone, &d) != 0)
		luaL_argerror(L, arg, d.msg);
	return zone;
}

static int
l_parse(lua_State *L)
{
	const char *s = luaL_checkstring(L, 1);
	int64_t t;
	struct diag d;
	if (api_time_parse(s, &t, &d) != 0)
		return luaL_error(L, "%s", d.msg);
	lua_pushinteger(L, t);
	return 1;
}

static int
l_format(lua_State *L)
{
	int64_t t = check_time(L, 1);
	const char *zone = opt_zone(L, 2);
	char buf[64];
	struct diag d;
	if (api_time_format(t, zone, buf, sizeof(buf), &d) != 0)
		return luaL_error(L, "%s", d.msg);
	lua_pushstring(L, buf);
	return 1;
}

static int
l_add(lua_State *L)
{
	int64_t t = check_time(L, 1);
	int ok = 0;
	lua_Integer n = lua_tointegerx(L, 2, &ok);
	if (!ok)
		return luaL_argerror(L, 2, "expected an integer count");
	enum api_time_unit unit;
	if (api_time_unit_parse(luaL_checkstring(L, 3), &unit) != 0)
		return luaL_argerror(L, 3, "unit must be days, weeks, months, hours, minutes or "
					   "seconds");
	const char *zone = opt_zone(L, 4);
	int64_t out;
	struct diag d;
	if (api_time_add(t, n, unit, zone, &out, &d) != 0)
		return luaL_error(L, "%s", d.msg);
	lua_pushinteger(L, out);
	return 1;
}

static int
l_weekday(lua_State *L)
{
	int64_t t = check_time(L, 1);
	const char *zone = opt_zone(L, 2);
	struct diag d;
	int wd = api_time_weekday(t, zone, &d);
	if (wd < 0)
		return luaL_error(L, "%s", d.msg);
	lua_pushinteger(L, wd);
	return 1;
}

void
api_time_push(lua_State *L)
{
	static const luaL_Reg fns[] = {
		{"parse", l_parse}, {"format", l_format}, {"add", l_add}, {"weekday", l_weekday},
		{NULL, NULL},
	};
	luaL_newlib(L, fns);
}
