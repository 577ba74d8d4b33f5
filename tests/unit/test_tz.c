/* Unit tests for core/tz: IANA zone name validation and its cache. */
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
	assert_true(tz_valid("Europe/Paris")); /* cached answer */
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

static void
test_tzdir_and_cache(void **state)
{
	(void)state;
	char dir[] = "/tmp/test_tz.XXXXXX";
	assert_non_null(mkdtemp(dir));
	char path[128];
	snprintf(path, sizeof(path), "%s/Fake", dir);
	mkdir(path, 0700);
	snprintf(path, sizeof(path), "%s/Fake/Zone", dir);
	FILE *f = fopen(path, "w");
	fputs("TZif2 and then whatever", f);
	fclose(f);
	snprintf(path, sizeof(path), "%s/Fake/Text", dir);
	f = fopen(path, "w");
	fputs("not a zone file", f);
	fclose(f);

	setenv("TZDIR", dir, 1);
	tz_cache_clear();
	assert_true(tz_valid("Fake/Zone"));
	assert_false(tz_valid("Fake/Text"));
	assert_false(tz_valid("Europe/Paris")); /* not in this TZDIR */
	unsetenv("TZDIR");
	/* Answers are cached until cleared. */
	assert_true(tz_valid("Fake/Zone"));
	assert_false(tz_valid("Europe/Paris"));
	tz_cache_clear();
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
	tz_cache_clear();
	pthread_t t[4];
	long bad[4];
	for (int i = 0; i < 4; i++)
		pthread_create(&t[i], NULL, worker, &bad[i]);
	for (int i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		assert_int_equal(bad[i], 0);
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
		cmocka_unit_test(test_tzdir_and_cache),
		cmocka_unit_test(test_threads),
		cmocka_unit_test(test_dates),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
