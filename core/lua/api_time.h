/*
 * lua/api_time: calendar time for plugins (tandem.time) and for C callers.
 *
 * Times are epoch seconds (integers, UTC). Zones are IANA names from tzdata
 * (/usr/share/zoneinfo, or $TZDIR); "UTC" and "Z" are UTC. Calendar arithmetic
 * happens in the zone: adding 1 day across a DST change keeps the local wall
 * time; adding months clamps the day to the month's last day (Jan 31 + 1 month
 * = Feb 28/29). A local time that falls in a DST gap moves forward by the gap;
 * one that is ambiguous (the repeated hour) takes the earlier instant.
 *
 * Implementation: calendar arithmetic in time/cal; zone offsets and local times
 * through time/tz (zones read once per process by time/tzfile; the environment's TZ
 * is never touched). Safe to call from several threads.
 *
 * Lua API (in tandem.time, read-only):
 *   parse(s)              "2026-11-22T10:00:00Z", "...+01:00", "2026-11-22" (UTC
 *                         midnight) -> epoch seconds; error on bad input.
 *   format(t [, zone])    ISO 8601: "2026-11-22T10:00:00Z" in UTC, or local time
 *                         with offset "2026-11-22T11:00:00+01:00" in zone.
 *   add(t, n, unit [, zone])  unit "days", "weeks", "months" (also singular),
 *                         "hours", "minutes", "seconds" (plain intervals).
 *   weekday(t [, zone])   1 = Monday ... 7 = Sunday (ISO 8601).
 *
 * Who calls it: lua/api_core (installs the table), the scheduler/cadence code.
 */
#ifndef TANDEM_LUA_API_TIME_H
#define TANDEM_LUA_API_TIME_H

#include <stddef.h>
#include <stdint.h>

#include <lua.h>

#include "base/diag.h"

enum api_time_unit {
	API_TIME_SECONDS,
	API_TIME_MINUTES,
	API_TIME_HOURS,
	API_TIME_DAYS,
	API_TIME_WEEKS,
	API_TIME_MONTHS,
};

/* 0 or -1 with a diag naming the problem ("bad time '2026-13-01': month 13"). */
int api_time_parse(const char *s, int64_t *out, struct diag *d);
/* zone NULL = UTC. Writes at most size bytes (26 are enough). */
int api_time_format(int64_t t, const char *zone, char *buf, size_t size, struct diag *d);
int api_time_add(int64_t t, int64_t n, enum api_time_unit unit, const char *zone, int64_t *out,
		 struct diag *d);
/* 1 = Monday ... 7 = Sunday, or -1 with a diag. */
int api_time_weekday(int64_t t, const char *zone, struct diag *d);
/* 0 if zone names an installed tzdata zone (or UTC), else -1 with a diag. */
int api_time_check_zone(const char *zone, struct diag *d);
/* Parses "days", "day", ...; -1 if unknown. */
int api_time_unit_parse(const char *s, enum api_time_unit *out);

/* Pushes the (writable) tandem.time table. stack: +1 */
void api_time_push(lua_State *L);

#endif
