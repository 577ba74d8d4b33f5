/*
 * lua/plugin: loading a plugin in its worker, the host's data-only view of its
 * declaration, and running hooks in the worker. See plugin.h for the contract.
 *
 * One struct plugin exists in the host. Its worker is a fork of the host, so the
 * child has a copy of it: the child's `init` (load_in_worker) loads the file
 * into a live struct plugin and stores it in the copy's `live` field; requests
 * then run operations against that live plugin. In in-process mode the same
 * init and serve functions run in the host, so there is one code path.
 *
 * Request bytes: the operation's address, the hook name (u16 length + bytes),
 * zero padding to a multiple of 8 bytes, then the operation's input (so it
 * starts 8-byte aligned in the worker's buffer, and may hold doubles read in
 * place). Start result (the child's answer to init): the
 * kind (i32), then the declaration as marshalled data (hooks as markers).
 */
#include "lua/plugin.h"

#include <lauxlib.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lua/api_core.h"
#include "lua/marshal.h"

struct plugin {
	char *path;
	enum plugin_kind kind;
	char *name, *version, *description;
	int api;
	struct plugin_limits lim;    /* effective: caller > declaration > defaults */
	struct plugin_limits caller; /* as given to plugin_load (for reloads) */
	char **hooks;                /* sorted; one block */
	int nhooks;
	struct buf decl;      /* the declaration, marshalled, as first loaded */
	lua_State *L;                /* data-only in the host; live in `live` */
	int decl_ref;
	int is_live;                 /* L ran the file */
	struct worker *w;            /* NULL in in-process mode */
	struct plugin *live;         /* the live plugin (in the worker, or in-process) */
	int refused;                 /* the file declared something else when reloaded */
	struct plugin *retired;      /* in-process: the loaded plugin whose state p took over */
	struct plugin_kind_ops kinds[PLUGIN_KIND_COUNT]; /* copied from the host at load */
	struct api_core_kinds api_kinds;                 /* the constructors' view of them */
};

static const char *const kind_constructors[PLUGIN_KIND_COUNT] = {"policy", "cadence", "reward",
								 "report", "job", "notifier"};

static int
validate_cb(void *ud, lua_State *L, int idx, int kind, struct diag *d)
{
	const struct plugin_kind_ops *kinds = ud;
	return plugin_decl_validate(kinds, L, idx, (enum plugin_kind)kind, d);
}

/* pcall body: installs the `tandem` table. stack: 1 the plugin's api_core_kinds */
static int
install_api(lua_State *L)
{
	const struct api_core_kinds *kinds = lua_touserdata(L, 1);
	plugin_sandbox_push_tandem(L);
	api_core_add_plugin_api(L, -1, kinds);
	plugin_sandbox_readonly(L, -1, "tandem");
	lua_setglobal(L, "tandem");
	return 0;
}

/* A declaration's hook as the host sees it: it only says where hooks run. */
static int
hook_stub(lua_State *L)
{
	return luaL_error(L, "this plugin's hooks run in its worker process");
}

/* Caller's non-zero fields beat the declaration's, which beat the defaults. */
static void
merge_limits(const struct plugin_limits *caller, const struct plugin_limits *decl,
	     struct plugin_limits *out)
{
	struct plugin_limits m = *decl;
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
	plugin_limits_resolve(&m, out);
}

/* Raw string field of the table at idx, copied ("" when absent). */
static char *
decl_string(lua_State *L, int idx, const char *field)
{
	idx = lua_absindex(L, idx);
	lua_pushstring(L, field);
	lua_rawget(L, idx);
	const char *s = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : "";
	char *r = strdup(s);
	lua_pop(L, 1);
	return r;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * The hooks of the declaration at idx: its function fields ("score"), and the functions of
 * its `on` table (a reward rule's handlers), named as Lua writes them: on["session.held"].
 * Counts them (names NULL) or writes them into names/s. Raw reads only.
 */
static int
hook_names(lua_State *L, int idx, char **names, char *s, size_t *bytes)
{
	int n = 0;
	char name[160];
	lua_pushnil(L);
	while (lua_next(L, idx)) {
		name[0] = '\0';
		if (lua_type(L, -2) == LUA_TSTRING && lua_type(L, -1) == LUA_TFUNCTION)
			snprintf(name, sizeof(name), "%s", lua_tostring(L, -2));
		if (name[0] != '\0') {
			if (names != NULL)
				s = stpcpy(names[n] = s, name) + 1;
			*bytes += strlen(name) + 1;
			n++;
		}
		lua_pop(L, 1);
	}
	lua_pushliteral(L, "on");
	if (lua_rawget(L, idx) == LUA_TTABLE) {
		int on = lua_gettop(L);
		lua_pushnil(L);
		while (lua_next(L, on)) {
			if (lua_type(L, -2) == LUA_TSTRING && lua_type(L, -1) == LUA_TFUNCTION &&
			    lua_rawlen(L, -2) < 128) {
				snprintf(name, sizeof(name), "on[\"%s\"]", lua_tostring(L, -2));
				if (names != NULL)
					s = stpcpy(names[n] = s, name) + 1;
				*bytes += strlen(name) + 1;
				n++;
			}
			lua_pop(L, 1);
		}
	}
	lua_pop(L, 1);
	return n;
}

/* Fills p's fields from the declaration table on top of p->L (raw reads). */
static int
describe(struct plugin *p, struct diag *d)
{
	lua_State *L = p->L;
	int idx = lua_gettop(L);
	struct plugin_limits decl_lim;
	if (plugin_decl_limits(L, idx, &decl_lim, d) < 0)
		return diag_prefix(d, "%s", p->path);
	merge_limits(&p->caller, &decl_lim, &p->lim);
	p->name = decl_string(L, idx, "name");
	p->version = decl_string(L, idx, "version");
	p->description = decl_string(L, idx, "description");
	lua_pushliteral(L, "api");
	lua_rawget(L, idx);
	p->api = (int)lua_tointeger(L, -1);
	lua_pop(L, 1);
	size_t bytes = 0;
	int n = hook_names(L, idx, NULL, NULL, &bytes);
	p->hooks = malloc((size_t)n * sizeof(char *) + bytes + 1);
	if (p->hooks == NULL || p->name == NULL || p->version == NULL || p->description == NULL)
		return diag_set(d, DIAG_NOMEM, "out of memory loading %s", p->path);
	p->nhooks = hook_names(L, idx, p->hooks, (char *)(p->hooks + n), &bytes);
	qsort(p->hooks, (size_t)p->nhooks, sizeof(char *), cmp_str);
	p->decl_ref = luaL_ref(L, LUA_REGISTRYINDEX);
	return 0;
}

/* A sandbox with the plugin API (p's kinds), named after the file. */
static lua_State *
new_state(struct plugin *p, const struct plugin_limits *lim, struct diag *d)
{
	lua_State *L = plugin_sandbox_new(lim, d);
	if (L == NULL)
		return NULL;
	plugin_sandbox_set_name(L, p->path);
	lua_pushcfunction(L, install_api);
	lua_pushlightuserdata(L, &p->api_kinds);
	if (plugin_sandbox_pcall(L, 1, 0, d) != 0) {
		plugin_sandbox_delete(L);
		return NULL;
	}
	return L;
}

/*
 * Runs the plugin file in p->L (a sandbox with the API) and leaves the
 * declaration it returned on the stack. 0, or -1 with "FILE:LINE: ...".
 */
static int
run_file(struct plugin *p, int *kind, struct diag *d)
{
	lua_State *L = p->L;
	if (plugin_sandbox_dofile(L, p->path, d) != 0)
		return -1;
	/* stack: value returned by the file */
	if (!api_core_decl_kind(L, -1, kind)) {
		diag_set(d, DIAG_INVALID,
			 "%s: the file must return a declaration made with tandem.policy{...}, "
			 "tandem.cadence{...}, tandem.reward{...}, tandem.report{...}, "
			 "tandem.job{...} or tandem.notifier{...} (it returned %s)",
			 p->path, luaL_typename(L, -1));
		lua_pop(L, 1);
		return -1;
	}
	p->is_live = 1;
	return 0;
}

static struct plugin *
plugin_new(const struct plugin_kind_ops *kinds, const char *path, const struct plugin_limits *lim,
	   struct diag *d)
{
	struct plugin *p = calloc(1, sizeof(*p));
	if (p == NULL || (p->path = strdup(path)) == NULL) {
		free(p);
		diag_set(d, DIAG_NOMEM, "out of memory loading %s", path);
		return NULL;
	}
	if (lim != NULL)
		p->caller = *lim;
	memcpy(p->kinds, kinds, sizeof(p->kinds));
	p->api_kinds = (struct api_core_kinds){PLUGIN_KIND_COUNT, kind_constructors, validate_cb,
					       p->kinds};
	p->decl_ref = LUA_NOREF;
	buf_init(&p->decl);
	return p;
}

static void
plugin_free(struct plugin *p)
{
	if (p == NULL)
		return;
	if (p->live != p)
		plugin_free(p->live);
	plugin_sandbox_delete(p->L);
	plugin_free(p->retired); /* after the state: its constructors point into it */
	buf_fini(&p->decl);
	free(p->hooks);
	free(p->path);
	free(p->name);
	free(p->version);
	free(p->description);
	free(p);
}

/* Loads the file into a live plugin in this process (the worker, or in-process). */
static struct plugin *
load_live(const struct plugin *host, struct diag *d)
{
	struct plugin *p = plugin_new(host->kinds, host->path, &host->caller, d);
	if (p == NULL)
		return NULL;
	int kind;
	if ((p->L = new_state(p, &host->caller, d)) == NULL || run_file(p, &kind, d) != 0) {
		plugin_free(p);
		return NULL;
	}
	p->kind = (enum plugin_kind)kind;
	if (describe(p, d) != 0) {
		plugin_free(p);
		return NULL;
	}
	plugin_sandbox_set_limits(p->L, &p->lim);
	plugin_sandbox_set_name(p->L, p->name);
	return p;
}

/* init of the worker: load, then answer the kind and the declaration as data. */
static int
load_in_worker(void *arg, struct buf *out, struct diag *d)
{
	struct plugin *host = arg;
	plugin_free(host->live);
	host->live = load_live(host, d);
	if (host->live == NULL)
		return -1;
	int32_t kind = (int32_t)host->live->kind;
	if (buf_append(out, &kind, sizeof(kind), d) != 0)
		return -1;
	plugin_push_decl(host->live);
	return marshal_encode(host->live->L, -1, MARSHAL_FUNCTIONS | MARSHAL_SORTED, "the declaration", out, d);
}

/* serve of the worker: run the requested operation against the live plugin. */
static int
serve(void *arg, const char *req, size_t len, struct buf *out, struct diag *d)
{
	struct plugin *host = arg;
	plugin_op_fn op;
	uint16_t hl;
	if (len < sizeof(op) + sizeof(hl))
		return diag_set(d, DIAG_INTERNAL, "malformed worker request");
	memcpy(&op, req, sizeof(op));
	memcpy(&hl, req + sizeof(op), sizeof(hl));
	size_t at = sizeof(op) + sizeof(hl);
	if (len - at < hl || hl >= 64)
		return diag_set(d, DIAG_INTERNAL, "malformed worker request");
	char hook[64];
	memcpy(hook, req + at, hl);
	hook[hl] = '\0';
	at += hl;
	at += (8 - at % 8) % 8; /* the input starts 8-byte aligned */
	if (at > len)
		return diag_set(d, DIAG_INTERNAL, "malformed worker request");
	return op(host->live, hook, req + at, len - at, out, d);
}

/* Words a worker death: "plugin PATH: WHAT killed after ..."; fn's own errors pass. */
static int
worker_failure(const char *path, const char *what, enum worker_status st, struct diag *d)
{
	if (st == WORKER_FAILED)
		return -1;
	char msg[DIAG_MSG_MAX];
	snprintf(msg, sizeof(msg), "%s", d->msg);
	return diag_set(d, d->code && d->code != DIAG_PLUGIN ? d->code : DIAG_PLUGIN,
			"plugin %.600s: %s %s", path, what, msg);
}

static struct worker_limits
worker_limits_of(const struct plugin_limits *r)
{
	struct worker_limits wl = {.memory = r->memory, .in_process = !r->isolate};
	return wl;
}

/* Builds the host's view from the start result: kind, then the declaration. */
static int
take_start(struct plugin *p, const struct buf *res, struct diag *d)
{
	int32_t kind;
	if (res->len < sizeof(kind))
		return diag_set(d, DIAG_INTERNAL, "%s: the worker sent no declaration", p->path);
	memcpy(&kind, res->data, sizeof(kind));
	if (kind < 0 || kind >= PLUGIN_KIND_COUNT)
		return diag_set(d, DIAG_INTERNAL, "%s: the worker sent a bad kind", p->path);
	p->kind = (enum plugin_kind)kind;
	if (buf_append(&p->decl, res->data + sizeof(kind), res->len - sizeof(kind), d) != 0)
		return -1;
	if (!p->caller.isolate_set || p->caller.isolate) {
		/* The host's data-only state: the declaration rebuilt from bytes. */
		if ((p->L = new_state(p, &p->caller, d)) == NULL ||
		    marshal_push(p->L, p->decl.data, p->decl.len, NULL, hook_stub, d) != 0)
			return diag_prefix(d, "%s", p->path);
		if (lua_type(p->L, -1) != LUA_TTABLE) {
			lua_pop(p->L, 1);
			return diag_set(d, DIAG_INVALID, "%s: the declaration is not a table", p->path);
		}
		return describe(p, d);
	}
	return 0;
}

struct plugin *
plugin_load(const struct plugin_host *h, const char *path, const struct plugin_limits *lim,
	    struct diag *d)
{
	struct plugin_limits r;
	plugin_limits_resolve(lim, &r);
	struct plugin *p = plugin_new(plugin_host_kinds(h), path, lim, d);
	if (p == NULL)
		return NULL;
	struct worker_limits wl = worker_limits_of(&r);
	struct buf res;
	buf_init(&res);
	enum worker_status st;
	p->w = worker_start(&wl, r.deadline_ms, load_in_worker, serve, p, &res, &st, d);
	if (p->w == NULL) {
		worker_failure(path, "load", st, d);
		buf_fini(&res);
		plugin_free(p);
		return NULL;
	}
	int rc = take_start(p, &res, d);
	buf_fini(&res);
	if (rc != 0) {
		plugin_delete(p);
		return NULL;
	}
	if (!r.isolate) {
		/* In-process: the live plugin is this one's view. */
		struct plugin *live = p->live;
		p->lim = live->lim;
		p->L = live->L;
		live->L = NULL;
		p->decl_ref = live->decl_ref;
		p->is_live = 1;
		p->name = live->name, live->name = NULL;
		p->version = live->version, live->version = NULL;
		p->description = live->description, live->description = NULL;
		p->api = live->api;
		p->hooks = live->hooks, live->hooks = NULL;
		p->nhooks = live->nhooks;
		p->retired = live; /* the state's constructors point at its kinds */
		p->live = p;
	}
	return p;
}

void
plugin_delete(struct plugin *p)
{
	if (p == NULL)
		return;
	worker_delete(p->w);
	p->w = NULL;
	plugin_free(p);
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

const struct plugin_kind_ops *
plugin_kind_ops(const struct plugin *p)
{
	return &p->kinds[p->kind];
}

int
plugin_isolated(const struct plugin *p)
{
	return p->lim.isolate;
}

/* The plugin whose state runs code in this process, or NULL. */
static struct plugin *
live_here(const struct plugin *p)
{
	if (p->is_live)
		return (struct plugin *)p;
	if (p->live != NULL && worker_in_child())
		return p->live;
	return NULL;
}

lua_State *
plugin_state(const struct plugin *p)
{
	struct plugin *l = live_here(p);
	return l != NULL ? l->L : p->L;
}

void
plugin_push_decl(const struct plugin *p)
{
	struct plugin *l = live_here(p);
	const struct plugin *q = l != NULL ? l : p;
	lua_rawgeti(q->L, LUA_REGISTRYINDEX, q->decl_ref);
}

const char *
plugin_decl_data(const struct plugin *p, size_t *len)
{
	*len = p->decl.len;
	return p->decl.data;
}

int
plugin_has_hook(const struct plugin *p, const char *hook)
{
	for (int i = 0; i < p->nhooks; i++)
		if (strcmp(p->hooks[i], hook) == 0)
			return 1;
	return 0;
}

int
plugin_hooks(const struct plugin *p, char ***out, struct diag *d)
{
	size_t bytes = 0;
	for (int i = 0; i < p->nhooks; i++)
		bytes += strlen(p->hooks[i]) + 1;
	char **v = malloc((size_t)p->nhooks * sizeof(char *) + bytes + 1);
	if (v == NULL)
		return diag_set(d, DIAG_NOMEM, "out of memory listing hooks");
	char *s = (char *)(v + p->nhooks);
	for (int i = 0; i < p->nhooks; i++) {
		v[i] = strcpy(s, p->hooks[i]);
		s += strlen(s) + 1;
	}
	*out = v;
	return p->nhooks;
}

/* ---- running in the worker ------------------------------------------------------ */

/* Restarts a dead worker; the file must declare the same thing again. */
static int
revive(struct plugin *p, const char *hook, struct diag *d)
{
	if (!p->refused && worker_alive(p->w))
		return 0;
	if (!p->refused) {
		struct buf res;
		buf_init(&res);
		enum worker_status st;
		int rc = worker_restart(p->w, p->lim.deadline_ms, &res, &st, d);
		int same = rc == 0 && res.len == sizeof(int32_t) + p->decl.len &&
			   memcmp(res.data + sizeof(int32_t), p->decl.data, p->decl.len) == 0;
		buf_fini(&res);
		if (rc != 0) {
			char what[128];
			snprintf(what, sizeof(what), "reload for hook %s", hook ? hook : "?");
			return worker_failure(p->path, what, st, d);
		}
		if (same)
			return 0;
		p->refused = 1;
	}
	return diag_set(d, DIAG_PLUGIN,
			"plugin %s: hook %s not run: the file declared something else when it was "
			"loaded again (a declaration must not depend on time or state)",
			p->path, hook ? hook : "?");
}

struct worker *
plugin_worker(struct plugin *p)
{
	return p->w;
}

int
plugin_exec_request(struct plugin *p, plugin_op_fn op, const char *hook, const void *in, size_t n,
		    struct buf *req, struct diag *d)
{
	if (p->w == NULL)
		return diag_set(d, DIAG_INTERNAL, "%s: the plugin has no worker", p->path);
	if (revive(p, hook, d) != 0)
		return -1;
	size_t hl = hook ? strlen(hook) : 0;
	if (hl >= 64)
		return diag_set(d, DIAG_INVALID, "hook name '%.80s' is too long", hook);
	uint16_t h16 = (uint16_t)hl;
	static const char zeros[8];
	size_t head = sizeof(op) + sizeof(h16) + hl;
	if (buf_append(req, &op, sizeof(op), d) != 0 ||
	    buf_append(req, &h16, sizeof(h16), d) != 0 ||
	    buf_append(req, hook ? hook : "", hl, d) != 0 ||
	    buf_append(req, zeros, (8 - head % 8) % 8, d) != 0 ||
	    buf_append(req, in, n, d) != 0)
		return -1;
	return 0;
}

int
plugin_exec_failure(const struct plugin *p, const char *hook, enum worker_status st,
		    struct diag *d)
{
	char what[96];
	snprintf(what, sizeof(what), "hook %s", hook ? hook : "?");
	return worker_failure(p->path, what, st, d);
}

int
plugin_exec(struct plugin *p, plugin_op_fn op, const char *hook, const void *in, size_t n,
	    int deadline_ms, struct buf *out, struct diag *d)
{
	if (live_here(p) != NULL) /* in-process, or already inside the worker */
		return op(live_here(p), hook ? hook : "", in, n, out, d);
	if (deadline_ms <= 0)
		deadline_ms = p->lim.batch_deadline_ms;
	struct buf req;
	buf_init(&req);
	if (plugin_exec_request(p, op, hook, in, n, &req, d) != 0) {
		buf_fini(&req);
		return -1;
	}
	enum worker_status st;
	int rc = worker_call(p->w, req.data, req.len, deadline_ms, out, &st, d);
	buf_fini(&req);
	if (rc < 0)
		return plugin_exec_failure(p, hook, st, d);
	return 0;
}

/* Operation: one hook call with marshalled arguments and results. */
static int
op_call(struct plugin *live, const char *hook, const char *in, size_t n, struct buf *out,
	struct diag *d)
{
	lua_State *L = live->L;
	int top = lua_gettop(L);
	if (marshal_push(L, in, n, NULL, NULL, d) != 0)
		return -1;
	if (lua_type(L, -1) != LUA_TTABLE) {
		lua_settop(L, top);
		return diag_set(d, DIAG_INVALID, "hook arguments must be a sequence table");
	}
	int nargs = (int)lua_rawlen(L, -1);
	if (nargs > 64 || !lua_checkstack(L, nargs + 4)) {
		lua_settop(L, top);
		return diag_set(d, DIAG_INVALID, "too many hook arguments");
	}
	int t = lua_gettop(L);
	for (int i = 1; i <= nargs; i++)
		lua_rawgeti(L, t, i);
	lua_remove(L, t);
	if (plugin_call(live, hook, nargs, LUA_MULTRET, d) != 0) {
		lua_settop(L, top);
		return -1;
	}
	int nres = lua_gettop(L) - top;
	/* Results as {n = count, ...}: built in a protected call (it allocates). */
	lua_createtable(L, nres, 1);
	for (int i = 1; i <= nres; i++) {
		lua_pushvalue(L, top + i);
		lua_rawseti(L, -2, i);
	}
	lua_pushinteger(L, nres);
	lua_setfield(L, -2, "n");
	char what[96];
	snprintf(what, sizeof(what), "%s: the result of hook %s", live->path, hook);
	int rc = marshal_encode(L, -1, 0, what, out, d);
	lua_settop(L, top);
	return rc;
}

int
plugin_call_data(struct plugin *p, const char *hook, const void *args, size_t n, int deadline_ms,
		 struct buf *out, struct diag *d)
{
	return plugin_exec(p, op_call, hook, args, n,
			   deadline_ms > 0 ? deadline_ms : p->lim.deadline_ms, out, d);
}

int
plugin_call_request(struct plugin *p, const char *hook, const void *args, size_t n,
		    struct buf *req, struct diag *d)
{
	return plugin_exec_request(p, op_call, hook, args, n, req, d);
}

/* ---- live-state calls ------------------------------------------------------------- */

/* The plugin to run hooks with here: the live one, never the host's data-only view. */
static struct plugin *
live_for_call(struct plugin *p, const char *hook, struct diag *d)
{
	struct plugin *l = live_here(p);
	if (l == NULL)
		diag_set(d, DIAG_INTERNAL,
			 "%s: hook %s: the plugin's hooks run in its worker (plugin_exec)", p->path,
			 hook);
	return l;
}

/* Pushes decl[hook], or decl.on[KIND] for a hook named on["KIND"] (raw gets: a
 * declaration's metatable cannot fake hooks). */
static int
push_hook(const struct plugin *p, const char *hook)
{
	plugin_push_decl(p);
	size_t len = strlen(hook);
	if (strncmp(hook, "on[\"", 4) == 0 && len > 6 && strcmp(hook + len - 2, "\"]") == 0) {
		lua_pushliteral(p->L, "on");
		if (lua_rawget(p->L, -2) != LUA_TTABLE) {
			lua_pop(p->L, 2);
			lua_pushnil(p->L);
			return 0;
		}
		lua_remove(p->L, -2); /* stack: on */
		lua_pushlstring(p->L, hook + 4, len - 6);
	} else {
		lua_pushstring(p->L, hook);
	}
	int t = lua_rawget(p->L, -2);
	lua_remove(p->L, -2);
	return t == LUA_TFUNCTION;
}

int
plugin_call(struct plugin *p, const char *hook, int nargs, int nresults, struct diag *d)
{
	struct plugin *l = live_for_call(p, hook, d);
	if (l == NULL) {
		lua_pop(plugin_state(p), nargs);
		return -1;
	}
	lua_State *L = l->L;
	if (!push_hook(l, hook)) {
		lua_pop(L, 1 + nargs);
		return diag_set(d, DIAG_PLUGIN, "%s: the %s has no hook '%s'", l->path,
				plugin_kind_name(l->kind), hook);
	}
	lua_insert(L, -1 - nargs); /* stack: hook, args */
	plugin_sandbox_begin(L, hook, l->lim.instructions, l->lim.deadline_ms);
	int rc = plugin_sandbox_pcall(L, nargs, nresults, d);
	plugin_sandbox_end(L);
	return rc;
}

static int
run_batch(struct plugin *p, const char *hook, lua_CFunction fn, void *ud, int64_t budget,
	  int deadline_ms, struct diag *d)
{
	struct plugin *l = live_for_call(p, hook, d);
	if (l == NULL)
		return -1;
	lua_State *L = l->L;
	lua_pushcfunction(L, fn);
	if (!push_hook(l, hook)) {
		lua_pop(L, 2);
		return diag_set(d, DIAG_PLUGIN, "%s: the %s has no hook '%s'", l->path,
				plugin_kind_name(l->kind), hook);
	}
	lua_pushlightuserdata(L, ud); /* stack: fn, hook, ud */
	plugin_sandbox_begin(L, hook, budget, deadline_ms);
	int rc = plugin_sandbox_pcall(L, 2, 0, d);
	plugin_sandbox_end(L);
	return rc;
}

int
plugin_run(struct plugin *p, const char *hook, lua_CFunction fn, void *ud, int64_t n_calls,
	   struct diag *d)
{
	int64_t budget = p->lim.instructions;
	if (n_calls > 1)
		budget = budget > INT64_MAX / n_calls ? INT64_MAX : budget * n_calls;
	return run_batch(p, hook, fn, ud, budget, p->lim.batch_deadline_ms, d);
}

int
plugin_run_watched(struct plugin *p, const char *hook, lua_CFunction fn, void *ud,
		   struct diag *d)
{
	return run_batch(p, hook, fn, ud, 0, 0, d);
}
