/* Unit tests for core/lua/api_time: parsing, formatting, calendar arithmetic in zones. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <lauxlib.h>

#include "lua/api_time.h"
#include "lua/sandbox.h"

static int64_t
parse_ok(const char *s)
{
	int64_t t = 0;
	struct diag d;
	assert_int_equal(api_time_parse(s, &t, &d), 0);
	return t;
}

static void
test_parse(void **state)
{
	(void)state;
	assert_int_equal(parse_ok("2026-11-22T10:00:00Z"), 1795341600);
	assert_int_equal(parse_ok("2026-11-22T11:00:00+01:00"), 1795341600);
	assert_int_equal(parse_ok("2026-11-22T05:30:00-0430"), 1795341600);
	assert_int_equal(parse_ok("2026-11-22T10:00Z"), 1795341600);
	assert_int_equal(parse_ok("2026-11-22"), 1795305600);
	assert_int_equal(parse_ok("1969-12-31T23:59:59Z"), -1);
	assert_int_equal(parse_ok("2028-02-29"), 1835395200);

	struct diag d;
	int64_t t;
	assert_int_equal(api_time_parse("2026-13-01", &t, &d), -1);
	assert_string_equal(d.msg, "bad time '2026-13-01': month out of range");
	assert_int_equal(api_time_parse("2026-02-29", &t, &d), -1);
	assert_string_equal(d.msg, "bad time '2026-02-29': day out of range for the month");
	assert_int_equal(api_time_parse("2026-11-22T10:00:00", &t, &d), -1);
	assert_non_null(strstr(d.msg, "missing zone designator"));
	assert_int_equal(api_time_parse("2026-11-22T24:00:00Z", &t, &d), -1);
	assert_int_equal(api_time_parse("22/11/2026", &t, &d), -1);
	assert_int_equal(api_time_parse("2026-11-22T10:00:00Zjunk", &t, &d), -1);
	assert_int_equal(api_time_parse("", &t, &d), -1);
}

static void
fmt(int64_t t, const char *zone, const char *want)
{
	char buf[64];
	struct diag d;
	assert_int_equal(api_time_format(t, zone, buf, sizeof(buf), &d), 0);
	assert_string_equal(buf, want);
}

static void
test_format(void **state)
{
	(void)state;
	fmt(1795341600, NULL, "2026-11-22T10:00:00Z");
	fmt(1795341600, "UTC", "2026-11-22T10:00:00Z");
	fmt(1795341600, "Europe/Paris", "2026-11-22T11:00:00+01:00");
	fmt(1774771200, "Europe/Paris", "2026-03-29T10:00:00+02:00");
	fmt(1795341600, "America/St_Johns", "2026-11-22T06:30:00-03:30");
	fmt(-1, NULL, "1969-12-31T23:59:59Z");
	char buf[64];
	struct diag d;
	assert_int_equal(api_time_format(0, "Mars/Olympus", buf, sizeof(buf), &d), -1);
	assert_non_null(strstr(d.msg, "unknown time zone 'Mars/Olympus'"));
	assert_int_equal(api_time_format(0, "../etc/passwd", buf, sizeof(buf), &d), -1);
	/* The caller's TZ is restored. */
	assert_null(getenv("TZ"));
}

static int64_t
add(int64_t t, int64_t n, enum api_time_unit u, const char *zone)
{
	int64_t out = 0;
	struct diag d;
	assert_int_equal(api_time_add(t, n, u, zone, &out, &d), 0);
	return out;
}

static void
test_add_dst(void **state)
{
	(void)state;
	/* 1 day across the spring change keeps 10:00 local (23 h later). */
	assert_int_equal(add(1774688400, 1, API_TIME_DAYS, "Europe/Paris"), 1774771200);
	assert_int_equal(1774771200 - 1774688400, 23 * 3600);
	/* The same in UTC is 24 h. */
	assert_int_equal(add(1774688400, 1, API_TIME_DAYS, NULL), 1774688400 + 86400);
	/* A week across the US change keeps 09:00 local. */
	assert_int_equal(add(1772892000, 1, API_TIME_WEEKS, "America/New_York"), 1773493200);
	/* Backwards across it too. */
	assert_int_equal(add(1773493200, -7, API_TIME_DAYS, "America/New_York"), 1772892000);
	/* Into the gap: 02:30 does not exist on 2026-03-29 in Paris; moves to 03:30. */
	assert_int_equal(add(1774661400, 1, API_TIME_DAYS, "Europe/Paris"), 1774747800);
	/* Into the repeated hour: the earlier 02:30 (+02:00). */
	assert_int_equal(add(1792801800, 1, API_TIME_DAYS, "Europe/Paris"), 1792888200);
	/* Plain intervals ignore the zone. */
	assert_int_equal(add(1774688400, 24, API_TIME_HOURS, "Europe/Paris"), 1774688400 + 86400);
	assert_int_equal(add(100, -2, API_TIME_MINUTES, NULL), -20);
}

static void
test_add_months(void **state)
{
	(void)state;
	/* Jan 31 + 1 month clamps to the last day of February. */
	assert_int_equal(add(1769860800, 1, API_TIME_MONTHS, NULL), 1772280000);
	assert_int_equal(add(1832932800, 1, API_TIME_MONTHS, NULL), 1835438400); /* leap year */
	/* 12 months = one year; -1 month from March 31 is Feb 28. */
	assert_int_equal(add(1769860800, 12, API_TIME_MONTHS, NULL), parse_ok("2027-01-31T12:00:00Z"));
	assert_int_equal(add(parse_ok("2026-03-31T12:00:00Z"), -1, API_TIME_MONTHS, NULL),
			 parse_ok("2026-02-28T12:00:00Z"));
	/* In a zone, the wall time is kept across the DST change. */
	assert_int_equal(add(parse_ok("2026-02-15T09:00:00+01:00"), 1, API_TIME_MONTHS, "Europe/Paris"),
			 parse_ok("2026-03-15T09:00:00+01:00"));
	assert_int_equal(add(parse_ok("2026-03-15T09:00:00+01:00"), 1, API_TIME_MONTHS, "Europe/Paris"),
			 parse_ok("2026-04-15T09:00:00+02:00"));
	enum api_time_unit u;
	assert_int_equal(api_time_unit_parse("month", &u), 0);
	assert_int_equal(u, API_TIME_MONTHS);
	assert_int_equal(api_time_unit_parse("fortnights", &u), -1);
}

static void
test_weekday(void **state)
{
	(void)state;
	struct diag d;
	assert_int_equal(api_time_weekday(1795341600, NULL, &d), 7);   /* Sunday 2026-11-22 */
	assert_int_equal(api_time_weekday(0, NULL, &d), 4);            /* Thursday 1970-01-01 */
	assert_int_equal(api_time_weekday(-1, NULL, &d), 3);           /* Wednesday */
	/* 23:30 UTC on Sunday is already Monday in Tokyo. */
	assert_int_equal(api_time_weekday(parse_ok("2026-11-22T23:30:00Z"), "Asia/Tokyo", &d), 1);
	assert_int_equal(api_time_weekday(0, "Nowhere/Land", &d), -1);
}

static void
test_lua_binding(void **state)
{
	(void)state;
	struct diag d;
	lua_State *L = plugin_sandbox_new(NULL, &d);
	assert_non_null(L);
	api_time_push(L);
	lua_setglobal(L, "T");
	assert_int_equal(plugin_sandbox_dostring(L,
		"local t = T.parse('2026-03-28T10:00:00+01:00')\n"
		"local u = T.add(t, 1, 'days', 'Europe/Paris')\n"
		"return T.format(u, 'Europe/Paris') .. ' ' .. T.format(u) .. ' ' .. T.weekday(u, 'Europe/Paris')",
		"=time", &d), 0);
	assert_string_equal(lua_tostring(L, -1), "2026-03-29T10:00:00+02:00 2026-03-29T08:00:00Z 7");
	lua_pop(L, 1);
	assert_int_equal(plugin_sandbox_dostring(L, "return T.parse('nope')", "@t.lua", &d), -1);
	assert_string_equal(d.msg, "t.lua:1: bad time 'nope': want YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ (or an offset like +01:00)");
	assert_int_equal(plugin_sandbox_dostring(L, "return T.add(0, 1, 'fortnights')", "@t.lua", &d), -1);
	assert_non_null(strstr(d.msg, "t.lua:1: bad argument #3 to 'add'"));
	assert_int_equal(plugin_sandbox_dostring(L, "return T.format(0, 'Mars/Base')", "@t.lua", &d), -1);
	assert_non_null(strstr(d.msg, "unknown time zone 'Mars/Base'"));
	assert_int_equal(plugin_sandbox_dostring(L, "return T.format('x')", "@t.lua", &d), -1);
	assert_non_null(strstr(d.msg, "expected a time"));
	plugin_sandbox_delete(L);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),       cmocka_unit_test(test_format),
		cmocka_unit_test(test_add_dst),     cmocka_unit_test(test_add_months),
		cmocka_unit_test(test_weekday),     cmocka_unit_test(test_lua_binding),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
