/*
 * lua/job_out: a job's actions read and held to the rules (see job_out.h).
 */
#include "lua/job_out.h"

#include <jansson.h>
#include <lauxlib.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/evkind.h"
#include "lua/marshal.h"

/* 1 when the table at idx is a sequence 1..n (an empty table counts as one). */
static int
is_sequence(lua_State *L, int idx, lua_Integer *len)
{
	lua_Integer n = 0, count = 0;
	lua_pushnil(L);
	while (lua_next(L, idx)) {
		lua_pop(L, 1);
		int isint = 0;
		lua_Integer k = lua_tointegerx(L, -1, &isint);
		if (lua_type(L, -1) != LUA_TNUMBER || !isint || k < 1) {
			lua_pop(L, 1);
			return 0;
		}
		count++;
		if (k > n)
			n = k;
	}
	*len = n;
	return n == count;
}

/* The Lua value at idx as JSON; NULL with err set ("field 'x.y': ..."). Raw reads. */
static json_t *
to_json(lua_State *L, int idx, const char *path, int depth, char *err, size_t esize)
{
	idx = lua_absindex(L, idx);
	switch (lua_type(L, idx)) {
	case LUA_TSTRING: {
		size_t n;
		const char *s = lua_tolstring(L, idx, &n);
		json_t *v = json_stringn(s, n);
		if (v == NULL)
			snprintf(err, esize, "field '%s' must be UTF-8 text", path);
		return v;
	}
	case LUA_TBOOLEAN:
		return json_boolean(lua_toboolean(L, idx));
	case LUA_TNUMBER:
		if (lua_isinteger(L, idx))
			return json_integer((json_int_t)lua_tointeger(L, idx));
		if (!isfinite(lua_tonumber(L, idx))) { /* JSON has no NaN or infinity */
			snprintf(err, esize, "field '%s' must be a finite number (got %s)", path,
				 isnan(lua_tonumber(L, idx)) ? "nan" : "inf");
			return NULL;
		}
		return json_real(lua_tonumber(L, idx));
	case LUA_TTABLE:
		break;
	default:
		snprintf(err, esize,
			 "field '%s' must be a string, number, boolean or table (got %s)", path,
			 luaL_typename(L, idx));
		return NULL;
	}
	if (depth > 16) {
		snprintf(err, esize, "field '%s' is nested too deeply (at most 16 levels)", path);
		return NULL;
	}
	lua_Integer len;
	char sub[256];
	if (is_sequence(L, idx, &len) && len > 0) {
		json_t *arr = json_array();
		for (lua_Integer i = 1; arr != NULL && i <= len; i++) {
			snprintf(sub, sizeof(sub), "%s[%lld]", path, (long long)i);
			lua_rawgeti(L, idx, i);
			json_t *v = to_json(L, -1, sub, depth + 1, err, esize);
			lua_pop(L, 1);
			if (v == NULL || json_array_append_new(arr, v) != 0) {
				json_decref(arr);
				arr = NULL;
			}
		}
		if (arr == NULL && err[0] == '\0')
			snprintf(err, esize, "field '%s': out of memory", path);
		return arr;
	}
	json_t *obj = json_object();
	lua_pushnil(L);
	while (obj != NULL && lua_next(L, idx)) {
		if (lua_type(L, -2) != LUA_TSTRING) {
			snprintf(err, esize, "field '%s' mixes list items and named fields", path);
			lua_pop(L, 2);
			json_decref(obj);
			return NULL;
		}
		snprintf(sub, sizeof(sub), "%s.%s", path, lua_tostring(L, -2));
		json_t *v = to_json(L, -1, sub, depth + 1, err, esize);
		lua_pop(L, 1);
		if (v == NULL || json_object_set_new(obj, lua_tostring(L, -1), v) != 0) {
			lua_pop(L, 1);
			json_decref(obj);
			obj = NULL;
		}
	}
	if (obj == NULL && err[0] == '\0')
		snprintf(err, esize, "field '%s': out of memory", path);
	return obj;
}

static const char valid_actions[] = "event, message, cancel_session, end_match";

struct parse_args {
	const char *data;
	size_t n;
	struct job_action *v;
	size_t count;
	char err[DIAG_MSG_MAX - 256];
	int nomem;
};

/* Every key of the table at t is one of names (NULL-terminated); else a->err. */
static int
only_fields(lua_State *L, int t, const char *prefix, const char *const *names, const char *valid,
	    struct parse_args *a)
{
	lua_pushnil(L);
	while (lua_next(L, t)) {
		lua_pop(L, 1);
		const char *k = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : NULL;
		int ok = 0;
		for (size_t i = 0; k != NULL && names[i] != NULL; i++)
			ok |= strcmp(k, names[i]) == 0;
		if (!ok) {
			snprintf(a->err, sizeof(a->err), "unknown field '%s%s' (valid: %s)", prefix,
				 k != NULL ? k : "?", valid);
			lua_pop(L, 1);
			return -1;
		}
	}
	return 0;
}

/* A string field of the table at t: copied into *out (NULL when absent and optional). */
static int
string_field(lua_State *L, int t, const char *label, const char *name, int required, size_t max,
	     char **out, struct parse_args *a)
{
	lua_getfield(L, t, name);
	int type = lua_type(L, -1);
	*out = NULL;
	if (type == LUA_TNIL && !required) {
		lua_pop(L, 1);
		return 0;
	}
	size_t len = 0;
	const char *v = type == LUA_TSTRING ? lua_tolstring(L, -1, &len) : NULL;
	if (v == NULL || len == 0 || len > max || strlen(v) != len) {
		if (type == LUA_TNIL)
			snprintf(a->err, sizeof(a->err), "missing field '%s' (a string)", label);
		else if (v == NULL)
			snprintf(a->err, sizeof(a->err), "field '%s' must be a string (got %s)",
				 label, luaL_typename(L, -1));
		else
			snprintf(a->err, sizeof(a->err),
				 "field '%s' must be 1 to %zu bytes of text (got %zu)", label, max,
				 len);
		lua_pop(L, 1);
		return -1;
	}
	*out = strdup(v);
	lua_pop(L, 1);
	if (*out == NULL) {
		a->nomem = 1;
		return -1;
	}
	return 0;
}

/* {event = {kind =, payload =}} at t. */
static int
parse_event(lua_State *L, int t, struct job_action *act, struct parse_args *a)
{
	static const char *const top[] = {"event", NULL};
	static const char *const sub[] = {"kind", "payload", NULL};
	if (only_fields(L, t, "", top, "event", a) != 0)
		return -1;
	lua_getfield(L, t, "event");
	int ev = lua_gettop(L);
	if (!lua_istable(L, ev)) {
		snprintf(a->err, sizeof(a->err),
			 "field 'event' must be a table {kind =, payload =} (got %s)",
			 luaL_typename(L, ev));
		return -1;
	}
	if (only_fields(L, ev, "event.", sub, "event.kind, event.payload", a) != 0)
		return -1;
	lua_getfield(L, ev, "kind");
	if (lua_type(L, -1) != LUA_TSTRING || !evkind_custom(lua_tostring(L, -1))) {
		if (lua_type(L, -1) == LUA_TSTRING)
			snprintf(
			    a->err, sizeof(a->err),
			    "field 'event.kind' must be \"custom.\" and a name of a-z, 0-9, '_' or "
			    "'.' (got \"%.64s\")",
			    lua_tostring(L, -1));
		else
			snprintf(a->err, sizeof(a->err),
				 "field 'event.kind' must be a string (got %s)",
				 luaL_typename(L, -1));
		return -1;
	}
	snprintf(act->kind, sizeof(act->kind), "%s", lua_tostring(L, -1));
	lua_pop(L, 1);
	lua_getfield(L, ev, "payload");
	json_t *p = NULL;
	if (lua_isnil(L, -1)) {
		p = json_object();
	} else if (!lua_istable(L, -1)) {
		snprintf(a->err, sizeof(a->err), "field 'event.payload' must be a table (got %s)",
			 luaL_typename(L, -1));
		return -1;
	} else {
		a->err[0] = '\0';
		p = to_json(L, -1, "event.payload", 0, a->err, sizeof(a->err));
		if (p == NULL)
			return -1;
		if (!json_is_object(p)) {
			json_decref(p);
			snprintf(a->err, sizeof(a->err),
				 "field 'event.payload' must have named fields, not be a list");
			return -1;
		}
	}
	act->payload = p != NULL ? json_dumps(p, JSON_COMPACT) : NULL;
	json_decref(p);
	if (act->payload == NULL) {
		a->nomem = 1;
		return -1;
	}
	if (strlen(act->payload) > JOB_OUT_MAX_PAYLOAD) {
		snprintf(a->err, sizeof(a->err),
			 "field 'event.payload' is %zu bytes as JSON (at most %d)",
			 strlen(act->payload), JOB_OUT_MAX_PAYLOAD);
		return -1;
	}
	act->type = JOB_ACT_EVENT;
	return 0;
}

/* {cancel_session = ID, reason = TEXT} or {end_match = ID, reason = TEXT} at t. */
static int
parse_id_reason(lua_State *L, int t, const char *name, enum job_action_type type,
		struct job_action *act, struct parse_args *a)
{
	const char *const fields[] = {name, "reason", NULL};
	char valid[64];
	snprintf(valid, sizeof(valid), "%s, reason", name);
	if (only_fields(L, t, "", fields, valid, a) != 0)
		return -1;
	lua_getfield(L, t, name);
	int isint = 0;
	lua_Integer id = lua_tointegerx(L, -1, &isint);
	if (lua_type(L, -1) != LUA_TNUMBER || !isint || id < 1) {
		snprintf(a->err, sizeof(a->err),
			 "field '%s' must be a %s id, a positive integer (got %s)", name,
			 type == JOB_ACT_END_MATCH ? "match" : "session",
			 lua_type(L, -1) == LUA_TNUMBER ? "another number" : luaL_typename(L, -1));
		return -1;
	}
	lua_pop(L, 1);
	act->type = type;
	act->id = id;
	return string_field(L, t, "reason", "reason", 1, 500, &act->reason, a);
}

/* 1..150 characters of A-Z a-z 0-9 . _ : - */
static int
key_valid(const char *k)
{
	size_t n = strlen(k);
	if (n == 0 || n > 150)
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = k[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '_' || c == ':' || c == '-'))
			return 0;
	}
	return 1;
}

/* {message = {to =, subject =, body =, key =}} at t. */
static int
parse_message(lua_State *L, int t, struct job_action *act, struct parse_args *a)
{
	static const char *const top[] = {"message", NULL};
	static const char *const sub[] = {"to", "subject", "body", "key", NULL};
	if (only_fields(L, t, "", top, "message", a) != 0)
		return -1;
	lua_getfield(L, t, "message");
	int m = lua_gettop(L);
	if (!lua_istable(L, m)) {
		snprintf(
		    a->err, sizeof(a->err),
		    "field 'message' must be a table {to =, subject =, body =, key =} (got %s)",
		    luaL_typename(L, m));
		return -1;
	}
	act->type = JOB_ACT_MESSAGE;
	if (only_fields(L, m, "message.", sub,
			"message.to, message.subject, message.body, message.key", a) != 0 ||
	    string_field(L, m, "message.to", "to", 1, 200, &act->to, a) != 0 ||
	    string_field(L, m, "message.subject", "subject", 0, 200, &act->subject, a) != 0 ||
	    string_field(L, m, "message.body", "body", 1, JOB_OUT_MAX_PAYLOAD, &act->body, a) !=
		0 ||
	    string_field(L, m, "message.key", "key", 1, 150, &act->key, a) != 0)
		return -1;
	if (!key_valid(act->key)) {
		snprintf(
		    a->err, sizeof(a->err),
		    "field 'message.key' must be 1 to 150 characters of A-Z, a-z, 0-9, '.', '_', "
		    "':' or '-' (got \"%.64s\")",
		    act->key);
		return -1;
	}
	return 0;
}

/* The action at t (a table): which one it is, then its fields. */
static int
parse_action(lua_State *L, int t, struct job_action *act, struct parse_args *a)
{
	static const char *const names[] = {"event", "message", "cancel_session", "end_match"};
	int which = -1, count = 0;
	const char *first = NULL;
	lua_pushnil(L);
	while (lua_next(L, t)) {
		lua_pop(L, 1);
		const char *k = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : NULL;
		if (k != NULL && first == NULL && strcmp(k, "reason") != 0)
			first = k;
		for (int i = 0; k != NULL && i < 4; i++)
			if (strcmp(k, names[i]) == 0) {
				which = i;
				count++;
			}
	}
	if (count == 0 && first != NULL) {
		snprintf(a->err, sizeof(a->err), "unknown action '%.64s' (valid: %s)", first,
			 valid_actions);
		return -1;
	}
	if (count != 1) {
		snprintf(a->err, sizeof(a->err), "must have exactly one action field (valid: %s)",
			 valid_actions);
		return -1;
	}
	switch (which) {
	case 0:
		return parse_event(L, t, act, a);
	case 1:
		return parse_message(L, t, act, a);
	case 2:
		return parse_id_reason(L, t, "cancel_session", JOB_ACT_CANCEL_SESSION, act, a);
	default:
		return parse_id_reason(L, t, "end_match", JOB_ACT_END_MATCH, act, a);
	}
}

/* Protected: every action of the results, into a->v. */
static int
parse_pcall(lua_State *L)
{
	struct parse_args *a = lua_touserdata(L, 1);
	struct diag d;
	if (marshal_push(L, a->data, a->n, NULL, NULL, &d) != 0 || !lua_istable(L, -1)) {
		snprintf(a->err, sizeof(a->err), "the results of run could not be read");
		return 0;
	}
	lua_rawgeti(L, -1, 1);
	int list = lua_gettop(L);
	if (lua_isnil(L, list))
		return 0; /* nothing to do */
	lua_Integer len = 0;
	if (!lua_istable(L, list) || !is_sequence(L, list, &len)) {
		snprintf(
		    a->err, sizeof(a->err),
		    "run must return nil or a list of actions like { {event = {...}} } (got %s%s)",
		    lua_istable(L, list) ? "a table with named fields" : luaL_typename(L, list),
		    lua_istable(L, list) ? ": wrap the action in { }" : "");
		return 0;
	}
	if (len > JOB_OUT_MAX) {
		snprintf(a->err, sizeof(a->err), "run returned %lld actions (at most %d)",
			 (long long)len, JOB_OUT_MAX);
		return 0;
	}
	a->v = calloc(len > 0 ? (size_t)len : 1, sizeof(*a->v));
	if (a->v == NULL) {
		a->nomem = 1;
		return 0;
	}
	for (lua_Integer i = 1; i <= len; i++) {
		char why[32];
		lua_rawgeti(L, list, i);
		int t = lua_gettop(L);
		struct job_action *act = &a->v[a->count++];
		int rc = -1;
		if (!lua_istable(L, t))
			snprintf(a->err, sizeof(a->err),
				 "must be a table like {event = {...}} (got %s)",
				 luaL_typename(L, t));
		else
			rc = parse_action(L, t, act, a);
		if (rc != 0) {
			if (a->nomem)
				return 0;
			/* Prefix "action N: " in place, cutting the end if it no longer fits. */
			int k = snprintf(why, sizeof(why), "action %lld: ", (long long)i);
			size_t keep = strlen(a->err);
			if (keep > sizeof(a->err) - 1 - (size_t)k)
				keep = sizeof(a->err) - 1 - (size_t)k;
			memmove(a->err + k, a->err, keep);
			memcpy(a->err, why, (size_t)k);
			a->err[k + keep] = '\0';
			return 0;
		}
		lua_settop(L, list);
	}
	return 0;
}

void
job_out_free(struct job_action *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i].payload);
		free(v[i].reason);
		free(v[i].to);
		free(v[i].subject);
		free(v[i].body);
		free(v[i].key);
	}
	free(v);
}

int
job_out_read(const void *data, size_t n, struct job_action **out, size_t *count, struct diag *d)
{
	*out = NULL;
	*count = 0;
	struct parse_args a;
	memset(&a, 0, sizeof(a));
	a.data = data;
	a.n = n;
	lua_State *L = luaL_newstate();
	if (L == NULL)
		return diag_set(d, DIAG_NOMEM, "out of memory reading a job's actions");
	lua_pushcfunction(L, parse_pcall);
	lua_pushlightuserdata(L, &a);
	if (lua_pcall(L, 1, 0, 0) != LUA_OK)
		a.nomem = 1;
	lua_close(L);
	if (a.nomem || a.err[0] != '\0') {
		job_out_free(a.v, a.count);
		if (a.nomem)
			return diag_set(d, DIAG_NOMEM, "out of memory reading a job's actions");
		return diag_set(d, DIAG_INVALID, "%s", a.err);
	}
	*out = a.v;
	*count = a.count;
	return 0;
}

int
job_out_marshal_error(struct diag *d, const char *script)
{
	static const char mark[] = "field '1.";
	const char *f = d->code == DIAG_INVALID ? strstr(d->msg, mark) : NULL;
	if (f == NULL)
		return -1;
	const char *p = f + sizeof(mark) - 1;
	char *end = NULL;
	long idx = strtol(p, &end, 10);
	if (end == p || idx < 1 || (*end != '.' && *end != '\''))
		return -1;
	char rest[DIAG_MSG_MAX];
	if (*end == '.')
		snprintf(rest, sizeof(rest), "field '%s", end + 1);
	else /* the action itself: "field '1.2' is a function" */
		snprintf(rest, sizeof(rest), "the action%s",
			 strchr(end, ' ') ? strchr(end, ' ') : "");
	if (script != NULL)
		return diag_set(d, DIAG_INVALID, "%s: action %ld: %s", script, idx, rest);
	return diag_set(d, DIAG_INVALID, "action %ld: %s", idx, rest);
}

int
job_out_check(lua_State *L, const char *hook, int idx, struct diag *d)
{
	if (strcmp(hook, "run") != 0)
		return 0;
	idx = lua_absindex(L, idx);
	if (!lua_checkstack(L, 4))
		return diag_set(d, DIAG_NOMEM, "out of memory checking a job's actions");
	/* As the worker sends a real run's results: {n = 1, value}. */
	lua_createtable(L, 1, 1);
	lua_pushvalue(L, idx);
	lua_rawseti(L, -2, 1);
	lua_pushinteger(L, 1);
	lua_setfield(L, -2, "n");
	struct buf b;
	buf_init(&b);
	int rc = marshal_encode(L, -1, 0, "the result of hook run", &b, d);
	lua_pop(L, 1);
	if (rc != 0) {
		buf_fini(&b);
		return job_out_marshal_error(d, NULL);
	}
	struct job_action *v;
	size_t n;
	rc = job_out_read(b.data, b.len, &v, &n, d);
	buf_fini(&b);
	if (rc == 0)
		job_out_free(v, n);
	return rc;
}
