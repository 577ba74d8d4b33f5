/* Unit tests for time/slots: availability parsing, working hours in each person's zone,
 * shared candidate starts (Paris + New York meet in the overlap), picking with a want. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "time/cal.h"
#include "time/slots.h"
#include "time/tz.h"

static time_t
utc(int y, int mo, int d, int h, int mi)
{
	struct cal_time w = {y, mo, d, h, mi, 0};
	return (time_t)cal_to_epoch(&w);
}

static struct tm
local(const char *zone, time_t t)
{
	struct tm tm;
	struct diag d = {0};
	assert_int_equal(tz_utc_to_local(zone, t, &tm, &d), 0);
	return tm;
}

static unsigned
parse(const char *text)
{
	unsigned m = 99;
	struct diag d = {0};
	if (slots_parse(text, &m, &d) != 0)
		fail_msg("'%s': %s", text, d.msg);
	return m;
}

static void
test_parse(void **state)
{
	(void)state;
	assert_int_equal(parse(NULL), 0);
	assert_int_equal(parse(""), 0);
	assert_int_equal(parse("[]"), 0);
	unsigned want = slots_bit(1, SLOTS_AM) | slots_bit(3, SLOTS_PM) | slots_bit(7, SLOTS_EVE);
	assert_int_equal(parse("[\"mon-am\",\"wed-pm\",\"sun-eve\"]"), want);
	assert_int_equal(parse("mon-am;wed-pm;sun-eve"), want);
	assert_int_equal(parse("mon-am, wed-pm sun-eve"), want);
	assert_int_equal(parse("mon-am;mon-am"), slots_bit(1, SLOTS_AM));
	/* the default week: 10 slots */
	assert_int_equal(__builtin_popcount(slots_default()), 10);
	assert_true(slots_default() & slots_bit(5, SLOTS_PM));
	assert_false(slots_default() & slots_bit(6, SLOTS_AM));
	assert_false(slots_default() & slots_bit(1, SLOTS_EVE));
	const char *bad[] = {"mon-night", "monday-am", "mon_am", "[\"mon-am\",\"xyz\"]", "mon-am;1"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		unsigned m;
		struct diag d = {0};
		if (slots_parse(bad[i], &m, &d) == 0)
			fail_msg("'%s' accepted", bad[i]);
		assert_int_equal(d.code, DIAG_INVALID);
	}
	struct diag d = {0};
	unsigned m;
	assert_int_equal(slots_parse("tue-am;fri-late", &m, &d), -1);
	assert_non_null(strstr(d.msg, "unknown slot 'fri-late'"));
}

/* Every candidate fits both people's hours on their own clocks. */
static void
assert_inside(const time_t *v, size_t n, int dur_min, const char *zone, int lo_h, int hi_h)
{
	for (size_t i = 0; i < n; i++) {
		struct tm s = local(zone, v[i]), e = local(zone, v[i] + dur_min * 60 - 1);
		if (s.tm_hour < lo_h || e.tm_hour >= hi_h || s.tm_mday != e.tm_mday)
			fail_msg("%s: start %02d:%02d does not fit %02d-%02d", zone, s.tm_hour,
				 s.tm_min, lo_h, hi_h);
		assert_int_equal(v[i] % 900, 0);
		if (i > 0)
			assert_true(v[i - 1] < v[i]);
	}
}

static void
test_paris_new_york(void **state)
{
	(void)state;
	struct slots_person paris = {"Europe/Paris", 0}, ny = {"America/New_York", 0};
	time_t *v;
	size_t n;
	struct diag d = {0};
	/* January: 6 hours apart. Paris 15:00-17:00 = New York 09:00-11:00. */
	assert_int_equal(slots_common(&paris, &ny, utc(2027, 1, 11, 0, 0), 60, &v, &n, &d), 0);
	assert_int_equal(n, 5 * 5); /* 14:00 ... 15:00Z, Monday to Friday */
	assert_int_equal(v[0], utc(2027, 1, 11, 14, 0));
	assert_int_equal(v[4], utc(2027, 1, 11, 15, 0));
	assert_inside(v, n, 60, "Europe/Paris", 15, 17);
	assert_inside(v, n, 60, "America/New_York", 9, 11);
	free(v);
	/* Mid-March: New York has moved its clocks, Paris not yet: 5 hours apart, New York
	 * 09:00-12:00 = Paris 14:00-17:00. */
	assert_int_equal(slots_common(&paris, &ny, utc(2027, 3, 15, 0, 0), 60, &v, &n, &d), 0);
	assert_int_equal(n, 9 * 5);
	assert_int_equal(v[0], utc(2027, 3, 15, 13, 0));
	assert_inside(v, n, 60, "Europe/Paris", 14, 17);
	assert_inside(v, n, 60, "America/New_York", 9, 12);
	free(v);
	/* The same pair with the whole afternoon and evening in Paris. */
	unsigned m = 0;
	assert_int_equal(slots_parse("mon-pm;mon-eve", &m, &d), 0);
	paris.mask = m;
	assert_int_equal(slots_common(&paris, &ny, utc(2027, 1, 11, 0, 0), 180, &v, &n, &d), 0);
	assert_int_equal(n, 1); /* 15:00-18:00 Paris = 09:00-12:00 New York, pm + eve joined */
	assert_int_equal(v[0], utc(2027, 1, 11, 14, 0));
	free(v);
	/* Three hours are not to be had with the default week. */
	paris.mask = 0;
	assert_int_equal(slots_common(&paris, &ny, utc(2027, 1, 11, 0, 0), 180, &v, &n, &d), 0);
	assert_int_equal(n, 0);
	assert_null(v);
}

static void
test_no_overlap_and_pick(void **state)
{
	(void)state;
	struct slots_person tokyo = {"Asia/Tokyo", 0}, ny = {"America/New_York", 0};
	struct diag d = {0};
	time_t t = 0;
	/* Tokyo 09:00-17:00 is New York's night: no shared working slot, ever. */
	assert_int_equal(slots_pick(&tokyo, &ny, utc(2027, 1, 1, 0, 0), utc(2027, 3, 1, 0, 0), 45,
				    NULL, &t, &d), 1);
	/* New York's Monday evening is Tokyo's Tuesday morning. */
	unsigned m;
	assert_int_equal(slots_parse("mon-eve", &m, &d), 0);
	ny.mask = m;
	assert_int_equal(slots_parse("tue-am", &m, &d), 0);
	tokyo.mask = m;
	assert_int_equal(slots_pick(&tokyo, &ny, utc(2027, 1, 1, 0, 0), utc(2027, 3, 1, 0, 0), 45,
				    NULL, &t, &d), 0);
	assert_int_equal(t, utc(2027, 1, 5, 0, 0)); /* Mon 19:00 EST = Tue 09:00 JST */
	/* Picking with what the rule fixed: a Tuesday at 15:30 Paris time. */
	struct slots_person paris = {"Europe/Paris", 0}, ny2 = {"America/New_York", 0};
	struct slots_want want = {"Europe/Paris", 1u << 2, 15, 30};
	assert_int_equal(slots_pick(&paris, &ny2, utc(2027, 1, 6, 0, 0), utc(2027, 3, 1, 0, 0), 60,
				    &want, &t, &d), 0);
	assert_int_equal(t, utc(2027, 1, 12, 14, 30)); /* Tuesday 12 January */
	/* Any day at 10:00 Paris: none in the overlap. */
	want = (struct slots_want){"Europe/Paris", 0, 10, -1};
	assert_int_equal(slots_pick(&paris, &ny2, utc(2027, 1, 6, 0, 0), utc(2027, 3, 1, 0, 0), 60,
				    &want, &t, &d), 1);
	/* On or after from, not before. */
	want = (struct slots_want){NULL, 0, -1, -1};
	assert_int_equal(slots_pick(&paris, &ny2, utc(2027, 1, 11, 14, 20), utc(2027, 3, 1, 0, 0),
				    60, &want, &t, &d), 0);
	assert_int_equal(t, utc(2027, 1, 11, 14, 30));
	/* A far end is cut, not overflowed. */
	assert_int_equal(slots_pick(&paris, &ny2, utc(2027, 1, 11, 14, 20), INT64_MAX, 60, NULL, &t,
				    &d), 0);
	assert_int_equal(t, utc(2027, 1, 11, 14, 30));
	/* Errors. */
	assert_int_equal(slots_pick(&paris, &ny2, 0, 100, 0, NULL, &t, &d), -1);
	assert_non_null(strstr(d.msg, "duration"));
	struct slots_person nowhere = {"Mars/Base", 0};
	assert_int_equal(slots_pick(&paris, &nowhere, 0, 100, 30, NULL, &t, &d), -1);
	assert_non_null(strstr(d.msg, "unknown time zone"));
}

static void
test_half_hour_zones_and_dst(void **state)
{
	(void)state;
	/* Lord Howe (+10:30 / +11) and Kolkata (+5:30): weekends and DST in the mix. */
	struct slots_person lh = {"Australia/Lord_Howe", 0}, in = {"Asia/Kolkata", 0};
	unsigned m;
	struct diag d = {0};
	assert_int_equal(slots_parse("mon-eve;tue-eve;sun-eve", &m, &d), 0);
	lh.mask = m;
	assert_int_equal(slots_parse("mon-am;tue-am;sun-am", &m, &d), 0);
	in.mask = m;
	/* The week around 4 October 2026, when Lord Howe moves from +10:30 to +11. Lord Howe
	 * 17:00-20:00 = Kolkata 12:00-15:00 before, 11:30-14:30 after: only the after-change
	 * days share 11:30-12:00 Kolkata (30 minutes). */
	time_t *v;
	size_t n;
	assert_int_equal(slots_common(&lh, &in, utc(2026, 9, 28, 0, 0), 30, &v, &n, &d), 0);
	assert_int_equal(n, 1); /* Sun 4 Oct is the change day: +11 from 02:30 on */
	assert_inside(v, n, 30, "Australia/Lord_Howe", 17, 20);
	assert_inside(v, n, 30, "Asia/Kolkata", 11, 12);
	free(v);
	assert_int_equal(slots_common(&lh, &in, utc(2026, 10, 5, 0, 0), 15, &v, &n, &d), 0);
	assert_int_equal(n, 3 * 2); /* Mon, Tue and Sun: 11:30 and 11:45 Kolkata */
	assert_inside(v, n, 15, "Asia/Kolkata", 11, 12);
	free(v);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_paris_new_york),
		cmocka_unit_test(test_no_overlap_and_pick),
		cmocka_unit_test(test_half_hour_zones_and_dst),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
