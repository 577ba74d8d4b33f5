/*
 * lua/reward_out: a reward handler's result as plain entries (see reward_out.h).
 */
#include "lua/reward_out.h"

#include <lauxlib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const grant_fields[] = {"person_id", "points", "badge", "reason", "key", NULL};
static const char *const revoke_fields[] = {"revoke", "reason", NULL};

static int
known(const char *k, const char *const *names)
{
	for (int i = 0; names[i]; i++)
		if (strcmp(k, names[i]) == 0)
			return 1;
	return 0;
}

/* Copies the string field `name` of the table at t into dst (size max + 1); 0 absent. */
static int
str_field(lua_State *L, int t, const char *what, int i, const char *name, char *dst, size_t max,
	  int required, struct diag *d)
{
	lua_pushstring(L, name);
	int ty = lua_rawget(L, t);
	int rc = 1;
	if (ty == LUA_TNIL) {
		rc = required ? diag_set(d, DIAG_INVALID, "%s %d: missing field '%s'", what, i, name)
			      : 0;
	} else if (ty != LUA_TSTRING) {
		rc = diag_set(d, DIAG_INVALID, "%s %d: field '%s' must be a string (got %s)", what,
			      i, name, luaL_typename(L, -1));
	} else {
		size_t len;
		const char *s = lua_tolstring(L, -1, &len);
		if (len == 0 || len > max || strlen(s) != len)
			rc = diag_set(d, DIAG_INVALID,
				      "%s %d: field '%s' must be 1 to %zu characters (got %zu)", what,
				      i, name, max, len);
		else
			memcpy(dst, s, len + 1);
	}
	lua_pop(L, 1);
	return rc;
}

static int
int_field(lua_State *L, int t, int i, const char *name, int64_t min, int64_t max, int64_t *out,
	  int *present, struct diag *d)
{
	lua_pushstring(L, name);
	int ty = lua_rawget(L, t);
	int rc = 0;
	*present = ty != LUA_TNIL;
	if (ty != LUA_TNIL) {
		if (!lua_isinteger(L, -1) || lua_tointeger(L, -1) < min || lua_tointeger(L, -1) > max) {
			char got[64];
			if (ty == LUA_TNUMBER)
				snprintf(got, sizeof(got), "%.17g", lua_tonumber(L, -1));
			else
				snprintf(got, sizeof(got), "%s", luaL_typename(L, -1));
			rc = diag_set(d, DIAG_INVALID,
				      "grant %d: field '%s' must be an integer between %lld and %lld "
				      "(got %s)",
				      i, name, (long long)min, (long long)max, got);
		} else {
			*out = lua_tointeger(L, -1);
		}
	}
	lua_pop(L, 1);
	return rc;
}

static int
name_ok(const char *s)
{
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_' || *s == '-'))
			return 0;
	return 1;
}

static int
key_ok(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s <= ' ' || *s == 0x7f)
			return 0;
	return 1;
}

/* One entry at table index t. */
static int
read_entry(lua_State *L, int t, int i, struct reward_out *e, struct diag *d)
{
	memset(e, 0, sizeof(*e));
	lua_pushliteral(L, "revoke");
	e->revoke = lua_rawget(L, t) != LUA_TNIL;
	lua_pop(L, 1);
	const char *what = e->revoke ? "revocation" : "grant";
	const char *const *fields = e->revoke ? revoke_fields : grant_fields;
	/* Unknown fields first: a misspelt one explains a missing one. */
	lua_pushnil(L);
	while (lua_next(L, t)) {
		const char *k = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : NULL;
		if (k == NULL || !known(k, fields)) {
			diag_set(d, DIAG_INVALID,
				 "%s %d: unknown field '%.64s' (a %s has %s)", what, i,
				 k ? k : luaL_typename(L, -2), what,
				 e->revoke ? "revoke and reason"
					   : "person_id, points, badge, reason and key");
			lua_pop(L, 2);
			return -1;
		}
		lua_pop(L, 1);
	}
	if (e->revoke)
		return str_field(L, t, what, i, "revoke", e->key, REWARD_KEY_MAX, 1, d) < 0 ||
			       str_field(L, t, what, i, "reason", e->reason, REWARD_REASON_MAX, 1,
					 d) < 0
			   ? -1
			   : 0;
	int has_person, has_points;
	if (int_field(L, t, i, "person_id", 1, INT64_MAX, &e->person_id, &has_person, d) < 0)
		return -1;
	if (!has_person)
		return diag_set(d, DIAG_INVALID,
				"grant %d: missing field 'person_id' (the person's id, as events "
				"carry it)",
				i);
	if (int_field(L, t, i, "points", REWARD_POINTS_MIN, REWARD_POINTS_MAX, &e->points,
		      &has_points, d) < 0)
		return -1;
	int has_badge = str_field(L, t, what, i, "badge", e->badge, REWARD_BADGE_MAX, 0, d);
	if (has_badge < 0)
		return -1;
	if (has_badge && !name_ok(e->badge))
		return diag_set(d, DIAG_INVALID,
				"grant %d: field 'badge' must be a-z, 0-9, '_' or '-' (got \"%s\")", i,
				e->badge);
	if (str_field(L, t, what, i, "reason", e->reason, REWARD_REASON_MAX, 1, d) < 0)
		return -1;
	int has_key = str_field(L, t, what, i, "key", e->key, REWARD_KEY_MAX, 0, d);
	if (has_key < 0)
		return -1;
	if (has_key && !key_ok(e->key))
		return diag_set(d, DIAG_INVALID,
				"grant %d: field 'key' must not contain spaces or control characters",
				i);
	if (e->points == 0 && !has_badge)
		return diag_set(d, DIAG_INVALID,
				"grant %d: grants nothing (give non-zero 'points', a 'badge', or both)",
				i);
	return 0;
}

int
reward_out_read(lua_State *L, int idx, struct reward_out **out, size_t *n, struct diag *d)
{
	*out = NULL;
	*n = 0;
	idx = lua_absindex(L, idx);
	if (lua_type(L, idx) == LUA_TNIL)
		return 0;
	if (lua_type(L, idx) != LUA_TTABLE)
		return diag_set(d, DIAG_INVALID,
				"a handler returns nil or a list of grants (got %s)",
				luaL_typename(L, idx));
	size_t len = lua_rawlen(L, idx);
	/* A single grant returned bare, not in a list: say so rather than "unknown field". */
	lua_pushliteral(L, "reason");
	int bare = lua_rawget(L, idx) != LUA_TNIL;
	lua_pop(L, 1);
	if (bare)
		return diag_set(d, DIAG_INVALID,
				"a handler returns a list of grants: wrap the grant in { }");
	if (len > REWARD_OUT_MAX)
		return diag_set(d, DIAG_INVALID, "a handler returned %zu entries (at most %d)", len,
				REWARD_OUT_MAX);
	if (len == 0)
		return 0;
	struct reward_out *v = calloc(len, sizeof(*v));
	if (v == NULL)
		return diag_set(d, DIAG_NOMEM, "out of memory reading grants");
	for (size_t i = 0; i < len; i++) {
		int t = lua_rawgeti(L, idx, (lua_Integer)i + 1);
		int rc = t == LUA_TTABLE ? read_entry(L, lua_gettop(L), (int)i + 1, &v[i], d)
					 : diag_set(d, DIAG_INVALID,
						    "entry %zu must be a table (got %s)", i + 1,
						    luaL_typename(L, -1));
		lua_pop(L, 1);
		if (rc != 0) {
			free(v);
			return -1;
		}
	}
	*out = v;
	*n = len;
	return 0;
}

int
reward_out_check(lua_State *L, const char *hook, int idx, struct diag *d)
{
	if (strncmp(hook, "on[", 3) != 0)
		return 0;
	struct reward_out *v;
	size_t n;
	if (reward_out_read(L, idx, &v, &n, d) != 0)
		return -1;
	free(v);
	return 0;
}
