/*
 * fuzz_marshal: decoding plugin data (lua/marshal.h) from arbitrary bytes. These are the
 * bytes a host reads from a plugin's worker: declarations, hook results.
 *
 * Decoding runs in a sandbox state with a 64 MiB memory cap (a count in the input may ask
 * for anything). Checked:
 *  - marshal_push pushes exactly one value on success and nothing on failure;
 *  - with `used`, it never claims more bytes than it was given;
 *  - a decoded value encodes (sorted, functions as markers) and that encoding decodes and
 *    encodes to the same bytes again: what one side sends, the other reads back the same.
 */
#include "fuzz.h"

#include <lua.h>

#include "base/buf.h"
#include "lua/marshal.h"
#include "lua/sandbox.h"

static lua_State *L;

static int
stub(lua_State *Ls)
{
	(void)Ls;
	return 0;
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc, (void)argv;
	struct plugin_limits lim = {.memory = (size_t)64 << 20};
	struct diag d;
	if ((L = plugin_sandbox_new(&lim, &d)) == NULL) {
		fprintf(stderr, "fuzz_marshal: %s\n", d.msg);
		abort();
	}
	return 0;
}

/* Encodes the value on top; the bytes in out. */
static void
encode_top(struct buf *out)
{
	struct diag d;
	buf_init(out);
	FUZZ_CHECK_MSG(marshal_encode(L, -1, MARSHAL_FUNCTIONS | MARSHAL_SORTED, "the value", out,
				      &d) == 0,
		       d.msg);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data;
	struct diag d;
	int top = lua_gettop(L);

	size_t used = 0;
	if (marshal_push(L, p, size, &used, stub, &d) == 0) {
		FUZZ_CHECK(lua_gettop(L) == top + 1 && used <= size);
		lua_settop(L, top);
	} else {
		FUZZ_CHECK(lua_gettop(L) == top);
	}

	if (marshal_push(L, p, size, NULL, stub, &d) != 0) {
		FUZZ_CHECK(lua_gettop(L) == top);
		lua_gc(L, LUA_GCCOLLECT);
		return 0;
	}
	FUZZ_CHECK(lua_gettop(L) == top + 1);
	struct buf once, twice;
	encode_top(&once);
	lua_settop(L, top);
	FUZZ_CHECK_MSG(marshal_push(L, once.data, once.len, NULL, stub, &d) == 0, d.msg);
	encode_top(&twice);
	FUZZ_CHECK(once.len == twice.len && memcmp(once.data, twice.data, once.len) == 0);
	buf_fini(&once);
	buf_fini(&twice);
	lua_settop(L, top);
	lua_gc(L, LUA_GCCOLLECT);
	return 0;
}
