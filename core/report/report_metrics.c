/*
 * report/report_metrics: the metrics a report's build receives (report.h): the program's
 * metrics exactly as `tandem metrics` computes them (report/metrics.c, metrics_program:
 * one set of figures, computed one way, each defined in docs/metrics.md), with the
 * program's health (report/health.c) under "health", computed on first access.
 *
 * Why on first access: the health of every active pair is as costly as all the metrics
 * (a 5,000-pair program: ~0.7 s of CPU, and a document of 3 MB to marshal), and most report
 * plugins never read it (program-overview does not). So the host sends what health needs
 * from tandem.lua (the cadence and the overlapping programs, report__health_input), and in
 * the plugin's worker the metrics table has a metatable whose __index computes
 * metrics.health the first time it is read (health_program_with on the database opened
 * read-only, then kept in the table) and whose __pairs does the same before iterating.
 * The document is the one `tandem health --json` prints for the same instant (ctx.now).
 */
#include "report/report.h"

#include <string.h>

#include <lauxlib.h>

#include "base/clock.h"
#include "lua/sandbox.h"
#include "lua/shape.h"
#include "report/health.h"
#include "report/metrics.h"
#include "report/report_internal.h"

int
report_metrics(struct store *st, const struct config *cfg, const char *program, time_t now,
	       json_t **out, struct diag *d)
{
	return metrics_program(st, cfg, program, now, out, d);
}

int
report__health_input(struct store *st, const struct config *cfg, const char *program,
		     json_t **out, struct diag *d)
{
	*out = NULL;
	struct health_cadence cad;
	json_t *overlaps = NULL;
	if (health_cadence_of(cfg, program, &cad, d) != 0 ||
	    health_overlaps(st, cfg, program, &overlaps, d) != 0)
		return -1;
	*out = json_pack("{s:{s:s, s:i, s:s?, s:b}, s:o}", "cadence", "name", cad.name,
			 "interval_days", cad.interval_days, "from", cad.from, "measured",
			 cad.measured, "overlaps", overlaps);
	if (*out == NULL)
		return diag_set(d, DIAG_NOMEM, "out of memory preparing the health of '%s'",
				program);
	return 0;
}

/* ---- in the worker -------------------------------------------------------------------- */

/* The box the metatable's functions share: the request, NULL once the build is over. */
struct lazy {
	json_t *req;
};

static const char lazy_key[] = "tandem.report.metrics";

/* The health document from what the host sent. */
static int
compute_health(json_t *req, json_t **out, struct diag *d)
{
	json_t *in = json_object_get(req, "lazy_health");
	json_t *cj = json_object_get(in, "cadence");
	struct health_cadence cad = {
	    .name = json_string_value(json_object_get(cj, "name")),
	    .from = json_string_value(json_object_get(cj, "from")),
	    .interval_days = (int)json_integer_value(json_object_get(cj, "interval_days")),
	    .measured = json_is_true(json_object_get(cj, "measured")),
	};
	const char *db = json_string_value(json_object_get(req, "db"));
	const char *program = json_string_value(json_object_get(req, "program"));
	time_t now = (time_t)json_integer_value(json_object_get(json_object_get(req, "ctx"), "now"));
	if (cad.name == NULL || db == NULL || program == NULL)
		return diag_set(d, DIAG_INTERNAL, "a malformed request");
	struct store *st = store_open(db, STORE_READONLY, d);
	if (st == NULL)
		return diag_prefix(d, "opening the database");
	int rc = health_program_with(st, program, now, &cad,
				     json_incref(json_object_get(in, "overlaps")), out, d);
	store_close(st);
	return rc;
}

/* Protected: pushes the JSON value of its light userdata. */
static int
push_value(lua_State *L)
{
	const json_t *v = lua_touserdata(L, 1);
	lua_settop(L, 0);
	shape_push_json(L, v);
	return 1;
}

/* __index(t, key): nil but for "health", computed once and kept in t. */
static int
lazy_index(lua_State *L)
{
	struct lazy *lz = lua_touserdata(L, lua_upvalueindex(1));
	if (lua_type(L, 2) != LUA_TSTRING || strcmp(lua_tostring(L, 2), "health") != 0)
		return 0;
	if (lz->req == NULL)
		return luaL_error(L, "metrics.health: this metrics table belongs to an earlier build");
	struct diag d;
	diag_clear(&d);
	json_t *h = NULL;
	int64_t t0 = clock_mono_ms(NULL);
	int rc = compute_health(lz->req, &h, &d);
	if (rc == 0) {
		lua_settop(L, 2);
		lua_pushcfunction(L, push_value);
		lua_pushlightuserdata(L, h);
		rc = lua_pcall(L, 1, 1, 0) == LUA_OK ? 0 : 1; /* 1: the error is on the stack */
		json_decref(h);
	}
	/* The core's time, not the plugin's: off the hook's deadline (not the worker's). */
	plugin_sandbox_credit(L, clock_mono_ms(NULL) - t0);
	if (rc < 0)
		return luaL_error(L, "metrics.health: %s", d.msg);
	if (rc > 0)
		return lua_error(L);
	/* stack: t, key, health */
	lua_pushvalue(L, 2);
	lua_pushvalue(L, 3);
	lua_rawset(L, 1);
	return 1;
}

/* next(t, k) without the sandbox's globals. */
static int
raw_next(lua_State *L)
{
	luaL_checktype(L, 1, LUA_TTABLE);
	lua_settop(L, 2);
	if (lua_next(L, 1))
		return 2;
	lua_pushnil(L);
	return 1;
}

/* __pairs(t): health first, so an iteration sees every key. */
static int
lazy_pairs(lua_State *L)
{
	lua_settop(L, 1);
	lua_getfield(L, 1, "health"); /* through lazy_index when not there yet */
	lua_pop(L, 1);
	lua_pushcfunction(L, raw_next);
	lua_pushvalue(L, 1);
	lua_pushnil(L);
	return 3;
}

void
report__push_metrics(lua_State *L, json_t *req)
{
	json_t *m = json_object_get(req, "metrics");
	shape_push_json(L, m);
	if (!lua_istable(L, -1)) {
		lua_pop(L, 1);
		lua_newtable(L);
	}
	if (json_object_get(req, "lazy_health") == NULL || json_object_get(m, "health") != NULL)
		return;
	/* stack: metrics */
	struct lazy *lz = lua_newuserdatauv(L, sizeof(*lz), 0);
	lz->req = req;
	lua_pushvalue(L, -1);
	lua_setfield(L, LUA_REGISTRYINDEX, lazy_key);
	lua_createtable(L, 0, 3); /* stack: metrics, box, mt */
	lua_pushvalue(L, -2);
	lua_pushcclosure(L, lazy_index, 1);
	lua_setfield(L, -2, "__index");
	lua_pushcfunction(L, lazy_pairs);
	lua_setfield(L, -2, "__pairs");
	lua_pushboolean(L, 0); /* getmetatable gives false, setmetatable refuses */
	lua_setfield(L, -2, "__metatable");
	lua_setmetatable(L, -3);
	lua_pop(L, 1); /* stack: metrics */
}

void
report__metrics_detach(lua_State *L)
{
	if (lua_getfield(L, LUA_REGISTRYINDEX, lazy_key) == LUA_TUSERDATA)
		((struct lazy *)lua_touserdata(L, -1))->req = NULL;
	lua_pop(L, 1);
	lua_pushnil(L);
	lua_setfield(L, LUA_REGISTRYINDEX, lazy_key);
}
