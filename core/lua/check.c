/*
 * lua/check: run each hook of a plugin once on synthetic data. See check.h.
 *
 * Each hook is checked by an operation run in the plugin's worker (plugin_exec):
 * the synthetic data is built there inside the call's protected region (so even
 * a memory error while building it is a reported error, not a panic), and the
 * result is rendered to text there too (raw reads: a returned table's
 * metatable never runs) and sent back as bytes.
 */
#include "lua/check.h"

#include <jansson.h>
#include <lauxlib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lua/shape.h"

static const char *const default_features[] = {
	"topic_fit",      "level_gap",       "generation_gap", "cross_department",
	"cross_location", "shared_language", "tz_distance",    NULL,
};

/* ---- synthetic data ----------------------------------------------------------- */

static void
set_str(lua_State *L, const char *k, const char *v)
{
	lua_pushstring(L, v);
	lua_setfield(L, -2, k);
}

static void
set_int(lua_State *L, const char *k, lua_Integer v)
{
	lua_pushinteger(L, v);
	lua_setfield(L, -2, k);
}

/*
 * The synthetic mentor and mentee, in the store's own forms (lists and
 * attributes as JSON text), built into tables by lua/shape exactly as a real
 * run builds them from the database.
 */
static const struct shape_person synthetic_mentor = {
	.id = "E0002", .name = "Ana Silva", .email = "ana.silva@example.com",
	.title = "Software Engineer", .department = "Engineering", .team = "Platform",
	.location = "Lisbon", .timezone = "Europe/Lisbon", .generation = "gen_z", .level = 2,
	.languages = "[\"en\",\"pt\"]",
	.skills = "[\"generative_ai\",\"social_media\",\"python\"]",
	.topics_wanted = "[\"leadership\",\"negotiation\"]",
	.attributes = "{\"pronouns\":\"she/her\"}",
};
static const struct shape_person synthetic_mentee = {
	.id = "E0001", .name = "Claire Martin", .email = "claire.martin@example.com",
	.title = "Chief Financial Officer", .department = "Finance", .team = "Leadership",
	.location = "Paris", .timezone = "Europe/Paris", .generation = "gen_x", .level = 8,
	.languages = "[\"en\",\"fr\"]",
	.skills = "[\"leadership\",\"negotiation\",\"finance\"]",
	.topics_wanted = "[\"generative_ai\",\"social_media\"]",
	.attributes = "{\"pronouns\":\"she/her\"}",
};
static const struct shape_enrollment mentor_enrollment = {
	.role = "mentor", .capacity = 2, .topics_offered = "[]", .topics_wanted = "[]",
	.availability = "[\"mon-am\",\"wed-pm\"]", .attributes = "{}",
};
static const struct shape_enrollment mentee_enrollment = {
	.role = "mentee", .capacity = 2, .topics_offered = "[]", .topics_wanted = "[]",
	.availability = "[\"mon-am\",\"wed-pm\"]", .attributes = "{}",
};

/* stack: +1 */
static void
push_mentor(lua_State *L)
{
	shape_push_member(L, &synthetic_mentor, &mentor_enrollment);
}

static void
push_mentee(lua_State *L)
{
	shape_push_member(L, &synthetic_mentee, &mentee_enrollment);
}

/* names: the feature names, each followed by a NUL (sent with the request). */
static void
push_features(lua_State *L, const char *names, size_t len)
{
	lua_newtable(L);
	int i = 0;
	for (size_t at = 0; at < len; at += strlen(names + at) + 1, i++) {
		lua_pushnumber(L, (double)((i * 37) % 10 + 1) / 10.0);
		lua_setfield(L, -2, names + at);
	}
}

/* A cadence's pair: the synthetic match, active since the program started. */
static void
push_pair(lua_State *L)
{
	static const struct shape_match m = {.id = 1, .program = "pilot", .status = "active",
					     .created_at = "2026-01-12T10:00:00Z", .score = 0.82};
	static const struct shape_pair p = {
		.match = &m, .zone = "Europe/Paris",
		.topics = "[\"generative_ai\",\"social_media\"]",
		.activated_at = "2026-01-12T10:00:00Z", .activated = 1768212000,
		.starts_on = "2026-01-12", .ends_on = "2026-06-30", .duration_min = 45};
	push_mentor(L);
	push_mentee(L);
	shape_push_pair(L, &p);
}

/* A cadence's history: one session held a week before the ctx's now, one missed the day before. */
static void
push_history(lua_State *L)
{
	static const struct shape_session s[] = {
		{.id = 1, .start = 1767607200, .starts_at = "2026-01-05T10:00:00Z",
		 .status = "held", .topic = "generative_ai", .duration_min = 45},
		{.id = 2, .start = 1768125600, .starts_at = "2026-01-11T10:00:00Z",
		 .status = "missed", .topic = "social_media", .duration_min = 45},
	};
	lua_createtable(L, 2, 0);
	for (int i = 0; i < 2; i++) {
		shape_push_session(L, &s[i]);
		lua_rawseti(L, -2, i + 1);
	}
}

static void
push_ctx(lua_State *L)
{
	lua_createtable(L, 0, 6);
	set_int(L, "now", 1768212000); /* 2026-01-12T10:00:00Z */
	set_str(L, "now_iso", "2026-01-12T10:00:00Z");
	set_str(L, "timezone", "Europe/Paris");
	lua_createtable(L, 0, 4);
	set_str(L, "name", "pilot");
	set_str(L, "title", "Reverse mentoring pilot");
	set_str(L, "starts_on", "2026-01-12");
	set_str(L, "ends_on", "2026-06-30");
	lua_setfield(L, -2, "program");
}

static void
push_event(lua_State *L, const char *kind)
{
	/* The shape rewards/dispatch builds (docs/plugin-api.md "Reward rules"). */
	lua_createtable(L, 0, 8);
	set_int(L, "id", 1);
	set_str(L, "kind", kind);
	set_str(L, "at", "2026-01-19T10:00:00Z");
	set_int(L, "subject_id", 2); /* the mentor's people.id */
	set_str(L, "program", "pilot");
	set_int(L, "program_id", 1);
	lua_createtable(L, 0, 3);
	set_int(L, "session", 3);
	set_int(L, "match", 1);
	set_str(L, "starts_at", "2026-01-19T10:00:00Z");
	lua_setfield(L, -2, "payload");
	lua_createtable(L, 0, 7);
	set_int(L, "id", 1);
	set_int(L, "mentor_id", 2);
	set_int(L, "mentee_id", 3);
	set_str(L, "status", "active");
	lua_pushboolean(L, 0);
	lua_setfield(L, -2, "completed");
	lua_createtable(L, 3, 0);
	for (int i = 1; i <= 3; i++) {
		lua_createtable(L, 0, 4);
		set_int(L, "id", i);
		char at[32];
		snprintf(at, sizeof(at), "2026-01-%02dT10:00:00Z", 5 + 7 * (i - 1));
		set_str(L, "starts_at", at);
		set_str(L, "status", "held");
		at[12] = '1'; /* recorded held an hour after it started (11:00) */
		set_str(L, "status_at", at);
		lua_rawseti(L, -2, i);
	}
	lua_setfield(L, -2, "sessions");
	lua_createtable(L, 2, 0);
	for (int i = 1; i <= 2; i++) {
		lua_createtable(L, 0, 3);
		set_int(L, "session", 3);
		set_str(L, "by", i == 1 ? "mentor" : "mentee");
		set_int(L, "rating", 5);
		lua_rawseti(L, -2, i);
	}
	lua_setfield(L, -2, "ratings");
	lua_setfield(L, -2, "match");
}

/* A job's ctx as sched/actions builds it (docs/plugin-api.md "Jobs"): one program, one
 * planned session, one active match (each snapshot given whether or not `needs` asks). */
static void
push_job_ctx(lua_State *L)
{
	lua_createtable(L, 0, 10);
	set_str(L, "job", "check");
	set_int(L, "occurrence", 1);
	set_str(L, "now", "2026-01-12T10:00:00Z");
	set_str(L, "due", "2026-01-12T10:00:00Z");
	set_int(L, "covers", 1);
	set_str(L, "timezone", "Europe/Paris");
	lua_createtable(L, 1, 0);
	lua_createtable(L, 0, 4);
	set_str(L, "name", "pilot");
	set_str(L, "title", "Reverse mentoring pilot");
	set_str(L, "starts", "2026-01-12");
	set_str(L, "ends", "2026-06-30");
	lua_rawseti(L, -2, 1);
	lua_setfield(L, -2, "programs");
	lua_createtable(L, 1, 0);
	lua_createtable(L, 0, 8);
	set_int(L, "id", 1);
	set_int(L, "match", 1);
	set_str(L, "program", "pilot");
	set_str(L, "starts", "2026-01-19T09:00:00Z");
	set_int(L, "duration", 45);
	set_str(L, "timezone", "Europe/Paris");
	set_str(L, "status", "planned");
	lua_rawseti(L, -2, 1);
	lua_setfield(L, -2, "sessions");
	lua_createtable(L, 1, 0);
	lua_createtable(L, 0, 6);
	set_int(L, "id", 1);
	set_str(L, "program", "pilot");
	set_str(L, "status", "active");
	lua_createtable(L, 0, 2);
	set_str(L, "id", "E001");
	set_str(L, "name", "Mentor Example");
	lua_setfield(L, -2, "mentor");
	lua_createtable(L, 0, 2);
	set_str(L, "id", "E002");
	set_str(L, "name", "Mentee Example");
	lua_setfield(L, -2, "mentee");
	lua_rawseti(L, -2, 1);
	lua_setfield(L, -2, "matches");
}

/* A message as sched/notify hands it to a notifier's render. */
static void
push_message(lua_State *L)
{
	lua_createtable(L, 0, 8);
	set_str(L, "key", "reminder:1:2");
	set_str(L, "kind", "reminder");
	set_str(L, "channel", "custom");
	set_str(L, "subject", "Reminder: mentoring session tomorrow at 10:00");
	set_str(L, "body", "Your session with Ana Silva is on Monday 19 January at 10:00 (Europe/Paris).");
	lua_createtable(L, 0, 3);
	set_str(L, "id", "E0001");
	set_str(L, "name", "Claire Martin");
	set_str(L, "timezone", "Europe/Paris");
	lua_setfield(L, -2, "recipient");
	lua_createtable(L, 0, 5);
	set_int(L, "id", 1);
	set_str(L, "starts_at", "2026-01-19T09:00:00Z");
	set_int(L, "duration_min", 60);
	set_str(L, "timezone", "Europe/Paris");
	set_str(L, "status", "planned");
	lua_setfield(L, -2, "session");
}

/* The metrics a report's build receives in `plugins check`: the shape of
 * report/metrics.h (docs/metrics.md) with small made-up numbers, health inside. */
const char plugin_check_metrics[] =
	"{\"program\":\"pilot\",\"generated_at\":\"2026-01-12T10:00:00Z\",\"funnel\":{\"enrolled\":40,\"matched\""
	":32,\"first_session\":28,\"active\":24,\"completed\":6},\"enrollment\":{\"enrolled\":40,\"matched\":32"
	",\"match_rate\":0.8,\"unmatched\":8},\"first_session\":{\"pairs\":14,\"median_days\":9,\"mean_days\":1"
	"0.5},\"sessions\":{\"planned\":12,\"held\":50,\"missed\":6,\"cancelled\":4,\"held_rate\":0.8929,\"per_m"
	"onth\":[{\"month\":\"2025-11\",\"planned\":0,\"held\":20,\"missed\":2,\"cancelled\":1},{\"month\":\"2025-1"
	"2\",\"planned\":0,\"held\":30,\"missed\":4,\"cancelled\":3},{\"month\":\"2026-01\",\"planned\":12,\"held\":"
	"0,\"missed\":0,\"cancelled\":0}],\"per_pair_held_rate\":{\"mean\":0.88,\"min\":0.5,\"max\":1.0}},\"rati"
	"ngs\":{\"count\":40,\"mean\":4.2,\"distribution\":[1,2,4,13,20],\"mentor\":{\"count\":20,\"mean\":4.3},"
	"\"mentee\":{\"count\":20,\"mean\":4.1}},\"goals\":[{\"topic\":\"generative_ai\",\"n\":8,\"start_mean\":2.1"
	",\"end_mean\":3.6,\"delta\":1.5}],\"participation\":{\"department\":[{\"group\":\"Engineering\",\"peopl"
	"e\":30,\"enrolled\":12,\"matched\":10,\"active\":8},{\"group\":\"Finance\",\"people\":20,\"enrolled\":10,"
	"\"matched\":8,\"active\":6}],\"location\":[],\"level\":[],\"generation\":[]},\"retention\":{\"participa"
	"nts\":{\"n\":32,\"retained\":31,\"rate\":0.9688},\"non_participants\":{\"n\":200,\"retained\":180,\"rate"
	"\":0.9}},\"rewards\":{\"points\":500,\"badges\":6,\"grants\":60,\"people\":20},\"cohorts\":[],\"health\":"
	"{\"program\":\"pilot\",\"generated_at\":\"2026-01-12T10:00:00Z\",\"counts\":{\"on_track\":10,\"needs_ch"
	"eckin\":2,\"at_risk\":1,\"too_early\":1},\"pairs\":[{\"match_id\":1,\"mentor\":{\"id\":2,\"name\":\"Ana Si"
	"lva\"},\"mentee\":{\"id\":1,\"name\":\"Claire Martin\"},\"status\":\"at_risk\",\"reasons\":[{\"code\":\"cons"
	"ecutive_misses\",\"text\":\"two sessions missed in a row\",\"action\":\"checkin\"}]}],\"overlaps\":[]"
	"}}";

/* The registry's list of the queries a check's hook made ("LINE\tNARGS\tFN\tSQL"), sent
 * back with the result so that the host prepares each against the schema (check.h). */
static const char check_queries_key[] = "tandem.check.queries";

static void
record_query(lua_State *L, const char *fn)
{
	size_t len;
	const char *sql = luaL_checklstring(L, 1, &len);
	int nargs = lua_gettop(L) - 1, line = 0;
	lua_Debug ar;
	if (lua_getstack(L, 1, &ar) && lua_getinfo(L, "l", &ar))
		line = ar.currentline;
	if (lua_getfield(L, LUA_REGISTRYINDEX, check_queries_key) != LUA_TTABLE) {
		lua_pop(L, 1);
		return;
	}
	lua_Integer n = (lua_Integer)lua_rawlen(L, -1);
	if (n < PLUGIN_CHECK_QUERIES_MAX) {
		lua_pushfstring(L, "%d\t%d\t%s\t", line, nargs, fn);
		lua_pushlstring(L, sql, len);
		lua_concat(L, 2);
		lua_rawseti(L, -2, n + 1);
	}
	lua_pop(L, 1);
}

/* q.rows(sql, ...) in `plugins check`: there is no database here, so no rows (the host
 * prepares the statement against the schema afterwards). */
static int
check_q_rows(lua_State *L)
{
	record_query(L, "q.rows");
	lua_newtable(L);
	return 1;
}

/* q.one(sql, ...): no row, nil. */
static int
check_q_one(lua_State *L)
{
	record_query(L, "q.one");
	lua_pushnil(L);
	return 1;
}

/* A report's arguments before ctx: metrics, then q. */
static void
push_report_args(lua_State *L)
{
	json_t *m = json_loads(plugin_check_metrics, 0, NULL);
	if (m == NULL)
		luaL_error(L, "the synthetic metrics do not parse");
	shape_push_json(L, m);
	json_decref(m);
	lua_createtable(L, 0, 2);
	lua_pushcfunction(L, check_q_rows);
	lua_setfield(L, -2, "rows");
	lua_pushcfunction(L, check_q_one);
	lua_setfield(L, -2, "one");
}

/* Protected builder: upvalue 1 = kind, 2 = hook name, 3 = (unused), 4 = the
 * feature names (NUL-separated). Returns the args. */
static int
build_args(lua_State *L)
{
	enum plugin_kind kind = (enum plugin_kind)lua_tointeger(L, lua_upvalueindex(1));
	const char *hook = lua_tostring(L, lua_upvalueindex(2));
	lua_settop(L, 0);
	switch (kind) {
	case PLUGIN_POLICY:
		if (strcmp(hook, "capacity") == 0) {
			push_mentor(L);
		} else { /* score, prefer_mentor, prefer_mentee */
			push_mentor(L);
			push_mentee(L);
			size_t len;
			const char *names = lua_tolstring(L, lua_upvalueindex(4), &len);
			push_features(L, names, len);
		}
		break;
	case PLUGIN_CADENCE:
		if (strcmp(hook, "plan") == 0) {
			push_pair(L);
			push_history(L);
		}
		push_ctx(L);
		/* A cadence plans up to a horizon: eight weeks after now. */
		lua_pushinteger(L, 1768212000 + 56 * 86400);
		lua_setfield(L, -2, "horizon");
		lua_pushliteral(L, "2026-03-09T10:00:00Z");
		lua_setfield(L, -2, "horizon_iso");
		break;
	case PLUGIN_REWARD:
		if (strncmp(hook, "on[\"", 4) == 0 && strlen(hook) > 6) {
			/* on["session.held"]: an event of that kind */
			lua_pushlstring(L, hook + 4, strlen(hook) - 6);
			push_event(L, lua_tostring(L, -1));
			lua_remove(L, -2);
			/* ev.match read-only, as dispatch gives it (the run's copy, shared by the
			 * events about the match): a rule that writes into it fails here too. */
			lua_getfield(L, -1, "match"); /* stack: ev, match */
			plugin_sandbox_readonly_deep(L, -1, "ev.match"); /* ev, match, proxy */
			lua_setfield(L, -3, "match");
			lua_pop(L, 1);
		}
		push_ctx(L);
		break;
	case PLUGIN_REPORT:
		if (strcmp(hook, "build") == 0)
			push_report_args(L);
		push_ctx(L);
		break;
	case PLUGIN_NOTIFIER:
		if (strcmp(hook, "render") == 0)
			push_message(L);
		push_ctx(L);
		break;
	case PLUGIN_JOB:
		push_job_ctx(L);
		break;
	default:
		push_ctx(L);
		break;
	}
	return lua_gettop(L);
}

/* ---- rendering ----------------------------------------------------------------- */

struct strbuf {
	char *s;
	size_t n, cap;
	int full; /* cut: ends with "..." and takes nothing more */
};

/* Appends s; what does not fit is cut and marked "..." (never a string or a table left
 * looking whole with its end missing). cap must be at least 4. */
static void
sb_add(struct strbuf *b, const char *s)
{
	if (b->full)
		return;
	size_t len = strlen(s);
	if (b->n + len >= b->cap) {
		size_t keep = b->cap - 1 >= b->n + 3 ? b->cap - 1 - b->n - 3 : 0;
		memcpy(b->s + b->n, s, keep);
		b->n += keep;
		if (b->n > b->cap - 4)
			b->n = b->cap - 4;
		memcpy(b->s + b->n, "...", 4);
		b->n += 3;
		b->full = 1;
		return;
	}
	memcpy(b->s + b->n, s, len);
	b->n += len;
	b->s[b->n] = '\0';
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void render(lua_State *L, int idx, int depth, struct strbuf *b);

/*
 * A table as {v1, v2, k=v, ...}: the sequence part in order, then the other keys
 * sorted (Lua's iteration order is not stable from run to run).
 */
static void
render_table(lua_State *L, int idx, int depth, struct strbuf *b)
{
	if (depth > 2) {
		sb_add(b, "{...}");
		return;
	}
	enum { MAXE = 12 };
	sb_add(b, "{");
	lua_Integer seq = 0;
	while (seq < MAXE && lua_rawgeti(L, idx, seq + 1) != LUA_TNIL) {
		if (seq++ > 0)
			sb_add(b, ", ");
		render(L, lua_gettop(L), depth + 1, b);
		lua_pop(L, 1);
	}
	lua_pop(L, 1);
	char *items[MAXE];
	int n = 0, more = 0;
	lua_pushnil(L);
	while (lua_next(L, idx)) {
		if (lua_isinteger(L, -2) && lua_tointeger(L, -2) >= 1 &&
		    lua_tointeger(L, -2) <= seq) {
			lua_pop(L, 1);
			continue;
		}
		if (n == MAXE) {
			more = 1;
			lua_pop(L, 2);
			break;
		}
		char kbuf[128], vbuf[160];
		struct strbuf kb = {kbuf, 0, sizeof(kbuf), 0}, vb = {vbuf, 0, sizeof(vbuf), 0};
		kbuf[0] = vbuf[0] = '\0';
		if (lua_type(L, -2) == LUA_TSTRING)
			sb_add(&kb, lua_tostring(L, -2));
		else
			render(L, lua_gettop(L) - 1, 3, &kb);
		render(L, lua_gettop(L), depth + 1, &vb);
		size_t len = strlen(kbuf) + strlen(vbuf) + 2;
		items[n] = malloc(len);
		if (items[n] != NULL)
			snprintf(items[n++], len, "%s=%s", kbuf, vbuf);
		lua_pop(L, 1);
	}
	qsort(items, (size_t)n, sizeof(char *), cmp_str);
	for (int i = 0; i < n; i++) {
		if (seq > 0 || i > 0)
			sb_add(b, ", ");
		sb_add(b, items[i]);
		free(items[i]);
	}
	sb_add(b, more ? ", ...}" : "}");
}

static void
render(lua_State *L, int idx, int depth, struct strbuf *b)
{
	char tmp[96];
	switch (lua_type(L, idx)) {
	case LUA_TNUMBER:
		if (lua_isinteger(L, idx))
			snprintf(tmp, sizeof(tmp), "%lld", (long long)lua_tointeger(L, idx));
		else
			snprintf(tmp, sizeof(tmp), "%.6g", lua_tonumber(L, idx));
		sb_add(b, tmp);
		break;
	case LUA_TSTRING:
		snprintf(tmp, sizeof(tmp), "\"%.60s%s\"", lua_tostring(L, idx),
			 lua_rawlen(L, idx) > 60 ? "..." : "");
		sb_add(b, tmp);
		break;
	case LUA_TBOOLEAN:
		sb_add(b, lua_toboolean(L, idx) ? "true" : "false");
		break;
	case LUA_TNIL:
		sb_add(b, "nil");
		break;
	case LUA_TTABLE:
		render_table(L, lua_absindex(L, idx), depth, b);
		break;
	default:
		sb_add(b, luaL_typename(L, idx));
		break;
	}
}

/* ---- running ------------------------------------------------------------------- */

struct one_call {
	struct plugin *p;
	const char *hook;
};

/*
 * What real runs accept from the hook, checked here too so that `plugins check`
 * does not pass a hook that `match run` would refuse: the kind's check_result
 * operation (the policy module's for policies) judges the value at idx; the
 * message names the line where the hook is defined, as the runs' do. Returns 0,
 * or -1 with the diag filled.
 */
static int
check_result(struct one_call *c, int idx, struct diag *d)
{
	const struct plugin_kind_ops *ops = plugin_kind_ops(c->p);
	lua_State *L = plugin_state(c->p);
	if (ops->check_result == NULL || ops->check_result(L, c->hook, idx, d) == 0)
		return 0;
	char why[DIAG_MSG_MAX], where[600];
	snprintf(why, sizeof(why), "%s", d->msg);
	int line = 0;
	lua_Debug ar;
	int top = lua_gettop(L);
	plugin_push_decl(c->p);
	size_t hl = strlen(c->hook);
	if (strncmp(c->hook, "on[\"", 4) == 0 && hl > 6) {
		/* A reward rule's on["KIND"]: the handler is decl.on[KIND], as dispatch finds it. */
		lua_pushliteral(L, "on");
		lua_rawget(L, -2); /* stack: decl, on */
		if (lua_istable(L, -1)) {
			lua_pushlstring(L, c->hook + 4, hl - 6);
			lua_rawget(L, -2); /* stack: decl, on, hook */
		}
	} else {
		lua_pushstring(L, c->hook);
		lua_rawget(L, -2); /* stack: decl, hook */
	}
	if (lua_isfunction(L, -1) && lua_getinfo(L, ">S", &ar)) /* pops the hook */
		line = ar.linedefined;
	lua_settop(L, top);
	if (line > 0)
		snprintf(where, sizeof(where), "%s:%d", plugin_path(c->p), line);
	else
		snprintf(where, sizeof(where), "%s", plugin_path(c->p));
	return diag_set(d, DIAG_PLUGIN, "%s: %.400s (in hook %s)", where, why, c->hook);
}

/* Operation run in the plugin's worker: build the arguments, call the hook,
 * render what came back. */
static int
call_once(struct plugin *live, const char *hook, const char *in, size_t n, struct buf *out,
	  struct diag *d)
{
	struct one_call call = {live, hook}, *c = &call;
	lua_State *L = plugin_state(c->p);
	int top = lua_gettop(L);
	lua_newtable(L);
	lua_setfield(L, LUA_REGISTRYINDEX, check_queries_key);
	lua_pushinteger(L, plugin_kind(c->p));
	lua_pushstring(L, c->hook);
	plugin_push_decl(c->p);
	lua_pushliteral(L, "on");
	lua_rawget(L, -2);
	lua_remove(L, -2);
	lua_pushlstring(L, in, n);
	lua_pushcclosure(L, build_args, 4);
	if (plugin_sandbox_pcall(L, 0, LUA_MULTRET, d) != 0)
		return -1;
	int nargs = lua_gettop(L) - top;
	if (plugin_call(c->p, c->hook, nargs, LUA_MULTRET, d) != 0)
		return -1;
	char text[512];
	struct strbuf b = {text, 0, sizeof(text), 0};
	text[0] = '\0';
	int nres = lua_gettop(L) - top;
	if (plugin_kind_ops(c->p)->check_result != NULL) {
		if (nres == 0)
			lua_pushnil(L);
		if (check_result(c, top + 1, d) < 0) {
			lua_settop(L, top);
			return -1;
		}
		nres = lua_gettop(L) - top;
	}
	if (nres == 0)
		sb_add(&b, "(nothing)");
	for (int i = 1; i <= nres; i++) {
		if (i > 1)
			sb_add(&b, ", ");
		render(L, top + i, 0, &b);
	}
	lua_settop(L, top);
	if (buf_append(out, text, strlen(text) + 1, d) != 0)
		return -1;
	/* Then the queries it made, each NUL-terminated. */
	int rc = 0;
	if (lua_getfield(L, LUA_REGISTRYINDEX, check_queries_key) == LUA_TTABLE) {
		lua_Integer nq = (lua_Integer)lua_rawlen(L, -1);
		for (lua_Integer i = 1; rc == 0 && i <= nq; i++) {
			size_t len;
			lua_rawgeti(L, -1, i);
			const char *e = lua_tolstring(L, -1, &len);
			rc = e != NULL ? buf_append(out, e, len + 1, d) : 0;
			lua_pop(L, 1);
		}
	}
	lua_settop(L, top);
	return rc;
}

static double
now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* The queries after the rendered value in a call's output (call_once): into h->queries. */
static int
take_queries(struct plugin_check_hook *h, const char *out, size_t len, struct diag *d)
{
	size_t first = strnlen(out, len) + 1;
	int n = 0;
	for (size_t i = first; i < len; i += strnlen(out + i, len - i) + 1)
		n++;
	if (n == 0)
		return 0;
	h->queries = calloc((size_t)n, sizeof(*h->queries));
	if (h->queries == NULL)
		return diag_set(d, DIAG_NOMEM, "out of memory");
	for (size_t i = first; i < len && h->nqueries < n; i += strnlen(out + i, len - i) + 1) {
		struct plugin_check_query *q = &h->queries[h->nqueries];
		const char *e = out + i;
		char fn[8] = "";
		int used = 0;
		if (sscanf(e, "%d\t%d\t%7[^\t]\t%n", &q->line, &q->nargs, fn, &used) < 3 || used == 0)
			continue;
		q->all = strcmp(fn, "q.rows") == 0;
		if ((q->sql = strdup(e + used)) == NULL)
			return diag_set(d, DIAG_NOMEM, "out of memory");
		h->nqueries++;
	}
	return 0;
}

int
plugin_check_run(struct plugin *p, const char *const *feature_names,
		 struct plugin_check_report *report, struct diag *d)
{
	if (feature_names == NULL)
		feature_names = default_features;
	memset(report, 0, sizeof(*report));
	char **hooks;
	int n = plugin_hooks(p, &hooks, d);
	if (n < 0)
		return -1;
	report->hooks = calloc((size_t)(n ? n : 1), sizeof(*report->hooks));
	if (report->hooks == NULL) {
		free(hooks);
		return diag_set(d, DIAG_NOMEM, "out of memory checking %s", plugin_path(p));
	}
	for (int i = 0; i < n; i++) {
		struct buf names;
		struct plugin_check_hook *h = &report->hooks[report->n++];
		snprintf(h->hook, sizeof(h->hook), "%s", hooks[i]);
		struct buf out;
		struct diag hd;
		buf_init(&out);
		buf_init(&names);
		diag_clear(&hd);
		double t0 = now_ms();
		int rc = 0;
		for (int f = 0; rc == 0 && feature_names[f]; f++)
			rc = buf_append(&names, feature_names[f], strlen(feature_names[f]) + 1,
					       &hd);
		if (rc == 0)
			rc = plugin_exec(p, call_once, hooks[i], names.data, names.len,
					 plugin_limits(p)->deadline_ms, &out, &hd);
		h->ms = now_ms() - t0;
		if (rc == 0 && out.len > 0)
			rc = take_queries(h, out.data, out.len, &hd);
		h->ok = rc == 0;
		if (rc == 0)
			snprintf(h->value, sizeof(h->value), "%s", out.len ? out.data : "");
		else
			snprintf(h->error, sizeof(h->error), "%s", hd.msg);
		report->failed += rc != 0;
		buf_fini(&out);
		buf_fini(&names);
	}
	free(hooks);
	return 0;
}

void
plugin_check_fini(struct plugin_check_report *report)
{
	for (int i = 0; report->hooks && i < report->n; i++) {
		for (int j = 0; j < report->hooks[i].nqueries; j++)
			free(report->hooks[i].queries[j].sql);
		free(report->hooks[i].queries);
	}
	free(report->hooks);
	memset(report, 0, sizeof(*report));
}
