/*
 * rewards/dispatch_worker: the rule's side of reward dispatch, run in the rule's worker
 * (see dispatch.h and dispatch_internal.h): each event's handler called and its result
 * checked and packed for the host.
 */
#include "rewards/dispatch_internal.h"

#include <lauxlib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lua/marshal.h"
#include "lua/reward_out.h"
#include "lua/sandbox.h"

static int
pack_entries(const struct reward_out *v, size_t n, struct buf *out, struct diag *d)
{
	struct ev_head h = {0, (uint32_t)n};
	if (buf_append(out, &h, sizeof(h), d) != 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		struct packed p = {.revoke = v[i].revoke,
				   .badge_len = (uint16_t)strlen(v[i].badge),
				   .reason_len = (uint16_t)strlen(v[i].reason),
				   .key_len = (uint16_t)strlen(v[i].key),
				   .person_id = v[i].person_id,
				   .points = v[i].points};
		if (buf_append(out, &p, sizeof(p), d) || buf_append(out, v[i].badge, p.badge_len, d) ||
		    buf_append(out, v[i].reason, p.reason_len, d) ||
		    buf_append(out, v[i].key, p.key_len, d))
			return -1;
	}
	return 0;
}

static int
pack_failure(const char *msg, struct buf *out, struct diag *d)
{
	struct ev_head h = {1, (uint32_t)strlen(msg)};
	return buf_append(out, &h, sizeof(h), d) || buf_append(out, msg, h.n, d) ? -1 : 0;
}

/* ---- in the worker ------------------------------------------------------------------- */

/* The line where handler `hook` is defined, 0 if unknown. */
static int
handler_line(struct plugin *live, const char *kind)
{
	lua_State *L = plugin_state(live);
	int top = lua_gettop(L), line = 0;
	lua_Debug ar;
	plugin_push_decl(live);
	lua_pushliteral(L, "on");
	if (lua_rawget(L, -2) == LUA_TTABLE) {
		lua_pushstring(L, kind);
		if (lua_rawget(L, -2) == LUA_TFUNCTION && lua_getinfo(L, ">S", &ar))
			line = ar.linedefined;
	}
	lua_settop(L, top);
	return line;
}

/* ---- the run's matches, read-only --------------------------------------------------- */

static const char cache_key = 0; /* registry[&cache_key] = {[match id] = read-only match} */

/* Adds the request's matches to the cache (a new one when fresh). stack: args at `args`. */
static void
cache_matches(lua_State *L, int args)
{
	lua_getfield(L, args, "fresh");
	int fresh = lua_toboolean(L, -1);
	lua_pop(L, 1);
	if (fresh || lua_rawgetp(L, LUA_REGISTRYINDEX, &cache_key) != LUA_TTABLE) {
		if (!fresh)
			lua_pop(L, 1);
		lua_newtable(L);
		lua_pushvalue(L, -1);
		lua_rawsetp(L, LUA_REGISTRYINDEX, &cache_key);
	}
	int cache = lua_gettop(L);
	if (lua_getfield(L, args, "matches") == LUA_TTABLE) {
		lua_pushnil(L);
		while (lua_next(L, -2)) { /* stack: ..., matches, id, match */
			if (lua_type(L, -1) == LUA_TTABLE) {
				plugin_sandbox_readonly_deep(L, -1, "ev.match");
				lua_pushvalue(L, -3);
				lua_insert(L, -2);
				lua_rawset(L, cache); /* cache[id] = proxy */
			}
			lua_pop(L, 1);
		}
	}
	lua_settop(L, cache);
}

/*
 * In = the marshalled {events = {...}, mref = {match id or 0 per event}, matches = {[id]
 * = match}, ctxs = {[program or ""] = ctx}, fresh}. Each event's ev.match is the run's
 * read-only copy of its match (kept in the worker: sent once). For each event, its
 * handler's checked result is appended to out; the first failure is appended and ends
 * the batch (the op itself succeeds: the host applies what came before).
 */
int
dispatch__op(struct plugin *live, const char *hook, const char *in, size_t n, struct buf *out,
	    struct diag *d)
{
	(void)hook;
	lua_State *L = plugin_state(live);
	int top = lua_gettop(L);
	if (marshal_push(L, in, n, NULL, NULL, d) != 0)
		return -1;
	int args = lua_gettop(L);
	/* ctx.rule: this rule's name (the host's request is the same for every rule) */
	if (lua_getfield(L, args, "ctxs") == LUA_TTABLE) {
		lua_pushnil(L);
		while (lua_next(L, -2)) {
			if (lua_type(L, -1) == LUA_TTABLE) {
				lua_pushstring(L, plugin_name(live));
				lua_setfield(L, -2, "rule");
			}
			lua_pop(L, 1);
		}
	}
	lua_pop(L, 1);
	cache_matches(L, args);
	lua_getfield(L, args, "events");
	lua_getfield(L, args, "ctxs");
	lua_getfield(L, args, "mref"); /* stack: args, cache, events, ctxs, mref */
	int cache = args + 1, events = args + 2, ctxs = args + 3, mref = args + 4, rc = 0;
	lua_Integer count = (lua_Integer)lua_rawlen(L, events);
	for (lua_Integer i = 1; rc == 0 && i <= count; i++) {
		lua_rawgeti(L, events, i); /* stack: ..., ev */
		lua_rawgeti(L, mref, i);
		lua_Integer m = lua_tointeger(L, -1);
		lua_pop(L, 1);
		if (m > 0) {
			if (lua_rawgeti(L, cache, m) != LUA_TTABLE) {
				char msg[160];
				snprintf(msg, sizeof(msg),
					 "the rule's worker lost match %lld (was it restarted?): "
					 "dispatch again", (long long)m);
				lua_settop(L, top);
				return pack_failure(msg, out, d);
			}
			lua_setfield(L, -2, "match");
		}
		lua_getfield(L, -1, "kind");
		char kind[128], name[160];
		snprintf(kind, sizeof(kind), "%s", lua_tostring(L, -1) ? lua_tostring(L, -1) : "");
		lua_pop(L, 1);
		snprintf(name, sizeof(name), "on[\"%s\"]", kind);
		if (lua_getfield(L, -1, "program") != LUA_TSTRING) {
			lua_pop(L, 1);
			lua_pushliteral(L, "");
		}
		if (lua_rawget(L, ctxs) != LUA_TTABLE) { /* a program tandem.lua does not declare */
			lua_pop(L, 1);
			lua_pushliteral(L, "");
			lua_rawget(L, ctxs);
		} /* stack: ..., ev, ctx */
		struct diag hd;
		diag_clear(&hd);
		if (plugin_call(live, name, 2, 1, &hd) != 0) {
			rc = pack_failure(hd.msg, out, d);
			break;
		}
		struct reward_out *v;
		size_t nv;
		if (reward_out_read(L, -1, &v, &nv, &hd) != 0) {
			char msg[DIAG_MSG_MAX + 700];
			int line = handler_line(live, kind);
			snprintf(msg, sizeof(msg), "%s:%d: %s (in hook %s)", plugin_path(live), line,
				 hd.msg, name);
			lua_pop(L, 1);
			rc = pack_failure(msg, out, d);
			break;
		}
		lua_pop(L, 1);
		rc = pack_entries(v, nv, out, d);
		free(v);
	}
	lua_settop(L, top);
	return rc;
}
