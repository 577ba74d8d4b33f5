/*
 * Unit tests for core/lua/sandbox: libraries, read-only tables, the locked
 * string metatable, finalizers, the instruction/memory/deadline budgets,
 * allocator accounting, and error messages with file:line and hook name.
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

#include "lua/sandbox.h"

static lua_State *
new_sb(int64_t instructions, size_t memory, int deadline_ms)
{
	struct plugin_limits lim = {.instructions = instructions, .memory = memory,
				    .deadline_ms = deadline_ms};
	struct diag d;
	lua_State *L = plugin_sandbox_new(&lim, &d);
	assert_non_null(L);
	return L;
}

/* Runs chunk; returns 0 and leaves its result, or -1 with the message in d. */
static int
run(lua_State *L, const char *chunk, struct diag *d)
{
	diag_clear(d);
	return plugin_sandbox_dostring(L, chunk, "@t.lua", d);
}

static void
want_string(lua_State *L, const char *chunk, const char *want)
{
	struct diag d;
	if (run(L, chunk, &d) != 0)
		fail_msg("%s: %s", chunk, d.msg);
	assert_string_equal(lua_tostring(L, -1), want);
	lua_pop(L, 1);
}

static void
want_error(lua_State *L, const char *chunk, const char *want)
{
	struct diag d;
	assert_int_equal(run(L, chunk, &d), -1);
	if (strstr(d.msg, want) == NULL)
		fail_msg("'%s' lacks '%s'", d.msg, want);
}

static void
test_libraries(void **state)
{
	(void)state;
	lua_State *L = new_sb(0, 0, 0);
	want_string(L,
		      "local names = {}\n"
		      "for _, n in ipairs{'io','debug','package','require','dofile','loadfile',\n"
		      "  'collectgarbage','warn'} do names[#names+1] = n .. '=' .. type(_G[n]) end\n"
		      "return table.concat(names, ' ')",
		      "io=nil debug=nil package=nil require=nil dofile=nil loadfile=nil "
		      "collectgarbage=nil warn=nil");
	want_string(L,
		      "return type(os.time) .. type(os.date) .. type(os.clock) .. tostring(os.execute)"
		      " .. tostring(os.exit) .. tostring(os.getenv) .. tostring(os.remove)"
		      " .. tostring(string.dump)",
		      "functionfunctionfunctionnilnilnilnilnil");
	want_string(L, "return string.format('%d-%s', math.floor(2.5), utf8.char(72)) .. "
			 "table.concat({1,2}, ',') .. tostring(coroutine.wrap(function() return 7 end)())",
		      "2-H1,27");
	/* load: text chunks in the sandbox environment; binary chunks refused. */
	want_string(L, "x = 5 return tostring(load('return x + 1')())", "6");
	want_string(L, "return tostring(load('return y', 'c', 't', {y = 9})())", "9");
	want_string(L, "local f, e = load('\\27Lua') return e", "attempt to load a binary chunk (mode is 't')");
	want_string(L, "local f, e = load('\\27Lua', 'c', 'b') return e",
		      "attempt to load a binary chunk (mode is 't')");
	plugin_sandbox_delete(L);
}

static void
test_readonly(void **state)
{
	(void)state;
	lua_State *L = new_sb(0, 0, 0);
	want_error(L, "string.rep = nil", "t.lua:1: attempt to modify read-only table 'string'");
	want_error(L, "rawset(string, 'rep', print)", "t.lua:1: attempt to modify read-only table 'string'");
	want_error(L, "math.pi = 3", "read-only table 'math'");
	want_error(L, "table.insert(os, 1)", "read-only table 'os'");
	want_error(L, "tandem.log = print", "read-only table 'tandem'");
	want_error(L, "setmetatable(string, nil)", "cannot change a protected metatable");
	want_string(L, "return getmetatable(string)", "locked");
	want_string(L, "return getmetatable('')", "locked");
	want_error(L, "getmetatable('').__index = {}", "attempt to index a string value");
	/* Reading, iterating and methods still work, and the real table never leaks. */
	want_string(L, "local n = 0 for k, v in pairs(math) do n = n + 1 assert(type(k) == 'string') end "
			 "return tostring(n > 20) .. ('ab'):rep(2) .. tostring(rawget(string, 'rep'))",
		      "trueababnil");
	want_string(L, "local f, t = pairs(string) return tostring(t == string) .. type(t)", "truetable");
	/* The plugin's own globals stay writable. */
	want_string(L, "myglobal = 1 rawset(_G, 'other', 2) return tostring(myglobal + other)", "3");
	want_string(L, "string = {} return type(string.rep)", "nil");
	want_string(L, "return ('x'):rep(3)", "xxx"); /* strings use the locked library */
	plugin_sandbox_delete(L);
}

/* A deep read-only proxy of plain data (reward dispatch's ev.match). */
static void
test_readonly_deep(void **state)
{
	(void)state;
	lua_State *L = new_sb(0, 0, 0);
	struct diag d;
	assert_int_equal(run(L, "return { id = 4, sessions = { { id = 1, status = 'held' }, "
				"{ id = 2, status = 'missed' } } }", &d), 0);
	plugin_sandbox_readonly_deep(L, -1, "ev.match");
	lua_setglobal(L, "m");
	lua_pop(L, 1);
	want_string(L, "local s = '' for i, x in ipairs(m.sessions) do s = s .. x.id .. x.status end "
			 "local k = 0 for _ in pairs(m) do k = k + 1 end "
			 "return s .. #m.sessions .. k .. getmetatable(m.sessions[1])",
		      "1held2missed22locked");
	want_error(L, "m.id = 5", "t.lua:1: attempt to modify read-only table 'ev.match'");
	want_error(L, "m.sessions[1].status = 'x'", "attempt to modify read-only table 'ev.match'");
	want_error(L, "rawset(m.sessions, 3, {})", "attempt to modify read-only table 'ev.match'");
	want_error(L, "table.insert(m.sessions, {})", "attempt to modify read-only table 'ev.match'");
	want_error(L, "setmetatable(m, nil)", "cannot change a protected metatable");
	want_string(L, "return tostring(rawget(m, 'id')) .. rawlen(m.sessions) .. m.id", "nil04");
	plugin_sandbox_delete(L);
}

static void
test_finalizers(void **state)
{
	(void)state;
	lua_State *L = new_sb(0, 0, 0);
	want_error(L, "setmetatable({}, {__gc = function() end})",
		     "t.lua:1: finalizers (__gc) are not allowed");
	want_error(L, "setmetatable({}, {__gc = false})", "finalizers (__gc) are not allowed");
	/* __gc added after setmetatable never runs (Lua marks objects only in setmetatable). */
	struct diag d;
	assert_int_equal(run(L, "ran = false local mt = {} local t = setmetatable({}, mt)\n"
				"mt.__gc = function() ran = true end t = nil return 0", &d), 0);
	lua_pop(L, 1);
	lua_gc(L, LUA_GCCOLLECT);
	lua_gc(L, LUA_GCCOLLECT);
	want_string(L, "return tostring(ran)", "false");
	plugin_sandbox_delete(L);
}

static void
test_instruction_budget(void **state)
{
	(void)state;
	lua_State *L = new_sb(200000, 0, 0);
	want_error(L, "while true do end", "t.lua:1: instruction budget of 200000 exhausted");
	/* pcall cannot swallow it, nor can xpcall's handler, nor a coroutine. */
	want_error(L, "while true do pcall(function() while true do end end) end",
		     "instruction budget of 200000 exhausted");
	want_error(L, "local n = 0\nwhile true do xpcall(function() while true do n = n + 1 end end, "
			"function() return 'swallowed' end) end",
		     "instruction budget of 200000 exhausted");
	want_error(L, "local co = coroutine.wrap(function() while true do end end) co()",
		     "instruction budget of 200000 exhausted");
	want_error(L, "while true do local ok = coroutine.resume(coroutine.create(function() "
			"while true do end end)) end",
		     "instruction budget of 200000 exhausted");
	/* The budget is per call: a short chunk runs fine afterwards. */
	want_string(L, "local s = 0 for i = 1, 1000 do s = s + i end return tostring(s)", "500500");
	/* Hook name in the message; instructions are counted. */
	plugin_sandbox_begin(L, "score", 50000, 0);
	luaL_loadstring(L, "for i = 1, 1e9 do end");
	struct diag d;
	assert_int_equal(plugin_sandbox_pcall(L, 0, 0, &d), -1);
	plugin_sandbox_end(L);
	assert_non_null(strstr(d.msg, "instruction budget of 50000 exhausted (in hook score)"));
	assert_true(plugin_sandbox_instructions(L) >= 50000);
	assert_int_equal(d.code, DIAG_PLUGIN);
	plugin_sandbox_delete(L);
}

static void
test_deadline(void **state)
{
	(void)state;
	lua_State *L = new_sb(PLUGIN_MAX_INSTRUCTIONS, 0, 100);
	want_error(L, "while true do end", "t.lua:1: wall-clock deadline of 100 ms exceeded");
	want_error(L, "while true do pcall(function() while true do end end) end",
		     "wall-clock deadline of 100 ms exceeded");
	plugin_sandbox_delete(L);
}

/* A C function doing the core's work on the plugin's behalf: 60 s off the deadline. */
static int
credit_60s(lua_State *L)
{
	plugin_sandbox_credit(L, 60000);
	return 0;
}

static void
test_deadline_credit(void **state)
{
	(void)state;
	lua_State *L = new_sb(PLUGIN_MAX_INSTRUCTIONS, 0, 100);
	lua_pushcfunction(L, credit_60s);
	lua_setglobal(L, "credit");
	/* 0.3 s of CPU: over the 100 ms deadline, unless the core's time was credited. */
	const char *spin = "local t = os.clock() while os.clock() - t < 0.3 do end return 'ok'";
	want_error(L, spin, "wall-clock deadline of 100 ms exceeded");
	char chunk[200];
	snprintf(chunk, sizeof(chunk), "credit() %s", spin);
	want_string(L, chunk, "ok");
	/* The credit lasts for its call only. */
	want_error(L, spin, "wall-clock deadline of 100 ms exceeded");
	plugin_sandbox_delete(L);
}

static void
test_memory_budget(void **state)
{
	(void)state;
	lua_State *L = new_sb(0, (size_t)8 << 20, 0);
	size_t base = plugin_sandbox_mem_used(L);
	assert_true(base > 0 && base < (1 << 20));
	want_error(L, "local s = 'x' while true do s = s .. s end",
		     "t.lua: memory budget of 8 MiB exhausted");
	want_error(L, "local t = {} for i = 1, 1e8 do t[i] = i end", "memory budget of 8 MiB exhausted");
	want_error(L, "return string.rep('x', 1 << 30)", "memory budget of 8 MiB exhausted");
	/* pcall catches a memory error, but the memory is given back. */
	want_string(L, "local ok = pcall(string.rep, 'x', 1 << 30) return tostring(ok)", "false");
	/* Accounting: after a collection we are back near the baseline. */
	lua_gc(L, LUA_GCCOLLECT);
	assert_true(plugin_sandbox_mem_used(L) < base + (256 << 10));
	assert_true(plugin_sandbox_mem_peak(L) <= ((size_t)8 << 20));
	assert_true(plugin_sandbox_mem_peak(L) > ((size_t)4 << 20));
	/* Growing and shrinking a big table is counted exactly. */
	want_string(L, "big = {} for i = 1, 100000 do big[i] = i end return 'ok'", "ok");
	size_t with_big = plugin_sandbox_mem_used(L);
	assert_true(with_big > base + 100000 * 16 / 2);
	want_string(L, "big = nil return 'ok'", "ok");
	lua_gc(L, LUA_GCCOLLECT);
	assert_true(plugin_sandbox_mem_used(L) < with_big - 100000 * 8);
	plugin_sandbox_delete(L);
}

static void
test_errors(void **state)
{
	(void)state;
	lua_State *L = new_sb(0, 0, 0);
	struct diag d;
	/* Syntax errors and runtime errors carry file:line. */
	assert_int_equal(run(L, "x = = 1", &d), -1);
	assert_string_equal(d.msg, "t.lua:1: unexpected symbol near '='");
	assert_int_equal(d.code, DIAG_INVALID);
	assert_int_equal(run(L, "\n\nerror('boom')", &d), -1);
	assert_string_equal(d.msg, "t.lua:3: boom");
	/* Non-string error values are named as such. */
	assert_int_equal(run(L, "error({})", &d), -1);
	assert_string_equal(d.msg, "t.lua: error raised with a table value instead of a message");
	assert_int_equal(run(L, "error(nil)", &d), -1);
	assert_string_equal(d.msg, "t.lua: error raised with a nil value instead of a message");
	/* Errors from C functions carry the caller's position. */
	assert_int_equal(run(L, "\nlocal x = ('x'):rep({})", &d), -1);
	assert_string_equal(d.msg, "t.lua:2: bad argument #1 to 'rep' (number expected, got table)");
	/* Errors without a position get the file name. */
	assert_int_equal(run(L, "error('plain', 0)", &d), -1);
	assert_string_equal(d.msg, "t.lua: plain");
	/* So does a file of bytecode (found by tests/fuzz/fuzz_config: Lua's message has none). */
	assert_int_equal(run(L, "\x1bLuaT", &d), -1);
	assert_string_equal(d.msg, "t.lua: attempt to load a binary chunk (mode is 't')");
	assert_int_equal(d.code, DIAG_INVALID);
	plugin_sandbox_delete(L);
}

static char logged[256];

static void
sink(void *ud, int level, const char *msg)
{
	(void)ud;
	snprintf(logged, sizeof(logged), "%d %s", level, msg);
}

static void
test_print_and_log(void **state)
{
	(void)state;
	tlog_set_handler(sink, NULL);
	lua_State *L = new_sb(0, 0, 0);
	plugin_sandbox_set_name(L, "mypolicy");
	assert_string_equal(plugin_sandbox_name(L), "mypolicy");
	struct diag d;
	assert_int_equal(run(L, "print('hello', 1, nil, true) return 0", &d), 0);
	lua_pop(L, 1);
	assert_string_equal(logged, "1 mypolicy: hello\t1\tnil\ttrue");
	assert_int_equal(run(L, "tandem.log('warn', 'careful') return 0", &d), 0);
	lua_pop(L, 1);
	assert_string_equal(logged, "2 mypolicy: careful");
	assert_int_equal(run(L, "tandem.log('just a message') return tandem.api_version", &d), 0);
	assert_int_equal(lua_tointeger(L, -1), 1);
	lua_pop(L, 1);
	assert_string_equal(logged, "1 mypolicy: just a message");
	want_error(L, "tandem.log('loud', 'x')", "bad argument #1 to 'log' (invalid option 'loud')");
	tlog_set_handler(NULL, NULL);
	plugin_sandbox_delete(L);
}

static void
test_limits(void **state)
{
	(void)state;
	struct plugin_limits in = {.memory = (size_t)64 << 30, .deadline_ms = 5}, out;
	plugin_limits_resolve(&in, &out);
	assert_true(out.memory == PLUGIN_MAX_MEMORY);
	assert_int_equal(out.deadline_ms, 5);
	assert_true(out.instructions == PLUGIN_DEFAULT_INSTRUCTIONS);
	assert_int_equal(out.batch_deadline_ms, PLUGIN_DEFAULT_BATCH_DEADLINE_MS);
	assert_int_equal(out.isolate, 1);
	in.isolate_set = 1;
	in.isolate = 0;
	plugin_limits_resolve(&in, &out);
	assert_int_equal(out.isolate, 0);
	plugin_limits_resolve(NULL, &out);
	assert_true(out.memory == PLUGIN_DEFAULT_MEMORY);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_libraries),     cmocka_unit_test(test_readonly),
		cmocka_unit_test(test_readonly_deep),
		cmocka_unit_test(test_finalizers),    cmocka_unit_test(test_instruction_budget),
		cmocka_unit_test(test_deadline),
		cmocka_unit_test(test_deadline_credit),      cmocka_unit_test(test_memory_budget),
		cmocka_unit_test(test_errors),        cmocka_unit_test(test_print_and_log),
		cmocka_unit_test(test_limits),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
