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

/*
 * In = the marshalled {events = {...}, ctxs = {[program or ""] = ctx}}. For each event,
 * its handler's checked result is appended to out; the first failure is appended and ends
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
	lua_getfield(L, args, "events");
	lua_getfield(L, args, "ctxs"); /* stack: args, events, ctxs */
	int events = args + 1, ctxs = args + 2, rc = 0;
	lua_Integer count = (lua_Integer)lua_rawlen(L, events);
	for (lua_Integer i = 1; rc == 0 && i <= count; i++) {
		lua_rawgeti(L, events, i); /* stack: ..., ev */
		lua_getfield(L, -1, "kind");
		char kind[128], name[160];
		snprintf(kind, sizeof(kind), "%s", lua_tostring(L, -1) ? lua_tostring(L, -1) : "");
		lua_pop(L, 1);
		snprintf(name, sizeof(name), "on[\"%s\"]", kind);
		if (lua_getfield(L, -1, "program") != LUA_TSTRING) {
			lua_pop(L, 1);
			lua_pushliteral(L, "");
		}
		lua_rawget(L, ctxs); /* stack: ..., ev, ctx */
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
