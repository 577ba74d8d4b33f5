/*
 * config: reads and validates tandem.lua. See config.h for the contract.
 *
 * The file is evaluated ONCE, in a worker process (sys/worker), and the config
 * comes back as bytes (config__encode/config__decode in config_wire.c): the host never runs
 * the file. The worker is killed at the deadline, so even a hang inside a C
 * function (a pathological string.find pattern) cannot stall the host.
 *
 * In the worker, the declaration functions workspace{} and program{} run inside
 * the sandboxed chunk and validate their table on the spot, collecting every
 * problem, then raise one Lua error whose lines already carry "FILE:LINE: ..."
 * of each problem's field (the plugin constructors' mechanism: lua/plugin's
 * plugin_decl_add_error, lua/api_core's api_core_locate_errors). They read
 * the tables with raw access only (lua_rawget, lua_rawgeti, lua_rawlen,
 * lua_next), so no metamethod of a declared table runs while C reads it: a
 * program table whose __index declares more programs cannot move the programs
 * array under a pointer C holds (the program being filled is also addressed by
 * index, not pointer). Everything they keep is attached to the struct config at
 * once, so an error (a longjmp) leaks nothing: config_fini() frees it.
 */
#include "program/config.h"
#include "program/config_internal.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <lauxlib.h>
#include <lua.h>
#include <sqlite3.h>

#include "lua/api_core.h"
#include "lua/plugin.h"
#include "lua/registry.h"
#include "lua/sandbox.h"
#include "store/stmt.h"
#include "sys/worker.h"
#include "store/store.h"
#include "time/tz.h"

static const char *const workspace_fields[] = {"organization", "timezone", "notify", "mail_from",
						 "public_url", NULL};
static const char *const program_fields[] = {
	"name", "title", "description", "starts", "ends", "goals", "topics",
	"time_commitment", "policy", "cadence", "manager", NULL};
static const char *const commitment_fields[] = {"sessions_per_month", "minutes_per_session", NULL};

/*
 * The problems of one declaration, all reported at once when it is done: one line
 * each, "WHAT: message" naming its field, through plugin_decl_add_error (the
 * plugin constructors' mechanism), and raised by decl_raise at the field's line.
 */
struct decl_errs {
	const char *what; /* "workspace", "program" or "program 'NAME'" */
	struct diag all;
	int n;
};

static void
decl_problem(struct decl_errs *e, const char *fmt, ...)
{
	char msg[768];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	struct diag one;
	diag_set(&one, DIAG_INVALID, "%s: %s", e->what, msg);
	plugin_decl_add_error(&e->all, &e->n, &one);
}

/*
 * Raises the declaration's problems, if any: each line as "FILE:LINE: WHAT:
 * message", LINE the line of the field it names (lua/api_core's locator: the
 * first `field =` from the declaration's line on), else the declaration's.
 */
static void
decl_raise(lua_State *L, int idx, struct decl_errs *e)
{
	if (e->n == 0)
		return;
	api_core_locate_errors(L, idx, e->all.msg);
	lua_error(L);
}

static int
decl_line(lua_State *L)
{
	lua_Debug ar;
	if (lua_getstack(L, 1, &ar) && lua_getinfo(L, "l", &ar))
		return ar.currentline;
	return 0;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Reports the keys of the table at idx that are not in valid[] (in name order, at
 * most 8), listing the valid ones. */
static void
check_fields(lua_State *L, int idx, struct decl_errs *e, const char *const *valid)
{
	const char *unknown[8];
	int nu = 0, nonstring = 0;
	lua_pushnil(L); /* stack: ..., nil */
	while (lua_next(L, idx) != 0) {
		/* stack: ..., key, value */
		lua_pop(L, 1);
		if (lua_type(L, -1) != LUA_TSTRING) {
			if (!nonstring++)
				decl_problem(e, "keys must be field names (got a %s key)",
					     luaL_typename(L, -1));
			continue;
		}
		/* The key strings live in the table, which outlives this call. */
		const char *key = lua_tostring(L, -1);
		int known = 0;
		for (const char *const *f = valid; *f; f++)
			known |= strcmp(*f, key) == 0;
		if (!known && nu < 8)
			unknown[nu++] = key;
	}
	if (nu == 0)
		return;
	qsort(unknown, (size_t)nu, sizeof(unknown[0]), cmp_str);
	char list[256] = "";
	size_t len = 0;
	for (const char *const *f = valid; *f && len < sizeof(list); f++)
		len += (size_t)snprintf(list + len, sizeof(list) - len, "%s%s", f != valid ? ", " : "",
					*f);
	for (int i = 0; i < nu; i++)
		decl_problem(e, "unknown field '%s' (valid fields: %s)", unknown[i], list);
}

static char *
xstrdup(lua_State *L, const char *s)
{
	char *p = strdup(s);
	if (p == NULL)
		luaL_error(L, "out of memory");
	return p;
}

/* Pushes t[field] of the table at idx, raw. */
static int
raw_field(lua_State *L, int idx, const char *field)
{
	idx = lua_absindex(L, idx);
	lua_pushstring(L, field);
	return lua_rawget(L, idx);
}

/* Optional string field; stores a copy in *out (NULL when absent or wrong). */
static void
get_string(lua_State *L, int idx, struct decl_errs *e, const char *field, char **out)
{
	raw_field(L, idx, field);
	if (lua_type(L, -1) == LUA_TSTRING)
		*out = xstrdup(L, lua_tostring(L, -1));
	else if (!lua_isnil(L, -1))
		decl_problem(e, "field '%s' must be a string (got %s)", field, luaL_typename(L, -1));
	lua_pop(L, 1);
}

/* Optional list of strings; *out and *n are filled as the items are copied (the
 * items that are not strings are reported, at most three, and left out). */
static void
get_list(lua_State *L, int idx, struct decl_errs *e, const char *field, char ***out, int *n)
{
	raw_field(L, idx, field); /* stack: ..., list */
	if (lua_isnil(L, -1)) {
		lua_pop(L, 1);
		return;
	}
	if (!lua_istable(L, -1)) {
		decl_problem(e, "field '%s' must be a list of strings (got %s)", field,
			     luaL_typename(L, -1));
		lua_pop(L, 1);
		return;
	}
	lua_Integer len = (lua_Integer)lua_rawlen(L, -1);
	if (len > 10000) {
		decl_problem(e, "field '%s' has too many items", field);
		lua_pop(L, 1);
		return;
	}
	*out = calloc((size_t)len + 1, sizeof(char *));
	if (*out == NULL)
		luaL_error(L, "out of memory");
	int bad = 0;
	for (lua_Integer i = 1; i <= len; i++) {
		lua_rawgeti(L, -1, i);
		if (lua_type(L, -1) == LUA_TSTRING) {
			(*out)[*n] = xstrdup(L, lua_tostring(L, -1));
			(*n)++;
		} else if (bad++ < 3) {
			decl_problem(e, "field '%s' item %d must be a string (got %s)", field, (int)i,
				     luaL_typename(L, -1));
		}
		lua_pop(L, 1);
	}
	lua_pop(L, 1);
}

/*
 * `topics`: a list whose items are names, or { name = "x", questions = { "...", ... } }
 * tables (sched/session's agenda suggests the questions). Fills p->topics with the
 * names and p->topic_questions with each one's questions; problems are reported as
 * get_list's are, those inside a table naming the item.
 */
static void
get_topics(lua_State *L, int idx, struct decl_errs *e, struct config_program *p)
{
	static const char *const topic_fields[] = {"name", "questions", NULL};
	raw_field(L, idx, "topics"); /* stack: ..., topics */
	lua_Integer len = lua_istable(L, -1) ? (lua_Integer)lua_rawlen(L, -1) : 0;
	if (!lua_istable(L, -1) || len > 10000) {
		if (len > 10000)
			decl_problem(e, "field 'topics' has too many items");
		else if (!lua_isnil(L, -1))
			decl_problem(e, "field 'topics' must be a list of strings or { name =, "
					"questions = {...} } tables (got %s)",
				     luaL_typename(L, -1));
		lua_pop(L, 1);
		return;
	}
	p->topics = calloc((size_t)len + 1, sizeof(char *));
	p->topic_questions = calloc((size_t)len + 1, sizeof(*p->topic_questions));
	if (p->topics == NULL || p->topic_questions == NULL)
		luaL_error(L, "out of memory");
	int bad = 0, added = 0;
	for (lua_Integer i = 1; i <= len; i++) {
		lua_rawgeti(L, -1, i); /* stack: ..., topics, item */
		int t = lua_gettop(L);
		if (lua_type(L, t) == LUA_TSTRING) {
			p->topics[p->ntopics++] = xstrdup(L, lua_tostring(L, t));
		} else if (lua_istable(L, t)) {
			char item[200];
			const char *what = e->what;
			snprintf(item, sizeof(item), "%s: field 'topics' item %d", what, (int)i);
			e->what = item;
			check_fields(L, t, e, topic_fields);
			if (raw_field(L, t, "name") == LUA_TSTRING) { /* stack: ..., item, name */
				struct config_topic_questions *q = &p->topic_questions[p->ntopics];
				p->topics[p->ntopics++] = xstrdup(L, lua_tostring(L, -1));
				get_list(L, t, e, "questions", &q->questions, &q->n);
			} else {
				decl_problem(e, "needs a string 'name'");
			}
			e->what = what;
		} else if (bad++ < 3) {
			decl_problem(e, "field 'topics' item %d must be a string (got %s), or a table "
					"{ name =, questions = {...} }",
				     (int)i, luaL_typename(L, t));
		}
		/* A topic twice (a name, then a table with its questions, say) is a mistake:
		 * which questions would its agenda take? */
		for (int k = 0; added < p->ntopics && k < p->ntopics - 1; k++)
			if (strcmp(p->topics[k], p->topics[p->ntopics - 1]) == 0) {
				decl_problem(e, "field 'topics' item %d: '%s' is listed twice", (int)i,
					     p->topics[p->ntopics - 1]);
				break;
			}
		added = p->ntopics;
		lua_settop(L, t - 1);
	}
	lua_pop(L, 1);
}

static struct config *
upvalue_config(lua_State *L)
{
	return lua_touserdata(L, lua_upvalueindex(1));
}

/* workspace{organization=, timezone=, notify=, mail_from=, public_url=}: every problem at
 * once, each at its field's line. notify names the channel of messages (sched/notify: "eml",
 * "jsonl" or a notifier plugin), mail_from the address they come from, public_url where
 * participants reach `tandem serve --http` (the base of reminders' check-in links). */
static int
l_workspace(lua_State *L)
{
	struct config *cfg = upvalue_config(L);
	struct decl_errs e = {.what = "workspace", .n = 0};
	diag_clear(&e.all);
	if (!lua_istable(L, 1)) {
		decl_problem(&e, "expects a table: workspace { organization = ..., timezone = ... }");
		decl_raise(L, 1, &e);
	}
	lua_settop(L, 1);
	if (cfg->has_workspace)
		decl_problem(&e, "declared twice");
	cfg->has_workspace = 1;
	check_fields(L, 1, &e, workspace_fields);
	get_string(L, 1, &e, "organization", &cfg->organization);
	get_string(L, 1, &e, "timezone", &cfg->timezone);
	if (cfg->timezone != NULL && !tz_valid(cfg->timezone))
		decl_problem(&e, "field 'timezone': '%s' is not an IANA time zone", cfg->timezone);
	get_string(L, 1, &e, "notify", &cfg->notify);
	if (cfg->notify != NULL && !plugin_name_valid(cfg->notify))
		decl_problem(&e, "field 'notify': '%s' is not a notifier name (\"eml\", \"jsonl\" or a"
				 " plugin's name)", cfg->notify);
	get_string(L, 1, &e, "mail_from", &cfg->mail_from);
	if (cfg->mail_from != NULL &&
	    (strchr(cfg->mail_from, '@') == NULL || strpbrk(cfg->mail_from, " \t\r\n<>\"") != NULL))
		decl_problem(&e, "field 'mail_from': '%s' is not an e-mail address", cfg->mail_from);
	get_string(L, 1, &e, "public_url", &cfg->public_url);
	if (cfg->public_url != NULL && !config_public_url_valid(cfg->public_url))
		decl_problem(&e, "field 'public_url': '%s' is not an http:// or https:// URL without "
				 "query or fragment", cfg->public_url);
	decl_raise(L, 1, &e);
	return 0;
}

static int
get_positive_int(lua_State *L, int idx, struct decl_errs *e, const char *field, int max)
{
	raw_field(L, idx, field);
	int v = 0;
	if (!lua_isnil(L, -1)) {
		int isint;
		lua_Integer n = lua_tointegerx(L, -1, &isint);
		if (lua_type(L, -1) != LUA_TNUMBER) /* "1" converts, but is a string: refused */
			decl_problem(e, "field '%s' must be a whole number from 1 to %d (got %s)", field,
				     max, luaL_typename(L, -1));
		else if (!isint || n < 1 || n > max)
			decl_problem(e, "field '%s' must be a whole number from 1 to %d", field, max);
		else
			v = (int)n;
	}
	lua_pop(L, 1);
	return v;
}

/* program{name=, title=, ...}: validated and appended to the config. Every problem
 * is reported at once, each at its field's line. */
static int
l_program(lua_State *L)
{
	struct config *cfg = upvalue_config(L);
	char what[128] = "program";
	struct decl_errs e = {.what = what, .n = 0};
	diag_clear(&e.all);
	if (!lua_istable(L, 1)) {
		decl_problem(&e, "expects a table: program { name = ..., ... }");
		decl_raise(L, 1, &e);
	}
	lua_settop(L, 1);
	raw_field(L, 1, "name");
	const char *name = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : NULL;
	if (name == NULL)
		decl_problem(&e, "field 'name' is required and must be a string");
	else if (!plugin_name_valid(name))
		decl_problem(&e, "field 'name': '%s' must be 1-64 characters of a-z, 0-9, _ or -",
			     name);
	else
		snprintf(what, sizeof(what), "program '%s'", name);
	for (int i = 0; name != NULL && i < cfg->nprograms; i++)
		if (cfg->programs[i].name != NULL && strcmp(cfg->programs[i].name, name) == 0)
			decl_problem(&e, "declared twice (first on line %d)", cfg->programs[i].line);
	lua_pop(L, 1);
	check_fields(L, 1, &e, program_fields);

	/* Attach the program before filling it, so a later error leaks nothing. It is
	 * addressed by index: no pointer into the array is held across Lua calls. */
	struct config_program *arr = realloc(cfg->programs, (cfg->nprograms + 1) * sizeof(*arr));
	if (arr == NULL)
		return luaL_error(L, "out of memory");
	cfg->programs = arr;
	int at = cfg->nprograms++;
#define P (&cfg->programs[at])
	memset(P, 0, sizeof(*P));
	P->line = decl_line(L);
	if (name != NULL && plugin_name_valid(name))
		P->name = xstrdup(L, name);
	get_string(L, 1, &e, "title", &P->title);
	get_string(L, 1, &e, "description", &P->description);
	get_string(L, 1, &e, "starts", &P->starts);
	get_string(L, 1, &e, "ends", &P->ends);
	get_string(L, 1, &e, "policy", &P->policy);
	get_string(L, 1, &e, "cadence", &P->cadence);
	get_string(L, 1, &e, "manager", &P->manager);
	get_list(L, 1, &e, "goals", &P->goals, &P->ngoals);
	get_topics(L, 1, &e, P);
	int starts_ok = P->starts != NULL && tz_date_valid(P->starts);
	int ends_ok = P->ends != NULL && tz_date_valid(P->ends);
	if (P->starts != NULL && !starts_ok)
		decl_problem(&e, "field 'starts': '%s' is not a date YYYY-MM-DD", P->starts);
	if (P->ends != NULL && !ends_ok)
		decl_problem(&e, "field 'ends': '%s' is not a date YYYY-MM-DD", P->ends);
	if (starts_ok && ends_ok && strcmp(P->ends, P->starts) < 0)
		decl_problem(&e, "field 'ends' (%s) is before 'starts' (%s)", P->ends, P->starts);
	raw_field(L, 1, "time_commitment"); /* stack: decl, tc */
	if (lua_istable(L, -1)) {
		int tc = lua_gettop(L);
		check_fields(L, tc, &e, commitment_fields);
		P->sessions_per_month = get_positive_int(L, tc, &e, "sessions_per_month", 31);
		P->minutes_per_session = get_positive_int(L, tc, &e, "minutes_per_session", 480);
	} else if (!lua_isnil(L, -1)) {
		decl_problem(&e, "field 'time_commitment' must be a table "
				 "{ sessions_per_month = N, minutes_per_session = M }");
	}
#undef P
	lua_pop(L, 1);
	decl_raise(L, 1, &e);
	return 0;
}

static void
free_list(char **items, int n)
{
	for (int i = 0; i < n; i++)
		free(items[i]);
	free(items);
}

void
config_fini(struct config *cfg)
{
	for (int i = 0; i < cfg->nprograms; i++) {
		struct config_program *p = &cfg->programs[i];
		free(p->name);
		free(p->title);
		free(p->description);
		free(p->starts);
		free(p->ends);
		free(p->policy);
		free(p->cadence);
		free(p->manager);
		free_list(p->goals, p->ngoals);
		for (int t = 0; p->topic_questions && t < p->ntopics; t++)
			free_list(p->topic_questions[t].questions, p->topic_questions[t].n);
		free(p->topic_questions);
		free_list(p->topics, p->ntopics);
	}
	free(cfg->programs);
	free(cfg->path);
	free(cfg->organization);
	free(cfg->timezone);
	free(cfg->notify);
	free(cfg->mail_from);
	free(cfg->public_url);
	config__webhooks_fini(cfg);
	memset(cfg, 0, sizeof(*cfg));
}

/* Runs tandem.lua in a sandbox under lim and fills cfg (in this process). */
static int
config_eval(const char *path, const struct plugin_limits *lim, struct config *cfg,
	    struct diag *d)
{
	memset(cfg, 0, sizeof(*cfg));
	lua_State *L = plugin_sandbox_new(lim, d);
	if (L == NULL)
		return diag_prefix(d, "%s", path);
	plugin_sandbox_set_name(L, "tandem.lua");
	/* The declaration functions, as globals of the config's sandbox. */
	lua_pushlightuserdata(L, cfg);
	lua_pushcclosure(L, l_workspace, 1);
	lua_setglobal(L, "workspace");
	lua_pushlightuserdata(L, cfg);
	lua_pushcclosure(L, l_program, 1);
	lua_setglobal(L, "program");
	config__webhook_register(L, cfg);
	int rc = -1;
	if (plugin_sandbox_dofile(L, path, d) != 0)
		goto out;
	lua_pop(L, 1); /* the chunk's result: unused */
	cfg->path = strdup(path);
	if (cfg->path == NULL) {
		diag_set(d, DIAG_NOMEM, "out of memory");
		goto out;
	}
	if (cfg->timezone == NULL && (cfg->timezone = strdup("UTC")) == NULL) {
		diag_set(d, DIAG_NOMEM, "out of memory");
		goto out;
	}
	rc = 0;
out:
	plugin_sandbox_delete(L);
	if (rc != 0)
		config_fini(cfg);
	return rc;
}

struct config_job {
	const char *path;
	const struct plugin_limits *lim;
};

/* Worker body: evaluate the file in the child and send the config back as bytes. */
static int
config_worker(void *arg, struct buf *out, struct diag *d)
{
	struct config_job *job = arg;
	struct config cfg;
	if (config_eval(job->path, job->lim, &cfg, d) < 0)
		return -1;
	int rc = config__encode(&cfg, out, d);
	config_fini(&cfg);
	return rc;
}

int
config_load(const char *path, struct config *cfg, struct diag *d)
{
	return config_load_mode(path, 0, cfg, d);
}

int
config_load_mode(const char *path, int in_process, struct config *cfg, struct diag *d)
{
	memset(cfg, 0, sizeof(*cfg));
	struct plugin_limits lim;
	plugin_limits_default(&lim);
	/* A config declares a handful of tables: 1e7 instructions is generous, and
	 * runs out (in about 50 ms) well before the wall clock even on a loaded
	 * machine. The worker is killed 500 ms after the in-Lua deadline. */
	lim.instructions = 10000000;
	lim.deadline_ms = 2000;
	struct worker_limits wl = {.memory = lim.memory, .in_process = in_process};
	struct config_job job = {path, &lim};
	struct buf out;
	buf_init(&out);
	enum worker_status st;
	struct diag wd;
	diag_clear(&wd);
	if (worker_run(&wl, lim.deadline_ms + 500, config_worker, &job, &out, &st, &wd) != 0) {
		if (st == WORKER_FAILED)
			*d = wd;
		else
			diag_set(d, DIAG_INVALID, "%s: evaluation %s", path, wd.msg);
		buf_fini(&out);
		return -1;
	}
	int rc = config__decode(out.data, out.len, cfg, d);
	buf_fini(&out);
	if (rc == 0 && (cfg->path = strdup(path)) == NULL) {
		config_fini(cfg);
		return diag_set(d, DIAG_NOMEM, "out of memory");
	}
	return rc;
}

int
config_public_url_valid(const char *url)
{
	size_t n = strlen(url), skip;
	if (strncmp(url, "https://", 8) == 0)
		skip = 8;
	else if (strncmp(url, "http://", 7) == 0)
		skip = 7;
	else
		return 0;
	if (n > 200 || url[skip] == '\0' || url[skip] == '/')
		return 0;
	for (const unsigned char *p = (const unsigned char *)url; *p; p++)
		if (*p <= 0x20 || *p == 0x7f || strchr("?#\"'<>\\`", *p) != NULL)
			return 0;
	return 1;
}

const struct config_program *
config_find_program(const struct config *cfg, const char *name, struct diag *d)
{
	for (int i = 0; i < cfg->nprograms; i++)
		if (strcmp(cfg->programs[i].name, name) == 0)
			return &cfg->programs[i];
	char names[512] = "";
	size_t len = 0;
	for (int i = 0; i < cfg->nprograms && len < sizeof(names) - 70; i++)
		len += snprintf(names + len, sizeof(names) - len, "%s%s", i ? ", " : "",
				cfg->programs[i].name);
	diag_set(d, DIAG_NOTFOUND, "%s: no program named '%s' (declared: %s)",
		 cfg->path ? cfg->path : "tandem.lua", name, cfg->nprograms ? names : "none");
	return NULL;
}

static json_t *
json_list(char **items, int n)
{
	json_t *a = json_array();
	for (int i = 0; i < n && a; i++)
		json_array_append_new(a, json_string(items[i]));
	return a;
}

static void
set_opt(json_t *o, const char *key, const char *val)
{
	json_object_set_new(o, key, val ? json_string(val) : json_null());
}

json_t *
config_program_value(const struct config_program *p)
{
	json_t *o = json_object();
	if (o == NULL)
		return NULL;
	set_opt(o, "name", p->name);
	set_opt(o, "title", p->title);
	set_opt(o, "description", p->description);
	set_opt(o, "starts", p->starts);
	set_opt(o, "ends", p->ends);
	json_object_set_new(o, "goals", json_list(p->goals, p->ngoals));
	json_object_set_new(o, "topics", json_list(p->topics, p->ntopics));
	json_t *tc = json_object();
	if (p->sessions_per_month)
		json_object_set_new(tc, "sessions_per_month", json_integer(p->sessions_per_month));
	if (p->minutes_per_session)
		json_object_set_new(tc, "minutes_per_session", json_integer(p->minutes_per_session));
	json_object_set_new(o, "time_commitment", tc);
	set_opt(o, "policy", p->policy);
	set_opt(o, "cadence", p->cadence);
	set_opt(o, "manager", p->manager);
	return o;
}

char *
config_program_json(const struct config_program *p)
{
	json_t *o = config_program_value(p);
	char *s = o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
	json_decref(o);
	return s;
}

int
config_sync_programs(struct store *st, const struct config *cfg, struct diag *d)
{
	static const char *sql =
		"INSERT INTO programs(name, title, starts_on, ends_on, config, created_at) "
		"VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT(name) DO UPDATE SET "
		"title = excluded.title, starts_on = excluded.starts_on, "
		"ends_on = excluded.ends_on, config = excluded.config "
		"WHERE config IS NOT excluded.config OR title IS NOT excluded.title";
	char now[STORE_TIME_MAX];
	if (store_timestamp(st, now) != 0)
		return diag_set(d, DIAG_INTERNAL, "cannot format the current time");
	if (store_begin(st, d) != 0)
		return -1;
	/* The statement's name, the context of its errors, names the program being saved. */
	char name[160] = "the programs upsert";
	struct stmt s = {0};
	char *json = NULL;
	if (stmt_prepare(&s, st, name, sql, d) != 0)
		goto fail;
	for (int i = 0; i < cfg->nprograms; i++) {
		const struct config_program *p = &cfg->programs[i];
		snprintf(name, sizeof(name), "saving program '%.100s'", p->name);
		if ((json = config_program_json(p)) == NULL) {
			diag_set(d, DIAG_NOMEM, "out of memory");
			goto fail;
		}
		/* Every text is bound without a copy: each lives until the run below. */
		if (stmt_bind_text(&s, 1, p->name, d) || stmt_bind_text(&s, 2, p->title, d) ||
		    stmt_bind_text(&s, 3, p->starts, d) || stmt_bind_text(&s, 4, p->ends, d) ||
		    stmt_bind_text(&s, 5, json, d) || stmt_bind_text(&s, 6, now, d) ||
		    stmt_run(&s, d))
			goto fail;
		free(json);
		json = NULL;
	}
	stmt_finalize(&s);
	return store_commit(st, d);
fail:
	stmt_finalize(&s);
	free(json);
	store_rollback(st);
	return -1;
}

int
config_program_id(struct store *st, const struct config *cfg, const char *name, int64_t *id,
		  struct diag *d)
{
	if (config_find_program(cfg, name, d) == NULL)
		return -1;
	char what[160];
	snprintf(what, sizeof(what), "looking up program '%.100s'", name);
	struct stmt s;
	if (stmt_prepare(&s, st, what, "SELECT id FROM programs WHERE name = ?1", d) != 0)
		return -1;
	int rc = stmt_bind_text(&s, 1, name, d) ? -1 : stmt_step(&s, d);
	if (rc == STMT_ROW)
		*id = stmt_int64(&s, 0);
	stmt_finalize(&s);
	if (rc == STMT_DONE)
		return diag_set(d, DIAG_NOTFOUND, "program '%s' is declared but not saved yet", name);
	return rc == STMT_ROW ? 0 : -1;
}

/* 1 when line s assigns `field =` (not `==`) at its start, after blanks. */
static int
line_assigns(const char *s, const char *field)
{
	while (*s == ' ' || *s == '\t')
		s++;
	size_t n = strlen(field);
	if (strncmp(s, field, n) != 0 || isalnum((unsigned char)s[n]) || s[n] == '_')
		return 0;
	s += n;
	while (*s == ' ' || *s == '\t')
		s++;
	return s[0] == '=' && s[1] != '=';
}

int
config_field_line(const struct config *cfg, const struct config_program *p, const char *field)
{
	int stop = 0;
	for (int i = 0; i < cfg->nprograms; i++)
		if (cfg->programs[i].line > p->line && (stop == 0 || cfg->programs[i].line < stop))
			stop = cfg->programs[i].line;
	FILE *f = cfg->path != NULL ? fopen(cfg->path, "r") : NULL;
	if (f == NULL)
		return p->line;
	char buf[4096];
	int line = 0, found = p->line;
	while (fgets(buf, sizeof(buf), f) != NULL) {
		size_t len = strlen(buf);
		int whole = len > 0 && buf[len - 1] == '\n';
		line++;
		if (stop > 0 && line >= stop)
			break;
		if (line >= p->line && line_assigns(buf, field)) {
			found = line;
			break;
		}
		/* A line longer than the buffer continues in the next read: skip it. */
		while (!whole && fgets(buf, sizeof(buf), f) != NULL) {
			len = strlen(buf);
			whole = len > 0 && buf[len - 1] == '\n';
		}
	}
	fclose(f);
	return found;
}

int
config_check_plugins(const struct config *cfg, const struct config_program *p,
		     const struct plugin_host *h, const char *ws,
		     void (*report)(void *arg, const char *field, const char *msg), void *arg)
{
	static const struct {
		const char *field;
		enum plugin_kind kind;
	} refs[] = {{"policy", PLUGIN_POLICY}, {"cadence", PLUGIN_CADENCE}};
	int bad = 0;
	for (size_t i = 0; i < sizeof(refs) / sizeof(refs[0]); i++) {
		const char *ref = i == 0 ? p->policy : p->cadence;
		if (ref == NULL)
			continue;
		char path[4096], msg[1536];
		struct diag d;
		diag_clear(&d);
		if (plugin_resolve(h, ws, refs[i].kind, ref, NULL, path, sizeof(path), &d) == 0)
			continue;
		bad++;
		int named = d.code == DIAG_NOTFOUND && plugin_name_valid(ref);
		snprintf(msg, sizeof(msg), "%s:%d: program '%s': field '%s': %s%s%s%s%s",
			 cfg->path != NULL ? cfg->path : "tandem.lua",
			 config_field_line(cfg, p, refs[i].field), p->name, refs[i].field, d.msg,
			 named ? " (write one with `tandem plugins new " : "",
			 named ? plugin_kind_name(refs[i].kind) : "", named ? " " : "",
			 named ? ref : "");
		if (named)
			strncat(msg, "`)", sizeof(msg) - strlen(msg) - 1);
		report(arg, refs[i].field, msg);
	}
	return bad;
}
