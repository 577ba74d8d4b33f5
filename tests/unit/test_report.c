/*
 * Unit tests for report/query (the read-only q helper: writes, ATTACH, PRAGMA,
 * temporary tables, a recursive CTE that never ends and a huge result are refused
 * with a clear error and change nothing; parameters and values) and report/report
 * (a plugin's build run in its worker: the document back as JSON, a bad document
 * named by plugin, section and field, an error in the hook, the default plugin).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>
#include <lauxlib.h>
#include <lualib.h>

#include "lua/check.h"
#include "program/config.h"
#include "report/query.h"
#include "report/report.h"
#include "store/stmt.h"
#include "store/store.h"
#include "tmpdir.h"

static char db[128];

/* A workspace database with three people. */
static void
make_db(void)
{
	snprintf(db, sizeof(db), "%s", tmpdir_path("tandem.db"));
	struct diag d;
	struct store *st = store_open(db, STORE_CREATE, &d);
	assert_non_null(st);
	assert_int_equal(store_exec(st,
				    "INSERT INTO people (id, external_id, name, email, timezone, created_at, "
				    "updated_at) VALUES "
				    "(1, 'E1', 'Ana Silva', 'ana@x.org', 'Europe/Lisbon', 'now', 'now'), "
				    "(2, 'E2', 'Ben Okafor', 'ben@x.org', 'Europe/Paris', 'now', 'now'), "
				    "(3, 'E3', 'Chloé Martin', 'chloe@x.org', 'Europe/Paris', 'now', 'now')",
				    &d),
			 0);
	store_close(st);
}

static int
setup(void **state)
{
	if (tmpdir_setup(state) != 0)
		return -1;
	make_db();
	return 0;
}

/* Runs chunk (text) with q as the global `q`; returns its error or "" (static). */
static const char *
run_q(const char *chunk, const struct query_limits *lim, char *result, size_t size)
{
	static char err[DIAG_MSG_MAX];
	struct diag d;
	struct query *q = query_open(db, lim, &d);
	assert_non_null(q);
	lua_State *L = luaL_newstate();
	luaL_openlibs(L);
	query_push(L, q);
	lua_setglobal(L, "q");
	err[0] = '\0';
	if (luaL_dostring(L, chunk) != LUA_OK)
		snprintf(err, sizeof(err), "%s", lua_tostring(L, -1));
	else if (result != NULL)
		snprintf(result, size, "%s", lua_isstring(L, -1) ? lua_tostring(L, -1) : "");
	query_detach(L);
	lua_close(L);
	query_close(q);
	return err;
}

static long long
count_people(void)
{
	struct diag d;
	struct store *st = store_open(db, 0, &d);
	assert_non_null(st);
	int64_t n = -1;
	assert_int_equal(stmt_query_int64(st, "count", "SELECT count(*) FROM people", &n, &d), 0);
	store_close(st);
	return (long long)n;
}

static void
expect_refused(const char *chunk, const char *msg)
{
	long long before = count_people();
	const char *err = run_q(chunk, NULL, NULL, 0);
	if (strstr(err, msg) == NULL)
		fail_msg("for %s\n got: %s\nwant: %s", chunk, err, msg);
	assert_int_equal(count_people(), before);
}

static void
test_reads(void **state)
{
	(void)state;
	char out[256];
	assert_string_equal(
		run_q("local r = q.rows('SELECT id, name, NULL AS none_ FROM people WHERE id >= ? ORDER BY id', 2)\n"
		      "return #r .. ' ' .. r[1].name .. ' ' .. r[2].id .. ' ' .. tostring(r[1].none_)",
		      NULL, out, sizeof(out)),
		"");
	assert_string_equal(out, "2 Ben Okafor 3 nil");
	assert_string_equal(run_q("local r = q.one('SELECT count(*) AS n, avg(id) AS a FROM people')\n"
				  "return math.type(r.n) .. r.n .. ' ' .. r.a",
				  NULL, out, sizeof(out)),
			    "");
	assert_string_equal(out, "integer3 2.0");
	assert_string_equal(run_q("return tostring(q.one('SELECT * FROM people WHERE id = ?', 99))", NULL,
				  out, sizeof(out)),
			    "");
	assert_string_equal(out, "nil");
	/* Parameters: strings, booleans, nil. */
	assert_string_equal(run_q("return q.one('SELECT ? || ? AS s, ? AS b, ? IS NULL AS n', 'a', 'b', true, nil).s",
				  NULL, out, sizeof(out)),
			    "");
	assert_string_equal(out, "ab");
	/* A recursive CTE that ends is fine. */
	assert_string_equal(run_q("return q.one('WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c "
				  "WHERE x < 100) SELECT sum(x) AS s FROM c').s",
				  NULL, out, sizeof(out)),
			    "");
	assert_string_equal(out, "5050");
}

static void
test_refusals(void **state)
{
	(void)state;
	const char *ro = "not allowed in a report (the query helper only reads)";
	expect_refused("q.rows(\"INSERT INTO people (external_id, name, email, timezone) VALUES ('X', 'X', 'x@y', 'UTC')\")", ro);
	expect_refused("q.rows('UPDATE people SET name = 1')", ro);
	expect_refused("q.rows('DELETE FROM people')", ro);
	expect_refused("q.rows('DROP TABLE people')", ro);
	expect_refused("q.rows(\"ATTACH DATABASE '/tmp/x.db' AS h\")", "ATTACH");
	expect_refused("q.rows('PRAGMA user_version = 99')", "PRAGMA");
	expect_refused("q.rows('PRAGMA user_version')", "PRAGMA");
	expect_refused("q.rows('CREATE TEMP TABLE t (x)')", "only reads): INSERT sqlite_temp_master");
	expect_refused("q.rows('CREATE TEMP VIEW v AS SELECT 1')", ro);
	expect_refused("q.rows('BEGIN')", ro);
	/* One statement per call: a write hidden after a read is refused too. */
	expect_refused("q.rows('SELECT 1; DELETE FROM people')", "one statement per call");
	expect_refused("q.rows('SELEKT 1')", "q.rows: near \"SELEKT\": syntax error");
	expect_refused("q.rows('SELECT ?', 1, 2)", "q.rows: the query has 1 parameter, 2 values given");
	expect_refused("q.rows('SELECT ?', {})", "parameter 1 must be a number, string, boolean or nil (got table)");
	struct stat sb;
	assert_int_not_equal(stat("/tmp/x.db", &sb), 0); /* ATTACH created nothing */
}

static void
test_budgets(void **state)
{
	(void)state;
	/* A recursive CTE that never ends stops at the step budget. */
	struct query_limits small = {.steps = 2000000};
	const char *err = run_q("q.one('WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) "
				"SELECT count(*) FROM c')",
				&small, NULL, 0);
	assert_non_null(strstr(err, "q.one: the report's queries ran out of their budget of 2000000 steps"));
	/* Rows and bytes, across calls. */
	struct query_limits rows = {.rows = 1000};
	err = run_q("for i = 1, 3 do q.rows('WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c "
		    "LIMIT 400) SELECT x FROM c') end",
		    &rows, NULL, 0);
	assert_non_null(strstr(err, "q.rows: the report's queries returned more than 1000 rows (its budget)"));
	struct query_limits bytes = {.bytes = 100000};
	err = run_q("q.rows(\"WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c LIMIT 100) "
		    "SELECT printf('%.2000c', 'x') AS s FROM c\")",
		    &bytes, NULL, 0);
	assert_non_null(strstr(err, "returned more than 100000 bytes (its budget)"));
	/* A q kept past its build refuses. */
	struct diag d;
	struct query *q = query_open(db, NULL, &d);
	lua_State *L = luaL_newstate();
	luaL_openlibs(L);
	query_push(L, q);
	lua_setglobal(L, "q");
	query_detach(L);
	query_close(q);
	assert_int_not_equal(luaL_dostring(L, "q.rows('SELECT 1')"), LUA_OK);
	assert_non_null(strstr(lua_tostring(L, -1), "this q belongs to an earlier build"));
	lua_close(L);
}

/* ---- report_build_with ------------------------------------------------------------ */

static void
write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static int
load_cfg(struct config *cfg)
{
	char path[160];
	snprintf(path, sizeof(path), "%s", tmpdir_path("tandem.lua"));
	write_file(path, config_template);
	struct diag d;
	int rc = config_load(path, cfg, &d);
	if (rc != 0)
		fail_msg("%s", d.msg);
	return rc;
}

static int
build(const char *plugin_text, json_t **doc, struct diag *d)
{
	char dir[160], path[200];
	snprintf(dir, sizeof(dir), "%s/plugins", tmpdir);
	mkdir(dir, 0700);
	snprintf(dir, sizeof(dir), "%s/plugins/reports", tmpdir);
	mkdir(dir, 0700);
	snprintf(path, sizeof(path), "%s/t.lua", dir);
	write_file(path, plugin_text);
	struct config cfg = {0};
	load_cfg(&cfg);
	struct store *st = store_open(db, 0, d);
	assert_non_null(st);
	json_t *m = json_loads(plugin_check_metrics, 0, NULL);
	assert_non_null(m);
	struct report_opts o = {.ws = tmpdir, .plugin = path, .now = 1790000000};
	int rc = report_build_with(st, &cfg, cfg.programs[0].name, &o, m, doc, d);
	json_decref(m);
	store_close(st);
	config_fini(&cfg);
	return rc;
}

static void
test_build(void **state)
{
	(void)state;
	json_t *doc;
	struct diag d;
	assert_int_equal(build("return tandem.report{ name = 't', version = '1.0.0', api = 1,\n"
			       "  build = function(metrics, q, ctx)\n"
			       "    local n = q.one('SELECT count(*) AS n FROM people').n\n"
			       "    return { title = ctx.program.name .. ' ' .. ctx.now_iso, sections = {\n"
			       "      { heading = 'h', table = { columns = {'people', 'enrolled'},\n"
			       "        rows = { { n, metrics.funnel.enrolled } } } } } }\n"
			       "  end }\n",
			       &doc, &d),
			 0);
	char *text = json_dumps(doc, JSON_COMPACT | JSON_SORT_KEYS);
	assert_string_equal(text, "{\"sections\":[{\"heading\":\"h\",\"table\":{\"columns\":[\"people\","
				  "\"enrolled\"],\"rows\":[[3,40]]}}],\"title\":\"digital-2027 "
				  "2026-09-21T14:13:20Z\"}");
	free(text);
	json_decref(doc);
	/* A bad document: plugin FILE:LINE of build, section and field. */
	assert_int_equal(build("return tandem.report{ name = 't', version = '1.0.0', api = 1,\n"
			       "  build = function(metrics, q, ctx)\n"
			       "    return { title = 'x', sections = { { heading = 'a' },\n"
			       "      { heading = 'b', chart = { type = 'pie', title = 'c', labels = {'a'},\n"
			       "        series = {} } } } }\n"
			       "  end }\n",
			       &doc, &d),
			 -1);
	assert_non_null(strstr(d.msg, "t.lua:2: section 2: field 'chart.type' must be"));
	assert_non_null(strstr(d.msg, "(in hook build)"));
	/* A write through q: the hook fails at its line, nothing changed. */
	long long before = count_people();
	assert_int_equal(build("return tandem.report{ name = 't', version = '1.0.0', api = 1,\n"
			       "  build = function(metrics, q, ctx)\n"
			       "    q.rows('DELETE FROM people')\n"
			       "  end }\n",
			       &doc, &d),
			 -1);
	assert_non_null(strstr(d.msg, "t.lua:3: q.rows: not allowed in a report"));
	assert_int_equal(count_people(), before);
}

/* Builds plugin_text on the test database with the metrics without a health: build reads
 * metrics.health on first access, computed in its worker. */
static int
build_lazy(const char *plugin_text, json_t **doc, struct diag *d)
{
	char dir[160], path[200];
	snprintf(dir, sizeof(dir), "%s/plugins/reports", tmpdir);
	mkdir(dir, 0700);
	snprintf(path, sizeof(path), "%s/lazy.lua", dir);
	write_file(path, plugin_text);
	struct config cfg = {0};
	load_cfg(&cfg);
	struct store *st = store_open(db, 0, d);
	assert_non_null(st);
	assert_int_equal(config_sync_programs(st, &cfg, d), 0);
	json_t *m = json_loads(plugin_check_metrics, 0, NULL);
	assert_non_null(m);
	assert_int_equal(json_object_del(m, "health"), 0);
	struct report_opts o = {.ws = tmpdir, .plugin = path, .now = 1790000000};
	int rc = report_build_with(st, &cfg, cfg.programs[0].name, &o, m, doc, d);
	json_decref(m);
	store_close(st);
	config_fini(&cfg);
	return rc;
}

/* The cell of the first section's first row, column i, as text (static). */
static const char *
cell(json_t *doc, size_t i)
{
	static char buf[256];
	json_t *row = json_array_get(
	    json_object_get(json_object_get(json_array_get(json_object_get(doc, "sections"), 0),
					    "table"),
			    "rows"),
	    0);
	json_t *v = json_array_get(row, i);
	if (json_is_string(v))
		snprintf(buf, sizeof(buf), "%s", json_string_value(v));
	else
		snprintf(buf, sizeof(buf), "%lld", (long long)json_integer_value(v));
	return buf;
}

static void
test_lazy_health(void **state)
{
	(void)state;
	json_t *doc;
	struct diag d;
	/* Read on first access: the document `tandem health` prints (no pair here), its
	 * cadence from tandem.lua; pairs sees it too; the metatable is locked. */
	assert_int_equal(
	    build_lazy("return tandem.report{ name = 'lazy', version = '1.0.0', api = 1,\n"
		       "  build = function(metrics, q, ctx)\n"
		       "    local seen = false\n"
		       "    for k in pairs(metrics) do if k == 'health' then seen = true end end\n"
		       "    local h = metrics.health\n"
		       "    return { title = 't', sections = { { heading = 'h', table = {\n"
		       "      columns = { 'program', 'pairs', 'cadence', 'seen', 'same', 'mt', 'other' },\n"
		       "      rows = { { h.program, #h.pairs, h.cadence.name, tostring(seen),\n"
		       "        tostring(rawequal(h, metrics.health)), tostring(getmetatable(metrics)),\n"
		       "        tostring(metrics.nothing) } } } } } }\n"
		       "  end }\n",
		       &doc, &d),
	    0);
	assert_string_equal(cell(doc, 0), "digital-2027");
	assert_string_equal(cell(doc, 1), "0");
	assert_string_equal(cell(doc, 2), "biweekly");
	assert_string_equal(cell(doc, 3), "true");
	assert_string_equal(cell(doc, 4), "true");
	assert_string_equal(cell(doc, 5), "false");
	assert_string_equal(cell(doc, 6), "nil");
	json_decref(doc);
	/* The plugin cannot take the metatable off. */
	assert_int_equal(build_lazy("return tandem.report{ name = 'lazy', version = '1.0.0', api = 1,\n"
				    "  build = function(metrics, q, ctx)\n"
				    "    setmetatable(metrics, nil)\n"
				    "  end }\n",
				    &doc, &d),
			 -1);
	assert_non_null(strstr(d.msg, "lazy.lua:3: cannot change a protected metatable"));
}

/* query_check: a statement prepared against the schema as q.rows/q.one would, run never. */
static void
test_query_check(void **state)
{
	(void)state;
	struct diag d;
	diag_clear(&d);
	struct query *q = query_open_schema(&d);
	assert_non_null(q);
	assert_int_equal(query_check(q, 1, "SELECT id, name FROM people WHERE id = ?", 1, &d), 0);
	assert_int_equal(query_check(q, 0, "SELECT count(*) FROM sessions", 0, &d), 0);
	assert_int_equal(query_check(q, 1, "SELECT * FROM sesions", 0, &d), -1);
	assert_string_equal(d.msg, "q.rows: no such table: sesions");
	assert_int_equal(query_check(q, 0, "SELECT id FROM people WHERE id = ?", 2, &d), -1);
	assert_string_equal(d.msg, "q.one: the query has 1 parameter, 2 values given");
	assert_int_equal(query_check(q, 1, "UPDATE people SET name = 'x'", 0, &d), -1);
	assert_non_null(strstr(d.msg, "not allowed in a report"));
	assert_int_equal(query_check(q, 1, "SELECT 1; SELECT 2", 0, &d), -1);
	assert_non_null(strstr(d.msg, "one statement per call"));
	query_close(q);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reads),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_budgets),
		cmocka_unit_test(test_build),
		cmocka_unit_test(test_lazy_health),
		cmocka_unit_test(test_query_check),
	};
	return cmocka_run_group_tests(tests, setup, tmpdir_teardown);
}
