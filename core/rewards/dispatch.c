/*
 * rewards/dispatch: the event log delivered to reward rules (see dispatch.h).
 *
 * Every rule's worker is started first (a fork is cheap while this process is small).
 * Then the rules are stepped in turn, a batch each (struct rule_run): for each, the host
 * reads a batch of events (dispatch_read.c), builds each event's table (payload decoded)
 * in a scratch Lua state of its own, and marshals {events, mref,
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
 * In turn: while the host writes one rule's batch, the other rules' workers run theirs.
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
#include "program/match_completed.h"
#include "program/session_reveal.h"
#include "rewards/ledger.h"
#include "store/stmt.h"


/* ---- statements ----------------------------------------------------------------------- */

/* completed: program/match_completed.h, the definition the metrics funnel counts too. */
static const char match_sql[] =
	"SELECT mentor_id, mentee_id, status, end_reason, activated_at, ended_at, "
	MATCH_COMPLETED_SQL("m") " FROM matches m WHERE id = ?1";
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
	lua_newtable(r->L);
	lua_setfield(r->L, LUA_REGISTRYINDEX, "sents");
	if (stmt_prepare(&r->match, st, "reading an event's match", match_sql, d) ||
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
	stmt_finalize(&r->match);
	stmt_finalize(&r->sessions);
	stmt_finalize(&r->ratings);
	stmt_finalize(&r->cursor_get);
	dispatch__cache_fini(&r->cache);
	dispatch__scratch_fini(&r->scratch);
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
 * One rule's delivery in progress, kept between its steps: the run steps its rules in
 * turn (rule_step), so that while the host writes one rule's batch, the other rules'
 * workers compute theirs (each an independent process with its own cursor and its own
 * transactions). Run one rule after another, the host and the rules' workers took turns:
 * a run's wall time was about its CPU time on two cores.
 *
 * Per rule, pipelined as before: once batch k's reply is in, batch k+1 (read from where
 * batch k ends, as if it applies whole) is sent to the worker before batch k is applied.
 * When batch k stops the rule (or the cursor moved under us), batch k+1's reply is
 * dropped: nothing of it is applied.
 */
struct rule_run {
	struct rule_ctx ctx; /* what read_batch and the cursor use (r->cx while stepping) */
	struct plugin *p;
	const char *name;
	struct dispatch_rule *rule;
	char *kinds;
	struct ledger_writer w;
	struct lane lanes[2], *cur, *nxt;
	struct buf out;
	int64_t cursor;
	int batch;
	int active; /* a batch is in its worker: rule_step has work */
};

static void
rule_finish(struct run *r, struct rule_run *rr)
{
	buf_fini(&rr->out);
	dispatch__lane_fini(&rr->lanes[0]); /* drops a batch in flight */
	dispatch__lane_fini(&rr->lanes[1]);
	if (r->L != NULL) /* NULL when run_init failed: no rule started */
		lua_settop(r->L, 0);
	stmt_finalize(&rr->ctx.ev);
	free(rr->kinds);
	ledger_writer_fini(&rr->w);
	memset(rr, 0, sizeof(*rr));
}

/* Reads the rule's first batch and sends it (rr->active), or moves a cursor with nothing
 * after it to hi. rr is zeroed; rule_finish it whatever this returns. */
static int
rule_start(struct run *r, struct rule_run *rr, struct plugin *p, const char *name,
	   struct dispatch_rule *rule, struct diag *d)
{
	rr->p = p;
	rr->name = name;
	rr->rule = rule;
	buf_init(&rr->out);
	rr->cur = &rr->lanes[0];
	rr->nxt = &rr->lanes[1];
	rr->batch = r->o->batch > 0 ? r->o->batch : DISPATCH_BATCH;
	if ((rr->kinds = rule_kinds(p)) == NULL)
		return diag_set(d, DIAG_NOMEM, "out of memory");
	/* a new run: the worker's match cache starts over (sent_tables 0) */
	rr->ctx = (struct rule_ctx){.kinds = rr->kinds, .seq = ++r->rules_run};
	r->cx = &rr->ctx;
	char *sql = dispatch__events_sql(rr->kinds);
	if (sql == NULL)
		return diag_set(d, DIAG_NOMEM, "out of memory");
	int rc = stmt_prepare(&rr->ctx.ev, r->st, "reading events to dispatch", sql, d);
	free(sql);
	if (rc != 0)
		return -1;
	if (ledger_writer_init(&rr->w, r->st, d) != 0 ||
	    dispatch__lane_init(&rr->lanes[0], p, rr->batch, d) != 0 ||
	    dispatch__lane_init(&rr->lanes[1], p, rr->batch, d) != 0 ||
	    dispatch__cursor_of(r, name, &rr->cursor, d) != 0)
		return -1;
	rule->cursor = dispatch__from(rr->cursor);
	if (dispatch__read_batch(r, dispatch__from(rr->cursor), rr->batch, &rr->cur->b, &rr->cur->req, d))
		return -1;
	if (rr->cur->b.n == 0)
		return cursor_to_hi(r, name, rr->cursor, rule, d);
	dispatch__lane_send(rr->cur);
	rr->active = 1;
	return 0;
}

/* Waits for the rule's batch in flight, sends the next one, writes this one. */
static int
rule_step(struct run *r, struct rule_run *rr, struct diag *d)
{
	struct dispatch_rule *rule = rr->rule;
	const char *name = rr->name;
	struct lane *cur = rr->cur, *nxt = rr->nxt;
	struct batch *b = &cur->b;
	struct diag hd;
	diag_clear(&hd);
	buf_reset(&rr->out);
	r->cx = &rr->ctx;
	rr->active = 0; /* until this batch is applied and the next one sent */
	if (dispatch__lane_wait(cur, &rr->out, &hd) != 0) {
		/* The worker died (deadline, memory, crash): the rule stops at the batch. */
		snprintf(rule->error, sizeof(rule->error), "events %lld to %lld: %.900s",
			 (long long)b->ids[0], (long long)b->ids[b->n - 1], hd.msg);
		rule->stopped = 1;
		if (store_begin(r->st, d) ||
		    dispatch__cursor_set(r, name, dispatch__from(rr->cursor), b->ids[0], rule->error,
					 d) ||
		    store_commit(r->st, d)) {
			store_rollback(r->st);
			return -1;
		}
		return 0;
	}
	crash_point("rewards.hooks_ran");
	int full = b->n == (size_t)rr->batch;
	if (full) { /* the next batch to the worker while this one is written */
		if (dispatch__read_batch(r, b->ids[b->n - 1], rr->batch, &nxt->b, &nxt->req, d) != 0)
			return -1;
		if (nxt->b.n > 0)
			dispatch__lane_send(nxt);
	}
	int stop = 0;
	int moved = dispatch__apply(r, &rr->w, rule, rr->cursor, b, full, &rr->out, &stop, d);
	if (moved < 0)
		return -1;
	if (moved == 1) {
		snprintf(rule->error, sizeof(rule->error),
			 "another dispatch moved the cursor meanwhile; stopped for this run");
		return 0;
	}
	rr->cursor = rule->cursor;
	if (stop || !full)
		return 0;
	if (nxt->b.n == 0) /* nothing after this batch up to hi */
		return cursor_to_hi(r, name, rr->cursor, rule, d);
	rr->cur = nxt;
	rr->nxt = cur;
	rr->active = 1;
	return 0;
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
	struct rule_run *rr = calloc((size_t)(x->n ? x->n : 1), sizeof(*rr));
	if (rc == 0 && rr == NULL)
		rc = diag_set(d, DIAG_NOMEM, "out of memory");
	for (int i = 0; rr && i < x->n; i++) {
		struct dispatch_rule *rule = &res->rules[i];
		*rule = x->v[i].info;
		if (rc == 0 && x->v[i].p != NULL) {
			rc = rule_start(&r, &rr[i], x->v[i].p, rule->name, rule, d);
		} else if (rc == 0) { /* did not load: its cursor stays where it is */
			int64_t cursor;
			rc = dispatch__cursor_of(&r, rule->name, &cursor, d);
			rule->cursor = dispatch__from(cursor);
		}
	}
	/* The rules in turn, a batch each, until none has one in flight. */
	for (int busy = 1; rc == 0 && busy;) {
		busy = 0;
		for (int i = 0; rc == 0 && i < x->n; i++)
			if (rr[i].active) {
				rc = rule_step(&r, &rr[i], d);
				busy |= rr[i].active;
			}
	}
	for (int i = 0; rr && i < x->n; i++) {
		struct dispatch_rule *rule = &res->rules[i];
		rule_finish(&r, &rr[i]);
		res->delivered += rule->delivered;
		res->granted += rule->granted;
		res->revoked += rule->revoked;
		res->failed += rule->error[0] != '\0';
	}
	free(rr);
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
