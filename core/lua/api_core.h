/*
 * lua/api_core: the declaration constructors of the global `tandem` table.
 *
 * Adds, to a writable `tandem` table that lua/sandbox created (api_version and
 * log are the sandbox's), the constructors tandem.policy/cadence/reward/report/
 * job and the sub-tables of the other API files (tandem.time from lua/api_time,
 * tandem.match from lua/api_match).
 *
 * A constructor makes a plain deep copy of its table (lua/marshal: raw reads, no
 * metatables, so a declaration's __index can neither fake a field nor raise from
 * C), validates the copy through the kinds' validate function, and returns the
 * copy, marked as a declaration of that kind.
 *
 * Layering inside lua/: sandbox <- api_time, api_match <- api_core <- plugin.
 * api_core knows the kinds only through the table of names and the validate
 * callback its caller (lua/plugin) passes in, so it does not include plugin.h.
 */
#ifndef TANDEM_LUA_API_CORE_H
#define TANDEM_LUA_API_CORE_H

#include <lua.h>

#include "base/diag.h"

/* The declaration kinds, as lua/plugin defines them. */
struct api_core_kinds {
	int n;                    /* number of kinds; kind k is named names[k] */
	const char *const *names; /* constructor names: "policy", "cadence", ... */
	/* Validates the table at idx as a declaration of kind k: 0, or -1 with a diag. */
	int (*validate)(void *ud, lua_State *L, int idx, int kind, struct diag *d);
	void *ud; /* handed to validate */
};

/*
 * Adds the constructors and the tandem.time / tandem.match sub-tables (made
 * read-only) to the writable table at idx. `kinds` must outlive the state.
 */
void api_core_add_plugin_api(lua_State *L, int idx, const struct api_core_kinds *kinds);

/*
 * Pushes the error message of a declaration (the table at idx, being built by the
 * C function running now) whose problems are the lines of msgs: each line
 * prefixed with "FILE:LINE: " of the field it names ("field 'NAME'", see
 * error_field in api_core.c), the lines ordered by line, as many whole lines as
 * fit in DIAG_MSG_MAX (the message ends in a diag). The constructors use it,
 * and so does program/config for tandem.lua's workspace{} and program{}. Raises
 * nothing: the caller follows with lua_error.
 */
void api_core_locate_errors(lua_State *L, int idx, const char *msgs);

/*
 * If the value at idx is a table returned by a constructor, stores its kind in
 * *kind and returns 1; else returns 0.
 */
int api_core_decl_kind(lua_State *L, int idx, int *kind);

#endif
