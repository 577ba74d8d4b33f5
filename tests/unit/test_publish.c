/*
 * Unit tests for report/publish (the monthly-reports job's body): the month before a
 * due instant in a zone (year change, DST, a zone west of UTC, k months back), which
 * plugins publish (the built-ins that declare publish = "monthly", a workspace plugin
 * shadowing one), and one month published on a real database: both files per plugin,
 * whole, one report.published event each naming them, the manager's message with the
 * page attached under its key, nothing for a month the program did not run, and a
 * failing plugin recorded as report.failed without stopping the others.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "lua/plugin.h"
#include "program/config.h"
#include "report/publish.h"
#include "store/stmt.h"
#include "store/store.h"
#include "tmpdir.h"

static void
write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static char *
read_all(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL)
		return NULL;
	char *b = calloc(1, 1 << 22);
	assert_non_null(b);
	size_t n = fread(b, 1, (1 << 22) - 1, f);
	b[n] = '\0';
	fclose(f);
	return b;
}

static time_t
utc(const char *iso)
{
	struct tm t = {0};
	assert_non_null(strptime(iso, "%Y-%m-%dT%H:%M:%SZ", &t));
	return timegm(&t);
}

static void
expect_month(const char *zone, const char *due, int k, const char *label, const char *from,
	     const char *until)
{
	char l[8];
	time_t f, u;
	struct diag d;
	assert_int_equal(report_publish_month_of(zone, utc(due), k, l, &f, &u, &d), 0);
	assert_string_equal(l, label);
	assert_int_equal(f, utc(from));
	assert_int_equal(u, utc(until));
}

static void
test_month_of(void **state)
{
	(void)state;
	/* The job's own instants: 00:00 on the 1st in the zone. */
	expect_month("Europe/Paris", "2027-01-31T23:00:00Z", 0, "2027-01", "2026-12-31T23:00:00Z",
		     "2027-01-31T23:00:00Z");
	expect_month("Europe/Paris", "2026-12-31T23:00:00Z", 0, "2026-12", "2026-11-30T23:00:00Z",
		     "2026-12-31T23:00:00Z");
	/* March has the DST change: it starts at UTC+1 and ends at UTC+2. */
	expect_month("Europe/Paris", "2027-03-31T22:00:00Z", 0, "2027-03", "2027-02-28T23:00:00Z",
		     "2027-03-31T22:00:00Z");
	/* West of UTC: the 1st at 00:00 in New York is 05:00 UTC. */
	expect_month("America/New_York", "2027-03-01T05:00:00Z", 0, "2027-02", "2027-02-01T05:00:00Z",
		     "2027-03-01T05:00:00Z");
	/* Months back (a run covering an outage), across the year. */
	expect_month("Europe/Paris", "2027-02-28T23:00:00Z", 2, "2026-12", "2026-11-30T23:00:00Z",
		     "2026-12-31T23:00:00Z");
	/* A run in the middle of a month (jobs run): the month before. */
	expect_month("UTC", "2027-05-17T10:00:00Z", 0, "2027-04", "2027-04-01T00:00:00Z",
		     "2027-05-01T00:00:00Z");
	char l[8];
	time_t f, u;
	struct diag d;
	assert_int_equal(report_publish_month_of("Nowhere/Atlantis", 0, 0, l, &f, &u, &d), -1);
}

static int
has(char **v, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(v[i], s) == 0)
			return 1;
	return 0;
}

static void
plugin_file(const char *name, const char *text)
{
	char path[200];
	mkdir(tmpdir_path("plugins"), 0700);
	mkdir(tmpdir_path("plugins/reports"), 0700);
	snprintf(path, sizeof(path), "%s/plugins/reports/%s.lua", tmpdir, name);
	write_file(path, text);
}

static void
test_plugins(void **state)
{
	(void)state;
	char **names, **paths;
	size_t n;
	struct diag d;
	assert_int_equal(report_publish_plugins(NULL, &names, &paths, &n, &d), 0);
	assert_true(has(names, n, "monthly-pulse"));
	assert_true(has(names, n, "program-overview"));
	assert_false(has(names, n, "mentor-recognition"));
	report_publish_plugins_free(names, paths, n);

	/* A workspace plugin named program-overview without publish shadows the built-in one;
	 * one of its own with publish = "monthly" is listed. */
	plugin_file("program-overview",
		    "return tandem.report{ name = 'program-overview', version = '1.0.0', api = 1,\n"
		    "  build = function(m, q, ctx) return { title = 't', sections = {} } end }\n");
	plugin_file("board", "return tandem.report{ name = 'board', version = '1.0.0', api = 1,\n"
			     "  publish = 'monthly',\n"
			     "  build = function(m, q, ctx)\n"
			     "    return { title = 'Board ' .. ctx.period.month, sections = {\n"
			     "      { heading = 'Period', text = ctx.period.from .. ' ' .. ctx.period.to } } }\n"
			     "  end }\n");
	assert_int_equal(report_publish_plugins(tmpdir, &names, &paths, &n, &d), 0);
	assert_false(has(names, n, "program-overview"));
	assert_true(has(names, n, "board"));
	assert_true(has(names, n, "monthly-pulse"));
	report_publish_plugins_free(names, paths, n);
	/* Any other value of publish is refused at load, naming the field. */
	plugin_file("weekly", "return tandem.report{ name = 'weekly', version = '1.0.0', api = 1,\n"
			      "  publish = 'weekly',\n"
			      "  build = function(m, q, ctx) return { title = 't', sections = {} } end }\n");
	struct plugin *p = plugin_load(NULL, tmpdir_path("plugins/reports/weekly.lua"), NULL, &d);
	assert_null(p);
	assert_non_null(strstr(d.msg, "weekly.lua:2: field 'publish' must be \"monthly\""));
	remove(tmpdir_path("plugins/reports/weekly.lua"));
	remove(tmpdir_path("plugins/reports/program-overview.lua"));
	remove(tmpdir_path("plugins/reports/board.lua"));
}

static int64_t
count(struct store *st, const char *sql)
{
	int64_t n = -1;
	struct diag d;
	assert_int_equal(stmt_query_int64(st, "count", sql, &n, &d), 0);
	return n;
}

static void
test_publish_month(void **state)
{
	(void)state;
	struct diag d;
	char db[160];
	snprintf(db, sizeof(db), "%s", tmpdir_path("tandem.db"));
	struct store *st = store_open(db, STORE_CREATE, &d);
	assert_non_null(st);
	assert_int_equal(store_exec(st,
				    "INSERT INTO people (id, external_id, name, email, timezone, created_at, "
				    "updated_at) VALUES (1, 'E1', 'Ana Silva', 'ana@x.org', 'Europe/Lisbon',"
				    " 'now', 'now')",
				    &d),
			 0);
	write_file(tmpdir_path("tandem.lua"), config_template);
	struct config cfg = {0};
	if (config_load(tmpdir_path("tandem.lua"), &cfg, &d) != 0)
		fail_msg("%s", d.msg);
	assert_int_equal(config_sync_programs(st, &cfg, &d), 0);
	cfg.programs[0].manager = strdup("E1");
	const char *prog = cfg.programs[0].name; /* digital-2027, from 2027-01-11 */

	plugin_file("board", "return tandem.report{ name = 'board', version = '1.0.0', api = 1,\n"
			     "  publish = 'monthly',\n"
			     "  build = function(m, q, ctx)\n"
			     "    return { title = 'Board ' .. ctx.period.month, sections = {\n"
			     "      { heading = 'Period', text = ctx.period.from .. ' to ' .. ctx.period.to } } }\n"
			     "  end }\n");
	plugin_file("broken", "return tandem.report{ name = 'broken', version = '1.0.0', api = 1,\n"
			      "  publish = 'monthly',\n"
			      "  build = function(m, q, ctx) error('no data today') end }\n");
	struct report_publish_ctx c = {.st = st, .cfg = &cfg, .ws = tmpdir};
	assert_int_equal(report_publish_plugins(tmpdir, &c.names, &c.paths, &c.nplugins, &d), 0);
	assert_int_equal(c.nplugins, 4); /* board, broken, monthly-pulse, program-overview */

	/* December 2026: the program had not started. */
	struct report_publish_counts n = {0};
	assert_int_equal(store_begin(st, &d), 0);
	assert_int_equal(report_publish_month(&c, "2026-12", utc("2026-11-30T23:00:00Z"),
					      utc("2026-12-31T23:00:00Z"), &n, &d),
			 0);
	assert_int_equal(store_commit(st, &d), 0);
	assert_int_equal(n.published + n.failed, 0);
	assert_int_equal(count(st, "SELECT count(*) FROM events WHERE kind LIKE 'report.%'"), 0);

	/* January 2027. */
	memset(&n, 0, sizeof(n));
	assert_int_equal(store_begin(st, &d), 0);
	int rc = report_publish_month(&c, "2027-01", utc("2026-12-31T23:00:00Z"),
				      utc("2027-01-31T23:00:00Z"), &n, &d);
	if (rc != 0)
		fail_msg("%s", d.msg);
	assert_int_equal(store_commit(st, &d), 0);
	assert_int_equal(n.months, 1);
	assert_int_equal(n.published, 3);
	assert_int_equal(n.failed, 1);
	assert_int_equal(n.messages, 3);
	assert_non_null(strstr(n.first_error, "no data today"));
	assert_int_equal(count(st, "SELECT count(*) FROM events WHERE kind = 'report.published'"
				   " AND json_extract(payload, '$.month') = '2027-01'"
				   " AND actor = 'job:monthly-reports' AND program_id IS NOT NULL"),
			 3);
	assert_int_equal(count(st, "SELECT count(*) FROM events WHERE kind = 'report.failed'"
				   " AND json_extract(payload, '$.plugin') = 'broken'"
				   " AND json_extract(payload, '$.error') LIKE '%no data today%'"),
			 1);
	assert_int_equal(count(st, "SELECT count(*) FROM outbox WHERE kind = 'report'"
				   " AND recipient_id = 1 AND idempotency_key ="
				   " 'report:digital-2027:board:2027-01'"
				   " AND json_extract(attachments, '$[0].type') LIKE 'text/html%'"),
			 1);

	char path[300];
	snprintf(path, sizeof(path), "%s/reports/2027-01/%s/board.html", tmpdir, prog);
	char *html = read_all(path);
	assert_non_null(html);
	assert_non_null(strstr(html, "Board 2027-01"));
	assert_non_null(strstr(html, "2026-12-31T23:00:00Z to 2027-01-31T23:00:00Z"));
	assert_non_null(strstr(html, "</html>"));
	free(html);
	snprintf(path, sizeof(path), "%s/reports/2027-01/%s/monthly-pulse.md", tmpdir, prog);
	char *md = read_all(path);
	assert_non_null(md);
	assert_non_null(strstr(md, "monthly pulse 2027-01"));
	free(md);
	snprintf(path, sizeof(path), "%s/reports/2027-01/%s/broken.html", tmpdir, prog);
	struct stat sb;
	assert_int_not_equal(stat(path, &sb), 0);

	/* Again (a manual run): files rewritten, one more event each, no second message. */
	memset(&n, 0, sizeof(n));
	assert_int_equal(store_begin(st, &d), 0);
	assert_int_equal(report_publish_month(&c, "2027-01", utc("2026-12-31T23:00:00Z"),
					      utc("2027-01-31T23:00:00Z"), &n, &d),
			 0);
	assert_int_equal(store_commit(st, &d), 0);
	assert_int_equal(count(st, "SELECT count(*) FROM outbox WHERE kind = 'report'"), 3);

	report_publish_plugins_free(c.names, c.paths, c.nplugins);
	config_fini(&cfg);
	store_close(st);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_month_of),
		cmocka_unit_test(test_plugins),
		cmocka_unit_test(test_publish_month),
	};
	return cmocka_run_group_tests(tests, tmpdir_setup, tmpdir_teardown);
}
