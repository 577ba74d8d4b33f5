/*
 * lua/plugin: loading a plugin file, validating its declaration, calling its
 * hooks under budgets. See plugin.h for the contract.
 */
#include "lua/plugin.h"

#include <ctype.h>
#include <lauxlib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lua/api_core.h"

struct plugin {
	lua_State *L;
	char *path;
	enum plugin_kind kind;
	char *name, *version, *description;
	int api;
	int decl_ref;
	struct plugin_limits lim;
};

/* ---- kinds and validators ---------------------------------------------------- */

static const char *const kind_names[PLUGIN_KIND_COUNT] = {"policy", "cadence", "reward", "report",
							  "job"};
static const char *const kind_dirs[PLUGIN_KIND_COUNT] = {
	"policies", "plugins/cadences", "plugins/rewards", "plugins/reports", "scripts"};

static const char *const common_fields[] = {"name", "version", "api", "description", "limits",
					    NULL};
static const char *const limit_fields[] = {"instructions", "memory_mib", "deadline_ms",
					   "batch_deadline_ms", NULL};

const char *
plugin_kind_name(enum plugin_kind kind)
{
	return (unsigned)kind < PLUGIN_KIND_COUNT ? kind_names[kind] : "?";
}

int
plugin_kind_parse(const char *name, enum plugin_kind *out)
{
	for (int k = 0; k < PLUGIN_KIND_COUNT; k++) {
		if (strcmp(name, kind_names[k]) == 0) {
			*out = (enum plugin_kind)k;
			return 0;
		}
	}
	return -1;
}

const char *
plugin_kind_dir(enum plugin_kind kind)
{
	return (unsigned)kind < PLUGIN_KIND_COUNT ? kind_dirs[kind] : "?";
}

int
plugin_decl_field(lua_State *L, int idx, const char *name, int type, int required, struct diag *d)
{
	int t = lua_getfield(L, idx, name);
	lua_pop(L, 1);
	if (t == LUA_TNIL) {
		if (required)
			return diag_set(d, DIAG_INVALID, "missing field '%s' (a %s)", name,
					lua_typename(L, type));
		return 0;
	}
	if (t != type)
		return diag_set(d, DIAG_INVALID, "field '%s' must be a %s (got %s)", name,
				lua_typename(L, type), lua_typename(L, t));
	return 1;
}

/* Provisional built-in validators: the hooks each kind needs, nothing more yet. */
static int
validate_cadence(lua_State *L, int idx, struct diag *d)
{
	return plugin_decl_field(L, idx, "plan", LUA_TFUNCTION, 1, d) < 0 ? -1 : 0;
}

static int
validate_reward(lua_State *L, int idx, struct diag *d)
{
	if (plugin_decl_field(L, idx, "on", LUA_TSTRING, 1, d) < 0)
		return -1;
	lua_getfield(L, idx, "on");
	const char *on = lua_tostring(L, -1);
	int ok = on[0] != '\0' && strchr(on, '.') != NULL;
	lua_pop(L, 1);
	if (!ok)
		return diag_set(d, DIAG_INVALID,
				"field 'on' must name an event kind like \"session.held\"");
	return plugin_decl_field(L, idx, "grant", LUA_TFUNCTION, 1, d) < 0 ? -1 : 0;
}

static int
validate_report(lua_State *L, int idx, struct diag *d)
{
	if (plugin_decl_field(L, idx, "title", LUA_TSTRING, 0, d) < 0)
		return -1;
	return plugin_decl_field(L, idx, "build", LUA_TFUNCTION, 1, d) < 0 ? -1 : 0;
}

static int
validate_job(lua_State *L, int idx, struct diag *d)
{
	if (plugin_decl_field(L, idx, "schedule", LUA_TSTRING, 1, d) < 0)
		return -1;
	return plugin_decl_field(L, idx, "run", LUA_TFUNCTION, 1, d) < 0 ? -1 : 0;
}

static const char *const cadence_fields[] = {"plan", NULL};
static const char *const reward_fields[] = {"on", "grant", NULL};
static const char *const report_fields[] = {"title", "build", NULL};
static const char *const job_fields[] = {"schedule", "run", NULL};

struct kind_def {
	const char *const *fields;
	plugin_validate_fn fn;
};

static struct kind_def kind_defs[PLUGIN_KIND_COUNT] = {
	[PLUGIN_POLICY] = {NULL, NULL},
	[PLUGIN_CADENCE] = {cadence_fields, validate_cadence},
	[PLUGIN_REWARD] = {reward_fields, validate_reward},
	[PLUGIN_REPORT] = {report_fields, validate_report},
	[PLUGIN_JOB] = {job_fields, validate_job},
};

int
plugin_kind_set_validator(const char *kind, const char *const *fields, plugin_validate_fn fn,
			  struct diag *d)
{
	enum plugin_kind k;
	if (plugin_kind_parse(kind, &k) != 0)
		return diag_set(d, DIAG_INVALID, "unknown plugin kind '%s'", kind);
	kind_defs[k].fields = fields;
	kind_defs[k].fn = fn;
	return 0;
}

int
plugin_name_valid(const char *s)
{
	size_t n = strlen(s);
	int ok = n > 0 && n <= 64;
	for (size_t i = 0; ok && i < n; i++)
		ok = islower((unsigned char)s[i]) || isdigit((unsigned char)s[i]) || s[i] == '_' ||
		     s[i] == '-';
	return ok;
}

/* ---- declaration checks ------------------------------------------------------ */

static int
in_list(const char *const *list, const char *s)
{
	for (; list != NULL && *list; list++)
		if (strcmp(*list, s) == 0)
			return 1;
	return 0;
}

static void
list_valid_fields(enum plugin_kind kind, char *buf, size_t size)
{
	size_t n = 0;
	buf[0] = '\0';
	const char *const *lists[2] = {common_fields, kind_defs[kind].fields};
	for (int i = 0; i < 2; i++)
		for (const char *const *f = lists[i]; f != NULL && *f; f++)
			n += (size_t)snprintf(buf + (n < size ? n : size), n < size ? size - n : 0,
					      "%s%s", n ? ", " : "", *f);
}

/* Every key must be a known field name; reports the smallest unknown one. */
static int
check_keys(lua_State *L, int idx, enum plugin_kind kind, struct diag *d)
{
	int registered = kind_defs[kind].fields != NULL || kind_defs[kind].fn != NULL;
	char unknown[128] = "";
	lua_pushnil(L);
	while (lua_next(L, idx)) {
		lua_pop(L, 1);
		if (lua_type(L, -1) != LUA_TSTRING) {
			const char *t = luaL_typename(L, -1);
			lua_pop(L, 1);
			return diag_set(d, DIAG_INVALID,
					"the declaration has a %s key; fields are written name = value",
					t);
		}
		const char *k = lua_tostring(L, -1);
		if (registered && !in_list(common_fields, k) && !in_list(kind_defs[kind].fields, k) &&
		    (unknown[0] == '\0' || strcmp(k, unknown) < 0))
			snprintf(unknown, sizeof(unknown), "%s", k);
	}
	if (unknown[0] != '\0') {
		char valid[512];
		list_valid_fields(kind, valid, sizeof(valid));
		return diag_set(d, DIAG_INVALID, "unknown field '%s' in a %s declaration (valid fields: %s)",
				unknown, plugin_kind_name(kind), valid);
	}
	return 0;
}

static int
check_name(lua_State *L, int idx, struct diag *d)
{
	if (plugin_decl_field(L, idx, "name", LUA_TSTRING, 1, d) < 0)
		return -1;
	lua_getfield(L, idx, "name");
	const char *s = lua_tostring(L, -1);
	int ok = plugin_name_valid(s);
	if (!ok)
		diag_set(d, DIAG_INVALID,
			 "field 'name' must be 1 to 64 characters of a-z, 0-9, '_' or '-' (got \"%.64s\")",
			 s);
	lua_pop(L, 1);
	return ok ? 0 : -1;
}

/* "MAJOR.MINOR.PATCH" with an optional "-pre" or "+build" suffix. */
static int
semver_like(const char *s)
{
	for (int part = 0; part < 3; part++) {
		if (!isdigit((unsigned char)*s))
			return 0;
		while (isdigit((unsigned char)*s))
			s++;
		if (part < 2 && *s++ != '.')
			return 0;
	}
	if (*s == '\0')
		return 1;
	if (*s != '-' && *s != '+')
		return 0;
	if (*++s == '\0')
		return 0;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '.' && *s != '-' && *s != '+')
			return 0;
	return 1;
}

static int
check_version(lua_State *L, int idx, struct diag *d)
{
	if (plugin_decl_field(L, idx, "version", LUA_TSTRING, 1, d) < 0)
		return -1;
	lua_getfield(L, idx, "version");
	const char *s = lua_tostring(L, -1);
	int ok = semver_like(s);
	if (!ok)
		diag_set(d, DIAG_INVALID, "field 'version' must look like \"1.2.0\" (got \"%.64s\")", s);
	lua_pop(L, 1);
	return ok ? 0 : -1;
}

/* An integer-valued number field; 0 absent, 1 ok, -1 error. */
static int
int_field(lua_State *L, int idx, const char *label, const char *name, lua_Integer *out,
	  struct diag *d)
{
	int t = lua_getfield(L, idx, name);
	int isnum = 0;
	lua_Integer v = lua_tointegerx(L, -1, &isnum);
	lua_pop(L, 1);
	if (t == LUA_TNIL)
		return 0;
	if (t != LUA_TNUMBER || !isnum)
		return diag_set(d, DIAG_INVALID, "field '%s' must be an integer (got %s)", label,
				t == LUA_TNUMBER ? "a fractional number" : lua_typename(L, t));
	*out = v;
	return 1;
}

static int
check_api(lua_State *L, int idx, struct diag *d)
{
	lua_Integer api = 0;
	int rc = int_field(L, idx, "api", "api", &api, d);
	if (rc < 0)
		return -1;
	if (rc == 0)
		return diag_set(d, DIAG_INVALID, "missing field 'api' (the plugin API version, %d)",
				PLUGIN_API_VERSION);
	if (api > PLUGIN_API_VERSION)
		return diag_set(d, DIAG_INVALID,
				"field 'api' is %lld, but this host supports plugin API version %d",
				(long long)api, PLUGIN_API_VERSION);
	if (api < 1)
		return diag_set(d, DIAG_INVALID, "field 'api' must be at least 1 (got %lld)",
				(long long)api);
	return 0;
}

/* Reads and checks `limits`; fills *out (zero = not given). */
static int
read_limits(lua_State *L, int idx, struct plugin_limits *out, struct diag *d)
{
	memset(out, 0, sizeof(*out));
	int rc = plugin_decl_field(L, idx, "limits", LUA_TTABLE, 0, d);
	if (rc <= 0)
		return rc;
	lua_getfield(L, idx, "limits");
	int t = lua_gettop(L);
	lua_pushnil(L);
	while (lua_next(L, t)) {
		lua_pop(L, 1);
		if (lua_type(L, -1) != LUA_TSTRING || !in_list(limit_fields, lua_tostring(L, -1))) {
			diag_set(d, DIAG_INVALID,
				 "unknown field 'limits.%s' (valid fields: instructions, memory_mib, "
				 "deadline_ms, batch_deadline_ms)",
				 lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : "?");
			lua_pop(L, 2);
			return -1;
		}
	}
	static const struct {
		const char *name;
		long long max;
	} f[] = {
		{"instructions", PLUGIN_MAX_INSTRUCTIONS},
		{"memory_mib", (long long)(PLUGIN_MAX_MEMORY >> 20)},
		{"deadline_ms", PLUGIN_MAX_DEADLINE_MS},
		{"batch_deadline_ms", PLUGIN_MAX_DEADLINE_MS},
	};
	lua_Integer v[4] = {0, 0, 0, 0};
	for (int i = 0; i < 4; i++) {
		char label[64];
		snprintf(label, sizeof(label), "limits.%s", f[i].name);
		int r = int_field(L, t, label, f[i].name, &v[i], d);
		if (r < 0 || (r == 1 && (v[i] < 1 || v[i] > f[i].max))) {
			if (r == 1)
				diag_set(d, DIAG_INVALID, "field '%s' must be between 1 and %lld (got %lld)",
					 label, f[i].max, (long long)v[i]);
			lua_pop(L, 1);
			return -1;
		}
	}
	lua_pop(L, 1);
	out->instructions = v[0];
	out->memory = (size_t)v[1] << 20;
	out->deadline_ms = (int)v[2];
	out->batch_deadline_ms = (int)v[3];
	return 1;
}

int
plugin_decl_validate(lua_State *L, int idx, enum plugin_kind kind, struct diag *d)
{
	idx = lua_absindex(L, idx);
	struct plugin_limits lim;
	if (check_keys(L, idx, kind, d) || check_name(L, idx, d) || check_version(L, idx, d) ||
	    check_api(L, idx, d) ||
	    plugin_decl_field(L, idx, "description", LUA_TSTRING, 0, d) < 0 ||
	    read_limits(L, idx, &lim, d) < 0)
		return -1;
	if (kind_defs[kind].fn != NULL) {
		int top = lua_gettop(L);
		int rc = kind_defs[kind].fn(L, idx, d);
		lua_settop(L, top);
		if (rc != 0)
			return -1;
	}
	return 0;
}

/* ---- loading ----------------------------------------------------------------- */

static int
install_api(lua_State *L)
{
	api_core_push_base(L);
	api_core_add_plugin_api(L, -1);
	plugin_sandbox_readonly(L, -1, "tandem");
	lua_setglobal(L, "tandem");
	return 0;
}

static char *
decl_string(lua_State *L, int idx, const char *field)
{
	lua_getfield(L, idx, field);
	const char *s = lua_tostring(L, -1);
	char *r = strdup(s ? s : "");
	lua_pop(L, 1);
	return r;
}

/* Caller's non-zero fields beat the declaration's, which beat the defaults. */
static void
merge_limits(const struct plugin_limits *caller, const struct plugin_limits *decl,
	     struct plugin_limits *out)
{
	struct plugin_limits m = *decl;
	if (caller != NULL) {
		if (caller->instructions > 0)
			m.instructions = caller->instructions;
		if (caller->memory > 0)
			m.memory = caller->memory;
		if (caller->deadline_ms > 0)
			m.deadline_ms = caller->deadline_ms;
		if (caller->batch_deadline_ms > 0)
			m.batch_deadline_ms = caller->batch_deadline_ms;
		m.isolate = caller->isolate;
		m.isolate_set = caller->isolate_set;
	}
	plugin_limits_resolve(&m, out);
}

static struct plugin *
load_in_process(const char *path, const struct plugin_limits *lim, struct diag *d)
{
	lua_State *L = plugin_sandbox_new(lim, d);
	if (L == NULL)
		return NULL;
	plugin_sandbox_set_name(L, path);
	lua_pushcfunction(L, install_api);
	if (plugin_sandbox_pcall(L, 0, 0, d) != 0 || plugin_sandbox_dofile(L, path, d) != 0) {
		plugin_sandbox_delete(L);
		return NULL;
	}
	/* stack: value returned by the file */
	enum plugin_kind kind;
	if (!api_core_decl_kind(L, -1, &kind)) {
		diag_set(d, DIAG_INVALID,
			 "%s: the file must return a declaration made with tandem.policy{...}, "
			 "tandem.cadence{...}, tandem.reward{...}, tandem.report{...} or "
			 "tandem.job{...} (it returned %s)",
			 path, luaL_typename(L, -1));
		plugin_sandbox_delete(L);
		return NULL;
	}
	struct plugin *p = calloc(1, sizeof(*p));
	struct plugin_limits decl_lim;
	struct diag ignored;
	if (p == NULL || read_limits(L, lua_gettop(L), &decl_lim, &ignored) < 0) {
		free(p);
		plugin_sandbox_delete(L);
		diag_set(d, DIAG_NOMEM, "out of memory loading %s", path);
		return NULL;
	}
	p->L = L;
	p->kind = kind;
	p->path = strdup(path);
	p->name = decl_string(L, -1, "name");
	p->version = decl_string(L, -1, "version");
	p->description = decl_string(L, -1, "description");
	lua_getfield(L, -1, "api");
	p->api = (int)lua_tointeger(L, -1);
	lua_pop(L, 1);
	p->decl_ref = luaL_ref(L, LUA_REGISTRYINDEX);
	merge_limits(lim, &decl_lim, &p->lim);
	plugin_sandbox_set_limits(L, &p->lim);
	plugin_sandbox_set_name(L, p->name);
	if (p->path == NULL || p->name == NULL || p->version == NULL || p->description == NULL) {
		plugin_delete(p);
		diag_set(d, DIAG_NOMEM, "out of memory loading %s", path);
		return NULL;
	}
	return p;
}

struct trial {
	const char *path;
	const struct plugin_limits *lim;
};

/* Worker body: load the file in the child and throw it away. */
static int
trial_load(void *arg, struct worker_buf *out, struct diag *d)
{
	struct trial *t = arg;
	/* The real load that follows in the parent logs the same lines: say them once. */
	if (worker_in_child())
		tlog_set_handler(NULL, NULL);
	struct plugin *p = load_in_process(t->path, t->lim, d);
	if (p == NULL)
		return -1;
	plugin_delete(p);
	return 0;
}

/* Worker failures other than fn's own error get "plugin PATH: WHAT ..." around them. */
static int
worker_failure(const char *path, const char *what, enum worker_status st, struct diag *d)
{
	if (st == WORKER_FAILED)
		return -1;
	char msg[DIAG_MSG_MAX];
	snprintf(msg, sizeof(msg), "%s", d->msg);
	return diag_set(d, d->code ? d->code : DIAG_PLUGIN, "plugin %s: %s %s", path, what, msg);
}

struct plugin *
plugin_load(const char *path, const struct plugin_limits *lim, struct diag *d)
{
	struct plugin_limits r;
	plugin_limits_resolve(lim, &r);
	if (r.isolate && !worker_in_child()) {
		struct trial t = {path, lim};
		enum worker_status st;
		struct diag wd;
		diag_clear(&wd);
		if (worker_run(&r, r.deadline_ms, trial_load, &t, NULL, &st, &wd) != 0) {
			worker_failure(path, "load", st, &wd);
			*d = wd;
			return NULL;
		}
	}
	return load_in_process(path, lim, d);
}

void
plugin_delete(struct plugin *p)
{
	if (p == NULL)
		return;
	plugin_sandbox_delete(p->L);
	free(p->path);
	free(p->name);
	free(p->version);
	free(p->description);
	free(p);
}

enum plugin_kind
plugin_kind(const struct plugin *p)
{
	return p->kind;
}

const char *
plugin_name(const struct plugin *p)
{
	return p->name;
}

const char *
plugin_version(const struct plugin *p)
{
	return p->version;
}

const char *
plugin_description(const struct plugin *p)
{
	return p->description;
}

const char *
plugin_path(const struct plugin *p)
{
	return p->path;
}

int
plugin_api(const struct plugin *p)
{
	return p->api;
}

const struct plugin_limits *
plugin_limits(const struct plugin *p)
{
	return &p->lim;
}

lua_State *
plugin_state(const struct plugin *p)
{
	return p->L;
}

void
plugin_push_decl(const struct plugin *p)
{
	lua_rawgeti(p->L, LUA_REGISTRYINDEX, p->decl_ref);
}

/* Pushes decl[hook] (raw get: a declaration's metatable cannot fake hooks). */
static int
push_hook(const struct plugin *p, const char *hook)
{
	plugin_push_decl(p);
	lua_pushstring(p->L, hook);
	int t = lua_rawget(p->L, -2);
	lua_remove(p->L, -2);
	return t == LUA_TFUNCTION;
}

int
plugin_has_hook(const struct plugin *p, const char *hook)
{
	int ok = push_hook(p, hook);
	lua_pop(p->L, 1);
	return ok;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int
plugin_hooks(const struct plugin *p, char ***out, struct diag *d)
{
	lua_State *L = p->L;
	size_t bytes = 0;
	int n = 0;
	plugin_push_decl(p);
	lua_pushnil(L);
	while (lua_next(L, -2)) {
		if (lua_type(L, -1) == LUA_TFUNCTION && lua_type(L, -2) == LUA_TSTRING) {
			n++;
			bytes += strlen(lua_tostring(L, -2)) + 1;
		}
		lua_pop(L, 1);
	}
	char **v = malloc((size_t)n * sizeof(char *) + bytes + 1);
	if (v == NULL) {
		lua_pop(L, 1);
		return diag_set(d, DIAG_NOMEM, "out of memory listing hooks");
	}
	char *s = (char *)(v + n);
	int i = 0;
	lua_pushnil(L);
	while (lua_next(L, -2)) {
		if (lua_type(L, -1) == LUA_TFUNCTION && lua_type(L, -2) == LUA_TSTRING) {
			const char *k = lua_tostring(L, -2);
			v[i++] = strcpy(s, k);
			s += strlen(k) + 1;
		}
		lua_pop(L, 1);
	}
	lua_pop(L, 1);
	qsort(v, (size_t)n, sizeof(char *), cmp_str);
	*out = v;
	return n;
}

/* ---- calling hooks ----------------------------------------------------------- */

int
plugin_call(struct plugin *p, const char *hook, int nargs, int nresults, struct diag *d)
{
	lua_State *L = p->L;
	if (!push_hook(p, hook)) {
		lua_pop(L, 1 + nargs);
		return diag_set(d, DIAG_PLUGIN, "%s: the %s has no hook '%s'", p->path,
				plugin_kind_name(p->kind), hook);
	}
	lua_insert(L, -1 - nargs); /* stack: hook, args */
	plugin_sandbox_begin(L, hook, p->lim.instructions, p->lim.deadline_ms);
	int rc = plugin_sandbox_pcall(L, nargs, nresults, d);
	plugin_sandbox_end(L);
	return rc;
}

int
plugin_run(struct plugin *p, const char *hook, lua_CFunction fn, void *ud, int64_t n_calls,
	   struct diag *d)
{
	lua_State *L = p->L;
	lua_pushcfunction(L, fn);
	if (!push_hook(p, hook)) {
		lua_pop(L, 2);
		return diag_set(d, DIAG_PLUGIN, "%s: the %s has no hook '%s'", p->path,
				plugin_kind_name(p->kind), hook);
	}
	lua_pushlightuserdata(L, ud); /* stack: fn, hook, ud */
	int64_t budget = p->lim.instructions;
	if (n_calls > 1)
		budget = budget > INT64_MAX / n_calls ? INT64_MAX : budget * n_calls;
	plugin_sandbox_begin(L, hook, budget, p->lim.batch_deadline_ms);
	int rc = plugin_sandbox_pcall(L, 2, 0, d);
	plugin_sandbox_end(L);
	return rc;
}

int
plugin_isolate(struct plugin *p, const char *hook, int deadline_ms, worker_fn fn, void *arg,
	       struct worker_buf *out, struct diag *d)
{
	enum worker_status st;
	if (worker_run(&p->lim, deadline_ms, fn, arg, out, &st, d) == 0)
		return 0;
	char what[96];
	snprintf(what, sizeof(what), "hook %s", hook ? hook : "?");
	return worker_failure(p->path, what, st, d);
}
