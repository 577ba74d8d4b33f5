/*
 * lua/api_time: tandem.time and its C functions. See api_time.h.
 *
 * Parsing and UTC formatting are pure arithmetic on the proleptic Gregorian
 * calendar (time/cal). Zones go through time/tz (time/tzfile's cached zones), which
 * also maps local wall times back to instants (gaps move forward, overlaps take the
 * earlier instant).
 */
#include "lua/api_time.h"

#include "time/cal.h"
#include "time/tz.h"

#include <ctype.h>
#include <lauxlib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

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
	return is_utc(zone) ? 0 : tz_check(zone, d);
}

/* The wall time at t in zone (NULL = UTC) and the zone's UTC offset then (seconds east). */
static int
wall_at(int64_t t, const char *zone, struct cal_time *w, long *off, struct diag *d)
{
	*off = 0;
	if (!is_utc(zone)) {
		struct tm tm;
		if (tz_utc_to_local(zone, (time_t)t, &tm, d) != 0)
			return -1;
		*off = tm.tm_gmtoff;
	}
	cal_from_epoch(t + *off, w);
	return 0;
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
	struct cal_time w = {0};
	int y, off_h = 0, off_m = 0, sign = 0;
#define BAD(why) diag_set(d, DIAG_INVALID, "bad time '%.64s': %s", s, why)
	if (digits(&p, 4, &y) || *p++ != '-' || digits(&p, 2, &w.mon) || *p++ != '-' ||
	    digits(&p, 2, &w.day))
		return BAD("want YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ (or an offset like +01:00)");
	w.year = y;
	if (w.mon < 1 || w.mon > 12)
		return BAD("month out of range");
	if (w.day < 1 || w.day > cal_days_in_month(w.year, w.mon))
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
	*out = cal_to_epoch(&w) - sign * (off_h * 3600 + off_m * 60);
	return 0;
}

/* The zone is checked by tz_utc_to_local (as api_time_check_zone would), once per call. */
int
api_time_format(int64_t t, const char *zone, char *buf, size_t size, struct diag *d)
{
	struct cal_time w;
	long off;
	if (wall_at(t, zone, &w, &off, d) != 0)
		return -1;
	int n = snprintf(buf, size, "%04lld-%02d-%02dT%02d:%02d:%02d", (long long)w.year, w.mon,
			 w.day, w.hour, w.min, w.sec);
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
	/* One switch for both conversions: to the wall time, and back after moving the date. */
	struct tz_switch sw;
	if (tz_enter(&sw, is_utc(zone) ? NULL : zone, d) != 0)
		return -1;
	struct tm local;
	long off = 0; /* UTC stays plain arithmetic on 64-bit years, no struct tm */
	if (sw.zone != NULL) {
		if (tz_to_local(&sw, (time_t)t, &local, d) != 0) {
			tz_leave(&sw);
			return -1;
		}
		off = local.tm_gmtoff;
	}
	struct cal_time w;
	cal_from_epoch(t + off, &w);
	if (unit == API_TIME_MONTHS) {
		int64_t m = w.year * 12 + (w.mon - 1) + n;
		w.year = m >= 0 ? m / 12 : -((-m + 11) / 12);
		w.mon = (int)(m - w.year * 12) + 1;
		int last = cal_days_in_month(w.year, w.mon);
		if (w.day > last)
			w.day = last;
	} else {
		/* Move the date by whole days through the day count, keep the wall clock. */
		int64_t days = cal_days_from_civil(w.year, w.mon, w.day) +
			       n * (unit == API_TIME_WEEKS ? 7 : 1);
		cal_civil_from_days(days, &w.year, &w.mon, &w.day);
	}
	if (sw.zone == NULL) {
		tz_leave(&sw);
		*out = cal_to_epoch(&w);
		return 0;
	}
	local = (struct tm){
		.tm_year = (int)(w.year - 1900),
		.tm_mon = w.mon - 1,
		.tm_mday = w.day,
		.tm_hour = w.hour,
		.tm_min = w.min,
		.tm_sec = w.sec,
	};
	*out = tz_to_utc(&sw, &local);
	tz_leave(&sw);
	return 0;
}

int
api_time_weekday(int64_t t, const char *zone, struct diag *d)
{
	struct cal_time w;
	long off;
	if (wall_at(t, zone, &w, &off, d) != 0)
		return -1;
	return cal_weekday(cal_days_from_civil(w.year, w.mon, w.day));
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
