/*
 * Unit tests for the cadence kind: the declaration validator (lua/plugin_decl), the
 * reader of plan's result (lua/cadence_out) and sched/cadence's view of a loaded
 * cadence. Planning itself is in test_plan.c.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <lauxlib.h>
#include <lualib.h>

#include "lua/cadence_out.h"
#include "lua/plugin.h"
#include "sched/cadence.h"
#include "time/cal.h"
#include "time/tz.h"

static char dir[64];

static int
setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/test_cadence.XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int
teardown(void **state)
{
	(void)state;
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static const char *
write_file(const char *name, const char *text)
{
	static char path[128];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	return path;
}

/* Loading `body` as a cadence fails with a message containing want. */
static void
expect_decl_error(const char *body, const char *want)
{
	char text[1024];
	snprintf(text, sizeof(text),
		 "return tandem.cadence{\n  name = \"c\", version = \"1.0.0\", api = 1,\n%s}\n",
		 body);
	const char *path = write_file("c.lua", text);
	struct diag d;
	struct plugin *p = plugin_load(NULL, path, NULL, &d);
	if (p != NULL) {
		plugin_delete(p);
		fail_msg("loaded: %s", body);
	}
	if (strstr(d.msg, want) == NULL)
		fail_msg("got '%s', want '%s'", d.msg, want);
}

static void
test_declaration(void **state)
{
	(void)state;
	expect_decl_error("", "c.lua:1: a cadence needs a field 'rule' (a recurrence rule such as "
			      "\"FREQ=WEEKLY;INTERVAL=2\") or a field 'plan' (a function), or both");
	expect_decl_error("  rule = \"FREQ=WEEKLY\", zone = \"office\",\n",
			  "c.lua:3: field 'zone' must be \"mentee\", \"mentor\" or \"pair\" (got "
			  "\"office\")");
	expect_decl_error("  rule = \"FREQ=WEEKLY\",\n  duration_min = 0,\n",
			  "c.lua:4: field 'duration_min' must be between 1 and 1440 minutes (got 0)");
	expect_decl_error("  rule = \"FREQ=WEEKLY\",\n  duration_min = 30.5,\n",
			  "c.lua:4: field 'duration_min' must be an integer (got a fractional number)");
	expect_decl_error("  rule = \"FREQ=WEEKLY;BYSETPOS=2\",\n",
			  "c.lua:3: field 'rule': rule 'FREQ=WEEKLY;BYSETPOS=2': part 'BYSETPOS' is "
			  "not supported");
	expect_decl_error("  rule = \"every 2 hours\",\n",
			  "c.lua:3: field 'rule': \"every 2 hours\" is not a session rule");
	expect_decl_error("  rule = 7,\n", "c.lua:3: field 'rule' must be a string (got number)");
	expect_decl_error("  plan = \"weekly\",\n",
			  "c.lua:3: field 'plan' must be a function (got string)");
	/* All problems at once, each at its line. */
	expect_decl_error("  rule = \"FREQ=YEARLY\",\n  zone = \"x\",\n",
			  "c.lua:3: field 'rule': rule 'FREQ=YEARLY'");
	expect_decl_error("  rule = \"FREQ=YEARLY\",\n  zone = \"x\",\n", "c.lua:4: field 'zone'");
	/* "every 14 days" is a daily rule: a fine cadence. */
	const char *path = write_file(
	    "ok.lua", "return tandem.cadence{ name = \"ok\", version = \"1.0.0\", api = 1,\n"
		      "  rule = \"every 14 days\", duration_min = 30, zone = \"mentor\" }\n");
	struct diag d;
	struct cadence *c = cadence_open(NULL, path, &d);
	if (c == NULL)
		fail_msg("%s", d.msg);
	assert_string_equal(cadence_name(c), "ok");
	assert_string_equal(cadence_rule(c), "every 14 days");
	assert_int_equal(cadence_duration(c), 30);
	assert_string_equal(cadence_zone_choice(c), "mentor");
	assert_false(cadence_has_plan(c));
	cadence_delete(c);
}

static void
test_builtins(void **state)
{
	(void)state;
	static const char *const names[] = {"weekly", "biweekly", "monthly", "taper", "after_miss"};
	for (int i = 0; i < 5; i++) {
		struct diag d;
		struct cadence *c = cadence_open(NULL, names[i], &d);
		if (c == NULL)
			fail_msg("%s: %s", names[i], d.msg);
		assert_string_equal(cadence_name(c), names[i]);
		assert_string_equal(cadence_zone_choice(c), "pair");
		assert_int_equal(cadence_has_plan(c), i >= 3);
		cadence_delete(c);
	}
	struct diag d;
	assert_null(cadence_open(NULL, "fortnightly", &d));
	assert_int_equal(d.code, DIAG_NOTFOUND);
}

static time_t
utc(int y, int mo, int da, int h, int mi)
{
	struct cal_time w = {.year = y, .mon = mo, .day = da, .hour = h, .min = mi};
	return (time_t)cal_to_epoch(&w);
}

static void
test_times(void **state)
{
	(void)state;
	int64_t t;
	struct diag d;
	assert_int_equal(cadence_out_time("2027-01-12T10:00", "Europe/Paris", 0, &t, &d), 0);
	assert_int_equal(t, utc(2027, 1, 12, 9, 0));
	assert_int_equal(cadence_out_time("2027-01-12T10:00:30Z", "Europe/Paris", 0, &t, &d), 0);
	assert_int_equal(t, utc(2027, 1, 12, 10, 0) + 30);
	assert_int_equal(cadence_out_time("2027-01-12T10:00+05:30", NULL, 0, &t, &d), 0);
	assert_int_equal(t, utc(2027, 1, 12, 4, 30));
	assert_int_equal(cadence_out_time("2027-01-12", "America/New_York", 1, &t, &d), 0);
	assert_int_equal(t, utc(2027, 1, 12, 5, 0));
	/* A wall time in the gap moves forward by the gap; in the overlap, the first instant. */
	assert_int_equal(cadence_out_time("2027-03-14T02:30", "America/New_York", 0, &t, &d), 0);
	assert_int_equal(t, utc(2027, 3, 14, 7, 30));
	assert_int_equal(cadence_out_time("2027-11-07T01:30", "America/New_York", 0, &t, &d), 0);
	assert_int_equal(t, utc(2027, 11, 7, 5, 30));
	assert_int_equal(cadence_out_time("2027-01-12", NULL, 0, &t, &d), -1);
	assert_non_null(strstr(d.msg, "a session's start needs a time of day"));
	assert_int_equal(cadence_out_time("2027-02-29T10:00", NULL, 0, &t, &d), -1);
	assert_non_null(strstr(d.msg, "bad time '2027-02-29T10:00': no such date or time"));
	assert_int_equal(cadence_out_time("next tuesday", NULL, 0, &t, &d), -1);
	assert_int_equal(cadence_out_time("2027-01-12T10:00 ", NULL, 0, &t, &d), -1);
}

/* Reads the value of Lua expression expr as a plan result. */
static int
read_expr(const char *expr, struct cadence_entry **v, size_t *n, struct diag *d)
{
	lua_State *L = luaL_newstate();
	char chunk[512];
	snprintf(chunk, sizeof(chunk), "return %s", expr);
	if (luaL_dostring(L, chunk) != LUA_OK)
		fail_msg("%s", lua_tostring(L, -1));
	int rc = cadence_out_read(L, -1, "Europe/Paris", v, n, d);
	lua_close(L);
	return rc;
}

static void
test_result(void **state)
{
	(void)state;
	struct cadence_entry *v;
	size_t n;
	struct diag d;
	assert_int_equal(read_expr("{}", &v, &n, &d), 0);
	assert_int_equal(n, 0);
	assert_int_equal(read_expr("{ { start = '2027-01-12T10:00', duration = 30, topic = 'x' },"
				   "  { rule = 'FREQ=WEEKLY', from = 1800000000 } }",
				   &v, &n, &d),
			 0);
	assert_int_equal(n, 2);
	assert_int_equal(v[0].kind, CADENCE_SESSION);
	assert_int_equal(v[0].start, utc(2027, 1, 12, 9, 0));
	assert_int_equal(v[0].duration_min, 30);
	assert_string_equal(v[0].topic, "x");
	assert_int_equal(v[1].kind, CADENCE_SEGMENT);
	assert_string_equal(v[1].rule, "FREQ=WEEKLY");
	assert_int_equal(v[1].from, 1800000000);
	assert_int_equal(v[1].until, 0);
	free(v);
	static const struct {
		const char *expr, *want;
	} bad[] = {
	    {"nil", "plan must return a list of sessions and rule segments (got nil)"},
	    {"{ x = 1 }", "plan must return a list (a sequence 1..n), not a table with other keys"},
	    {"{ 5 }", "plan returned a bad entry 1: a number, not a table"},
	    {"{ { start = 1.5 } }", "plan returned a bad session 1: field 'start' must be a time: "
				  "whole epoch seconds (got 1.5: fractional)"},
	    {"{ { start = 1799758800.5 } }",
	     "plan returned a bad session 1: field 'start' must be a time: whole epoch seconds "
	     "(got 1799758800.5: fractional)"},
	    {"{ { start = 1e18 } }",
	     "plan returned a bad session 1: field 'start' must be a time: epoch seconds from 1 "
	     "(1970-01-01) to 253402300799 (9999-12-31) (got 1e+18: out of range)"},
	    {"{ { start = 0 } }",
	     "plan returned a bad session 1: field 'start' must be a time: epoch seconds from 1 "
	     "(1970-01-01) to 253402300799 (9999-12-31) (got 0: out of range)"},
	    {"{ { start = 0/0 } }", "plan returned a bad session 1: field 'start' must be a time: "
				  "whole epoch seconds (got"},
	    {"{ { start = true } }", "plan returned a bad session 1: field 'start' must be a time: "
				     "epoch seconds or a string (got boolean)"},
	    {"{ { start = 1800000000, topic = '' } }",
	     "plan returned a bad session 1: field 'topic' must be a string of 1 to 127 bytes"},
	    {"{ { start = 1800000000, duration = '45' } }",
	     "plan returned a bad session 1: field 'duration' must be an integer number of "
	     "minutes between 1 and 1440 (got string)"},
	    {"{ { rule = 'FREQ=HOURLY', from = 1 } }",
	     "plan returned a bad rule segment 1: field 'rule': \"FREQ=HOURLY\" is not a session "
	     "rule"},
	    {"{ { rule = 'FREQ=DAILY', from = '2027-01-12', ['until'] = 'soon' } }",
	     "plan returned a bad rule segment 1: field 'until': bad time 'soon'"},
	    {"{ { rule = 'FREQ=DAILY', from = 1, at = 2 } }",
	     "plan returned a bad rule segment 1: unknown field 'at' (fields: rule, from, until)"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(read_expr(bad[i].expr, &v, &n, &d), -1);
		if (strncmp(d.msg, bad[i].want, strlen(bad[i].want)) != 0)
			fail_msg("%s: got '%s', want '%s'", bad[i].expr, d.msg, bad[i].want);
	}
	/* At most CADENCE_OUT_MAX entries. */
	assert_int_equal(read_expr("(function() local t = {} for i = 1, 1001 do t[i] = "
				   "{ start = 1800000000 + i } end return t end)()",
				   &v, &n, &d),
			 -1);
	assert_string_equal(d.msg, "plan returned 1001 entries; at most 1000");
}

/* The service's cache: the same cadence while its file is unchanged, the new one once the
 * file changed (size or mtime), a fresh load after a clear; the file id names the path. */
static void
test_cache(void **state)
{
	(void)state;
	const char *text = "return tandem.cadence{ name = \"cc\", version = \"1.0.0\", api = 1,\n"
			   "  rule = \"FREQ=WEEKLY\" }\n";
	char path[128];
	snprintf(path, sizeof(path), "%s", write_file("cc.lua", text));
	struct cadence_cache *cc = cadence_cache_new();
	assert_non_null(cc);
	struct diag d;
	struct cadence *a = cadence_cache_get(cc, NULL, path, &d);
	if (a == NULL)
		fail_msg("%s", d.msg);
	assert_ptr_equal(cadence_cache_get(cc, NULL, path, &d), a);
	struct cadence *w = cadence_cache_get(cc, NULL, "weekly", &d);
	assert_non_null(w);
	assert_ptr_equal(cadence_cache_get(cc, NULL, "weekly", &d), w);
	char id[4300];
	cadence_file_id(a, id, sizeof(id));
	assert_true(strncmp(id, path, strlen(path)) == 0);
	write_file("cc.lua", "return tandem.cadence{ name = \"cc\", version = \"1.0.1\", api = 1,\n"
			     "  rule = \"FREQ=WEEKLY;INTERVAL=2\" }\n");
	struct cadence *b = cadence_cache_get(cc, NULL, path, &d);
	if (b == NULL)
		fail_msg("%s", d.msg);
	assert_string_equal(cadence_rule(b), "FREQ=WEEKLY;INTERVAL=2");
	cadence_cache_clear(cc);
	b = cadence_cache_get(cc, NULL, path, &d);
	assert_non_null(b);
	assert_string_equal(cadence_rule(b), "FREQ=WEEKLY;INTERVAL=2");
	/* An edit that does not load keeps the loaded version, at a get and at a refresh,
	 * whose message names the file and line; a good edit is then loaded by the refresh. */
	b = cadence_cache_get(cc, NULL, path, &d);
	write_file("cc.lua", "return tandem.cadence{ name = \"cc\", version = \"1.0.2\",\n"
			     "  rule = \"FREQ=WEEKLY;BYSETPOS=1\" }\n");
	struct cadence *k = cadence_cache_get(cc, NULL, path, &d);
	assert_ptr_equal(k, b);
	assert_string_equal(cadence_rule(k), "FREQ=WEEKLY;INTERVAL=2");
	assert_int_equal(cadence_cache_refresh(cc, &d), 1);
	if (strstr(d.msg, "keeps its loaded version") == NULL || strstr(d.msg, "cc.lua:") == NULL)
		fail_msg("%s", d.msg);
	write_file("cc.lua", "return tandem.cadence{ name = \"cc\", version = \"1.0.3\", api = 1,\n"
			     "  rule = \"FREQ=MONTHLY\" }\n");
	assert_int_equal(cadence_cache_refresh(cc, &d), 0);
	assert_string_equal(cadence_rule(cadence_cache_get(cc, NULL, path, &d)), "FREQ=MONTHLY");
	/* A file that went away is loaded again, which fails with the loader's message. */
	unlink(path);
	assert_null(cadence_cache_get(cc, NULL, path, &d));
	cadence_cache_delete(cc);
	cadence_cache_delete(NULL);
}

/* A rule that fixes the hour starts its sessions on the minute, whatever the second (and,
 * without BYMINUTE, the minute) the pair was activated at. */
static void
test_rule_on_the_minute(void **state)
{
	(void)state;
	const char *rules[] = {
	    "FREQ=WEEKLY;INTERVAL=2;BYDAY=TU;BYHOUR=10;BYMINUTE=0",
	    "FREQ=WEEKLY;BYDAY=TU;BYHOUR=10",
	    "FREQ=WEEKLY;BYDAY=TU;BYHOUR=10;BYMINUTE=30",
	};
	const int want_min[] = {0, 0, 30};
	for (size_t i = 0; i < sizeof(rules) / sizeof(*rules); i++) {
		char text[256];
		snprintf(text, sizeof(text),
			 "return tandem.cadence{ name = \"m%zu\", version = \"1.0.0\", api = 1,\n"
			 "  rule = \"%s\" }\n",
			 i, rules[i]);
		char name[32];
		snprintf(name, sizeof(name), "m%zu.lua", i);
		struct diag d;
		struct cadence_cache *cc = cadence_cache_new();
		assert_non_null(cc);
		struct cadence *c = cadence_cache_get(cc, NULL, write_file(name, text), &d);
		if (c == NULL)
			fail_msg("%s", d.msg);
		struct cadence_pair p;
		memset(&p, 0, sizeof(p));
		p.zone = "Australia/Sydney";
		p.topics = "[]";
		p.activated = (time_t)utc(2026, 12, 7, 12, 54) + 1; /* 12:54:01Z */
		struct cadence_ctx ctx = {.now = p.activated, .timezone = "UTC"};
		time_t until = p.activated + 70 * 86400;
		ctx.horizon = until;
		struct cadence_result r;
		if (cadence_run(c, &p, NULL, 0, &ctx, p.activated, until, &r, &d) != 0)
			fail_msg("%s: %s", rules[i], d.msg);
		assert_true(r.n >= 5);
		for (size_t k = 0; k < r.n; k++) {
			struct tm w;
			assert_int_equal(tz_utc_to_local("Australia/Sydney", r.v[k].start, &w, &d), 0);
			assert_int_equal(w.tm_sec, 0);
			assert_int_equal(w.tm_min, want_min[i]);
			assert_int_equal(w.tm_hour, 10);
			assert_true(r.v[k].start >= p.activated);
		}
		cadence_result_fini(&r);
		cadence_cache_delete(cc);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_declaration),
	    cmocka_unit_test(test_builtins),
	    cmocka_unit_test(test_times),
	    cmocka_unit_test(test_result),
	    cmocka_unit_test(test_cache),
	    cmocka_unit_test(test_rule_on_the_minute),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
