/*
 * rewards/dispatch_read: the host reading a rule's next batch of events and marshalling its
 * request for the rule's worker (dispatch__read_batch, see dispatch_internal.h): each
 * event's table (payload decoded) built in the run's scratch Lua state, each match with
 * its sessions and visible ratings built once per run and sent once per rule's worker,
 * and a request another rule of the run built for the same batch sent again
 * (dispatch_cache.c).
 */
#include "rewards/dispatch_internal.h"

#include <lauxlib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lua/marshal.h"
#include "lua/shape.h"
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
	lua_createtable(L, 0, 10);
	lua_pushinteger(L, (lua_Integer)id);
	lua_setfield(L, -2, "id");
	set_int(L, &r->match, 0, "mentor_id");
	set_int(L, &r->match, 1, "mentee_id");
	set_text(L, &r->match, 2, "status");
	set_text(L, &r->match, 3, "end_reason");
	set_text(L, &r->match, 4, "activated_at");
	set_text(L, &r->match, 5, "ended_at");
	lua_pushboolean(L, stmt_int64(&r->match, 6) != 0);
	lua_setfield(L, -2, "completed");
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

/* Appends s as an SQL string literal. */
static int
put_literal(struct buf *o, const char *s)
{
	if (buf_putc(o, '\'', NULL) != 0)
		return -1;
	for (; *s; s++)
		if ((*s == '\'' && buf_putc(o, '\'', NULL) != 0) || buf_putc(o, *s, NULL) != 0)
			return -1;
	return buf_putc(o, '\'', NULL);
}

/*
 * The rule's events after ?1 up to ?2 in id order, at most ?3: one index range per kind
 * (events_kind is (kind, id)), merged by id under the LIMIT. A single `kind IN (...)` with
 * ORDER BY id made SQLite sort every event of the kinds up to hi for each batch: a run
 * over n events cost n^2/batch rows sorted (at 100,000 events, 10 us a row read).
 */
char *
dispatch__events_sql(const char *kinds)
{
	json_t *a = json_loads(kinds, 0, NULL);
	struct buf sql;
	buf_init(&sql);
	int rc = json_is_array(a) ? 0 : -1;
	if (rc == 0)
		rc = buf_puts(&sql,
			      "SELECT e.id, e.kind, e.at, e.actor, e.subject_id, e.program_id, p.name, "
			      "e.payload FROM events e LEFT JOIN programs p ON p.id = e.program_id "
			      "WHERE e.id IN (",
			      NULL);
	size_t n = json_array_size(a);
	for (size_t i = 0; rc == 0 && i < n; i++) {
		const char *k = json_string_value(json_array_get(a, i));
		if (k == NULL) {
			rc = -1;
			break;
		}
		rc = (i > 0 ? buf_puts(&sql, " UNION ALL ", NULL) : 0) ||
			     buf_puts(&sql, "SELECT id FROM events WHERE kind = ", NULL) ||
			     put_literal(&sql, k) ||
			     buf_puts(&sql, " AND id > ?1 AND id <= ?2", NULL)
			 ? -1
			 : 0;
	}
	if (rc == 0)
		rc = buf_puts(&sql, n ? " ORDER BY 1 LIMIT ?3) ORDER BY e.id" : "NULL) AND ?1 AND ?2 AND ?3",
			      NULL) ||
			     buf_putc(&sql, '\0', NULL)
			 ? -1
			 : 0;
	json_decref(a);
	if (rc != 0) {
		buf_fini(&sql);
		return NULL;
	}
	return sql.data;
}

/* Pushes the ev table of the current row of the rule's events (without its match: *match is the id of
 * the match the event is about, 0 none). */
static int
push_event(struct run *r, int64_t *id, int64_t *match, struct diag *d)
{
	lua_State *L = r->L;
	struct stmt *s = &r->cx->ev;
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
				r->cx->sent_tables +=
				    3 + (int64_t)lua_rawlen(L, -1) + (int64_t)lua_rawlen(L, -2);
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

/*
 * Reads the batch after `from` (at most `max` events of the rule's kinds up to r->hi) into
 * b and marshals its request {events, mref, matches, ctxs, fresh} into req: the worker
 * keeps the matches it was sent in this run (see dispatch_worker.c), so each is sent
 * once, unless its cache grew past DISPATCH_CACHE_TABLES. b->n 0: nothing more.
 */
int
dispatch__read_batch(struct run *r, int64_t from, int max, struct batch *b, struct buf *req,
		     struct diag *d)
{
	lua_State *L = r->L;
	lua_settop(L, 0);
	struct rule_ctx *cx = r->cx;
	int64_t sent_before = cx->sent_tables;
	int fresh = cx->sent_tables == 0 || cx->sent_tables > DISPATCH_CACHE_TABLES;
	/* registry "sent": this rule's (registry "sents"[seq]), new when fresh */
	lua_getfield(L, LUA_REGISTRYINDEX, "sents");
	if (fresh) {
		lua_newtable(L);
		lua_rawseti(L, -2, (lua_Integer)cx->seq);
		cx->sent_tables = 0;
	}
	lua_rawgeti(L, -1, (lua_Integer)cx->seq);
	lua_setfield(L, LUA_REGISTRYINDEX, "sent");
	lua_pop(L, 1);
	/* Another rule's request for the same batch (dispatch_cache.c), while every batch of
	 * this rule so far was one of the same chain. */
	if (!cx->cache_off && (cx->pos == 0 || cx->chain != 0)) {
		int64_t after = 0;
		int hit = dispatch__cache_get(&r->cache, &cx->chain, cx->pos, from, cx->kinds, max,
					      sent_before, b, req, &after, d);
		if (hit < 0)
			return -1;
		if (hit) {
			cx->sent_tables = after;
			cx->pos++;
			return 0;
		}
		cx->cache_off = cx->chain != 0; /* its worker's cache is no longer the chain's */
	}
	lua_createtable(L, 0, 5);
	lua_createtable(L, max, 0);
	lua_setfield(L, 1, "mref");
	lua_newtable(L);
	lua_setfield(L, 1, "matches");
	lua_createtable(L, max, 0);
	b->n = 0;
	struct stmt *ev = &cx->ev;
	int rc = stmt_bind_int64(ev, 1, from, d) || stmt_bind_int64(ev, 2, r->hi, d) ||
			 stmt_bind_int64(ev, 3, max, d)
		     ? -1
		     : 0;
	while (rc == 0 && (rc = stmt_step(ev, d)) == STMT_ROW) {
		int64_t m = 0;
		b->programs[b->n] = stmt_is_null(ev, 5) ? 0 : stmt_int64(ev, 5);
		rc = push_event(r, &b->ids[b->n], &m, d);
		if (rc == 0) {
			lua_rawseti(L, -2, (lua_Integer)++b->n);
			rc = add_match(r, 1, (lua_Integer)b->n, m, d);
		}
	}
	if (rc < 0 || stmt_reset(ev, d) != 0) {
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
	if (rc == 0 && cx->chain == 0) /* this rule built every request so far: a chain */
		dispatch__cache_put(&r->cache, cx->seq, cx->pos, from, cx->kinds, max, sent_before,
				    b, req, cx->sent_tables);
	cx->pos++;
	return rc;
}

