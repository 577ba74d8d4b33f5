/*
 * cal: proleptic Gregorian calendar arithmetic, no zones, no system calls.
 *
 * For: converting between epoch seconds and calendar fields in UTC or at a known
 * offset (lua/api_time's format, add and weekday; time/tz's conversions),
 * and checking dates (tz_date_valid). Pure and thread-safe.
 *
 * Contract: years are astronomical (0 = 1 BC) and may be far outside 1900-9999;
 * months 1-12, days 1-31. cal_days_from_civil(y, m, d) counts days from 1970-01-01
 * for any d, carrying days past the month's end linearly (Jan 32 = Feb 1), but m
 * must be 1-12. cal_from_epoch and cal_to_epoch are inverses for every in-range
 * struct cal_time (seconds 0-59: no leap seconds, as in POSIX time).
 */
#ifndef TANDEM_CAL_H
#define TANDEM_CAL_H

#include <stdint.h>

/* A wall time: calendar date and time of day, in no particular zone. */
struct cal_time {
	int64_t year;
	int mon, day, hour, min, sec;
};

int cal_is_leap(int64_t year);
int cal_days_in_month(int64_t year, int mon);

/* Days since 1970-01-01 of a civil date (negative before). */
int64_t cal_days_from_civil(int64_t year, int mon, int day);
/* The civil date `days` days after 1970-01-01. */
void cal_civil_from_days(int64_t days, int64_t *year, int *mon, int *day);

/* The wall time s seconds after the epoch (s = instant + the zone's UTC offset). */
void cal_from_epoch(int64_t s, struct cal_time *out);
/* Seconds since the epoch of a wall time read as UTC; hours, minutes and seconds carry. */
int64_t cal_to_epoch(const struct cal_time *w);

/* ISO 8601 weekday of a day count: 1 = Monday ... 7 = Sunday. */
int cal_weekday(int64_t days);

#endif
