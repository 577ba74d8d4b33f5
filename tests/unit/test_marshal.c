/*
 * Unit tests for core/lua/marshal: values round-trip between states, sequences
 * and other keys together, refused values named by their path, metatables never
 * run (encode and copy), cycles stopped by the depth limit, sorted encodings
 * identical across states, malformed input refused without a crash.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <lauxlib.h>
#include <lualib.h>

#include "lua/marshal.h"

/* Evaluates `expr` in a fresh state and encodes the result. */
static int
encode_expr(const char *expr, int flags, struct buf *out, struct diag *d)
{
	lua_State *L = luaL_newstate();
	luaL_openlibs(L);
	char chunk[2048];
	snprintf(chunk, sizeof(chunk), "return %s", expr);
	assert_int_equal(luaL_dostring(L, chunk), LUA_OK);
	int rc = marshal_encode(L, -1, flags, "the value", out, d);
	assert_int_equal(lua_gettop(L), 1); /* the stack as it was */
	lua_close(L);
	return rc;
}

/* Decodes `data` in a fresh state and checks it with the Lua predicate `check(v)`. */
static void
expect_decoded(const struct buf *data, const char *check)
{
	lua_State *L = luaL_newstate();
	luaL_openlibs(L);
	struct diag d;
	char chunk[2048];
	snprintf(chunk, sizeof(chunk), "return function(v) return %s end", check);
	assert_int_equal(luaL_dostring(L, chunk), LUA_OK);
	if (marshal_push(L, data->data, data->len, NULL, NULL, &d) != 0)
		fail_msg("%s", d.msg);
	assert_int_equal(lua_pcall(L, 1, 1, 0), LUA_OK);
	if (!lua_toboolean(L, -1))
		fail_msg("decoded value fails: %s", check);
	lua_close(L);
}

static void
test_round_trip(void **state)
{
	(void)state;
	struct buf b;
	struct diag d;
	buf_init(&b);
	assert_int_equal(encode_expr("{1, 2.5, 'x', true, false, n = 3, [10] = 'ten', "
				     "nested = {list = {'a', 'b'}, [2.5] = 1}, ['with\\0nul'] = 'z'}",
				     0, &b, &d),
			 0);
	expect_decoded(&b, "v[1] == 1 and math.type(v[1]) == 'integer' and v[2] == 2.5 and "
			   "v[3] == 'x' and v[4] == true and v[5] == false and v.n == 3 and "
			   "v[10] == 'ten' and #v.nested.list == 2 and v.nested.list[2] == 'b' and "
			   "v.nested[2.5] == 1 and v['with\\0nul'] == 'z' and #v == 5");
	buf_reset(&b);
	assert_int_equal(encode_expr("'just a string'", 0, &b, &d), 0);
	expect_decoded(&b, "v == 'just a string'");
	buf_reset(&b);
	assert_int_equal(encode_expr("nil", 0, &b, &d), 0);
	expect_decoded(&b, "v == nil");
	buf_fini(&b);
}

static void
test_refused_values_name_their_path(void **state)
{
	(void)state;
	struct buf b;
	struct diag d;
	buf_init(&b);
	assert_int_equal(encode_expr("{a = {b = {1, print}}}", 0, &b, &d), -1);
	assert_string_equal(d.msg, "the value: field 'a.b.2' is a function, which cannot be passed");
	assert_int_equal(encode_expr("coroutine.create(print)", 0, &b, &d), -1);
	assert_string_equal(d.msg, "the value is a thread, which cannot be passed");
	assert_int_equal(encode_expr("{[{}] = 1}", 0, &b, &d), -1);
	assert_non_null(strstr(d.msg, "table key"));
	/* A cycle stops at the depth limit. */
	assert_int_equal(encode_expr("(function() local t = {} t.t = t return t end)()", 0, &b, &d),
			 -1);
	assert_non_null(strstr(d.msg, "nested deeper than 32"));
	/* Functions as markers, when asked for: they come back as the stub (here false). */
	buf_reset(&b);
	assert_int_equal(encode_expr("{hook = print, name = 'x'}", MARSHAL_FUNCTIONS, &b, &d), 0);
	expect_decoded(&b, "v.hook == false and v.name == 'x'");
	buf_fini(&b);
}

static void
test_metatables_never_run(void **state)
{
	(void)state;
	struct buf b;
	struct diag d;
	buf_init(&b);
	const char *evil = "setmetatable({1, x = 2}, {"
			   "__index = function() error('index ran') end,"
			   "__pairs = function() error('pairs ran') end,"
			   "__len = function() error('len ran') end})";
	assert_int_equal(encode_expr(evil, 0, &b, &d), 0);
	expect_decoded(&b, "v[1] == 1 and v.x == 2 and getmetatable(v) == nil and v.y == nil");
	/* marshal_copy: a plain deep copy, functions kept, no metatable, nothing run. */
	lua_State *L = luaL_newstate();
	luaL_openlibs(L);
	char chunk[512];
	snprintf(chunk, sizeof(chunk), "return {inner = %s, f = print}", evil);
	assert_int_equal(luaL_dostring(L, chunk), LUA_OK);
	marshal_copy(L, -1, "decl");
	lua_getfield(L, -1, "inner");
	assert_int_equal(lua_getmetatable(L, -1), 0);
	lua_getfield(L, -1, "x");
	assert_int_equal(lua_tointeger(L, -1), 2);
	lua_pop(L, 2);
	lua_getfield(L, -1, "f");
	assert_true(lua_isfunction(L, -1));
	lua_close(L);
	buf_fini(&b);
}

static void
test_sorted_is_stable_across_states(void **state)
{
	(void)state;
	const char *expr = "{zeta = 1, alpha = {3, 2, 1}, mid = {b = true, a = 'x'}, [7] = 7}";
	struct buf a, b;
	struct diag d;
	buf_init(&a);
	buf_init(&b);
	assert_int_equal(encode_expr(expr, MARSHAL_SORTED, &a, &d), 0);
	/* Another state, the keys inserted in another order. */
	assert_int_equal(encode_expr("{[7] = 7, mid = {a = 'x', b = true}, alpha = {3, 2, 1}, "
				     "zeta = 1}",
				     MARSHAL_SORTED, &b, &d),
			 0);
	assert_int_equal(a.len, b.len);
	assert_memory_equal(a.data, b.data, a.len);
	/* Empty tables (nothing to sort; found by tests/fuzz/fuzz_plugin). */
	struct buf e;
	buf_init(&e);
	assert_int_equal(encode_expr("{a = {}, b = {{}}}", MARSHAL_SORTED, &e, &d), 0);
	expect_decoded(&e, "next(v.a) == nil and next(v.b[1]) == nil");
	buf_fini(&e);
	expect_decoded(&a, "v.zeta == 1 and v.alpha[3] == 1 and v.mid.a == 'x' and v[7] == 7");
	buf_fini(&a);
	buf_fini(&b);
}

static void
test_malformed_input(void **state)
{
	(void)state;
	struct buf b;
	struct diag d;
	buf_init(&b);
	assert_int_equal(encode_expr("{1, 2, {3, 'four'}, k = 'v'}", 0, &b, &d), 0);
	lua_State *L = luaL_newstate();
	/* Every truncation fails cleanly and leaves the stack alone. */
	for (size_t n = 0; n < b.len; n++) {
		assert_int_equal(marshal_push(L, b.data, n, NULL, NULL, &d), -1);
		assert_int_equal(lua_gettop(L), 0);
	}
	/* Trailing bytes, an unknown tag, an absurd size. */
	char bad[256];
	assert_true(b.len < sizeof(bad));
	memcpy(bad, b.data, b.len);
	bad[b.len] = 'n';
	assert_int_equal(marshal_push(L, bad, b.len + 1, NULL, NULL, &d), -1);
	size_t used = 0;
	assert_int_equal(marshal_push(L, bad, b.len + 1, &used, NULL, &d), 0);
	assert_int_equal(used, b.len);
	lua_pop(L, 1);
	assert_int_equal(marshal_push(L, "?", 1, NULL, NULL, &d), -1);
	const char huge[] = {'T', (char)0xff, (char)0xff, (char)0xff, (char)0x7f};
	assert_int_equal(marshal_push(L, huge, sizeof(huge), NULL, NULL, &d), -1);
	assert_int_equal(lua_gettop(L), 0);
	lua_close(L);
	buf_fini(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_refused_values_name_their_path),
		cmocka_unit_test(test_metatables_never_run),
		cmocka_unit_test(test_sorted_is_stable_across_states),
		cmocka_unit_test(test_malformed_input),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
