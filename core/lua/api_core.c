/*
 * lua/api_core: the declaration constructors. See api_core.h for the contract.
 */
#include "lua/api_core.h"

#include <lauxlib.h>
#include <string.h>

#include "lua/api_match.h"
#include "lua/api_time.h"
#include "lua/marshal.h"
#include "lua/sandbox.h"

static char decls_key; /* registry: weak-keyed table declaration -> kind */

/* Pushes the weak-keyed registry of declarations, creating it on first use. */
static void
push_decls(lua_State *L)
{
	if (lua_rawgetp(L, LUA_REGISTRYINDEX, &decls_key) == LUA_TTABLE)
		return;
	lua_pop(L, 1);
	lua_newtable(L);
	lua_createtable(L, 0, 1);
	lua_pushliteral(L, "k");
	lua_setfield(L, -2, "__mode");
	lua_setmetatable(L, -2);
	lua_pushvalue(L, -1);
	lua_rawsetp(L, LUA_REGISTRYINDEX, &decls_key);
}

/* tandem.<kind>{...}: copies, validates and marks the declaration.
 * upvalue 1: kind, upvalue 2: the kinds (light userdata). */
static int
api_declare(lua_State *L)
{
	int kind = (int)lua_tointeger(L, lua_upvalueindex(1));
	const struct api_core_kinds *kinds = lua_touserdata(L, lua_upvalueindex(2));
	luaL_checktype(L, 1, LUA_TTABLE);
	lua_settop(L, 1);
	marshal_copy(L, 1, "the declaration"); /* stack: original, copy */
	lua_replace(L, 1);                     /* stack: copy */
	struct diag d;
	diag_clear(&d);
	if (kinds->validate(kinds->ud, L, 1, kind, &d) != 0)
		return luaL_error(L, "%s", d.msg);
	lua_settop(L, 1);
	push_decls(L); /* stack: decl, decls */
	lua_pushvalue(L, 1);
	lua_pushinteger(L, kind);
	lua_rawset(L, -3);
	lua_pop(L, 1);
	return 1;
}

void
api_core_add_plugin_api(lua_State *L, int idx, const struct api_core_kinds *kinds)
{
	idx = lua_absindex(L, idx);
	for (int k = 0; k < kinds->n; k++) {
		lua_pushinteger(L, k);
		lua_pushlightuserdata(L, (void *)kinds);
		lua_pushcclosure(L, api_declare, 2);
		lua_setfield(L, idx, kinds->names[k]);
	}
	api_time_push(L);
	plugin_sandbox_readonly(L, -1, "tandem.time");
	lua_setfield(L, idx, "time");
	lua_pop(L, 1);
	api_match_push(L);
	plugin_sandbox_readonly(L, -1, "tandem.match");
	lua_setfield(L, idx, "match");
	lua_pop(L, 1);
}

int
api_core_decl_kind(lua_State *L, int idx, int *kind)
{
	if (lua_type(L, idx) != LUA_TTABLE)
		return 0;
	idx = lua_absindex(L, idx);
	push_decls(L);
	lua_pushvalue(L, idx);
	int found = lua_rawget(L, -2) == LUA_TNUMBER;
	if (found)
		*kind = (int)lua_tointeger(L, -1);
	lua_pop(L, 2);
	return found;
}
