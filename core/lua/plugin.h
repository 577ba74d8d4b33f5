/*
 * lua/plugin: one loaded plugin file, its declaration, and calling its hooks.
 *
 * A plugin file is Lua that returns a declaration made with a constructor:
 *
 *     return tandem.policy{ name = "digital", version = "1.0.0", api = 1,
 *                           score = function(mentor, mentee, features) ... end }
 *
 * Constructors (tandem.policy/cadence/reward/report/job) check the common
 * fields -- name ([a-z0-9_-]+), version ("1.2.0"), api (integer, this host
 * supports PLUGIN_API_VERSION), description (optional string), limits (optional
 * table, see below) -- then hand the table to the validator registered for the
 * kind, and reject any other field, listing the valid ones. Errors are raised at
 * the constructor call, so they read "policies/x.lua:3: field 'weights' must be a
 * table (got string)".
 *
 * Who calls it: the policy engine (loads a policy, registers the "policy"
 * validator, scores pairs in batches), the scheduler/cadence/reward code (one
 * hook call at a time), `tandem plugins` (lua/registry, lua/check), embedders.
 *
 * Every plugin has its own sandbox (lua/sandbox.h): its lua_State is private to
 * it, and hooks receive plain tables and return values (ARCHITECTURE rule 1).
 *
 * Limits. Each field of the effective limits is, in order of precedence: the
 * embedder's non-zero value in the `lim` given to plugin_load, the declaration's
 * `limits = { instructions = N, memory_mib = N, deadline_ms = N,
 * batch_deadline_ms = N }`, the default; then clamped to the hard maxima
 * (lua/sandbox.h).
 */
#ifndef TANDEM_LUA_PLUGIN_H
#define TANDEM_LUA_PLUGIN_H

#include <stdint.h>

#include <lua.h>

#include "base/diag.h"
#include "lua/sandbox.h"
#include "lua/worker.h"

/* The plugin API version this host implements (tandem.api_version). */
enum { PLUGIN_API_VERSION = 1 };

enum plugin_kind {
	PLUGIN_POLICY,
	PLUGIN_CADENCE,
	PLUGIN_REWARD,
	PLUGIN_REPORT,
	PLUGIN_JOB,
	PLUGIN_KIND_COUNT,
};

/* "policy", "cadence", ... */
const char *plugin_kind_name(enum plugin_kind kind);
/* Parses a kind name; returns -1 (no diag) if unknown. */
int plugin_kind_parse(const char *name, enum plugin_kind *out);
/* Workspace folder of a kind: "policies", "plugins/cadences", ..., "scripts". */
const char *plugin_kind_dir(enum plugin_kind kind);
/* 1 when s is 1 to 64 characters of a-z, 0-9, '_' or '-' (plugin and program names). */
int plugin_name_valid(const char *s);

/*
 * A kind-specific validator. Called (inside the constructor, in the plugin's
 * state) with the declaration table at stack index `idx`, after the common
 * fields passed. Returns 0, or -1 with a diag whose message names the field
 * ("field 'weights' must be a table (got string)"); the host adds file:line.
 * It must leave the stack as it found it. It may raise Lua errors only through
 * the plugin_decl_* helpers' return values, never longjmp itself.
 */
typedef int (*plugin_validate_fn)(lua_State *L, int idx, struct diag *d);

/*
 * Registers the validator and the kind-specific field names (NULL-terminated;
 * used to list the valid fields when an unknown one is found) for a kind.
 * Replaces the previous registration; the built-in ones for cadence, reward,
 * report and job are installed by default. A kind with no validator accepts
 * any extra field (policy, until the policy engine registers its own).
 * Call once at start-up, before loading plugins (not thread-safe).
 * Returns -1 with a diag if `kind` is unknown.
 */
int plugin_kind_set_validator(const char *kind, const char *const *fields,
			      plugin_validate_fn fn, struct diag *d);

/*
 * Helpers for validators. plugin_decl_field checks that field `name` of the
 * table at `idx` has Lua type `type` (LUA_TSTRING, LUA_TFUNCTION, ...); returns 1
 * if present and right, 0 if absent and !required, -1 with a diag otherwise:
 * "field 'name' must be a function (got string)" / "missing field 'name'".
 */
int plugin_decl_field(lua_State *L, int idx, const char *name, int type, int required,
		      struct diag *d);

/* An opaque loaded plugin. */
struct plugin;

/*
 * Loads `path` in a fresh sandbox with the full `tandem` API, runs it (budget:
 * one call), and checks that it returned a declaration of any kind. When the
 * limits say isolate, the file is first loaded once in a worker, so a top-level
 * chunk that hangs inside C is killed instead of hanging the host. Returns NULL
 * with a diag ("policies/x.lua:3: ...") on failure.
 */
struct plugin *plugin_load(const char *path, const struct plugin_limits *lim, struct diag *d);
void plugin_delete(struct plugin *p);

enum plugin_kind plugin_kind(const struct plugin *p);
const char *plugin_name(const struct plugin *p);
const char *plugin_version(const struct plugin *p);
const char *plugin_description(const struct plugin *p); /* "" if none */
const char *plugin_path(const struct plugin *p);
int plugin_api(const struct plugin *p);
const struct plugin_limits *plugin_limits(const struct plugin *p);

/* The plugin's private state. Use it for pushing arguments and reading results. */
lua_State *plugin_state(const struct plugin *p);

/* Pushes the declaration table on plugin_state(p). stack: +1 */
void plugin_push_decl(const struct plugin *p);

/* 1 if the declaration has a function field `hook`. */
int plugin_has_hook(const struct plugin *p, const char *hook);

/*
 * The names of the declaration's function fields (its hooks), sorted; *out is
 * malloc'd, an array of n pointers into one block: free(*out) once. Returns n or -1.
 */
int plugin_hooks(const struct plugin *p, char ***out, struct diag *d);

/*
 * One hook call under one call's budget: the caller pushed `nargs` arguments on
 * plugin_state(p); the hook function is inserted below them and called. On
 * success the `nresults` results are on the stack and 0 is returned; on failure
 * the arguments are gone and -1 is returned with "FILE:LINE: message (in hook
 * NAME)". Errors if the hook does not exist. In-process (wrap in plugin_isolate
 * to survive hangs in C).
 */
int plugin_call(struct plugin *p, const char *hook, int nargs, int nresults, struct diag *d);

/*
 * Many calls of one hook under ONE budget: n_calls times the per-call
 * instruction budget and the batch deadline; the hook is set up once, so the
 * per-call overhead is that of a bare lua_call. Runs fn as a protected C
 * function in plugin_state(p) with the stack
 *     1: the hook function   2: ud (light userdata)
 * fn calls the hook as often as it likes with lua_call (unprotected: an error,
 * or an exhausted budget, unwinds straight out of the batch), e.g.
 *
 *     static int score_all(lua_State *L) {
 *         struct job *j = lua_touserdata(L, 2);
 *         for (long k = 0; k < j->n; k++) {
 *             lua_pushvalue(L, 1); push_mentor(L, j, k); push_mentee(L, j, k);
 *             lua_pushvalue(L, FEATURES); lua_call(L, 3, 1);
 *             j->out[k] = lua_tonumber(L, -1); lua_pop(L, 1);
 *         }
 *         return 0;
 *     }
 *
 * Returns 0, or -1 with the error formatted as for plugin_call. fn may raise its
 * own errors with luaL_error (e.g. "score must return a number").
 */
int plugin_run(struct plugin *p, const char *hook, lua_CFunction fn, void *ud, int64_t n_calls,
	       struct diag *d);

/*
 * worker_run with this plugin's limits: fn(arg, out, d) runs in a forked child
 * (or in-process if the limits say isolate = 0) and is killed at deadline_ms
 * (0 = the batch deadline). Worker failures are reported as "plugin PATH: hook
 * NAME killed after 2000 ms wall-clock deadline" etc.; fn's own errors come back
 * unchanged. `hook` is only used in messages (may be NULL).
 */
int plugin_isolate(struct plugin *p, const char *hook, int deadline_ms, worker_fn fn, void *arg,
		   struct worker_buf *out, struct diag *d);

/* Called by lua/api_core's constructors: validates the table at idx as a `kind`
 * declaration; 0 or -1 with a diag naming the field. */
int plugin_decl_validate(lua_State *L, int idx, enum plugin_kind kind, struct diag *d);

#endif
