/* Unit tests for time/tz: IANA zone names, conversions UTC <-> local (tz_enter sessions), dates. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "time/tz.h"

static void
test_real_zones(void **state)
{
	(void)state;
	assert_true(tz_valid("UTC"));
	assert_true(tz_valid("Europe/Paris"));
	assert_true(tz_valid("America/Argentina/Buenos_Aires"));
	assert_true(tz_valid("Etc/GMT+5"));
	assert_true(tz_valid("Asia/Kolkata"));
	assert_true(tz_valid("Europe/Paris")); /* asked again: the same answer */
}

static void
test_rejects_unsafe_or_unknown(void **state)
{
	(void)state;
	const char *bad[] = {"", "europe/paris", "Europe/Nowhere", "../etc/passwd", "/usr/share/zoneinfo/UTC",
			     "Europe/../UTC", "Europe", "Europe/", "Europe//Paris", "zone.tab", "Europe/Paris ",
			     "Mars/Olympus_Mons", "Europe/Paris\n", "Europe\\Paris",
			     "Aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (tz_valid(bad[i]))
			fail_msg("'%s' accepted", bad[i]);
	assert_false(tz_valid(NULL));
}

/* Copies the system's file of zone into path (a real TZif file under another name). */
static void
copy_zone(const char *zone, const char *path)
{
	char src[128];
	snprintf(src, sizeof(src), "/usr/share/zoneinfo/%s", zone);
	FILE *in = fopen(src, "rb"), *out = fopen(path, "wb");
	assert_non_null(in);
	assert_non_null(out);
	char buf[4096];
	size_t n;
	while ((n = fread(buf, 1, sizeof(buf), in)) > 0)
		assert_int_equal(fwrite(buf, 1, n, out), n);
	fclose(in);
	assert_int_equal(fclose(out), 0);
}

static void
test_tzdir(void **state)
{
	(void)state;
	char dir[] = "/tmp/test_tz.XXXXXX";
	assert_non_null(mkdtemp(dir));
	char path[128];
	snprintf(path, sizeof(path), "%s/Fake", dir);
	mkdir(path, 0700);
	snprintf(path, sizeof(path), "%s/Fake/Zone", dir);
	copy_zone("Asia/Tokyo", path);
	/* The magic alone is not enough: the file is read and checked whole. */
	snprintf(path, sizeof(path), "%s/Fake/Bad", dir);
	FILE *f = fopen(path, "w");
	fputs("TZif2 and then whatever", f);
	fclose(f);
	snprintf(path, sizeof(path), "%s/Fake/Text", dir);
	f = fopen(path, "w");
	fputs("not a zone file", f);
	fclose(f);

	setenv("TZDIR", dir, 1);
	assert_true(tz_valid("Fake/Zone"));
	assert_false(tz_valid("Fake/Bad"));
	assert_false(tz_valid("Fake/Text"));
	assert_false(tz_valid("Fake")); /* a folder */
	assert_false(tz_valid("Europe/Paris")); /* not in this TZDIR */
	struct tm tm;
	struct diag d;
	assert_int_equal(tz_utc_to_local("Fake/Zone", 0, &tm, &d), 0);
	assert_int_equal(tm.tm_gmtoff, 9 * 3600);
	unsetenv("TZDIR");
	/* The cache is keyed by the file's path: a changed TZDIR is noticed at once. */
	assert_false(tz_valid("Fake/Zone"));
	assert_true(tz_valid("Europe/Paris"));

	char cmd[160];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

static void *
worker(void *arg)
{
	long bad = 0;
	const char *zones[] = {"Europe/Paris", "Asia/Tokyo", "Nope/Nope", "America/New_York", "UTC"};
	for (int i = 0; i < 2000; i++) {
		int v = tz_valid(zones[i % 5]);
		if (v != (i % 5 != 2))
			bad++;
	}
	*(long *)arg = bad;
	return NULL;
}

static void
test_threads(void **state)
{
	(void)state;
	pthread_t t[4];
	long bad[4];
	for (int i = 0; i < 4; i++)
		pthread_create(&t[i], NULL, worker, &bad[i]);
	for (int i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		assert_int_equal(bad[i], 0);
	}
}

static struct tm
wall(int y, int mon, int day, int h, int min, int sec)
{
	struct tm tm = {.tm_year = y - 1900, .tm_mon = mon - 1, .tm_mday = day,
			.tm_hour = h, .tm_min = min, .tm_sec = sec, .tm_isdst = -1};
	return tm;
}

static time_t
to_utc(const char *zone, struct tm tm)
{
	time_t t = 0;
	struct diag d;
	if (tz_local_to_utc(zone, &tm, &t, &d) != 0)
		fail_msg("%s", d.msg);
	return t;
}

static void
test_utc_to_local(void **state)
{
	(void)state;
	struct tm tm;
	struct diag d;
	/* 2026-07-14T10:00:00Z: summer time in Paris (+2) and in New York (-4). */
	assert_int_equal(tz_utc_to_local("Europe/Paris", 1784023200, &tm, &d), 0);
	assert_int_equal(tm.tm_hour, 12);
	assert_int_equal(tm.tm_gmtoff, 7200);
	assert_int_equal(tm.tm_isdst, 1);
	assert_int_equal(tm.tm_mday, 14);
	assert_int_equal(tm.tm_mon, 6);
	assert_int_equal(tm.tm_year, 126);
	assert_int_equal(tz_utc_to_local("America/New_York", 1784023200, &tm, &d), 0);
	assert_int_equal(tm.tm_hour, 6);
	assert_int_equal(tm.tm_gmtoff, -4 * 3600);
	/* Kolkata: a half-hour offset, no DST. */
	assert_int_equal(tz_utc_to_local("Asia/Kolkata", 1784023200, &tm, &d), 0);
	assert_int_equal(tm.tm_hour, 15);
	assert_int_equal(tm.tm_min, 30);
	/* UTC without a switch, by any of its names. */
	const char *utc[] = {NULL, "UTC", "Etc/UTC"};
	for (int i = 0; i < 3; i++) {
		assert_int_equal(tz_utc_to_local(utc[i], 1784023200, &tm, &d), 0);
		assert_int_equal(tm.tm_hour, 10);
		assert_int_equal(tm.tm_gmtoff, 0);
	}
	/* Paris an instant before and after the spring change (2026-03-29T01:00:00Z). */
	assert_int_equal(tz_utc_to_local("Europe/Paris", 1774745999, &tm, &d), 0);
	assert_int_equal(tm.tm_hour, 1);
	assert_int_equal(tm.tm_gmtoff, 3600);
	assert_int_equal(tz_utc_to_local("Europe/Paris", 1774746000, &tm, &d), 0);
	assert_int_equal(tm.tm_hour, 3);
	assert_int_equal(tm.tm_gmtoff, 7200);
}

static void
test_local_to_utc(void **state)
{
	(void)state;
	/* An ordinary wall time. */
	assert_int_equal(to_utc("Europe/Paris", wall(2026, 7, 14, 12, 0, 0)), 1784023200);
	assert_int_equal(to_utc(NULL, wall(2026, 7, 14, 10, 0, 0)), 1784023200);
	assert_int_equal(to_utc("UTC", wall(2026, 7, 14, 10, 0, 0)), 1784023200);
	/* The gap: 02:30 does not exist on 2026-03-29 in Paris; it moves forward by the
	 * gap's hour, to 03:30 local = 01:30Z. */
	assert_int_equal(to_utc("Europe/Paris", wall(2026, 3, 29, 2, 30, 0)), 1774747800);
	/* The overlap: 02:30 happens twice on 2026-10-25; the earlier is 00:30Z (+2). */
	assert_int_equal(to_utc("Europe/Paris", wall(2026, 10, 25, 2, 30, 0)), 1792888200);
	/* ... and just after it, 03:30 is once only, at +1. */
	assert_int_equal(to_utc("Europe/Paris", wall(2026, 10, 25, 3, 30, 0)), 1792891800 + 3600);
	/* Fields carry as in timegm: month 13 of 2025 is January 2026; July 0 is June 30. */
	assert_int_equal(to_utc(NULL, wall(2025, 13, 1, 0, 0, 0)), to_utc(NULL, wall(2026, 1, 1, 0, 0, 0)));
	assert_int_equal(to_utc(NULL, wall(2026, 7, 0, 0, 0, 0)), to_utc(NULL, wall(2026, 6, 30, 0, 0, 0)));
	assert_int_equal(to_utc(NULL, wall(2026, 1, 1, 0, 0, -1)), to_utc(NULL, wall(2025, 12, 31, 23, 59, 59)));
	assert_int_equal(to_utc(NULL, wall(2026, -1, 1, 0, 0, 0)), to_utc(NULL, wall(2025, 11, 1, 0, 0, 0)));
	/* Round trips across a year of Paris and Sydney hours (DST both hemispheres). */
	const char *zones[] = {"Europe/Paris", "Australia/Sydney", "America/Santiago"};
	for (int z = 0; z < 3; z++) {
		for (time_t t = 1767225600; t < 1767225600 + 366 * 86400; t += 3 * 3600 + 17 * 60) {
			struct tm tm;
			struct diag d;
			assert_int_equal(tz_utc_to_local(zones[z], t, &tm, &d), 0);
			time_t back = to_utc(zones[z], tm);
			/* Equal, except in a repeated hour where the earlier instant is chosen. */
			if (back != t) {
				assert_true(back < t);
				assert_true(t - back <= 3600);
			}
		}
	}
}

static void
test_switch_errors_and_restores(void **state)
{
	(void)state;
	struct tm tm = wall(2026, 1, 1, 0, 0, 0);
	time_t t = 123;
	struct diag d;
	assert_int_equal(tz_local_to_utc("Mars/Olympus_Mons", &tm, &t, &d), -1);
	assert_int_equal(d.code, DIAG_INVALID);
	assert_string_equal(d.msg, "unknown time zone 'Mars/Olympus_Mons' (want an IANA name like "
				   "\"Europe/Paris\")");
	assert_int_equal(t, 123);
	assert_int_equal(tz_utc_to_local("../etc/passwd", 0, &tm, &d), -1);
	assert_int_equal(tz_check("Europe/Paris", &d), 0);
	assert_int_equal(tz_check(NULL, &d), 0);
	assert_int_equal(tz_check("Europe/Nowhere", &d), -1);
	/* The caller's TZ, set or unset, is never touched (conversions do not use it). */
	unsetenv("TZ");
	assert_int_equal(tz_utc_to_local("Asia/Tokyo", 0, &tm, &d), 0);
	assert_null(getenv("TZ"));
	setenv("TZ", "America/Lima", 1);
	tzset();
	assert_int_equal(tz_utc_to_local("Asia/Tokyo", 0, &tm, &d), 0);
	assert_int_equal(tm.tm_hour, 9);
	assert_string_equal(getenv("TZ"), "America/Lima");
	time_t zero = 0;
	struct tm lima;
	localtime_r(&zero, &lima);
	assert_int_equal(lima.tm_gmtoff, -5 * 3600); /* and it is still in effect */
	unsetenv("TZ");
	tzset();
}

static void
test_switch_session(void **state)
{
	(void)state;
	/* Several conversions in one switch: a week later in Sydney, across its April change. */
	struct tz_switch sw;
	struct diag d;
	assert_int_equal(tz_enter(&sw, "Australia/Sydney", &d), 0);
	struct tm tm;
	assert_int_equal(tz_to_local(&sw, 1775174400, &tm, &d), 0); /* 2026-04-03T00:00:00Z */
	assert_int_equal(tm.tm_gmtoff, 11 * 3600);
	assert_int_equal(tm.tm_hour, 11);
	tm.tm_mday += 7;
	time_t later = tz_to_utc(&sw, &tm);
	tz_leave(&sw);
	assert_int_equal(later, 1775174400 + 7 * 86400 + 3600); /* +10 from April 5 */
	assert_int_equal(tz_utc_to_local("Australia/Sydney", later, &tm, &d), 0);
	assert_int_equal(tm.tm_hour, 11);
	/* No lock is taken: entering twice on one thread is fine, UTC or not. */
	struct tz_switch a, b;
	assert_int_equal(tz_enter(&a, NULL, &d), 0);
	assert_int_equal(tz_enter(&b, "UTC", &d), 0);
	assert_int_equal(tz_to_local(&b, 0, &tm, &d), 0);
	assert_int_equal(tm.tm_year, 70);
	assert_int_equal(tz_to_utc(&a, &tm), 0);
	tz_leave(&b);
	tz_leave(&a);
	assert_int_equal(tz_enter(&a, "Asia/Tokyo", &d), 0);
	assert_int_equal(tz_enter(&b, "America/Lima", &d), 0);
	assert_int_equal(tz_to_local(&a, 0, &tm, &d), 0);
	assert_int_equal(tm.tm_hour, 9);
	assert_string_equal(tm.tm_zone, "JST");
	assert_int_equal(tz_to_local(&b, 0, &tm, &d), 0);
	assert_int_equal(tm.tm_hour, 19);
	assert_int_equal(tm.tm_wday, 3); /* Wednesday 1969-12-31 */
	assert_int_equal(tm.tm_yday, 364);
	tz_leave(&b);
	tz_leave(&a);
	/* An unknown zone is refused at the door, with nothing to leave. */
	assert_int_equal(tz_enter(&sw, "Atlantis/Capital", &d), -1);
	assert_int_equal(d.code, DIAG_INVALID);
}

/* Threads converting in different zones at once: each sees its own zone (no shared TZ). */
static void *
converter(void *arg)
{
	const char *zone = arg;
	long want = strcmp(zone, "Asia/Tokyo") == 0 ? 9 * 3600 : -3 * 3600;
	long bad = 0;
	for (int i = 0; i < 300; i++) {
		struct tm tm;
		struct diag d;
		if (tz_utc_to_local(zone, 1784023200, &tm, &d) != 0 || tm.tm_gmtoff != want)
			bad++;
		struct tm w = tm;
		time_t back;
		if (tz_local_to_utc(zone, &w, &back, &d) != 0 || back != 1784023200)
			bad++;
	}
	return (void *)bad;
}

static void
test_switch_threads(void **state)
{
	(void)state;
	pthread_t t[4];
	const char *zones[] = {"Asia/Tokyo", "America/Sao_Paulo", "Asia/Tokyo", "America/Sao_Paulo"};
	for (int i = 0; i < 4; i++)
		pthread_create(&t[i], NULL, converter, (void *)zones[i]);
	for (int i = 0; i < 4; i++) {
		void *bad;
		pthread_join(t[i], &bad);
		assert_null(bad);
	}
}

static void
test_dates(void **state)
{
	(void)state;
	assert_true(tz_date_valid("2027-01-11"));
	assert_true(tz_date_valid("2024-02-29"));
	assert_true(tz_date_valid("2000-02-29"));
	assert_false(tz_date_valid("1900-02-29"));
	assert_false(tz_date_valid("2027-02-29"));
	assert_false(tz_date_valid("2027-04-31"));
	assert_false(tz_date_valid("2027-13-01"));
	assert_false(tz_date_valid("2027-00-10"));
	assert_false(tz_date_valid("1899-12-31"));
	assert_false(tz_date_valid("2027-1-11"));
	assert_false(tz_date_valid("2027/01/11"));
	assert_false(tz_date_valid("2027-01-11T00"));
	assert_false(tz_date_valid(""));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_real_zones),
		cmocka_unit_test(test_rejects_unsafe_or_unknown),
		cmocka_unit_test(test_tzdir),
		cmocka_unit_test(test_threads),
		cmocka_unit_test(test_utc_to_local),
		cmocka_unit_test(test_local_to_utc),
		cmocka_unit_test(test_switch_errors_and_restores),
		cmocka_unit_test(test_switch_session),
		cmocka_unit_test(test_switch_threads),
		cmocka_unit_test(test_dates),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
