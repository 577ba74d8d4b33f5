/*
 * lua/api_core: the global `tandem` table of a plugin sandbox.
 *
 * Installs, read-only: tandem.api_version, tandem.log(level?, msg), the
 * declaration constructors tandem.policy/cadence/reward/report/job (each
 * validates its table through plugin_decl_validate and returns it, marked as a
 * declaration of that kind), and the sub-tables of the other API files
 * (tandem.time from lua/api_time, tandem.match from lua/api_match).
 *
 * tandem.log levels: "debug", "info" (default when only a message is given),
 * "warn", "error"; lines go to tlog prefixed with the sandbox name.
 *
 * Who calls it: lua/sandbox (api_core_open_log for bare sandboxes) and lua/plugin
 * (api_core_open for plugin states).
 */
#ifndef TANDEM_LUA_API_CORE_H
#define TANDEM_LUA_API_CORE_H

#include <lua.h>

#include "lua/plugin.h"

/*
 * Pushes a new (writable) `tandem` table with api_version and log. The caller
 * adds more fields and makes it read-only. stack: +1
 */
void api_core_push_base(lua_State *L);

/*
 * Adds the constructors and the tandem.time / tandem.match sub-tables (made
 * read-only) to the writable table at idx.
 */
void api_core_add_plugin_api(lua_State *L, int idx);

/*
 * If the value at idx is a table returned by a constructor, stores its kind in
 * *kind and returns 1; else returns 0.
 */
int api_core_decl_kind(lua_State *L, int idx, enum plugin_kind *kind);

#endif
