/*
 * tz: IANA time zones: checking a zone name, converting between UTC and local wall
 * time in a zone (through time/tzfile, never the environment), checking calendar dates.
 *
 * Called by: people (every person has a zone, hire dates), the enrollment importer,
 * config (the workspace zone, program dates), lua/api_time (tandem.time), program/
 * cohort (zone offsets of a cohort), sched (job zones).
 *
 * Contract:
 *  - tz_valid(name) is true when name is a safe relative IANA name (starts with an
 *    uppercase letter, only letters, digits and "/_+-", no "." or ".." components)
 *    and TZDIR/name (TZDIR from the environment, else /usr/share/zoneinfo) is a valid
 *    TZif file. Zones are read by time/tzfile once per process and path and kept
 *    (immutable) in its cache: asking again costs a hash lookup, a changed TZDIR is
 *    noticed, a missing or bad file is asked about again each time (a zone installed
 *    meanwhile is found), but a zone file changed after loading is not re-read.
 *  - Conversions never touch the environment (no setenv("TZ"), no tzset, no
 *    localtime): they read the cached zone, so any number of threads convert at once
 *    without a lock, and code that reads TZ elsewhere sees nothing. struct tm comes out
 *    as localtime_r fills it (tm_wday, tm_yday, tm_isdst, tm_gmtoff; tm_zone points at
 *    the zone's abbreviation, valid for the life of the process).
 *    tz_utc_to_local and tz_local_to_utc look the zone up each call; a caller making
 *    several conversions in one zone (calendar arithmetic: to local, move the date,
 *    back to UTC) enters once (tz_enter ... tz_leave) and saves the lookups.
 *  - zone NULL, "UTC" and "Etc/UTC" are UTC (tm_zone "UTC") and read no file. An unknown zone is
 *    DIAG_INVALID "unknown time zone 'X' (want an IANA name like "Europe/Paris")".
 *  - Local times follow the zone's rules: a wall time in a DST gap (the skipped hour)
 *    moves forward by the gap's length; an ambiguous one (the repeated hour) takes
 *    the earlier instant.
 *  - tz_date_valid(s): s is a real calendar date written YYYY-MM-DD, year 1900 on.
 */
#ifndef TANDEM_TZ_H
#define TANDEM_TZ_H

#include <time.h>

#include "base/diag.h"

/* 1 for a valid IANA zone name, 0 otherwise. */
int tz_valid(const char *zone);

/* 0 when zone is NULL, UTC or tz_valid; else -1 with DIAG_INVALID naming it. */
int tz_check(const char *zone, struct diag *d);

/* 1 when s is a real calendar date written YYYY-MM-DD (year 1900 or later), 0 otherwise. */
int tz_date_valid(const char *s);

/* A zone entered: between tz_enter (0) and tz_leave, tz_to_local and tz_to_utc convert in
 * it. No lock is held: several may be entered at once, on any threads. */
struct tzfile;
struct tz_switch {
	const char *zone;	  /* NULL: UTC */
	const struct tzfile *tzf; /* the cached zone; NULL for UTC */
};

/* Looks zone up (DIAG_INVALID when unknown). */
int tz_enter(struct tz_switch *sw, const char *zone, struct diag *d);
void tz_leave(struct tz_switch *sw);
/* The wall time at t in the entered zone (as tz_utc_to_local). */
int tz_to_local(const struct tz_switch *sw, time_t t, struct tm *out, struct diag *d);
/* The instant of a wall time in the entered zone (as tz_local_to_utc). */
time_t tz_to_utc(const struct tz_switch *sw, const struct tm *local);

/* The wall time in zone at instant t: every field of *out, tm_gmtoff (seconds east of
 * UTC) and tm_isdst included. 0, or -1 with a diag (unknown zone, t out of range). */
int tz_utc_to_local(const char *zone, time_t t, struct tm *out, struct diag *d);

/* The instant at which clocks in zone show local's wall time (tm_year, tm_mon, tm_mday,
 * tm_hour, tm_min, tm_sec; out-of-range fields carry as in timegm; the rest is ignored).
 * 0, or -1 with a diag (unknown zone). */
int tz_local_to_utc(const char *zone, const struct tm *local, time_t *out, struct diag *d);

#endif
