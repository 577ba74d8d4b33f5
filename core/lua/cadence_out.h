/*
 * lua/cadence_out: reading what a cadence's `plan` hook returned, and holding it
 * to the rules, so that `tandem plugins check` and the planner (sched/cadence)
 * accept and refuse exactly the same values.
 *
 * `plan(pair, history, ctx)` returns a list (a Lua sequence, at most
 * CADENCE_OUT_MAX entries) whose entries are either
 *   a session       { start = TIME, duration = MINUTES, topic = "..." }
 *                   (duration and topic optional), or
 *   a rule segment  { rule = "FREQ=WEEKLY;INTERVAL=2", from = TIME, until = TIME }
 *                   (until optional: open-ended; the rule as plugin_cadence_rule_check
 *                   accepts it).
 * A TIME is an integer (epoch seconds, UTC), or a string: "YYYY-MM-DDTHH:MM[:SS]"
 * (a wall time in the pair's zone; a time in a DST gap moves forward by the gap,
 * one in an overlap takes the earlier instant), the same with a trailing "Z" (UTC)
 * or an offset "+HH:MM"; `from` and `until` also take a date "YYYY-MM-DD" (its
 * midnight in the pair's zone). An empty list plans nothing.
 *
 * Errors name the entry and the field, one problem (the first) per call:
 *   "plan returned a bad session 3: field 'duration' must be an integer number of
 *    minutes between 1 and 1440 (got 0)"
 * the caller prefixes the plugin's FILE:LINE (the line where plan is defined) and
 * appends "(in hook plan)".
 *
 * Who calls it: lua/plugin_decl (the cadence kind's check_result, for `plugins
 * check`), sched/cadence (in the plugin's worker, on the live result). Reads raw:
 * no metamethod of a returned table runs.
 */
#ifndef TANDEM_LUA_CADENCE_OUT_H
#define TANDEM_LUA_CADENCE_OUT_H

#include <stddef.h>
#include <stdint.h>

#include <lua.h>

#include "base/diag.h"

enum { CADENCE_OUT_MAX = 1000, CADENCE_TOPIC_MAX = 128, CADENCE_RULE_MAX = 256 };

enum cadence_entry_kind { CADENCE_SESSION, CADENCE_SEGMENT };

/* One entry, with its times as instants. */
struct cadence_entry {
	enum cadence_entry_kind kind;
	int64_t start;        /* session: UTC */
	int duration_min;     /* session: 0 = the default duration */
	char topic[CADENCE_TOPIC_MAX]; /* session: "" = chosen with the agenda */
	char rule[CADENCE_RULE_MAX];   /* segment */
	int64_t from, until;  /* segment: UTC; until 0 = open */
	int line;             /* the line plan is defined on (sched/cadence's worker sets it;
			       * 0: unknown), for the planner's own refusals */
};

/*
 * Reads the value at idx (the hook's first result) with times in zone (NULL:
 * UTC). On success *out (malloc'd; free() it; NULL when n is 0) holds *n
 * entries in the list's order. -1 with a diag (DIAG_INVALID) otherwise.
 */
int cadence_out_read(lua_State *L, int idx, const char *zone, struct cadence_entry **out,
		     size_t *n, struct diag *d);

/* The cadence kind's check_result (plugin.h): plan's value read as above, in UTC. */
int cadence_out_check(lua_State *L, const char *hook, int idx, struct diag *d);

/*
 * Parses a TIME string as above: wall times in zone (NULL: UTC); date_ok allows a
 * bare date (its midnight). 0, or -1 with DIAG_INVALID "bad time 'X' (want ...)".
 */
int cadence_out_time(const char *s, const char *zone, int date_ok, int64_t *out,
		     struct diag *d);

#endif
