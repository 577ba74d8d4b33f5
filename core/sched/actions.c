/*
 * sched/actions: a Lua job's ctx going in and its actions coming back (see
 * actions.h for the contract).
 *
 * Both directions go through a small host-side lua_State that holds data only
 * (no library, no plugin code): ctx is read from the store into a jansson tree
 * first (so no Lua error can unwind past an open statement), then turned into
 * Lua tables and marshalled for the worker; the results are read by lua/job_out
 * (the same reading `plugins check` uses: a fresh data-only state, raw reads, one
 * protected call filling C structures). Only then, with every action valid, is
 * anything written; what needs the database (a person, a session) is refused here.
 */
#include "sched/actions.h"

#include <jansson.h>
#include <lauxlib.h>
#include <lua.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "events/events.h"
#include "events/outbox.h"
#include "lua/job_out.h"
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
	if (rc != 0 && a.rc == 0) /* a function in a payload: "action N: field ..." as the others */
		job_out_marshal_error(d, sc->path);
	buf_fini(&args);
	return rc;
}

/* ---- actions ----------------------------------------------------------------------- */

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
apply_one(const struct sched_actions_ctx *c, const struct job_action *act, const char *actor,
	  size_t *counts, struct diag *d)
{
	switch (act->type) {
	case JOB_ACT_EVENT: {
		struct event ev = {act->kind, actor, 0, 0, act->payload};
		if (events_append(c->st, &ev, NULL, d) != 0)
			return -1;
		break;
	}
	case JOB_ACT_CANCEL_SESSION:
		if (session_cancel(c->st, act->id, act->reason, actor, d) != 0)
			return -1;
		break;
	case JOB_ACT_END_MATCH:
		if (lifecycle_end(c->st, act->id, act->reason, actor, NULL, d) != 0)
			return -1;
		break;
	case JOB_ACT_MESSAGE: {
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
		m.actor = actor; /* plugin-api.md: every event a job causes names it */
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
	struct job_action *v;
	size_t count;
	if (job_out_read(data, n, &v, &count, d) != 0)
		return d->code == DIAG_INVALID ? diag_prefix(d, "%s", c->script) : -1;
	char actor[160];
	snprintf(actor, sizeof(actor), "job:%s", c->job);
	size_t counts[4] = {0, 0, 0, 0};
	int rc = 0;
	if (store_begin(c->st, d) != 0) {
		job_out_free(v, count);
		return -1;
	}
	for (size_t i = 0; rc == 0 && i < count; i++)
		if ((rc = apply_one(c, &v[i], actor, counts, d)) != 0)
			diag_prefix(d, "%s: action %zu", c->script, i + 1);
	job_out_free(v, count);
	if (rc != 0) {
		store_rollback(c->st);
		return -1;
	}
	if (store_commit(c->st, d) != 0)
		return -1;
	snprintf(result, size,
		 "{\"actions\":%zu,\"events\":%zu,\"messages\":%zu,\"sessions_cancelled\":%zu,"
		 "\"matches_ended\":%zu}",
		 counts[0] + counts[1] + counts[2] + counts[3], counts[JOB_ACT_EVENT],
		 counts[JOB_ACT_MESSAGE], counts[JOB_ACT_CANCEL_SESSION], counts[JOB_ACT_END_MATCH]);
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
