/* Unit tests for time/rrule: the whitelist, DST-safe expansion, COUNT/UNTIL, bounds, and a
 * property test against a brute-force day-by-day expansion. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "time/cal.h"
#include "time/rrule.h"
#include "time/tz.h"

static time_t
utc(int y, int mo, int d, int h, int mi)
{
	struct cal_time w = {y, mo, d, h, mi, 0};
	return (time_t)cal_to_epoch(&w);
}

static struct rrule *
parse_ok(const char *text)
{
	struct diag d = {0};
	struct rrule *r = rrule_parse(text, &d);
	if (r == NULL)
		fail_msg("'%s' refused: %s", text, d.msg);
	return r;
}

/* Expands text from dtstart (wall time in zone) over [from, until). */
static size_t
expand(const char *text, const char *zone, struct cal_time start, time_t from, time_t until,
       size_t max, time_t **out)
{
	struct rrule *r = parse_ok(text);
	struct diag d = {0};
	size_t n = 0;
	if (rrule_expand(r, &start, zone, from, until, max, out, &n, &d) != 0)
		fail_msg("'%s' expand: %s", text, d.msg);
	rrule_delete(r);
	return n;
}

static struct tm
local(const char *zone, time_t t)
{
	struct tm tm;
	struct diag d = {0};
	assert_int_equal(tz_utc_to_local(zone, t, &tm, &d), 0);
	return tm;
}

/* ---- the whitelist --------------------------------------------------------------- */

static void
test_refused_parts(void **state)
{
	(void)state;
	struct {
		const char *text, *want;
	} cases[] = {
		{"FREQ=WEEKLY;BYDAY=MO,WE;BYSETPOS=1", "part 'BYSETPOS' is not supported"},
		{"FREQ=MONTHLY;BYDAY=MO;BYSETPOS=-1", "part 'BYSETPOS' is not supported"},
		{"FREQ=DAILY;BYMONTHDAY=-1", "negative days are supported only with FREQ=MONTHLY"},
		{"FREQ=WEEKLY;BYMONTHDAY=-2", "negative days are supported only with FREQ=MONTHLY"},
		{"FREQ=DAILY;BYSECOND=10", "part 'BYSECOND' is not supported"},
		{"FREQ=MONTHLY;BYYEARDAY=100", "part 'BYYEARDAY' is not supported"},
		{"FREQ=MONTHLY;BYWEEKNO=20", "part 'BYWEEKNO' is not supported"},
		{"FREQ=YEARLY", "FREQ=YEARLY is not supported"},
		{"FREQ=SECONDLY", "FREQ=SECONDLY is not supported"},
		{"FREQ=WEEKLY;X-NAME=1", "part 'X-NAME' is not supported"},
		{"FREQ=WEEKLY;RSCALE=GREGORIAN", "part 'RSCALE' is not supported"},
		{"INTERVAL=2", "part 'FREQ' is missing"},
		{"FREQ=WEEKLY;BYDAY=2TU", "ordinals are supported only with FREQ=MONTHLY"},
		{"FREQ=WEEKLY;BYMONTHDAY=3", "BYMONTHDAY is not allowed with FREQ=WEEKLY"},
		{"FREQ=WEEKLY;BYDAY=XX", "BYDAY value 'XX' is not a weekday"},
		{"FREQ=MONTHLY;BYDAY=6MO", "BYDAY value '6MO' is not a weekday"},
		{"FREQ=MONTHLY;BYDAY=0MO", "BYDAY value '0MO'"},
		{"FREQ=DAILY;BYHOUR=24", "BYHOUR value '24' is not 0..23"},
		{"FREQ=DAILY;BYMINUTE=60", "BYMINUTE value '60' is not 0..59"},
		{"FREQ=DAILY;BYMONTH=13", "BYMONTH value '13' is not 1..12"},
		{"FREQ=DAILY;BYMONTHDAY=32", "BYMONTHDAY value '32'"},
		{"FREQ=DAILY;INTERVAL=0", "INTERVAL=0 is not 1..1000"},
		{"FREQ=DAILY;COUNT=0", "COUNT=0 is not 1..100000"},
		{"FREQ=DAILY;COUNT=3;UNTIL=20270101", "COUNT and UNTIL cannot both be given"},
		{"FREQ=DAILY;UNTIL=20270101T000000", "UNTIL=20270101T000000 is not a date"},
		{"FREQ=DAILY;UNTIL=20270230", "is not a date"},
		{"FREQ=DAILY;WKST=XX", "WKST=XX is not a weekday"},
		{"FREQ=DAILY;FREQ=WEEKLY", "part 'FREQ' is given twice"},
		{"FREQ=DAILY;BYHOUR=9;BYHOUR=10", "part 'BYHOUR' is given twice"},
		{"FREQ=DAILY;BYHOUR", "'BYHOUR' is not a NAME=VALUE part"},
		{"FREQ=DAILY;BYHOUR=", "part 'BYHOUR' has no value"},
		{"FREQ=DAILY;BYHOUR=9,", "BYHOUR value '' is not 0..23"},
		{"FREQ=HOURLY;BYMONTHDAY=1", "not supported with FREQ=MINUTELY or HOURLY"},
		{"FREQ=MINUTELY;BYMINUTE=5", "BYMINUTE is not supported with FREQ=MINUTELY"},
		{"FREQ=MONTHLY;BYMONTHDAY=31;BYMONTH=4", "it can never occur"},
		{"FREQ=MONTHLY;BYMONTHDAY=30,31;BYMONTH=2", "it can never occur"},
		{"FREQ=DAILY;BYMONTHDAY=31;BYMONTH=4,6,9,11", "it can never occur"},
		{"FREQ=MONTHLY;BYDAY=5MO;BYMONTHDAY=1,2,3", "cannot be combined with BYMONTHDAY"},
		{"every 0 minutes", "every N minutes|hours|days"},
		{"every 5 weeks", "every N minutes|hours|days"},
		{"every 2 minute", "every N minutes|hours|days"},
		{"every m", "every N minutes|hours|days"},
		{"every 7 weeks", "every N minutes|hours|days"},
		{"every 5s", "every N minutes|hours|days"},
		{"", "empty rule"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct diag d = {0};
		struct rrule *r = rrule_parse(cases[i].text, &d);
		if (r != NULL)
			fail_msg("'%s' accepted", cases[i].text);
		assert_int_equal(d.code, DIAG_INVALID);
		if (strstr(d.msg, cases[i].want) == NULL)
			fail_msg("'%s': got '%s', want '%s'", cases[i].text, d.msg, cases[i].want);
	}
	/* The refusal names what is supported. */
	struct diag d = {0};
	assert_null(rrule_parse("FREQ=WEEKLY;BYSETPOS=1", &d));
	assert_non_null(strstr(d.msg, "tandem supports FREQ (MINUTELY, HOURLY, DAILY, WEEKLY, "
				      "MONTHLY), INTERVAL, BYDAY, BYMONTHDAY, BYMONTH, BYHOUR"));
	assert_non_null(strstr(d.msg, "rule 'FREQ=WEEKLY;BYSETPOS=1'"));
}

static void
test_accepted_and_canonical(void **state)
{
	(void)state;
	struct {
		const char *text, *canon;
	} cases[] = {
		{"FREQ=WEEKLY;INTERVAL=2;BYDAY=TU;BYHOUR=10;BYMINUTE=0",
		 "FREQ=WEEKLY;INTERVAL=2;BYDAY=TU;BYHOUR=10;BYMINUTE=0"},
		{"RRULE:freq=weekly;byday=fr,mo", "FREQ=WEEKLY;BYDAY=MO,FR"},
		{"BYDAY=2TU,-1FR;FREQ=MONTHLY", "FREQ=MONTHLY;BYDAY=2TU,-1FR"},
		{"FREQ=MONTHLY;BYMONTHDAY=-1,15", "FREQ=MONTHLY;BYMONTHDAY=15,-1"},
		{"FREQ=DAILY;INTERVAL=1;BYMONTH=12,1;WKST=SU;COUNT=5",
		 "FREQ=DAILY;BYMONTH=1,12;WKST=SU;COUNT=5"},
		{"FREQ=WEEKLY;UNTIL=20270131T235959Z", "FREQ=WEEKLY;UNTIL=20270131T235959Z"},
		{"FREQ=WEEKLY;UNTIL=20270131", "FREQ=WEEKLY;UNTIL=20270131"},
		{"FREQ=MONTHLY;BYMONTHDAY=29;BYMONTH=2", "FREQ=MONTHLY;BYMONTHDAY=29;BYMONTH=2"},
		{"every 15 minutes", "FREQ=MINUTELY;INTERVAL=15"},
		{"every minute", "FREQ=MINUTELY"},
		{"every 1 hours", "FREQ=HOURLY"},
		{"Every 2 Hours", "FREQ=HOURLY;INTERVAL=2"},
		{"every day", "FREQ=DAILY"},
		{"every 3 days", "FREQ=DAILY;INTERVAL=3"},
		{"every 7d", "FREQ=DAILY;INTERVAL=7"},
		{"every 15m", "FREQ=MINUTELY;INTERVAL=15"},
		{"every 30 min", "FREQ=MINUTELY;INTERVAL=30"},
		{"every 2h", "FREQ=HOURLY;INTERVAL=2"},
		{"every 1 day", "FREQ=DAILY"},
		{"FREQ=HOURLY;BYMINUTE=0,30;BYDAY=MO", "FREQ=HOURLY;BYDAY=MO;BYMINUTE=0,30"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct rrule *r = parse_ok(cases[i].text);
		assert_string_equal(rrule_text(r), cases[i].canon);
		struct rrule *again = parse_ok(rrule_text(r));
		assert_string_equal(rrule_text(again), cases[i].canon);
		rrule_delete(again);
		rrule_delete(r);
	}
	struct rrule *r = parse_ok("FREQ=WEEKLY;INTERVAL=2");
	assert_int_equal(rrule_open(r), RRULE_OPEN_DAY | RRULE_OPEN_TIME);
	assert_int_equal(rrule_freq(r), RRULE_WEEKLY);
	assert_int_equal(rrule_interval(r), 2);
	assert_int_equal(rrule_count(r), 0);
	rrule_delete(r);
	r = parse_ok("FREQ=WEEKLY;BYDAY=TU");
	assert_int_equal(rrule_open(r), RRULE_OPEN_TIME);
	rrule_delete(r);
	r = parse_ok("FREQ=WEEKLY;BYHOUR=10");
	assert_int_equal(rrule_open(r), RRULE_OPEN_DAY);
	rrule_delete(r);
	r = parse_ok("FREQ=MONTHLY;BYDAY=1MO;BYHOUR=10;COUNT=4");
	assert_int_equal(rrule_open(r), 0);
	assert_int_equal(rrule_count(r), 4);
	rrule_delete(r);
	r = parse_ok("every 15 minutes");
	assert_int_equal(rrule_open(r), 0);
	assert_int_equal(rrule_freq(r), RRULE_MINUTELY);
	rrule_delete(r);
}

/* ---- DST: wall times kept, gaps forward, overlaps first ---------------------------- */

/* Every instant shows hour:min on the zone's clocks. */
static void
assert_wall(const char *zone, const time_t *t, size_t n, int hour, int min)
{
	for (size_t i = 0; i < n; i++) {
		struct tm tm = local(zone, t[i]);
		if (tm.tm_hour != hour || tm.tm_min != min)
			fail_msg("%s: instant %zu shows %02d:%02d, want %02d:%02d", zone, i,
				 tm.tm_hour, tm.tm_min, hour, min);
	}
}

static void
test_daily_keeps_wall_time(void **state)
{
	(void)state;
	const struct {
		const char *zone;
		int y, m, d; /* a start a week before a change */
	} cases[] = {
		{"America/New_York", 2026, 3, 1},  {"America/New_York", 2026, 10, 25},
		{"Europe/London", 2026, 3, 22},    {"Europe/London", 2026, 10, 18},
		{"Australia/Lord_Howe", 2026, 3, 29}, {"Australia/Lord_Howe", 2026, 9, 27},
		{"Asia/Kolkata", 2026, 3, 22},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		time_t *t;
		struct cal_time start = {cases[i].y, cases[i].m, cases[i].d, 9, 0, 0};
		time_t from = utc(cases[i].y, cases[i].m, cases[i].d, 0, 0) - 86400;
		size_t n = expand("FREQ=DAILY", cases[i].zone, start, from, from + 15 * 86400, 100, &t);
		assert_in_range(n, 14, 15); /* 14 days, 15 where 09:00 is the UTC day before */
		assert_wall(cases[i].zone, t, n, 9, 0);
		free(t);
		n = expand("FREQ=WEEKLY;BYDAY=MO,TH;BYHOUR=18;BYMINUTE=45", cases[i].zone, start, from,
			   from + 29 * 86400, 100, &t);
		assert_in_range(n, 8, 9);
		assert_wall(cases[i].zone, t, n, 18, 45);
		free(t);
	}
	/* New York: 14:00Z before the change, 13:00Z after it. */
	time_t *t;
	struct cal_time start = {2026, 3, 6, 9, 0, 0};
	size_t n = expand("FREQ=DAILY;COUNT=4", "America/New_York", start, utc(2026, 3, 1, 0, 0),
			  utc(2026, 4, 1, 0, 0), 10, &t);
	assert_int_equal(n, 4);
	assert_int_equal(t[0], utc(2026, 3, 6, 14, 0));
	assert_int_equal(t[1], utc(2026, 3, 7, 14, 0));
	assert_int_equal(t[2], utc(2026, 3, 8, 13, 0));
	assert_int_equal(t[3], utc(2026, 3, 9, 13, 0));
	free(t);
	/* Kolkata never changes: 10:00 is always 04:30Z. */
	start = (struct cal_time){2026, 1, 1, 10, 0, 0};
	n = expand("FREQ=WEEKLY;BYDAY=MO", "Asia/Kolkata", start, utc(2026, 1, 1, 0, 0),
		   utc(2027, 1, 1, 0, 0), 100, &t);
	assert_int_equal(n, 52);
	for (size_t i = 0; i < n; i++)
		assert_int_equal((t[i] - utc(2026, 1, 1, 4, 30)) % 86400, 0);
	free(t);
}

struct gap_case {
	const char *zone, *rule;
	struct cal_time start;
	time_t want; /* the instant of the occurrence on the change day */
	int want_h, want_m;
};

static void
test_gap_and_overlap(void **state)
{
	(void)state;
	const struct gap_case cases[] = {
		/* gaps: forward by the gap */
		{"America/New_York", "FREQ=WEEKLY;BYDAY=SU;BYHOUR=2;BYMINUTE=30", {2026, 3, 1, 0, 0, 0},
		 0, 3, 30},
		{"Europe/London", "FREQ=DAILY;BYHOUR=1;BYMINUTE=30", {2026, 3, 27, 0, 0, 0}, 0, 2, 30},
		{"Australia/Lord_Howe", "FREQ=WEEKLY;BYDAY=SU;BYHOUR=2;BYMINUTE=15",
		 {2026, 9, 20, 0, 0, 0}, 0, 2, 45},
		/* overlaps: the first instant (still summer time) */
		{"America/New_York", "FREQ=WEEKLY;BYDAY=SU;BYHOUR=1;BYMINUTE=30",
		 {2026, 10, 20, 0, 0, 0}, 0, 1, 30},
		{"Europe/London", "FREQ=DAILY;BYHOUR=1;BYMINUTE=30", {2026, 10, 23, 0, 0, 0}, 0, 1, 30},
		{"Australia/Lord_Howe", "FREQ=MONTHLY;BYDAY=1SU;BYHOUR=1;BYMINUTE=45",
		 {2026, 3, 1, 0, 0, 0}, 0, 1, 45},
	};
	const time_t want[] = {
		utc(2026, 3, 8, 7, 30),	  /* 03:30 EDT */
		utc(2026, 3, 29, 1, 30),  /* 02:30 BST */
		utc(2026, 10, 3, 15, 45), /* 02:45 +11 */
		utc(2026, 11, 1, 5, 30),  /* 01:30 EDT, not EST */
		utc(2026, 10, 25, 0, 30), /* 01:30 BST, not GMT */
		utc(2026, 4, 4, 14, 45),  /* 01:45 +11, not +10:30 */
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		time_t *t;
		time_t from = cal_to_epoch(&cases[i].start) - 86400;
		size_t n = expand(cases[i].rule, cases[i].zone, cases[i].start, from,
				  from + 60 * 86400, 100, &t);
		size_t hit = n;
		for (size_t k = 0; k < n; k++)
			if (t[k] == want[i])
				hit = k;
		if (hit == n)
			fail_msg("%s %s: the change-day instant is missing", cases[i].zone, cases[i].rule);
		struct tm tm = local(cases[i].zone, t[hit]);
		assert_int_equal(tm.tm_hour, cases[i].want_h);
		assert_int_equal(tm.tm_min, cases[i].want_m);
		/* Round trip: the instant converts back to the same wall time, which is the
		 * rule's own outside gaps. */
		struct tm back = tm;
		time_t again;
		struct diag d = {0};
		assert_int_equal(tz_local_to_utc(cases[i].zone, &back, &again, &d), 0);
		assert_int_equal(again, t[hit]);
		/* sorted, unique */
		for (size_t k = 1; k < n; k++)
			assert_true(t[k - 1] < t[k]);
		free(t);
	}
	/* Two wall times that meet in the gap give one instant. */
	time_t *t;
	struct cal_time start = {2026, 3, 29, 0, 0, 0};
	size_t n = expand("FREQ=DAILY;BYHOUR=1,2;BYMINUTE=30;COUNT=2", "Europe/London", start,
			  utc(2026, 3, 28, 0, 0), utc(2026, 4, 1, 0, 0), 10, &t);
	assert_int_equal(n, 1);
	assert_int_equal(t[0], utc(2026, 3, 29, 1, 30));
	free(t);
}

/* ---- COUNT, UNTIL, windows, max ----------------------------------------------------- */

static void
test_count_until_window(void **state)
{
	(void)state;
	time_t *t;
	struct cal_time start = {2026, 1, 5, 10, 0, 0}; /* a Monday */
	/* COUNT counts from dtstart, also before the window. */
	size_t n = expand("FREQ=WEEKLY;COUNT=10", "Europe/Paris", start, utc(2026, 2, 1, 0, 0),
			  utc(2027, 1, 1, 0, 0), 100, &t);
	assert_int_equal(n, 6); /* Feb 2 ... Mar 9 */
	assert_int_equal(t[0], utc(2026, 2, 2, 9, 0));
	assert_int_equal(t[5], utc(2026, 3, 9, 9, 0));
	free(t);
	/* UNTIL in UTC is inclusive. */
	n = expand("FREQ=WEEKLY;UNTIL=20260126T090000Z", "Europe/Paris", start, 0,
		   utc(2027, 1, 1, 0, 0), 100, &t);
	assert_int_equal(n, 4);
	assert_int_equal(t[3], utc(2026, 1, 26, 9, 0));
	free(t);
	n = expand("FREQ=WEEKLY;UNTIL=20260126T085959Z", "Europe/Paris", start, 0,
		   utc(2027, 1, 1, 0, 0), 100, &t);
	assert_int_equal(n, 3);
	free(t);
	/* UNTIL as a date: the last local day, inclusive. */
	n = expand("FREQ=DAILY;UNTIL=20260107", "Pacific/Auckland", start, 0, utc(2027, 1, 1, 0, 0),
		   100, &t);
	assert_int_equal(n, 3);
	free(t);
	/* The window is half-open; max keeps the first ones. */
	n = expand("FREQ=DAILY", NULL, start, utc(2026, 1, 6, 10, 0), utc(2026, 1, 9, 10, 0), 100,
		   &t);
	assert_int_equal(n, 3);
	assert_int_equal(t[0], utc(2026, 1, 6, 10, 0));
	free(t);
	n = expand("FREQ=DAILY", "UTC", start, 0, utc(2030, 1, 1, 0, 0), 5, &t);
	assert_int_equal(n, 5);
	assert_int_equal(t[4], utc(2026, 1, 9, 10, 0));
	free(t);
	/* Nothing before dtstart; dtstart itself only when it matches. */
	n = expand("FREQ=WEEKLY;BYDAY=TU", "UTC", start, 0, utc(2026, 1, 14, 0, 0), 100, &t);
	assert_int_equal(n, 2);
	assert_int_equal(t[0], utc(2026, 1, 6, 10, 0));
	free(t);
	/* A monthly rule on the 31st skips short months. */
	start = (struct cal_time){2026, 1, 31, 9, 30, 0};
	n = expand("FREQ=MONTHLY", "UTC", start, 0, utc(2027, 1, 1, 0, 0), 100, &t);
	assert_int_equal(n, 7);
	free(t);
	/* Last Friday and 2nd Tuesday. */
	start = (struct cal_time){2026, 1, 1, 9, 0, 0};
	n = expand("FREQ=MONTHLY;BYDAY=2TU,-1FR;COUNT=4", "UTC", start, 0, utc(2027, 1, 1, 0, 0), 100,
		   &t);
	assert_int_equal(n, 4);
	assert_int_equal(t[0], utc(2026, 1, 13, 9, 0));
	assert_int_equal(t[1], utc(2026, 1, 30, 9, 0));
	assert_int_equal(t[2], utc(2026, 2, 10, 9, 0));
	assert_int_equal(t[3], utc(2026, 2, 27, 9, 0));
	free(t);
	/* The job form: every 15 minutes, anchored long ago, costs only its window. */
	start = (struct cal_time){2000, 1, 1, 0, 5, 0};
	n = expand("every 15 minutes", "Europe/Paris", start, utc(2026, 6, 1, 12, 0),
		   utc(2026, 6, 1, 13, 0), 100, &t);
	assert_int_equal(n, 4);
	assert_int_equal(t[0], utc(2026, 6, 1, 12, 5));
	free(t);
	start = (struct cal_time){2020, 1, 1, 8, 0, 0};
	n = expand("FREQ=WEEKLY;INTERVAL=2;BYDAY=WE", "UTC", start, utc(2026, 6, 1, 0, 0),
		   utc(2026, 7, 1, 0, 0), 100, &t);
	assert_int_equal(n, 2);
	for (size_t i = 0; i < n; i++) /* weeks since 2020-01-01 (a Wednesday) are even */
		assert_int_equal((t[i] - utc(2020, 1, 1, 8, 0)) % (14 * 86400), 0);
	free(t);
}

static double
seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void
test_bounded(void **state)
{
	(void)state;
	/* Rules possible in some year but never at the months this start visits, or rare:
	 * libical alone searches for centuries on the first two. */
	const char *rules[] = {
		"FREQ=MONTHLY;INTERVAL=12;BYMONTH=4;BYMONTHDAY=1",
		"FREQ=MONTHLY;INTERVAL=2;BYMONTHDAY=31;BYMONTH=4,6,8",
		"FREQ=MONTHLY;BYDAY=5MO;BYMONTH=2",
		"FREQ=MONTHLY;BYMONTHDAY=29;BYMONTH=2;INTERVAL=12",
		"FREQ=DAILY;BYMONTHDAY=31;BYMONTH=1;INTERVAL=7",
		"FREQ=WEEKLY;INTERVAL=52;BYMONTH=6",
		"FREQ=MONTHLY;BYDAY=MO;BYMONTHDAY=31;BYMONTH=3",
	};
	struct cal_time start = {2026, 3, 1, 10, 0, 0};
	for (size_t i = 0; i < sizeof(rules) / sizeof(rules[0]); i++) {
		double t0 = seconds();
		time_t *t;
		size_t n = expand(rules[i], "Europe/Berlin", start, utc(2026, 3, 1, 0, 0),
				  utc(2027, 3, 1, 0, 0), 100, &t);
		double dt = seconds() - t0;
		if (dt >= 0.1)
			fail_msg("'%s' took %.3f s", rules[i], dt);
		assert_true(n <= 5);
		free(t);
	}
	/* Too many steps from dtstart (COUNT keeps dtstart where it is). */
	struct rrule *r = parse_ok("FREQ=MINUTELY;COUNT=100000");
	struct diag d = {0};
	time_t *t;
	size_t n;
	start = (struct cal_time){2020, 1, 1, 0, 0, 0};
	assert_int_equal(rrule_expand(r, &start, NULL, utc(2026, 1, 1, 0, 0), utc(2026, 1, 2, 0, 0),
				      10, &t, &n, &d), 0);
	assert_int_equal(n, 0); /* COUNT ran out in 2020 */
	rrule_delete(r);
	r = parse_ok("FREQ=MINUTELY");
	assert_int_equal(rrule_expand(r, &start, NULL, utc(2026, 1, 1, 0, 0), utc(2027, 1, 1, 0, 0),
				      1000000, &t, &n, &d), -1);
	assert_non_null(strstr(d.msg, "more than 200000 occurrences"));
	rrule_delete(r);
	/* Far ends are cut, not overflowed. */
	r = parse_ok("FREQ=DAILY;COUNT=3");
	start = (struct cal_time){2026, 1, 1, 9, 0, 0};
	assert_int_equal(rrule_expand(r, &start, "Asia/Kolkata", INT64_MIN, INT64_MAX, 10, &t, &n,
				      &d), 0);
	assert_int_equal(n, 3);
	free(t);
	rrule_delete(r);
	/* Bad arguments. */
	r = parse_ok("FREQ=DAILY");
	start = (struct cal_time){2026, 2, 30, 0, 0, 0};
	assert_int_equal(rrule_expand(r, &start, NULL, 0, 100, 10, &t, &n, &d), -1);
	assert_non_null(strstr(d.msg, "bad start"));
	start = (struct cal_time){2026, 2, 3, 0, 0, 0};
	assert_int_equal(rrule_expand(r, &start, "Mars/Base", 0, 100, 10, &t, &n, &d), -1);
	assert_non_null(strstr(d.msg, "unknown time zone"));
	rrule_delete(r);
}

/* ---- property: libical + our bounds vs a brute-force day-by-day expansion ---------- */

struct bf {
	int freq; /* RRULE_DAILY, RRULE_WEEKLY, RRULE_MONTHLY */
	int interval, wkst, count;
	unsigned byday, months;
	unsigned ord[8];
	uint32_t mday_pos, mday_neg, hours;
	uint64_t mins;
	time_t until; /* 0: none */
};

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static unsigned
rnd(unsigned n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (unsigned)(rng % n);
}

static const char *const dn[8] = {"", "MO", "TU", "WE", "TH", "FR", "SA", "SU"};

static void
bf_text(const struct bf *b, char *out, size_t cap)
{
	static const char *const fn[] = {"", "", "DAILY", "WEEKLY", "MONTHLY"};
	size_t len = (size_t)snprintf(out, cap, "FREQ=%s;INTERVAL=%d;WKST=%s", fn[b->freq],
				      b->interval, dn[b->wkst]);
	const char *sep = ";BYDAY=";
	for (int w = 1; w <= 7; w++) {
		if (b->byday >> w & 1) {
			len += (size_t)snprintf(out + len, cap - len, "%s%s", sep, dn[w]);
			sep = ",";
		}
		for (int p = 0; p < 10; p++)
			if (b->ord[w] >> p & 1) {
				len += (size_t)snprintf(out + len, cap - len, "%s%d%s", sep,
							p < 5 ? p + 1 : 4 - p, dn[w]);
				sep = ",";
			}
	}
	sep = ";BYMONTHDAY=";
	for (int k = 1; k <= 31; k++) {
		if (b->mday_pos >> k & 1) {
			len += (size_t)snprintf(out + len, cap - len, "%s%d", sep, k);
			sep = ",";
		}
		if (b->mday_neg >> k & 1) {
			len += (size_t)snprintf(out + len, cap - len, "%s-%d", sep, k);
			sep = ",";
		}
	}
	sep = ";BYMONTH=";
	for (int m = 1; m <= 12; m++)
		if (b->months >> m & 1) {
			len += (size_t)snprintf(out + len, cap - len, "%s%d", sep, m);
			sep = ",";
		}
	sep = ";BYHOUR=";
	for (int h = 0; h < 24; h++)
		if (b->hours >> h & 1) {
			len += (size_t)snprintf(out + len, cap - len, "%s%d", sep, h);
			sep = ",";
		}
	sep = ";BYMINUTE=";
	for (int m = 0; m < 60; m++)
		if (b->mins >> m & 1) {
			len += (size_t)snprintf(out + len, cap - len, "%s%d", sep, m);
			sep = ",";
		}
	if (b->count)
		len += (size_t)snprintf(out + len, cap - len, ";COUNT=%d", b->count);
	if (b->until) {
		struct cal_time w;
		cal_from_epoch(b->until, &w);
		snprintf(out + len, cap - len, ";UNTIL=%04d%02d%02dT%02d%02d%02dZ", (int)w.year, w.mon,
			 w.day, w.hour, w.min, w.sec);
	}
}

static int
bf_day_ok(const struct bf *b, int64_t day, int64_t dtday)
{
	int64_t y;
	int m, d;
	cal_civil_from_days(day, &y, &m, &d);
	int64_t dy;
	int dm, dd;
	cal_civil_from_days(dtday, &dy, &dm, &dd);
	int wd = cal_weekday(day), len = cal_days_in_month(y, m);
	if (b->months && !(b->months >> m & 1))
		return 0;
	int has_day = b->byday != 0;
	for (int w = 1; w <= 7; w++)
		has_day |= b->ord[w] != 0;
	if (b->freq == RRULE_DAILY) {
		if ((day - dtday) % b->interval)
			return 0;
	} else if (b->freq == RRULE_WEEKLY) {
		int64_t ws = day - (wd - b->wkst + 7) % 7;
		int64_t dws = dtday - (cal_weekday(dtday) - b->wkst + 7) % 7;
		if (((ws - dws) / 7) % b->interval)
			return 0;
		if (!has_day && wd != cal_weekday(dtday))
			return 0;
	} else {
		if (((y * 12 + m) - (dy * 12 + dm)) % b->interval)
			return 0;
		if (!has_day && !(b->mday_pos | b->mday_neg) && d != dd)
			return 0;
	}
	if ((b->mday_pos | b->mday_neg) && !(b->mday_pos >> d & 1) && !(b->mday_neg >> (len + 1 - d) & 1))
		return 0;
	if (has_day) {
		int pos = (d - 1) / 7 + 1, neg = (len - d) / 7 + 1;
		if (!(b->byday >> wd & 1) && !(b->ord[wd] >> (pos - 1) & 1) &&
		    !(b->ord[wd] >> (4 + neg) & 1))
			return 0;
	}
	return 1;
}

static size_t
brute_force(const struct bf *b, const char *zone, const struct cal_time *dt, time_t from,
	    time_t until, time_t *out)
{
	int64_t dtwall = cal_to_epoch(dt), dtday = cal_days_from_civil(dt->year, dt->mon, dt->day);
	size_t n = 0;
	int occ = 0;
	time_t end = until;
	if (b->until && b->until + 1 < end)
		end = b->until + 1;
	for (int64_t day = dtday; day * 86400 < (int64_t)until + 2 * 86400; day++) {
		if (!bf_day_ok(b, day, dtday))
			continue;
		for (int h = 0; h < 24; h++) {
			if (b->hours ? !(b->hours >> h & 1) : h != dt->hour)
				continue;
			for (int mi = 0; mi < 60; mi++) {
				if (b->mins ? !(b->mins >> mi & 1) : mi != dt->min)
					continue;
				int64_t wall = day * 86400 + h * 3600 + mi * 60 + dt->sec;
				if (wall < dtwall)
					continue;
				if (b->count && ++occ > b->count)
					goto done;
				struct cal_time w;
				cal_from_epoch(wall, &w);
				struct tm tm = {.tm_year = (int)w.year - 1900, .tm_mon = w.mon - 1,
						.tm_mday = w.day, .tm_hour = w.hour, .tm_min = w.min,
						.tm_sec = w.sec};
				time_t t;
				struct diag d = {0};
				assert_int_equal(tz_local_to_utc(zone, &tm, &t, &d), 0);
				if (t >= from && t < end)
					out[n++] = t;
			}
		}
	}
done:
	/* sort (insertion: small) and dedupe */
	for (size_t i = 1; i < n; i++)
		for (size_t j = i; j > 0 && out[j - 1] > out[j]; j--) {
			time_t x = out[j];
			out[j] = out[j - 1];
			out[j - 1] = x;
		}
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		if (k == 0 || out[i] != out[k - 1])
			out[k++] = out[i];
	return k;
}

static void
random_rule(struct bf *b, int freq)
{
	memset(b, 0, sizeof(*b));
	b->freq = freq;
	b->interval = 1 + (int)rnd(3);
	b->wkst = 1 + (int)rnd(7);
	int nd = (int)rnd(4);
	for (int i = 0; i < nd; i++) {
		int w = 1 + (int)rnd(7);
		if (freq == RRULE_MONTHLY && rnd(2)) {
			int p = (int)rnd(10);
			b->ord[w] |= 1u << p;
		} else {
			b->byday |= 1u << w;
		}
	}
	int ords = 0;
	for (int w = 1; w <= 7; w++)
		ords |= b->ord[w] != 0;
	if (freq != RRULE_WEEKLY && !ords && rnd(3) == 0) {
		int nm = 1 + (int)rnd(3);
		for (int i = 0; i < nm; i++) {
			int k = 1 + (int)rnd(31);
			if (freq == RRULE_MONTHLY && rnd(3) == 0)
				b->mday_neg |= 1u << k;
			else
				b->mday_pos |= 1u << k;
		}
	}
	if (rnd(4) == 0)
		for (int i = 0; i < 3; i++)
			b->months |= 1u << (1 + rnd(12));
	int nh = (int)rnd(3);
	for (int i = 0; i < nh; i++)
		b->hours |= 1u << rnd(24);
	int nmin = (int)rnd(3);
	for (int i = 0; i < nmin; i++)
		b->mins |= 1ull << (rnd(4) * 15);
	if (rnd(4) == 0)
		b->count = 1 + (int)rnd(40);
	else if (rnd(4) == 0)
		b->until = utc(2026, 1, 1, 0, 0) + (time_t)rnd(400) * 86400 + (time_t)rnd(86400);
}

static void
property(int freq, int rounds)
{
	const char *zones[] = {"America/New_York", "Europe/London", "Australia/Lord_Howe"};
	time_t *want = malloc(sizeof(time_t) * 400 * 24 * 60);
	assert_non_null(want);
	int checked = 0;
	for (int z = 0; z < 3; z++)
		for (int round = 0; round < rounds; round++) {
			struct bf b;
			random_rule(&b, freq);
			char text[512];
			bf_text(&b, text, sizeof(text));
			struct diag d = {0};
			struct rrule *r = rrule_parse(text, &d);
			if (r == NULL) {
				/* Only rules that can never occur are refused. */
				if (strstr(d.msg, "never occur") == NULL)
					fail_msg("'%s' refused: %s", text, d.msg);
				continue;
			}
			struct cal_time dt = {2026, 1 + (int)rnd(12), 1 + (int)rnd(28),
					      (int)rnd(24), (int)rnd(4) * 15, 0};
			time_t from = cal_to_epoch(&dt) - 86400 + (time_t)rnd(60) * 86400;
			time_t until = from + 365 * 86400;
			time_t *got;
			size_t n;
			if (rrule_expand(r, &dt, zones[z], from, until, 100000, &got, &n, &d) != 0)
				fail_msg("'%s' expand: %s", text, d.msg);
			size_t nw = brute_force(&b, zones[z], &dt, from, until, want);
			if (n != nw)
				fail_msg("%s '%s' from %04d-%02d-%02d %02d:%02d: %zu instants, brute "
					 "force %zu", zones[z], text, (int)dt.year, dt.mon, dt.day,
					 dt.hour, dt.min, n, nw);
			for (size_t i = 0; i < n; i++)
				if (got[i] != want[i])
					fail_msg("%s '%s': instant %zu is %lld, brute force %lld",
						 zones[z], text, i, (long long)got[i],
						 (long long)want[i]);
			free(got);
			rrule_delete(r);
			checked++;
		}
	assert_true(checked > rounds);
	free(want);
}

static void
test_property_weekly(void **state)
{
	(void)state;
	property(RRULE_WEEKLY, 150);
}

static void
test_property_daily_monthly(void **state)
{
	(void)state;
	property(RRULE_DAILY, 60);
	property(RRULE_MONTHLY, 150);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_refused_parts),
		cmocka_unit_test(test_accepted_and_canonical),
		cmocka_unit_test(test_daily_keeps_wall_time),
		cmocka_unit_test(test_gap_and_overlap),
		cmocka_unit_test(test_count_until_window),
		cmocka_unit_test(test_bounded),
		cmocka_unit_test(test_property_weekly),
		cmocka_unit_test(test_property_daily_monthly),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
