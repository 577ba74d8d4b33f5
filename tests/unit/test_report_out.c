/*
 * Unit tests for lua/report_out: the report document a build hook returns,
 * read from a Lua value into JSON; every refusal names the section and field.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <lauxlib.h>
#include <lualib.h>

#include "lua/report_out.h"

/* Evaluates `return EXPR` in a fresh state and reads the value. */
static int
read_doc(const char *expr, json_t **out, struct diag *d)
{
	lua_State *L = luaL_newstate();
	luaL_openlibs(L);
	char code[8192];
	snprintf(code, sizeof(code), "return %s", expr);
	assert_int_equal(luaL_dostring(L, code), LUA_OK);
	int top = lua_gettop(L);
	int rc = report_out_read(L, -1, out, d);
	assert_int_equal(lua_gettop(L), top); /* the stack as it was */
	lua_close(L);
	return rc;
}

static void
expect_error(const char *expr, const char *msg)
{
	json_t *doc = NULL;
	struct diag d;
	diag_clear(&d);
	assert_int_equal(read_doc(expr, &doc, &d), -1);
	assert_null(doc);
	if (strstr(d.msg, msg) == NULL)
		fail_msg("for %s\n got: %s\nwant: %s", expr, d.msg, msg);
	assert_int_equal(d.code, DIAG_INVALID);
}

static void
test_full_document(void **state)
{
	(void)state;
	json_t *doc;
	struct diag d;
	assert_int_equal(
		read_doc("{ title = 'T', subtitle = 'S', sections = {"
			 " { heading = 'A', text = 'one\\n\\ntwo',"
			 "   table = { columns = {'name', 'n', 'rate', 'ok'}, rows = { {'Ana', 3, 0.5, true} } } },"
			 " { heading = 'B', chart = { type = 'bar', title = 'C', x_label = 'month',"
			 "   labels = {'x', 'y'}, series = { { name = 's', values = {1, -2.5} } } } },"
			 " { heading = 'C', table = { columns = {'a'}, rows = {} } } } }",
			 &doc, &d),
		0);
	char *text = json_dumps(doc, JSON_SORT_KEYS | JSON_COMPACT);
	assert_string_equal(
		text,
		"{\"sections\":[{\"heading\":\"A\",\"table\":{\"columns\":[\"name\",\"n\",\"rate\",\"ok\"],"
		"\"rows\":[[\"Ana\",3,0.5,true]]},\"text\":\"one\\n\\ntwo\"},{\"chart\":{\"labels\":[\"x\","
		"\"y\"],\"series\":[{\"name\":\"s\",\"values\":[1,-2.5]}],\"title\":\"C\",\"type\":\"bar\","
		"\"x_label\":\"month\"},\"heading\":\"B\"},{\"heading\":\"C\",\"table\":{\"columns\":[\"a\"],"
		"\"rows\":[]}}],\"subtitle\":\"S\",\"title\":\"T\"}");
	free(text);
	json_decref(doc);
	/* No sections at all is a document too. */
	assert_int_equal(read_doc("{ title = 'T', sections = {} }", &doc, &d), 0);
	json_decref(doc);
}

static void
test_refusals(void **state)
{
	(void)state;
	expect_error("42", "build must return a document {title =, sections = {...}} (got number)");
	expect_error("{ sections = {} }", "missing field 'title' (a string)");
	expect_error("{ title = 1, sections = {} }", "field 'title' must be a string (got number)");
	expect_error("{ title = 'T' }", "missing field 'sections'");
	expect_error("{ title = 'T', sections = {}, extra = 1 }",
		     "unknown field 'extra' (valid: title, subtitle, sections)");
	expect_error("{ title = 'T', sections = { [2] = {heading='x'} } }",
		     "field 'sections' must be a list (it has holes)");
	expect_error("{ title = 'T', sections = { 'x' } }", "section 1: must be a table");
	expect_error("{ title = 'T', sections = { {heading='a'}, {} } }",
		     "section 2: missing field 'heading' (a string)");
	expect_error("{ title = 'T', sections = { {heading='a', tabel = {}} } }",
		     "section 1: unknown field 'tabel' (valid: heading, text, table, chart)");
	expect_error("{ title = 'T', sections = { {heading='a', table = {columns = {}, rows = {}}} } }",
		     "section 1: field 'table.columns' must name at least one column");
	expect_error("{ title = 'T', sections = { {heading='a', table = {columns = {'a', 2}, rows = {}}} } }",
		     "section 1: field 'table.columns[2]' must be a string (got number)");
	expect_error("{ title = 'T', sections = { {heading='a', table = {columns = {'a'}}} } }",
		     "section 1: missing field 'table.rows'");
	expect_error("{ title = 'T', sections = { {heading='a', table = {columns = {'a','b'}, rows = {{1,2},{1}}}} } }",
		     "section 1: field 'table.rows[2]' has 1 cells for 2 columns");
	expect_error("{ title = 'T', sections = { {heading='a'}, {heading='b', table = {columns = {'a','b'}, rows = {{1,{}}}}} } }",
		     "section 2: field 'table.rows[1][2]' must be a string, number or boolean (got table)");
	expect_error("{ title = 'T', sections = { {heading='a', table = {columns = {'a'}, rows = {{0/0}}}} } }",
		     "section 1: field 'table.rows[1][1]' must be a finite number");
	expect_error("{ title = 'T', sections = { {heading='a', chart = {type = 'pie', title = 'c', labels = {'a'}, series = {}}} } }",
		     "section 1: field 'chart.type' must be \"bar\", \"line\", \"stacked\", \"funnel\" or \"histogram\" (got \"pie\")");
	expect_error("{ title = 'T', sections = { {heading='a', chart = {type = 'bar', labels = {'a'}, series = {}}} } }",
		     "section 1: missing field 'chart.title' (a string)");
	expect_error("{ title = 'T', sections = { {heading='a', chart = {type = 'bar', title = 'c', labels = {}, series = {}}} } }",
		     "section 1: field 'chart.labels' must have at least one label");
	expect_error("{ title = 'T', sections = { {heading='a', chart = {type = 'bar', title = 'c', labels = {'a', 'b', 'c'}, series = {{name = 's', values = {1, 2}}}}} } }",
		     "section 1: field 'chart.series[1].values' has 2 values for 3 labels");
	expect_error("{ title = 'T', sections = { {heading='a', chart = {type = 'line', title = 'c', labels = {'a'}, series = {{name = 's', values = {1}}, {name = 't', values = {'x'}}}}} } }",
		     "section 1: field 'chart.series[2].values[1]' must be a finite number (got string)");
	expect_error("{ title = 'T', sections = { {heading='a', chart = {type = 'line', title = 'c', labels = {'a'}, series = {{name = 's', values = {1/0}}}}} } }",
		     "section 1: field 'chart.series[1].values[1]' must be a finite number (got a non-finite number)");
	expect_error("{ title = 'T', sections = { {heading='a', chart = {type = 'funnel', title = 'c', labels = {'a'}, series = {{name = 's', values = {1}}, {name = 't', values = {2}}}}} } }",
		     "section 1: field 'chart.series': a funnel chart has exactly one series (got 2)");
	expect_error("{ title = 'T', sections = { {heading='a', chart = {type = 'bar', title = 'c', labels = {1}, series = {{name = 's', values = {1}}}}} } }",
		     "section 1: field 'chart.labels[1]' must be a string (got number)");
	expect_error("{ title = 'T', sections = { {heading='a', chart = {type = 'bar', title = 'c', labels = {'a'}, series = {{name = 's', values = {1}, color = 'red'}}}} } }",
		     "section 1: unknown field 'chart.series[1].color' (valid: name, values)");
}

/* A metatable on the document is never consulted: the raw fields decide. */
static void
test_raw_reads(void **state)
{
	(void)state;
	expect_error("setmetatable({ sections = {} }, { __index = function() error('ran') end })",
		     "missing field 'title'");
	json_t *doc;
	struct diag d;
	assert_int_equal(read_doc("setmetatable({ title = 'T', sections = {} }, { __pairs = function() "
				  "error('ran') end, __len = function() return 99 end })",
				  &doc, &d),
			 0);
	json_decref(doc);
}

/*
 * Text that is not UTF-8 keeps every valid byte: each bad byte (and NUL) becomes
 * one U+FFFD, in every string field (walk2 #14: the whole title became one U+FFFD).
 */
static void
test_bad_utf8(void **state)
{
	(void)state;
	json_t *doc;
	struct diag d;
	assert_int_equal(
		read_doc("{ title = '\\255\\254bad utf8', subtitle = 'ok \\0 nul',"
			 " sections = { { heading = 'h\\192\\175', text = 'Zo\\195', "
			 "   table = { columns = { 'c\\237\\160\\128' }, rows = { { 'caf\\195\\169 \\244\\144\\128\\128!' } } } },"
			 " { heading = 'x', chart = { type = 'bar', title = '\\226\\130', x_label = 'a\\255', y_label = '\\240\\159\\152\\128',"
			 "   labels = { '\\128l' }, series = { { name = 'n\\255', values = { 1 } } } } } } }",
			 &doc, &d),
		0);
	char *text = json_dumps(doc, JSON_SORT_KEYS | JSON_COMPACT | JSON_ENSURE_ASCII);
	assert_string_equal(
		text,
		"{\"sections\":[{\"heading\":\"h\\uFFFD\\uFFFD\",\"table\":{\"columns\":[\"c\\uFFFD\\uFFFD\\uFFFD\"],"
		"\"rows\":[[\"caf\\u00E9 \\uFFFD\\uFFFD\\uFFFD\\uFFFD!\"]]},\"text\":\"Zo\\uFFFD\"},"
		"{\"chart\":{\"labels\":[\"\\uFFFDl\"],\"series\":[{\"name\":\"n\\uFFFD\",\"values\":[1]}],"
		"\"title\":\"\\uFFFD\\uFFFD\",\"type\":\"bar\",\"x_label\":\"a\\uFFFD\",\"y_label\":\"\\uD83D\\uDE00\"},"
		"\"heading\":\"x\"}],\"subtitle\":\"ok \\uFFFD nul\",\"title\":\"\\uFFFD\\uFFFDbad utf8\"}");
	free(text);
	json_decref(doc);
	/* A chart type with a NUL after a known name is not that type. */
	expect_error("{ title = 'T', sections = { {heading='a', chart = {type = 'bar\\0x', title = 'c', labels = {'a'}, series = {}}} } }",
		     "field 'chart.type' must be");
}

/* The check_result the report kind registers only judges build. */
static void
test_check(void **state)
{
	(void)state;
	lua_State *L = luaL_newstate();
	struct diag d;
	lua_pushinteger(L, 1);
	assert_int_equal(report_out_check(L, "other", -1, &d), 0);
	assert_int_equal(report_out_check(L, "build", -1, &d), -1);
	assert_non_null(strstr(d.msg, "build must return a document"));
	lua_close(L);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_full_document),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_raw_reads),
		cmocka_unit_test(test_bad_utf8),
		cmocka_unit_test(test_check),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
