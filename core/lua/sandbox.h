/*
 * lua/sandbox: a locked-down lua_State for untrusted Lua code, with budgets.
 *
 * Who calls it: lua/plugin.c (every plugin gets its own sandbox), the workspace
 * config loader (runs tandem.lua in a bare sandbox, in a worker), and the unit
 * tests. Nothing here forks: isolation from hangs inside C functions is
 * sys/worker's job; this module only bounds what a hook can do *in Lua*. It is
 * the bottom of lua/: it includes no other lua/ header.
 *
 * What a sandbox offers to scripts:
 *  - base library without dofile, loadfile, collectgarbage; `load` accepts text
 *    chunks only (mode "t" is forced; a binary chunk is an error) and defaults
 *    its environment to the sandbox globals; `print` logs through tlog (INFO,
 *    prefixed with the sandbox name); `setmetatable` refuses metatables that carry
 *    a __gc field (see sandbox.c for why checking at setmetatable time is enough);
 *    `rawset` refuses read-only tables;
 *  - string (without dump), table, math, utf8, coroutine, and os with only time,
 *    date and clock. No io, package, require, debug.
 *  - The library tables and every table made read-only with
 *    plugin_sandbox_readonly() are proxies: writes through __newindex and rawset
 *    raise "attempt to modify read-only table 'NAME'"; getmetatable returns the
 *    string "locked". The string metatable is locked the same way. The plugin's
 *    own globals table stays writable.
 *
 * Budgets, all per call (or per batch, see plugin_sandbox_begin):
 *  - instructions: a count hook stays installed for the life of the state; once
 *    the budget is spent the hook raises at EVERY later invocation (the count is
 *    set to 1), so pcall inside the script cannot swallow it. Message:
 *    "instruction budget of N exhausted".
 *  - memory: while a budget is armed, the allocator refuses growth beyond the
 *    cap (Lua then raises its memory error); message "memory budget of N MiB
 *    exhausted". Accounting is exact: osize is the old block size when
 *    ptr != NULL. Outside armed calls the host's own pushes are never refused
 *    (an unprotected memory error would abort the host).
 *  - wall clock: the same hook compares CLOCK_MONOTONIC with the deadline every
 *    PLUGIN_HOOK_STEP instructions; message "wall-clock deadline of N ms exceeded".
 * Between calls no budget is active and the hook only returns.
 *
 * Errors come back as "FILE:LINE: message" (chunk names are "@path", so Lua's own
 * messages carry the file and line), with " (in hook NAME)" appended when a hook
 * name was given, and the name of the budget that ran out if one did.
 *
 * Not thread-safe per state (no lua_State is); distinct states are independent.
 */
#ifndef TANDEM_LUA_SANDBOX_H
#define TANDEM_LUA_SANDBOX_H

#include <stddef.h>
#include <stdint.h>

#include <lua.h>

#include "base/diag.h"

/* The plugin API version this host implements (tandem.api_version). */
enum { PLUGIN_API_VERSION = 1 };

/* Instructions between two runs of the budget hook (deadline granularity). */
enum { PLUGIN_HOOK_STEP = 10000 };

/*
 * Limits for one sandbox (and for the worker processes that run its hooks).
 * Zero fields mean "the default"; plugin_limits_default() fills them in, and
 * plugin_limits_clamp() bounds them by the hard maxima below.
 */
struct plugin_limits {
	int64_t instructions;  /* per single hook call; a batch of n calls gets n times this */
	size_t memory;         /* bytes the Lua allocator may hold at once */
	int deadline_ms;       /* wall clock for one hook call (and for loading the file) */
	int batch_deadline_ms; /* wall clock for one batch (plugin_run / a worker job) */
	int isolate;           /* 1: in the plugin's worker process (default); 0: in-process */
	int isolate_set;       /* 1 if isolate was set explicitly (0 is a valid choice) */
};

/* Defaults, documented in docs/plugin-api.md. */
#define PLUGIN_DEFAULT_INSTRUCTIONS ((int64_t)100000000)  /* 1e8 per call */
#define PLUGIN_DEFAULT_MEMORY ((size_t)256 << 20)          /* 256 MiB */
#define PLUGIN_DEFAULT_DEADLINE_MS 1000                     /* one call */
#define PLUGIN_DEFAULT_BATCH_DEADLINE_MS 10000              /* one batch */
/* Hard maxima: neither a declaration nor an embedder may exceed them. */
#define PLUGIN_MAX_INSTRUCTIONS ((int64_t)10000000000)     /* 1e10 per call */
#define PLUGIN_MAX_MEMORY ((size_t)4 << 30)                 /* 4 GiB */
#define PLUGIN_MAX_DEADLINE_MS 600000                       /* 10 min */

/* Fills every field with its default (isolate = 1). */
void plugin_limits_default(struct plugin_limits *lim);

/*
 * Copies `in` (may be NULL) into `out`, replacing zero fields by the defaults and
 * clamping every field to its hard maximum.
 */
void plugin_limits_resolve(const struct plugin_limits *in, struct plugin_limits *out);

/*
 * A new sandbox with the libraries above and a read-only global `tandem` table
 * holding only tandem.log and tandem.api_version (lua/plugin builds a fuller one
 * with lua/api_core for plugins). `lim` may be NULL (defaults). Returns NULL with
 * a diag on failure.
 */
lua_State *plugin_sandbox_new(const struct plugin_limits *lim, struct diag *d);
void plugin_sandbox_delete(lua_State *L);

/*
 * Pushes a new writable `tandem` table with api_version and log(level?, msg)
 * (levels "debug", "info" (default), "warn", "error"; lines go to tlog prefixed
 * with the sandbox name). The caller adds fields and makes it read-only. +1
 */
void plugin_sandbox_push_tandem(lua_State *L);

/* The name used to prefix print() and tandem.log lines (copied; default "lua"). */
void plugin_sandbox_set_name(lua_State *L, const char *name);
const char *plugin_sandbox_name(lua_State *L);

/* The resolved limits of this sandbox. */
const struct plugin_limits *plugin_sandbox_limits(lua_State *L);
/* Replaces them (resolved and clamped as by plugin_limits_resolve). */
void plugin_sandbox_set_limits(lua_State *L, const struct plugin_limits *lim);

/*
 * Loads the text file `path` (chunk name "@path") and runs it under one call's
 * budget. On success leaves its first result (or nil) on the stack and returns 0;
 * on failure leaves the stack as it was and returns -1 with
 * "PATH:LINE: message". Used for plugin files and for tandem.lua.
 */
int plugin_sandbox_dofile(lua_State *L, const char *path, struct diag *d);

/* Same for a string chunk named `chunkname` ("=name" or "@path"). */
int plugin_sandbox_dostring(lua_State *L, const char *chunk, const char *chunkname,
			    struct diag *d);

/*
 * Budget control. begin arms an instruction budget of `instructions` and a
 * deadline `deadline_ms` from now (0 = none) and remembers `hook` (may be NULL)
 * for error messages; end disarms. Calls do not nest. Cheap: a clock read and a
 * lua_sethook; nothing is allocated. With neither an instruction budget nor a
 * deadline (both 0) no count hook is installed at all, so the VM runs at full
 * speed (with a count hook it checks it at every instruction): only the memory
 * cap applies, and the caller must watch the calls itself (a watchdog in a
 * worker process that installs a raising hook, see program/policy.c). Between begin and end, run code with
 * plugin_sandbox_pcall (or your own lua_pcall + plugin_sandbox_error).
 */
void plugin_sandbox_begin(lua_State *L, const char *hook, int64_t instructions, int deadline_ms);
void plugin_sandbox_end(lua_State *L);

/*
 * Work the core does inside an armed call on the plugin's behalf (a C function computing
 * a value on first access: report/report_metrics' metrics.health) is not the plugin's
 * time: after it, this moves the armed deadline later by the ms spent. The worker's own
 * wall-clock and CPU limits still count it. No-op when unarmed or without a deadline.
 */
void plugin_sandbox_credit(lua_State *L, int64_t ms);

/*
 * lua_pcall(L, nargs, nresults) with the error turned into a diag (DIAG_PLUGIN,
 * or DIAG_NOMEM when the memory budget ran out). Does not arm a budget by itself.
 */
int plugin_sandbox_pcall(lua_State *L, int nargs, int nresults, struct diag *d);

/*
 * Converts the error value on top of the stack (status from lua_pcall) into a
 * diag, pops it, and returns -1. Names the exhausted budget if one ran out and
 * appends " (in hook NAME)" when begin was given a hook name.
 */
int plugin_sandbox_error(lua_State *L, int status, struct diag *d);

/* Instructions spent since the last begin (granularity PLUGIN_HOOK_STEP). */
int64_t plugin_sandbox_instructions(lua_State *L);

/* Bytes held by the allocator now, and the high-water mark since creation. */
size_t plugin_sandbox_mem_used(lua_State *L);
size_t plugin_sandbox_mem_peak(lua_State *L);

/*
 * Replaces the table at stack index `idx` by a read-only proxy of it, pushed on
 * the stack (the original is only reachable through the proxy's __index). `name`
 * appears in error messages ("tandem.time"). Used for the shared API tables.
 */
void plugin_sandbox_readonly(lua_State *L, int idx, const char *name);

/*
 * The same for a plain data table shared by several calls (reward dispatch's ev.match):
 * the table at idx and every table in it (to depth 32) are replaced in place by
 * read-only proxies, and the proxy of the whole is pushed. Writes, and rawset, raise
 * "attempt to modify read-only table 'NAME'"; indexing, #, ipairs and pairs read
 * through; rawget, rawlen and next see an empty table. The metamethods are shared C
 * functions (two tables per proxied table, no closures). Call outside any budget.
 */
void plugin_sandbox_readonly_deep(lua_State *L, int idx, const char *name);

#endif
