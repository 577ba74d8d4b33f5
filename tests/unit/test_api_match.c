/* Unit tests for core/lua/api_match: tandem.match.assign / stable from Lua. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <lauxlib.h>

#include "lua/api_match.h"
#include "lua/sandbox.h"

/* A sandbox with the bindings as global M and a helper that renders a result. */
static lua_State *
new_state(void)
{
	struct diag d;
	lua_State *L = plugin_sandbox_new(NULL, &d);
	assert_non_null(L);
	api_match_push(L);
	lua_setglobal(L, "M");
	assert_int_equal(plugin_sandbox_dostring(L,
		"function show(r)\n"
		"  local p = {}\n"
		"  for _, rc in ipairs(r.pairs) do p[#p+1] = rc[1] .. '-' .. rc[2] end\n"
		"  return string.format('%g [%s] [%s]', r.total, table.concat(p, ' '),\n"
		"    table.concat(r.unmatched_rows, ' '))\n"
		"end return 0", "=setup", &d), 0);
	lua_pop(L, 1);
	return L;
}

static void
want(lua_State *L, const char *chunk, const char *expect)
{
	struct diag d;
	if (plugin_sandbox_dostring(L, chunk, "@m.lua", &d) != 0)
		fail_msg("%s: %s", chunk, d.msg);
	assert_string_equal(lua_tostring(L, -1), expect);
	lua_pop(L, 1);
}

static void
want_error(lua_State *L, const char *chunk, const char *expect)
{
	struct diag d;
	assert_int_equal(plugin_sandbox_dostring(L, chunk, "@m.lua", &d), -1);
	if (strstr(d.msg, expect) == NULL)
		fail_msg("'%s' lacks '%s'", d.msg, expect);
}

static void
test_assign(void **state)
{
	(void)state;
	lua_State *L = new_state();
	/* Minimizing: the anti-diagonal is cheapest. */
	want(L, "return show(M.assign{{4, 1, 3}, {2, 0, 5}, {3, 2, 2}})", "5 [1-2 2-1 3-3] []");
	want(L, "return show(M.assign({{4, 1, 3}, {2, 0, 5}, {3, 2, 2}}, {maximize = true}))",
	     "11 [1-1 2-3 3-2] []");
	/* Forbidden cells (false or nil) are never chosen; a row may stay unmatched. */
	want(L, "return show(M.assign({{1, false}, {false, false}}, {maximize = true}))", "1 [1-1] [2]");
	/* Capacity lets one column take two rows. */
	want(L, "return show(M.assign({{5, 1}, {4, 3}, {5, 1}}, {maximize = true, capacity = {2, 1}}))",
	     "13 [1-1 2-2 3-1] []");
	want(L, "return show(M.assign({{5, 1}, {4, 3}, {5, 1}}, {maximize = true, capacity = 0}))",
	     "0 [] [1 2 3]");
	/* Pinned and vetoed pairs. */
	want(L, "return show(M.assign({{1, 9}, {9, 1}}, {maximize = true, pinned = {{1, 1}}}))",
	     "2 [1-1 2-2] []");
	want(L, "return show(M.assign({{1, 9}, {9, 1}}, {maximize = true, vetoed = {{1, 2}}}))",
	     "2 [1-1 2-2] []");
	plugin_sandbox_delete(L);
}

static void
test_assign_errors(void **state)
{
	(void)state;
	lua_State *L = new_state();
	want_error(L, "return M.assign('x')", "m.lua:1: bad argument #1 to 'assign' (table expected, got string)");
	want_error(L, "return M.assign({{1, 'a'}})",
		   "m.lua:1: bad argument #1 to 'assign' (scores[1][2] must be a number, nil or false (got string))");
	want_error(L, "return M.assign({1})", "bad argument #1 to 'assign' (row 1 must be a table (got number))");
	want_error(L, "return M.assign({{1}}, {capacity = -1})",
		   "bad argument #2 to 'assign' (field 'capacity' must be a non-negative integer)");
	want_error(L, "return M.assign({{1, 2}}, {capacity = {1}})",
		   "field 'capacity' must have one entry per column (2, got 1)");
	want_error(L, "return M.assign({{1}}, {pinned = {{2, 1}}})",
		   "field 'pinned' entry 1 must be {row, col} with 1 <= row <= 1 and 1 <= col <= 1");
	want_error(L, "return M.assign({{1}}, {maximize = 'yes'})",
		   "field 'maximize' must be a boolean (got string)");
	want_error(L, "return M.assign({{0/0}})", "m.lua:1: tandem.match.assign: ");
	plugin_sandbox_delete(L);
}

static void
test_stable(void **state)
{
	(void)state;
	lua_State *L = new_state();
	/* Rows propose: both rows prefer column 1; column 1 prefers row 2. */
	want(L, "return show(M.stable({{1, 2}, {1, 2}}, {{2, 1}, {1, 2}}))", "0 [1-2 2-1] []");
	/* Incomplete lists: row 2 finds nobody acceptable. */
	want(L, "return show(M.stable({{1}, {}}, {{1, 2}}))", "0 [1-1] [2]");
	/* From one score matrix (maximize): both sides rank by score. */
	want(L, "return show(M.stable({{3, 1}, {2, 4}}, nil, {maximize = true}))", "7 [1-1 2-2] []");
	want_error(L, "return M.stable({{3}}, {{5}})",
		   "bad argument #1 to 'stable' (rows[1][1] must be an index between 1 and 1)");
	want_error(L, "return M.stable({{1}}, {'x'})", "bad argument #2 to 'stable' (cols[1] must be a list (got string))");
	plugin_sandbox_delete(L);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_assign),
		cmocka_unit_test(test_assign_errors),
		cmocka_unit_test(test_stable),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
