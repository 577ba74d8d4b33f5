/*
 * rewards/dispatch: the event log delivered to reward rules (see dispatch.h).
 *
 * Every rule's worker is started first (a fork is cheap while this process is small).
 * Then, rule by rule, the host reads a batch of events, builds each event's table
 * (payload decoded) in a scratch Lua state of its own, and marshals {events, mref,
 * matches, ctxs, fresh} to the rule's worker: mref names each event's match, and
 * `matches` holds only the matches this worker has not been sent yet in the run (a match
 * with its sessions and visible ratings is built once per run and sent once per rule; the
 * worker keeps them read-only, see dispatch_worker.c). There dispatch__op calls
 * on[KIND](ev, ctx) per event and reads each result with lua/reward_out; only checked
 * entries come back, packed (struct packed + strings), and the first failure ends the
 * batch with its message. The host then applies the batch's entries in one transaction
 * level with the cursor (dispatch_apply.c). Pipelined: once batch k's reply is in, batch
 * k+1 is read and sent (dispatch_lane.c) before batch k is written, so the worker runs
 * the handlers while the host writes; a batch after one that stopped the rule is dropped.
 *
 * The rules are a dispatcher's (see dispatch.h): discovered and started once, kept for
 * the service's life; rewards_dispatch makes one for its call.
 */
#include "rewards/dispatch.h"
#include "rewards/dispatch_internal.h"

#include <lauxlib.h>
#include <lualib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/crash.h"
#include "lua/marshal.h"
#include "lua/plugin.h"
#include "lua/registry.h"
#include "lua/reward_out.h"
#include "lua/shape.h"
#include "program/session_reveal.h"
#include "rewards/ledger.h"
#include "store/stmt.h"


/* ---- building the events' tables (host, scratch state) ---------------------------------- */


static void
set_text(lua_State *L, struct stmt *s, int col, const char *field)
{
	const char *t = NULL;
	if (!stmt_is_null(s, col) && stmt_text(s, col, &t, NULL) == 0 && t != NULL) {
		lua_pushstring(L, t);
		lua_setfield(L, -2, field);
	}
}

static void
set_int(lua_State *L, struct stmt *s, int col, const char *field)
{
	if (!stmt_is_null(s, col)) {
		lua_pushinteger(L, (lua_Integer)stmt_int64(s, col));
		lua_setfield(L, -2, field);
	}
}

/* Pushes the table of match `id` (cached), or nil if it is gone. */
static int
push_match(struct run *r, int64_t id, struct diag *d)
{
	lua_State *L = r->L;
	lua_getfield(L, LUA_REGISTRYINDEX, "matches");
	if (lua_rawgeti(L, -1, id) != LUA_TNIL) {
		lua_remove(L, -2);
		return 0;
	}
	lua_pop(L, 1); /* stack: cache */
	int rc = stmt_bind_int64(&r->match, 1, id, d) ? -1 : stmt_step(&r->match, d);
	if (rc != STMT_ROW) {
		if (rc >= 0)
			rc = stmt_reset(&r->match, d);
		lua_pop(L, 1);
		lua_pushnil(L);
		return rc < 0 ? -1 : 0;
	}
	lua_createtable(L, 0, 8);
	lua_pushinteger(L, (lua_Integer)id);
	lua_setfield(L, -2, "id");
	set_int(L, &r->match, 0, "mentor_id");
	set_int(L, &r->match, 1, "mentee_id");
	set_text(L, &r->match, 2, "status");
	set_text(L, &r->match, 3, "end_reason");
	set_text(L, &r->match, 4, "activated_at");
	set_text(L, &r->match, 5, "ended_at");
	if (stmt_reset(&r->match, d) != 0)
		return -1;
	/* sessions, oldest first */
	lua_newtable(L);
	rc = stmt_bind_int64(&r->sessions, 1, id, d) ? -1 : 0;
	lua_Integer k = 0;
	while (rc == 0 && (rc = stmt_step(&r->sessions, d)) == STMT_ROW) {
		lua_createtable(L, 0, 4);
		set_int(L, &r->sessions, 0, "id");
		set_text(L, &r->sessions, 1, "starts_at");
		set_text(L, &r->sessions, 2, "status");
		set_text(L, &r->sessions, 3, "status_at");
		lua_rawseti(L, -2, ++k);
		rc = 0;
	}
	if (rc < 0 || stmt_reset(&r->sessions, d) != 0)
		return -1;
	lua_setfield(L, -2, "sessions");
	/* ratings visible under the hidden-until-both-rated rule */
	lua_newtable(L);
	rc = stmt_bind_int64(&r->ratings, 1, id, d) || stmt_bind_int64(&r->ratings, 2, r->now, d)
		 ? -1
		 : 0;
	k = 0;
	while (rc == 0 && (rc = stmt_step(&r->ratings, d)) == STMT_ROW) {
		lua_createtable(L, 0, 3);
		set_int(L, &r->ratings, 0, "session");
		set_text(L, &r->ratings, 1, "by");
		set_int(L, &r->ratings, 2, "rating");
		lua_rawseti(L, -2, ++k);
		rc = 0;
	}
	if (rc < 0 || stmt_reset(&r->ratings, d) != 0)
		return -1;
	lua_setfield(L, -2, "ratings");
	lua_pushvalue(L, -1);
	lua_rawseti(L, -3, id); /* cache[id] = match */
	lua_remove(L, -2);
	return 0;
}

/* The match an event is about: payload.match or payload.match_id. */
static int64_t
payload_match(json_t *p)
{
	json_t *m = json_object_get(p, "match");
	if (!json_is_integer(m))
		m = json_object_get(p, "match_id");
	return json_is_integer(m) ? (int64_t)json_integer_value(m) : 0;
}

/* Pushes the ev table of the current row of r->ev (without its match: *match is the id of
 * the match the event is about, 0 none). */
static int
push_event(struct run *r, int64_t *id, int64_t *match, struct diag *d)
{
	lua_State *L = r->L;
	struct stmt *s = &r->ev;
	*id = stmt_int64(s, 0);
	lua_createtable(L, 0, 10);
	set_int(L, s, 0, "id");
	set_text(L, s, 1, "kind");
	set_text(L, s, 2, "at");
	set_text(L, s, 3, "actor");
	set_int(L, s, 4, "subject_id");
	set_int(L, s, 5, "program_id");
	set_text(L, s, 6, "program");
	const char *text = NULL;
	if (stmt_text(s, 7, &text, d) != 0)
		return -1;
	json_t *p = text ? json_loads(text, 0, NULL) : NULL;
	if (p != NULL)
		shape_push_json(L, p);
	else
		lua_newtable(L);
	lua_setfield(L, -2, "payload");
	*match = p ? payload_match(p) : 0;
	json_decref(p);
	return 0;
}

/*
 * Adds the match of an event at index n of the batch to the request: mref[n] = its id (0:
 * none or gone), and matches[id] = its table unless this rule's worker has it already
 * (registry "sent"). stack: request (at req).
 */
static int
add_match(struct run *r, int req, lua_Integer n, int64_t m, struct diag *d)
{
	lua_State *L = r->L;
	int64_t ref = 0;
	if (m > 0) {
		if (push_match(r, m, d) != 0)
			return -1;
		if (!lua_isnil(L, -1)) {
			ref = m;
			lua_getfield(L, LUA_REGISTRYINDEX, "sent");
			if (lua_rawgeti(L, -1, m) == LUA_TNIL) { /* stack: match, sent, nil */
				lua_pushboolean(L, 1);
				lua_rawseti(L, -3, m);
				lua_getfield(L, req, "matches");
				lua_pushvalue(L, -4);
				lua_rawseti(L, -2, m);
				lua_pop(L, 1);
				/* the tables the worker keeps: match, sessions, ratings and theirs */
				lua_getfield(L, -3, "sessions");
				lua_getfield(L, -4, "ratings");
				r->sent_tables += 3 + (int64_t)lua_rawlen(L, -1) + (int64_t)lua_rawlen(L, -2);
				lua_pop(L, 2);
			}
			lua_pop(L, 2);
		}
		lua_pop(L, 1);
	}
	lua_getfield(L, req, "mref");
	lua_pushinteger(L, (lua_Integer)ref);
	lua_rawseti(L, -2, n);
	lua_pop(L, 1);
	return 0;
}

/* ctxs = {[""] = ctx, [program] = ctx with program = {...}}; the worker adds ctx.rule (so
 * a request is the same for every rule: dispatch_cache.c). */
static void
push_ctxs(struct run *r)
{
	lua_State *L = r->L;
	const struct config *cfg = r->o->cfg;
	int n = cfg ? cfg->nprograms : 0;
	lua_createtable(L, 0, n + 1);
	for (int i = -1; i < n; i++) {
		lua_createtable(L, 0, 5);
		lua_pushinteger(L, (lua_Integer)r->now);
		lua_setfield(L, -2, "now");
		lua_pushstring(L, r->now_iso);
		lua_setfield(L, -2, "now_iso");
		lua_pushstring(L, cfg && cfg->timezone ? cfg->timezone : "UTC");
		lua_setfield(L, -2, "timezone");
		if (i >= 0) {
			const struct config_program *p = &cfg->programs[i];
			lua_createtable(L, 0, 4);
			lua_pushstring(L, p->name);
			lua_setfield(L, -2, "name");
			if (p->title) {
				lua_pushstring(L, p->title);
				lua_setfield(L, -2, "title");
			}
			if (p->starts) {
				lua_pushstring(L, p->starts);
				lua_setfield(L, -2, "starts_on");
			}
			if (p->ends) {
				lua_pushstring(L, p->ends);
				lua_setfield(L, -2, "ends_on");
			}
			lua_setfield(L, -2, "program");
		}
		lua_setfield(L, -2, i >= 0 ? cfg->programs[i].name : "");
	}
}

/* ---- statements ----------------------------------------------------------------------- */

static const char ev_sql[] =
	"SELECT e.id, e.kind, e.at, e.actor, e.subject_id, e.program_id, p.name, e.payload "
	"FROM events e LEFT JOIN programs p ON p.id = e.program_id "
	"WHERE e.id > ?1 AND e.id <= ?2 AND e.kind IN (SELECT value FROM json_each(?3)) "
	"ORDER BY e.id LIMIT ?4";
static const char match_sql[] =
	"SELECT mentor_id, mentee_id, status, end_reason, activated_at, ended_at FROM matches "
	"WHERE id = ?1";
static const char sessions_sql[] =
	"SELECT id, starts_at, status, updated_at FROM sessions WHERE match_id = ?1 "
	"ORDER BY starts_at, id";
/* The ratings visible at ?2 under the hidden-until-both-rated rule. */
static const char ratings_sql[] =
	"SELECT f.session_id, CASE WHEN f.author_id = m.mentor_id THEN 'mentor' ELSE 'mentee' "
	"END, f.rating FROM feedback f JOIN matches m ON m.id = f.match_id "
	"JOIN sessions s ON s.id = f.session_id "
	"LEFT JOIN feedback fr ON fr.session_id = s.id AND fr.author_id = m.mentor_id "
	"LEFT JOIN feedback fe ON fe.session_id = s.id AND fe.author_id = m.mentee_id "
	"WHERE f.match_id = ?1 AND f.rating IS NOT NULL AND "
	SESSION_REVEALED_SQL("s", "fr", "fe", "?2") " ORDER BY s.starts_at, f.id";

static int
run_init(struct run *r, struct store *st, const struct dispatch_opts *o, time_t now,
	 struct diag *d)
{
	memset(r, 0, sizeof(*r));
	r->st = st;
	r->o = o;
	r->now = now;
	if (store_format_time(now, r->now_iso) != 0)
		return diag_set(d, DIAG_INVALID, "dispatch: the time is out of range");
	r->L = luaL_newstate();
	if (r->L == NULL)
		return diag_set(d, DIAG_NOMEM, "out of memory starting dispatch");
	lua_newtable(r->L);
	lua_setfield(r->L, LUA_REGISTRYINDEX, "matches");
	if (stmt_prepare(&r->ev, st, "reading events to dispatch", ev_sql, d) ||
	    stmt_prepare(&r->match, st, "reading an event's match", match_sql, d) ||
	    stmt_prepare(&r->sessions, st, "reading a match's sessions", sessions_sql, d) ||
	    stmt_prepare(&r->ratings, st, "reading a match's ratings", ratings_sql, d) ||
	    stmt_prepare(&r->cursor_get, st, "reading a rule's cursor",
			 "SELECT event_id FROM hook_cursors WHERE plugin = ?1", d))
		return -1;
	return stmt_query_int64(st, "finding the last event", "SELECT coalesce(max(id), 0) FROM events",
				&r->hi, d);
}

static void
run_fini(struct run *r)
{
	stmt_finalize(&r->ev);
	stmt_finalize(&r->match);
	stmt_finalize(&r->sessions);
	stmt_finalize(&r->ratings);
	stmt_finalize(&r->cursor_get);
	dispatch__cache_fini(&r->cache);
	if (r->L)
		lua_close(r->L);
}

/* ---- one rule ------------------------------------------------------------------------- */

/* The rule's event kinds as a JSON array text (from the declaration, as data). */
static char *
rule_kinds(struct plugin *p)
{
	lua_State *L = plugin_state(p);
	int top = lua_gettop(L);
	json_t *a = json_array();
	plugin_push_decl(p);
	lua_pushliteral(L, "on");
	if (lua_rawget(L, -2) == LUA_TTABLE) {
		lua_pushnil(L);
		while (lua_next(L, -2)) {
			if (lua_type(L, -2) == LUA_TSTRING)
				json_array_append_new(a, json_string(lua_tostring(L, -2)));
			lua_pop(L, 1);
		}
	}
	lua_settop(L, top);
	char *s = json_dumps(a, JSON_COMPACT);
	json_decref(a);
	return s;
}


/* Loads a rule (its worker starts now: see rewards_dispatch); NULL with rule->error. */
static struct plugin *
rule_load(const char *path, const char *name, struct dispatch_rule *rule)
{
	snprintf(rule->name, sizeof(rule->name), "%s", name);
	snprintf(rule->path, sizeof(rule->path), "%s", path);
	struct diag ld;
	diag_clear(&ld);
	struct plugin *p = plugin_load(NULL, path, NULL, &ld);
	if (p == NULL || plugin_kind(p) != PLUGIN_REWARD) {
		snprintf(rule->error, sizeof(rule->error), "%s", p ? "not a reward rule" : ld.msg);
		plugin_delete(p);
		return NULL;
	}
	return p;
}

/*
 * Reads the batch after `from` (at most `max` events of the rule's kinds up to r->hi) into
 * b and marshals its request {events, mref, matches, ctxs, fresh} into req: the worker
 * keeps the matches it was sent in this run (see dispatch_worker.c), so each is sent
 * once, unless its cache grew past DISPATCH_CACHE_TABLES. b->n 0: nothing more.
 */
static int
read_batch(struct run *r, int64_t from, int max, struct batch *b,
	   struct buf *req, struct diag *d)
{
	lua_State *L = r->L;
	lua_settop(L, 0);
	int64_t sent_before = r->sent_tables;
	int fresh = r->sent_tables == 0 || r->sent_tables > DISPATCH_CACHE_TABLES;
	if (fresh) {
		lua_newtable(L);
		lua_setfield(L, LUA_REGISTRYINDEX, "sent");
		r->sent_tables = 0;
	}
	/* Another rule's request for the same batch (dispatch_cache.c), while every batch of
	 * this rule so far was one of the same chain. */
	if (!r->cache_off && (r->pos == 0 || r->chain != 0)) {
		int64_t after = 0;
		int hit = dispatch__cache_get(&r->cache, &r->chain, r->pos, from, r->kinds, max,
					      sent_before, b, req, &after, d);
		if (hit < 0)
			return -1;
		if (hit) {
			r->sent_tables = after;
			r->pos++;
			return 0;
		}
		r->cache_off = r->chain != 0; /* its worker's cache is no longer the chain's */
	}
	lua_createtable(L, 0, 5);
	lua_createtable(L, max, 0);
	lua_setfield(L, 1, "mref");
	lua_newtable(L);
	lua_setfield(L, 1, "matches");
	lua_createtable(L, max, 0);
	b->n = 0;
	int rc = stmt_bind_int64(&r->ev, 1, from, d) || stmt_bind_int64(&r->ev, 2, r->hi, d) ||
			 stmt_bind_text(&r->ev, 3, r->kinds, d) || stmt_bind_int64(&r->ev, 4, max, d)
		     ? -1
		     : 0;
	while (rc == 0 && (rc = stmt_step(&r->ev, d)) == STMT_ROW) {
		int64_t m = 0;
		b->programs[b->n] = stmt_is_null(&r->ev, 5) ? 0 : stmt_int64(&r->ev, 5);
		rc = push_event(r, &b->ids[b->n], &m, d);
		if (rc == 0) {
			lua_rawseti(L, -2, (lua_Integer)++b->n);
			rc = add_match(r, 1, (lua_Integer)b->n, m, d);
		}
	}
	if (rc < 0 || stmt_reset(&r->ev, d) != 0) {
		lua_settop(L, 0);
		return -1;
	}
	lua_setfield(L, 1, "events");
	if (b->n == 0) {
		lua_settop(L, 0);
		return 0;
	}
	/* "fresh" is set now: a batch that read no match must not clear the worker's cache
	 * unless this one started it. */
	lua_pushboolean(L, fresh);
	lua_setfield(L, 1, "fresh");
	push_ctxs(r);
	lua_setfield(L, 1, "ctxs");
	buf_reset(req);
	rc = marshal_encode(L, 1, 0, "the events of a dispatch", req, d);
	lua_settop(L, 0);
	if (rc == 0 && r->chain == 0) /* this rule built every request so far: a chain */
		dispatch__cache_put(&r->cache, r->rules_run, r->pos, from, r->kinds, max,
				    sent_before, b, req, r->sent_tables);
	r->pos++;
	return rc;
}

/* The cursor moved past what the rule skipped (nothing for it up to hi); also writes a new
 * rule's first row. */
static int
cursor_to_hi(struct run *r, const char *name, int64_t cursor, struct dispatch_rule *rule,
	     struct diag *d)
{
	if (cursor >= r->hi)
		return 0;
	if (store_begin(r->st, d) || dispatch__cursor_set(r, name, r->hi, 0, NULL, d) ||
	    store_commit(r->st, d)) {
		store_rollback(r->st);
		return -1;
	}
	rule->cursor = r->hi;
	return 0;
}

/*
 * Delivers the events after its cursor to loaded rule p, pipelined: once batch k's reply
 * is in, batch k+1 (read from where batch k ends, as if it applies whole) is sent to the
 * worker before batch k is applied. When batch k stops the rule (or the cursor moved under
 * us), batch k+1's reply is dropped: nothing of it is applied.
 */
static int
dispatch_rule(struct run *r, struct plugin *p, const char *name, struct dispatch_rule *rule,
	      struct diag *d)
{
	char *kinds = rule_kinds(p);
	if (kinds == NULL)
		return diag_set(d, DIAG_NOMEM, "out of memory");
	r->kinds = kinds;
	r->sent_tables = 0; /* a new run: the worker's cache starts over */
	r->rules_run++;
	r->chain = r->pos = 0;
	r->cache_off = 0;
	struct ledger_writer w;
	if (ledger_writer_init(&w, r->st, d) != 0) {
		free(kinds);
		return -1;
	}
	int batch = r->o->batch > 0 ? r->o->batch : DISPATCH_BATCH, rc = 0;
	struct lane lanes[2], *cur = &lanes[0], *nxt = &lanes[1];
	rc = dispatch__lane_init(&lanes[0], p, batch, d);
	if (dispatch__lane_init(&lanes[1], p, batch, d) != 0)
		rc = -1;
	int64_t cursor = 0;
	if (rc == 0)
		rc = dispatch__cursor_of(r, name, &cursor, d);
	rule->cursor = dispatch__from(cursor);
	if (rc == 0)
		rc = read_batch(r, dispatch__from(cursor), batch, &cur->b, &cur->req, d);
	if (rc == 0 && cur->b.n == 0)
		rc = cursor_to_hi(r, name, cursor, rule, d);
	else if (rc == 0)
		dispatch__lane_send(cur);
	struct buf out;
	buf_init(&out);
	while (rc == 0 && cur->sent) {
		struct batch *b = &cur->b;
		struct diag hd;
		diag_clear(&hd);
		buf_reset(&out);
		if (dispatch__lane_wait(cur, &out, &hd) != 0) {
			/* The worker died (deadline, memory, crash): the rule stops at the batch. */
			snprintf(rule->error, sizeof(rule->error), "events %lld to %lld: %.900s",
				 (long long)b->ids[0], (long long)b->ids[b->n - 1], hd.msg);
			rule->stopped = 1;
			if (store_begin(r->st, d) ||
			    dispatch__cursor_set(r, name, dispatch__from(cursor), b->ids[0], rule->error,
						 d) ||
			    store_commit(r->st, d)) {
				store_rollback(r->st);
				rc = -1;
			}
			break;
		}
		crash_point("rewards.hooks_ran");
		int full = b->n == (size_t)batch;
		if (full) { /* the next batch to the worker while this one is written */
			rc = read_batch(r, b->ids[b->n - 1], batch, &nxt->b, &nxt->req, d);
			if (rc != 0)
				break;
			if (nxt->b.n > 0)
				dispatch__lane_send(nxt);
		}
		int stop = 0;
		int moved = dispatch__apply(r, &w, rule, cursor, b, full, &out, &stop, d);
		if (moved < 0) {
			rc = -1;
			break;
		}
		if (moved == 1) {
			snprintf(rule->error, sizeof(rule->error),
				 "another dispatch moved the cursor meanwhile; stopped for this run");
			break;
		}
		cursor = rule->cursor;
		if (stop || !full)
			break;
		if (nxt->b.n == 0) { /* nothing after this batch up to hi */
			rc = cursor_to_hi(r, name, cursor, rule, d);
			break;
		}
		struct lane *t = cur;
		cur = nxt;
		nxt = t;
	}
	buf_fini(&out);
	dispatch__lane_fini(&lanes[0]); /* drops a batch in flight */
	dispatch__lane_fini(&lanes[1]);
	lua_settop(r->L, 0);
	r->kinds = NULL;
	free(kinds);
	ledger_writer_fini(&w);
	return rc;
}

/* 1 when no rule with a cursor has an event of its kinds after it and none is stopped:
 * nothing to deliver, and no worker need start (the service asks at every wake). */
static int
all_caught_up(struct store *st, struct diag *d)
{
	int64_t behind = 0;
	if (stmt_query_int64(st, "checking the cursors",
			     "SELECT CASE WHEN count(*) = 0 THEN 1 ELSE (SELECT count(*) FROM "
			     "hook_cursors c WHERE c.stopped_at IS NOT NULL OR EXISTS (SELECT 1 "
			     "FROM json_each(c.kinds) k JOIN events e ON e.kind = k.value AND "
			     "e.id > c.event_id)) END FROM hook_cursors",
			     &behind, d) != 0)
		return -1;
	return behind <= 0;
}

/* ---- the dispatcher: the rules, loaded once -------------------------------------------- */

struct loaded_rule {
	struct plugin *p;          /* NULL: did not load (error says why) */
	struct dispatch_rule info; /* name, path and the load error */
};

struct dispatcher {
	char *ws, *only;
	int loaded, found;         /* found: `only` names a rule */
	int fresh;                 /* loaded since the last run: every rule gets a run */
	struct loaded_rule *v;
	int n;
};

struct dispatcher *
dispatcher_new(const char *ws, const char *only, struct diag *d)
{
	struct dispatcher *x = calloc(1, sizeof(*x));
	if (x == NULL || (ws && (x->ws = strdup(ws)) == NULL) ||
	    (only && (x->only = strdup(only)) == NULL)) {
		dispatcher_delete(x);
		diag_set(d, DIAG_NOMEM, "out of memory");
		return NULL;
	}
	return x;
}

void
dispatcher_reload(struct dispatcher *x)
{
	if (x == NULL)
		return;
	for (int i = 0; i < x->n; i++)
		plugin_delete(x->v[i].p);
	free(x->v);
	x->v = NULL;
	x->n = 0;
	x->loaded = x->found = x->fresh = 0;
}

void
dispatcher_delete(struct dispatcher *x)
{
	if (x == NULL)
		return;
	dispatcher_reload(x);
	free(x->ws);
	free(x->only);
	free(x);
}

/* Discovers the rules and starts their workers. Every worker starts before any event is
 * read, while this process is small: a worker is a fork, and a fork of a process holding
 * the run's tables and page cache copied its page tables, then every page the host wrote
 * while the worker lived (copy on write). */
static int
dispatcher_load(struct dispatcher *x, struct diag *d)
{
	struct plugin_list l = {0};
	if (plugin_discover(NULL, x->ws, PLUGIN_REWARD, NULL, &l, d) != 0)
		return -1;
	x->v = calloc((size_t)(l.n ? l.n : 1), sizeof(*x->v));
	if (x->v == NULL) {
		plugin_list_fini(&l);
		return diag_set(d, DIAG_NOMEM, "out of memory");
	}
	for (int i = 0; i < l.n; i++) {
		const struct plugin_entry *e = &l.v[i];
		if (e->shadowed || (x->only != NULL && strcmp(e->name, x->only) != 0))
			continue;
		x->found = 1;
		if (e->loaded && e->kind != PLUGIN_REWARD)
			continue;
		struct loaded_rule *lr = &x->v[x->n++];
		if (!e->loaded) {
			snprintf(lr->info.name, sizeof(lr->info.name), "%s", e->name);
			snprintf(lr->info.path, sizeof(lr->info.path), "%s", e->path);
			snprintf(lr->info.error, sizeof(lr->info.error), "%s",
				 e->error ? e->error : "not loaded");
		} else {
			lr->p = rule_load(e->path, e->name, &lr->info);
		}
	}
	plugin_list_fini(&l);
	x->loaded = x->fresh = 1;
	return 0;
}

int
dispatcher_refresh(struct dispatcher *x, struct diag *d)
{
	if (x == NULL || !x->loaded) {
		dispatcher_reload(x);
		return 0;
	}
	struct dispatcher nx = {.ws = x->ws, .only = x->only};
	if (dispatcher_load(&nx, d) != 0) {
		nx.ws = nx.only = NULL;
		dispatcher_reload(&nx);
		return diag_prefix(d, "reloading the reward rules (the loaded ones stay)");
	}
	/* A rule whose file no longer loads keeps its loaded version (its worker goes on). */
	int kept = 0;
	for (int i = 0; i < nx.n; i++) {
		struct loaded_rule *lr = &nx.v[i];
		if (lr->p != NULL)
			continue;
		for (int j = 0; j < x->n; j++) {
			struct loaded_rule *old = &x->v[j];
			if (old->p == NULL || (strcmp(old->info.name, lr->info.name) != 0 &&
					       strcmp(old->info.path, lr->info.path) != 0))
				continue;
			if (kept++ == 0)
				diag_set(d, DIAG_PLUGIN,
					 "reward rule '%s' keeps its loaded version: %s",
					 old->info.name, lr->info.error);
			lr->p = old->p;
			lr->info = old->info;
			old->p = NULL;
			break;
		}
	}
	if (kept > 1)
		diag_prefix(d, "%d reward rules keep their loaded version; the first", kept);
	dispatcher_reload(x);
	x->v = nx.v;
	x->n = nx.n;
	x->found = nx.found;
	x->loaded = x->fresh = 1;
	return kept > 0 ? 1 : 0;
}

int
dispatcher_run(struct dispatcher *x, struct store *st, const struct dispatch_opts *o, time_t now,
	       struct dispatch_result *res, struct diag *d)
{
	memset(res, 0, sizeof(*res));
	/* The shortcut needs the rules known: rules just (re)loaded may include one without a
	 * cursor yet (added, or listening to a new kind), which all_caught_up cannot see. */
	if (x->only == NULL && !o->force && x->loaded && !x->fresh) {
		int up = all_caught_up(st, d);
		if (up != 0)
			return up < 0 ? -1 : 0;
	}
	if (!x->loaded && dispatcher_load(x, d) != 0) {
		dispatcher_reload(x); /* what loaded is let go: the next run starts over */
		return -1;
	}
	res->rules = calloc((size_t)(x->n ? x->n : 1), sizeof(*res->rules));
	if (res->rules == NULL)
		return diag_set(d, DIAG_NOMEM, "out of memory");
	res->nrules = x->n;
	x->fresh = 0;
	struct run r;
	int rc = run_init(&r, st, o, now, d);
	for (int i = 0; i < x->n; i++) {
		struct dispatch_rule *rule = &res->rules[i];
		*rule = x->v[i].info;
		if (rc == 0 && x->v[i].p != NULL)
			rc = dispatch_rule(&r, x->v[i].p, rule->name, rule, d);
		res->delivered += rule->delivered;
		res->granted += rule->granted;
		res->revoked += rule->revoked;
		res->failed += rule->error[0] != '\0';
	}
	run_fini(&r);
	if (rc == 0 && x->only != NULL && !x->found)
		rc = diag_set(d, DIAG_NOTFOUND, "no reward rule named '%s'", x->only);
	return rc;
}

int
rewards_dispatch(struct store *st, const struct dispatch_opts *o, time_t now,
		 struct dispatch_result *res, struct diag *d)
{
	memset(res, 0, sizeof(*res));
	struct dispatcher *x = dispatcher_new(o->ws, o->only, d);
	if (x == NULL)
		return -1;
	int rc = dispatcher_run(x, st, o, now, res, d);
	dispatcher_delete(x);
	return rc;
}

void
dispatch_result_fini(struct dispatch_result *r)
{
	free(r->rules);
	memset(r, 0, sizeof(*r));
}
