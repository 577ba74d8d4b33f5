/*
 * cal: Gregorian calendar arithmetic. See cal.h for the contract.
 *
 * The day count works in eras of 400 years (146097 days, the calendar's full cycle)
 * with years that begin in March, so the leap day is the last day of its year and
 * every month before it has a fixed offset: (153 * m + 2) / 5 gives the days before
 * month m of such a year (March = 0).
 */
#include "time/cal.h"

int
cal_is_leap(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

int
cal_days_in_month(int64_t y, int m)
{
	static const int dm[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	return m == 2 && cal_is_leap(y) ? 29 : dm[m - 1];
}

int64_t
cal_days_from_civil(int64_t y, int m, int d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;
	int64_t mp = (m + 9) % 12;
	int64_t doy = (153 * mp + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

void
cal_civil_from_days(int64_t days, int64_t *year, int *mon, int *day)
{
	int64_t z = days + 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	int64_t doe = z - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t mp = (5 * doy + 2) / 153;
	*day = (int)(doy - (153 * mp + 2) / 5 + 1);
	*mon = (int)(mp < 10 ? mp + 3 : mp - 9);
	*year = yoe + era * 400 + (*mon <= 2);
}

void
cal_from_epoch(int64_t s, struct cal_time *w)
{
	int64_t days = s >= 0 ? s / 86400 : -((-s + 86399) / 86400);
	int64_t rem = s - days * 86400;
	cal_civil_from_days(days, &w->year, &w->mon, &w->day);
	w->hour = (int)(rem / 3600);
	w->min = (int)(rem / 60 % 60);
	w->sec = (int)(rem % 60);
}

int64_t
cal_to_epoch(const struct cal_time *w)
{
	return cal_days_from_civil(w->year, w->mon, w->day) * 86400 + (int64_t)w->hour * 3600 +
	       (int64_t)w->min * 60 + w->sec;
}

int
cal_weekday(int64_t days)
{
	/* 1970-01-01 was a Thursday (ISO 4). */
	return (int)(((days % 7) + 7 + 3) % 7) + 1;
}
