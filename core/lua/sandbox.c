/*
 * lua/sandbox: the locked-down lua_State, its allocator and its budget hook.
 * See sandbox.h for the contract.
 *
 * Finalizers. Lua 5.4 marks a table for finalization only inside setmetatable,
 * and only if its metatable has a __gc field at that moment (lgc.c,
 * luaC_checkfinalizer); adding __gc to the metatable later never marks it. So
 * the sandbox's setmetatable refuses any metatable whose raw __gc field is not
 * nil -- including `false`, because a present-but-false __gc does mark the object
 * and the field could then be replaced by a function. Scripts cannot create
 * userdata, reach debug.setmetatable, or change the string metatable, so there is
 * no other route to a finalizer.
 *
 * Read-only tables are empty proxy tables whose metatable points __index at the
 * real table, errors on __newindex, hides itself behind __metatable, and offers
 * __pairs/__len through closures (so the real table is never handed to Lua).
 * rawset is replaced by a version that refuses proxies, the only raw write
 * reachable from scripts.
 */
#include "lua/sandbox.h"

#include <lauxlib.h>
#include <lualib.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>


enum budget_state { BUDGET_OK, BUDGET_INSTRUCTIONS, BUDGET_DEADLINE };

struct sandbox {
	struct plugin_limits lim;
	/* allocator */
	size_t mem_used, mem_peak;
	int mem_refused; /* the cap refused an allocation during the armed call */
	int sys_oom;     /* the system allocator failed */
	/* budget of the current call */
	int armed;
	int step;            /* count-hook period */
	int64_t budget, used; /* instructions */
	int64_t deadline_ns;  /* CLOCK_MONOTONIC; 0 = none */
	int deadline_ms;
	enum budget_state state;
	char where[256]; /* position where the budget ran out */
	char hook[64];
	char name[256];
	char path[1024]; /* last file run by plugin_sandbox_dofile, for positionless errors */
};

static char readonly_key; /* marks proxy metatables (light userdata key) */

static struct sandbox *
sb_of(lua_State *L)
{
	return *(struct sandbox **)lua_getextraspace(L);
}

/* ---- limits ---------------------------------------------------------------- */

void
plugin_limits_default(struct plugin_limits *lim)
{
	lim->instructions = PLUGIN_DEFAULT_INSTRUCTIONS;
	lim->memory = PLUGIN_DEFAULT_MEMORY;
	lim->deadline_ms = PLUGIN_DEFAULT_DEADLINE_MS;
	lim->batch_deadline_ms = PLUGIN_DEFAULT_BATCH_DEADLINE_MS;
	lim->isolate = 1;
	lim->isolate_set = 0;
}

void
plugin_limits_resolve(const struct plugin_limits *in, struct plugin_limits *out)
{
	struct plugin_limits r;
	plugin_limits_default(&r);
	if (in != NULL) {
		if (in->instructions > 0)
			r.instructions = in->instructions;
		if (in->memory > 0)
			r.memory = in->memory;
		if (in->deadline_ms > 0)
			r.deadline_ms = in->deadline_ms;
		if (in->batch_deadline_ms > 0)
			r.batch_deadline_ms = in->batch_deadline_ms;
		if (in->isolate_set || in->isolate) {
			r.isolate = in->isolate != 0;
			r.isolate_set = 1;
		}
	}
	if (r.instructions > PLUGIN_MAX_INSTRUCTIONS)
		r.instructions = PLUGIN_MAX_INSTRUCTIONS;
	if (r.memory > PLUGIN_MAX_MEMORY)
		r.memory = PLUGIN_MAX_MEMORY;
	if (r.deadline_ms > PLUGIN_MAX_DEADLINE_MS)
		r.deadline_ms = PLUGIN_MAX_DEADLINE_MS;
	if (r.batch_deadline_ms > PLUGIN_MAX_DEADLINE_MS)
		r.batch_deadline_ms = PLUGIN_MAX_DEADLINE_MS;
	*out = r;
}

/* ---- allocator ------------------------------------------------------------- */

/*
 * When ptr is NULL, osize encodes the kind of object being created, not a size;
 * otherwise it is the size of the block. The cap only applies while plugin code
 * runs (armed), and never to shrinking.
 */
static void *
sb_alloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
	struct sandbox *sb = ud;
	size_t old = ptr != NULL ? osize : 0;
	if (nsize == 0) {
		free(ptr);
		sb->mem_used -= old;
		return NULL;
	}
	if (sb->armed && nsize > old && sb->mem_used - old + nsize > sb->lim.memory) {
		sb->mem_refused = 1;
		return NULL;
	}
	void *np = realloc(ptr, nsize);
	if (np == NULL) {
		sb->sys_oom = 1;
		return NULL;
	}
	sb->mem_used = sb->mem_used - old + nsize;
	if (sb->mem_used > sb->mem_peak)
		sb->mem_peak = sb->mem_used;
	return np;
}

/* ---- budget hook ----------------------------------------------------------- */

static int64_t
now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void sb_hook(lua_State *L, lua_Debug *ar);

/* The message of an exhausted budget, prefixed with where it ran out (if known). */
static void
sb_budget_msg(const struct sandbox *sb, char *buf, size_t size)
{
	if (sb->state == BUDGET_INSTRUCTIONS)
		snprintf(buf, size, "%sinstruction budget of %lld exhausted", sb->where,
			 (long long)sb->budget);
	else
		snprintf(buf, size, "%swall-clock deadline of %d ms exceeded", sb->where,
			 sb->deadline_ms);
}

/* Raises the budget error; the count drops to 1 so every instruction re-raises. */
static void
sb_raise_budget(lua_State *L, struct sandbox *sb)
{
	lua_sethook(L, sb_hook, LUA_MASKCOUNT, 1);
	/* lua_pushstring + lua_error, not luaL_error: the position is already in where. */
	char msg[DIAG_MSG_MAX];
	sb_budget_msg(sb, msg, sizeof(msg));
	lua_pushstring(L, msg);
	lua_error(L);
}

/* Records the script position at which a budget ran out (level 0 = the Lua code). */
static void
sb_exhaust(lua_State *L, struct sandbox *sb, enum budget_state st)
{
	sb->state = st;
	luaL_where(L, 0);
	snprintf(sb->where, sizeof(sb->where), "%s", lua_tostring(L, -1));
	lua_pop(L, 1);
}

static void
sb_hook(lua_State *L, lua_Debug *ar)
{
	(void)ar;
	struct sandbox *sb = sb_of(L);
	if (!sb->armed)
		return;
	if (sb->state != BUDGET_OK)
		sb_raise_budget(L, sb);
	/* A coroutine may still carry the count of an earlier, exhausted call. */
	if (lua_gethookcount(L) != sb->step)
		lua_sethook(L, sb_hook, LUA_MASKCOUNT, sb->step);
	sb->used += sb->step;
	if (sb->budget > 0 && sb->used >= sb->budget)
		sb_exhaust(L, sb, BUDGET_INSTRUCTIONS);
	else if (sb->deadline_ns != 0 && now_ns() >= sb->deadline_ns)
		sb_exhaust(L, sb, BUDGET_DEADLINE);
	if (sb->state != BUDGET_OK)
		sb_raise_budget(L, sb);
}

void
plugin_sandbox_begin(lua_State *L, const char *hook, int64_t instructions, int deadline_ms)
{
	struct sandbox *sb = sb_of(L);
	sb->budget = instructions;
	sb->used = 0;
	sb->step = PLUGIN_HOOK_STEP;
	if (instructions > 0 && instructions < sb->step)
		sb->step = (int)instructions;
	sb->deadline_ms = deadline_ms;
	sb->deadline_ns = deadline_ms > 0 ? now_ns() + (int64_t)deadline_ms * 1000000 : 0;
	sb->state = BUDGET_OK;
	sb->where[0] = '\0';
	sb->mem_refused = 0;
	sb->sys_oom = 0;
	snprintf(sb->hook, sizeof(sb->hook), "%s", hook ? hook : "");
	sb->armed = 1;
	if (instructions <= 0 && deadline_ms <= 0)
		lua_sethook(L, NULL, 0, 0); /* watched from outside: no per-instruction cost */
	else
		lua_sethook(L, sb_hook, LUA_MASKCOUNT, sb->step);
}

void
plugin_sandbox_end(lua_State *L)
{
	struct sandbox *sb = sb_of(L);
	sb->armed = 0;
	/* Keep the hook installed: coroutines inherit it; unarmed it only returns. */
	lua_sethook(L, sb_hook, LUA_MASKCOUNT, PLUGIN_HOOK_STEP);
}

void
plugin_sandbox_credit(lua_State *L, int64_t ms)
{
	struct sandbox *sb = sb_of(L);
	if (sb->armed && sb->deadline_ns != 0 && ms > 0)
		sb->deadline_ns += ms * 1000000;
}

int64_t
plugin_sandbox_instructions(lua_State *L)
{
	return sb_of(L)->used;
}

size_t
plugin_sandbox_mem_used(lua_State *L)
{
	return sb_of(L)->mem_used;
}

size_t
plugin_sandbox_mem_peak(lua_State *L)
{
	return sb_of(L)->mem_peak;
}

/* ---- errors ---------------------------------------------------------------- */

/*
 * Lua shortens long chunk names in positions ("...tail/of/path.lua:3:"); put the
 * full path back when the message starts with the shortened form of ours.
 */
static void
sb_unshorten(const struct sandbox *sb, const char *msg, char *buf, size_t size)
{
	size_t plen = strlen(sb->path);
	if (plen >= LUA_IDSIZE && plen > 0) {
		char shortp[LUA_IDSIZE + 4];
		size_t keep = LUA_IDSIZE - 1 - 3;
		snprintf(shortp, sizeof(shortp), "...%s", sb->path + plen - keep);
		size_t slen = strlen(shortp);
		if (strncmp(msg, shortp, slen) == 0 && msg[slen] == ':') {
			snprintf(buf, size, "%s%s", sb->path, msg + slen);
			return;
		}
	}
	snprintf(buf, size, "%s", msg);
}

int
plugin_sandbox_error(lua_State *L, int status, struct diag *d)
{
	struct sandbox *sb = sb_of(L);
	char msg[DIAG_MSG_MAX];
	int code = DIAG_PLUGIN;
	const char *where = sb->path[0] ? sb->path : sb->name;
	if (sb->state != BUDGET_OK) {
		sb_budget_msg(sb, msg, sizeof(msg));
	} else if (status == LUA_ERRMEM || (sb->mem_refused && lua_type(L, -1) == LUA_TSTRING &&
					     strstr(lua_tostring(L, -1), "not enough memory"))) {
		code = DIAG_NOMEM;
		if (sb->sys_oom && !sb->mem_refused)
			snprintf(msg, sizeof(msg), "%.512s: exceeded its memory limit (system or worker)", where);
		else
			snprintf(msg, sizeof(msg), "%.512s: memory budget of %zu MiB exhausted", where,
				 sb->lim.memory >> 20);
	} else if (lua_type(L, -1) == LUA_TSTRING) {
		sb_unshorten(sb, lua_tostring(L, -1), msg, sizeof(msg));
		size_t wl = strlen(where);
		if (wl > 0 && (strncmp(msg, where, wl) != 0 || msg[wl] != ':')) {
			/* Raised by C code without a position (e.g. "C stack overflow"). */
			char tmp[DIAG_MSG_MAX];
			snprintf(tmp, sizeof(tmp), "%.400s: %.600s", where, msg);
			snprintf(msg, sizeof(msg), "%s", tmp);
		}
	} else {
		snprintf(msg, sizeof(msg), "%.512s: error raised with a %s value instead of a message",
			 where, luaL_typename(L, -1));
	}
	if (sb->state != BUDGET_OK && sb->where[0] == '\0') {
		/* The budget ran out in C code without a Lua position. */
		char tmp[DIAG_MSG_MAX];
		snprintf(tmp, sizeof(tmp), "%.400s: %.600s", where, msg);
		snprintf(msg, sizeof(msg), "%s", tmp);
	}
	lua_pop(L, 1);
	if (sb->hook[0])
		diag_set(d, code, "%s (in hook %s)", msg, sb->hook);
	else
		diag_set(d, code, "%s", msg);
	return -1;
}

int
plugin_sandbox_pcall(lua_State *L, int nargs, int nresults, struct diag *d)
{
	int st = lua_pcall(L, nargs, nresults, 0);
	if (st != LUA_OK)
		return plugin_sandbox_error(L, st, d);
	return 0;
}

/* ---- read-only proxies ----------------------------------------------------- */

static int
ro_newindex(lua_State *L)
{
	return luaL_error(L, "attempt to modify read-only table '%s'",
			  lua_tostring(L, lua_upvalueindex(1)));
}

/* Iterator over the real table (upvalue 1): the real table never reaches Lua. */
static int
ro_next(lua_State *L)
{
	lua_settop(L, 2);
	if (lua_next(L, lua_upvalueindex(1)))
		return 2;
	lua_pushnil(L);
	return 1;
}

static int
ro_pairs(lua_State *L)
{
	lua_pushvalue(L, lua_upvalueindex(1));
	lua_pushcclosure(L, ro_next, 1);
	lua_pushvalue(L, 1);
	lua_pushnil(L);
	return 3;
}

static int
ro_len(lua_State *L)
{
	lua_pushinteger(L, (lua_Integer)lua_rawlen(L, lua_upvalueindex(1)));
	return 1;
}

void
plugin_sandbox_readonly(lua_State *L, int idx, const char *name)
{
	idx = lua_absindex(L, idx);
	lua_newtable(L);                /* stack: proxy */
	lua_createtable(L, 0, 6);       /* stack: proxy, mt */
	lua_pushvalue(L, idx);
	lua_setfield(L, -2, "__index");
	lua_pushstring(L, name);
	lua_pushcclosure(L, ro_newindex, 1);
	lua_setfield(L, -2, "__newindex");
	lua_pushvalue(L, idx);
	lua_pushcclosure(L, ro_pairs, 1);
	lua_setfield(L, -2, "__pairs");
	lua_pushvalue(L, idx);
	lua_pushcclosure(L, ro_len, 1);
	lua_setfield(L, -2, "__len");
	lua_pushliteral(L, "locked");
	lua_setfield(L, -2, "__metatable");
	lua_pushstring(L, name);
	lua_rawsetp(L, -2, &readonly_key);
	lua_setmetatable(L, -2);        /* stack: proxy */
}

/* Shared metamethods of deep read-only proxies: the real table is the metatable's
 * __index (the VM follows a table __index without a call). */
static void
rod_real(lua_State *L, int t)
{
	lua_getmetatable(L, t);
	lua_pushliteral(L, "__index");
	lua_rawget(L, -2);
	lua_remove(L, -2);
}

static int
rod_newindex(lua_State *L)
{
	lua_getmetatable(L, 1);
	lua_rawgetp(L, -1, &readonly_key);
	return luaL_error(L, "attempt to modify read-only table '%s'", lua_tostring(L, -1));
}

static int
rod_len(lua_State *L)
{
	rod_real(L, 1);
	lua_pushinteger(L, (lua_Integer)lua_rawlen(L, -1));
	return 1;
}

static int
rod_next(lua_State *L)
{
	lua_settop(L, 2);
	rod_real(L, 1); /* stack: proxy, key, real */
	lua_insert(L, 2);
	if (lua_next(L, 2))
		return 2;
	lua_pushnil(L);
	return 1;
}

static int
rod_pairs(lua_State *L)
{
	lua_pushcfunction(L, rod_next);
	lua_pushvalue(L, 1);
	lua_pushnil(L);
	return 3;
}

static void
readonly_deep(lua_State *L, int idx, int name, int depth)
{
	luaL_checkstack(L, 8, "read-only table");
	if (depth < 32) {
		lua_pushnil(L);
		while (lua_next(L, idx)) { /* stack: key, value */
			if (lua_type(L, -1) == LUA_TTABLE) {
				readonly_deep(L, lua_gettop(L), name, depth + 1); /* key, value, proxy */
				lua_pushvalue(L, -3);
				lua_insert(L, -2);  /* stack: key, value, key, proxy */
				lua_rawset(L, idx); /* an existing field: allowed during lua_next */
			}
			lua_pop(L, 1);
		}
	}
	lua_newtable(L);          /* stack: proxy */
	lua_createtable(L, 0, 6); /* stack: proxy, mt */
	lua_pushvalue(L, idx);
	lua_setfield(L, -2, "__index");
	lua_pushcfunction(L, rod_newindex);
	lua_setfield(L, -2, "__newindex");
	lua_pushcfunction(L, rod_len);
	lua_setfield(L, -2, "__len");
	lua_pushcfunction(L, rod_pairs);
	lua_setfield(L, -2, "__pairs");
	lua_pushliteral(L, "locked");
	lua_setfield(L, -2, "__metatable");
	lua_pushvalue(L, name);
	lua_rawsetp(L, -2, &readonly_key);
	lua_setmetatable(L, -2);
}

void
plugin_sandbox_readonly_deep(lua_State *L, int idx, const char *name)
{
	idx = lua_absindex(L, idx);
	lua_pushstring(L, name);
	int n = lua_gettop(L);
	readonly_deep(L, idx, n, 0);
	lua_remove(L, n);
}

/* Name of the read-only table at idx, or NULL if it is not one. */
static const char *
ro_name(lua_State *L, int idx)
{
	if (!lua_getmetatable(L, idx))
		return NULL;
	const char *name = NULL;
	if (lua_rawgetp(L, -1, &readonly_key) == LUA_TSTRING)
		name = lua_tostring(L, -1); /* kept alive by the metatable */
	lua_pop(L, 2);
	return name;
}

/* ---- replaced base functions ----------------------------------------------- */

static int
sb_rawset(lua_State *L)
{
	luaL_checktype(L, 1, LUA_TTABLE);
	luaL_checkany(L, 2);
	luaL_checkany(L, 3);
	const char *name = ro_name(L, 1);
	if (name != NULL)
		return luaL_error(L, "attempt to modify read-only table '%s'", name);
	lua_settop(L, 3);
	lua_rawset(L, 1);
	return 1;
}

static int
sb_setmetatable(lua_State *L)
{
	int t = lua_type(L, 2);
	luaL_checktype(L, 1, LUA_TTABLE);
	luaL_argexpected(L, t == LUA_TNIL || t == LUA_TTABLE, 2, "nil or table");
	if (t == LUA_TTABLE) {
		lua_pushliteral(L, "__gc");
		if (lua_rawget(L, 2) != LUA_TNIL)
			return luaL_error(L, "finalizers (__gc) are not allowed");
		lua_pop(L, 1);
	}
	if (luaL_getmetafield(L, 1, "__metatable") != LUA_TNIL)
		return luaL_error(L, "cannot change a protected metatable");
	lua_settop(L, 2);
	lua_setmetatable(L, 1);
	return 1;
}

/* load(chunk [, chunkname [, mode [, env]]]) with mode forced to "t". */
static int
sb_load(lua_State *L)
{
	int has_env = lua_gettop(L) >= 4; /* an explicit nil env differs from none */
	lua_settop(L, 4);
	lua_pushvalue(L, lua_upvalueindex(1)); /* the original load */
	lua_pushvalue(L, 1);
	lua_pushvalue(L, 2);
	lua_pushliteral(L, "t");
	if (has_env)
		lua_pushvalue(L, 4);
	lua_call(L, has_env ? 4 : 3, LUA_MULTRET);
	return lua_gettop(L) - 4;
}

static int
sb_print(lua_State *L)
{
	int n = lua_gettop(L);
	luaL_Buffer b;
	luaL_buffinit(L, &b);
	for (int i = 1; i <= n; i++) {
		if (i > 1)
			luaL_addchar(&b, '\t');
		luaL_tolstring(L, i, NULL);
		luaL_addvalue(&b);
	}
	luaL_pushresult(&b);
	tlog(TLOG_INFO, "%s: %s", sb_of(L)->name, lua_tostring(L, -1));
	return 0;
}

/* ---- setup ----------------------------------------------------------------- */

/* tandem.log(level?, msg) */
static int
sb_log(lua_State *L)
{
	static const char *const names[] = {"debug", "info", "warn", "error", NULL};
	static const int levels[] = {TLOG_DEBUG, TLOG_INFO, TLOG_WARN, TLOG_ERROR};
	int level = TLOG_INFO;
	int msg = 1;
	if (lua_gettop(L) >= 2) {
		level = levels[luaL_checkoption(L, 1, NULL, names)];
		msg = 2;
	}
	const char *s = luaL_tolstring(L, msg, NULL);
	tlog(level, "%s: %s", sb_of(L)->name, s);
	return 0;
}

void
plugin_sandbox_push_tandem(lua_State *L)
{
	lua_createtable(L, 0, 12);
	lua_pushinteger(L, PLUGIN_API_VERSION);
	lua_setfield(L, -2, "api_version");
	lua_pushcfunction(L, sb_log);
	lua_setfield(L, -2, "log");
}

/* Replaces global `name` (a library table) by a read-only proxy. */
static void
sb_protect_global(lua_State *L, const char *name)
{
	lua_getglobal(L, name);
	plugin_sandbox_readonly(L, -1, name);
	lua_setglobal(L, name);
	lua_pop(L, 1);
}

static const char *const removed_globals[] = {"dofile", "loadfile", "collectgarbage", "warn",
					      "require", "package", "io", "debug", NULL};

static int
sb_setup(lua_State *L)
{
	static const luaL_Reg libs[] = {
		{LUA_GNAME, luaopen_base},      {LUA_STRLIBNAME, luaopen_string},
		{LUA_TABLIBNAME, luaopen_table}, {LUA_MATHLIBNAME, luaopen_math},
		{LUA_UTF8LIBNAME, luaopen_utf8}, {LUA_COLIBNAME, luaopen_coroutine},
		{LUA_OSLIBNAME, luaopen_os},     {NULL, NULL},
	};
	for (const luaL_Reg *l = libs; l->name; l++) {
		luaL_requiref(L, l->name, l->func, 1);
		lua_pop(L, 1);
	}
	for (const char *const *g = removed_globals; *g; g++) {
		lua_pushnil(L);
		lua_setglobal(L, *g);
	}
	lua_getglobal(L, "load");
	lua_pushcclosure(L, sb_load, 1);
	lua_setglobal(L, "load");
	lua_register(L, "print", sb_print);
	lua_register(L, "rawset", sb_rawset);
	lua_register(L, "setmetatable", sb_setmetatable);

	/* string without dump */
	lua_getglobal(L, LUA_STRLIBNAME);
	lua_pushnil(L);
	lua_setfield(L, -2, "dump");
	lua_pop(L, 1);

	/* os with only time, date, clock */
	lua_getglobal(L, LUA_OSLIBNAME);
	lua_createtable(L, 0, 3);
	static const char *const os_keep[] = {"time", "date", "clock", NULL};
	for (const char *const *k = os_keep; *k; k++) {
		lua_getfield(L, -2, *k);
		lua_setfield(L, -2, *k);
	}
	lua_setglobal(L, LUA_OSLIBNAME);
	lua_pop(L, 1);

	static const char *const shared[] = {LUA_STRLIBNAME, LUA_TABLIBNAME, LUA_MATHLIBNAME,
					     LUA_UTF8LIBNAME, LUA_COLIBNAME, LUA_OSLIBNAME, NULL};
	for (const char *const *s = shared; *s; s++)
		sb_protect_global(L, *s);

	/* Lock the string metatable; methods resolve through the read-only proxy. */
	lua_pushliteral(L, "");
	lua_getmetatable(L, -1);          /* stack: "", mt */
	lua_getglobal(L, LUA_STRLIBNAME); /* the proxy */
	lua_setfield(L, -2, "__index");
	lua_pushliteral(L, "locked");
	lua_setfield(L, -2, "__metatable");
	lua_pop(L, 2);

	plugin_sandbox_push_tandem(L);
	plugin_sandbox_readonly(L, -1, "tandem");
	lua_setglobal(L, "tandem");
	lua_pop(L, 1);
	return 0;
}

static int
sb_panic(lua_State *L)
{
	const char *msg = lua_tostring(L, -1);
	tlog(TLOG_ERROR, "unprotected Lua error: %s", msg ? msg : "(not a string)");
	return 0; /* Lua aborts */
}

lua_State *
plugin_sandbox_new(const struct plugin_limits *lim, struct diag *d)
{
	struct sandbox *sb = calloc(1, sizeof(*sb));
	if (sb == NULL) {
		diag_set(d, DIAG_NOMEM, "out of memory creating a Lua sandbox");
		return NULL;
	}
	plugin_limits_resolve(lim, &sb->lim);
	snprintf(sb->name, sizeof(sb->name), "lua");
	lua_State *L = lua_newstate(sb_alloc, sb);
	if (L == NULL) {
		free(sb);
		diag_set(d, DIAG_NOMEM, "out of memory creating a Lua sandbox");
		return NULL;
	}
	*(struct sandbox **)lua_getextraspace(L) = sb;
	lua_atpanic(L, sb_panic);
	lua_pushcfunction(L, sb_setup);
	if (lua_pcall(L, 0, 0, 0) != LUA_OK) {
		diag_set(d, DIAG_NOMEM, "cannot set up a Lua sandbox: %s",
			 lua_tostring(L, -1) ? lua_tostring(L, -1) : "?");
		lua_close(L);
		free(sb);
		return NULL;
	}
	lua_sethook(L, sb_hook, LUA_MASKCOUNT, PLUGIN_HOOK_STEP);
	return L;
}

void
plugin_sandbox_delete(lua_State *L)
{
	if (L == NULL)
		return;
	struct sandbox *sb = sb_of(L);
	lua_close(L);
	free(sb);
}

void
plugin_sandbox_set_name(lua_State *L, const char *name)
{
	snprintf(sb_of(L)->name, sizeof(sb_of(L)->name), "%s", name ? name : "lua");
}

const char *
plugin_sandbox_name(lua_State *L)
{
	return sb_of(L)->name;
}

const struct plugin_limits *
plugin_sandbox_limits(lua_State *L)
{
	return &sb_of(L)->lim;
}

void
plugin_sandbox_set_limits(lua_State *L, const struct plugin_limits *lim)
{
	plugin_limits_resolve(lim, &sb_of(L)->lim);
}

/* ---- running chunks ---------------------------------------------------------- */

static int
sb_run_loaded(lua_State *L, int st, struct diag *d)
{
	struct sandbox *sb = sb_of(L);
	if (st != LUA_OK) {
		/* Syntax errors: the position is already in the message. Lua's refusal of a
		 * binary chunk names no file, so it gets ours. */
		sb->state = BUDGET_OK;
		sb->hook[0] = '\0';
		if (st == LUA_ERRMEM)
			return plugin_sandbox_error(L, st, d);
		char msg[DIAG_MSG_MAX];
		sb_unshorten(sb, lua_tostring(L, -1) ? lua_tostring(L, -1) : "load error", msg,
			     sizeof(msg));
		lua_pop(L, 1);
		if (sb->path[0] != '\0' && strncmp(msg, sb->path, strlen(sb->path)) != 0)
			return diag_set(d, DIAG_INVALID, "%s: %s", sb->path, msg);
		return diag_set(d, DIAG_INVALID, "%s", msg);
	}
	plugin_sandbox_begin(L, NULL, sb->lim.instructions, sb->lim.deadline_ms);
	int rc = plugin_sandbox_pcall(L, 0, 1, d);
	plugin_sandbox_end(L);
	return rc;
}

int
plugin_sandbox_dofile(lua_State *L, const char *path, struct diag *d)
{
	struct sandbox *sb = sb_of(L);
	snprintf(sb->path, sizeof(sb->path), "%s", path);
	FILE *f = fopen(path, "rb");
	if (f == NULL)
		return diag_set(d, DIAG_NOTFOUND, "%s: cannot open: %s", path, strerror(errno));
	fclose(f);
	int st = luaL_loadfilex(L, path, "t");
	return sb_run_loaded(L, st, d);
}

int
plugin_sandbox_dostring(lua_State *L, const char *chunk, const char *chunkname, struct diag *d)
{
	struct sandbox *sb = sb_of(L);
	if (chunkname[0] == '@')
		snprintf(sb->path, sizeof(sb->path), "%s", chunkname + 1);
	else
		snprintf(sb->path, sizeof(sb->path), "%s", chunkname[0] == '=' ? chunkname + 1 : chunkname);
	int st = luaL_loadbufferx(L, chunk, strlen(chunk), chunkname, "t");
	return sb_run_loaded(L, st, d);
}
