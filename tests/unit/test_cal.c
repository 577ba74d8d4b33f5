/* Unit tests for time/cal: Gregorian day counts, wall times, weekdays. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <cmocka.h>

#include "time/cal.h"

static void
test_leap_and_month_lengths(void **state)
{
	(void)state;
	assert_true(cal_is_leap(2024));
	assert_true(cal_is_leap(2000));
	assert_false(cal_is_leap(1900));
	assert_false(cal_is_leap(2026));
	assert_true(cal_is_leap(0));
	assert_true(cal_is_leap(-4));
	assert_int_equal(cal_days_in_month(2024, 2), 29);
	assert_int_equal(cal_days_in_month(2100, 2), 28);
	assert_int_equal(cal_days_in_month(2026, 4), 30);
	assert_int_equal(cal_days_in_month(2026, 12), 31);
}

static void
test_day_counts(void **state)
{
	(void)state;
	assert_int_equal(cal_days_from_civil(1970, 1, 1), 0);
	assert_int_equal(cal_days_from_civil(1969, 12, 31), -1);
	assert_int_equal(cal_days_from_civil(2000, 3, 1), 11017);
	assert_int_equal(cal_days_from_civil(2026, 11, 22), 20779);
	/* Days past the month's end carry. */
	assert_int_equal(cal_days_from_civil(2026, 1, 32), cal_days_from_civil(2026, 2, 1));
	/* Every day from 1600 to 2400 goes there and back, and agrees with gmtime. */
	int64_t first = cal_days_from_civil(1600, 1, 1), last = cal_days_from_civil(2400, 12, 31);
	int64_t y;
	int m, d;
	for (int64_t days = first; days <= last; days++) {
		cal_civil_from_days(days, &y, &m, &d);
		assert_int_equal(cal_days_from_civil(y, m, d), days);
		assert_true(m >= 1 && m <= 12 && d >= 1 && d <= cal_days_in_month(y, m));
		if (days % 97 == 0) {
			time_t t = (time_t)(days * 86400);
			struct tm tm;
			gmtime_r(&t, &tm);
			assert_int_equal(tm.tm_year + 1900, y);
			assert_int_equal(tm.tm_mon + 1, m);
			assert_int_equal(tm.tm_mday, d);
			assert_int_equal(cal_weekday(days), tm.tm_wday == 0 ? 7 : tm.tm_wday);
		}
	}
	/* Far from today: year -10000 and 100000. */
	cal_civil_from_days(cal_days_from_civil(-10000, 2, 29), &y, &m, &d);
	assert_int_equal(y, -10000);
	assert_int_equal(m, 2);
	assert_int_equal(d, 29);
	cal_civil_from_days(cal_days_from_civil(100000, 12, 31), &y, &m, &d);
	assert_int_equal(y, 100000);
}

static void
test_wall_times(void **state)
{
	(void)state;
	struct cal_time w;
	cal_from_epoch(1795341600, &w); /* 2026-11-22T10:00:00Z */
	assert_int_equal(w.year, 2026);
	assert_int_equal(w.mon, 11);
	assert_int_equal(w.day, 22);
	assert_int_equal(w.hour, 10);
	assert_int_equal(w.min, 0);
	assert_int_equal(w.sec, 0);
	assert_int_equal(cal_to_epoch(&w), 1795341600);
	cal_from_epoch(-1, &w); /* the second before the epoch */
	assert_int_equal(w.year, 1969);
	assert_int_equal(w.mon, 12);
	assert_int_equal(w.day, 31);
	assert_int_equal(w.hour, 23);
	assert_int_equal(w.min, 59);
	assert_int_equal(w.sec, 59);
	assert_int_equal(cal_to_epoch(&w), -1);
	struct cal_time carry = {.year = 2026, .mon = 1, .day = 1, .hour = 25, .min = -1, .sec = 61};
	assert_int_equal(cal_to_epoch(&carry), cal_days_from_civil(2026, 1, 2) * 86400 + 3600 - 60 + 61);
	assert_int_equal(cal_weekday(0), 4);	 /* Thursday */
	assert_int_equal(cal_weekday(-1), 3);	 /* Wednesday */
	assert_int_equal(cal_weekday(20779), 7); /* Sunday 2026-11-22 */
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_leap_and_month_lengths),
		cmocka_unit_test(test_day_counts),
		cmocka_unit_test(test_wall_times),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
