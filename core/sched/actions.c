/*
 * sched/actions: a Lua job's ctx going in and its actions coming back (see
 * actions.h for the contract).
 *
 * Both directions go through a small host-side lua_State that holds data only
 * (no library, no plugin code): ctx is read from the store into a jansson tree
 * first (so no Lua error can unwind past an open statement), then turned into
 * Lua tables and marshalled for the worker; the results are unmarshalled into a
 * fresh state and walked with raw reads inside one protected call, which fills
 * C structures. Only then, with every action valid, is anything written.
 */
#include "sched/actions.h"

#include <jansson.h>
#include <lauxlib.h>
#include <lua.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/evkind.h"
#include "events/events.h"
#include "events/outbox.h"
#include "lua/marshal.h"
#include "program/lifecycle.h"
#include "sched/sched_internal.h"
#include "sched/session.h"
#include "store/stmt.h"

/* ---- Lua <-> JSON for data only ------------------------------------------------- */

/* Pushes j as a Lua value (null -> nil). stack: +1. Raises only on memory errors. */
static void
push_json(lua_State *L, const json_t *j)
{
	luaL_checkstack(L, 4, "ctx too deep");
	switch (json_typeof(j)) {
	case JSON_OBJECT: {
		lua_createtable(L, 0, (int)json_object_size(j));
		const char *k;
		json_t *v;
		json_object_foreach((json_t *)j, k, v) {
			push_json(L, v);
			lua_setfield(L, -2, k);
		}
		break;
	}
	case JSON_ARRAY: {
		lua_createtable(L, (int)json_array_size(j), 0);
		size_t i;
		json_t *v;
		json_array_foreach(j, i, v) {
			push_json(L, v);
			lua_rawseti(L, -2, (lua_Integer)i + 1);
		}
		break;
	}
	case JSON_STRING: lua_pushlstring(L, json_string_value(j), json_string_length(j)); break;
	case JSON_INTEGER: lua_pushinteger(L, (lua_Integer)json_integer_value(j)); break;
	case JSON_REAL: lua_pushnumber(L, json_real_value(j)); break;
	case JSON_TRUE: lua_pushboolean(L, 1); break;
	case JSON_FALSE: lua_pushboolean(L, 0); break;
	default: lua_pushnil(L); break;
	}
}

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
	case LUA_TBOOLEAN: return json_boolean(lua_toboolean(L, idx));
	case LUA_TNUMBER:
		if (lua_isinteger(L, idx))
			return json_integer((json_int_t)lua_tointeger(L, idx));
		if (!isfinite(lua_tonumber(L, idx))) { /* JSON has no NaN or infinity */
			snprintf(err, esize, "field '%s' must be a finite number (got %s)", path,
				 isnan(lua_tonumber(L, idx)) ? "nan" : "inf");
			return NULL;
		}
		return json_real(lua_tonumber(L, idx));
	case LUA_TTABLE: break;
	default:
		snprintf(err, esize, "field '%s' must be a string, number, boolean or table (got %s)",
			 path, luaL_typename(L, idx));
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

/* ---- ctx --------------------------------------------------------------------------- */

/* Rows of sql as JSON objects named by cols (types from SQLite: int, real, text, null). */
static int
rows_json(struct store *st, const char *what, const char *sql, const char *ts,
	  const char *const *cols, json_t *out, struct diag *d)
{
	struct stmt q = {0};
	if (stmt_prepare(&q, st, what, sql, d) != 0)
		return -1;
	int rc = ts != NULL && stmt_param_count(&q) > 0 ? stmt_bind_text(&q, 1, ts, d) : 0;
	while (rc == 0) {
		int r = stmt_step(&q, d);
		if (r != STMT_ROW) {
			rc = r < 0 ? -1 : 0;
			break;
		}
		json_t *o = json_object();
		for (int c = 0; o != NULL && cols[c] != NULL; c++) {
			json_t *v = NULL;
			const char *t;
			switch (stmt_type(&q, c)) {
			case SQLITE_INTEGER: v = json_integer(stmt_int64(&q, c)); break;
			case SQLITE_FLOAT: v = json_real(stmt_double(&q, c)); break;
			case SQLITE_NULL: continue;
			default:
				if (stmt_text(&q, c, &t, d) != 0) {
					json_decref(o);
					stmt_finalize(&q);
					return -1;
				}
				v = json_string(t);
			}
			/* "mentor.id" -> {mentor = {id = ...}} */
			const char *dot = strchr(cols[c], '.');
			if (dot == NULL) {
				json_object_set_new(o, cols[c], v);
			} else {
				char head[32];
				snprintf(head, sizeof(head), "%.*s", (int)(dot - cols[c]), cols[c]);
				json_t *sub = json_object_get(o, head);
				if (sub == NULL) {
					sub = json_object();
					json_object_set_new(o, head, sub);
				}
				json_object_set_new(sub, dot + 1, v);
			}
		}
		if (o == NULL || json_array_append_new(out, o) != 0)
			rc = diag_set(d, DIAG_NOMEM, "out of memory building a job's ctx");
	}
	stmt_finalize(&q);
	return rc;
}

static json_t *
build_ctx(struct sched *s, struct sched_script *sc, int64_t occ_id, time_t due, time_t now,
	  int covers, struct diag *d)
{
	char tnow[STORE_TIME_MAX], tdue[STORE_TIME_MAX], from[STORE_TIME_MAX];
	store_format_time(now, tnow);
	store_format_time(due, tdue);
	json_t *ctx = json_pack("{s:s, s:I, s:s, s:s, s:i, s:s}", "job", sc->name, "occurrence",
				(json_int_t)occ_id, "now", tnow, "due", tdue, "covers", covers,
				"timezone",
				sc->decl.timezone[0] ? sc->decl.timezone : sched__default_zone(s));
	json_t *programs = json_array(), *sessions = NULL, *matches = NULL;
	if (ctx == NULL || programs == NULL) {
		json_decref(ctx);
		json_decref(programs);
		diag_set(d, DIAG_NOMEM, "out of memory building a job's ctx");
		return NULL;
	}
	json_object_set_new(ctx, "programs", programs);
	static const char *const pcols[] = {"name", "title", "starts", "ends", NULL};
	int rc = rows_json(s->st, "reading programs for a job",
			   "SELECT name, title, starts_on, ends_on FROM programs ORDER BY name", NULL,
			   pcols, programs, d);
	if (rc == 0 && (sc->decl.needs & JOBDECL_NEEDS_SESSIONS)) {
		static const char *const scols[] = {"id",	"match",  "program", "starts",
						    "duration", "timezone", "status", "topic", NULL};
		json_object_set_new(ctx, "sessions", sessions = json_array());
		/* The window: 30 days either side of now (the query takes its bounds from ?1). */
		store_format_time(now, from);
		rc = rows_json(s->st, "reading sessions for a job",
			       "SELECT s.id, s.match_id, p.name, s.starts_at, s.duration_min,"
			       " s.timezone, s.status, s.topic FROM sessions s"
			       " JOIN matches m ON m.id = s.match_id JOIN programs p ON p.id = m.program_id"
			       " WHERE s.starts_at >= strftime('%Y-%m-%dT%H:%M:%SZ', ?1, '-30 days')"
			       " AND s.starts_at < strftime('%Y-%m-%dT%H:%M:%SZ', ?1, '+30 days')"
			       " ORDER BY s.starts_at, s.id",
			       from, scols, sessions, d);
	}
	if (rc == 0 && (sc->decl.needs & JOBDECL_NEEDS_MATCHES)) {
		static const char *const mcols[] = {"id",	  "program",	 "status",
						    "score",	  "mentor.id",	 "mentor.name",
						    "mentee.id", "mentee.name", NULL};
		json_object_set_new(ctx, "matches", matches = json_array());
		rc = rows_json(s->st, "reading matches for a job",
			       "SELECT m.id, p.name, m.status, m.score, a.external_id, a.name,"
			       " b.external_id, b.name FROM matches m"
			       " JOIN programs p ON p.id = m.program_id"
			       " JOIN people a ON a.id = m.mentor_id JOIN people b ON b.id = m.mentee_id"
			       " WHERE m.status IN ('approved', 'active') ORDER BY m.id",
			       NULL, mcols, matches, d);
	}
	if (rc != 0) {
		json_decref(ctx);
		return NULL;
	}
	return ctx;
}

struct encode_args {
	json_t *ctx;
	struct buf *out;
	struct diag *d;
	int rc;
};

/* Protected: {ctx} as marshalled hook arguments. */
static int
encode_pcall(lua_State *L)
{
	struct encode_args *a = lua_touserdata(L, 1);
	lua_createtable(L, 1, 0);
	push_json(L, a->ctx);
	lua_rawseti(L, -2, 1);
	a->rc = marshal_encode(L, -1, 0, "ctx", a->out, a->d);
	return 0;
}

int
sched__lua_call(struct sched *s, struct sched_script *sc, int64_t occ_id, time_t due, time_t now,
		int covers, struct buf *actions, struct diag *d)
{
	json_t *ctx = build_ctx(s, sc, occ_id, due, now, covers, d);
	if (ctx == NULL)
		return -1;
	lua_State *L = luaL_newstate();
	struct buf args;
	buf_init(&args);
	struct encode_args a = {ctx, &args, d, -1};
	if (L == NULL) {
		diag_set(d, DIAG_NOMEM, "out of memory building a job's ctx");
	} else {
		lua_pushcfunction(L, encode_pcall);
		lua_pushlightuserdata(L, &a);
		if (lua_pcall(L, 1, 0, 0) != LUA_OK)
			diag_set(d, DIAG_NOMEM, "building a job's ctx: %s", lua_tostring(L, -1));
		lua_close(L);
	}
	json_decref(ctx);
	int rc = a.rc == 0 ? plugin_call_data(sc->p, "run", args.data, args.len, 0, actions, d) : -1;
	buf_fini(&args);
	return rc;
}

/* ---- actions ----------------------------------------------------------------------- */

enum action_type { ACT_EVENT, ACT_MESSAGE, ACT_CANCEL_SESSION, ACT_END_MATCH };

static const char valid_actions[] = "event, message, cancel_session, end_match";

struct action {
	enum action_type type;
	char kind[128];      /* event */
	char *payload;       /* event: JSON text */
	int64_t id;          /* cancel_session, end_match */
	char *reason;        /* cancel_session, end_match */
	char *to, *subject, *body, *key; /* message */
};

struct parse_args {
	const char *data;
	size_t n;
	struct action *v;
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
			snprintf(a->err, sizeof(a->err), "field '%s' must be a string (got %s)", label,
				 luaL_typename(L, -1));
		else
			snprintf(a->err, sizeof(a->err),
				 "field '%s' must be 1 to %zu bytes of text (got %zu)", label, max, len);
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
parse_event(lua_State *L, int t, struct action *act, struct parse_args *a)
{
	static const char *const top[] = {"event", NULL};
	static const char *const sub[] = {"kind", "payload", NULL};
	if (only_fields(L, t, "", top, "event", a) != 0)
		return -1;
	lua_getfield(L, t, "event");
	int ev = lua_gettop(L);
	if (!lua_istable(L, ev)) {
		snprintf(a->err, sizeof(a->err), "field 'event' must be a table {kind =, payload =} (got %s)",
			 luaL_typename(L, ev));
		return -1;
	}
	if (only_fields(L, ev, "event.", sub, "event.kind, event.payload", a) != 0)
		return -1;
	lua_getfield(L, ev, "kind");
	if (lua_type(L, -1) != LUA_TSTRING || !evkind_custom(lua_tostring(L, -1))) {
		if (lua_type(L, -1) == LUA_TSTRING)
			snprintf(a->err, sizeof(a->err),
				 "field 'event.kind' must be \"custom.\" and a name of a-z, 0-9, '_' or "
				 "'.' (got \"%.64s\")",
				 lua_tostring(L, -1));
		else
			snprintf(a->err, sizeof(a->err), "field 'event.kind' must be a string (got %s)",
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
	if (strlen(act->payload) > SCHED_MAX_PAYLOAD) {
		snprintf(a->err, sizeof(a->err),
			 "field 'event.payload' is %zu bytes as JSON (at most %d)",
			 strlen(act->payload), SCHED_MAX_PAYLOAD);
		return -1;
	}
	act->type = ACT_EVENT;
	return 0;
}

/* {cancel_session = ID, reason = TEXT} or {end_match = ID, reason = TEXT} at t. */
static int
parse_id_reason(lua_State *L, int t, const char *name, enum action_type type, struct action *act,
		struct parse_args *a)
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
		snprintf(a->err, sizeof(a->err), "field '%s' must be a %s id, a positive integer (got %s)",
			 name, type == ACT_END_MATCH ? "match" : "session",
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
parse_message(lua_State *L, int t, struct action *act, struct parse_args *a)
{
	static const char *const top[] = {"message", NULL};
	static const char *const sub[] = {"to", "subject", "body", "key", NULL};
	if (only_fields(L, t, "", top, "message", a) != 0)
		return -1;
	lua_getfield(L, t, "message");
	int m = lua_gettop(L);
	if (!lua_istable(L, m)) {
		snprintf(a->err, sizeof(a->err),
			 "field 'message' must be a table {to =, subject =, body =, key =} (got %s)",
			 luaL_typename(L, m));
		return -1;
	}
	act->type = ACT_MESSAGE;
	if (only_fields(L, m, "message.", sub,
			"message.to, message.subject, message.body, message.key", a) != 0 ||
	    string_field(L, m, "message.to", "to", 1, 200, &act->to, a) != 0 ||
	    string_field(L, m, "message.subject", "subject", 0, 200, &act->subject, a) != 0 ||
	    string_field(L, m, "message.body", "body", 1, SCHED_MAX_PAYLOAD, &act->body, a) != 0 ||
	    string_field(L, m, "message.key", "key", 1, 150, &act->key, a) != 0)
		return -1;
	if (!key_valid(act->key)) {
		snprintf(a->err, sizeof(a->err),
			 "field 'message.key' must be 1 to 150 characters of A-Z, a-z, 0-9, '.', '_', "
			 "':' or '-' (got \"%.64s\")",
			 act->key);
		return -1;
	}
	return 0;
}

/* The action at t (a table): which one it is, then its fields. */
static int
parse_action(lua_State *L, int t, struct action *act, struct parse_args *a)
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
	case 0: return parse_event(L, t, act, a);
	case 1: return parse_message(L, t, act, a);
	case 2: return parse_id_reason(L, t, "cancel_session", ACT_CANCEL_SESSION, act, a);
	default: return parse_id_reason(L, t, "end_match", ACT_END_MATCH, act, a);
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
		snprintf(a->err, sizeof(a->err),
			 "run must return nil or a list of actions like { {event = {...}} } (got %s%s)",
			 lua_istable(L, list) ? "a table with named fields" : luaL_typename(L, list),
			 lua_istable(L, list) ? ": wrap the action in { }" : "");
		return 0;
	}
	if (len > SCHED_MAX_ACTIONS) {
		snprintf(a->err, sizeof(a->err), "run returned %lld actions (at most %d)",
			 (long long)len, SCHED_MAX_ACTIONS);
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
		struct action *act = &a->v[a->count++];
		int rc = -1;
		if (!lua_istable(L, t))
			snprintf(a->err, sizeof(a->err), "must be a table like {event = {...}} (got %s)",
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

static void
free_actions(struct action *v, size_t n)
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

/* people.id of an external id; DIAG_NOTFOUND naming it. */
static int
person_id(struct store *st, const char *external, int64_t *id, struct diag *d)
{
	struct stmt q = {0};
	*id = 0;
	int rc = stmt_prepare(&q, st, "finding a message's recipient",
			      "SELECT id FROM people WHERE external_id = ?1", d) ||
		 stmt_bind_text(&q, 1, external, d);
	int r = rc == 0 ? stmt_step(&q, d) : -1;
	if (r == STMT_ROW)
		*id = stmt_int64(&q, 0);
	stmt_finalize(&q);
	if (r < 0)
		return -1;
	if (*id == 0)
		return diag_set(d, DIAG_NOTFOUND,
				"field 'message.to': no person with external id '%.64s'", external);
	return 0;
}

static int
apply_one(const struct sched_actions_ctx *c, const struct action *act, const char *actor,
	  size_t *counts, struct diag *d)
{
	switch (act->type) {
	case ACT_EVENT: {
		struct event ev = {act->kind, actor, 0, 0, act->payload};
		if (events_append(c->st, &ev, NULL, d) != 0)
			return -1;
		break;
	}
	case ACT_CANCEL_SESSION:
		if (session_cancel(c->st, act->id, act->reason, actor, d) != 0)
			return -1;
		break;
	case ACT_END_MATCH:
		if (lifecycle_end(c->st, act->id, act->reason, actor, NULL, d) != 0)
			return -1;
		break;
	case ACT_MESSAGE: {
		int64_t to;
		char key[256];
		if (person_id(c->st, act->to, &to, d) != 0)
			return -1;
		/* Namespaced by the job, so a job never collides with reminders or another job. */
		snprintf(key, sizeof(key), "job:%s:%s", c->job, act->key);
		struct outbox_msg m = {0};
		m.key = key;
		m.kind = "job";
		m.channel = c->channel != NULL ? c->channel : "eml";
		m.recipient_id = to;
		m.subject = act->subject;
		m.body = act->body;
		m.not_before = c->now;
		if (outbox_enqueue(c->st, &m, NULL, d) != 0)
			return -1;
		break;
	}
	}
	counts[act->type]++;
	return 0;
}

int
sched_actions_apply(const struct sched_actions_ctx *c, const void *data, size_t n, char *result,
		    size_t size, struct diag *d)
{
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
		free_actions(a.v, a.count);
		if (a.nomem)
			return diag_set(d, DIAG_NOMEM, "out of memory reading a job's actions");
		return diag_set(d, DIAG_INVALID, "%s: %s", c->script, a.err);
	}
	char actor[160];
	snprintf(actor, sizeof(actor), "job:%s", c->job);
	size_t counts[4] = {0, 0, 0, 0};
	int rc = 0;
	if (store_begin(c->st, d) != 0) {
		free_actions(a.v, a.count);
		return -1;
	}
	for (size_t i = 0; rc == 0 && i < a.count; i++)
		if ((rc = apply_one(c, &a.v[i], actor, counts, d)) != 0)
			diag_prefix(d, "%s: action %zu", c->script, i + 1);
	free_actions(a.v, a.count);
	if (rc != 0) {
		store_rollback(c->st);
		return -1;
	}
	if (store_commit(c->st, d) != 0)
		return -1;
	snprintf(result, size,
		 "{\"actions\":%zu,\"events\":%zu,\"messages\":%zu,\"sessions_cancelled\":%zu,"
		 "\"matches_ended\":%zu}",
		 counts[0] + counts[1] + counts[2] + counts[3], counts[ACT_EVENT],
		 counts[ACT_MESSAGE], counts[ACT_CANCEL_SESSION], counts[ACT_END_MATCH]);
	return 0;
}

int
sched__apply_actions(struct sched *s, struct sched_script *sc, const struct buf *actions,
		     time_t now, char *result, size_t size, struct diag *d)
{
	/* Messages leave by the workspace's channel (tandem.lua workspace{ notify = }), as
	 * reminders do; without a config, the default. */
	const char *channel = s->cfg != NULL ? s->cfg->notify : NULL;
	struct sched_actions_ctx c = {s->st, sc->path, sc->name, now, channel};
	return sched_actions_apply(&c, actions->data, actions->len, result, size, d);
}
