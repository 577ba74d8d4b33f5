/*
 * rewards/dispatch: the event log delivered to reward rules (see dispatch.h).
 *
 * The host side reads a batch of events, builds each event's table (payload decoded, the
 * match it is about with its sessions and visible ratings, cached per match for the run)
 * in a scratch Lua state of its own, and marshals {events, ctxs} to the rule's worker.
 * There dispatch__op (dispatch_worker.c) calls on[KIND](ev, ctx) per event and reads each result with
 * lua/reward_out; only checked entries come back, packed (struct packed + strings), and
 * the first failure ends the batch with its message. The host then applies the entries in
 * one transaction level with the cursor (apply_batch).
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
#include "rewards/ledger.h"
#include "store/stmt.h"

/* The days after a session's end when its ratings become visible to all even if only one
 * side rated: sched/session.h's SESSION_REVEAL_DAYS (sched sits above this layer; the
 * unit test checks the two agree). */
enum { DISPATCH_REVEAL_DAYS = 7 };

/* ---- building the events' tables (host, scratch state) ---------------------------------- */

struct run {
	struct store *st;
	const struct dispatch_opts *o;
	time_t now;
	char now_iso[STORE_TIME_MAX];
	lua_State *L;  /* scratch: arguments; registry["matches"] caches match tables */
	struct stmt ev, match, sessions, ratings, cursor_get;
	int64_t hi;    /* the last event id when the run started */
	const char *kinds; /* the current rule's kinds (JSON array text) */
};

static void
push_json(lua_State *L, json_t *v, int depth)
{
	if (depth > 20) {
		lua_pushnil(L);
		return;
	}
	switch (json_typeof(v)) {
	case JSON_OBJECT: {
		lua_createtable(L, 0, (int)json_object_size(v));
		const char *k;
		json_t *x;
		json_object_foreach(v, k, x)
		{
			push_json(L, x, depth + 1);
			lua_setfield(L, -2, k);
		}
		break;
	}
	case JSON_ARRAY: {
		lua_createtable(L, (int)json_array_size(v), 0);
		size_t i;
		json_t *x;
		json_array_foreach(v, i, x)
		{
			push_json(L, x, depth + 1);
			lua_rawseti(L, -2, (lua_Integer)i + 1);
		}
		break;
	}
	case JSON_STRING:
		lua_pushlstring(L, json_string_value(v), json_string_length(v));
		break;
	case JSON_INTEGER:
		lua_pushinteger(L, (lua_Integer)json_integer_value(v));
		break;
	case JSON_REAL:
		lua_pushnumber(L, json_real_value(v));
		break;
	case JSON_TRUE:
	case JSON_FALSE:
		lua_pushboolean(L, json_is_true(v));
		break;
	default:
		lua_pushnil(L);
	}
}

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
		lua_createtable(L, 0, 3);
		set_int(L, &r->sessions, 0, "id");
		set_text(L, &r->sessions, 1, "starts_at");
		set_text(L, &r->sessions, 2, "status");
		lua_rawseti(L, -2, ++k);
		rc = 0;
	}
	if (rc < 0 || stmt_reset(&r->sessions, d) != 0)
		return -1;
	lua_setfield(L, -2, "sessions");
	/* ratings visible under the hidden-until-both-rated rule */
	lua_newtable(L);
	rc = stmt_bind_int64(&r->ratings, 1, id, d) || stmt_bind_int64(&r->ratings, 2, r->now, d) ||
		     stmt_bind_int64(&r->ratings, 3, DISPATCH_REVEAL_DAYS * 86400, d)
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

/* Pushes the ev table of the current row of r->ev. */
static int
push_event(struct run *r, int64_t *id, struct diag *d)
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
		push_json(L, p, 0);
	else
		lua_newtable(L);
	lua_setfield(L, -2, "payload");
	int64_t m = p ? payload_match(p) : 0;
	json_decref(p);
	if (m > 0) {
		if (push_match(r, m, d) != 0)
			return -1;
		lua_setfield(L, -2, "match");
	}
	return 0;
}

/* ctxs = {[""] = ctx, [program] = ctx with program = {...}}, for the rule named rule. */
static void
push_ctxs(struct run *r, const char *rule)
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
		lua_pushstring(L, rule);
		lua_setfield(L, -2, "rule");
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
	"SELECT id, starts_at, status FROM sessions WHERE match_id = ?1 ORDER BY starts_at, id";
static const char ratings_sql[] =
	"SELECT f.session_id, CASE WHEN f.author_id = m.mentor_id THEN 'mentor' ELSE 'mentee' "
	"END, f.rating FROM feedback f JOIN matches m ON m.id = f.match_id "
	"JOIN sessions s ON s.id = f.session_id "
	"WHERE f.match_id = ?1 AND f.rating IS NOT NULL AND ("
	" (SELECT count(*) FROM feedback o WHERE o.session_id = f.session_id"
	"  AND o.rating IS NOT NULL) >= 2"
	" OR CAST(strftime('%s', s.starts_at) AS INTEGER) + s.duration_min * 60 + ?3 <= ?2) "
	"ORDER BY s.starts_at, f.id";

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
	if (r->L)
		lua_close(r->L);
}

static int
cursor_of(struct run *r, const char *rule, int64_t *cursor, struct diag *d)
{
	*cursor = -1; /* no row yet: a new rule, which starts at 0 */
	int rc = stmt_bind_text(&r->cursor_get, 1, rule, d) ? -1 : stmt_step(&r->cursor_get, d);
	if (rc == STMT_ROW)
		*cursor = stmt_int64(&r->cursor_get, 0);
	if (rc < 0 || stmt_reset(&r->cursor_get, d) != 0)
		return -1;
	return 0;
}

/* The cursor to read from: a new rule's (-1) is 0. */
static int64_t
from(int64_t cursor)
{
	return cursor < 0 ? 0 : cursor;
}

static int
cursor_set(struct run *r, const char *rule, int64_t cursor, int64_t stopped, const char *error,
	   struct diag *d)
{
	const char *kinds = r->kinds;
	struct stmt s;
	int rc = stmt_prepare(&s, r->st, "moving a rule's cursor",
			      "INSERT INTO hook_cursors (plugin, event_id, stopped_at, error, "
			      "updated_at, kinds) VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT "
			      "(plugin) DO UPDATE SET event_id = excluded.event_id, stopped_at = "
			      "excluded.stopped_at, error = excluded.error, updated_at = "
			      "excluded.updated_at, kinds = excluded.kinds",
			      d) ||
			 stmt_bind_text(&s, 1, rule, d) || stmt_bind_int64(&s, 2, cursor, d) ||
			 (stopped ? stmt_bind_int64(&s, 3, stopped, d) : stmt_bind_null(&s, 3, d)) ||
			 stmt_bind_text(&s, 4, error, d) || stmt_bind_text(&s, 5, r->now_iso, d) ||
			 stmt_bind_text(&s, 6, kinds ? kinds : "[]", d) || stmt_run(&s, d)
		     ? -1
		     : 0;
	stmt_finalize(&s);
	return rc;
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

/* A batch as read: event ids in order. */
struct batch {
	int64_t *ids, *programs; /* event ids and their program ids (0: none) */
	size_t n, cap;
};

/*
 * Applies the reply `out` for the batch in one transaction level. *stop set when an event
 * failed (rule->error says why); *cursor receives the new cursor. Returns 0, 1 when the
 * cursor moved under us (nothing applied), -1 on a store failure.
 */
static int
apply_batch(struct run *r, struct ledger_writer *w, struct dispatch_rule *rule, int64_t expect,
	    const struct batch *b, int full, const struct buf *out, int *stop, struct diag *d)
{
	*stop = 0;
	if (store_begin(r->st, d) != 0)
		return -1;
	int64_t now_cursor;
	if (cursor_of(r, rule->name, &now_cursor, d) != 0)
		goto fail;
	if (now_cursor != expect) {
		store_rollback(r->st);
		return 1;
	}
	const char *p = out->data, *end = out->data + out->len;
	int64_t cursor = from(expect), stopped = 0;
	long delivered = 0, granted = 0, revoked = 0, repeated = 0;
	for (size_t i = 0; i < b->n; i++) {
		struct ev_head h;
		if (p == end) /* the worker answered for fewer events: a bug, stop safely */
			break;
		if ((size_t)(end - p) < sizeof(h))
			goto bad_reply;
		memcpy(&h, p, sizeof(h));
		p += sizeof(h);
		int64_t ev = b->ids[i];
		if (h.status != 0) {
			if ((size_t)(end - p) < h.n)
				goto bad_reply;
			snprintf(rule->error, sizeof(rule->error), "event %lld: %.*s", (long long)ev,
				 (int)(h.n < 3000 ? h.n : 3000), p);
			stopped = ev;
			break;
		}
		/* One savepoint per event: a bad entry undoes that event's earlier entries. */
		if (store_begin(r->st, d) != 0)
			goto fail;
		long g = 0, v = 0, rep = 0;
		for (uint32_t j = 0; j < h.n; j++) {
			struct packed e;
			if ((size_t)(end - p) < sizeof(e))
				goto bad_reply_inner;
			memcpy(&e, p, sizeof(e));
			p += sizeof(e);
			if ((size_t)(end - p) < (size_t)e.badge_len + e.reason_len + e.key_len)
				goto bad_reply_inner;
			char badge[REWARD_BADGE_MAX + 1], reason[REWARD_REASON_MAX + 1],
			    key[REWARD_KEY_MAX + 1], award[REWARD_KEY_MAX + 120];
			if (e.badge_len > REWARD_BADGE_MAX || e.reason_len > REWARD_REASON_MAX ||
			    e.key_len > REWARD_KEY_MAX)
				goto bad_reply_inner;
			memcpy(badge, p, e.badge_len);
			badge[e.badge_len] = '\0';
			p += e.badge_len;
			memcpy(reason, p, e.reason_len);
			reason[e.reason_len] = '\0';
			p += e.reason_len;
			memcpy(key, p, e.key_len);
			key[e.key_len] = '\0';
			p += e.key_len;
			struct diag ed;
			diag_clear(&ed);
			int rc, done = 0;
			if (e.revoke) {
				rc = ledger_revoke(r->st, key, reason, rule->name, ev, &done, &ed);
				v += done;
			} else {
				if (key[0] != '\0')
					snprintf(award, sizeof(award), "%s:%s", rule->name, key);
				else
					snprintf(award, sizeof(award), "%s:%lld:%u", rule->name,
						 (long long)ev, j + 1);
				/* The grant's program: the event's. */
				struct ledger_grant gr = {.key = award,
							  .person_id = e.person_id,
							  .program_id = 0,
							  .points = e.points,
							  .badge = badge[0] ? badge : NULL,
							  .reason = reason,
							  .plugin = rule->name,
							  .event_id = ev};
				gr.program_id = b->programs[i];
				rc = ledger_writer_grant(w, &gr, &done, &ed);
				g += done;
				rep += !done;
			}
			if (rc != 0) {
				if (ed.code != DIAG_NOTFOUND && ed.code != DIAG_INVALID) {
					*d = ed;
					store_rollback(r->st);
					goto fail;
				}
				snprintf(rule->error, sizeof(rule->error),
					 "%.400s: event %lld (%s): %s %u: %.500s", rule->path, (long long)ev,
					 "handler result", e.revoke ? "revocation" : "grant", j + 1,
					 ed.code == DIAG_NOTFOUND && !e.revoke
					     ? "field 'person_id': no such person"
					     : ed.msg);
				stopped = ev;
				break;
			}
		}
		if (stopped) {
			store_rollback(r->st);
			break;
		}
		if (store_commit(r->st, d) != 0)
			goto fail;
		granted += g;
		revoked += v;
		repeated += rep;
		delivered++;
		cursor = ev;
		continue;
	bad_reply_inner:
		store_rollback(r->st);
		goto bad_reply;
	}
	crash_point("rewards.applied");
	if (stopped == 0 && delivered == (long)b->n)
		cursor = full ? b->ids[b->n - 1] : r->hi;
	if (cursor_set(r, rule->name, cursor, stopped, stopped ? rule->error : NULL, d) != 0)
		goto fail;
	crash_point("rewards.before_commit");
	if (store_commit(r->st, d) != 0)
		return -1;
	crash_point("rewards.committed");
	rule->cursor = cursor;
	rule->delivered += delivered;
	rule->granted += granted;
	rule->revoked += revoked;
	rule->repeated += repeated;
	*stop = stopped != 0 || delivered < (long)b->n;
	rule->stopped = stopped != 0;
	return 0;
bad_reply:
	diag_set(d, DIAG_INTERNAL, "%s: a malformed reply from the rule's worker", rule->path);
fail:
	store_rollback(r->st);
	return -1;
}

static int
dispatch_rule(struct run *r, const char *path, const char *name, struct dispatch_rule *rule,
	      struct diag *d)
{
	snprintf(rule->name, sizeof(rule->name), "%s", name);
	snprintf(rule->path, sizeof(rule->path), "%s", path);
	struct diag ld;
	diag_clear(&ld);
	struct plugin *p = plugin_load(NULL, path, NULL, &ld);
	if (p == NULL || plugin_kind(p) != PLUGIN_REWARD) {
		snprintf(rule->error, sizeof(rule->error), "%s",
			 p ? "not a reward rule" : ld.msg);
		plugin_delete(p);
		return 0;
	}
	char *kinds = rule_kinds(p);
	r->kinds = kinds;
	struct ledger_writer w;
	struct batch b = {0};
	int batch = r->o->batch > 0 ? r->o->batch : DISPATCH_BATCH, rc = 0;
	if (kinds == NULL) {
		plugin_delete(p);
		return diag_set(d, DIAG_NOMEM, "out of memory");
	}
	if (ledger_writer_init(&w, r->st, d) != 0) {
		free(kinds);
		plugin_delete(p);
		return -1;
	}
	b.ids = malloc((size_t)batch * sizeof(*b.ids));
	b.programs = malloc((size_t)batch * sizeof(*b.programs));
	if (b.ids == NULL || b.programs == NULL)
		rc = diag_set(d, DIAG_NOMEM, "out of memory");
	int64_t cursor = 0;
	if (rc == 0)
		rc = cursor_of(r, name, &cursor, d);
	rule->cursor = from(cursor);
	lua_State *L = r->L;
	while (rc == 0) {
		/* Read a batch and build {events = {...}, ctxs = {...}}. */
		lua_settop(L, 0);
		lua_createtable(L, 0, 2);
		lua_createtable(L, batch, 0);
		b.n = 0;
		rc = stmt_bind_int64(&r->ev, 1, from(cursor), d) || stmt_bind_int64(&r->ev, 2, r->hi, d) ||
			     stmt_bind_text(&r->ev, 3, kinds, d) ||
			     stmt_bind_int64(&r->ev, 4, batch, d)
			 ? -1
			 : 0;
		while (rc == 0 && (rc = stmt_step(&r->ev, d)) == STMT_ROW) {
			b.programs[b.n] = stmt_is_null(&r->ev, 5) ? 0 : stmt_int64(&r->ev, 5);
			rc = push_event(r, &b.ids[b.n], d);
			if (rc == 0)
				lua_rawseti(L, -2, (lua_Integer)++b.n);
		}
		if (rc < 0 || stmt_reset(&r->ev, d) != 0) {
			rc = -1;
			break;
		}
		lua_setfield(L, -2, "events");
		push_ctxs(r, name);
		lua_setfield(L, -2, "ctxs");
		if (b.n == 0) {
			/* Nothing for this rule up to hi: move the cursor past what it skipped. */
			if (cursor < r->hi) { /* also writes a new rule's first row */
				rc = store_begin(r->st, d) || cursor_set(r, name, r->hi, 0, NULL, d)
					 ? -1
					 : store_commit(r->st, d);
				if (rc != 0)
					store_rollback(r->st);
				else
					rule->cursor = r->hi;
			}
			break;
		}
		struct buf req, out;
		buf_init(&req);
		buf_init(&out);
		rc = marshal_encode(L, 1, 0, "the events of a dispatch", &req, d);
		lua_settop(L, 0);
		struct diag hd;
		diag_clear(&hd);
		if (rc == 0 && plugin_exec(p, dispatch__op, "on", req.data, req.len,
					   plugin_limits(p)->batch_deadline_ms, &out, &hd) != 0) {
			/* The worker died (deadline, memory, crash): the rule stops at the batch. */
			snprintf(rule->error, sizeof(rule->error), "events %lld to %lld: %.900s",
				 (long long)b.ids[0], (long long)b.ids[b.n - 1], hd.msg);
			rule->stopped = 1;
			buf_fini(&req);
			buf_fini(&out);
			rc = store_begin(r->st, d) ||
				     cursor_set(r, name, from(cursor), b.ids[0], rule->error, d)
				 ? -1
				 : store_commit(r->st, d);
			if (rc != 0)
				store_rollback(r->st);
			break;
		}
		buf_fini(&req);
		if (rc != 0) {
			buf_fini(&out);
			break;
		}
		crash_point("rewards.hooks_ran");
		int stop = 0;
		int moved = apply_batch(r, &w, rule, cursor, &b, b.n == (size_t)batch, &out, &stop, d);
		buf_fini(&out);
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
		if (stop || b.n < (size_t)batch)
			break;
	}
	lua_settop(L, 0);
	free(b.ids);
	free(b.programs);
	r->kinds = NULL;
	free(kinds);
	ledger_writer_fini(&w);
	plugin_delete(p);
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

int
rewards_dispatch(struct store *st, const struct dispatch_opts *o, time_t now,
		 struct dispatch_result *res, struct diag *d)
{
	memset(res, 0, sizeof(*res));
	if (o->only == NULL && !o->force) {
		int up = all_caught_up(st, d);
		if (up != 0)
			return up < 0 ? -1 : 0;
	}
	struct plugin_list l = {0};
	if (plugin_discover(NULL, o->ws, PLUGIN_REWARD, NULL, &l, d) != 0)
		return -1;
	res->rules = calloc((size_t)(l.n ? l.n : 1), sizeof(*res->rules));
	if (res->rules == NULL) {
		plugin_list_fini(&l);
		return diag_set(d, DIAG_NOMEM, "out of memory");
	}
	struct run r;
	int rc = run_init(&r, st, o, now, d);
	int found = 0;
	for (int i = 0; rc == 0 && i < l.n; i++) {
		const struct plugin_entry *e = &l.v[i];
		if (e->shadowed || (o->only != NULL && strcmp(e->name, o->only) != 0))
			continue;
		found = 1;
		struct dispatch_rule *rule = &res->rules[res->nrules++];
		if (!e->loaded) {
			snprintf(rule->name, sizeof(rule->name), "%s", e->name);
			snprintf(rule->path, sizeof(rule->path), "%s", e->path);
			snprintf(rule->error, sizeof(rule->error), "%s", e->error ? e->error : "not loaded");
		} else if (e->kind == PLUGIN_REWARD) {
			rc = dispatch_rule(&r, e->path, e->name, rule, d);
		} else {
			res->nrules--;
			continue;
		}
		res->delivered += rule->delivered;
		res->granted += rule->granted;
		res->revoked += rule->revoked;
		res->failed += rule->error[0] != '\0';
	}
	run_fini(&r);
	plugin_list_fini(&l);
	if (rc == 0 && o->only != NULL && !found)
		rc = diag_set(d, DIAG_NOTFOUND, "no reward rule named '%s'", o->only);
	return rc;
}

void
dispatch_result_fini(struct dispatch_result *r)
{
	free(r->rules);
	memset(r, 0, sizeof(*r));
}
