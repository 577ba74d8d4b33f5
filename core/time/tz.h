/*
 * tz: IANA time zones: checking a zone name, and the one zone switch of the core
 * (UTC <-> local wall time in a zone), plus checking calendar dates.
 *
 * Called by: people (every person has a zone, hire dates), the enrollment importer,
 * config (the workspace zone, program dates), lua/api_time (tandem.time), program/
 * cohort (zone offsets of a cohort), sched (job zones).
 *
 * Contract:
 *  - tz_valid(name) is true when name is a safe relative IANA name (starts with an
 *    uppercase letter, only letters, digits and "/_+-", no "." or ".." components)
 *    and TZDIR/name (TZDIR from the environment, else /usr/share/zoneinfo) is a TZif
 *    file. It asks the file system every time (about 3-5 us: one open and a 4-byte
 *    read), so a zone installed or removed meanwhile is noticed; there is no
 *    process-wide cache. Callers that ask about the same zones many times keep the
 *    answers in their own table (the people importer does, per file).
 *  - The zone switch (tz_enter ... tz_leave) is the only code of the core that sets
 *    TZ. It holds one process-wide mutex while TZ names the zone and restores the
 *    caller's TZ when it leaves, so conversions from several threads are safe with
 *    each other. (Code outside the core that reads TZ or calls localtime() on another
 *    thread at the same moment can see the switch: glibc offers no other way in.)
 *    tz_utc_to_local and tz_local_to_utc are one conversion each, in a switch of
 *    their own; a caller that needs several conversions in one zone (calendar
 *    arithmetic: to local, move the date, back to UTC) enters once, because each
 *    switch reads the zone file again (about 15 us).
 *  - zone NULL, "UTC" and "Etc/UTC" are UTC and need no switch. An unknown zone is
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
 * it. For UTC no lock is taken. While entered, the thread holds the lock: no other tz_
 * call in between (the lock is not recursive), nothing slow or blocking. */
struct tz_switch {
	const char *zone; /* NULL: UTC (no switch made) */
	char *saved;	  /* the caller's TZ, NULL when it was unset */
};

/* Checks zone (DIAG_INVALID when unknown), takes the lock and sets TZ. */
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
