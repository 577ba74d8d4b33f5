/*
 * lua/plugin: one loaded plugin file, its declaration, and calling its hooks.
 *
 * A plugin file is Lua that returns a declaration made with a constructor:
 *
 *     return tandem.policy{ name = "digital", version = "1.0.0", api = 1,
 *                           score = function(mentor, mentee, features) ... end }
 *
 * Constructors (tandem.policy/cadence/reward/report/job/notifier) check the common
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
 * Plugins never run in the host process. plugin_load starts the plugin's ONE
 * long-lived worker (sys/worker): the child loads the file in its sandbox,
 * validates the declaration and sends it back as plain data (lua/marshal). The
 * host builds struct plugin from that data only: it never loads plugin text.
 * The declaration is also rebuilt, as data (hooks as stub functions that only
 * raise), in a small host-side state that plugin_state() returns, so callers can
 * read its fields with the Lua API; nothing of the plugin's code is in it.
 * Hooks run in the worker through plugin_exec (a C operation run in the child
 * against the live plugin, its input and output bytes) or plugin_call_data
 * (arguments and results as marshalled data). A worker killed at a deadline, or
 * dead of a crash, is restarted (the file loaded again) at the next call; if the
 * file then declares something else, the plugin is refused from then on.
 *
 * In-process mode (limits.isolate = 0, for embedders who ask for it): the file
 * is loaded in the calling process, and plugin_state() is its live state. This
 * is UNSAFE with untrusted plugins: a hang inside a C function (a pathological
 * pattern) hangs the host, and only the in-Lua budgets apply.
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
#include "sys/worker.h"

enum plugin_kind {
	PLUGIN_POLICY,
	PLUGIN_CADENCE,
	PLUGIN_REWARD,
	PLUGIN_REPORT,
	PLUGIN_JOB,
	PLUGIN_NOTIFIER,
	PLUGIN_KIND_COUNT,
};

/* "policy", "cadence", ... */
const char *plugin_kind_name(enum plugin_kind kind);
/* Parses a kind name; returns -1 (no diag) if unknown. */
int plugin_kind_parse(const char *name, enum plugin_kind *out);
/* Workspace folder of a kind: "policies", "plugins/cadences", ..., "scripts",
 * "plugins/notifiers". */
const char *plugin_kind_dir(enum plugin_kind kind);
/* 1 when s is 1 to 64 characters of a-z, 0-9, '_' or '-' (plugin and program names). */
int plugin_name_valid(const char *s);

/*
 * A kind-specific validator. Called (inside the constructor, in the plugin's
 * state, in its worker) with the declaration table at stack index `idx` -- a
 * plain copy without metatables -- after the common fields passed. Returns 0, or -1 with a diag whose message names the field
 * ("field 'weights' must be a table (got string)"); the host adds file:line.
 * It must leave the stack as it found it. It may raise Lua errors only through
 * the plugin_decl_* helpers' return values, never longjmp itself.
 */
typedef int (*plugin_validate_fn)(lua_State *L, int idx, struct diag *d);

/*
 * A plugin kind as a small table of operations, which the module of the domain
 * registers (the policy module for "policy"): the kind-specific field names
 * (NULL-terminated; listed when an unknown field is found), the validator of a
 * declaration, and what `plugins check` requires of a hook's result. A kind with
 * neither fields nor validator accepts any extra field.
 */
struct plugin_kind_ops {
	const char *const *fields;
	plugin_validate_fn validate;
	/*
	 * For `plugins check`: judges the first value hook `hook` returned (at idx) as
	 * real runs do. 0, or -1 with a diag "score must return a finite number (got
	 * nan)" (lua/check adds FILE:LINE and the hook). NULL accepts anything.
	 */
	int (*check_result)(lua_State *L, const char *hook, int idx, struct diag *d);
};

/*
 * The registry of kinds, owned by its caller (no process-wide table). A new
 * host has the built-in kinds (cadence, reward, report, job, notifier; "policy" accepts
 * any field until the policy module registers its operations). Plugins copy the
 * kinds when they are loaded: a host may be deleted once its plugins are
 * loaded. NULL wherever a host is taken means the built-in kinds.
 */
struct plugin_host;

struct plugin_host *plugin_host_new(struct diag *d);
void plugin_host_delete(struct plugin_host *h);
/* Replaces the operations of `kind` (NULL: the built-in ones). -1 if the kind is unknown. */
int plugin_host_set_kind(struct plugin_host *h, const char *kind, const struct plugin_kind_ops *ops,
			 struct diag *d);
/* The host's table of PLUGIN_KIND_COUNT kinds (h may be NULL: the built-in ones). */
const struct plugin_kind_ops *plugin_host_kinds(const struct plugin_host *h);

/*
 * Helpers for validators. plugin_decl_field checks (raw read) that field `name`
 * of the table at `idx` has Lua type `type` (LUA_TSTRING, LUA_TFUNCTION, ...); returns 1
 * if present and right, 0 if absent and !required, -1 with a diag otherwise:
 * "field 'name' must be a function (got string)" / "missing field 'name'".
 */
int plugin_decl_field(lua_State *L, int idx, const char *name, int type, int required,
		      struct diag *d);

/*
 * Checks the text of a cadence's rule as the cadence validator does: a calendar
 * recurrence rule (FREQ=DAILY|WEEKLY|MONTHLY) that time/rrule accepts. 0, or -1
 * with "field 'rule': ..." (the planner uses it for the rules a plan returns).
 */
int plugin_cadence_rule_check(const char *text, struct diag *d);

/*
 * Validates the table at idx as a `kind` declaration (common fields, then the
 * kind's validator); 0 or -1 with a diag naming the field. Every check runs: the
 * diag holds ALL the declaration's problems, one per line, each naming its field
 * (the constructor prefixes each line with the FILE:LINE of that field). The
 * constructors' callback; raw reads only.
 */
int plugin_decl_validate(const struct plugin_kind_ops *kinds, lua_State *L, int idx,
			 enum plugin_kind kind, struct diag *d);

/*
 * The way a validator reports all of a declaration's problems at once: adds the
 * message of `one` to `all` as a new line and counts it in *n (all cleared and *n
 * 0 before the first; all takes the first problem's code). Each line names its
 * field ("field 'NAME' ..."), so the constructor can put it at that field's line
 * (lua/api_core: api_core_locate_errors). A line that would not fit whole in
 * DIAG_MSG_MAX is left out (still counted); the first is cut if it must be.
 */
void plugin_decl_add_error(struct diag *all, int *n, const struct diag *one);

/* Reads and checks the declaration's `limits` (raw); fills *out, zero = not
 * given. Returns 1 if present, 0 if absent, -1 with a diag. */
int plugin_decl_limits(lua_State *L, int idx, struct plugin_limits *out, struct diag *d);

/* An opaque loaded plugin. */
struct plugin;

/*
 * Loads `path` with the kinds of host h (NULL: the built-in ones): in its worker
 * (started here) unless lim says isolate = 0. The
 * file runs in a fresh sandbox with the full `tandem` API under one call's
 * budget and the load deadline (lim's deadline_ms), and must return a
 * declaration of any kind. Returns NULL with a diag on failure:
 * "policies/x.lua:3: ..." for the file's own errors, "plugin policies/x.lua: load
 * killed after 1000 ms wall-clock deadline" (or another death) for a worker that
 * had to be killed.
 */
struct plugin *plugin_load(const struct plugin_host *h, const char *path,
			   const struct plugin_limits *lim, struct diag *d);
/* Kills the worker and frees everything. NULL is a no-op. */
void plugin_delete(struct plugin *p);

enum plugin_kind plugin_kind(const struct plugin *p);
const char *plugin_name(const struct plugin *p);
const char *plugin_version(const struct plugin *p);
const char *plugin_description(const struct plugin *p); /* "" if none */
const char *plugin_path(const struct plugin *p);
int plugin_api(const struct plugin *p);
const struct plugin_limits *plugin_limits(const struct plugin *p);
/* The operations of the plugin's kind, as copied from its host at load. */
const struct plugin_kind_ops *plugin_kind_ops(const struct plugin *p);
/* 1 if the plugin runs in a worker (0: in-process mode). */
int plugin_isolated(const struct plugin *p);

/*
 * The plugin's state in this process: in the host of an isolated plugin, the
 * data-only state holding the declaration; in the plugin's worker (inside a
 * plugin_exec operation) or in in-process mode, the live state.
 */
lua_State *plugin_state(const struct plugin *p);

/* Pushes the declaration table on plugin_state(p). stack: +1 */
void plugin_push_decl(const struct plugin *p);

/* The declaration as marshalled data (lua/marshal encoding), as loaded. */
const char *plugin_decl_data(const struct plugin *p, size_t *len);

/* 1 if the declaration has a function field `hook`. */
int plugin_has_hook(const struct plugin *p, const char *hook);

/* The line the function field `hook` of the declaration is defined on, in live's state (a
 * worker's, where the functions are), 0 when unknown: for a message about what the hook
 * returned, once its call is over. */
int plugin_hook_line(const struct plugin *live, const char *hook);

/*
 * The names of the declaration's function fields (its hooks), sorted; *out is
 * malloc'd, an array of n pointers into one block: free(*out) once. Returns n or -1.
 */
int plugin_hooks(const struct plugin *p, char ***out, struct diag *d);

/*
 * An operation run in the plugin's worker: `live` is the live plugin there
 * (plugin_state(live) ran the file), hook the name given to plugin_exec,
 * in[0..n) its input. Appends its output to `out`. 0, or -1 with a diag. It is
 * a C function of this program: the worker is a fork of it, so its address is
 * valid there.
 */
typedef int (*plugin_op_fn)(struct plugin *live, const char *hook, const char *in, size_t n,
			    struct buf *out, struct diag *d);

/*
 * Runs op in the plugin's worker (restarting the worker first if it died) and
 * waits at most deadline_ms (0 = the batch deadline). 0 with op's output
 * appended to `out`, or -1: op's own error unchanged, or for a worker that had
 * to be killed "plugin PATH: hook HOOK killed after N ms wall-clock deadline"
 * (CPU, memory, crash alike). In in-process mode op runs here.
 */
int plugin_exec(struct plugin *p, plugin_op_fn op, const char *hook, const void *in, size_t n,
		int deadline_ms, struct buf *out, struct diag *d);

/*
 * The same as separate steps, for an event loop that polls plugin_worker(p)'s
 * fd (sys/worker.h: worker_send/worker_events/worker_pump/worker_expire):
 * plugin_exec_request builds the request bytes (reviving a dead worker first);
 * plugin_exec_failure words a failed pump or expire as plugin_exec does.
 */
struct worker *plugin_worker(struct plugin *p);
int plugin_exec_request(struct plugin *p, plugin_op_fn op, const char *hook, const void *in,
			size_t n, struct buf *req, struct diag *d);
int plugin_exec_failure(const struct plugin *p, const char *hook, enum worker_status st,
			struct diag *d);

/*
 * One hook call in the worker with data in and out: args is a marshalled
 * sequence table {arg1, arg2, ...}; on success `out` receives a marshalled
 * sequence of the results ({n = count, r1, r2, ...}). Runs under one call's
 * budget and deadline_ms (0 = the per-call deadline). Errors read "FILE:LINE:
 * message (in hook NAME)". A result that is not plain data (a function, a
 * userdata) is an error; metatables on results are dropped, never run.
 */
int plugin_call_data(struct plugin *p, const char *hook, const void *args, size_t n,
		     int deadline_ms, struct buf *out, struct diag *d);

/* The request bytes of plugin_call_data, for an event loop (see plugin_exec_request). */
int plugin_call_request(struct plugin *p, const char *hook, const void *args, size_t n,
			struct buf *req, struct diag *d);

/*
 * Live-state calls, for plugin_exec operations (in the worker) and in-process
 * plugins. In the host of an isolated plugin they fail ("runs in its worker").
 *
 * plugin_call: the caller pushed `nargs` arguments on plugin_state(p); the hook
 * is called under one call's budget. On success the `nresults` results are on
 * the stack and 0 is returned; on failure the arguments are gone and -1 is
 * returned with "FILE:LINE: message (in hook NAME)".
 */
int plugin_call(struct plugin *p, const char *hook, int nargs, int nresults, struct diag *d);

/*
 * Many calls of one hook under ONE budget: n_calls times the per-call
 * instruction budget and the batch deadline; the hook is set up once. Runs fn
 * as a protected C function in plugin_state(p) with the stack
 *     1: the hook function   2: ud (light userdata)
 * fn calls the hook as often as it likes with lua_call (unprotected: an error,
 * or an exhausted budget, unwinds straight out of the batch). Returns 0, or -1
 * with the error formatted as for plugin_call.
 */
int plugin_run(struct plugin *p, const char *hook, lua_CFunction fn, void *ud, int64_t n_calls,
	       struct diag *d);

/*
 * plugin_run with no instruction budget and no deadline, only the memory cap:
 * no count hook runs, so each call costs what a bare lua_call does. For an
 * operation in the plugin's worker that watches its calls itself (a watchdog
 * timer in that process installs a raising hook on a call that runs too long;
 * the host kills the worker at its deadline). Never in the host.
 */
int plugin_run_watched(struct plugin *p, const char *hook, lua_CFunction fn, void *ud,
		       struct diag *d);

#endif
