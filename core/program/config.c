/*
 * config: reads and validates tandem.lua. See config.h for the contract.
 *
 * The declaration functions workspace{} and program{} run inside the sandboxed
 * chunk and validate their table on the spot, raising a Lua error whose message
 * already carries "FILE:LINE: ..." of the declaration. Everything they keep is
 * attached to the struct config at once, so an error (a longjmp) leaks nothing:
 * config_fini() frees whatever was filled in.
 */
#include "program/config.h"

#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <lauxlib.h>
#include <lua.h>
#include <sqlite3.h>

#include "lua/plugin.h"
#include "lua/sandbox.h"
#include "lua/worker.h"
#include "store/stmt.h"
#include "store/store.h"
#include "time/tz.h"

static const char *const workspace_fields[] = {"organization", "timezone", NULL};
static const char *const program_fields[] = {
	"name", "title", "description", "starts", "ends", "goals", "topics",
	"time_commitment", "policy", "cadence", NULL};
static const char *const commitment_fields[] = {"sessions_per_month", "minutes_per_session", NULL};

/* Raises "FILE:LINE: WHAT: message" where FILE:LINE is the declaration's caller. */
static int
decl_error(lua_State *L, const char *what, const char *fmt, ...)
{
	lua_Debug ar;
	char where[512] = "";
	if (lua_getstack(L, 1, &ar) && lua_getinfo(L, "Sl", &ar) && ar.currentline > 0)
		snprintf(where, sizeof(where), "%s:%d: ", ar.short_src, ar.currentline);
	char msg[768];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	lua_pushfstring(L, "%s%s: %s", where, what, msg);
	return lua_error(L);
}

static int
decl_line(lua_State *L)
{
	lua_Debug ar;
	if (lua_getstack(L, 1, &ar) && lua_getinfo(L, "l", &ar))
		return ar.currentline;
	return 0;
}

/* Rejects keys of the table at idx that are not in valid[], listing the valid ones. */
static void
check_fields(lua_State *L, int idx, const char *what, const char *const *valid)
{
	lua_pushnil(L); /* stack: ..., nil */
	while (lua_next(L, idx) != 0) {
		/* stack: ..., key, value */
		if (lua_type(L, -2) != LUA_TSTRING)
			decl_error(L, what, "keys must be field names (got a %s key)",
				   luaL_typename(L, -2));
		const char *key = lua_tostring(L, -2);
		int known = 0;
		for (const char *const *f = valid; *f; f++)
			known |= strcmp(*f, key) == 0;
		if (!known) {
			luaL_Buffer b;
			luaL_buffinit(L, &b);
			for (const char *const *f = valid; *f; f++) {
				if (f != valid)
					luaL_addstring(&b, ", ");
				luaL_addstring(&b, *f);
			}
			luaL_pushresult(&b);
			decl_error(L, what, "unknown field '%s' (valid fields: %s)", key,
				   lua_tostring(L, -1));
		}
		lua_pop(L, 1);
	}
}

static char *
xstrdup(lua_State *L, const char *s)
{
	char *p = strdup(s);
	if (p == NULL)
		luaL_error(L, "out of memory");
	return p;
}

/* Optional string field; stores a copy in *out (NULL when absent). */
static void
get_string(lua_State *L, int idx, const char *what, const char *field, char **out)
{
	lua_getfield(L, idx, field);
	if (!lua_isnil(L, -1)) {
		if (lua_type(L, -1) != LUA_TSTRING)
			decl_error(L, what, "field '%s' must be a string (got %s)", field,
				   luaL_typename(L, -1));
		*out = xstrdup(L, lua_tostring(L, -1));
	}
	lua_pop(L, 1);
}

/* Optional list of strings; *out and *n are filled as the items are copied. */
static void
get_list(lua_State *L, int idx, const char *what, const char *field, char ***out, int *n)
{
	lua_getfield(L, idx, field); /* stack: ..., list */
	if (lua_isnil(L, -1)) {
		lua_pop(L, 1);
		return;
	}
	if (!lua_istable(L, -1))
		decl_error(L, what, "field '%s' must be a list of strings (got %s)", field,
			   luaL_typename(L, -1));
	lua_Integer len = luaL_len(L, -1);
	if (len > 10000)
		decl_error(L, what, "field '%s' has too many items", field);
	*out = calloc((size_t)len + 1, sizeof(char *));
	if (*out == NULL)
		luaL_error(L, "out of memory");
	for (lua_Integer i = 1; i <= len; i++) {
		lua_geti(L, -1, i);
		if (lua_type(L, -1) != LUA_TSTRING)
			decl_error(L, what, "field '%s' item %d must be a string (got %s)", field,
				   (int)i, luaL_typename(L, -1));
		(*out)[*n] = xstrdup(L, lua_tostring(L, -1));
		(*n)++;
		lua_pop(L, 1);
	}
	lua_pop(L, 1);
}

static struct config *
upvalue_config(lua_State *L)
{
	return lua_touserdata(L, lua_upvalueindex(1));
}

/* workspace{organization=, timezone=} */
static int
l_workspace(lua_State *L)
{
	struct config *cfg = upvalue_config(L);
	const char *what = "workspace";
	if (!lua_istable(L, 1))
		decl_error(L, what, "expects a table: workspace { organization = ..., timezone = ... }");
	if (cfg->has_workspace)
		decl_error(L, what, "declared twice");
	cfg->has_workspace = 1;
	check_fields(L, 1, what, workspace_fields);
	get_string(L, 1, what, "organization", &cfg->organization);
	get_string(L, 1, what, "timezone", &cfg->timezone);
	if (cfg->timezone != NULL && !tz_valid(cfg->timezone))
		decl_error(L, what, "field 'timezone': '%s' is not an IANA time zone", cfg->timezone);
	return 0;
}

static int
get_positive_int(lua_State *L, int idx, const char *what, const char *field, int max)
{
	lua_getfield(L, idx, field);
	int v = 0;
	if (!lua_isnil(L, -1)) {
		int isint;
		lua_Integer n = lua_tointegerx(L, -1, &isint);
		if (!isint || n < 1 || n > max)
			decl_error(L, what, "field '%s' must be a whole number from 1 to %d", field, max);
		v = (int)n;
	}
	lua_pop(L, 1);
	return v;
}

/* program{name=, title=, ...}: validated and appended to the config. */
static int
l_program(lua_State *L)
{
	struct config *cfg = upvalue_config(L);
	char what[128] = "program";
	if (!lua_istable(L, 1))
		decl_error(L, what, "expects a table: program { name = ..., ... }");
	lua_getfield(L, 1, "name");
	if (lua_type(L, -1) != LUA_TSTRING)
		decl_error(L, what, "field 'name' is required and must be a string");
	const char *name = lua_tostring(L, -1);
	if (!plugin_name_valid(name))
		decl_error(L, what, "field 'name': '%s' must be 1-64 characters of a-z, 0-9, _ or -", name);
	snprintf(what, sizeof(what), "program '%s'", name);
	for (int i = 0; i < cfg->nprograms; i++)
		if (strcmp(cfg->programs[i].name, name) == 0)
			decl_error(L, what, "declared twice (first on line %d)", cfg->programs[i].line);
	lua_pop(L, 1);
	check_fields(L, 1, what, program_fields);

	/* Attach the program before filling it, so a later error leaks nothing. */
	struct config_program *arr = realloc(cfg->programs, (cfg->nprograms + 1) * sizeof(*arr));
	if (arr == NULL)
		return luaL_error(L, "out of memory");
	cfg->programs = arr;
	struct config_program *p = &arr[cfg->nprograms++];
	memset(p, 0, sizeof(*p));
	p->line = decl_line(L);
	get_string(L, 1, what, "name", &p->name);
	get_string(L, 1, what, "title", &p->title);
	get_string(L, 1, what, "description", &p->description);
	get_string(L, 1, what, "starts", &p->starts);
	get_string(L, 1, what, "ends", &p->ends);
	get_string(L, 1, what, "policy", &p->policy);
	get_string(L, 1, what, "cadence", &p->cadence);
	get_list(L, 1, what, "goals", &p->goals, &p->ngoals);
	get_list(L, 1, what, "topics", &p->topics, &p->ntopics);
	if (p->starts != NULL && !tz_date_valid(p->starts))
		decl_error(L, what, "field 'starts': '%s' is not a date YYYY-MM-DD", p->starts);
	if (p->ends != NULL && !tz_date_valid(p->ends))
		decl_error(L, what, "field 'ends': '%s' is not a date YYYY-MM-DD", p->ends);
	if (p->starts != NULL && p->ends != NULL && strcmp(p->ends, p->starts) < 0)
		decl_error(L, what, "field 'ends' (%s) is before 'starts' (%s)", p->ends, p->starts);
	lua_getfield(L, 1, "time_commitment"); /* stack: decl, tc */
	if (!lua_isnil(L, -1)) {
		if (!lua_istable(L, -1))
			decl_error(L, what, "field 'time_commitment' must be a table "
					    "{ sessions_per_month = N, minutes_per_session = M }");
		int tc = lua_gettop(L);
		check_fields(L, tc, what, commitment_fields);
		p->sessions_per_month = get_positive_int(L, tc, what, "sessions_per_month", 31);
		p->minutes_per_session = get_positive_int(L, tc, what, "minutes_per_session", 480);
	}
	lua_pop(L, 1);
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
		free_list(p->goals, p->ngoals);
		free_list(p->topics, p->ntopics);
	}
	free(cfg->programs);
	free(cfg->path);
	free(cfg->organization);
	free(cfg->timezone);
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

struct config_trial {
	const char *path;
	const struct plugin_limits *lim;
};

/* Worker body: evaluate the file in the child and throw the result away. */
static int
config_trial(void *arg, struct worker_buf *out, struct diag *d)
{
	(void)out;
	struct config_trial *t = arg;
	struct config scratch;
	if (config_eval(t->path, t->lim, &scratch, d) < 0)
		return -1;
	config_fini(&scratch);
	return 0;
}

int
config_load(const char *path, struct config *cfg, struct diag *d)
{
	memset(cfg, 0, sizeof(*cfg));
	struct plugin_limits lim;
	plugin_limits_default(&lim);
	/* A config declares a handful of tables: 1e7 instructions is generous, and
	 * runs out (in about 50 ms) well before the wall clock even on a loaded
	 * machine. */
	lim.instructions = 10000000;
	lim.deadline_ms = 2000;
	/* The count hook cannot stop a hang inside a C function (a pathological
	 * string.find pattern in the file): evaluate the file once in a forked worker
	 * that is killed at the deadline, then for real in this process, where only
	 * the in-Lua budgets apply. The fork costs about a millisecond. */
	if (!worker_in_child()) {
		struct config_trial t = {path, &lim};
		enum worker_status st;
		struct diag wd;
		diag_clear(&wd);
		if (worker_run(&lim, lim.deadline_ms + 500, config_trial, &t, NULL, &st, &wd) != 0) {
			if (st == WORKER_FAILED)
				*d = wd;
			else
				diag_set(d, DIAG_INVALID, "%s: evaluation %s", path, wd.msg);
			return -1;
		}
	}
	lim.isolate = 0;
	lim.isolate_set = 1;
	return config_eval(path, &lim, cfg, d);
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

char *
config_program_json(const struct config_program *p)
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
	char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
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
