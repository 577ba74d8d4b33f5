/*
 * lua/api_core: the global `tandem` table. See api_core.h for the contract.
 */
#include "lua/api_core.h"

#include <lauxlib.h>
#include <string.h>

#include "lua/api_match.h"
#include "lua/api_time.h"
#include "lua/sandbox.h"

static char decls_key; /* registry: weak-keyed table declaration -> kind */

/* tandem.log(level?, msg) */
static int
api_log(lua_State *L)
{
	static const char *const names[] = {"debug", "info", "warn", "error", NULL};
	static const int levels[] = {TLOG_DEBUG, TLOG_INFO, TLOG_WARN, TLOG_ERROR};
	int level = TLOG_INFO;
	int msg = 1;
	if (lua_gettop(L) >= 2) {
		level = levels[luaL_checkoption(L, 1, NULL, names)];
		msg = 2;
	}
	const char *s = luaL_tolstring(L, msg, NULL);
	tlog(level, "%s: %s", plugin_sandbox_name(L), s);
	return 0;
}

void
api_core_push_base(lua_State *L)
{
	lua_createtable(L, 0, 12);
	lua_pushinteger(L, PLUGIN_API_VERSION);
	lua_setfield(L, -2, "api_version");
	lua_pushcfunction(L, api_log);
	lua_setfield(L, -2, "log");
}

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

/* tandem.<kind>{...}: validates the declaration and marks it. upvalue 1: kind. */
static int
api_declare(lua_State *L)
{
	enum plugin_kind kind = (enum plugin_kind)lua_tointeger(L, lua_upvalueindex(1));
	luaL_checktype(L, 1, LUA_TTABLE);
	lua_settop(L, 1);
	struct diag d;
	diag_clear(&d);
	if (plugin_decl_validate(L, 1, kind, &d) != 0)
		return luaL_error(L, "%s", d.msg);
	push_decls(L);            /* stack: decl, decls */
	lua_pushvalue(L, 1);
	lua_pushinteger(L, kind);
	lua_rawset(L, -3);
	lua_pop(L, 1);
	return 1;
}

void
api_core_add_plugin_api(lua_State *L, int idx)
{
	idx = lua_absindex(L, idx);
	for (int k = 0; k < PLUGIN_KIND_COUNT; k++) {
		lua_pushinteger(L, k);
		lua_pushcclosure(L, api_declare, 1);
		lua_setfield(L, idx, plugin_kind_name((enum plugin_kind)k));
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
api_core_decl_kind(lua_State *L, int idx, enum plugin_kind *kind)
{
	if (lua_type(L, idx) != LUA_TTABLE)
		return 0;
	idx = lua_absindex(L, idx);
	push_decls(L);
	lua_pushvalue(L, idx);
	int found = lua_rawget(L, -2) == LUA_TNUMBER;
	if (found)
		*kind = (enum plugin_kind)lua_tointeger(L, -1);
	lua_pop(L, 2);
	return found;
}
