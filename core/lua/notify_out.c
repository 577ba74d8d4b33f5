/*
 * lua/notify_out: a notifier's render result, checked. See notify_out.h.
 *
 * Every read is raw (lua_rawget, lua_next) and strings are taken only from
 * values whose type is LUA_TSTRING, so nothing here runs the plugin's code.
 */
#include "lua/notify_out.h"

#include <lauxlib.h>
#include <stdio.h>
#include <string.h>

/* Every key of the table at idx is "subject" or "body". */
static int
known_fields(lua_State *L, int idx, struct diag *d)
{
	lua_pushnil(L);
	while (lua_next(L, idx) != 0) {
		lua_pop(L, 1);
		const char *k = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : NULL;
		if (k == NULL || (strcmp(k, "subject") != 0 && strcmp(k, "body") != 0)) {
			char key[80];
			snprintf(key, sizeof(key), "%.64s", k != NULL ? k : "(not a name)");
			lua_pop(L, 1);
			return diag_set(d, DIAG_PLUGIN,
					"render returned an unknown field '%s' (valid: subject, body)", key);
		}
	}
	return 0;
}

int
notify_out_read(lua_State *L, int idx, struct notify_out *out, struct diag *d)
{
	memset(out, 0, sizeof(*out));
	if (!lua_checkstack(L, 4))
		return diag_set(d, DIAG_NOMEM, "out of memory reading render's result");
	if (lua_type(L, idx) != LUA_TTABLE)
		return diag_set(d, DIAG_PLUGIN, "render must return a table {subject =, body =} (got %s)",
				luaL_typename(L, idx));
	idx = lua_absindex(L, idx);
	lua_pushliteral(L, "subject");
	int ts = lua_rawget(L, idx);
	lua_pushliteral(L, "body");
	int tb = lua_rawget(L, idx);
	/* stack: subject, body (the table keeps both strings alive) */
	const char *s = ts == LUA_TSTRING ? lua_tolstring(L, -2, &out->subject_len) : NULL;
	const char *b = tb == LUA_TSTRING ? lua_tolstring(L, -1, &out->body_len) : NULL;
	lua_pop(L, 2);
	if (s == NULL || b == NULL)
		return diag_set(d, DIAG_PLUGIN,
				"render must return strings subject and body (got %s and %s)",
				lua_typename(L, ts), lua_typename(L, tb));
	if (known_fields(L, idx, d) != 0)
		return -1;
	const char *why = out->subject_len > NOTIFY_OUT_SUBJECT ? "it is too long"
			  : strpbrk(s, "\r\n") != NULL		  ? "it holds a line break"
			  : strlen(s) != out->subject_len	  ? "it holds a NUL byte"
								  : NULL;
	if (why != NULL)
		return diag_set(d, DIAG_PLUGIN,
				"render's subject must be one line of at most %d bytes (%s)",
				NOTIFY_OUT_SUBJECT, why);
	if (out->body_len > NOTIFY_OUT_BODY || strlen(b) != out->body_len)
		return diag_set(d, DIAG_PLUGIN,
				"render's body must be text of at most 1 MiB (%s)",
				out->body_len > NOTIFY_OUT_BODY ? "it is too long" : "it holds a NUL byte");
	out->subject = s;
	out->body = b;
	return 0;
}

int
notify_out_check(lua_State *L, const char *hook, int idx, struct diag *d)
{
	if (strcmp(hook, "render") != 0)
		return 0;
	struct notify_out v;
	return notify_out_read(L, idx, &v, d);
}
