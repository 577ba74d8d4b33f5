/*
 * lua/jobdecl: the `job` plugin kind's declaration: its fields, their validator,
 * and reading a validated declaration.
 *
 *     tandem.job{ name =, version =, api =,
 *                 schedule = "FREQ=DAILY;BYHOUR=8" | "every 15 minutes"  (required;
 *                            also "every 15m", "every 2h", "every 7d"),
 *                 run = function(ctx) return actions end,                 (required)
 *                 timezone = "Europe/Paris",       (default: the workspace's zone)
 *                 misfire = "once" | "all" | "skip",                   (default "once")
 *                 grace = "1h", jitter = "5m", max_lateness = "2h",    (durations)
 *                 overlap = false,                                     (default false)
 *                 needs = {"sessions", "matches"} }  (read-only snapshots in ctx)
 *
 * Durations are a string of one or more NUMBER UNIT groups, units s, m, h, d, w
 * ("90s", "1h30m", "2d"), or a non-negative integer of seconds; at most 366 days.
 * Defaults: grace 1h, jitter 0, max_lateness 0 (no limit).
 *
 * The schedule is checked with rrule_parse (time/rrule.h); COUNT is refused for
 * jobs (a job's rule is anchored at a fixed past instant, so a count would be
 * spent long ago): UNTIL ends a job's schedule. The zone is checked with tz_check.
 *
 * Who calls it: lua/plugin_decl.c registers jobdecl_fields and jobdecl_validate as
 * the built-in `job` kind (the validator runs in the plugin's worker, inside the
 * constructor); sched/job.c reads a loaded job's declaration with jobdecl_read on
 * the host's data-only copy.
 *
 * Contract: the validator reports every problem of the declaration, one per line,
 * each naming its field ("field 'misfire' must be \"once\", \"all\" or \"skip\" (got
 * \"twice\")"); raw reads only; it leaves the stack as it found it.
 */
#ifndef TANDEM_LUA_JOBDECL_H
#define TANDEM_LUA_JOBDECL_H

#include <stddef.h>
#include <stdint.h>

#include <lua.h>

#include "base/diag.h"

enum jobdecl_misfire { JOBDECL_ONCE, JOBDECL_ALL, JOBDECL_SKIP };

/* Bits of jobdecl.needs. */
enum { JOBDECL_NEEDS_SESSIONS = 1, JOBDECL_NEEDS_MATCHES = 2 };

enum { JOBDECL_DEFAULT_GRACE_S = 3600, JOBDECL_MAX_DURATION_S = 366 * 86400 };

struct jobdecl {
	char schedule[512];
	char timezone[128]; /* "" when not given */
	enum jobdecl_misfire misfire;
	int64_t grace_s, jitter_s, max_lateness_s;
	int overlap;
	unsigned needs;
};

extern const char *const jobdecl_fields[];

/* The `job` kind's validator (plugin_validate_fn). */
int jobdecl_validate(lua_State *L, int idx, struct diag *d);

/*
 * The rule time/rrule.h reads for a job's schedule: the text itself, except the
 * short forms "every 15m", "every 2h", "every 7d" (long documented for jobs), which
 * become "every 15 minutes", "every 2 hours", "every 7 days". Into buf; -1 if it
 * does not fit.
 */
int jobdecl_rule(const char *schedule, char *buf, size_t size);

/* Parses a duration string; 0 with *out seconds, or -1. */
int jobdecl_duration(const char *s, int64_t *out);

/* "once", "all", "skip". */
const char *jobdecl_misfire_name(enum jobdecl_misfire m);

/*
 * Reads the declaration table at idx (validated already) into *out, defaults
 * filled in. Pushes strings, so call it from a protected call. 0, or -1 + diag
 * when a field is not what the validator lets through.
 */
int jobdecl_read(lua_State *L, int idx, struct jobdecl *out, struct diag *d);

#endif
